# frozen_string_literal: true

require_relative "test_helper"
require "active_support"
require "active_support/core_ext/integer/time"
require "active_support/ordered_options"
require "active_job"
require "fileutils"
require "json"
require "securerandom"
require "rbconfig"
require "stringio"
require "tmpdir"
require "good_cron/configuration"
require "good_cron/cli"
require_relative "support/waiting"

# Every setting is checked at the boundary, in Ruby, before anything reaches the engine: a bad
# value raises GoodCron::ConfigurationError naming the setting (the CLI exits 1 or 64 with that
# message), never another exception, a panic or a spinning engine thread.
class SettingsValidationTest < Minitest::Test
  include TestDatabase::Helper
  include Waiting

  ROOT = File.expand_path("..", __dir__)

  class SettingsJob < ActiveJob::Base
    def perform(*, **); end
  end

  BAD_UTF8 = (+"caf\xff").force_encoding(Encoding::UTF_8)
  # Values that are no setting's type.
  BAD_TYPES = { "true" => true, "a Symbol" => :soon, "an Array" => [1], "a Proc" => -> { 1 },
                "a Time" => Time.at(1_700_000_000), "an Object" => Object.new }.freeze
  # Numbers no duration can be.
  BAD_NUMBERS = { "NaN" => Float::NAN, "Infinity" => Float::INFINITY, "-Infinity" => -Float::INFINITY,
                  "1e20" => 1e20, "2**70" => 2**70 }.freeze
  BAD_STRINGS = { '"x"' => "x", '""' => "", "invalid UTF-8" => BAD_UTF8 }.freeze
  BAD_PERIODS = BAD_TYPES.merge(BAD_NUMBERS, BAD_STRINGS, "negative" => -5, "1e12" => 1e12)

  ENTRY = { cron: "every minute", class: "SettingsValidationTest::SettingsJob" }.freeze

  Row = Struct.new(:where, :setting, :value, :action, keyword_init: true) do
    def name
      "#{where} #{setting} = #{value}"
    end
  end

  # --- the table -----------------------------------------------------------------------

  def self.rows
    rows = []
    add = ->(where, setting, value, &action) { rows << Row.new(where: where, setting: setting, value: value, action: action) }

    # GoodCron::Scheduler.new's own options.
    %i[graceful_restart_period claim_timeout].each do |option|
      BAD_PERIODS.each do |label, value|
        add.call("Scheduler", option, label) { |t| t.scheduler({ a: ENTRY }, option => value) }
      end
    end
    BAD_TYPES.merge("invalid UTF-8" => BAD_UTF8, "5" => 5).each do |label, value|
      add.call("Scheduler", :database_url, label) { |t| t.scheduler({ a: ENTRY }, database_url: value) }
    end
    { "true" => true, '"x"' => "x", "an Array" => [1] }.each do |label, value|
      add.call("Scheduler", :enqueue, label) { |t| t.scheduler({ a: ENTRY }, enqueue: value) }
    end

    # Its cron hash: keys and entries.
    { "invalid UTF-8" => BAD_UTF8, '""' => "" }.each do |label, key|
      add.call("cron entry", "cron key", label) { |t| t.scheduler({ key => ENTRY }) }
    end
    entry_values = {
      cron: { "true" => true, "5" => 5, "an Array" => ["* * * * *"], "invalid UTF-8" => BAD_UTF8 },
      class: { "true" => true, "5" => 5, "invalid UTF-8" => BAD_UTF8 },
      args: { "[NaN]" => [Float::NAN], "[Infinity]" => [Float::INFINITY], "[invalid UTF-8]" => [BAD_UTF8] },
      kwargs: { "{a: NaN}" => { a: Float::NAN }, "{a: invalid UTF-8}" => { a: BAD_UTF8 } },
      description: { "5" => 5, "true" => true, "invalid UTF-8" => BAD_UTF8 },
      enabled_by_default: { '"x"' => "x", "1" => 1, "nil" => nil },
    }
    entry_values.each do |option, values|
      values.each do |label, value|
        add.call("cron entry", option, label) { |t| t.scheduler({ a: ENTRY.merge(option => value) }) }
      end
    end
    set_values = {
      wait: BAD_TYPES.merge(BAD_NUMBERS, '"x"' => "x", "negative" => -5),
      wait_until: { "true" => true, '"x"' => "x", "5" => 5, "year 40000" => Time.at(1_200_000_000_000),
                    "NaN" => Float::NAN },
      priority: { "true" => true, "1.5" => 1.5, "2**40" => 2**40, '"x"' => "x", "NaN" => Float::NAN },
      queue: { "true" => true, "5" => 5, "an Array" => ["q"], "invalid UTF-8" => BAD_UTF8, '""' => "" },
    }
    set_values.each do |option, values|
      values.each do |label, value|
        add.call("cron entry", option, label) { |t| t.scheduler({ a: ENTRY.merge(set: { option => value }) }) }
      end
    end

    # GoodCron::Poller.new.
    poller_values = {
      queues: { "true" => true, "a Symbol" => :q, "an Array" => ["q"], "invalid UTF-8" => BAD_UTF8,
                "a:2000000" => "a:2000000" },
      max_threads: { "true" => true, "0" => 0, "negative" => -1, "1.5" => 1.5, "NaN" => Float::NAN, '"x"' => "x",
                     '""' => "", "2**70" => 2**70, "a Time" => Time.at(0) },
      poll_interval: BAD_TYPES.merge(BAD_NUMBERS, BAD_STRINGS),
      max_cache: { "true" => true, "negative" => -1, '"x"' => "x", "2**70" => 2**70, "NaN" => Float::NAN,
                   "a Time" => Time.at(0) },
      database_url: { "invalid UTF-8" => BAD_UTF8, "5" => 5 },
      connect_timeout: BAD_TYPES.merge(BAD_NUMBERS, BAD_STRINGS, "0" => 0),
      heartbeat_interval: BAD_TYPES.merge(BAD_NUMBERS, BAD_STRINGS, "0" => 0),
    }
    poller_values.each do |option, values|
      values.each do |label, value|
        add.call("Poller", option, label) { |t| t.poller(option => value) }
      end
    end

    # The adapter's row.
    { "NaN" => Float::NAN, "Infinity" => Float::INFINITY, "-Infinity" => -Float::INFINITY, "1e20" => 1e20,
      "2**70" => 2**70, '"x"' => "x", "true" => true }.each do |label, value|
      add.call("adapter", :scheduled_at, label) { |t| t.adapter_enqueue(scheduled_at: value) }
    end
    { "2**40" => 2**40, "1.5" => 1.5, '"x"' => "x", "true" => true }.each do |label, value|
      add.call("adapter", :priority, label) { |t| t.adapter_enqueue(priority: value) }
    end
    { "invalid UTF-8" => BAD_UTF8, "an Array" => ["q"] }.each do |label, value|
      add.call("adapter", :queue_name, label) { |t| t.adapter_enqueue(queue_name: value) }
    end
    add.call("adapter", :arguments, "[NaN]") { |t| t.adapter_enqueue(arguments: [Float::NAN]) }
    add.call("adapter", :database_url, "invalid UTF-8") { |t| t.adapter_enqueue(database_url: BAD_UTF8) }

    # Configuration: config.good_job values and GOOD_JOB_* variables.
    good_job = {
      max_threads: [:max_threads, { "true" => true, "a Symbol" => :five, "an Array" => [1], "1.5" => 1.5,
                                    "a Time" => Time.at(0), '""' => "" }],
      poll_interval: [:poll_interval, { "NaN" => Float::NAN, "Infinity" => Float::INFINITY, "1e20" => 1e20,
                                        "a Time" => Time.at(0), "true" => true, '"x"' => "x" }],
      cron_graceful_restart_period: [:graceful_restart_period,
                                     { "true" => true, "a Symbol" => :x, "a Time" => Time.at(0), "NaN" => Float::NAN,
                                       "negative" => -1, "1e12" => 1e12, '"x"' => "x" }],
      shutdown_timeout: [:shutdown_timeout, { "NaN" => Float::NAN, "true" => true, "a Time" => Time.at(0) }],
      max_cache: [:max_cache, { "true" => true, "negative" => -1 }],
      cron: [:cron, { "true" => true, '"x"' => "x", "an Array" => [1] }],
      enable_cron: [:enable_cron?, { "an Array" => [1], "an Object" => Object.new, '"x"' => "x" }],
      execution_mode: [:execution_mode, { '"x"' => "x", "5" => 5 }],
      queues: [:queues, { "5" => 5, "invalid UTF-8" => BAD_UTF8 }],
    }
    good_job.each do |key, (reader, values)|
      values.each do |label, value|
        add.call("config.good_job", key, label) { |t| GoodCron::Configuration.new({ cron: { a: ENTRY }, key => value }, {}).public_send(reader) }
      end
    end
    env = {
      "GOOD_JOB_CRON" => [:enable_cron?, %w[true [1] "x" 5] + [BAD_UTF8]],
      "GOOD_JOB_MAX_THREADS" => [:max_threads, ["x", "0", "-1", "1.5", "2e3", "99999999999999999999", BAD_UTF8]],
      "GOOD_JOB_POLL_INTERVAL" => [:poll_interval, ["x", "NaN", "Infinity", "1e20", BAD_UTF8]],
      "GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD" => [:graceful_restart_period, ["x", "-5", "1e12", "NaN", BAD_UTF8]],
      "GOOD_JOB_SHUTDOWN_TIMEOUT" => [:shutdown_timeout, %w[x NaN 1e20]],
      "GOOD_JOB_MAX_CACHE" => [:max_cache, %w[x -1]],
      "GOOD_JOB_QUEUES" => [:queues, [BAD_UTF8]],
      "GOOD_JOB_ENABLE_CRON" => [:enable_cron?, %w[x]],
      "GOOD_JOB_ENABLE_LISTEN_NOTIFY" => [:enable_listen_notify?, %w[x]],
    }
    env.each do |variable, (reader, values)|
      values.each do |value|
        add.call("ENV", variable, value.inspect) do |t|
          GoodCron::Configuration.new({}, { "GOOD_JOB_ENABLE_CRON" => "1", variable => value }).public_send(reader)
        end
      end
    end

    # The CLI (in this process; `start` boots an app, see the child-process tests).
    [["-n", "x"], ["-n", "0"], ["-n", (2**70).to_s], ["--from", BAD_UTF8], ["--from", "@#{2**70}"]].each do |args|
      add.call("CLI explain", args.first, args.last) { |t| t.cli("explain", "every minute", *args) }
    end
    add.call("CLI explain", "argument", "invalid UTF-8") { |t| t.cli("explain", BAD_UTF8) }
    { "cron" => true, "class" => 5, "set" => { "wait" => -5 }, "description" => 5 }.each do |option, value|
      add.call("CLI list", option, value.inspect) { |t| t.cli_list("a" => ENTRY.transform_keys(&:to_s).merge(option => value)) }
    end
    add.call("CLI list", "cron configuration", "[1]") { |t| t.cli_list([1]) }
    rows
  end

  # --- the actions the rows use ------------------------------------------------------

  def scheduler(cron, **options)
    GoodCron::Scheduler.new(cron, database_url: database.url, logger: Logger.new(nil), **options)
  end

  def poller(**options)
    GoodCron::Poller.new(database_url: database.url, logger: Logger.new(nil), **options)
  end

  def adapter_enqueue(scheduled_at: nil, priority: nil, queue_name: "default", arguments: [], database_url: database.url)
    job = SettingsJob.new(*arguments)
    job.priority = priority
    job.queue_name = queue_name
    GoodCron::Adapter.new(database_url: database_url).enqueue_at(job, scheduled_at)
  end

  CliResult = Struct.new(:status, :err)

  def cli(*argv)
    out = StringIO.new
    err = StringIO.new
    status = GoodCron::CLI.new(out: out, err: err, env: { "DATABASE_URL" => database.url }).run(argv)
    CliResult.new(status, err.string)
  end

  def cli_list(cron)
    Dir.mktmpdir("good_cron_settings") do |dir|
      path = File.join(dir, "cron.json")
      File.write(path, JSON.generate(cron))
      cli("list", "--config", path, "--database-url", database.url)
    end
  end

  # --- the tests -----------------------------------------------------------------------

  def test_the_table_has_every_kind_of_bad_value
    rows = self.class.rows
    assert_operator rows.size, :>=, 100
    %w[Scheduler cron\ entry Poller adapter config.good_job ENV CLI\ explain CLI\ list].each do |where|
      assert rows.any? { |row| row.where == where }, where
    end
  end

  # Each bad value raises ConfigurationError naming its setting (the CLI: exit 1 or 64 with
  # that message), in this process, which goes on to the next row.
  def test_every_bad_setting_is_a_configuration_error_naming_it
    failures = self.class.rows.filter_map { |row| check(row) }
    assert failures.empty?, "#{failures.size} of #{self.class.rows.size} rows:\n#{failures.join("\n")}"
  end

  def check(row)
    result = row.action.call(self)
    if result.is_a?(CliResult)
      return "#{row.name}: exit #{result.status}, #{result.err.inspect}" unless [1, 64].include?(result.status)

      mentions?(result.err, row.setting) ? nil : "#{row.name}: the message does not name it: #{result.err.inspect}"
    else
      "#{row.name}: accepted (#{safe_inspect(result)})"
    end
  rescue GoodCron::ConfigurationError => e
    mentions?(e.message, row.setting) ? nil : "#{row.name}: the message does not name it: #{e.message.inspect}"
  rescue Exception => e # rubocop:disable Lint/RescueException -- any other class is the failure reported
    "#{row.name}: #{e.class}: #{safe_inspect(e.message)}"
  end

  def mentions?(message, setting)
    message.valid_encoding? && message.include?(setting.to_s.delete_suffix("?"))
  end

  def safe_inspect(value)
    value.inspect[0, 200]
  rescue StandardError => e
    "(inspect raised #{e.class})"
  end

  def test_the_message_shows_the_value_even_when_it_is_invalid_utf_8
    error = assert_raises(GoodCron::ConfigurationError) { poller(queues: BAD_UTF8) }
    assert error.message.valid_encoding?
    assert_includes error.message, "queues"
    assert_includes error.message, '"caf\xFF"'
  end

  def test_good_edge_values_keep_working
    assert_equal 0.0, scheduler({ a: ENTRY }, graceful_restart_period: 0).graceful_restart_period
    assert_equal 300.0, scheduler({ a: ENTRY }, graceful_restart_period: 5.minutes).graceful_restart_period
    assert scheduler({ a: ENTRY }, claim_timeout: 1.minute, enqueue: :active_job)
    assert scheduler({ a: ENTRY }, enqueue: "active_job")
    assert scheduler({ a: ENTRY.merge(set: { wait: 0, priority: -10, queue: :low }) })
    assert scheduler({ a: ENTRY.merge(set: { wait: 2.hours, wait_until: Time.now + 60 }) })

    poller = poller(queues: "mailers:2;*", max_threads: "5", poll_interval: 0, max_cache: 0)
    assert_equal [5, 0.0, 0], [poller.max_threads, poller.poll_interval, poller.max_cache]
    assert_equal(-1.0, poller(poll_interval: -1).poll_interval, "GoodJob: ≤ 0 turns polling off")
    assert_equal 30.0, poller(poll_interval: 30.seconds).poll_interval

    settings = GoodCron::Configuration.new({}, "GOOD_JOB_MAX_THREADS" => "5", "GOOD_JOB_POLL_INTERVAL" => "0",
                                             "GOOD_JOB_SHUTDOWN_TIMEOUT" => "-1", "GOOD_JOB_MAX_CACHE" => "",
                                             "GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD" => "0.5")
    assert_equal [5, 0.0, -1.0, 10_000, 0.5], [settings.max_threads, settings.poll_interval, settings.shutdown_timeout,
                                               settings.max_cache, settings.graceful_restart_period]
    assert_equal 60.0, GoodCron::Configuration.new(cron_graceful_restart_period: 1.minute).graceful_restart_period
    refute GoodCron::Configuration.new({ cron: { a: ENTRY } }, "GOOD_JOB_ENABLE_CRON" => "off").enable_cron?
    assert GoodCron::Configuration.new({ cron: { a: ENTRY } }, "GOOD_JOB_ENABLE_CRON" => "yes").enable_cron?

    job = SettingsJob.new
    job.priority = -5
    assert_equal job, GoodCron::Adapter.new(database_url: database.url).enqueue_at(job, Time.now.to_f + 60)
  end

  # A :cron Proc's answer reaches the engine as Unix seconds: one no timestamp holds is refused
  # (the scheduler logs it and stops scheduling that entry) instead of becoming 1970.
  def test_a_cron_proc_answering_a_time_out_of_range_is_refused
    entry = GoodCron::CronEntry.new("a", ENTRY.merge(cron: ->(_previous) { Time.at(2**40) }))
    error = assert_raises(GoodCron::ConfigurationError) { entry.next_at_after(nil) }
    assert_includes error.message, ":cron Proc"
    later = Time.now + 60
    assert_equal later.ceil, GoodCron::CronEntry.new("a", ENTRY.merge(cron: ->(_previous) { later })).next_at_after(nil)
  end

  # --- in a child process: values that used to kill the process or spin its engine ----

  # Each script prints the class and message of what it raised, or "ran" when the engine ran
  # and stopped; a panic, an exit or a hang shows as no such line within the timeout.
  CHILD_TIMEOUT = 60

  def run_child(script)
    output, = spawn_bounded({ "DATABASE_URL" => database.url }, RbConfig.ruby, "-I#{ROOT}/lib", "-e", <<~RUBY, err: File::NULL)
      require "logger"
      require "json"
      require "active_job"
      require "good_cron"
      ActiveJob::Base.logger = Logger.new(nil)
      class SettingsJob < ActiveJob::Base
        def perform(*); end
      end
      begin
        #{script}
        puts "ran"
      rescue Exception => e
        puts "\#{e.class}: \#{e.message.lines.join(" ")}"
      end
      $stdout.flush
    RUBY
    output.strip
  end

  # Runs a command for up to CHILD_TIMEOUT seconds; returns its output and exit status (nil
  # when it was killed).
  def spawn_bounded(env, *command, **options)
    reader, writer = IO.pipe
    pid = Process.spawn(env, *command, out: writer, err: writer, **options)
    writer.close
    output = Thread.new { reader.read }
    _, status = wait_for(CHILD_TIMEOUT) { Process.waitpid2(pid, Process::WNOHANG) }
    unless status
      Process.kill("KILL", pid)
      Process.waitpid(pid)
      return ["(killed after #{CHILD_TIMEOUT} s: it hung) #{output.join(5) && output.value}", nil]
    end
    [output.value, status]
  ensure
    reader&.close
  end

  def start_and_stop(scheduler_args)
    <<~RUBY
      scheduler = GoodCron::Scheduler.new(#{scheduler_args}, logger: Logger.new(nil))
      scheduler.start
      sleep 2
      raise "the scheduler died" unless scheduler.running?
      raise "the scheduler did not stop" unless scheduler.shutdown(timeout: 10)
    RUBY
  end

  CHILD_ROWS = {
    "claim_timeout 1e20 on the ledger path" =>
      ["{ a: { cron: 'every second', class: 'SettingsJob' } }, enqueue: :active_job, claim_timeout: 1e20", "claim_timeout"],
    "set wait 2**70" => ["{ a: { cron: 'every second', class: 'SettingsJob', set: { wait: 2**70 } } }", "wait"],
    "graceful_restart_period 1e12" =>
      ["{ a: { cron: 'every second', class: 'SettingsJob' } }, graceful_restart_period: 1e12", "graceful_restart_period"],
    "a Time as graceful_restart_period" =>
      ["{ a: { cron: 'every second', class: 'SettingsJob' } }, graceful_restart_period: Time.now", "graceful_restart_period"],
  }.freeze

  CHILD_ROWS.each do |name, (args, setting)|
    define_method("test_in_a_child_#{name.tr(" *", "__")}_is_a_configuration_error_not_a_crash") do
      result = run_child(start_and_stop(args))
      assert_match(/\AGoodCron::ConfigurationError: .*#{setting}/m, result)
    end
  end

  # The binding and the engine refuse what Ruby would have refused, with an error, not a panic.
  def test_in_a_child_the_binding_refuses_durations_and_times_that_overflow
    base = { database_url: database.url, entries: [] }
    entry = { key: "a", cron: "every second", enqueue: "good_jobs", enabled_by_default: true,
              job: { job_class: "SettingsJob", queue_name: "q", priority: 0, serialized_params: "{}" } }
    {
      JSON.generate(base.merge(claim_timeout: 1e20)) => "claim_timeout",
      JSON.generate(base.merge(graceful_restart_period: 1e300)) => "graceful_restart_period",
      JSON.generate(base.merge(graceful_restart_period: -5)) => "graceful_restart_period",
      JSON.generate(base.merge(entries: [entry.merge(job: entry[:job].merge(wait_seconds: 1e300))])) => "wait_seconds",
      JSON.generate(base.merge(entries: [entry.merge(job: entry[:job].merge(wait_until: 1e300))])) => "wait_until",
    }.each do |config, setting|
      result = run_child("GoodCron::NativeScheduler.start(#{config.inspect}).stop(5)")
      assert_match(/\AArgumentError: .*#{setting}/m, result, config)
    end
    poller = { database_url: database.url, max_threads: 1, max_cache: 10, listen: false, process_state: "{}" }
    result = run_child("GoodCron::NativePoller.start(#{JSON.generate(poller.merge(poll_interval: 1e300)).inspect}).stop(5)")
    assert_match(/\AArgumentError: .*poll_interval/m, result)
    # A timeout the host passes is clamped, NaN included.
    assert_equal "ran", run_child("GoodCron::NativePoller.start(#{JSON.generate(poller).inspect}).stop(Float::NAN)")
  end

  def test_the_binding_refuses_a_time_that_is_not_a_number
    job = { id: SecureRandom.uuid, queue_name: "q", priority: 0, job_class: "SettingsJob", serialized_params: "{}" }
    error = assert_raises(ArgumentError) { GoodCron::NativeEnqueuer::Job.new(**job, scheduled_at: Float::NAN) }
    assert_match(/NaN/, error.message)
    error = assert_raises(GoodCron::Error) { GoodCron::NativeEnqueuer::Job.new(**job, id: "42") }
    assert_match(/"42" is not a UUID/, error.message)
    assert_raises(ArgumentError, "a keyword required") { GoodCron::NativeEnqueuer::Job.new(**job.except(:job_class)) }
    assert_raises(TypeError, "only jobs") { GoodCron::NativeEnqueuer.new(database.url).enqueue([job.values]) }
  end

  def test_in_a_child_good_cron_start_exits_1_naming_a_bad_setting
    Dir.mktmpdir("good_cron_settings") do |dir|
      app = File.join(dir, "app")
      FileUtils.cp_r(File.expand_path("fixtures/rails_app", __dir__), app)
      env = { "DATABASE_URL" => database.url, "FIXTURE_QUEUE_ADAPTER" => "good_cron", "GOOD_CRON_START" => nil }
      [["--max-threads", "x", "max_threads"], ["--poll-interval", "1e20", "poll_interval"],
       ["--shutdown-timeout", "NaN", "shutdown_timeout"], ["--max-cache", "-1", "max_cache"]].each do |option, value, setting|
        out, status = spawn_bounded(env, RbConfig.ruby, "-I#{ROOT}/lib", File.join(ROOT, "exe", "good_cron"),
                                    "start", "--app", app, option, value)
        assert_equal 1, status&.exitstatus, out[-2000..] || out
        assert_match(/#{setting}.*#{Regexp.escape(value.inspect)}/, out)
        refute_includes out, "good_cron started"
      end
    end
  end
end
