# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/good_job_rows"
require_relative "support/poller_app"

# GoodCron.entries, enable, disable and enqueue_now from `bin/rails runner` in the fixture app
# (its two every-second entries, on good_cron's adapter): they work from the configuration
# and the database, with no scheduler started in that process and nothing caught up; where a
# scheduler does run (GOOD_CRON_START=1) they act through it.
class RailsAppControlTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include PollerApp::Fixture
  include GoodJobRows

  # A scheduler starting in the runner would catch up the last minute of both entries.
  CATCH_UP = "Rails.application.config.good_job[:cron_graceful_restart_period] = 60"

  # What the runner does, and what it saw: each entry's enabled state before, after disable
  # and after enable, the manual run's job id, and the threads of the process.
  CONTROL = <<~RUBY
    states = -> { GoodCron.entries.to_h { |entry| [entry.key, entry.enabled?] } }
    before = states.call
    GoodCron.disable(:heartbeat)
    disabled = states.call
    GoodCron.enable("heartbeat")
    enabled = states.call
    job_id = GoodCron.enqueue_now(:report)
    puts "STATUS " + JSON.generate(
      before: before, disabled: disabled, enabled: enabled, job_id: job_id,
      scheduler_running: GoodCron.scheduler&.running?,
      railtie_scheduler: GoodCron.scheduler && GoodCron.scheduler.equal?(GoodCron::Railtie.scheduler),
      ruby_threads: Thread.list.map(&:name).compact,
      native_threads: Dir["/proc/self/task/*/comm"].map { |path| File.read(path).strip },
    )
  RUBY

  def app_initializer
    CATCH_UP
  end

  def test_a_runner_controls_the_entries_without_a_scheduler
    status = run_control

    all_on = { "heartbeat" => true, "report" => true }
    assert_equal all_on, status["before"]
    assert_equal all_on.merge("heartbeat" => false), status["disabled"]
    assert_equal all_on, status["enabled"]
    assert_equal({ "cron_keys_disabled" => [], "cron_keys_enabled" => ["heartbeat"] }, settings_rows,
                 "GoodJob's settings rows, as GoodJob's enable leaves them")

    assert_nil status["scheduler_running"], "no scheduler in the runner"
    refute_includes status["ruby_threads"], "good_cron events"
    assert_empty status["native_threads"].grep(/\Agood_cron/), "no engine thread: #{status["native_threads"].inspect}"

    rows = job_rows
    assert_equal [status["job_id"]], rows.map { |row| row["id"] }, "the manual run and nothing else (no catch-up, no tick)"
    assert_equal "report", rows.first["cron_key"]
    assert_nil rows.first["cron_at"], "a manual run has no cron_at, as GoodJob's run-now"
    assert_equal "ReportJob", rows.first["job_class"]
    assert_equal 0, count_sql("SELECT count(*) FROM good_cron_claims")
  end

  # The same calls where the scheduler runs act through it (and its catch-up shows that the
  # first test would have seen a scheduler's rows).
  def test_where_a_scheduler_runs_they_act_through_it
    status = run_control("GOOD_CRON_START" => "1")

    assert_equal true, status["scheduler_running"]
    assert_equal true, status["railtie_scheduler"], "GoodCron acts through the Railtie's scheduler"
    assert_includes status["native_threads"], "good_cron-sched"
    assert_equal({ "heartbeat" => true, "report" => true }, status["enabled"])
    manual = job_rows.select { |row| row["cron_at"].nil? }
    assert_equal [status["job_id"]], manual.map { |row| row["id"] }
    assert_operator job_rows.count { |row| row["cron_key"] == "heartbeat" }, :>=, 30, "the scheduler caught up the last minute"
  end

  private

  def run_control(env = {})
    runner = @app.runner(CONTROL, env: env)
    assert runner.wait(90)&.success?, runner.output
    refute_match(/\b(ERROR|FATAL)\b/, runner.output)
    line = runner.stdout[/^STATUS (.*)$/, 1] or flunk "no status in:\n#{runner.output}"
    JSON.parse(line)
  end

  def job_rows
    database.with_connection { |conn| conn.exec("SELECT id, cron_key, cron_at, job_class FROM good_jobs ORDER BY created_at").to_a }
  end

  def settings_rows
    database.with_connection do |conn|
      conn.exec("SELECT key, value FROM good_job_settings ORDER BY key").to_h { |row| [row["key"], JSON.parse(row["value"])] }
    end
  end
end
