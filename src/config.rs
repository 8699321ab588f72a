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
    #[serde(default)]
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
}
