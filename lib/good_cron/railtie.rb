# frozen_string_literal: true

require_relative "configuration"
require_relative "capsule"

module GoodCron
  # Runs good_cron in a Rails app from GoodJob's cron configuration (`config.good_job`'s
  # enable_cron, cron and cron_graceful_restart_period, or GOOD_JOB_ENABLE_CRON, GOOD_JOB_CRON
  # and GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD), on the app's ActiveRecord database:
  #
  # - after initialization it starts the scheduler in server processes (`rails server`, a Rack
  #   server loading config.ru, GoodJob's `good_job start`), or wherever GOOD_CRON_START=1;
  # - GoodJob's execution_mode (Configuration#execution_mode) decides where jobs run: :async and
  #   :async_server in those processes too (the poller; by default in development), :async_all
  #   in every process but GOOD_CRON_START=0's, :external nowhere here (by default in
  #   production), :inline in the enqueuing thread (the adapter); not on GoodJob's own adapter,
  #   which runs its jobs itself; a process that forks workers leaves the jobs to them;
  # - a forked child (a Puma cluster worker) or a daemonized process starts its own;
  # - at exit it stops both (GoodCron::Capsule#shutdown with GoodJob's shutdown_timeout);
  # - GoodJob's own cron manager is switched off, so cron runs once, here.
  class Railtie < ::Rails::Railtie
    # Stack frames that show a Rack server is booting the app (GoodJob's in_webserver? test).
    SERVER_FRAMES = %r{config\.ru|/rack/handler/|puma/request}.freeze

    config.good_cron = ActiveSupport::OrderedOptions.new
    # GoodJob's engine defines config.good_job; without GoodJob, define it here so that
    # `config.good_job.cron = {…}` works the same in application.rb.
    config.good_job = ActiveSupport::OrderedOptions.new unless config.respond_to?(:good_job)

    # In an initializer, not at require time: GoodJob may be required after good_cron.
    initializer "good_cron.replace_good_job_cron" do
      ::GoodJob::Configuration.prepend(GoodJobCronOff) if defined?(::GoodJob::Configuration)
    end

    config.after_initialize { Railtie.boot }

    # GoodJob 4.x starts its CronManager only when its configuration says enable_cron?
    # (GoodJob::Capsule#start, the CLI). Both names, since enable_cron? is an alias.
    module GoodJobCronOff
      def enable_cron
        false
      end

      def enable_cron?
        false
      end
    end

    # The scheduler's threads and connections do not survive fork, so every child forked from
    # a process that runs the scheduler starts its own (Scheduler#start sees the new pid).
    # Process._fork sees Kernel#fork, Process.fork and IO.popen("-"): Puma's cluster workers,
    # Unicorn's, Passenger's smart spawning. Process.daemon (`rails server -d`) forks without it.
    module ForkHook
      def _fork
        pid = super
        pid.zero? ? Railtie.restart_after_fork : Railtie.hand_jobs_to_children
        pid
      end

      def daemon(*)
        result = super
        Railtie.restart_after_fork
        result
      end
    end

    class << self
      # The engines of this process (GoodCron::Capsule), or nil where neither runs.
      attr_reader :capsule
      # GoodJob's execution mode, as read at boot (nil before).
      attr_reader :execution_mode

      # The running scheduler and poller, or nil in processes where they do not run.
      def scheduler
        @capsule&.scheduler
      end

      def poller
        @capsule&.poller
      end

      def boot
        configuration = self.configuration
        configuration.worker! if worker_process?
        configuration.check!
        @execution_mode = configuration.execution_mode
        cron = start_here? && configuration.enable_cron?
        jobs = jobs_here?(@execution_mode) && !good_job_adapter?
        unless cron || jobs
          # Not where GOOD_CRON_START=0 said so: `good_cron start` and `list` boot with it and run their own.
          logger.debug { "good_cron: neither the cron scheduler nor the poller runs in this process" } unless forced_start == false
          return
        end

        @capsule = Capsule.new(configuration, database_url: database_url, logger: logger, cron: cron, jobs: jobs).start
        logger.info "good_cron: cron scheduler started with #{configuration.cron.size} entries (pid #{::Process.pid})" if cron
        logger.info "good_cron: poller started, queues #{configuration.queues.inspect} (pid #{::Process.pid})" if jobs
        ::Process.singleton_class.prepend(ForkHook)
        at_exit { stop }
      end

      # The app's settings: config.good_job (+options+, the command line's, first) and config.good_cron.
      def configuration(env = ENV, options = {})
        config = ::Rails.application.config
        Configuration.new(config.respond_to?(:good_job) ? config.good_job : {}, env, options,
                          config.respond_to?(:good_cron) ? config.good_cron : {})
      end

      def restart_after_fork
        capsule = @capsule or return
        capsule.start
        logger.info "good_cron: cron scheduler restarted after fork (pid #{::Process.pid})" if capsule.scheduler
        logger.info "good_cron: poller restarted after fork (pid #{::Process.pid})" if capsule.poller
      rescue StandardError => e
        logger.error "good_cron: could not restart after fork: #{e.class}: #{e.message}"
      end

      # A process that forks workers (Puma's cluster master) leaves their jobs to them, as
      # GoodJob's advice for Puma (`before_fork { GoodJob.shutdown }`) does: its poller stops
      # at its first fork. A job that forks does not stop its own poller.
      def hand_jobs_to_children
        poller = self.poller or return
        return if poller.job_thread?(Thread.current) || !poller.running?

        poller.shutdown(timeout: @capsule.configuration.shutdown_timeout)
        logger.info "good_cron: poller stopped in the parent of forked workers (pid #{::Process.pid})"
      end

      def stop
        capsule = @capsule or return
        @capsule = nil
        cron_running = capsule.scheduler&.running?
        jobs_running = capsule.poller&.running?
        finished = capsule.shutdown
        logger.info "good_cron: cron scheduler stopped (pid #{::Process.pid})" if cron_running && !capsule.scheduler.running?
        logger.info "good_cron: poller stopped (pid #{::Process.pid})#{"; running jobs were released" unless finished}" if jobs_running
      end

      # GOOD_CRON_START=1 or 0 decides; otherwise only a server process runs the scheduler,
      # detected as GoodJob's in_webserver? does (Rails::Server, or config.ru or a Rack handler
      # on the stack), plus GoodJob's own worker. Consoles, runners and rake tasks do not.
      def start_here?
        forced = forced_start
        return forced unless forced.nil?

        ::Rails.const_defined?(:Server, false) || good_job_cli? || caller.any?(SERVER_FRAMES)
      end

      # Whether this process runs jobs (the poller) in +mode+, as GoodJob's adapter decides
      # execute_async?: :async_all anywhere, :async and :async_server where the scheduler may
      # run (GOOD_CRON_START=0 turns both off: `good_cron start` and `list` run their own).
      def jobs_here?(mode)
        case mode
        when :async_all then forced_start != false
        when :async, :async_server then start_here?
        else false
        end
      end

      # The app's scheduler as its configuration describes it, not started: the one the server
      # starts, and the one GoodCron.entries/enable/disable/enqueue_now and `good_cron list`
      # act through where none runs (they need only the configuration and the database).
      def configured_scheduler(configuration = self.configuration, database_url: nil, logger: self.logger)
        Scheduler.new(configuration: configuration, database_url: database_url || self.database_url, logger: logger)
      end

      # `config.good_cron.database_url`, else the app's ActiveRecord database (which already
      # reflects DATABASE_URL); nil without either (GoodCron.database_url falls back to DATABASE_URL).
      def database_url
        ::Rails.application.config.good_cron.database_url.presence || active_record_url
      end

      private

      # Whether the app's jobs go to GoodJob's own adapter, which runs them itself in the async
      # modes: a poller of good_cron's beside it would only add threads.
      def good_job_adapter?
        defined?(::GoodJob::Adapter) && defined?(::ActiveJob::Base) && ::ActiveJob::Base.queue_adapter.is_a?(::GoodJob::Adapter)
      end

      # true or false when GOOD_CRON_START says, else nil.
      def forced_start
        case ENV["GOOD_CRON_START"].to_s.strip.downcase
        when "1", "true", "yes" then true
        when "0", "false", "no" then false
        end
      end

      # A job worker (`good_job start`, or `good_cron start`, whose command is the only code
      # that loads GoodCron::CLI): GoodJob reads its execution mode as :external.
      def worker_process?
        good_job_cli? || defined?(GoodCron::CLI) ? true : false
      end

      # `good_job start` is where GoodJob's external mode runs cron.
      def good_job_cli?
        defined?(::GoodJob::CLI) && ::GoodJob::CLI.respond_to?(:within_exe?) && ::GoodJob::CLI.within_exe?
      end

      def active_record_url
        return unless defined?(::ActiveRecord::Base)

        db_config = ::ActiveRecord::Base.connection_db_config
        Configuration.postgres_url(db_config.configuration_hash) or
          raise ConfigurationError.new(["good_cron needs PostgreSQL, but the app's database uses #{db_config.adapter}: " \
                                        "set config.good_cron.database_url"])
      rescue ::ActiveRecord::ConnectionNotEstablished
        nil
      end

      def logger
        ::Rails.logger || GoodCron.logger
      end
    end
  end
end
