# frozen_string_literal: true

require "json"
require "logger"
require "active_job"
require_relative "cron_entry"

module GoodCron
  # Runs GoodJob's cron hash exactly once per instant across every process sharing the
  # database. The timing and the SQL live in the Rust engine; this class validates the
  # configuration, serializes each entry's job once with ActiveJob, and logs what the engine
  # reports from a Ruby thread.
  #
  #   scheduler = GoodCron::Scheduler.new({ sync: { cron: "every minute", class: "SyncJob" } },
  #                                       database_url: ENV["DATABASE_URL"])
  #   scheduler.start
  #   scheduler.stop(5)
  class Scheduler
    # An entry with its state in the database.
    Entry = Struct.new(:key, :schedule, :next_at, :last_at, :enabled, keyword_init: true) do
      def enabled?
        enabled
      end
    end

    # How often the event thread wakes when nothing happens (and so how long it takes to
    # notice a stop it was not told about).
    EVENT_WAIT = 0.5

    attr_reader :database_url, :graceful_restart_period, :logger

    def initialize(cron_hash, database_url: nil, graceful_restart_period: nil, logger: GoodCron.logger)
      @cron_entries = CronEntry.all_from(cron_hash)
      @database_url = database_url || GoodCron.database_url or
        raise ArgumentError, "good_cron needs a database: pass database_url: or set DATABASE_URL"
      @graceful_restart_period = graceful_restart_period&.to_f
      @logger = logger
      @mutex = Mutex.new
    end

    # Starts the engine in this process. Raises SchemaError when GoodJob's tables are missing;
    # an unreachable database is not an error (the engine retries and logs).
    def start
      @mutex.synchronize do
        forget_forked_parent
        return true if @native&.running?

        @native = NativeScheduler.start(JSON.generate(native_config))
        @pid = Process.pid
        native = @native
        @events = Thread.new { deliver_events(native) }
        @events.name = "good_cron events"
        true
      end
    end

    # Stops the engine, waiting up to +timeout+ seconds (forever when nil); true once stopped.
    def stop(timeout = nil)
      @mutex.synchronize do
        forget_forked_parent
        return true unless @native

        deadline = timeout && (monotonic_now + timeout)
        # Wait in slices so that signals and Thread#raise still reach this thread.
        until (stopped = @native.stop(deadline ? (deadline - monotonic_now).clamp(0, 0.1) : 0.1))
          break if deadline && monotonic_now >= deadline
        end
        if stopped
          @events&.join(EVENT_WAIT * 2)
          @native = @events = nil
        end
        stopped
      end
    end

    def running?
      !!(@native && @pid == Process.pid && @native.running?)
    end

    # Each entry with its schedule, next run, last run (from the database) and enabled state
    # (GoodJob's good_job_settings rows and the entry's enabled_by_default).
    def entries
      states = NativeScheduler.entry_states(database_url, @cron_entries.map(&:key),
                                            @cron_entries.map(&:enabled_by_default))
      @cron_entries.zip(states).map do |entry, (_key, last_at, enabled)|
        Entry.new(key: entry.key, schedule: entry.schedule, next_at: entry.schedule.next_at,
                  last_at: last_at && Time.at(last_at), enabled: enabled)
      end
    end

    private

    def native_config
      {
        database_url: database_url,
        graceful_restart_period: graceful_restart_period,
        entries: @cron_entries.map(&:to_native),
      }
    end

    # After fork the engine's thread is gone in the child; the child starts its own.
    def forget_forked_parent
      return unless @pid && @pid != Process.pid

      @native = @events = @pid = nil
    end

    def deliver_events(native)
      while (event = native.next_event(EVENT_WAIT)) != false
        case event&.first
        when :log then logger.public_send(event[1], event[2])
        when :claimed
          _, key, cron_at, job_id, lateness = event
          logger.debug { "good_cron: enqueued #{key} for #{Time.at(cron_at).utc} as #{job_id} (#{(lateness * 1000).round(1)} ms late)" }
        end
      end
    rescue StandardError => e
      warn "good_cron: the event thread stopped: #{e.class}: #{e.message}"
    end

    def monotonic_now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
