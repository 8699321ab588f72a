# frozen_string_literal: true

# Malformed schedules: each raises GoodCron::InvalidSchedule (an ArgumentError) whose message
# quotes the input (cut short for huge input) and says what is wrong and where. None crashes
# the process or hangs: the table is timed, and a few thousand random strings are parsed (and
# evaluated when they parse) in a child process that must exit cleanly.

require_relative "test_helper"
require "open3"
require "rbconfig"

class ScheduleInvalidTest < Minitest::Test
  HUGE_A = "a" * 10_240
  HUGE_ZONE = "0 9 * * * #{'A' * 10_240}"
  # Just under the length limit (LONG_A is over natural language's own, 256).
  LONG_A = "a" * 1_000
  LONG_ZONE = "0 9 * * * #{'A' * 990}"
  # Over the limit (1,024 bytes, fugit's): refused by its length, whatever it says.
  OVER_NAT = "every day at noon#{' UTC' * 252}"
  OVER_WIDE = "é" * 513

  # [input, fragments the message must contain (String or Regexp)]
  CASES = [
    # empty, whitespace, field counts
    ["", ["empty"]],
    ["   ", ["empty"]],
    ["\t \t", ["empty"]],
    ["*", ["5 fields", "found 1"]],
    ["* * * *", ["5 fields", "found 4"]],
    ["* * * * * * * *", ["5 fields", "found 8"]],
    # out of range, in each field
    ["60 * * * *", ["minute", "60", "0-59"]],
    ["-5 * * * *", ["minute", "-5"]],
    ["5-60 * * * *", ["minute", "60"]],
    ["* 25 * * *", ["hour", "25", "0-23"]],
    ["* * 32 * *", ["day-of-month", "32"]],
    ["* * 0 * *", ["day-of-month", "0"]],
    ["* * * 13 *", ["month", "13", "1-12"]],
    ["* * * 0 *", ["month", "0"]],
    ["* * * * 8", ["day-of-week", "8", "0-7"]],
    ["61 * * * * *", ["second", "61", "0-59"]],
    # bad names and tokens
    ["0 9 * * funday", ["day-of-week", "funday"]],
    ["0 9 * foo *", ["month", "foo"]],
    ["0 9 * * mon-xyz", ["day-of-week", "xyz"]],
    ["? * * * *", ["minute", "?"]],
    ["1-2-3 * * * *", ["minute", "1-2-3"]],
    [",, * * * *", ["minute", "missing"]],
    ["1& * * * *", ["minute", "1&"]],
    ["5- * * * *", ["minute", "missing"]],
    # steps and ranges
    ["*/0 * * * *", ["minute", "step of 0"]],
    ["0 */0 * * *", ["hour", "step of 0"]],
    ["*/5/2 * * * *", ["minute", "step"]],
    ["0 0 1&& * *", ["day-of-month", "1&"]],
    ["0 0 -1-5 * *", ["day-of-month", "-1-5", "from the end"]],
    ["0 0 L-3 * *", ["day-of-month", "L-3", "from the end"]],
    # nth weekday and modulo
    ["0 9 * * mon#6", ["day-of-week", "#6"]],
    ["0 9 * * mon#0", ["day-of-week", "#0"]],
    ["0 9 * * 1#2#3", ["day-of-week", "#2#3"]],
    ["0 9 * * 1%0", ["day-of-week", "%0"]],
    # zones
    ["0 9 * * * Mars/Olympus", ["time zone", "Mars/Olympus"]],
    ["0 9 * * * america/new_york", ["time zone", "america/new_york", "zone names are case-sensitive: America/New_York"]],
    ["0 9 * * * +25:00", ["time zone", "+25:00"]],
    ["@daily Mars/Olympus", ["time zone", "Mars/Olympus"]],
    ["every day at 5pm on Mars/Olympus", ["time zone", "Mars/Olympus"]],
    # natural language: the same case hint as cron, bare or after in/on
    ["every day at 5pm america/new_york", ["time zone", "america/new_york", "zone names are case-sensitive: America/New_York"]],
    ["every day at noon in europe/london", ["time zone", "europe/london", "zone names are case-sensitive: Europe/London"]],
    # never fires
    ["0 0 30 2 *", ["never", "February", "30"]],
    ["0 0 31 2 *", ["never", "February", "31"]],
    ["0 0 31 4,6,9,11 *", ["never", "31"]],
    # aliases
    ["@reboot", ["@reboot", "alias"]],
    ["@every 5m", ["@every", "alias"]],
    # natural language
    ["every blue moon", ["blue moon"]],
    ["every 5 parsecs", ["parsecs"]],
    ["every", ["every"]],
    ["every day at", ["at"]],
    ["every day at 25:00", ["5:00"]],
    ["every 0 minutes", ["step of 0"]],
    ["every day at 5pm and 6:30pm", [/several|multiple|more than one|\d+ cron lines/i]],
    ["every day at ten oh five", [/several|multiple|more than one|\d+ cron lines/i]],
    # misspelled words: the word, and the nearest one the grammar knows
    ["every 5 minuts", ['unknown word "minuts" (did you mean "minutes"?)']],
    ["every 5 secnds", ['unknown word "secnds" (did you mean "seconds"?)']],
    ["every 2 hourss", ['unknown word "hourss" (did you mean "hours"?)']],
    ["every tusday at 5pm", ['unknown word "tusday" (did you mean "tuesday"?)']],
    ["every wensday at 9am", ['unknown word "wensday" (did you mean "wednesday"?)']],
    ["every day at noom", ['unknown word "noom" (did you mean "noon"?)']],
    ["evry day", ['unknown word "evry" (did you mean "every"?)']],
    ["every day at 5pm\nevery day at 6pm", ["control character", "\\n"]],
    # huge numbers, unicode, control characters, huge input
    ["99999999999999999999 * * * *", ["minute", "99999999999999999999"]],
    ["0 99999999999 * * *", ["hour", "99999999999"]],
    ["*/99999999999999999999 * * * *", ["minute", "step"]],
    ["０ ９ * * *", ["minute", "０"]],
    ["0 9 * * * 🕐", ["🕐"]],
    ["0 9\0 * * *", ["control character", /\\0|\\u0000/]],
    ["\0", ["control character"]],
    [HUGE_A, ["10240 bytes long", "at most 1024"]],
    [HUGE_ZONE, ["10250 bytes long", "at most 1024"]],
    [OVER_NAT, ["1025 bytes long", "at most 1024"]],
    [OVER_WIDE, ["1026 bytes long", "at most 1024"]],
    [LONG_A, ["1000 characters long", "natural language has at most 256"]],
    [LONG_A[0, 200], ["unknown word", "at character 1"]],
    [LONG_ZONE, ["time zone"]],
    ["\xFF\xFE 9 * * *".b.force_encoding(Encoding::UTF_8), ["UTF-8"]],
  ].freeze

  SHOWN = 200 # a message for huge input stays readable

  def test_table_is_large_enough
    assert_operator CASES.size, :>=, 40
    assert_equal CASES.size, CASES.map(&:first).uniq.size
  end

  def test_each_malformed_schedule_is_rejected_with_a_useful_message
    problems = []
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    CASES.each do |input, fragments|
      error = begin
        GoodCron::Schedule.parse(input)
        nil
      rescue StandardError => e
        e
      end
      label = input.size > 60 ? "#{input[0, 40].inspect}… (#{input.bytesize} bytes)" : input.inspect
      unless error.is_a?(GoodCron::InvalidSchedule)
        problems << "#{label}: expected GoodCron::InvalidSchedule, got #{error ? "#{error.class}: #{error.message[0, 200]}" : 'a schedule'}"
        next
      end
      message = error.message
      problems << "#{label}: InvalidSchedule must be an ArgumentError" unless error.is_a?(ArgumentError)
      problems << "#{label}: message does not quote the input: #{message[0, 300]}" unless quotes_input?(message, input)
      problems << "#{label}: message of #{message.size} characters for a #{input.size}-character input" if message.size > SHOWN + 300
      fragments.each do |fragment|
        found = fragment.is_a?(Regexp) ? fragment.match?(message) : message.include?(fragment)
        problems << "#{label}: message lacks #{fragment.inspect}: #{message[0, 300]}" unless found
      end
    end
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    assert problems.empty?, "#{problems.size} problems:\n#{problems.join("\n")}"
    # A hang guard, not a performance claim.
    assert_operator elapsed, :<, 1.0, "parsing #{CASES.size} malformed schedules took #{elapsed}s"
  end

  # The input appears in the message as Ruby would inspect it (short input whole, long input
  # by its beginning).
  def quotes_input?(message, input)
    return message.include?("\\xFF") || message.include?("\\xff") unless input.valid_encoding?

    text = input.size <= 80 ? input : input[0, 40]
    [ruby_quoted(text), rust_quoted(text)].any? { |quoted| message.include?(quoted) }
  end

  def ruby_quoted(text)
    text.inspect[1..-2]
  end

  # Rust's {:?} for str: control characters as \0 \t \n \r or \u{..}, printable ones as is.
  def rust_quoted(text)
    text.gsub(/[\\"\x00-\x1f\x7f]/) do |c|
      { "\\" => "\\\\", '"' => '\\"', "\0" => "\\0", "\t" => "\\t", "\n" => "\\n", "\r" => "\\r" }
        .fetch(c) { format("\\u{%x}", c.ord) }
    end
  end

  def test_invalid_schedule_is_an_argument_error
    assert_operator GoodCron::InvalidSchedule, :<, ArgumentError
  end

  # A non-String is a programming error, not a malformed schedule: TypeError, as Ruby's own
  # conversions raise, naming what was expected.
  def test_non_strings_raise_type_error
    [nil, 5, 1.5, :"0 9 * * *", ["0 9 * * *"], Object.new].each do |value|
      error = assert_raises(TypeError, value.inspect) { GoodCron::Schedule.parse(value) }
      assert_match(/String/, error.message, value.inspect)
    end
  end

  # Strings in another encoding are read by their characters; binary strings holding UTF-8
  # text are accepted.
  def test_encodings
    assert_equal "0 9 * * * UTC", GoodCron::Schedule.parse("0 9 * * * UTC".b).to_cron
    assert_equal "0 9 * * * UTC", GoodCron::Schedule.parse("0 9 * * * UTC".encode("UTF-16LE")).to_cron
  end

  FUZZ_SCRIPT = <<~'RUBY'
    require "good_cron"
    seed = Integer(ARGV[0])
    count = Integer(ARGV[1])
    rng = Random.new(seed)
    tokens = ["*", "*/5", "/15", "5/10", "0", "5", "7", "23", "24", "31", "59", "60", "1-5", "5-1", "22-2", "50-10/7",
              "L", "l", "last", "-1", "-3--1", "-1-5", "#", "#2", "#-1", "#L", "#6", "%", "%2", "%2+1", "mon", "fri",
              "SUN", "sun-sat", "jan", "DEC", "nov-feb", ",", "/", "-", "?", "@daily", "@hourly", "@yearly", "@x",
              "every", "day", "weekday", "at", "noon", "midnight", "five", "5pm", "17:30", "25:61", "on", "in", "and",
              "or", "from", "to", "the", "1st", "of", "month", "minutes", "seconds", "hours", "30s", "2h",
              "America/New_York", "Europe/London", "Australia/Lord_Howe", "+05:30", "-03:00", "UTC", "Mars/Olympus",
              "\t", " ", "  ", "\n", "\0", "🕐", "０", "99999999999999999999", "x", "é"]
    fields = [
      ["*", "*/5", "/15", "5/10", "0", "59", "1-5", "50-10/7", "0-59/13", "0,30"],                  # second, minute
      ["*", "*/2", "0", "23", "24", "22-2", "9-17", "1,2,3", "2", "1"],                              # hour
      ["*", "1", "15", "L", "-1", "-3--1", "29", "30", "31", "1,15,L", "*/2", "25-5", "-7"],         # day of month
      ["*", "1", "2", "jan-mar", "nov-feb", "*/3", "4,6,9,11", "12", "feb"],                         # month
      ["*", "mon", "1-5", "5-1", "fri#-1", "sun#L", "1%2", "mon#2", "0", "7", "sat,sun", "tue#5"],  # day of week
    ]
    crashes = 0
    parsed = 0
    count.times do |i|
      s = case i % 5
          when 4
            f = fields.map { |pool| pool.sample(random: rng) }
            f.unshift(fields[0].sample(random: rng)) if rng.rand < 0.3
            f[rng.rand(f.size)] = tokens.sample(random: rng) if rng.rand < 0.2
            f << ["America/New_York", "Australia/Lord_Howe", "+05:30", "UTC"].sample(random: rng) if rng.rand < 0.3
            f.join(" ")
          when 0, 1 then Array.new(rng.rand(1..9)) { tokens.sample(random: rng) }.join(rng.rand < 0.8 ? " " : "")
          when 2 then Array.new(rng.rand(0..30)) { rng.rand(32..126).chr }.join
          else rng.bytes(rng.rand(0..24)).force_encoding(Encoding::UTF_8)
          end
      begin
        sched = GoodCron::Schedule.parse(s)
        parsed += 1
        t = Time.at(rng.rand(0..4_102_444_800))
        n = sched.next_at(t)
        prev = sched.previous_at(t)
        raise "next_at(#{t}) = #{n.inspect} is not after it" if n && n <= t
        raise "previous_at(#{t}) = #{prev.inspect} is not before it" if prev && prev >= t
        sched.upcoming(3, t)
        sched.within(t..(t + 7200))
        sched.to_cron
      rescue GoodCron::InvalidSchedule
        nil
      rescue Exception => e # rubocop:disable Lint/RescueException
        crashes += 1
        warn "#{s.inspect}: #{e.class}: #{e.message}"
      end
    end
    puts "fuzz seed=#{seed} strings=#{count} parsed=#{parsed} unexpected=#{crashes}"
    exit(crashes.zero? ? 0 : 1)
  RUBY

  def test_random_strings_do_not_crash_the_process
    seed = Integer(ENV.fetch("GOOD_CRON_FUZZ_SEED", Random.new_seed % 1_000_000))
    count = Integer(ENV.fetch("GOOD_CRON_FUZZ_COUNT", "5000"))
    lib = File.expand_path("../lib", __dir__)
    out = err = status = nil
    Open3.popen3(RbConfig.ruby, "-I", lib, "-e", FUZZ_SCRIPT, seed.to_s, count.to_s) do |stdin, stdout, stderr, wait|
      stdin.close
      reader_out = Thread.new { stdout.read }
      reader_err = Thread.new { stderr.read }
      unless wait.join(120)
        Process.kill(:KILL, wait.pid)
        flunk "fuzzing (seed #{seed}) did not finish in 120 s"
      end
      status = wait.value
      out = reader_out.value
      err = reader_err.value
    end
    assert status.success?, "fuzzing (seed #{seed}) exited with #{status.inspect}\n#{out}\n#{err[0, 4000]}"
    assert_match(/strings=#{count} /, out)
    puts "\n#{out}"
  end
end
