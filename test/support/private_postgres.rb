# frozen_string_literal: true

require "tmpdir"
require "fileutils"
require "uri"
require_relative "free_port"
require "pg"

# A PostgreSQL server of a test's own, for tests that stop and restart the database under
# running schedulers. As root, PostgreSQL's tools run as the postgres user.
class PrivatePostgres
  # Mixed into a test after the modules whose setup uses #database (InProcessPoller,
  # PollerApp::Fixture): #database is a server of the test's own (@postgres), made before their
  # setup and destroyed after their teardown, so the test can restart it.
  module TestServer
    attr_reader :database

    def setup
      @postgres = PrivatePostgres.new
      @database = TestDatabase::Database.new("postgres", url: @postgres.url)
      super
    end

    def teardown
      super
    ensure
      @postgres&.destroy
    end
  end

  BIN = Dir["/usr/lib/postgresql/*/bin"].max_by { |dir| dir[%r{/(\d+)/bin\z}, 1].to_i }

  EC_KEY = %w[-newkey ec -pkeyopt ec_paramgen_curve:prime256v1].freeze
  # With tls: a superuser who logs in with a client certificate (#client_cert_path) only.
  CERTIFIED_USER = "certified"

  attr_reader :port, :log_path, :ca_path, :client_cert_path, :client_key_path

  # +tls+: TLS on, with a certificate for "localhost" signed by a throwaway authority
  # (#ca_path), and TCP connections without TLS refused.
  def initialize(tls: false)
    @dir = Dir.mktmpdir("good_cron_private_pg")
    FileUtils.chown("postgres", nil, @dir) if Process.uid.zero?
    @log_path = File.join(@dir, "postgresql.log")
    @port = FreePort.pick
    run("#{BIN}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync")
    configure_tls if tls
    File.write(File.join(data, "postgresql.auto.conf"), <<~CONF)
      listen_addresses = '127.0.0.1'
      port = #{@port}
      unix_socket_directories = '#{@dir}'
      fsync = off
      log_min_messages = warning
      log_min_error_statement = error
      ssl = #{tls ? "on" : "off"}
      #{"ssl_ca_file = 'ca.crt'" if tls}
    CONF
    start
    PG.connect(url) do |conn|
      conn.exec(File.read(File.expand_path("../../lib/good_cron/schema.sql", __dir__)))
      conn.exec("CREATE ROLE #{CERTIFIED_USER} LOGIN SUPERUSER") if tls
    end
  end

  def socket_directory
    @dir
  end

  # +query+: URL parameters, such as sslmode: "verify-full".
  def url(user: "postgres", host: "127.0.0.1", **query)
    "postgres://#{user}@#{host}:#{@port}/postgres#{"?#{URI.encode_www_form(query)}" unless query.empty?}"
  end

  # Every session is cut, as a crash or a failover would; the server is back when it returns.
  def restart
    run("#{BIN}/pg_ctl", "-D", data, "-l", @log_path, "-m", "fast", "-w", "-t", "60", "restart")
  end

  def start
    run("#{BIN}/pg_ctl", "-D", data, "-l", @log_path, "-w", "-t", "60", "start")
  end

  def stop
    run("#{BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "60", "stop")
  end

  def destroy
    stop if File.exist?(File.join(data, "postmaster.pid"))
  ensure
    FileUtils.rm_rf(@dir)
  end

  private

  def data
    File.join(@dir, "data")
  end

  # Makes the authority, the server's certificate (its key readable by the server only) and a
  # client certificate for CERTIFIED_USER; allows TCP connections over TLS only, and
  # CERTIFIED_USER's with its certificate only.
  def configure_tls
    @ca_path = File.join(@dir, "ca.crt")
    ca_key = File.join(@dir, "ca.key")
    run("openssl", "req", "-x509", "-new", *EC_KEY, "-nodes", "-days", "2", "-subj", "/CN=good_cron test authority",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        "-keyout", ca_key, "-out", @ca_path)
    sign = lambda do |name, certificate, key, *extensions|
      run("openssl", "req", "-x509", "-new", *EC_KEY, "-nodes", "-days", "2", "-subj", "/CN=#{name}",
          "-CA", @ca_path, "-CAkey", ca_key, "-addext", "basicConstraints=critical,CA:FALSE", *extensions,
          "-keyout", key, "-out", certificate)
      File.chmod(0o600, key)
    end
    sign.call("localhost", File.join(data, "server.crt"), File.join(data, "server.key"),
              "-addext", "subjectAltName=DNS:localhost")
    @client_cert_path = File.join(@dir, "client.crt")
    @client_key_path = File.join(@dir, "client.key")
    sign.call(CERTIFIED_USER, @client_cert_path, @client_key_path)
    FileUtils.cp(@ca_path, File.join(data, "ca.crt"))
    File.write(File.join(data, "pg_hba.conf"), <<~HBA)
      local all all trust
      hostssl all #{CERTIFIED_USER} 127.0.0.1/32 cert
      hostssl all all 127.0.0.1/32 trust
    HBA
  end

  def run(*command)
    command = ["runuser", "-u", "postgres", "--", *command] if Process.uid.zero?
    system(*command, chdir: "/", out: File::NULL, err: File.join(@dir, "tool.log")) or
      raise "#{command.join(" ")} failed: #{File.read(File.join(@dir, "tool.log"))}"
  end
end
