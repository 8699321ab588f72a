# frozen_string_literal: true

require_relative "test_helper"
require "active_support"
require "active_support/ordered_options"
require "active_support/core_ext/integer/time"
require "good_cron/configuration"
require "pg"
require "stringio"

# GoodJob's cron settings as the Railtie reads them, with GoodJob 4.x's precedence
# (config.good_job first, then GOOD_JOB_* variables, joined by `||`), and the PostgreSQL URL
# built from an ActiveRecord configuration. No Rails app and no database needed.
class ConfigurationTest < Minitest::Test
  CRON = { sync: { cron: "every minute", class: "SyncJob" } }.freeze
  ENV_CRON = { "from_env" => { "cron" => "every hour", "class" => "EnvJob", "set" => { "queue" => "q" } } }.freeze

  def config(good_job, env = {})
    GoodCron::Configuration.new(good_job, env)
  end

  def test_enable_cron_from_the_config_needs_entries
    assert config(enable_cron: true, cron: CRON).enable_cron?
    refute config(enable_cron: true, cron: {}).enable_cron?
    refute config(enable_cron: true).enable_cron?
    refute config(cron: CRON).enable_cron?, "GoodJob's default is off"
    refute config(nil).enable_cron?
  end

  def test_enable_cron_from_good_job_enable_cron
    assert config({ cron: CRON }, "GOOD_JOB_ENABLE_CRON" => "true").enable_cron?
    assert config({ cron: CRON }, "GOOD_JOB_ENABLE_CRON" => "1").enable_cron?
    %w[false 0 f off FALSE OFF].each do |value|
      refute config({ cron: CRON }, "GOOD_JOB_ENABLE_CRON" => value).enable_cron?, value
    end
    refute config({ cron: CRON }, "GOOD_JOB_ENABLE_CRON" => "").enable_cron?
  end

  # GoodJob joins the two with `||`: a false in the config falls through to the variable, a
  # true in the config wins over GOOD_JOB_ENABLE_CRON=false.
  def test_enable_cron_precedence_is_good_jobs
    assert config({ enable_cron: false, cron: CRON }, "GOOD_JOB_ENABLE_CRON" => "true").enable_cron?
    assert config({ enable_cron: true, cron: CRON }, "GOOD_JOB_ENABLE_CRON" => "false").enable_cron?
    refute config({ enable_cron: "false", cron: CRON }).enable_cron?
    refute config({ enable_cron: :off, cron: CRON }).enable_cron?
  end

  def test_reads_ordered_options_and_string_keys
    options = ActiveSupport::OrderedOptions.new
    options.enable_cron = true
    options.cron = CRON
    assert config(options).enable_cron?
    assert_equal CRON, config(options).cron
    assert config("enable_cron" => true, "cron" => CRON).enable_cron?
  end

  def test_cron_from_the_config_wins_over_good_job_cron
    env = { "GOOD_JOB_CRON" => JSON.generate(ENV_CRON) }
    assert_equal CRON, config({ cron: CRON }, env).cron
    # GoodJob's engine presets `cron = {}`, which blocks the variable in GoodJob too.
    assert_equal({}, config({ cron: {} }, env).cron)
  end

  def test_cron_from_good_job_cron_has_symbol_keys
    cron = config({ enable_cron: true }, "GOOD_JOB_CRON" => JSON.generate(ENV_CRON))
    assert_equal({ from_env: { cron: "every hour", class: "EnvJob", set: { queue: "q" } } }, cron.cron)
    assert cron.enable_cron?
    assert_equal({}, config({}, "GOOD_JOB_CRON" => "  ").cron)
  end

  def test_bad_good_job_cron_json_is_a_configuration_error
    error = assert_raises(GoodCron::ConfigurationError) { config({}, "GOOD_JOB_CRON" => "{nope").cron }
    assert_match(/GOOD_JOB_CRON is not valid JSON/, error.message)
  end

  def test_graceful_restart_period
    assert_nil config({}).graceful_restart_period
    assert_equal 300.0, config(cron_graceful_restart_period: 5.minutes).graceful_restart_period
    assert_equal 90.0, config(cron_graceful_restart_period: 90).graceful_restart_period
    env = { "GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD" => "120" }
    assert_equal 120.0, config({}, env).graceful_restart_period
    assert_equal 60.0, config({ cron_graceful_restart_period: 60 }, env).graceful_restart_period
    assert_nil config({}, "GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD" => "").graceful_restart_period
    error = assert_raises(GoodCron::ConfigurationError) { config(cron_graceful_restart_period: "soon").graceful_restart_period }
    assert_match(/cron_graceful_restart_period must be a number of seconds from 0 to 604800, got "soon"/, error.message)
  end

  def test_postgres_url_keeps_a_url
    url = "postgres://me@db.example:5433/app?sslmode=require"
    assert_equal url, GoodCron::Configuration.postgres_url(adapter: "postgresql", url: url)
  end

  # Each URL is read back by libpq (PG::Connection.conninfo_parse): every part arrives intact.
  def test_postgres_url_from_parts_escapes_what_needs_it
    url = GoodCron::Configuration.postgres_url(
      "adapter" => "postgresql", "host" => "db.example", "port" => 5433, "username" => "me@corp",
      "password" => "p@ss/w:rd ?&=+%", "database" => "app db", "sslmode" => "require", "pool" => 5
    )
    assert_equal "postgres://db.example:5433/app%20db?user=me%40corp&password=p%40ss%2Fw%3Ard%20%3F%26%3D%2B%25&sslmode=require", url
    assert_equal({ "host" => "db.example", "port" => "5433", "user" => "me@corp", "password" => "p@ss/w:rd ?&=+%",
                   "dbname" => "app db", "sslmode" => "require" }, libpq(url))
  end

  def test_postgres_url_with_a_socket_directory_or_no_host
    url = GoodCron::Configuration.postgres_url(adapter: "postgresql", host: "/var/run/postgresql", port: 5433,
                                             username: "me", database: "app")
    assert_equal "postgres:///app?host=%2Fvar%2Frun%2Fpostgresql&port=5433&user=me", url
    assert_equal({ "host" => "/var/run/postgresql", "port" => "5433", "user" => "me", "dbname" => "app" }, libpq(url))

    assert_equal "postgres:///app", GoodCron::Configuration.postgres_url(adapter: "postgis", database: "app")
    # libpq's own key names, which ActiveRecord passes through.
    assert_equal "postgres:///app?user=me", GoodCron::Configuration.postgres_url(user: "me", dbname: "app")
  end

  def test_postgres_url_with_an_ipv6_host
    url = GoodCron::Configuration.postgres_url(adapter: "postgresql", host: "::1", port: 5432, database: "app")
    assert_equal "postgres://[::1]:5432/app", url
    assert_equal "::1", libpq(url)["host"]
  end

  def test_postgres_url_is_nil_for_other_databases
    assert_nil GoodCron::Configuration.postgres_url(adapter: "sqlite3", database: "db/production.sqlite3")
  end


  # --- the poller's settings: command-line option, then config.good_job, then GOOD_JOB_* --------

  def test_poller_settings_default_as_goodjobs
    settings = poller_config(nil)
    assert_equal "*", settings.queues
    assert_equal 5, settings.max_threads
    assert_equal 10.0, settings.poll_interval
    assert_equal 10_000, settings.max_cache
    assert_equal(-1.0, settings.shutdown_timeout)
    assert settings.enable_listen_notify?
    assert_equal :external, settings.execution_mode
  end

  def test_an_option_wins_over_the_config_which_wins_over_the_variable
    env = { "GOOD_JOB_MAX_THREADS" => "3", "RAILS_MAX_THREADS" => "9", "GOOD_JOB_QUEUES" => "env" }
    assert_equal 3, poller_config({}, env).max_threads
    assert_equal 9, poller_config({}, { "RAILS_MAX_THREADS" => "9" }).max_threads, "RAILS_MAX_THREADS comes last"
    assert_equal 7, poller_config({ max_threads: 7 }, env).max_threads
    assert_equal 12, poller_config({ max_threads: 7 }, env, { max_threads: "12" }).max_threads
    assert_equal "env", poller_config({}, env).queues
    assert_equal "mailers:2;*", poller_config({ queues: "mailers:2;*" }, env).queues
    assert_equal "cli", poller_config({ queues: "config" }, env, { queues: "cli" }).queues
    assert_equal 2.5, poller_config({}, { "GOOD_JOB_POLL_INTERVAL" => "2.5" }).poll_interval
    assert_equal(-1.0, poller_config({ poll_interval: -1 }).poll_interval)
    assert_equal 30.0, poller_config({}, { "GOOD_JOB_SHUTDOWN_TIMEOUT" => "30" }).shutdown_timeout
    assert_equal :async, poller_config({}, { "GOOD_JOB_EXECUTION_MODE" => "async" }).execution_mode
    assert_equal :async, poller_config({ execution_mode: :async }).execution_mode
  end

  # GoodJob reads enable_listen_notify with nil checks: a false in the config wins.
  def test_listen_notify_false_in_the_config_wins
    refute poller_config({ enable_listen_notify: false }, { "GOOD_JOB_ENABLE_LISTEN_NOTIFY" => "true" }).enable_listen_notify?
    refute poller_config({}, { "GOOD_JOB_ENABLE_LISTEN_NOTIFY" => "false" }).enable_listen_notify?
    assert poller_config({ enable_listen_notify: true }, { "GOOD_JOB_ENABLE_LISTEN_NOTIFY" => "false" }).enable_listen_notify?
  end

  def test_a_bad_number_names_the_setting_and_the_value
    error = assert_raises(GoodCron::ConfigurationError) { poller_config({ max_threads: "many" }).max_threads }
    assert_includes error.message, "1 problem in the job settings:\n  - max_threads must be an integer from 1 to 1000, got \"many\""
    error = assert_raises(GoodCron::ConfigurationError) { poller_config({}, {}, { max_threads: "0" }).max_threads }
    assert_includes error.message, 'max_threads (--max-threads) must be an integer from 1 to 1000, got "0"'
    error = assert_raises(GoodCron::ConfigurationError) { poller_config({}, { "GOOD_JOB_POLL_INTERVAL" => "soon" }).poll_interval }
    assert_includes error.message, 'poll_interval (GOOD_JOB_POLL_INTERVAL) must be a number of seconds from -604800 to 604800, got "soon"'
  end

  # --- good_cron's own settings (config.good_cron) and plain Ruby ------------------------------

  def test_good_crons_settings_come_from_config_good_cron_with_named_defaults
    defaults = GoodCron::Configuration.new({}, {})
    assert_equal [:auto, nil, 5.0, 30.0], [defaults.enqueue, defaults.claim_timeout, defaults.connect_timeout, defaults.heartbeat_interval]
    assert_equal GoodCron::Configuration::DEFAULT_CONNECT_TIMEOUT, defaults.connect_timeout
    good_cron = { enqueue: :active_job, claim_timeout: 60, connect_timeout: "2", heartbeat_interval: 1 }
    settings = GoodCron::Configuration.new({}, {}, {}, good_cron)
    assert_equal [:active_job, 60.0, 2.0, 1.0], [settings.enqueue, settings.claim_timeout, settings.connect_timeout, settings.heartbeat_interval]
    error = assert_raises(GoodCron::ConfigurationError) { GoodCron::Configuration.new({}, {}, {}, { claim_timeout: 0 }).check! }
    assert_includes error.message, "claim_timeout"
  end

  # Poller.new(queues: …) and Scheduler.new(cron, …) read their settings as a Configuration
  # does, without the environment.
  def test_from_options_reads_plain_ruby_settings_and_no_variable
    ENV["GOOD_JOB_MAX_THREADS"] = "3"
    settings = GoodCron::Configuration.from_options(queues: "a:2", heartbeat_interval: 1)
    assert_equal ["a:2", 5, 1.0], [settings.queues, settings.max_threads, settings.heartbeat_interval]
    error = assert_raises(ArgumentError) { GoodCron::Configuration.from_options(listen: false) }
    assert_includes error.message, "unknown setting: listen"
    error = assert_raises(GoodCron::ConfigurationError) { GoodCron::Configuration.from_options(queues: "a:0").queues }
    assert_includes error.message, 'queues (the thread count of "a:0")'
  ensure
    ENV.delete("GOOD_JOB_MAX_THREADS")
  end

  def test_the_command_lines_help_shows_the_defaults
    require "good_cron/cli"
    out = StringIO.new
    GoodCron::CLI.new(out: out, err: StringIO.new).run(%w[help start])
    assert_includes out.string, "default #{GoodCron::Configuration::DEFAULT_MAX_CACHE})"
    assert_includes out.string, "default #{GoodCron::Configuration::DEFAULT_POLL_INTERVAL})"
  end

  def test_enable_cron_from_the_command_line
    assert poller_config({ cron: CRON }, {}, { enable_cron: true }).enable_cron?
  end

  # GoodJob's CLI: a job worker runs no jobs "in the server", and defaults to :external.
  def test_a_worker_reads_the_server_modes_as_external
    assert_equal :external, poller_config(nil).worker!.execution_mode
    assert_equal :external, poller_config({ execution_mode: :async }).worker!.execution_mode
    assert_equal :external, poller_config({}, { "GOOD_JOB_EXECUTION_MODE" => "async_server" }).worker!.execution_mode
    assert_equal :inline, poller_config({ execution_mode: "inline" }).worker!.execution_mode
    assert_equal :async_all, poller_config({ execution_mode: :async_all }).worker!.execution_mode
  end

  private

  def poller_config(good_job, env = {}, options = {})
    GoodCron::Configuration.new(good_job, env, options)
  end

  def libpq(url)
    PG::Connection.conninfo_parse(url).to_h { |option| [option[:keyword], option[:val]] }.compact
  end
end
