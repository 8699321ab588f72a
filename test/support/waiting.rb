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

  # Sleeps until the wall clock is +fraction+ past a whole second (ticks happen at whole
  # seconds: stopping at .5 never cuts a tick in half).
  def sleep_until_fraction(fraction = 0.5)
    now = Time.now.to_f
    target = now.floor + fraction
    target += 1 if target <= now
    sleep(target - now)
  end
end
