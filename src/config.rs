//! What the scheduler is given: plain data built and validated by the Ruby side.

use serde::Deserialize;

/// One cron entry, validated, with the ActiveJob hash of its job built once by ActiveJob.
#[derive(Clone, Debug, Deserialize)]
pub struct EntryConfig {
    /// The entry's name in the cron hash, stored as `cron_key`.
    pub key: String,
    /// The schedule text (`cron:`).
    pub cron: String,
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
    #[serde(default = "enabled")]
    pub enabled_by_default: bool,
}

fn enabled() -> bool {
    true
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
}
