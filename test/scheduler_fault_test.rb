# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/cron_processes"
require_relative "support/private_postgres"
require_relative "support/waiting"
require "active_job"

# The database goes away under running schedulers, and hosts' clocks disagree: still one row
# per instant, none missing, nothing raised in the host process.
class SchedulerFaultTest < Minitest::Test
  include CronProcesses::Assertions
  include Waiting

  FAKETIME = Dir["/usr/lib/*/faketime/libfaketime.so.1"].first

  def setup
    @postgres = PrivatePostgres.new
    @running = []
  end

  def teardown
    @running.each(&:kill9_if_running)
    @postgres.destroy
  end

  def test_a_database_restart_is_survived_and_the_missed_instants_caught_up_once
    start_at = Time.now.to_i + 2
    @running = children = Array.new(2) do
      CronProcesses::Child.new(@postgres.url, entries: 10, graceful: 60, start_at: start_at, until: start_at + 60)
    end
    sleep 0.1 until Time.now.to_f > start_at + 3.2
    @postgres.stop
    sleep 6 # longer than the engine waits for a connection, so the outage is seen
    @postgres.start
    back_at = Time.now.to_i
    assert wait_for(30) {
      children.all? { |child| child.stderr.include?("available again") } && caught_up?(start_at + 1..back_at + 1)
    }, "both processes reconnect and catch up"
    sleep_until_fraction
    until_at = Time.now.to_i
    children.each { |child| Process.kill(:TERM, child.pid) }
    @running = []
    reports = children.map(&:finish)

    reports.each do |report|
      assert report["status"].success?, report["stderr"]
      assert_equal 1, report["warnings"].count { |w| w.include?("database unavailable") }, report["warnings"].inspect
      assert_equal 1, report["warnings"].count { |w| w.include?("available again") }, report["warnings"].inspect
    end
    instants = PG.connect(@postgres.url) { |conn| CronProcesses.instants(conn) }
    assert_equal 10, instants.size
    assert_each_instant_once(instants, start_at + 1..until_at)
    assert_equal 0, CronProcesses.duplicate_key_lines(@postgres.log_path, 0)
  end

  # Every entry has a row for each instant of +range+ (false while the database is away).
  def caught_up?(range)
    instants = PG.connect(@postgres.url) { |conn| CronProcesses.instants(conn) }
    instants.size == 10 && instants.values.all? { |ats| (range.to_a - ats).empty? }
  rescue PG::Error
    false
  end

  # An ActiveJob adapter that keeps each job enqueued.
  class KeepingAdapter
    attr_reader :jobs

    def initialize
      @jobs = Queue.new
    end

    def enqueue(job)
      @jobs << job
    end

    def enqueue_at(job, _timestamp)
      enqueue(job)
    end
  end

  class ProcTickJob < ActiveJob::Base
    self.queue_adapter = KeepingAdapter.new

    def perform; end
  end

  # A cron Proc entry whose scheduler started while the database was away is asked for its
  # first run (after its last one, which the engine reads) once the database answers, and runs.
  def test_a_cron_proc_started_while_the_database_is_away_runs_once_it_is_back
    @postgres.stop
    asked = Queue.new
    cron = { proc_tick: { cron: ->(last) { (asked << last) && Time.at(Time.now.to_i + 1) }, class: ProcTickJob } }
    scheduler = GoodCron::Scheduler.new(cron, database_url: @postgres.url, logger: Logger.new(nil))
    scheduler.start
    sleep 3 # longer than a connection is waited for
    @postgres.start
    assert wait_for(30) { ProcTickJob.queue_adapter.jobs.size >= 1 }, "the entry runs once the database is back"
    assert_nil asked.pop, "its first call: it never ran"
  ensure
    scheduler&.shutdown(timeout: 5)
  end

  def test_processes_whose_clocks_differ_by_seconds_still_write_one_row_per_instant
    skip "libfaketime is not installed (Debian package faketime)" unless FAKETIME

    start_at = Time.now.to_i + 2
    until_at = start_at + 8
    children = [nil, "+3s", "-2s"].map do |offset|
      env = offset ? { "LD_PRELOAD" => FAKETIME, "FAKETIME" => offset, "FAKETIME_DONT_FAKE_MONOTONIC" => "1" } : {}
      CronProcesses::Child.new(@postgres.url, env: env, entries: 10, start_at: start_at, until: until_at + 0.5)
    end
    reports = children.map(&:finish)

    reports.each { |report| assert report["status"].success?, report["stderr"] }
    skewed = reports.drop(1).map { |r| r["warnings"].grep(/clock differs/) }
    assert(skewed.all?(&:any?), "skewed processes warn about their clocks: #{reports.map { |r| r["warnings"] }.inspect}")
    assert_empty reports.first["warnings"].grep(/clock differs/)
    instants = PG.connect(@postgres.url) { |conn| CronProcesses.instants(conn) }
    assert_each_instant_once(instants, start_at + 1..until_at)
    assert_equal 0, CronProcesses.duplicate_key_lines(@postgres.log_path, 0)
  end
end
