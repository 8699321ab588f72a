# frozen_string_literal: true

require "erb"
require "json"

module GoodCron
  # GoodJob's cron settings, read the way GoodJob 4.x reads them
  # (lib/good_job/configuration.rb): `config.good_job` first, then the GOOD_JOB_* environment
  # variables, joined with `||` exactly as GoodJob joins them. Plain Ruby (no Rails needed),
  # so every precedence rule can be tested without booting an app.
  #
  #   settings = GoodCron::RailsConfig.new(Rails.application.config.good_job)
  #   settings.enable_cron? # => true
  #   settings.cron         # => { heartbeat: { cron: "every second", class: "HeartbeatJob" } }
  class RailsConfig
    # ActiveModel::Type::Boolean's false values, with which GoodJob casts enable_cron.
    FALSE_VALUES = [false, 0, "0", "f", "F", "false", "FALSE", "off", "OFF"].freeze
    # Keys of an ActiveRecord configuration that mean the same in a PostgreSQL URL.
    SSL_PARAMS = %i[sslmode sslrootcert sslcert sslkey].freeze

    # +good_job+: `config.good_job`, a Hash (Symbol or String keys) or ActiveSupport::OrderedOptions.
    # +options+: the command line's (`good_cron start --max-threads 10`), which come first.
    def initialize(good_job, env = ENV, options = {})
      @settings = (good_job || {}).to_h.transform_keys(&:to_sym)
      @env = env
      @options = options
    end

    # GoodJob: `cast(options[:enable_cron] || config[:enable_cron] || GOOD_JOB_ENABLE_CRON || false)
    # && cron.size.positive?`. So `enable_cron: false` does not override GOOD_JOB_ENABLE_CRON=true;
    # the same holds in GoodJob.
    def enable_cron?
      boolean(read(:enable_cron, "GOOD_JOB_ENABLE_CRON") || false) && cron.size.positive?
    end

    # The poller's settings, each `option || config.good_job || GOOD_JOB_* || default` as GoodJob
    # reads them.
    def queues
      read(:queues, "GOOD_JOB_QUEUES").to_s.then { |text| text.strip.empty? ? "*" : text }
    end

    def max_threads
      number(:max_threads, read(:max_threads, "GOOD_JOB_MAX_THREADS") || @env["RAILS_MAX_THREADS"] || 5, Integer, &:positive?)
    end

    # Seconds; ≤ 0 turns polling off (LISTEN/NOTIFY and known scheduled times still wake it).
    def poll_interval
      number(:poll_interval, read(:poll_interval, "GOOD_JOB_POLL_INTERVAL") || 10, Float)
    end

    def max_cache
      number(:max_cache, read(:max_cache, "GOOD_JOB_MAX_CACHE") || 10_000, Integer) { |n| !n.negative? }
    end

    # Seconds a graceful shutdown waits for running jobs; negative: as long as they take.
    def shutdown_timeout
      number(:shutdown_timeout, read(:shutdown_timeout, "GOOD_JOB_SHUTDOWN_TIMEOUT") || -1, Float)
    end

    # GoodJob reads this one with nil checks, not `||`: `enable_listen_notify: false` wins.
    def enable_listen_notify?
      value = [@options[:enable_listen_notify], @settings[:enable_listen_notify]].find { |v| !v.nil? }
      value = @env["GOOD_JOB_ENABLE_LISTEN_NOTIFY"] if value.nil? && @env["GOOD_JOB_ENABLE_LISTEN_NOTIFY"].to_s != ""
      value.nil? || boolean(value)
    end

    # GoodJob's execution_mode: :async runs jobs inside the web server's processes.
    def execution_mode
      read(:execution_mode, "GOOD_JOB_EXECUTION_MODE").to_s.strip.then { |mode| mode.empty? ? :external : mode.to_sym }
    end

    # GoodJob: `config[:cron] || JSON.parse(GOOD_JOB_CRON, symbolize_names: true) || {}`.
    # GoodJob's engine presets `config.good_job.cron = {}`, so with GoodJob loaded the variable
    # is read only when an app replaces `config.good_job` with a Hash that has no :cron.
    def cron
      @settings[:cron] || env_cron || {}
    end

    # Seconds, from `cron_graceful_restart_period` (a Duration or a number) or
    # GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD (seconds); nil when neither is set.
    def graceful_restart_period
      value = @settings[:cron_graceful_restart_period] || @env["GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD"]
      return nil if value.nil? || value == ""

      Float(value)
    rescue ArgumentError, TypeError
      raise ConfigurationError.new(["cron_graceful_restart_period must be a number of seconds or a Duration, got #{value.inspect}"])
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

    def read(key, variable)
      value = [@options[key], @settings[key], @env[variable]].find { |v| v && v != "" }
      value.is_a?(Symbol) ? value.to_s : value
    end

    def boolean(value)
      !FALSE_VALUES.include?(value.is_a?(Symbol) ? value.to_s : value)
    end

    def number(key, value, type)
      number = type == Integer ? Integer(value.to_s, 10) : Float(value)
      return number if !block_given? || yield(number)

      raise ArgumentError
    rescue ArgumentError, TypeError
      raise ConfigurationError.new(["#{key} must be #{type == Integer ? "a positive integer" : "a number of seconds"}, got #{value.inspect}"],
                                   subject: "the job settings")
    end

    def env_cron
      json = @env["GOOD_JOB_CRON"]
      return nil if json.nil? || json.strip.empty?

      JSON.parse(json, symbolize_names: true)
    rescue JSON::ParserError => e
      raise ConfigurationError.new(["GOOD_JOB_CRON is not valid JSON: #{e.message}"])
    end
  end
end
