# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/good_job_rows"
require_relative "support/poller_app"
require "tmpdir"

# A process whose main thread raises while its GoodCron::Poller runs (no shutdown call; Ruby
# exits normally and runs at_exit): the job that finished is recorded, once, and the process
# row is removed.
class PollerExitTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include GoodJobRows

  LIB = File.expand_path("../lib", __dir__)

  # Enqueues a short job, starts a poller, and raises in the main thread as soon as the job's
  # perform is done. The job says when it started and ends once the file GATE exists.
  CHILD = <<~'RUBY'
    require "logger"
    require "active_job"
    require "good_cron"
    ActiveJob::Base.logger = Logger.new(nil)
    DONE = Queue.new

    class ShortJob < ActiveJob::Base
      self.queue_adapter = GoodCron::Adapter.new(database_url: ENV.fetch("DATABASE_URL"))

      def perform
        $stdout.puts "started #{job_id}"
        $stdout.flush
        sleep 0.01 until File.exist?(ENV.fetch("GATE"))
        DONE << job_id
      end
    end

    job = ShortJob.perform_later
    GoodCron::Poller.new(database_url: ENV.fetch("DATABASE_URL"), poll_interval: 1).start
    $stdout.puts "performed #{DONE.pop}"
    $stdout.flush
    raise "the main thread fails right after the job"
  RUBY

  def setup
    database.truncate
    @children = []
  end

  def teardown
    @children.each(&:kill)
  end

  # While the job runs, the test locks its row, so the job's result cannot be written until the
  # test lets go (a slow database at exit): 2 s after the job ended, or once the child exited,
  # whichever comes first. A child that records its results at exit is still waiting then.
  def test_at_exit_records_the_finished_job_and_removes_the_process_row
    Dir.mktmpdir("good_cron_exit") do |dir|
      child = spawn_child(dir)
      job_id = wait_for(60) { child.output[/started (\S+)/, 1] }
      assert job_id, "the job started\n#{child.output}"
      database.with_connection do |conn|
        conn.exec("BEGIN")
        conn.exec_params("SELECT 1 FROM good_jobs WHERE id = $1 FOR UPDATE", [job_id])
        File.write(File.join(dir, "gate"), "")
        # A statement of a process that has gone is not its result: PostgreSQL would finish it
        # once the lock is free, so the gone process's sessions are ended first.
        if wait_for(2) { child.exited? }
          conn.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity " \
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        end
        conn.exec("COMMIT")
      end
      status = child.wait(60) or flunk "the child did not exit within 60 s\n#{child.output}"
      refute status.success?, "the child ends with its exception"
      assert_match(/performed #{job_id}/, child.stdout)
      assert_match(/the main thread fails right after the job/, child.stderr)
      assert_recorded(job_id, child.output)
    end
  end

  private

  def assert_recorded(job_id, output)
    row = job_row(job_id)
    left = { finished: !row["finished_at"].nil?, locked_by_id: row["locked_by_id"],
             executions: execution_rows(job_id).map { |e| [e["error"], !e["finished_at"].nil?] }, process_rows: process_rows.size }
    assert_equal({ finished: true, locked_by_id: nil, executions: [[nil, true]], process_rows: 0 }, left,
                 "at exit: the finished job recorded once, the process row gone\n#{output}")
  end

  def spawn_child(dir)
    env = { "DATABASE_URL" => database.url, "RUBYLIB" => LIB, "GATE" => File.join(dir, "gate") }
    script = File.join(dir, "child.rb")
    File.write(script, CHILD)
    PollerApp::Worker.new(env, [script], dir, chdir: dir).tap { |child| @children << child }
  end
end
