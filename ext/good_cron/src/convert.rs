//! Ruby numbers into the engine's types.

use good_cron_engine::config::micros;
use magnus::{Error, Ruby};
use std::time::Duration;

/// A timeout in seconds from Ruby: negative (and NaN) is zero, absurdly large is capped.
pub fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.clamp(0.0, 1e9)).unwrap_or(Duration::ZERO)
}

/// Unix seconds (a Ruby `Time#to_f`) as a UTC timestamp, to the microsecond PostgreSQL keeps;
/// an ArgumentError for NaN, infinities and times no timestamp holds.
pub fn unix_time(ruby: &Ruby, at: f64) -> Result<chrono::NaiveDateTime, Error> {
    micros(at)
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|at| at.naive_utc())
        .ok_or_else(|| {
            Error::new(
                ruby.exception_arg_error(),
                format!("time out of range: {at}"),
            )
        })
}

/// A configuration (JSON from the Ruby side) the engine refuses: an ArgumentError.
pub fn bad_config(ruby: &Ruby, what: &str, e: serde_json::Error) -> Error {
    Error::new(
        ruby.exception_arg_error(),
        format!("bad {what} configuration: {e}"),
    )
}
