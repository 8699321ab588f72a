//! The wait before trying again after a failure: doubling from a first wait up to a longest.

use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    first: Duration,
    longest: Duration,
    current: Duration,
}

impl Backoff {
    /// No wait until the first failure.
    pub const fn new(first: Duration, longest: Duration) -> Backoff {
        Backoff {
            first,
            longest,
            current: Duration::ZERO,
        }
    }

    /// The wait now: zero until a failure.
    pub fn current(&self) -> Duration {
        self.current
    }

    /// Another failure: the wait doubles (`first` after a success), up to `longest`.
    pub fn failed(&mut self) -> Duration {
        self.current = self
            .current
            .saturating_mul(2)
            .clamp(self.first, self.longest);
        self.current
    }

    /// A success: no wait until the next failure.
    pub fn reset(&mut self) {
        self.current = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_first_to_longest_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(1));
        assert_eq!(backoff.current(), Duration::ZERO);
        let waits: Vec<_> = (0..4).map(|_| backoff.failed().as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.current(), Duration::ZERO);
        assert_eq!(backoff.failed(), Duration::from_millis(250));
    }
}
