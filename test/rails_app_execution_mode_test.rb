# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/free_port"
require_relative "support/good_job_rows"
require_relative "support/poller_app"

# GoodJob 4.x's execution modes in the fixture app (good_cron's adapter, cron off): :async by
# default in a development server, which runs the jobs; :external by default in production,
# where the server runs none; :inline (GOOD_JOB_EXECUTION_MODE=inline, and by default in
# test) performs the job inside perform_later; a misspelt mode stops the boot, naming the
# valid ones.
class RailsAppExecutionModeTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include PollerApp::Fixture
  include GoodJobRows

  # What a runner reports: the mode, whether a poller runs, and how many times each RecordJob
  # tag ran right after its perform_later returned.
  ENQUEUE = <<~RUBY
    ran = ->(tag) { ActiveRecord::Base.connection.select_value("SELECT count(*) FROM job_runs WHERE tag = '\#{tag}'").to_i }
    RecordJob.perform_later("now")
    now = ran.call("now")
    RecordJob.set(wait: 3600).perform_later("later")
    puts "STATUS " + JSON.generate(mode: GoodCron.execution_mode, poller: !GoodCron::Railtie.poller.nil?,
                                   now: now, later: ran.call("later"), pid: Process.pid)
  RUBY

  # The same under :inline, plus a manual run of a cron entry, perform_all_later's adapter
  # call (Rails 7.1+; called directly here) and a job that raises: what is due now runs now
  # (its error reaching the caller), the rest waits.
  INLINE = <<~RUBY
    class BoomJob < ApplicationJob
      def perform = raise("boom")
    end
    error = begin
      BoomJob.perform_later
      nil
    rescue StandardError => e
      "\#{e.class}: \#{e.message}"
    end
    ran = ->(tag) { ActiveRecord::Base.connection.select_value("SELECT count(*) FROM job_runs WHERE tag = '\#{tag}'").to_i }
    RecordJob.perform_later("now")
    now = ran.call("now")
    RecordJob.set(wait: 3600).perform_later("later")
    GoodCron.enqueue_now(:record)
    later = RecordJob.new("all-later").tap { |job| job.scheduled_at = Time.now.to_f + 3600 }
    RecordJob.queue_adapter.enqueue_all([RecordJob.new("all-now"), later])
    puts "STATUS " + JSON.generate(mode: GoodCron.execution_mode, poller: !GoodCron::Railtie.poller.nil?, now: now, error: error,
                                   counts: %w[later cron all-now all-later].to_h { |tag| [tag, ran.call(tag)] }, pid: Process.pid)
  RUBY

  def test_a_development_server_runs_the_jobs_by_default
    server = start_server("RAILS_ENV" => "development")
    assert wait_for(30) { process_rows.size == 1 }, "the server registers a poller\n#{server.output}"
    assert_match(/poller started/, server.stdout)

    ids = database.with_connection { |conn| PollerApp.insert_record_jobs(conn, %w[dev-1 dev-2]) }
    wait_finished(ids)
    assert_equal [server.pid], run_pids, "the jobs ran in the server process"
    stop(server)
  end

  # A development runner is not a server: :async leaves its jobs to the workers, as GoodJob's
  # adapter does.
  def test_a_development_runner_is_async_and_runs_no_job
    status = runner(ENQUEUE, "RAILS_ENV" => "development")
    assert_equal "async", status["mode"]
    assert_equal false, status["poller"]
    assert_equal 0, status["now"]
    assert_equal 2, job_count, "both jobs wait in good_jobs"
  end

  # :async_all runs a poller in every process, a runner too; not for an app on GoodJob's own
  # adapter (the stand-in here), which runs its jobs itself in that mode.
  def test_async_all_runs_a_poller_in_a_runner_unless_goodjob_runs_the_jobs
    status = runner(ENQUEUE, "GOOD_JOB_EXECUTION_MODE" => "async_all")
    assert_equal "async_all", status["mode"]
    assert_equal true, status["poller"]

    status = runner("puts 'STATUS ' + JSON.generate(poller: !GoodCron::Railtie.poller.nil?)",
                    "GOOD_JOB_EXECUTION_MODE" => "async_all", "FIXTURE_QUEUE_ADAPTER" => "good_job")
    assert_equal false, status["poller"]
  end

  def test_a_production_server_runs_no_job_by_default
    server = start_server
    refute_match(/poller started/, server.stdout)
    assert_empty process_rows, "no poller registered"
    stop(server)
  end

  # :async_server is :async's other name.
  def test_async_server_runs_the_jobs_in_a_production_server
    server = start_server("GOOD_JOB_EXECUTION_MODE" => "async_server")
    ids = database.with_connection { |conn| PollerApp.insert_record_jobs(conn, %w[web-1]) }
    wait_finished(ids)
    assert_equal [server.pid], run_pids
    stop(server)
  end

  def test_inline_performs_the_jobs_due_now_at_enqueue
    @app.write_initializer(<<~RUBY)
      Rails.application.config.good_job[:cron] = { record: { cron: "every minute", class: "RecordJob", args: ["cron"] } }
    RUBY
    [{ "GOOD_JOB_EXECUTION_MODE" => "inline" }, { "RAILS_ENV" => "test" }].each do |env|
      database.truncate
      database.with_connection { |conn| PollerApp.reset_job_runs(conn) }
      status = runner(INLINE, env)

      assert_equal "inline", status["mode"], env.inspect
      assert_equal false, status["poller"]
      assert_equal 1, status["now"], "performed before perform_later returned (#{env.inspect})"
      assert_equal({ "later" => 0, "cron" => 1, "all-now" => 1, "all-later" => 0 }, status["counts"])
      assert_equal "RuntimeError: boom", status["error"], "a job's error reaches perform_later's caller"
      assert_equal [status["pid"]], run_pids, "in the enqueuing process"
      rows = database.with_connection { |conn| conn.exec("SELECT serialized_params, scheduled_at > now() AS future FROM good_jobs").to_a }
      waiting = rows.map { |row| [JSON.parse(row["serialized_params"])["arguments"], row["future"]] }
      assert_equal [[["all-later"], "t"], [["later"], "t"]], waiting.sort, "the later jobs wait in good_jobs, as GoodJob's inline leaves them"
    end
  end

  def test_an_unknown_mode_stops_the_boot_naming_the_valid_ones
    valid = ":async, :async_all, :async_server, :external, :inline"
    failed = @app.runner("puts 1", env: { "GOOD_JOB_EXECUTION_MODE" => "asnyc" })
    refute failed.wait(60)&.success?, failed.output
    assert_includes failed.stderr, "GoodCron::ConfigurationError"
    assert_includes failed.stderr, %(execution_mode (GOOD_JOB_EXECUTION_MODE) must be one of #{valid}, got "asnyc")

    @app.write_initializer("Rails.application.config.good_job[:execution_mode] = :asnyc")
    failed = @app.runner("puts 1")
    refute failed.wait(60)&.success?, failed.output
    assert_includes failed.stderr, "execution_mode must be one of #{valid}, got :asnyc"
  end

  private

  # `rails server` (Puma, one process), once it listens.
  def start_server(env = {})
    server = @app.server("-p", FreePort.pick.to_s, "-b", "127.0.0.1", "-P", File.join(@app.path, "tmp/server.pid"),
                         env: { "GOOD_JOB_POLL_INTERVAL" => "1" }.merge(env))
    assert wait_for(90) { server.exited? || server.stdout.include?("Listening on") }, server.output
    refute server.exited?, server.output
    server
  end

  def stop(server)
    server.signal(:TERM)
    status = server.wait(30)
    assert status&.success?, "exit status #{status.inspect}\n#{server.output}"
  end

  def runner(code, env = {})
    runner = @app.runner(code, env: env)
    assert runner.wait(90)&.success?, runner.output
    line = runner.stdout[/^STATUS (.*)$/, 1] or flunk "no status in:\n#{runner.output}"
    JSON.parse(line)
  end

  def run_pids
    database.with_connection { |conn| conn.exec("SELECT DISTINCT pid FROM job_runs").column_values(0).map(&:to_i) }
  end

  def job_count
    count_sql("SELECT count(*) FROM good_jobs")
  end
end
