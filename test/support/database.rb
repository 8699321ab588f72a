# frozen_string_literal: true

require "json"
require "pg"
require "uri"

# Gives each test file its own database on the server named by DATABASE_URL
# (bin/test starts a throwaway one), with lib/good_cron/schema.sql loaded.
# The database is named after the test file, created fresh on first use in a
# run, and dropped when the run ends.
#
#   class StoreTest < Minitest::Test
#     include TestDatabase::Helper
#
#     def test_something
#       database.with_connection { |conn| conn.exec("SELECT 1") }
#       database.url # => "postgres://postgres@127.0.0.1:PORT/good_cron_test_store"
#     end
#   end
module TestDatabase
  SCHEMA = File.expand_path("../../lib/good_cron/schema.sql", __dir__)

  # One database, for one test file.
  class Database
    attr_reader :name, :url

    # +url+: where it is (default: database +name+ on DATABASE_URL's server).
    def initialize(name, url: TestDatabase.url_for(name))
      @name = name
      @url = url
    end

    # A new connection; the caller closes it (or use #with_connection).
    def connect
      conn = PG.connect(url)
      conn.exec("SET client_min_messages TO warning")
      conn
    end

    def with_connection
      conn = connect
      yield conn
    ensure
      conn&.close
    end

    def load_schema
      with_connection { |conn| conn.exec(File.read(SCHEMA)) }
    end

    # GoodJob's good_job_settings row +key+ (cron_keys_disabled / cron_keys_enabled) set to +keys+.
    def set_setting(key, keys)
      with_connection do |conn|
        conn.exec_params(<<~SQL, [key, JSON.generate(keys)])
          INSERT INTO good_job_settings (id, created_at, updated_at, key, value)
          VALUES (gen_random_uuid(), now(), now(), $1, $2::jsonb)
          ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
        SQL
      end
    end

    # Empties every GoodJob table (between tests of one file).
    def truncate
      with_connection do |conn|
        conn.exec("TRUNCATE good_jobs, good_job_settings, good_job_processes, " \
                  "good_job_executions, good_job_batches, good_cron_claims")
      end
    end
  end

  @databases = {}
  @lock = Mutex.new

  class << self
    def server_url
      ENV.fetch("DATABASE_URL") do
        raise "DATABASE_URL is not set: run the tests with bin/test, which starts a throwaway PostgreSQL"
      end
    end

    # DATABASE_URL with its database name replaced.
    def url_for(name)
      uri = URI.parse(server_url)
      uri.path = "/#{name}"
      uri.to_s
    end

    def name_for(test_file)
      slug = File.basename(test_file, ".rb").sub(/_test\z/, "").downcase.gsub(/[^a-z0-9_]+/, "_")
      "good_cron_test_#{slug}"[0, 63]
    end

    # The database of +test_file+, created (schema loaded) on first use.
    def for_file(test_file)
      name = name_for(test_file)
      @lock.synchronize do
        @databases[name] ||= begin
          admin do |conn|
            conn.exec("DROP DATABASE IF EXISTS #{conn.quote_ident(name)} WITH (FORCE)")
            conn.exec("CREATE DATABASE #{conn.quote_ident(name)}")
          end
          Database.new(name).tap(&:load_schema)
        end
      end
    end

    # An empty database +name+ for the block (its URL), dropped after it.
    def scratch(name)
      admin do |conn|
        conn.exec("DROP DATABASE IF EXISTS #{conn.quote_ident(name)} WITH (FORCE)")
        conn.exec("CREATE DATABASE #{conn.quote_ident(name)}")
      end
      yield url_for(name)
    ensure
      admin { |conn| conn.exec("DROP DATABASE IF EXISTS #{conn.quote_ident(name)} WITH (FORCE)") }
    end

    def drop_all
      @lock.synchronize do
        return if @databases.empty?

        admin do |conn|
          @databases.each_key { |name| conn.exec("DROP DATABASE IF EXISTS #{conn.quote_ident(name)} WITH (FORCE)") }
        end
        @databases.clear
      end
    end

    # A connection to the server's maintenance database, for CREATE/DROP DATABASE.
    def admin
      conn = PG.connect(server_url)
      conn.exec("SET client_min_messages TO warning")
      yield conn
    ensure
      conn&.close
    end
  end

  # Mixed into a Minitest::Test: #database is the database of the file that
  # defines the test class (override #database_file to choose another).
  module Helper
    def database
      TestDatabase.for_file(database_file)
    end

    def database_file
      Object.const_source_location(self.class.name)&.first or
        raise "cannot tell the file of #{self.class}; define #database_file"
    end
  end
end

Minitest.after_run { TestDatabase.drop_all }
