# frozen_string_literal: true

require "json"

module GoodCron
  # One entry of GoodJob's cron hash, validated, with its job serialized once by ActiveJob
  # itself, so the rows written match the running Rails version exactly.
  class CronEntry
    OPTIONS = %i[cron class args kwargs set description enabled_by_default].freeze
    SET_OPTIONS = %i[queue priority wait wait_until].freeze

    attr_reader :key, :schedule, :job_class, :description, :enabled_by_default

    # Reads a whole cron hash; raises one ConfigurationError that names every problem.
    def self.all_from(cron_hash)
      unless cron_hash.respond_to?(:each_pair)
        raise ConfigurationError.new(["the cron configuration must be a Hash of entries, got #{cron_hash.inspect}"])
      end

      seen = {}
      problems = []
      entries = cron_hash.each_pair.filter_map do |key, options|
        if (earlier = seen[key.to_s])
          problems << "#{key}: duplicate key: #{earlier.inspect} and #{key.inspect} name the same entry"
          next
        end
        seen[key.to_s] = key
        entry = new(key.to_s, options)
        problems.concat(entry.problems.map { |problem| "#{key}: #{problem}" })
        entry if entry.problems.empty?
      end
      raise ConfigurationError.new(problems) if problems.any?

      entries
    end

    attr_reader :problems

    def initialize(key, options)
      @key = key
      @problems = []
      unless options.is_a?(Hash)
        @problems << "must be a Hash of options (cron:, class:, …), got #{options.inspect}"
        return
      end
      options = options.transform_keys(&:to_sym)
      check_options(options)
      return if @problems.any?

      @schedule = read_schedule(options[:cron])
      @job_class = read_job_class(options[:class])
      @args = read_args(options[:args])
      @kwargs = read_kwargs(options[:kwargs])
      @set = read_set(options[:set])
      @description = options[:description]
      @enabled_by_default = read_enabled(options.fetch(:enabled_by_default, true))
      @serialized = serialize_job if @problems.empty?
    end

    # The plain data the engine needs for this entry.
    def to_native
      job, params = @serialized
      {
        key: key,
        cron: schedule.source,
        job_class: job_class.name,
        queue_name: job.queue_name.to_s.empty? ? "default" : job.queue_name.to_s,
        priority: job.priority || 0,
        serialized_params: JSON.generate(params),
        wait_seconds: @set[:wait]&.to_f,
        wait_until: @set[:wait_until]&.to_time&.to_f,
        enabled_by_default: enabled_by_default,
      }
    end

    private

    def check_options(options)
      unknown = options.keys - OPTIONS
      if unknown.any?
        @problems << "unknown option#{"s" if unknown.size > 1} #{unknown.map(&:inspect).join(", ")} " \
                     "(known: #{OPTIONS.map(&:inspect).join(", ")})"
      end
      OPTIONS.each do |option|
        next unless options[option].respond_to?(:call)

        @problems << "#{option.inspect} is a Proc, which good_cron does not support yet " \
                     "(Procs come with dynamic entries); use a static value"
      end
      @problems << "missing :cron (a schedule such as \"every 5 minutes\" or \"*/5 * * * *\")" if options[:cron].nil?
      @problems << "missing :class (the name of an ActiveJob class)" if options[:class].nil?
    end

    def read_schedule(cron)
      return Schedule.parse(cron) if cron.is_a?(String)

      @problems << ":cron must be a String, got #{cron.inspect}"
      nil
    rescue InvalidSchedule => e
      @problems << e.message
      nil
    end

    def read_job_class(name)
      klass = name.is_a?(Class) ? name : Object.const_get(name.to_s)
      return klass if defined?(ActiveJob::Base) && klass.is_a?(Class) && klass < ActiveJob::Base

      @problems << "class #{name.inspect} is not an ActiveJob job (it must inherit from ActiveJob::Base)"
      nil
    rescue NameError
      @problems << "class #{name.inspect} cannot be found"
      nil
    end

    def read_args(args)
      case args
      when nil then []
      when Array then args
      when Hash
        @problems << ":args must be an Array, got a Hash (use kwargs: for keyword arguments)"
        []
      else [args]
      end
    end

    def read_kwargs(kwargs)
      return {} if kwargs.nil?
      return kwargs.transform_keys(&:to_sym) if kwargs.is_a?(Hash)

      @problems << ":kwargs must be a Hash, got #{kwargs.inspect}"
      {}
    end

    def read_set(set)
      return {} if set.nil?

      unless set.is_a?(Hash)
        @problems << ":set must be a Hash, got #{set.inspect}"
        return {}
      end
      set = set.transform_keys(&:to_sym)
      unknown = set.keys - SET_OPTIONS
      if unknown.any?
        @problems << ":set has unknown option#{"s" if unknown.size > 1} #{unknown.map(&:inspect).join(", ")} " \
                     "(known: #{SET_OPTIONS.map(&:inspect).join(", ")})"
      end
      check_set_values(set)
      set
    end

    def check_set_values(set)
      if set.key?(:priority) && !set[:priority].is_a?(Integer)
        @problems << ":set priority must be an Integer, got #{set[:priority].inspect}"
      end
      if set.key?(:wait) && !set[:wait].is_a?(Numeric)
        @problems << ":set wait must be a number of seconds or a Duration, got #{set[:wait].inspect}"
      end
      return unless set.key?(:wait_until) && !set[:wait_until].respond_to?(:to_time)

      @problems << ":set wait_until must be a Time, got #{set[:wait_until].inspect}"
    end

    def read_enabled(value)
      return value if value == true || value == false

      @problems << ":enabled_by_default must be true or false, got #{value.inspect}"
      true
    end

    # Builds the job as `job_class.set(set).perform_later(*args, **kwargs)` would, then lets
    # ActiveJob serialize it (this also proves the arguments are serializable).
    def serialize_job
      job = @kwargs.empty? ? job_class.new(*@args) : job_class.new(*@args, **@kwargs)
      job.queue_name = job_class.queue_name_from_part(@set[:queue]) if @set.key?(:queue)
      job.priority = @set[:priority] if @set.key?(:priority)
      [job, job.serialize]
    rescue ActiveJob::SerializationError => e
      @problems << "its arguments cannot be serialized by ActiveJob: #{e.message}"
      nil
    end
  end
end
