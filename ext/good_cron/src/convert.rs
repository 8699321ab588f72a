//! Ruby numbers into the engine's types.

use crate::errors::error;
use magnus::{Error, Ruby};
use std::time::Duration;

/// A timeout in seconds from Ruby: negative is zero, absurdly large is capped.
pub fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value.clamp(0.0, 1e9))
}

/// Unix seconds (a Ruby `Time#to_f`) as a UTC timestamp, to the microsecond PostgreSQL keeps.
pub fn unix_time(ruby: &Ruby, at: f64) -> Result<chrono::NaiveDateTime, Error> {
    chrono::DateTime::from_timestamp_micros((at * 1e6).round() as i64)
        .map(|at| at.naive_utc())
        .ok_or_else(|| error(ruby, format!("time out of range: {at}")))
}
