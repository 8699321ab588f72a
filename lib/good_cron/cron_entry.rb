# frozen_string_literal: true

require "json"

module GoodCron
  # One entry of GoodJob's cron hash, validated. A static entry whose job class has no enqueue
  # callbacks, on GoodJob's adapter, is serialized once by ActiveJob itself and inserted by the
  # engine (the direct path); any other entry is enqueued through ActiveJob on a Ruby thread by
  # the process that wins its claim (the ledger path), with its Procs called at enqueue time.
  class CronEntry
    OPTIONS = %i[cron class args kwargs set description enabled_by_default].freeze
    SET_OPTIONS = %i[queue priority wait wait_until].freeze
    # What ActiveJob's `set` takes, and what the engine can store.
    SET_CHECKS = {
      queue: ->(queue) { Settings.string(":set queue", queue, symbol: true) },
      priority: ->(priority) { Settings.integer(":set priority", priority, Settings::PRIORITIES, text: false) },
      wait: ->(wait) { Settings.seconds(":set wait", wait, 0..Settings::MAX_WAIT, text: false) },
      wait_until: ->(wait_until) { Settings.time(":set wait_until", wait_until) },
    }.freeze
    ENQUEUE_MODES = %i[auto good_jobs active_job].freeze
    # What an option left out reads as, shared by every entry.
    NONE = [].freeze
    EMPTY = {}.freeze

    attr_reader :key, :description, :problems, :enqueue

    # `[cron_key, cron_at]` of the run this thread is enqueuing (nil outside one).
    def self.current_run
      Thread.current[:good_cron_run]
    end

    # Reads a whole cron hash; raises one ConfigurationError that names every problem.
    # +enqueue+: :auto (direct where possible), :good_jobs (direct only) or :active_job.
    def self.all_from(cron_hash, enqueue: :auto)
      enqueue = Settings.choice(:enqueue, enqueue, ENQUEUE_MODES)
      unless cron_hash.respond_to?(:each_pair)
        raise ConfigurationError.new(["the cron configuration must be a Hash of entries, got #{Settings.describe(cron_hash)}"])
      end

      seen = {}
      problems = []
      entries = cron_hash.each_pair.filter_map do |key, options|
        unless key.to_s.valid_encoding? && !key.to_s.empty?
          problems << "a cron key must be non-empty text in a valid encoding, got #{Settings.describe(key)}"
          next
        end
        if (earlier = seen[key.to_s])
          problems << "#{key}: duplicate key: #{earlier.inspect} and #{key.inspect} name the same entry"
          next
        end
        seen[key.to_s] = key
        entry = new(key.to_s, options, enqueue: enqueue)
        problems.concat(entry.problems.map { |problem| "#{key}: #{problem}" })
        entry if entry.problems.empty?
      end
      raise ConfigurationError.new(problems) if problems.any?

      entries
    end

    def initialize(key, options, enqueue: :auto)
      @key = key
      @problems = []
      unless options.is_a?(Hash)
        @problems << "must be a Hash of options (cron:, class:, …), got #{Settings.describe(options)}"
        return
      end
      @options = options.transform_keys(&:to_sym)
      @description = check { Settings.string(:description, @options[:description], empty: true) } unless @options[:description].nil?
      check_options
      @schedule = check { read_schedule(@options[:cron]) } unless dynamic?(:cron) || @options[:cron].nil?
      @job_class = check { read_job_class(@options[:class]) } unless dynamic?(:class) || @options[:class].nil?
      # Static :args, :kwargs and :set, normalized once (a Proc's result is, at each enqueue).
      @normalized = %i[args kwargs set].reject { |option| dynamic?(option) }
                                       .to_h { |option| [option, check { read(option, @options[option]) }] }
      check { read_enabled(@options.fetch(:enabled_by_default, true)) } unless dynamic?(:enabled_by_default)
      @enqueue = check { enqueue_path(enqueue) } if @problems.empty?
      @serialized = check { serialize_job } if @problems.empty? && static?
    end

    # The schedule; nil when a Proc picks each next run.
    def schedule
      @schedule
    end

    # The job class; nil when a Proc picks it at enqueue time.
    def job_class
      @job_class
    end

    # true, false, or nil when a Proc decides at enqueue time.
    def enabled_by_default
      dynamic?(:enabled_by_default) ? nil : @options.fetch(:enabled_by_default, true)
    end

    # The entry's default, a Proc's called now.
    def enabled_by_default_now
      dynamic?(:enabled_by_default) ? @options[:enabled_by_default].call : enabled_by_default
    end

    def direct?
      @enqueue == :good_jobs
    end

    # The plain data the engine needs for this entry.
    def to_native
      { key: key, cron: schedule&.source, enqueue: @enqueue, enabled_by_default: enabled_by_default,
        job: direct? ? native_job : nil }
    end

    # Enqueues a run through ActiveJob, calling the entry's Procs now; returns the job id, or
    # nil when nothing was enqueued (a class Proc that enqueued by itself and returned no
    # class, or a callback that halted). +cron_at+ is a Time, or nil for a manual run.
    def enqueue_now(cron_at)
      job_class = resolve(:class)
      job_class = read_job_class(job_class) if job_class.is_a?(String) || job_class.is_a?(Symbol)
      return nil unless job_class.is_a?(Class)

      args, kwargs, set = %i[args kwargs set].map { |option| normalized_now(option) }
      configured = set.empty? ? job_class : job_class.set(set)
      job = with_cron_context(cron_at) do
        kwargs.empty? ? configured.perform_later(*args) : configured.perform_later(*args, **kwargs)
      end
      job ? job.job_id : nil
    end

    # The next run of a Proc schedule after +previous+ (a Time, or nil when it never ran):
    # as GoodJob does, the Proc returns a Time, a schedule (its next run from now), or nil.
    def next_at_after(previous)
      result = @options[:cron].call(previous)
      at = result.is_a?(String) ? Schedule.parse(result).next_at(Time.now) : result&.to_time&.ceil
      Settings.time("the next run its :cron Proc returned", at) if at
      # Runs are whole seconds, each strictly after the one before.
      at if at && (previous.nil? || at.to_i > previous.to_i)
    end

    private

    def dynamic?(option)
      @options[option].respond_to?(:call)
    end

    def static?
      OPTIONS.none? { |option| dynamic?(option) }
    end

    def resolve(option)
      dynamic?(option) ? @options[option].call : @options[option]
    end

    # :args, :kwargs or :set for this enqueue: a Proc's result normalized now, a static one as
    # normalized at construction.
    def normalized_now(option)
      dynamic?(option) ? read(option, resolve(option)) : @normalized.fetch(option)
    end

    # Runs a check, turning the ArgumentError or ConfigurationError it raises into problems of
    # this entry.
    def check
      yield
    rescue ConfigurationError => e
      @problems.concat(e.problems)
      nil
    rescue ArgumentError => e
      @problems << e.message
      nil
    end

    def check_options
      unknown = @options.keys - OPTIONS
      if unknown.any?
        @problems << "unknown option#{"s" if unknown.size > 1} #{unknown.map(&:inspect).join(", ")} " \
                     "(known: #{OPTIONS.map(&:inspect).join(", ")})"
      end
      @problems << "missing :cron (a schedule such as \"every 5 minutes\" or \"*/5 * * * *\")" if @options[:cron].nil?
      @problems << "missing :class (the name of an ActiveJob class)" if @options[:class].nil?
    end

    def read_schedule(cron)
      unless cron.is_a?(String) && cron.valid_encoding?
        raise ArgumentError, ":cron must be a String (in a valid encoding) or a Proc, got #{Settings.describe(cron)}"
      end

      Schedule.parse(cron)
    end

    def read_job_class(name)
      unless name.is_a?(Class) || ((name.is_a?(String) || name.is_a?(Symbol)) && name.to_s.valid_encoding?)
        raise ArgumentError, ":class must be a job class, its name or a Proc, got #{Settings.describe(name)}"
      end

      klass = name.is_a?(Class) ? name : Object.const_get(name.to_s)
      return klass if defined?(ActiveJob::Base) && klass.is_a?(Class) && klass < ActiveJob::Base

      raise ArgumentError, "class #{name.inspect} is not an ActiveJob job (it must inherit from ActiveJob::Base)"
    rescue NameError
      raise ArgumentError, "class #{name.inspect} cannot be found"
    end

    # :args, :kwargs or :set, normalized; raises ArgumentError naming what is wrong.
    def read(option, value)
      case option
      when :args then read_args(value)
      when :kwargs then read_kwargs(value)
      when :set then read_set(value)
      end
    end

    def read_args(args)
      case args
      when nil then NONE
      when Array then args
      when Hash then raise ArgumentError, ":args must be an Array, got a Hash (use kwargs: for keyword arguments)"
      else [args]
      end
    end

    def read_kwargs(kwargs)
      return EMPTY if kwargs.nil?
      raise ArgumentError, ":kwargs must be a Hash, got #{Settings.describe(kwargs)}" unless kwargs.is_a?(Hash)

      kwargs.transform_keys(&:to_sym)
    end

    def read_set(set)
      return EMPTY if set.nil?
      raise ArgumentError, ":set must be a Hash, got #{Settings.describe(set)}" unless set.is_a?(Hash)

      set = set.transform_keys(&:to_sym)
      problems = []
      unknown = set.keys - SET_OPTIONS
      if unknown.any?
        problems << ":set has unknown option#{"s" if unknown.size > 1} #{unknown.map(&:inspect).join(", ")} " \
                    "(known: #{SET_OPTIONS.map(&:inspect).join(", ")})"
      end
      SET_CHECKS.each do |option, check|
        check.call(set[option]) if set.key?(option)
      rescue ConfigurationError => e
        problems.concat(e.problems)
      end
      raise ArgumentError, problems.join("; ") if problems.any?

      set
    end

    def read_enabled(value)
      return value if value == true || value == false

      raise ArgumentError, ":enabled_by_default must be true or false (or a Proc), got #{Settings.describe(value)}"
    end

    # :good_jobs when the engine can insert the row itself: every option static, no enqueue
    # callbacks to run, and GoodJob's adapter (whose table the row goes to) under :auto.
    def enqueue_path(mode)
      reasons = OPTIONS.select { |option| dynamic?(option) }.map { |option| "#{option.inspect} is a Proc" }
      reasons << "#{job_class} has enqueue callbacks" if job_class && enqueue_callbacks?(job_class)
      case mode
      when :active_job then :active_job
      when :good_jobs
        return :good_jobs if reasons.empty?

        raise ArgumentError, "needs Ruby at enqueue time (#{reasons.join(", ")}), which enqueue: :good_jobs " \
                             "does not do; use enqueue: :auto or :active_job"
      else
        reasons.empty? && good_job_adapter?(job_class.queue_adapter) ? :good_jobs : :active_job
      end
    end

    # Callbacks of the app's own (ActiveJob::Base's logging callbacks need no ledger-path enqueue).
    def enqueue_callbacks?(job_class)
      (job_class.__callbacks[:enqueue].to_a - ActiveJob::Base.__callbacks[:enqueue].to_a).any?
    end

    # Adapters that write GoodJob's table: GoodJob's own and good_cron's; not in :inline mode,
    # where a run must go through ActiveJob to be performed at enqueue.
    def good_job_adapter?(adapter)
      table = (defined?(::GoodJob::Adapter) && adapter.is_a?(::GoodJob::Adapter)) ||
              (defined?(GoodCron::Adapter) && adapter.is_a?(GoodCron::Adapter))
      table && !(adapter.respond_to?(:execute_inline?) && adapter.execute_inline?)
    end

    # Builds the job as `job_class.set(set).perform_later(*args, **kwargs)` would, then lets
    # ActiveJob serialize it (this also proves the arguments are serializable).
    def serialize_job
      args, kwargs, set = @normalized.values_at(:args, :kwargs, :set)
      check_json(:args, args)
      check_json(:kwargs, [kwargs])
      job = kwargs.empty? ? job_class.new(*args) : job_class.new(*args, **kwargs)
      job.queue_name = job_class.queue_name_from_part(set[:queue]) if set.key?(:queue)
      job.priority = set[:priority] if set.key?(:priority)
      [job, job.serialize]
    rescue ActiveJob::SerializationError => e
      raise ArgumentError, "its arguments cannot be serialized by ActiveJob: #{e.message}"
    end

    # The row's serialized_params are JSON: NaN, Infinity and invalid UTF-8 cannot be written.
    def check_json(option, arguments)
      JSON.generate(ActiveJob::Arguments.serialize(arguments))
    rescue JSON::GeneratorError, EncodingError => e
      raise ArgumentError, "#{option.inspect} cannot be written as JSON (#{e.message.scrub}): #{Settings.describe(arguments)}"
    end

    def native_job
      job, params = @serialized
      set = @normalized.fetch(:set)
      {
        job_class: job_class.name,
        queue_name: job.queue_name.to_s.empty? ? "default" : job.queue_name.to_s,
        priority: job.priority || 0,
        serialized_params: JSON.generate(params),
        wait_seconds: set[:wait]&.to_f,
        wait_until: set[:wait_until]&.to_time&.to_f,
      }
    end

    # GoodJob's adapter and good_cron's read the cron key and instant of what they enqueue
    # from here, so the unique index also guards runs enqueued through ActiveJob.
    def with_cron_context(cron_at, &block)
      previous = Thread.current[:good_cron_run]
      Thread.current[:good_cron_run] = [key, cron_at]
      return yield unless defined?(::GoodJob::CurrentThread)

      ::GoodJob::CurrentThread.within do |current|
        current.cron_key = key
        current.cron_at = cron_at
        block.call
      end
    ensure
      Thread.current[:good_cron_run] = previous
    end
  end
end
