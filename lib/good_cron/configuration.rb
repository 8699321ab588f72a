# frozen_string_literal: true

require "erb"
require "json"
require_relative "settings"

module GoodCron
  # Every setting of good_cron, with its default, checked once (GoodCron::Settings): GoodJob's,
  # read the way GoodJob 4.x reads them (lib/good_job/configuration.rb): the command line's
  # option, then `config.good_job`, then the GOOD_JOB_* environment variables, joined with `||`
  # exactly as GoodJob joins them; and good_cron's own (`config.good_cron`). Plain Ruby (no
  # Rails needed), so every precedence rule can be tested without booting an app. A bad value
  # raises ConfigurationError naming where it came from. The Capsule builds both engines from one.
  #
  #   configuration = GoodCron::Configuration.new(Rails.application.config.good_job)
  #   configuration.enable_cron? # => true
  #   configuration.cron         # => { heartbeat: { cron: "every second", class: "HeartbeatJob" } }
  class Configuration
    DEFAULT_QUEUES = "*"
    DEFAULT_MAX_THREADS = 5
    # Seconds; ≤ 0 turns polling off (LISTEN/NOTIFY and known scheduled times still wake it).
    DEFAULT_POLL_INTERVAL = 10
    DEFAULT_MAX_CACHE = 10_000
    # Seconds a shutdown waits for running jobs (GoodJob's shutdown(timeout:) meanings).
    DEFAULT_SHUTDOWN_TIMEOUT = -1
    DEFAULT_ENABLE_LISTEN_NOTIFY = true
    # good_cron's own (config.good_cron). :auto: the engine inserts GoodJob rows where it can,
    # else ActiveJob enqueues.
    DEFAULT_ENQUEUE = :auto
    # Seconds a connection may take before the database counts as unreachable.
    DEFAULT_CONNECT_TIMEOUT = 5
    # Seconds between refreshes of the process row: GoodJob's (Process::STALE_INTERVAL).
    DEFAULT_HEARTBEAT_INTERVAL = 30
    # The most seconds a shutdown waits for the cron scheduler to record what it enqueued.
    CRON_SHUTDOWN_TIMEOUT = 10
    # The settings that are good_cron's (config.good_cron), not GoodJob's.
    GOOD_CRON_SETTINGS = %i[enqueue claim_timeout connect_timeout heartbeat_interval].freeze
    # config.good_job's keys that good_cron reads.
    GOOD_JOB_SETTINGS = %i[enable_cron cron cron_graceful_restart_period queues max_threads poll_interval max_cache
                           shutdown_timeout enable_listen_notify execution_mode].freeze
    # GoodJob's execution modes.
    EXECUTION_MODES = %i[async async_all async_server external inline].freeze
    # The ones a job worker (`good_job start`, `good_cron start`) reads as :external.
    SERVER_MODES = %i[async async_server].freeze
    # GoodJob's default by Rails environment (any other: :external).
    DEFAULT_MODES = { "development" => :async, "test" => :inline }.freeze
    JOB_SETTINGS = "the job settings"
    # Keys of an ActiveRecord configuration that mean the same in a PostgreSQL URL.
    SSL_PARAMS = %i[sslmode sslrootcert sslcert sslkey].freeze

    # +good_job+: `config.good_job`, a Hash (Symbol or String keys) or ActiveSupport::OrderedOptions.
    # +options+: the command line's (`good_cron start --max-threads 10`), which come first.
    # +good_cron+: `config.good_cron` (GOOD_CRON_SETTINGS; database_url is the Railtie's).
    def initialize(good_job = {}, env = ENV, options = {}, good_cron = {})
      @settings = (good_job || {}).to_h.transform_keys(&:to_sym)
      @env = env
      @options = options
      @good_cron = (good_cron || {}).to_h.transform_keys(&:to_sym)
    end

    # The settings given in plain Ruby (`Poller.new(queues: "a", max_threads: 2)`): these and the
    # defaults, no environment variable.
    def self.from_options(**options)
      unknown = options.keys - GOOD_JOB_SETTINGS - GOOD_CRON_SETTINGS
      raise ArgumentError, "unknown setting#{"s" if unknown.size > 1}: #{unknown.join(", ")}" if unknown.any?

      new(options.except(*GOOD_CRON_SETTINGS), {}, {}, options.slice(*GOOD_CRON_SETTINGS))
    end

    # An engine's settings: +configuration+, else one read from +options+ (never both).
    def self.for_engine(configuration, options)
      return from_options(**options) unless configuration
      raise ArgumentError, "pass a configuration or its settings, not both (#{options.keys.join(", ")})" if options.any?

      configuration
    end

    # +url+, else GoodCron.database_url (DATABASE_URL outside Rails), checked.
    def self.database_url(url)
      url ||= GoodCron.database_url or
        raise ArgumentError, "good_cron needs a database: pass database_url: or set DATABASE_URL"
      Settings.database_url(:database_url, url)
    end

    # Marks these as a job worker's settings (`good_job start`, `good_cron start`), which
    # changes the execution mode as GoodJob's CLI does. Returns self.
    def worker!
      @worker = true
      self
    end

    # Reads every setting, so that bad ones are told (all together) before anything starts,
    # not when one is first read (shutdown_timeout: at shutdown).
    def check!
      problems = %i[enable_cron? queues max_threads poll_interval max_cache shutdown_timeout enable_listen_notify?
                    execution_mode graceful_restart_period claim_timeout connect_timeout heartbeat_interval].flat_map do |setting|
        public_send(setting)
        []
      rescue ConfigurationError => e
        e.problems
      end
      raise ConfigurationError.new(problems, subject: JOB_SETTINGS) if problems.any?

      self
    end

    # GoodJob: `cast(options[:enable_cron] || config[:enable_cron] || GOOD_JOB_ENABLE_CRON || false)
    # && cron.size.positive?`. So `enable_cron: false` does not override GOOD_JOB_ENABLE_CRON=true;
    # the same holds in GoodJob.
    def enable_cron?
      value, name = read(:enable_cron, "GOOD_JOB_ENABLE_CRON")
      (!value.nil? && Settings.boolean(name, value, subject: JOB_SETTINGS)) && cron.size.positive?
    end

    # The poller's settings, each `option || config.good_job || GOOD_JOB_* || default` as GoodJob
    # reads them. Queues: a blank value falls through, as GoodJob's `presence` does.
    def queues
      value, name = read(:queues, "GOOD_JOB_QUEUES", blank: true)
      return DEFAULT_QUEUES if value.nil?

      text = Settings.string(name, value, subject: JOB_SETTINGS)
      text.split(";").each do |pool|
        _, colon, count = pool.rpartition(":")
        next if colon.empty?

        Settings.integer("#{name} (the thread count of #{pool.strip.inspect})", count, 1..Settings::MAX_THREADS,
                         subject: JOB_SETTINGS)
      end
      text
    end

    def max_threads
      value, name = read(:max_threads, "GOOD_JOB_MAX_THREADS", "RAILS_MAX_THREADS")
      Settings.integer(name, value || DEFAULT_MAX_THREADS, 1..Settings::MAX_THREADS, subject: JOB_SETTINGS)
    end

    def poll_interval
      period(:poll_interval, "GOOD_JOB_POLL_INTERVAL", DEFAULT_POLL_INTERVAL)
    end

    def max_cache
      value, name = read(:max_cache, "GOOD_JOB_MAX_CACHE")
      Settings.integer(name, value || DEFAULT_MAX_CACHE, 0..Settings::MAX_CACHE, subject: JOB_SETTINGS)
    end

    # Seconds a graceful shutdown waits for running jobs; negative: as long as they take.
    def shutdown_timeout
      period(:shutdown_timeout, "GOOD_JOB_SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT)
    end

    # GoodJob reads this one with nil checks, not `||`: `enable_listen_notify: false` wins.
    def enable_listen_notify?
      value, name =
        if !@options[:enable_listen_notify].nil? then [@options[:enable_listen_notify], "enable_listen_notify (--enable-listen-notify)"]
        elsif !@settings[:enable_listen_notify].nil? then [@settings[:enable_listen_notify], "enable_listen_notify"]
        else [@env["GOOD_JOB_ENABLE_LISTEN_NOTIFY"], "enable_listen_notify (GOOD_JOB_ENABLE_LISTEN_NOTIFY)"]
        end
      return DEFAULT_ENABLE_LISTEN_NOTIFY if value.nil? || value == ""

      Settings.boolean(name, value, subject: JOB_SETTINGS)
    end

    # GoodJob 4.x's execution_mode: where jobs run (the Railtie and the adapter act on it).
    # Set: one of EXECUTION_MODES (anything else raises, listing them), but a job worker reads
    # :async and :async_server as :external. Unset: :external in a job worker, :async in
    # development, :inline in test, :external elsewhere (production).
    def execution_mode
      value, name = read(:execution_mode, "GOOD_JOB_EXECUTION_MODE", blank: true)
      mode = value && Settings.choice(name, value.is_a?(String) ? value.strip : value, EXECUTION_MODES, subject: JOB_SETTINGS)
      if @worker
        mode.nil? || SERVER_MODES.include?(mode) ? :external : mode
      else
        mode || DEFAULT_MODES.fetch((::Rails.env.to_s if defined?(::Rails.env)), :external)
      end
    end

    # GoodJob: `config[:cron] || JSON.parse(GOOD_JOB_CRON, symbolize_names: true) || {}`.
    # GoodJob's engine presets `config.good_job.cron = {}`, so with GoodJob loaded the variable
    # is read only when an app replaces `config.good_job` with a Hash that has no :cron.
    def cron
      cron = @settings[:cron] || env_cron || {}
      return cron if cron.respond_to?(:each_pair)

      raise ConfigurationError.new(["cron must be a Hash of entries, got #{Settings.describe(cron)}"])
    end

    # Seconds (up to a week), from `cron_graceful_restart_period` (a Duration or a number) or
    # GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD; nil when neither is set.
    def graceful_restart_period
      value, name = read(:cron_graceful_restart_period, "GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD")
      value && Settings.seconds(name, value, 0..Settings::MAX_PERIOD)
    end

    # How the scheduler enqueues: :auto, :good_jobs or :active_job (the entries check it).
    def enqueue
      @good_cron[:enqueue] || DEFAULT_ENQUEUE
    end

    # Seconds (up to a week) after which a run claimed by a process that died before enqueuing
    # it is taken over; nil: the engine's 30.
    def claim_timeout
      value = @good_cron[:claim_timeout]
      value && Settings.seconds(:claim_timeout, value, 0..Settings::MAX_PERIOD, positive: true, subject: JOB_SETTINGS)
    end

    def connect_timeout
      Settings.seconds(:connect_timeout, @good_cron[:connect_timeout] || DEFAULT_CONNECT_TIMEOUT,
                       0..Settings::MAX_CONNECT_TIMEOUT, positive: true, subject: JOB_SETTINGS)
    end

    # Seconds between refreshes of the good_job_processes row.
    def heartbeat_interval
      Settings.seconds(:heartbeat_interval, @good_cron[:heartbeat_interval] || DEFAULT_HEARTBEAT_INTERVAL,
                       Settings::MIN_HEARTBEAT_INTERVAL..Settings::MAX_PERIOD, subject: JOB_SETTINGS)
    end

    # A PostgreSQL URL for an ActiveRecord configuration hash (`db_config.configuration_hash`):
    # its url if it has one, else one built from host, port, username, password and database.
    # A socket directory as host goes into the query (`postgres:///db?host=/run/postgresql`),
    # since a URL cannot carry a path as its host. Returns nil for adapters other than PostgreSQL.
    def self.postgres_url(config)
      config = config.to_h.transform_keys(&:to_sym)
      return config[:url] if config[:url].to_s != ""
      return nil unless config[:adapter].nil? || config[:adapter].to_s.match?(/\Apost(gres|gis)/)

      host = config[:host].to_s
      socket = host.start_with?("/")
      params = {
        host: (host if socket),
        port: (config[:port] if socket || host.empty?),
        user: config[:username] || config[:user],
        password: config[:password],
        **config.slice(*SSL_PARAMS),
      }.reject { |_, value| value.to_s == "" }
      authority = ""
      unless socket || host.empty?
        authority = host.include?(":") ? "[#{host}]" : host # an IPv6 address: [::1]
        authority += ":#{config[:port]}" if config[:port].to_s != ""
      end
      # %20, never "+", for a space: libpq does not read "+" as one.
      query = params.map { |key, value| "#{key}=#{ERB::Util.url_encode(value.to_s)}" }.join("&")
      database = ERB::Util.url_encode((config[:database] || config[:dbname]).to_s)
      "postgres://#{authority}/#{database}#{"?#{query}" unless query.empty?}"
    end

    private

    # `[value, name]` of the first set one of the command-line option, config.good_job's key
    # and the variables (GoodJob's `||`; an empty variable is unset), with the name that tells
    # where it came from. +blank+: blank text is unset too (GoodJob's `presence`).
    def read(key, *variables, blank: false)
      set = ->(value) { value && !(blank && value.is_a?(String) && value.valid_encoding? && value.strip.empty?) }
      return [@options[key], "#{key} (--#{key.to_s.tr("_", "-")})"] if set.call(@options[key])
      return [@settings[key], key.to_s] if set.call(@settings[key])

      variable = variables.find { |name| set.call(@env[name]) && @env[name] != "" }
      [variable && @env[variable], variable ? "#{key} (#{variable})" : key.to_s]
    end

    # Seconds within a week either way (≤ 0 has each setting's meaning: off, or forever).
    def period(key, variable, default)
      value, name = read(key, variable)
      Settings.seconds(name, value || default, -Settings::MAX_PERIOD..Settings::MAX_PERIOD, subject: JOB_SETTINGS)
    end

    def env_cron
      json = @env["GOOD_JOB_CRON"]
      return nil if json.nil?

      json = Settings.string("cron (GOOD_JOB_CRON)", json, empty: true)
      return nil if json.strip.empty?

      cron = JSON.parse(json, symbolize_names: true)
      return cron if cron.is_a?(Hash)

      raise ConfigurationError.new(["cron (GOOD_JOB_CRON) must be a JSON object of entries, got #{Settings.describe(json)}"])
    rescue JSON::ParserError => e
      raise ConfigurationError.new(["GOOD_JOB_CRON is not valid JSON: #{e.message.scrub}"])
    end
  end
end
