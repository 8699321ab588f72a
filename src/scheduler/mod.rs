//! The cron scheduler: one timer for all entries, one statement per instant, catch-up after a
//! start or an outage. It runs on its own thread with a single-threaded tokio runtime, created
//! on `start` (never before, so a forked child starts its own).
//!
//! Direct entries are inserted into `good_jobs` by the engine. Ledger-path entries are claimed in
//! the `good_cron_claims` ledger and handed to the host (`Event::Enqueue`), which enqueues them
//! through ActiveJob and reports back (`Command::Reported`): an enqueue that raised is handed
//! over again with backoff until `claim_timeout`, then left for a takeover. Entries whose
//! schedule is a Proc get each next instant from the host (`Event::Next` → `Command::Next`).

mod entry;
mod events;
mod handover;
mod quiesce;

use crate::backoff::Backoff;
use crate::clock::{now, sleep_until, sleep_until_second};
use crate::config::{duration, Enqueue, SchedulerConfig};
use crate::log::{Level, Log};
use crate::mailbox;
use crate::store::{Claim, Enqueued, LedgerClaim, Outcome, Stale, Store, StoreError};
use crate::thread::{self, EngineThread, StartError};
use crate::wait::Interrupt;
use chrono::{DateTime, Utc};
use entry::{naive, Entry};
use handover::Handed;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio::sync::{mpsc as async_mpsc, watch};
use tokio::time::Instant;
use uuid::Uuid;

pub use events::{Command, Event, Report, Run};
pub use quiesce::Quiesce;

/// Without `cron_graceful_restart_period`, the end of an outage still claims what it missed
/// in the last minute, so a brief blip of the database loses nothing.
const DEFAULT_OUTAGE_WINDOW: i64 = 60;
/// Rows per claim statement when catching up many instants.
const CLAIM_CHUNK: usize = 5_000;
/// Waits between tries to reach the database: the first, and the longest.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How often clocks are compared and the ledger pruned.
const HOUSEKEEPING_EVERY: i64 = 600;
/// How often ledger claims left by dead processes are looked for.
const STALE_CHECK_EVERY: u64 = 5;
/// A stale claim is enqueued late only while its instant is at most the catch-up window plus
/// `claim_timeout` plus this old (two looks for stale claims); an older one is skipped.
const STALE_MARGIN: f64 = 2.0 * STALE_CHECK_EVERY as f64;
const DEFAULT_CLAIM_TIMEOUT: f64 = 30.0;
/// How long the first connection may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A running scheduler. Dropping it asks the thread to stop without waiting.
pub struct Scheduler {
    commands: async_mpsc::UnboundedSender<Command>,
    quiesce: Arc<Quiesce>,
    thread: EngineThread,
}

impl Scheduler {
    /// Parses every entry, starts the scheduler thread, and waits until it has reached the
    /// database: a missing table or index is an error here; an unreachable database is not
    /// (the scheduler keeps retrying and logs it).
    pub fn start(
        config: SchedulerConfig,
        events: mailbox::Sender<Event>,
    ) -> Result<Scheduler, StartError> {
        let claim_timeout = config.claim_timeout.unwrap_or(DEFAULT_CLAIM_TIMEOUT);
        let entries = config
            .entries
            .iter()
            .cloned()
            .map(Entry::new)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StartError::Config)?;
        let quiesce = Arc::new(Quiesce::new(events.clone()));
        let (commands, commands_rx) = async_mpsc::unbounded_channel();
        let (ready_tx, ready) = mpsc::channel();
        let runtime = thread::runtime("scheduler")?;
        let store = {
            let _context = runtime.enter();
            Store::new(&config.database_url).map_err(|e| {
                e.start_error()
                    .unwrap_or_else(|| StartError::Config(format!("database_url: {e}")))
            })?
        };
        let worker = Worker {
            by_key: entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.config.key.clone(), i))
                .collect(),
            ledger_keys: entries
                .iter()
                .filter(|e| e.config.enqueue == Enqueue::ActiveJob)
                .map(|e| e.config.key.clone())
                .collect(),
            entries,
            store,
            window: config.graceful_restart_period.map(|s| s.max(0.0) as i64),
            claim_timeout: duration("claim_timeout", claim_timeout).map_err(StartError::Config)?,
            stale_after: config.graceful_restart_period.unwrap_or(0.0).max(0.0)
                + claim_timeout
                + STALE_MARGIN,
            process: Uuid::new_v4(),
            events,
            heap: BinaryHeap::new(),
            down_since: None,
            outage: false,
            backoff: Backoff::new(FIRST_BACKOFF, MAX_BACKOFF),
            housekeeping_at: None,
            quiesce: quiesce.clone(),
            settings: None,
            asked_first_instants: false,
            unrecorded: Vec::new(),
            recorded: Vec::new(),
            handed: HashMap::new(),
        };
        let report = {
            let events = worker.events.clone();
            move |message| {
                let _ = events.send(Event::Log(Log {
                    level: Level::Error,
                    message,
                }));
            }
        };
        // Dropped in this order: the pool, then the runtime.
        let engine = (worker, Some(ready_tx), commands_rx, runtime);
        let thread = EngineThread::spawn(
            "good_cron-scheduler",
            report,
            engine,
            |(worker, ready, commands, runtime), shutdown| {
                runtime.block_on(worker.run(ready.take(), shutdown, commands));
            },
        )?;
        match ready.recv() {
            Ok(Err(message)) => {
                thread.join();
                Err(message)
            }
            _ => Ok(Scheduler {
                commands,
                quiesce,
                thread,
            }),
        }
    }

    /// The quiesce switch. Setting it stops claiming ledger-path runs (the host is stopping)
    /// while the scheduler keeps recording what the host enqueued, so runs enqueued during a
    /// graceful stop are not taken over and enqueued again. Every `Enqueue` sent before
    /// `Event::Quiesced` must be handled.
    pub fn quiesce(&self) -> Arc<Quiesce> {
        self.quiesce.clone()
    }

    /// Hands a command to the scheduler thread (ignored once it has stopped).
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// Asks the scheduler to stop and waits until `deadline` (forever if `None`) or
    /// `interrupt`; true when it has stopped.
    pub fn stop(&mut self, deadline: Option<std::time::Instant>, interrupt: &Interrupt) -> bool {
        self.thread.stop(deadline, interrupt)
    }

    pub fn is_running(&mut self) -> bool {
        self.thread.is_running()
    }

    /// Why the scheduler stopped on its own (it kept panicking), if it did.
    pub fn failure(&self) -> Option<String> {
        self.thread.failure()
    }
}

/// The claim of a manual run of a direct entry now (`cron_at` NULL, so it never collides with
/// a scheduled instant), for `Store::claim`.
pub fn manual_run(config: crate::config::EntryConfig) -> Result<Claim, String> {
    let entry = Entry::new(config)?;
    let key = entry.config.key.clone();
    let mut claim = entry
        .claim(None, now())
        .ok_or_else(|| format!("{key} is not on the direct path"))?;
    // A manual run ignores enable/disable, as GoodJob's "enqueue now" does.
    claim.enabled_by_default = None;
    Ok(claim)
}

/// The state of the scheduler thread.
struct Worker {
    entries: Vec<Entry>,
    by_key: HashMap<String, usize>,
    /// Keys of the entries enqueued through the ledger.
    ledger_keys: Vec<String>,
    store: Store,
    /// How far back a start claims missed instants (`cron_graceful_restart_period`).
    window: Option<i64>,
    claim_timeout: Duration,
    /// Seconds after its instant past which a stale claim is skipped, not taken over.
    stale_after: f64,
    /// This scheduler's id in the ledger.
    process: Uuid,
    events: mailbox::Sender<Event>,
    /// The next instant of every entry: one timer for all.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    /// Set while instants wait to be claimed (after a start or an outage): the first of them.
    down_since: Option<i64>,
    /// The database is unreachable (logged once, when it happens).
    outage: bool,
    backoff: Backoff,
    housekeeping_at: Option<i64>,
    /// The host is stopping: no more ledger-path claims.
    quiesce: Arc<Quiesce>,
    /// Whether GoodJob's `good_job_settings` exists (`None` until the database answered).
    settings: Option<bool>,
    /// The host was asked for the first instant of the Proc-scheduled entries.
    asked_first_instants: bool,
    /// Runs the host enqueued, not yet written to the ledger.
    unrecorded: Vec<Enqueued>,
    /// Who waits for those writes.
    recorded: Vec<mpsc::Sender<()>>,
    /// Ledger-path runs handed to the host and not reported yet.
    handed: HashMap<(String, i64), Handed>,
}

impl Worker {
    fn is_quiesced(&self) -> bool {
        self.quiesce.is_set()
    }

    fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn log(&self, level: Level, message: String) {
        self.emit(Event::Log(Log { level, message }));
    }

    /// Serves until asked to stop; whatever is in flight then (a sleep, a claim) is dropped,
    /// so `stop` never waits on the database.
    /// Run again after a panic (with no `ready` to answer), it starts over keeping its
    /// entries and what it has to record.
    async fn run(
        &mut self,
        ready: Option<mpsc::Sender<Result<(), StartError>>>,
        mut shutdown: watch::Receiver<bool>,
        commands: &mut async_mpsc::UnboundedReceiver<Command>,
    ) {
        tokio::select! {
            _ = self.serve(ready, commands) => {}
            _ = shutdown.changed() => {}
        }
        // What the host enqueued before asking to stop is recorded, unless the database is away.
        let mut last = Vec::new();
        while let Ok(command) = commands.try_recv() {
            last.push(command);
        }
        self.accept(last);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.record_enqueued()).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), self.store.close()).await;
    }

    async fn serve(
        &mut self,
        ready: Option<mpsc::Sender<Result<(), StartError>>>,
        commands: &mut async_mpsc::UnboundedReceiver<Command>,
    ) {
        let started = now().timestamp();
        let direct = self
            .entries
            .iter()
            .any(|e| e.config.enqueue == Enqueue::GoodJobs);
        let checked = match self.store.probe(CONNECT_TIMEOUT).await {
            Ok(()) => {
                self.store
                    .check_schema(direct, !self.ledger_keys.is_empty())
                    .await
            }
            Err(e) => Err(e),
        };
        match checked {
            Ok(settings) => self.settings = Some(settings),
            Err(e) => match (e.start_error(), ready.as_ref()) {
                (Some(refused), Some(ready)) => {
                    let _ = ready.send(Err(refused));
                    return;
                }
                _ => self.went_down(started, &e.to_string()),
            },
        }
        if let Some(ready) = ready {
            let _ = ready.send(Ok(()));
        }
        self.housekeeping().await;
        self.schedule_from(started);
        if !self.outage {
            if let Err(e) = self.ask_first_instants().await {
                self.went_down(started, &e.to_string());
            }
        }
        // Catch up from the start of the graceful period, then run from now.
        if let Some(window) = self.window {
            let from = started - window;
            self.down_since = Some(self.down_since.map_or(from, |d| d.min(from)));
        }
        // Stale claims are looked for on a timer of their own: an entry may run rarely.
        let mut stale_check = tokio::time::interval(Duration::from_secs(STALE_CHECK_EVERY));
        stale_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let quiesce = self.quiesce.clone();
        loop {
            let quiesced = self.is_quiesced();
            if quiesced && !self.handed.is_empty() {
                self.leave_handed();
            } else if self.down_since.is_some() && !quiesced {
                self.recover().await;
                continue;
            }
            let next = if quiesced {
                None
            } else {
                self.heap.peek().map(|&Reverse((at, _))| at)
            };
            let retry = self.handed.values().filter_map(|h| h.retry_at).min();
            let check_stale = !self.ledger_keys.is_empty() && !quiesced;
            tokio::select! {
                _ = sleep_until_second(next) => self.tick().await,
                _ = sleep_until(retry), if !quiesced => self.retry_raised(),
                _ = stale_check.tick(), if check_stale => self.take_over_stale().await,
                _ = quiesce.wake.notified(), if !quiesced => {}
                Some(command) = commands.recv() => {
                    let mut batch = vec![command];
                    while let Ok(more) = commands.try_recv() {
                        batch.push(more);
                    }
                    self.handle(batch).await;
                }
            }
        }
    }

    /// Whether GoodJob's `good_job_settings` exists (asked once).
    pub(super) async fn has_settings(&mut self) -> Result<bool, StoreError> {
        match self.settings {
            Some(settings) => Ok(settings),
            None => Ok(*self.settings.insert(self.store.has_settings().await?)),
        }
    }

    /// Asks the host for the first instant of every Proc-scheduled entry, after its last run
    /// in the database: once, when the database answers.
    async fn ask_first_instants(&mut self) -> Result<(), StoreError> {
        if self.asked_first_instants {
            return Ok(());
        }
        let keys: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.schedule.is_none())
            .map(|e| e.config.key.clone())
            .collect();
        if !keys.is_empty() {
            let defaults = vec![None; keys.len()];
            for (key, last, _) in self.store.entry_states(&keys, &defaults).await? {
                let after = last.map(|at| at.and_utc().timestamp());
                self.emit(Event::Next { key, after });
            }
        }
        self.asked_first_instants = true;
        Ok(())
    }

    fn schedule_from(&mut self, from: i64) {
        let scheduled: Vec<_> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                e.schedule
                    .as_ref()?
                    .next_after(from)
                    .map(|at| Reverse((at, i)))
            })
            .collect();
        // Proc-scheduled entries keep the instants the host sent.
        let dynamic = self
            .heap
            .drain()
            .filter(|Reverse((_, i))| self.entries[*i].schedule.is_none());
        self.heap = dynamic.chain(scheduled).collect();
    }

    async fn handle(&mut self, commands: Vec<Command>) {
        self.accept(commands);
        self.record_enqueued().await;
    }

    /// Claims every entry due now, then queues each one's next instant.
    async fn tick(&mut self) {
        self.record_enqueued().await;
        let stamp = now();
        let mut due = Vec::new();
        while let Some(&Reverse((at, i))) = self.heap.peek() {
            if at > stamp.timestamp() {
                break;
            }
            self.heap.pop();
            due.push((at, i));
        }
        for &(at, i) in &due {
            match &self.entries[i].schedule {
                Some(schedule) => {
                    if let Some(next) = schedule.next_after(at) {
                        self.heap.push(Reverse((next, i)));
                    }
                }
                None => self.emit(Event::Next {
                    key: self.entries[i].config.key.clone(),
                    after: Some(at),
                }),
            }
        }
        if let Err(e) = self.claim(&due, stamp, false).await {
            for &(at, i) in &due {
                let run = self.run_of(i, at, stamp, false);
                self.emit(Event::Failed {
                    run,
                    error: e.to_string(),
                });
            }
            let first = due
                .iter()
                .map(|&(at, _)| at)
                .min()
                .unwrap_or(stamp.timestamp());
            self.went_down(first, &e.to_string());
            return;
        }
        self.housekeeping().await;
    }

    fn lateness(&self, cron_at: i64, stamp: DateTime<Utc>) -> f64 {
        (stamp - DateTime::from_timestamp(cron_at, 0).unwrap_or_default())
            .num_microseconds()
            .unwrap_or(0) as f64
            / 1e6
    }

    fn run_of(&self, i: usize, cron_at: i64, stamp: DateTime<Utc>, caught_up: bool) -> Run {
        Run {
            key: self.entries[i].config.key.clone(),
            cron_at,
            lateness: self.lateness(cron_at, stamp),
            caught_up,
        }
    }

    /// Claims `(instant, entry)` pairs: direct entries in one statement, ledger-path entries in
    /// another (none once quiesced: nothing would enqueue them); reports every outcome.
    /// Returns how many this process won.
    async fn claim(
        &mut self,
        due: &[(i64, usize)],
        stamp: DateTime<Utc>,
        caught_up: bool,
    ) -> Result<usize, StoreError> {
        // Each row is enqueued a microsecond after the one before, so executors that take
        // the oldest first run them in this order.
        let (direct, direct_due): (Vec<Claim>, Vec<(i64, usize)>) = due
            .iter()
            .zip(0..)
            .filter_map(|(&(at, i), n)| {
                let claim =
                    self.entries[i].claim(Some(at), stamp + chrono::Duration::microseconds(n))?;
                Some((claim, (at, i)))
            })
            .unzip();
        let mut won = 0;
        let outcomes = self.store.claim(&direct).await?;
        for ((claim, &(at, i)), outcome) in direct.iter().zip(&direct_due).zip(outcomes) {
            let job_id = (outcome == Outcome::Claimed).then_some(claim.id);
            won += usize::from(job_id.is_some());
            self.emit(Event::Claimed {
                run: self.run_of(i, at, stamp, caught_up),
                outcome,
                job_id,
            });
        }
        let quiesce = self.quiesce.clone();
        let handing = quiesce.handing();
        let ledger_due: Vec<(i64, usize)> = due
            .iter()
            .copied()
            .filter(|&(_, i)| {
                handing.is_some() && self.entries[i].config.enqueue == Enqueue::ActiveJob
            })
            .collect();
        let ledger: Vec<LedgerClaim> = ledger_due
            .iter()
            .map(|&(at, i)| LedgerClaim {
                cron_key: self.entries[i].config.key.clone(),
                cron_at: naive(at),
                enabled_by_default: self.entries[i].config.enabled_by_default,
            })
            .collect();
        if ledger.is_empty() {
            return Ok(won);
        }
        let settings = self.has_settings().await?;
        let claimed = Instant::now();
        let outcomes = self
            .store
            .claim_ledger(&ledger, self.process, settings)
            .await?;
        for (&(at, i), (outcome, listed)) in ledger_due.iter().zip(outcomes) {
            let run = self.run_of(i, at, stamp, caught_up);
            if outcome == Outcome::Claimed {
                won += 1;
                // Handed over even if a quiesce came meanwhile: `Quiesced` waits for it.
                self.hand_over(run, listed, claimed);
            } else {
                self.emit(Event::Skipped { run, outcome });
            }
        }
        Ok(won)
    }

    /// Ledger-path runs whose process died between claim and enqueue (or whose enqueue kept
    /// raising) are taken over, or skipped when older than the catch-up window.
    async fn take_over_stale(&mut self) {
        let quiesce = self.quiesce.clone();
        let Some(_handing) = quiesce.handing() else {
            return;
        };
        let claimed = Instant::now();
        let timeout = self.claim_timeout;
        self.handed
            .retain(|_, h| h.retry_at.is_some() || claimed.duration_since(h.claimed) < timeout);
        match self.stale_claims().await {
            Ok(found) => {
                let stamp = now();
                for (key, cron_at, stale) in found {
                    let Some(&i) = self.by_key.get(&key) else {
                        continue;
                    };
                    let run = self.run_of(i, cron_at.and_utc().timestamp(), stamp, true);
                    match stale {
                        Stale::TakenOver(listed) => {
                            self.log(Level::Warn, format!("good_cron: taking over the run of {key} at {cron_at}: the process that claimed it never enqueued it"));
                            self.hand_over(run, listed, claimed);
                        }
                        Stale::Skipped => {
                            self.log(Level::Warn, format!("good_cron: the run of {key} at {cron_at} was claimed but never enqueued, and is older than the catch-up window ({:.0}s): not enqueued, marked skipped", self.stale_after));
                            self.emit(Event::Skipped {
                                run,
                                outcome: Outcome::Stale,
                            });
                        }
                    }
                }
            }
            Err(e) => self.log(
                Level::Warn,
                format!("good_cron: could not look for stale claims: {e}"),
            ),
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
    /// retrying with backoff until it does, then resumes from now. Proc-scheduled entries
    /// have no instants to enumerate and are not caught up.
    async fn recover(&mut self) {
        let quiesce = self.quiesce.clone();
        tokio::select! {
            _ = tokio::time::sleep(self.backoff.current()) => {}
            _ = quiesce.wake.notified() => return,
        }
        let Some(since) = self.down_since else { return };
        let stamp = now();
        let from = since.max(stamp.timestamp() - self.window.unwrap_or(DEFAULT_OUTAGE_WINDOW));
        let mut missed: Vec<(i64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, e.schedule.as_ref()?)))
            .flat_map(|(i, schedule)| {
                schedule
                    .within(from, stamp.timestamp())
                    .map(move |at| (at, i))
            })
            .collect();
        missed.sort_unstable();
        let mut claimed = 0;
        for chunk in missed.chunks(CLAIM_CHUNK) {
            match self.claim(chunk, stamp, true).await {
                Ok(won) => claimed += won,
                Err(e) => {
                    self.went_down(since, &e.to_string());
                    self.backoff.failed();
                    return;
                }
            }
        }
        if let Err(e) = self.ask_first_instants().await {
            self.went_down(since, &e.to_string());
            self.backoff.failed();
            return;
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
            message.push_str(&format!(
                "; earlier runs, back to {}, are outside cron_graceful_restart_period and were skipped",
                naive(since)
            ));
        }
        self.log(Level::Info, message);
        self.down_since = None;
        self.outage = false;
        self.backoff.reset();
        self.schedule_from(stamp.timestamp());
    }

    /// Every few minutes: warns when this host's clock and the database's differ by more than
    /// a second, and prunes old ledger rows.
    async fn housekeeping(&mut self) {
        let at = now().timestamp();
        if self
            .housekeeping_at
            .is_some_and(|checked| at - checked < HOUSEKEEPING_EVERY)
        {
            return;
        }
        self.housekeeping_at = Some(at);
        let before = now();
        if let Ok(database) = self.store.database_now().await {
            let local = before + (now() - before) / 2;
            let skew = (database - local).num_milliseconds() as f64 / 1000.0;
            if skew.abs() > 1.0 {
                self.log(Level::Warn, format!("good_cron: this host's clock differs from the database's by {skew:.1}s; runs are still claimed once, but late or early by that much"));
            }
        }
        if !self.ledger_keys.is_empty() {
            if let Err(e) = self.store.prune_ledger().await {
                self.log(
                    Level::Warn,
                    format!("good_cron: could not prune old claims: {e}"),
                );
            }
        }
    }
}
