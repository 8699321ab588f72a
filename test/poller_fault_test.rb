# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/in_process_poller"
require_relative "support/private_postgres"

# The database restarts under a running poller: the job that was running finishes and is
# recorded once, after the reconnect; new jobs run again; the host sees log lines, never an
# exception.
class PollerFaultTest < Minitest::Test
  include Waiting
  include InProcessPoller

  JOURNAL = JobJournal.new

  class GateJob < ActiveJob::Base
    include InProcessPoller::Gate
  end

  # InProcessPoller's, on a server of this test's own rather than the test database.
  def setup
    @postgres = PrivatePostgres.new
    JOURNAL.reset
    @previous_logger = ActiveJob::Base.logger
    ActiveJob::Base.logger = Logger.new(nil)
    GateJob.queue_adapter = GoodCron::Adapter.new(database_url: @postgres.url)
    @logger = TestLogger.new
    @poller = GoodCron::Poller.new(database_url: @postgres.url, logger: @logger, max_threads: 2, poll_interval: 0.5)
    @pollers = [@poller]
  end

  def teardown
    super
    @postgres.destroy
  end

  def test_a_running_job_survives_a_database_restart_and_is_recorded_once
    @poller.start
    during = GateJob.perform_later("during")
    assert wait_for(30) { JOURNAL.started?("during") }, diagnostics

    @postgres.stop
    JOURNAL.open("during") # it ends while the database is away: its result waits
    assert wait_for(10) { JOURNAL.names == ["during"] }, diagnostics
    sleep 1 # the poller tries to write the result, and sees the outage
    @postgres.start

    assert wait_for(30) { row(during)&.fetch("finished_at") }, diagnostics
    after = GateJob.perform_later("after")
    JOURNAL.open("after")
    assert wait_for(30) { row(after)&.fetch("finished_at") }, diagnostics

    assert_equal %w[during after], JOURNAL.names, "each job ran once"
    PG.connect(@postgres.url) do |conn|
      attempts = conn.exec("SELECT active_job_id, error FROM good_job_executions ORDER BY created_at").values
      assert_equal [[during.job_id, nil], [after.job_id, nil]], attempts, "one attempt each, both clean"
      assert_equal 0, conn.exec("SELECT count(*) FROM good_jobs WHERE locked_by_id IS NOT NULL").getvalue(0, 0).to_i
    end
    errors = @logger.at(:error)
    assert_equal 1, errors.count { |line| line.include?("poller: database unreachable") }, diagnostics
    assert_equal 1, @logger.at(:info).count { |line| line.include?("poller reconnected") }, diagnostics
    assert @poller.running?
  end

  private

  def row(job)
    PG.connect(@postgres.url) { |conn| conn.exec_params("SELECT * FROM good_jobs WHERE id = $1", [job.job_id]).first }
  rescue PG::Error
    nil
  end
end
