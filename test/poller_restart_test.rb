# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/in_process_poller"
require_relative "support/private_postgres"

# The database restarts while poller P runs job X; poller Q connects first and takes X (P's
# process looks dead: its advisory lock went with its session), runs and finishes it. When P
# comes back and its run of X ends, X is Q's: P does not write its result over Q's, and it says
# so in a warning naming the job and the other process.
class PollerRestartTest < Minitest::Test
  include Waiting
  include GoodJobRows
  include InProcessPoller
  include PrivatePostgres::TestServer

  JOURNAL = JobJournal.new
  # The role P connects as: the test keeps P out after the restart (NOLOGIN) until Q is done.
  P_ROLE = "poller_p"

  class BaseJob < ActiveJob::Base; end

  # Waits at gate "<name>@<n>" on its n-th start, so each run can be released on its own.
  class AttemptJob < BaseJob
    def perform(name)
      JOURNAL.wait_at_gate("#{name}@#{JOURNAL.start(name)}")
      JOURNAL.record(name: name, job_id: job_id, args: [name], kwargs: {}, queue: queue_name,
                     priority: priority, executions: executions)
    end
  end

  def test_a_job_taken_over_during_a_restart_keeps_the_other_process_result
    sql("CREATE ROLE #{P_ROLE} SUPERUSER LOGIN")
    p_logger = TestLogger.new
    p = started_poller(database_url: @postgres.url(user: P_ROLE), logger: p_logger, max_threads: 1, poll_interval: 0.5)
    job = AttemptJob.perform_later("x")
    assert wait_for(30) { JOURNAL.started.count("x") == 1 }, diagnostics

    sql("ALTER ROLE #{P_ROLE} NOLOGIN") # P keeps its sessions until the restart, and opens no new one
    @postgres.restart
    q = started_poller(max_threads: 1, poll_interval: 0.5)
    assert wait_for(30) { JOURNAL.started.count("x") == 2 }, "Q takes X\n#{diagnostics}"
    JOURNAL.open("x@2")
    wait_finished(job)
    q_row = job_row(job)
    q_attempt = execution_rows(job).find { |e| e["error"].nil? }
    assert_equal q.process_id, q_attempt&.fetch("process_id"), "Q recorded its attempt"

    sql("ALTER ROLE #{P_ROLE} LOGIN")
    JOURNAL.open("x@1")
    assert wait_for(30) { JOURNAL.names.count("x") == 2 }, "P's run ends\n#{diagnostics}"
    assert wait_for(30) { p_logger.at(:info).any? { |line| line.include?("reconnected") } },
           "P reconnects\n#{p_logger.lines.inspect}"
    assert p.running?
    assert_equal true, p.shutdown(timeout: 10), "P stops, having written what it had"

    warnings = p_logger.at(:warn).select { |line| line.include?(job.job_id) }
    assert warnings.any? { |line| line.include?(q.process_id) && line.match?(/twice|ran here and in/) },
           "P warns that X ran in Q too, naming X and Q: #{p_logger.lines.inspect}"
    row = job_row(job)
    assert_equal q_row.values_at("performed_at", "finished_at"), row.values_at("performed_at", "finished_at"),
                 "X keeps Q's result"
    assert_nil row["error"]
    assert_nil row["locked_by_id"]
    executions = execution_rows(job)
    clean = executions.select { |e| e["error"].nil? }
    assert_equal [q_attempt["id"]], clean.map { |e| e["id"] }, "one clean attempt, Q's: #{executions.inspect}"
    (executions - clean).each do |e|
      assert_equal 0, e["error_event"].to_i, "P's attempt can only be recorded as interrupted: #{e.inspect}"
    end
    assert_operator executions.size, :<=, 2, "one row per real attempt: #{executions.inspect}"
    # (Execution ids are unique by their primary key.)
    assert_equal executions.size, executions.map { |e| e.values_at("created_at", "finished_at") }.uniq.size,
                 "no attempt recorded twice"
  end

  private

  def sql(statement)
    database.with_connection { |conn| conn.exec(statement) }
  end
end
