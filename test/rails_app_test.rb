# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/free_port"
require "fileutils"
require "json"
require "open3"
require "rbconfig"
require "timeout"
require "tmpdir"

# Boots the fixture app (test/fixtures/rails_app: Debian's Rails 6.1, Puma, a GoodJob stand-in
# and GoodJob's cron hash in an initializer) as real processes on this file's database. Each
# test works on a copy of the app, so it can change files as a user would.
class RailsAppTest < Minitest::Test
  include TestDatabase::Helper

  FIXTURE = File.expand_path("fixtures/rails_app", __dir__)
  LIB = File.expand_path("../lib", __dir__)
  FRESH_DATABASE = "good_cron_test_rails_app_fresh"
  # The entries of the fixture's config/initializers/good_job.rb, as rows must show them.
  ENTRIES = {
    "heartbeat" => { job_class: "HeartbeatJob", queue: "cron_fast", priority: 0, arguments: ["ping", 42] },
    "report" => { job_class: "ReportJob", queue: "reports", priority: 5,
                  arguments: [7, { "format" => "csv", "_aj_ruby2_keywords" => ["format"] }] },
  }.freeze

  def setup
    database.truncate
    @app = Dir.mktmpdir("good_cron_rails_app")
    FileUtils.cp_r("#{FIXTURE}/.", @app)
  end

  def teardown
    FileUtils.rm_rf(@app)
  end

  # `rails server` with Puma in cluster mode: the master boots the app and starts the
  # scheduler, each forked worker starts its own, SIGTERM stops them all, and every instant
  # gives exactly one row per entry, as the initializer describes it.
  def test_puma_cluster_writes_each_instant_once_and_stops_cleanly
    pg_log_offset = File.size(ENV.fetch("GOOD_CRON_PG_LOG"))
    log = File.join(@app, "server.log")
    pid = Process.spawn(app_env("WEB_CONCURRENCY" => "2"), RbConfig.ruby, "bin/rails", "server", "-p", FreePort.pick.to_s,
                        "-b", "127.0.0.1", "-P", File.join(@app, "tmp/server.pid"),
                        chdir: @app, out: log, err: %i[child out], pgroup: true)
    begin
      wait_for(log, /Worker 1 \(PID: \d+\) booted/, timeout: 30)
      sleep 4
      Process.kill(:TERM, pid)
      status = wait_process(pid, 20)
    ensure
      Process.kill(:KILL, -pid) unless status
    end
    output = File.read(log)

    assert status.success?, "the server exited with #{status}:\n#{output}"
    refute_match(/\b(ERROR|FATAL)\b|Error\b|Exception/, output)
    assert_includes output, "GoodJob stand-in: cron manager not started"
    started = output.scan(/cron scheduler (?:started with 2 entries|restarted after fork) \(pid (\d+)\)/).flatten
    stopped = output.scan(/cron scheduler stopped \(pid (\d+)\)/).flatten
    assert_equal 3, started.uniq.size, "the master and both workers run a scheduler:\n#{output}"
    assert_equal started.sort, stopped.sort, "each scheduler stopped at exit:\n#{output}"
    assert_equal 0, pg_log_lines_since(pg_log_offset).grep(/ERROR|duplicate key/).size

    rows = cron_rows
    assert_equal ENTRIES.keys, rows.keys.sort
    instants = rows.transform_values { |by_key| by_key.map { |row| row["at"].to_i } }
    rows.each do |key, by_key|
      ats = instants[key]
      assert_operator ats.size, :>=, 3, "#{key} ran every second for about 4 s"
      assert_equal (ats.first..ats.last).to_a, ats, "#{key}: consecutive instants, each once"
      by_key.each { |row| assert_row(key, row) }
    end
    assert_equal instants["heartbeat"], instants["report"], "both every-second entries ran at the same instants"
  end

  # Only server processes run cron: a runner (like a console or a rake task) does not, and
  # GoodJob's own cron manager stays off while cron is enabled for GoodJob.
  def test_a_runner_process_does_not_start_the_scheduler
    status = runner_status
    assert_nil status["scheduler"]
    assert_equal false, status["good_job_enable_cron"]
    assert_equal true, status["enable_cron"], "cron itself is enabled"
    assert_empty cron_rows
  end

  # GOOD_JOB_ENABLE_CRON=false (when the initializer leaves enable_cron out) and enable_cron:
  # false keep the scheduler off even where GOOD_CRON_START=1 forces it to start.
  def test_enable_cron_false_and_good_job_enable_cron_false_disable_it
    forced = { "GOOD_CRON_START" => "1" }
    write_initializer("Rails.application.config.good_job.delete(:enable_cron)")
    assert_nil runner_status(forced.merge("GOOD_JOB_ENABLE_CRON" => "false"))["scheduler"]
    assert_equal ENTRIES.keys, runner_status(forced.merge("GOOD_JOB_ENABLE_CRON" => "true"))["scheduler"]

    write_initializer("Rails.application.config.good_job[:enable_cron] = false")
    assert_nil runner_status(forced)["scheduler"]
  end

  # GOOD_JOB_CRON is read as GoodJob reads it: only when the configuration has no cron hash.
  # Here the app's database is given by database.yml alone (a socket directory, a password that
  # needs escaping; no DATABASE_URL), so the scheduler's URL is built from ActiveRecord's.
  def test_good_job_cron_json_with_good_jobs_precedence
    env_cron = JSON.generate(nightly: { cron: "every second", class: "HeartbeatJob", args: ["from env", 1],
                                        set: { queue: "env" } })
    forced = { "GOOD_CRON_START" => "1", "GOOD_JOB_CRON" => env_cron }
    assert_equal ENTRIES.keys, runner_status(forced)["scheduler"], "the initializer's cron wins over GOOD_JOB_CRON"
    database.truncate # that runner may have lived across an instant and written rows

    write_initializer("Rails.application.config.good_job.delete(:cron)")
    write_socket_database_yml
    status = runner_status(forced.merge("DATABASE_URL" => nil), wait: 2.5)
    assert_equal ["nightly"], status["scheduler"]
    assert_match(%r{\Apostgres:///#{database.name}\?host=%2F}, status["database_url"])
    rows = cron_rows
    assert_equal ["nightly"], rows.keys
    assert_operator rows["nightly"].size, :>=, 1
    params = JSON.parse(rows["nightly"].first["serialized_params"])
    assert_equal ["from env", 1], params["arguments"]
    assert_equal "env", params["queue_name"]
  end

  # A bad entry in the initializer stops `rails server` from booting, naming the entry.
  def test_a_bad_cron_entry_fails_the_server_boot
    write_initializer('Rails.application.config.good_job[:cron][:broken] = { cron: "every blue moon", class: "NoSuchJob" }')
    output, status = rails("server", "-p", FreePort.pick.to_s, "-b", "127.0.0.1", "-P", File.join(@app, "tmp/server.pid"))

    refute status.success?, output
    assert_includes output, "GoodCron::ConfigurationError"
    assert_match(/^\s*- broken: .*every blue moon/, output)
    assert_match(/^\s*- broken: class "NoSuchJob" cannot be found/, output)
    refute_includes output, "Listening on"
  end

  # On an empty database the scheduler refuses to start and names the migration to run; that
  # migration (the generator's) creates the tables, and then the scheduler starts.
  def test_the_generator_migration_creates_the_tables_the_scheduler_asks_for
    admin do |conn|
      conn.exec("DROP DATABASE IF EXISTS #{FRESH_DATABASE} WITH (FORCE)")
      conn.exec("CREATE DATABASE #{FRESH_DATABASE}")
    end
    env = { "DATABASE_URL" => TestDatabase.url_for(FRESH_DATABASE), "GOOD_CRON_START" => "1" }

    output, status = rails("runner", "1", env: env)
    refute status.success?, output
    assert_includes output, "GoodCron::SchemaError"
    assert_includes output, "bin/rails generate good_cron:install && bin/rails db:migrate"

    output, status = rails("generate", "good_cron:install", env: env.merge("GOOD_CRON_START" => nil))
    assert status.success?, output
    migration = Dir[File.join(@app, "db/migrate/*_install_good_cron.rb")].first
    assert migration, output
    assert_includes File.read(migration), "CREATE UNIQUE INDEX IF NOT EXISTS index_good_jobs_on_cron_key_and_cron_at_cond"
    output, status = rails("db:migrate", env: env.merge("GOOD_CRON_START" => nil))
    assert status.success?, output

    assert_equal ENTRIES.keys, runner_status(env)["scheduler"]
    tables = admin(FRESH_DATABASE) { |conn| conn.exec("SELECT tablename FROM pg_tables WHERE tablename LIKE 'good_job%'").column_values(0) }
    assert_equal %w[good_job_batches good_job_executions good_job_processes good_job_settings good_jobs], tables.sort
  ensure
    admin { |conn| conn.exec("DROP DATABASE IF EXISTS #{FRESH_DATABASE} WITH (FORCE)") }
  end

  private

  def assert_row(key, row)
    expected = ENTRIES.fetch(key)
    params = JSON.parse(row["serialized_params"])
    assert_equal expected[:job_class], row["job_class"]
    assert_equal expected[:job_class], params["job_class"]
    assert_equal expected[:queue], row["queue_name"]
    assert_equal expected[:queue], params["queue_name"]
    assert_equal expected[:priority], row["priority"].to_i
    assert_equal expected[:arguments], params["arguments"]
    assert_equal row["id"], row["active_job_id"]
    assert_equal row["id"], params["job_id"]
  end

  # The environment of an app process: this checkout's good_cron, production, this file's
  # database, and none of the variables the tests set unless given.
  def app_env(extra = {})
    {
      "RUBYLIB" => [LIB, ENV.fetch("RUBYLIB", nil)].compact.join(File::PATH_SEPARATOR),
      "RAILS_ENV" => "production",
      "DATABASE_URL" => database.url,
      "GOOD_CRON_START" => nil, "GOOD_JOB_ENABLE_CRON" => nil, "GOOD_JOB_CRON" => nil,
      "GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD" => nil, "WEB_CONCURRENCY" => nil,
    }.merge(extra)
  end

  # Runs bin/rails with +args+ in the app; returns [output, status].
  def rails(*args, env: {}, timeout: 60)
    Open3.popen2e(app_env(env), RbConfig.ruby, "bin/rails", *args, chdir: @app, pgroup: true) do |stdin, out, thread|
      stdin.close
      reader = Thread.new { out.read }
      unless thread.join(timeout)
        Process.kill(:KILL, -thread.pid)
        flunk "bin/rails #{args.join(" ")} did not finish in #{timeout} s:\n#{reader.value}"
      end
      [reader.value, thread.value]
    end
  end

  # What the Railtie did in a `rails runner` process: the scheduler's entry keys (nil when it
  # does not run), the URL it uses, and whether GoodJob (the stand-in) would run cron.
  def runner_status(env = {}, wait: 0)
    code = <<~RUBY
      sleep #{wait}
      scheduler = GoodCron::Railtie.scheduler
      puts "STATUS " + JSON.generate(
        scheduler: scheduler&.entries&.map(&:key),
        database_url: scheduler&.database_url,
        enable_cron: GoodCron::Configuration.new(Rails.application.config.good_job).enable_cron?,
        good_job_enable_cron: GoodJob.configuration.enable_cron?,
      )
    RUBY
    output, status = rails("runner", code, env: env)
    assert status.success?, output
    refute_match(/\b(ERROR|FATAL)\b/, output)
    line = output[/^STATUS (.*)$/, 1] or flunk "no status in:\n#{output}"
    JSON.parse(line)
  end

  # Adds an initializer that runs after config/initializers/good_job.rb.
  def write_initializer(code)
    File.write(File.join(@app, "config/initializers/zz_test.rb"), "#{code}\n")
  end

  # database.yml with the throwaway server's socket directory (next to its log) and a
  # password (ignored by its trust authentication) full of characters URLs must escape.
  def write_socket_database_yml
    url = URI.parse(database.url)
    socket_dir = File.dirname(ENV.fetch("GOOD_CRON_PG_LOG"))
    skip "no PostgreSQL socket in #{socket_dir}" unless File.exist?(File.join(socket_dir, ".s.PGSQL.#{url.port}"))

    File.write(File.join(@app, "config/database.yml"), <<~YAML)
      production:
        adapter: postgresql
        host: #{socket_dir}
        port: #{url.port}
        username: #{url.user}
        password: "p@ss/w:rd ?&="
        database: #{database.name}
    YAML
  end

  # { cron_key => [row, …] } ordered by cron_at, with "at" as Unix seconds.
  def cron_rows
    database.with_connection do |conn|
      conn.exec("SELECT *, extract(epoch FROM cron_at)::bigint AS at FROM good_jobs ORDER BY cron_key, cron_at")
          .group_by { |row| row["cron_key"] }
    end
  end

  def admin(name = "postgres", &block)
    conn = PG.connect(TestDatabase.url_for(name))
    conn.exec("SET client_min_messages TO warning")
    block.call(conn)
  ensure
    conn&.close
  end

  def pg_log_lines_since(offset)
    File.open(ENV.fetch("GOOD_CRON_PG_LOG")) do |log|
      log.seek(offset)
      log.each_line.select { |line| line.include?("@#{database.name} ") }
    end
  end

  def wait_for(path, pattern, timeout:)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    until File.exist?(path) && File.read(path).match?(pattern)
      flunk "no #{pattern.inspect} in #{timeout} s:\n#{File.exist?(path) && File.read(path)}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.1
    end
  end

  def wait_process(pid, timeout)
    Timeout.timeout(timeout) { Process.wait2(pid).last }
  rescue Timeout::Error
    flunk "the server did not exit within #{timeout} s of SIGTERM"
  end
end
