# frozen_string_literal: true

require_relative "../configuration" # the defaults in the help; it needs no Rails

module GoodCron
  # `good_cron start`: boots the app and runs its engines until a signal.
  class CLI
    private

    def start_options(o, options)
      o.banner = "good_cron start [--app PATH] [-e ENV] [options]"
      o.separator "  Boots the Rails app and runs its jobs (the :good_cron adapter's, or GoodJob's: same"
      o.separator "  table) on threads, plus its cron when enabled. SIGTERM or SIGINT: running jobs get"
      o.separator "  shutdown_timeout to finish, the others are released. Each option falls back to"
      o.separator "  config.good_job, then to GOOD_JOB_* variables, as GoodJob's own start does."
      o.on("--app PATH", "the Rails app (default: the current directory)") { |v| options[:app] = v }
      o.on("-e", "--environment ENV", "RAILS_ENV (default: RAILS_ENV, else development)") { |v| options[:environment] = v }
      defaults = GoodCron::Configuration
      o.on("--queues QUEUES", "queues to run, GoodJob's syntax: \"*\", \"a,b\", \"-a\", \"+a,b\",",
           "pools \"mailers:2;default\" (GOOD_JOB_QUEUES; default #{defaults::DEFAULT_QUEUES.inspect})") { |v| options[:queues] = v }
      o.on("--max-threads COUNT", "threads per pool (GOOD_JOB_MAX_THREADS; default #{defaults::DEFAULT_MAX_THREADS})") do |v|
        options[:max_threads] = v
      end
      o.on("--poll-interval SECONDS", "seconds between polls, ≤ 0 for none",
           "(GOOD_JOB_POLL_INTERVAL; default #{defaults::DEFAULT_POLL_INTERVAL})") { |v| options[:poll_interval] = v }
      o.on("--max-cache COUNT", "upcoming scheduled times kept (GOOD_JOB_MAX_CACHE; default #{defaults::DEFAULT_MAX_CACHE})") do |v|
        options[:max_cache] = v
      end
      o.on("--shutdown-timeout SECONDS", "wait for running jobs at shutdown, -1 forever",
           "(GOOD_JOB_SHUTDOWN_TIMEOUT; default #{defaults::DEFAULT_SHUTDOWN_TIMEOUT})") { |v| options[:shutdown_timeout] = v }
      o.on("--enable-cron", "run the cron scheduler too (GOOD_JOB_ENABLE_CRON)") { options[:enable_cron] = true }
      o.on("--database-url URL", "the database (default: the app's ActiveRecord database)") { |v| options[:database_url] = v }
    end

    def start(argv)
      options, args = parse("start", argv)
      return help("start") if options[:help]
      raise UsageError.new("start takes no arguments, got #{args.map(&:inspect).join(" ")}", "start") if args.any?

      boot_rails(File.expand_path(options[:app] || "."), options[:environment])
      require_good_cron
      launch(options)
    end

    def launch(options)
      require "good_cron/launcher"
      settings = GoodCron::Railtie.configuration(@env, options).check!
      GoodCron::Launcher.new(settings, database_url: options[:database_url] || rails_database_url,
                                       logger: ::Rails.logger || GoodCron.logger, out: @out).run
    rescue GoodCron::ConfigurationError, GoodCron::SchemaError, GoodCron::DatabaseError, ArgumentError => e
      raise Failure, e.message.delete_prefix("good_cron: ")
    end
  end
end
