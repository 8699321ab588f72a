# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/in_process_poller"
require "good_cron/capsule"

# GoodCron::Capsule in a plain Ruby process: one Configuration, both engines started and
# stopped together (the cron engine enqueues, the job engine runs what it enqueued); and
# GoodJob's meanings of shutdown(timeout:) on the Capsule, the Poller and the Scheduler: nil
# signals and returns at once, -1 waits as long as it takes, N > 0 waits up to N seconds.
# Jobs and enqueues are held at gates the test opens, so no assert depends on timing.
class CapsuleTest < Minitest::Test
  include InProcessPoller, GoodJobRows, TestDatabase::Helper, Waiting

  JOURNAL = JobJournal.new

  class BaseJob < ActiveJob::Base; end

  class EchoJob < BaseJob
    def perform(name)
      JOURNAL.record(name: name, job_id: job_id)
    end
  end

  class GateJob < BaseJob
    include InProcessPoller::Gate
  end

  # A cron entry on the ActiveJob path whose enqueue waits at the gate "enqueue".
  class GatedEnqueueJob < BaseJob
    around_enqueue do |_job, block|
      JOURNAL.start("enqueue")
      JOURNAL.wait_at_gate("enqueue")
      block.call
    end

    def perform; end
  end

  def setup
    super
    @engines = []
  end

  def teardown
    JOURNAL.open_all
    @engines.each { |engine| engine.shutdown(timeout: 10) }
    super
  end

  def capsule(good_job = {})
    configuration = GoodCron::Configuration.new({ poll_interval: 1 }.merge(good_job), {})
    GoodCron::Capsule.new(configuration, database_url: database.url, logger: @logger).tap { |c| @engines << c }
  end

  def gated_scheduler
    cron = { gated: { cron: "every second", class: "CapsuleTest::GatedEnqueueJob" } }
    GoodCron::Scheduler.new(cron, database_url: database.url, enqueue: :active_job, logger: @logger)
                       .tap { |s| @engines << s }.tap(&:start)
  end

  # A job held at its gate on a started capsule (or poller).
  def hold_a_job(engine)
    engine.start
    GateJob.perform_later("running")
    assert wait_for(30) { JOURNAL.started?("running") }, diagnostics
  end

  # Calls shutdown(timeout: +timeout+) on another thread; its value, once it returned.
  def shutdown_returns(engine, timeout)
    stopper = Thread.new { engine.shutdown(timeout: timeout) }
    assert stopper.join(30), "shutdown(timeout: #{timeout.inspect}) returned"
    stopper.value
  end

  # --- the plain Ruby process --------------------------------------------------------------

  def test_a_plain_ruby_process_runs_cron_and_jobs_from_one_capsule
    capsule = capsule(enable_cron: true, cron: { tick: { cron: "every second", class: "CapsuleTest::EchoJob", args: ["tick"] } })
    refute_nil capsule.scheduler
    refute_nil capsule.poller
    assert capsule.start.running?
    assert_nil capsule.failure
    assert_includes GoodCron::Capsule.started, capsule
    assert wait_for(30) { JOURNAL.names.include?("tick") }, "the job engine ran a job the cron engine enqueued\n#{diagnostics}"
    EchoJob.perform_later("enqueued")
    assert wait_for(30) { JOURNAL.names.include?("enqueued") }, diagnostics

    assert_equal true, capsule.shutdown(timeout: 10)
    refute capsule.scheduler.running?
    refute capsule.poller.running?
    assert_empty process_rows
  end

  def test_without_cron_enabled_it_builds_only_the_job_engine
    capsule = capsule(cron: { tick: { cron: "every second", class: "CapsuleTest::EchoJob", args: ["tick"] } })
    assert_nil capsule.scheduler
    assert capsule.start.running?
    assert_equal true, GoodCron.shutdown(timeout: 10), "GoodCron.shutdown stops the capsules started here"
    refute capsule.running?
  end

  # --- shutdown(timeout:) on the capsule -----------------------------------------------------

  def test_capsule_shutdown_nil_returns_at_once_and_minus_one_waits_for_the_running_job
    capsule = capsule(max_threads: 1)
    hold_a_job(capsule)

    assert_nil shutdown_returns(capsule, nil)
    refute_includes JOURNAL.names, "running", "the job still runs"
    waiting = Thread.new { capsule.shutdown(timeout: -1) }
    refute waiting.join(1), "-1 waits while the job runs"
    JOURNAL.open("running")
    assert_equal true, waiting.value, "every running job finished"
    assert_equal ["running"], JOURNAL.names
    refute capsule.running?
    assert_empty process_rows
  end

  def test_capsule_shutdown_n_waits_up_to_n_seconds_then_releases_the_running_job
    capsule = capsule(max_threads: 1)
    hold_a_job(capsule)

    assert_equal false, shutdown_returns(capsule, 0.5), "the running job was killed"
    assert_empty JOURNAL.names
    refute capsule.running?
    assert_empty process_rows
  end

  # --- shutdown(timeout:) on the poller and the scheduler ------------------------------------

  def test_poller_shutdown_nil_returns_at_once_and_takes_no_more_jobs
    poller = poller(max_threads: 1, poll_interval: 1)
    hold_a_job(poller)

    assert_nil shutdown_returns(poller, nil)
    EchoJob.perform_later("after")
    JOURNAL.open("running")
    assert_equal true, shutdown_returns(poller, -1)
    assert_equal ["running"], JOURNAL.names, "no job was taken after the shutdown"
    assert_empty process_rows
  end

  def test_scheduler_shutdown_nil_returns_while_an_enqueue_runs_and_stops_after_it
    scheduler = gated_scheduler
    assert wait_for(30) { JOURNAL.started?("enqueue") }, diagnostics

    assert_nil shutdown_returns(scheduler, nil)
    assert scheduler.running?, "it stops once the enqueue it handed over is done"
    JOURNAL.open("enqueue")
    assert wait_for(30) { !scheduler.running? }, diagnostics
  end

  def test_scheduler_shutdown_minus_one_waits_for_the_enqueue_and_n_does_not
    waited = gated_scheduler
    assert wait_for(30) { JOURNAL.started?("enqueue") }, diagnostics
    stopper = Thread.new { waited.shutdown(timeout: -1) }
    refute stopper.join(1), "-1 waits while the enqueue runs"

    bounded = gated_scheduler
    shutdown_returns(bounded, 0.5)
    JOURNAL.open("enqueue")
    assert_equal true, stopper.value
    assert_equal true, shutdown_returns(bounded, 10)
    refute waited.running?
    refute bounded.running?
  end
end
