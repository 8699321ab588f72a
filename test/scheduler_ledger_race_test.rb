# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/cron_processes"
require_relative "support/recording_adapter"
require_relative "support/ledger_fixture"
require "active_job"

# The ledger path (enqueue: :active_job) with an ActiveJob adapter that is not GoodJob's
# (test/support/recording_adapter.rb: each enqueue becomes a row of recorded_enqueues), run by
# several OS processes (test/support/cron_process.rb --enqueue active_job --adapter recording). Each
# instant is claimed in the good_cron_claims ledger; only the winner enqueues it, and records
# the job id it got, so every recorded enqueue maps to exactly one (entry, instant).
#
# The guarantee these tests hold the engine to (as the README should state it):
#
#   The process that claims an instant calls perform_later, then records the job id in its
#   claim. A claim not recorded within claim_timeout (default 30 s, on the database's clock)
#   is taken over by another running process that has the entry, which enqueues the run
#   itself, late by claim_timeout plus at most 5 s (the interval between looks for stale
#   claims, made whether or not an instant of its own is due). So a process killed between
#   claim and enqueue loses no run, and a graceful stop records what it enqueued. A run is
#   enqueued twice only when the claiming process takes longer than claim_timeout from its
#   claim to that record and still enqueues: it stalled (GC or VM pause, a slow or hung
#   adapter, a backlog of enqueues at one instant, the database unreachable for the record),
#   or it died in the milliseconds between perform_later returning and the record (measured
#   in scheduler_ledger_fault_test.rb). With GoodJob's adapter, the unique index of good_jobs on
#   (cron_key, cron_at) refuses the second row.
class SchedulerLedgerRaceTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include LedgerFixture

  ENTRIES = 20

  # A job of this process, for the in-process tests.
  class StallJob < ActiveJob::Base
    def perform(*, **); end
  end

  def setup
    super
    @log_offset = File.size(ENV.fetch("GOOD_CRON_PG_LOG"))
    @adapters = []
    @previous_adapter = StallJob.queue_adapter
  end

  def teardown
    @children.each(&:kill9_if_running)
    @schedulers.each { |scheduler| scheduler.shutdown(timeout: 5) }
    @adapters.each(&:close)
    StallJob.queue_adapter = @previous_adapter
    ActiveJob::Base.logger = @previous_logger
  end

  # --- helpers -----------------------------------------------------------------------------

  def spawn_child(env: {}, **options)
    options = { enqueue: "active_job", adapter: "recording", entries: ENTRIES }.merge(options)
    CronProcesses::Child.new(database.url, env: env, **options).tap { |child| @children << child }
  end

  def finish(child)
    @children.delete(child)
    child.finish
  end

  def query(sql, params = [])
    database.with_connection { |conn| conn.exec_params(sql, params).to_a }
  end

  # Every recorded enqueue with the ledger row (entry, instant) whose job it is; an enqueue
  # the ledger does not know of has "at" nil.
  def recorded
    query(<<~SQL).map { |row| row.merge("at" => row["at"]&.to_i, "pid" => row["pid"].to_i) }
      SELECT r.job_id, r.cron_key AS recorded_key, r.pid, c.cron_key,
             extract(epoch FROM c.cron_at)::bigint AS at, c.takeovers
      FROM recorded_enqueues r LEFT JOIN good_cron_claims c ON c.job_id = r.job_id
      ORDER BY r.enqueued_at
    SQL
  end

  # Ledger claims that were not recorded as enqueued and are older than +age+ seconds.
  def pending_claims(age)
    query("SELECT cron_key, cron_at FROM good_cron_claims WHERE enqueued_at IS NULL AND failed_at IS NULL " \
          "AND claimed_at < now() - make_interval(secs => $1)", [age])
  end

  # Exactly one recorded enqueue per (entry, instant) of +range+ for each of +keys+, none
  # missing, and no enqueue beyond the ledger's.
  def assert_each_instant_enqueued_once(keys, range)
    rows = recorded
    assert_equal [], rows.reject { |row| row["at"] }.map { |row| [row["recorded_key"], row["pid"]] },
                 "every recorded enqueue is the one the ledger has for its instant (none is a second enqueue)"
    assert_equal rows.map { |row| row["job_id"] }.uniq.size, rows.size
    rows.each { |row| assert_equal row["cron_key"], row["recorded_key"], "the job is its entry's" }
    by_run = rows.group_by { |row| [row["cron_key"], row["at"]] }
    assert_equal [], by_run.select { |_, list| list.size > 1 }.keys, "an instant enqueued twice"
    keys.each do |key|
      assert_equal [], range.to_a - by_run.keys.select { |k, _| k == key }.map(&:last), "#{key}: instants never enqueued"
    end
    rows
  end

  def duplicate_key_lines
    CronProcesses.duplicate_key_lines(ENV.fetch("GOOD_CRON_PG_LOG"), @log_offset, database: database.name)
  end

  def keys(count = ENTRIES)
    (1..count).map { |i| "entry_#{i}" }
  end

  # --- several processes -------------------------------------------------------------------

  def test_four_processes_enqueue_each_instant_exactly_once_through_a_foreign_adapter
    start_at = Time.now.to_i + 3
    until_at = start_at + 10
    children = Array.new(4) { spawn_child(start_at: start_at, until: until_at + 0.5) }
    reports = children.map { |child| finish(child) }
    reports.each { |report| assert report["status"].success?, report["stderr"] }

    rows = assert_each_instant_enqueued_once(keys, start_at + 1..until_at)
    assert_equal ENTRIES * 10, rows.count { |row| row["at"].between?(start_at + 1, until_at) }
    assert_equal rows.size, reports.sum { |r| r["claimed"] }, "the processes report as many enqueues as were recorded"
    assert_operator rows.map { |row| row["pid"] }.uniq.size, :>=, 2, "the work is shared, not one process winning alone"
    assert_equal [], query("SELECT cron_key FROM good_jobs"), "nothing went to good_jobs"
    assert_equal [], query("SELECT cron_key, error FROM good_cron_claims WHERE enqueued_at IS NULL OR takeovers > 0")
    assert_equal 0, duplicate_key_lines
  end

  # One process stalls in the adapter (GOOD_CRON_RECORDING_STALL) right after winning claims,
  # and is SIGKILLed while it holds them: after claim_timeout the others take its claims over,
  # and every instant is still enqueued exactly once.
  def test_a_process_killed_between_claim_and_enqueue_loses_no_run
    # It runs alone for its first instant (so it wins it, all 20 entries in one statement), then
    # with the others for a second; they take over once its claims are claim_timeout old.
    start_at = Time.now.to_i + 3
    stalled = spawn_child(env: { "GOOD_CRON_RECORDING_STALL" => "30" }, claim_timeout: 2, start_at: start_at,
                          until: start_at + 60)
    others = Array.new(3) { spawn_child(claim_timeout: 2, start_at: start_at + 1.5, until: start_at + 60) }
    assert stalled.wait_for_line(:stalled, 10), "the stalled process won an instant"
    sleep(start_at + 2.5 - Time.now.to_f)
    held = pending_claims(0.3)
    refute_empty held, "the stalled process holds claims it has not enqueued"
    stalled.kill9
    @children.delete(stalled)

    assert wait_for(15) { (pending_claims(0) & held).empty? }, "the claims of the killed process are taken over"
    sleep_until_fraction
    stop_at = Time.now.to_f
    others.each { |child| Process.kill(:TERM, child.pid) }
    reports = others.map { |child| finish(child) }
    reports.each { |report| assert report["status"].success?, report["stderr"] }

    rows = assert_each_instant_enqueued_once(keys, start_at + 1..stop_at.floor)
    assert_equal [], rows.select { |row| row["pid"] == stalled.pid }, "the killed process enqueued nothing"
    taken = query("SELECT cron_key, extract(epoch FROM cron_at)::bigint AS at FROM good_cron_claims WHERE takeovers > 0")
    assert_operator taken.size, :>=, held.size, "every claim it held was taken over"
    assert(reports.flat_map { |r| r["warnings"] }.any? { |line| line.include?("taking over the run of") })
    assert_equal 0, duplicate_key_lines
  end

  # A claim is taken over after claim_timeout even when the processes left have no instant of
  # their own due (a once-a-minute entry here; a daily one in an app): the run is late by about
  # claim_timeout, not by a whole period.
  def test_a_stale_claim_is_taken_over_without_waiting_for_the_next_instant
    at = Time.now.to_i + 4
    cron = "#{at % 60} * * * * *" # once a minute, at that second
    stalled = spawn_child(env: { "GOOD_CRON_RECORDING_STALL" => "30" }, entries: 2, cron: cron, claim_timeout: 2,
                          until: at + 60)
    assert stalled.wait_for_line(:stalled, 10), "the process claimed the instant"
    stalled.kill9
    @children.delete(stalled)
    refute_empty pending_claims(0)

    # Another process, running from now on: its own next instant is a minute away.
    report = finish(spawn_child(entries: 2, cron: cron, claim_timeout: 2, until: Time.now.to_i + 10))
    assert report["status"].success?, report["stderr"]
    assert_each_instant_enqueued_once(keys(2), at..at)
  end

  # --- one process, stopped gracefully -----------------------------------------------------

  # `stop` while an enqueue is in flight (the adapter takes 1.5 s): the job is enqueued, so the
  # Ledger must say so, or another process takes the claim over and enqueues it again.
  def test_a_graceful_stop_during_an_enqueue_leads_to_no_second_enqueue
    cron = { slow: { cron: "every second", class: StallJob, kwargs: { cron_key: "slow" } } }
    StallJob.queue_adapter = RecordingAdapter.new(database.url, stall: 1.5, announce: false).tap { |a| @adapters << a }
    first = GoodCron::Scheduler.new(cron, database_url: database.url, enqueue: :active_job, logger: Logger.new(nil))
    @schedulers << first
    first.start
    assert wait_for(3) { query("SELECT 1 FROM good_cron_claims").any? }
    sleep 0.2 # its enqueue is in the adapter now
    assert first.shutdown(timeout: 10)
    assert wait_for(3) { recorded.any? }, "the enqueue in flight completes"

    # Another process with a short claim_timeout, as after a rolling restart.
    StallJob.queue_adapter = RecordingAdapter.new(database.url).tap { |a| @adapters << a }
    second = GoodCron::Scheduler.new(cron, database_url: database.url, enqueue: :active_job, claim_timeout: 1,
                                           logger: Logger.new(nil))
    @schedulers << second
    second.start
    sleep 2.5
    assert second.shutdown(timeout: 10)

    rows = recorded
    assert_equal [], rows.reject { |row| row["at"] }.map { |row| row["job_id"] },
                 "an enqueue the ledger does not know of (so it was enqueued again)"
    assert_equal [], query("SELECT extract(epoch FROM cron_at)::bigint AS at FROM good_cron_claims WHERE takeovers > 0"),
                 "a claim taken over although its job was enqueued"
  end
end
