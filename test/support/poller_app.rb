# frozen_string_literal: true

require "active_job"
require "fileutils"
require "json"
require "open3"
require "pg"
require "rbconfig"
require "securerandom"
require "tmpdir"
require_relative "waiting"

# The fixture Rails app (test/fixtures/rails_app) as the poller tests run it: a copy per test,
# on good_cron's adapter (FIXTURE_QUEUE_ADAPTER=good_cron), with `good_cron start` processes and
# RecordJob rows written the way GoodJob's adapter writes them.
module PollerApp
  FIXTURE = File.expand_path("../fixtures/rails_app", __dir__)
  LIB = File.expand_path("../../lib", __dir__)
  EXE = File.expand_path("../../exe/good_cron", __dir__)

  # An initializer that turns the fixture's cron off: only the poller runs.
  NO_CRON = "Rails.application.config.good_job[:enable_cron] = false"

  # Setup and teardown of a test on its own copy of the app (@app), with an empty good_jobs
  # and job_runs; +app_initializer+ (a method the test may define) is written into the copy.
  module Fixture
    def setup
      database.truncate
      database.with_connection { |conn| PollerApp.reset_job_runs(conn) }
      @app = PollerApp::App.new(database.url, initializer: app_initializer)
    end

    def teardown
      @app.destroy
    end

    def app_initializer
      NO_CRON
    end
  end

  # Setup and teardown of a test on its own copy of the app (@app) given no database URL: the
  # app's processes find their database themselves.
  module OwnDatabaseFixture
    def setup
      @app = PollerApp::App.new(nil)
    end

    def teardown
      @app.destroy
    end
  end

  # What RecordJob (the fixture's) writes for each perform.
  JOB_RUNS = "CREATE TABLE IF NOT EXISTS job_runs (job_id text, tag text, executions int, pid int, performed_at timestamptz)"

  # Builds RecordJob's serialized_params with ActiveJob itself, as `RecordJob.new(tag, sleep:)`
  # does in the app; only the class name differs (the app's class needs Rails and its database).
  class RecordJobTemplate < ActiveJob::Base
    queue_as :default

    def perform(tag, sleep: 0); end
  end

  # A copy of the fixture app in a temporary folder, with a test initializer of its own.
  class App
    attr_reader :path

    def initialize(database_url, initializer: nil)
      @database_url = database_url
      @path = Dir.mktmpdir("good_cron_poller_app")
      FileUtils.cp_r("#{FIXTURE}/.", @path)
      FileUtils.mkdir_p(File.join(@path, "tmp"))
      write_initializer(initializer) if initializer
      @workers = []
    end

    # An initializer that runs after config/initializers/good_job.rb.
    def write_initializer(code)
      File.write(File.join(@path, "config/initializers/zz_test.rb"), "# frozen_string_literal: true\n\n#{code}\n")
    end

    # The environment of an app process: this checkout's good_cron, production, the test's
    # database, good_cron's adapter, and none of the variables that would change what runs.
    def env(extra = {})
      {
        "RUBYLIB" => [LIB, ENV.fetch("RUBYLIB", nil)].compact.join(File::PATH_SEPARATOR),
        "RAILS_ENV" => "production",
        "DATABASE_URL" => @database_url,
        "FIXTURE_QUEUE_ADAPTER" => "good_cron",
        "GOOD_CRON_START" => nil, "GOOD_JOB_ENABLE_CRON" => nil, "GOOD_JOB_CRON" => nil,
        "GOOD_JOB_CRON_GRACEFUL_RESTART_PERIOD" => nil, "GOOD_JOB_QUEUES" => nil, "GOOD_JOB_MAX_THREADS" => nil,
        "GOOD_JOB_POLL_INTERVAL" => nil, "GOOD_JOB_SHUTDOWN_TIMEOUT" => nil, "GOOD_JOB_EXECUTION_MODE" => nil, "FIXTURE_LOG" => nil,
        "RAILS_MAX_THREADS" => nil, "WEB_CONCURRENCY" => nil,
      }.merge(extra)
    end

    # Spawns `good_cron start --app PATH -e production ARGS` (from the repository, so --app is
    # what finds the app).
    def start(*args, env: {})
      worker = Worker.new(self.env(env), [EXE, "start", "--app", @path, "-e", "production", *args],
                          File.join(@path, "tmp"), chdir: File.expand_path("../..", __dir__))
      @workers << worker
      worker
    end

    # Runs `bin/rails ARGS` in the app to its end; returns [output (stdout and stderr), status].
    def rails(*args, env: {})
      Open3.capture2e(self.env(env), RbConfig.ruby, "bin/rails", *args, chdir: @path)
    end

    # Spawns `bin/rails server` in the app (Puma; cluster mode with WEB_CONCURRENCY).
    def server(*args, env: {})
      worker = Worker.new(self.env(env), ["bin/rails", "server", *args], File.join(@path, "tmp"), chdir: @path)
      @workers << worker
      worker
    end

    # Spawns `bin/rails runner CODE` in the app (a process that is neither a server nor a worker).
    def runner(code, env: {})
      worker = Worker.new(self.env(env), ["bin/rails", "runner", code], File.join(@path, "tmp"), chdir: @path)
      @workers << worker
      worker
    end

    # Kills whatever a test left running, and removes the copy.
    def destroy
      @workers.each(&:kill)
      FileUtils.rm_rf(@path)
    end
  end

  # One OS process (`good_cron start`, or `rails server`) with its stdout and stderr in files.
  class Worker
    include Waiting

    attr_reader :pid, :status

    def initialize(env, argv, log_dir, chdir:)
      name = "#{File.basename(argv[1].to_s)}-#{SecureRandom.hex(4)}"
      @out = File.join(log_dir, "#{name}.out")
      @err = File.join(log_dir, "#{name}.err")
      @pid = Process.spawn(env, RbConfig.ruby, *argv, chdir: chdir, out: @out, err: @err, pgroup: true)
    end

    def stdout
      File.exist?(@out) ? File.read(@out) : ""
    end

    def stderr
      File.exist?(@err) ? File.read(@err) : ""
    end

    def output
      "--- stdout of #{@pid}:\n#{stdout}\n--- stderr of #{@pid}:\n#{stderr}"
    end

    # True once stdout has a line matching +pattern+; false if the process exits or +timeout+ passes.
    def wait_for_line(pattern, timeout)
      wait_for(timeout) do
        next :exited if exited?

        stdout.each_line.any? { |line| line.match?(pattern) }
      end == true
    end

    def wait_started(timeout = 90)
      wait_for_line(/\Agood_cron started/, timeout)
    end

    def signal(name)
      Process.kill(name, @pid)
    end

    # The exit status, once the process exited within +timeout+ seconds; nil otherwise.
    def wait(timeout)
      wait_for(timeout) { exited? }
      @status
    end

    def exited?
      return true if @status

      _, status = Process.wait2(@pid, Process::WNOHANG)
      @status = status if status
      !@status.nil?
    rescue Errno::ECHILD
      true
    end

    def kill9
      Process.kill(:KILL, @pid)
      wait(30)
    end

    # Kills the process group (a server's forked workers too) if it still runs.
    def kill
      return if exited?

      Process.kill(:KILL, -@pid)
      wait(30)
    rescue Errno::ESRCH
      nil
    end
  end

  # good_jobs rows as GoodJob's adapter writes them (id = active_job_id = job_id,
  # serialized_params = job.serialize, job_class, queue_name, priority, scheduled_at), for
  # RecordJob jobs, with one job per tag built by ActiveJob. Returns the job ids in order.
  def self.insert_record_jobs(conn, tags, sleep: nil, queue: "default", priority: 0, notify: true)
    jobs = tags.map do |tag|
      job = sleep ? RecordJobTemplate.new(tag, sleep: sleep) : RecordJobTemplate.new(tag)
      params = job.serialize.merge("job_class" => "RecordJob", "queue_name" => queue, "priority" => priority)
      [job.job_id, JSON.generate(params)]
    end
    encoder = PG::TextEncoder::Array.new
    jobs.each_slice(2_000) do |slice|
      conn.exec_params(<<~SQL, [encoder.encode(slice.map(&:first)), encoder.encode(slice.map(&:last)), queue, priority])
        INSERT INTO good_jobs (id, active_job_id, job_class, queue_name, priority, serialized_params,
                               scheduled_at, created_at, updated_at)
        SELECT id, id, 'RecordJob', $3, $4, params, clock_timestamp(), clock_timestamp(), clock_timestamp()
        FROM unnest($1::uuid[], $2::jsonb[]) WITH ORDINALITY AS t(id, params, n)
        ORDER BY n
      SQL
    end
    if notify
      payload = JSON.generate(queue_name: queue, count: jobs.size)
      conn.exec("NOTIFY good_job, #{conn.escape_literal(payload)}")
    end
    jobs.map(&:first)
  end

  # Creates (or empties) job_runs.
  def self.reset_job_runs(conn)
    conn.exec(JOB_RUNS)
    conn.exec("TRUNCATE job_runs")
  end
end
