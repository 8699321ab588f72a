# frozen_string_literal: true

# The per-tick cost of the Ruby path (claim in the ledger, then ActiveJob's perform_later on a
# Ruby thread) against the direct path (the engine inserts GoodJob's rows), in one process,
# 200 every-second entries, same run. The Ruby path uses ActiveJob's :test adapter, so the
# numbers are good_cron's own overhead: a real backend's enqueue cost comes on top.
#
#   bench/enqueue_paths      (starts a throwaway PostgreSQL, then runs this)
require "logger"
require "pg"
require_relative "bench_database"
$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "active_job"
require "good_cron"

ENTRIES = Integer(ENV.fetch("BENCH_N", "200"))
SECONDS = Integer(ENV.fetch("BENCH_SECONDS", "10"))
DATABASE_URL = BenchDatabase.url("bench/enqueue_paths")

# The job; the :test adapter keeps Ruby-path enqueues in memory.
class PathJob < ActiveJob::Base
  self.queue_adapter = :test
  self.logger = Logger.new(nil)
  def perform(*); end
end

BenchDatabase.load_schema(DATABASE_URL)

# One timed run: per tick, how long after the instant the last of its runs was enqueued (as
# seen by the process, through claimed.good_cron events), and the CPU the process spent.
def measure(enqueue)
  PG.connect(DATABASE_URL) { |conn| conn.exec("TRUNCATE good_jobs, good_cron_claims") }
  done = Hash.new { |h, k| h[k] = [] }
  subscriber = ActiveSupport::Notifications.subscribe("claimed.good_cron") do |*, payload|
    done[payload[:cron_at].to_i] << Process.clock_gettime(Process::CLOCK_REALTIME)
  end
  cron = (1..ENTRIES).to_h { |i| ["#{enqueue}_#{i}", { cron: "every second", class: "PathJob", args: [i] }] }
  scheduler = GoodCron::Scheduler.new(cron, database_url: DATABASE_URL, enqueue: enqueue, logger: Logger.new(nil))
  scheduler.start
  sleep 1.5 # warm up
  first = Time.now.to_i + 1
  cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
  sleep(first + SECONDS - Time.now.to_f + 0.9)
  cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu
  scheduler.stop(5)
  ActiveSupport::Notifications.unsubscribe(subscriber)
  ticks = (first...first + SECONDS).map { |at| done[at] }
  complete = ticks.count { |times| times.size == ENTRIES }
  spans = ticks.select { |times| times.size == ENTRIES }.map.with_index { |times, i| times.max - (first + i) }.sort
  { enqueue: enqueue, complete: complete, p50: spans[spans.size / 2], max: spans.last, cpu_per_tick: cpu / SECONDS }
end

results = %i[good_jobs active_job].map { |enqueue| measure(enqueue) }
puts "| path (#{ENTRIES} every-second entries, 1 process) | ticks complete | last run enqueued, p50 | max | CPU per tick |"
puts "|---|--:|--:|--:|--:|"
results.each do |r|
  puts format("| %s | %d/%d | %.1f ms | %.1f ms | %.1f ms |", r[:enqueue] == :good_jobs ? "direct (`:good_jobs`)" : "Ruby (`:active_job`, :test adapter)",
              r[:complete], SECONDS, r[:p50] * 1000, r[:max] * 1000, r[:cpu_per_tick] * 1000)
end
direct, ruby = results
puts format("\nRuby path / direct path: %.1f× the CPU per tick, %.1f× the time to the last enqueue (p50)",
            ruby[:cpu_per_tick] / direct[:cpu_per_tick], ruby[:p50] / direct[:p50])
