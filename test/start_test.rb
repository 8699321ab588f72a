# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/poller_app"
require_relative "support/private_postgres"

# `good_cron start` in the fixture app as a user watches it: one line per state change on the
# terminal (its stdout), and the same in the app's log (a file here, as in an app): the engines
# started with their settings, a job's error, the database going away and coming back, the
# catch-up, the shutdown.
class StartTest < Minitest::Test
  include Waiting
  include PrivatePostgres::TestServer

  INITIALIZER = <<~RUBY
    Rails.logger.level = :debug # what the Railtie says at debug level shows too
    class BrokenJob < ActiveJob::Base
      def perform
        raise ArgumentError, "boom"
      end
    end
    Rails.application.config.good_job[:cron] = { broken: { cron: "every second", class: "BrokenJob" } }
  RUBY

  def setup
    super
    @app = PollerApp::App.new(@postgres.url, initializer: INITIALIZER)
    @log = File.join(@app.path, "tmp", "production.log")
  end

  def teardown
    @app.destroy
    super
  end

  def test_the_terminal_and_the_log_show_each_state_change
    worker = @app.start("--enable-cron", "--poll-interval", "1",
                        env: { "FIXTURE_LOG" => @log, "GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD" => "60" })
    assert worker.wait_started, worker.output
    assert worker.wait_for_line(/\A\d\d:\d\d:\d\d ERROR good_cron: BrokenJob \(job [0-9a-f-]{36}, attempt 1\) raised ArgumentError: boom$/, 30),
           worker.output

    @postgres.stop
    assert worker.wait_for_line(/ERROR good_cron: poller: database unreachable/, 30), worker.output
    assert worker.wait_for_line(/ERROR good_cron: database unavailable/, 30), worker.output
    sleep 2 # runs are missed
    @postgres.start
    assert worker.wait_for_line(/INFO good_cron: poller reconnected to the database/, 60), worker.output
    assert worker.wait_for_line(/INFO good_cron: database available again; caught up [1-9]\d* missed run\(s\)/, 60), worker.output

    worker.signal(:TERM)
    status = worker.wait(30)
    assert status&.success?, "exit status #{status.inspect}\n#{worker.output}"

    terminal = worker.stdout.lines.map(&:chomp)
    started = terminal.first
    assert_match(/\Agood_cron started \(pid #{worker.pid}, process [0-9a-f-]{36}\): queues "\*" × 5; poll every 1 s; LISTEN on; /, started)
    assert_includes started, "; shutdown_timeout: wait forever; cron on (1 entry, cron_graceful_restart_period 60 s)"
    assert_includes terminal, "good_cron: SIGTERM received, shutting down (shutdown_timeout: wait forever)"
    assert_equal "good_cron stopped", terminal.last
    logged = terminal.map { |line| line.sub(/\A\d\d:\d\d:\d\d [A-Z]+ /, "") }
    good_cron_lines = logged.grep(/\Agood_cron/).reject { |line| line.include?("BrokenJob") }
    assert_equal good_cron_lines.uniq, good_cron_lines, "each line once on the terminal"

    log = File.read(@log)
    good_cron_lines.each { |line| assert_includes log, line, "the terminal's lines are in the log too" }
    assert_match(/Error performing BrokenJob .* ArgumentError \(boom\)/, log, "ActiveJob's own line for the job's error")
    refute_includes log + worker.stdout, "neither the cron scheduler nor the poller", "this process runs both"
  end
end
