# frozen_string_literal: true

require "logger"

module GoodCron
  # What `good_cron start` runs once the app has booted: a Capsule (the poller, the cron scheduler when
  # cron is enabled), and on SIGTERM or SIGINT a graceful shutdown (running jobs get
  # shutdown_timeout seconds to finish; the rest is released for other processes). A second
  # signal exits at once. An engine that stops on its own ends the process with status 1.
  class Launcher
    SIGNALS = %w[TERM INT].freeze
    # How often the engines are looked at while waiting for a signal.
    WATCH_EVERY = 1

    # The app's log, and the terminal too (from INFO up), as `good_job start` does. When the
    # app's log is the terminal already, each line is written once.
    class TerminalLogger < ::Logger
      FORMAT = proc { |severity, time, _progname, message| "#{time.strftime("%H:%M:%S")} #{severity} #{message}\n" }

      def initialize(app_logger, out)
        super(nil, level: app_logger.level) # what the engines ask (debug?) is the app's log's
        @app_logger = app_logger
        @out = out
        @screen = ::Logger.new(out, level: INFO, formatter: FORMAT) unless ActiveSupport::Logger.logger_outputs_to?(app_logger, out)
      end

      def add(severity, message = nil, progname = nil, &block)
        @app_logger.add(severity, message, progname, &block)
        terminal(severity, message, progname, &block)
      end

      # A line for the terminal alone (the app's log has its own, e.g. ActiveJob's for a job's error).
      def terminal(severity, message = nil, progname = nil, &block)
        return true unless @screen

        @screen.add(severity, message, progname, &block).tap { @out.flush }
      end

      # A line as it is (no time or severity) on the terminal, and in the app's log.
      def announce(line, severity = INFO)
        @app_logger.add(severity, line)
        return unless @screen

        @out.puts(line)
        @out.flush
      end
    end

    # +settings+: a Configuration (command-line options first).
    def initialize(settings, database_url:, logger:, out: $stdout)
      @settings = settings
      @database_url = database_url
      @logger = logger
      @out = out
    end

    # Runs until a signal, or until an engine fails; returns the exit status.
    def run
      signals = trap_signals
      @log = TerminalLogger.new(@logger, @out)
      job_errors = report_job_errors
      capsule = Capsule.new(@settings, database_url: @database_url, logger: @log)
      capsule.start_jobs
      capsule.start_cron unless @signalled # it came while the poller was connecting: no cron to start
      @log.announce(status(capsule))
      signal, failure = wait(signals, capsule)
      if signal
        @log.announce("good_cron: SIG#{signal} received, shutting down (shutdown_timeout: #{shutdown_timeout_text})")
      else
        @log.announce("good_cron: #{failure}", ::Logger::ERROR)
      end
      finished = capsule.shutdown(timeout: @settings.shutdown_timeout)
      @log.announce(finished ? "good_cron stopped" : "good_cron stopped; jobs still running were released to run again")
      signal ? 0 : 1
    ensure
      ActiveSupport::Notifications.unsubscribe(job_errors) if job_errors
    end

    private

    def status(capsule)
      poller = capsule.poller
      pools = poller.pools.map { |queues, threads| "#{queues.inspect} × #{threads}" }.join(", ")
      poll = @settings.poll_interval.positive? ? "poll every #{seconds(@settings.poll_interval)}" : "no polling"
      "good_cron started (pid #{::Process.pid}, process #{poller.process_id}): queues #{pools}; #{poll}; " \
        "LISTEN #{@settings.enable_listen_notify? ? "on" : "off"}; shutdown_timeout: #{shutdown_timeout_text}; " \
        "#{capsule.scheduler&.running? ? cron_text : "cron off"}"
    end

    def cron_text
      count = @settings.cron.size
      period = @settings.graceful_restart_period
      "cron on (#{count} #{count == 1 ? "entry" : "entries"}, " \
        "#{period ? "cron_graceful_restart_period #{seconds(period)}" : "no catch-up at start: cron_graceful_restart_period is not set"})"
    end

    def shutdown_timeout_text
      timeout = @settings.shutdown_timeout
      timeout.negative? ? "wait forever" : seconds(timeout)
    end

    # 10.0 => "10 s"; 0.5 => "0.5 s"
    def seconds(value)
      "#{value == value.to_i ? value.to_i : value} s"
    end

    # Each job that raises, on the terminal (the app's log has ActiveJob's own line, with the
    # backtrace). Returns the subscriber.
    def report_job_errors
      ActiveSupport::Notifications.subscribe("perform.active_job") do |*, payload|
        error = payload[:exception_object] or next
        job = payload[:job]
        @log.terminal(::Logger::ERROR, "good_cron: #{job.class.name} (job #{job.job_id}, attempt #{job.executions}) " \
                                       "raised #{error.class}: #{error.message}")
      end
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
    def wait(reader, capsule)
      loop do
        return [reader.gets.to_s.strip, nil] if reader.wait_readable(WATCH_EVERY)

        failure = capsule.failure
        return [nil, failure] if failure
      end
    end
  end
end
