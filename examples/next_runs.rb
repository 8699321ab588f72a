# frozen_string_literal: true

# Prints, for a sample GoodJob cron configuration, how good_cron reads each
# schedule: the normalized cron, the time zone, and the next three runs.
# Run it with bin/demo (which builds the extension first).

require "good_cron"
begin
  require "tzinfo" # to show each run in its schedule's zone (comes with ActiveSupport)
rescue LoadError
  # without it, runs are shown in UTC and the process zone only
end

# The shape of GoodJob's `config.good_job.cron` hash.
CRON = {
  heartbeat: { cron: "every 30 seconds", class: "HeartbeatJob" },
  sync_feeds: { cron: "every 1 minute", class: "SyncFeedsJob" },
  morning_report: { cron: "0 9 * * mon-fri America/New_York", class: "MorningReportJob" },
  west_coast_digest: { cron: "every day at 5 pm on America/Los_Angeles", class: "DigestJob" },
  cleanup: { cron: "@daily", class: "CleanupJob" }
}.freeze

unless defined?(GoodCron::Schedule)
  warn "GoodCron::Schedule is not in this build yet: the schedule engine is still being written."
  exit 1
end

# "2026-03-09 13:00:00 UTC  (Mon 09:00:00 EDT in America/New_York)"
def describe(time, zone)
  utc = time.getutc.strftime("%Y-%m-%d %H:%M:%S UTC")
  if zone && defined?(TZInfo)
    local = TZInfo::Timezone.get(zone).to_local(time)
    "#{utc}  (#{local.strftime("%a %H:%M:%S %Z")} in #{zone})"
  else
    "#{utc}  (#{time.getlocal.strftime("%a %H:%M:%S %Z")} here)"
  end
end

now = Time.now
puts "good_cron #{GoodCron::VERSION}: next runs after #{now.strftime("%Y-%m-%d %H:%M:%S %Z")} (TZ=#{ENV.fetch("TZ", "system")})"
CRON.each do |key, entry|
  schedule = GoodCron::Schedule.parse(entry.fetch(:cron))
  puts
  puts "#{key} (#{entry.fetch(:class)})"
  puts "  schedule: #{entry.fetch(:cron).inspect}"
  puts "  cron:     #{schedule.to_cron}"
  puts "  zone:     #{schedule.time_zone || "(process zone)"}"
  schedule.upcoming(3, now).each { |time| puts "  next:     #{describe(time, schedule.time_zone)}" }
rescue GoodCron::InvalidSchedule => e
  puts "#{key}: invalid: #{e.message}"
end
