# frozen_string_literal: true

require "active_job"
require "logger"
require_relative "recording_adapter"

# The setup shared by the ledger-path tests (scheduler_ledger_*_test.rb): empty good_jobs and
# recorded_enqueues, no scheduler (@schedulers) or process (@children) yet, and ActiveJob's
# log silenced (the test's teardown puts @previous_logger back).
module LedgerFixture
  def setup
    database.truncate
    database.with_connection { |conn| RecordingAdapter.reset_table(conn) }
    @schedulers = []
    @children = []
    @previous_logger = ActiveJob::Base.logger
    ActiveJob::Base.logger = Logger.new(nil)
  end
end
