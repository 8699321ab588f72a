# frozen_string_literal: true

require_relative "configuration"

module GoodCron
  # The one owner of good_cron's engines, as GoodJob's Capsule is of its own: built from one
  # Configuration, it builds, starts and stops the cron engine (GoodCron::Scheduler, what
  # GoodJob's CronManager does) and the job engine (GoodCron::Poller, GoodJob's Scheduler,
  # Poller and Notifier). The Railtie, `good_cron start` and a plain Ruby process use it.
  #
  #   configuration = GoodCron::Configuration.new(enable_cron: true, cron: { sync: { cron: "every minute", class: "SyncJob" } })
  #   capsule = GoodCron::Capsule.new(configuration, database_url: ENV["DATABASE_URL"])
  #   capsule.start
  #   capsule.shutdown(timeout: 25) # running jobs get up to 25 s, then are released
  class Capsule
    @started = []
    @started_lock = Mutex.new

    # The capsules started in this process (GoodCron.shutdown stops them).
    def self.started
      @started_lock.synchronize { @started.dup }
    end

    # Capsule#start's: +capsule+ is one of them.
    def self.register(capsule)
      @started_lock.synchronize { @started |= [capsule] }
    end

    attr_reader :configuration, :scheduler, :poller

    # +cron+ and +jobs+: which engines this process runs (by default the cron engine where
    # cron is enabled, and the job engine). Builds them (checking their settings); starts none.
    def initialize(configuration = Configuration.new, database_url: nil, logger: GoodCron.logger,
                   cron: configuration.enable_cron?, jobs: true)
      @configuration = configuration
      @logger = logger
      database_url = Configuration.database_url(database_url)
      @scheduler = Scheduler.new(configuration: configuration, database_url: database_url, logger: logger) if cron
      @poller = Poller.new(configuration: configuration, database_url: database_url, logger: logger) if jobs
    end

    # Starts both engines (again in a forked child, which forgets its parent's). Raises as
    # Poller#start and Scheduler#start do.
    def start
      start_jobs
      start_cron
    end

    # The job engine alone (`good_cron start` starts cron only once the jobs run).
    def start_jobs
      Capsule.register(self)
      @poller&.start
      self
    end

    def start_cron
      Capsule.register(self)
      @scheduler&.start
      self
    end

    # Whether every engine it has is running.
    def running?
      engines.any? && engines.values.all?(&:running?)
    end

    # Why an engine stopped on its own ("the poller stopped: …"), or nil while both run.
    def failure
      engines.each do |name, engine|
        return "the #{name} stopped: #{engine.failure || "for no reason it gave"}" unless engine.running?
      end
      nil
    end

    # Stops both engines with GoodJob's meanings of +timeout+ (seconds): nil signals the
    # shutdown and returns at once; -1 waits as long as running jobs take; 0 stops now;
    # N > 0 waits up to N seconds, then kills and releases the jobs still running. The cron
    # engine gets at most CRON_SHUTDOWN_TIMEOUT of it to record what it enqueued. True when
    # every running job finished (nil when not waited for).
    def shutdown(timeout: @configuration.shutdown_timeout)
      deadline = monotonic_now + timeout if timeout && !timeout.negative?
      stop_cron(timeout) if @scheduler
      return true unless @poller

      @poller.shutdown(timeout: deadline ? [deadline - monotonic_now, 0].max : timeout)
    end

    private

    def engines
      { "poller" => @poller, "cron scheduler" => @scheduler }.compact
    end

    def stop_cron(timeout)
      limit = Configuration::CRON_SHUTDOWN_TIMEOUT
      limit = [timeout, limit].min unless timeout.nil? || timeout.negative?
      return if @scheduler.shutdown(timeout: timeout && limit) != false

      @logger.warn "good_cron: the cron scheduler did not stop within #{limit} s (pid #{::Process.pid})"
    end

    def monotonic_now
      ::Process.clock_gettime(::Process::CLOCK_MONOTONIC)
    end
  end
end
