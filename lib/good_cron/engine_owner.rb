# frozen_string_literal: true

module GoodCron
  # What the Scheduler and the Poller share about the native engine each starts: it belongs
  # to the process that started it, and it sends its log lines as Events::Log.
  module EngineOwner
    # Whether this process's engine runs.
    def running?
      !!(@native && engine_owned? && @native.running?)
    end

    # Why the engine stopped on its own (it kept failing), or nil.
    def failure
      @native&.failure
    end

    private

    # This process started the engine.
    def own_engine!
      @engine_pid = Process.pid
    end

    # Whether this process started the engine (not a forked child that inherited it).
    def engine_owned?
      @engine_pid == Process.pid
    end

    # After fork the engine's threads are gone in the child: it forgets the parent's engine
    # (never stopping or joining it; the class's +forget_engine+ clears what it holds) and
    # starts its own.
    def forget_forked_parent
      return if @engine_pid.nil? || engine_owned?

      @engine_pid = nil
      forget_engine
    end

    # Runs the block under the engine's lock (+@mutex+), once a forked parent's engine is forgotten.
    def engine_lock
      @mutex.synchronize do
        forget_forked_parent
        yield
      end
    end

    # A log line of the engine.
    def log_line(log)
      logger.public_send(log.level, log.message)
    end
  end
end
