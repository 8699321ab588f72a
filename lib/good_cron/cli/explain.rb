# frozen_string_literal: true

module GoodCron
  # `good_cron explain`: the next runs of a schedule; needs no app and no database.
  class CLI
    DEFAULT_COUNT = 10
    MAX_COUNT = 10_000

    TIME_PATTERN = /\A(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?\z/i.freeze

    private

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

    # The lines `good_cron explain` prints for one schedule.
    class Explanation
      def initialize(schedule, from:, count:)
        @schedule = schedule
        @from = from
        @count = count
        @wall_times = wall_times
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
        zone += " (this process's zone: the schedule names none)" unless CLI.zone_given?(@schedule)
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
        if before < offset && !named?(local)
          gap_start = (at - 1).getlocal(CLI.format_offset(before)) + 1 # the wall clock jumps from here to local
          skipped = first_named(gap_start, local)
          what = skipped ? "#{skipped.strftime(skipped.sec.zero? ? "%H:%M" : "%H:%M:%S")} does not exist that day" : "its time is skipped that day"
          "  <- moved by DST: #{what} (clocks go from #{gap_start.strftime("%H:%M")} to #{local.strftime("%H:%M")})"
        elsif (repeat = repeated_at(at)) && @schedule.next_at(repeat - 1) != repeat
          "  <- #{local.strftime("%H:%M:%S")} occurs twice that day (#{CLI.format_offset(offset)} and " \
            "#{CLI.format_offset(@schedule.utc_offset(repeat))}): it runs once, at the first"
        end
      end

      # The schedule's second, minute and hour fields, every day, at UTC's fixed offset: its runs
      # are the wall times the schedule names, DST aside (the engine expands the fields).
      def wall_times
        fields = @schedule.to_cron.delete_suffix(" #{@schedule.time_zone}").split
        fields.unshift("0") if fields.size == 5
        GoodCron::Schedule.parse("#{fields.first(3).join(" ")} * * * +00:00")
      end

      # Whether the schedule names +local+'s wall time.
      def named?(local)
        first_named(local, local + 1)
      end

      # The first wall time the schedule names from +first+'s wall time to before +last+'s, as a
      # UTC Time holding it; nil if none.
      def first_named(first, last)
        wall = @wall_times.next_at(wall_time(first) - 1)
        wall.getutc if wall && wall < wall_time(last)
      end

      # The UTC Time holding +local+'s wall time.
      def wall_time(local)
        Time.at(local.to_i + local.utc_offset).utc
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
  end
end
