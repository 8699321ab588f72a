# frozen_string_literal: true

require "logger"
require_relative "good_cron/version"
require "good_cron/good_cron"
require_relative "good_cron/errors"
require_relative "good_cron/settings"
require_relative "good_cron/schedule"

# Exactly-once cron for GoodJob's configuration, with a Rust engine.
module GoodCron
  autoload :CronEntry, "good_cron/cron_entry"
  autoload :Scheduler, "good_cron/scheduler"
  autoload :Poller, "good_cron/poller"
  autoload :Adapter, "good_cron/adapter"

  class << self
    attr_writer :logger, :database_url
    # The app's scheduler, which the methods below act through: the first one started in
    # this process (in Rails, the Railtie's), or one assigned here (e.g. in a console).
    attr_accessor :scheduler

    def logger
      @logger ||= Logger.new($stderr, level: Logger::INFO) # every message starts "good_cron: "
    end

    # The database the engines use unless told otherwise: the one assigned here, else in a Rails
    # app (any process: server, console, runner) the Railtie's (config.good_cron.database_url,
    # else ActiveRecord's), else DATABASE_URL.
    def database_url
      @database_url || (Railtie.database_url if defined?(Railtie)) || ENV.fetch("DATABASE_URL", nil)
    end

    # Enqueues a manual run of +key+ now (it cannot collide with a scheduled run).
    def enqueue_now(key)
      scheduler!.enqueue_now(key)
    end

    # Turns +key+ off or on for every process, within a second, through GoodJob's
    # good_job_settings rows (so GoodJob's dashboard agrees).
    def disable(key)
      scheduler!.disable(key)
    end

    def enable(key)
      scheduler!.enable(key)
    end

    # Each entry's schedule, next run, last run and enabled state.
    def entries
      scheduler!.entries
    end

    private

    def scheduler!
      scheduler or raise Error, "no good_cron scheduler in this process: start one, or set GoodCron.scheduler"
    end
  end
end

# `queue_adapter = :good_cron` looks the adapter up by constant: define it with ActiveJob.
require_relative "good_cron/adapter" if defined?(::ActiveJob)
require_relative "good_cron/railtie" if defined?(Rails::Railtie)
