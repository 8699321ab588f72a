# frozen_string_literal: true

# Mixed into a test: waiting for something to happen, on the monotonic clock.
module Waiting
  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # Waits until the block is truthy (returns it) or +timeout+ passes (false).
  def wait_for(timeout)
    deadline = monotonic + timeout
    until (result = yield)
      return false if monotonic > deadline

      sleep 0.05
    end
    result
  end
end
