//! The enqueue statement: rows in GoodJob's format and `NOTIFY good_job`, run by the engine
//! or handed to the Ruby adapter for the app's own connection.

use super::TIMESTAMP_JSON;
use crate::clock::now;
use crate::store::{Store, StoreError};
use chrono::NaiveDateTime;
use std::sync::LazyLock;
use uuid::Uuid;

/// A job to insert, as GoodJob's adapter writes it.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub id: Uuid,
    pub queue_name: String,
    pub priority: Option<i32>,
    pub job_class: String,
    pub serialized_params: String,
    /// `None`: now.
    pub scheduled_at: Option<NaiveDateTime>,
    pub cron_key: Option<String>,
    pub cron_at: Option<NaiveDateTime>,
}

static ENQUEUE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
WITH inserted AS (
    INSERT INTO good_jobs (id, active_job_id, queue_name, priority, job_class, serialized_params,
                           scheduled_at, created_at, updated_at, cron_key, cron_at)
    SELECT r.id, r.id, r.queue_name, r.priority, r.job_class, r.serialized_params::jsonb,
           COALESCE(r.scheduled_at, $9), $9, $9, r.cron_key, r.cron_at
    FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::timestamp[],
                $7::text[], $8::timestamp[])
         AS r(id, queue_name, priority, job_class, serialized_params, scheduled_at, cron_key, cron_at)
    ON CONFLICT (cron_key, cron_at) WHERE cron_key IS NOT NULL DO NOTHING
    RETURNING queue_name, scheduled_at
), notified AS (
    SELECT count(pg_notify('good_job', CASE WHEN n = 1
               THEN json_build_object('queue_name', queue_name, 'scheduled_at', at)
               ELSE json_build_object('queue_name', queue_name, 'count', n, 'scheduled_at', at) END::text))
    FROM (SELECT queue_name, to_char(scheduled_at, {TIMESTAMP_JSON}) AS at, count(*) AS n
          FROM inserted GROUP BY 1, 2) wake
)
SELECT (SELECT count(*) FROM inserted), (SELECT * FROM notified)
"#
    )
});

impl Store {
    /// Inserts jobs in one statement and wakes executors, as GoodJob's adapter does (one
    /// `NOTIFY` per queue and time, with `count` when several). A second row for a cron
    /// instant is skipped, as GoodJob skips it. Returns how many rows were inserted.
    pub async fn enqueue(&self, jobs: &[NewJob]) -> Result<u64, StoreError> {
        let inserted: i64 = bind_columns!(
            sqlx::query_scalar(&ENQUEUE_SQL),
            jobs,
            [
                id,
                queue_name,
                priority,
                job_class,
                serialized_params,
                scheduled_at,
                cron_key,
                cron_at
            ]
        )
        .bind(now().naive_utc())
        .fetch_one(&self.pool)
        .await?;
        Ok(inserted.try_into().unwrap_or(0))
    }
}

/// The enqueue statement of [`Store::enqueue`] for a connection that is not the engine's (the
/// Ruby adapter runs it on the app's, inside the app's transaction): the SQL, and its
/// parameters in PostgreSQL's text format (`$1`–`$8` array literals, `$9` now). It returns one
/// row: how many jobs were inserted, and how many `NOTIFY` were sent.
pub fn enqueue_statement(jobs: &[NewJob], now: NaiveDateTime) -> (&'static str, Vec<String>) {
    let column = |value: &dyn Fn(&NewJob) -> Option<String>| text_array(jobs.iter().map(value));
    let time = |at: &NaiveDateTime| at.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let params = vec![
        column(&|j| Some(j.id.to_string())),
        column(&|j| Some(j.queue_name.clone())),
        column(&|j| j.priority.map(|p| p.to_string())),
        column(&|j| Some(j.job_class.clone())),
        column(&|j| Some(j.serialized_params.clone())),
        column(&|j| j.scheduled_at.as_ref().map(time)),
        column(&|j| j.cron_key.clone()),
        column(&|j| j.cron_at.as_ref().map(time)),
        time(&now),
    ];
    (&ENQUEUE_SQL, params)
}

/// A PostgreSQL array literal of text elements: each quoted (so commas, braces, spaces and
/// the word NULL stay data), `"` and `\` escaped; `None` is NULL.
fn text_array(elements: impl Iterator<Item = Option<String>>) -> String {
    let mut literal = String::from("{");
    for (i, element) in elements.enumerate() {
        if i > 0 {
            literal.push(',');
        }
        match element {
            None => literal.push_str("NULL"),
            Some(text) => {
                literal.push('"');
                for c in text.chars() {
                    if c == '"' || c == '\\' {
                        literal.push('\\');
                    }
                    literal.push(c);
                }
                literal.push('"');
            }
        }
    }
    literal.push('}');
    literal
}

#[cfg(test)]
mod tests {
    use super::text_array;

    #[test]
    fn text_arrays_quote_every_element_and_escape_quotes_and_backslashes() {
        let elements = [
            Some(r#"{"a":"b\"c"}"#.to_string()),
            None,
            Some("NULL".into()),
            Some(String::new()),
            Some("x, y".into()),
        ];
        assert_eq!(
            text_array(elements.into_iter()),
            r#"{"{\"a\":\"b\\\"c\"}",NULL,"NULL","","x, y"}"#
        );
        assert_eq!(text_array(std::iter::empty()), "{}");
    }
}
