# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/free_port"
require_relative "support/test_logger"
require_relative "support/waiting"
require "active_job"
require "securerandom"
require "socket"
require "uri"

# Starting the engines against a database that is away, full, silent or misconfigured: start
# returns within the connect timeout and says so in the log at once; what no retry can fix
# (a bad URL, refused credentials, a missing database or table) is an error of its own kind.
class EngineStartTest < Minitest::Test
  include TestDatabase::Helper
  include Waiting

  # Far more than the 2 s connect timeout these tests use, far less than the 30 s a start
  # used to hang.
  PROMPT = 10
  CRON = { tick: { cron: "*/5 * * * * *", class: "EngineStartTest::TickJob" } }.freeze

  class TickJob < ActiveJob::Base
    def perform; end
  end

  def setup
    database.load_schema
    @logger = TestLogger.new
    @engines = []
  end

  def teardown
    @engines.each { |engine| engine.shutdown(timeout: 5) }
    @silent&.close
  end

  def test_a_poller_starts_without_a_database_and_says_so_at_once
    started = timed { poller(refused_url).start }
    assert_operator started, :<, PROMPT
    assert wait_for(PROMPT) { unreachable_lines.any? }, @logger.lines.inspect
    assert_match(/database unreachable: .*refused/i, unreachable_lines.first)
    assert poller_engine.running?, "it keeps retrying"
  end

  def test_a_server_that_never_answers_costs_a_start_the_connect_timeout_only
    started = timed { poller(silent_url).start }
    assert_operator started, :<, PROMPT
    assert wait_for(PROMPT) { unreachable_lines.any? }, @logger.lines.inspect
    assert_includes unreachable_lines.first, "no connection within 2s"
  end

  def test_a_full_database_is_retried_and_logged
    role = "good_cron_full_#{SecureRandom.hex(4)}"
    database.with_connection do |conn|
      conn.exec("CREATE ROLE #{role} LOGIN CONNECTION LIMIT 0")
      conn.exec("GRANT pg_read_all_data, pg_write_all_data TO #{role}")
    end
    started = timed { poller(url_as(role)).start }
    assert_operator started, :<, PROMPT
    assert wait_for(PROMPT) { unreachable_lines.any? }, @logger.lines.inspect
    assert_includes unreachable_lines.first, "too many connections"

    database.with_connection { |conn| conn.exec("ALTER ROLE #{role} CONNECTION LIMIT -1") }
    assert wait_for(30) { @logger.at(:info).any? { |line| line.include?("poller reconnected") } }, @logger.lines.inspect
  ensure
    poller_engine&.shutdown(timeout: 5)
    database.with_connection { |conn| conn.exec("DROP ROLE IF EXISTS #{role}") }
  end

  def test_what_no_retry_fixes_is_an_error_of_its_own_for_both_engines
    missing_tables = "good_cron_test_no_tables"
    TestDatabase.admin do |conn|
      conn.exec("DROP DATABASE IF EXISTS #{missing_tables}")
      conn.exec("CREATE DATABASE #{missing_tables}")
    end
    cases = {
      "postgres://postgres@127.0.0.1:notaport/x" => [GoodCron::ConfigurationError, /database_url is not valid/],
      database.url.sub("postgres://", "postgress://") => [GoodCron::ConfigurationError, /scheme must be postgres/],
      url_as("no_such_role") => [GoodCron::RefusedCredentials, /refused the credentials: .*no_such_role/],
      url_for_database("no_such_database") => [GoodCron::MissingDatabase, /does not exist: .*no_such_database/],
      url_for_database(missing_tables) => [GoodCron::SchemaError, /tables? .*(is|are) missing/],
    }
    cases.each do |url, (error, message)|
      [-> { poller(url).start }, -> { scheduler(url).start }].each do |start|
        raised = assert_raises(error, url) { start.call }
        assert_match message, raised.message, url
      end
    end
  ensure
    TestDatabase.admin { |conn| conn.exec("DROP DATABASE IF EXISTS #{missing_tables}") }
  end

  # The calls that read or write once, with no engine started, raise the class of what failed
  # (a DatabaseError each), the CLI's and the app's to rescue by.
  def test_the_calls_outside_an_engine_raise_the_failure_s_class
    cases = {
      url_for_database("no_such_database") => GoodCron::MissingDatabase,
      url_as("no_such_role") => GoodCron::RefusedCredentials,
      refused_url => GoodCron::UnreachableDatabase,
    }
    cases.each do |url, error|
      control = GoodCron::Scheduler.new(CRON, database_url: url, logger: @logger, enqueue: :good_jobs)
      raised = [-> { control.entries }, -> { control.disable("tick") }, -> { control.enable("tick") },
                -> { control.enqueue_now("tick") }].map { |call| assert_raises(error, url) { call.call } }
      assert raised.all?(GoodCron::DatabaseError), raised.inspect
    end
    assert_equal %(the database "no_such_database" does not exist),
                 assert_raises(GoodCron::MissingDatabase) { scheduler(url_for_database("no_such_database")).entries }.message
  end

  def test_a_scheduler_starts_without_a_database_and_says_so_at_once
    started = timed { scheduler(refused_url).start }
    assert_operator started, :<, PROMPT
    assert wait_for(PROMPT) { @logger.at(:error).any? { |line| line.include?("refused") } }, @logger.lines.inspect
    assert @engines.last.running?
  end

  private

  def poller(url)
    GoodCron::Poller.new(database_url: url, logger: @logger, connect_timeout: 2, poll_interval: 1).tap { |p| @engines << p }
  end

  def scheduler(url)
    GoodCron::Scheduler.new(CRON, database_url: url, logger: @logger).tap { |s| @engines << s }
  end

  def poller_engine
    @engines.find { |engine| engine.is_a?(GoodCron::Poller) }
  end

  def unreachable_lines
    @logger.at(:error).select { |line| line.include?("database unreachable") }
  end

  def timed
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    yield
    Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  end

  def refused_url
    "postgres://postgres@127.0.0.1:#{FreePort.pick}/postgres"
  end

  # A server that accepts connections and never says a word.
  def silent_url
    @silent = TCPServer.new("127.0.0.1", 0)
    "postgres://postgres@127.0.0.1:#{@silent.addr[1]}/postgres"
  end

  def url_as(role)
    URI.parse(database.url).tap { |uri| uri.user = role }.to_s
  end

  def url_for_database(name)
    URI.parse(database.url).tap { |uri| uri.path = "/#{name}" }.to_s
  end
end
