# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/free_port"
require_relative "support/good_job_rows"
require_relative "support/poller_app"

# The fixture Rails app on good_cron's adapter, end to end: `good_cron start --enable-cron`
# enqueues each cron instant once and runs each of those jobs once, with the entry's
# arguments; `rails server` (Puma, cluster mode) with execution_mode async runs jobs in its
# workers.
class RailsAppPollerTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include PollerApp::Fixture
  include GoodJobRows

  # One entry, replacing the fixture's: RecordJob every second, with arguments.
  CRON = <<~RUBY
    Rails.application.config.good_job[:cron] = {
      record: { cron: "every second", class: "RecordJob", args: ["tick"], kwargs: { sleep: 0.01 }, set: { queue: "cron" } },
    }
  RUBY

  # Each test writes the initializer it needs.
  def app_initializer
    nil
  end

  # Two `good_cron start --enable-cron` processes for a few seconds: one row per instant,
  # consecutive instants, and each finished row performed once by RecordJob with its arguments.
  def test_good_cron_start_enqueues_each_instant_once_and_runs_it_once
    @app.write_initializer(CRON)
    workers = Array.new(2) { @app.start("--enable-cron", "--poll-interval", "1") }
    workers.each { |worker| assert worker.wait_started, worker.output }

    ran = wait_for(60) { count_sql("SELECT count(*) FROM good_jobs WHERE cron_key = 'record' AND finished_at IS NOT NULL") >= 4 }
    workers.each { |worker| worker.signal(:TERM) }
    statuses = workers.map { |worker| worker.wait(30) }
    assert ran, "cron jobs ran\n#{workers.map(&:output).join("\n")}"
    statuses.each_with_index { |status, i| assert status&.success?, "exit status #{status.inspect}\n#{workers[i].output}" }

    rows = database.with_connection do |conn|
      conn.exec(<<~SQL).to_a
        SELECT id, cron_key, extract(epoch FROM cron_at)::bigint AS at, finished_at, error, job_class, queue_name, serialized_params
        FROM good_jobs ORDER BY cron_at
      SQL
    end
    assert_equal ["record"], rows.map { |row| row["cron_key"] }.uniq, "only the entry's rows"
    ats = rows.map { |row| row["at"].to_i }
    assert_equal ats.uniq, ats, "each instant enqueued once"
    assert_equal (ats.first..ats.last).to_a, ats, "every instant, none missing"
    rows.each do |row|
      assert_equal "RecordJob", row["job_class"]
      assert_equal "cron", row["queue_name"]
      assert_equal ["tick", { "sleep" => 0.01, "_aj_ruby2_keywords" => ["sleep"] }], JSON.parse(row["serialized_params"])["arguments"]
    end

    finished, waiting = rows.partition { |row| row["finished_at"] }
    assert_operator finished.size, :>=, 4
    finished.each { |row| assert_nil row["error"] }
    runs = database.with_connection { |conn| conn.exec("SELECT job_id, tag, executions, pid FROM job_runs").to_a }
    by_job = runs.group_by { |run| run["job_id"] }
    assert_equal finished.map { |row| row["id"] }.sort, by_job.keys.sort, "each finished instant performed, nothing else"
    by_job.each_value do |job_runs|
      assert_equal 1, job_runs.size, "performed once: #{job_runs.inspect}"
      assert_equal "tick", job_runs.first["tag"]
      assert_equal 1, job_runs.first["executions"].to_i
    end
    waiting.each { |row| assert_nil by_job[row["id"]] }
    assert_empty runs.map { |run| run["pid"].to_i }.uniq - workers.map(&:pid)
    assert_empty process_rows
  end

  # GOOD_JOB_QUEUES picks the queues of `good_cron start`; --queues wins over it, as GoodJob's
  # flags win over its environment.
  def test_good_cron_start_reads_good_job_queues_and_its_flag_wins
    @app.write_initializer(PollerApp::NO_CRON)
    theirs, mine = database.with_connection do |conn|
      [PollerApp.insert_record_jobs(conn, %w[theirs], queue: "theirs", priority: -10),
       PollerApp.insert_record_jobs(conn, %w[mine-1 mine-2], queue: "mine")]
    end

    first = @app.start("--poll-interval", "1", env: { "GOOD_JOB_QUEUES" => "mine" })
    assert first.wait_started, first.output
    wait_finished(mine)
    first.signal(:TERM)
    assert first.wait(30)&.success?, first.output
    assert_equal mine.sort, run_ids.sort
    assert_not_started(theirs.first, "GOOD_JOB_QUEUES=mine leaves queue theirs alone")

    second = @app.start("--poll-interval", "1", "--queues", "theirs", env: { "GOOD_JOB_QUEUES" => "mine" })
    assert second.wait_started, second.output
    wait_finished(theirs)
    second.signal(:TERM)
    assert second.wait(30)&.success?, second.output
    assert_equal (mine + theirs).sort, run_ids.sort
  end

  # Puma in cluster mode (2 workers) with GOOD_JOB_EXECUTION_MODE=async: each worker runs a
  # poller after fork, and the jobs run there, not in the master.
  def test_puma_cluster_workers_run_the_jobs_in_async_mode
    @app.write_initializer(PollerApp::NO_CRON)
    server = @app.server("-p", FreePort.pick.to_s, "-b", "127.0.0.1", "-P", File.join(@app.path, "tmp/server.pid"),
                         env: { "WEB_CONCURRENCY" => "2", "GOOD_JOB_EXECUTION_MODE" => "async", "GOOD_JOB_POLL_INTERVAL" => "1" })
    booted = /Worker (\d) \(PID: (\d+)\) booted/
    assert wait_for(90) { server.exited? || (server.stdout + server.stderr).scan(booted).map(&:first).uniq.size == 2 },
           server.output
    refute server.exited?, server.output
    workers = (server.stdout + server.stderr).scan(booted).map { |_, pid| pid.to_i }.uniq
    assert_equal 2, workers.size
    assert wait_for(30) { process_rows.size >= 2 }, "each worker registers a poller\n#{server.output}"

    ids = database.with_connection { |conn| PollerApp.insert_record_jobs(conn, (1..20).map { |i| "web-#{i}" }, sleep: 0.1) }
    wait_finished(ids, timeout: 60)
    assert_equal 2, process_rows.size, "a poller in each worker, none in the master"
    server.signal(:TERM)
    status = server.wait(30)
    assert status&.success?, "exit status #{status.inspect}\n#{server.output}"

    runs = database.with_connection { |conn| conn.exec("SELECT job_id, pid FROM job_runs").to_a }
    assert_equal ids.sort, runs.map { |run| run["job_id"] }.sort, "each job performed once"
    pids = runs.map { |run| run["pid"].to_i }.uniq
    refute_includes pids, server.pid, "the master runs no job"
    assert_empty pids - workers, "jobs ran in the Puma workers #{workers.inspect}"
    assert_empty process_rows, "the workers deleted their process rows at exit"
  end

  private

  def run_ids
    database.with_connection { |conn| conn.exec("SELECT job_id FROM job_runs").column_values(0) }
  end
end
