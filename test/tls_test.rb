# frozen_string_literal: true

require_relative "test_helper"
require_relative "support/private_postgres"
require_relative "support/test_logger"
require "active_job"
require "active_record"
require "active_record/database_configurations"
require "good_cron/configuration"
require "tmpdir"

# TLS to the database with libpq's meaning of sslmode, sslrootcert, sslcert and sslkey, for
# every connection the engines open (scheduler, poller, its LISTEN connection, enqueuer),
# against a server of the test's own that accepts TCP connections over TLS only, its
# certificate (for "localhost") signed by an authority the test makes.
class TlsTest < Minitest::Test
  CRON = { tick: { cron: "0 0 1 1 *", class: "TlsTest::TickJob" } }.freeze
  UNKNOWN_AUTHORITY = /no TLS to the database: the server's certificate is signed by no authority sslrootcert trusts/
  MODES = "disable, allow, prefer, require, verify-ca, verify-full"
  # application_name of each connection: the scheduler's and the enqueuer's pools, the
  # poller's LISTEN connection and its own.
  SCHEDULER = ["good_cron"].freeze
  POLLER = ["good_cron listener", "good_cron poller"].freeze
  ALL = (SCHEDULER + POLLER).freeze

  class TickJob < ActiveJob::Base
    def perform; end
  end

  def setup
    @servers = []
    @engines = []
    @logger = TestLogger.new
    @job_logger = ActiveJob::Base.logger
    ActiveJob::Base.logger = Logger.new(nil)
    # No ~/.postgresql/root.crt (libpq's default root certificate) from the machine.
    @home = ENV["HOME"]
    ENV["HOME"] = Dir.mktmpdir("good_cron_tls_home")
  end

  def teardown
    @engines.each { |engine| engine.shutdown(timeout: 5) }
    @servers.each(&:destroy)
    FileUtils.rm_rf(ENV["HOME"])
    ENV["HOME"] = @home
    ActiveJob::Base.logger = @job_logger
  end

  def test_require_connects_every_engine_over_tls
    url = tls_server.url(sslmode: "require")
    scheduler(url).start
    assert_every_engine_connection_is_tls(tls_server, SCHEDULER)
    poller(url).start
    enqueue(url)

    jobs = query(tls_server, "SELECT count(*) FROM good_jobs WHERE job_class = 'TlsTest::TickJob'")
    assert_equal [["1"]], jobs
    assert_every_engine_connection_is_tls(tls_server, ALL)
  end

  def test_verify_full_with_the_authority_connects
    url = tls_server.url(host: "localhost", sslmode: "verify-full", sslrootcert: tls_server.ca_path)
    scheduler(url).start
    poller(url).start
    enqueue(url)

    assert_every_engine_connection_is_tls(tls_server, ALL)
  end

  def test_verify_full_refuses_a_host_name_the_certificate_does_not_name
    url = tls_server.url(host: "127.0.0.1", sslmode: "verify-full", sslrootcert: tls_server.ca_path)
    each_engine_refuses(url, GoodCron::DatabaseError,
                        /no TLS to the database: the server's certificate is not for the host name in database_url/)

    # verify-ca checks the authority only.
    poller(tls_server.url(host: "127.0.0.1", sslmode: "verify-ca", sslrootcert: tls_server.ca_path)).start
    assert_every_engine_connection_is_tls(tls_server, POLLER)
  end

  def test_verify_full_without_the_authority_is_refused
    each_engine_refuses(tls_server.url(host: "localhost", sslmode: "verify-full"), GoodCron::ConfigurationError,
                        %r{sslmode=verify-full needs the server's root certificate, and \S+/\.postgresql/root\.crt})
    each_engine_refuses(tls_server.url(host: "localhost", sslrootcert: "system"), GoodCron::DatabaseError,
                        UNKNOWN_AUTHORITY)
  end

  def test_require_with_a_root_certificate_verifies_it_as_libpq_does
    other_authorities = "/etc/ssl/certs/ca-certificates.crt"
    skip "#{other_authorities} is not there (Debian package ca-certificates)" unless File.file?(other_authorities)

    each_engine_refuses(tls_server.url(sslmode: "require", sslrootcert: other_authorities),
                        GoodCron::DatabaseError, UNKNOWN_AUTHORITY)
  end

  def test_a_server_without_tls_refuses_require
    plain = server(tls: false)
    each_engine_refuses(plain.url(sslmode: "require"), GoodCron::DatabaseError, /server does not support TLS/)
  end

  # disable is refused by a server that takes TLS only; allow and prefer use TLS there.
  def test_disable_allow_and_prefer
    each_engine_refuses(tls_server.url(sslmode: "disable"), GoodCron::DatabaseError,
                        /no pg_hba.conf entry .*no encryption/)
    %w[allow prefer].each { |mode| poller(tls_server.url(sslmode: mode)).start }
    assert_every_engine_connection_is_tls(tls_server, POLLER)
  end

  def test_sslcert_and_sslkey_log_in_with_a_client_certificate
    user = PrivatePostgres::CERTIFIED_USER
    url = tls_server.url(user: user, sslmode: "verify-full", host: "localhost", sslrootcert: tls_server.ca_path,
                         sslcert: tls_server.client_cert_path, sslkey: tls_server.client_key_path)
    scheduler(url).start
    poller(url).start
    enqueue(url)
    assert_every_engine_connection_is_tls(tls_server, ALL)
    users = query(tls_server, "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name LIKE 'good_cron%'")
    assert_equal [[user]], users

    each_engine_refuses(tls_server.url(user: user, sslmode: "require"), GoodCron::DatabaseError,
                        /refused the credentials: .*certificate/)
    each_engine_refuses(tls_server.url(user: user, sslmode: "require", sslcert: tls_server.client_cert_path,
                                       sslkey: "/nonexistent/client.key"),
                        GoodCron::ConfigurationError, %r{client certificate \S+/client.crt has no key file: set sslkey})
  end

  # libpq never asks for TLS on a Unix socket, whatever sslmode says.
  def test_a_unix_socket_connects_without_tls_under_any_sslmode
    url = "postgres:///postgres?host=#{tls_server.socket_directory}&port=#{tls_server.port}&user=postgres" \
          "&sslmode=verify-full"
    poller(url).start
    ssl = query(tls_server, "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) " \
                            "WHERE a.application_name = 'good_cron poller'")
    assert_equal [["f"]], ssl
  end

  def test_bad_tls_settings_are_named
    url = "postgres://postgres@127.0.0.1:1/postgres"
    {
      "#{url}?sslmode=verfy-full" => /unknown sslmode "verfy-full": use one of #{MODES}/,
      "#{url}?sslmode=REQUIRE" => /unknown sslmode "REQUIRE": use one of #{MODES}/,
      "#{url}?ssl-mode=require" => /unknown parameter "ssl-mode": use sslmode/,
      "#{url}?sslmode=require&sslrootcert=system" => /sslrootcert=system needs sslmode=verify-full, not require/,
    }.each do |bad, message|
      each_engine_refuses(bad, GoodCron::ConfigurationError, message)
      error = assert_raises(GoodCron::Error) { enqueue(bad) }
      assert_match message, error.message
    end
  end

  def test_pgsslmode_is_read_when_the_url_has_no_sslmode
    url = tls_server.url
    with_env("PGSSLMODE" => "verfy-full") do
      each_engine_refuses(url, GoodCron::ConfigurationError,
                          /unknown sslmode \(from PGSSLMODE\) "verfy-full": use one of #{MODES}/)
    end
  end

  # The Railtie's URL for a database.yml (GoodCron::Configuration.postgres_url of ActiveRecord's
  # configuration hash) keeps its TLS keys, from the URL or from keys of their own.
  def test_database_yml_tls_keys_reach_the_engines
    yml = {
      "with_keys" => { "adapter" => "postgresql", "host" => "localhost", "port" => tls_server.port,
                       "username" => "postgres", "database" => "postgres", "sslmode" => "verify-full",
                       "sslrootcert" => tls_server.ca_path },
      "with_url" => { "adapter" => "postgresql", "url" => tls_server.url(host: "localhost", sslmode: "verify-full"),
                      "sslrootcert" => tls_server.ca_path },
    }
    configurations = ActiveRecord::DatabaseConfigurations.new(yml)
    yml.each_key do |env|
      config = configurations.configs_for(env_name: env).first.configuration_hash
      url = GoodCron::Configuration.postgres_url(config)
      assert_match(/sslmode=verify-full/, url)
      poller(url).start.shutdown(timeout: 5)
    end
    # Without the authority, the same configuration is refused: the keys were read.
    config = yml["with_keys"].except("sslrootcert")
    each_engine_refuses(GoodCron::Configuration.postgres_url(config), GoodCron::ConfigurationError,
                        /needs the server's root/)
  end

  private

  def tls_server
    @tls_server ||= server(tls: true)
  end

  def server(tls:)
    PrivatePostgres.new(tls: tls).tap { |server| @servers << server }
  end

  def scheduler(url)
    GoodCron::Scheduler.new(CRON, database_url: url, logger: @logger).tap { |s| @engines << s }
  end

  def poller(url)
    GoodCron::Poller.new(database_url: url, logger: @logger, connect_timeout: 5).tap { |p| @engines << p }
  end

  # One job through the :good_cron adapter (the engine's enqueuer and its own pool).
  def enqueue(url)
    TickJob.queue_adapter = GoodCron::Adapter.new(database_url: url)
    TickJob.perform_later
  end

  def each_engine_refuses(url, error, message)
    { "poller" => -> { poller(url).start }, "scheduler" => -> { scheduler(url).start } }.each do |engine, start|
      raised = assert_raises(error, "#{engine}: #{url}") { start.call }
      assert_match message, raised.message, "#{engine}: #{url}"
    end
  end

  def assert_every_engine_connection_is_tls(server, names)
    rows = query(server, "SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) " \
                         "WHERE a.application_name LIKE 'good_cron%'")
    assert_equal names, rows.map(&:first).uniq.sort, rows.inspect
    assert rows.all? { |_, ssl| ssl == "t" }, rows.inspect
  end

  def query(server, sql)
    PG.connect("#{server.url}?sslmode=require") { |conn| conn.exec(sql).values }
  end

  def with_env(variables)
    saved = variables.keys.to_h { |name| [name, ENV[name]] }
    ENV.update(variables)
    yield
  ensure
    ENV.update(saved)
  end
end
