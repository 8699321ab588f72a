//! The cron scheduler: one timer for all entries, one statement per instant, catch-up after a
//! start or an outage. It runs on its own thread with a single-threaded tokio runtime, created
//! on `start` (never before, so a forked child starts its own).

use crate::config::{EntryConfig, SchedulerConfig};
use crate::schedule::Schedule;
use crate::store::{Claim, Store, StoreError};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// How bad a log line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// What the scheduler tells its host, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Log {
        level: Level,
        message: String,
    },
    /// This process won the run of `key` at `cron_at` and enqueued job `job_id`.
    Claimed {
        key: String,
        cron_at: i64,
        job_id: Uuid,
        lateness: f64,
    },
}

/// Without `cron_graceful_restart_period`, the end of an outage still claims what it missed
/// in the last minute, so a brief blip of the database loses nothing.
const DEFAULT_OUTAGE_WINDOW: i64 = 60;
/// Rows per claim statement when catching up many instants.
const CLAIM_CHUNK: usize = 5_000;
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const SKEW_CHECK_EVERY: i64 = 600;

/// One entry, ready to stamp runs: the ActiveJob hash split around the per-run fields.
struct Entry {
    config: EntryConfig,
    schedule: Schedule,
    params: Vec<Part>,
}

/// A piece of the serialized ActiveJob hash: fixed text, or a per-run value (with the number
/// of fractional second digits for timestamps).
enum Part {
    Text(String),
    JobId,
    EnqueuedAt(usize),
    ScheduledAt(usize),
}

/// Timestamps as the running Rails writes them: the template's `enqueued_at` decides how
/// many fractional digits (Rails 6.1 writes none, 7.1 writes nine).
fn iso8601(at: DateTime<Utc>, digits: usize) -> String {
    let format = match digits {
        0 => SecondsFormat::Secs,
        1..=3 => SecondsFormat::Millis,
        4..=6 => SecondsFormat::Micros,
        _ => SecondsFormat::Nanos,
    };
    at.to_rfc3339_opts(format, true)
}

impl Entry {
    fn new(config: EntryConfig) -> Result<Entry, String> {
        let schedule = Schedule::parse(&config.cron).map_err(|e| format!("{}: {e}", config.key))?;
        let template: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&config.serialized_params).map_err(|e| {
                format!(
                    "{}: serialized_params is not a JSON object: {e}",
                    config.key
                )
            })?;
        let params = split_template(template);
        Ok(Entry {
            config,
            schedule,
            params,
        })
    }

    /// The row for the run at `cron_at`, enqueued at `now`.
    fn claim(&self, cron_at: i64, now: DateTime<Utc>) -> Claim {
        let id = Uuid::new_v4();
        let scheduled_at = match (self.config.wait_until, self.config.wait_seconds) {
            (Some(until), _) => {
                DateTime::from_timestamp_micros((until * 1e6) as i64).unwrap_or(now)
            }
            (None, Some(wait)) => now + chrono::Duration::microseconds((wait * 1e6) as i64),
            (None, None) => now,
        };
        let mut serialized_params = String::with_capacity(256);
        for part in &self.params {
            match part {
                Part::Text(text) => serialized_params.push_str(text),
                Part::JobId => push_quoted(&mut serialized_params, &id.to_string()),
                Part::EnqueuedAt(digits) => {
                    push_quoted(&mut serialized_params, &iso8601(now, *digits))
                }
                Part::ScheduledAt(digits) => {
                    push_quoted(&mut serialized_params, &iso8601(scheduled_at, *digits))
                }
            }
        }
        Claim {
            id,
            cron_key: self.config.key.clone(),
            cron_at: DateTime::from_timestamp(cron_at, 0)
                .unwrap_or_default()
                .naive_utc(),
            queue_name: self.config.queue_name.clone(),
            priority: self.config.priority,
            job_class: self.config.job_class.clone(),
            serialized_params,
            scheduled_at: scheduled_at.naive_utc(),
            created_at: now.naive_utc(),
            enabled_by_default: self.config.enabled_by_default,
        }
    }
}

fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    out.push_str(value);
    out.push('"');
}

/// Fractional second digits of an ISO 8601 timestamp ("…:00.123456789Z" has nine).
fn fraction_digits(value: Option<&serde_json::Value>) -> usize {
    let text = value.and_then(|v| v.as_str()).unwrap_or("");
    text.split_once('.').map_or(0, |(_, rest)| {
        rest.bytes().take_while(u8::is_ascii_digit).count()
    })
}

/// Serializes the template once, with markers where the per-run values go, and splits it there.
fn split_template(mut template: serde_json::Map<String, serde_json::Value>) -> Vec<Part> {
    let enqueued_digits = fraction_digits(template.get("enqueued_at"));
    let scheduled_digits = fraction_digits(template.get("scheduled_at")).max(enqueued_digits);
    let mut markers = vec![
        ("@@good_cron:job_id@@", Part::JobId),
        (
            "@@good_cron:enqueued_at@@",
            Part::EnqueuedAt(enqueued_digits),
        ),
    ];
    template.insert("job_id".into(), markers[0].0.into());
    template.insert("enqueued_at".into(), markers[1].0.into());
    // Rails 7.1+ serializes scheduled_at; 6.1 does not, and then neither do we.
    if template.contains_key("scheduled_at") {
        template.insert("scheduled_at".into(), "@@good_cron:scheduled_at@@".into());
        markers.push((
            "@@good_cron:scheduled_at@@",
            Part::ScheduledAt(scheduled_digits),
        ));
    }
    let mut rest = serde_json::Value::Object(template).to_string();
    let mut parts = Vec::new();
    while let Some((at, index)) = markers
        .iter()
        .enumerate()
        .filter_map(|(i, (m, _))| rest.find(&format!("\"{m}\"")).map(|at| (at, i)))
        .min()
    {
        let (marker, part) = markers.swap_remove(index);
        parts.push(Part::Text(rest[..at].to_owned()));
        parts.push(part);
        rest = rest[at + marker.len() + 2..].to_owned();
    }
    parts.push(Part::Text(rest));
    parts
}

/// A running scheduler. Dropping it asks the thread to stop without waiting.
pub struct Scheduler {
    shutdown: watch::Sender<bool>,
    finished: mpsc::Receiver<()>,
    /// Joined once the thread has said it finished, so nothing is left when `stop` returns.
    thread: Option<std::thread::JoinHandle<()>>,
    running: bool,
}

impl Scheduler {
    /// Parses every entry, starts the scheduler thread, and waits until it has reached the
    /// database: a missing table or index is an error here; an unreachable database is not
    /// (the scheduler keeps retrying and logs it).
    pub fn start(
        config: SchedulerConfig,
        events: mpsc::Sender<Event>,
    ) -> Result<Scheduler, String> {
        let entries = config
            .entries
            .iter()
            .cloned()
            .map(Entry::new)
            .collect::<Result<Vec<_>, _>>()?;
        let window = config.graceful_restart_period.map(|s| s.max(0.0) as i64);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (finished_tx, finished) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the scheduler runtime: {e}"))?;
        let store = {
            let _context = runtime.enter();
            Store::new(&config.database_url).map_err(|e| format!("database_url: {e}"))?
        };
        let thread = std::thread::Builder::new()
            .name("good_cron-scheduler".into())
            .spawn(move || {
                let mut run = Run {
                    entries,
                    store,
                    window,
                    events,
                    heap: BinaryHeap::new(),
                    down_since: None,
                    outage: false,
                    backoff: Duration::ZERO,
                    skew_checked_at: None,
                };
                runtime.block_on(run.run(ready_tx, shutdown_rx));
                // The pool and the runtime go before the thread says it has finished.
                drop(run);
                drop(runtime);
                let _ = finished_tx.send(());
            })
            .map_err(|e| format!("cannot start the scheduler thread: {e}"))?;
        match ready.recv() {
            Ok(Err(message)) => {
                let _ = thread.join();
                Err(message)
            }
            _ => Ok(Scheduler {
                shutdown,
                finished,
                thread: Some(thread),
                running: true,
            }),
        }
    }

    /// Asks the scheduler to stop and waits up to `timeout` (forever if `None`); true when
    /// it has stopped.
    pub fn stop(&mut self, timeout: Option<Duration>) -> bool {
        let _ = self.shutdown.send(true);
        let stopped = match timeout {
            Some(timeout) => self.finished.recv_timeout(timeout).is_ok(),
            None => self.finished.recv().is_ok(),
        } || !self.running;
        if stopped {
            self.running = false;
            // It has sent its last message: joining waits only for the thread to exit.
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
        stopped
    }

    pub fn is_running(&mut self) -> bool {
        if self.running && !matches!(self.finished.try_recv(), Err(mpsc::TryRecvError::Empty)) {
            self.running = false;
        }
        self.running
    }
}

/// The state of the scheduler thread.
struct Run {
    entries: Vec<Entry>,
    store: Store,
    /// How far back a start claims missed instants (`cron_graceful_restart_period`).
    window: Option<i64>,
    events: mpsc::Sender<Event>,
    /// The next instant of every entry: one timer for all.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    /// Set while instants wait to be claimed (after a start or an outage): the first of them.
    down_since: Option<i64>,
    /// The database is unreachable (logged once, when it happens).
    outage: bool,
    backoff: Duration,
    /// When the clocks were last compared.
    skew_checked_at: Option<i64>,
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Sleeps until the wall clock reaches `at` (whole seconds).
async fn sleep_until(at: i64) {
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

fn naive(at: i64) -> NaiveDateTime {
    DateTime::from_timestamp(at, 0)
        .unwrap_or_default()
        .naive_utc()
}

impl Run {
    fn log(&self, level: Level, message: String) {
        let _ = self.events.send(Event::Log { level, message });
    }

    /// Serves until asked to stop; whatever is in flight then (a sleep, a claim) is dropped,
    /// so `stop` never waits on the database.
    async fn run(
        &mut self,
        ready: mpsc::Sender<Result<(), String>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        tokio::select! {
            _ = self.serve(ready) => {}
            _ = shutdown.changed() => {}
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), self.store.close()).await;
    }

    async fn serve(&mut self, ready: mpsc::Sender<Result<(), String>>) {
        let started = now().timestamp();
        match self.store.check_schema().await {
            Ok(()) => {}
            Err(StoreError::Schema(message)) => {
                let _ = ready.send(Err(message));
                return;
            }
            Err(StoreError::Database(e)) => self.went_down(started, &e.to_string()),
        }
        let _ = ready.send(Ok(()));
        self.check_skew().await;
        // Catch up from the start of the graceful period, then run from now.
        let catch_up_from = self.window.map(|w| started - w);
        self.schedule_from(started);
        if let Some(from) = catch_up_from {
            self.down_since = Some(self.down_since.map_or(from, |d| d.min(from)));
        }
        loop {
            if self.down_since.is_some() {
                self.recover().await;
                continue;
            }
            let Some(&Reverse((at, _))) = self.heap.peek() else {
                return std::future::pending().await;
            };
            sleep_until(at).await;
            self.tick().await;
        }
    }

    fn schedule_from(&mut self, from: i64) {
        self.heap = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.schedule.next_after(from).map(|at| Reverse((at, i))))
            .collect();
    }

    /// Claims every entry due now in one statement, then queues each one's next instant.
    async fn tick(&mut self) {
        let stamp = now();
        let mut due = Vec::new();
        while let Some(&Reverse((at, i))) = self.heap.peek() {
            if at > stamp.timestamp() {
                break;
            }
            self.heap.pop();
            due.push((at, i));
        }
        let claims = self.claims(&due, stamp);
        for &(at, i) in &due {
            if let Some(next) = self.entries[i].schedule.next_after(at) {
                self.heap.push(Reverse((next, i)));
            }
        }
        match self.store.claim(&claims).await {
            Ok(won) => self.report(&won, stamp),
            Err(e) => {
                let first = due
                    .iter()
                    .map(|&(at, _)| at)
                    .min()
                    .unwrap_or(stamp.timestamp());
                self.went_down(first, &e.to_string());
            }
        }
        self.check_skew().await;
    }

    /// Rows for `(instant, entry)` pairs, in order: each is enqueued a microsecond after the
    /// one before, so executors that take the oldest first run them in this order.
    fn claims(&self, due: &[(i64, usize)], stamp: DateTime<Utc>) -> Vec<Claim> {
        due.iter()
            .zip(0..)
            .map(|(&(at, i), n)| {
                self.entries[i].claim(at, stamp + chrono::Duration::microseconds(n))
            })
            .collect()
    }

    fn report(&self, won: &[crate::store::Claimed], stamp: DateTime<Utc>) {
        for claimed in won {
            let cron_at = claimed.cron_at.and_utc().timestamp();
            let lateness = (stamp - claimed.cron_at.and_utc())
                .num_microseconds()
                .unwrap_or(0) as f64
                / 1e6;
            let _ = self.events.send(Event::Claimed {
                key: claimed.cron_key.clone(),
                cron_at,
                job_id: claimed.id,
                lateness,
            });
        }
    }

    fn went_down(&mut self, first_missed: i64, error: &str) {
        if !self.outage {
            self.outage = true;
            self.log(
                Level::Error,
                format!("good_cron: database unavailable ({error}); retrying with backoff"),
            );
        }
        self.down_since = Some(
            self.down_since
                .map_or(first_missed, |d| d.min(first_missed)),
        );
    }

    /// Claims missed instants (oldest first, within the window) once the database answers,
    /// retrying with backoff until it does, then resumes from now.
    async fn recover(&mut self) {
        tokio::time::sleep(self.backoff).await;
        let Some(since) = self.down_since else { return };
        let stamp = now();
        let from = since.max(stamp.timestamp() - self.window.unwrap_or(DEFAULT_OUTAGE_WINDOW));
        let mut missed: Vec<(i64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| {
                e.schedule
                    .within(from, stamp.timestamp())
                    .map(move |at| (at, i))
            })
            .collect();
        missed.sort_unstable();
        let mut claimed = 0;
        for chunk in missed.chunks(CLAIM_CHUNK) {
            let claims = self.claims(chunk, stamp);
            match self.store.claim(&claims).await {
                Ok(won) => {
                    claimed += won.len();
                    self.report(&won, stamp);
                }
                Err(e) => {
                    self.went_down(since, &e.to_string());
                    self.backoff =
                        (self.backoff * 2).clamp(Duration::from_millis(250), MAX_BACKOFF);
                    return;
                }
            }
        }
        let mut message = if self.outage {
            "good_cron: database available again; ".to_owned()
        } else {
            "good_cron: ".to_owned()
        };
        message.push_str(&format!(
            "caught up {claimed} missed run(s) since {}",
            naive(from)
        ));
        if since < from {
            message.push_str(&format!("; earlier runs, back to {}, are outside cron_graceful_restart_period and were skipped", naive(since)));
        }
        self.log(Level::Info, message);
        self.down_since = None;
        self.outage = false;
        self.backoff = Duration::ZERO;
        self.schedule_from(stamp.timestamp());
    }

    /// Warns when this host's clock and the database's differ by more than a second.
    async fn check_skew(&mut self) {
        let at = now().timestamp();
        if self
            .skew_checked_at
            .is_some_and(|checked| at - checked < SKEW_CHECK_EVERY)
        {
            return;
        }
        self.skew_checked_at = Some(at);
        let before = now();
        if let Ok(database) = self.store.database_now().await {
            let local = before + (now() - before) / 2;
            let skew = (database - local).num_milliseconds() as f64 / 1000.0;
            if skew.abs() > 1.0 {
                self.log(Level::Warn, format!("good_cron: this host's clock differs from the database's by {skew:.1}s; runs are still claimed once, but late or early by that much"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(serialized_params: &str, wait_seconds: Option<f64>) -> Entry {
        Entry::new(EntryConfig {
            key: "report".into(),
            cron: "every minute".into(),
            job_class: "ReportJob".into(),
            queue_name: "reports".into(),
            priority: 5,
            serialized_params: serialized_params.into(),
            wait_seconds,
            wait_until: None,
            enabled_by_default: true,
        })
        .unwrap()
    }

    fn stamped(entry: &Entry) -> (Claim, serde_json::Value) {
        let now = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456789Z")
            .unwrap()
            .to_utc();
        let claim = entry.claim(1_767_323_040, now);
        let params = serde_json::from_str(&claim.serialized_params).unwrap();
        (claim, params)
    }

    #[test]
    fn stamps_each_run_like_rails_6_1_serializes_it() {
        let template = r#"{"job_class":"ReportJob","job_id":"x","provider_job_id":null,"queue_name":"reports","priority":5,"arguments":[1,{"_aj_symbol_keys":[]}],"executions":0,"locale":"en","enqueued_at":"2020-01-01T00:00:00Z"}"#;
        let (claim, params) = stamped(&entry(template, None));
        assert_eq!(params["job_id"], claim.id.to_string());
        assert_eq!(params["enqueued_at"], "2026-01-02T03:04:05Z");
        assert_eq!(
            params["arguments"],
            serde_json::json!([1, {"_aj_symbol_keys": []}])
        );
        assert!(params.get("scheduled_at").is_none());
        assert_eq!(claim.cron_at.to_string(), "2026-01-02 03:04:00");
        assert_eq!(claim.created_at, claim.scheduled_at);
        assert_eq!((claim.queue_name.as_str(), claim.priority), ("reports", 5));
    }

    #[test]
    fn keeps_rails_7_1_precision_and_moves_scheduled_at_by_wait() {
        let template = r#"{"job_id":"x","enqueued_at":"2020-01-01T00:00:00.000000000Z","scheduled_at":"2020-01-01T00:00:00.000000000Z"}"#;
        let (claim, params) = stamped(&entry(template, Some(30.0)));
        assert_eq!(params["enqueued_at"], "2026-01-02T03:04:05.123456789Z");
        assert_eq!(params["scheduled_at"], "2026-01-02T03:04:35.123456789Z");
        assert_eq!((claim.scheduled_at - claim.created_at).num_seconds(), 30);
    }

    #[test]
    fn every_run_gets_its_own_job_id() {
        let e = entry(
            r#"{"job_id":"x","enqueued_at":"2020-01-01T00:00:00Z"}"#,
            None,
        );
        assert_ne!(stamped(&e).0.id, stamped(&e).0.id);
    }
}
