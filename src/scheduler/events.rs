//! What crosses between the scheduler and its host: the events it sends, in order, and the
//! commands it takes. The binding turns these into what the Ruby side receives.

use crate::log::Log;
use crate::store::{Listed, Outcome};
use std::sync::mpsc;
use uuid::Uuid;

/// A run of an entry: what was decided about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub key: String,
    pub cron_at: i64,
    /// Seconds between the instant and the claim.
    pub lateness: f64,
    /// Claimed by a catch-up (after a start or an outage), not on time.
    pub caught_up: bool,
}

/// What the scheduler tells its host, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Log(Log),
    /// A direct run's outcome (`job_id` when this process inserted it).
    Claimed {
        run: Run,
        outcome: Outcome,
        job_id: Option<Uuid>,
    },
    /// A claim statement failed (the database is away); the run is retried by catch-up.
    Failed {
        run: Run,
        error: String,
    },
    /// This process won a ledger-path run: the host must enqueue it, then send `Enqueued`.
    /// `listed` (GoodJob's settings) with the entry's default decides whether it is enabled.
    Enqueue {
        run: Run,
        listed: Listed,
    },
    /// Another process has a ledger-path run, its entry is disabled, or its claim is stale.
    Skipped {
        run: Run,
        outcome: Outcome,
    },
    /// The host must send the next instant of `key` (a Proc schedule) after `after`: its
    /// run just due, or at start its last run in the database (`None`: it never ran).
    Next {
        key: String,
        after: Option<i64>,
    },
    /// The host asked to quiesce and every `Enqueue` was sent: no more will be.
    Quiesced,
}

/// What the host did with a ledger-path run it was handed.
#[derive(Clone, Debug, PartialEq)]
pub enum Report {
    /// Enqueued, with its job id (`None`: a Proc enqueued by itself, or a callback halted).
    Enqueued(Option<String>),
    /// Not enqueued, on purpose (the reason is recorded): e.g. its Proc says disabled.
    Skipped(String),
    /// Enqueuing raised: retried with backoff until `claim_timeout`.
    Raised(String),
}

/// What the host tells the scheduler.
#[derive(Clone, Debug)]
pub enum Command {
    /// What became of a ledger-path run. `recorded` is told once the ledger write was tried.
    Reported {
        key: String,
        cron_at: i64,
        report: Report,
        recorded: Option<mpsc::Sender<()>>,
    },
    /// The next instant of a Proc-scheduled entry; `None`: it never runs again.
    Next { key: String, at: Option<i64> },
}
