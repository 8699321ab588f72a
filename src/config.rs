//! What the scheduler is given: plain data built and validated by the Ruby side, whose
//! durations and times are checked again here so that no arithmetic on them can overflow.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// The longest period a setting may name: a week. A catch-up enumerates every instant of
/// its period, and no timer or timestamp can overflow within it.
pub const MAX_PERIOD: f64 = 7.0 * 86_400.0;
/// The longest `set: { wait: }`: ten years.
pub const MAX_WAIT: f64 = 10.0 * 366.0 * 86_400.0;
/// Unix seconds of the instants every layer holds: the years 1 to 9999.
pub const TIMES: (f64, f64) = (-62_135_596_800.0, 253_402_300_799.0);

/// `seconds` as a `Duration`; an error naming `name` for a negative, non-finite or too large value.
pub fn duration(name: &str, seconds: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("{name} must be a number of seconds, got {seconds}"))
}

/// Whole microseconds of `seconds`, if they fit in an `i64`.
pub fn micros(seconds: f64) -> Option<i64> {
    let micros = (seconds * 1e6).round();
    (micros.is_finite() && micros.abs() < 9.0e18).then_some(micros as i64)
}

/// An optional number of seconds, which must lie within `min..=max`.
fn within<'de, D: Deserializer<'de>>(
    deserializer: D,
    name: &str,
    min: f64,
    max: f64,
) -> Result<Option<f64>, D::Error> {
    match Option::<f64>::deserialize(deserializer)? {
        Some(value) if !(min..=max).contains(&value) => Err(serde::de::Error::custom(format!(
            "{name} must be from {min} to {max}, got {value}"
        ))),
        value => Ok(value),
    }
}

fn graceful_restart_period<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    within(d, "graceful_restart_period", 0.0, MAX_PERIOD)
}

fn claim_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    within(d, "claim_timeout", 0.0, MAX_PERIOD)
}

fn poll_interval<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    within(d, "poll_interval", -MAX_PERIOD, MAX_PERIOD)
}

/// The shortest heartbeat interval: a zero one would keep the poller's loop spinning.
pub const MIN_HEARTBEAT_INTERVAL: f64 = 0.001;

fn heartbeat_interval<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    within(d, "heartbeat_interval", MIN_HEARTBEAT_INTERVAL, MAX_PERIOD)
}

fn wait_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    within(d, "wait_seconds", 0.0, MAX_WAIT)
}

fn wait_until<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    within(d, "wait_until", TIMES.0, TIMES.1)
}

/// How an entry's runs are enqueued: the variants are the `enqueue:` option's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enqueue {
    /// The direct path: the engine inserts the `good_jobs` row itself, one statement per
    /// instant.
    GoodJobs,
    /// The ledger path: the engine claims the instant in `good_cron_claims` and the winning
    /// process enqueues through ActiveJob in Ruby (Procs, enqueue callbacks, other backends).
    ActiveJob,
}

/// The row of a direct-path entry, with its ActiveJob hash built once by ActiveJob.
#[derive(Clone, Debug, Deserialize)]
pub struct JobTemplate {
    pub job_class: String,
    pub queue_name: String,
    pub priority: i32,
    /// ActiveJob's `job.serialize` for this entry, as JSON; stamped per run.
    pub serialized_params: String,
    /// `set: { wait: }`, in seconds: moves `scheduled_at` after enqueue, not `cron_at`.
    #[serde(default, deserialize_with = "wait_seconds")]
    pub wait_seconds: Option<f64>,
    /// `set: { wait_until: }`, as Unix seconds.
    #[serde(default, deserialize_with = "wait_until")]
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
    #[serde(default, deserialize_with = "graceful_restart_period")]
    pub graceful_restart_period: Option<f64>,
    /// Seconds after which a ledger claim that was never enqueued (its process died) is taken
    /// over by another process.
    #[serde(default, deserialize_with = "claim_timeout")]
    pub claim_timeout: Option<f64>,
}

/// Which queues a pool of the poller takes jobs from, in GoodJob's syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Queues {
    /// `*` (or empty).
    All,
    /// `a,b`; `+a,b` takes them in that order (`ordered`).
    Only { names: Vec<String>, ordered: bool },
    /// `-a,b`: every queue but these (and jobs without a queue).
    Except(Vec<String>),
}

impl Queues {
    /// Parses one pool's queue list as GoodJob's `Job.queue_parser` does.
    pub fn parse(text: &str) -> Queues {
        let text = text.trim();
        let (kind, list) = match text.chars().next() {
            Some('-') => ('-', &text[1..]),
            Some('+') => ('+', &text[1..]),
            _ => (' ', text),
        };
        let names: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(String::from)
            .collect();
        if names.is_empty() || names.iter().any(|name| name == "*") {
            return Queues::All;
        }
        match kind {
            '-' => Queues::Except(names),
            '+' => Queues::Only {
                names,
                ordered: true,
            },
            _ => Queues::Only {
                names,
                ordered: false,
            },
        }
    }

    pub fn names(&self) -> Option<&[String]> {
        match self {
            Queues::All => None,
            Queues::Only { names, .. } | Queues::Except(names) => Some(names),
        }
    }

    /// Whether a job of `queue` (a `NOTIFY` payload's) is one this pool takes.
    pub fn takes(&self, queue: Option<&str>) -> bool {
        match (self, queue) {
            (Queues::All, _) | (_, None) => true,
            (Queues::Only { names, .. }, Some(queue)) => names.iter().any(|n| n == queue),
            (Queues::Except(names), Some(queue)) => !names.iter().any(|n| n == queue),
        }
    }
}

/// One pool of execution threads: `queues` as written, parsed, and its thread count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    pub text: String,
    pub queues: Queues,
    pub threads: usize,
}

/// Splits GoodJob's `queues` setting into pools: `"mailers:2;default,low"` is `mailers` with 2
/// threads and `default,low` with `max_threads`.
pub fn pools(text: &str, max_threads: usize) -> Result<Vec<Pool>, String> {
    let text = if text.trim().is_empty() { "*" } else { text };
    text.split(';')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (queues, threads) = match part.rsplit_once(':') {
                Some((queues, count)) => {
                    let threads = count.trim().parse::<usize>().ok().filter(|n| *n > 0);
                    let threads = threads.ok_or_else(|| {
                        format!("queues: the thread count in {part:?} must be a positive integer")
                    })?;
                    (queues, threads)
                }
                None => (part, max_threads),
            };
            Ok(Pool {
                text: queues.trim().to_string(),
                queues: Queues::parse(queues),
                threads,
            })
        })
        .collect()
}

/// Everything one poller needs.
#[derive(Clone, Debug, Deserialize)]
pub struct PollerConfig {
    pub database_url: String,
    /// GoodJob's `queues` setting.
    #[serde(default = "all_queues")]
    pub queues: String,
    pub max_threads: usize,
    /// Seconds between polls; `None` or ≤ 0: only `NOTIFY` and known times wake it.
    #[serde(default, deserialize_with = "poll_interval")]
    pub poll_interval: Option<f64>,
    /// How many upcoming `scheduled_at` times it keeps, to start future jobs on time.
    pub max_cache: usize,
    /// `LISTEN good_job`.
    pub listen: bool,
    /// The `state` of the `good_job_processes` row, as JSON.
    pub process_state: String,
    /// Seconds a connection may take before the database counts as unreachable.
    #[serde(default)]
    pub connect_timeout: Option<f64>,
    /// Seconds between refreshes of the `good_job_processes` row; `None`: GoodJob's 30.
    #[serde(default, deserialize_with = "heartbeat_interval")]
    pub heartbeat_interval: Option<f64>,
}

fn all_queues() -> String {
    "*".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(names: &[&str], ordered: bool) -> Queues {
        Queues::Only {
            names: names.iter().map(|n| n.to_string()).collect(),
            ordered,
        }
    }

    #[test]
    fn parses_queues_as_goodjob() {
        assert_eq!(Queues::parse(""), Queues::All);
        assert_eq!(Queues::parse(" * "), Queues::All);
        assert_eq!(Queues::parse("a,*"), Queues::All);
        assert_eq!(Queues::parse("a, b"), only(&["a", "b"], false));
        assert_eq!(Queues::parse("+a,b"), only(&["a", "b"], true));
        assert_eq!(Queues::parse("-a"), Queues::Except(vec!["a".to_string()]));
        assert!(Queues::parse("-a").takes(Some("b")));
        assert!(!Queues::parse("-a").takes(Some("a")));
        assert!(!Queues::parse("a").takes(Some("b")));
        assert!(Queues::parse("a").takes(None));
    }

    #[test]
    fn splits_pools() {
        let pools = pools("mailers:2;default,low", 5).unwrap();
        assert_eq!(pools.len(), 2);
        assert_eq!((pools[0].text.as_str(), pools[0].threads), ("mailers", 2));
        assert_eq!(pools[0].queues, only(&["mailers"], false));
        assert_eq!(
            (pools[1].text.as_str(), pools[1].threads),
            ("default,low", 5)
        );
        assert_eq!(super::pools("", 3).unwrap()[0].queues, Queues::All);
        assert!(super::pools("a:0", 3).unwrap_err().contains("\"a:0\""));
        assert!(super::pools("a:x", 3).is_err());
    }

    #[test]
    fn refuses_durations_and_times_that_could_overflow() {
        let scheduler = |extra: &str| {
            serde_json::from_str::<SchedulerConfig>(&format!(
                r#"{{"database_url":"postgres:///x","entries":[]{extra}}}"#
            ))
        };
        assert!(scheduler(r#","claim_timeout":30,"graceful_restart_period":0"#).is_ok());
        assert!(scheduler(r#","graceful_restart_period":null"#).is_ok());
        for (extra, name) in [
            (r#","claim_timeout":1e20"#, "claim_timeout"),
            (
                r#","graceful_restart_period":1e12"#,
                "graceful_restart_period",
            ),
            (
                r#","graceful_restart_period":-5"#,
                "graceful_restart_period",
            ),
        ] {
            let error = scheduler(extra).unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
        let job = |extra: &str| {
            serde_json::from_str::<JobTemplate>(&format!(
                r#"{{"job_class":"J","queue_name":"q","priority":0,"serialized_params":"{{}}"{extra}}}"#
            ))
        };
        assert!(job(r#","wait_seconds":30,"wait_until":1700000000"#).is_ok());
        assert!(job(r#","wait_seconds":1e300"#).is_err());
        assert!(job(r#","wait_seconds":-1"#).is_err());
        assert!(job(r#","wait_until":1e300"#).is_err());
        assert!(duration("t", f64::NAN).is_err());
        assert!(duration("t", -1.0).is_err());
        assert_eq!(duration("t", 1.5), Ok(Duration::from_millis(1500)));
        assert_eq!(micros(1.5), Some(1_500_000));
        assert_eq!(micros(f64::INFINITY), None);
        assert_eq!(micros(1e300), None);
    }
}
