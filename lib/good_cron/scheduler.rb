# frozen_string_literal: true

require "json"
require "logger"
require "active_job"
require_relative "configuration"
require_relative "cron_entry"
require_relative "engine_owner"

module GoodCron
  # Runs GoodJob's cron hash exactly once per instant across every process sharing the
  # database. The timing and the SQL live in the Rust engine; this class validates the
  # configuration, and on a Ruby thread it logs what the engine reports, publishes it as
  # ActiveSupport::Notifications events, and enqueues the runs that need Ruby.
  #
  #   scheduler = GoodCron::Scheduler.new({ sync: { cron: "every minute", class: "SyncJob" } },
  #                                       database_url: ENV["DATABASE_URL"])
  #   scheduler.start
  #   scheduler.shutdown(timeout: 5)
  class Scheduler
    include EngineOwner

    # An entry with its state in the database.
    Entry = Struct.new(:key, :schedule, :next_at, :last_at, :enabled, keyword_init: true) do
      def enabled?
        enabled
      end
    end

    # How long stop waits for the event thread once the engine stopped (it ends at once,
    # unless a subscriber blocks).
    THREAD_WAIT = 1

    attr_reader :database_url, :graceful_restart_period, :logger

    # +cron_hash+: GoodJob's cron hash (default: the configuration's). +configuration+: a
    # Configuration, whose enqueue, cron_graceful_restart_period and claim_timeout it runs with;
    # without one, +options+ give them in plain Ruby: +enqueue+ (:auto, :good_jobs or
    # :active_job), +graceful_restart_period+ (seconds, 0 to a week, back from start that missed
    # runs are caught up) and +claim_timeout+ (seconds after which a run claimed by a process
    # that died before enqueuing it is taken over; default 30).
    def initialize(cron_hash = nil, configuration: nil, database_url: nil, logger: GoodCron.logger, **options)
      configuration = Configuration.for_engine(configuration, options.transform_keys(graceful_restart_period: :cron_graceful_restart_period))
      @cron_entries = CronEntry.all_from(cron_hash || configuration.cron, enqueue: configuration.enqueue)
      @by_key = @cron_entries.to_h { |entry| [entry.key, entry] }
      @database_url = Configuration.database_url(database_url)
      @graceful_restart_period = configuration.graceful_restart_period
      @claim_timeout = configuration.claim_timeout
      @logger = logger
      @mutex = Mutex.new
    end

    # Starts the engine in this process. Raises SchemaError when a table the entries need is
    # missing (GoodJob's for direct entries, good_cron_claims for the others); an unreachable
    # database is not an error (the engine retries and logs).
    def start
      engine_lock do
        return true if @native&.running?

        @native = NativeScheduler.start(JSON.generate(native_config))
        own_engine!
        native = @native
        @events = Thread.new { deliver_events(native) }
        @events.name = "good_cron events"
        GoodCron.scheduler ||= self
        true
      end
    end

    # Stops the engine, letting the enqueues it handed over finish first. +timeout+ (seconds) as
    # GoodJob's shutdown(timeout:): nil stops on a thread of its own and returns nil at once;
    # -1 waits as long as it takes; 0 or N > 0 waits up to that long. True once stopped.
    def shutdown(timeout: -1)
      if timeout.nil?
        Thread.new { shutdown(timeout: -1) }.name = "good_cron scheduler shutdown" if @native
        return nil
      end
      engine_lock do
        return true unless @native

        deadline = monotonic_now + timeout unless timeout.negative?
        finish_enqueues(deadline)
        stopped = @native.stop(deadline && [deadline - monotonic_now, 0].max)
        if stopped
          @events&.join(THREAD_WAIT) unless @events == Thread.current
          @native = @events = nil
          GoodCron.scheduler = nil if GoodCron.scheduler.equal?(self)
        end
        stopped
      end
    end

    # Each entry with its schedule, next run, last run (from the database) and enabled state
    # (GoodJob's good_job_settings rows and the entry's enabled_by_default).
    def entries
      states = NativeScheduler.entry_states(database_url, @cron_entries.map(&:key), @cron_entries.map(&:enabled_by_default))
      @cron_entries.zip(states).map do |entry, (_key, last_at, enabled)|
        last_at &&= Time.at(last_at)
        enabled = enabled?(entry) if entry.enabled_by_default.nil?
        next_at = entry.schedule ? entry.schedule.next_at : safely(entry) { entry.next_at_after(last_at) }
        Entry.new(key: entry.key, schedule: entry.schedule, next_at: next_at, last_at: last_at, enabled: enabled)
      end
    end

    # Enqueues a manual run of +key+ now. It has no cron_at, so it never collides with a
    # scheduled run, and it ignores enable/disable, as GoodJob's "enqueue now" does.
    # Returns the job id (nil when a class Proc enqueued by itself).
    def enqueue_now(key)
      entry = entry!(key)
      job_id = if entry.direct?
                 NativeScheduler.enqueue_now(database_url, JSON.generate(entry.to_native))
               else
                 entry.enqueue_now(nil)
               end
      instrument("enqueued_now") { { key: entry.key, job_id: job_id } }
      job_id
    end

    # Turns +key+ off (or on) for every process, through GoodJob's good_job_settings rows.
    def disable(key)
      NativeScheduler.set_enabled(database_url, entry!(key).key, false)
    end

    def enable(key)
      NativeScheduler.set_enabled(database_url, entry!(key).key, true)
    end

    private

    def entry!(key)
      @by_key.fetch(key.to_s) { raise ArgumentError, "no cron entry #{key.inspect} (entries: #{@by_key.keys.join(", ")})" }
    end

    def native_config
      {
        database_url: database_url,
        graceful_restart_period: graceful_restart_period,
        claim_timeout: @claim_timeout,
        entries: @cron_entries.map(&:to_native),
      }
    end

    def forget_engine
      @native = @events = nil
    end

    # Lets the event thread finish the enqueues it was handed (up to +deadline+), so the
    # engine records them before it stops and no other process takes them over.
    def finish_enqueues(deadline)
      return unless @events&.alive? && @events != Thread.current

      @native.quiesce
      @events.join(deadline && [deadline - monotonic_now, 0].max)
    end

    def deliver_events(native)
      while (event = native.next_event)
        break if event.is_a?(Events::Quiesced)

        deliver_safely(native, event)
      end
    end

    # One event; a failure (a raising subscriber, a logger) is logged and the next one goes on.
    def deliver_safely(native, event)
      deliver(native, event)
    rescue StandardError => e
      logger.error("good_cron: handling #{event.inspect} raised #{e.class}: #{e.message}")
    end

    def deliver(native, event)
      case event
      when Events::Log then log_line(event)
      when Events::Next then schedule_next(native, event)
      when Events::Claimed
        publish_outcome(event.outcome, event.caught_up) { event.payload.merge(job_id: event.job_id, enqueue: :good_jobs) }
      when Events::Skipped then publish_outcome(event.outcome, event.caught_up) { event.payload }
      when Events::Failed
        logger.error("good_cron: could not claim #{event.key} at #{Time.at(event.cron_at).utc}: #{event.error}")
        instrument("failed") { event.payload.merge(error: event.error) }
      when Events::Enqueue then enqueue_run(native, @by_key.fetch(event.key), event)
      end
    end

    # Builds the payload only when someone listens: a losing process hears of every row.
    def publish_outcome(outcome, caught_up, &payload)
      name = case outcome
             when :claimed then caught_up ? "caught_up" : "claimed"
             when :duplicate then "skipped_duplicate"
             when :stale then "skipped_stale"
             else "skipped_disabled"
             end
      if outcome == :claimed && logger.debug?
        run = payload.call
        logger.debug("good_cron: enqueued #{run[:key]} for #{run[:cron_at].utc} as #{run[:job_id]} (#{(run[:lateness] * 1000).round(1)} ms late)")
      end
      instrument(name, &payload)
    end

    # The ledger path: this process won the run; enqueue it and tell the engine, which records
    # the job id before the next run is enqueued. An enqueue that raises is handed over again
    # by the engine (with backoff, logged there), not dropped. A Proc enabled_by_default is
    # called only when GoodJob's settings do not decide.
    def enqueue_run(native, entry, event)
      run = event.payload
      unless event.enabled? { entry.enabled_by_default_now }
        native.enqueue_skipped(entry.key, event.cron_at, "skipped: disabled")
        return instrument("skipped_disabled") { run }
      end
      begin
        job_id = entry.enqueue_now(run[:cron_at])
      rescue StandardError => e
        error = "#{e.class}: #{e.message}"
        native.enqueue_raised(entry.key, event.cron_at, error)
        return instrument("failed") { run.merge(error: error) }
      end
      native.enqueued(entry.key, event.cron_at, job_id)
      publish_outcome(:claimed, event.caught_up) { run.merge(job_id: job_id, enqueue: :active_job) }
    end

    # A Proc schedule: the engine asks for the run after the one it names (nil: it never ran).
    def schedule_next(native, event)
      entry = @by_key.fetch(event.key)
      at = safely(entry) { entry.next_at_after(event.after && Time.at(event.after)) }
      native.schedule_next(entry.key, at&.to_i)
    end

    # A Proc's enabled_by_default, with GoodJob's settings applied.
    def enabled?(entry)
      _key, _last, enabled = NativeScheduler.entry_states(database_url, [entry.key], [entry.enabled_by_default_now]).first
      enabled
    end

    def safely(entry)
      yield
    rescue StandardError => e
      logger.error("good_cron: the cron Proc of #{entry.key} raised #{e.class}: #{e.message}; it will not run again until restarted")
      nil
    end

    def instrument(name)
      name = "#{name}.good_cron"
      ActiveSupport::Notifications.instrument(name, yield) if ActiveSupport::Notifications.notifier.listening?(name)
    end

    def monotonic_now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
