# frozen_string_literal: true

require_relative "test_helper"
require "date"
require "fileutils"
require "json"
require "open3"
require "rbconfig"
require "tmpdir"

# The `good_cron` executable, run as a user runs it: a subprocess per command.
class CliTest < Minitest::Test
  include TestDatabase::Helper

  ROOT = File.expand_path("..", __dir__)
  LIB = File.join(ROOT, "lib")
  EXE = File.join(ROOT, "exe", "good_cron")
  FIXTURE = File.expand_path("fixtures/rails_app", __dir__)
  COLUMNS = ["KEY", "SCHEDULE", "CRON", "ZONE", "NEXT RUN", "LAST RUN", "ENABLED", "CLASS"].freeze

  # Job classes for `list --config`, loaded with --require.
  JOBS = <<~RUBY
    class ReportJob < ActiveJob::Base
      def perform(*); end
    end

    class CleanupJob < ActiveJob::Base
      def perform(*); end
    end
  RUBY

  CRON = {
    report: { cron: "every day at 9am America/New_York", class: "ReportJob", args: [7] },
    cleanup: { cron: "*/15 * * * *", class: "CleanupJob" },
    tick: { cron: "every second", class: "ReportJob" },
  }.freeze

  def setup
    @tmp = Dir.mktmpdir("good_cron_cli")
  end

  def teardown
    FileUtils.rm_rf(@tmp)
  end

  # --- explain -------------------------------------------------------------------------

  # 02:30 does not exist in New York on 2024-03-10: the run moves to 03:00 EDT, the first
  # instant after the gap, and the offset change is marked between the runs.
  def test_explain_a_new_york_fixed_time_across_spring_forward
    out = explain("30 2 * * * America/New_York", "-n", "3", "--from", "2024-03-09")
    assert_equal <<~OUT, out
      schedule  30 2 * * * America/New_York
      cron      30 2 * * * America/New_York
      zone      America/New_York
      runs      the next 3 at or after 2024-03-09 00:00:00 -05:00

        Sat 2024-03-09 02:30:00 -05:00  (2024-03-09 07:30:00 UTC)
        -- UTC offset changes from -05:00 to -04:00 --
        Sun 2024-03-10 03:00:00 -04:00  (2024-03-10 07:00:00 UTC)  <- moved by DST: 02:30 does not exist that day (clocks go from 02:00 to 03:00)
        Mon 2024-03-11 02:30:00 -04:00  (2024-03-11 06:30:00 UTC)
    OUT
  end

  # Fall-back day: a wildcard hour runs 01:00 and 01:30 twice (each offset once); a fixed
  # 01:30 runs once, at the first, and says so.
  def test_explain_marks_fall_back_for_wildcard_and_fixed_times
    out, = good_cron("explain", "*/30 * * * * America/New_York", "-n", "5", "--from", "2024-11-03 00:45 -04:00")
    assert_equal <<~OUT, instants(out)
      Sun 2024-11-03 01:00:00 -04:00  (2024-11-03 05:00:00 UTC)
      Sun 2024-11-03 01:30:00 -04:00  (2024-11-03 05:30:00 UTC)
      -- UTC offset changes from -04:00 to -05:00 --
      Sun 2024-11-03 01:00:00 -05:00  (2024-11-03 06:00:00 UTC)
      Sun 2024-11-03 01:30:00 -05:00  (2024-11-03 06:30:00 UTC)
      Sun 2024-11-03 02:00:00 -05:00  (2024-11-03 07:00:00 UTC)
    OUT

    out, = good_cron("explain", "30 1 * * * America/New_York", "-n", "3", "--from", "2024-11-02")
    assert_equal <<~OUT, instants(out)
      Sat 2024-11-02 01:30:00 -04:00  (2024-11-02 05:30:00 UTC)
      Sun 2024-11-03 01:30:00 -04:00  (2024-11-03 05:30:00 UTC)  <- 01:30:00 occurs twice that day (-04:00 and -05:00): it runs once, at the first
      -- UTC offset changes from -04:00 to -05:00 --
      Mon 2024-11-04 01:30:00 -05:00  (2024-11-04 06:30:00 UTC)
    OUT
  end

  # A schedule without a zone runs in the process zone (TZ), and the output says so.
  def test_explain_every_15_minutes_in_the_process_zone
    out = explain("every 15 minutes", "-n", "4", "--from", "2024-03-09 10:07", tz: "Europe/Paris")
    assert_includes out, "cron      0,15,30,45 * * * *\n"
    assert_includes out, "zone      Europe/Paris (this process's zone: the schedule names none)\n"
    assert_includes out, "runs      the next 4 at or after 2024-03-09 10:07:00 +01:00\n"
    assert_equal <<~OUT, instants(out)
      Sat 2024-03-09 10:15:00 +01:00  (2024-03-09 09:15:00 UTC)
      Sat 2024-03-09 10:30:00 +01:00  (2024-03-09 09:30:00 UTC)
      Sat 2024-03-09 10:45:00 +01:00  (2024-03-09 09:45:00 UTC)
      Sat 2024-03-09 11:00:00 +01:00  (2024-03-09 10:00:00 UTC)
    OUT
  end

  # Natural language: explain shows the cron it became (10:00pm is 22, as fugit 1.14 reads it),
  # and the runs stay at 22:00 New York time across spring-forward, whatever TZ is.
  def test_explain_natural_language_shows_its_cron
    out = explain("every day at 10:00pm America/New_York", "-n", "3", "--from", "2026-03-07", tz: "Asia/Tokyo")
    assert_equal <<~OUT, out
      schedule  every day at 10:00pm America/New_York
      cron      0 22 * * * America/New_York
      zone      America/New_York
      runs      the next 3 at or after 2026-03-07 00:00:00 -05:00

        Sat 2026-03-07 22:00:00 -05:00  (2026-03-08 03:00:00 UTC)
        -- UTC offset changes from -05:00 to -04:00 --
        Sun 2026-03-08 22:00:00 -04:00  (2026-03-09 02:00:00 UTC)
        Mon 2026-03-09 22:00:00 -04:00  (2026-03-10 02:00:00 UTC)
    OUT
  end

  # Ten runs by default; --from includes TIME itself and reads every documented form the same.
  def test_explain_count_default_and_from_forms
    out, = good_cron("explain", "every 15 minutes", "--from", "2024-03-09 10:15", env: { "TZ" => "UTC" })
    lines = instants(out).lines
    assert_equal 10, lines.size
    assert_match(/\ASat 2024-03-09 10:15:00 \+00:00/, lines.first, "--from includes TIME")
    assert_match(/\ASat 2024-03-09 12:30:00 \+00:00/, lines.last)

    expected = "Sat 2024-03-09 16:00:00 -05:00  (2024-03-09 21:00:00 UTC)\n"
    ["2024-03-09 15:07", "2024-03-09T20:07:00Z", "2024-03-09 22:07:00 +02:00", "@#{Time.utc(2024, 3, 9, 20, 7).to_i}"].each do |from|
      out, err, status = good_cron("explain", "0 * * * * America/New_York", "-n", "1", "--from", from)
      assert_equal 0, status.exitstatus, err
      assert_equal expected, instants(out), "--from #{from}"
    end

    tomorrow = Time.now.utc.to_date + 1
    out, = good_cron("explain", "0 0 * * *", "-n", "2", env: { "TZ" => "UTC" })
    assert_match(/^runs      the next 2 after now \(/, out)
    first = instants(out).lines.first
    assert [tomorrow, tomorrow + 1].any? { |day| first.start_with?("#{day.strftime("%a %Y-%m-%d")} 00:00:00 +00:00") }, out
  end

  def test_explain_an_invalid_schedule_exits_1_with_the_reason
    out, err, status = good_cron("explain", "every blue moon")
    assert_equal 1, status.exitstatus
    assert_empty out
    assert_equal %(good_cron: invalid schedule "every blue moon": unknown word "blue" at character 7\n), err

    _, err, status = good_cron("explain", "0 0 30 2 *")
    assert_equal 1, status.exitstatus
    assert_includes err, "February has no day 30"
  end

  # --- list --------------------------------------------------------------------------------

  # A plain Ruby app: a JSON cron hash, the job classes from --require, this file's database.
  # report ran (its last run shows, in its zone), cleanup is disabled in GoodJob's settings.
  def test_list_with_a_json_config_shows_last_runs_and_disabled_keys
    database.truncate
    database.with_connection do |conn|
      conn.exec(<<~SQL)
        INSERT INTO good_jobs (id, created_at, updated_at, cron_key, cron_at) VALUES
          (gen_random_uuid(), now(), now(), 'report', '2024-03-07 14:00:00'),
          (gen_random_uuid(), now(), now(), 'report', '2024-03-08 14:00:00');
        INSERT INTO good_job_settings (id, created_at, updated_at, key, value)
        VALUES (gen_random_uuid(), now(), now(), 'cron_keys_disabled', '["cleanup"]');
      SQL
    end
    out, err, status = good_cron("list", "--config", write("cron.json", JSON.generate(CRON)),
                                 "--require", write("jobs.rb", JOBS), "--database-url", database.url)

    assert_equal 0, status.exitstatus, err
    rows = table(out)
    assert_equal %w[report cleanup tick], rows.map { |row| row["KEY"] }
    report, cleanup, tick = rows

    assert_equal "every day at 9am America/New_York", report["SCHEDULE"]
    assert_equal "0 9 * * *", report["CRON"]
    assert_equal "America/New_York", report["ZONE"]
    assert_match(/\A\d+d( \d+h)? ago  2024-03-08 09:00:00 -05:00\z/, report["LAST RUN"])
    assert_match(/\Ain \d+[dhms]( \d+[hms])? +\d{4}-\d\d-\d\d 09:00:00 -0[45]:00\z/, report["NEXT RUN"])
    assert_equal ["yes", "ReportJob"], report.values_at("ENABLED", "CLASS")

    assert_equal ["*/15 * * * *", "0,15,30,45 * * * *", "UTC (local)"], cleanup.values_at("SCHEDULE", "CRON", "ZONE")
    assert_equal ["never", "no", "CleanupJob"], cleanup.values_at("LAST RUN", "ENABLED", "CLASS")
    assert_match(/\Ain \d+[ms]( \d+s)? +\d{4}-\d\d-\d\d \d\d:(00|15|30|45):00 \+00:00\z/, cleanup["NEXT RUN"])

    assert_match(/\Ain \d+s +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+00:00\z/, tick["NEXT RUN"])
    assert_equal %w[never yes], tick.values_at("LAST RUN", "ENABLED")
    assert_includes out, "Note: a zone marked (local) is this process's zone"
    assert_empty err
  end

  def test_list_configuration_errors_and_an_unreachable_database_exit_1
    config = write("cron.json", JSON.generate(CRON.merge(broken: { cron: "every blue moon", class: "NoSuchJob" })))
    out, err, status = good_cron("list", "--config", config, "--require", write("jobs.rb", JOBS),
                                 "--database-url", database.url)
    assert_equal 1, status.exitstatus
    assert_empty out
    assert_includes err, "2 problems in the cron configuration"
    assert_includes err, %(- broken: invalid schedule "every blue moon")
    assert_includes err, %(- broken: class "NoSuchJob" cannot be found)

    _, err, status = good_cron("list", "--config", config, "--database-url", database.url)
    assert_equal 1, status.exitstatus
    assert_includes err, %(- report: class "ReportJob" cannot be found)
    assert_includes err, "(load the job classes with --require FILE)"

    closed = "postgres://cron:s3cret@127.0.0.1:1/nothing"
    out, err, status = good_cron("list", "--config", write("ok.json", JSON.generate(CRON)), "--require", "#{@tmp}/jobs.rb",
                                 "--database-url", closed)
    assert_equal 1, status.exitstatus
    assert_empty out
    assert_equal 1, err.lines.size, err
    assert_match(%r{\Agood_cron: cannot read the entries from the database postgres://cron:\*\*\*@127\.0\.0\.1:1/nothing: .*refused}, err)
    refute_includes err, "s3cret"
  end

  # The fixture Rails app, booted by `list --app`: its initializer's entries (plus one of Procs),
  # its database (DATABASE_URL through ActiveRecord), and no scheduler started, even with
  # GOOD_CRON_START=1.
  def test_list_boots_a_rails_app_without_starting_the_scheduler
    database.truncate
    database.with_connection do |conn|
      conn.exec("INSERT INTO good_jobs (id, created_at, updated_at, cron_key, cron_at) " \
                "VALUES (gen_random_uuid(), now(), now(), 'report', '2024-03-08 14:00:00')")
    end
    app = File.join(@tmp, "app")
    FileUtils.cp_r(FIXTURE, app)
    env = { "DATABASE_URL" => database.url, "GOOD_CRON_START" => "1", "TZ" => "UTC" }
    File.write(File.join(app, "config/initializers/zz_test.rb"), <<~RUBY)
      Rails.application.config.good_job[:cron][:dynamic] = {
        cron: ->(_last) { Time.utc(2030, 1, 2, 3, 4, 5) }, class: -> { HeartbeatJob }, args: ["x", 1],
      }
    RUBY

    out, err, status = good_cron("list", "--app", app, "-e", "production", env: env)
    assert_equal 0, status.exitstatus, err
    rows = table(out)
    assert_equal %w[heartbeat report dynamic], rows.map { |row| row["KEY"] }
    heartbeat, report, dynamic = rows
    assert_equal ["(Proc)", "-", "-", "never", "yes", "(Proc)"],
                 dynamic.values_at("SCHEDULE", "CRON", "ZONE", "LAST RUN", "ENABLED", "CLASS")
    # The hours are left out when there are none (at 03:04 UTC, say).
    assert_match(/\Ain \d+d( \d+h)? +2030-01-02 03:04:05 \+00:00\z/, dynamic["NEXT RUN"])
    assert_includes out, "Note: a (Proc) schedule's next run is what its Proc answers now"
    assert_equal ["every second", "* * * * * *", "never", "yes", "HeartbeatJob"],
                 heartbeat.values_at("SCHEDULE", "CRON", "LAST RUN", "ENABLED", "CLASS")
    assert_equal ["* * * * * *", "ReportJob"], report.values_at("SCHEDULE", "CLASS")
    assert_match(/ ago  2024-03-08 14:00:00 \+00:00\z/, report["LAST RUN"])
    assert_includes err, "GoodJob stand-in: cron manager not started", "the app's boot log goes to stderr"
    refute_includes out + err, "cron scheduler started"
    sleep 1.2
    assert_equal [["report"]], database.with_connection { |conn| conn.exec("SELECT cron_key FROM good_jobs").values },
                 "no scheduler ran"

    # From inside the app (the default --app), RAILS_ENV from the environment; a bad entry.
    File.write(File.join(app, "config/initializers/zz_test.rb"),
               %(Rails.application.config.good_job[:cron][:broken] = { cron: "0 0 30 2 *", class: "NoSuchJob" }\n))
    out, err, status = good_cron("list", env: env.merge("RAILS_ENV" => "production"), chdir: app)
    assert_equal 1, status.exitstatus
    assert_empty out
    assert_includes err, "- broken: invalid schedule \"0 0 30 2 *\""
    assert_includes err, %(- broken: class "NoSuchJob" cannot be found)
  end

  # A database that does not exist is named as such, not taken for missing tables.
  def test_list_against_a_missing_database_names_it
    url = TestDatabase.url_for("good_cron_test_no_such_database").sub("postgres://postgres@", "postgres://postgres:s3cret@")
    out, err, status = good_cron("list", "--config", write("cron.json", JSON.generate(CRON)), "--require", write("jobs.rb", JOBS),
                                 "--database-url", url)
    assert_equal 1, status.exitstatus
    assert_empty out
    assert_equal 1, err.lines.size, err
    assert_includes err, %(good_cron: the database "good_cron_test_no_such_database" does not exist (#{url.sub(":s3cret@", ":***@")}))
    refute_includes err, "generate"
    refute_includes err, "s3cret"
  end

  # A refused login is the server's reason, not taken for a missing database or an outage.
  def test_list_with_refused_credentials_gives_the_server_s_reason
    refused = URI.parse(database.url).tap { |uri| uri.user = "no_such_role" }.to_s
    out, err, status = good_cron("list", "--config", write("cron.json", JSON.generate(CRON)), "--require", write("jobs.rb", JOBS),
                                 "--database-url", refused)
    assert_equal 1, status.exitstatus
    assert_empty out
    assert_equal 1, err.lines.size, err
    assert_match(/\Agood_cron: cannot read the entries from the database \S*no_such_role\S*: .*role "no_such_role" does not exist/, err)
  end

  # Only postgres:// and postgresql:// URLs are PostgreSQL's: a typo is refused before anything
  # connects, naming the URL with its password masked.
  def test_a_database_url_with_another_scheme_exits_1_naming_it
    typo = "postgress://cron:s3cret@127.0.0.1:5432/app?sslmode=disable&password=s3cret"
    message = %(database_url's scheme must be postgres:// or postgresql://, got "postgress://cron:***@127.0.0.1:5432/app?sslmode=disable&password=***")
    out, err, status = good_cron("list", "--config", write("cron.json", JSON.generate(CRON)), "--require", write("jobs.rb", JOBS),
                                 "--database-url", typo)
    assert_equal 1, status.exitstatus
    assert_empty out
    assert_includes err, message
    refute_includes err, "s3cret"

    app = File.join(@tmp, "app")
    FileUtils.cp_r(FIXTURE, app)
    out, err, status = good_cron("start", "--app", app, "--database-url", typo,
                                 env: { "DATABASE_URL" => database.url, "FIXTURE_QUEUE_ADAPTER" => "good_cron" })
    assert_equal 1, status.exitstatus, err
    assert_includes err, message
    refute_includes out + err, "s3cret"
    refute_includes out, "good_cron started"
  end

  # good_cron's messages carry their "good_cron: " prefix: the default logger adds no progname.
  def test_the_default_logger_says_good_cron_once_per_line
    _, err, status = Open3.capture3(RbConfig.ruby, "-I#{LIB}", "-e", 'require "good_cron"; GoodCron.logger.warn("good_cron: taking over")')
    assert status.success?, err
    assert_match(/WARN -- : good_cron: taking over\n\z/, err)
  end

  def test_list_outside_a_rails_app_without_config_says_what_to_pass
    out, err, status = good_cron("list", chdir: @tmp)
    assert_equal 1, status.exitstatus
    assert_empty out
    assert_includes err, "no Rails app in #{File.realpath(@tmp)} (no config/environment.rb)"
    assert_includes err, "--config FILE.json"
  end

  # `start` reads its settings before it runs anything: a bad value exits 1 naming the
  # setting and the value; a missing app says so.
  def test_start_with_a_bad_setting_exits_1_naming_it
    app = File.join(@tmp, "app")
    FileUtils.cp_r(FIXTURE, app)
    env = { "DATABASE_URL" => database.url, "FIXTURE_QUEUE_ADAPTER" => "good_cron" }
    out, err, status = good_cron("start", "--app", app, "--max-threads", "lots", env: env)
    assert_equal 1, status.exitstatus, err
    assert_includes err, "good_cron: 1 problem in the job settings:\n  - max_threads (--max-threads) must be an integer from 1 to 1000, got \"lots\""
    refute_includes out, "good_cron started"

    out, err, status = good_cron("start", "--app", app, env: env.merge("GOOD_JOB_POLL_INTERVAL" => "often"))
    assert_equal 1, status.exitstatus, err
    assert_includes err, '- poll_interval (GOOD_JOB_POLL_INTERVAL) must be a number of seconds from -604800 to 604800, got "often"'
    refute_includes out, "good_cron started"

    _, err, status = good_cron("start", chdir: @tmp)
    assert_equal 1, status.exitstatus
    assert_includes err, "no Rails app in #{File.realpath(@tmp)}"
  end

  # --- help and misuse ---------------------------------------------------------------------

  def test_help_exits_0_and_misuse_exits_64
    [["--help"], ["help"], ["-h"]].each do |args|
      out, err, status = good_cron(*args)
      assert_equal 0, status.exitstatus, args.inspect
      assert_match(/\AUsage: good_cron COMMAND \[options\]/, out)
      assert_includes out, 'good_cron explain "SCHEDULE" [-n N] [--from TIME]'
      assert_includes out, "good_cron list --config FILE.json"
      assert_empty err
    end
    [%w[help list], %w[list --help], %w[help explain], %w[explain -h], %w[help start], %w[start --help]].each do |args|
      out, _, status = good_cron(*args)
      assert_equal 0, status.exitstatus, args.inspect
      assert_match(/\Agood_cron #{args.find { |a| a != "help" && !a.start_with?("-") }}/, out)
    end

    {
      [] => "no command given",
      ["frobnicate"] => 'unknown command "frobnicate"',
      ["help", "frobnicate"] => 'unknown command "frobnicate"',
      ["explain"] => "explain needs one SCHEDULE",
      ["explain", "0", "*", "*", "*", "*"] => "explain takes one SCHEDULE, got 5 arguments",
      ["explain", "@daily", "-n", "ten"] => "invalid argument: -n ten",
      ["explain", "@daily", "-n", "0"] => "-n must be between 1 and",
      ["explain", "@daily", "--from", "tomorrow"] => '--from "tomorrow" is not a time',
      ["explain", "@daily", "--from", "2024-02-30"] => '--from "2024-02-30" is not a valid date and time',
      ["list", "--bogus"] => "invalid option: --bogus",
      ["list", "extra"] => "list takes no arguments",
      ["list", "--app", ".", "--config", "x.json"] => "--app and --config exclude each other",
      ["start", "extra"] => "start takes no arguments",
      ["start", "--bogus"] => "invalid option: --bogus",
    }.each do |args, message|
      out, err, status = good_cron(*args)
      assert_equal 64, status.exitstatus, "#{args.inspect}: #{err}"
      assert_empty out, args.inspect
      assert_includes err, "good_cron: #{message}", args.inspect
      assert_includes err, "good_cron ", "#{args.inspect}: usage follows"
    end
  end

  private

  # Runs exe/good_cron with +args+; returns [stdout, stderr, status].
  def good_cron(*args, env: {}, chdir: ROOT)
    Open3.capture3({ "GOOD_CRON_START" => nil, "TZ" => "UTC" }.merge(env),
                   RbConfig.ruby, "-I#{LIB}", EXE, *args, chdir: chdir)
  end

  # `good_cron explain ARGS` in the process zone +tz+: its output, once it succeeded silently.
  def explain(*args, tz: "UTC")
    out, err, status = good_cron("explain", *args, env: { "TZ" => tz })
    assert_equal 0, status.exitstatus, err
    assert_empty err
    out
  end

  # The instant and transition lines of explain's output, unindented.
  def instants(out)
    out.lines.drop_while { |line| !line.strip.empty? }.drop(1).map { |line| line.delete_prefix("  ") }.join
  end

  # list's table as Hashes by column, each cell cut at the header's column positions (so a
  # misaligned row shows as a wrong value).
  def table(out)
    header, *rows = out.lines.map(&:chomp).take_while { |line| !line.start_with?("Note: ") }
    starts = COLUMNS.map { |name| header.index(name) or flunk "no #{name} column in:\n#{out}" }
    assert_equal starts.sort, starts, "columns in order:\n#{out}"
    rows.map do |line|
      COLUMNS.each_with_index.to_h do |name, i|
        cell = line[starts[i]...(starts[i + 1] || line.size)].to_s
        assert(i.zero? || line[starts[i] - 1] == " ", "column #{name} starts after a space:\n#{out}")
        [name, cell.strip]
      end
    end
  end

  def write(name, text)
    path = File.join(@tmp, name)
    File.write(path, text)
    path
  end
end
