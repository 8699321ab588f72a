//! The lock session's connection: opening it, taking back what this process holds, and
//! the outage when it drops.

use super::listen::Wake;
use super::{Command, Worker, MAX_BACKOFF, MIN_BACKOFF};
use crate::log::Level;
use crate::store::jobs::{Held, LockSession};
use crate::store::StoreError;
use chrono::NaiveDateTime;
use tokio::sync::{mpsc as async_mpsc, watch};
use tokio::time::Instant;
use uuid::Uuid;

/// A lock session just opened.
struct Opened {
    session: LockSession,
    /// Jobs this process held that another process took meanwhile.
    lost: Vec<Uuid>,
    /// Jobs locked by this process that it did not know of, given back.
    orphans: u64,
    upcoming: Vec<NaiveDateTime>,
}

impl Worker {
    /// Connects the lock session (within the connect timeout), takes back the jobs it still
    /// holds (after an outage) and learns the upcoming scheduled times.
    pub(super) async fn connect(&mut self) -> Result<(), StoreError> {
        let opened = self.open_session().await;
        self.connected(opened)
    }

    /// `connect` (and `alongside` to its end too), answering the host's commands meanwhile, so
    /// that a `close` or a stop never waits for a connect timeout; `None` when asked to stop.
    pub(super) async fn connect_answering<T>(
        &mut self,
        alongside: impl std::future::Future<Output = T>,
        shutdown: &mut watch::Receiver<bool>,
        commands: &mut async_mpsc::UnboundedReceiver<Command>,
    ) -> Option<(Result<(), StoreError>, T)> {
        let opening = self.open_session();
        let both = async move { tokio::join!(opening, alongside) };
        tokio::pin!(both);
        let (opened, beside) = loop {
            tokio::select! {
                done = &mut both => break done,
                _ = shutdown.changed() => return None,
                Some(command) = commands.recv() => {
                    self.accept(command);
                    // Without a session this only answers `close` calls.
                    self.write_results(false).await;
                }
            }
        };
        Some((self.connected(opened), beside))
    }

    /// A new lock session, with the jobs this process holds taken back.
    fn open_session(
        &self,
    ) -> impl std::future::Future<Output = Result<Opened, StoreError>> + use<> {
        let (url, state, timeout) = (
            self.config.database_url.clone(),
            self.config.process_state.clone(),
            self.connect_timeout,
        );
        let (process_id, held, max_cache) = (self.process_id, self.held(), self.config.max_cache);
        async move {
            let opening = LockSession::open(&url, process_id, &state);
            let mut session = tokio::time::timeout(timeout, opening)
                .await
                .unwrap_or_else(|_| {
                    Err(StoreError::Unreachable(format!(
                        "no connection within {timeout:?}"
                    )))
                })?;
            let (lost, orphans) = session.reown(&held).await?;
            let upcoming = session.upcoming(max_cache).await?;
            Ok(Opened {
                session,
                lost,
                orphans,
                upcoming,
            })
        }
    }

    fn connected(&mut self, opened: Result<Opened, StoreError>) -> Result<(), StoreError> {
        let opened = match opened {
            Ok(opened) => opened,
            Err(e) => {
                self.went_down(&e);
                return Err(e);
            }
        };
        self.lost_during_outage(&opened.lost, opened.orphans);
        self.upcoming.extend(opened.upcoming);
        self.session = Some(opened.session);
        self.wake(Wake::Everyone);
        if self.outage {
            self.outage = false;
            self.log(
                Level::Info,
                "good_cron: poller reconnected to the database".into(),
            );
        }
        self.backoff.reset();
        Ok(())
    }

    /// Every job this process holds and has not written yet: running, finished, released.
    fn held(&self) -> Vec<Held> {
        let count = |id: &Uuid| self.counts.get(id).copied().unwrap_or(0);
        let running = self.in_flight.keys().map(|id| Held {
            id: *id,
            executions_count: count(id),
            attempt: None,
        });
        let finished = self.finished.iter().map(|f| Held {
            id: f.id,
            executions_count: count(&f.id),
            attempt: Some(f.attempt),
        });
        let released = self.released.iter().map(|r| Held {
            id: r.id,
            executions_count: count(&r.id),
            attempt: None,
        });
        running.chain(finished).chain(released).collect()
    }

    fn lost_during_outage(&self, lost: &[Uuid], orphans: u64) {
        if !lost.is_empty() {
            self.log(
                Level::Warn,
                format!(
                    "good_cron: {} job(s) of this process were taken by another process while the database was away; \
                     their results here will not be written: {}",
                    lost.len(),
                    lost.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        if orphans > 0 {
            self.log(
                Level::Warn,
                format!(
                    "good_cron: gave back {orphans} job(s) locked by this process in a dequeue whose reply was lost"
                ),
            );
        }
    }

    pub(super) fn went_down(&mut self, error: &StoreError) {
        self.session = None;
        self.reconnect_at = Instant::now() + self.backoff.failed();
        if !self.outage {
            self.outage = true;
            let what = match error.is_unreachable() {
                true => "database unreachable",
                false => "a statement failed",
            };
            self.log(
                Level::Error,
                format!(
                    "good_cron: poller: {what}: {error}; reconnecting every {} to {} s",
                    MIN_BACKOFF.as_secs_f64(),
                    MAX_BACKOFF.as_secs()
                ),
            );
        }
    }
}
