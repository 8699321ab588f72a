# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/cron_processes"
require "time"

# Several OS processes run the same cron hash on one database, as app servers do: every
# instant must give exactly one row, none may be missing, and PostgreSQL must log no error.
class SchedulerRaceTest < Minitest::Test
  include TestDatabase::Helper
  include CronProcesses::Assertions

  def setup
    database.truncate
    @log_offset = File.size(ENV.fetch("GOOD_CRON_PG_LOG"))
  end

  def test_four_processes_fifty_every_second_entries_write_each_instant_once
    start_at = Time.now.to_i + 3
    until_at = start_at + 11
    children = Array.new(4) { spawn_child(entries: 50, start_at: start_at, until: until_at + 0.5) }
    reports = children.map(&:finish)

    reports.each { |report| assert report["status"].success?, report["stderr"] }
    instants = database.with_connection { |conn| CronProcesses.instants(conn) }
    expected = (start_at + 1..until_at).to_a
    assert_equal 50, instants.size
    assert_each_instant_once(instants, expected)
    total = reports.sum { |r| r["claimed"] }
    assert_equal instants.values.sum(&:size), total, "the processes report as many wins as there are rows"
    assert_operator reports.count { |r| r["claimed"].positive? }, :>=, 2, "the work is shared, not one process winning alone"
    assert_equal 0, duplicate_key_lines
  end

  def test_rows_are_what_goodjob_writes_for_the_entry
    until_at = Time.now.to_i + 4 # a boot on a loaded machine may take seconds
    report = spawn_child(entries: 2, until: until_at + 0.5).finish
    assert report["status"].success?, report["stderr"]
    database.with_connection do |conn|
      row = conn.exec("SELECT * FROM good_jobs WHERE cron_key = 'entry_2' ORDER BY cron_at LIMIT 1").first
      params = JSON.parse(row["serialized_params"])
      assert_equal row["id"], row["active_job_id"]
      assert_equal row["id"], params["job_id"]
      assert_equal "RaceJob", row["job_class"]
      assert_equal "RaceJob", params["job_class"]
      assert_equal [2], params["arguments"]
      assert_equal "default", row["queue_name"]
      assert_equal 0, row["priority"].to_i
      assert_equal row["created_at"], row["scheduled_at"]
      assert_equal row["created_at"], row["updated_at"]
      assert_match(/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\z/, params["enqueued_at"])
      assert_equal Time.parse("#{row["created_at"]} UTC").to_i, Time.parse(params["enqueued_at"]).to_i
      assert_nil row["finished_at"]
    end
  end

  def test_a_process_killed_mid_run_loses_no_instant
    start_at = Time.now.to_i + 3
    until_at = start_at + 6 # three instants after the kill
    children = Array.new(3) { spawn_child(entries: 20, start_at: start_at, until: until_at + 0.5) }
    sleep 0.1 until Time.now.to_f > start_at + 3.3
    children.first.kill9
    children.drop(1).each { |child| assert child.finish["status"].success? }

    instants = database.with_connection { |conn| CronProcesses.instants(conn) }
    assert_equal 20, instants.size
    instants.each { |key, ats| assert_empty (start_at + 1..until_at).to_a - ats, "#{key} is missing instants" }
    assert_equal 0, duplicate_key_lines
  end

  def test_a_start_catches_up_runs_missed_within_the_graceful_period_oldest_first
    first_until = Time.now.to_i + 2
    assert spawn_child(entries: 3, until: first_until + 0.5).finish["status"].success?
    # Nobody runs for five instants; the next process boots meanwhile (a loaded machine may take
    # seconds) and starts at restart_at.
    restart_at = first_until + 6
    report = spawn_child(entries: 3, graceful: 30, start_at: restart_at, until: restart_at + 1.5).finish
    assert report["status"].success?, report["stderr"]

    database.with_connection do |conn|
      instants = CronProcesses.instants(conn)
      instants.each do |key, ats|
        assert_equal (ats.min..ats.max).to_a, ats, "#{key}: every instant, each once"
        assert_operator ats.max, :>=, restart_at + 1
      end
      gap = conn.exec(<<~SQL).column_values(0)
        SELECT extract(epoch FROM cron_at)::bigint FROM good_jobs
        WHERE cron_key = 'entry_1' AND cron_at > to_timestamp(#{first_until + 1}) AT TIME ZONE 'UTC'
          AND cron_at <= to_timestamp(#{restart_at}) AT TIME ZONE 'UTC'
        ORDER BY created_at
      SQL
      assert_operator gap.size, :>=, 4, "the missed instants were claimed"
      assert_equal gap.sort, gap, "caught-up runs are enqueued oldest first"
    end
  end

  private

  def spawn_child(**options)
    CronProcesses::Child.new(database.url, **options)
  end

  def duplicate_key_lines
    CronProcesses.duplicate_key_lines(ENV.fetch("GOOD_CRON_PG_LOG"), @log_offset, database: database.name)
  end
end
