# frozen_string_literal: true

# Poller benchmark: `good_cron start` running ActiveJob jobs from good_jobs, against ActiveJob's
# own ceiling, in one run. Run it with bench/poller. What it measures and how, and its BENCH_*
# variables: BENCHMARKS.md, "Poller: running jobs".

require "json"
require "etc"
require "fileutils"
require "rbconfig"
require "securerandom"
require "tmpdir"

ROOT = File.expand_path("..", __dir__)
FIXTURE = File.join(ROOT, "test/fixtures/rails_app")

def realtime = Process.clock_gettime(Process::CLOCK_REALTIME)
def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)
def process_cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)

# --- child roles: ruby bench/poller_bench.rb ROLE APP RESULT_FILE ARGS… ------------------------
# Each boots the app in APP, does its part, and writes its result as JSON to RESULT_FILE (the
# app's logger has stdout).

def boot_app(app)
  Dir.chdir(app)
  require File.join(app, "config/environment")
end

# The ceiling: ActiveJob::Base.execute in a bare loop.
def ceiling_role(app, result_file, iterations, rounds)
  boot_app(app)
  template = JSON.parse(JSON.generate(NoopJob.new.serialize))
  batch = lambda do
    Array.new(iterations) do
      id = SecureRandom.uuid
      template.merge("job_id" => id, "provider_job_id" => id)
    end
  end
  batch.call.each { |data| ActiveJob::Base.execute(data) } # warm-up
  round = lambda do
    data = batch.call
    GC.start
    cpu = process_cpu
    wall = monotonic
    data.each { |job_data| ActiveJob::Base.execute(job_data) }
    { cpu: (process_cpu - cpu) / iterations, wall: (monotonic - wall) / iterations }
  end
  results = Array.new(rounds) { round.call }
  # For the record, not the ceiling: the same loop without ActiveJob's two log lines per job.
  level = Rails.logger.level
  Rails.logger.level = Logger::WARN
  quiet = Array.new(rounds) { round.call }
  Rails.logger.level = level
  File.write(result_file, JSON.generate(
    template: template, rounds: results, quiet_rounds: quiet, rails_env: Rails.env, adapter: NoopJob.queue_adapter.class.name,
    cache_classes: Rails.application.config.cache_classes, ruby: RUBY_DESCRIPTION, rails: Rails.version,
    log_level: Rails.logger.level
  ))
end

# The latency enqueuer: NoopJob.perform_later one at a time.
def enqueue_role(app, result_file, count, min_ms, max_ms)
  boot_app(app)
  samples = Array.new(count) do
    sleep((min_ms + rand * (max_ms - min_ms)) / 1000.0)
    before = realtime
    job = NoopJob.perform_later
    after = realtime
    [job.job_id, before, after]
  end
  File.write(result_file, JSON.generate(samples: samples, adapter: NoopJob.queue_adapter.class.name))
end

case ARGV.first
when "ceiling"
  ceiling_role(ARGV[1], ARGV[2], Integer(ARGV[3]), Integer(ARGV[4]))
  exit
when "enqueue"
  enqueue_role(ARGV[1], ARGV[2], Integer(ARGV[3]), Float(ARGV[4]), Float(ARGV[5]))
  exit
end

# --- the benchmark -------------------------------------------------------------------------------

require "pg"
require_relative "bench_database"

$stdout.sync = true

JOBS = Integer(ENV.fetch("BENCH_JOBS", "5000"))
CONFIGS = ENV.fetch("BENCH_CONFIGS", "1x1,1x5,1x10,2x5").split(",").map { |c| c.split("x").map { |n| Integer(n) } }
ITERATIONS = Integer(ENV.fetch("BENCH_ITERATIONS", "5000"))
ROUNDS = Integer(ENV.fetch("BENCH_ROUNDS", "5"))
SAMPLES = Integer(ENV.fetch("BENCH_SAMPLES", "300"))
WARMUP_SAMPLES = 20
SPACING_MS = ENV.fetch("BENCH_SPACING_MS", "20-50").split("-").map { |ms| Float(ms) }
POLL_INTERVAL = ENV.fetch("BENCH_POLL_INTERVAL", "-1")
DRAIN_TIMEOUT = Float(ENV.fetch("BENCH_DRAIN_TIMEOUT", "120"))
RETRIES = Integer(ENV.fetch("BENCH_RETRIES", "2"))
HISTORY = Integer(ENV.fetch("BENCH_HISTORY", "10000"))
LATENCY_THREADS = 5
# good_cron start's default environment (RAILS_ENV unset: development), set explicitly so the
# ceiling process and the workers agree whatever the caller's RAILS_ENV.
RAILS_ENV = ENV.fetch("BENCH_RAILS_ENV", "development")
# The command that is run as `ruby GOOD_CRON start …` (another build of it, to compare).
GOOD_CRON = ENV.fetch("BENCH_GOOD_CRON", File.join(ROOT, "exe/good_cron"))
CLK_TCK = Etc.sysconf(Etc::SC_CLK_TCK).to_f

DATABASE_URL = BenchDatabase.url("bench/poller")
BenchDatabase.load_schema(DATABASE_URL)

def connect
  BenchDatabase.connect(DATABASE_URL)
end

DB = connect

# The PostgreSQL server behind DATABASE_URL (the parent of our backend), if on this machine.
POSTMASTER = begin
  File.read("/proc/#{DB.exec("SELECT pg_backend_pid()").getvalue(0, 0)}/stat").split(") ", 2)[1].split[1].to_i
rescue Errno::ENOENT
  nil
end

# CPU seconds used so far by process +pid+ (all its threads); nil once it is gone.
def pid_cpu_seconds(pid)
  File.read("/proc/#{pid}/stat").split(") ", 2)[1].split[11, 2].sum(&:to_i) / CLK_TCK
rescue Errno::ENOENT, Errno::ESRCH
  nil
end

# CPU seconds used so far by the PostgreSQL server: the postmaster (with its exited
# children) and its live children.
def postgres_cpu_seconds
  return 0.0 unless POSTMASTER

  Dir["/proc/[0-9]*/stat"].sum do |path|
    fields = File.read(path).split(") ", 2)[1].split
    if path == "/proc/#{POSTMASTER}/stat" then fields[11, 4].sum(&:to_i)
    elsif fields[1].to_i == POSTMASTER then fields[11, 2].sum(&:to_i)
    else 0
    end
  rescue Errno::ENOENT, Errno::ESRCH
    0
  end / CLK_TCK
end

# CPU seconds this machine has spent busy (all cores, all processes).
def machine_cpu_seconds
  user, nice, system, _idle, _iowait, irq, softirq, steal = File.read("/proc/stat")[/^cpu +(.*)$/, 1].split.map(&:to_i)
  (user + nice + system + irq + softirq + steal) / CLK_TCK
end

WORK = Dir.mktmpdir("good_cron_poller_bench")
at_exit { FileUtils.rm_rf(WORK) }
APP = File.join(WORK, "app")
FileUtils.cp_r(FIXTURE, APP)
FileUtils.rm_rf(File.join(APP, "tmp"))
# The fixture's initializer enables cron (enable_cron: true, two every-second entries), and
# `good_cron start` follows config.good_job as GoodJob's start does: off here, so only the
# benchmark's jobs run.
File.write(File.join(APP, "config/initializers/zz_bench.rb"), "Rails.application.config.good_job[:enable_cron] = false\n")

# The environment of every app process: this checkout's good_cron, the benchmark's database,
# good_cron's adapter, no cron scheduler, good_cron start's default RAILS_ENV.
APP_ENV = {
  "RUBYLIB" => [File.join(ROOT, "lib"), ENV.fetch("RUBYLIB", nil)].compact.join(File::PATH_SEPARATOR),
  "DATABASE_URL" => DATABASE_URL, "FIXTURE_QUEUE_ADAPTER" => "good_cron", "GOOD_CRON_START" => "0",
  "RAILS_ENV" => RAILS_ENV, "RACK_ENV" => RAILS_ENV, "GOOD_JOB_ENABLE_CRON" => nil, "GOOD_JOB_CRON" => nil,
  "GOOD_JOB_EXECUTION_MODE" => nil, "GOOD_JOB_QUEUES" => nil, "GOOD_JOB_MAX_THREADS" => nil,
  "GOOD_JOB_POLL_INTERVAL" => nil,
}.freeze

# Runs a child role of this script; returns its JSON result.
def child(role, *args, env: {})
  result = File.join(WORK, "#{role}.json")
  log = File.join(WORK, "#{role}.log")
  pid = Process.spawn(APP_ENV.merge(env), RbConfig.ruby, __FILE__, role, APP, result, *args.map(&:to_s),
                      out: log, err: %i[child out])
  _, status = Process.wait2(pid)
  abort "the #{role} process failed (#{status}):\n#{File.read(log).lines.last(30).join}" unless status.success?
  JSON.parse(File.read(result))
end

# One `good_cron start` process.
class Worker
  attr_reader :pid, :out, :index, :status

  def initialize(index, threads:, args: [])
    @index = index
    @out = File.join(WORK, "worker#{index}.out")
    @err = File.join(WORK, "worker#{index}.err")
    @pid = Process.spawn(APP_ENV, RbConfig.ruby, GOOD_CRON, "start", "--app", APP, "-e", RAILS_ENV,
                         "--max-threads", threads.to_s, "--shutdown-timeout", "10", *args,
                         out: @out, err: @err, chdir: WORK)
  end

  # Its "good_cron started" line, once printed.
  def started_line
    File.foreach(@out).find { |line| line.start_with?("good_cron started") }
  end

  def started? = !started_line.nil?

  def exited?
    @status ||= Process.wait2(@pid, Process::WNOHANG)&.last
  end

  def cpu = pid_cpu_seconds(@pid)

  def max_rss_kb
    File.read("/proc/#{@pid}/status")[/^VmHWM:\s+(\d+)/, 1].to_i
  rescue Errno::ENOENT
    0
  end

  # SIGTERM once (a second one would end it at once).
  def terminate
    return if @terminated || exited?

    Process.kill(:TERM, @pid)
    @terminated = true
  end

  # SIGTERM, then waits up to +timeout+ s (SIGKILL after that); the exit status.
  def stop(timeout = 30)
    terminate
    deadline = monotonic + timeout
    sleep 0.05 until exited? || monotonic > deadline
    unless exited?
      Process.kill(:KILL, @pid)
      @status = Process.wait2(@pid).last
      @killed = true
    end
    @status
  end

  def killed? = @killed

  # Lines of its stdout and stderr that look like trouble.
  def error_lines
    [@out, @err].flat_map { |path| File.readlines(path) }
                .grep(/\b(ERROR|FATAL|WARN)\b|Error\b|Exception|panicked/)
  end

  def output_tail(lines = 20)
    "stdout:\n#{File.readlines(@out).last(lines).join}stderr:\n#{File.readlines(@err).last(lines).join}"
  end
end

# Starts +processes+ workers; waits until each printed "good_cron started".
def start_workers(processes, threads, args: [])
  workers = Array.new(processes) { |i| Worker.new(i, threads: threads, args: args) }
  deadline = monotonic + 90
  until workers.all?(&:started?)
    if (dead = workers.find(&:exited?))
      abort "good_cron start exited (#{dead.status}) before it started:\n#{dead.output_tail}"
    end
    abort "good_cron start did not print \"good_cron started\" in 90 s" if monotonic > deadline
    sleep 0.05
  end
  workers.each do |w|
    abort "good_cron start runs cron, the benchmark needs it off: #{w.started_line}" unless w.started_line.include?("cron off")
  end
  workers
end

PROBLEMS = []

# Stops +workers+ (SIGTERM, graceful); what looked wrong goes to +problems+.
def stop_workers(workers, label, problems)
  workers.each(&:terminate)
  workers.each do |w|
    status = w.stop
    problems << "#{label}: worker #{w.index} was killed: SIGTERM did not stop it in 30 s" if w.killed?
    problems << "#{label}: worker #{w.index} exited with #{status.inspect}" unless w.killed? || status.success?
    errors = w.error_lines
    problems << "#{label}: worker #{w.index} printed #{errors.size} error lines, first: #{errors.first.strip}" if errors.any?
  end
end

# Empties the tables, then writes HISTORY finished jobs, each with its execution row, two days
# old, as a running app keeps them (GoodJob preserves finished jobs for 14 days by default),
# and analyzes both tables. The measured jobs are the rows created in the last day (RECENT_JOBS).
def reset_tables(template)
  DB.exec("TRUNCATE good_jobs, good_job_executions, good_job_processes")
  DB.exec_params(<<~SQL, [JSON.generate(template), HISTORY]) if HISTORY.positive?
    WITH jobs AS (
      INSERT INTO good_jobs (id, active_job_id, queue_name, job_class, serialized_params, scheduled_at,
                             performed_at, finished_at, created_at, updated_at, executions_count)
      SELECT id, id, 'default', 'NoopJob', $1::jsonb || jsonb_build_object('job_id', id::text),
             at, at, at, at, at, 1
      FROM (SELECT gen_random_uuid() AS id,
                   (now() AT TIME ZONE 'UTC') - interval '2 days' + make_interval(secs => i / 100.0) AS at
            FROM generate_series(1, $2::integer) i) rows
      RETURNING id, serialized_params, scheduled_at
    )
    INSERT INTO good_job_executions (id, active_job_id, job_class, queue_name, serialized_params, scheduled_at,
                                     created_at, updated_at, finished_at, process_id, duration)
    SELECT gen_random_uuid(), id, 'NoopJob', 'default', serialized_params, scheduled_at,
           scheduled_at, scheduled_at, scheduled_at, gen_random_uuid(), interval '1 ms'
    FROM jobs
  SQL
  DB.exec("VACUUM ANALYZE good_jobs")
  DB.exec("VACUUM ANALYZE good_job_executions")
  DB.exec("CHECKPOINT")
end

# +count+ rows of +template+ (NoopJob's serialize, one job id each, = the row id), due now;
# created_at one µs apart so their order is defined.
def insert_jobs(template, count)
  DB.exec_params(<<~SQL, [template["queue_name"], template["priority"], JSON.generate(template), count])
    INSERT INTO good_jobs (id, active_job_id, queue_name, priority, job_class, serialized_params,
                           scheduled_at, created_at, updated_at)
    SELECT id, id, $1, $2::integer, 'NoopJob', $3::jsonb || jsonb_build_object('job_id', id::text),
           created_at, created_at, created_at
    FROM (SELECT gen_random_uuid() AS id,
                 (now() AT TIME ZONE 'UTC') - make_interval(secs => ($4 - i) / 1e6) AS created_at
          FROM generate_series(1, $4::integer) i) rows
  SQL
end

# Holds every row with a row lock (FOR UPDATE: the pollers' FOR NO KEY UPDATE SKIP LOCKED
# skips them) on a connection of its own, so processes can boot with the jobs in place and
# the table's statistics as a real backlog has them (every row due). #release commits.
class Hold
  def initialize
    @conn = connect
    @conn.exec("BEGIN")
    @conn.exec("SELECT id FROM good_jobs WHERE finished_at IS NULL FOR UPDATE")
  end

  # GoodJob's bulk NOTIFY, then COMMIT: the locks go and the notification is delivered at
  # the same commit. Returns the commit instant (Unix seconds, this machine's clock).
  def release(template, count)
    @conn.exec_params(<<~SQL, [template["queue_name"], count])
      SELECT pg_notify('good_job', json_build_object(
        'queue_name', $1::text, 'count', $2::integer,
        'scheduled_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text)
    SQL
    @conn.exec("COMMIT")
    realtime
  end

  # (After the CPU is measured: an exiting backend adds its whole life to the server's.)
  def close = @conn.close
end

# Whether some row is unfinished (cheap: the drain is watched every 0.1 s).
# (The first entry of the pollers' own candidate index, so it reads no finished row.)
def unfinished?
  DB.exec(<<~SQL).ntuples.positive?
    SELECT 1 FROM good_jobs WHERE finished_at IS NULL ORDER BY priority ASC NULLS LAST, created_at LIMIT 1
  SQL
end

# The measured rows: those created in the last day (the history is two days old).
RECENT_JOBS = "created_at > (now() AT TIME ZONE 'UTC') - interval '1 day'"

# #throughput, again while other programs disturb it (see RETRIES); the least disturbed try,
# with the problems of that try.
def least_disturbed_throughput(*args)
  tries = [throughput(*args)]
  tries << throughput(*args) while tries.last[:other_cpu] > 1 && tries.size <= RETRIES
  best = tries.min_by { |result| result[:other_cpu] }
  PROBLEMS.concat(best[:problems])
  best.merge(tries: tries.size)
end

def throughput(processes, threads, template, ceiling_cpu)
  label = "#{processes}x#{threads}"
  problems = []
  reset_tables(template)
  insert_jobs(template, JOBS)
  DB.exec("VACUUM ANALYZE good_jobs")
  hold = Hold.new
  workers = start_workers(processes, threads)
  sleep 1
  cpu_before = workers.map(&:cpu)
  pg_before = postgres_cpu_seconds
  machine_before = machine_cpu_seconds
  released_at = hold.release(template, JOBS)
  window = monotonic
  deadline = window + DRAIN_TIMEOUT
  sleep 0.1 while unfinished? && monotonic < deadline && workers.none?(&:exited?)
  worker_cpu = workers.map(&:cpu).zip(cpu_before).sum { |after, before| after && before ? after - before : 0 }
  pg_cpu = postgres_cpu_seconds - pg_before
  machine_cpu = machine_cpu_seconds - machine_before
  window = monotonic - window
  rss = workers.map(&:max_rss_kb).max
  timed_out = unfinished?
  hold.close
  stop_workers(workers, label, problems)

  row = DB.exec(<<~SQL).first
    SELECT count(*) FILTER (WHERE finished_at IS NOT NULL) AS finished,
           count(*) FILTER (WHERE error IS NOT NULL) AS errors,
           count(*) FILTER (WHERE executions_count > 1) AS repeated,
           count(*) FILTER (WHERE job_class <> 'NoopJob') AS others,
           extract(epoch FROM min(performed_at)) AS first_performed,
           extract(epoch FROM max(finished_at)) AS last_finished,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - performed_at)) AS held_p50
    FROM good_jobs WHERE #{RECENT_JOBS}
  SQL
  per_process = DB.exec(<<~SQL).map { |r| r["jobs"].to_i }
    SELECT process_id, count(*) AS jobs FROM good_job_executions WHERE #{RECENT_JOBS}
    GROUP BY process_id ORDER BY count(*) DESC
  SQL
  executions = DB.exec("SELECT count(*), count(DISTINCT active_job_id) FROM good_job_executions WHERE #{RECENT_JOBS}")
                 .values.first.map(&:to_i)
  finished = row["finished"].to_i
  drain = row["last_finished"].to_f - row["first_performed"].to_f
  problems << "#{label}: #{JOBS - finished} of #{JOBS} jobs unfinished after #{DRAIN_TIMEOUT} s" if timed_out
  problems << "#{label}: #{row["errors"]} jobs finished with an error" if row["errors"].to_i.positive?
  problems << "#{label}: #{row["others"]} rows of other job classes" if row["others"].to_i.positive?
  problems << "#{label}: #{executions[0]} execution rows for #{executions[1]} jobs (#{finished} finished)" if executions != [finished, finished]
  problems << "#{label}: #{row["repeated"]} jobs with executions_count > 1" if row["repeated"].to_i.positive?
  problems << "#{label}: execution rows from #{per_process.size} processes, #{processes} ran" if per_process.size != processes
  if machine_cpu - worker_cpu - pg_cpu > 1
    problems << format("#{label}: other programs used %.1f CPU s during the drain", machine_cpu - worker_cpu - pg_cpu)
  end
  rate = finished / drain
  {
    label: "#{processes} × #{threads}", processes: processes, threads: threads, finished: finished,
    drain: drain, rate: rate, wake_ms: (row["first_performed"].to_f - released_at) * 1000,
    worker_cpu_us: worker_cpu / finished * 1e6, pg_cpu_us: pg_cpu / finished * 1e6,
    other_cpu: machine_cpu - worker_cpu - pg_cpu, cores: (worker_cpu + pg_cpu) / window, held_p50_ms: row["held_p50"].to_f * 1000,
    per_process: per_process, rss_mb: rss / 1024, ceiling_ratio: rate * ceiling_cpu, problems: problems
  }
end

def percentile(sorted, q)
  return nil if sorted.empty?

  sorted[[(q * sorted.size).ceil - 1, 0].max]
end

def latency(template)
  reset_tables(template)
  args = POLL_INTERVAL.empty? ? [] : ["--poll-interval", POLL_INTERVAL]
  workers = start_workers(1, LATENCY_THREADS, args: args)
  worker = workers.first
  sleep 1
  idle_cpu = worker.cpu
  sleep 3
  idle_cpu = (worker.cpu - idle_cpu) / 3
  result = child("enqueue", WARMUP_SAMPLES + SAMPLES, *SPACING_MS)
  deadline = monotonic + 10
  sleep 0.1 while unfinished? && monotonic < deadline
  stop_workers(workers, "latency", PROBLEMS)
  samples = result["samples"].drop(WARMUP_SAMPLES)
  rows = DB.exec_params(<<~SQL, [PG::TextEncoder::Array.new.encode(samples.map(&:first))]).to_h { |r| [r["id"], r] }
    SELECT id, extract(epoch FROM created_at) AS created, extract(epoch FROM performed_at) AS performed,
           extract(epoch FROM finished_at) AS finished
    FROM good_jobs WHERE id = ANY($1::uuid[])
  SQL
  missing = samples.count { |id, *| rows.dig(id, "finished").nil? }
  PROBLEMS << "latency: #{missing} of #{samples.size} jobs not finished 10 s after the last enqueue" if missing.positive?
  done = samples.reject { |id, *| rows.dig(id, "finished").nil? }
  series = {
    created: done.map { |id, *| rows[id]["performed"].to_f - rows[id]["created"].to_f },
    returned: done.map { |id, _before, after| rows[id]["performed"].to_f - after },
    finished: done.map { |id, *| rows[id]["finished"].to_f - rows[id]["created"].to_f },
    enqueue_call: done.map { |_id, before, after| after - before },
    created_in_call: done.map { |id, before, after| rows[id]["created"].to_f.between?(before - 0.0005, after + 0.0005) ? 1 : 0 },
  }.transform_values(&:sort)
  { samples: done.size, series: series, idle_cpu: idle_cpu, adapter: result["adapter"], args: args }
end

def us(seconds) = seconds >= 1e-3 ? format("%.2f ms", seconds * 1e3) : format("%.1f µs", seconds * 1e6)

def ms(seconds)
  return "–" unless seconds
  return format("%.2f s", seconds) if seconds >= 1

  format(seconds < 0.01 ? "%.1f ms" : "%.0f ms", seconds * 1000)
end

# --- run --------------------------------------------------------------------------------------

server = DB.exec("SHOW server_version").getvalue(0, 0)[/\A[\d.]+/]
commit = `git -C #{ROOT} rev-parse --short HEAD`.strip
commit += " with uncommitted changes" unless `git -C #{ROOT} status --porcelain -- lib src ext exe`.strip.empty?
puts "Poller benchmark: #{JOBS} jobs per configuration; #{Etc.nprocessors} cores; PostgreSQL #{server}; " \
     "#{RUBY_DESCRIPTION[/\Aruby [^ ]+/]}; commit #{commit}"

$stderr.puts "ceiling: #{ROUNDS} rounds of #{ITERATIONS} ActiveJob::Base.execute..."
ceiling = child("ceiling", ITERATIONS, ROUNDS)
ceiling_cpu = ceiling["rounds"].map { |r| r["cpu"] }.sort[ROUNDS / 2]
ceiling_wall = ceiling["rounds"].map { |r| r["wall"] }.sort[ROUNDS / 2]
template = ceiling["template"]

results = CONFIGS.map do |processes, threads|
  $stderr.puts "throughput: #{processes} process(es) × #{threads} threads, #{JOBS} jobs..."
  least_disturbed_throughput(processes, threads, template, ceiling_cpu)
end

$stderr.puts "latency: #{SAMPLES} jobs enqueued one at a time..."
lat = latency(template)

puts
default = ceiling["rails_env"] == "development" ? " (good_cron start's default)" : ""
puts "App processes: the fixture app, RAILS_ENV #{ceiling["rails_env"]}#{default}, " \
     "Rails #{ceiling["rails"]}, adapter #{ceiling["adapter"]}, cache_classes #{ceiling["cache_classes"].inspect}, " \
     "log level #{ceiling["log_level"]} to a file."
puts
puts "| ceiling: `ActiveJob::Base.execute` in a bare loop, 1 thread | CPU per job (median of #{ROUNDS} × #{ITERATIONS}) | " \
     "rounds min–max | wall per job | ceiling (1 / CPU per job) |"
puts "|---|--:|--:|--:|--:|"
cpus = ceiling["rounds"].map { |r| r["cpu"] }
puts "| NoopJob, serialized_params + provider_job_id | #{us(ceiling_cpu)} | #{us(cpus.min)}–#{us(cpus.max)} | " \
     "#{us(ceiling_wall)} | #{format("%.0f", 1 / ceiling_cpu)} jobs/s |"
quiet = ceiling["quiet_rounds"].sort_by { |r| r["cpu"] }
quiet_cpu = quiet[quiet.size / 2]["cpu"]
puts "| (for the record) the same, logger at warn: no Performing/Performed lines | #{us(quiet_cpu)} | " \
     "#{us(quiet.first["cpu"])}–#{us(quiet.last["cpu"])} | #{us(quiet[quiet.size / 2]["wall"])} | " \
     "#{format("%.0f", 1 / quiet_cpu)} jobs/s |"
puts
puts "| processes × threads | jobs/s | of the ceiling | drain | worker CPU per job | worker CPU / ceiling CPU | " \
     "PG CPU per job | cores busy (workers + PG) | jobs per process | release → first perform | performed → finished p50 | max RSS | other CPU s |"
puts "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
results.each do |r|
  puts "| #{r[:label]} | #{format("%.0f", r[:rate])} | #{format("%.0f %%", r[:ceiling_ratio] * 100)} | #{ms(r[:drain])} | " \
       "#{us(r[:worker_cpu_us] / 1e6)} | #{format("%.2f×", r[:worker_cpu_us] / 1e6 / ceiling_cpu)} | " \
       "#{us(r[:pg_cpu_us] / 1e6)} | #{format("%.2f", r[:cores])} | #{r[:per_process].join(" + ")} | #{ms(r[:wake_ms] / 1000)} | " \
       "#{ms(r[:held_p50_ms] / 1000)} | #{r[:rss_mb]} MB | #{format("%.1f", [r[:other_cpu], 0].max)}#{r[:tries] > 1 ? " (best of #{r[:tries]} tries)" : ""} |"
end
puts
s = lat[:series]
poll = lat[:args].empty? ? "default poll interval" : "--poll-interval #{lat[:args].last}"
puts "| latency: 1 idle process × #{LATENCY_THREADS} threads, #{poll}, #{lat[:samples]} jobs #{SPACING_MS.map { |v| v.to_i }.join("–")} ms apart | p50 | p99 | max |"
puts "|---|--:|--:|--:|"
puts "| performed_at − created_at | #{ms(percentile(s[:created], 0.5))} | #{ms(percentile(s[:created], 0.99))} | #{ms(s[:created].last)} |"
puts "| performed_at − perform_later returned | #{ms(percentile(s[:returned], 0.5))} | #{ms(percentile(s[:returned], 0.99))} | #{ms(s[:returned].last)} |"
puts "| finished_at − created_at | #{ms(percentile(s[:finished], 0.5))} | #{ms(percentile(s[:finished], 0.99))} | #{ms(s[:finished].last)} |"
puts "| perform_later call (enqueuing process) | #{ms(percentile(s[:enqueue_call], 0.5))} | #{ms(percentile(s[:enqueue_call], 0.99))} | #{ms(s[:enqueue_call].last)} |"
puts
puts format("Idle worker (1 × %d threads) before the enqueues: %.2f %% of a core. created_at within the " \
            "perform_later call for %d of %d jobs.", LATENCY_THREADS, lat[:idle_cpu] * 100,
            s[:created_in_call].sum, lat[:samples])

single = results.select { |r| r[:processes] == 1 }.max_by { |r| r[:rate] }
best = results.max_by { |r| r[:rate] }
puts
puts format("Ceiling %.0f jobs/s (%s CPU per job). ", 1 / ceiling_cpu, us(ceiling_cpu)) +
     (single ? format("Best single process: %s threads, %.0f jobs/s = %.0f %% of the ceiling (target ≥ 75 %%: %s). ",
                      single[:threads], single[:rate], single[:ceiling_ratio] * 100, single[:ceiling_ratio] >= 0.75 ? "met" : "NOT met") : "") +
     format("Best overall: %s, %.0f jobs/s. ", best[:label], best[:rate]) +
     format("Latency p99 %s (target < 20 ms: %s).", ms(percentile(s[:created], 0.99)),
            percentile(s[:created], 0.99).to_f < 0.020 ? "met" : "NOT met")
if PROBLEMS.any?
  puts
  puts "Problems:"
  PROBLEMS.each { |p| puts "- #{p}" }
end
