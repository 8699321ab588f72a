# frozen_string_literal: true

# The scenario good_cron exists for: several app processes run the same GoodJob cron hash
# against one PostgreSQL, and every scheduled instant must give exactly one job row, on time,
# with no `duplicate key` error in the server log.
#
# Runs PROCESSES scheduler processes (test/support/cron_process.rb) on CRON for about
# SECONDS seconds against DATABASE_URL, then prints, per entry, the instants expected (from
# GoodCron::Schedule over the run window) against the rows written, duplicates, missing
# instants and lateness (created_at - cron_at), the wins of each process, and the errors in
# the server log (GOOD_CRON_PG_LOG). Exits 1 if anything is missing, duplicated or logged.
# Run it with bin/demo, which builds the extension and starts a throwaway PostgreSQL.

require "json"
require "pg"
require "tempfile"
require "good_cron"
require_relative "../test/support/cron_processes"

PROCESSES = 4
SECONDS = 20
BOOT = 3 # seconds for the processes to load Rails' ActiveJob before the shared start

# A GoodJob cron hash: six every-second entries and four every-5-seconds ones.
CRON = {
  **(1..6).to_h { |i| ["heartbeat_#{i}", { cron: "every second", class: "HeartbeatJob", args: [i] }] },
  **(1..4).to_h { |i| ["sync_feed_#{i}", { cron: "*/5 * * * * *", class: "SyncFeedJob", args: [i] }] }
}.freeze

database_url = ENV.fetch("DATABASE_URL") { abort "DATABASE_URL is not set: run bin/demo" }
log_path = ENV.fetch("GOOD_CRON_PG_LOG") { abort "GOOD_CRON_PG_LOG is not set: run bin/demo" }

PG.connect(database_url) do |conn|
  conn.exec("SET client_min_messages TO warning")
  conn.exec(File.read(File.expand_path("../lib/good_cron/schema.sql", __dir__)))
  conn.exec("TRUNCATE good_jobs")
end

config = Tempfile.new(["good_cron_demo", ".json"])
config.write(JSON.generate(CRON))
config.close
log_offset = File.size(log_path)
start_at = Time.now.to_i + BOOT
until_at = start_at + SECONDS
puts "good_cron #{GoodCron::VERSION}: #{PROCESSES} scheduler processes, #{CRON.size} entries, " \
     "instants #{Time.at(start_at + 1).utc.strftime("%H:%M:%S")} to #{Time.at(until_at).utc.strftime("%H:%M:%S")} UTC"
CRON.group_by { |_, entry| [entry[:cron], entry[:class]] }.each do |(cron, job_class), entries|
  puts "  #{entries.map(&:first).values_at(0, -1).join(" .. ")}: #{cron.inspect} -> #{job_class}"
end
puts "running for about #{BOOT + SECONDS} seconds..."

children = Array.new(PROCESSES) do
  CronProcesses::Child.new(database_url, config: config.path, start_at: start_at, until: until_at + 0.5)
end
reports = children.map(&:finish)

# { key => [[cron_at, lateness in ms], …] }
rows = PG.connect(database_url) do |conn|
  conn.exec(<<~SQL).each_with_object(Hash.new { |h, k| h[k] = [] }) { |r, by_key| by_key[r["cron_key"]] << [r["at"].to_i, r["ms"].to_f] }
    SELECT cron_key, extract(epoch FROM cron_at)::bigint AS at,
           extract(epoch FROM created_at - cron_at) * 1000 AS ms
    FROM good_jobs WHERE cron_key IS NOT NULL
  SQL
end

def percentile(values, fraction)
  sorted = values.sort
  sorted.empty? ? nil : sorted[((sorted.size - 1) * fraction).round]
end

def ms(value)
  value ? format("%.1f", value) : "-"
end

window = Time.at(start_at + 1)..Time.at(until_at)
header = ["entry", "schedule", "expected", "rows", "duplicates", "missing", "late p50 ms", "late p99 ms"]
table = CRON.map do |key, entry|
  expected = GoodCron::Schedule.parse(entry[:cron]).within(window).map(&:to_i)
  ats = rows[key].map(&:first)
  lateness = rows[key].map(&:last)
  [key, entry[:cron], expected.size, ats.size, ats.size - ats.uniq.size, (expected - ats).size,
   ms(percentile(lateness, 0.5)), ms(percentile(lateness, 0.99))]
end
all_lateness = rows.values.flatten(1).map(&:last)
totals = ["all", "", table.sum { |r| r[2] }, table.sum { |r| r[3] }, table.sum { |r| r[4] }, table.sum { |r| r[5] },
          ms(percentile(all_lateness, 0.5)), ms(percentile(all_lateness, 0.99))]
widths = header.each_index.map { |i| ([header] + table + [totals]).map { |r| r[i].to_s.size }.max }
line = ->(cells) { puts cells.each_with_index.map { |c, i| i < 2 ? c.to_s.ljust(widths[i]) : c.to_s.rjust(widths[i]) }.join("  ") }
puts
line.call(header)
table.each { |r| line.call(r) }
line.call(totals)

puts
puts "wins per process (each row is written by the one process whose INSERT got it):"
reports.each_with_index do |report, i|
  status = report["status"].success? ? "" : "  FAILED (#{report["status"]})"
  puts "  process #{i + 1} (pid #{report["pid"] || "?"}): #{report["claimed"] || "?"} rows#{status}"
end
duplicate_keys = CronProcesses.duplicate_key_lines(log_path, log_offset)
errors = CronProcesses.log_lines(log_path, log_offset, "ERROR:")
puts
puts "PostgreSQL log during the run: #{duplicate_keys} `duplicate key` lines, #{errors} ERROR lines"

problems = []
problems << "#{totals[5]} instant(s) missing" if totals[5].positive?
problems << "#{totals[4]} duplicate row(s)" if totals[4].positive?
problems << "#{duplicate_keys} duplicate key line(s) in the server log" if duplicate_keys.positive?
problems << "#{errors} ERROR line(s) in the server log" if errors.positive?
failed = reports.reject { |r| r["status"].success? }
problems << "#{failed.size} process(es) failed:\n#{failed.map { |r| r["stderr"] }.join("\n")}" if failed.any?
if reports.sum { |r| r["claimed"].to_i } != totals[3]
  problems << "the processes report #{reports.sum { |r| r["claimed"].to_i } } wins for #{totals[3]} rows"
end
if problems.empty?
  puts "OK: every instant written exactly once, by #{reports.count { |r| r["claimed"].to_i.positive? }} of #{PROCESSES} processes, with no error."
else
  puts "FAILED: #{problems.join("; ")}"
  exit 1
end
