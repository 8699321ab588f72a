# frozen_string_literal: true

# What TLS costs the :good_cron adapter: single perform_later calls per second over plain TCP
# (a server without TLS) and over TLS (sslmode=require, then verify-full), each against a
# private PostgreSQL of its own (test/support/private_postgres.rb, fsync off), same run.
#
#   ruby bench/tls_bench.rb          (BENCH_N jobs per mode, default 2000)
require "logger"
$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "active_job"
require "good_cron"
require_relative "../test/support/private_postgres"

JOBS = Integer(ENV.fetch("BENCH_N", "2000"))

class TlsBenchJob < ActiveJob::Base
  self.logger = Logger.new(nil)
  def perform; end
end

def rate(url)
  TlsBenchJob.queue_adapter = GoodCron::Adapter.new(database_url: url)
  TlsBenchJob.perform_later # connects the pool outside the timing
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  JOBS.times { TlsBenchJob.perform_later }
  JOBS / (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started)
end

servers = [PrivatePostgres.new(tls: false), PrivatePostgres.new(tls: true)]
begin
  plain, tls = servers
  {
    "plain TCP (sslmode=disable)" => plain.url(sslmode: "disable"),
    "TLS (sslmode=require)" => tls.url(sslmode: "require"),
    "TLS (sslmode=verify-full)" => tls.url(host: "localhost", sslmode: "verify-full", sslrootcert: tls.ca_path),
  }.each { |mode, url| puts format("%-28s %6.0f perform_later/s", mode, rate(url)) }
ensure
  servers.each(&:destroy)
end
