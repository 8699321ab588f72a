# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/in_process_poller"
require "json"

# What ActiveJob's error handling (retry_on, discard_on, rescue_from, an exception out of
# perform) leaves in GoodJob's columns when GoodCron::Poller runs the job: one good_jobs row
# per job, rescheduled in place on a retry, and one good_job_executions row per attempt,
# with GoodJob's error format ("Class: message") and error_event integers
# (0 interrupted, 1 unhandled, 2 handled, 3 retried, 4 retry_stopped, 5 discarded).
class PollerRetryTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include GoodJobRows
  include InProcessPoller

  JOURNAL = JobJournal.new

  class FlakyError < StandardError; end
  class DiscardableError < StandardError; end
  class HandledError < StandardError; end
  class BoomError < StandardError; end
  class HopelessError < StandardError; end
  class LaterError < StandardError; end

  class BaseJob < ActiveJob::Base
    private

    def note
      JOURNAL.record(name: self.class.name.split("::").last, job_id: job_id, args: arguments, kwargs: {},
                     queue: queue_name, priority: priority, executions: executions)
    end

    # A job under `retry_on error, wait:, attempts:` that notes each attempt and raises +error+
    # (the block, run in the job with its arguments, makes the message) before attempt
    # +succeeding+, or always without it.
    def self.retried(error, wait:, attempts:, succeeding: nil, &message)
      Class.new(self) do
        retry_on error, wait: wait, attempts: attempts

        define_method(:perform) do |*args|
          note
          raise error, instance_exec(*args, &message) if succeeding.nil? || executions < succeeding
        end
      end
    end
  end

  # Fails its first two attempts, succeeds on the third.
  FlakyJob = BaseJob.retried(FlakyError, wait: 0, attempts: 3, succeeding: 3) { |tag| "attempt #{executions} of #{tag}" }
  # Fails once, and is retried 3 s later.
  LaterJob = BaseJob.retried(LaterError, wait: 3, attempts: 2, succeeding: 2) { "not yet" }
  # Always fails; two attempts, then ActiveJob gives up and re-raises.
  HopelessJob = BaseJob.retried(HopelessError, wait: 0, attempts: 2) { "never works" }

  class DiscardJob < BaseJob
    discard_on DiscardableError

    def perform
      note
      raise DiscardableError, "no longer relevant"
    end
  end

  class HandledJob < BaseJob
    rescue_from(HandledError) { |_error| JOURNAL.start("rescued") }

    def perform
      note
      raise HandledError, "dealt with"
    end
  end

  class BoomJob < BaseJob
    def perform
      note
      raise BoomError, "boom"
    end
  end

  class FineJob < BaseJob
    def perform
      note
    end
  end

  def setup
    super
    @process_id = started_poller(max_threads: 1, poll_interval: 1).process_id
  end

  # retry_on with attempts left: each retry reschedules the same row; three attempts, three
  # execution rows (retried, retried, success), the row finished without error.
  def test_retry_on_retries_on_the_same_row_until_it_succeeds
    job = FlakyJob.perform_later("flaky")
    wait_finished(job)

    runs = JOURNAL.entries
    assert_equal [job.job_id] * 3, runs.map(&:job_id)
    assert_equal [1, 2, 3], runs.map(&:executions)
    assert_equal 1, count_sql("SELECT count(*) FROM good_jobs"), "a retry is the same good_jobs row"

    executions = execution_rows(job)
    assert_equal [3, 3, nil], executions.map { |e| e["error_event"]&.to_i }
    assert_equal ["PollerRetryTest::FlakyError: attempt 1 of flaky", "PollerRetryTest::FlakyError: attempt 2 of flaky", nil],
                 executions.map { |e| e["error"] }
    assert_equal [@process_id] * 3, executions.map { |e| e["process_id"] }
    executions.each { |e| refute_nil e["finished_at"] }

    row = job_row(job)
    refute_nil row["finished_at"]
    refute_nil row["performed_at"]
    assert_nil row["error"]
    assert_nil row["error_event"]
    assert_equal 3, row["executions_count"].to_i
    assert_equal 2, JSON.parse(row["serialized_params"])["executions"], "the params of the last retry"
    assert_nil row["locked_by_id"]
  end

  # Between attempts the row waits for the retry time: not performed, not finished, the error
  # of the attempt (error_event 3), executions incremented in its params, scheduled_at moved.
  def test_a_retry_waits_on_the_same_row_for_its_time
    job = LaterJob.perform_later
    assert wait_for(20) { execution_rows(job).first&.fetch("finished_at") }, diagnostics

    row = job_row(job)
    first = execution_rows(job).first
    assert_nil row["performed_at"]
    assert_nil row["finished_at"]
    assert_nil row["locked_by_id"]
    assert_equal "PollerRetryTest::LaterError: not yet", row["error"]
    assert_equal 3, row["error_event"].to_i
    assert_equal 1, row["executions_count"].to_i
    assert_equal 1, JSON.parse(row["serialized_params"])["executions"]
    first_started = first["created_epoch"].to_f
    assert_operator row["scheduled_epoch"], :>=, first_started + 3 - 0.001, "rescheduled 3 s after the attempt (retry_on wait: 3)"

    wait_finished(job, timeout: 30)
    row = job_row(job)
    assert_equal "t", row["on_time"], "the retry did not run before its time"
    assert_equal [3, nil], execution_rows(job).map { |e| e["error_event"]&.to_i }
    assert_equal 2, row["executions_count"].to_i
    assert_nil row["error"]
  end

  # discard_on: finished, with the error, error_event 5; no retry.
  def test_discard_on_finishes_the_job_as_discarded
    job = DiscardJob.perform_later
    wait_finished(job)

    assert_outcome(job, error: "PollerRetryTest::DiscardableError: no longer relevant", event: 5)
    assert_equal 1, JOURNAL.entries.size
  end

  # An exception out of perform: finished, error "Class: message", error_event 1, the
  # attempt's backtrace recorded; the poller's thread goes on to the next job.
  def test_an_unhandled_error_is_recorded_with_its_backtrace
    job = BoomJob.perform_later
    after = FineJob.perform_later
    wait_finished(job, after)

    execution = assert_outcome(job, error: "PollerRetryTest::BoomError: boom", event: 1)
    assert_operator execution["backtrace_size"].to_i, :>=, 1
    assert_includes execution["backtrace_text"], "poller_retry_test.rb", "the backtrace goes through the job's perform"
    assert_outcome(after, error: nil, event: nil)
    assert_equal %w[BoomJob FineJob], JOURNAL.names
  end

  # rescue_from: the job handled its error; finished, error recorded, error_event 2.
  def test_rescue_from_is_a_handled_error
    job = HandledJob.perform_later
    wait_finished(job)

    assert_outcome(job, error: "PollerRetryTest::HandledError: dealt with", event: 2)
    assert JOURNAL.started?("rescued"), "the rescue_from block ran"
  end

  # retry_on out of attempts: the last attempt is retry_stopped (4), so is the job.
  def test_retry_on_exhausted_stops_retrying
    job = HopelessJob.perform_later
    wait_finished(job)

    executions = execution_rows(job)
    assert_equal [3, 4], executions.map { |e| e["error_event"]&.to_i }
    assert_equal ["PollerRetryTest::HopelessError: never works"] * 2, executions.map { |e| e["error"] }
    row = job_row(job)
    refute_nil row["finished_at"]
    assert_equal "PollerRetryTest::HopelessError: never works", row["error"]
    assert_equal 4, row["error_event"].to_i
    assert_equal 2, row["executions_count"].to_i
    assert_equal [1, 2], JOURNAL.entries.map(&:executions)
  end

  private

  # One attempt, finished with +error+ and +event+ on both the job and its execution row;
  # returns the execution row.
  def assert_outcome(job, error:, event:)
    row = job_row(job)
    refute_nil row["performed_at"]
    refute_nil row["finished_at"]
    error.nil? ? assert_nil(row["error"]) : assert_equal(error, row["error"])
    assert_equal event.inspect, row["error_event"]&.to_i.inspect
    assert_equal 1, row["executions_count"].to_i
    assert_nil row["locked_by_id"]

    executions = execution_rows(job)
    assert_equal 1, executions.size
    execution = executions.first
    error.nil? ? assert_nil(execution["error"]) : assert_equal(error, execution["error"])
    assert_equal event.inspect, execution["error_event"]&.to_i.inspect
    assert_equal @process_id, execution["process_id"]
    refute_nil execution["finished_at"]
    execution
  end
end
