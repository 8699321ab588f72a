# frozen_string_literal: true

# The per-tick cost of the ledger path (claim in the ledger, then ActiveJob's perform_later on a
# Ruby thread) against the direct path (the engine inserts GoodJob's rows), in one process,
# 200 every-second entries, same run. The ledger path uses ActiveJob's :test adapter, so the
# numbers are good_cron's own overhead: a real backend's enqueue cost comes on top.
#
#   bench/enqueue_paths          (starts a throwaway PostgreSQL, then runs this)
#
# With the argument `adapter`: the `:good_cron` adapter's enqueue rate, one perform_later at
# a time from one thread, outside and inside ActiveRecord transactions (see adapter_rates).
#
#   bench/enqueue_paths adapter  (a throwaway PostgreSQL with fsync on; BENCH_JOBS)
#   BENCH_ADAPTER_RB=tmp/adapter_before.rb bench/enqueue_paths adapter   (another adapter.rb,
#                                e.g. `git show COMMIT:lib/good_cron/adapter.rb`, loaded over it)
require "logger"
require "pg"
require_relative "bench_database"
$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "active_job"
require "good_cron"

ENTRIES = Integer(ENV.fetch("BENCH_N", "200"))
SECONDS = Integer(ENV.fetch("BENCH_SECONDS", "10"))
DATABASE_URL = BenchDatabase.url("bench/enqueue_paths")

# The job; the :test adapter keeps ledger-path enqueues in memory.
class PathJob < ActiveJob::Base
  self.queue_adapter = :test
  self.logger = Logger.new(nil)
  def perform(*); end
end

BenchDatabase.load_schema(DATABASE_URL)

# The job of the adapter's rates.
class AdapterJob < ActiveJob::Base
  self.logger = Logger.new(nil)
  def perform(*); end
end

# The adapter on ActiveRecord's connection outside transactions too: what "always" would cost.
class AlwaysActiveRecordAdapter < GoodCron::Adapter
  private def transaction_connection = ActiveRecord::Base.connection
end

# The adapter's enqueue rate: JOBS perform_later calls per variant, in blocks of BLOCK with the
# variants in turn (commit times on a shared disk drift within seconds: each variant sees the
# same), after WARMUP calls each; jobs/s over all its blocks and the process's CPU per job.
# An "app write" is one INSERT into a table of the app's in the same transaction.
def adapter_rates
  require "active_record"
  load File.expand_path(ENV["BENCH_ADAPTER_RB"], File.expand_path("..", __dir__)) if ENV["BENCH_ADAPTER_RB"]
  jobs = Integer(ENV.fetch("BENCH_JOBS", "2000"))
  block = 50
  warmup = 100
  ActiveRecord::Base.establish_connection(DATABASE_URL)
  ActiveRecord::Base.logger = nil
  db = ActiveRecord::Base.connection
  db.execute("CREATE TABLE IF NOT EXISTS bench_notes (id bigserial PRIMARY KEY, body text)")
  fsync = db.select_value("SHOW fsync")

  job = AdapterJob
  # The app's database (DATABASE_URL): ActiveRecord's connection inside a transaction.
  app = GoodCron::Adapter.new
  # A database of its own: the engine's connection everywhere, as every enqueue was before.
  own = GoodCron::Adapter.new(database_url: DATABASE_URL)
  always = AlwaysActiveRecordAdapter.new
  note = -> { db.exec_query("INSERT INTO bench_notes (body) VALUES ($1)", "Note", ["x"]) }
  with_note = lambda do
    ActiveRecord::Base.transaction do
      note.call
      job.perform_later(1)
    end
  end
  variants = {
    "perform_later, no transaction (engine's connection)" => [app, -> { job.perform_later(1) }],
    "perform_later, no transaction, on ActiveRecord's connection" => [always, -> { job.perform_later(1) }],
    "transaction { perform_later }" => [app, -> { ActiveRecord::Base.transaction { job.perform_later(1) } }],
    "transaction { app write; perform_later }" => [app, with_note],
    "transaction { app write; perform_later }, adapter with a database of its own" => [own, with_note],
  }
  db.execute("TRUNCATE good_jobs, bench_notes")
  variants.each_value do |adapter, call|
    job.queue_adapter = adapter
    warmup.times { call.call }
  end
  totals = variants.keys.to_h { |name| [name, { wall: 0.0, cpu: 0.0 }] }
  (jobs / block).times do
    variants.each do |name, (adapter, call)|
      job.queue_adapter = adapter
      cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
      wall = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      block.times { call.call }
      totals[name][:wall] += Process.clock_gettime(Process::CLOCK_MONOTONIC) - wall
      totals[name][:cpu] += Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu
    end
  end
  calls = jobs / block * block
  puts "fsync = #{fsync}; #{calls} calls per variant in blocks of #{block}" \
       "#{" (adapter: #{ENV["BENCH_ADAPTER_RB"]})" if ENV["BENCH_ADAPTER_RB"]}"
  puts "| one thread, one job per call | jobs/s | CPU per job (Ruby process) |"
  puts "|---|--:|--:|"
  totals.each do |name, total|
    puts format("| %s | %d | %.0f µs |", name, calls / total[:wall], total[:cpu] / calls * 1e6)
  end
end

if ARGV.first == "adapter"
  adapter_rates
  exit
end

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
  scheduler.shutdown(timeout: 5)
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
puts format("\nLedger path / direct path: %.1f× the CPU per tick, %.1f× the time to the last enqueue (p50)",
            ruby[:cpu_per_tick] / direct[:cpu_per_tick], ruby[:p50] / direct[:p50])
