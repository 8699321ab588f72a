# frozen_string_literal: true

# Cron lines fugit 1.14 reads differently from fugit 1.5.2 (issue 10), read from fugit 1.14's
# lib/fugit/cron.rb (its Parser and #expand, #range, #determine_weekdays, #day_match?): none
# of these is in the oracle, so each expectation says which rule of that file it follows.

require_relative "test_helper"
require "time"

class ScheduleCronTest < Minitest::Test
  include ProcessZone

  FROM = Time.utc(2026, 1, 15, 10, 17, 23) # a Thursday

  # [cron line, to_cron, next three runs after FROM (UTC)]
  TABLE = [
    # expand: a start with a step and no end runs to the field's end, /1 included
    ["5/1 * * * *", "#{(5..59).to_a.join(",")} * * * *",
     ["2026-01-15 10:18:00", "2026-01-15 10:19:00", "2026-01-15 10:20:00"]],
    ["0 20/1 * * *", "0 20,21,22,23 * * *",
     ["2026-01-15 20:00:00", "2026-01-15 21:00:00", "2026-01-15 22:00:00"]],
    # range: a step-1 range over the whole field is "*", and one such element makes the field "*"
    ["0-59 * * * *", "* * * * *",
     ["2026-01-15 10:18:00", "2026-01-15 10:19:00", "2026-01-15 10:20:00"]],
    ["0 0-23 * * *", "0 * * * *",
     ["2026-01-15 11:00:00", "2026-01-15 12:00:00", "2026-01-15 13:00:00"]],
    ["0 0 * jan-dec *", "0 0 * * *",
     ["2026-01-16 00:00:00", "2026-01-17 00:00:00", "2026-01-18 00:00:00"]],
    ["0-59/1 0 1 1 *", "* 0 1 1 *",
     ["2027-01-01 00:00:00", "2027-01-01 00:01:00", "2027-01-01 00:02:00"]],
    # ... so a whole-month day field no longer widens the weekday field to every day
    ["0 0 1-31 * 1", "0 0 * * 1",
     ["2026-01-19 00:00:00", "2026-01-26 00:00:00", "2026-02-02 00:00:00"]],
    ["0 0 5,1-31 * 1", "0 0 * * 1",
     ["2026-01-19 00:00:00", "2026-01-26 00:00:00", "2026-02-02 00:00:00"]],
    # comma, comma?: extra commas before, between and after values
    ["1,,2 * * * *", "1,2 * * * *",
     ["2026-01-15 11:01:00", "2026-01-15 11:02:00", "2026-01-15 12:01:00"]],
    [",1,2, 0 * * *", "1,2 0 * * *",
     ["2026-01-16 00:01:00", "2026-01-16 00:02:00", "2026-01-17 00:01:00"]],
    # and?, day_match?: "&" after the day or weekday field wants both (gh-78)
    ["0 0 1-7 * 1&", "0 0 1,2,3,4,5,6,7 * 1&",
     ["2026-02-02 00:00:00", "2026-03-02 00:00:00", "2026-04-06 00:00:00"]],
    ["0 0 1& * mon", "0 0 1 * 1&",
     ["2026-06-01 00:00:00", "2027-02-01 00:00:00", "2027-03-01 00:00:00"]],
    ["0 0 * * 1&", "0 0 * * 1&", # no day field: "&" changes nothing
     ["2026-01-19 00:00:00", "2026-01-26 00:00:00", "2026-02-02 00:00:00"]],
    # weekday_modulo_match?: rweek % N == M % N (rweek counts weeks from 2019-01-01, from 1)
    ["0 0 * * 1%3+1", "0 0 * * 1%3+1",
     ["2026-02-02 00:00:00", "2026-02-23 00:00:00", "2026-03-16 00:00:00"]],
    ["0 0 * * 1%3+4", "0 0 * * 1%3+4",
     ["2026-02-02 00:00:00", "2026-02-23 00:00:00", "2026-03-16 00:00:00"]],
    # determine_weekdays: a stepped range wraps past Saturday, and a weekday step of 0 is 1
    ["0 0 * * 5-1/2", "0 0 * * 0,5",
     ["2026-01-16 00:00:00", "2026-01-18 00:00:00", "2026-01-23 00:00:00"]],
    ["0 0 * * */0", "0 0 * * 0,1,2,3,4,5,6",
     ["2026-01-16 00:00:00", "2026-01-17 00:00:00", "2026-01-18 00:00:00"]],
  ].freeze

  def test_each_reads_as_fugit_1_14_reads_it
    problems = with_tz("UTC") do
      TABLE.filter_map do |line, cron, runs|
        schedule = GoodCron::Schedule.parse(line)
        got = [schedule.to_cron, schedule.upcoming(3, FROM).map { |t| t.utc.strftime("%F %T") }]
        "#{line.inspect}: expected #{[cron, runs].inspect}, got #{got.inspect}" unless got == [cron, runs]
      rescue GoodCron::InvalidSchedule => e
        "#{line.inspect}: #{e.message}"
      end
    end
    assert problems.empty?, problems.join("\n")
  end

  # fugit's "~" picks a random value each time it parses (opts[:random]), so every GoodJob
  # process may pick a different minute. good_cron picks one from the schedule's text: the
  # same in every process, on every parse, inside the range fugit draws from.
  def test_tilde_picks_one_value_from_the_text_inside_fugits_range
    {
      "0~59 * * * *" => [0..59, 1], "10~20 * * * *" => [10..20, 1], "~ 3 * * *" => [0..59, 1],
      "0 9~17 * * *" => [9..17, 2], "0 0 ~ * *" => [1..31, 3], "0 0 * * mon~fri" => [1..5, 5],
    }.each do |line, (range, field)|
      readings = 3.times.map { GoodCron::Schedule.parse(line).to_cron }
      assert_equal 1, readings.uniq.size, "#{line}: #{readings.inspect}"
      value = readings.first.split(" ")[field - 1]
      assert_match(/\A\d+\z/, value, line)
      assert_includes range, Integer(value), line
    end
    in_child = IO.popen([RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-rgood_cron", "-e",
                         'print GoodCron::Schedule.parse("0~59 * * * *").to_cron'], &:read)
    assert_equal GoodCron::Schedule.parse("0~59 * * * *").to_cron, in_child
  end

  # expand: "a~b/s" starts at a random value in [a, a + s) and steps by s up to b.
  def test_tilde_with_a_step_starts_inside_the_first_step
    minutes = GoodCron::Schedule.parse("0~59/15 * * * *").to_cron.split(" ").first.split(",").map { Integer(_1) }
    assert_equal 4, minutes.size, minutes.inspect
    assert_includes 0...15, minutes.first
    assert_equal [15, 15, 15], minutes.each_cons(2).map { |a, b| b - a }
  end

  def test_tilde_in_different_schedules_spreads_the_picks
    picks = (1..40).map { |h| GoodCron::Schedule.parse("0~59 #{h % 24} * * *").to_cron.split(" ").first }
    assert_operator picks.uniq.size, :>=, 10, picks.inspect
  end

  def test_what_fugit_1_14_still_rejects
    {
      "*/0 * * * *" => "step", "1,2,,& * * * *" => "minute", "0 0 1&& * *" => "day-of-month",
      "0 0 * * 1%0" => "%", "5~1~2 * * * *" => "minute",
    }.each do |line, word|
      error = assert_raises(GoodCron::InvalidSchedule, line) { GoodCron::Schedule.parse(line) }
      assert_includes error.message, word, line
    end
  end
end
