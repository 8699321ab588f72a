# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/test_logger"
require_relative "support/cron_processes"
require_relative "support/recording_adapter"
require_relative "support/redis_server"
require_relative "support/ledger_fixture"
require "active_job"
require "sidekiq"

# The ledger path (enqueue: :active_job) when things go wrong (issue 9, item 5): a stop just
# before an instant, claims left pending for days, a backend that refuses writes, a process
# killed with -9 while it pushes to Sidekiq, and a database that has only good_cron_claims.
# Real parts throughout: PostgreSQL, the compiled engine, Sidekiq 6.4 on a redis-server of its
# own (test/support/redis_server.rb), scheduler processes (test/support/cron_process.rb).
class SchedulerLedgerFaultTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include LedgerFixture

  # Enqueued through RecordingAdapter (a row per enqueue in PostgreSQL).
  class RecordedJob < ActiveJob::Base
    def perform(*, **); end
  end

  # Enqueued through Sidekiq.
  class SidekiqJob < ActiveJob::Base
    def perform(*, **); end
  end

  def setup
    super
    @adapter = RecordingAdapter.new(database.url, announce: false)
    @previous_adapters = [RecordedJob, SidekiqJob].to_h { |job| [job, job.queue_adapter] }
    RecordedJob.queue_adapter = @adapter
    @logger = TestLogger.new
  end

  def teardown
    @children.each(&:kill9_if_running)
    @schedulers.each { |scheduler| scheduler.shutdown(timeout: 5) }
    @adapter.close
    @redis&.stop
    @previous_adapters.each { |job, adapter| job.queue_adapter = adapter }
    ActiveJob::Base.logger = @previous_logger
  end

  # --- helpers -----------------------------------------------------------------------------

  def scheduler(cron, **options)
    GoodCron::Scheduler.new(cron, database_url: database.url, enqueue: :active_job, logger: @logger, **options)
                       .tap { |s| @schedulers << s }
  end

  def entries(count, job = RecordedJob, cron: "every second")
    (1..count).to_h { |i| ["entry_#{i}", { cron: cron, class: job, kwargs: { cron_key: "entry_#{i}" } }] }
  end

  def query(sql, params = [], url: database.url)
    conn = PG.connect(url)
    conn.exec_params(sql, params).to_a
  ensure
    conn&.close
  end

  # Every ledger row, oldest first: key, at (Unix seconds), job_id, state.
  def ledger(url: database.url)
    query(<<~SQL, url: url).map { |row| row.merge("at" => row["at"].to_i) }
      SELECT cron_key, extract(epoch FROM cron_at)::bigint AS at, job_id, error,
             CASE WHEN enqueued_at IS NOT NULL THEN 'enqueued' WHEN failed_at IS NOT NULL THEN 'closed'
                  ELSE 'pending' END AS state
      FROM good_cron_claims ORDER BY cron_at, cron_key
    SQL
  end

  def pending
    ledger.select { |row| row["state"] == "pending" }.map { |row| [row["cron_key"], row["at"]] }
  end

  def collecting(*names)
    events = []
    lock = Mutex.new
    subscribers = names.map do |name|
      ActiveSupport::Notifications.subscribe("#{name}.good_cron") { |*args| lock.synchronize { events << [args[0], args.last] } }
    end
    yield -> { lock.synchronize { events.dup } }
  ensure
    subscribers&.each { |s| ActiveSupport::Notifications.unsubscribe(s) }
  end

  def start_redis
    @redis = RedisServer.start
    Sidekiq.configure_client { |config| config.redis = { url: @redis.url } }
    SidekiqJob.queue_adapter = :sidekiq
    @redis
  end

  # --- a stop just before an instant -------------------------------------------------------

  # A graceful stop 30–100 ms before an instant: the stopping scheduler claims nothing at that
  # instant (a claim it made would not be enqueued, and would wait for a takeover).
  def test_a_stop_just_before_an_instant_leaves_no_pending_claim
    cron = entries(5)
    [0.1, 0.07, 0.05, 0.03].each do |ahead|
      scheduler = scheduler(cron)
      scheduler.start
      sleep_until_fraction(1 - ahead)
      assert scheduler.shutdown(timeout: 10)
    end
    sleep 1.2 # past the instant after the last stop
    assert_equal [], pending, "claims a stopping scheduler made and never enqueued"
    rows = ledger
    assert(rows.all? { |row| row["state"] == "enqueued" })
    recorded = query("SELECT job_id FROM recorded_enqueues").map { |row| row["job_id"] }
    assert_equal rows.map { |row| row["job_id"] }.sort, recorded.sort, "each claim enqueued once"
  end

  # --- stale claims ------------------------------------------------------------------------

  # A claim left pending two days ago (every process stopped) is not enqueued at the next
  # start: it is closed as skipped, logged, and published as skipped_stale.good_cron. A claim
  # a few seconds old is still taken over and enqueued.
  def test_a_two_day_old_pending_claim_is_skipped_with_an_event_and_a_recent_one_is_taken_over
    old_at = Time.now.to_i - (2 * 86_400)
    recent_at = Time.now.to_i - 3
    database.with_connection do |conn|
      [["entry_1", old_at], ["entry_2", recent_at]].each do |key, at|
        conn.exec_params("INSERT INTO good_cron_claims (cron_key, cron_at, claimed_by, claimed_at) " \
                         "VALUES ($1, to_timestamp($2) AT TIME ZONE 'UTC', gen_random_uuid(), to_timestamp($2))", [key, at])
      end
    end
    collecting("skipped_stale", "caught_up", "claimed") do |events|
      scheduler(entries(2, cron: "0 0 1 1 *"), claim_timeout: 1).start
      assert wait_for(15) { pending.empty? }, "both claims are dealt with"
      rows = ledger.to_h { |row| [row["cron_key"], row] }
      assert_equal "closed", rows["entry_1"]["state"], "the two-day-old claim is not enqueued"
      assert_match(/stale/, rows["entry_1"]["error"])
      assert_equal "enqueued", rows["entry_2"]["state"], "the recent one is taken over"
      assert_equal [rows["entry_2"]["job_id"]], query("SELECT job_id FROM recorded_enqueues").map { |r| r["job_id"] }

      stale = events.call.select { |name, _| name == "skipped_stale.good_cron" }.map(&:last)
      assert_equal [["entry_1", Time.at(old_at)]], stale.map { |p| [p[:key], p[:cron_at]] }
      assert_operator stale.first[:lateness], :>=, 2 * 86_400
      assert(@logger.at(:warn).any? { |line| line.include?("entry_1") && line.include?("not enqueued") }, @logger.lines.inspect)
    end
  end

  # --- a backend that refuses writes -------------------------------------------------------

  # Redis refuses every write for 3 s (full, with noeviction): Sidekiq's push raises. Each run
  # due meanwhile is retried with backoff and enqueued once Redis takes writes again: none is
  # lost, none enqueued twice, no claim is left pending or closed.
  def test_a_sidekiq_that_refuses_writes_for_three_seconds_loses_no_run
    redis = start_redis
    collecting("failed") do |events|
      scheduler(entries(3, SidekiqJob)).start
      assert wait_for(5) { redis.sidekiq_jobs.size >= 6 }, "runs reach Sidekiq"
      sleep_until_fraction(0.5)
      refused_from = Time.now.to_i + 1
      redis.refuse_writes
      sleep 3
      redis.accept_writes
      refused_until = Time.now.to_i
      assert wait_for(15) { pending.empty? }, "every claim is enqueued at last"
      sleep_until_fraction(0.5)
      assert @schedulers.first.shutdown(timeout: 10)

      rows = ledger
      assert_equal [], rows.reject { |row| row["state"] == "enqueued" }, "no run lost"
      rows.group_by { |row| row["cron_key"] }.each do |key, list|
        ats = list.map { |row| row["at"] }
        assert_equal (ats.min..ats.max).to_a, ats, "#{key}: every instant"
        assert_operator ats.min, :<, refused_from
        assert_operator ats.max, :>, refused_until
      end
      jobs = redis.sidekiq_jobs
      assert_equal rows.map { |row| row["job_id"] }.sort, jobs.map { |job| job["job_id"] }.sort,
                   "Sidekiq holds each run once"
      refute_empty events.call, "the refused enqueues are published as failed.good_cron"
      assert(@logger.lines.any? { |_, line| line.include?("retrying") }, @logger.lines.inspect)
    end
  end

  # --- kill -9 while pushing to Sidekiq ----------------------------------------------------

  # A scheduler process (20 entries on Sidekiq) is killed with -9 while it pushes an instant's
  # jobs (once Redis has the first 1, 3, 5, 8 or 12 of them); another process then takes over
  # its claims. Only a job pushed but not yet recorded is pushed twice: at most one per kill
  # (README).
  def test_kill9_while_pushing_to_sidekiq_enqueues_at_most_one_run_twice
    redis = start_redis
    env = { "REDIS_URL" => redis.url }
    rounds = [1, 3, 5, 8, 12].map do |pushed|
      redis.client.flushdb
      database.truncate
      victim = CronProcesses::Child.new(database.url, env: env, enqueue: "active_job", adapter: "sidekiq",
                                                      entries: 20, claim_timeout: 2, until: Time.now.to_i + 60)
      @children << victim
      assert victim.wait_for_line(:started, 15)
      sleep_until_fraction(0.5)
      before = redis.client.llen("queue:default")
      deadline = monotonic + 3
      sleep 0.0002 until redis.client.llen("queue:default") >= before + pushed || monotonic > deadline
      victim.kill9
      @children.delete(victim)
      survivor = CronProcesses::Child.new(database.url, env: env, enqueue: "active_job", adapter: "sidekiq",
                                                        entries: 20, claim_timeout: 2, until: Time.now.to_i + 60)
      @children << survivor
      assert survivor.wait_for_line(:started, 15)
      # Once it took over the killed process's claims, a graceful stop leaves none pending.
      assert wait_for(30) { pending.empty? }, "the survivor takes over the killed process's claims"
      Process.kill(:TERM, survivor.pid)
      report = survivor.finish
      @children.delete(survivor)
      assert report["status"].success?, report["stderr"]

      rows = ledger
      assert_equal [], pending, "every claim of the killed process was taken over"
      job_ids = redis.sidekiq_jobs.map { |job| job["job_id"] }
      assert_empty rows.map { |row| row["job_id"] } - job_ids, "every recorded run is in Sidekiq"
      taken_over = query("SELECT count(*) AS n FROM good_cron_claims WHERE takeovers > 0").first["n"].to_i
      { duplicates: job_ids.size - rows.size, taken_over: taken_over }
    end
    puts "\n#{name}: per kill: #{rounds.inspect}" if ENV["GOOD_CRON_MEASURE"]
    assert_operator rounds.map { |r| r[:duplicates] }.max, :<=, 1, "duplicates per kill: #{rounds.inspect}"
  end

  # --- a database with only good_cron_claims -----------------------------------------------

  LEDGER_DDL = File.read(TestDatabase::SCHEMA).scan(/^CREATE [^;]*good_cron_claims[^;]*;/m).join("\n")

  # An app on another backend needs only the ledger table: no good_jobs, no good_job_settings.
  # Runs are enqueued, GoodCron.entries reads the last run from the ledger (every entry
  # enabled: no settings, no overrides), disable says what it needs; a direct entry still
  # needs good_jobs.
  def test_a_database_with_only_the_ledger_table_runs_ledger_entries
    TestDatabase.scratch("good_cron_test_ledger_only") do |url|
      PG.connect(url).tap { |conn| conn.exec(LEDGER_DDL) }.close
      cron = entries(2).merge("dynamic" => { cron: "every second", class: RecordedJob, args: -> { [{ cron_key: "dynamic" }] } })
      scheduler = GoodCron::Scheduler.new(cron, database_url: url, enqueue: :active_job, logger: @logger)
      @schedulers << scheduler
      assert scheduler.start
      assert wait_for(5) { ledger(url: url).count { |row| row["state"] == "enqueued" } >= 6 }
      assert scheduler.shutdown(timeout: 10)
      rows = ledger(url: url)
      assert(rows.all? { |row| row["state"] == "enqueued" })
      recorded = query("SELECT job_id FROM recorded_enqueues").map { |row| row["job_id"] }
      assert_empty rows.map { |row| row["job_id"] } - recorded

      states = scheduler.entries
      assert(states.all?(&:enabled?))
      assert_equal rows.group_by { |r| r["cron_key"] }.transform_values { |l| Time.at(l.map { |r| r["at"] }.max) },
                   states.to_h { |e| [e.key, e.last_at] }
      error = assert_raises(GoodCron::Error) { scheduler.disable("entry_1") }
      assert_includes error.message, "good_job_settings"

      direct = GoodCron::Scheduler.new({ tick: { cron: "every second", class: RecordedJob } },
                                       database_url: url, enqueue: :good_jobs, logger: @logger)
      error = assert_raises(GoodCron::SchemaError) { direct.start }
      assert_includes error.message, "good_jobs"
    end
  end
end
