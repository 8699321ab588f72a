# frozen_string_literal: true

require "logger"
require "optparse"

module GoodCron
  # The `good_cron` command: `start` (run an app's jobs and cron, like `good_job start`),
  # `list` (an app's cron entries with their next and last run) and `explain` (the next runs
  # of a schedule, with UTC offsets and DST changes).
  #
  #   exit GoodCron::CLI.new.run(ARGV)
  #
  # Nothing of good_cron is required before a Rails app boots: the app's own
  # `require "good_cron"` must see Rails to define the Railtie.
  class CLI
    EXIT_OK = 0
    EXIT_ERROR = 1
    EXIT_USAGE = 64 # EX_USAGE, sysexits.h

    TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

    # Bad command line: the message and the usage go to stderr, exit 64.
    class UsageError < StandardError
      attr_reader :command

      def initialize(message, command = nil)
        super(message)
        @command = command
      end
    end

    # Anything else that stops a command: the message goes to stderr, exit 1.
    class Failure < StandardError; end

    COMMANDS = {
      "start" => "run an app's jobs (and its cron, when enabled) until SIGTERM or SIGINT",
      "list" => "the cron entries of an app: schedule, zone, next and last run, enabled, job class",
      "explain" => "the next runs of a schedule, with their UTC offsets and DST changes",
      "help" => "this help, or a command's (good_cron help COMMAND)",
    }.freeze

    def initialize(out: $stdout, err: $stderr, env: ENV)
      @out = out
      @err = err
      @env = env
    end

    # Runs the command line +argv+; returns the exit status.
    def run(argv)
      argv = argv.dup
      command = argv.shift
      case command
      when "start" then start(argv)
      when "list" then list(argv)
      when "explain" then explain(argv)
      when "help", "-h", "--help" then help(argv.first)
      when "version", "-v", "--version" then version
      when nil then raise UsageError, "no command given"
      else raise UsageError, "unknown command #{command.inspect}"
      end
    rescue UsageError => e
      @err.puts "good_cron: #{e.message}"
      @err.puts
      @err.puts(e.command ? parser(e.command).help : usage)
      EXIT_USAGE
    rescue Failure => e
      @err.puts "good_cron: #{e.message}"
      EXIT_ERROR
    end

    def usage
      <<~USAGE
        Usage: good_cron COMMAND [options]

        Commands:
        #{COMMANDS.map { |name, text| "  #{name.ljust(9)}#{text}" }.join("\n")}

        #{parser("start").help}
        #{parser("list").help}
        #{parser("explain").help}
        Exit status: 0 done, 1 error (invalid schedule or configuration, database unreachable),
        64 bad command line.
      USAGE
    end

    private

    # --- help ----------------------------------------------------------------------------

    def help(command)
      if command.nil? then @out.puts usage
      elsif %w[start list explain].include?(command) then @out.puts parser(command).help
      elsif command == "help" then @out.puts usage
      else raise UsageError, "unknown command #{command.inspect}"
      end
      EXIT_OK
    end

    def version
      require_relative "version"
      @out.puts "good_cron #{GoodCron::VERSION}"
      EXIT_OK
    end

    # The option parser of +command+, filling +options+.
    def parser(command, options = {})
      OptionParser.new do |o|
        o.summary_indent = "  "
        o.summary_width = 24
        case command
        when "start" then start_options(o, options)
        when "list" then list_options(o, options)
        when "explain" then explain_options(o, options)
        end
        o.on("-h", "--help", "this help") { options[:help] = true }
      end
    end

    def parse(command, argv)
      argv.each_with_index do |arg, i|
        next if arg.valid_encoding?

        name = i.positive? && argv[i - 1].start_with?("-") ? argv[i - 1] : "argument"
        raise UsageError.new("#{name} #{arg.inspect} is not valid #{arg.encoding}", command)
      end
      options = {}
      args = parser(command, options).parse(argv)
      [options, args]
    rescue OptionParser::ParseError => e
      raise UsageError.new(e.message, command)
    end

    # --- shared by the commands --------------------------------------------------------

    def boot_rails(app, environment)
      environment_file = File.join(app, "config", "environment.rb")
      unless File.file?(environment_file)
        raise Failure, "no Rails app in #{app} (no config/environment.rb): use --app PATH, " \
                       "or --config FILE.json for an app without Rails"
      end

      @env["GOOD_CRON_START"] = "0" # the Railtie must not start the scheduler in this process
      if environment
        @env["RAILS_ENV"] = environment
        @env["RACK_ENV"] = environment
      end
      Dir.chdir(app)
      # The app's boot logs (a logger on $stdout) go to stderr: stdout is for the table.
      stdout = $stdout
      $stdout = $stderr
      begin
        require environment_file
      ensure
        $stdout = stdout
      end
      raise Failure, "#{environment_file} did not define a Rails application" unless defined?(::Rails) && ::Rails.application
    rescue StandardError, ScriptError => e
      raise if e.is_a?(Failure)

      trace = Array(e.backtrace).take_while { |line| !line.start_with?(__FILE__) }.reject { |line| line.start_with?("<internal:") }
      raise Failure, ["the Rails app in #{app} failed to boot: #{e.class}: #{e.message}", *trace.first(5)].join("\n  ")
    end

    def rails_database_url
      if defined?(GoodCron::Railtie)
        GoodCron::Railtie.database_url
      elsif defined?(::ActiveRecord::Base)
        GoodCron::Configuration.postgres_url(::ActiveRecord::Base.connection_db_config.configuration_hash)
      end || @env["DATABASE_URL"]
    end

    def require_good_cron(active_job: false)
      require "active_job" if active_job
      require "good_cron"
      require "good_cron/configuration"
    end

    # A time in a schedule's zone, e.g. "2024-03-10 03:00:00 -04:00".
    def self.local_time(time, schedule)
      Time.at(time.to_i, in: format_offset(schedule.utc_offset(time))).strftime("#{TIME_FORMAT} %:z")
    end

    # Whether the schedule names its zone (else it runs in the zone of the process).
    def self.zone_given?(schedule)
      schedule.to_cron.end_with?(" #{schedule.time_zone}")
    end

    # 3600 => "+01:00"; -16200 => "-04:30".
    def self.format_offset(seconds)
      sign = seconds.negative? ? "-" : "+"
      hours, rest = seconds.abs.divmod(3600)
      minutes, secs = rest.divmod(60)
      format("%s%02d:%02d%s", sign, hours, minutes, secs.zero? ? "" : format(":%02d", secs))
    end
  end
end

require_relative "cli/start"
require_relative "cli/list"
require_relative "cli/explain"
