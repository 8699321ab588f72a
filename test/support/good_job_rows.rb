# frozen_string_literal: true

require "json"

# Reads what a poller wrote in GoodJob's tables, for a test class that has `database`
# (TestDatabase::Helper) and `wait_for` (Waiting).
module GoodJobRows
  # GoodJob's advisory lock key expression for a string key ($1), e.g. 'good_jobs-<uuid>'.
  LOCK_KEY = "('x' || substr(md5($1::text), 1, 16))::bit(64)::bigint"

  # Inserts +job+ (an ActiveJob instance) as GoodJob's adapter writes it (id = active_job_id =
  # job_id, serialized_params = job.serialize, scheduled_at = created_at = now), with +columns+
  # put in instead (nil: NULL; serialized_params as JSON text). Returns the id.
  def insert_job_row(conn, job, **columns)
    now = Time.now.utc.strftime("%F %T.%6N")
    values = { id: job.job_id, active_job_id: job.job_id, job_class: job.class.name, queue_name: job.queue_name,
               priority: job.priority || 0, serialized_params: JSON.generate(job.serialize), scheduled_at: now,
               created_at: now, updated_at: now }.merge(columns)
    placeholders = Array.new(values.size) { |i| "$#{i + 1}" }.join(", ")
    conn.exec_params("INSERT INTO good_jobs (#{values.keys.join(", ")}) VALUES (#{placeholders})", values.values)
    values[:id]
  end

  def job_id_of(job)
    job.respond_to?(:job_id) ? job.job_id : job
  end

  # The good_jobs row of +job+ (a job or an id), with times also as Unix seconds (*_epoch)
  # and on_time: performed_at >= scheduled_at.
  def job_row(job)
    database.with_connection do |conn|
      conn.exec_params(<<~SQL, [job_id_of(job)]).first
        SELECT *, extract(epoch FROM scheduled_at)::float8 AS scheduled_epoch,
               extract(epoch FROM performed_at)::float8 AS performed_epoch,
               (performed_at >= scheduled_at) AS on_time, (finished_at >= performed_at) AS finished_after_start
        FROM good_jobs WHERE id = $1
      SQL
    end&.then { |row| row.to_h { |key, value| [key, key.end_with?("_epoch") && value ? value.to_f : value] } }
  end

  # The good_job_executions rows of +job+, oldest attempt first, with the backtrace's size
  # and the frames as one text.
  def execution_rows(job)
    database.with_connection do |conn|
      conn.exec_params(<<~SQL, [job_id_of(job)]).to_a
        SELECT *, cardinality(error_backtrace) AS backtrace_size, array_to_string(error_backtrace, E'\\n') AS backtrace_text,
               (finished_at >= created_at) AS finished_after_start, extract(epoch FROM created_at)::float8 AS created_epoch
        FROM good_job_executions WHERE active_job_id = $1 ORDER BY created_at, finished_at NULLS LAST
      SQL
    end
  end

  def process_rows
    database.with_connection { |conn| conn.exec("SELECT id, lock_type FROM good_job_processes ORDER BY created_at").to_a }
  end

  def count_sql(sql, *params)
    database.with_connection { |conn| conn.exec_params(sql, params).getvalue(0, 0).to_i }
  end

  def finished_count(ids)
    count_sql("SELECT count(*) FROM good_jobs WHERE id = ANY($1::uuid[]) AND finished_at IS NOT NULL",
              PG::TextEncoder::Array.new.encode(ids))
  end

  # Waits until every one of +jobs+ (jobs or ids) has finished_at; fails the test otherwise.
  def wait_finished(*jobs, timeout: 30)
    ids = jobs.flatten.map { |job| job_id_of(job) }
    return if wait_for(timeout) { finished_count(ids) == ids.size }

    rows = database.with_connection do |conn|
      conn.exec("SELECT id, queue_name, priority, scheduled_at, performed_at, finished_at, locked_by_id, error, error_event " \
                "FROM good_jobs ORDER BY created_at").to_a
    end
    flunk "#{ids.size - finished_count(ids)} of #{ids.size} jobs did not finish within #{timeout} s:\n" \
          "#{rows.map(&:inspect).join("\n")}#{"\n#{diagnostics}" if respond_to?(:diagnostics, true)}"
  end

  # Whether a fresh session can take GoodJob's advisory lock on +key+ (it releases it at once).
  def lock_free?(key)
    database.with_connection do |conn|
      locked = conn.exec_params("SELECT pg_try_advisory_lock(#{LOCK_KEY})", [key]).getvalue(0, 0) == "t"
      conn.exec_params("SELECT pg_advisory_unlock(#{LOCK_KEY})", [key]) if locked
      locked
    end
  end

  # Asserts +job+ never started: no perform, no lock, no execution row.
  def assert_not_started(job, message = nil)
    row = job_row(job)
    assert_nil row["performed_at"], message
    assert_nil row["finished_at"], message
    assert_nil row["locked_by_id"], message
    assert_empty execution_rows(job), message
  end
end
