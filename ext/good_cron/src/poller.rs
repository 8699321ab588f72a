//! `GoodCron::NativePoller` and `GoodCron::NativeJob`: the engine's poller, driven by
//! lib/good_cron/poller.rb. Execution threads wait for jobs with the GVL released; a job
//! crosses as a `NativeJob` that carries its attempt's start and comes back with its result.

use crate::convert::{bad_config, seconds, unix_time};
use crate::errors::{error, start_error};
use crate::fork::ForkGuard;
use crate::gvl::{lock, receive, stop_without_gvl, wait_without_gvl, AfterInterrupt};
use crate::log::log_event;
use good_cron_engine::clock::now;
use good_cron_engine::config::PollerConfig;
use good_cron_engine::log::Log;
use good_cron_engine::mailbox::{self, Received};
use good_cron_engine::poller::ready::{ReadyQueue, Waited};
use good_cron_engine::poller::{Poller, PollerHandle};
use good_cron_engine::store::jobs::{Finished, Job, Retry};
use magnus::{function, method, prelude::*, Error, IntoValue, RModule, Ruby, Value};
use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[magnus::wrap(class = "GoodCron::NativePoller", free_immediately, size)]
struct NativePoller {
    engine: ForkGuard<Engine>,
}

struct Engine {
    poller: Mutex<Poller>,
    handle: PollerHandle,
    ready: Vec<Arc<ReadyQueue>>,
    logs: mailbox::Receiver<Log>,
}

/// A job an execution thread took: run it, then hand it back to `NativePoller#finish`.
#[magnus::wrap(class = "GoodCron::NativeJob", free_immediately, size)]
struct NativeJob {
    job: Job,
    started_at: chrono::NaiveDateTime,
    started: Instant,
    retry: RefCell<Option<Retry>>,
    finished: Cell<bool>,
}

impl NativeJob {
    fn id(&self) -> String {
        self.job.id.to_string()
    }

    fn serialized_params(&self) -> &str {
        &self.job.serialized_params
    }

    /// ActiveJob re-enqueued this job from inside its perform (`retry_on`): the same row runs
    /// again at `scheduled_at` (Unix seconds) with these params, as GoodJob does.
    fn retry_with(
        ruby: &Ruby,
        rb_self: &Self,
        serialized_params: String,
        scheduled_at: f64,
        queue_name: String,
        priority: Option<i32>,
    ) -> Result<(), Error> {
        *rb_self.retry.borrow_mut() = Some(Retry {
            serialized_params,
            scheduled_at: unix_time(ruby, scheduled_at)?,
            queue_name,
            priority,
        });
        Ok(())
    }
}

impl NativePoller {
    fn start(ruby: &Ruby, config_json: String) -> Result<NativePoller, Error> {
        let config: PollerConfig =
            serde_json::from_str(&config_json).map_err(|e| bad_config(ruby, "poller", e))?;
        let (logs_tx, logs) = mailbox::channel();
        let mut poller = Poller::start(config, logs_tx).map_err(|e| start_error(ruby, e))?;
        // A signal while connecting is handled at once, and ends the wait: the poller goes on
        // connecting, and says so in its log.
        let started = wait_without_gvl(ruby, AfterInterrupt::Return, |interrupt| {
            poller.wait_started(None, interrupt)
        })?;
        if let Some(Err(e)) = started {
            return Err(start_error(ruby, e));
        }
        let engine = Engine {
            handle: poller.handle(),
            ready: poller.ready_queues().to_vec(),
            poller: Mutex::new(poller),
            logs,
        };
        Ok(NativePoller {
            engine: ForkGuard::new(engine),
        })
    }

    fn poller<T>(&self, work: impl FnOnce(&mut Poller) -> T) -> Option<T> {
        lock(&self.engine.poller).map(|mut p| work(&mut p))
    }

    /// `[[queues, threads], …]`: the pools the queues setting describes.
    fn pools(&self) -> Vec<(String, usize)> {
        self.poller(|p| {
            p.pools()
                .iter()
                .map(|pool| (pool.text.clone(), pool.threads))
                .collect()
        })
        .unwrap_or_default()
    }

    fn process_id(&self) -> String {
        self.poller(|p| p.process_id().to_string())
            .unwrap_or_default()
    }

    /// The next job of pool `pool`, waiting for as long as it takes: a `NativeJob`, or `false`
    /// once the poller is closing. Jobs are taken holding the GVL (see `ReadyQueue::wait`);
    /// only the wait releases it, and Ruby's interrupts (`Thread#kill`) end it at once.
    fn take(ruby: &Ruby, rb_self: &Self, pool: usize) -> Result<Value, Error> {
        let ready = rb_self
            .engine
            .ready
            .get(pool)
            .ok_or_else(|| error(ruby, format!("no pool {pool}")))?;
        loop {
            if let Some(job) = ready.try_take() {
                return Ok(NativeJob {
                    job,
                    started_at: now().naive_utc(),
                    started: Instant::now(),
                    retry: RefCell::new(None),
                    finished: Cell::new(false),
                }
                .into_value_with(ruby));
            }
            let waited = wait_without_gvl(ruby, AfterInterrupt::Wait, |interrupt| {
                match ready.wait(None, interrupt) {
                    Waited::Empty => None,
                    waited => Some(waited),
                }
            })?;
            if waited == Some(Waited::Closed) {
                return Ok(ruby.qfalse().as_value());
            }
        }
    }

    /// Records the end of `job`'s attempt: `error` as "Class: message", GoodJob's
    /// `error_event` integer, the backtrace as a JSON array. Once per job.
    fn finish(
        ruby: &Ruby,
        rb_self: &Self,
        job: &NativeJob,
        error_message: Option<String>,
        error_event: Option<i16>,
        backtrace: Option<String>,
    ) -> Result<(), Error> {
        if job.finished.replace(true) {
            return Err(error(
                ruby,
                format!("job {} was finished already", job.job.id),
            ));
        }
        rb_self.engine.handle.finish(Finished {
            id: job.job.id,
            attempt: uuid::Uuid::new_v4(),
            started_at: job.started_at,
            finished_at: now().naive_utc(),
            duration_seconds: job.started.elapsed().as_secs_f64(),
            error: error_message,
            error_event,
            backtrace,
            retry: job.retry.borrow_mut().take(),
        });
        Ok(())
    }

    /// Stops taking jobs and releases those no thread took, waiting up to `timeout`
    /// seconds; how many were released (`nil` if the poller did not answer in time).
    fn close(ruby: &Ruby, rb_self: &Self, timeout: f64) -> Result<Option<usize>, Error> {
        let Some(replied) = rb_self.engine.handle.close() else {
            return Ok(None);
        };
        let deadline = Some(Instant::now() + seconds(timeout));
        wait_without_gvl(ruby, AfterInterrupt::Wait, |interrupt| {
            match replied.recv(deadline, interrupt) {
                Received::Item(released) => Some(released),
                Received::Empty | Received::Closed => None,
            }
        })
    }

    /// Stops the poller (jobs not finished are released), waiting up to `timeout` seconds;
    /// true once stopped.
    fn stop(ruby: &Ruby, rb_self: &Self, timeout: f64) -> Result<bool, Error> {
        let deadline = Some(Instant::now() + seconds(timeout));
        stop_without_gvl(ruby, &rb_self.engine.poller, deadline, Poller::stop)
    }

    fn is_running(&self) -> bool {
        self.poller(Poller::is_running).unwrap_or(false)
    }

    /// Why the engine stopped on its own (it kept panicking), or `nil`.
    fn failure(&self) -> Option<String> {
        self.poller(Poller::failure).flatten()
    }

    /// The next log line, an `Events::Log`, waiting for as long as it takes; `false` once the
    /// poller has stopped and every line was taken.
    fn next_log(ruby: &Ruby, rb_self: &Self) -> Result<Value, Error> {
        match receive(ruby, &rb_self.engine.logs)? {
            Some(log) => log_event(ruby, log),
            None => Ok(ruby.qfalse().as_value()),
        }
    }
}

pub fn define(ruby: &Ruby, module: RModule) -> Result<(), Error> {
    let class = module.define_class("NativePoller", ruby.class_object())?;
    class.define_singleton_method("start", function!(NativePoller::start, 1))?;
    class.define_method("pools", method!(NativePoller::pools, 0))?;
    class.define_method("process_id", method!(NativePoller::process_id, 0))?;
    class.define_method("take", method!(NativePoller::take, 1))?;
    class.define_method("finish", method!(NativePoller::finish, 4))?;
    class.define_method("close", method!(NativePoller::close, 1))?;
    class.define_method("stop", method!(NativePoller::stop, 1))?;
    class.define_method("running?", method!(NativePoller::is_running, 0))?;
    class.define_method("failure", method!(NativePoller::failure, 0))?;
    class.define_method("next_log", method!(NativePoller::next_log, 0))?;

    let job = module.define_class("NativeJob", ruby.class_object())?;
    job.define_method("id", method!(NativeJob::id, 0))?;
    job.define_method(
        "serialized_params",
        method!(NativeJob::serialized_params, 0),
    )?;
    job.define_method("retry_with", method!(NativeJob::retry_with, 4))?;
    Ok(())
}
