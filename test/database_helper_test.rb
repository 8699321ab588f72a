# frozen_string_literal: true

require_relative "test_helper"

# Proves the test database helper: a database per test file, with GoodJob's
# tables and the unique cron index that makes a cron instant exactly-once.
class DatabaseHelperTest < Minitest::Test
  include TestDatabase::Helper

  TABLES = %w[good_jobs good_job_settings good_job_processes good_job_executions good_job_batches].freeze

  def test_database_is_named_after_this_file
    assert_equal "good_cron_test_database_helper", database.name
    database.with_connection do |conn|
      assert_equal database.name, conn.exec("SELECT current_database()").getvalue(0, 0)
    end
  end

  def test_goodjob_tables_exist
    database.with_connection do |conn|
      found = conn.exec_params(<<~SQL, [PG::TextEncoder::Array.new.encode(TABLES)]).column_values(0)
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name = ANY($1::text[])
      SQL
      assert_equal TABLES.sort, found.sort
    end
  end

  def test_goodjob_columns_used_by_cron
    database.with_connection do |conn|
      types = conn.exec(<<~SQL).to_h { |row| [row["column_name"], row["data_type"]] }
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = 'good_jobs'
      SQL
      assert_equal "timestamp without time zone", types.fetch("cron_at")
      assert_equal "text", types.fetch("cron_key")
      assert_equal "uuid", types.fetch("active_job_id")
      assert_equal "jsonb", types.fetch("serialized_params")
      assert_equal "ARRAY", types.fetch("labels")
      assert_equal 25, types.size
    end
  end

  def test_unique_partial_cron_index
    database.with_connection do |conn|
      row = conn.exec(<<~SQL).first
        SELECT i.indisunique, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = 'index_good_jobs_on_cron_key_and_cron_at_cond'
      SQL
      refute_nil row, "index_good_jobs_on_cron_key_and_cron_at_cond is missing"
      assert_equal "t", row["indisunique"]
      assert_includes row["definition"], "(cron_key, cron_at) WHERE (cron_key IS NOT NULL)"
    end
  end

  # The index decides: a second claim of the same (cron_key, cron_at) inserts
  # nothing (ON CONFLICT, so no ERROR is logged); rows without a cron_key never conflict.
  def test_second_claim_of_an_instant_inserts_nothing
    database.truncate
    claim = <<~SQL
      INSERT INTO good_jobs (cron_key, cron_at, created_at, updated_at)
      VALUES ($1, $2, now(), now())
      ON CONFLICT (cron_key, cron_at) WHERE cron_key IS NOT NULL DO NOTHING
      RETURNING id
    SQL
    database.with_connection do |conn|
      assert_equal 1, conn.exec_params(claim, ["daily", "2026-01-01 00:00:00"]).ntuples
      assert_equal 0, conn.exec_params(claim, ["daily", "2026-01-01 00:00:00"]).ntuples
      assert_equal 1, conn.exec_params(claim, ["daily", "2026-01-02 00:00:00"]).ntuples
      2.times { assert_equal 1, conn.exec_params(claim, [nil, "2026-01-01 00:00:00"]).ntuples }
      assert_equal 4, conn.exec("SELECT count(*) FROM good_jobs").getvalue(0, 0).to_i
    end
  end

  def test_schema_loads_again_without_change
    database.load_schema
    database.with_connection do |conn|
      count = conn.exec("SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'good_job%'").getvalue(0, 0).to_i
      assert_equal 32, count # 27 named indexes + 5 primary keys
    end
  end

  # bin/test's PostgreSQL logs ERRORs with their statement to GOOD_CRON_PG_LOG
  # (later tests count `duplicate key` lines there).
  def test_errors_are_logged
    log = ENV["GOOD_CRON_PG_LOG"]
    skip "GOOD_CRON_PG_LOG is not set (DATABASE_URL given from outside)" unless log

    marker = "good_cron_log_probe_#{Process.pid}_#{rand(1 << 30)}"
    database.with_connection do |conn|
      assert_raises(PG::UndefinedTable) { conn.exec("SELECT * FROM #{marker}") }
    end
    deadline = Time.now + 5
    sleep 0.05 until File.read(log).include?(marker) || Time.now > deadline
    assert_includes File.read(log), marker
  end
end
