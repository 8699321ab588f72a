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
    def initialize(good_job, env = ENV)
      @settings = (good_job || {}).to_h.transform_keys(&:to_sym)
      @env = env
    end

    # GoodJob: `cast(config[:enable_cron] || GOOD_JOB_ENABLE_CRON || false) && cron.size.positive?`.
    # So `enable_cron: false` does not override GOOD_JOB_ENABLE_CRON=true; the same holds in GoodJob.
    def enable_cron?
      value = @settings[:enable_cron] || @env["GOOD_JOB_ENABLE_CRON"] || false
      value = value.to_s if value.is_a?(Symbol)
      value != "" && !FALSE_VALUES.include?(value) && cron.size.positive?
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

    def env_cron
      json = @env["GOOD_JOB_CRON"]
      return nil if json.nil? || json.strip.empty?

      JSON.parse(json, symbolize_names: true)
    rescue JSON::ParserError => e
      raise ConfigurationError.new(["GOOD_JOB_CRON is not valid JSON: #{e.message}"])
    end
  end
end
