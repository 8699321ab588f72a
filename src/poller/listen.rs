//! `LISTEN good_job`: a connection of its own that turns GoodJob's notifications into wake-ups.

use super::{MAX_BACKOFF, MIN_BACKOFF};
use crate::backoff::Backoff;
use chrono::{DateTime, NaiveDateTime};
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::mpsc as async_mpsc;

/// `NOTIFY` payloads carry times in whole milliseconds: a job is looked for this much later,
/// so that it is due by then.
const PAYLOAD_PRECISION: chrono::Duration = chrono::Duration::milliseconds(1);

/// What wakes the poller besides its host.
pub(super) enum Wake {
    /// A `NOTIFY good_job`: a job of `queue` due at `at` (now when `None`).
    Job {
        queue: Option<String>,
        at: Option<NaiveDateTime>,
    },
    /// Notifications may have been missed (the listener reconnected).
    Everyone,
}

/// Reads a `NOTIFY good_job` payload: `{"queue_name": …, "scheduled_at": …}` with the time
/// in UTC (`Z`) or with an offset, as ActiveSupport writes it.
fn parse_notice(payload: &str) -> Wake {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(payload) else {
        return Wake::Everyone;
    };
    Wake::Job {
        queue: value["queue_name"].as_str().map(String::from),
        at: value["scheduled_at"]
            .as_str()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.naive_utc() + PAYLOAD_PRECISION),
    }
}

/// A connection listening on `good_job`; `None` while the database is away.
pub(super) async fn listener(database_url: &str, timeout: Duration) -> Option<PgListener> {
    let connect = async {
        let mut listener = PgListener::connect_with(&listen_pool(database_url, timeout)?)
            .await
            .ok()?;
        listener.listen("good_job").await.ok()?;
        Some(listener)
    };
    tokio::time::timeout(timeout, connect).await.ok().flatten()
}

/// The one-connection pool a `PgListener` reconnects through, giving up after `timeout`
/// (sqlx's default retries for 30 s).
fn listen_pool(database_url: &str, timeout: Duration) -> Option<sqlx::PgPool> {
    let options = crate::store::connect_options(database_url).ok()?;
    Some(
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(timeout)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(options.application_name("good_cron listener")),
    )
}

/// Forwards notifications from `first` (connected before the poller read the database, so
/// nothing enqueued in between is missed), reconnecting with backoff; ends when the poller
/// has gone.
pub(super) async fn listen(
    database_url: String,
    timeout: Duration,
    first: Option<PgListener>,
    wakes: async_mpsc::UnboundedSender<Wake>,
) {
    let mut backoff = Backoff::new(MIN_BACKOFF, MAX_BACKOFF);
    let mut connected = first;
    loop {
        if let Some(mut listener) = connected.take() {
            backoff.reset();
            loop {
                let wake = match listener.try_recv().await {
                    Ok(Some(notice)) => parse_notice(notice.payload()),
                    // The connection dropped; the next call reconnects.
                    Ok(None) => Wake::Everyone,
                    Err(_) => break,
                };
                if wakes.send(wake).is_err() {
                    return;
                }
            }
        }
        if wakes.is_closed() {
            return;
        }
        tokio::time::sleep(backoff.failed()).await;
        connected = listener(&database_url, timeout).await;
        // Notifications sent while it was away are lost: look for work.
        if connected.is_some() && wakes.send(Wake::Everyone).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        DateTime::parse_from_rfc3339(text).unwrap().naive_utc()
    }

    #[test]
    fn reads_goodjob_payloads_in_utc_or_with_an_offset() {
        let Wake::Job { queue, at: when } =
            parse_notice(r#"{"queue_name":"mailers","scheduled_at":"2024-05-01T12:00:00.000Z"}"#)
        else {
            panic!("a job notice")
        };
        assert_eq!(queue.as_deref(), Some("mailers"));
        assert_eq!(
            when,
            Some(at("2024-05-01T12:00:00.001Z")),
            "a millisecond later"
        );
        let Wake::Job { at: when, .. } = parse_notice(
            r#"{"queue_name":"q","count":3,"scheduled_at":"2024-05-01T14:00:00.000+02:00"}"#,
        ) else {
            panic!("a job notice")
        };
        assert_eq!(when, Some(at("2024-05-01T12:00:00.001Z")));
        let Wake::Job { queue, at: when } = parse_notice("{}") else {
            panic!("a job notice")
        };
        assert_eq!((queue, when), (None, None));
        assert!(matches!(parse_notice("not json"), Wake::Everyone));
    }
}
