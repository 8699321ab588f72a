# frozen_string_literal: true

require "json"
require "active_job"

module ActiveJob
  module QueueAdapters
    # The ActiveJob adapter `:good_cron`: writes GoodJob-format rows to good_jobs (one
    # statement per call) and wakes pollers with `NOTIFY good_job`, so `good_cron start` or
    # GoodJob's own workers run them.
    #
    #   config.active_job.queue_adapter = :good_cron
    #
    # Inside an ActiveRecord transaction the row and its NOTIFY are written on that
    # transaction's connection, so they commit or roll back with the app's data; outside one,
    # on the engine's own connection (as fast, without holding an ActiveRecord connection).
    class GoodCronAdapter
      # The name of the enqueue statement in ActiveRecord's log.
      SQL_NAME = "GoodCron Enqueue"

      # +database_url+: by default the app's database (the Railtie's: config.good_cron's, else
      # ActiveRecord's) or DATABASE_URL. An adapter given a database of its own, or an app whose
      # config.good_cron.database_url names one, never writes on ActiveRecord's connection.
      # +execution_mode+: by default GoodCron.execution_mode (GoodJob's setting); :inline
      # performs each job due now inside perform_later.
      def initialize(database_url: nil, execution_mode: nil)
        @database_url = database_url
        @execution_mode = execution_mode &&
                          GoodCron::Settings.choice(:execution_mode, execution_mode, GoodCron::Configuration::EXECUTION_MODES,
                                                    subject: "the :good_cron adapter")
        @mutex = Mutex.new
      end

      def enqueue(job)
        enqueue_at(job, nil)
      end

      def enqueue_at(job, timestamp)
        execution = GoodCron::Poller.current_job
        if execution && execution.id == job.job_id
          # retry_on from inside the job: the same row runs again, as GoodJob does.
          fields = fields(job, timestamp || Time.now)
          execution.retry_with(*fields.values_at(:serialized_params, :scheduled_at, :queue_name, :priority))
        elsif inline_now?(job, timestamp)
          perform_inline(job)
        else
          write([row(job, timestamp)])
        end
        job.provider_job_id = job.job_id
        job
      end

      # Rails 7.1+'s perform_all_later: every job in one statement.
      def enqueue_all(jobs)
        inline, later = jobs.partition { |job| inline_now?(job, job.scheduled_at) }
        write(later.map { |job| row(job, job.scheduled_at) }) if later.any?
        inline.each { |job| perform_inline(job) }
        jobs.each do |job|
          job.provider_job_id = job.job_id
          job.successfully_enqueued = true if job.respond_to?(:successfully_enqueued=)
        end
        jobs.size
      end

      # GoodJob's name: whether jobs due now are performed at enqueue.
      def execute_inline?
        (@execution_mode || GoodCron.execution_mode) == :inline
      end

      # Rails 7.2's question: should ActiveJob hold back an enqueue made inside a transaction
      # until that commits? No: the row is written in the transaction itself, so it commits or
      # rolls back with it (GoodJob's adapter answers the same).
      def enqueue_after_transaction_commit?
        false
      end

      private

      # Under :inline, a job due now (GoodJob's test: no time, or one not in the future).
      def inline_now?(job, timestamp)
        execute_inline? &&
          (timestamp.nil? || GoodCron::Settings.time(:scheduled_at, timestamp, numeric: true, subject: "the job #{job.class.name}") <= Time.now.to_f)
      end

      # GoodJob's :inline: the job runs now, in this thread, from its serialized form (as a
      # worker would run it); its errors reach the caller. No row is written (GoodJob writes one
      # and marks it finished); a retry it schedules for later is written as any later job.
      def perform_inline(job)
        data = JSON.parse(serialize(job, "the job #{job.class.name}"))
        data["provider_job_id"] = job.job_id
        ActiveJob::Base.execute(data)
      end

      # The good_jobs row of +job+ (NativeEnqueuer::Job checks the id and times).
      def row(job, timestamp)
        GoodCron::NativeEnqueuer::Job.new(**fields(job, timestamp))
      end

      # The columns of +job+'s row, their values checked (ConfigurationError names a bad one).
      def fields(job, timestamp)
        subject = "the job #{job.class.name}"
        cron_key, cron_at = GoodCron::CronEntry.current_run
        scheduled_at = timestamp && GoodCron::Settings.time(:scheduled_at, timestamp, numeric: true, subject: subject)
        queue_name = GoodCron::Settings.string(:queue_name, job.queue_name || "", empty: true, subject: subject)
        # GoodJob writes priority 0 for a job without one.
        priority = GoodCron::Settings.integer(:priority, job.priority || 0, GoodCron::Settings::PRIORITIES, text: false, subject: subject)
        { id: job.job_id, queue_name: queue_name, priority: priority, job_class: job.class.name,
          serialized_params: serialize(job, subject), scheduled_at: scheduled_at, cron_key: cron_key, cron_at: cron_at&.to_f }
      end

      def serialize(job, subject)
        JSON.generate(job.serialize)
      rescue JSON::GeneratorError, EncodingError => e
        raise GoodCron::ConfigurationError.new(["arguments cannot be written as JSON (#{e.message.scrub}): " \
                                                "#{GoodCron::Settings.describe(job.arguments)}"], subject: subject)
      end

      def write(rows)
        return if rows.empty?

        connection = transaction_connection
        if connection
          sql, params = GoodCron::NativeEnqueuer.statement(rows)
          connection.exec_query(sql, SQL_NAME, params, prepare: true)
        else
          native.enqueue(rows)
        end
      end

      # ActiveRecord's connection of this thread if it has a transaction open and is the
      # adapter's database; nil otherwise (no connection is checked out to find out). Through
      # with_connection, which yields the thread's own: Rails 7.2 can forbid `connection`.
      def transaction_connection
        return unless app_database? && defined?(::ActiveRecord::Base)

        pool = ::ActiveRecord::Base.connection_pool
        return unless pool.active_connection?

        pool.with_connection { |connection| connection if connection.transaction_open? }
      rescue ::ActiveRecord::ConnectionNotEstablished
        nil
      end

      # Whether the adapter writes to the app's database, ActiveRecord's: it was given no
      # database of its own, nor was config.good_cron.database_url set.
      def app_database?
        return @app_database unless @app_database.nil?

        @app_database = @database_url.nil? &&
                        !(defined?(GoodCron::Railtie) && ::Rails.application.config.good_cron.database_url.present?)
      end

      def native
        @native || @mutex.synchronize do
          @native ||= GoodCron::NativeEnqueuer.new(GoodCron::Settings.database_url(:database_url, database_url, subject: "the :good_cron adapter"))
        end
      end

      def database_url
        @database_url || GoodCron.database_url or
          raise GoodCron::Error, "the :good_cron adapter needs a database: set DATABASE_URL or config.good_cron.database_url"
      end
    end
  end
end

module GoodCron
  # The adapter, under good_cron's name: `MyJob.queue_adapter = GoodCron::Adapter.new(database_url: …)`.
  Adapter = ActiveJob::QueueAdapters::GoodCronAdapter
end
