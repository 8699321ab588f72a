# frozen_string_literal: true

require_relative "rails_config"

module GoodCron
  # Runs good_cron in a Rails app from GoodJob's cron configuration (`config.good_job`'s
  # enable_cron, cron and cron_graceful_restart_period, or GOOD_JOB_ENABLE_CRON, GOOD_JOB_CRON
  # and GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD), on the app's ActiveRecord database:
  #
  # - after initialization it starts the scheduler in server processes (`rails server`, a Rack
  #   server loading config.ru, GoodJob's `good_job start`), or wherever GOOD_CRON_START=1;
  # - GoodJob's execution_mode (RailsConfig#execution_mode) decides where jobs run: :async and
  #   :async_server in those processes too (the poller; by default in development), :async_all
  #   in every process but GOOD_CRON_START=0's, :external nowhere here (by default in
  #   production), :inline in the enqueuing thread (the adapter); not on GoodJob's own adapter,
  #   which runs its jobs itself; a process that forks workers leaves the jobs to them;
  # - a forked child (a Puma cluster worker) or a daemonized process starts its own;
  # - at exit it stops both (the poller with GoodJob's shutdown_timeout);
  # - GoodJob's own cron manager is switched off, so cron runs once, here.
  class Railtie < ::Rails::Railtie
    # Seconds to wait at exit for the scheduler to stop.
    STOP_TIMEOUT = 10
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
      # The running scheduler and poller, or nil in processes where they do not run.
      attr_reader :scheduler, :poller
      # GoodJob's execution mode, as read at boot (nil before).
      attr_reader :execution_mode

      def boot
        settings = RailsConfig.new(::Rails.application.config.good_job)
        settings.worker! if worker_process?
        settings.check!
        @settings = settings
        @execution_mode = settings.execution_mode
        cron = start_here? && settings.enable_cron?
        jobs = jobs_here?(@execution_mode) && !good_job_adapter?
        unless cron || jobs
          # Not where GOOD_CRON_START=0 said so: `good_cron start` and `list` boot with it and run their own.
          logger.debug { "good_cron: neither the cron scheduler nor the poller runs in this process" } unless forced_start == false
          return
        end

        start_scheduler(settings) if cron
        start_poller(settings) if jobs
        ::Process.singleton_class.prepend(ForkHook)
        at_exit { stop }
      end

      def restart_after_fork
        if @scheduler
          @scheduler.start
          logger.info "good_cron: cron scheduler restarted after fork (pid #{::Process.pid})"
        end
        if @poller
          @poller.start
          logger.info "good_cron: poller restarted after fork (pid #{::Process.pid})"
        end
      rescue StandardError => e
        logger.error "good_cron: could not restart after fork: #{e.class}: #{e.message}"
      end

      # A process that forks workers (Puma's cluster master) leaves their jobs to them, as
      # GoodJob's advice for Puma (`before_fork { GoodJob.shutdown }`) does: its poller stops
      # at its first fork. A job that forks does not stop its own poller.
      def hand_jobs_to_children
        poller = @poller or return
        return if poller.job_thread?(Thread.current) || !poller.running?

        poller.shutdown(@settings.shutdown_timeout)
        logger.info "good_cron: poller stopped in the parent of forked workers (pid #{::Process.pid})"
      end

      def stop(timeout = STOP_TIMEOUT)
        scheduler = @scheduler
        poller = @poller
        @scheduler = @poller = nil
        stop_scheduler(scheduler, timeout) if scheduler
        return unless poller

        running = poller.running?
        finished = poller.shutdown(@settings.shutdown_timeout)
        logger.info "good_cron: poller stopped (pid #{::Process.pid})#{"; running jobs were released" unless finished}" if running
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
      def configured_scheduler(settings = RailsConfig.new(::Rails.application.config.good_job), database_url: nil,
                               logger: self.logger)
        Scheduler.new(settings.cron, database_url: database_url || self.database_url, logger: logger,
                                     graceful_restart_period: settings.graceful_restart_period,
                                     enqueue: ::Rails.application.config.good_cron.enqueue || :auto)
      end

      # `config.good_cron.database_url`, else the app's ActiveRecord database (which already
      # reflects DATABASE_URL); nil without either (GoodCron.database_url falls back to DATABASE_URL).
      def database_url
        ::Rails.application.config.good_cron.database_url.presence || active_record_url
      end

      private

      def start_scheduler(settings)
        @scheduler = configured_scheduler(settings)
        @scheduler.start
        logger.info "good_cron: cron scheduler started with #{settings.cron.size} entries (pid #{::Process.pid})"
      end

      # GoodJob's async execution mode: jobs run on threads of this server process.
      def start_poller(settings)
        @poller = Poller.new(database_url: database_url, queues: settings.queues, max_threads: settings.max_threads,
                             poll_interval: settings.poll_interval, max_cache: settings.max_cache,
                             listen: settings.enable_listen_notify?, logger: logger, cron_enabled: settings.enable_cron?)
        @poller.start
        logger.info "good_cron: poller started, queues #{settings.queues.inspect} (pid #{::Process.pid})"
      end

      def stop_scheduler(scheduler, timeout)
        running = scheduler.running?
        if !scheduler.stop(timeout)
          logger.warn "good_cron: the cron scheduler did not stop within #{timeout} s (pid #{::Process.pid})"
        elsif running
          logger.info "good_cron: cron scheduler stopped (pid #{::Process.pid})"
        end
      end

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
        RailsConfig.postgres_url(db_config.configuration_hash) or
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
