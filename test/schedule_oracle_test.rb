# frozen_string_literal: true

# GoodCron::Schedule against fugit 1.14, the fugit GoodJob 4.x users have (GoodJob requires
# fugit >= 1.11; Debian's 1.5.2 is tested in schedule_fugit_test.rb). Every line of
# test/fixtures/fugit-1.14/fugit-1.14.tsv, parsed under TZ=UTC as the oracle was computed: a
# schedule fugit 1.14 reads gives the same three next_at instants after each reference time,
# and the same to_cron as fugit's to_cron_s; one it refuses (INVALID) raises InvalidSchedule.
# All disagreements are reported in one failure, with counts.

require_relative "test_helper"
require "time"
require_relative "support/fugit_oracle"

class ScheduleOracleTest < Minitest::Test
  include ProcessZone

  # [schedule, reference] => why our instants differ from fugit 1.14's there. Only the DST
  # policy (README "Daylight-saving time": a fixed local time in a spring-forward gap runs at
  # the first instant after it; one that occurs twice runs once) may do that. The oracle's
  # reference times avoid DST days, except that a weekly schedule can land on 2027-03-14 (US)
  # or 2027-03-28 (Europe); its zoned weekly schedules run at 09:00 and 22:00 local, outside
  # those gaps, so none is moved and the list is empty. A listed pair that agrees fails the
  # test (stale), so the list stays exact.
  DST_POLICY_EXCEPTIONS = {}.freeze

  ISO = "%FT%TZ"

  def test_fixture_is_whole
    rows = FugitOracle.rows
    schedules = rows.map(&:schedule).uniq
    assert_equal FugitOracle.corpus, schedules, "fugit-1.14.tsv has corpus.txt's schedules, in order"
    rows.group_by(&:schedule).each do |schedule, lines|
      if lines.first.cron.nil?
        assert_equal 1, lines.size, "#{schedule.inspect}: one INVALID line"
      else
        assert_equal 3, lines.map(&:reference).uniq.size, "#{schedule.inspect}: three reference instants"
        assert_equal [lines.first.cron], lines.map(&:cron).uniq, "#{schedule.inspect}: one to_cron_s"
        lines.each { |row| assert_equal 3, row.nexts.size, "line #{row.line}: three next instants" }
      end
    end
    assert_equal [2730, 56], [rows.count(&:cron), rows.count { |row| row.cron.nil? }]
  end

  # The strings as users write them.
  def test_every_schedule_agrees_with_fugit_1_14
    report = compare { |row| row.schedule }
    assert report[:problems].empty?, report[:message]
    puts "\n#{report[:summary]}"
  end

  # fugit's to_cron_s, read back as a cron: the engine alone, apart from the natural-language
  # parser.
  def test_fugit_1_14_cron_text_runs_at_fugits_instants
    report = compare(invalid: false) { |row| row.cron }
    assert report[:problems].empty?, report[:message]
  end

  def test_dst_policy_exceptions_name_oracle_lines
    lines = FugitOracle.rows.filter_map { |row| [row.schedule, row.reference] if row.cron }
    DST_POLICY_EXCEPTIONS.each do |key, reason|
      assert lines.include?(key), "DST_POLICY_EXCEPTIONS: #{key.inspect} is no line of the oracle"
      refute_empty reason.to_s.strip, "DST_POLICY_EXCEPTIONS: #{key.inspect} needs its reason"
    end
  end

  private

  # Compares the text the block gives for each oracle row with fugit 1.14's answers; with
  # invalid: true, the INVALID rows too.
  def compare(invalid: true)
    problems = []
    counts = Hash.new(0)
    to_cron_checked = {}
    with_tz("UTC") do
      parsed = {}
      FugitOracle.rows.each do |row|
        next if row.cron.nil? && !invalid

        text = yield(row)
        ours = (parsed[text] ||= parse(text))
        if row.cron.nil?
          counts[:invalid_total] += 1
          if ours.is_a?(GoodCron::InvalidSchedule)
            counts[:invalid_agree] += 1
          else
            problems << [:accepted, "#{text.inspect} (fugit 1.14: invalid) read as #{describe(ours)}"]
          end
          next
        end

        counts[:total] += 1
        unless ours.is_a?(GoodCron::Schedule)
          kind = ours.is_a?(GoodCron::InvalidSchedule) ? :rejected : :error
          problems << [kind, "#{text.inspect} (fugit 1.14: #{row.cron}): #{describe(ours)}"]
          next
        end

        unless to_cron_checked[text]
          to_cron_checked[text] = true
          counts[:to_cron_total] += 1
          if ours.to_cron == row.cron
            counts[:to_cron_agree] += 1
          else
            problems << [:to_cron, "#{text.inspect}: fugit 1.14 to_cron_s #{row.cron.inspect}, our to_cron #{ours.to_cron.inspect}"]
          end
        end

        got = next_three(ours, row.reference)
        key = [row.schedule, row.reference]
        excepted = DST_POLICY_EXCEPTIONS.key?(key)
        if got == row.nexts
          counts[:agree] += 1
          problems << [:stale, "#{key.inspect} is in DST_POLICY_EXCEPTIONS but agrees: remove it"] if excepted
        elsif excepted
          counts[:excepted] += 1
        else
          problems << [:diff, "#{text.inspect} after #{row.reference}: fugit 1.14 #{row.cron} -> #{row.nexts.join(' ')}; " \
                              "ours #{ours.to_cron} -> #{got.join(' ')}"]
        end
      end
    end
    summary = format("fugit 1.14 oracle: agree=%d/%d invalid_agree=%d/%d to_cron_agree=%d/%d dst_policy_exceptions=%d",
                     counts[:agree], counts[:total], counts[:invalid_agree], counts[:invalid_total],
                     counts[:to_cron_agree], counts[:to_cron_total], counts[:excepted])
    by_kind = problems.group_by(&:first)
    message = "#{summary}\n#{problems.size} disagreements (#{by_kind.map { |kind, list| "#{kind}=#{list.size}" }.join(' ')})" +
              by_kind.map { |kind, list| "\n--- #{kind} (#{list.size}):\n#{list.map(&:last).join("\n")}" }.join
    { problems: problems, summary: summary, message: message }
  end

  def parse(text)
    GoodCron::Schedule.parse(text)
  rescue StandardError => e
    e
  end

  def next_three(schedule, reference)
    t = Time.iso8601(reference)
    out = []
    3.times do
      t = schedule.next_at(t) or break
      out << t.getutc.strftime(ISO)
    end
    out
  end

  def describe(outcome)
    outcome.is_a?(GoodCron::Schedule) ? outcome.to_cron.inspect : "#{outcome.class}: #{outcome.message}"
  end
end
