# frozen_string_literal: true

require "json"
require "redis"
require "tmpdir"
require "fileutils"
require_relative "free_port"

# A throwaway redis-server (Debian's redis-server package) on a free loopback port, for the
# tests that enqueue through Sidekiq. Nothing is saved to disk.
#
#   redis = RedisServer.start
#   redis.url               # => "redis://127.0.0.1:PORT/0"
#   redis.refusing_writes { … } # every write fails with OOM meanwhile
#   redis.stop
class RedisServer
  # Sidekiq 6.4 ignores what SADD returns; this keeps redis-rb 4.8 from warning at each push.
  Redis.sadd_returns_boolean = false

  BINARY = "/usr/bin/redis-server"

  attr_reader :url

  def self.start
    new.tap(&:wait_until_ready)
  end

  def initialize
    @dir = Dir.mktmpdir("redis_good_cron")
    @port = FreePort.pick
    @url = "redis://127.0.0.1:#{@port}/0"
    @pid = Process.spawn(BINARY, "--port", @port.to_s, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                         "--dir", @dir, out: File::NULL, err: File::NULL)
  end

  def wait_until_ready(timeout = 10)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    begin
      client.ping
    rescue Redis::BaseConnectionError
      raise "redis-server did not start on port #{@port}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.05
      retry
    end
  end

  # Makes the server refuse every write ("OOM command not allowed"), as a full Redis does.
  def refuse_writes
    client.config(:set, "maxmemory-policy", "noeviction")
    client.config(:set, "maxmemory", "1")
  end

  def accept_writes
    client.config(:set, "maxmemory", "0")
  end

  # The ActiveJob hashes of the jobs Sidekiq holds in +queue+ (its JobWrapper's argument).
  def sidekiq_jobs(queue = "default")
    client.lrange("queue:#{queue}", 0, -1).map { |item| JSON.parse(item).fetch("args").first }
  end

  def client
    @client ||= Redis.new(url: @url)
  end

  def stop
    @client&.close
    Process.kill(:TERM, @pid)
    Process.wait(@pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  ensure
    FileUtils.rm_rf(@dir)
  end
end
