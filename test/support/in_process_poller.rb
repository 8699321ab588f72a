# frozen_string_literal: true

require "active_job"
require "active_support/core_ext/module/introspection"
require "logger"
require_relative "good_job_rows"
require_relative "job_journal"
require_relative "test_logger"
require_relative "waiting"

# For tests that run GoodCron::Poller in the test process on plain ActiveJob jobs: the class
# defines JOURNAL (a JobJournal) and BaseJob (its jobs' parent), which enqueues through
# GoodCron::Adapter into the test's database. Pollers made with #poller are shut down after
# each test.
module InProcessPoller
  # A job's perform(name) that records its start in its test class's JOURNAL, then runs until
  # the test opens its gate (JOURNAL.open(name)).
  module Gate
    def perform(name)
      journal = self.class.module_parent::JOURNAL
      journal.start(name)
      journal.wait_at_gate(name)
      journal.record(name: name, job_id: job_id, args: [name], kwargs: {}, queue: queue_name,
                     priority: priority, executions: executions)
    end
  end

  def setup
    database.truncate
    self.class::JOURNAL.reset
    @previous_logger = ActiveJob::Base.logger
    ActiveJob::Base.logger = Logger.new(nil)
    self.class::BaseJob.queue_adapter = GoodCron::Adapter.new(database_url: database.url)
    @logger = TestLogger.new
    @pollers = []
  end

  def teardown
    self.class::JOURNAL.open_all
    @pollers.each { |poller| poller.shutdown(timeout: 10) if poller.running? }
    ActiveJob::Base.logger = @previous_logger
  end

  def poller(**options)
    GoodCron::Poller.new(**{ database_url: database.url, logger: @logger }.merge(options)).tap { |poller| @pollers << poller }
  end

  def started_poller(**options)
    poller(**options).tap(&:start)
  end

  def diagnostics
    lines = @logger.lines.map { |level, line| "#{level}: #{line}" }
    "poller log:\n#{lines.join("\n")}\njournal: #{self.class::JOURNAL.names.inspect}"
  end
end
