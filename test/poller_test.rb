# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/in_process_poller"
require "json"
require "securerandom"
require "time"

# GoodCron::Poller in this process, running plain ActiveJob jobs (no Rails) that
# GoodCron::Adapter enqueued, against a real PostgreSQL: each job runs once with its arguments
# and leaves GoodJob's rows; priority, queue strings and pools decide what runs; scheduled jobs
# wait for their time without polling; LISTEN wakes an idle poller; GoodJob's advisory lock is
# held while a job runs and respected when someone else holds it; the process row lives as
# long as the poller; shutdown waits for running jobs or kills and releases them.
class PollerTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include GoodJobRows
  include InProcessPoller

  JOURNAL = JobJournal.new
  FRESH_DATABASE = "good_cron_test_poller_fresh"
  UUID = /\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/.freeze

  class BaseJob < ActiveJob::Base; end

  # Records its arguments and what ActiveJob knew of it.
  class EchoJob < BaseJob
    def perform(*args, **kwargs)
      JOURNAL.record(name: args.first, job_id: job_id, args: args, kwargs: kwargs, queue: queue_name,
                     priority: priority, executions: executions)
    end
  end

  class GateJob < BaseJob
    include InProcessPoller::Gate
  end

  def setup
    super
    @sessions = []
  end

  def teardown
    super
    @sessions.each(&:close)
  end

  # --- helpers -----------------------------------------------------------------------------

  # A database session that lives until the end of the test (a GoodJob worker, a listener).
  def session
    database.connect.tap { |conn| @sessions << conn }
  end

  # Whether some session of this database has LISTENed on good_job (its last statement).
  def listening?
    count_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%good_job%'").positive?
  end

  # +time+ rounded up to a whole millisecond (GoodJob's NOTIFY payload carries milliseconds).
  def whole_ms(time)
    Time.at(Rational((time.to_r * 1000).ceil, 1000))
  end

  def assert_no_errors_logged
    assert_empty @logger.at(:error), diagnostics
  end

  # --- the adapter -------------------------------------------------------------------------

  # :good_cron names the adapter; it writes GoodJob's row (id = active_job_id = job_id, the
  # job's own serialization) and wakes listeners with GoodJob's NOTIFY payload.
  def test_the_adapter_writes_goodjob_rows_and_notifies
    assert_equal ActiveJob::QueueAdapters::GoodCronAdapter, ActiveJob::QueueAdapters.lookup(:good_cron)
    listener = session
    listener.exec("LISTEN good_job")

    job = EchoJob.set(queue: "mail", priority: -2).perform_later("now", 1)
    later = EchoJob.set(wait: 600).perform_later("later")

    row = job_row(job)
    assert_equal job.job_id, row["id"]
    assert_equal job.job_id, row["active_job_id"]
    assert_equal "PollerTest::EchoJob", row["job_class"]
    assert_equal "mail", row["queue_name"]
    assert_equal(-2, row["priority"].to_i)
    params = JSON.parse(row["serialized_params"])
    expected = job.serialize
    %w[job_class job_id queue_name priority arguments executions exception_executions locale].each do |key|
      assert_equal expected[key], params[key], "serialized_params[#{key.inspect}]"
    end
    refute_nil row["scheduled_at"], "a job to run now is scheduled now"
    assert_nil row["performed_at"]
    assert_nil row["finished_at"]
    assert_nil row["locked_by_id"]

    later_row = job_row(later)
    assert_in_delta later.scheduled_at.to_f, later_row["scheduled_epoch"], 0.001, "scheduled_at is the wait time"
    assert_equal "default", later_row["queue_name"]

    notes = []
    2.times do
      listener.wait_for_notify(5) { |channel, _pid, payload| notes << [channel, JSON.parse(payload)] }
    end
    assert_equal %w[good_job good_job], notes.map(&:first)
    assert_equal "mail", notes[0][1]["queue_name"]
    assert_equal "default", notes[1][1]["queue_name"]
    assert_in_delta later.scheduled_at.to_f, Time.iso8601(notes[1][1]["scheduled_at"]).to_f, 0.001
  end

  # Several jobs in one call (Rails 7.1's perform_all_later calls enqueue_all): one row each,
  # and one NOTIFY per queue and time, with GoodJob's bulk payload (a count).
  def test_enqueue_all_writes_every_row_and_one_bulk_notify
    listener = session
    listener.exec("LISTEN good_job")
    jobs = Array.new(3) { |i| EchoJob.new("bulk#{i}") }
    assert_equal 3, BaseJob.queue_adapter.enqueue_all(jobs)

    assert_equal jobs.map(&:job_id), jobs.map(&:provider_job_id)
    rows = jobs.map { |job| job_row(job) }
    assert_equal jobs.map(&:job_id), rows.map { |row| row["id"] }
    assert_equal [["bulk0"], ["bulk1"], ["bulk2"]], rows.map { |row| JSON.parse(row["serialized_params"])["arguments"] }
    payloads = []
    loop { break unless listener.wait_for_notify(0.5) { |_channel, _pid, payload| payloads << JSON.parse(payload) } }
    assert_equal [%w[queue_name count scheduled_at]], payloads.map(&:keys), "GoodJob's bulk payload, keys in its order"
    assert_equal ["default", 3], payloads.first.values_at("queue_name", "count")
  end

  # --- process liveness --------------------------------------------------------------------

  # GoodJob's rule for a process row, applied when a poller starts (and at each heartbeat):
  # lock_type 0 without its advisory lock held, or no lock type and not refreshed for 5
  # minutes, is dead: its row goes and its jobs are unlocked and run. A row refreshed recently
  # without a lock type (a GoodJob process without the advisory heartbeat) is alive: its job
  # is left alone.
  def test_dead_processes_lose_their_rows_and_jobs_live_ones_keep_them
    dead_locked = SecureRandom.uuid
    dead_stale = SecureRandom.uuid
    alive = SecureRandom.uuid
    jobs = { dead_locked => EchoJob.perform_later("of_dead_locked"), dead_stale => EchoJob.perform_later("of_dead_stale"),
             alive => EchoJob.perform_later("of_alive") }
    database.with_connection do |conn|
      conn.exec_params(<<~SQL, [dead_locked, dead_stale, alive])
        INSERT INTO good_job_processes (id, created_at, updated_at, state, lock_type) VALUES
          ($1, now(), now(), '{}', 0),
          ($2, now() - interval '10 minutes', now() - interval '10 minutes', '{}', NULL),
          ($3, now(), now(), '{}', NULL)
      SQL
      jobs.each do |process, job|
        conn.exec_params("UPDATE good_jobs SET locked_by_id = $1, locked_at = now() WHERE id = $2", [process, job.job_id])
      end
    end

    poller = started_poller(poll_interval: 1)
    wait_finished(jobs[dead_locked], jobs[dead_stale])
    assert_equal [alive, poller.process_id].sort, process_rows.map { |row| row["id"] }.sort
    assert_equal alive, job_row(jobs[alive])["locked_by_id"]
    assert_nil job_row(jobs[alive])["performed_at"], "a live process's job is not run"
    assert_equal %w[of_dead_locked of_dead_stale], JOURNAL.names.sort
  end

  # A job without a priority or queue gets GoodJob's defaults (DEFAULT_PRIORITY 0, "default"),
  # so it runs before a priority 5 job, as it would with GoodJob's adapter.
  def test_a_job_without_priority_gets_goodjobs_default_priority
    five = EchoJob.set(priority: 5).perform_later("five")
    plain = EchoJob.perform_later("plain")
    assert_nil plain.priority

    row = job_row(plain)
    assert_equal "default", row["queue_name"]
    assert_equal "0", row["priority"], "GoodJob writes active_job.priority || 0"
    started_poller(max_threads: 1, poll_interval: 1)
    wait_finished(five, plain)
    assert_equal %w[plain five], JOURNAL.names
  end

  # --- running jobs ------------------------------------------------------------------------

  # One job: performed once, with its arguments, and the rows GoodJob's perform leaves.
  def test_an_enqueued_job_runs_once_with_its_arguments_and_leaves_goodjob_rows
    poller = started_poller(poll_interval: 1)
    process_id = poller.process_id
    assert_match UUID, process_id
    job = EchoJob.set(queue: "echo", priority: 3).perform_later("hello", 42, { "nested" => [1, 2] }, flag: true)
    wait_finished(job)
    assert_equal true, poller.shutdown(timeout: 10)

    runs = JOURNAL.entries
    assert_equal 1, runs.size, "performed once: #{runs.inspect}"
    run = runs.first
    assert_equal job.job_id, run.job_id
    assert_equal ["hello", 42, { "nested" => [1, 2] }], run.args
    assert_equal({ flag: true }, run.kwargs)
    assert_equal "echo", run.queue
    assert_equal 3, run.priority
    assert_equal 1, run.executions

    row = job_row(job)
    assert_equal job.job_id, row["active_job_id"]
    assert_equal "PollerTest::EchoJob", row["job_class"]
    refute_nil row["performed_at"]
    refute_nil row["finished_at"]
    assert_equal "t", row["finished_after_start"]
    assert_equal "t", row["on_time"]
    assert_nil row["error"]
    assert_nil row["error_event"]
    assert_equal 1, row["executions_count"].to_i
    assert_nil row["locked_by_id"]
    assert_nil row["locked_at"]
    assert_nil row["lock_type"]

    executions = execution_rows(job)
    assert_equal 1, executions.size
    execution = executions.first
    assert_equal process_id, execution["process_id"]
    assert_equal "PollerTest::EchoJob", execution["job_class"]
    assert_equal "echo", execution["queue_name"]
    assert_equal row["performed_at"], execution["created_at"], "the attempt starts when the job is performed"
    refute_nil execution["finished_at"]
    assert_equal "t", execution["finished_after_start"]
    refute_nil execution["duration"]
    assert_nil execution["error"]
    assert_nil execution["error_event"]
    assert_nil execution["error_backtrace"]
    assert_no_errors_logged
  end

  # One thread: the lowest priority number first (GoodJob 4.x), then the order of enqueueing.
  def test_one_thread_runs_jobs_by_priority_then_enqueue_order
    jobs = [["ten", 10], ["minus_five_a", -5], ["zero", 0], ["three", 3], ["minus_five_b", -5]].map do |name, priority|
      EchoJob.set(priority: priority).perform_later(name)
    end
    started_poller(max_threads: 1, poll_interval: 1)
    wait_finished(jobs)

    assert_equal %w[minus_five_a minus_five_b zero three ten], JOURNAL.names
  end

  # A poller on queue "a" leaves queue "b" alone, though b's job comes first by priority.
  def test_a_poller_on_one_queue_does_not_run_other_queues
    other = EchoJob.set(queue: "b", priority: -10).perform_later("b")
    mine = EchoJob.set(queue: "a").perform_later("a")
    poller = started_poller(queues: "a", max_threads: 1, poll_interval: 1)
    wait_finished(mine)
    assert_equal true, poller.shutdown(timeout: 10)

    assert_equal ["a"], JOURNAL.names
    assert_not_started(other)
  end

  # "-a": every queue but a.
  def test_an_excluded_queue_is_not_run
    excluded = EchoJob.set(queue: "a", priority: -10).perform_later("a")
    jobs = [EchoJob.set(priority: 0).perform_later("default"), EchoJob.set(queue: "b", priority: 5).perform_later("b")]
    poller = started_poller(queues: "-a", max_threads: 1, poll_interval: 1)
    wait_finished(jobs)
    assert_equal true, poller.shutdown(timeout: 10)

    assert_equal %w[default b], JOURNAL.names
    assert_not_started(excluded)
  end

  # "+b,a": queue b before queue a whatever the priorities; other queues never.
  def test_ordered_queues_run_in_the_order_given
    a = EchoJob.set(queue: "a", priority: -10).perform_later("a")
    b = EchoJob.set(queue: "b", priority: 10).perform_later("b")
    c = EchoJob.set(queue: "c", priority: -20).perform_later("c")
    poller = started_poller(queues: "+b,a", max_threads: 1, poll_interval: 1)
    wait_finished(a, b)
    assert_equal true, poller.shutdown(timeout: 10)

    assert_equal %w[b a], JOURNAL.names
    assert_not_started(c)
  end

  # "a:1;b:1": two pools of one thread each. b's job runs while a's only thread is busy, and
  # a's second job waits for a's first.
  def test_pools_have_their_own_threads
    a1 = GateJob.set(queue: "a").perform_later("a1")
    a2 = GateJob.set(queue: "a").perform_later("a2")
    b1 = GateJob.set(queue: "b").perform_later("b1")
    started_poller(queues: "a:1;b:1", poll_interval: 1)

    assert wait_for(30) { JOURNAL.started?("a1") && JOURNAL.started?("b1") }, "each pool runs a job: #{diagnostics}"
    JOURNAL.open("b1")
    wait_finished(b1)
    refute JOURNAL.started?("a2"), "pool a has one thread, and a1 holds it"

    JOURNAL.open("a1")
    assert wait_for(30) { JOURNAL.started?("a2") }, diagnostics
    JOURNAL.open("a2")
    wait_finished(a1, a2)
    assert_equal %w[b1 a1 a2], JOURNAL.names
    assert_equal %w[a1 a2 b1], JOURNAL.started.sort
    assert_equal "a2", JOURNAL.started.last
  end

  # A job waiting for a busy poller's only thread is not taken from the other processes: it
  # stays unlocked and unperformed (GoodJob locks a job only to run it), so an idle poller
  # runs it while the busy one is still busy. The busy poller ran short jobs before (so a
  # poller that locks jobs ahead for short-job pools would).
  def test_a_busy_poller_leaves_waiting_jobs_to_other_pollers
    busy = started_poller(max_threads: 1, poll_interval: 1)
    wait_finished(Array.new(20) { |i| EchoJob.perform_later("short-#{i}") })
    JOURNAL.reset
    blocker = GateJob.perform_later("blocker")
    assert wait_for(30) { JOURNAL.started?("blocker") }, diagnostics
    waiting = EchoJob.perform_later("waiting")
    idle = started_poller(max_threads: 1, poll_interval: 1)
    wait_finished(waiting)

    assert_equal [idle.process_id], execution_rows(waiting).map { |e| e["process_id"] }
    assert_equal busy.process_id, job_row(blocker)["locked_by_id"], "the busy poller still runs its job"
    assert_equal ["waiting"], JOURNAL.names
  end

  # --- waking up ---------------------------------------------------------------------------

  # No polling: a job enqueued for 2 s from now runs, and not before its time. (Enqueued once
  # the poller's LISTEN session shows in pg_stat_activity, at a whole millisecond: the race of
  # an enqueue right after start and jobs due within milliseconds have tests of their own.)
  def test_a_scheduled_job_runs_at_its_time_without_polling
    started_poller(poll_interval: -1)
    assert wait_for(10) { listening? }, "the poller LISTENs: #{diagnostics}"
    job = EchoJob.set(wait_until: whole_ms(Time.now + 2)).perform_later("later")
    wait_finished(job, timeout: 20)

    assert_scheduled_run(job)
  end

  # No polling: a job scheduled before the poller started is found at start and run at its time.
  def test_a_job_scheduled_before_start_runs_at_its_time_without_polling
    job = EchoJob.set(wait_until: whole_ms(Time.now + 2)).perform_later("later")
    started_poller(poll_interval: -1)
    wait_finished(job, timeout: 20)

    assert_scheduled_run(job)
  end

  # No polling: jobs due a millisecond apart all run, each at or after its time. A wake-up for
  # the first must not drop the later ones from the poller's cache of upcoming times before
  # they are due.
  def test_jobs_due_milliseconds_apart_all_run_without_polling
    started_poller(poll_interval: -1)
    assert wait_for(10) { listening? }, "the poller LISTENs: #{diagnostics}"
    base = whole_ms(Time.now + 2)
    jobs = Array.new(10) { |i| EchoJob.set(wait_until: base + Rational(i, 1000)).perform_later("at-#{i}") }
    wait_finished(jobs, timeout: 20)

    assert_equal Array.new(10) { |i| "at-#{i}" }.sort, JOURNAL.names.sort
    jobs.each { |job| assert_equal "t", job_row(job)["on_time"] }
  end

  # No polling: a job scheduled ahead and enqueued the moment start returns is not lost before
  # the poller LISTENs (start returns ready to be notified, or it looks again once it listens).
  # Three rounds, each with a fresh poller.
  def test_a_job_scheduled_right_after_start_runs_without_polling
    warm_up = EchoJob.perform_later("warm-up") # the adapter's connection is open before the rounds
    3.times do |round|
      poller = started_poller(poll_interval: -1)
      job = EchoJob.set(wait_until: whole_ms(Time.now + 1.5)).perform_later("round-#{round}")
      wait_finished(job, timeout: 10)
      assert_equal true, poller.shutdown(timeout: 10)
    end

    assert_equal ["warm-up", "round-0", "round-1", "round-2"], JOURNAL.names
    assert_equal 1, execution_rows(warm_up).size
  end

  # No polling: a job enqueued while the poller idles is run, woken by NOTIFY.
  def test_listen_wakes_an_idle_poller
    started_poller(poll_interval: -1)
    first = EchoJob.perform_later("first")
    wait_finished(first)
    second = EchoJob.perform_later("second")
    wait_finished(second)

    assert_equal %w[first second], JOURNAL.names
  end

  # No LISTEN: polling finds the job.
  def test_polling_without_listen_finds_jobs
    started_poller(enable_listen_notify: false, poll_interval: 1)
    job = EchoJob.perform_later("polled")
    wait_finished(job)

    assert_equal ["polled"], JOURNAL.names
  end

  # --- locks -------------------------------------------------------------------------------

  # While a job runs its row names the process and another session cannot take GoodJob's
  # advisory lock on it (a GoodJob worker would skip it); afterwards both are released.
  def test_a_running_job_holds_goodjobs_advisory_lock
    poller = started_poller(poll_interval: 1)
    job = GateJob.perform_later("held")
    assert wait_for(30) { JOURNAL.started?("held") }, diagnostics
    key = "good_jobs-#{job.job_id}"

    refute lock_free?(key), "another session cannot take the running job's advisory lock"
    row = job_row(job)
    assert_equal poller.process_id, row["locked_by_id"]
    refute_nil row["locked_at"]
    assert_equal 2, row["lock_type"].to_i, "hybrid: row lock and advisory lock"
    refute_nil row["performed_at"]
    assert_nil row["finished_at"]

    JOURNAL.open("held")
    wait_finished(job)
    assert lock_free?(key), "the advisory lock is released once the job finished"
    row = job_row(job)
    assert_nil row["locked_by_id"]
    assert_nil row["locked_at"]
    assert_nil row["lock_type"]
  end

  # A running job shows as running the way GoodJob's dashboard reads it (performed_at and
  # locked_by_id set, lock type hybrid); its attempt's execution row is written whole when it
  # ends (good_cron writes it once, not at start and again at the end).
  def test_a_running_job_is_marked_on_its_row_and_its_attempt_recorded_at_the_end
    poller = started_poller(poll_interval: 1)
    job = GateJob.perform_later("open")
    assert wait_for(30) { JOURNAL.started?("open") }, diagnostics

    running = job_row(job)
    refute_nil running["performed_at"]
    assert_equal poller.process_id, running["locked_by_id"]
    assert_equal "2", running["lock_type"]
    assert_empty execution_rows(job)

    JOURNAL.open("open")
    wait_finished(job)
    finished = execution_rows(job)
    assert_equal 1, finished.size
    assert_equal poller.process_id, finished.first["process_id"]
    refute_nil finished.first["finished_at"]
    assert_equal job_row(job)["performed_at"], finished.first["created_at"]
  end

  # A job whose advisory lock another session holds (a GoodJob worker running it) is skipped
  # though it comes first, and runs once the lock is released.
  def test_a_job_locked_by_another_session_waits_for_the_lock
    held = EchoJob.set(priority: -10).perform_later("held")
    other = EchoJob.perform_later("other")
    worker = session
    key = "good_jobs-#{held.job_id}"
    assert_equal "t", worker.exec_params("SELECT pg_try_advisory_lock(#{LOCK_KEY})", [key]).getvalue(0, 0)

    started_poller(poll_interval: 1)
    wait_finished(other)
    assert_equal ["other"], JOURNAL.names
    assert_not_started(held)

    worker.exec_params("SELECT pg_advisory_unlock(#{LOCK_KEY})", [key])
    wait_finished(held)
    assert_equal %w[other held], JOURNAL.names
  end

  # --- the process row and shutdown --------------------------------------------------------

  # A good_job_processes row (lock_type 0, its advisory lock held) while the poller runs;
  # deleted, and the lock released, by shutdown.
  def test_the_process_row_lives_as_long_as_the_poller
    poller = started_poller(poll_interval: 1)
    assert poller.running?
    id = poller.process_id
    assert_match UUID, id
    assert_equal [{ "id" => id, "lock_type" => "0" }], process_rows
    refute lock_free?("good_job_processes-#{id}"), "GoodJob sees the process alive by its advisory lock"

    assert_equal true, poller.shutdown(timeout: 10)
    refute poller.running?
    assert_empty process_rows
    assert lock_free?("good_job_processes-#{id}")
  end

  # The heartbeat (GoodJob's 30 s, 1 s here) refreshes the row, and writes it again if another
  # process removed it (a GoodJob cleanup that judged it dead, say); the state says what the
  # dashboard shows of a process.
  def test_the_heartbeat_refreshes_the_process_row_and_restores_it
    poller = started_poller(max_threads: 2, queues: "a,b", poll_interval: 1, heartbeat_interval: 1)
    id = poller.process_id
    state = JSON.parse(process_state(id))
    assert_equal [Process.pid, "a,b", 2], [state["pid"], state.dig("schedulers", 0, "queues"), state.dig("schedulers", 0, "max_threads")]
    database.with_connection { |conn| conn.exec_params("DELETE FROM good_job_processes WHERE id = $1", [id]) }

    assert wait_for(15) { process_rows.any? { |row| row["id"] == id } }, "the heartbeat writes the row again\n#{diagnostics}"
    assert_equal [{ "id" => id, "lock_type" => "0" }], process_rows
  end

  def test_start_without_goodjobs_tables_raises_schema_error
    TestDatabase.admin do |conn|
      conn.exec("DROP DATABASE IF EXISTS #{FRESH_DATABASE} WITH (FORCE)")
      conn.exec("CREATE DATABASE #{FRESH_DATABASE}")
    end
    poller = poller(database_url: TestDatabase.url_for(FRESH_DATABASE))

    assert_raises(GoodCron::SchemaError) { poller.start }
    refute poller.running?
  ensure
    TestDatabase.admin { |conn| conn.exec("DROP DATABASE IF EXISTS #{FRESH_DATABASE} WITH (FORCE)") }
  end

  # shutdown(-1) waits for the running job (true: it finished) and leaves the job it had not
  # started unlocked for another process.
  def test_shutdown_waits_for_running_jobs
    poller = started_poller(max_threads: 1, poll_interval: 1)
    running = GateJob.perform_later("running")
    assert wait_for(30) { JOURNAL.started?("running") }, diagnostics
    waiting = EchoJob.perform_later("waiting")

    stopper = Thread.new { poller.shutdown(timeout: -1) }
    assert wait_for(10) { stopper.stop? }, "shutdown is waiting"
    JOURNAL.open("running")
    assert_equal true, stopper.value, "every running job finished"

    refute poller.running?
    assert_equal ["running"], JOURNAL.names
    row = job_row(running)
    refute_nil row["finished_at"]
    assert_nil row["error"]
    assert_nil row["locked_by_id"]
    assert_not_started(waiting)
    assert_empty process_rows
  end

  # shutdown(timeout) kills a job that outlives the timeout (false) and releases it: lock
  # columns cleared, the interrupted attempt recorded (error_event 0, naming the process);
  # the next poller runs it again.
  def test_shutdown_kills_a_job_past_the_timeout_and_releases_it
    first = started_poller(max_threads: 1, poll_interval: 1)
    first_id = first.process_id
    job = GateJob.perform_later("stuck")
    assert wait_for(30) { JOURNAL.started?("stuck") }, diagnostics

    assert_equal false, first.shutdown(timeout: 0.5), "a job was killed"
    refute first.running?
    assert_empty JOURNAL.names, "the killed job did not finish"
    row = job_row(job)
    assert_nil row["locked_by_id"]
    assert_nil row["locked_at"]
    assert_nil row["lock_type"]
    assert_nil row["performed_at"], "the interruption is recorded already: the next run does not record it again"
    assert_nil row["finished_at"]
    interrupted = execution_rows(job)
    assert_equal [[0, first_id]], interrupted.map { |e| [e["error_event"].to_i, e["process_id"]] }
    assert lock_free?("good_jobs-#{job.job_id}")
    assert_empty process_rows

    JOURNAL.open("stuck")
    second = started_poller(poll_interval: 1)
    second_id = second.process_id
    wait_finished(job)

    assert_equal ["stuck"], JOURNAL.names
    row = job_row(job)
    assert_equal 2, row["executions_count"].to_i
    assert_nil row["error"]
    assert_nil row["error_event"]
    executions = execution_rows(job)
    assert_equal [0, nil], executions.map { |e| e["error_event"]&.to_i }
    refute_nil executions.first["finished_at"], "the interrupted attempt is closed"
    assert_match(/Interrupt/, executions.first["error"].to_s)
    assert_nil executions.last["error"]
    assert_equal [first_id, second_id], executions.map { |e| e["process_id"] }, "each attempt names the process that ran it"
  end

  private

  def process_state(id)
    database.with_connection { |conn| conn.exec_params("SELECT state FROM good_job_processes WHERE id = $1", [id]).getvalue(0, 0) }
  end

  # The job ran once, at or after its scheduled_at, by the database's clock and by this
  # process's (within the microsecond the column rounds to).
  def assert_scheduled_run(job)
    row = job_row(job)
    assert_equal "t", row["on_time"], "performed_at #{row["performed_at"]} is not before scheduled_at #{row["scheduled_at"]}"
    runs = JOURNAL.entries
    assert_equal ["later"], runs.map(&:name)
    assert_operator runs.first.at, :>=, row["scheduled_epoch"] - 0.001, "the job started before its time"
  end

end
