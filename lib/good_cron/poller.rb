# frozen_string_literal: true

require "json"
require "logger"
require "socket"
require "active_job"
require_relative "configuration"
require_relative "engine_owner"

module GoodCron
  # Runs the jobs in good_jobs on pools of Ruby threads. The Rust engine finds, locks and
  # records them (doc/poller.md); each thread here takes a job, runs it with
  # ActiveJob::Base.execute (so retry_on, discard_on, rescue_from and callbacks behave as
  # ActiveJob defines) and hands back how it ended, classified as GoodJob classifies it.
  #
  #   poller = GoodCron::Poller.new(database_url: ENV["DATABASE_URL"], queues: "mailers:2;*", max_threads: 5)
  #   poller.start
  #   poller.shutdown(timeout: 25) # finish running jobs for up to 25 s, then release them
  class Poller
    include EngineOwner

    # GoodJob's error_event values.
    ERROR_EVENTS = { unhandled: 1, handled: 2, retried: 3, retry_stopped: 4, discarded: 5 }.freeze
    # How long shutdown waits for a thread that was told to end (a killed job thread, the log
    # thread once the engine stopped): at once, unless a job is stuck in code that ignores
    # Thread#kill.
    THREAD_WAIT = 1
    # How long shutdown waits for the engine to release jobs and remove the process row.
    ENGINE_WAIT = 10

    # The job this thread is running (the adapter turns its retry into a reschedule).
    def self.current_job
      Thread.current[:good_cron_job]
    end

    attr_reader :queues, :max_threads, :poll_interval, :max_cache, :database_url, :logger
    # `[[queues, threads], …]`: the pools the queues setting describes (once started).
    attr_reader :pools

    # +configuration+: a Configuration, whose queues, max_threads, poll_interval, max_cache,
    # enable_listen_notify, connect_timeout and heartbeat_interval it runs with (and
    # enable_cron?, which GoodJob's dashboard shows); without one, +options+ give those in plain
    # Ruby (`queues: "mailers:2;*", max_threads: 5`), checked by a Configuration all the same.
    def initialize(configuration: nil, database_url: nil, logger: GoodCron.logger, **options)
      configuration = Configuration.for_engine(configuration, options)
      @database_url = Configuration.database_url(database_url)
      @queues = configuration.queues
      @max_threads = configuration.max_threads
      @poll_interval = configuration.poll_interval
      @max_cache = configuration.max_cache
      @listen = configuration.enable_listen_notify?
      @connect_timeout = configuration.connect_timeout
      @heartbeat_interval = configuration.heartbeat_interval
      @cron_enabled = configuration.enable_cron?
      @logger = logger
      @mutex = Mutex.new
    end

    # Starts the engine and the threads, within the connect timeout. Raises SchemaError when
    # GoodJob's tables are missing, DatabaseError for refused credentials or a missing
    # database, ConfigurationError for a bad URL; an unreachable database is not an error (the
    # engine logs it at once and retries). At exit, a poller still running is shut down.
    def start
      engine_lock do
        return self if @native

        ErrorEvents.subscribe
        at_exit { shutdown(timeout: 0) } unless @exit_hook
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

    # Stops taking jobs and releases those taken but not started. +timeout+ (seconds) as
    # GoodJob's shutdown(timeout:): nil returns nil at once (running jobs finish on their own;
    # a later shutdown, or the exit, stops the engine); -1 waits as long as running jobs take;
    # 0 stops now; N > 0 waits up to N seconds. Jobs still running then are killed and released
    # (they run again elsewhere; the attempt is recorded as interrupted). True when every
    # running job finished.
    def shutdown(timeout: -1)
      engine_lock do
        native = @native or return true
        if timeout.nil?
          native.close(0)
          return nil
        end

        native.close(ENGINE_WAIT)
        deadline = monotonic_now + timeout unless timeout.negative?
        finished = @threads.map { |thread| thread.join(deadline && [deadline - monotonic_now, 0].max) }.all?
        unless finished
          @threads.each(&:kill).each { |thread| thread.join(THREAD_WAIT) }
        end
        logger.warn("good_cron: the poller did not stop within #{ENGINE_WAIT} s") unless native.stop(ENGINE_WAIT)
        @logs.join(THREAD_WAIT)
        @native = @threads = @logs = nil
        finished
      end
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
      while (job = native.take(pool))
        execute(native, job)
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
      while (event = native.next_log)
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
