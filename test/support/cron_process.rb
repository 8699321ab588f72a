# frozen_string_literal: true

# One scheduler process, as an app server would run it, for the race, fault and catch-up
# tests, the benchmark and bin/demo. Reads DATABASE_URL; prints `{"started":pid}` once the
# scheduler runs, and one JSON line when it stops:
#   {"pid":…, "claimed":…, "cpu_seconds":…, "max_rss_kb":…, "warnings":[…]}
# plus "measured_cpu_seconds" (CPU used between the two instants) with --measure-from/-until.
#
#   ruby test/support/cron_process.rb --entries 50 --cron "every second" --until EPOCH
#       [--start-at EPOCH] [--graceful SECONDS] [--key-prefix race]
#       [--config FILE] [--measure-from EPOCH --measure-until EPOCH]
#
# --config FILE: a GoodJob cron hash in JSON, used instead of --entries/--cron/--key-prefix;
# each job class it names that does not exist is defined as an empty ActiveJob class.
#
# --enqueue MODE: the scheduler's enqueue: (auto, good_jobs or active_job; default good_jobs).
# --claim-timeout SECONDS: the scheduler's claim_timeout: (when a stale ledger claim is taken over).
# --adapter recording: RaceJob (and the classes --config defines) enqueue through
#   test/support/recording_adapter.rb, which records each enqueue in the table
#   recorded_enqueues (the test creates it); entries made from --entries then also get
#   `kwargs: { cron_key: KEY }` so each record names its entry. GOOD_CRON_RECORDING_STALL=SECONDS
#   stalls the first enqueue (see that file).
# --adapter sidekiq: the same through Sidekiq (ruby-sidekiq), on the Redis of REDIS_URL.
require "logger"
require "json"
require "optparse"
$LOAD_PATH.unshift(File.expand_path("../../lib", __dir__))
require "active_job"
require "good_cron"

options = { entries: 10, cron: "every second", key_prefix: "entry", graceful: nil, start_at: nil, until: nil,
            config: nil, measure_from: nil, measure_until: nil, enqueue: "good_jobs", claim_timeout: nil, adapter: nil }
OptionParser.new do |o|
  o.on("--entries N", Integer) { |v| options[:entries] = v }
  o.on("--cron TEXT") { |v| options[:cron] = v }
  o.on("--key-prefix TEXT") { |v| options[:key_prefix] = v }
  o.on("--graceful SECONDS", Float) { |v| options[:graceful] = v }
  o.on("--start-at EPOCH", Float) { |v| options[:start_at] = v }
  o.on("--until EPOCH", Float) { |v| options[:until] = v }
  o.on("--config FILE") { |v| options[:config] = v }
  o.on("--measure-from EPOCH", Float) { |v| options[:measure_from] = v }
  o.on("--measure-until EPOCH", Float) { |v| options[:measure_until] = v }
  o.on("--enqueue MODE") { |v| options[:enqueue] = v }
  o.on("--claim-timeout SECONDS", Float) { |v| options[:claim_timeout] = v }
  o.on("--adapter NAME", %w[recording sidekiq]) { |v| options[:adapter] = v }
end.parse!

# The job every entry enqueues; nothing runs it here.
class RaceJob < ActiveJob::Base
  def perform(*, **); end
end

if options[:adapter] == "recording"
  require_relative "recording_adapter"
  RaceJob.queue_adapter = RecordingAdapter.new
elsif options[:adapter] == "sidekiq"
  require "sidekiq"
  require_relative "redis_server" # for its redis-rb setting
  RaceJob.queue_adapter = :sidekiq
end
# ActiveJob logs each enqueue to stdout by default, where this script writes JSON lines.
ActiveJob::Base.logger = Logger.new(nil) if options[:adapter] || options[:enqueue] != "good_jobs"

# Counts claims and keeps every other line (info and worse), so the parent can assert on them.
class RecordingLogger < Logger
  attr_reader :claimed, :warnings

  def initialize
    super($stderr, level: Logger::DEBUG)
    @claimed = 0
    @warnings = []
  end

  def add(severity, message = nil, progname = nil)
    message ||= block_given? ? yield : progname
    if message.to_s.start_with?("good_cron: enqueued ")
      @claimed += 1
    elsif severity >= Logger::INFO
      @warnings << message.to_s
      super(severity, message)
    end
    true
  end
end

logger = RecordingLogger.new
cron =
  if options[:config]
    JSON.parse(File.read(options[:config]))
  else
    (1..options[:entries]).to_h do |i|
      key = "#{options[:key_prefix]}_#{i}"
      entry = { cron: options[:cron], class: "RaceJob", args: [i] }
      entry[:kwargs] = { cron_key: key } if options[:adapter]
      [key, entry]
    end
  end
cron.each_value do |entry|
  name = entry[:class] || entry["class"]
  Object.const_set(name, Class.new(RaceJob)) if name.is_a?(String) && !Object.const_defined?(name)
end
scheduler = GoodCron::Scheduler.new(cron, graceful_restart_period: options[:graceful], logger: logger,
                                          enqueue: options[:enqueue].to_sym, claim_timeout: options[:claim_timeout])

sleep(options[:start_at] - Time.now.to_f) if options[:start_at] && options[:start_at] > Time.now.to_f
stop_reader, stop_writer = IO.pipe
%w[TERM INT].each { |signal| trap(signal) { stop_writer.write_nonblock(".", exception: false) } }
cpu_before = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
scheduler.start
$stdout.puts JSON.generate(started: Process.pid)
$stdout.flush

# Waits until the Unix time +at+ (forever when nil); false when told to stop first.
wait_until = lambda do |at|
  remaining = at && at - Time.now.to_f
  return true if remaining && remaining <= 0

  IO.select([stop_reader], nil, nil, remaining).nil?
end

measured = {}
if options[:measure_from] && options[:measure_until] && wait_until.call(options[:measure_from])
  measured_before = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
  if wait_until.call(options[:measure_until])
    measured[:measured_cpu_seconds] = (Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - measured_before).round(4)
  end
end
wait_until.call(options[:until])
scheduler.shutdown(timeout: 10)
cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu_before
max_rss_kb = File.read("/proc/self/status")[/VmHWM:\s+(\d+)/, 1].to_i
$stdout.puts JSON.generate(pid: Process.pid, claimed: logger.claimed, cpu_seconds: cpu.round(3),
                           max_rss_kb: max_rss_kb, warnings: logger.warnings, **measured)
