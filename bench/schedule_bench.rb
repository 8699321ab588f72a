# frozen_string_literal: true

# Schedule benchmark: GoodCron::Schedule (Rust, through the Ruby API) against fugit (Debian's 1.5.2), in
# the same process, on the same expressions and the same reference instants.
#
#   ruby -Ilib bench/schedule_bench.rb            # prints a Markdown table for BENCHMARKS.md
#   RUST_ITERATIONS=5000 FUGIT_SECONDS=3 ruby -Ilib bench/schedule_bench.rb
#
# For each schedule: parse time, and next_at time (fugit: next_time) from a fixed set of
# reference instants spread over 2000-2040. Rust calls are timed in batches of BATCH calls
# (the clock read costs about as much as a call); fugit calls one by one. Medians and p90 are
# per call. Times are wall-clock, Process::CLOCK_MONOTONIC in nanoseconds.

require "good_cron"
require "fugit"
require "etc"

ENV["TZ"] = ENV.fetch("BENCH_TZ", "America/New_York")

RUST_ITERATIONS = Integer(ENV.fetch("RUST_ITERATIONS", "2000"))
FUGIT_MAX_ITERATIONS = Integer(ENV.fetch("FUGIT_ITERATIONS", "200"))
FUGIT_SECONDS = Float(ENV.fetch("FUGIT_SECONDS", "1.5")) # per schedule and operation, at most
BATCH = 10

SCHEDULES = [
  ["every minute, cron", "* * * * *"],
  ["every 5 minutes", "*/5 * * * *"],
  ["weekdays at 9", "0 9 * * 1-5"],
  ["daily at 02:30", "30 2 * * *"],
  ["monthly", "0 0 1 * *"],
  ["yearly", "0 0 1 1 *"],
  ["leap day", "0 0 29 2 *"],
  ["dom or dow (Friday 13th)", "0 0 13 * fri"],
  ["last day of month", "0 0 L * *"],
  ["last Friday", "0 9 * * fri#-1"],
  ["second Monday", "0 9 * * mon#2"],
  ["every other Monday (%)", "0 9 * * 1%2"],
  ["every second, 6 fields", "* * * * * *"],
  ["every 10 s, 6 fields", "*/10 * * * * *"],
  ["zone suffix", "0 9 * * * Europe/Paris"],
  ["half-hour zone, 15 min", "*/15 * * * * Australia/Lord_Howe"],
  ["@hourly", "@hourly"],
  ["nat: every day at 5pm", "every day at 5pm"],
  ["nat: weekdays, zone", "every weekday at 9:30am on Europe/London"],
  ["nat: every 15s", "every 15s"],
  ["nat: 1st of the month", "every 1st of the month at midnight"],
  ["nat: 10pm, zone", "every day at 10:00pm America/Chicago"],
].freeze

FROM = Array.new(64) { |i| Time.at(946_684_800 + (i * 19_734_877) % 1_262_304_000, (i * 7919) % 1_000_000, :usec) }.freeze

def now_ns
  Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
end

def percentile(sorted, q)
  return nil if sorted.empty?

  sorted[((sorted.size - 1) * q).round]
end

def median(values)
  percentile(values.sort, 0.5)
end

# Per-call samples (ns) of calling the block with argument i, in batches.
def sample(iterations, batch, seconds = nil)
  samples = []
  deadline = seconds && now_ns + (seconds * 1e9).to_i
  i = 0
  while i < iterations
    t0 = now_ns
    batch.times { |k| yield i + k }
    samples << (now_ns - t0).fdiv(batch)
    i += batch
    break if deadline && now_ns > deadline
  end
  samples.sort
end

def fmt_ns(ns)
  return "–" unless ns

  if ns >= 1_000_000 then format("%.2f ms", ns / 1e6)
  elsif ns >= 1_000 then format("%.1f µs", ns / 1e3)
  else format("%.0f ns", ns)
  end
end

def fmt_ratio(r)
  return "–" unless r

  r >= 100 ? format("%.0f×", r) : format("%.1f×", r)
end

rows = SCHEDULES.map do |label, expr|
  fugit = Fugit.parse(expr)
  fugit = nil unless fugit.is_a?(Fugit::Cron) # @alias with zone etc.
  ours = GoodCron::Schedule.parse(expr)

  # Warm up both.
  FROM.first(8).each do |t|
    ours.next_at(t)
    fugit&.next_time(t)
  end

  GC.start
  rust_parse = sample(RUST_ITERATIONS, BATCH) { GoodCron::Schedule.parse(expr) }
  GC.start
  rust_next = sample(RUST_ITERATIONS, BATCH) { |i| ours.next_at(FROM[i % FROM.size]) }
  GC.start
  fugit_parse = fugit ? sample(FUGIT_MAX_ITERATIONS, 1, FUGIT_SECONDS) { Fugit.parse(expr) } : []
  GC.start
  fugit_next = fugit ? sample(FUGIT_MAX_ITERATIONS, 1, FUGIT_SECONDS) { |i| fugit.next_time(FROM[i % FROM.size]) } : []

  {
    label: label, expr: expr,
    rust_parse: percentile(rust_parse, 0.5), fugit_parse: percentile(fugit_parse, 0.5),
    rust_next: percentile(rust_next, 0.5), rust_next_p90: percentile(rust_next, 0.9),
    fugit_next: percentile(fugit_next, 0.5), fugit_next_p90: percentile(fugit_next, 0.9),
    fugit_calls: fugit_next.size,
  }
end

rows.each do |r|
  r[:parse_ratio] = r[:fugit_parse] && r[:fugit_parse] / r[:rust_parse]
  r[:next_ratio] = r[:fugit_next] && r[:fugit_next] / r[:rust_next]
end

cpu = File.read("/proc/cpuinfo")[/model name\s*:\s*(.+)/, 1] rescue nil
puts "Schedules: GoodCron (Rust, through the Ruby API) vs fugit #{Gem.loaded_specs['fugit']&.version || Fugit::VERSION}, " \
     "ruby #{RUBY_VERSION}, TZ=#{ENV['TZ']}, #{cpu || RUBY_PLATFORM}, #{Etc.nprocessors} CPUs, #{Time.now.utc.strftime('%F')}."
puts "Per call; Rust #{RUST_ITERATIONS} calls (timed in batches of #{BATCH}), fugit up to #{FUGIT_MAX_ITERATIONS} calls or " \
     "#{FUGIT_SECONDS} s; next_at from #{FROM.size} instants spread over 2000-2040."
puts
puts "| schedule | expression | parse Rust | parse fugit | fugit/Rust | next_at Rust median (p90) | next_time fugit median (p90) | fugit/Rust |"
puts "|---|---|--:|--:|--:|--:|--:|--:|"
rows.each do |r|
  puts "| #{r[:label]} | `#{r[:expr]}` | #{fmt_ns(r[:rust_parse])} | #{fmt_ns(r[:fugit_parse])} | #{fmt_ratio(r[:parse_ratio])} | " \
       "#{fmt_ns(r[:rust_next])} (#{fmt_ns(r[:rust_next_p90])}) | " \
       "#{r[:fugit_next] ? "#{fmt_ns(r[:fugit_next])} (#{fmt_ns(r[:fugit_next_p90])})" : '–'} | #{fmt_ratio(r[:next_ratio])} |"
end
both = rows.select { |r| r[:fugit_next] }
puts "| **median of the #{rows.size} schedules** | | #{fmt_ns(median(rows.map { |r| r[:rust_parse] }))} | " \
     "#{fmt_ns(median(both.map { |r| r[:fugit_parse] }))} | #{fmt_ratio(median(both.map { |r| r[:parse_ratio] }))} | " \
     "#{fmt_ns(median(rows.map { |r| r[:rust_next] }))} | #{fmt_ns(median(both.map { |r| r[:fugit_next] }))} | " \
     "#{fmt_ratio(median(both.map { |r| r[:next_ratio] }))} |"
puts
slowest = rows.max_by { |r| r[:rust_next] }
least = both.min_by { |r| r[:next_ratio] }
puts "Slowest Rust next_at median: #{fmt_ns(slowest[:rust_next])} (#{slowest[:label]}); " \
     "smallest speed-up: #{fmt_ratio(least[:next_ratio])} (#{least[:label]})."
