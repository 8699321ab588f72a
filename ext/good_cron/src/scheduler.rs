//! `GoodCron::NativeScheduler`: the engine's scheduler, driven by lib/good_cron/scheduler.rb.
//! Configuration arrives as JSON built by the Ruby side; events leave as `GoodCron::Events`
//! Structs pulled by a Ruby thread (`next_event`), so no Ruby object is touched off a Ruby thread.

use crate::convert::{bad_config, seconds};
use crate::errors::{error, start_error, store_error};
use crate::events::scheduler_event;
use crate::fork::ForkGuard;
use crate::gvl::{lock, receive, stop_without_gvl, without_gvl};
use good_cron_engine::config::{EntryConfig, SchedulerConfig};
use good_cron_engine::mailbox;
use good_cron_engine::scheduler::{self, Command, Event, Quiesce, Report, Scheduler};
use good_cron_engine::store::{Store, StoreError};
use magnus::{function, method, prelude::*, Error, RModule, Ruby, Value};
use std::future::Future;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

#[magnus::wrap(class = "GoodCron::NativeScheduler", free_immediately, size)]
struct NativeScheduler {
    engine: ForkGuard<Engine>,
}

struct Engine {
    scheduler: Mutex<Scheduler>,
    events: mailbox::Receiver<Event>,
    /// The scheduler's quiesce switch, set without taking the scheduler's lock.
    quiesce: Arc<Quiesce>,
}

/// How long `enqueued` waits for the scheduler to record a run in the ledger: long enough for
/// a busy database, short enough that a database that is away does not stall the enqueues.
const RECORD_WAIT: Duration = Duration::from_secs(2);

/// Runs `work` on a short-lived connection to the database, without the GVL: for the calls
/// that need the database whether or not a scheduler runs in this process. A failure raises
/// the class its kind says (`store_error`).
fn with_store<T, F, Fut>(ruby: &Ruby, database_url: &str, work: F) -> Result<T, Error>
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let done = without_gvl(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(runtime.block_on(async {
            let store = Store::new(database_url)?;
            let result = work(store.clone()).await;
            store.close().await;
            result
        }))
    });
    match done {
        Ok(result) => result.map_err(|e| store_error(ruby, database_url, &e)),
        Err(message) => Err(error(ruby, message)),
    }
}

impl NativeScheduler {
    fn start(ruby: &Ruby, config_json: String) -> Result<NativeScheduler, Error> {
        let config: SchedulerConfig =
            serde_json::from_str(&config_json).map_err(|e| bad_config(ruby, "scheduler", e))?;
        let (sender, events) = mailbox::channel();
        let scheduler =
            without_gvl(|| Scheduler::start(config, sender)).map_err(|e| start_error(ruby, e))?;
        let engine = Engine {
            quiesce: scheduler.quiesce(),
            scheduler: Mutex::new(scheduler),
            events,
        };
        Ok(NativeScheduler {
            engine: ForkGuard::new(engine),
        })
    }

    /// Stops the scheduler, waiting up to `timeout` seconds (forever if nil); true when it
    /// has stopped. Ruby's interrupts (a signal's trap handler) are handled as they come.
    fn stop(ruby: &Ruby, rb_self: &Self, timeout: Option<f64>) -> Result<bool, Error> {
        let deadline = timeout.map(|t| Instant::now() + seconds(t));
        stop_without_gvl(ruby, &rb_self.engine.scheduler, deadline, Scheduler::stop)
    }

    fn is_running(&self) -> bool {
        lock(&self.engine.scheduler).is_some_and(|mut s| s.is_running())
    }

    /// Why the engine stopped on its own (it kept panicking), or `nil`.
    fn failure(&self) -> Option<String> {
        lock(&self.engine.scheduler).and_then(|s| s.failure())
    }

    fn send(&self, command: Command) {
        if let Some(scheduler) = lock(&self.engine.scheduler) {
            scheduler.send(command);
        }
    }

    /// Reports a ledger-path run as enqueued (`job_id`, nil when nothing was) and waits (up to
    /// `RECORD_WAIT`) until the ledger has it, so that a process killed right after is
    /// unlikely to leave an enqueued run looking unenqueued.
    fn enqueued(&self, key: String, cron_at: i64, job_id: Option<String>) {
        let (recorded, wait) = mpsc::channel();
        self.send(Command::Reported {
            key,
            cron_at,
            report: Report::Enqueued(job_id),
            recorded: Some(recorded),
        });
        without_gvl(|| {
            let _ = wait.recv_timeout(RECORD_WAIT);
        });
    }

    /// Reports a ledger-path run as not enqueued on purpose (`reason` is recorded).
    fn enqueue_skipped(&self, key: String, cron_at: i64, reason: String) {
        self.report(key, cron_at, Report::Skipped(reason));
    }

    /// Reports that enqueuing a ledger-path run raised: the scheduler hands it over again.
    fn enqueue_raised(&self, key: String, cron_at: i64, error: String) {
        self.report(key, cron_at, Report::Raised(error));
    }

    fn report(&self, key: String, cron_at: i64, report: Report) {
        self.send(Command::Reported {
            key,
            cron_at,
            report,
            recorded: None,
        });
    }

    /// Stops claiming; `next_event` gives `Events::Quiesced` after the last `Events::Enqueue`.
    fn quiesce(&self) {
        self.engine.quiesce.set();
    }

    /// The next instant of a Proc-scheduled entry (`nil`: no more runs).
    fn schedule_next(&self, key: String, at: Option<i64>) {
        self.send(Command::Next { key, at });
    }

    /// The next event (a `GoodCron::Events` Struct), waiting for as long as it takes; `false`
    /// once the scheduler has stopped and every event was taken.
    fn next_event(ruby: &Ruby, rb_self: &Self) -> Result<Value, Error> {
        let Some(event) = receive(ruby, &rb_self.engine.events)? else {
            return Ok(ruby.qfalse().as_value());
        };
        scheduler_event(ruby, event)
    }

    /// `[[key, last cron_at (Unix seconds) or nil, enabled?], …]` for the given entries
    /// (`enabled_by_default` entries may be nil: decided by a Proc).
    fn entry_states(
        ruby: &Ruby,
        database_url: String,
        keys: Vec<String>,
        enabled_by_default: Vec<Option<bool>>,
    ) -> Result<Vec<(String, Option<i64>, bool)>, Error> {
        let states = with_store(ruby, &database_url, |store| async move {
            store.entry_states(&keys, &enabled_by_default).await
        })?;
        Ok(states
            .into_iter()
            .map(|(key, last, enabled)| (key, last.map(|at| at.and_utc().timestamp()), enabled))
            .collect())
    }

    /// Enables or disables a key in GoodJob's settings, atomically.
    fn set_enabled(
        ruby: &Ruby,
        database_url: String,
        key: String,
        enabled: bool,
    ) -> Result<(), Error> {
        with_store(ruby, &database_url, |store| async move {
            store.set_enabled(&key, enabled).await
        })
    }

    /// Inserts a manual run of a direct entry (given as its engine configuration, JSON);
    /// returns the job id.
    fn enqueue_now(ruby: &Ruby, database_url: String, entry_json: String) -> Result<String, Error> {
        let entry: EntryConfig =
            serde_json::from_str(&entry_json).map_err(|e| bad_config(ruby, "entry", e))?;
        let claim = scheduler::manual_run(entry).map_err(|message| error(ruby, message))?;
        let id = claim.id.to_string();
        with_store(ruby, &database_url, |store| async move {
            store.claim(&[claim]).await
        })?;
        Ok(id)
    }
}

pub fn define(ruby: &Ruby, module: RModule) -> Result<(), Error> {
    let class = module.define_class("NativeScheduler", ruby.class_object())?;
    class.define_singleton_method("start", function!(NativeScheduler::start, 1))?;
    class.define_singleton_method("entry_states", function!(NativeScheduler::entry_states, 3))?;
    class.define_singleton_method("set_enabled", function!(NativeScheduler::set_enabled, 3))?;
    class.define_singleton_method("enqueue_now", function!(NativeScheduler::enqueue_now, 2))?;
    class.define_method("stop", method!(NativeScheduler::stop, 1))?;
    class.define_method("running?", method!(NativeScheduler::is_running, 0))?;
    class.define_method("failure", method!(NativeScheduler::failure, 0))?;
    class.define_method("next_event", method!(NativeScheduler::next_event, 0))?;
    class.define_method("enqueued", method!(NativeScheduler::enqueued, 3))?;
    class.define_method(
        "enqueue_skipped",
        method!(NativeScheduler::enqueue_skipped, 3),
    )?;
    class.define_method(
        "enqueue_raised",
        method!(NativeScheduler::enqueue_raised, 3),
    )?;
    class.define_method("schedule_next", method!(NativeScheduler::schedule_next, 2))?;
    class.define_method("quiesce", method!(NativeScheduler::quiesce, 0))?;
    Ok(())
}
