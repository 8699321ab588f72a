//! One cron entry, ready to run: its schedule, and for the direct path its `good_jobs` row
//! with the ActiveJob hash split around the per-run fields.

use crate::config::{micros, EntryConfig, JobTemplate};
use crate::schedule::Schedule;
use crate::store::Claim;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeDelta, Utc};
use uuid::Uuid;

pub(crate) struct Entry {
    pub config: EntryConfig,
    /// `None` when a Proc picks each next instant (sent by the Ruby side).
    pub schedule: Option<Schedule>,
    template: Option<(JobTemplate, Vec<Part>, Due)>,
}

/// When a run's job may start (`scheduled_at`), from `set: { wait:, wait_until: }`.
enum Due {
    Enqueued,
    After(TimeDelta),
    At(DateTime<Utc>),
}

impl Due {
    fn of(key: &str, job: &JobTemplate) -> Result<Due, String> {
        match (job.wait_until, job.wait_seconds) {
            (Some(until), _) => micros(until)
                .and_then(DateTime::from_timestamp_micros)
                .map(Due::At)
                .ok_or_else(|| format!("{key}: wait_until is out of range: {until}")),
            (None, Some(wait)) => micros(wait)
                .filter(|micros| *micros >= 0)
                .map(|micros| Due::After(TimeDelta::microseconds(micros)))
                .ok_or_else(|| format!("{key}: wait is out of range: {wait}")),
            (None, None) => Ok(Due::Enqueued),
        }
    }

    /// Saturates rather than overflows (it cannot within the waits the config accepts).
    fn from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Due::Enqueued => now,
            Due::After(wait) => now
                .checked_add_signed(*wait)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            Due::At(at) => *at,
        }
    }
}

/// A piece of the serialized ActiveJob hash: fixed text, or a per-run value (with the number
/// of fractional second digits for timestamps).
enum Part {
    Text(String),
    JobId,
    EnqueuedAt(usize),
    ScheduledAt(usize),
}

pub(crate) fn naive(at: i64) -> NaiveDateTime {
    DateTime::from_timestamp(at, 0)
        .unwrap_or_default()
        .naive_utc()
}

impl Entry {
    pub fn new(config: EntryConfig) -> Result<Entry, String> {
        let key = config.key.clone();
        let schedule = match &config.cron {
            Some(cron) => Some(Schedule::parse(cron).map_err(|e| format!("{key}: {e}"))?),
            None => None,
        };
        let template = match &config.job {
            Some(job) => {
                let template = serde_json::from_str(&job.serialized_params)
                    .map_err(|e| format!("{key}: serialized_params is not a JSON object: {e}"))?;
                Some((job.clone(), split_template(template), Due::of(&key, job)?))
            }
            None => None,
        };
        Ok(Entry {
            config,
            schedule,
            template,
        })
    }

    /// The `good_jobs` row for the run at `cron_at` (`None`: a manual run), enqueued at `now`;
    /// `None` for an entry on the ledger path.
    pub fn claim(&self, cron_at: Option<i64>, now: DateTime<Utc>) -> Option<Claim> {
        let (job, parts, due) = self.template.as_ref()?;
        let id = Uuid::new_v4();
        let scheduled_at = due.from(now);
        let mut serialized_params = String::with_capacity(256);
        for part in parts {
            match part {
                Part::Text(text) => serialized_params.push_str(text),
                Part::JobId => push_quoted(&mut serialized_params, &id.to_string()),
                Part::EnqueuedAt(digits) => {
                    push_quoted(&mut serialized_params, &iso8601(now, *digits))
                }
                Part::ScheduledAt(digits) => {
                    push_quoted(&mut serialized_params, &iso8601(scheduled_at, *digits))
                }
            }
        }
        Some(Claim {
            id,
            cron_key: self.config.key.clone(),
            cron_at: cron_at.map(naive),
            queue_name: job.queue_name.clone(),
            priority: job.priority,
            job_class: job.job_class.clone(),
            serialized_params,
            scheduled_at: scheduled_at.naive_utc(),
            created_at: now.naive_utc(),
            enabled_by_default: Some(self.config.enabled_by_default.unwrap_or(true)),
        })
    }
}

/// Timestamps as the running Rails writes them: the template's `enqueued_at` decides how
/// many fractional digits (Rails 6.1 writes none, 7.1 writes nine).
fn iso8601(at: DateTime<Utc>, digits: usize) -> String {
    let format = match digits {
        0 => SecondsFormat::Secs,
        1..=3 => SecondsFormat::Millis,
        4..=6 => SecondsFormat::Micros,
        _ => SecondsFormat::Nanos,
    };
    at.to_rfc3339_opts(format, true)
}

fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    out.push_str(value);
    out.push('"');
}

/// Fractional second digits of an ISO 8601 timestamp ("…:00.123456789Z" has nine).
fn fraction_digits(value: Option<&serde_json::Value>) -> usize {
    let text = value.and_then(|v| v.as_str()).unwrap_or("");
    text.split_once('.').map_or(0, |(_, rest)| {
        rest.bytes().take_while(u8::is_ascii_digit).count()
    })
}

/// Serializes the template once, with markers where the per-run values go, and splits it there.
fn split_template(mut template: serde_json::Map<String, serde_json::Value>) -> Vec<Part> {
    let enqueued_digits = fraction_digits(template.get("enqueued_at"));
    let scheduled_digits = fraction_digits(template.get("scheduled_at")).max(enqueued_digits);
    let mut markers = vec![
        ("@@good_cron:job_id@@", Part::JobId),
        (
            "@@good_cron:enqueued_at@@",
            Part::EnqueuedAt(enqueued_digits),
        ),
    ];
    template.insert("job_id".into(), markers[0].0.into());
    template.insert("enqueued_at".into(), markers[1].0.into());
    // Rails 7.1+ serializes scheduled_at; 6.1 does not, and then neither do we.
    if template.contains_key("scheduled_at") {
        template.insert("scheduled_at".into(), "@@good_cron:scheduled_at@@".into());
        markers.push((
            "@@good_cron:scheduled_at@@",
            Part::ScheduledAt(scheduled_digits),
        ));
    }
    let mut rest = serde_json::Value::Object(template).to_string();
    let mut parts = Vec::new();
    while let Some((at, index)) = markers
        .iter()
        .enumerate()
        .filter_map(|(i, (m, _))| rest.find(&format!("\"{m}\"")).map(|at| (at, i)))
        .min()
    {
        let (marker, part) = markers.swap_remove(index);
        parts.push(Part::Text(rest[..at].to_owned()));
        parts.push(part);
        rest = rest[at + marker.len() + 2..].to_owned();
    }
    parts.push(Part::Text(rest));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Enqueue;

    fn entry(serialized_params: &str, wait_seconds: Option<f64>) -> Result<Entry, String> {
        Entry::new(EntryConfig {
            key: "report".into(),
            cron: Some("every minute".into()),
            enqueue: Enqueue::GoodJobs,
            job: Some(JobTemplate {
                job_class: "ReportJob".into(),
                queue_name: "reports".into(),
                priority: 5,
                serialized_params: serialized_params.into(),
                wait_seconds,
                wait_until: None,
            }),
            enabled_by_default: Some(true),
        })
    }

    fn stamped(entry: &Entry) -> (Claim, serde_json::Value) {
        let now = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456789Z")
            .unwrap()
            .to_utc();
        let claim = entry.claim(Some(1_767_323_040), now).unwrap();
        let params = serde_json::from_str(&claim.serialized_params).unwrap();
        (claim, params)
    }

    #[test]
    fn stamps_each_run_like_rails_6_1_serializes_it() {
        let template = r#"{"job_class":"ReportJob","job_id":"x","provider_job_id":null,"queue_name":"reports","priority":5,"arguments":[1,{"_aj_symbol_keys":[]}],"executions":0,"locale":"en","enqueued_at":"2020-01-01T00:00:00Z"}"#;
        let (claim, params) = stamped(&entry(template, None).unwrap());
        assert_eq!(params["job_id"], claim.id.to_string());
        assert_eq!(params["enqueued_at"], "2026-01-02T03:04:05Z");
        assert_eq!(
            params["arguments"],
            serde_json::json!([1, {"_aj_symbol_keys": []}])
        );
        assert!(params.get("scheduled_at").is_none());
        assert_eq!(claim.cron_at.unwrap().to_string(), "2026-01-02 03:04:00");
        assert_eq!(claim.created_at, claim.scheduled_at);
        assert_eq!((claim.queue_name.as_str(), claim.priority), ("reports", 5));
    }

    #[test]
    fn keeps_rails_7_1_precision_and_moves_scheduled_at_by_wait() {
        let template = r#"{"job_id":"x","enqueued_at":"2020-01-01T00:00:00.000000000Z","scheduled_at":"2020-01-01T00:00:00.000000000Z"}"#;
        let (claim, params) = stamped(&entry(template, Some(30.0)).unwrap());
        assert_eq!(params["enqueued_at"], "2026-01-02T03:04:05.123456789Z");
        assert_eq!(params["scheduled_at"], "2026-01-02T03:04:35.123456789Z");
        assert_eq!((claim.scheduled_at - claim.created_at).num_seconds(), 30);
    }

    #[test]
    fn a_wait_out_of_range_is_an_error_and_the_largest_one_stamps_a_time() {
        let e = entry(
            r#"{"job_id":"x","enqueued_at":"2020-01-01T00:00:00Z"}"#,
            Some(1e300),
        );
        assert!(e.is_err());
        let wait = crate::config::MAX_WAIT;
        let e = entry(
            r#"{"job_id":"x","enqueued_at":"2020-01-01T00:00:00Z"}"#,
            Some(wait),
        )
        .unwrap();
        let (claim, _) = stamped(&e);
        assert_eq!(
            (claim.scheduled_at - claim.created_at).num_seconds(),
            wait as i64
        );
    }

    #[test]
    fn every_run_gets_its_own_job_id() {
        let e = entry(
            r#"{"job_id":"x","enqueued_at":"2020-01-01T00:00:00Z"}"#,
            None,
        )
        .unwrap();
        assert_ne!(stamped(&e).0.id, stamped(&e).0.id);
    }
}
