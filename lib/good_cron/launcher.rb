# frozen_string_literal: true

require "logger"

module GoodCron
  # What `good_cron start` runs once the app has booted: the poller, the cron scheduler when
  # cron is enabled, and on SIGTERM or SIGINT a graceful shutdown (running jobs get
  # shutdown_timeout seconds to finish; the rest is released for other processes). A second
  # signal exits at once. An engine that stops on its own ends the process with status 1.
  class Launcher
    SIGNALS = %w[TERM INT].freeze
    # Seconds the scheduler gets to record what it enqueued.
    SCHEDULER_STOP = 10
    # How often the engines are looked at while waiting for a signal.
    WATCH_EVERY = 1

    # The app's log, and the terminal too, as `good_job start` does.
    class TerminalLogger < ::Logger
      FORMAT = proc { |severity, time, _progname, message| "#{time.strftime("%H:%M:%S")} #{severity} #{message}\n" }

      def initialize(app_logger, out)
        super(out, level: app_logger.level, formatter: FORMAT)
        @app_logger = app_logger
        @out = out
      end

      def add(severity, message = nil, progname = nil, &block)
        @app_logger.add(severity, message, progname, &block)
        super.tap { @out.flush }
      end
    end

    # +settings+: a RailsConfig (command-line options first).
    def initialize(settings, database_url:, logger:, out: $stdout)
      @settings = settings
      @database_url = database_url
      @logger = logger
      @out = out
    end

    # Runs until a signal, or until an engine fails; returns the exit status.
    def run
      signals = trap_signals
      logger = TerminalLogger.new(@logger, @out)
      poller = Poller.new(database_url: @database_url, queues: @settings.queues, max_threads: @settings.max_threads,
                          poll_interval: @settings.poll_interval, max_cache: @settings.max_cache,
                          listen: @settings.enable_listen_notify?, logger: logger, cron_enabled: @settings.enable_cron?)
      scheduler = if @settings.enable_cron?
                    Scheduler.new(@settings.cron, database_url: @database_url, logger: logger,
                                                  graceful_restart_period: @settings.graceful_restart_period)
                  end
      poller.start
      scheduler = nil if @signalled # it came while the poller was connecting: no cron to start
      scheduler&.start
      say(status(poller, scheduler))
      signal, failure = wait(signals, poller, scheduler)
      say(signal ? "good_cron: SIG#{signal} received, shutting down (#{shutdown_timeout_text})" : "good_cron: #{failure}")
      scheduler&.stop(SCHEDULER_STOP)
      finished = poller.shutdown(@settings.shutdown_timeout)
      say(finished ? "good_cron stopped" : "good_cron stopped; jobs still running were released to run again")
      signal ? 0 : 1
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

    def shutdown_timeout_text
      timeout = @settings.shutdown_timeout
      timeout.negative? ? "running jobs may take as long as they need" : "shutdown_timeout #{timeout} s"
    end

    # A signal handler may not take locks: it only writes to a pipe the main thread reads. A
    # second signal, while shutting down, exits at once.
    def trap_signals
      reader, writer = IO.pipe
      SIGNALS.each do |signal|
        Signal.trap(signal) do
          ::Process.exit!(128 + Signal.list.fetch(signal)) if @signalled
          @signalled = true
          writer.write_nonblock("#{signal}\n")
        rescue IO::WaitWritable, IOError
          nil
        end
      end
      reader
    end

    # [signal, nil] once a signal came, or [nil, why] once an engine stopped on its own.
    def wait(reader, poller, scheduler)
      loop do
        return [reader.gets.to_s.strip, nil] if reader.wait_readable(WATCH_EVERY)

        { "poller" => poller, "cron scheduler" => scheduler }.each do |name, engine|
          next if engine.nil? || engine.running?

          return [nil, "the #{name} stopped: #{engine.failure || "for no reason it gave"}"]
        end
      end
    end
  end
end
