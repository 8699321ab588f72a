# frozen_string_literal: true

require "set"

# What in-process jobs did, from every poller thread, in order: each perform that returned
# (`record`), each start (`start`), and gates a job waits at until the test opens them, so a
# test can hold a job "running" for as long as it needs.
class JobJournal
  Entry = Struct.new(:name, :job_id, :args, :kwargs, :queue, :priority, :executions, :at, keyword_init: true)

  GATE_TIMEOUT = 60

  def initialize
    @lock = Mutex.new
    @changed = ConditionVariable.new
    reset
  end

  def reset
    @lock.synchronize do
      @entries = []
      @started = []
      @open = Set.new
      @all_open = false
    end
  end

  def record(**fields)
    @lock.synchronize do
      @entries << Entry.new(**fields, at: Time.now.to_f)
      @changed.broadcast
    end
  end

  # Records a start of +name+; returns which start of that name it is (1 for the first).
  def start(name)
    @lock.synchronize do
      @started << name
      @changed.broadcast
      @started.count(name)
    end
  end

  # Blocks the calling job until the test opens +name+'s gate (or GATE_TIMEOUT passes).
  def wait_at_gate(name)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + GATE_TIMEOUT
    @lock.synchronize do
      until @all_open || @open.include?(name)
        remaining = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
        raise "the test never opened gate #{name}" if remaining <= 0

        @changed.wait(@lock, remaining)
      end
    end
  end

  def open(name)
    @lock.synchronize do
      @open << name
      @changed.broadcast
    end
  end

  def open_all
    @lock.synchronize do
      @all_open = true
      @changed.broadcast
    end
  end

  def entries
    @lock.synchronize { @entries.dup }
  end

  def names
    entries.map(&:name)
  end

  def started
    @lock.synchronize { @started.dup }
  end

  def started?(name)
    started.include?(name)
  end
end
