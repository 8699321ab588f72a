//! `GoodCron::NativeEnqueuer`: the writes of the `:good_cron` ActiveJob adapter. A lazily
//! built runtime and connection pool per process (a forked child builds its own and leaves
//! the parent's alone); each enqueue runs with the GVL released. `statement` hands the same
//! write to Ruby, for the app's own connection.

use crate::convert::unix_time;
use crate::errors::error;
use crate::fork::ForkGuard;
use crate::gvl::without_gvl;
use good_cron_engine::clock::now;
use good_cron_engine::store::jobs::{enqueue_statement, NewJob};
use good_cron_engine::store::Store;
use magnus::scan_args::{get_kwargs, scan_args};
use magnus::value::LazyId;
use magnus::{function, method, prelude::*, Error, RArray, RHash, RModule, Ruby, Value};
use std::sync::Mutex;
use tokio::runtime::{Handle, Runtime};
use uuid::Uuid;

/// Connections the adapter may open: enqueues come from the app's request threads.
const CONNECTIONS: u32 = 5;

#[magnus::wrap(class = "GoodCron::NativeEnqueuer", free_immediately, size)]
struct NativeEnqueuer {
    database_url: String,
    client: Mutex<Option<ForkGuard<Client>>>,
}

struct Client {
    runtime: Runtime,
    store: Store,
}

/// `GoodCron::NativeEnqueuer::Job`: one good_jobs row to write, made by
/// `Job.new(id:, queue_name:, priority:, job_class:, serialized_params:, scheduled_at: nil,
/// cron_key: nil, cron_at: nil)` (times as Unix seconds) and checked there, once.
#[magnus::wrap(class = "GoodCron::NativeEnqueuer::Job", free_immediately, size)]
struct Job(NewJob);

/// The keywords `Job.new` requires, then the ones it may be given (interned once: a job is
/// made at every enqueue).
static REQUIRED: [LazyId; 5] = [
    LazyId::new("id"),
    LazyId::new("queue_name"),
    LazyId::new("priority"),
    LazyId::new("job_class"),
    LazyId::new("serialized_params"),
];
static OPTIONAL: [LazyId; 3] = [
    LazyId::new("scheduled_at"),
    LazyId::new("cron_key"),
    LazyId::new("cron_at"),
];

impl Job {
    fn new(ruby: &Ruby, args: &[Value]) -> Result<Job, Error> {
        let args = scan_args::<(), (), (), (), RHash, ()>(args)?;
        let kwargs = get_kwargs::<
            _,
            (String, String, Option<i32>, String, String),
            (
                Option<Option<f64>>,
                Option<Option<String>>,
                Option<Option<f64>>,
            ),
            (),
        >(
            args.keywords,
            &REQUIRED
                .each_ref()
                .map(|id| LazyId::get_inner_with(id, ruby)),
            &OPTIONAL
                .each_ref()
                .map(|id| LazyId::get_inner_with(id, ruby)),
        )?;
        let (id, queue_name, priority, job_class, serialized_params) = kwargs.required;
        let (scheduled_at, cron_key, cron_at) = kwargs.optional;
        let time = |at: Option<Option<f64>>| at.flatten().map(|at| unix_time(ruby, at)).transpose();
        Ok(Job(NewJob {
            id: Uuid::parse_str(&id)
                .map_err(|_| error(ruby, format!("job id {id:?} is not a UUID")))?,
            queue_name,
            priority,
            job_class,
            serialized_params,
            scheduled_at: time(scheduled_at)?,
            cron_key: cron_key.flatten(),
            cron_at: time(cron_at)?,
        }))
    }
}

/// The rows of an array of `Job`s (a TypeError for anything else).
fn new_jobs(jobs: RArray) -> Result<Vec<NewJob>, Error> {
    (0..jobs.len())
        .map(|i| jobs.entry::<&Job>(i as isize).map(|job| job.0.clone()))
        .collect()
}

impl NativeEnqueuer {
    fn new(database_url: String) -> NativeEnqueuer {
        NativeEnqueuer {
            database_url,
            client: Mutex::new(None),
        }
    }

    /// This process's runtime handle and pool, built on first use.
    fn client(&self) -> Result<(Handle, Store), String> {
        let mut client = self.client.lock().map_err(|e| e.to_string())?;
        if client.as_ref().is_some_and(ForkGuard::is_inherited) {
            *client = None;
        }
        let client = match &mut *client {
            Some(client) => client,
            empty => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("good_cron-enqueue")
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the enqueue runtime: {e}"))?;
                let store = {
                    let _context = runtime.enter();
                    Store::with_connections(&self.database_url, CONNECTIONS)
                        .map_err(|e| format!("database_url: {e}"))?
                };
                empty.insert(ForkGuard::new(Client { runtime, store }))
            }
        };
        Ok((client.runtime.handle().clone(), client.store.clone()))
    }

    /// Inserts the jobs in one statement and notifies; returns how many were inserted.
    fn enqueue(ruby: &Ruby, rb_self: &Self, jobs: RArray) -> Result<u64, Error> {
        let jobs = new_jobs(jobs)?;
        if jobs.is_empty() {
            return Ok(0);
        }
        let (handle, store) = rb_self.client().map_err(|m| error(ruby, m))?;
        without_gvl(|| handle.block_on(store.enqueue(&jobs)))
            .map_err(|e| error(ruby, format!("could not enqueue: {e}")))
    }

    /// `NativeEnqueuer.statement(jobs)`: `[sql, params]`, the same insert and `NOTIFY` as
    /// `#enqueue` for the caller to run on a connection of its own (the app's, inside its
    /// transaction); `params` are strings in PostgreSQL's text format.
    fn statement(jobs: RArray) -> Result<(&'static str, Vec<String>), Error> {
        Ok(enqueue_statement(&new_jobs(jobs)?, now().naive_utc()))
    }
}

pub fn define(ruby: &Ruby, module: RModule) -> Result<(), Error> {
    let class = module.define_class("NativeEnqueuer", ruby.class_object())?;
    class.define_singleton_method("new", function!(NativeEnqueuer::new, 1))?;
    class.define_method("enqueue", method!(NativeEnqueuer::enqueue, 1))?;
    class.define_singleton_method("statement", function!(NativeEnqueuer::statement, 1))?;
    let job = class.define_class("Job", ruby.class_object())?;
    job.define_singleton_method("new", function!(Job::new, -1))?;
    Ok(())
}
