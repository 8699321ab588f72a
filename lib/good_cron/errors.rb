# frozen_string_literal: true

module GoodCron
  # Every problem of a configuration (the cron hash, by default), reported together.
  # (GoodCron::Error, InvalidSchedule and SchemaError are defined by the extension.)
  class ConfigurationError < Error
    attr_reader :problems

    def initialize(problems, subject: "the cron configuration")
      @problems = problems
      super("good_cron: #{problems.size} problem#{"s" if problems.size > 1} in #{subject}:\n" +
            problems.map { |problem| "  - #{problem}" }.join("\n"))
    end
  end

  # A good_jobs row the poller cannot run (its serialized_params are not a job); the job ends
  # with this error, as GoodJob ends one whose error nothing handled.
  class UnrunnableJob < Error; end
end
