# frozen_string_literal: true

require "logger"
require_relative "good_cron/version"
require_relative "good_cron/errors"
require_relative "good_cron/native"
require_relative "good_cron/settings"
require_relative "good_cron/schedule"

# Exactly-once cron for GoodJob's configuration, with a Rust engine.
module GoodCron
  autoload :CronEntry, "good_cron/cron_entry"
  autoload :Scheduler, "good_cron/scheduler"
  autoload :Poller, "good_cron/poller"
  autoload :Adapter, "good_cron/adapter"
  autoload :Configuration, "good_cron/configuration"
  autoload :Capsule, "good_cron/capsule"

  class << self
    attr_writer :logger, :database_url
    # The scheduler running in this process, which the methods below act through: the first
    # one started here (in Rails, the Railtie's), or one assigned here.
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

    # The methods below work in any process of the app (a console, a runner, a rake task):
    # through the scheduler running here if there is one (GoodCron.scheduler), otherwise
    # through one built from the app's configuration and never started (no thread, no
    # catch-up: only the database is read and written).

    # Enqueues a manual run of +key+ now, as GoodJob's "run now" does: cron_key set, no
    # cron_at, so it cannot collide with a scheduled run. Returns the job id.
    def enqueue_now(key)
      control.enqueue_now(key)
    end

    # Turns +key+ off or on for every process, within a second, through GoodJob's
    # good_job_settings rows (so GoodJob's dashboard agrees).
    def disable(key)
      control.disable(key)
    end

    def enable(key)
      control.enable(key)
    end

    # Each entry's schedule, next run, last run and enabled state.
    def entries
      control.entries
    end

    # GoodJob's execution mode of this process (:async, :async_all, :async_server, :external or
    # :inline), as the Railtie read it at boot; outside Rails, from GOOD_JOB_EXECUTION_MODE.
    def execution_mode
      (Railtie.execution_mode if defined?(Railtie)) || Configuration.new.execution_mode
    end

    # Stops every Capsule started in this process (the Railtie's too), as GoodJob.shutdown does
    # (e.g. in Puma's before_fork): +timeout+ has Capsule#shutdown's meanings. True when every
    # running job finished (nil when not waited for).
    def shutdown(timeout: -1)
      finished = Capsule.started.map { |capsule| capsule.shutdown(timeout: timeout) }.all?
      finished unless timeout.nil?
    end

    private

    def control
      scheduler || (Railtie.configured_scheduler if defined?(Railtie) && ::Rails.application) or
        raise Error, "no good_cron scheduler in this process and no Rails app to read the cron configuration from: " \
                     "set GoodCron.scheduler = GoodCron::Scheduler.new(cron, database_url: …) (it need not be started)"
    end
  end
end

# `queue_adapter = :good_cron` looks the adapter up by constant: define it with ActiveJob.
require_relative "good_cron/adapter" if defined?(::ActiveJob)
require_relative "good_cron/railtie" if defined?(Rails::Railtie)
