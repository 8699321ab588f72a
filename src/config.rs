//! What the scheduler is given: plain data built and validated by the Ruby side.

use serde::Deserialize;

/// How an entry's runs are enqueued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enqueue {
    /// The engine inserts the `good_jobs` row itself: one statement per instant.
    GoodJobs,
    /// The engine claims the instant in the `good_cron_claims` ledger and the winning process
    /// enqueues through ActiveJob in Ruby (Procs, enqueue callbacks, other backends).
    ActiveJob,
}

/// The row of a direct (`good_jobs`) entry, with its ActiveJob hash built once by ActiveJob.
#[derive(Clone, Debug, Deserialize)]
pub struct JobTemplate {
    pub job_class: String,
    pub queue_name: String,
    pub priority: i32,
    /// ActiveJob's `job.serialize` for this entry, as JSON; stamped per run.
    pub serialized_params: String,
    /// `set: { wait: }`, in seconds: moves `scheduled_at` after enqueue, not `cron_at`.
    #[serde(default)]
    pub wait_seconds: Option<f64>,
    /// `set: { wait_until: }`, as Unix seconds.
    #[serde(default)]
    pub wait_until: Option<f64>,
}

/// One cron entry, validated by the Ruby side.
#[derive(Clone, Debug, Deserialize)]
pub struct EntryConfig {
    /// The entry's name in the cron hash, stored as `cron_key`.
    pub key: String,
    /// The schedule text (`cron:`); `None` when a Proc picks each next instant, which the
    /// Ruby side then sends.
    #[serde(default)]
    pub cron: Option<String>,
    pub enqueue: Enqueue,
    /// The row to insert, for `Enqueue::GoodJobs`.
    #[serde(default)]
    pub job: Option<JobTemplate>,
    /// `None` when a Proc decides, in Ruby, at enqueue time.
    #[serde(default)]
    pub enabled_by_default: Option<bool>,
}

/// Everything one scheduler needs.
#[derive(Clone, Debug, Deserialize)]
pub struct SchedulerConfig {
    pub database_url: String,
    pub entries: Vec<EntryConfig>,
    /// GoodJob's `cron_graceful_restart_period`, in seconds: how far back a start, or the end
    /// of a database outage, claims missed instants.
    #[serde(default)]
    pub graceful_restart_period: Option<f64>,
    /// Seconds after which a ledger claim that was never enqueued (its process died) is taken
    /// over by another process.
    #[serde(default)]
    pub claim_timeout: Option<f64>,
}
