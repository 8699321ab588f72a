# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/good_job_rows"
require_relative "support/poller_app"

# Several `good_cron start` processes (the fixture Rails app on good_cron's adapter) drain one
# good_jobs table: every job runs exactly once, and a process killed with -9 loses no job;
# only the jobs it was running at that moment may run a second time.
class PollerRaceTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include PollerApp::Fixture
  include GoodJobRows

  THREADS = 5

  # 4 processes × 5 threads, 10,000 jobs enqueued beforehand: 10,000 performs, one per job,
  # each with its own arguments; every row finished with one attempt; more than one process
  # did the work.
  def test_four_processes_run_ten_thousand_jobs_each_exactly_once
    count = 10_000
    ids = database.with_connection { |conn| PollerApp.insert_record_jobs(conn, (1..count).map { |i| "job-#{i}" }) }
    workers = Array.new(4) { start_worker }
    workers.each { |worker| assert worker.wait_started, worker.output }

    drained = wait_for(120) { unfinished.zero? }
    statuses = stop(workers)
    assert drained, "#{unfinished} jobs left after 120 s\n#{workers.map(&:output).join("\n")}"
    statuses.each_with_index { |status, i| assert status&.success?, "exit status #{status.inspect}\n#{workers[i].output}" }

    database.with_connection do |conn|
      runs = conn.exec("SELECT count(*) AS runs, count(DISTINCT job_id) AS jobs, max(executions) AS executions FROM job_runs").first
      assert_equal count, runs["runs"].to_i, "one perform per job"
      assert_equal count, runs["jobs"].to_i, "every job performed"
      assert_equal 1, runs["executions"].to_i
      matched = conn.exec(<<~SQL).getvalue(0, 0).to_i
        SELECT count(*) FROM job_runs r JOIN good_jobs j ON j.id::text = r.job_id
        WHERE j.serialized_params -> 'arguments' ->> 0 = r.tag
      SQL
      assert_equal count, matched, "each job ran with its own arguments"

      jobs = conn.exec(<<~SQL).first
        SELECT count(*) FILTER (WHERE finished_at IS NOT NULL AND error IS NULL AND executions_count = 1
                                  AND locked_by_id IS NULL) AS clean,
               count(*) AS total
        FROM good_jobs
      SQL
      assert_equal count, jobs["total"].to_i
      assert_equal count, jobs["clean"].to_i, "every row finished, without error, after one attempt, unlocked"
      executions = conn.exec(<<~SQL).first
        SELECT count(*) AS total, count(DISTINCT active_job_id) AS jobs, count(DISTINCT process_id) AS processes,
               count(*) FILTER (WHERE finished_at IS NULL OR error IS NOT NULL) AS unclean
        FROM good_job_executions
      SQL
      assert_equal count, executions["total"].to_i, "one execution row per job"
      assert_equal count, executions["jobs"].to_i
      assert_equal 0, executions["unclean"].to_i

      pids = conn.exec("SELECT DISTINCT pid FROM job_runs").column_values(0).map(&:to_i)
      assert_empty pids - workers.map(&:pid), "jobs ran in the good_cron processes"
      assert_operator pids.size, :>, 1, "the jobs were shared between processes"
      assert_equal pids.size, executions["processes"].to_i, "one process id per process"
      assert_equal ids.sort, conn.exec("SELECT job_id FROM job_runs").column_values(0).sort
    end
    assert_empty process_rows, "each process deleted its row at shutdown"
  end

  # kill -9 of one of 4 processes while it runs jobs: the others finish everything, at once
  # (no wait for the 30 s heartbeat); a job runs twice only if the dead process was running it;
  # its attempts are closed as interrupted; its process row is cleaned up or ignored.
  def test_a_process_killed_mid_drain_loses_no_job_and_repeats_only_its_running_ones
    count = 2_000
    ids = database.with_connection { |conn| PollerApp.insert_record_jobs(conn, (1..count).map { |i| "job-#{i}" }, sleep: 0.05) }
    workers = Array.new(4) { start_worker }
    workers.each { |worker| assert worker.wait_started, worker.output }
    victim, *survivors = workers

    assert wait_for(60) { runs_by(victim.pid) >= 20 }, "the victim runs jobs\n#{victim.output}"
    victim_ids = database.with_connection do |conn|
      conn.exec_params(<<~SQL, [victim.pid]).column_values(0)
        SELECT DISTINCT e.process_id FROM job_runs r JOIN good_job_executions e ON e.active_job_id = r.job_id::uuid
        WHERE r.pid = $1
      SQL
    end
    assert_equal 1, victim_ids.size, "the victim's jobs name its process: #{victim_ids.inspect}"
    victim_id = victim_ids.first
    victim.kill9
    assert_operator unfinished, :>, 0, "the victim died with work left"

    # Well within GoodJob's 30 s heartbeat: no process waits for it to take the dead one's jobs.
    drained = wait_for(25) { unfinished.zero? }
    statuses = stop(survivors)
    assert drained, "#{unfinished} jobs left 25 s after the kill\n#{survivors.map(&:output).join("\n")}"
    statuses.each_with_index { |status, i| assert status&.success?, "exit status #{status.inspect}\n#{survivors[i].output}" }

    database.with_connection do |conn|
      interrupted = conn.exec_params(<<~SQL, [victim_id]).column_values(0)
        SELECT active_job_id::text FROM good_job_executions
        WHERE process_id = $1 AND (finished_at IS NULL OR error_event = 0)
      SQL
      duplicates = conn.exec("SELECT job_id FROM job_runs GROUP BY job_id HAVING count(*) > 1").column_values(0)
      assert_empty duplicates - interrupted, "only jobs the victim was running ran twice (interrupted: #{interrupted.inspect})"
      assert_equal interrupted.uniq, interrupted

      assert_equal ids.sort, conn.exec("SELECT DISTINCT job_id FROM job_runs").column_values(0).sort,
                   "every job performed"
      assert_equal count, conn.exec("SELECT count(*) FROM good_jobs WHERE finished_at IS NOT NULL AND error IS NULL " \
                                    "AND locked_by_id IS NULL").getvalue(0, 0).to_i, "every job finished cleanly"
      open = conn.exec_params("SELECT count(*) FROM good_job_executions WHERE process_id = $1 AND finished_at IS NULL",
                              [victim_id]).getvalue(0, 0).to_i
      assert_equal 0, open, "the next runner closed the dead process's attempts"
      if interrupted.any?
        events = conn.exec_params(<<~SQL, [victim_id, PG::TextEncoder::Array.new.encode(interrupted)]).column_values(0)
          SELECT DISTINCT error_event FROM good_job_executions WHERE process_id = $1 AND active_job_id = ANY($2::uuid[])
        SQL
        assert_equal ["0"], events, "the dead process's attempts are recorded as interrupted"
        counts = conn.exec_params("SELECT executions_count FROM good_jobs WHERE id = ANY($1::uuid[])",
                                  [PG::TextEncoder::Array.new.encode(interrupted)]).column_values(0).map(&:to_i)
        assert_equal [2] * interrupted.size, counts, "an interrupted job ran once more"
      end
      assert_equal count + interrupted.size,
                   conn.exec("SELECT sum(executions_count) FROM good_jobs").getvalue(0, 0).to_i
      assert_equal 0, conn.exec_params("SELECT count(*) FROM good_jobs WHERE locked_by_id = $1", [victim_id]).getvalue(0, 0).to_i
      pids = conn.exec("SELECT DISTINCT pid FROM job_runs").column_values(0).map(&:to_i)
      assert_empty pids - workers.map(&:pid)
      # No bound on how many: besides one running job per thread, a job whose thread had
      # finished it while its result waited for its batch's statement runs again, and is an
      # interrupted attempt too. (Jobs locked ahead would add more; at 50 ms a job, a pool
      # locks none ahead.)
    end

    rows = process_rows
    assert_empty rows.map { |row| row["id"] } - [victim_id], "the survivors deleted their rows at shutdown"
    if rows.any?
      assert lock_free?("good_job_processes-#{victim_id}"), "a row left by the dead process is not alive for GoodJob"
    end
  end

  private

  def start_worker
    @app.start("--max-threads", THREADS.to_s, "--poll-interval", "1")
  end

  def unfinished
    count_sql("SELECT count(*) FROM good_jobs WHERE finished_at IS NULL")
  end

  def runs_by(pid)
    count_sql("SELECT count(*) FROM job_runs WHERE pid = $1", pid)
  end

  # SIGTERM to each, then their exit statuses (nil for one still running after 30 s).
  def stop(workers)
    workers.each { |worker| worker.signal(:TERM) unless worker.exited? }
    workers.map { |worker| worker.wait(30) }
  end
end
