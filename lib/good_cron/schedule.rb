# frozen_string_literal: true

module GoodCron
  # A parsed schedule (`GoodCron::Schedule.parse("every 5 minutes")`). The engine computes
  # instants as whole Unix seconds; these methods speak Time. Times are truncated to whole
  # seconds, as fugit does.
  class Schedule
    private :next_after, :previous_before, :upcoming_after, :instants_within, :utc_offset_at

    # The UTC offset, in seconds, of the schedule's zone at +time+.
    def utc_offset(time = Time.now)
      utc_offset_at(time.to_i)
    end

    # The first run strictly after +time+, or nil if there is none.
    def next_at(time = Time.now)
      at = next_after(time.to_i)
      at && Time.at(at)
    end

    # The last run strictly before +time+, or nil if there is none.
    def previous_at(time = Time.now)
      at = previous_before(time.to_i)
      at && Time.at(at)
    end

    # The next +count+ runs after +from+.
    def upcoming(count, from = Time.now)
      raise ArgumentError, "count must be a non-negative Integer, got #{count.inspect}" unless count.is_a?(Integer) && count >= 0

      upcoming_after(from.to_i, count).map { |at| Time.at(at) }
    end

    # Every run inside +range+ (a Range of Times; an exclusive end is respected).
    def within(range)
      unless range.is_a?(Range) && range.begin && range.end
        raise ArgumentError, "within needs a bounded Range of Times, got #{range.inspect}"
      end

      first = range.begin.to_r.ceil
      last = range.exclude_end? ? range.end.to_r.ceil - 1 : range.end.to_r.floor
      instants_within(first, last).map { |at| Time.at(at) }
    end

    def to_s
      to_cron
    end

    def inspect
      "#<GoodCron::Schedule #{source.inspect} (#{to_cron}) in #{time_zone}>"
    end

    def ==(other)
      other.is_a?(Schedule) && other.to_cron == to_cron && other.time_zone == time_zone
    end
    alias eql? ==

    def hash
      [to_cron, time_zone].hash
    end
  end
end
