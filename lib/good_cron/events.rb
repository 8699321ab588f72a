# frozen_string_literal: true

module GoodCron
  # What the engines tell the Ruby side, as the extension builds them
  # (ext/good_cron/src/events.rs, ext/good_cron/src/log.rs): one Struct per kind of event.
  # Times are Unix seconds.
  module Events
    # A log line of either engine; +level+ is the Logger method to call (:info, :warn, :error).
    Log = Struct.new(:level, :message)

    # What a run's events share: the entry's key, its instant, how late (seconds) it was
    # claimed, and whether a catch-up (not the instant's own tick) claimed it.
    module Run
      # The payload of the run's notifications.
      def payload
        { key: key, cron_at: Time.at(cron_at), lateness: lateness }
      end
    end

    # A direct run's +outcome+ (:claimed, :duplicate, :disabled), with the +job_id+ of the
    # row this process inserted.
    Claimed = Struct.new(:key, :cron_at, :lateness, :caught_up, :outcome, :job_id) { include Run }
    # The claim statement failed (+error+): the database is away; catch-up retries it.
    Failed = Struct.new(:key, :cron_at, :lateness, :caught_up, :error) { include Run }
    # A ledger-path run this process won: Ruby enqueues it. Whether GoodJob's settings list
    # its key in cron_keys_enabled and in cron_keys_disabled (with the entry's default, they
    # decide whether it is enabled).
    Enqueue = Struct.new(:key, :cron_at, :lateness, :caught_up, :listed_enabled, :listed_disabled) do
      include Run

      # GoodJob's rule (GoodJob::Setting.cron_key_enabled?); the block gives the entry's
      # default, asked only when the settings do not decide alone.
      def enabled?
        return listed_enabled if listed_enabled != listed_disabled

        yield ? !listed_disabled : listed_enabled
      end
    end
    # A ledger-path run not for this process: +outcome+ :duplicate, :disabled or :stale.
    Skipped = Struct.new(:key, :cron_at, :lateness, :caught_up, :outcome) { include Run }
    # The engine asks for the next instant of a Proc-scheduled entry after +after+ (its run
    # just due, or at start its last run in the database; nil: it never ran).
    Next = Struct.new(:key, :after)
    # After a quiesce: every Enqueue was sent, no more will be.
    class Quiesced; end
  end
end
