# frozen_string_literal: true

# DST transition days, with the expected instants written out (UTC). The policy (README,
# DESIGN.md "Semantics"): a fixed-time schedule (no `*` and no step in the hour field) whose
# local time falls in a spring-forward gap runs once, at the first instant after the gap; a
# local time that occurs twice on fall-back runs once, at its first occurrence. Schedules with
# a wildcard or a step in the hour field follow real instants: in a gap those local times do
# not exist, on fall-back both occurrences run.
#
# Every case runs twice: with the zone as a suffix, and with no suffix under ENV["TZ"].
#
# The transitions used (tzdata):
#   America/New_York    2024-03-10 07:00Z  -05:00 -> -04:00  (local 02:00-02:59 skipped)
#                       2024-11-03 06:00Z  -04:00 -> -05:00  (local 01:00-01:59 twice)
#   Europe/London       2024-03-31 01:00Z  +00:00 -> +01:00  (local 01:00-01:59 skipped)
#                       2024-10-27 01:00Z  +01:00 -> +00:00  (local 01:00-01:59 twice)
#   Australia/Lord_Howe 2024-04-06 15:00Z  +11:00 -> +10:30  (local 01:30-01:59 twice, on 04-07)
#                       2024-10-05 15:30Z  +10:30 -> +11:00  (local 02:00-02:29 skipped, on 10-06)
#   America/Santiago    2024-04-07 03:00Z  -03:00 -> -04:00  (local 23:00-23:59 of 04-06 twice)
#                       2024-09-08 04:00Z  -04:00 -> -03:00  (local 00:00-00:59 of 09-08 skipped)

require_relative "test_helper"
require "time"

class ScheduleDstTest < Minitest::Test
  include ProcessZone

  def utc(str)
    Time.iso8601(str.end_with?("Z") ? str : "#{str}Z")
  end

  def fmt(times)
    times.map { |t| t.utc.strftime("%FT%TZ") }
  end


  # The schedule with the zone as a suffix, and the same text without one, parsed under TZ.
  def each_form(expr, zone)
    suffixed = GoodCron::Schedule.parse("#{expr} #{zone}")
    assert_equal zone, suffixed.time_zone
    yield suffixed, "#{expr} #{zone}"
    with_tz(zone) do
      plain = GoodCron::Schedule.parse(expr)
      assert_equal zone, plain.time_zone
      yield plain, "#{expr} (TZ=#{zone})"
    end
  end

  # The n runs after from: through upcoming and through chained next_at.
  def assert_upcoming(expected, expr, zone, from)
    each_form(expr, zone) do |s, label|
      assert_equal expected, fmt(s.upcoming(expected.size, utc(from))), "#{label} upcoming from #{from}"
      chain = []
      t = utc(from)
      expected.size.times { chain << (t = s.next_at(t)) }
      assert_equal expected, fmt(chain), "#{label} next_at chain from #{from}"
    end
  end

  # The n runs before from, newest first, through chained previous_at.
  def assert_previous(expected, expr, zone, from)
    each_form(expr, zone) do |s, label|
      chain = []
      t = utc(from)
      expected.size.times { chain << (t = s.previous_at(t)) }
      assert_equal expected, fmt(chain), "#{label} previous_at chain from #{from}"
    end
  end

  def assert_within(expected, expr, zone, range)
    each_form(expr, zone) do |s, label|
      assert_equal expected, fmt(s.within(range)), "#{label} within #{range}"
    end
  end

  def assert_within_count(count, expr, zone, range)
    each_form(expr, zone) do |s, label|
      runs = s.within(range)
      assert_equal count, runs.size, "#{label} within #{range}"
      assert_equal runs.uniq.size, runs.size, "#{label}: no instant twice"
      assert_equal runs.sort, runs, "#{label}: in order"
    end
  end

  # --- America/New_York, spring forward 2024-03-10 -------------------------------------

  NY = "America/New_York"

  def test_new_york_spring_forward_fixed_times
    # 02:30 does not exist on 03-10: it runs once, at 03:00 EDT (the first instant after the gap).
    assert_upcoming %w[2024-03-09T07:30:00Z 2024-03-10T07:00:00Z 2024-03-11T06:30:00Z], "30 2 * * *", NY, "2024-03-09T00:00:00Z"
    # 02:00, the first minute of the gap: same.
    assert_upcoming %w[2024-03-09T07:00:00Z 2024-03-10T07:00:00Z 2024-03-11T06:00:00Z], "0 2 * * *", NY, "2024-03-09T00:00:00Z"
    # 03:00 EDT exists.
    assert_upcoming %w[2024-03-09T08:00:00Z 2024-03-10T07:00:00Z 2024-03-11T07:00:00Z], "0 3 * * *", NY, "2024-03-09T00:00:00Z"
    # 01:59 EST exists, just before the gap.
    assert_upcoming %w[2024-03-09T06:59:00Z 2024-03-10T06:59:00Z 2024-03-11T05:59:00Z], "59 1 * * *", NY, "2024-03-09T00:00:00Z"
    # 02:00 moved to 03:00 and 03:00 itself are one instant: it runs once.
    assert_upcoming %w[2024-03-10T06:00:00Z 2024-03-10T07:00:00Z 2024-03-11T05:00:00Z 2024-03-11T06:00:00Z 2024-03-11T07:00:00Z],
                    "0 1,2,3 * * *", NY, "2024-03-10T05:00:00Z"
    # 6 fields: every second of the minute 02:30 falls in the gap: one run at 03:00:00 EDT.
    assert_upcoming %w[2024-03-10T07:00:00Z 2024-03-11T06:30:00Z 2024-03-11T06:30:01Z], "* 30 2 * * *", NY, "2024-03-10T00:00:00Z"
    # 9:00 after the change.
    assert_upcoming %w[2024-03-09T14:00:00Z 2024-03-10T13:00:00Z 2024-03-11T13:00:00Z], "0 9 * * *", NY, "2024-03-09T12:00:00Z"
  end

  def test_new_york_spring_forward_wildcard_hours
    # Hourly follows real instants: 01:00 EST, then 03:00 EDT (02:00 does not exist).
    assert_upcoming %w[2024-03-10T06:00:00Z 2024-03-10T07:00:00Z 2024-03-10T08:00:00Z], "0 * * * *", NY, "2024-03-10T05:30:00Z"
    assert_upcoming %w[2024-03-10T06:30:00Z 2024-03-10T07:30:00Z], "30 * * * *", NY, "2024-03-10T06:00:00Z"
    assert_upcoming %w[2024-03-10T06:45:00Z 2024-03-10T07:00:00Z 2024-03-10T07:15:00Z], "*/15 * * * *", NY, "2024-03-10T06:40:00Z"
    # A step in the hour field: 00:00 EST, then 04:00 EDT.
    assert_upcoming %w[2024-03-10T05:00:00Z 2024-03-10T08:00:00Z 2024-03-10T10:00:00Z], "0 */2 * * *", NY, "2024-03-10T04:00:00Z"
    # A 23-hour day.
    day = utc("2024-03-10T05:00:00Z")...utc("2024-03-11T04:00:00Z")
    assert_within_count 23, "0 * * * *", NY, day
    assert_within_count 92, "*/15 * * * *", NY, day
    assert_within_count 1, "30 2 * * *", NY, day
    # Every second through the change: 01:00:00 EST to 03:59:59 EDT is 2 hours of seconds.
    assert_within_count 7200, "* * * * * *", NY, utc("2024-03-10T06:00:00Z")...utc("2024-03-10T08:00:00Z")
  end

  def test_new_york_spring_forward_previous
    assert_previous %w[2024-03-10T07:00:00Z 2024-03-09T07:30:00Z], "30 2 * * *", NY, "2024-03-11T00:00:00Z"
    assert_previous %w[2024-03-11T06:30:00Z 2024-03-10T07:00:00Z], "30 2 * * *", NY, "2024-03-11T06:30:01Z"
    assert_previous %w[2024-03-10T07:00:00Z 2024-03-10T06:00:00Z 2024-03-10T05:00:00Z], "0 * * * *", NY, "2024-03-10T07:00:01Z"
    assert_previous %w[2024-03-10T07:00:00Z 2024-03-10T06:45:00Z], "*/15 * * * *", NY, "2024-03-10T07:05:00Z"
  end

  # --- America/New_York, fall back 2024-11-03 ------------------------------------------

  def test_new_york_fall_back_fixed_times
    # 01:30 happens twice (EDT, then EST): it runs once, at the first.
    assert_upcoming %w[2024-11-02T05:30:00Z 2024-11-03T05:30:00Z 2024-11-04T06:30:00Z], "30 1 * * *", NY, "2024-11-02T00:00:00Z"
    assert_upcoming %w[2024-11-03T05:00:00Z 2024-11-04T06:00:00Z], "0 1 * * *", NY, "2024-11-03T04:30:00Z"
    assert_upcoming %w[2024-11-03T05:59:00Z 2024-11-04T06:59:00Z], "59 1 * * *", NY, "2024-11-03T05:00:00Z"
    # Started between the two 01:30s: the second one is not a run.
    assert_upcoming %w[2024-11-04T06:30:00Z], "30 1 * * *", NY, "2024-11-03T06:00:00Z"
    # 02:00 and 00:00 occur once.
    assert_upcoming %w[2024-11-03T07:00:00Z 2024-11-04T07:00:00Z], "0 2 * * *", NY, "2024-11-03T04:00:00Z"
    assert_upcoming %w[2024-11-03T04:00:00Z 2024-11-04T05:00:00Z], "0 0 * * *", NY, "2024-11-03T00:00:00Z"
    # 6 fields, every second of 01:30: the first pass only.
    each_form("* 30 1 * * *", NY) do |s, label|
      runs = s.within(utc("2024-11-03T05:00:00Z")..utc("2024-11-03T07:00:00Z"))
      assert_equal 60, runs.size, label
      assert_equal %w[2024-11-03T05:30:00Z 2024-11-03T05:30:59Z], fmt([runs.first, runs.last]), label
    end
  end

  def test_new_york_fall_back_wildcard_hours
    # Hourly: 01:00 EDT and 01:00 EST both run.
    assert_upcoming %w[2024-11-03T05:00:00Z 2024-11-03T06:00:00Z 2024-11-03T07:00:00Z], "0 * * * *", NY, "2024-11-03T04:30:00Z"
    assert_upcoming %w[2024-11-03T05:30:00Z 2024-11-03T06:30:00Z 2024-11-03T07:30:00Z], "30 * * * *", NY, "2024-11-03T05:00:00Z"
    assert_within %w[2024-11-03T05:00:00Z 2024-11-03T05:15:00Z 2024-11-03T05:30:00Z 2024-11-03T05:45:00Z
                     2024-11-03T06:00:00Z 2024-11-03T06:15:00Z 2024-11-03T06:30:00Z 2024-11-03T06:45:00Z
                     2024-11-03T07:00:00Z],
                  "*/15 * * * *", NY, utc("2024-11-03T05:00:00Z")..utc("2024-11-03T07:00:00Z")
    # Hour step: 00:00 EDT, 02:00 EST (01:00 is not in */2).
    assert_upcoming %w[2024-11-03T04:00:00Z 2024-11-03T07:00:00Z 2024-11-03T09:00:00Z], "0 */2 * * *", NY, "2024-11-03T03:00:00Z"
    # A 25-hour day.
    day = utc("2024-11-03T04:00:00Z")...utc("2024-11-04T05:00:00Z")
    assert_within_count 25, "0 * * * *", NY, day
    assert_within_count 100, "*/15 * * * *", NY, day
    assert_within %w[2024-11-03T05:30:00Z], "30 1 * * *", NY, day
    # Every second through the repeated hour: both passes, 7200 instants.
    assert_within_count 7200, "* * * * * *", NY, utc("2024-11-03T05:00:00Z")...utc("2024-11-03T07:00:00Z")
  end

  def test_new_york_fall_back_previous
    assert_previous %w[2024-11-03T05:30:00Z 2024-11-02T05:30:00Z], "30 1 * * *", NY, "2024-11-03T12:00:00Z"
    assert_previous %w[2024-11-03T05:30:00Z], "30 1 * * *", NY, "2024-11-03T06:30:01Z"
    assert_previous %w[2024-11-03T07:00:00Z 2024-11-03T06:00:00Z 2024-11-03T05:00:00Z 2024-11-03T04:00:00Z], "0 * * * *", NY, "2024-11-03T07:00:01Z"
  end

  def test_new_york_upcoming_across_both_changes
    assert_upcoming %w[2024-03-09T14:00:00Z 2024-03-10T13:00:00Z 2024-03-11T13:00:00Z], "0 9 * * *", NY, "2024-03-09T00:00:00Z"
    assert_upcoming %w[2024-11-02T13:00:00Z 2024-11-03T14:00:00Z 2024-11-04T14:00:00Z], "0 9 * * *", NY, "2024-11-02T00:00:00Z"
  end

  # --- Europe/London ---------------------------------------------------------------------

  LONDON = "Europe/London"

  def test_london_spring_forward
    # 01:30 does not exist on 03-31: 02:00 BST.
    assert_upcoming %w[2024-03-30T01:30:00Z 2024-03-31T01:00:00Z 2024-04-01T00:30:00Z], "30 1 * * *", LONDON, "2024-03-30T00:00:00Z"
    assert_upcoming %w[2024-03-31T01:00:00Z 2024-04-01T00:00:00Z], "0 1 * * *", LONDON, "2024-03-30T12:00:00Z"
    assert_upcoming %w[2024-03-31T01:00:00Z 2024-04-01T01:00:00Z], "0 2 * * *", LONDON, "2024-03-30T12:00:00Z"
    assert_upcoming %w[2024-03-31T00:59:00Z 2024-03-31T23:59:00Z], "59 0 * * *", LONDON, "2024-03-30T12:00:00Z"
    assert_upcoming %w[2024-03-31T01:30:00Z 2024-04-01T01:30:00Z], "30 2 * * *", LONDON, "2024-03-30T12:00:00Z"
    assert_upcoming %w[2024-03-31T00:00:00Z 2024-03-31T01:00:00Z 2024-03-31T02:00:00Z], "0 * * * *", LONDON, "2024-03-30T23:30:00Z"
    assert_previous %w[2024-03-31T01:00:00Z 2024-03-30T01:30:00Z], "30 1 * * *", LONDON, "2024-03-31T12:00:00Z"
    day = utc("2024-03-31T00:00:00Z")...utc("2024-03-31T23:00:00Z")
    assert_within_count 23, "0 * * * *", LONDON, day
    assert_within_count 92, "*/15 * * * *", LONDON, day
    assert_within %w[2024-03-31T01:00:00Z], "30 1 * * *", LONDON, day
    assert_within_count 3600, "* * * * * *", LONDON, utc("2024-03-31T00:30:00Z")...utc("2024-03-31T01:30:00Z")
  end

  def test_london_fall_back
    # 01:30 happens at 00:30Z (BST) and 01:30Z (GMT): it runs at the first.
    assert_upcoming %w[2024-10-26T00:30:00Z 2024-10-27T00:30:00Z 2024-10-28T01:30:00Z], "30 1 * * *", LONDON, "2024-10-26T00:00:00Z"
    assert_upcoming %w[2024-10-27T00:00:00Z 2024-10-28T01:00:00Z], "0 1 * * *", LONDON, "2024-10-26T12:00:00Z"
    assert_upcoming %w[2024-10-27T00:59:00Z 2024-10-28T01:59:00Z], "59 1 * * *", LONDON, "2024-10-26T12:00:00Z"
    assert_upcoming %w[2024-10-27T02:00:00Z 2024-10-28T02:00:00Z], "0 2 * * *", LONDON, "2024-10-26T12:00:00Z"
    assert_upcoming %w[2024-10-27T00:00:00Z 2024-10-27T01:00:00Z 2024-10-27T02:00:00Z], "0 * * * *", LONDON, "2024-10-26T23:30:00Z"
    assert_previous %w[2024-10-27T00:30:00Z 2024-10-26T00:30:00Z], "30 1 * * *", LONDON, "2024-10-27T12:00:00Z"
    assert_previous %w[2024-10-27T01:45:00Z 2024-10-27T01:30:00Z 2024-10-27T01:15:00Z 2024-10-27T01:00:00Z 2024-10-27T00:45:00Z],
                    "*/15 * * * *", LONDON, "2024-10-27T01:50:00Z"
    day = utc("2024-10-26T23:00:00Z")...utc("2024-10-28T00:00:00Z")
    assert_within_count 25, "0 * * * *", LONDON, day
    assert_within_count 100, "*/15 * * * *", LONDON, day
    assert_within %w[2024-10-27T00:30:00Z], "30 1 * * *", LONDON, day
    assert_within_count 7200, "* * * * * *", LONDON, utc("2024-10-27T00:00:00Z")...utc("2024-10-27T02:00:00Z")
  end

  # --- Australia/Lord_Howe: a half-hour shift ---------------------------------------------

  LORD_HOWE = "Australia/Lord_Howe"

  def test_lord_howe_fall_back_half_hour
    # 04-07 02:00 (+11) becomes 01:30 (+10:30): 01:30-01:59 happens twice.
    assert_upcoming %w[2024-04-05T14:30:00Z 2024-04-06T14:30:00Z 2024-04-07T15:00:00Z], "30 1 * * *", LORD_HOWE, "2024-04-05T00:00:00Z"
    assert_upcoming %w[2024-04-06T14:45:00Z 2024-04-07T15:15:00Z], "45 1 * * *", LORD_HOWE, "2024-04-06T12:00:00Z"
    # 01:15 and 02:00 happen once.
    assert_upcoming %w[2024-04-06T14:15:00Z 2024-04-07T14:45:00Z], "15 1 * * *", LORD_HOWE, "2024-04-06T12:00:00Z"
    assert_upcoming %w[2024-04-06T15:30:00Z 2024-04-07T15:30:00Z], "0 2 * * *", LORD_HOWE, "2024-04-06T12:00:00Z"
    # Hourly: 01:00 (+11) then 02:00 (+10:30), an hour and a half later.
    assert_upcoming %w[2024-04-06T13:00:00Z 2024-04-06T14:00:00Z 2024-04-06T15:30:00Z 2024-04-06T16:30:00Z], "0 * * * *", LORD_HOWE, "2024-04-06T12:30:00Z"
    # Every 15 minutes: both passes of 01:30 and 01:45.
    assert_within %w[2024-04-06T14:00:00Z 2024-04-06T14:15:00Z 2024-04-06T14:30:00Z 2024-04-06T14:45:00Z
                     2024-04-06T15:00:00Z 2024-04-06T15:15:00Z 2024-04-06T15:30:00Z],
                  "*/15 * * * *", LORD_HOWE, utc("2024-04-06T14:00:00Z")..utc("2024-04-06T15:30:00Z")
    assert_previous %w[2024-04-06T14:30:00Z 2024-04-05T14:30:00Z], "30 1 * * *", LORD_HOWE, "2024-04-07T00:00:00Z"
    assert_previous %w[2024-04-06T15:30:00Z 2024-04-06T14:00:00Z], "0 * * * *", LORD_HOWE, "2024-04-06T16:00:00Z"
    # The local day 04-07 lasts 24.5 hours: 13:00Z (04-06) to 13:30Z (04-07).
    day = utc("2024-04-06T13:00:00Z")...utc("2024-04-07T13:30:00Z")
    assert_within_count 24, "0 * * * *", LORD_HOWE, day
    assert_within_count 98, "*/15 * * * *", LORD_HOWE, day
    assert_within %w[2024-04-06T14:30:00Z], "30 1 * * *", LORD_HOWE, day
    assert_within_count 5400, "* * * * * *", LORD_HOWE, utc("2024-04-06T14:00:00Z")...utc("2024-04-06T15:30:00Z")
  end

  def test_lord_howe_spring_forward_half_hour
    # 10-06 02:00 (+10:30) becomes 02:30 (+11): 02:00-02:29 does not exist.
    assert_upcoming %w[2024-10-04T15:30:00Z 2024-10-05T15:30:00Z 2024-10-06T15:00:00Z], "0 2 * * *", LORD_HOWE, "2024-10-04T00:00:00Z"
    assert_upcoming %w[2024-10-04T15:45:00Z 2024-10-05T15:30:00Z 2024-10-06T15:15:00Z], "15 2 * * *", LORD_HOWE, "2024-10-04T00:00:00Z"
    assert_upcoming %w[2024-10-04T16:00:00Z 2024-10-05T15:30:00Z 2024-10-06T15:30:00Z], "30 2 * * *", LORD_HOWE, "2024-10-04T00:00:00Z"
    assert_upcoming %w[2024-10-05T15:29:00Z 2024-10-06T14:59:00Z], "59 1 * * *", LORD_HOWE, "2024-10-05T12:00:00Z"
    # Hourly: 01:00 (+10:30) then 03:00 (+11).
    assert_upcoming %w[2024-10-05T14:30:00Z 2024-10-05T16:00:00Z 2024-10-05T17:00:00Z], "0 * * * *", LORD_HOWE, "2024-10-05T14:00:00Z"
    assert_upcoming %w[2024-10-05T15:15:00Z 2024-10-05T15:30:00Z 2024-10-05T15:45:00Z], "*/15 * * * *", LORD_HOWE, "2024-10-05T15:00:00Z"
    assert_previous %w[2024-10-05T15:30:00Z 2024-10-04T15:30:00Z], "0 2 * * *", LORD_HOWE, "2024-10-06T00:00:00Z"
    assert_previous %w[2024-10-05T16:00:00Z 2024-10-05T14:30:00Z], "0 * * * *", LORD_HOWE, "2024-10-05T16:30:00Z"
    # The local day 10-06 lasts 23.5 hours: 13:30Z (10-05) to 13:00Z (10-06).
    day = utc("2024-10-05T13:30:00Z")...utc("2024-10-06T13:00:00Z")
    assert_within_count 23, "0 * * * *", LORD_HOWE, day
    assert_within_count 94, "*/15 * * * *", LORD_HOWE, day
    assert_within %w[2024-10-05T15:30:00Z], "15 2 * * *", LORD_HOWE, day
    assert_within_count 3600, "* * * * * *", LORD_HOWE, utc("2024-10-05T15:00:00Z")...utc("2024-10-05T16:00:00Z")
  end

  # --- America/Santiago: changes at midnight ------------------------------------------------

  SANTIAGO = "America/Santiago"

  def test_santiago_midnight_changes
    # 09-08 00:00 does not exist (00:00 -04 becomes 01:00 -03): midnight runs at 01:00.
    assert_upcoming %w[2024-09-07T04:00:00Z 2024-09-08T04:00:00Z 2024-09-09T03:00:00Z], "0 0 * * *", SANTIAGO, "2024-09-07T00:00:00Z"
    # 04-06 23:30 happens twice (-03, then -04): the first runs.
    assert_upcoming %w[2024-04-06T02:30:00Z 2024-04-07T02:30:00Z 2024-04-08T03:30:00Z], "30 23 * * *", SANTIAGO, "2024-04-06T00:00:00Z"
    # 04-07 00:00 happens once, at 04:00Z.
    assert_upcoming %w[2024-04-07T04:00:00Z 2024-04-08T04:00:00Z], "0 0 * * *", SANTIAGO, "2024-04-06T12:00:00Z"
  end

  # --- the policy does not depend on the direction of the search ---------------------------

  def test_previous_at_inverts_next_at_on_transition_days
    cases = {
      NY => %w[2024-03-10T00:00:00Z 2024-11-03T00:00:00Z],
      LONDON => %w[2024-03-30T12:00:00Z 2024-10-26T12:00:00Z],
      LORD_HOWE => %w[2024-04-06T00:00:00Z 2024-10-05T00:00:00Z],
    }
    exprs = ["30 1 * * *", "30 2 * * *", "0 2 * * *", "15 2 * * *", "45 1 * * *", "0 * * * *",
             "*/15 * * * *", "0 */2 * * *", "0 1-3 * * *", "59 1 * * *"]
    cases.each do |zone, starts|
      starts.each do |start|
        exprs.each do |expr|
          each_form(expr, zone) do |s, label|
            runs = s.within(utc(start)..(utc(start) + 2 * 86_400))
            runs.each_cons(2) do |a, b|
              assert_equal a, s.previous_at(b), "#{label}: previous_at(#{fmt([b])[0]})"
              assert_equal b, s.next_at(a), "#{label}: next_at(#{fmt([a])[0]})"
            end
          end
        end
      end
    end
  end
end
