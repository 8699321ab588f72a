# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/poller_app"

# The generator's migration, run in the fixture app as a user runs it: `db:migrate` then
# `db:rollback` on a fresh database, then `db:migrate` again on a database whose GoodJob
# tables are already there.
class MigrationTest < Minitest::Test
  include PollerApp::OwnDatabaseFixture

  # In schema.sql's order, which the summary follows.
  GOOD_JOB_TABLES = %w[good_jobs good_job_batches good_job_executions good_job_processes good_job_settings].freeze
  ALL_TABLES = GOOD_JOB_TABLES + ["good_cron_claims"]

  def test_migrate_creates_the_tables_and_rollback_drops_only_good_crons_own
    TestDatabase.scratch("good_cron_test_migration_fresh") do |url|
      env = { "DATABASE_URL" => url }
      output, status = @app.rails("generate", "good_cron:install", env: env)
      assert status.success?, output

      output, status = @app.rails("db:migrate", env: env)
      assert status.success?, output
      assert_equal ALL_TABLES.sort, tables(url)
      assert_includes output, "-- good_cron: created the tables #{ALL_TABLES.join(", ")} and #{index_count(url)} indexes"
      refute_includes output, "CREATE", "the SQL is not printed"
      assert_operator output.bytesize, :<, 1_000, output

      output, status = @app.rails("db:rollback", env: env)
      assert status.success?, output
      assert_equal GOOD_JOB_TABLES.sort, tables(url)
      assert_includes output, "-- good_cron: dropped the table good_cron_claims"
      assert_includes output, "-- good_cron: GoodJob's tables (#{GOOD_JOB_TABLES.join(", ")}) stay: " \
                              "they may hold the app's jobs, and GoodJob's own migrations may have made them"

      output, status = @app.rails("db:migrate", env: env)
      assert status.success?, output
      assert_equal ALL_TABLES.sort, tables(url)
      assert_includes output, "-- good_cron: created the table good_cron_claims and 1 index; already there, left as " \
                              "they were: the tables #{GOOD_JOB_TABLES.join(", ")} and #{index_count(url) - 1} indexes\n"
    end
  end

  private

  def tables(url)
    PG.connect(url) do |conn|
      conn.exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'good%' ORDER BY tablename").column_values(0)
    end
  end

  # The indexes besides the primary keys.
  def index_count(url)
    PG.connect(url) do |conn|
      conn.exec("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'").getvalue(0, 0).to_i
    end
  end
end
