# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/test_logger"
require_relative "support/cron_processes"
require_relative "support/recording_adapter"
require "active_job"
require "json"

# Issue 4 against a real PostgreSQL: entries that need Ruby at enqueue time (each Proc form,
# enqueue callbacks), run-now and pause from one process as other processes see them,
# concurrent toggles, ActiveSupport::Notifications events, and GoodCron.entries.
#
# Ledger-path jobs go to MemoryAdapter (below), which records every enqueue with its arguments,
# so each test asserts on the jobs produced; the ledger (good_cron_claims) tells which instant
# each job was for (its job_id).
class SchedulerDynamicTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper

  # An ActiveJob adapter that is not GoodJob's: it keeps each enqueue, with the cron key and
  # instant GoodJob's adapter would read when a GoodJob::CurrentThread is defined.
  class MemoryAdapter
    Record = Struct.new(:job_class, :job_id, :arguments, :serialized_arguments, :queue_name, :priority,
                        :scheduled_at, :enqueued_at, :cron_key, :cron_at, keyword_init: true)

    def initialize
      @records = []
      @lock = Mutex.new
    end

    def enqueue(job)
      record(job, nil)
    end

    def enqueue_at(job, timestamp)
      record(job, timestamp)
    end

    def records(job_class = nil)
      @lock.synchronize { @records.dup }.select { |r| job_class.nil? || r.job_class == job_class }
    end

    private

    def record(job, timestamp)
      current = defined?(::GoodJob::CurrentThread) ? ::GoodJob::CurrentThread : nil
      record = Record.new(job_class: job.class, job_id: job.job_id, arguments: job.arguments,
                          serialized_arguments: JSON.parse(JSON.generate(job.serialize["arguments"])),
                          queue_name: job.queue_name, priority: job.priority, scheduled_at: timestamp,
                          enqueued_at: Time.now.to_f, cron_key: current&.cron_key, cron_at: current&.cron_at)
      @lock.synchronize { @records << record }
      job
    end
  end

  class TickJob < ActiveJob::Base
    def perform(*, **); end
  end

  class ArgsJob < TickJob; end
  class KwargsJob < TickJob; end
  class SetJob < TickJob; end
  class ProcJob < TickJob; end
  class HandJob < TickJob; end
  # Enqueued through RecordingAdapter (PostgreSQL), as the scheduler processes' RaceJob is.
  class RecordedJob < TickJob; end

  # Every job whose enqueue callbacks ran: [job_id, arguments, cron_key, cron_at], the last two
  # as GoodJob's adapter would see them.
  class CallbackJob < TickJob
    SEEN = Queue.new

    around_enqueue do |job, block|
      current = defined?(::GoodJob::CurrentThread) ? ::GoodJob::CurrentThread : nil
      SEEN << [job.job_id, job.arguments, current&.cron_key, current&.cron_at]
      block.call
    end
  end

  JOBS = [TickJob, ArgsJob, KwargsJob, SetJob, ProcJob, HandJob, CallbackJob, RecordedJob].freeze

  def setup
    database.truncate
    @schedulers = []
    @adapter = MemoryAdapter.new
    @previous_adapters = JOBS.to_h { |job| [job, job.queue_adapter] }
    JOBS.each { |job| job.queue_adapter = @adapter }
    @previous_logger = ActiveJob::Base.logger
    ActiveJob::Base.logger = Logger.new(nil)
    @previous_scheduler = GoodCron.scheduler
    @logger = TestLogger.new
    CallbackJob::SEEN.clear
  end

  def teardown
    @schedulers.each { |scheduler| scheduler.shutdown(timeout: 5) }
    @previous_adapters.each { |job, adapter| job.queue_adapter = adapter }
    ActiveJob::Base.logger = @previous_logger
    GoodCron.scheduler = @previous_scheduler
  end

  # --- helpers -----------------------------------------------------------------------------

  def scheduler(cron, enqueue: :active_job, **options)
    GoodCron::Scheduler.new(cron, database_url: database.url, enqueue: enqueue, logger: @logger, **options)
                       .tap { |s| @schedulers << s }
  end

  def every_second(job = TickJob, **options)
    { cron: "every second", class: job }.merge(options)
  end

  # Sleeps until the Unix time +at+ (not at all when it has passed).
  def sleep_until(at)
    remaining = at - Time.now.to_f
    sleep(remaining) if remaining.positive?
  end

  def stop_all
    sleep_until_fraction
    @schedulers.each { |scheduler| assert scheduler.shutdown(timeout: 5) }
  end

  # The ledger rows of +key+, oldest instant first; cron_at as Unix seconds.
  def ledger(key)
    database.with_connection do |conn|
      conn.exec_params(<<~SQL, [key]).to_a
        SELECT cron_key, extract(epoch FROM cron_at)::bigint AS at, job_id, error, takeovers,
               enqueued_at IS NOT NULL AS enqueued, failed_at IS NOT NULL AS failed,
               extract(epoch FROM claimed_at)::float8 AS claimed_at
        FROM good_cron_claims WHERE cron_key = $1 ORDER BY cron_at
      SQL
    end.map { |row| row.merge("at" => row["at"].to_i, "enqueued" => row["enqueued"] == "t", "failed" => row["failed"] == "t") }
  end

  def enqueued_runs(key)
    ledger(key).select { |row| row["enqueued"] }
  end

  # good_jobs rows of +key+: [[cron_at as Unix seconds or nil, id], …], scheduled ones first.
  def good_jobs(key)
    database.with_connection do |conn|
      conn.exec_params("SELECT extract(epoch FROM cron_at)::bigint AS at, id FROM good_jobs WHERE cron_key = $1 " \
                       "ORDER BY cron_at NULLS LAST, created_at", [key]).map { |row| [row["at"]&.to_i, row["id"]] }
    end
  end

  def assert_consecutive(ats, what)
    refute_empty ats, "#{what}: runs"
    assert_equal (ats.first..ats.last).to_a, ats, "#{what}: every instant, each once"
  end


  def settings
    database.with_connection do |conn|
      conn.exec("SELECT key, value FROM good_job_settings").to_h { |row| [row["key"], JSON.parse(row["value"])] }
    end
  end

  # A finished TickJob row in good_jobs for +key+'s run at +at+: a direct entry's last run.
  def seed_good_job(conn, key, at)
    conn.exec_params(<<~SQL, [key, at.strftime("%F %T")])
      INSERT INTO good_jobs (id, active_job_id, cron_key, cron_at, queue_name, job_class, serialized_params,
                             scheduled_at, created_at, updated_at, finished_at)
      VALUES (gen_random_uuid(), gen_random_uuid(), $1, $2, 'default', 'SchedulerDynamicTest::TickJob',
              '{}'::jsonb, now(), now(), now(), now())
    SQL
  end

  # An enqueued claim in good_cron_claims for +key+'s run at +at+: a ledger entry's last run.
  def seed_claim(conn, key, at)
    conn.exec_params(<<~SQL, [key, at.strftime("%F %T")])
      INSERT INTO good_cron_claims (cron_key, cron_at, claimed_by, claimed_at, enqueued_at)
      VALUES ($1, $2, gen_random_uuid(), now(), now())
    SQL
  end

  # Collects the good_cron events published during the block: [[name, payload], …].
  def collecting_events
    events = []
    lock = Mutex.new
    subscriber = ActiveSupport::Notifications.subscribe(/\.good_cron\z/) do |name, _start, _finish, _id, payload|
      lock.synchronize { events << [name, payload] }
    end
    yield(-> { lock.synchronize { events.dup } })
  ensure
    ActiveSupport::Notifications.unsubscribe(subscriber) if subscriber
  end

  # Defines a stand-in for GoodJob (its Adapter class and its CurrentThread, through which its
  # adapter reads the cron key and instant of what it enqueues) for the block only: the test
  # files share one process. The stand-in adapter records into +recorder+.
  def with_good_job_stand_in(recorder)
    skip "GoodJob is loaded in this process" if defined?(::GoodJob)
    good_job = Module.new
    Object.const_set(:GoodJob, good_job)
    current = Module.new
    current.define_singleton_method(:cron_key) { Thread.current[:good_cron_test_cron_key] }
    current.define_singleton_method(:cron_key=) { |value| Thread.current[:good_cron_test_cron_key] = value }
    current.define_singleton_method(:cron_at) { Thread.current[:good_cron_test_cron_at] }
    current.define_singleton_method(:cron_at=) { |value| Thread.current[:good_cron_test_cron_at] = value }
    current.define_singleton_method(:within) do |&block|
      saved = [cron_key, cron_at]
      block.call(self)
    ensure
      self.cron_key, self.cron_at = saved
    end
    good_job.const_set(:CurrentThread, current)
    adapter = Class.new do
      define_method(:initialize) { |target| @target = target }
      define_method(:enqueue) { |job| @target.enqueue(job) }
      define_method(:enqueue_at) { |job, at| @target.enqueue_at(job, at) }
    end
    good_job.const_set(:Adapter, adapter)
    yield adapter.new(recorder)
  ensure
    Object.send(:remove_const, :GoodJob) if good_job && Object.const_get(:GoodJob, false).equal?(good_job)
  end

  # --- each Proc form ----------------------------------------------------------------------

  # args, kwargs and set Procs are called once per run, when it is enqueued, and what they
  # return is what ActiveJob enqueues.
  def test_args_kwargs_and_set_procs_are_called_at_each_enqueue
    args_calls = kwargs_calls = set_calls = 0
    scheduler({
                args_proc: every_second(ArgsJob, args: -> { [args_calls += 1, "x"] }),
                kwargs_proc: every_second(KwargsJob, args: ["fixed"], kwargs: -> { { count: kwargs_calls += 1, tag: :t } }),
                set_proc: every_second(SetJob, set: lambda {
                  set_calls += 1
                  { queue: "q#{set_calls}", priority: set_calls, wait: 30 }
                }),
              }).start
    assert wait_for(5) { %w[args_proc kwargs_proc set_proc].all? { |key| enqueued_runs(key).size >= 2 } }
    stop_all

    args_jobs = @adapter.records(ArgsJob)
    assert_equal enqueued_runs("args_proc").map { |r| r["job_id"] }, args_jobs.map(&:job_id), "one job per run"
    assert_consecutive enqueued_runs("args_proc").map { |r| r["at"] }, "args_proc"
    assert_equal (1..args_jobs.size).map { |n| [n, "x"] }, args_jobs.map(&:arguments), "the Proc is called at each enqueue"
    assert_equal args_jobs.size, args_calls, "and only then"

    kwargs_jobs = @adapter.records(KwargsJob)
    assert_equal enqueued_runs("kwargs_proc").map { |r| r["job_id"] }, kwargs_jobs.map(&:job_id)
    assert_equal (1..kwargs_jobs.size).map { |n| ["fixed", { count: n, tag: :t }] }, kwargs_jobs.map(&:arguments)
    kwargs_jobs.each do |job|
      assert_equal %w[count tag], job.serialized_arguments.last.fetch("_aj_ruby2_keywords").sort, "passed as keywords"
    end

    set_jobs = @adapter.records(SetJob)
    assert_equal enqueued_runs("set_proc").map { |r| r["job_id"] }, set_jobs.map(&:job_id)
    assert_equal (1..set_jobs.size).map { |n| "q#{n}" }, set_jobs.map(&:queue_name)
    assert_equal (1..set_jobs.size).to_a, set_jobs.map(&:priority)
    set_jobs.each do |job|
      assert_in_delta job.enqueued_at + 30, job.scheduled_at, 1, "wait: 30 from the Proc schedules it 30 s later"
    end
    assert_empty @logger.at(:error)
  end

  # class Procs: a Proc returning a class (or a class name) has that class enqueued; a Proc
  # that enqueues a job itself and returns nil gets exactly that job, nothing more.
  def test_class_procs
    scheduler({
                class_returns: every_second(-> { ProcJob }, args: [1]),
                class_name: every_second(-> { "SchedulerDynamicTest::ProcJob" }, args: [2]),
                class_itself: every_second(lambda {
                  HandJob.perform_later("by hand")
                  nil
                }),
              }).start
    collecting_events do |events|
      assert wait_for(5) { %w[class_returns class_name class_itself].all? { |key| enqueued_runs(key).size >= 2 } }
      stop_all

      by_args = @adapter.records(ProcJob).group_by(&:arguments)
      assert_equal enqueued_runs("class_returns").map { |r| r["job_id"] }, by_args.fetch([1]).map(&:job_id)
      assert_equal enqueued_runs("class_name").map { |r| r["job_id"] }, by_args.fetch([2]).map(&:job_id)
      assert_equal [[1], [2]], by_args.keys.sort

      runs = enqueued_runs("class_itself")
      hand_jobs = @adapter.records(HandJob)
      assert_equal runs.size, hand_jobs.size, "exactly the job the Proc enqueued, once per run"
      assert(hand_jobs.all? { |job| job.arguments == ["by hand"] })
      assert(runs.all? { |run| run["job_id"].nil? && run["error"].nil? }, "the run is done, with no job id of good_cron's")
      assert_equal @adapter.records.size, @adapter.records(ProcJob).size + hand_jobs.size, "nothing else was enqueued"
      claimed = events.call.select { |name, p| name == "claimed.good_cron" && p[:key] == "class_itself" }
      assert_equal runs.size, claimed.size
      assert(claimed.all? { |_, payload| payload[:job_id].nil? })
    end
    assert_empty @logger.at(:error)
  end

  # enabled_by_default as a Proc: false → nothing runs until the key is in GoodJob's
  # cron_keys_enabled; true → runs until the key is in cron_keys_disabled.
  def test_enabled_by_default_procs_follow_goodjobs_settings
    default_calls = 0
    switched = nil
    scheduler({
                maybe_off: every_second(args: ["off"], enabled_by_default: -> { (default_calls += 1) && false }),
                maybe_on: every_second(args: ["on"], enabled_by_default: -> { true }),
              }).start
    collecting_events do |events|
      assert wait_for(5) { @adapter.records.count { |r| r.arguments == ["on"] } >= 2 }
      assert_empty @adapter.records.select { |r| r.arguments == ["off"] }, "a false default: nothing is enqueued"
      assert_operator default_calls, :>=, 2, "the Proc is asked at each run"
      skipped = events.call.select { |name, p| name == "skipped_disabled.good_cron" && p[:key] == "maybe_off" }
      refute_empty skipped
      skipped.each { |_, payload| assert_kind_of Time, payload[:cron_at] }

      database.set_setting("cron_keys_enabled", ["maybe_off"])
      database.set_setting("cron_keys_disabled", ["maybe_on"])
      switched = Time.now.to_f
      assert wait_for(5) { @adapter.records.count { |r| r.arguments == ["off"] } >= 2 }, "enabled by GoodJob's setting"
      sleep 1
      stop_all
    end
    on_after = enqueued_runs("maybe_on").select { |r| r["at"] >= switched + 1 }
    assert_empty on_after, "maybe_on stops once it is in cron_keys_disabled"
    off_runs = enqueued_runs("maybe_off").map { |r| r["at"] }
    assert(off_runs.all? { |at| at >= switched }, "maybe_off ran only after it was enabled")
    assert_consecutive off_runs, "maybe_off"
    assert_equal enqueued_runs("maybe_off").map { |r| r["job_id"] },
                 @adapter.records.select { |r| r.arguments == ["off"] }.map(&:job_id)
  end

  # cron as a callable: called with the last run (from the database on the first call), it
  # returns a Time, a schedule string, or nil (no further runs, no exception).
  def test_cron_procs_receive_the_last_run_and_return_a_time_a_schedule_or_nil
    seeded_job = Time.utc(2020, 1, 1, 0, 0, 0)
    seeded_ledger = Time.utc(2021, 6, 1, 12, 0, 0)
    database.with_connection do |conn|
      %w[by_time backwards].each { |key| seed_good_job(conn, key, seeded_job) }
      seed_claim(conn, "by_string", seeded_ledger)
    end
    received = Hash.new { |h, k| h[k] = [] }
    lock = Mutex.new
    track = ->(key, last) { lock.synchronize { (received[key] << last).size } }
    scheduler({
                by_time: every_second(args: ["time"], cron: ->(last) { track.call("by_time", last) <= 3 ? Time.at(Time.now.to_i + 1) : nil }),
                by_string: every_second(args: ["string"], cron: ->(last) { track.call("by_string", last) <= 3 ? "every second" : nil }),
                never: every_second(args: ["never"], cron: ->(last) { track.call("never", last) && nil }),
                backwards: every_second(args: ["backwards"], cron: ->(last) { track.call("backwards", last) && last }),
              }).start
    assert wait_for(8) { lock.synchronize { received["by_time"].size >= 4 && received["by_string"].size >= 4 } }
    sleep 1.5 # nothing more may come
    stop_all

    assert_equal seeded_job, received["by_time"].first, "the first call gets the last run in good_jobs"
    assert_equal seeded_ledger, received["by_string"].first, "or in the ledger"
    %w[by_time by_string].each do |key|
      runs = enqueued_runs(key).reject { |r| r["at"] == seeded_ledger.to_i }
      assert_equal 3, runs.size, "#{key}: three instants, then nil: no further runs"
      assert_consecutive runs.map { |r| r["at"] }, key
      assert_equal 4, received[key].size, "#{key}: asked once at start and once per run"
      assert_equal runs.map { |r| Time.at(r["at"]) }, received[key].drop(1), "#{key}: each later call gets the run just made"
      assert_equal runs.map { |r| r["job_id"] }, @adapter.records.select { |r| r.arguments == [key.delete_prefix("by_")] }.map(&:job_id)
    end
    assert_equal [nil], received["never"], "never ran: the first call gets nil"
    assert_equal [seeded_job], received["backwards"], "a time that is not after the last run counts as nil"
    assert_empty ledger("never") + ledger("backwards")
    assert_empty @logger.at(:error), "nil is no error"
  end

  # Counts the calls of NativeScheduler.entry_states (each opens a runtime and a connection of
  # its own) made while +calls+ is set, calling through to the real one.
  module CountedEntryStates
    class << self
      attr_accessor :calls
    end

    def entry_states(*args)
      CountedEntryStates.calls&.push(args.first(2))
      super
    end
  end
  GoodCron::NativeScheduler.singleton_class.prepend(CountedEntryStates)

  # The engine hands Ruby what it has read itself: a cron Proc's last run (in its first Next
  # event) and GoodJob's settings (in each Enqueue event). No run opens a connection of its own,
  # and an enabled_by_default Proc is asked only where the settings do not decide.
  def test_proc_entries_open_no_connection_of_their_own
    seeded = Time.utc(2020, 1, 1, 0, 0, 0)
    database.with_connection { |conn| seed_good_job(conn, "by_proc", seeded) }
    database.set_setting("cron_keys_disabled", ["listed_off"])
    database.set_setting("cron_keys_enabled", ["listed_on"])
    firsts = Queue.new
    asked = Hash.new(0)
    lock = Mutex.new
    default = ->(key, value) { -> { lock.synchronize { asked[key] += 1 } && value } }
    CountedEntryStates.calls = []
    scheduler({
                by_proc: every_second(args: ["by_proc"], cron: ->(last) { (firsts << last) && Time.at(Time.now.to_i + 1) }),
                listed_off: every_second(args: ["listed_off"], enabled_by_default: default.call("listed_off", true)),
                listed_on: every_second(args: ["listed_on"], enabled_by_default: default.call("listed_on", false)),
                unlisted: every_second(args: ["unlisted"], enabled_by_default: default.call("unlisted", true)),
                static_off: every_second(args: ["static_off"], enabled_by_default: false),
              }).start
    assert wait_for(8) { %w[by_proc listed_on unlisted].all? { |key| enqueued_runs(key).size >= 2 } }
    stop_all

    assert_empty CountedEntryStates.calls, "no entry_states call: neither for the last run nor per run"
    assert_equal seeded, firsts.pop, "the first call of the cron Proc gets the last run in good_jobs"
    assert_empty @adapter.records.select { |r| %w[listed_off static_off].include?(r.arguments.first) }
    lock.synchronize do
      assert_equal 0, asked["listed_off"], "cron_keys_disabled decides: the Proc is not asked"
      assert_equal 0, asked["listed_on"], "cron_keys_enabled decides: the Proc is not asked"
      assert_operator asked["unlisted"], :>=, 2, "listed nowhere: the Proc is asked at each run"
    end
    assert_empty @logger.at(:error)
  ensure
    CountedEntryStates.calls = nil
  end

  # A Proc may return a time with a fraction of a second (Time.now + 0.5): runs are whole
  # seconds, so it runs at the next whole second, once, and the Proc is asked once per run
  # (not again and again for an instant this process has claimed already).
  def test_a_cron_proc_returning_half_a_second_later_runs_once_a_second
    calls = 0
    collecting_events do |events|
      scheduler({ half: every_second(cron: ->(_last) { (calls += 1) && Time.now + 0.5 }) }).start
      sleep 2.5
      stop_all
      runs = enqueued_runs("half").map { |r| r["at"] }
      assert_consecutive runs, "half"
      assert_operator calls, :<=, runs.size + 2, "the Proc is asked once per run"
      assert_equal [], events.call.map(&:first).grep(/skipped_duplicate/).tally.to_a, "no claim of an instant it has"
    end
  end

  # A job class with around_enqueue: every cron enqueue goes through ActiveJob so the callback
  # sees it; :auto puts it on the ledger path even on GoodJob's adapter (where a plain job
  # stays on the direct path), and GoodJob's adapter is given the cron key and instant.
  def test_around_enqueue_sees_every_cron_enqueue
    with_good_job_stand_in(@adapter) do |good_job_adapter|
      [CallbackJob, TickJob].each { |job| job.queue_adapter = good_job_adapter }
      cron = { hooked: every_second(CallbackJob, args: [7]), plain: every_second(TickJob, args: [8]) }
      assert_equal({ "hooked" => :active_job, "plain" => :good_jobs },
                   GoodCron::CronEntry.all_from(cron).to_h { |e| [e.key, e.to_native[:enqueue]] })
      scheduler = scheduler(cron, enqueue: :auto)
      scheduler.start
      assert wait_for(5) { enqueued_runs("hooked").size >= 3 }
      manual = scheduler.enqueue_now(:hooked)
      stop_all

      seen = Array.new(CallbackJob::SEEN.size) { CallbackJob::SEEN.pop }
      runs = enqueued_runs("hooked")
      scheduled = seen.reject { |job_id, *| job_id == manual }
      assert_equal runs.map { |r| r["job_id"] }, scheduled.map(&:first), "the callback saw every cron enqueue"
      assert(scheduled.all? { |_, args, key, _| args == [7] && key == "hooked" })
      assert_equal runs.map { |r| Time.at(r["at"]) }, scheduled.map(&:last), "GoodJob's adapter gets each instant"
      assert_equal [[manual, [7], "hooked", nil]], seen.select { |job_id, *| job_id == manual }, "and the manual run, with no instant"
      assert_equal seen.map(&:first).sort, @adapter.records(CallbackJob).map(&:job_id).sort
      assert_empty @adapter.records(TickJob), "the plain job is inserted by the engine, not through the adapter"
      refute_empty good_jobs("plain").select(&:first)
      assert_empty ledger("plain")
    end
  end

  # --- run now and pause, across processes -------------------------------------------------

  # A scheduler process on the direct path and one on the ledger path (test/support/
  # cron_process.rb, RecordingAdapter) run every second; this process disables, enqueues now
  # and enables. Each process sees the change at its next instant.
  def test_disable_enable_and_enqueue_now_from_this_process_are_seen_by_scheduler_processes
    database.with_connection { |conn| RecordingAdapter.reset_table(conn) }
    log_offset = File.size(ENV.fetch("GOOD_CRON_PG_LOG"))
    recording = RecordingAdapter.new(database.url)
    RecordedJob.queue_adapter = recording
    start_at = Time.now.to_i + 3
    until_at = start_at + 9
    children = [
      CronProcesses::Child.new(database.url, entries: 1, key_prefix: "direct", start_at: start_at, until: until_at + 0.5),
      CronProcesses::Child.new(database.url, entries: 1, key_prefix: "ruby", enqueue: "active_job", adapter: "recording",
                                             start_at: start_at, until: until_at + 0.5),
    ]
    direct_here = scheduler({ direct_1: every_second(TickJob, args: [1]) }, enqueue: :good_jobs)
    ruby_here = scheduler({ ruby_1: every_second(RecordedJob, args: [1], kwargs: { cron_key: "ruby_1" }) })
    manual = { "direct_1" => [], "ruby_1" => [] }
    run_now = lambda do
      GoodCron.scheduler = direct_here
      manual["direct_1"] << GoodCron.enqueue_now(:direct_1)
      GoodCron.scheduler = ruby_here
      manual["ruby_1"] << GoodCron.enqueue_now("ruby_1")
    end

    collecting_events do |events|
      sleep_until(start_at + 2.5)
      off_from = Time.now.to_f
      GoodCron.scheduler = direct_here
      GoodCron.disable(:direct_1)
      GoodCron.scheduler = ruby_here
      GoodCron.disable(:ruby_1)
      off_until = Time.now.to_f
      sleep 0.5
      run_now.call # while disabled: a manual run ignores enable/disable, as GoodJob's does
      sleep_until(start_at + 5.5)
      on_from = Time.now.to_f
      direct_here.enable("direct_1")
      ruby_here.enable(:ruby_1)
      on_until = Time.now.to_f
      sleep_until_fraction(0.0) # a manual run at the very second of a scheduled one
      run_now.call
      reports = children.map(&:finish)
      reports.each { |report| assert report["status"].success?, report["stderr"] }

      direct_rows = good_jobs("direct_1")
      ruby_runs = database.with_connection do |conn|
        conn.exec(<<~SQL).map { |row| [row["at"]&.to_i, row["job_id"]] }
          SELECT extract(epoch FROM c.cron_at)::bigint AS at, r.job_id FROM recorded_enqueues r
          LEFT JOIN good_cron_claims c ON c.job_id = r.job_id WHERE r.cron_key = 'ruby_1' ORDER BY c.cron_at NULLS LAST
        SQL
      end
      { "direct_1" => direct_rows, "ruby_1" => ruby_runs }.each do |key, rows|
        scheduled = rows.filter_map(&:first)
        assert_equal scheduled.uniq, scheduled, "#{key}: each instant once"
        assert_empty (start_at + 1..off_from.floor).to_a - scheduled, "#{key}: ran until disabled"
        assert_empty scheduled.select { |at| at >= off_until + 1 && at < on_from }, "#{key}: stopped within a second"
        assert_empty (on_until.floor + 1..until_at).to_a - scheduled, "#{key}: resumed within a second of enable"
        assert_equal manual[key].sort, rows.reject(&:first).map(&:last).sort, "#{key}: the manual runs, with no instant"
      end
      assert(manual.values.flatten.all? { |id| id.is_a?(String) && !id.empty? })
      now_events = events.call.select { |name, _| name == "enqueued_now.good_cron" }.map { |_, p| [p[:key], p[:job_id]] }
      assert_equal manual.flat_map { |key, ids| ids.map { |id| [key, id] } }.sort, now_events.sort
    end
    assert_equal 0, CronProcesses.duplicate_key_lines(ENV.fetch("GOOD_CRON_PG_LOG"), log_offset, database: database.name)
    assert_equal [], settings.fetch("cron_keys_disabled")
    assert_equal %w[direct_1 ruby_1], settings.fetch("cron_keys_enabled").sort
  ensure
    recording&.close
  end

  TOGGLER = <<~RUBY
    require "good_cron"
    require "json"
    url, index, at = ARGV[0], Integer(ARGV[1]), Float(ARGV[2])
    keys = %w[alpha beta]
    sleep(at - Time.now.to_f) if at > Time.now.to_f
    errors = Queue.new
    4.times.map do |thread|
      Thread.new do
        50.times do |call|
          GoodCron::NativeScheduler.set_enabled(url, keys[call % 2], (call / 2 + index + thread).even?)
        rescue StandardError => e
          errors << "\#{e.class}: \#{e.message}"
        end
      end
    end.each(&:join)
    puts JSON.generate(errors: Array.new(errors.size) { errors.pop })
  RUBY

  # Enable and disable are single atomic statements: 4 processes (4 threads each) toggling the
  # same keys 50 times leave every key in exactly one of GoodJob's two arrays, each array free
  # of duplicates, and no toggle fails.
  def test_concurrent_toggles_from_several_processes_leave_the_settings_consistent
    at = Time.now.to_f + 1.5
    children = Array.new(4) do |index|
      reader, writer = IO.pipe
      pid = Process.spawn(RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-e", TOGGLER,
                          database.url, index.to_s, at.to_s, out: writer)
      writer.close
      [pid, reader]
    end
    results = children.map do |pid, reader|
      output = reader.read
      reader.close
      _, status = Process.wait2(pid)
      assert status.success?, output
      JSON.parse(output.lines.last)
    end
    assert_equal [], results.flat_map { |r| r["errors"] }.uniq, "no toggle fails"
    state = settings
    state.each { |key, keys| assert_equal keys.uniq, keys, "#{key} has a key twice: #{keys.inspect}" }
    %w[alpha beta].each do |key|
      holders = state.select { |_, keys| keys.include?(key) }.keys
      assert_equal 1, holders.size, "#{key} is in exactly one of the arrays: #{state.inspect}"
    end
  end

  # --- notifications -----------------------------------------------------------------------

  def assert_run_payload(payload, key, job_id: :absent)
    assert_equal key, payload[:key]
    assert_kind_of Time, payload[:cron_at]
    assert_equal payload[:cron_at].to_i, payload[:cron_at].to_f, "cron_at is a whole second"
    assert_kind_of Float, payload[:lateness]
    assert_operator payload[:lateness], :>=, 0
    case job_id
    when :absent then assert_nil payload[:job_id]
    when :uuid then assert_match(/\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/, payload[:job_id])
    end
  end

  # Two schedulers per path in one process, each pair racing for the same instants: one wins
  # (claimed), the other emits skipped_duplicate; disabled entries emit skipped_disabled from
  # both; a ledger-path entry whose args Proc raises emits failed (logged) and that run is
  # retried and enqueued; the next runs happen too.
  def test_claimed_skipped_duplicate_skipped_disabled_and_failed_events
    fail_calls = 0
    ruby_cron = {
      ruby_dup: every_second(args: ["dup"]),
      ruby_off: every_second(args: ["off"], enabled_by_default: false),
      ruby_fail: every_second(args: -> { (fail_calls += 1) == 2 ? raise("boom") : ["fail", fail_calls] }),
    }
    direct_cron = { direct_dup: every_second(args: [3]), direct_off: every_second(args: [4], enabled_by_default: false) }
    collecting_events do |events|
      sleep_until_fraction # both of a pair start within the same second, so both see every instant
      2.times { scheduler(ruby_cron).start }
      2.times { scheduler(direct_cron, enqueue: :good_jobs).start }
      assert wait_for(6) { enqueued_runs("ruby_fail").size >= 2 && enqueued_runs("ruby_dup").size >= 3 }
      stop_all
      by_name = events.call.group_by(&:first).transform_values { |list| list.map(&:last) }
      of = ->(name, key) { by_name.fetch("#{name}.good_cron", []).select { |p| p[:key] == key } }

      # claimed and skipped_duplicate: one of each per instant, on both paths.
      runs = enqueued_runs("ruby_dup")
      claimed = of.call("claimed", "ruby_dup").sort_by { |p| p[:cron_at] }
      assert_equal runs.map { |r| [Time.at(r["at"]), r["job_id"]] }, claimed.map { |p| [p[:cron_at], p[:job_id]] }
      claimed.each do |p|
        assert_run_payload(p, "ruby_dup", job_id: :uuid)
        assert_equal :active_job, p[:enqueue]
      end
      assert_equal claimed.map { |p| p[:cron_at] }, of.call("skipped_duplicate", "ruby_dup").map { |p| p[:cron_at] }.sort
      of.call("skipped_duplicate", "ruby_dup").each { |p| assert_run_payload(p, "ruby_dup") }

      rows = good_jobs("direct_dup")
      claimed = of.call("claimed", "direct_dup").sort_by { |p| p[:cron_at] }
      assert_equal rows.map { |at, id| [Time.at(at), id] }, claimed.map { |p| [p[:cron_at], p[:job_id]] }
      claimed.each do |p|
        assert_run_payload(p, "direct_dup", job_id: :uuid)
        assert_equal :good_jobs, p[:enqueue]
      end
      assert_equal claimed.map { |p| p[:cron_at] }, of.call("skipped_duplicate", "direct_dup").map { |p| p[:cron_at] }.sort
      claimed.each { |p| assert_operator p[:lateness], :<, 1, "claimed on time" }

      # skipped_disabled: from each scheduler, at each instant.
      %w[ruby_off direct_off].each do |key|
        skipped = of.call("skipped_disabled", key)
        refute_empty skipped, key
        skipped.each { |p| assert_run_payload(p, key) }
        assert_equal 2, skipped.group_by { |p| p[:cron_at] }.values.map(&:size).max, "#{key}: both schedulers skip it"
        assert_empty of.call("claimed", key)
      end
      assert_empty ledger("ruby_off") + good_jobs("direct_off")

      # failed: the event and the log line; the run is retried and enqueued, not dropped.
      failed = of.call("failed", "ruby_fail")
      assert_equal 1, failed.size, by_name.keys.inspect
      assert_run_payload(failed.first, "ruby_fail")
      assert_equal "RuntimeError: boom", failed.first[:error]
      assert(@logger.at(:error).any? { |line| line.include?("ruby_fail") && line.include?("RuntimeError: boom") && line.include?("retrying") },
             @logger.at(:error).inspect)
      rows = ledger("ruby_fail")
      assert(rows.none? { |r| r["failed"] }, "no run ends failed")
      retried = rows.find { |r| r["at"] == failed.first[:cron_at].to_i }
      assert retried["enqueued"], "the run whose enqueue raised is enqueued by a retry"
      refute_empty rows.select { |r| r["at"] > retried["at"] }, "later runs still happen"
      fail_jobs = @adapter.records.select { |r| r.arguments.first == "fail" }
      assert_equal rows.select { |r| r["enqueued"] }.map { |r| r["job_id"] }, fail_jobs.map(&:job_id)
      assert_equal [1, 3], fail_jobs.map { |r| r.arguments.last }.first(2), "the second call raised; its retry made the third"
    end
  end

  # A start with graceful_restart_period claims the instants it missed: caught_up events,
  # late by as much as they were missed, on both paths; then claimed events again.
  def test_caught_up_events_after_a_start_with_missed_instants
    collecting_events do |events|
      started = Time.now.to_f
      scheduler({ ruby_late: every_second(args: [1]) }, graceful_restart_period: 4).start
      scheduler({ direct_late: every_second(args: [2]) }, enqueue: :good_jobs, graceful_restart_period: 4).start
      assert wait_for(4) { enqueued_runs("ruby_late").count { |r| r["at"] > started + 1 } >= 1 }
      stop_all
      by_name = events.call.group_by(&:first).transform_values { |list| list.map(&:last) }
      { "ruby_late" => enqueued_runs("ruby_late").map { |r| [r["at"], r["job_id"]] },
        "direct_late" => good_jobs("direct_late") }.each do |key, rows|
        caught_up = by_name.fetch("caught_up.good_cron").select { |p| p[:key] == key }.sort_by { |p| p[:cron_at] }
        assert_operator caught_up.size, :>=, 3, "#{key}: the missed instants"
        caught_up.each do |payload|
          assert_run_payload(payload, key, job_id: :uuid)
          assert_operator payload[:cron_at].to_f, :<=, started + 1
          assert_operator payload[:cron_at].to_f, :>=, started - 5
          assert_in_delta started - payload[:cron_at].to_f, payload[:lateness], 1.0, "#{key}: lateness at the catch-up"
        end
        assert_operator caught_up.first[:lateness], :>, 2, "#{key}: the oldest is late by what was missed"
        claimed = by_name.fetch("claimed.good_cron").select { |p| p[:key] == key }
        refute_empty claimed, "#{key}: then runs on time"
        assert_empty caught_up.map { |p| p[:cron_at] } & claimed.map { |p| p[:cron_at] }
        assert_equal rows.map { |at, id| [Time.at(at), id] }.sort,
                     (caught_up + claimed).map { |p| [p[:cron_at], p[:job_id]] }.sort, "#{key}: one event per run"
      end
    end
  end

  # An app's subscriber that raises must not cost a run: the job of a ledger-path run that was
  # enqueued is recorded as enqueued (not failed), and the event thread goes on delivering
  # (here a direct entry's claimed event comes first at each instant).
  def test_a_raising_subscriber_breaks_no_run
    with_good_job_stand_in(@adapter) do |good_job_adapter|
      [CallbackJob, TickJob].each { |job| job.queue_adapter = good_job_adapter }
      subscriber = ActiveSupport::Notifications.subscribe(/\.good_cron\z/) { raise "a subscriber's bug" }
      begin
        sleep_until_fraction
        scheduler({ plain: every_second(TickJob, args: [1]), hooked: every_second(CallbackJob, args: [2]) }, enqueue: :auto).start
        sleep 3
        stop_all
      ensure
        ActiveSupport::Notifications.unsubscribe(subscriber)
      end
      plain = good_jobs("plain").map(&:first)
      assert_consecutive plain, "plain"
      runs = ledger("hooked")
      assert_equal plain, runs.map { |r| r["at"] }, "hooked: claimed at the same instants"
      assert_equal [], runs.reject { |r| r["enqueued"] }.map { |r| [r["at"], r["error"]] }, "hooked: every run recorded as enqueued"
      assert_equal runs.map { |r| r["job_id"] }, @adapter.records(CallbackJob).map(&:job_id), "hooked: each run enqueued once"
    end
  end

  # --- GoodCron.entries --------------------------------------------------------------------

  def test_goodcron_entries_give_schedule_next_and_last_run_and_enabled_state
    last_static = Time.utc(2024, 3, 4, 5, 6, 0)
    last_dynamic = Time.utc(2024, 3, 4, 7, 0, 0)
    database.with_connection do |conn|
      seed_good_job(conn, "static", last_static)
      seed_claim(conn, "dynamic", last_dynamic)
    end
    asked = []
    scheduler = scheduler({
                            static: { cron: "every minute", class: TickJob },
                            dynamic: { cron: ->(last) { (asked << last) && last + 3600 }, class: TickJob },
                            flagged: { cron: "0 9 * * * UTC", class: TickJob, enabled_by_default: -> { false } },
                          })
    GoodCron.scheduler = nil
    assert_raises(GoodCron::Error) { GoodCron.entries }
    GoodCron.scheduler = scheduler

    entries = GoodCron.entries.to_h { |entry| [entry.key, entry] }
    assert_equal %w[static dynamic flagged], entries.keys
    static = entries["static"]
    assert_equal GoodCron::Schedule.parse("every minute"), static.schedule
    assert_equal static.schedule.next_at, static.next_at
    assert_equal last_static, static.last_at
    assert static.enabled?

    dynamic = entries["dynamic"]
    assert_nil dynamic.schedule, "a Proc schedule"
    assert_equal last_dynamic, dynamic.last_at, "from the ledger"
    assert_equal last_dynamic + 3600, dynamic.next_at, "what the Proc returns for the last run"
    assert_equal [last_dynamic], asked
    assert dynamic.enabled?

    flagged = entries["flagged"]
    assert_nil flagged.last_at
    refute flagged.enabled?, "a Proc default of false"
    assert_equal 9, flagged.next_at.utc.hour

    GoodCron.disable(:static)
    GoodCron.enable(:flagged)
    entries = GoodCron.entries.to_h { |entry| [entry.key, entry] }
    refute entries["static"].enabled?
    assert entries["flagged"].enabled?, "in cron_keys_enabled"
    assert_equal({ "cron_keys_disabled" => ["static"], "cron_keys_enabled" => ["flagged"] }, settings)
    assert_raises(ArgumentError) { GoodCron.disable(:nonexistent) }
  end
end
