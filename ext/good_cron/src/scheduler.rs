//! `GoodCron::NativeScheduler`: the engine's scheduler, driven by lib/good_cron/scheduler.rb.
//! Configuration arrives as JSON built by the Ruby side; events leave as plain arrays pulled
//! by a Ruby thread (`next_event`), so no Ruby object is ever touched off a Ruby thread.

use crate::errors::{ERROR, SCHEMA_ERROR};
use crate::gvl::without_gvl;
use good_cron_engine::config::SchedulerConfig;
use good_cron_engine::scheduler::{Event, Level, Scheduler};
use good_cron_engine::store::{Store, StoreError};
use magnus::{function, method, prelude::*, Error, IntoValue, RModule, Ruby, Value};
use std::mem::ManuallyDrop;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

#[magnus::wrap(class = "GoodCron::NativeScheduler", free_immediately, size)]
struct NativeScheduler {
    /// The process that started the engine. A forked child inherits this object but not the
    /// engine's thread, whose locks and wakers may be left mid-use: the child never drops it.
    pid: u32,
    engine: ManuallyDrop<Engine>,
}

struct Engine {
    scheduler: Mutex<Scheduler>,
    events: Mutex<mpsc::Receiver<Event>>,
}

impl Drop for NativeScheduler {
    fn drop(&mut self) {
        if std::process::id() == self.pid {
            // SAFETY: dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.engine) }
        }
    }
}

fn seconds(timeout: Option<f64>) -> Option<Duration> {
    timeout.map(|s| Duration::from_secs_f64(s.clamp(0.0, 1e9)))
}

impl NativeScheduler {
    fn start(ruby: &Ruby, config_json: String) -> Result<NativeScheduler, Error> {
        let config: SchedulerConfig = serde_json::from_str(&config_json).map_err(|e| {
            Error::new(
                ruby.get_inner(&ERROR),
                format!("bad scheduler configuration: {e}"),
            )
        })?;
        let (sender, events) = mpsc::channel();
        let scheduler = without_gvl(|| Scheduler::start(config, sender))
            .map_err(|message| Error::new(ruby.get_inner(&SCHEMA_ERROR), message))?;
        let engine = Engine {
            scheduler: Mutex::new(scheduler),
            events: Mutex::new(events),
        };
        Ok(NativeScheduler {
            pid: std::process::id(),
            engine: ManuallyDrop::new(engine),
        })
    }

    /// Stops the scheduler, waiting up to `timeout` seconds; true when it has stopped.
    fn stop(&self, timeout: Option<f64>) -> bool {
        let timeout = seconds(timeout);
        without_gvl(|| {
            self.engine
                .scheduler
                .lock()
                .map(|mut s| s.stop(timeout))
                .unwrap_or(true)
        })
    }

    fn is_running(&self) -> bool {
        self.engine
            .scheduler
            .lock()
            .map(|mut s| s.is_running())
            .unwrap_or(false)
    }

    /// The next event, waiting up to `timeout` seconds: `nil`, `[:log, level, message]` or
    /// `[:claimed, key, cron_at, job_id, lateness]`; `false` once the scheduler has stopped
    /// and every event was taken.
    fn next_event(ruby: &Ruby, rb_self: &Self, timeout: f64) -> Result<Value, Error> {
        let timeout = seconds(Some(timeout)).unwrap_or_default();
        let received = without_gvl(|| match rb_self.engine.events.lock() {
            Ok(events) => events.recv_timeout(timeout),
            Err(_) => Err(mpsc::RecvTimeoutError::Disconnected),
        });
        Ok(match received {
            Ok(Event::Log { level, message }) => {
                let level = match level {
                    Level::Info => "info",
                    Level::Warn => "warn",
                    Level::Error => "error",
                };
                (ruby.to_symbol("log"), level, message).into_value_with(ruby)
            }
            Ok(Event::Claimed {
                key,
                cron_at,
                job_id,
                lateness,
            }) => (
                ruby.to_symbol("claimed"),
                key,
                cron_at,
                job_id.to_string(),
                lateness,
            )
                .into_value_with(ruby),
            Err(mpsc::RecvTimeoutError::Timeout) => ruby.qnil().as_value(),
            Err(mpsc::RecvTimeoutError::Disconnected) => ruby.qfalse().as_value(),
        })
    }

    /// `[[key, last cron_at (Unix seconds) or nil, enabled?], …]` for the given entries.
    fn entry_states(
        ruby: &Ruby,
        database_url: String,
        keys: Vec<String>,
        enabled_by_default: Vec<bool>,
    ) -> Result<Vec<(String, Option<i64>, bool)>, Error> {
        let states = without_gvl(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let store = Store::new(&database_url).map_err(|e| e.to_string())?;
                let states = store.entry_states(&keys, &enabled_by_default).await;
                store.close().await;
                states.map_err(|e: StoreError| e.to_string())
            })
        })
        .map_err(|message| Error::new(ruby.get_inner(&ERROR), message))?;
        Ok(states
            .into_iter()
            .map(|(key, last, enabled)| (key, last.map(|at| at.and_utc().timestamp()), enabled))
            .collect())
    }
}

pub fn define(ruby: &Ruby, module: RModule) -> Result<(), Error> {
    let class = module.define_class("NativeScheduler", ruby.class_object())?;
    class.define_singleton_method("start", function!(NativeScheduler::start, 1))?;
    class.define_singleton_method("entry_states", function!(NativeScheduler::entry_states, 3))?;
    class.define_method("stop", method!(NativeScheduler::stop, 1))?;
    class.define_method("running?", method!(NativeScheduler::is_running, 0))?;
    class.define_method("next_event", method!(NativeScheduler::next_event, 1))?;
    Ok(())
}
