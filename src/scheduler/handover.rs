//! Ledger-path runs: handed to the host, handed over again when the enqueue raised, and the
//! host's reports written to the ledger.

use super::entry::naive;
use super::{Command, Event, Report, Run, Worker, MAX_BACKOFF};
use crate::backoff::Backoff;
use crate::clock::now;
use crate::log::Level;
use crate::store::{Enqueued, Listed, Stale, StoreError};
use chrono::NaiveDateTime;
use std::cmp::Reverse;
use std::time::Duration;
use tokio::time::Instant;

/// The first retry of an enqueue that raised; then doubling up to `MAX_BACKOFF`.
const FIRST_RETRY: Duration = Duration::from_millis(250);

/// A ledger-path run handed to the host.
pub(super) struct Handed {
    run: Run,
    /// How GoodJob's settings listed its key when it was claimed.
    listed: Listed,
    /// Just before the statement that claimed it (or took it over): retries stop at this
    /// plus `claim_timeout`, when other processes may take it over.
    pub(super) claimed: Instant,
    /// The wait before handing it over again, longer each time its enqueue raised.
    backoff: Backoff,
    /// When to hand it over again after it raised.
    pub(super) retry_at: Option<Instant>,
}

impl Worker {
    /// Once quiesced: runs waiting for a retry are left to be taken over.
    pub(super) fn leave_handed(&mut self) {
        let waiting = self
            .handed
            .values()
            .filter(|h| h.retry_at.is_some())
            .count();
        if waiting > 0 {
            self.log(Level::Warn, format!("good_cron: stopping with {waiting} run(s) whose enqueue raised; another process takes them over after claim_timeout"));
        }
        self.handed.clear();
    }

    /// Tells the host to enqueue a run this process claimed (or took over) at `claimed`.
    pub(super) fn hand_over(&mut self, run: Run, listed: Listed, claimed: Instant) {
        let key = (run.key.clone(), run.cron_at);
        self.handed.insert(
            key,
            Handed {
                run: run.clone(),
                listed,
                claimed,
                backoff: Backoff::new(FIRST_RETRY, MAX_BACKOFF),
                retry_at: None,
            },
        );
        self.emit(Event::Enqueue { run, listed });
    }

    /// The host's enqueue of a run raised: hands it over again after a backoff while its
    /// claim is younger than `claim_timeout`; after that, other processes may take it over.
    fn raised(&mut self, key: String, cron_at: i64, error: &str) {
        let timeout = self.claim_timeout;
        let at = naive(cron_at);
        let Some(handed) = self.handed.get_mut(&(key.clone(), cron_at)) else {
            self.log(
                Level::Error,
                format!("good_cron: enqueuing {key} for {at} raised {error}; left for a takeover"),
            );
            return;
        };
        let backoff = handed.backoff.failed();
        let retry_at = Instant::now().checked_add(backoff);
        let deadline = handed.claimed.checked_add(timeout);
        match (retry_at, deadline) {
            (Some(retry_at), Some(deadline)) if retry_at < deadline => {
                handed.retry_at = Some(retry_at);
                self.log(
                    Level::Error,
                    format!(
                        "good_cron: enqueuing {key} for {at} raised {error}; retrying in {:.2}s",
                        backoff.as_secs_f64()
                    ),
                );
            }
            _ => {
                self.handed.remove(&(key.clone(), cron_at));
                self.log(Level::Error, format!("good_cron: enqueuing {key} for {at} raised {error}, still after claim_timeout ({:.0}s); left for a takeover", timeout.as_secs_f64()));
            }
        }
    }

    /// Hands over again the runs whose retry is due.
    pub(super) fn retry_raised(&mut self) {
        let quiesce = self.quiesce.clone();
        let Some(_handing) = quiesce.handing() else {
            return;
        };
        let instant = Instant::now();
        let stamp = now();
        let due: Vec<(Run, Listed)> = self
            .handed
            .values_mut()
            .filter(|h| h.retry_at.is_some_and(|at| at <= instant))
            .map(|h| {
                h.retry_at = None;
                (h.run.clone(), h.listed)
            })
            .collect();
        for (mut run, listed) in due {
            run.lateness = self.lateness(run.cron_at, stamp);
            self.emit(Event::Enqueue { run, listed });
        }
    }

    /// Ledger claims left by dead processes (or whose enqueues kept raising): taken over, or
    /// skipped when too old (`Store::take_over_stale`).
    pub(super) async fn stale_claims(
        &mut self,
    ) -> Result<Vec<(String, NaiveDateTime, Stale)>, StoreError> {
        let settings = self.has_settings().await?;
        self.store
            .take_over_stale(
                &self.ledger_keys,
                self.process,
                self.claim_timeout,
                self.stale_after,
                settings,
            )
            .await
    }

    /// Takes in commands; enqueued runs wait in `unrecorded` until written.
    pub(super) fn accept(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Reported {
                    key,
                    cron_at,
                    report,
                    recorded,
                } => {
                    self.recorded.extend(recorded);
                    let (job_id, skipped) = match report {
                        Report::Enqueued(job_id) => (job_id, None),
                        Report::Skipped(reason) => (None, Some(reason)),
                        Report::Raised(error) => {
                            self.raised(key, cron_at, &error);
                            continue;
                        }
                    };
                    self.handed.remove(&(key.clone(), cron_at));
                    self.unrecorded.push(Enqueued {
                        cron_key: key,
                        cron_at: naive(cron_at),
                        job_id,
                        skipped,
                    });
                }
                Command::Next { key, at } => {
                    if let (Some(&i), Some(at)) = (self.by_key.get(&key), at) {
                        self.heap.push(Reverse((at, i)));
                    }
                }
            }
        }
    }

    /// Writes the enqueued runs to the ledger. They leave `unrecorded` only once written: a
    /// stop that interrupts this writes them on its way out, and a failed write is retried
    /// at the next tick (until then, their claims look pending to other processes).
    pub(super) async fn record_enqueued(&mut self) {
        if !self.unrecorded.is_empty() {
            match self
                .store
                .mark_enqueued(&self.unrecorded, self.process)
                .await
            {
                Ok(()) => self.unrecorded.clear(),
                Err(e) => {
                    let message = format!(
                        "good_cron: could not record {} enqueued run(s) yet: {e}; retrying",
                        self.unrecorded.len()
                    );
                    self.log(Level::Warn, message);
                }
            }
        }
        // Told whether or not the write worked: a host never waits on a database that is away.
        for recorded in self.recorded.drain(..) {
            let _ = recorded.send(());
        }
    }
}
