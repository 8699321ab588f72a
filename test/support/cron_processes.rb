# frozen_string_literal: true

require "json"
require "tempfile"

# Runs scheduler processes (test/support/cron_process.rb) and reads what they wrote.
module CronProcesses
  SCRIPT = File.expand_path("cron_process.rb", __dir__)

  # A running scheduler process.
  class Child
    attr_reader :pid

    def initialize(database_url, env: {}, **options)
      args = options.flat_map { |name, value| ["--#{name.to_s.tr("_", "-")}", value.to_s] }
      @out, @err = Tempfile.new("cron_out"), Tempfile.new("cron_err")
      @pid = Process.spawn({ "DATABASE_URL" => database_url }.merge(env), RbConfig.ruby, SCRIPT, *args,
                           out: @out.path, err: @err.path)
    end

    # Waits for the process; returns its report ({} when it did not get to write one).
    def finish
      _, status = Process.wait2(@pid)
      lines = File.readlines(@out.path)
      report = lines.map { |line| JSON.parse(line) }.find { |r| r.key?("claimed") } || {}
      report.merge("status" => status, "stderr" => stderr)
    end

    # What it has written to stderr so far (its log lines of info and worse).
    def stderr
      File.read(@err.path)
    end

    # The JSON lines it has written so far (e.g. {"started":pid}, {"stalled":pid}).
    def lines
      File.readlines(@out.path).filter_map do |line|
        JSON.parse(line)
      rescue JSON::ParserError
        nil
      end
    end

    # Waits up to +timeout+ seconds for a line with +key+; true once written.
    def wait_for_line(key, timeout)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      until lines.any? { |line| line.key?(key.to_s) }
        return false if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.05
      end
      true
    end

    def kill9
      Process.kill(:KILL, @pid)
      Process.wait(@pid)
    end

    # kill9, for a process that may have ended already (a test's teardown).
    def kill9_if_running
      kill9
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end
  end

  # Lines of a PostgreSQL log written after +offset+ that report a unique violation.
  def self.duplicate_key_lines(log_path, offset, database: nil)
    log_lines(log_path, offset, "duplicate key", database: database)
  end

  # Lines of a PostgreSQL log written after +offset+ that contain +text+ (e.g. "ERROR:"); only
  # those of +database+ when given (other test files share bin/test's server and its log).
  def self.log_lines(log_path, offset, text, database: nil)
    File.open(log_path) do |log|
      log.seek(offset)
      log.each_line.count { |line| line.include?(text) && (database.nil? || line.include?("@#{database} ")) }
    end
  end

  # { cron_key => [cron_at as Unix seconds, …] } in good_jobs.
  def self.instants(conn)
    conn.exec("SELECT cron_key, extract(epoch FROM cron_at)::bigint AS at FROM good_jobs ORDER BY cron_key, cron_at")
        .each_with_object(Hash.new { |h, k| h[k] = [] }) { |row, by_key| by_key[row["cron_key"]] << row["at"].to_i }
  end

  # Mixed into a test: every key has each instant of +range+, each once.
  module Assertions
    def assert_each_instant_once(instants, range)
      instants.each do |key, ats|
        assert_empty range.to_a - ats, "#{key} is missing instants"
        assert_equal ats.uniq, ats, "#{key} has an instant twice"
      end
    end
  end
end
