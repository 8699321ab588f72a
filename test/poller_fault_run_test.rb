# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/good_job_rows"
require_relative "support/poller_app"
require_relative "support/private_postgres"

# Three `good_cron start` processes drain 10,000 RecordJob jobs (20 ms each) through two
# database restarts (after the first, one process gets back late) and a kill -9 of another: every job runs and finishes; no attempt of a job runs twice
# unless the killed process was running it or a warning names the job; no attempt is recorded
# twice.
class PollerFaultRunTest < Minitest::Test
  include Waiting
  include GoodJobRows
  include PollerApp::Fixture
  include PrivatePostgres::TestServer

  COUNT = 10_000
  # The role one process connects as: after the first restart it stays out (NOLOGIN) while the
  # others go on, as a process whose reconnect is slow would.
  LATE_ROLE = "late_poller"
  # A RecordJob whose insert meets the database away is retried (a new attempt: its
  # `executions` is one more), as an app would retry it; only the poller is under test.
  RETRY_OUTAGES = <<~RUBY
    #{PollerApp::NO_CRON}
    Rails.application.config.after_initialize do
      RecordJob.retry_on(ActiveRecord::ActiveRecordError, wait: 1, attempts: 30)
    end
  RUBY

  def app_initializer
    RETRY_OUTAGES
  end

  def test_three_processes_drain_through_two_restarts_and_a_kill
    sql("CREATE ROLE #{LATE_ROLE} SUPERUSER LOGIN")
    ids = database.with_connection do |conn|
      PollerApp.insert_record_jobs(conn, (1..COUNT).map { |i| "job-#{i}" }, sleep: 0.02)
    end
    late_url = @postgres.url(user: LATE_ROLE)
    workers = [start_worker, start_worker, start_worker("DATABASE_URL" => late_url)]
    workers.each { |worker| assert worker.wait_started, worker.output }
    victim, _, late = workers
    survivors = workers - [victim]

    [[2_000, -> { restart_with_one_process_late(late) }],
     [4_000, lambda {
       assert_operator runs_by(victim.pid), :>, 0, "the victim runs jobs"
       victim.kill9
     }],
     [6_000, -> { @postgres.restart }]].each do |runs, fault|
      assert wait_for(90) { runs_total >= runs }, "#{runs} runs\n#{outputs(workers)}"
      fault.call
    end
    drained = wait_for(90) { count_sql("SELECT count(*) FROM good_jobs WHERE finished_at IS NULL").zero? }
    statuses = survivors.map { |worker| worker.signal(:TERM) && worker.wait(30) }
    assert drained, "jobs left unfinished\n#{outputs(workers)}"
    statuses.each { |status| assert status&.success?, "exit status #{status.inspect}\n#{outputs(workers)}" }

    database.with_connection do |conn|
      ran = conn.exec("SELECT DISTINCT job_id FROM job_runs").column_values(0)
      assert_empty ids - ran, "every job ran"
      failed = conn.exec("SELECT id, error FROM good_jobs WHERE error IS NOT NULL OR finished_at IS NULL").values
      assert_empty failed, "every job finished without error"

      twice = conn.exec_params(<<~SQL, [victim.pid]).values
        SELECT job_id, executions, count(*), count(*) FILTER (WHERE pid = $1) FROM job_runs
        GROUP BY job_id, executions HAVING count(*) > 1
      SQL
      warned = warning_lines(workers)
      unexplained = twice.reject do |job_id, _, runs, by_victim|
        runs.to_i - by_victim.to_i <= 1 || warned.any? { |line| line.include?(job_id) }
      end
      assert_empty unexplained, "[job, attempt, runs, runs by the killed process] of attempts run twice " \
                                "with no warning and not by the killed process (#{twice.size} ran twice)\n#{warned.join("\n")}"

      recorded_twice = conn.exec(<<~SQL).values
        SELECT active_job_id, created_at, finished_at, count(*) FROM good_job_executions
        GROUP BY 1, 2, 3 HAVING count(*) > 1
      SQL
      assert_empty recorded_twice, "no attempt has two identical execution rows (ids are unique by the primary key)"
      clean = conn.exec(<<~SQL).values
        SELECT j.id, count(e.id) FROM good_jobs j LEFT JOIN good_job_executions e
          ON e.active_job_id = j.id AND e.error IS NULL AND e.finished_at IS NOT NULL
        GROUP BY j.id HAVING count(e.id) <> 1
      SQL
      assert_empty clean, "[job, clean execution rows]: each job completed once"
    end
  end

  private

  def start_worker(env = {})
    @app.start("--max-threads", "5", "--poll-interval", "1", env: env)
  end

  # Restarts the database, keeping +late+ out until the others ran 200 more jobs (theirs, and
  # the ones +late+ was running, whose locks went with its sessions).
  def restart_with_one_process_late(late)
    sql("ALTER ROLE #{LATE_ROLE} NOLOGIN")
    @postgres.restart
    runs = runs_total
    assert wait_for(60) { runs_total >= runs + 200 }, "the others run jobs while one is away\n#{late.output}"
    sql("ALTER ROLE #{LATE_ROLE} LOGIN")
  end

  def runs_total
    count_sql("SELECT count(*) FROM job_runs")
  end

  def runs_by(pid)
    count_sql("SELECT count(*) FROM job_runs WHERE pid = $1", pid)
  end

  def sql(statement)
    database.with_connection { |conn| conn.exec(statement) }
  end

  # The engine's lines that name jobs (ActiveJob's own lines name every job).
  def warning_lines(workers)
    workers.flat_map { |worker| (worker.stdout + worker.stderr).lines }
           .select { |line| line.include?("good_cron:") && !line.match?(/Perform(ing|ed) /) }
  end

  def outputs(workers)
    workers.map { |worker| worker.output[-3_000..] || worker.output }.join("\n")
  end
end
