# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/test_logger"
require_relative "support/free_port"
require "active_job"
require "json"
require "tempfile"
require "time"

# GoodCron::Scheduler, the API a host app uses, against a real PostgreSQL: its lifecycle
# (and that it leaves nothing running), the rows it writes, GoodJob's enable/disable
# settings, a missing schema, a database that is away, fork, and the GVL.
class SchedulerTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper

  # The job every entry enqueues; nothing runs it here.
  class TickJob < ActiveJob::Base
    def perform(*, **); end
  end

  # The scheduler thread's name as the kernel keeps it (15 bytes of "good_cron-scheduler").
  ENGINE_THREAD = "good_cron-sched"

  def setup
    database.truncate
    @schedulers = []
  end

  def teardown
    @schedulers.each { |scheduler| scheduler.shutdown(timeout: 5) }
  end

  # --- helpers -----------------------------------------------------------------------------

  def every_second(**options)
    { cron: "every second", class: "SchedulerTest::TickJob" }.merge(options)
  end

  def scheduler(cron, database_url: database.url, enqueue: :good_jobs, **options)
    GoodCron::Scheduler.new(cron, database_url: database_url, enqueue: enqueue, **options).tap { |s| @schedulers << s }
  end

  # Seconds the block takes.
  def timed
    started = monotonic
    yield
    monotonic - started
  end

  # Threads of this process named +name+ (from /proc, so Rust threads count too).
  def os_threads(name = ENGINE_THREAD)
    Dir["/proc/self/task/*/comm"].count do |comm|
      File.read(comm).chomp == name
    rescue Errno::ENOENT, Errno::ESRCH
      false
    end
  end

  # Every row of +key+, oldest instant first, with times as Unix seconds (Float).
  def rows(key)
    database.with_connection do |conn|
      conn.exec_params(<<~SQL, [key]).map { |row| row.merge("serialized_params" => JSON.parse(row["serialized_params"])) }
        SELECT id, active_job_id, cron_key, queue_name, priority, job_class, serialized_params,
               extract(epoch FROM cron_at)::float8 AS cron_at, extract(epoch FROM created_at)::float8 AS created_at,
               extract(epoch FROM scheduled_at)::float8 AS scheduled_at, extract(epoch FROM updated_at)::float8 AS updated_at
        FROM good_jobs WHERE cron_key = $1 ORDER BY cron_at
      SQL
    end
  end

  def instants(key)
    rows(key).map { |row| row["cron_at"].to_f }
  end

  # Each instant once, one second apart, whole seconds.
  def assert_consecutive(ats, key)
    refute_empty ats, "#{key} has rows"
    assert ats.all? { |at| at == at.floor }, "#{key}: cron_at is a whole second: #{ats.inspect}"
    assert_equal (ats.first.to_i..ats.last.to_i).to_a, ats.map(&:to_i), "#{key}: every instant, each once"
  end

  # --- lifecycle ---------------------------------------------------------------------------

  def test_start_then_stop_returns_promptly_and_leaves_nothing_running
    scheduler = scheduler({ tick: every_second })
    threads_before = Thread.list
    engine_before = os_threads

    assert_equal true, scheduler.start
    assert scheduler.running?
    assert_equal engine_before + 1, os_threads, "one engine thread while running"
    assert wait_for(3) { rows("tick").any? }, "the running scheduler writes rows"

    stopped = nil
    took = timed { stopped = scheduler.shutdown(timeout: 5) }
    assert_equal true, stopped
    assert_operator took, :<, 2, "stop returns promptly (took #{took.round(3)} s)"
    refute scheduler.running?
    assert_equal engine_before, os_threads, "no engine thread is left after stop"
    assert_empty Thread.list - threads_before, "no Ruby thread is left after stop"

    count = rows("tick").size
    sleep 1.2
    assert_equal count, rows("tick").size, "nothing is written after stop"
    assert_equal true, scheduler.shutdown(timeout: 5), "stopping again is fine"
  end

  def test_stop_without_start_and_start_twice
    scheduler = scheduler({ tick: every_second })
    refute scheduler.running?
    assert_equal true, scheduler.shutdown(timeout: 5), "stop without start"
    assert_equal true, scheduler.shutdown
    refute scheduler.running?

    threads_before = Thread.list
    engine_before = os_threads
    assert_equal true, scheduler.start
    assert_equal true, scheduler.start, "a second start is a no-op"
    assert scheduler.running?
    assert_equal engine_before + 1, os_threads, "start twice runs one engine"
    assert_equal 1, (Thread.list - threads_before).size, "start twice runs one event thread"
    assert_equal true, scheduler.shutdown(timeout: 5)
    assert_equal engine_before, os_threads
    assert_empty Thread.list - threads_before
  end

  # `stop` returning true means the engine is gone, not about to go: checked right after each
  # of many quick start/stop cycles (and failed starts), where a thread still winding down
  # (closing its pool, dropping its runtime) would show.
  def test_nothing_of_the_engine_is_left_the_moment_stop_or_a_failed_start_returns
    scheduler = scheduler({ tick: every_second })
    engine_before = os_threads
    left = 50.times.count do
      scheduler.start
      scheduler.shutdown(timeout: 5)
      (os_threads > engine_before).tap { wait_for(1) { os_threads == engine_before } }
    end
    assert_equal 0, left, "cycles in which the engine thread outlived stop"

    TestDatabase.scratch("good_cron_test_scheduler_cycles") do |url|
      failing = scheduler({ tick: every_second }, database_url: url)
      left = 50.times.count do
        assert_raises(GoodCron::SchemaError) { failing.start }
        (os_threads > engine_before).tap { wait_for(1) { os_threads == engine_before } }
      end
      assert_equal 0, left, "failed starts after which the engine thread was still there"
    end
  end

  def test_a_stopped_scheduler_starts_again
    scheduler = scheduler({ tick: every_second })
    assert scheduler.start
    assert wait_for(3) { rows("tick").any? }
    assert scheduler.shutdown(timeout: 5)
    first = rows("tick").size
    assert scheduler.start
    assert scheduler.running?
    assert wait_for(3) { rows("tick").size > first }, "the restarted scheduler writes rows"
    assert scheduler.shutdown(timeout: 5)
    refute scheduler.running?
  end

  # --- rows --------------------------------------------------------------------------------

  def test_rows_for_consecutive_instants_with_set_and_kwargs
    at = Time.utc(2024, 5, 6, 7, 8, 9)
    scheduler = scheduler({
                            plain: every_second(args: [1]),
                            queued: every_second(set: { queue: "q", priority: 5 }),
                            "waiting" => every_second(set: { wait: 30 }),
                            keywords: every_second(args: ["a"], kwargs: { limit: 3, since: at, tag: :x }),
                          })
    assert scheduler.start
    sleep 3.3
    assert scheduler.shutdown(timeout: 5)

    expected_keyword_args = JSON.parse(JSON.generate(TickJob.new("a", limit: 3, since: at, tag: :x).serialize["arguments"]))
    %w[plain queued waiting keywords].each do |key|
      rows = rows(key)
      assert_operator rows.size, :>=, 3, "#{key}: about one row a second"
      assert_consecutive rows.map { |row| row["cron_at"].to_f }, key
      rows.each do |row|
        params = row["serialized_params"]
        cron_at = row["cron_at"].to_f
        created_at = row["created_at"].to_f
        assert_equal row["id"], row["active_job_id"]
        assert_equal row["id"], params["job_id"]
        assert_equal "SchedulerTest::TickJob", row["job_class"]
        assert_equal "SchedulerTest::TickJob", params["job_class"]
        assert_operator created_at - cron_at, :>=, 0, "#{key}: not enqueued before its instant"
        assert_operator created_at - cron_at, :<, 1, "#{key}: enqueued within a second of its instant"
        assert_equal row["created_at"], row["updated_at"]
        assert_in_delta created_at, Time.iso8601(params["enqueued_at"]).to_f, 1.0
        case key
        when "plain"
          assert_equal ["default", 0, [1]], [row["queue_name"], row["priority"].to_i, params["arguments"]]
          assert_equal row["created_at"], row["scheduled_at"]
        when "queued"
          assert_equal ["q", 5], [row["queue_name"], row["priority"].to_i]
          assert_equal ["q", 5], [params["queue_name"], params["priority"]]
          assert_equal row["created_at"], row["scheduled_at"]
        when "waiting"
          assert_in_delta created_at + 30, row["scheduled_at"].to_f, 0.01, "wait: 30 moves scheduled_at by 30 s"
        when "keywords"
          assert_equal expected_keyword_args, params["arguments"], "kwargs as ActiveJob serializes them"
          assert_equal %w[limit since tag], params["arguments"].last["_aj_ruby2_keywords"].sort
        end
      end
    end
    assert_equal instants("plain"), instants("waiting"), "wait moves scheduled_at, not cron_at"
  end

  # --- enable / disable --------------------------------------------------------------------

  def test_goodjob_enable_and_disable_settings_are_honoured_while_running
    scheduler = scheduler({
                            toggled: every_second,
                            other: every_second,
                            opt_in: every_second(enabled_by_default: false),
                          })
    assert scheduler.start
    assert wait_for(3) { rows("toggled").size >= 2 && rows("other").size >= 2 }
    assert_empty rows("opt_in"), "enabled_by_default: false writes nothing"
    assert_equal({ "toggled" => true, "other" => true, "opt_in" => false }, scheduler.entries.to_h { |e| [e.key, e.enabled?] })

    database.set_setting("cron_keys_disabled", ["toggled"])
    disabled_at = Time.now.to_f
    assert_equal({ "toggled" => false, "other" => true, "opt_in" => false }, scheduler.entries.to_h { |e| [e.key, e.enabled?] })
    sleep 2.3
    assert_empty instants("toggled").select { |at| at > disabled_at + 1 }, "a disabled key stops within a second"
    assert_operator instants("other").count { |at| at > disabled_at + 1 }, :>=, 1, "other keys continue"
    assert_empty rows("opt_in")

    database.set_setting("cron_keys_enabled", ["opt_in"])
    database.set_setting("cron_keys_disabled", [])
    enabled_at = Time.now.to_f
    assert_equal({ "toggled" => true, "other" => true, "opt_in" => true }, scheduler.entries.to_h { |e| [e.key, e.enabled?] })
    sleep 2.3
    assert scheduler.shutdown(timeout: 5)

    opt_in = instants("opt_in")
    assert_operator opt_in.size, :>=, 1, "an entry enabled in cron_keys_enabled runs"
    assert_operator opt_in.min, :>, enabled_at - 1, "and not before it was enabled"
    assert_operator instants("toggled").count { |at| at > enabled_at + 1 }, :>=, 1, "a re-enabled key runs again"
    assert_consecutive instants("other"), "other"
  end

  def test_entries_report_schedule_next_and_last_run_and_enabled_state
    cron = {
      nightly: { cron: "0 3 * * *", class: "SchedulerTest::TickJob" },
      "hourly" => { cron: "every hour", class: "SchedulerTest::TickJob", enabled_by_default: false },
      never_ran: { cron: "*/5 * * * *", class: "SchedulerTest::TickJob" },
    }
    scheduler = scheduler(cron)
    database.with_connection do |conn|
      conn.exec(<<~SQL)
        INSERT INTO good_jobs (id, created_at, updated_at, cron_key, cron_at) VALUES
          (gen_random_uuid(), now(), now(), 'nightly', '2024-01-01 03:00:00'),
          (gen_random_uuid(), now(), now(), 'nightly', '2024-01-03 03:00:00'),
          (gen_random_uuid(), now(), now(), 'nightly', '2024-01-02 03:00:00'),
          (gen_random_uuid(), now(), now(), 'hourly', '2024-02-01 10:00:00'),
          (gen_random_uuid(), now(), now(), 'other', '2025-01-01 00:00:00')
      SQL
    end
    database.set_setting("cron_keys_disabled", ["nightly"])
    database.set_setting("cron_keys_enabled", ["hourly"])

    entries = scheduler.entries
    assert_equal %w[nightly hourly never_ran], entries.map(&:key)
    nightly, hourly, never_ran = entries
    assert_equal GoodCron::Schedule.parse("0 3 * * *"), nightly.schedule
    assert_kind_of GoodCron::Schedule, hourly.schedule
    assert_equal Time.utc(2024, 1, 3, 3), nightly.last_at, "last_at is the latest cron_at in the database"
    assert_equal Time.utc(2024, 2, 1, 10), hourly.last_at
    assert_nil never_ran.last_at
    entries.each do |entry|
      assert_kind_of Time, entry.next_at
      assert_operator entry.next_at, :>, Time.now - 1
      assert_equal entry.schedule.next_at(entry.next_at - 1), entry.next_at, "#{entry.key}: next_at is a run of its schedule"
    end
    assert_equal [false, true, true], entries.map(&:enabled?), "disabled / enabled rows / default"

    database.set_setting("cron_keys_disabled", [])
    database.set_setting("cron_keys_enabled", [])
    assert_equal [true, false, true], scheduler.entries.map(&:enabled?)
  end

  def test_entries_last_at_follows_what_the_running_scheduler_writes
    scheduler = scheduler({ tick: every_second })
    assert scheduler.start
    assert wait_for(3) { rows("tick").size >= 2 }
    assert scheduler.shutdown(timeout: 5)
    assert_equal Time.at(instants("tick").max), scheduler.entries.first.last_at
  end

  # --- schema ------------------------------------------------------------------------------

  def test_start_on_a_database_without_good_jobs_names_the_migration
    TestDatabase.scratch("good_cron_test_scheduler_empty") do |url|
      scheduler = scheduler({ tick: every_second }, database_url: url)
      engine_before = os_threads
      error = assert_raises(GoodCron::SchemaError) { scheduler.start }
      assert_kind_of GoodCron::Error, error
      assert_includes error.message, "good_cron:install"
      assert_includes error.message, "good_jobs"
      assert_match(/missing/, error.message)
      refute scheduler.running?
      assert_equal engine_before, os_threads, "a failed start leaves no engine thread"
      assert_equal true, scheduler.shutdown(timeout: 1)
    end
  end

  def test_start_without_the_unique_index_or_the_settings_table_names_what_is_missing
    TestDatabase.scratch("good_cron_test_scheduler_noindex") do |url|
      conn = PG.connect(url)
      conn.exec("SET client_min_messages TO warning")
      conn.exec(File.read(TestDatabase::SCHEMA))
      conn.exec("DROP INDEX index_good_jobs_on_cron_key_and_cron_at_cond")
      error = assert_raises(GoodCron::SchemaError) { scheduler({ tick: every_second }, database_url: url).start }
      assert_includes error.message, "index_good_jobs_on_cron_key_and_cron_at_cond"
      assert_includes error.message, "good_cron:install"

      conn.exec(File.read(TestDatabase::SCHEMA)) # puts the index back
      conn.exec("DROP TABLE good_job_settings")
      error = assert_raises(GoodCron::SchemaError) { scheduler({ tick: every_second }, database_url: url).start }
      assert_includes error.message, "good_job_settings"
      assert_includes error.message, "good_cron:install"

      conn.exec(File.read(TestDatabase::SCHEMA)) # complete again: start works
      scheduler = scheduler({ tick: every_second }, database_url: url)
      assert_equal true, scheduler.start
      assert scheduler.shutdown(timeout: 5)
    ensure
      conn&.close
    end
  end

  # --- the database away -------------------------------------------------------------------

  def test_a_database_away_at_start_is_logged_once_and_never_raised
    logger = TestLogger.new
    scheduler = scheduler({ tick: every_second }, database_url: "postgres://postgres@127.0.0.1:#{FreePort.pick}/nowhere",
                                                  logger: logger)
    assert_equal true, scheduler.start
    assert scheduler.running?
    assert wait_for(5) { logger.at(:error).any? }, "the outage is logged"
    sleep 3 # several more attempts, each failing
    assert scheduler.running?
    errors = logger.at(:error)
    assert_equal 1, errors.size, "logged once, not once per attempt: #{errors.inspect}"
    assert_match(/database unavailable/, errors.first)
    assert_equal true, scheduler.shutdown(timeout: 5)
    refute scheduler.running?
  end

  # With a healthy database stop takes a millisecond; with the database away it must not
  # first wait out a connection attempt (the pool's acquire timeout is 2 s).
  def test_stop_is_prompt_while_the_database_is_away
    scheduler = scheduler({ tick: every_second }, database_url: "postgres://postgres@127.0.0.1:#{FreePort.pick}/nowhere",
                                                  logger: TestLogger.new)
    engine_before = os_threads
    assert_equal true, scheduler.start
    stopped = nil
    took = timed { stopped = scheduler.shutdown(timeout: 5) }
    assert_equal true, stopped
    assert_operator took, :<, 1, "stop returns promptly while the engine waits for the database (took #{took.round(3)} s)"
    assert_equal engine_before, os_threads
  end

  # --- fork --------------------------------------------------------------------------------

  # As in Puma's cluster mode: the parent runs an engine, a forked child starts its own, works,
  # stops, garbage-collects what it forgot of the parent's engine, and exits.
  def test_a_forked_child_starts_its_own_engine_and_the_parent_keeps_running
    # An engine that ran and stopped before: its thread's stack goes to glibc's stack cache,
    # so the threads the child creates reuse the stacks of threads that did not survive the
    # fork (which exposes any use, in the child, of the parent's engine memory).
    earlier = scheduler({ earlier: every_second })
    assert earlier.start
    assert earlier.shutdown(timeout: 5)

    scheduler = scheduler({ forked: every_second })
    assert scheduler.start
    assert wait_for(3) { rows("forked").any? }

    reader, writer = IO.pipe
    child_stderr = Tempfile.new("good_cron_fork")
    pid = fork do
      reader.close
      $stderr.reopen(child_stderr.path, "w")
      report = begin
        result = { "inherited_engine_threads" => os_threads, "running_before" => scheduler.running? }
        result["started"] = scheduler.start
        result["running"] = scheduler.running?
        result["engine_threads"] = os_threads
        sleep 2
        result["stop_took"] = timed { result["stopped"] = scheduler.shutdown(timeout: 5) }
        result["running_after"] = scheduler.running?
        result["engine_threads_after"] = os_threads
        GC.start # frees what the child forgot of its parent's engine
        result
      rescue Exception => e
        { "error" => "#{e.class}: #{e.message}\n#{e.backtrace.first(5).join("\n")}" }
      end
      writer.write(JSON.generate(report))
      writer.close
      exit!(0)
    end
    writer.close
    status = nil
    unless wait_for(15) { (status = Process.wait2(pid, Process::WNOHANG)&.last) }
      Process.kill(:KILL, pid)
      Process.wait(pid)
      flunk "the forked child hung"
    end
    child_exited_at = Time.now.to_f
    output = reader.read
    reader.close
    crash = File.read(child_stderr.path).lines.grep_v(/^\s*$/).first(3).join
    assert status.exited? && status.exitstatus.zero?, "the child exits 0: #{status.inspect}\n#{crash}"
    report = JSON.parse(output)
    assert_nil report["error"]
    assert_equal 0, report["inherited_engine_threads"], "the parent's engine thread does not exist in the child"
    assert_equal false, report["running_before"], "the child does not think the parent's engine is its own"
    assert_equal true, report["started"]
    assert_equal true, report["running"]
    assert_equal 1, report["engine_threads"], "the child runs an engine of its own"
    assert_equal true, report["stopped"]
    assert_operator report["stop_took"], :<, 2
    assert_equal false, report["running_after"]
    assert_equal 0, report["engine_threads_after"]

    assert scheduler.running?, "the parent keeps running"
    assert wait_for(3) { instants("forked").any? { |at| at > child_exited_at + 0.5 } }, "the parent writes rows after the child left"
    assert scheduler.shutdown(timeout: 5)
    assert_consecutive instants("forked"), "forked"
  end

  # --- the GVL -----------------------------------------------------------------------------

  # Iterations of a pure-Ruby loop on another thread in +seconds+.
  def ruby_iterations(seconds)
    Thread.new do
      deadline = monotonic + seconds
      count = 0
      while (count % 1000).nonzero? || monotonic < deadline
        count += 1
      end
      count
    end.value
  end

  def test_a_running_scheduler_does_not_slow_other_ruby_threads
    cron = (1..50).to_h { |i| ["gvl_#{i}", every_second(args: [i])] }
    scheduler = scheduler(cron, logger: Logger.new(nil))
    ratios = Array.new(2) do
      without = ruby_iterations(1)
      scheduler.start
      with = ruby_iterations(1)
      scheduler.shutdown(timeout: 5)
      with.to_f / without
    end
    assert_operator ratios.max, :>, 0.8, "iterations with / without a running scheduler: #{ratios.map { |r| r.round(2) }}"
    assert_operator rows("gvl_1").size, :>=, 1, "the scheduler was working meanwhile"
  end

  def test_stop_from_another_thread_while_the_first_one_sleeps
    scheduler = scheduler({ tick: every_second })
    assert scheduler.start
    stopper = Thread.new do
      sleep 0.3
      stopped = nil
      took = timed { stopped = scheduler.shutdown(timeout: 5) }
      [stopped, took, monotonic]
    end
    slept = timed { sleep 1.5 }
    woke_at = monotonic
    stopped, took, stopped_at = stopper.value
    assert_equal true, stopped
    assert_operator took, :<, 1, "stop from another thread returns promptly"
    assert_operator stopped_at, :<, woke_at, "it returned while the first thread still slept"
    assert_in_delta 1.5, slept, 0.3, "the sleeping thread was not held up"
    refute scheduler.running?
  end
end
