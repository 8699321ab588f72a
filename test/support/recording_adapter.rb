# frozen_string_literal: true

require "json"
require "pg"

# An ActiveJob queue adapter that is not GoodJob's: it records each enqueue as a row of its own
# table in PostgreSQL, so that tests can count the enqueues of several processes. Used by
# test/support/cron_process.rb with `--adapter recording`, and in-process by tests.
#
#   recorded_enqueues(job_id, cron_key, arguments, enqueued_at, pid)
#
# cron_key is read from the job's keyword arguments (`cron_key:`), which cron_process.rb passes
# in this mode; it is NULL for a job without one.
#
# GOOD_CRON_RECORDING_STALL=SECONDS makes the first enqueue of the process sleep that long
# before recording (a process stalled between claim and enqueue, to be SIGKILLed by a test);
# the process prints `{"stalled":pid}` on stdout when the stall starts.
class RecordingAdapter
  TABLE = <<~SQL
    CREATE TABLE IF NOT EXISTS recorded_enqueues (
        job_id text NOT NULL,
        cron_key text,
        arguments jsonb NOT NULL,
        enqueued_at timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
        pid integer NOT NULL
    )
  SQL

  # Creates the table (call it before starting the processes that record: concurrent CREATE
  # TABLE IF NOT EXISTS can log a unique violation in PostgreSQL's log).
  def self.create_table(conn)
    conn.exec(TABLE)
  end

  # The table, created if missing and emptied.
  def self.reset_table(conn)
    create_table(conn)
    conn.exec("TRUNCATE recorded_enqueues")
  end

  # +announce+: print `{"stalled":pid}` when the stall starts (for the parent of a process).
  def initialize(database_url = ENV.fetch("DATABASE_URL"), stall: ENV["GOOD_CRON_RECORDING_STALL"]&.to_f, announce: true)
    @database_url = database_url
    @stall = stall
    @announce = announce
    @lock = Mutex.new
  end

  def enqueue(job)
    record(job)
  end

  def enqueue_at(job, _timestamp)
    record(job)
  end

  def close
    @lock.synchronize do
      @conn&.close
      @conn = nil
    end
  end

  private

  def record(job)
    stall_once
    @lock.synchronize do
      @conn ||= PG.connect(@database_url)
      @conn.exec_params("INSERT INTO recorded_enqueues (job_id, cron_key, arguments, pid) VALUES ($1, $2, $3, $4)",
                        [job.job_id, cron_key_of(job), JSON.generate(job.serialize["arguments"]), Process.pid])
    end
    job.provider_job_id = job.job_id
    job
  end

  def stall_once
    return unless @stall

    seconds = @stall
    @stall = nil
    if @announce
      $stdout.puts JSON.generate(stalled: Process.pid)
      $stdout.flush
    end
    sleep seconds
  end

  def cron_key_of(job)
    options = job.arguments.last
    return nil unless options.is_a?(Hash)

    (options[:cron_key] || options["cron_key"])&.to_s
  end
end
