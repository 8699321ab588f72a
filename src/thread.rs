//! The thread an engine (the scheduler, the poller) runs on: started on `start`, never
//! before, so a forked child starts its own; asked to stop through a watch channel; joined
//! once it has said it finished, so nothing of it is left when `stop` returns true.
//!
//! A panic in the engine is its boundary's business: it is caught here, reported, and the
//! engine's body runs again after a backoff; after `MAX_PANICS` in a row it gives up, and
//! `failure` says why.

use crate::backoff::Backoff;
use crate::mailbox::{self, Received};
use crate::wait::Interrupt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Panics in a row (each within `HEALTHY_AFTER` of the restart before it) before giving up.
const MAX_PANICS: u32 = 5;
const HEALTHY_AFTER: Duration = Duration::from_secs(60);
const FIRST_RESTART: Duration = if cfg!(test) {
    Duration::from_millis(20)
} else {
    Duration::from_secs(1)
};
/// Restarts double their wait; never longer than `MAX_PANICS` doublings, as they stop first.
const LAST_RESTART: Duration = FIRST_RESTART.saturating_mul(1 << MAX_PANICS);
/// How often a restart's backoff looks whether a stop was asked for.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// Why an engine did not start. An unreachable database is not one: the engine starts,
/// logs it and keeps retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// A setting is wrong (the queues string, the database URL, an entry).
    Config(String),
    /// GoodJob's tables (or good_cron's) are missing.
    Schema(String),
    /// The database refused the credentials.
    Credentials(String),
    /// The database does not exist.
    NoDatabase(String),
    /// No TLS to the database that its settings accept.
    Tls(String),
    /// No thread or runtime.
    System(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(m)
            | StartError::Schema(m)
            | StartError::Credentials(m)
            | StartError::NoDatabase(m)
            | StartError::Tls(m)
            | StartError::System(m) => f.write_str(m),
        }
    }
}

/// The single-threaded tokio runtime an engine's thread drives; `engine` names it in the error.
pub fn runtime(engine: &str) -> Result<tokio::runtime::Runtime, StartError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StartError::System(format!("cannot start the {engine} runtime: {e}")))
}

pub struct EngineThread {
    shutdown: watch::Sender<bool>,
    finished: mailbox::Receiver<()>,
    thread: Option<std::thread::JoinHandle<()>>,
    running: bool,
    failure: Arc<Mutex<Option<String>>>,
}

/// The message of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Waits `wait`, or less if a stop is asked for; true when it was.
fn wait_unless_stopped(shutdown: &watch::Receiver<bool>, wait: Duration) -> bool {
    let until = Instant::now() + wait;
    while Instant::now() < until {
        if *shutdown.borrow() {
            return true;
        }
        std::thread::sleep(STOP_CHECK.min(until.saturating_duration_since(Instant::now())));
    }
    *shutdown.borrow()
}

impl EngineThread {
    /// Runs `run(&mut engine, …)` on a new thread named `name`; `run` returns once the
    /// receiver it is given says to stop (or on its own). If it panics, `report` gets a line
    /// saying so and `run` is called again after a backoff. `engine` (its runtime and
    /// connections) is dropped before the thread says it has finished.
    pub fn spawn<E: Send + 'static>(
        name: &str,
        report: impl Fn(String) + Send + 'static,
        mut engine: E,
        mut run: impl FnMut(&mut E, watch::Receiver<bool>) + Send + 'static,
    ) -> Result<EngineThread, StartError> {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (finished_tx, finished) = mailbox::channel();
        let failure = Arc::new(Mutex::new(None));
        let failed = Arc::clone(&failure);
        let thread_name = name.to_string();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut panics = 0;
                let mut backoff = Backoff::new(FIRST_RESTART, LAST_RESTART);
                loop {
                    let started = Instant::now();
                    let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&mut engine, shutdown_rx.clone())))
                    else {
                        break;
                    };
                    let message = panic_message(panic.as_ref());
                    if started.elapsed() >= HEALTHY_AFTER {
                        panics = 0;
                        backoff.reset();
                    }
                    panics += 1;
                    if panics >= MAX_PANICS || *shutdown_rx.borrow() {
                        let cause = format!("the {thread_name} thread panicked: {message}");
                        report(format!("good_cron: {cause}; it has stopped"));
                        if let Ok(mut failure) = failed.lock() {
                            *failure = Some(cause);
                        }
                        break;
                    }
                    let wait = backoff.failed();
                    report(format!(
                        "good_cron: the {thread_name} thread panicked: {message}; restarting it in {wait:?}"
                    ));
                    if wait_unless_stopped(&shutdown_rx, wait) {
                        break;
                    }
                }
                drop(engine);
                let _ = finished_tx.send(());
            })
            .map_err(|e| StartError::System(format!("cannot start the {name} thread: {e}")))?;
        Ok(EngineThread {
            shutdown,
            finished,
            thread: Some(thread),
            running: true,
            failure,
        })
    }

    /// Asks the thread to stop and waits until `deadline` (forever if `None`) or `interrupt`;
    /// true when it has stopped.
    pub fn stop(&mut self, deadline: Option<Instant>, interrupt: &Interrupt) -> bool {
        let _ = self.shutdown.send(true);
        let stopped =
            !matches!(self.finished.recv(deadline, interrupt), Received::Empty) || !self.running;
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
        if self.running && !matches!(self.finished.try_recv(), Received::Empty) {
            self.running = false;
        }
        self.running
    }

    /// Why the engine stopped on its own (it kept panicking), if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    /// Waits for a thread that ended on its own (a failed start).
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::mpsc;

    fn in_seconds(seconds: u64) -> Option<Instant> {
        Some(Instant::now() + Duration::from_secs(seconds))
    }

    fn lines() -> (impl Fn(String) + Send + 'static, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel();
        (
            move |line| {
                let _ = tx.send(line);
            },
            rx,
        )
    }

    #[test]
    fn a_panicking_engine_is_reported_and_restarted() {
        let runs = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&runs);
        let (report, lines) = lines();
        let mut thread = EngineThread::spawn("test", report, (), move |_, _| {
            if counted.fetch_add(1, Ordering::SeqCst) < 1 {
                panic!("bad row");
            }
        })
        .expect("a thread");
        let first = lines.recv_timeout(Duration::from_secs(10)).expect("a line");
        assert_eq!(
            first,
            "good_cron: the test thread panicked: bad row; restarting it in 20ms"
        );
        let until = Instant::now() + Duration::from_secs(10);
        while runs.load(Ordering::SeqCst) < 2 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2, "ran again after the panic");
        assert!(thread.stop(in_seconds(10), &Interrupt::default()));
        assert_eq!(thread.failure(), None, "the second run ended normally");
    }

    #[test]
    fn an_engine_that_keeps_panicking_stops_with_its_cause() {
        let (report, lines) = lines();
        let mut thread = EngineThread::spawn("test", report, (), |_, _| {
            panic!("{}", String::from("always"));
        })
        .expect("a thread");
        let reported: Vec<String> = lines.iter().take(MAX_PANICS as usize).collect();
        assert_eq!(
            reported.last().map(String::as_str),
            Some("good_cron: the test thread panicked: always; it has stopped")
        );
        assert!(thread.stop(in_seconds(10), &Interrupt::default()));
        assert!(!thread.is_running());
        assert_eq!(
            thread.failure().as_deref(),
            Some("the test thread panicked: always")
        );
    }
}
