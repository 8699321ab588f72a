# frozen_string_literal: true

require "pg"

# The database of a benchmark: DATABASE_URL (its bench/NAME wrapper starts a throwaway
# PostgreSQL), with good_cron's schema (GoodJob's tables) loaded.
module BenchDatabase
  SCHEMA = File.expand_path("../lib/good_cron/schema.sql", __dir__)

  # DATABASE_URL, or an exit that names the wrapper to run.
  def self.url(wrapper)
    ENV.fetch("DATABASE_URL") { abort "DATABASE_URL is not set: run #{wrapper}" }
  end

  def self.connect(url)
    conn = PG.connect(url)
    conn.exec("SET client_min_messages TO warning")
    conn
  end

  def self.load_schema(url)
    PG.connect(url) { |conn| conn.exec(File.read(SCHEMA)) }
  end
end
