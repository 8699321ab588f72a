//! The poller: finds due jobs in `good_jobs`, locks them as GoodJob does, hands them to the
//! host's execution threads through one ready queue per pool, and records their results in
//! batches. One thread with a single-threaded tokio runtime, created on `start`.
//!
//! Wake-ups: `LISTEN good_job` (GoodJob's payloads), a poll timer, and a cache of upcoming
//! `scheduled_at` times, so a job scheduled ahead starts on time without polling. A pool asks
//! the database only when it has room and may have work: after a wake-up, or when its last
//! dequeue came back full.

mod connection;
mod listen;
pub mod ready;

use crate::backoff::Backoff;
use crate::clock::{now, sleep_until};
use crate::config::{duration, pools, PollerConfig, Pool, Queues};
use crate::log::{Level, Log};
use crate::mailbox::{self, Received};
use crate::store::jobs::{Dequeue, Finished, Job, LockSession, NotOwned, Released, Unrunnable};
use crate::store::StoreError;
use crate::thread::{self, EngineThread, StartError};
use crate::wait::Interrupt;
use chrono::NaiveDateTime;
use listen::Wake;
use ready::ReadyQueue;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc as async_mpsc, watch};
use tokio::time::Instant;
use uuid::Uuid;

/// A pool locks jobs ahead of its threads, as many as its average job runs in this many
/// seconds (at most `MAX_PREFETCH`), so a thread that ends a short job finds the next one
/// ready instead of waiting for round trips. A pool of long jobs locks none ahead: no job
/// waits behind a long one while another process could run it.
const PREFETCH_WINDOW: f64 = 0.01;
const MAX_PREFETCH: usize = 50;
/// A job locked ahead that no thread took for this long is given back (the threads are busy
/// with longer jobs), and its pool stops locking ahead until its jobs say how long they take.
const HOLD_LIMIT: Duration = Duration::from_millis(500);
/// Results wait up to this long for others to share their statement (the thread that
/// reported one has moved on already).
const LINGER: Duration = Duration::from_millis(1);
const MAX_BATCH: usize = 500;
/// GoodJob's process heartbeat (`Process::STALE_INTERVAL`).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const MIN_BACKOFF: Duration = Duration::from_millis(500);
/// How long a connection may take before the database counts as unreachable.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a stop waits for the database to record the last results.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// GoodJob's `error_event` for an error nothing handled.
const ERROR_EVENT_UNHANDLED: i16 = 1;

/// What the host tells the poller.
enum Command {
    Finished(Box<Finished>),
    /// Stop taking jobs and release those no thread took; replies with how many.
    Close(mailbox::Sender<usize>),
}

/// A running poller.
pub struct Poller {
    process_id: Uuid,
    pools: Vec<Pool>,
    ready: Vec<Arc<ReadyQueue>>,
    handle: PollerHandle,
    thread: EngineThread,
    started: Option<mailbox::Receiver<Result<(), StartError>>>,
}

/// What execution threads tell a running poller; cheap to clone, never blocks on its thread.
#[derive(Clone)]
pub struct PollerHandle {
    commands: async_mpsc::UnboundedSender<Command>,
}

impl PollerHandle {
    /// Records a job's end (batched with others by the poller thread).
    pub fn finish(&self, finished: Finished) {
        let _ = self.commands.send(Command::Finished(Box::new(finished)));
    }

    /// Stops taking jobs and releases those taken but not started; the reply says how many,
    /// once the database has them (`None`: the poller has stopped).
    pub fn close(&self) -> Option<mailbox::Receiver<usize>> {
        let (reply, replied) = mailbox::channel();
        self.commands.send(Command::Close(reply)).ok()?;
        Some(replied)
    }
}

impl Poller {
    /// Starts the poller thread, which connects within the connect timeout (see
    /// `wait_started`).
    pub fn start(config: PollerConfig, logs: mailbox::Sender<Log>) -> Result<Poller, StartError> {
        let pools = pools(&config.queues, config.max_threads.max(1)).map_err(StartError::Config)?;
        let ready: Vec<Arc<ReadyQueue>> = pools.iter().map(|_| Arc::default()).collect();
        let process_id = Uuid::new_v4();
        let (commands, commands_rx) = async_mpsc::unbounded_channel();
        let (started_tx, started) = mailbox::channel();
        let runtime = thread::runtime("poller")?;
        let worker = Worker {
            pools: pools
                .iter()
                .zip(&ready)
                .map(|(pool, ready)| PoolState {
                    dequeue: Dequeue::new(&pool.queues),
                    queues: pool.queues.clone(),
                    ready: Arc::clone(ready),
                    threads: pool.threads,
                    mean_duration: None,
                    in_flight: 0,
                    may_have_work: true,
                })
                .collect(),
            process_id,
            poll_interval: config
                .poll_interval
                .filter(|s| *s > 0.0)
                .map(|s| duration("poll_interval", s))
                .transpose()
                .map_err(StartError::Config)?,
            connect_timeout: duration_or(
                "connect_timeout",
                config.connect_timeout,
                DEFAULT_CONNECT_TIMEOUT,
            )?,
            heartbeat_interval: duration_or(
                "heartbeat_interval",
                config.heartbeat_interval,
                DEFAULT_HEARTBEAT_INTERVAL,
            )?,
            config,
            started: Some(started_tx),
            counts: HashMap::new(),
            logs,
            session: None,
            in_flight: HashMap::new(),
            finished: Vec::new(),
            released: Vec::new(),
            pending_since: None,
            close_replies: Vec::new(),
            upcoming: BTreeSet::new(),
            closed: false,
            backoff: Backoff::new(MIN_BACKOFF, MAX_BACKOFF),
            reconnect_at: Instant::now(),
            outage: false,
        };
        let report = {
            let logs = worker.logs.clone();
            move |line| {
                let _ = logs.send(Log {
                    level: Level::Error,
                    message: line,
                });
            }
        };
        // Dropped in this order: the connections, then the runtime.
        let engine = (worker, commands_rx, runtime);
        let thread = EngineThread::spawn(
            "good_cron-poller",
            report,
            engine,
            |(worker, commands, runtime), shutdown| {
                runtime.block_on(worker.run(shutdown, commands));
            },
        )?;
        Ok(Poller {
            process_id,
            pools,
            ready,
            handle: PollerHandle { commands },
            thread,
            started: Some(started),
        })
    }

    /// Waits until `deadline` (forever if `None`) or `interrupt` for the first connection's
    /// verdict: `Some(Err(…))` when the poller cannot run (missing tables, refused
    /// credentials; it has stopped), `Some(Ok)` when it runs, even without a database yet (it
    /// keeps retrying and logs it), `None` while it is still connecting (within its connect
    /// timeout).
    pub fn wait_started(
        &mut self,
        deadline: Option<std::time::Instant>,
        interrupt: &Interrupt,
    ) -> Option<Result<(), StartError>> {
        let started = self.started.as_ref()?;
        let verdict = match started.recv(deadline, interrupt) {
            Received::Item(verdict) => verdict,
            Received::Empty => return None,
            Received::Closed => Ok(()),
        };
        self.started = None;
        if verdict.is_err() {
            self.thread.stop(None, &Interrupt::default());
        }
        Some(verdict)
    }

    /// The id of this process's `good_job_processes` row, and of `locked_by_id`.
    pub fn process_id(&self) -> Uuid {
        self.process_id
    }

    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// The ready queues execution threads take jobs from, one per pool.
    pub fn ready_queues(&self) -> &[Arc<ReadyQueue>] {
        &self.ready
    }

    pub fn handle(&self) -> PollerHandle {
        self.handle.clone()
    }

    /// Stops: jobs still unfinished are released (a running one as interrupted), the process
    /// row is removed. Waits until `deadline` (forever if `None`) or `interrupt`; true when
    /// stopped.
    pub fn stop(&mut self, deadline: Option<std::time::Instant>, interrupt: &Interrupt) -> bool {
        self.thread.stop(deadline, interrupt)
    }

    pub fn is_running(&mut self) -> bool {
        self.thread.is_running()
    }

    /// Why the poller stopped on its own (it could not start, or kept panicking), if it did.
    pub fn failure(&mut self) -> Option<String> {
        match self.wait_started(Some(std::time::Instant::now()), &Interrupt::default()) {
            Some(Err(e)) => Some(e.to_string()),
            _ => self.thread.failure(),
        }
    }
}

struct PoolState {
    dequeue: Dequeue,
    queues: Queues,
    ready: Arc<ReadyQueue>,
    threads: usize,
    /// Seconds, a moving average of its jobs' durations (`None` until one finished).
    mean_duration: Option<f64>,
    /// Jobs handed to the ready queue and not yet reported or given back.
    in_flight: usize,
    may_have_work: bool,
}

impl PoolState {
    /// How many jobs it may have locked and not yet run at once.
    fn capacity(&self) -> usize {
        let prefetch = match self.mean_duration {
            Some(mean) => (PREFETCH_WINDOW / mean.max(1e-6)).min(MAX_PREFETCH as f64) as usize,
            None => 0,
        };
        self.threads + prefetch
    }

    /// How many jobs to ask for now: none unless half its capacity is free or its threads
    /// are about to run dry, so dequeues come in batches.
    fn wanted(&self) -> usize {
        let capacity = self.capacity();
        let room = capacity.saturating_sub(self.in_flight);
        if self.may_have_work && (room * 2 >= capacity || self.ready.queued() < self.threads) {
            room
        } else {
            0
        }
    }

    fn done(&mut self, duration: Option<f64>) {
        self.in_flight -= 1;
        if let Some(duration) = duration {
            self.mean_duration = Some(match self.mean_duration {
                Some(mean) => 0.8 * mean + 0.2 * duration,
                None => duration,
            });
        }
    }
}

struct Worker {
    config: PollerConfig,
    /// Answered once, by the first run: whether the poller started.
    started: Option<mailbox::Sender<Result<(), StartError>>>,
    pools: Vec<PoolState>,
    process_id: Uuid,
    poll_interval: Option<Duration>,
    connect_timeout: Duration,
    heartbeat_interval: Duration,
    /// The `executions_count` of every job held and not yet written, to tell after an outage
    /// whether another process began an attempt of it meanwhile.
    counts: HashMap<Uuid, i32>,
    logs: mailbox::Sender<Log>,
    session: Option<LockSession>,
    /// Every job handed to a ready queue and not yet reported or given back, with its pool.
    in_flight: HashMap<Uuid, usize>,
    /// Results and releases not yet written (lingering for a batch, or the database is away),
    /// since when.
    finished: Vec<Finished>,
    released: Vec<Released>,
    pending_since: Option<Instant>,
    close_replies: Vec<(mailbox::Sender<usize>, usize)>,
    upcoming: BTreeSet<NaiveDateTime>,
    closed: bool,
    backoff: Backoff,
    reconnect_at: Instant,
    outage: bool,
}

/// The setting `name`, in seconds, as a `Duration`; `default` when not given.
fn duration_or(
    name: &str,
    seconds: Option<f64>,
    default: Duration,
) -> Result<Duration, StartError> {
    seconds.map_or(Ok(default), |s| {
        duration(name, s).map_err(StartError::Config)
    })
}

impl Worker {
    fn log(&self, level: Level, message: String) {
        let _ = self.logs.send(Log { level, message });
    }

    /// Connects, serves until asked to stop, and shuts down. Run again after a panic, it
    /// starts over from a new connection, keeping what it holds.
    async fn run(
        &mut self,
        mut shutdown: watch::Receiver<bool>,
        commands: &mut async_mpsc::UnboundedReceiver<Command>,
    ) {
        self.session = None;
        // Listening before the first look at the database: a job enqueued in between is
        // either seen by that look or notified.
        let (url, timeout, listen) = (
            self.config.database_url.clone(),
            self.connect_timeout,
            self.config.listen,
        );
        let listening = {
            let url = url.clone();
            async move {
                match listen {
                    true => listen::listener(&url, timeout).await,
                    false => None,
                }
            }
        };
        let connected = self
            .connect_answering(listening, &mut shutdown, commands)
            .await;
        let refused = connected
            .as_ref()
            .and_then(|(connected, _)| connected.as_ref().err())
            .and_then(StoreError::start_error);
        if let Some(started) = self.started.take() {
            let _ = started.send(refused.clone().map_or(Ok(()), Err));
        }
        match (connected, refused) {
            (_, Some(_)) => return,
            (Some((_, first)), None) => {
                let (wakes_tx, wakes) = async_mpsc::unbounded_channel();
                if listen {
                    tokio::spawn(listen::listen(url, timeout, first, wakes_tx));
                }
                self.serve(&mut shutdown, commands, wakes).await;
            }
            // Asked to stop while connecting.
            (None, None) => {}
        }
        while let Ok(command) = commands.try_recv() {
            self.accept(command);
        }
        let _ = tokio::time::timeout(STOP_GRACE, self.shut_down()).await;
    }

    /// Takes jobs and records their ends until asked to stop.
    async fn serve(
        &mut self,
        shutdown: &mut watch::Receiver<bool>,
        commands: &mut async_mpsc::UnboundedReceiver<Command>,
        mut wakes: async_mpsc::UnboundedReceiver<Wake>,
    ) {
        let mut next_poll = self.poll_interval.map(|every| Instant::now() + every);
        let mut next_heartbeat = Instant::now() + self.heartbeat_interval;
        while !*shutdown.borrow() {
            if self.session.is_none()
                && Instant::now() >= self.reconnect_at
                && self
                    .connect_answering(std::future::ready(()), shutdown, commands)
                    .await
                    .is_none()
            {
                break;
            }
            self.write_results(false).await;
            self.dequeue().await;
            let next_due = self.upcoming.first().map(|at| {
                Instant::now() + (*at - now().naive_utc()).to_std().unwrap_or(Duration::ZERO)
            });
            let reconnect = self.session.is_none().then_some(self.reconnect_at);
            let flush = self.pending_since.map(|since| since + LINGER);
            let reclaim = self
                .pools
                .iter()
                .filter_map(|pool| pool.ready.oldest())
                .min()
                .map(|at| Instant::from_std(at) + HOLD_LIMIT);
            let wake_at = [
                next_poll,
                Some(next_heartbeat),
                next_due,
                reconnect,
                flush,
                reclaim,
            ]
            .into_iter()
            .flatten()
            .min();
            tokio::select! {
                Some(command) = commands.recv() => {
                    self.accept(command);
                    while let Ok(command) = commands.try_recv() {
                        self.accept(command);
                    }
                }
                Some(wake) = wakes.recv() => {
                    self.wake(wake);
                    while let Ok(wake) = wakes.try_recv() {
                        self.wake(wake);
                    }
                }
                // An error: the `Poller` was dropped without `stop`; stop all the same.
                changed = shutdown.changed() => if changed.is_err() { break },
                _ = sleep_until(wake_at) => {}
            }
            let instant = Instant::now();
            if let (Some(at), Some(every)) = (next_poll, self.poll_interval) {
                if instant >= at {
                    self.wake(Wake::Everyone);
                    next_poll = Some(instant + every);
                }
            }
            if instant >= next_heartbeat {
                self.heartbeat().await;
                next_heartbeat = instant + self.heartbeat_interval;
            }
            let due = now().naive_utc();
            while self.upcoming.first().is_some_and(|at| *at <= due) {
                self.upcoming.pop_first();
                self.wake(Wake::Everyone);
            }
            self.reclaim_held_jobs();
        }
    }

    fn accept(&mut self, command: Command) {
        match command {
            Command::Finished(finished) => {
                self.returned(finished.id, Some(finished.duration_seconds));
                self.finished.push(*finished);
            }
            Command::Close(reply) => {
                let count = self.close_queues();
                self.close_replies.push((reply, count));
            }
        }
    }

    /// A job is back from its pool: its thread (if it ran) is free; its row waits to be
    /// written.
    fn returned(&mut self, id: Uuid, duration: Option<f64>) {
        if let Some(pool) = self.in_flight.remove(&id) {
            self.pools[pool].done(duration);
        }
        self.pending_since.get_or_insert_with(Instant::now);
    }

    fn release(&mut self, id: Uuid, started: bool) {
        self.returned(id, None);
        self.released.push(Released { id, started });
    }

    /// Gives back jobs locked ahead that waited `HOLD_LIMIT` for a thread.
    fn reclaim_held_jobs(&mut self) {
        for index in 0..self.pools.len() {
            let held = self.pools[index].ready.reclaim(HOLD_LIMIT);
            if !held.is_empty() {
                self.pools[index].mean_duration = None;
                held.iter().for_each(|job| self.release(job.id, false));
            }
        }
    }

    /// Closes every ready queue; the jobs no thread took are released as never started.
    fn close_queues(&mut self) -> usize {
        self.closed = true;
        let left: Vec<Job> = self.pools.iter().flat_map(|p| p.ready.close()).collect();
        let count = left.len();
        for job in left {
            self.release(job.id, false);
        }
        count
    }

    fn wake(&mut self, wake: Wake) {
        match wake {
            Wake::Everyone => self.pools.iter_mut().for_each(|p| p.may_have_work = true),
            Wake::Job { queue, at } => {
                if let Some(at) = at.filter(|at| *at > now().naive_utc()) {
                    if self.upcoming.len() < self.config.max_cache {
                        self.upcoming.insert(at);
                    }
                    return;
                }
                for pool in &mut self.pools {
                    if pool.queues.takes(queue.as_deref()) {
                        pool.may_have_work = true;
                    }
                }
            }
        }
    }

    /// Writes results and releases once they have lingered long enough to share a statement
    /// (at once with `force`, or when a `close` waits for them), then answers `close` calls.
    async fn write_results(&mut self, force: bool) {
        let due = force
            || !self.close_replies.is_empty()
            || self.finished.len() + self.released.len() >= MAX_BATCH
            || self
                .pending_since
                .is_some_and(|since| since.elapsed() >= LINGER);
        if !due {
            return;
        }
        if let Some(session) = self.session.as_mut() {
            let mut not_owned = Vec::new();
            let mut result = Ok(());
            if !self.finished.is_empty() {
                result = session.finish(&self.finished).await.map(|lost| {
                    not_owned = lost;
                    let written = std::mem::take(&mut self.finished);
                    written.iter().for_each(|f| {
                        self.counts.remove(&f.id);
                    });
                });
            }
            if result.is_ok() && !self.released.is_empty() {
                result = session.release(&self.released).await.map(|()| {
                    let written = std::mem::take(&mut self.released);
                    written.iter().for_each(|r| {
                        self.counts.remove(&r.id);
                    });
                });
            }
            not_owned.iter().for_each(|lost| self.ran_twice(lost));
            match result {
                Ok(()) => self.pending_since = None,
                Err(e) => self.went_down(&e),
            }
        }
        for (reply, count) in self.close_replies.drain(..) {
            let _ = reply.send(count);
        }
    }

    /// A job's result was not written: another process had taken it.
    fn ran_twice(&self, lost: &NotOwned) {
        let other = lost
            .other
            .map_or("another process".to_string(), |p| format!("process {p}"));
        let what = if lost.finished {
            format!("{other} finished it first: its result is kept, this one was not written")
        } else if lost.other.is_some() {
            format!("{other} has it now: this result was not written, {other}'s will be")
        } else {
            "it was given back meanwhile: this result was not written, and it runs again".into()
        };
        self.log(
            Level::Warn,
            format!(
                "good_cron: job {} ran twice, here and in {other} (this process lost the database while running it); {what}",
                lost.id
            ),
        );
    }

    /// Fills each pool that wants jobs and may have work.
    async fn dequeue(&mut self) {
        for index in 0..self.pools.len() {
            let Some(session) = self.session.as_mut() else {
                return;
            };
            let pool = &mut self.pools[index];
            let wanted = pool.wanted();
            if self.closed || wanted == 0 {
                continue;
            }
            match session
                .dequeue(&pool.dequeue, wanted, now().naive_utc())
                .await
            {
                Ok(dequeued) => {
                    let jobs = dequeued.jobs;
                    pool.may_have_work = jobs.len() + dequeued.unrunnable.len() == wanted;
                    let held: Vec<(Uuid, i32)> =
                        jobs.iter().map(|j| (j.id, j.executions_count)).collect();
                    self.counts.extend(held.iter().copied());
                    match pool.ready.push(jobs) {
                        Ok(()) => {
                            pool.in_flight += held.len();
                            self.in_flight
                                .extend(held.iter().map(|(id, _)| (*id, index)));
                        }
                        Err(refused) => refused.iter().for_each(|job| self.release(job.id, false)),
                    }
                    for bad in dequeued.unrunnable {
                        self.unrunnable(bad);
                    }
                }
                Err(e) => {
                    self.went_down(&e);
                    return;
                }
            }
        }
    }

    /// A row that cannot be run ends as GoodJob ends a job whose error nothing handled.
    fn unrunnable(&mut self, bad: Unrunnable) {
        self.log(
            Level::Error,
            format!("good_cron: job {} cannot be run: {}", bad.id, bad.problem),
        );
        let at = now().naive_utc();
        self.finished.push(Finished {
            id: bad.id,
            attempt: Uuid::new_v4(),
            started_at: at,
            finished_at: at,
            duration_seconds: 0.0,
            error: Some(format!("GoodCron::UnrunnableJob: {}", bad.problem)),
            error_event: Some(ERROR_EVENT_UNHANDLED),
            backtrace: None,
            retry: None,
        });
        self.pending_since.get_or_insert_with(Instant::now);
    }

    async fn heartbeat(&mut self) {
        if let Some(session) = self.session.as_mut() {
            if let Err(e) = session.heartbeat(&self.config.process_state).await {
                self.went_down(&e);
            }
        }
    }

    /// Releases what is left (never started, or abandoned while running), records the last
    /// results, and removes the process row.
    async fn shut_down(&mut self) {
        self.close_queues();
        let abandoned: Vec<Uuid> = self.in_flight.keys().copied().collect();
        if !abandoned.is_empty() {
            self.log(
                Level::Warn,
                format!(
                    "good_cron: released {} job(s) still running at shutdown; they will run again",
                    abandoned.len()
                ),
            );
        }
        for id in abandoned {
            self.release(id, true);
        }
        // With nothing to write, a database that is away is not waited for.
        let pending = !self.finished.is_empty() || !self.released.is_empty();
        if self.session.is_none() && pending {
            let _ = self.connect().await;
        }
        self.write_results(true).await;
        if let Some(session) = self.session.take() {
            if let Err(e) = session.close().await {
                self.log(
                    Level::Warn,
                    format!("good_cron: could not remove the poller's process row: {e}"),
                );
            }
        }
    }
}
