# frozen_string_literal: true

# Scheduler benchmark: P scheduler processes (test/support/cron_process.rb) × N every-second
# entries on one PostgreSQL, as app servers run them. Prints a Markdown table for
# BENCHMARKS.md. Run it with bench/scheduler (throwaway PostgreSQL with commit timestamps),
# or against DATABASE_URL + GOOD_CRON_PG_LOG (it empties good_jobs there):
#
#   bench/scheduler
#   BENCH_N=10,200 BENCH_P=4 BENCH_SECONDS=5 bench/scheduler
#
# Each run: the processes boot, start together, run WARMUP seconds, then a window of SECONDS
# instants is measured, and they run 2 s more so the last tick of the window finishes.
# Per (P, N), over the instants of the window:
#   complete   instants with all N rows present / instants
#   late       created_at - cron_at of the rows (created_at: the winning process's stamp,
#              taken when it woke for the instant, before its INSERT)
#   visible    commit time - cron_at (pg_xact_commit_timestamp, when track_commit_timestamp
#              is on): when the job row could first be seen by an executor
#   CPU        CPU seconds each scheduler process used during the window (mean, max)
#   PG CPU     CPU seconds the PostgreSQL server (all its processes) used during the window
#   RSS        largest peak resident set of the processes
#   errors     `ERROR` and `duplicate key` lines in the server log during the run
#   other CPU  CPU seconds the rest of the machine used during the window (should be ~0)
# Then idle: P = 4 processes × 200 hourly entries for SECONDS → CPU % of a core per process.

require "json"
require "pg"
require_relative "bench_database"
require "etc"
require_relative "../test/support/cron_processes"

$stdout.sync = true

SIZES = ENV.fetch("BENCH_N", "10,200,1000,5000").split(",").map { |n| Integer(n) }
PROCESS_COUNTS = ENV.fetch("BENCH_P", "1,4").split(",").map { |p| Integer(p) }
SECONDS = Integer(ENV.fetch("BENCH_SECONDS", "10"))
WARMUP = Integer(ENV.fetch("BENCH_WARMUP", "2"))
# A run during which other programs used more than a CPU second is tried again, this many
# times at most; the least disturbed try is reported (its "other CPU s" shows how much).
RETRIES = Integer(ENV.fetch("BENCH_RETRIES", "2"))
IDLE_PROCESSES = 4
IDLE_ENTRIES = 200

DATABASE_URL = BenchDatabase.url("bench/scheduler")
PG_LOG = ENV.fetch("GOOD_CRON_PG_LOG") { abort "GOOD_CRON_PG_LOG is not set: run bench/scheduler" }
BenchDatabase.load_schema(DATABASE_URL)

def connect
  BenchDatabase.connect(DATABASE_URL)
end

DB = connect
COMMIT_TIMESTAMPS = DB.exec("SHOW track_commit_timestamp").getvalue(0, 0) == "on"

# The pid of the PostgreSQL server (postmaster) behind DATABASE_URL: the parent of our
# backend; nil when the server is not on this machine.
POSTMASTER = begin
  File.read("/proc/#{DB.exec("SELECT pg_backend_pid()").getvalue(0, 0)}/stat").split(") ", 2)[1].split[1].to_i
rescue Errno::ENOENT
  nil
end

# CPU seconds used so far by that server: the postmaster, its live children (backends and
# background processes), and its children that have exited (cutime/cstime).
def postgres_cpu_seconds
  return 0.0 unless POSTMASTER

  ticks = Dir["/proc/[0-9]*/stat"].sum do |path|
    fields = File.read(path).split(") ", 2)[1].split # fields[1] is the parent pid
    if path == "/proc/#{POSTMASTER}/stat" then fields[11, 4].sum(&:to_i)
    elsif fields[1].to_i == POSTMASTER then fields[11, 2].sum(&:to_i)
    else 0
    end
  rescue Errno::ENOENT, Errno::ESRCH
    0
  end
  ticks / Etc.sysconf(Etc::SC_CLK_TCK).to_f
end

# CPU seconds this machine has spent busy (all cores, all processes), from /proc/stat.
def machine_cpu_seconds
  user, nice, system, _idle, _iowait, irq, softirq, steal = File.read("/proc/stat")[/^cpu +(.*)$/, 1].split.map(&:to_i)
  (user + nice + system + irq + softirq + steal) / Etc.sysconf(Etc::SC_CLK_TCK).to_f
end

def sleep_until(at)
  sleep(at - Time.now.to_f) if at > Time.now.to_f
end

# Runs +processes+ × +entries+ on +cron+; returns the window, its row_stats, the process
# reports, and the CPU used and the server log lines written during it.
def run(processes:, entries:, cron:)
  DB.exec("TRUNCATE good_jobs")
  DB.exec("VACUUM ANALYZE good_jobs")
  DB.exec("CHECKPOINT")
  log_offset = File.size(PG_LOG)
  # Booting loads ActiveJob and serializes every entry's job once, all processes at once.
  start_at = Time.now.to_i + 2 + (processes * entries / 5000.0).ceil
  window_start = start_at + WARMUP
  window_end = window_start + SECONDS
  children = Array.new(processes) do
    CronProcesses::Child.new(DATABASE_URL, entries: entries, cron: cron, key_prefix: "bench",
                                           start_at: start_at, until: window_end + 2,
                                           measure_from: window_start + 0.5, measure_until: window_end + 0.5)
  end
  sleep_until(window_start + 0.5)
  pg_cpu_before = postgres_cpu_seconds
  machine_cpu_before = machine_cpu_seconds
  sleep_until(window_end + 0.5)
  pg_cpu = postgres_cpu_seconds - pg_cpu_before
  machine_cpu = machine_cpu_seconds - machine_cpu_before
  reports = children.map(&:finish)
  failed = reports.reject { |r| r["status"].success? && r["measured_cpu_seconds"] }
  abort "a scheduler process failed:\n#{failed.map { |r| r["stderr"] }.join("\n")}" if failed.any?
  other_cpu = machine_cpu - pg_cpu - reports.sum { |r| r["measured_cpu_seconds"] }
  warn format("  warning: other programs used %.1f CPU s during the window", other_cpu) if other_cpu > 1

  window = (window_start + 1)..window_end
  { window: window, stats: row_stats(window, entries), reports: reports, pg_cpu: pg_cpu, other_cpu: other_cpu,
    errors: CronProcesses.log_lines(PG_LOG, log_offset, "ERROR:"),
    duplicate_keys: CronProcesses.duplicate_key_lines(PG_LOG, log_offset) }
end

# #run, again while other programs disturb it (see RETRIES); the least disturbed result.
def least_disturbed_run(**options)
  tries = [run(**options)]
  tries << run(**options) while tries.last[:other_cpu] > 1 && tries.size <= RETRIES
  tries.min_by { |result| result[:other_cpu] }
end

# Rows of the window: instants complete, lateness percentiles in ms (stamped and committed).
def row_stats(window, entries)
  visible = COMMIT_TIMESTAMPS ? "pg_xact_commit_timestamp(xmin) - cron_at" : "NULL::interval"
  DB.exec_params(<<~SQL, [window.begin, window.end, entries]).first.transform_values { |v| v&.to_f }
    WITH rows AS (
      SELECT cron_at, extract(epoch FROM created_at - cron_at) * 1000 AS late,
             extract(epoch FROM #{visible}) * 1000 AS visible
      FROM good_jobs
      WHERE cron_at BETWEEN (to_timestamp($1) AT TIME ZONE 'UTC') AND (to_timestamp($2) AT TIME ZONE 'UTC')
    ), ticks AS (SELECT cron_at FROM rows GROUP BY cron_at HAVING count(*) = $3)
    SELECT (SELECT count(*) FROM ticks) AS complete,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY late) AS late_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY late) AS late_p99,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY visible) AS visible_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY visible) AS visible_p99,
           max(visible) AS visible_max
    FROM rows
  SQL
end

def ms(value)
  return "–" unless value
  return format("%.2f s", value / 1000) if value >= 1000

  format(value < 10 ? "%.1f ms" : "%.0f ms", value)
end

puts "Scheduler benchmark: #{SECONDS} instants per run after #{WARMUP} s of warm-up; " \
     "#{Etc.nprocessors} cores; #{DB.exec("SHOW server_version").getvalue(0, 0)[/\A[\d.]+/]}"
header = ["P", "N", "ticks complete", "late p50", "late p99", "visible p50", "visible p99", "visible max",
          "CPU s / process (mean, max)", "PG CPU s", "max RSS", "ERROR lines", "duplicate key lines", "other CPU s"]
rows = PROCESS_COUNTS.product(SIZES).map do |processes, entries|
  $stderr.puts "P=#{processes} N=#{entries}..."
  result = least_disturbed_run(processes: processes, entries: entries, cron: "every second")
  stats = result[:stats]
  cpu = result[:reports].map { |r| r["measured_cpu_seconds"] }
  [processes, entries, "#{stats["complete"].to_i}/#{result[:window].size}",
   ms(stats["late_p50"]), ms(stats["late_p99"]), ms(stats["visible_p50"]), ms(stats["visible_p99"]), ms(stats["visible_max"]),
   format("%.2f, %.2f", cpu.sum / cpu.size, cpu.max), POSTMASTER ? format("%.2f", result[:pg_cpu]) : "–",
   "#{result[:reports].map { |r| r["max_rss_kb"] }.max / 1024} MB", result[:errors], result[:duplicate_keys],
   format("%.1f", result[:other_cpu])]
end

puts
puts "| #{header.join(" | ")} |"
puts "|#{header.map { |h| h == "P" || h == "N" ? "--:" : "---:" }.join("|")}|"
rows.each { |row| puts "| #{row.join(" | ")} |" }

$stderr.puts "idle: P=#{IDLE_PROCESSES} N=#{IDLE_ENTRIES} hourly..."
idle = least_disturbed_run(processes: IDLE_PROCESSES, entries: IDLE_ENTRIES, cron: "@hourly")
idle_cpu = idle[:reports].map { |r| r["measured_cpu_seconds"] * 100.0 / SECONDS }
idle_rows = idle[:reports].sum { |r| r["claimed"] }
puts
puts "Idle: #{IDLE_PROCESSES} processes × #{IDLE_ENTRIES} hourly entries for #{SECONDS} s " \
     "(#{idle_rows} rows written): CPU per process #{format("%.2f", idle_cpu.sum / idle_cpu.size)} % of a core " \
     "(max #{format("%.2f", idle_cpu.max)} %), PostgreSQL #{format("%.2f", idle[:pg_cpu] * 100.0 / SECONDS)} %, " \
     "#{idle[:errors]} ERROR lines; other programs #{format("%.1f", idle[:other_cpu])} CPU s."
