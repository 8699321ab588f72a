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

    DEFAULT_COUNT = 10
    MAX_COUNT = 10_000
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

    class << self
      # Whether this process is `good_cron start`, which runs the engines itself once the app has
      # booted (the Railtie leaves them to it).
      attr_accessor :starting
      alias starting? starting
    end

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

    # --- start ---------------------------------------------------------------------------

    def start_options(o, options)
      o.banner = "good_cron start [--app PATH] [-e ENV] [options]"
      o.separator "  Boots the Rails app and runs its jobs (the :good_cron adapter's, or GoodJob's: same"
      o.separator "  table) on threads, plus its cron when enabled. SIGTERM or SIGINT: running jobs get"
      o.separator "  shutdown_timeout to finish, the others are released. Each option falls back to"
      o.separator "  config.good_job, then to GOOD_JOB_* variables, as GoodJob's own start does."
      o.on("--app PATH", "the Rails app (default: the current directory)") { |v| options[:app] = v }
      o.on("-e", "--environment ENV", "RAILS_ENV (default: RAILS_ENV, else development)") { |v| options[:environment] = v }
      o.on("--queues QUEUES", "queues to run, GoodJob's syntax: \"*\", \"a,b\", \"-a\", \"+a,b\",",
           "pools \"mailers:2;default\" (GOOD_JOB_QUEUES; default \"*\")") { |v| options[:queues] = v }
      o.on("--max-threads COUNT", "threads per pool (GOOD_JOB_MAX_THREADS; default 5)") { |v| options[:max_threads] = v }
      o.on("--poll-interval SECONDS", "seconds between polls, ≤ 0 for none (GOOD_JOB_POLL_INTERVAL; default 10)") do |v|
        options[:poll_interval] = v
      end
      o.on("--max-cache COUNT", "upcoming scheduled times kept (GOOD_JOB_MAX_CACHE; default 10000)") { |v| options[:max_cache] = v }
      o.on("--shutdown-timeout SECONDS", "wait for running jobs at shutdown, -1 forever",
           "(GOOD_JOB_SHUTDOWN_TIMEOUT; default -1)") { |v| options[:shutdown_timeout] = v }
      o.on("--enable-cron", "run the cron scheduler too (GOOD_JOB_ENABLE_CRON)") { options[:enable_cron] = true }
      o.on("--database-url URL", "the database (default: the app's ActiveRecord database)") { |v| options[:database_url] = v }
    end

    def start(argv)
      options, args = parse("start", argv)
      return help("start") if options[:help]
      raise UsageError.new("start takes no arguments, got #{args.map(&:inspect).join(" ")}", "start") if args.any?

      CLI.starting = true
      boot_rails(File.expand_path(options[:app] || "."), options[:environment])
      require_good_cron
      launch(options)
    end

    def launch(options)
      require "good_cron/launcher"
      config = ::Rails.application.config
      settings = GoodCron::RailsConfig.new(config.respond_to?(:good_job) ? config.good_job : {}, @env, options).check!
      GoodCron::Launcher.new(settings, database_url: options[:database_url] || rails_database_url,
                                       logger: ::Rails.logger || GoodCron.logger, out: @out).run
    rescue GoodCron::ConfigurationError, GoodCron::SchemaError, GoodCron::DatabaseError, ArgumentError => e
      raise Failure, e.message.delete_prefix("good_cron: ")
    end

    # --- explain -------------------------------------------------------------------------

    def explain_options(o, options)
      o.banner = 'good_cron explain "SCHEDULE" [-n N] [--from TIME]'
      o.separator "  The next N runs of SCHEDULE (anything GoodJob's cron: accepts), each in the schedule's"
      o.separator "  zone and in UTC; a line marks each change of UTC offset, and a note each run the DST"
      o.separator "  policy moved. Needs no app and no database."
      o.on("-n", "--count N", Integer, "how many runs (default: #{DEFAULT_COUNT})") { |v| options[:count] = v }
      o.on("--from TIME", "runs at or after TIME (default: after now): \"2024-03-09\",",
           "\"2024-03-09 17:30\" (in the schedule's zone), \"2024-03-09T17:30:00Z\",",
           "\"2024-03-09 17:30 -05:00\", \"@1710000000\" (Unix seconds)") { |v| options[:from] = v }
    end

    def explain(argv)
      options, args = parse("explain", argv)
      return help("explain") if options[:help]
      raise UsageError.new("explain needs one SCHEDULE (quote it)", "explain") if args.empty?
      raise UsageError.new("explain takes one SCHEDULE, got #{args.size} arguments (quote the schedule)", "explain") if args.size > 1

      count = options.fetch(:count, DEFAULT_COUNT)
      raise UsageError.new("-n must be between 1 and #{MAX_COUNT}, got #{count}", "explain") unless count.between?(1, MAX_COUNT)

      require_good_cron
      schedule = begin
        GoodCron::Schedule.parse(args.first)
      rescue GoodCron::InvalidSchedule => e
        raise Failure, e.message
      end
      Explanation.new(schedule, from: options[:from] && parse_time(options[:from], schedule), count: count).lines
                 .each { |line| @out.puts line }
      EXIT_OK
    end

    TIME_PATTERN = /\A(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?\z/i.freeze

    # A Time for --from; without a zone or offset, TIME is a wall time in the schedule's zone.
    def parse_time(text, schedule)
      text = text.strip
      if text.match?(/\A@-?\d+\z/)
        seconds = Integer(text.delete_prefix("@"), 10)
        return Time.at(seconds) if GoodCron::Settings::TIMES.cover?(seconds)

        raise UsageError.new("--from #{text} is outside the years 1 to 9999", "explain")
      end

      match = TIME_PATTERN.match(text) or
        raise UsageError.new("--from #{text.inspect} is not a time (e.g. \"2024-03-09 17:30\", \"2024-03-09T17:30:00Z\", \"@1710000000\")", "explain")
      year, month, day, hour, minute, second = match.captures.first(6).map { |part| part.to_i }
      zone = match[7]
      wall = Time.utc(year, month, day, hour, minute, second)
      unless [wall.year, wall.month, wall.day] == [year, month, day] && hour < 24 && minute < 60 && second < 60
        raise UsageError.new("--from #{text.inspect} is not a valid date and time", "explain")
      end
      return wall if zone && zone.match?(/\A(z|utc)\z/i)
      return Time.new(year, month, day, hour, minute, second, zone.sub(/(\d{2})(\d{2})\z/, '\1:\2')) if zone

      in_zone(wall, schedule)
    rescue ArgumentError => e
      raise UsageError.new("--from #{text.inspect}: #{e.message}", "explain")
    end

    # The instant whose wall time in the schedule's zone is +wall+ (a UTC Time holding the wall
    # time): the first when it occurs twice; in a spring-forward gap, that time read with the
    # offset before the gap (02:30 in New York on 2024-03-10 is 03:30 EDT), as Ruby's Time does.
    def in_zone(wall, schedule)
      offsets = [-86_400, 0, 86_400].map { |shift| schedule.utc_offset(wall + shift) }.uniq
      candidates = offsets.map { |offset| wall - offset }
      valid = candidates.select { |t| schedule.utc_offset(t) == wall.to_i - t.to_i }
      (valid.empty? ? [candidates.max] : [valid.min]).first.then { |t| Time.at(t.to_i) }
    end

    # --- list ----------------------------------------------------------------------------

    def list_options(o, options)
      o.banner = "good_cron list [--app PATH] [-e ENV] [--database-url URL]\n" \
                 "good_cron list --config FILE.json [--require FILE]... [--database-url URL]"
      o.separator "  A table of the cron entries: key, schedule (as written and as cron), zone, next run,"
      o.separator "  last run (from the database), enabled (GoodJob's settings), job class."
      o.on("--app PATH", "the Rails app (default: the current directory): boots its",
           "config/environment.rb with GOOD_CRON_START=0 (the scheduler does not",
           "start) and reads config.good_job as good_cron's Railtie does") { |v| options[:app] = v }
      o.on("-e", "--environment ENV", "RAILS_ENV for --app (default: RAILS_ENV, else development)") { |v| options[:environment] = v }
      o.on("--config FILE", "instead of an app: a GoodJob cron hash in JSON", "(class names as strings)") { |v| options[:config] = v }
      o.on("--require FILE", "load FILE first (the job classes); repeatable") { |v| (options[:require] ||= []) << v }
      o.on("--database-url URL", "the database (default: the app's ActiveRecord database,",
           "else DATABASE_URL)") { |v| options[:database_url] = v }
    end

    def list(argv)
      options, args = parse("list", argv)
      return help("list") if options[:help]
      raise UsageError.new("list takes no arguments, got #{args.map(&:inspect).join(" ")}", "list") if args.any?
      raise UsageError.new("--app and --config exclude each other", "list") if options[:app] && options[:config]
      raise UsageError.new("--environment is for --app (a Rails app)", "list") if options[:environment] && options[:config]

      source = options[:config] ? from_json(options) : from_rails(options)
      print_entries(source)
      EXIT_OK
    end

    # What to list: the cron hash, its database, notes for below the table, and how to build
    # the (never started) scheduler that reads the entries: `scheduler.call(url, logger)`.
    Source = Struct.new(:cron, :database_url, :notes, :origin, :scheduler, keyword_init: true)

    def from_json(options)
      path = File.expand_path(options[:config])
      require "json"
      require_good_cron(active_job: true)
      load_requires(options[:require])
      cron = begin
        JSON.parse(File.read(path))
      rescue SystemCallError => e
        raise Failure, "cannot read #{options[:config]}: #{e.message}"
      rescue JSON::ParserError => e
        raise Failure, "#{options[:config]} is not valid JSON: #{e.message.lines.first.strip}"
      end
      Source.new(cron: cron, database_url: options[:database_url] || @env["DATABASE_URL"], notes: [], origin: options[:config],
                 scheduler: ->(url, logger) { GoodCron::Scheduler.new(cron, database_url: url, logger: logger) })
    end

    def from_rails(options)
      app = File.expand_path(options[:app] || ".")
      requires = Array(options[:require]).map { |file| File.expand_path(file) }
      boot_rails(app, options[:environment])
      require_good_cron
      load_requires(requires)
      rails_source(app, options)
    end

    def rails_source(app, options)
      config = ::Rails.application.config
      settings = GoodCron::RailsConfig.new(config.respond_to?(:good_job) ? config.good_job : {}, @env)
      notes = []
      unless settings.enable_cron?
        notes << "cron is not enabled in this app (config.good_job.enable_cron / GOOD_JOB_ENABLE_CRON): " \
                 "the scheduler does not run these entries"
      end
      # The Railtie's, as GoodCron.entries and the server read the configuration.
      scheduler = ->(url, logger) { GoodCron::Railtie.configured_scheduler(settings, database_url: url, logger: logger) }
      Source.new(cron: settings.cron, database_url: options[:database_url] || rails_database_url, notes: notes,
                 origin: "config.good_job of #{app} (#{::Rails.env})", scheduler: scheduler)
    rescue GoodCron::ConfigurationError => e
      raise Failure, e.message.delete_prefix("good_cron: ")
    end

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
        GoodCron::RailsConfig.postgres_url(::ActiveRecord::Base.connection_db_config.configuration_hash)
      end || @env["DATABASE_URL"]
    end

    def require_good_cron(active_job: false)
      require "active_job" if active_job
      require "good_cron"
      require "good_cron/rails_config"
    end

    def load_requires(files)
      Array(files).each do |file|
        require File.expand_path(file)
      rescue StandardError, ScriptError => e
        raise Failure, "--require #{file}: #{e.class}: #{e.message}"
      end
    end

    def print_entries(source)
      cron = source.cron
      if cron.respond_to?(:empty?) && cron.empty?
        @out.puts "No cron entries in #{source.origin}."
        source.notes.each { |note| @out.puts "Note: #{note}" }
        return
      end
      url = source.database_url or
        raise Failure, "no database: pass --database-url URL or set DATABASE_URL"
      now = Time.now # before the entries: each next run is then after it
      entries = read_entries(source, url)
      classes = cron.each_pair.to_h { |key, entry| [key.to_s, job_class_name(entry)] }
      table = EntryTable.new(entries, classes, now: now, color: color?)
      table.lines.each { |line| @out.puts line }
      notes = source.notes.dup
      notes << "a (Proc) schedule's next run is what its Proc answers now, shown in this process's zone" if table.proc_schedule?
      if table.process_zone?
        notes << "a zone marked (local) is this process's zone (TZ, else /etc/localtime): the schedule names " \
                 "none, so it runs in the zone of each process that runs it"
      end
      notes.each { |note| @out.puts "Note: #{note}" }
    end

    def read_entries(source, url)
      logger = Logger.new(@err, level: Logger::WARN) # every message starts "good_cron: "
      source.scheduler.call(url, logger).entries
    rescue GoodCron::ConfigurationError => e
      message = e.message.delete_prefix("good_cron: ")
      if source.origin && !source.origin.start_with?("config.good_job") && e.problems.any? { |p| p.include?("cannot be found") }
        message += "\n(load the job classes with --require FILE)"
      end
      raise Failure, message
    rescue GoodCron::SchemaError => e
      raise Failure, e.message.delete_prefix("good_cron: ")
    rescue GoodCron::Error => e
      detail = e.message.gsub(/\s*\n\s*/, " ")
      if (missing = detail[/database ("[^"]*") does not exist/, 1])
        raise Failure, "the database #{missing} does not exist (#{GoodCron::Settings.redact_url(url)})"
      end

      detail = "#{unreachable(url) || "no connection"} (#{detail})" if detail.include?("pool timed out")
      raise Failure, "cannot read the entries from the database #{GoodCron::Settings.redact_url(url)}: #{detail}"
    end

    # Why a TCP connection to +url+'s server fails, if it does (the engine's pool only says
    # that it timed out).
    def unreachable(url)
      require "socket"
      require "uri"
      uri = URI.parse(url)
      return nil if uri.host.to_s.empty?

      Socket.tcp(uri.host.delete_prefix("[").delete_suffix("]"), uri.port || 5432, connect_timeout: 2) { nil }
      nil
    rescue URI::Error
      nil
    rescue SystemCallError, SocketError, IOError => e
      e.message
    end

    def job_class_name(entry)
      return "" unless entry.is_a?(Hash)

      klass = entry[:class] || entry["class"]
      return "(Proc)" if klass.respond_to?(:call)

      klass.is_a?(Module) ? klass.name : klass.to_s
    end

    def color?
      @out.respond_to?(:tty?) && @out.tty? && @env["NO_COLOR"].to_s.empty? && @env["TERM"] != "dumb"
    end

    # A time in a schedule's zone, e.g. "2024-03-10 03:00:00 -04:00".
    def self.local_time(time, schedule)
      Time.at(time.to_i, in: format_offset(schedule.utc_offset(time))).strftime("#{TIME_FORMAT} %:z")
    end

    # 3600 => "+01:00"; -16200 => "-04:30".
    def self.format_offset(seconds)
      sign = seconds.negative? ? "-" : "+"
      hours, rest = seconds.abs.divmod(3600)
      minutes, secs = rest.divmod(60)
      format("%s%02d:%02d%s", sign, hours, minutes, secs.zero? ? "" : format(":%02d", secs))
    end

    # The lines `good_cron explain` prints for one schedule.
    class Explanation
      def initialize(schedule, from:, count:)
        @schedule = schedule
        @from = from
        @count = count
        @fields = TimeFields.from_cron(schedule.to_cron, schedule.time_zone)
      end

      def lines
        # upcoming is strictly after; --from includes TIME itself.
        instants = @schedule.upcoming(@count, @from ? @from - 1 : Time.now)
        lines = header(instants)
        previous = nil
        instants.each do |at|
          offset = @schedule.utc_offset(at)
          if previous && (before = @schedule.utc_offset(previous)) != offset
            lines << "  -- UTC offset changes from #{CLI.format_offset(before)} to #{CLI.format_offset(offset)} --"
          end
          lines << "  #{instant(at)}#{note(at)}"
          previous = at
        end
        lines << "  (no more runs)" if instants.size < @count
        lines
      end

      private

      def header(instants)
        zone = @schedule.time_zone
        zone += " (this process's zone: the schedule names none)" unless @fields.zone_given
        from = @from ? "at or after #{CLI.local_time(@from, @schedule)}" : "after now (#{CLI.local_time(Time.now, @schedule)})"
        [
          "schedule  #{@schedule.source}",
          "cron      #{@schedule.to_cron}",
          "zone      #{zone}",
          "runs      #{instants.size == @count ? "the next #{@count}" : "all #{instants.size}"} #{from}",
          "",
        ]
      end

      def instant(at)
        local = Time.at(at.to_i, in: CLI.format_offset(@schedule.utc_offset(at)))
        "#{local.strftime("%a")} #{CLI.local_time(at, @schedule)}  (#{at.utc.strftime(TIME_FORMAT)} UTC)"
      end

      # Why a run is where it is, when the DST policy decided it.
      def note(at)
        before = @schedule.utc_offset(at - 1)
        offset = @schedule.utc_offset(at)
        local = at.getlocal(CLI.format_offset(offset))
        if before < offset && !@fields.match?(local)
          gap_start = (at - 1).getlocal(CLI.format_offset(before)) + 1 # the wall clock jumps from here to local
          skipped = (0...(offset - before)).lazy.map { |s| gap_start + s }.find { |wall| @fields.match?(wall) }
          what = skipped ? "#{skipped.strftime(skipped.sec.zero? ? "%H:%M" : "%H:%M:%S")} does not exist that day" : "its time is skipped that day"
          "  <- moved by DST: #{what} (clocks go from #{gap_start.strftime("%H:%M")} to #{local.strftime("%H:%M")})"
        elsif (repeat = repeated_at(at)) && @schedule.next_at(repeat - 1) != repeat
          "  <- #{local.strftime("%H:%M:%S")} occurs twice that day (#{CLI.format_offset(offset)} and " \
            "#{CLI.format_offset(@schedule.utc_offset(repeat))}): it runs once, at the first"
        end
      end

      # The later instant with the same wall time as +at+ (a fall-back day), if any.
      def repeated_at(at)
        offset = @schedule.utc_offset(at)
        [1800, 3600, 7200].each do |shift|
          later = at + shift
          return later if offset - @schedule.utc_offset(later) == shift
        end
        nil
      end
    end

    # The second, minute and hour fields of a normalized cron line, to tell whether a wall time
    # is one the schedule names. Unknown syntax matches everything (no note rather than a wrong one).
    class TimeFields
      attr_reader :zone_given

      def self.from_cron(cron, zone)
        zone_given = cron.end_with?(" #{zone}")
        fields = (zone_given ? cron.delete_suffix(" #{zone}") : cron).split
        fields.unshift("0") if fields.size == 5
        new(fields.first(3), zone_given)
      end

      def initialize(fields, zone_given)
        @zone_given = zone_given
        second, minute, hour = fields
        @second = expand(second, 59)
        @minute = expand(minute, 59)
        @hour = expand(hour, 23)
      end

      def match?(time)
        [[@second, time.sec], [@minute, time.min], [@hour, time.hour]].all? { |set, value| set.nil? || set.include?(value) }
      end

      private

      def expand(field, max)
        return nil if field.nil?

        field.split(",").flat_map do |part|
          match = %r{\A(\*|\d+|\d+-\d+)?(?:/(\d+))?\z}.match(part) or return nil
          range, step = match[1], (match[2] || 1).to_i
          return nil if step.zero?

          first, last =
            case range
            when nil, "*" then [0, max]
            when /-/ then range.split("-").map(&:to_i)
            else [range.to_i, match[2] ? max : range.to_i]
            end
          values = first <= last ? (first..last).to_a : (first..max).to_a + (0..last).to_a
          values.each_slice(step).map(&:first)
        end
      end
    end

    # The table `good_cron list` prints.
    class EntryTable
      HEADERS = ["KEY", "SCHEDULE", "CRON", "ZONE", "NEXT RUN", "LAST RUN", "ENABLED", "CLASS"].freeze

      def initialize(entries, classes, now:, color:)
        @entries = entries
        @classes = classes
        @now = now
        @color = color
      end

      # Whether a schedule names no zone (so it runs in the process's).
      def process_zone?
        @entries.any? { |entry| entry.schedule && !zone_given?(entry.schedule) }
      end

      # Whether an entry's cron is a Proc (no schedule; its next run is the Proc's answer).
      def proc_schedule?
        @entries.any? { |entry| entry.schedule.nil? }
      end

      def lines
        rows = @entries.map { |entry| row(entry) }
        # NEXT RUN and LAST RUN: the relative part padded, so the absolute times line up.
        [4, 5].each do |column|
          width = rows.map { |cells| cells[column].first.length }.max
          rows.each { |cells| cells[column] = cells[column].then { |rel, abs| abs ? "#{rel.ljust(width)}  #{abs}" : rel } }
        end
        widths = HEADERS.each_index.map { |i| ([HEADERS[i]] + rows.map { |cells| cells[i] }).map(&:length).max }
        [format_row(HEADERS, widths, header: true)] + rows.map { |cells| format_row(cells, widths) }
      end

      private

      def row(entry)
        [
          entry.key,
          *schedule_cells(entry.schedule),
          entry.next_at ? [EntryTable.relative((entry.next_at - @now).ceil), time(entry.next_at, entry.schedule)] : ["none"],
          entry.last_at ? [EntryTable.relative((entry.last_at - @now).floor), time(entry.last_at, entry.schedule)] : ["never"],
          entry.enabled? ? "yes" : "no",
          @classes.fetch(entry.key, ""),
        ]
      end

      # SCHEDULE, CRON and ZONE.
      def schedule_cells(schedule)
        return ["(Proc)", "-", "-"] unless schedule

        zone = schedule.time_zone
        return [schedule.source.strip, schedule.to_cron.delete_suffix(" #{zone}"), zone] if zone_given?(schedule)

        [schedule.source.strip, schedule.to_cron, "#{zone} (local)"]
      end

      # In the schedule's zone; a Proc's runs in this process's.
      def time(at, schedule)
        schedule ? CLI.local_time(at, schedule) : at.getlocal.strftime("#{TIME_FORMAT} %:z")
      end

      def zone_given?(schedule)
        schedule.to_cron.end_with?(" #{schedule.time_zone}")
      end

      def format_row(cells, widths, header: false)
        last = cells.size - 1
        cells.each_with_index.map do |cell, i|
          text = i == last ? cell : cell.ljust(widths[i])
          paint(text, cell, i, header)
        end.join("  ").rstrip
      end

      def paint(text, cell, column, header)
        return text unless @color

        code =
          if header then "1"
          elsif column == 6 then cell == "yes" ? "32" : "31"
          elsif cell == "never" || cell == "none" then "2"
          end
        code ? "\e[#{code}m#{text}\e[0m" : text
      end

      # 12.4 => "in 12s"; -3725 => "1h 2m ago"; two units at most.
      def self.relative(seconds)
        total = seconds.round
        return "now" if total.zero?

        parts = []
        rest = total.abs
        [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]].each do |unit, size|
          value, rest = rest.divmod(size)
          parts << "#{value}#{unit}" if value.positive? || parts.any?
        end
        text = parts.first(2).reject { |part| part.start_with?("0") && parts.first != part }.join(" ")
        total.positive? ? "in #{text}" : "#{text} ago"
      end
    end
  end
end
