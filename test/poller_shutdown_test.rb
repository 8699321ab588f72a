# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/good_job_rows"
require_relative "support/poller_app"
require_relative "support/free_port"
require "socket"

# SIGTERM to `good_cron start` (the fixture Rails app on good_cron's adapter): within the
# shutdown timeout the running jobs finish and the process exits 0, leaving the jobs it had not
# started for the next process; past the timeout it kills the running jobs, releases them, and
# records their attempts as interrupted; the next process runs them again.
class PollerShutdownTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include PollerApp::Fixture
  include GoodJobRows

  def test_sigterm_lets_running_jobs_finish_and_leaves_the_others_unlocked
    ids = database.with_connection { |conn| PollerApp.insert_record_jobs(conn, %w[s1 s2 s3 s4 s5], sleep: 3) }
    worker = @app.start("--max-threads", "2", "--shutdown-timeout", "10", "--poll-interval", "1")
    assert worker.wait_started, worker.output
    assert wait_for(30) { performing(worker).size == 2 }, "two jobs run\n#{worker.output}"
    running = performing(worker)

    worker.signal(:TERM)
    status = worker.wait(30)
    assert status, "the process exited after SIGTERM\n#{worker.output}"
    assert status.success?, "exit status #{status.inspect}\n#{worker.output}"

    assert_equal running.sort, run_ids.sort, "the two running jobs finished, nothing else ran"
    assert_equal running.sort, performing(worker).sort, "no job started after SIGTERM"
    running.each do |id|
      row = job_row(id)
      refute_nil row["finished_at"]
      assert_nil row["error"]
      assert_nil row["locked_by_id"]
    end
    (ids - running).each { |id| assert_not_started(id, "a job the process had not started is left as it was") }
    assert_empty process_rows, "the process row is deleted"

    second = @app.start("--max-threads", "5", "--poll-interval", "1")
    assert second.wait_started, second.output
    wait_finished(ids, timeout: 30)
    second.signal(:TERM)
    status = second.wait(30)
    assert status&.success?, "exit status #{status.inspect}\n#{second.output}"

    assert_equal ids.sort, run_ids.sort, "every job ran once"
    assert_equal [1] * ids.size, ids.map { |id| job_row(id)["executions_count"].to_i }
    assert_empty process_rows
  end

  # Jobs that sleep 30 s, a shutdown timeout of 1 s (the flag, then GOOD_JOB_SHUTDOWN_TIMEOUT).
  def test_sigterm_past_the_timeout_releases_running_jobs_for_the_next_process
    ids = database.with_connection { |conn| PollerApp.insert_record_jobs(conn, %w[long1 long2], sleep: 30) }
    worker = @app.start("--max-threads", "2", "--shutdown-timeout", "1", "--poll-interval", "1")
    assert worker.wait_started, worker.output
    assert wait_for(30) { performing(worker).size == 2 }, "both jobs run\n#{worker.output}"
    first_process = process_rows.map { |row| row["id"] }
    assert_equal 1, first_process.size

    worker.signal(:TERM)
    status = worker.wait(20) # the 1 s timeout and a generous margin; the jobs would take 30 s
    assert status, "the process exited after its shutdown timeout\n#{worker.output}"
    assert status.success?, "exit status #{status.inspect}\n#{worker.output}"

    assert_empty run_ids, "the killed jobs did not finish"
    ids.each do |id|
      row = job_row(id)
      assert_nil row["locked_by_id"], "the killed job is released"
      assert_nil row["locked_at"]
      assert_nil row["finished_at"]
      assert lock_free?("good_jobs-#{id}")
      interrupted = execution_rows(id)
      assert_equal [[0, first_process.first]], interrupted.map { |e| [e["error_event"].to_i, e["process_id"]] },
                   "the killed attempt is recorded as interrupted, naming its process"
    end
    assert_empty process_rows

    second = @app.start("--max-threads", "2", "--poll-interval", "1", env: { "GOOD_JOB_SHUTDOWN_TIMEOUT" => "1" })
    assert second.wait_started, second.output
    second_process = wait_for(30) { (process_rows.map { |row| row["id"] } - first_process).first }
    picked_up = second_process && wait_for(30) { ids.all? { |id| job_row(id)["locked_by_id"] == second_process } }
    second.signal(:TERM)
    status = second.wait(20)
    assert picked_up, "the second process took both jobs\n#{second.output}"
    assert status, "GOOD_JOB_SHUTDOWN_TIMEOUT=1 applies\n#{second.output}"
    assert status.success?, "exit status #{status.inspect}\n#{second.output}"

    assert_empty run_ids, "neither 30 s job finished"
    ids.each do |id|
      assert_equal 2, job_row(id)["executions_count"].to_i
      assert_equal 2, execution_rows(id).size, "each interrupted attempt recorded once"
      interrupted = execution_rows(id).first
      refute_nil interrupted, "the first attempt has its execution row"
      assert_equal 0, interrupted["error_event"]&.to_i, "the first attempt is recorded as interrupted"
      refute_nil interrupted["finished_at"]
      assert_match(/Interrupt/, interrupted["error"].to_s)
      assert_equal first_process.first, interrupted["process_id"], "the interrupted attempt names the process that ran it"
    end
  end

  # A second signal while running jobs are given time to finish: the process exits at once.
  def test_a_second_signal_exits_at_once
    database.with_connection { |conn| PollerApp.insert_record_jobs(conn, %w[long], sleep: 60) }
    worker = @app.start("--shutdown-timeout", "-1", "--poll-interval", "1")
    assert worker.wait_started, worker.output
    assert wait_for(30) { performing(worker).size == 1 }, "the job runs\n#{worker.output}"

    worker.signal(:INT)
    assert worker.wait_for_line(/SIGINT received, shutting down \(shutdown_timeout: wait forever\)/, 10),
           worker.output
    refute worker.wait(1), "the first signal waits for the running job"
    worker.signal(:INT)
    status = worker.wait(5)
    assert status, "the second signal ends the process\n#{worker.output}"
    assert_equal 130, status.exitstatus, worker.output
  end

  # The database good_cron start is given cannot be reached: the terminal says so at once, and
  # one SIGINT ends the process promptly.
  def test_an_unreachable_database_is_on_the_terminal_and_one_sigint_stops_it
    worker = @app.start("--database-url", "postgres://postgres@127.0.0.1:#{FreePort.pick}/postgres")
    assert worker.wait_started, worker.output
    assert worker.wait_for_line(/ERROR good_cron: poller: database unreachable: .*refused/i, 15), worker.output

    worker.signal(:INT)
    status = worker.wait(10)
    assert status, "one SIGINT ends it\n#{worker.output}"
    assert status.success?, worker.output
    assert_includes worker.stdout, "good_cron stopped"
  end

  # A server that accepts connections and never answers: a SIGINT while the poller waits out
  # its 5 s connect timeout ends the process without waiting for it.
  def test_a_sigint_while_connecting_stops_at_once
    silent = TCPServer.new("127.0.0.1", 0)
    worker = @app.start("--database-url", "postgres://postgres@127.0.0.1:#{silent.addr[1]}/postgres")
    assert wait_for(60) { worker.stderr.include?("GoodJob stand-in") || worker.exited? }, worker.output
    sleep 1 # the app has booted: good_cron start is connecting
    worker.signal(:INT)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    status = worker.wait(30)
    assert status&.success?, worker.output
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, 4, "not the connect timeout\n#{worker.output}"
  ensure
    silent&.close
  end

  def test_an_invalid_database_url_exits_1_naming_it
    worker = @app.start("--database-url", "postgres://postgres@127.0.0.1:notaport/postgres")
    status = worker.wait(60)
    assert_equal 1, status&.exitstatus, worker.output
    assert_match(/database_url is not valid/, worker.stderr)
    refute_includes worker.stdout, "good_cron started"
  end

  private

  # Ids of the jobs +worker+ started performing, from ActiveJob's log ("Performing RecordJob
  # (Job ID: …)"); the ids of jobs running, since a 3 s job started in the last 3 s.
  def performing(worker)
    (worker.stdout + worker.stderr).scan(/Performing RecordJob \(Job ID: (\h{8}-\h{4}-\h{4}-\h{4}-\h{12})\)/).flatten.uniq
  end

  def run_ids
    database.with_connection { |conn| conn.exec("SELECT job_id FROM job_runs").column_values(0) }
  end
end
