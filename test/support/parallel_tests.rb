# frozen_string_literal: true

# Runs test files in parallel, each in its own `ruby -Ilib -Itest FILE` process (each file has
# its own database, test/support/database.rb), GOOD_CRON_TEST_WORKERS at a time (default: the
# number of processors), longest first as test/durations.txt lists them (files not listed
# first of all), and meanwhile, in a lane of their own, the GEM_BUILDS one after the other and
# then the CLOCK_FREE files. Prints each file's output whole as it ends, then a summary; exits
# non-zero if any file failed.
#
#   ruby test/support/parallel_tests.rb [FILE…]   # default: test/**/*_test.rb
require "etc"
require "rbconfig"
require "tempfile"

module ParallelTests
  ROOT = File.expand_path("../..", __dir__)
  DURATIONS = File.join(ROOT, "test", "durations.txt")
  # Files that build and install the gems: one at a time and at the lowest CPU priority (nice
  # 19), so that their cargo builds take only the processor time the files beside them leave.
  GEM_BUILDS = %w[test/gem_install_test.rb test/platform_gem_test.rb].freeze
  # Files that wait for no clock (parsing, settings, migrations): they run in the gem builds'
  # lane, after them, so the timing-sensitive files have the other lanes to themselves.
  CLOCK_FREE = %w[test/schedule_api_test.rb test/schedule_cron_test.rb test/schedule_dst_test.rb
                  test/schedule_fugit_test.rb test/schedule_invalid_test.rb test/schedule_nat_test.rb
                  test/schedule_oracle_test.rb test/configuration_test.rb test/settings_validation_test.rb
                  test/database_helper_test.rb test/migration_test.rb].freeze
  SUMMARY = /(\d+) runs, (\d+) assertions, (\d+) failures, (\d+) errors, (\d+) skips/

  # One file's run.
  Result = Struct.new(:file, :status, :seconds, :output) do
    def counts
      output[SUMMARY]&.then { Regexp.last_match.captures.map(&:to_i) }
    end

    def passed?
      status.success? && !counts.nil?
    end
  end

  module_function

  def run(files, workers)
    ordered = order(files)
    side = GEM_BUILDS.select { |file| ordered.include?(file) } + (ordered & CLOCK_FREE)
    others = ordered - side
    started = monotonic_now
    lanes = [Thread.new { run_files(others, workers) }, Thread.new { run_files(side, 1, first_worker: workers, nice: true) }]
    results = lanes.flat_map(&:value)
    report(results, monotonic_now - started)
    results.all?(&:passed?)
  end

  # Longest first by the committed durations; a file not listed (new) comes first.
  def order(files)
    known = File.exist?(DURATIONS) ? File.readlines(DURATIONS, chomp: true).to_h { |line| line.split.reverse } : {}
    files.sort_by { |file| [-Float(known.fetch(file, Float::INFINITY)), file] }
  end

  # Runs +files+, +workers+ at a time; worker k's processes see GOOD_CRON_TEST_WORKER=k
  # (counted from +first_worker+); with +nice+, at the lowest CPU priority.
  def run_files(files, workers, first_worker: 0, nice: false)
    queue = Queue.new
    files.each { |file| queue << file }
    queue.close
    results = []
    Array.new(workers) do |k|
      worker = first_worker + k
      Thread.new do
        while (file = queue.pop)
          result = run_file(file, worker, nice: nice)
          PRINT_LOCK.synchronize do
            results << result
            puts "\n==== #{file} (#{result.seconds.round(1)} s, #{result.passed? ? "ok" : "FAILED"})", result.output
            $stdout.flush
          end
        end
      end
    end.each(&:join)
    results
  end

  def run_file(file, worker, nice: false)
    Tempfile.create("good_cron_test_output") do |out|
      started = monotonic_now
      command = [*(%w[nice -n 19] if nice), RbConfig.ruby, "-Ilib", "-Itest", file]
      pid = Process.spawn({ "GOOD_CRON_TEST_WORKER" => worker.to_s }, *command,
                          chdir: ROOT, in: File::NULL, out: out, err: out, pgroup: true)
      CHILDREN << pid
      _, status = Process.wait2(pid)
      CHILDREN.delete(pid)
      Result.new(file, status, monotonic_now - started, File.read(out.path))
    end
  end

  def report(results, seconds)
    puts "\n==== summary (#{results.size} files, #{seconds.round} s)"
    results.sort_by { |result| -result.seconds }.each do |result|
      counts = result.counts&.then { |r, a, f, e, s| "#{r} runs, #{a} assertions, #{f} failures, #{e} errors, #{s} skips" }
      puts format("  %-6s %6.1f s  %-44s %s", result.passed? ? "ok" : "FAILED", result.seconds, result.file,
                  counts || "no summary (#{result.status})")
    end
    failed = results.reject(&:passed?).map(&:file)
    puts failed.empty? ? "all #{results.size} files passed" : "FAILED: #{failed.join(" ")}"
  end

  def monotonic_now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # The test processes running; stopped (with what they started) if the runner is interrupted.
  CHILDREN = []
  # Held while a file's output is printed whole.
  PRINT_LOCK = Mutex.new
end

if $PROGRAM_NAME == __FILE__
  at_exit do
    ParallelTests::CHILDREN.each do |pid|
      Process.kill(:TERM, -pid)
    rescue Errno::ESRCH
      nil
    end
  end
  files = ARGV.empty? ? Dir.chdir(ParallelTests::ROOT) { Dir["test/**/*_test.rb"].sort } : ARGV
  workers = ENV["GOOD_CRON_TEST_WORKERS"]&.then { |count| Integer(count, 10) } || Etc.nprocessors
  abort "GOOD_CRON_TEST_WORKERS must be at least 1" unless workers.positive?
  exit ParallelTests.run(files, workers)
end
