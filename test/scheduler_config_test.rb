# frozen_string_literal: true

require_relative "test_helper"
require "active_job"
require "json"

# GoodJob's cron hash as good_cron reads it: every kind of bad input is reported by a
# GoodCron::ConfigurationError whose message names the entry and what is wrong with it (all
# problems at once), and a valid hash becomes exactly the plain data the engine is given,
# with the job serialized by ActiveJob itself. No database is needed.
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
  def problems_of(cron_hash)
    error = assert_raises(GoodCron::ConfigurationError) { GoodCron::CronEntry.all_from(cron_hash) }
    assert_kind_of GoodCron::Error, error
    assert_kind_of StandardError, error
    assert_kind_of Array, error.problems
    error.problems.each { |problem| assert_includes error.message, problem, "the message lists every problem" }
    error
  end

  # Exactly one problem, about +key+, mentioning each of +fragments+ (Strings or Regexps),
  # in #problems and in the message.
  def assert_one_problem(cron_hash, key, *fragments)
    error = problems_of(cron_hash)
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
    assert_one_problem({ nightly: valid(cron: 5) }, "nightly", ":cron must be a String, got 5")
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
    assert_one_problem({ nightly: valid(set: { priority: "high" }) }, "nightly", ":set priority must be an Integer", 'got "high"')
    assert_one_problem({ nightly: valid(set: { priority: 1.5 }) }, "nightly", ":set priority must be an Integer", "got 1.5")
    assert_one_problem({ nightly: valid(set: { wait: "soon" }) }, "nightly", ":set wait must be a number", 'got "soon"')
    assert_one_problem({ nightly: valid(set: { wait_until: "tomorrow" }) }, "nightly", ":set wait_until must be a Time",
                       'got "tomorrow"')
    assert_one_problem({ nightly: valid(set: "q") }, "nightly", ":set must be a Hash", 'got "q"')

    error = problems_of({ nightly: valid(set: { "urgency" => 1, "priority" => "high", "wait" => "soon" }) })
    assert_equal 3, error.problems.size, "every bad set option of an entry is reported"
    error.problems.each { |problem| assert problem.start_with?("nightly: :set ") }
  end

  def test_enabled_by_default_must_be_a_boolean
    assert_one_problem({ nightly: valid(enabled_by_default: "yes") }, "nightly", ":enabled_by_default must be true or false",
                       'got "yes"')
    assert_one_problem({ nightly: valid(enabled_by_default: 0) }, "nightly", ":enabled_by_default", "got 0")
    assert_one_problem({ nightly: valid(enabled_by_default: nil) }, "nightly", ":enabled_by_default", "got nil")
  end

  def test_a_proc_in_any_dynamic_option_is_not_supported_yet
    %i[args kwargs set class cron enabled_by_default].each do |option|
      [-> { 1 }, proc { 1 }].each do |callable|
        problem = assert_one_problem({ nightly: valid(option => callable) }, "nightly",
                                     ":#{option} is a Proc", "not support yet")
        refute_match(/cannot be found|must be|unknown option/, problem, "only the Proc is reported for #{option}")
      end
    end
    # String keys too (GOOD_JOB_CRON is JSON, but an initializer may use strings).
    assert_one_problem({ "nightly" => { "cron" => EVERY_MINUTE, "class" => PLAIN, "args" => -> { [1] } } },
                       "nightly", ":args is a Proc")
  end

  def test_several_bad_entries_are_reported_together_each_naming_its_key
    config = {
      good: valid,
      no_cron: { class: PLAIN },
      bad_schedule: valid(cron: "every blue moon"),
      no_such_class: valid(class: "NoSuchJob"),
      "not_a_hash" => 5,
      dynamic: valid(args: -> { [] }),
      bad_set: valid(set: { priority: "high" }),
      also_good: valid(args: [1]),
    }
    error = problems_of(config)
    assert_equal 6, error.problems.size, error.message
    assert_match(/6 problems in the cron configuration/, error.message)
    expected = {
      "no_cron" => "missing :cron", "bad_schedule" => "every blue moon", "no_such_class" => "NoSuchJob",
      "not_a_hash" => "must be a Hash", "dynamic" => ":args is a Proc", "bad_set" => ":set priority"
    }
    expected.each do |key, fragment|
      problem = error.problems.find { |p| p.start_with?("#{key}: ") }
      assert problem, "#{key} is reported: #{error.message}"
      assert_includes problem, fragment
    end
    refute(error.problems.any? { |p| p.start_with?("good: ", "also_good: ") })
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

  def engine_params(entry)
    JSON.parse(entry.to_native.fetch(:serialized_params))
  end

  def test_symbol_keys_scalar_args_and_defaults
    entry, = GoodCron::CronEntry.all_from({ nightly: { cron: "every day at 3am", class: PLAIN, args: 42,
                                                       description: "the nightly run" } })
    native = entry.to_native
    assert_equal "nightly", native[:key]
    assert_equal "every day at 3am", native[:cron]
    assert_equal PLAIN, native[:job_class]
    assert_equal "default", native[:queue_name]
    assert_equal 0, native[:priority]
    assert_nil native[:wait_seconds]
    assert_nil native[:wait_until]
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
    entry, = GoodCron::CronEntry.all_from(config)
    native = entry.to_native
    assert_equal "report", native[:key]
    assert_equal "SchedulerConfigTest::ReportJob", native[:job_class]
    assert_equal "critical", native[:queue_name]
    assert_equal 5, native[:priority]
    assert_equal 30.0, native[:wait_seconds]
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
    entry, = GoodCron::CronEntry.all_from({ report: { cron: EVERY_MINUTE, class: SchedulerConfigTest::ReportJob,
                                                      kwargs: { limit: 3 } } })
    native = entry.to_native
    assert_equal "reports", native[:queue_name]
    assert_equal 7, native[:priority]
    assert_equal "SchedulerConfigTest::ReportJob", native[:job_class]
    assert_equal active_job_params(ReportJob.new(limit: 3)), engine_params(entry).except("job_id", "enqueued_at")
  end

  def test_set_wait_accepts_a_duration
    entry, = GoodCron::CronEntry.all_from({ later: valid(set: { wait: 2.minutes }) })
    assert_equal 120.0, entry.to_native[:wait_seconds]
    entry, = GoodCron::CronEntry.all_from({ later: valid(set: { wait: 1.5 }) })
    assert_equal 1.5, entry.to_native[:wait_seconds]
  end

  # Whatever passes validation must become plain data: `wait_until` accepts anything with
  # #to_time (a Date, a Time), so the engine must be given that time, in Unix seconds.
  def test_set_wait_until_accepts_what_it_validates
    time = Time.utc(2030, 1, 2, 3, 4, 5)
    entry, = GoodCron::CronEntry.all_from({ later: valid(set: { wait_until: time }) })
    assert_equal time.to_f, entry.to_native[:wait_until]

    date = Date.new(2030, 1, 2)
    entry, = GoodCron::CronEntry.all_from({ later: valid(set: { wait_until: date }) })
    assert_equal date.to_time.to_f, entry.to_native[:wait_until]
  end

  def test_entries_keep_the_order_of_the_hash
    entries = GoodCron::CronEntry.all_from({ b: valid, "a" => valid, c: valid })
    assert_equal %w[b a c], entries.map(&:key)
    assert_equal [], GoodCron::CronEntry.all_from({})
  end
end
