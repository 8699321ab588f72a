# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/waiting"
require_relative "support/good_job_rows"
require_relative "support/poller_app"

# Transactional enqueue in the fixture Rails app on good_cron's adapter: a `bin/rails runner`
# enqueues RecordJob inside ActiveRecord transactions (with Note rows, the app's data) that
# commit or roll back; a session of the test LISTENs for `NOTIFY good_job` meanwhile; then
# `good_cron start` runs what was enqueued. Each scenario enqueues to a queue of its own
# name, which the NOTIFY payload carries.
class RailsAppTransactionTest < Minitest::Test
  include Waiting
  include TestDatabase::Helper
  include PollerApp::Fixture
  include GoodJobRows

  NOTES = "CREATE TABLE IF NOT EXISTS notes (id bigserial PRIMARY KEY, tag text)"

  # Prints {scenario => [job ids]} as JSON on its last line.
  SCENARIOS = <<~'RUBY'
    ids = Hash.new { |hash, key| hash[key] = [] }
    enqueue = ->(tag, argument = tag) { ids[tag] << RecordJob.set(queue: tag).perform_later(argument).job_id }
    transaction = ActiveRecord::Base.method(:transaction)

    transaction.call do
      Note.create!(tag: "rolled-back")
      enqueue.call("rolled-back")
      raise ActiveRecord::Rollback
    end
    # The enqueue is the transaction's first statement (Rails 6.1 sends BEGIN with the first).
    transaction.call do
      enqueue.call("alone-rolled-back")
      raise ActiveRecord::Rollback
    end
    begin
      transaction.call do
        enqueue.call("raised")
        raise "the app fails"
      end
    rescue RuntimeError
      nil
    end
    transaction.call do
      enqueue.call("committed")
      Note.create!(tag: "committed")
    end
    # The issue's case: the argument is a record written in the same transaction (GlobalID).
    transaction.call do
      enqueue.call("record-rolled-back", Note.create!(tag: "record-rolled-back"))
      raise ActiveRecord::Rollback
    end
    transaction.call { enqueue.call("record-committed", Note.create!(tag: "record-committed")) }

    # Nested without requires_new: one transaction; Rails ignores a Rollback raised inside.
    transaction.call do
      enqueue.call("nested-outer")
      transaction.call do
        Note.create!(tag: "nested-inner")
        enqueue.call("nested-inner")
        raise ActiveRecord::Rollback
      end
    end
    transaction.call do
      enqueue.call("nested-rolled-back-outer")
      transaction.call { enqueue.call("nested-rolled-back-inner") }
      raise ActiveRecord::Rollback
    end

    # requires_new: savepoints; an inner rollback drops only what the inner block wrote.
    transaction.call do
      enqueue.call("savepoint-outer")
      transaction.call(requires_new: true) do
        Note.create!(tag: "savepoint-rolled-back")
        enqueue.call("savepoint-rolled-back")
        raise ActiveRecord::Rollback
      end
      transaction.call(requires_new: true) { enqueue.call("savepoint-released") }
    end
    transaction.call do
      transaction.call(requires_new: true) { enqueue.call("savepoint-of-rolled-back") }
      raise ActiveRecord::Rollback
    end

    # perform_all_later: Rails 6.1 has none, so the adapter's enqueue_all is called directly,
    # with the jobs Rails 7.1's perform_all_later would hand it.
    enqueue_all = lambda do |tag|
      jobs = Array.new(2) { |i| RecordJob.new("#{tag}-#{i}").tap { |job| job.queue_name = tag } }
      RecordJob.queue_adapter.enqueue_all(jobs)
      ids[tag].concat(jobs.map(&:job_id))
    end
    transaction.call do
      enqueue_all.call("all-rolled-back")
      raise ActiveRecord::Rollback
    end
    transaction.call { enqueue_all.call("all-committed") }

    # Outside any transaction (the engine's connection): the last NOTIFY the test waits for.
    enqueue.call("no-transaction")
    puts JSON.generate(ids)
  RUBY

  COMMITTED = %w[committed record-committed nested-outer nested-inner savepoint-outer savepoint-released all-committed
                 no-transaction].freeze
  ROLLED_BACK = %w[rolled-back alone-rolled-back raised record-rolled-back nested-rolled-back-outer
                   nested-rolled-back-inner savepoint-rolled-back savepoint-of-rolled-back all-rolled-back].freeze

  def setup
    super
    database.with_connection do |conn|
      conn.exec(NOTES)
      conn.exec("TRUNCATE notes")
    end
  end

  def test_jobs_commit_and_roll_back_with_the_transaction_they_were_enqueued_in
    ids, notified = run_scenarios
    assert_equal (COMMITTED + ROLLED_BACK).sort, ids.keys.sort

    assert_equal %w[committed record-committed nested-inner], notes, "the app's data: committed where its jobs are"
    rows = good_jobs_rows
    assert_equal COMMITTED.flat_map { |tag| ids[tag] }.sort, rows.keys.sort, "a row for each committed job, none other"
    rows.each_value { |row| assert_goodjob_row(row) }
    assert_equal COMMITTED.sort, notified.keys.sort, "a NOTIFY for each committed queue, none for a rolled-back one"
    notified.each do |queue, payloads|
      assert_equal 1, payloads.size, "one NOTIFY for #{queue}: #{payloads.inspect}"
      expected = queue == "all-committed" ? %w[count queue_name scheduled_at] : %w[queue_name scheduled_at]
      assert_equal expected, payloads.first.keys.sort, "GoodJob's payload for #{queue}"
    end
    assert_equal 2, notified["all-committed"].first["count"]

    worker = @app.start("--poll-interval", "1")
    assert worker.wait_started, worker.output
    wait_finished(rows.keys)
    worker.signal(:TERM)
    assert worker.wait(30)&.success?, worker.output
    runs = database.with_connection { |conn| conn.exec("SELECT job_id, tag FROM job_runs").to_a }
    assert_equal rows.keys.sort, runs.map { |run| run["job_id"] }.sort, "each committed job ran once, no rolled-back one"
    runs.each { |run| assert_equal rows.fetch(run["job_id"])["queue_name"], run["tag"].sub(/-\d\z/, "") }
  end

  # config.good_cron.database_url names the adapter's database: not ActiveRecord's as far as
  # it knows, so it writes on the engine's connection and a rollback keeps the job (README).
  def test_an_adapter_on_a_database_of_its_own_writes_outside_the_transaction
    @app.write_initializer("#{PollerApp::NO_CRON}\nRails.application.config.good_cron.database_url = ENV['DATABASE_URL']")
    ids, = run_scenarios(<<~'RUBY', until_queue: "own-database")
      id = nil
      ActiveRecord::Base.transaction do
        id = RecordJob.set(queue: "own-database").perform_later("own-database").job_id
        raise ActiveRecord::Rollback
      end
      puts JSON.generate("own-database" => [id])
    RUBY
    assert_equal ids["own-database"], good_jobs_rows.keys
  end

  private

  # Runs +script+ in `bin/rails runner` while a session LISTENs: the job ids by scenario (the
  # JSON the script prints last), and the NOTIFY payloads by queue until +until_queue+'s (the
  # script's last) arrived.
  def run_scenarios(script = SCENARIOS, until_queue: "no-transaction")
    File.write(File.join(@app.path, "tmp/scenarios.rb"), script)
    database.with_connection do |listener|
      listener.exec("LISTEN good_job")
      runner = PollerApp::Worker.new(@app.env, ["bin/rails", "runner", "tmp/scenarios.rb"], File.join(@app.path, "tmp"),
                                     chdir: @app.path)
      status = runner.wait(90)
      assert status&.success?, "the runner exited with #{status.inspect}\n#{runner.output}"
      [JSON.parse(runner.stdout.lines.reverse.find { |line| line.start_with?("{") }.to_s),
       notifications(listener, until_queue: until_queue)]
    end
  end

  # Notifications are delivered in commit order: once the last commit's arrived, every
  # earlier one has.
  def notifications(listener, until_queue:)
    payloads = Hash.new { |hash, key| hash[key] = [] }
    deadline = monotonic + 30
    until payloads.key?(until_queue)
      flunk "no NOTIFY for #{until_queue} within 30 s; got #{payloads.inspect}" if monotonic > deadline
      listener.wait_for_notify(1) do |_channel, _pid, payload|
        parsed = JSON.parse(payload)
        payloads[parsed["queue_name"]] << parsed
      end
    end
    payloads
  end

  def notes
    database.with_connection { |conn| conn.exec("SELECT tag FROM notes ORDER BY id").column_values(0) }
  end

  def good_jobs_rows
    database.with_connection do |conn|
      conn.exec("SELECT *, scheduled_at = created_at AS scheduled_now FROM good_jobs").to_h { |row| [row["id"], row] }
    end
  end

  # As GoodJob's adapter writes a RecordJob enqueued now.
  def assert_goodjob_row(row)
    assert_equal row["id"], row["active_job_id"]
    assert_equal "RecordJob", row["job_class"]
    assert_equal "0", row["priority"]
    assert_equal "t", row["scheduled_now"]
    assert_nil row["cron_key"]
    params = JSON.parse(row["serialized_params"])
    assert_equal [row["id"], "RecordJob", row["queue_name"]], params.values_at("job_id", "job_class", "queue_name")
    argument = params["arguments"].first
    argument = argument.fetch("_aj_globalid") if row["queue_name"] == "record-committed"
    assert_match(%r{\A(#{Regexp.escape(row["queue_name"])}(-\d)?|gid://rails-app/Note/\d+)\z}, argument)
  end
end
