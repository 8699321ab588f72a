# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/in_process_poller"
require "json"

# good_jobs rows a poller cannot run as they are (GoodJob's schema allows NULL in most columns,
# and any JSON in serialized_params), next to ordinary jobs: the ordinary jobs run once each;
# a bad row ends (finished, unlocked) with its error recorded as GoodJob records an unhandled
# one (error_event 1, one execution row), or runs if the bad value is harmless; the poller goes
# on running, and so does every poller started after it.
class PollerBadRowsTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include GoodJobRows
  include InProcessPoller

  JOURNAL = JobJournal.new

  class BaseJob < ActiveJob::Base; end

  class RecordJob < BaseJob
    def perform(name, *payload)
      JOURNAL.record(name: name, job_id: job_id, args: [name, *payload], kwargs: {}, queue: queue_name,
                     priority: priority, executions: executions)
    end
  end

  # A row that cannot be decoded: its error names the column.
  UNDECODABLE = /serialized_params/.freeze
  DEEP = 5_000

  # name => [columns put into a RecordJob row (JSON text, or a block of the job's serialize hash
  # giving the hash to write), expectation]: :runs, or the error (error_event 1) it ends with.
  CASES = {
    # NULL in each nullable column a new GoodJob row sets (the others are NULL in every new row).
    # GoodJob's "*" pool has no queue condition, and ActiveJob reads the queue from the params.
    "NULL queue_name" => [{ queue_name: nil }, :runs],
    # GoodJob orders by priority ASC NULLS LAST.
    "NULL priority" => [{ priority: nil }, :runs],
    # GoodJob's perform fails on nil.deep_dup.tap { … } and records an unhandled error.
    "NULL serialized_params" => [{ serialized_params: nil }, UNDECODABLE],
    # GoodJob 4.x's dequeue: early 4.x (job.rb @0198d988) had `only_scheduled` as
    # `scheduled_at <= now OR scheduled_at IS NULL` and ordered by COALESCE(scheduled_at,
    # created_at); 4.18 (@3b8f0472) dropped the NULL case (`scheduled_at <= now` only), so there
    # such a row is never run. good_cron follows early 4.x: NULL is due now, and the job runs.
    "NULL scheduled_at" => [{ scheduled_at: nil }, :runs],
    # GoodJob's executions belong to the job by its id; ActiveJob's job_id is in the params.
    "NULL active_job_id" => [{ active_job_id: nil }, :runs],
    # ActiveJob takes the class from the params; the column is for the dashboard.
    "NULL job_class" => [{ job_class: nil }, :runs],
    # serialized_params that is JSON but not an object.
    "a JSON number" => [{ serialized_params: "42" }, UNDECODABLE],
    "a JSON string" => [{ serialized_params: '"RecordJob"' }, UNDECODABLE],
    "a JSON array" => [{ serialized_params: "[1, 2]" }, UNDECODABLE],
    "JSON null" => [{ serialized_params: "null" }, UNDECODABLE],
    # Decoded, and failing in ActiveJob as under GoodJob: an unhandled error.
    "no job_class key" => [{ serialized_params: ->(params) { params.except("job_class") } }, /NoMethodError|job_class/],
    "an unknown job class" => [{ serialized_params: ->(params) { params.merge("job_class" => "NoSuchJob") } },
                               /NameError: uninitialized constant NoSuchJob/],
    "a job class that is not a job" => [{ serialized_params: ->(params) { params.merge("job_class" => "Math") } },
                                        /NoMethodError/],
    "an argument naming a missing record" => [
      { serialized_params: ->(params) { params.merge("arguments" => ["gid", { "_aj_globalid" => "gid://app/MissingModel/1" }]) } },
      /ActiveJob::DeserializationError/,
    ],
    # Harmless: a 5 MB argument, and characters outside the BMP as JSON escapes.
    "a 5 MB argument" => [{ serialized_params: ->(params) { params.merge("arguments" => ["big", "x" * 5_000_000]) } }, :runs],
    "an escaped surrogate pair" => [{ serialized_params: ->(params) { JSON.generate(params).sub('"arguments":["', '"arguments":["\\ud83d\\ude00') } },
                                    :runs],
    # jsonb holds it, but no JSON reader with a nesting limit (Ruby's is 100; GoodJob's
    # ActiveRecord cannot load the row either) decodes it.
    "arrays nested #{DEEP} deep" => [{ serialized_params: ->(params) { params.merge("arguments" => ["deep", deep_array]) } },
                                     UNDECODABLE],
  }.freeze

  # Nullable columns of good_jobs that a new row from GoodJob's adapter leaves NULL anyway (the
  # ordinary jobs cover them).
  NULL_IN_NEW_ROWS = %w[performed_at finished_at error concurrency_key cron_key retried_good_job_id cron_at batch_id
                        batch_callback_id is_discrete executions_count error_event labels locked_by_id locked_at
                        lock_type].freeze

  def self.deep_array
    JSON.parse("#{"[" * (DEEP - 1)}1#{"]" * (DEEP - 1)}", max_nesting: false)
  end

  def test_the_table_covers_every_nullable_column
    nullable = database.with_connection do |conn|
      conn.exec("SELECT column_name FROM information_schema.columns WHERE table_name = 'good_jobs' " \
                "AND is_nullable = 'YES'").column_values(0)
    end
    null_cases = CASES.keys.filter_map { |name| name[/\ANULL (\w+)\z/, 1] }
    assert_equal nullable.sort, (null_cases + NULL_IN_NEW_ROWS).sort
  end

  # Invalid UTF-8 cannot reach a poller: the database is UTF8 and jsonb refuses lone surrogate
  # escapes and \u0000, so such a row cannot be written at all.
  def test_invalid_utf8_cannot_be_written
    database.with_connection do |conn|
      ['"\\udc80"', '"\\ud83d"', '"\\u0000"'].each do |text|
        assert_raises(PG::Error, text) { insert_job_row(conn, RecordJob.new("utf8"), serialized_params: text) }
      end
      assert_raises(PG::CharacterNotInRepertoire) { insert_job_row(conn, RecordJob.new("utf8"), queue_name: "\xff".b) }
    end
  end

  # Three pollers, one after another, each on a fresh set of bad rows among 20 ordinary jobs.
  def test_bad_rows_end_with_an_error_and_the_poller_runs_the_others
    3.times do |round|
      normal, bad = insert_rows
      poller = started_poller(max_threads: 2, poll_interval: 1)
      ids = normal + bad.keys
      wait_for(60) { finished_count(ids) == ids.size || !poller.running? }

      assert poller.running?, "round #{round}: the poller died\n#{diagnostics}"
      failures = check_normal(normal) + bad.flat_map { |id, name| check_bad(id, name) }
      assert failures.empty?, "round #{round}:\n#{failures.join("\n")}\n#{diagnostics}"
      assert_equal true, poller.shutdown(timeout: 10), "round #{round}: the poller stops cleanly"
      JOURNAL.reset
    end
  end

  private

  # 20 ordinary jobs with the bad rows between them; returns [ordinary ids, {bad id => case}].
  def insert_rows
    normal = []
    bad = {}
    database.with_connection do |conn|
      CASES.each_with_index do |(name, (columns, _)), i|
        normal << insert_job_row(conn, RecordJob.new("normal-#{i}")) if i < 20
        job = RecordJob.new(name)
        bad[insert_job_row(conn, job, **row_columns(job, columns))] = name
      end
      (CASES.size...20).each { |i| normal << insert_job_row(conn, RecordJob.new("normal-#{i}")) }
    end
    [normal, bad]
  end

  def row_columns(job, columns)
    columns.transform_values do |value|
      next value unless value.respond_to?(:call)

      written = value.call(job.serialize)
      written.is_a?(String) ? written : JSON.generate(written, max_nesting: false)
    end
  end

  def check_normal(ids)
    runs = JOURNAL.entries.group_by(&:job_id)
    ids.filter_map do |id|
      row = job_row(id)
      "ordinary job #{id}: ran #{runs.fetch(id, []).size} times, row #{row.slice("finished_at", "error")}" \
        unless runs.fetch(id, []).size == 1 && row["finished_at"] && row["error"].nil?
    end
  end

  def check_bad(id, name)
    expected = CASES.fetch(name).last
    row = job_row(id)
    executions = execution_rows(id)
    runs = JOURNAL.entries.count { |entry| entry.job_id == id }
    seen = "#{name}: finished_at #{row["finished_at"].inspect}, locked_by_id #{row["locked_by_id"].inspect}, " \
           "error_event #{row["error_event"].inspect}, error #{row["error"].to_s[0, 200].inspect}, runs #{runs}, " \
           "executions #{executions.map { |e| [e["error_event"], e["error"].to_s[0, 80]] }.inspect}"
    ended = row["finished_at"] && row["locked_by_id"].nil?
    ok = if expected == :runs
           ended && row["error"].nil? && runs == 1 && executions.map { |e| e["error"] } == [nil]
         else
           ended && row["error_event"] == "1" && row["error"].to_s.match?(expected) && runs.zero? &&
             executions.map { |e| e["error_event"] } == ["1"]
         end
    ok ? [] : ["#{seen} (expected #{expected.inspect})"]
  end
end
