# frozen_string_literal: true

module GoodCron
  # `good_cron list`: an app's cron entries with their next and last run.
  class CLI
    # What to list: the cron hash, its database, notes for below the table, and how to build
    # the (never started) scheduler that reads the entries: `scheduler.call(url, logger)`.
    Source = Struct.new(:cron, :database_url, :notes, :origin, :scheduler, keyword_init: true)

    private

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
      settings = GoodCron::Railtie.configuration(@env)
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
    rescue GoodCron::MissingDatabase => e
      raise Failure, "#{e.message} (#{GoodCron::Settings.redact_url(url)})"
    rescue GoodCron::Error => e
      detail = e.message.gsub(/\s*\n\s*/, " ")
      detail = "#{unreachable(url) || "no connection"} (#{detail})" if e.is_a?(GoodCron::UnreachableDatabase)
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
        @entries.any? { |entry| entry.schedule && !CLI.zone_given?(entry.schedule) }
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
        return [schedule.source.strip, schedule.to_cron.delete_suffix(" #{zone}"), zone] if CLI.zone_given?(schedule)

        [schedule.source.strip, schedule.to_cron, "#{zone} (local)"]
      end

      # In the schedule's zone; a Proc's runs in this process's.
      def time(at, schedule)
        schedule ? CLI.local_time(at, schedule) : at.getlocal.strftime("#{TIME_FORMAT} %:z")
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
