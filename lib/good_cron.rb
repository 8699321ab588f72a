# frozen_string_literal: true

require "logger"
require_relative "good_cron/version"
require "good_cron/good_cron"
require_relative "good_cron/errors"
require_relative "good_cron/schedule"

# Exactly-once cron for GoodJob's configuration, with a Rust engine.
module GoodCron
  autoload :CronEntry, "good_cron/cron_entry"
  autoload :Scheduler, "good_cron/scheduler"

  class << self
    attr_writer :logger, :database_url

    def logger
      @logger ||= Logger.new($stderr, progname: "good_cron", level: Logger::INFO)
    end

    # The database the scheduler uses unless told otherwise: DATABASE_URL.
    def database_url
      @database_url || ENV.fetch("DATABASE_URL", nil)
    end
  end
end

require_relative "good_cron/railtie" if defined?(Rails::Railtie)
