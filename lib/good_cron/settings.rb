# frozen_string_literal: true

module GoodCron
  # The checks every setting passes at the boundary, before anything reaches the engine. Each
  # returns the value normalized or raises ConfigurationError naming the setting and the value.
  # Text (an environment variable, a command-line option, `config.good_job.max_threads =
  # ENV["…"]`) is parsed strictly: "x" is an error, never 0.
  module Settings
    # The longest period a setting may name: a week. A catch-up enumerates every instant of
    # its period, and no timer or timestamp in the engine can overflow within it.
    MAX_PERIOD = 7 * 24 * 3600
    # The longest `set: { wait: }`: ten years.
    MAX_WAIT = 10 * 366 * 24 * 3600
    MAX_THREADS = 1_000
    # The longest a connection may take before the database counts as unreachable.
    MAX_CONNECT_TIMEOUT = 3600
    MAX_CACHE = 1_000_000
    # The shortest heartbeat interval: a zero one would keep the poller's loop spinning.
    MIN_HEARTBEAT_INTERVAL = 0.001
    # good_jobs.priority is a PostgreSQL integer.
    PRIORITIES = (-2**31)..(2**31 - 1)
    # Instants PostgreSQL, Ruby and the engine all hold: years 1 to 9999, as Unix seconds.
    TIMES = -62_135_596_800.0..253_402_300_799.0
    # How GoodJob casts a boolean (ActiveModel::Type::Boolean): these are false, and "" is nil.
    FALSE_VALUES = [false, 0, "0", "f", "F", "false", "FALSE", "off", "OFF"].freeze
    # The spellings of true accepted; anything else ("x", "no", "False") is an error rather
    # than the true GoodJob would read.
    TRUE_VALUES = [true, 1, "1", "t", "T", "true", "TRUE", "on", "ON", "yes", "YES"].freeze

    module_function

    # Seconds, from a Numeric or an ActiveSupport::Duration (or text, unless +text+ is false):
    # finite and within +range+ (above its start when +positive+). Returns a Float.
    def seconds(name, value, range, text: true, positive: false, subject: nil)
      number = value.to_f if value.is_a?(Numeric) && value.real?
      number = Float(value, exception: false) if text && valid_text?(value)
      return number if number&.finite? && range.cover?(number) && !(positive && number <= range.begin)

      bounds = positive ? "above #{range.begin}, up to #{range.end}" : "from #{range.begin} to #{range.end}"
      invalid!(name, value, "a number of seconds #{bounds}", subject)
    end

    # An Integer within +range+ (from text too, unless +text+ is false).
    def integer(name, value, range, text: true, subject: nil)
      number = value if value.is_a?(Integer)
      number = Integer(value, 10, exception: false) if text && valid_text?(value)
      return number if number && range.cover?(number)

      invalid!(name, value, "an integer from #{range.begin} to #{range.end}", subject)
    end

    # A String (or a Symbol, when +symbol+) in a valid encoding, non-empty unless +empty+.
    # Returns a String.
    def string(name, value, empty: false, symbol: false, subject: nil)
      text = symbol && value.is_a?(Symbol) ? value.to_s : value
      return text if text.is_a?(String) && text.valid_encoding? && (empty || !text.empty?)

      invalid!(name, value, "#{"a non-empty " unless empty}text in a valid encoding", subject)
    end

    # A PostgreSQL URL: text whose scheme is postgres:// or postgresql://, libpq's two (the
    # engine's driver reads any scheme, so a typo such as postgress:// would connect).
    def database_url(name, value, subject: nil)
      url = string(name, value, subject: subject)
      return url if url.start_with?("postgres://", "postgresql://")

      problem!("#{name}'s scheme must be postgres:// or postgresql://, got #{describe(redact_url(url))}", subject)
    end

    # +url+ with its password masked (in the user part, or libpq's password= parameter).
    def redact_url(url)
      url.to_s.sub(%r{\A([a-z][a-z0-9+.-]*://[^:/@?#]*):[^@/?#]*@}i, '\1:***@').gsub(/([?&]password=)[^&#]*/i, '\1***')
    end

    # true or false, cast as GoodJob casts its boolean settings.
    def boolean(name, value, subject: nil)
      value = value.to_s if value.is_a?(Symbol)
      return false if value == "" || FALSE_VALUES.include?(value)
      return true if TRUE_VALUES.include?(value)

      invalid!(name, value, "true or false (#{(TRUE_VALUES + FALSE_VALUES).uniq.map(&:inspect).join(", ")})", subject)
    end

    # One of +choices+ (Symbols), given as a Symbol or a String.
    def choice(name, value, choices, subject: nil)
      symbol = value.to_sym if value.is_a?(Symbol) || (value.is_a?(String) && value.valid_encoding?)
      return symbol if choices.include?(symbol)

      invalid!(name, value, "one of #{choices.map(&:inspect).join(", ")}", subject)
    end

    # An instant (a Time, DateTime, Date or ActiveSupport::TimeWithZone; Unix seconds too when
    # +numeric+) as Unix seconds, within TIMES.
    def time(name, value, numeric: false, subject: nil)
      seconds = value.to_time.to_f if value.respond_to?(:to_time) && !value.is_a?(String) && !value.is_a?(Numeric)
      seconds = value.to_f if numeric && value.is_a?(Numeric) && value.real?
      return seconds if seconds&.finite? && TIMES.cover?(seconds)

      invalid!(name, value, "a time between the years 1 and 9999#{" (or Unix seconds)" if numeric}", subject)
    end

    # +value+ for a message: its inspect, cut short, whatever its encoding or its inspect does.
    def describe(value)
      text = value.inspect
      text = text.scrub unless text.valid_encoding?
      text.length > 100 ? "#{text[0, 100]}…" : text
    rescue StandardError
      "a #{value.class}"
    end

    def invalid!(name, value, expected, subject)
      problem!("#{name} must be #{expected}, got #{describe(value)}", subject)
    end

    def problem!(problem, subject)
      raise subject ? ConfigurationError.new([problem], subject: subject) : ConfigurationError.new([problem])
    end

    def valid_text?(value)
      value.is_a?(String) && value.valid_encoding?
    end
  end
end
