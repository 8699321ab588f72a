# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/test_logger"
require "active_job"

# The waits of the engines' Ruby threads end on what they wait for (a job, a log line, an
# event), on a close or stop, or on Ruby's interrupts (Thread#kill, a signal's trap handler),
# never on a timer: idle threads sleep, and a kill or a signal takes effect while they wait.
class WakeTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper

  # The scheduler's entry enqueues it; nothing runs it here.
  class TickJob < ActiveJob::Base
    def perform; end
  end

  def setup
    database.truncate
    @logger = TestLogger.new
    @poller = GoodCron::Poller.new(database_url: database.url, max_threads: 3, poll_interval: 600, logger: @logger)
    @poller.start
  end

  def teardown
    @poller.shutdown(timeout: 5)
    @scheduler&.shutdown(timeout: 5)
  end

  def native_poller
    @poller.instance_variable_get(:@native)
  end

  # Voluntary context switches of a Ruby thread so far: one each time it blocked and woke.
  def switches(thread)
    status = File.read("/proc/self/task/#{thread.native_thread_id}/status")
    Integer(status[/^voluntary_ctxt_switches:\s+(\d+)/, 1], 10)
  end

  # Waits until +thread+ blocks (in the engine: its status is "sleep").
  def wait_blocked(thread)
    assert wait_for(10) { thread.status == "sleep" }, "the thread blocks (#{thread.status.inspect})"
  end

  def test_idle_engine_threads_sleep_until_something_happens
    @scheduler = GoodCron::Scheduler.new({ yearly: { cron: "0 0 1 1 *", class: "WakeTest::TickJob" } },
                                         database_url: database.url, enqueue: :good_jobs, logger: @logger)
    @scheduler.start
    threads = @poller.instance_variable_get(:@threads) +
              [@poller.instance_variable_get(:@logs), @scheduler.instance_variable_get(:@events)]
    threads.each { |thread| wait_blocked(thread) }
    sleep 0.5 # the start's log lines
    before = threads.map { |thread| switches(thread) }
    sleep 2
    woken = threads.zip(before).map { |thread, count| [thread.name, switches(thread) - count] }
    # A timer would wake each 5-10 times a second; an idle thread wakes not at all.
    assert(woken.all? { |_, count| count <= 2 }, "idle threads woke: #{woken.inspect}")
  end

  def test_take_next_log_and_next_event_wait_without_a_timeout_until_close_or_stop
    native = native_poller
    taker = Thread.new { native.take(0) }
    wait_blocked(taker)
    threads = @poller.instance_variable_get(:@threads) + [@poller.instance_variable_get(:@logs)]
    assert @poller.shutdown(timeout: 5), "the poller stops"
    assert_equal false, taker.value, "take gives false once the poller closes"
    refute threads.any?(&:alive?), "the poller's threads ended when it closed and stopped"

    @scheduler = GoodCron::Scheduler.new({ yearly: { cron: "0 0 1 1 *", class: "WakeTest::TickJob" } },
                                         database_url: database.url, enqueue: :good_jobs, logger: @logger)
    @scheduler.start
    events = @scheduler.instance_variable_get(:@events)
    wait_blocked(events)
    assert @scheduler.shutdown(timeout: 5)
    refute events.alive?, "the event thread ended when the scheduler stopped"
  end

  def test_thread_kill_and_raise_end_a_wait_for_a_job
    native = native_poller
    killed = Thread.new { native.take(0) }
    raised = Thread.new { native.take(0) }
    raised.report_on_exception = false
    [killed, raised].each { |thread| wait_blocked(thread) }
    killed.kill
    raised.raise(ArgumentError, "stop waiting")
    assert killed.join(10), "Thread#kill ended the wait"
    assert_raises(ArgumentError) { raised.join(10) }
  end

  # The main thread waits for a job with no timeout; a signal's trap handler runs while it
  # waits, and its exception ends the wait.
  def test_a_trap_handler_runs_while_the_main_thread_waits
    done = Class.new(StandardError)
    ran = false
    previous = trap(:USR1) do
      ran = true
      raise done
    end
    native = native_poller
    main = Thread.current
    signaller = Thread.new do
      wait_for(10) { main.status == "sleep" }
      Process.kill(:USR1, Process.pid)
      sleep 10
      native.close(5) # so that a wait that ignored the signal ends, failing the test
    end
    assert_raises(done) { native.take(0) }
    assert ran
  ensure
    signaller&.kill
    trap(:USR1, previous || "DEFAULT")
  end
end
