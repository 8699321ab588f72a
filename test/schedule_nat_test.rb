# frozen_string_literal: true

# Natural-language schedules read as fugit 1.14 reads them (issue 10): am/pm, noon, midnight,
# word numbers, zones after every kind of time, and every string the issue names, each with
# its cron written out. Where the fugit 1.14 oracle (test/fixtures/fugit-1.14/) has the
# string, the expected cron is its to_cron_s, and a test checks that; the others are marked
# and reasoned from fugit's grammar.

require_relative "test_helper"
require "time"
require_relative "support/fugit_oracle"

class ScheduleNatTest < Minitest::Test
  include ProcessZone

  SECONDS_FROM_10 = (10..59).to_a.join(",")

  # [schedule, expected to_cron]. "(not in the oracle)" marks those reasoned, not looked up.
  TABLE = [
    # am/pm after a number: 12am is midnight, 12pm noon; pm adds 12 to 1..11, with or
    # without minutes, a space or capitals.
    ["every day at 12am", "0 0 * * *"],
    ["every day at 12:00am", "0 0 * * *"],
    ["every day at 12:03am", "3 0 * * *"], # (not in the oracle)
    ["every day at 12 am", "0 0 * * *"],
    ["every day at 12:00 am", "0 0 * * *"],
    ["every day at 12:15 AM", "15 0 * * *"],
    ["every day at 12:30am", "30 0 * * *"],
    ["every day at 12pm", "0 12 * * *"],
    ["every day at 10:00pm", "0 22 * * *"],
    ["every day at 10:00 pm", "0 22 * * *"],
    ["every day at 11:00pm", "0 23 * * *"], # (not in the oracle)
    ["every day at 11:45pm", "45 23 * * *"],
    ["every day at 11:59pm", "59 23 * * *"],
    ["every day at 5:30pm", "30 17 * * *"],
    ["every day at 1:15pm", "15 13 * * *"],
    ["every day at 5:00pm", "0 17 * * *"],
    ["every day at 6PM", "0 18 * * *"],
    ["every weekday at 10:00pm", "0 22 * * 1,2,3,4,5"],
    ["every friday at 4:45pm", "45 16 * * 5"], # (not in the oracle; fugit 1.5.2: 45 4)
    ["at 11:45pm every day", "45 23 * * *"],
    ["at 10:00pm every day", "0 22 * * *"],
    # noon and midnight, also after 12:MM
    ["every day at noon", "0 12 * * *"],
    ["every day at midnight", "0 0 * * *"],
    ["at 12 midnight", "0 0 * * *"],
    ["every day at 12:15 noon", "15 12 * * *"],
    ["every day at 12:00 midnight", "0 0 * * *"],
    ["every day at 12:15 midnight", "15 0 * * *"],
    # word numbers: hours, and "dark" with word minutes
    ["every day at five", "0 5 * * *"],
    ["every day at seven", "0 7 * * *"],
    ["every day at twelve", "0 12 * * *"],
    ["every day at twelve am", "0 0 * * *"], # (not in the oracle; fugit 1.5.2: 0 12)
    ["every day at oh dark forty", "40 0 * * *"],
    ["every day at zero dark forty", "40 0 * * *"],
    ["every day at one dark fifty", "50 1 * * *"],
    # a zone after every kind of time: word, 24-hour, am/pm; bare, "in", "on", UTC
    ["every day at noon America/Chicago", "0 12 * * * America/Chicago"],
    ["every day at midnight America/Los_Angeles", "0 0 * * * America/Los_Angeles"],
    ["every day at five America/Chicago", "0 5 * * * America/Chicago"],
    ["every day at twelve America/Chicago", "0 12 * * * America/Chicago"],
    ["every day at 17:30 America/Chicago", "30 17 * * * America/Chicago"],
    ["every day at 12am America/Chicago", "0 0 * * * America/Chicago"],
    ["every day at 11:45 PM America/Chicago", "45 23 * * * America/Chicago"],
    ["every day at 10:00pm America/New_York", "0 22 * * * America/New_York"],
    ["every day at noon in Asia/Tokyo", "0 12 * * * Asia/Tokyo"], # (not in the oracle)
    ["every day at 10:00pm in Asia/Tokyo", "0 22 * * * Asia/Tokyo"],
    ["every day at 5 pm in Etc/GMT+5", "0 17 * * * Etc/GMT+5"],
    ["every day at noon on Europe/London", "0 12 * * * Europe/London"], # (not in the oracle)
    ["every day at 10:00pm on Europe/London", "0 22 * * * Europe/London"],
    ["every day at 10:00pm UTC", "0 22 * * * UTC"],
    ["every monday at 10:00pm Europe/Berlin", "0 22 * * 1 Europe/Berlin"],
    ["@daily America/New_York", "0 0 * * * America/New_York"],
    # "starting at" / "from": a start within the field, then every step to its end
    ["every 15 minutes starting at minute 1", "1,16,31,46 * * * *"],
    ["every 5 days starting at day 3", "0 0 3,8,13,18,23,28 * *"],
    ["every hour starting at hour 8", "0 8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 * * *"],
    ["every month starting at month 6", "0 0 1 6,7,8,9,10,11,12 *"],
    ["every second from second 10", "#{SECONDS_FROM_10} * * * * *"],
    ["every second starting at second 10", "#{SECONDS_FROM_10} * * * * *"],
    # days of the month
    ["every month on the 1st and last at 12:00 pm", "0 12 -1,1 * *"],
    ["every month on the 1st and the last at 12:00 pm", "0 12 -1,1 * *"],
    ["every 1st and 15th of the month", "0 0 1 * *"], # (not in the oracle) fugit keeps the first day: its rewrite_every reads one object
  ].freeze

  # [schedule, reference, next three runs], all UTC: the zone's wall time, whatever TZ is.
  RUNS = [
    # 22:00 EST is 03:00Z the next day; 22:00 EDT 02:00Z.
    ["every day at 10:00pm America/New_York", "2026-01-15T10:17:23Z",
     %w[2026-01-16T03:00:00Z 2026-01-17T03:00:00Z 2026-01-18T03:00:00Z]],
    ["every day at 10:00pm America/New_York", "2026-06-30T23:59:30Z",
     %w[2026-07-01T02:00:00Z 2026-07-02T02:00:00Z 2026-07-03T02:00:00Z]],
    # midnight CDT is 05:00Z; noon CST 18:00Z
    ["every day at 12am America/Chicago", "2026-06-30T23:59:30Z",
     %w[2026-07-01T05:00:00Z 2026-07-02T05:00:00Z 2026-07-03T05:00:00Z]],
    ["every day at noon America/Chicago", "2026-01-15T10:17:23Z",
     %w[2026-01-15T18:00:00Z 2026-01-16T18:00:00Z 2026-01-17T18:00:00Z]],
    ["every day at 11:45 PM America/Chicago", "2026-01-15T10:17:23Z",
     %w[2026-01-16T05:45:00Z 2026-01-17T05:45:00Z 2026-01-18T05:45:00Z]],
    # 22:00 JST is 13:00Z the same day
    ["every day at 10:00pm in Asia/Tokyo", "2026-01-15T10:17:23Z",
     %w[2026-01-15T13:00:00Z 2026-01-16T13:00:00Z 2026-01-17T13:00:00Z]],
    # 22:00 BST is 21:00Z
    ["every day at 10:00pm on Europe/London", "2026-06-30T23:59:30Z",
     %w[2026-07-01T21:00:00Z 2026-07-02T21:00:00Z 2026-07-03T21:00:00Z]],
    # midnight EDT is 04:00Z
    ["@daily America/New_York", "2026-06-30T23:59:30Z",
     %w[2026-07-01T04:00:00Z 2026-07-02T04:00:00Z 2026-07-03T04:00:00Z]],
  ].freeze

  # Zones where none of the RUNS schedules is: a schedule's own zone must win over TZ.
  PROCESS_ZONES = ["UTC", "Pacific/Kiritimati", "America/Anchorage"].freeze

  def test_table_is_large_and_distinct
    assert_operator TABLE.size, :>=, 40
    assert_equal TABLE.size, TABLE.map(&:first).uniq.size
  end

  # Where the oracle has the string, the table says what fugit 1.14 says; most of it is there.
  def test_table_agrees_with_the_oracle
    in_oracle = TABLE.select { |s, _| FugitOracle.to_cron_s.key?(s) }
    mismatches = in_oracle.reject { |s, cron| FugitOracle.to_cron_s[s] == cron }
                          .map { |s, cron| "#{s.inspect}: table #{cron.inspect}, oracle #{FugitOracle.to_cron_s[s].inspect}" }
    assert mismatches.empty?, mismatches.join("\n")
    assert_operator in_oracle.size, :>=, 50, "table entries found in the oracle"
  end

  def test_each_reads_as_its_cron
    problems = TABLE.filter_map do |schedule, expected|
      got = begin
        GoodCron::Schedule.parse(schedule).to_cron
      rescue StandardError => e
        "#{e.class}: #{e.message}"
      end
      "#{schedule.inspect}: expected #{expected.inspect}, got #{got.inspect}" unless got == expected
    end
    assert problems.empty?, "#{problems.size} of #{TABLE.size} read otherwise:\n#{problems.join("\n")}"
  end

  def test_runs_at_the_wall_time_of_its_zone
    problems = []
    PROCESS_ZONES.each do |process_zone|
      with_tz(process_zone) do
        RUNS.each do |schedule, reference, expected|
          got = begin
            s = GoodCron::Schedule.parse(schedule)
            t = Time.iso8601(reference)
            Array.new(3) { (t = s.next_at(t)).getutc.strftime("%FT%TZ") }
          rescue StandardError => e
            "#{e.class}: #{e.message}"
          end
          problems << "#{schedule.inspect} after #{reference} [TZ=#{process_zone}]: expected #{expected}, got #{got}" unless got == expected
        end
      end
    end
    assert problems.empty?, problems.join("\n")
  end
end
