# frozen_string_literal: true

# Differential test: GoodCron::Schedule against fugit 1.5.2 (Debian's ruby-fugit), kept only
# for the readings 1.5.2 shares with fugit 1.14 (GoodJob 4.x users have fugit >= 1.11; the
# 1.14 oracle test is schedule_oracle_test.rb): it adds many zones, reference instants and
# previous_at to what the oracle covers. Same schedule, same zone, same reference
# instant: the chains of next_at / previous_at must be identical, except where a step touches
# a DST transition day of the evaluation zone (our DST policy differs from fugit on purpose;
# schedule_dst_test.rb pins it down with literal instants).
#
# fugit is slow (0.05 to 30 ms per next_time), so its chains are computed in forked workers
# (GOOD_CRON_FUGIT_WORKERS, default 2). Each (schedule, zone) pair takes its reference instants
# in a fixed pseudo-random order: every pair gets its first MIN_REFS instants (up to
# MAX_REFS_UNTIL_COMPARABLE while all its steps so far touch a DST day), then the pairs get one
# more each in turns, cheapest first, until the budget is spent.
# GOOD_CRON_FUGIT_SECONDS (default 25) is the wall-clock budget of that phase; raise it for a
# deeper run. The counts are printed and asserted. fugit's answers are kept for the next run
# in tmp/fugit_cache (test/support/fugit_cache.rb), as long as nothing they depend on changes.

require_relative "test_helper"
require "fugit"
require "set"
require "zlib"
require_relative "support/fugit_corpus"
require_relative "support/fugit_oracle"
require_relative "support/fugit_cache"

class ScheduleFugitTest < Minitest::Test
  NEXT_CHAIN = 6
  PREVIOUS_CHAIN = 3
  MIN_REFS = 1
  MAX_REFS_UNTIL_COMPARABLE = 6
  BUDGET = Float(ENV.fetch("GOOD_CRON_FUGIT_SECONDS", "25"))
  WORKERS = Integer(ENV.fetch("GOOD_CRON_FUGIT_WORKERS", "2"))

  # A (schedule, process zone) pair. Schedules with a zone suffix run with
  # ENV["TZ"] = FugitCorpus::PROCESS_ZONE_FOR_SUFFIXED (the suffix must win).
  Pair = Struct.new(:schedule, :process_zone, :group)

  class << self
    def pairs(list, group)
      list.each_with_index.flat_map do |s, i|
        fugit = Fugit.parse(s)
        if fugit.timezone
          [Pair.new(s, FugitCorpus::PROCESS_ZONE_FOR_SUFFIXED, group)]
        else
          dst = FugitCorpus::DST_ZONES
          steady = FugitCorpus::STEADY_ZONES
          [Pair.new(s, dst[i % dst.size], group), Pair.new(s, steady[(i * 7 + 3) % steady.size], group)]
        end
      end
    end

    # The fugit side, computed once for the whole class (workers forked from here), or read
    # from FugitCache.
    def fugit_results
      @fugit_results ||= FugitCache.fetch("main", BUDGET, WORKERS) do
        FugitRunner.new(pairs(FugitCorpus::ALL, :main), BUDGET).run
      end
    end

    def quirk_results
      @quirk_results ||= FugitCache.fetch("quirks", WORKERS) do
        FugitRunner.new(pairs(FugitCorpus::QUIRKS, :quirk), 3.0, min_refs: 3).run
      end
    end
  end

  # --- the zone facts used by both sides ---------------------------------------------------

  module Zones
    module_function


    def tzinfo(name)
      (@tzinfo ||= {})[name] ||= EtOrbi.get_tzone(name) || raise("no zone #{name}")
    end

    def offset_at(zone, i)
      zone.period_for_utc(Time.at(i).utc).utc_total_offset
    end

    # Local day number (days since 1970-01-01 on the zone's calendar) of instant i.
    def local_day(zone, i)
      (i + offset_at(zone, i)).div(86_400)
    end

    # Sorted local day numbers whose UTC offset at their start differs from the one at their
    # end: the local days on both sides of every offset change, and any local day skipped.
    def transition_days(zone)
      (@transition_days ||= {})[zone.identifier] ||= begin
        days = []
        zone.transitions_up_to(Time.utc(2200, 1, 1), Time.utc(1900, 1, 1)).each do |tr|
          before = tr.previous_offset.utc_total_offset
          after = tr.offset.utc_total_offset
          next if before == after
          at = tr.at.to_i
          first = (at - 1 + before).div(86_400)
          last = (at + after).div(86_400)
          days.concat((([first, last].min)..([first, last].max)).to_a)
        end
        days.uniq.sort
      end
    end

    def month_bounds(day)
      d = Time.at(day * 86_400).utc
      first = Time.utc(d.year, d.month, 1).to_i.div(86_400)
      nxt = d.month == 12 ? Time.utc(d.year + 1, 1, 1) : Time.utc(d.year, d.month + 1, 1)
      [first, nxt.to_i.div(86_400) - 1]
    end

    # Does the span of local days from..answers touch a transition day? With whole_months,
    # the span is widened to whole calendar months: fugit evaluates L, negative days, `#` and
    # `%` by walking the month in elapsed seconds, so a DST change anywhere in the month can
    # move its answer to another (non-transition) day.
    def touches_transition?(zone, instants, whole_months)
      days = instants.compact.map { |i| local_day(zone, i) }
      lo, hi = days.minmax
      if whole_months
        lo = month_bounds(lo)[0]
        hi = month_bounds(hi)[1]
      end
      list = transition_days(zone)
      k = list.bsearch_index { |d| d >= lo }
      !k.nil? && list[k] <= hi
    end
  end

  # --- the fugit side --------------------------------------------------------------------

  class FugitRunner
    def initialize(pairs, budget, min_refs: MIN_REFS)
      @pairs = pairs
      @budget = budget
      @min_refs = min_refs
    end

    # => { [schedule, process_zone] => [[ref_float, :next|:previous, [ints] | "error"], ...] }
    def run
      workers = Process.respond_to?(:fork) ? [WORKERS, 1].max : 1
      return work(@pairs, @budget) if workers == 1

      # Both pairs of a schedule go to the same worker; schedules are dealt in turn.
      index = @pairs.map(&:schedule).uniq.each_with_index.to_h
      slices = Array.new(workers) { |w| @pairs.select { |pr| index[pr.schedule] % workers == w } }
      readers = slices.map do |slice|
        reader, writer = IO.pipe
        pid = fork do
          reader.close
          writer.binmode
          writer.write(Marshal.dump(work(slice, @budget)))
          writer.close
          exit!(0)
        end
        writer.close
        [pid, reader]
      end
      readers.each_with_object({}) do |(pid, reader), all|
        reader.binmode
        data = reader.read
        reader.close
        Process.wait(pid)
        raise "fugit worker #{pid} failed (#{$?.inspect})" unless $?.success? && !data.empty?

        all.merge!(Marshal.load(data))
      end
    end

    private

    # Every pair first gets its first @min_refs reference instants, or up to
    # MAX_REFS_UNTIL_COMPARABLE while all its chains so far touch a DST day (yearly schedules
    # in DST zones, ...). Then, while the budget lasts, the pairs get one more instant each in
    # turns, cheapest pairs first.
    def work(pairs, budget)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + budget
      jobs = pairs.map do |pair|
        ProcessZone.with_tz(pair.process_zone) do
          cron = Fugit.parse(pair.schedule)
          refs = FugitRunner.references(cron.timezone || Zones.tzinfo(pair.process_zone), pair)
          { pair: pair, cron: cron, refs: refs, done: 0, rows: [], cost: 0.0 }
        end
      end
      jobs.each do |job|
        run_ref(job) while job[:done] < job[:refs].size &&
                           (job[:done] < @min_refs || (job[:done] < MAX_REFS_UNTIL_COMPARABLE && !comparable?(job)))
      end
      loop do
        todo = jobs.select { |j| j[:done] < j[:refs].size }.sort_by { |j| [j[:done], j[:cost]] }
        break if todo.empty? || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        level = todo.first[:done]
        todo.take_while { |j| j[:done] == level }.each do |job|
          break if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

          run_ref(job)
        end
      end
      jobs.to_h { |j| [[j[:pair].schedule, j[:pair].process_zone], j[:rows]] }
    end

    # Does some step of the pair's fugit chains stay clear of DST days?
    def comparable?(job)
      zone = job[:cron].timezone || Zones.tzinfo(job[:pair].process_zone)
      whole_months = ScheduleFugitTest.month_walker?(job[:cron])
      job[:rows].any? do |ref, _, chain|
        chain.is_a?(Array) && !Zones.touches_transition?(zone, [ref.floor, chain.first], whole_months)
      end
    end

    def run_ref(job)
      ref = job[:refs][job[:done]]
      job[:done] += 1
      ProcessZone.with_tz(job[:pair].process_zone) do
        t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        job[:rows] << [ref, :next, chain(job[:cron], ref, :next_time, NEXT_CHAIN)]
        job[:rows] << [ref, :previous, chain(job[:cron], ref, :previous_time, PREVIOUS_CHAIN)]
        job[:cost] = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
      end
    end

    def chain(cron, ref, meth, length)
      t = Time.at(ref.to_r).utc
      Array.new(length) do
        t = cron.public_send(meth, t)
        t.to_i
      end
    rescue TZInfo::AmbiguousTime, TZInfo::PeriodNotFound
      :dst_day # fugit 1.5.2 fails at a transition at midnight (America/Havana): a DST day
    rescue StandardError => e
      "#{e.class}: #{e.message.lines.first&.strip}"
    end

    # The reference instants for a pair, as Rationals of epoch seconds, in a fixed order
    # that depends on the pair (so that the pairs cover different instants first).
    def self.references(zone, pair)
      utc = FugitCorpus::UTC_INSTANTS.map { |a| Time.utc(*a).to_r }
      local = FugitCorpus::LOCAL_INSTANTS.filter_map do |y, mo, d, h, mi, s, frac|
        wall = Time.utc(y, mo, d, h, mi, s)
        begin
          zone.local_to_utc(wall).to_r + frac.to_r
        rescue TZInfo::PeriodNotFound, TZInfo::AmbiguousTime
          nil
        end
      end
      (utc + local).uniq.shuffle(random: Random.new(Zlib.crc32("#{pair.schedule}|#{pair.process_zone}")))
    end
  end

  # --- our side and the comparison -------------------------------------------------------

  Outcome = Struct.new(:schedules, :pairs, :comparisons, :skipped_dst, :skipped_fugit_error,
                       :compared_schedules, :failures)

  def compare(results, list)
    out = Outcome.new(Set.new, 0, 0, 0, 0, Set.new, [])
    results.each do |(schedule, process_zone), rows|
      out.schedules << schedule
      out.pairs += 1
      ProcessZone.with_tz(process_zone) do
        fugit = Fugit.parse(schedule)
        begin
          ours = GoodCron::Schedule.parse(schedule)
        rescue StandardError => e
          out.failures << "#{schedule.inspect} [TZ=#{process_zone}] does not parse: #{e.class}: #{e.message}"
          next
        end
        zone = fugit.timezone || Zones.tzinfo(process_zone)
        whole_months = self.class.month_walker?(fugit)
        rows.each do |ref, dir, theirs|
          if theirs == :dst_day
            out.skipped_dst += 1
            next
          end
          if theirs.is_a?(String)
            out.skipped_fugit_error += 1
            next
          end
          mine = our_chain(ours, ref, dir == :next ? :next_at : :previous_at, theirs.size)
          from = ref
          theirs.each_with_index do |t, k|
            m = mine[k]
            if Zones.touches_transition?(zone, [from.floor, t, m.is_a?(Integer) ? m : nil], whole_months)
              out.skipped_dst += 1
              break
            end
            if m != t
              out.failures << failure(schedule, process_zone, fugit, dir, from, t, m)
              break
            end
            out.comparisons += 1
            out.compared_schedules << schedule
            from = t
          end
        end
      end
    end
    assert_equal list.size, out.schedules.size, "every corpus entry was evaluated"
    out
  end

  def self.month_walker?(fugit)
    (fugit.monthdays || []).any?(&:negative?) || (fugit.weekdays || []).any? { |_, h| h }
  end

  def our_chain(ours, ref, meth, length)
    t = Time.at(ref)
    Array.new(length) do
      t = ours.public_send(meth, t)
      break [t.inspect] unless t.is_a?(Time)
      break ["#{t.inspect} (not whole seconds)"] unless t.subsec.zero?

      t.to_i
    end
  rescue StandardError => e
    ["#{e.class}: #{e.message}"]
  end

  def failure(schedule, process_zone, fugit, dir, from, theirs, mine)
    zone = fugit.timezone ? fugit.timezone.name : "TZ=#{process_zone}"
    tz = fugit.timezone || Zones.tzinfo(process_zone)
    fmt = lambda do |i|
      next i.inspect unless i.is_a?(Integer)

      "#{tz.to_local(Time.at(i)).strftime('%F %T %z')} (#{Time.at(i).utc.strftime('%FT%TZ')})"
    end
    from_s = Time.at(from).utc.strftime("%FT%T.%LZ")
    "#{schedule.inspect} [#{zone}] #{dir == :next ? 'next_at' : 'previous_at'}(#{from_s}): fugit #{fmt.(theirs)}, ours #{fmt.(mine)}"
  end

  def report(name, out, seconds)
    msg = format("%s: %d schedules, %d (schedule, zone) pairs, %d comparisons, %d skipped (DST day), " \
                 "%d skipped (fugit error), %d schedules compared at least once, %d failures, %.1fs",
                 name, out.schedules.size, out.pairs, out.comparisons, out.skipped_dst,
                 out.skipped_fugit_error, out.compared_schedules.size, out.failures.size, seconds)
    puts "\n#{msg}"
    uncompared = out.schedules - out.compared_schedules
    puts "  never compared (every step touched a DST day): #{uncompared.to_a.inspect}" if uncompared.any? && uncompared.size <= 30
    msg
  end

  # --- tests -----------------------------------------------------------------------------

  def test_corpus_is_fugit_cron
    entries = FugitCorpus::ALL + FugitCorpus::QUIRKS
    assert_operator FugitCorpus::ALL.size, :>=, 300
    assert_equal entries.size, entries.uniq.size, "no duplicates"
    entries.each do |s|
      assert_kind_of Fugit::Cron, Fugit.parse(s), "fugit 1.5.2 reads #{s.inspect} as a cron"
      refute_match(/\A\s|\s\z/, s)
    end
    FugitCorpus::ALL.each do |s|
      c = Fugit.parse(s)
      hashed = (c.weekdays || []).select { |_, h| h }.map(&:first)
      assert_equal hashed.uniq.size, hashed.size, "#{s}: one # entry per weekday (intentional difference)"
    end
  end

  def test_next_at_and_previous_at_agree_with_fugit
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    results = self.class.fugit_results
    t1 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    out = compare(results, FugitCorpus::ALL)
    t2 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    msg = report("fugit differential", out, t2 - t0)
    puts format("  (fugit side %.1fs in %d workers, our side and comparison %.1fs)", t1 - t0, WORKERS, t2 - t1)
    assert out.failures.empty?, "#{msg}\n#{out.failures.first(60).join("\n")}"
    assert_operator out.schedules.size, :>=, 300, msg
    # At least the first reference instant of every pair, nearly whole chains: not vacuous.
    assert_operator out.comparisons, :>=, 6 * out.pairs, msg
    assert_equal out.schedules.size, out.compared_schedules.size, msg
    assert_equal 0, out.skipped_fugit_error, msg
  end

  # Every natural-language entry and quirk the fugit 1.14 oracle has reads there as fugit 1.5.2
  # reads it: the corpus keeps only what the two share.
  def test_corpus_reads_as_fugit_1_14_does
    checked = 0
    mismatches = []
    ProcessZone.with_tz("UTC") do
      (FugitCorpus::NAT + FugitCorpus::QUIRKS).each do |s|
        next unless FugitOracle.to_cron_s.key?(s)

        checked += 1
        old = Fugit.parse(s)&.to_cron_s
        new = FugitOracle.to_cron_s[s] || "INVALID"
        mismatches << "#{s.inspect}: fugit 1.5.2 #{old.inspect}, fugit 1.14 #{new.inspect}" unless old == new
      end
    end
    assert mismatches.empty?, "read otherwise by fugit 1.14 (move them out):\n#{mismatches.join("\n")}"
    assert_operator checked, :>=, 50, "entries found in the oracle"
  end

  # fugit's surprising readings that 1.14 keeps (see FugitCorpus::QUIRKS): we follow them.
  def test_fugit_quirks_agree
    results = self.class.quirk_results
    out = compare(results, FugitCorpus::QUIRKS)
    msg = report("fugit quirks", out, 0)
    assert_operator out.comparisons, :>=, 100, msg
    assert out.failures.empty?, "#{msg}\n#{out.failures.first(60).join("\n")}"
  end

  # to_cron is fugit's to_cron_s: same normalization, same zone text. Except for `%`, which
  # fugit writes as "1#2#0" (not a cron it can read back); there we write "1%2".
  def test_to_cron_matches_fugit
    mismatches = []
    compared = 0
    (FugitCorpus::ALL + FugitCorpus::QUIRKS).each do |s|
      ProcessZone.with_tz("UTC") do
        fugit = Fugit.parse(s)
        next if (fugit.weekdays || []).any? { |_, h| h.is_a?(Array) }

        compared += 1
        theirs = fugit.to_cron_s
        mine = begin
          GoodCron::Schedule.parse(s).to_cron
        rescue StandardError => e
          "#{e.class}: #{e.message}"
        end
        mismatches << "#{s.inspect}: fugit #{theirs.inspect}, ours #{mine.inspect}" unless mine == theirs
      end
    end
    assert mismatches.empty?, "#{mismatches.size} differences:\n#{mismatches.join("\n")}"
    assert_operator compared, :>=, 400
  end

  # to_cron reads back as the same schedule (same text, same zone, same runs).
  def test_to_cron_reads_back
    from = Time.utc(2024, 2, 28, 12, 0, 0)
    problems = []
    (FugitCorpus::ALL + FugitCorpus::QUIRKS).each do |s|
      ProcessZone.with_tz("Europe/Paris") do
        first = GoodCron::Schedule.parse(s)
        again = GoodCron::Schedule.parse(first.to_cron)
        same = again.to_cron == first.to_cron && again.time_zone == first.time_zone &&
               again.upcoming(5, from) == first.upcoming(5, from)
        problems << "#{s.inspect} -> #{first.to_cron.inspect} -> #{again.to_cron.inspect} (#{again.time_zone})" unless same
      rescue StandardError => e
        problems << "#{s.inspect}: #{e.class}: #{e.message}"
      end
    end
    assert problems.empty?, problems.join("\n")
  end

  # The zone each schedule is evaluated in: its suffix, else ENV["TZ"] when it was parsed.
  def test_time_zone_is_suffix_else_process_zone
    FugitCorpus::ALL.each do |s|
      ProcessZone.with_tz("Asia/Kathmandu") do
        fugit = Fugit.parse(s)
        expected = fugit.timezone ? fugit.zone : "Asia/Kathmandu"
        assert_equal expected, GoodCron::Schedule.parse(s).time_zone, s
      end
    end
  end
end
