# frozen_string_literal: true

require "socket"

# A TCP port on 127.0.0.1 that nothing listens on right now.
#
# Under test/support/parallel_tests.rb, worker k (GOOD_CRON_TEST_WORKER) takes its ports in
# turn from a range of its own below the kernel's ephemeral ports, so no other worker, and no
# connection's local port, can take a port between its pick and the server's bind.
module FreePort
  FIRST = 20_000
  PER_WORKER = 1_000
  @worker = ENV["GOOD_CRON_TEST_WORKER"]&.then { |k| Integer(k, 10) }
  @next = rand(PER_WORKER)

  def self.pick
    return bind_and_close(0) unless @worker

    PER_WORKER.times do
      port = FIRST + (@worker * PER_WORKER) + (@next % PER_WORKER)
      @next += 1
      return bind_and_close(port)
    rescue Errno::EADDRINUSE
      next
    end
    raise "no free port in worker #{@worker}'s range"
  end

  def self.bind_and_close(port)
    server = TCPServer.new("127.0.0.1", port)
    server.addr[1]
  ensure
    server&.close
  end
end
