# frozen_string_literal: true

# Every exception class of the gem, declared here before the extension loads (it looks them
# up; lib/good_cron/native.rb requires this file first). Rescue by class, never by message.
module GoodCron
  # The base of the gem's own errors.
  class Error < StandardError; end

  # A schedule that does not parse (GoodCron::Schedule.parse, and the cron entries).
  class InvalidSchedule < ArgumentError; end

  # Every problem of a configuration (the cron hash, by default), reported together.
  class ConfigurationError < Error
    attr_reader :problems

    def initialize(problems, subject: "the cron configuration")
      @problems = problems
      super("good_cron: #{problems.size} problem#{"s" if problems.size > 1} in #{subject}:\n" +
            problems.map { |problem| "  - #{problem}" }.join("\n"))
    end
  end

  # GoodJob's tables or unique index (or good_cron's ledger) are missing.
  class SchemaError < Error; end

  # The database cannot be used as given; the subclasses below say why, and a plain
  # DatabaseError is TLS that the server or its certificate cannot give.
  class DatabaseError < Error; end

  # The database named does not exist (SQLSTATE 3D000).
  class MissingDatabase < DatabaseError; end

  # The database refused the credentials (SQLSTATE 28000, 28P01).
  class RefusedCredentials < DatabaseError; end

  # No connection to the database (refused, timed out, shutting down, full). Raised by the calls
  # that read or write once (GoodCron.entries, enable, disable, enqueue_now); a starting
  # engine never raises it: it logs the outage and retries.
  class UnreachableDatabase < DatabaseError; end

  # A good_jobs row the poller cannot run (its serialized_params are not a job); the job ends
  # with this error, as GoodJob ends one whose error nothing handled.
  class UnrunnableJob < Error; end
end
