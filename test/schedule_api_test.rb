# frozen_string_literal: true

# GoodCron::Schedule's Ruby API, and the places where it differs from fugit on purpose (each
# with the expected instants written out, and Debian's fugit 1.5.2 answer alongside to show
# the difference is real; where fugit 1.14, GoodJob's, reads it as good_cron does, it says so).

require_relative "test_helper"
require "fugit"
require "time"

class ScheduleApiTest < Minitest::Test
  include ProcessZone

  def utc(str)
    Time.iso8601(str)
  end

  def fmt(times)
    (times.is_a?(Array) ? times : [times]).map { |t| t&.utc&.strftime("%FT%TZ") }
  end


  def parse(str, tz: "UTC")
    with_tz(tz) { GoodCron::Schedule.parse(str) }
  end

  def fugit_chain(str, from, count, tz: "UTC")
    with_tz(tz) do
      cron = Fugit.parse(str)
      t = from
      Array.new(count) { fmt(t = cron.next_time(t).to_t)[0] }
    end
  end

  # --- defaults and argument handling ------------------------------------------------------

  def test_next_at_and_previous_at_default_to_now
    s = parse("* * * * * *")
    before = Time.now
    n = s.next_at
    prev = s.previous_at
    after = Time.now
    assert_kind_of Time, n
    assert_kind_of Time, prev
    assert_operator n, :>, before - 1
    assert_operator n, :<=, after + 1
    assert_operator prev, :<, after
    assert_operator prev, :>=, before - 2
    assert_equal 3, s.upcoming(3).size
    assert_operator s.upcoming(1).first, :<=, after + 1
  end

  def test_results_are_whole_second_times
    s = parse("*/10 * * * * *")
    t = utc("2024-05-05T12:00:03.75Z")
    [s.next_at(t), s.previous_at(t), *s.upcoming(3, t), *s.within(t..(t + 60))].each do |x|
      assert_instance_of Time, x
      assert_equal 0, x.subsec
    end
  end

  def test_fractional_seconds_are_truncated_like_fugit
    every_second = parse("* * * * * *")
    t = utc("2024-01-01T12:00:00.5Z")
    # Strictly after 12:00:00 (the truncated time), as fugit's next_time.
    assert_equal "2024-01-01T12:00:01Z", fmt(every_second.next_at(t))[0]
    # Strictly before 12:00:00, as fugit's previous_time.
    assert_equal "2024-01-01T11:59:59Z", fmt(every_second.previous_at(t))[0]
    assert_equal "2024-01-01T12:00:01Z", fmt(Fugit.parse("* * * * * *").next_time(t).to_t)[0]
    assert_equal "2024-01-01T11:59:59Z", fmt(Fugit.parse("* * * * * *").previous_time(t).to_t)[0]
    # An instant that is exactly a run is not returned by either.
    hourly = parse("0 * * * *")
    assert_equal "2024-01-01T13:00:00Z", fmt(hourly.next_at(utc("2024-01-01T12:00:00Z")))[0]
    assert_equal "2024-01-01T13:00:00Z", fmt(hourly.next_at(utc("2024-01-01T12:00:00.999Z")))[0]
    assert_equal "2024-01-01T11:00:00Z", fmt(hourly.previous_at(utc("2024-01-01T12:00:00Z")))[0]
    assert_equal "2024-01-01T11:00:00Z", fmt(hourly.previous_at(utc("2024-01-01T12:00:00.999Z")))[0]
    assert_equal "2024-01-01T12:00:00Z", fmt(hourly.previous_at(utc("2024-01-01T12:00:01Z")))[0]
  end

  def test_accepts_times_in_any_zone_and_time_like_objects
    s = parse("0 9 * * *", tz: "Asia/Tokyo")
    expected = "2024-05-06T00:00:00Z"
    assert_equal expected, fmt(s.next_at(utc("2024-05-05T12:00:00Z")))[0]
    assert_equal expected, fmt(s.next_at(Time.new(2024, 5, 5, 8, 0, 0, "-04:00")))[0]
    assert_equal expected, fmt(s.next_at(utc("2024-05-05T12:00:00Z").getlocal("+05:30")))[0]
  end

  def test_upcoming
    s = parse("0 0 1 * *")
    from = utc("2024-01-15T00:00:00Z")
    assert_equal %w[2024-02-01T00:00:00Z 2024-03-01T00:00:00Z 2024-04-01T00:00:00Z], fmt(s.upcoming(3, from))
    assert_equal [], s.upcoming(0, from)
    chain = []
    t = from
    12.times { chain << (t = s.next_at(t)) }
    assert_equal chain, s.upcoming(12, from)
    assert_raises(ArgumentError) { s.upcoming(-1, from) }
    assert_raises(ArgumentError) { s.upcoming(1.5, from) }
  end

  def test_within_respects_inclusive_and_exclusive_ends
    s = parse("0 * * * *")
    a = utc("2024-01-01T10:00:00Z")
    b = utc("2024-01-01T12:00:00Z")
    assert_equal %w[2024-01-01T10:00:00Z 2024-01-01T11:00:00Z 2024-01-01T12:00:00Z], fmt(s.within(a..b))
    assert_equal %w[2024-01-01T10:00:00Z 2024-01-01T11:00:00Z], fmt(s.within(a...b))
    # Fractional bounds: only whole-second runs inside the range.
    assert_equal %w[2024-01-01T11:00:00Z 2024-01-01T12:00:00Z], fmt(s.within((a + 0.5)..(b + 0.5)))
    assert_equal %w[2024-01-01T10:00:00Z 2024-01-01T11:00:00Z], fmt(s.within((a - 0.5)...b))
    assert_equal %w[2024-01-01T10:00:00Z 2024-01-01T11:00:00Z 2024-01-01T12:00:00Z], fmt(s.within((a - 0.5)...(b + 0.5)))
    # Empty and one-instant ranges.
    assert_equal [], s.within(b..a)
    assert_equal [], s.within(a...a)
    assert_equal %w[2024-01-01T10:00:00Z], fmt(s.within(a..a))
    assert_equal [], s.within((a + 1)..(a + 3599))
    # Consistent with upcoming.
    every5 = parse("*/5 * * * *")
    day = utc("2024-02-28T00:00:00Z")...utc("2024-03-01T00:00:00Z")
    runs = every5.within(day)
    assert_equal 2 * 24 * 12, runs.size
    assert_equal every5.upcoming(runs.size, day.begin - 1), runs
  end

  def test_within_needs_a_bounded_range_of_times
    s = parse("0 * * * *")
    t = utc("2024-01-01T10:00:00Z")
    assert_raises(ArgumentError) { s.within(t) }
    assert_raises(ArgumentError) { s.within(t..) }
    assert_raises(ArgumentError) { s.within(..t) }
  end

  def test_previous_at_of_next_at_is_not_after_the_start
    schedules = ["* * * * * *", "*/7 * * * *", "0 9 * * mon-fri", "0 0 L * *", "0 12 * * fri#-1",
                 "0 0 29 2 *", "30 2 * * * America/New_York", "*/15 * * * * Australia/Lord_Howe",
                 "every day at noon", "0 9 * * 1%2", "45 23 31 12 *", "0 0 1 1 * Pacific/Kiritimati"]
    rng = Random.new(20_240_229)
    schedules.each do |str|
      s = parse(str, tz: "Europe/London")
      200.times do
        t = Time.at(rng.rand(946_684_800..2_524_608_000), rng.rand(1_000_000), :usec)
        n = s.next_at(t)
        prev = s.previous_at(t)
        assert_operator n, :>, t, "#{str}: next_at(#{t.utc.iso8601(6)})"
        assert_operator prev, :<, t, "#{str}: previous_at(#{t.utc.iso8601(6)})"
        assert_operator s.previous_at(n), :<=, t, "#{str}: previous_at(next_at(#{t.utc.iso8601(6)}))"
        assert_operator s.next_at(prev), :>=, Time.at(t.to_i), "#{str}: next_at(previous_at(#{t.utc.iso8601(6)}))"
        assert_equal [], s.within((prev + 1)...n).reject { |x| x.to_i == t.to_i }, "#{str}: no run strictly between"
      end
    end
  end

  # --- to_cron, time_zone, equality -------------------------------------------------------

  def test_to_cron_and_time_zone
    s = parse("*/15 9-17 * * mon-fri Europe/Paris", tz: "Asia/Tokyo")
    assert_equal "0,15,30,45 9,10,11,12,13,14,15,16,17 * * 1,2,3,4,5 Europe/Paris", s.to_cron
    assert_equal "Europe/Paris", s.time_zone
    assert_equal s.to_cron, s.to_s
    assert_includes s.inspect, "Europe/Paris"
    n = parse("every weekday at 9:30am", tz: "America/Chicago")
    assert_equal "30 9 * * 1,2,3,4,5", n.to_cron
    assert_equal "America/Chicago", n.time_zone
    assert_equal "0 9 * * * +05:30", parse("0 9 * * * +05:30").to_cron
    assert_equal "+05:30", parse("0 9 * * * +05:30").time_zone
  end

  def test_equality_follows_the_normalized_schedule
    a = parse("0 9 * * 1-5")
    b = parse("0 9 * * mon,tue,wed,thu,fri")
    assert_equal a, b
    assert_equal a.hash, b.hash
    refute_equal a, parse("0 9 * * 1-5", tz: "Europe/London")
    refute_equal a, parse("0 10 * * 1-5")
  end

  def test_process_zone_is_read_at_parse_time
    s = parse("0 9 * * *", tz: "Asia/Kolkata")
    assert_equal "Asia/Kolkata", s.time_zone
    with_tz("America/New_York") do
      assert_equal "Asia/Kolkata", s.time_zone
      assert_equal "2024-05-06T03:30:00Z", fmt(s.next_at(utc("2024-05-05T12:00:00Z")))[0]
    end
    # A suffix wins over TZ.
    z = parse("0 9 * * * America/New_York", tz: "Asia/Kolkata")
    assert_equal "America/New_York", z.time_zone
    assert_equal "2024-05-05T13:00:00Z", fmt(z.next_at(utc("2024-05-05T12:00:00Z")))[0]
  end

  def test_without_tz_the_system_zone_is_used_as_ruby_does
    s = parse("0 9 * * *", tz: nil)
    refute_empty s.time_zone
    with_tz(nil) do
      n = s.next_at(utc("2024-05-05T12:00:00Z"))
      local = n.localtime
      assert_equal [9, 0, 0], [local.hour, local.min, local.sec], "9:00 in the system zone (#{s.time_zone})"
    end
  end

  def test_tz_with_a_leading_colon_is_an_iana_name
    # POSIX allows TZ=":America/New_York"; Ruby and glibc read it as the zone file.
    s = parse("0 9 * * *", tz: ":America/New_York")
    assert_equal "2024-05-05T13:00:00Z", fmt(s.next_at(utc("2024-05-05T12:00:00Z")))[0]
  end

  # Fugit.parse (which GoodJob calls) tries cron, then duration, then natural language, then a
  # point in time: what it reads as a duration or a time is not a schedule, here either.
  def test_durations_and_points_in_time_are_not_schedules
    ["7", "17", "1d", "30s", "2019-01-01 12:00"].each do |str|
      refute_kind_of Fugit::Cron, Fugit.parse(str), str
      assert_raises(GoodCron::InvalidSchedule, str.inspect) { parse(str) }
    end
    # Two numbers are natural language for fugit ("at 1 and 2"): hours.
    assert_equal "0 1,2 * * *", Fugit.parse("1 2").to_cron_s
    assert_equal "0 1,2 * * *", parse("1 2").to_cron
  end

  # --- intentional differences from fugit 1.5.2; (1), (3) and (5) hold for fugit 1.14 too ---

  # (1) DST days: a fixed time in the spring-forward gap runs once after the gap (fugit skips
  # the day); a fixed time in the repeated hour runs once (fugit runs it twice).
  def test_difference_dst_days
    from = utc("2024-03-09T00:00:00Z")
    assert_equal %w[2024-03-09T07:30:00Z 2024-03-10T07:00:00Z 2024-03-11T06:30:00Z],
                 fmt(parse("30 2 * * * America/New_York").upcoming(3, from))
    assert_equal %w[2024-03-09T07:30:00Z 2024-03-11T06:30:00Z 2024-03-12T06:30:00Z],
                 fugit_chain("30 2 * * * America/New_York", from, 3)
    from = utc("2024-11-03T00:00:00Z")
    assert_equal %w[2024-11-03T05:30:00Z 2024-11-04T06:30:00Z 2024-11-05T06:30:00Z],
                 fmt(parse("30 1 * * * America/New_York").upcoming(3, from))
    assert_equal %w[2024-11-03T05:30:00Z 2024-11-03T06:30:00Z 2024-11-04T06:30:00Z],
                 fugit_chain("30 1 * * * America/New_York", from, 3)
  end

  # (2) Several `#` entries for one weekday: all count (fugit 1.5.2 honours the first only;
  # 1.14's weekday_match? tries each, as here).
  def test_difference_several_nth_weekdays
    from = utc("2024-01-01T00:00:00Z")
    assert_equal %w[2024-01-08T09:00:00Z 2024-01-22T09:00:00Z 2024-02-12T09:00:00Z 2024-02-26T09:00:00Z],
                 fmt(parse("0 9 * * mon#2,mon#4").upcoming(4, from))
    assert_equal %w[2024-01-08T09:00:00Z 2024-02-12T09:00:00Z 2024-03-11T09:00:00Z 2024-04-08T09:00:00Z],
                 fugit_chain("0 9 * * mon#2,mon#4", from, 4)
    assert_equal %w[2024-01-05T09:00:00Z 2024-01-26T09:00:00Z 2024-02-02T09:00:00Z],
                 fmt(parse("0 9 * * fri#1,fri#-1").upcoming(3, from))
  end

  # (3) Both day fields restricted and a day of the month missing from a listed month: the
  # weekday runs of that month stay (fugit drops the month; and rejects `0 0 30 2 mon`).
  def test_difference_day_missing_from_a_listed_month
    from = utc("2024-02-01T00:00:00Z")
    assert_equal %w[2024-02-05T00:00:00Z 2024-02-12T00:00:00Z 2024-02-19T00:00:00Z 2024-02-26T00:00:00Z
                    2024-03-04T00:00:00Z 2024-03-11T00:00:00Z 2024-03-18T00:00:00Z 2024-03-25T00:00:00Z
                    2024-03-31T00:00:00Z 2025-02-03T00:00:00Z],
                 fmt(parse("0 0 31 2,3 mon").upcoming(10, from))
    assert_equal %w[2024-03-04T00:00:00Z 2024-03-11T00:00:00Z 2024-03-18T00:00:00Z], fugit_chain("0 0 31 2,3 mon", from, 3)
    assert_equal %w[2024-02-05T00:00:00Z 2024-02-12T00:00:00Z 2024-02-19T00:00:00Z 2024-02-26T00:00:00Z 2025-02-03T00:00:00Z],
                 fmt(parse("0 0 30 2 mon").upcoming(5, utc("2024-01-01T00:00:00Z")))
    refute_kind_of Fugit::Cron, Fugit.parse("0 0 30 2 mon")
  end

  # (4) An @alias with a zone (fugit 1.14 reads it too).
  def test_difference_alias_with_zone
    s = parse("@daily America/New_York", tz: "Asia/Tokyo")
    assert_equal "America/New_York", s.time_zone
    assert_equal "0 0 * * * America/New_York", s.to_cron
    assert_equal %w[2024-06-01T04:00:00Z 2024-06-02T04:00:00Z], fmt(s.upcoming(2, utc("2024-06-01T00:00:00Z")))
    assert_equal %w[2024-01-01T05:00:00Z], fmt(parse("@yearly America/New_York").next_at(utc("2023-06-01T00:00:00Z")))
    assert_equal %w[2024-06-01T13:15:00Z], fmt(parse("@hourly Asia/Kathmandu").next_at(utc("2024-06-01T12:30:00Z")))
    assert_nil Fugit.parse("@daily America/New_York")
  end

  # (5) Natural language that fugit would turn into several cron lines is rejected (fugit
  # silently keeps the first).
  def test_difference_several_cron_lines_rejected
    error = assert_raises(GoodCron::InvalidSchedule) { parse("every day at 5pm and 6:30pm") }
    assert_includes error.message, "every day at 5pm and 6:30pm"
    assert_equal "0 17 * * *", Fugit.parse("every day at 5pm and 6:30pm").to_cron_s
    # Several times with the same minutes make one cron line, and are accepted.
    assert_equal "0 17,18 * * *", parse("every day at 5pm and 6pm").to_cron
  end

  # (6) A step of 0 is rejected (fugit 1.5.2 divides by zero; 1.14 rejects it too), and a
  # descending weekday range with a step wraps past Saturday as in fugit 1.14 (1.5.2 reads
  # `5-1/2` as every day).
  def test_difference_zero_step_rejected_and_descending_weekday_step_wraps
    assert_raises(GoodCron::InvalidSchedule) { parse("*/0 * * * *") }
    assert_raises(ZeroDivisionError) { Fugit.parse("*/0 * * * *") }
    assert_equal "0 0 * * 0,5", parse("0 0 * * 5-1/2").to_cron
    assert_equal "0 0 * * *", Fugit.parse("0 0 * * 5-1/2").to_cron_s
    # A descending range without a step wraps, as in fugit.
    assert_equal "0 0 * * 0,1,5,6", parse("0 0 * * 5-1").to_cron
  end

  # (7) Surrounding whitespace is ignored (fugit 1.5.2 rejects it; 1.14 strips it).
  def test_difference_surrounding_whitespace
    [" 0 9 * * * ", "\t0 9 * * *", "0 9 * * *\n", "  every day at noon  ", " @daily "].each do |str|
      s = parse(str)
      assert_equal parse(str.strip).to_cron, s.to_cron, str.inspect
      assert_nil Fugit.parse(str), str.inspect
    end
  end
end
