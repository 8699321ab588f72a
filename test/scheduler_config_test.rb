# frozen_string_literal: true

require_relative "test_helper"
require "active_job"
require "good_cron/adapter" # lib/good_cron.rb loads it only when ActiveJob came first
require "json"

# GoodJob's cron hash as good_cron reads it: every kind of bad input is reported by a
# GoodCron::ConfigurationError whose message names the entry and what is wrong with it (all
# problems at once), and a valid hash becomes exactly the plain data the engine is given:
# `{ key:, cron:, enqueue:, enabled_by_default:, job: }`, where `job` (the row of the direct
# path, with the job serialized by ActiveJob itself) is there only for `enqueue: :good_jobs`.
# Procs are accepted in every dynamic option and put the entry on the ledger path.
# No database is needed.
class SchedulerConfigTest < Minitest::Test
  # A job with a queue and a priority of its own.
  class ReportJob < ActiveJob::Base
    queue_as :reports
    queue_with_priority 7

    def perform(*, **); end
  end

  # A job that takes what ActiveJob is given.
  class PlainJob < ActiveJob::Base
    def perform(*, **); end
  end

  # A job whose enqueue callbacks must run: only ActiveJob's perform_later runs them.
  class CallbackJob < ActiveJob::Base
    around_enqueue { |_job, block| block.call }

    def perform(*); end
  end

  # Not a job at all.
  class NotAJob
    def perform; end
  end

  # An argument ActiveJob has no serializer for (and that is no Proc).
  Point = Struct.new(:x, :y)

  PLAIN = "SchedulerConfigTest::PlainJob"
  EVERY_MINUTE = "* * * * *"

  def valid(**options)
    { cron: EVERY_MINUTE, class: PLAIN }.merge(options)
  end

  # The ConfigurationError that reading +cron_hash+ raises.
  def problems_of(cron_hash, enqueue: :auto)
    error = assert_raises(GoodCron::ConfigurationError) { GoodCron::CronEntry.all_from(cron_hash, enqueue: enqueue) }
    assert_kind_of GoodCron::Error, error
    assert_kind_of StandardError, error
    assert_kind_of Array, error.problems
    error.problems.each { |problem| assert_includes error.message, problem, "the message lists every problem" }
    error
  end

  # Exactly one problem, about +key+, mentioning each of +fragments+ (Strings or Regexps),
  # in #problems and in the message.
  def assert_one_problem(cron_hash, key, *fragments, enqueue: :auto)
    error = problems_of(cron_hash, enqueue: enqueue)
    assert_equal 1, error.problems.size, error.message
    problem = error.problems.first
    assert problem.start_with?("#{key}: "), "the problem names the entry #{key.inspect}: #{problem.inspect}"
    fragments.each do |fragment|
      if fragment.is_a?(Regexp)
        assert_match fragment, problem
      else
        assert_includes problem, fragment
      end
    end
    assert_includes error.message, problem
    assert_match(/1 problem in the cron configuration/, error.message)
    problem
  end

  # The Scheduler reads the same hash the same way, before it touches any database.
  def test_the_scheduler_raises_the_configuration_error_before_touching_the_database
    error = assert_raises(GoodCron::ConfigurationError) do
      GoodCron::Scheduler.new({ nightly: valid(class: "NoSuchJob") }, database_url: "postgres://127.0.0.1:1/none")
    end
    assert_equal ['nightly: class "NoSuchJob" cannot be found'], error.problems
  end

  # --- entries -----------------------------------------------------------------------------

  def test_unknown_option_keys_are_named_with_the_known_ones
    problem = assert_one_problem({ nightly: valid(queue: "q") }, "nightly", "unknown option :queue", "known: :cron, :class")
    assert_includes problem, ":set"

    assert_one_problem({ "nightly" => valid("every" => 1, "klass" => "X") }, "nightly", "unknown options :every, :klass")
  end

  def test_missing_cron
    assert_one_problem({ nightly: { class: PLAIN } }, "nightly", "missing :cron")
    assert_one_problem({ "nightly" => { "class" => PLAIN, "cron" => nil } }, "nightly", "missing :cron")
  end

  def test_missing_class
    assert_one_problem({ nightly: { cron: EVERY_MINUTE } }, "nightly", "missing :class")
  end

  def test_a_bad_schedule_carries_the_invalid_schedule_message
    %w[nonsense 61\ *\ *\ *\ * every\ fortnight\ or\ so].each do |cron|
      invalid = assert_raises(GoodCron::InvalidSchedule) { GoodCron::Schedule.parse(cron) }
      problem = assert_one_problem({ nightly: valid(cron: cron) }, "nightly", cron.inspect)
      assert_includes problem, invalid.message, "the InvalidSchedule message is included"
    end
    assert_one_problem({ nightly: valid(cron: 5) }, "nightly", ":cron must be a String (in a valid encoding) or a Proc, got 5")
  end

  def test_a_class_that_cannot_be_found
    assert_one_problem({ nightly: valid(class: "NoSuchJob") }, "nightly", 'class "NoSuchJob" cannot be found')
    assert_one_problem({ nightly: valid(class: "no such job") }, "nightly", 'class "no such job" cannot be found')
  end

  def test_a_class_that_is_not_an_active_job
    assert_one_problem({ nightly: valid(class: "SchedulerConfigTest::NotAJob") }, "nightly",
                       '"SchedulerConfigTest::NotAJob" is not an ActiveJob job')
    assert_one_problem({ nightly: valid(class: "Kernel") }, "nightly", '"Kernel" is not an ActiveJob job')
    assert_one_problem({ nightly: valid(class: String) }, "nightly", "String is not an ActiveJob job")
  end

  def test_arguments_active_job_cannot_serialize
    assert_one_problem({ nightly: valid(args: [1, Object.new]) }, "nightly",
                       "cannot be serialized by ActiveJob", "Unsupported argument type: Object")
    assert_one_problem({ nightly: valid(kwargs: { at: Point.new(1, 2) }) }, "nightly",
                       "cannot be serialized by ActiveJob", "Unsupported argument type: SchedulerConfigTest::Point")
    assert_one_problem({ nightly: valid(args: [{ nested: [Point.new(1, 2)] }]) }, "nightly",
                       "Unsupported argument type: SchedulerConfigTest::Point")
  end

  def test_args_and_kwargs_of_the_wrong_shape
    assert_one_problem({ nightly: valid(args: { a: 1 }) }, "nightly", ":args must be an Array, got a Hash", "kwargs:")
    assert_one_problem({ nightly: valid(kwargs: [1]) }, "nightly", ":kwargs must be a Hash, got [1]")
  end

  def test_duplicate_keys_as_string_and_symbol
    error = problems_of({ "nightly" => valid, nightly: valid })
    assert_equal 1, error.problems.size, error.message
    assert_includes error.problems.first, "duplicate key"
    assert_includes error.problems.first, '"nightly"'
    assert_includes error.problems.first, ":nightly"

    error = problems_of({ nightly: valid, "hourly" => valid, "nightly" => valid, hourly: valid })
    assert_equal 2, error.problems.size
    assert error.problems.any? { |p| p.include?("duplicate key") && p.include?(":nightly") && p.include?('"nightly"') }
    assert error.problems.any? { |p| p.include?("duplicate key") && p.include?(":hourly") && p.include?('"hourly"') }
  end

  def test_an_entry_that_is_not_a_hash
    assert_one_problem({ nightly: "every minute" }, "nightly", "must be a Hash", 'got "every minute"')
    assert_one_problem({ nightly: nil }, "nightly", "must be a Hash", "got nil")
    assert_one_problem({ nightly: [EVERY_MINUTE, PLAIN] }, "nightly", "must be a Hash", "got [")
  end

  def test_a_cron_configuration_that_is_not_a_hash
    [[valid], "nightly", nil, 42].each do |config|
      error = problems_of(config)
      assert_equal 1, error.problems.size
      assert_includes error.problems.first, "the cron configuration must be a Hash of entries"
      assert_includes error.problems.first, "got #{config.inspect}"
    end
  end

  def test_bad_set_options_and_values
    assert_one_problem({ nightly: valid(set: { queue: "q", urgency: 1 }) }, "nightly",
                       ":set has unknown option :urgency", "known: :queue, :priority, :wait, :wait_until")
    assert_one_problem({ nightly: valid(set: { priority: "high" }) }, "nightly", ":set priority must be an integer from", 'got "high"')
    assert_one_problem({ nightly: valid(set: { priority: 1.5 }) }, "nightly", ":set priority must be an integer from", "got 1.5")
    assert_one_problem({ nightly: valid(set: { wait: "soon" }) }, "nightly", ":set wait must be a number", 'got "soon"')
    assert_one_problem({ nightly: valid(set: { wait_until: "tomorrow" }) }, "nightly", ":set wait_until must be a time",
                       'got "tomorrow"')
    assert_one_problem({ nightly: valid(set: "q") }, "nightly", ":set must be a Hash", 'got "q"')

    # Every bad set option of an entry is reported (since Procs came, in one problem of the
    # entry, joined by "; ", as the same check runs on a set Proc's result at enqueue time).
    error = problems_of({ nightly: valid(set: { "urgency" => 1, "priority" => "high", "wait" => "soon" }) })
    error.problems.each { |problem| assert problem.start_with?("nightly: :set ") }
    reported = error.problems.join("\n")
    [":set has unknown option :urgency", ":set priority must be an integer", ":set wait must be a number"].each do |fragment|
      assert_includes reported, fragment, "every bad set option of an entry is reported"
    end
  end

  def test_enabled_by_default_must_be_a_boolean
    assert_one_problem({ nightly: valid(enabled_by_default: "yes") }, "nightly", ":enabled_by_default must be true or false",
                       'got "yes"')
    assert_one_problem({ nightly: valid(enabled_by_default: 0) }, "nightly", ":enabled_by_default", "got 0")
    assert_one_problem({ nightly: valid(enabled_by_default: nil) }, "nightly", ":enabled_by_default", "got nil")
  end

  # --- Procs ------------------------------------------------------------------------------

  DYNAMIC = %i[args kwargs set class cron enabled_by_default].freeze

  # A Proc in any option GoodJob allows one is accepted, is not called at boot, and puts the
  # entry on the ledger path: the engine gets no row template, only the key (and no schedule or
  # default when a Proc decides those).
  def test_a_proc_in_any_dynamic_option_is_accepted_and_takes_the_active_job_path
    DYNAMIC.each do |option|
      [-> { 1 }, proc { 1 }, ->(_last) { 1 }].each do |callable|
        calls = 0
        counted = proc { |*| (calls += 1) && callable.call }
        %i[auto active_job].each do |enqueue|
          entries = GoodCron::CronEntry.all_from({ nightly: valid(option => counted) }, enqueue: enqueue)
          assert_equal 1, entries.size
          native = entries.first.to_native
          assert_equal %i[key cron enqueue enabled_by_default job], native.keys
          assert_equal "nightly", native[:key]
          assert_equal :active_job, native[:enqueue], "a #{option} Proc under #{enqueue.inspect}"
          assert_nil native[:job], "no row template for a ledger-path entry"
          if option == :cron
            assert_nil native[:cron], "a Proc picks each next run"
          else
            assert_equal EVERY_MINUTE, native[:cron]
          end
          if option == :enabled_by_default
            assert_nil native[:enabled_by_default], "a Proc decides at enqueue time"
          else
            assert_equal true, native[:enabled_by_default]
          end
          assert_nil entries.first.schedule if option == :cron
          assert_nil entries.first.job_class if option == :class
        end
        assert_equal 0, calls, "a #{option} Proc is not called at boot"
      end
    end
    # String keys too (GOOD_JOB_CRON is JSON, but an initializer may use strings).
    entry, = GoodCron::CronEntry.all_from({ "nightly" => { "cron" => EVERY_MINUTE, "class" => PLAIN, "args" => -> { [1] } } })
    assert_equal :active_job, entry.to_native[:enqueue]
  end

  # The direct path cannot call Ruby at enqueue time: asking for it with a Proc is an error
  # that says why and what to use instead, reported with the entry's key like any other.
  def test_a_proc_with_enqueue_good_jobs_is_a_configuration_error_saying_it_needs_ruby_at_enqueue_time
    DYNAMIC.each do |option|
      problem = assert_one_problem({ nightly: valid(option => -> { 1 }) }, "nightly",
                                   "needs Ruby at enqueue time", ":#{option} is a Proc", "enqueue: :good_jobs",
                                   ":auto or :active_job", enqueue: :good_jobs)
      refute_match(/cannot be found|must be|unknown option/, problem)
    end
    assert_one_problem({ nightly: valid(cron: ->(_last) {}) }, "nightly", "needs Ruby at enqueue time", ":cron is a Proc",
                       enqueue: :good_jobs)
    # Several Procs are named together; other entries' problems are reported alongside.
    error = problems_of({ nightly: valid(args: -> { [] }, set: -> { {} }), missing: { class: PLAIN } }, enqueue: :good_jobs)
    assert_equal 2, error.problems.size, error.message
    assert(error.problems.any? { |p| p.start_with?("nightly: ") && p.include?(":args is a Proc, :set is a Proc") })
    assert(error.problems.any? { |p| p.start_with?("missing: ") && p.include?("missing :cron") })
  end

  # A Proc replaces only its own option's check; the others are still checked at boot.
  def test_a_proc_skips_the_boot_check_of_its_own_option_only
    assert_one_problem({ nightly: valid(class: -> { PlainJob }, cron: "every blue moon") }, "nightly", "every blue moon")
    assert_one_problem({ nightly: valid(cron: ->(_last) {}, class: "NoSuchJob") }, "nightly", 'class "NoSuchJob" cannot be found')
    assert_one_problem({ nightly: valid(args: -> { {} }, kwargs: [1]) }, "nightly", ":kwargs must be a Hash")
    assert_one_problem({ nightly: valid(set: -> { { urgency: 1 } }, enabled_by_default: "no") }, "nightly",
                       ":enabled_by_default must be true or false (or a Proc)")
    # What a Proc returns is checked when it is called (at enqueue time), not at boot.
    entry, = GoodCron::CronEntry.all_from({ nightly: valid(args: -> { { not: "an array" } }) })
    assert_equal :active_job, entry.to_native[:enqueue]
  end

  def test_a_job_class_with_enqueue_callbacks_takes_the_active_job_path
    entry, = GoodCron::CronEntry.all_from({ hook: valid(class: "SchedulerConfigTest::CallbackJob") })
    assert_equal :active_job, entry.to_native[:enqueue]
    assert_nil entry.to_native[:job]
    assert_one_problem({ hook: valid(class: "SchedulerConfigTest::CallbackJob") }, "hook", "needs Ruby at enqueue time",
                       "SchedulerConfigTest::CallbackJob has enqueue callbacks", enqueue: :good_jobs)
    # ActiveJob's own (logging) callbacks do not count.
    entry, = GoodCron::CronEntry.all_from({ plain: valid }, enqueue: :good_jobs)
    assert_equal :good_jobs, entry.to_native[:enqueue]
  end

  def test_enqueue_must_be_one_of_the_three_modes
    error = problems_of({ nightly: valid }, enqueue: :sidekiq)
    assert_equal 1, error.problems.size
    assert_includes error.problems.first, "enqueue must be one of :auto, :good_jobs, :active_job, got :sidekiq"
    # As text too (config.good_cron.enqueue = ENV["…"]), checked the same way.
    assert GoodCron::Scheduler.new({ nightly: valid }, database_url: "postgres://127.0.0.1:1/none", enqueue: "active_job")
    assert_raises(GoodCron::ConfigurationError) do
      GoodCron::Scheduler.new({ nightly: valid }, database_url: "postgres://127.0.0.1:1/none", enqueue: "sidekiq")
    end
  end

  # :auto picks the direct path only for GoodJob's adapter and entries that need no Ruby. A
  # stand-in GoodJob::Adapter is defined for this test only (the test files share a process).
  def test_auto_picks_good_jobs_only_for_goodjobs_adapter_and_entries_that_need_no_ruby
    entry, = GoodCron::CronEntry.all_from({ plain: valid })
    assert_equal :active_job, entry.to_native[:enqueue], "without GoodJob's adapter"

    with_good_job_adapter(PlainJob) do
      entries = GoodCron::CronEntry.all_from({
                                               plain: valid,
                                               dynamic: valid(args: -> { [1] }),
                                               hook: valid(class: "SchedulerConfigTest::CallbackJob"),
                                               report: valid(class: "SchedulerConfigTest::ReportJob"),
                                             })
      assert_equal({ "plain" => :good_jobs, "dynamic" => :active_job, "hook" => :active_job, "report" => :active_job },
                   entries.to_h { |e| [e.key, e.to_native[:enqueue]] }, "ReportJob keeps its own (non-GoodJob) adapter")
      assert_equal PLAIN, entries.first.to_native.dig(:job, :job_class)
      entry, = GoodCron::CronEntry.all_from({ plain: valid }, enqueue: :active_job)
      assert_equal :active_job, entry.to_native[:enqueue], ":active_job is honoured on GoodJob's adapter too"
    end
  ensure
    refute defined?(::GoodJob), "the stand-in GoodJob is removed"
  end

  # good_cron's own adapter writes GoodJob's table too: :auto keeps the direct path with it.
  def test_auto_picks_good_jobs_on_good_crons_adapter
    previous = PlainJob.queue_adapter
    PlainJob.queue_adapter = :good_cron
    assert_kind_of GoodCron::Adapter, PlainJob.queue_adapter
    entry, = GoodCron::CronEntry.all_from({ plain: valid })
    assert_equal :good_jobs, entry.to_native[:enqueue]
  ensure
    PlainJob.queue_adapter = previous
  end

  # Defines a minimal ::GoodJob::Adapter and puts +job_class+ on it for the block.
  def with_good_job_adapter(job_class)
    skip "GoodJob is loaded in this process" if defined?(::GoodJob)
    good_job = Module.new
    Object.const_set(:GoodJob, good_job)
    good_job.const_set(:Adapter, Class.new do
      def enqueue(job) = raise("the stand-in GoodJob adapter was called for #{job.class}")
      def enqueue_at(job, _at) = enqueue(job)
    end)
    previous = job_class.queue_adapter
    job_class.queue_adapter = ::GoodJob::Adapter.new
    yield
  ensure
    job_class.queue_adapter = previous if previous
    Object.send(:remove_const, :GoodJob) if good_job && Object.const_get(:GoodJob, false).equal?(good_job)
  end

  def test_several_bad_entries_are_reported_together_each_naming_its_key
    config = {
      good: valid,
      no_cron: { class: PLAIN },
      bad_schedule: valid(cron: "every blue moon"),
      no_such_class: valid(class: "NoSuchJob"),
      "not_a_hash" => 5,
      dynamic: valid(args: -> { [] }, kwargs: [1]),
      bad_set: valid(set: { priority: "high" }),
      also_good: valid(args: [1]),
      also_dynamic: valid(args: -> { [] }),
    }
    error = problems_of(config)
    assert_equal 6, error.problems.size, error.message
    assert_match(/6 problems in the cron configuration/, error.message)
    expected = {
      "no_cron" => "missing :cron", "bad_schedule" => "every blue moon", "no_such_class" => "NoSuchJob",
      "not_a_hash" => "must be a Hash", "dynamic" => ":kwargs must be a Hash", "bad_set" => ":set priority"
    }
    expected.each do |key, fragment|
      problem = error.problems.find { |p| p.start_with?("#{key}: ") }
      assert problem, "#{key} is reported: #{error.message}"
      assert_includes problem, fragment
    end
    refute(error.problems.any? { |p| p.start_with?("good: ", "also_good: ", "also_dynamic: ") })
  end

  def test_the_problems_of_one_entry_are_reported_together
    error = problems_of({ nightly: valid(cron: "every blue moon", class: "NoSuchJob", kwargs: [1], enabled_by_default: "no") })
    assert_equal 4, error.problems.size, error.message
    assert error.problems.all? { |problem| problem.start_with?("nightly: ") }
  end

  # --- valid configurations ----------------------------------------------------------------

  # What ActiveJob itself serializes for +job+, without the per-run fields.
  def active_job_params(job)
    JSON.parse(JSON.generate(job.serialize)).except("job_id", "enqueued_at")
  end

  # The serialized job that the block enqueues through +job_class+, without the per-run fields.
  def enqueued_by_active_job(job_class)
    adapter = ActiveJob::QueueAdapters::TestAdapter.new
    previous = job_class.queue_adapter
    previous_logger = ActiveJob::Base.logger
    job_class.queue_adapter = adapter
    ActiveJob::Base.logger = Logger.new(nil)
    yield
    assert_equal 1, adapter.enqueued_jobs.size
    job = adapter.enqueued_jobs.first.select { |key, _| key.is_a?(String) }
    JSON.parse(JSON.generate(job)).except("job_id", "enqueued_at", "scheduled_at")
  ensure
    job_class.queue_adapter = previous
    ActiveJob::Base.logger = previous_logger
  end

  # The entries of +cron_hash+ on the direct path (the only one with a row template).
  def direct(cron_hash)
    GoodCron::CronEntry.all_from(cron_hash, enqueue: :good_jobs)
  end

  # The engine's row template of a direct entry.
  def job_of(entry)
    native = entry.to_native
    assert_equal :good_jobs, native[:enqueue]
    assert_equal %i[job_class queue_name priority serialized_params wait_seconds wait_until], native[:job].keys
    native[:job]
  end

  def engine_params(entry)
    JSON.parse(job_of(entry).fetch(:serialized_params))
  end

  def test_symbol_keys_scalar_args_and_defaults
    entry, = direct({ nightly: { cron: "every day at 3am", class: PLAIN, args: 42,
                                                       description: "the nightly run" } })
    native = entry.to_native
    job = job_of(entry)
    assert_equal "nightly", native[:key]
    assert_equal "every day at 3am", native[:cron]
    assert_equal PLAIN, job[:job_class]
    assert_equal "default", job[:queue_name]
    assert_equal 0, job[:priority]
    assert_nil job[:wait_seconds]
    assert_nil job[:wait_until]
    assert_equal true, native[:enabled_by_default]
    assert_equal "the nightly run", entry.description
    assert_equal GoodCron::Schedule.parse("every day at 3am"), entry.schedule
    assert_equal SchedulerConfigTest::PlainJob, entry.job_class

    params = engine_params(entry)
    assert_equal active_job_params(PlainJob.new(42)), params.except("job_id", "enqueued_at")
    assert_equal [42], params["arguments"], "a scalar args is one argument"
    assert_match(/\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/, params["job_id"])
    assert_kind_of String, params["enqueued_at"]
  end

  def test_string_keys_kwargs_and_set_queue_priority_wait
    at = Time.utc(2024, 5, 6, 7, 8, 9)
    config = {
      "report" => {
        "cron" => "*/5 * * * *", "class" => "SchedulerConfigTest::ReportJob",
        "args" => ["daily", :sym, at], "kwargs" => { "limit" => 10, "since" => at, "tag" => :x },
        "set" => { "queue" => "critical", "priority" => 5, "wait" => 30 },
        "enabled_by_default" => false,
      },
    }
    entry, = direct(config)
    native = entry.to_native
    job = job_of(entry)
    assert_equal "report", native[:key]
    assert_equal "SchedulerConfigTest::ReportJob", job[:job_class]
    assert_equal "critical", job[:queue_name]
    assert_equal 5, job[:priority]
    assert_equal 30.0, job[:wait_seconds]
    assert_equal false, native[:enabled_by_default]

    # What `set(...).perform_later(...)` enqueues, as ActiveJob's test adapter records it.
    enqueued = enqueued_by_active_job(ReportJob) do
      ReportJob.set(queue: "critical", priority: 5, wait: 30).perform_later("daily", :sym, at, limit: 10, since: at, tag: :x)
    end
    params = engine_params(entry)
    assert_equal enqueued, params.except("job_id", "enqueued_at", "scheduled_at")
    assert_equal "critical", params["queue_name"]
    assert_equal 5, params["priority"]
    # kwargs as ActiveJob serializes keyword arguments (a trailing Hash marked as keywords).
    reference = ReportJob.new("daily", :sym, at, limit: 10, since: at, tag: :x)
    assert_equal JSON.parse(JSON.generate(reference.serialize["arguments"])), params["arguments"]
    assert_equal 4, params["arguments"].size
    assert_equal %w[limit since tag], params["arguments"].last.fetch("_aj_ruby2_keywords").sort
  end

  def test_the_job_class_queue_and_priority_apply_without_set
    entry, = direct({ report: { cron: EVERY_MINUTE, class: SchedulerConfigTest::ReportJob,
                                                      kwargs: { limit: 3 } } })
    native = entry.to_native
    job = job_of(entry)
    assert_equal "reports", job[:queue_name]
    assert_equal 7, job[:priority]
    assert_equal "SchedulerConfigTest::ReportJob", job[:job_class]
    assert_equal active_job_params(ReportJob.new(limit: 3)), engine_params(entry).except("job_id", "enqueued_at")
  end

  def test_set_wait_accepts_a_duration
    entry, = direct({ later: valid(set: { wait: 2.minutes }) })
    assert_equal 120.0, job_of(entry)[:wait_seconds]
    entry, = direct({ later: valid(set: { wait: 1.5 }) })
    assert_equal 1.5, job_of(entry)[:wait_seconds]
  end

  # Whatever passes validation must become plain data: `wait_until` accepts anything with
  # #to_time (a Date, a Time), so the engine must be given that time, in Unix seconds.
  def test_set_wait_until_accepts_what_it_validates
    time = Time.utc(2030, 1, 2, 3, 4, 5)
    entry, = direct({ later: valid(set: { wait_until: time }) })
    assert_equal time.to_f, job_of(entry)[:wait_until]

    date = Date.new(2030, 1, 2)
    entry, = direct({ later: valid(set: { wait_until: date }) })
    assert_equal date.to_time.to_f, job_of(entry)[:wait_until]
  end

  def test_entries_keep_the_order_of_the_hash
    entries = GoodCron::CronEntry.all_from({ b: valid, "a" => valid, c: valid })
    assert_equal %w[b a c], entries.map(&:key)
    assert_equal [], GoodCron::CronEntry.all_from({})
  end
end
