//! All the SQL of the engine, against GoodJob's tables.

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Row;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// One run to claim: the row GoodJob would write for a cron entry at `cron_at`.
#[derive(Clone, Debug)]
pub struct Claim {
    pub id: Uuid,
    pub cron_key: String,
    pub cron_at: NaiveDateTime,
    pub queue_name: String,
    pub priority: i32,
    pub job_class: String,
    pub serialized_params: String,
    pub scheduled_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub enabled_by_default: bool,
}

/// A run this process won.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub id: Uuid,
    pub cron_key: String,
    pub cron_at: NaiveDateTime,
}

/// Why the schema cannot be used.
#[derive(Debug)]
pub enum StoreError {
    /// The tables or the unique index GoodJob's migrations create are missing.
    Schema(String),
    Database(sqlx::Error),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Schema(message) => f.write_str(message),
            StoreError::Database(e) => write!(f, "{e}"),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

const MIGRATION_HINT: &str = "run `bin/rails generate good_cron:install && bin/rails db:migrate` \
     (or GoodJob's own `good_job:install` migration), or load lib/good_cron/schema.sql";

/// Inserts every claim in one statement. A row that exists already (another process won it)
/// or whose entry is disabled in `good_job_settings` is skipped without an error; the rows
/// inserted wake executors with `NOTIFY good_job`, as GoodJob's enqueue does.
const CLAIM_SQL: &str = r#"
WITH settings AS (
    SELECT COALESCE((SELECT value FROM good_job_settings WHERE key = 'cron_keys_disabled'), '[]'::jsonb) AS disabled,
           COALESCE((SELECT value FROM good_job_settings WHERE key = 'cron_keys_enabled'), '[]'::jsonb) AS enabled
), candidates AS (
    SELECT c.* FROM settings s,
        unnest($1::uuid[], $2::text[], $3::timestamp[], $4::text[], $5::int[], $6::text[], $7::text[],
               $8::timestamp[], $9::timestamp[], $10::bool[]) WITH ORDINALITY
        AS c(id, cron_key, cron_at, queue_name, priority, job_class, serialized_params, scheduled_at,
             created_at, enabled_by_default, position)
    WHERE CASE WHEN c.enabled_by_default THEN NOT (s.disabled ? c.cron_key) ELSE s.enabled ? c.cron_key END
), inserted AS (
    INSERT INTO good_jobs (id, active_job_id, cron_key, cron_at, queue_name, priority, job_class,
                           serialized_params, scheduled_at, created_at, updated_at)
    SELECT id, id, cron_key, cron_at, queue_name, priority, job_class, serialized_params::jsonb,
           scheduled_at, created_at, created_at
    FROM candidates ORDER BY position
    ON CONFLICT (cron_key, cron_at) WHERE cron_key IS NOT NULL DO NOTHING
    RETURNING id, cron_key, cron_at, queue_name, scheduled_at
), notified AS (
    SELECT count(pg_notify('good_job', json_build_object(
               'queue_name', queue_name,
               'scheduled_at', to_char(scheduled_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text)) AS n
    FROM (SELECT DISTINCT queue_name, scheduled_at FROM inserted) wake
)
SELECT inserted.id, inserted.cron_key, inserted.cron_at FROM inserted, notified
"#;

/// A small pool on the app's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Connects lazily: no connection is opened until the first query.
    pub fn new(database_url: &str) -> Result<Store, StoreError> {
        // A hung server must not hang a tick (or `stop`) forever.
        let options = PgConnectOptions::from_str(database_url)?
            .application_name("good_cron")
            .options([("statement_timeout", "30s")]);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy_with(options);
        Ok(Store { pool })
    }

    /// Checks that GoodJob's tables and the unique index cron dedup relies on exist.
    pub async fn check_schema(&self) -> Result<(), StoreError> {
        let row = sqlx::query(
            "SELECT to_regclass('good_jobs') IS NOT NULL, to_regclass('good_job_settings') IS NOT NULL,
                    EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = 'good_jobs'
                            AND indexname = 'index_good_jobs_on_cron_key_and_cron_at_cond')",
        )
        .fetch_one(&self.pool)
        .await?;
        let (jobs, settings, index): (bool, bool, bool) = (row.get(0), row.get(1), row.get(2));
        let missing = match (jobs, settings, index) {
            (false, _, _) => "the good_jobs table",
            (_, false, _) => "the good_job_settings table",
            (_, _, false) => "the unique index index_good_jobs_on_cron_key_and_cron_at_cond on good_jobs (cron_key, cron_at)",
            _ => return Ok(()),
        };
        Err(StoreError::Schema(format!(
            "{missing} is missing: {MIGRATION_HINT}"
        )))
    }

    /// Claims runs in one statement; returns those this process won.
    pub async fn claim(&self, claims: &[Claim]) -> Result<Vec<Claimed>, StoreError> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        macro_rules! column {
            ($field:ident) => {
                claims.iter().map(|c| c.$field.clone()).collect::<Vec<_>>()
            };
        }
        let rows = sqlx::query(CLAIM_SQL)
            .bind(column!(id))
            .bind(column!(cron_key))
            .bind(column!(cron_at))
            .bind(column!(queue_name))
            .bind(column!(priority))
            .bind(column!(job_class))
            .bind(column!(serialized_params))
            .bind(column!(scheduled_at))
            .bind(column!(created_at))
            .bind(column!(enabled_by_default))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| Claimed {
                id: row.get(0),
                cron_key: row.get(1),
                cron_at: row.get(2),
            })
            .collect())
    }

    /// The database server's clock.
    pub async fn database_now(&self) -> Result<DateTime<Utc>, StoreError> {
        Ok(sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(&self.pool)
            .await?)
    }

    /// For each key: the latest `cron_at` in good_jobs, and whether the entry is enabled given
    /// its default.
    pub async fn entry_states(
        &self,
        keys: &[String],
        enabled_by_default: &[bool],
    ) -> Result<Vec<(String, Option<NaiveDateTime>, bool)>, StoreError> {
        let rows = sqlx::query(
            "WITH settings AS (
                 SELECT COALESCE((SELECT value FROM good_job_settings WHERE key = 'cron_keys_disabled'), '[]'::jsonb) AS disabled,
                        COALESCE((SELECT value FROM good_job_settings WHERE key = 'cron_keys_enabled'), '[]'::jsonb) AS enabled)
             SELECT e.key,
                    (SELECT max(cron_at) FROM good_jobs WHERE cron_key = e.key),
                    CASE WHEN e.by_default THEN NOT (s.disabled ? e.key) ELSE s.enabled ? e.key END
             FROM settings s, unnest($1::text[], $2::bool[]) WITH ORDINALITY AS e(key, by_default, position)
             ORDER BY e.position",
        )
        .bind(keys)
        .bind(enabled_by_default)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
