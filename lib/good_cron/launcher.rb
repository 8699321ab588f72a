# frozen_string_literal: true

module GoodCron
  # What `good_cron start` runs once the app has booted: the poller, the cron scheduler when
  # cron is enabled, and on SIGTERM or SIGINT a graceful shutdown (running jobs get
  # shutdown_timeout seconds to finish; the rest is released for other processes).
  class Launcher
    SIGNALS = %w[TERM INT].freeze
    # Seconds the scheduler gets to record what it enqueued.
    SCHEDULER_STOP = 10

    # +settings+: a RailsConfig (command-line options first).
    def initialize(settings, database_url:, logger:, out: $stdout)
      @settings = settings
      @database_url = database_url
      @logger = logger
      @out = out
    end

    # Runs until a signal; returns the exit status.
    def run
      signals = trap_signals
      poller = Poller.new(database_url: @database_url, queues: @settings.queues, max_threads: @settings.max_threads,
                          poll_interval: @settings.poll_interval, max_cache: @settings.max_cache,
                          listen: @settings.enable_listen_notify?, logger: @logger, cron_enabled: @settings.enable_cron?)
      scheduler = if @settings.enable_cron?
                    Scheduler.new(@settings.cron, database_url: @database_url, logger: @logger,
                                                  graceful_restart_period: @settings.graceful_restart_period)
                  end
      poller.start
      scheduler&.start
      say(status(poller, scheduler))
      signal = wait_for_signal(signals)
      say("good_cron: SIG#{signal} received, shutting down (shutdown_timeout #{@settings.shutdown_timeout} s)")
      scheduler&.stop(SCHEDULER_STOP)
      finished = poller.shutdown(@settings.shutdown_timeout)
      say(finished ? "good_cron stopped" : "good_cron stopped; jobs still running were released to run again")
      0
    end

    private

    def say(line)
      @out.puts(line)
      @out.flush
    end

    def status(poller, scheduler)
      pools = poller.pools.map { |queues, threads| "#{queues.inspect} × #{threads}" }.join(", ")
      poll = @settings.poll_interval.positive? ? "poll every #{@settings.poll_interval} s" : "no polling"
      cron = scheduler ? "cron on (#{@settings.cron.size} entries)" : "cron off"
      "good_cron started (pid #{::Process.pid}, process #{poller.process_id}): queues #{pools}; #{poll}; " \
        "LISTEN #{@settings.enable_listen_notify? ? "on" : "off"}; #{cron}"
    end

    # A signal handler may not take locks: it only writes to a pipe the main thread reads.
    def trap_signals
      reader, writer = IO.pipe
      SIGNALS.each do |signal|
        Signal.trap(signal) do
          writer.write_nonblock("#{signal}\n")
        rescue IO::WaitWritable, IOError
          nil
        end
      end
      reader
    end

    def wait_for_signal(reader)
      reader.gets.to_s.strip
    end
  end
end
