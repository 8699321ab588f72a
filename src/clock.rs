//! The engines' clocks: the wall clock (UTC) for instants and rows, tokio's monotonic clock
//! for waits.

use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio::time::Instant;

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Sleeps until `at`, or forever without one.
pub async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sleeps until the wall clock reaches `at` (Unix seconds), or forever without one.
pub async fn sleep_until_second(at: Option<i64>) {
    let Some(at) = at else {
        return std::future::pending().await;
    };
    loop {
        let wait = (DateTime::from_timestamp(at, 0).unwrap_or_default() - now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        if wait.is_zero() {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}
