# frozen_string_literal: true

require "json"
require "logger"
require "socket"
require "active_job"
require_relative "engine_owner"

module GoodCron
  # Runs the jobs in good_jobs on pools of Ruby threads. The Rust engine finds, locks and
  # records them (doc/poller.md); each thread here takes a job, runs it with
  # ActiveJob::Base.execute (so retry_on, discard_on, rescue_from and callbacks behave as
  # ActiveJob defines) and hands back how it ended, classified as GoodJob classifies it.
  #
  #   poller = GoodCron::Poller.new(database_url: ENV["DATABASE_URL"], queues: "mailers:2;*", max_threads: 5)
  #   poller.start
  #   poller.shutdown(25) # finish running jobs for up to 25 s, then release them
  class Poller
    include EngineOwner

    # GoodJob's error_event values.
    ERROR_EVENTS = { unhandled: 1, handled: 2, retried: 3, retry_stopped: 4, discarded: 5 }.freeze
    # How long a thread waits for a job before looking again (and so how long Thread#kill
    # may wait for it when it is idle).
    TAKE_WAIT = 0.2
    LOG_WAIT = 0.5
    # How long shutdown waits for the engine to release jobs and remove the process row.
    ENGINE_WAIT = 10
    SETTINGS = "the poller's settings"
    # Seconds a connection may take before the database counts as unreachable.
    CONNECT_TIMEOUT = 5
    # Seconds between refreshes of the process row: GoodJob's (Process::STALE_INTERVAL).
    HEARTBEAT_INTERVAL = 30

    # The job this thread is running (the adapter turns its retry into a reschedule).
    def self.current_job
      Thread.current[:good_cron_job]
    end

    attr_reader :queues, :max_threads, :poll_interval, :max_cache, :database_url, :logger
    # `[[queues, threads], …]`: the pools the queues setting describes (once started).
    attr_reader :pools

    # +queues+ and +max_threads+ as GoodJob reads them ("mailers:2;default,low"; threads per
    # pool without a count, 1 to 1000); +poll_interval+ in seconds, up to a week (≤ 0: only
    # LISTEN/NOTIFY and known scheduled times wake it); +max_cache+: how many upcoming
    # scheduled times it keeps (up to a million); +heartbeat_interval+: seconds between
    # refreshes of the good_job_processes row (0.001 up to a week). Numbers may be given as
    # text ("5").
    def initialize(database_url: nil, queues: "*", max_threads: 5, poll_interval: 10, max_cache: 10_000,
                   listen: true, logger: GoodCron.logger, cron_enabled: false, connect_timeout: CONNECT_TIMEOUT,
                   heartbeat_interval: HEARTBEAT_INTERVAL)
      @database_url = database_url || GoodCron.database_url or
        raise ArgumentError, "good_cron needs a database: pass database_url: or set DATABASE_URL"
      @database_url = Settings.database_url(:database_url, @database_url, subject: SETTINGS)
      @queues = read_queues(queues)
      @max_threads = Settings.integer(:max_threads, max_threads, 1..Settings::MAX_THREADS, subject: SETTINGS)
      @poll_interval = Settings.seconds(:poll_interval, poll_interval, -Settings::MAX_PERIOD..Settings::MAX_PERIOD,
                                        subject: SETTINGS)
      @max_cache = Settings.integer(:max_cache, max_cache, 0..Settings::MAX_CACHE, subject: SETTINGS)
      @connect_timeout = Settings.seconds(:connect_timeout, connect_timeout, 0..Settings::MAX_CONNECT_TIMEOUT,
                                          positive: true, subject: SETTINGS)
      @heartbeat_interval = Settings.seconds(:heartbeat_interval, heartbeat_interval,
                                             Settings::MIN_HEARTBEAT_INTERVAL..Settings::MAX_PERIOD, subject: SETTINGS)
      @listen = listen ? true : false
      @cron_enabled = cron_enabled
      @logger = logger
      @mutex = Mutex.new
    end

    # Starts the engine and the threads, within the connect timeout. Raises SchemaError when
    # GoodJob's tables are missing, DatabaseError for refused credentials or a missing
    # database, ConfigurationError for a bad URL; an unreachable database is not an error (the
    # engine logs it at once and retries). At exit, a poller still running is shut down.
    def start
      @mutex.synchronize do
        forget_forked_parent
        return self if @native

        ErrorEvents.subscribe
        at_exit { shutdown(0) } unless @exit_hook
        @exit_hook = true
        native = NativePoller.start(JSON.generate(native_config))
        @native = native
        own_engine!
        @pools = native.pools
        @threads = @pools.each_with_index.flat_map do |(queues, count), pool|
          Array.new(count) do |i|
            Thread.new { work(native, pool) }.tap { |thread| thread.name = "good_cron #{queues} #{i + 1}" }
          end
        end
        @logs = Thread.new { deliver_logs(native) }
        @logs.name = "good_cron poller logs"
        self
      end
    end

    # Stops taking jobs, releases those taken but not started, waits up to +timeout+
    # seconds (nil or negative: as long as they take) for the running ones, then kills and
    # releases what still runs (they run again elsewhere; the attempt is recorded as
    # interrupted). True when every running job finished.
    def shutdown(timeout = -1)
      @mutex.synchronize do
        forget_forked_parent
        native = @native or return true

        native.close(ENGINE_WAIT)
        deadline = timeout.nil? || timeout.negative? ? nil : monotonic_now + timeout
        finished = @threads.map { |thread| thread.join(deadline && [deadline - monotonic_now, 0].max) }.all?
        unless finished
          @threads.each(&:kill).each { |thread| thread.join(TAKE_WAIT * 5) }
        end
        logger.warn("good_cron: the poller did not stop within #{ENGINE_WAIT} s") unless native.stop(ENGINE_WAIT)
        @logs.join(LOG_WAIT * 2)
        @native = @threads = @logs = nil
        finished
      end
    end

    def running?
      !!(@native && engine_owned? && @native.running?)
    end

    # Why the engine stopped on its own (it kept failing), or nil.
    def failure
      @native&.failure
    end

    # Whether +thread+ is one that runs this poller's jobs.
    def job_thread?(thread)
      !!@threads&.include?(thread)
    end

    # The id of this process's row in good_job_processes (its jobs' locked_by_id).
    def process_id
      @native&.process_id
    end

    private

    # GoodJob's queues string; each pool's own thread count ("mailers:2") within max_threads' range.
    def read_queues(queues)
      text = Settings.string(:queues, queues, empty: true, subject: SETTINGS)
      text.split(";").each do |pool|
        _, colon, count = pool.rpartition(":")
        next if colon.empty?

        Settings.integer("queues (the thread count of #{pool.strip.inspect})", count, 1..Settings::MAX_THREADS, subject: SETTINGS)
      end
      text
    end

    def native_config
      {
        database_url: database_url,
        queues: queues,
        max_threads: max_threads,
        poll_interval: poll_interval,
        max_cache: max_cache,
        listen: @listen,
        connect_timeout: @connect_timeout.to_f,
        heartbeat_interval: @heartbeat_interval,
        process_state: JSON.generate(process_state),
      }
    end

    # What GoodJob's dashboard shows of a process.
    def process_state
      {
        hostname: Socket.gethostname,
        pid: Process.pid,
        proctitle: $PROGRAM_NAME,
        preserve_job_records: true,
        retry_on_unhandled_error: false,
        cron_enabled: @cron_enabled,
        schedulers: [{ name: "good_cron", queues: queues, max_threads: max_threads, poll_interval: poll_interval }],
      }
    end

    def forget_engine
      @native = @threads = @logs = nil
    end

    def work(native, pool)
      while (job = native.take(pool, TAKE_WAIT)) != false
        execute(native, job) if job
      end
    end

    def execute(native, job)
      errors = ErrorEvents.track
      Thread.current[:good_cron_job] = job
      begin
        data = params(job)
        data["provider_job_id"] = job.id
        value = ActiveJob::Base.execute(data)
        error = value.is_a?(Exception) ? value : errors[:retried] || errors[:discarded]
        event = error && (errors.key(error) || :handled)
      rescue Exception => e # rubocop:disable Lint/RescueException -- recorded, and the thread goes on
        error = e
        event = errors[:retry_stopped].equal?(e) ? :retry_stopped : :unhandled
      ensure
        Thread.current[:good_cron_job] = nil
        ErrorEvents.untrack
      end
      report(native, job, error, event)
    end

    # The job's serialized_params (a JSON object: the engine ends rows that are not one).
    def params(job)
      JSON.parse(job.serialized_params)
    rescue JSON::ParserError => e
      raise UnrunnableJob, "serialized_params cannot be read: #{e.message}"
    end

    def report(native, job, error, event)
      if error
        native.finish(job, "#{error.class}: #{error.message}", ERROR_EVENTS.fetch(event),
                      error.backtrace && JSON.generate(error.backtrace))
      else
        native.finish(job, nil, nil, nil)
      end
    end

    def deliver_logs(native)
      while (event = native.next_log(LOG_WAIT)) != false
        next unless event

        log_line(event)
      end
    end

    def monotonic_now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    # ActiveJob reports how a job's error was handled through notifications, on the job's
    # thread; GoodJob reads them the same way to pick an error_event.
    module ErrorEvents
      NAMES = {
        "enqueue_retry.active_job" => :retried,
        "retry_stopped.active_job" => :retry_stopped,
        "discard.active_job" => :discarded,
      }.freeze

      def self.subscribe
        @subscribe ||= NAMES.each do |name, event|
          ActiveSupport::Notifications.subscribe(name) do |*, payload|
            errors = Thread.current[:good_cron_errors]
            errors[event] = payload[:error] if errors && payload[:error]
          end
        end
      end

      def self.track
        Thread.current[:good_cron_errors] = {}
      end

      def self.untrack
        Thread.current[:good_cron_errors] = nil
      end
    end
  end
end
