//! All the SQL of the engine, against GoodJob's tables and good_cron's claim ledger.

/// One statement parameter from every row: `column!(rows, field)` clones the field,
/// `column!(rows, |row| value)` maps each row.
macro_rules! column {
    ($rows:expr, $field:ident) => {
        $rows
            .iter()
            .map(|row| row.$field.clone())
            .collect::<Vec<_>>()
    };
    ($rows:expr, $value:expr) => {
        $rows.iter().map($value).collect::<Vec<_>>()
    };
}

/// `query.bind(column!(rows, a)).bind(column!(rows, b))…`: the statements here take their rows
/// as one array per field.
macro_rules! bind_columns {
    ($query:expr, $rows:expr, [$($field:ident),+ $(,)?]) => {
        $query$(.bind(column!($rows, $field)))+
    };
}

mod error;
pub use error::Failure;
pub mod jobs;
mod tls;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Row};
use std::sync::LazyLock;
use std::time::Duration;
use url::Url;
use uuid::Uuid;

/// One run to claim: the row GoodJob would write for a cron entry at `cron_at` (`None` for a
/// manual run, which never collides with a scheduled one).
#[derive(Clone, Debug)]
pub struct Claim {
    pub id: Uuid,
    pub cron_key: String,
    pub cron_at: Option<NaiveDateTime>,
    pub queue_name: String,
    pub priority: i32,
    pub job_class: String,
    pub serialized_params: String,
    pub scheduled_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    /// `None`: inserted whatever the settings say (a manual run).
    pub enabled_by_default: Option<bool>,
}

/// What became of a run this process tried to claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This process won it.
    Claimed,
    /// Another process had it already.
    Duplicate,
    /// The entry is disabled in `good_job_settings`.
    Disabled,
    /// A ledger claim never enqueued whose instant is older than the catch-up window: closed
    /// as skipped, not enqueued late.
    Stale,
}

/// A run claimed in the ledger, to be enqueued by the Ruby side.
#[derive(Clone, Debug)]
pub struct LedgerClaim {
    pub cron_key: String,
    pub cron_at: NaiveDateTime,
    /// `None`: a Proc decides in Ruby, so the claim does not look at the settings.
    pub enabled_by_default: Option<bool>,
}

/// A ledger claim the Ruby side is done with: enqueued (`job_id`, `None` when nothing was),
/// or closed without an enqueue for the reason in `skipped`.
#[derive(Clone, Debug)]
pub struct Enqueued {
    pub cron_key: String,
    pub cron_at: NaiveDateTime,
    pub job_id: Option<String>,
    pub skipped: Option<String>,
}

/// Whether GoodJob's `good_job_settings` list a key in `cron_keys_enabled` and in
/// `cron_keys_disabled`: with the entry's default, they decide whether a run is enabled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Listed {
    pub enabled: bool,
    pub disabled: bool,
}

/// What a statement with the settings CTE selects for `Listed` (the key in `c.cron_key`).
const LISTED: &str =
    "s.enabled ? c.cron_key AS listed_enabled, s.disabled ? c.cron_key AS listed_disabled";

fn listed(row: &sqlx::postgres::PgRow, first: usize) -> Result<Listed, sqlx::Error> {
    Ok(Listed {
        enabled: row.try_get(first)?,
        disabled: row.try_get(first + 1)?,
    })
}

/// What a look for stale ledger claims did with one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stale {
    /// Taken over by this process, which must enqueue it; how the settings list its key.
    TakenOver(Listed),
    /// Too old to enqueue: closed as skipped.
    Skipped,
}

#[derive(Debug)]
pub enum StoreError {
    /// The tables or the unique index GoodJob's migrations create are missing.
    Schema(String),
    /// No connection within the connect timeout.
    Unreachable(String),
    Database(sqlx::Error),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Schema(message) | StoreError::Unreachable(message) => f.write_str(message),
            StoreError::Database(e) => write!(f, "{e}"),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

/// The connect options of a `postgres://` or `postgresql://` URL (sqlx reads any scheme: a
/// typo such as `postgress://` would connect), with libpq's meaning of its TLS settings.
pub(crate) fn connect_options(database_url: &str) -> Result<PgConnectOptions, StoreError> {
    let scheme = database_url.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("postgres" | "postgresql")) {
        return Err(StoreError::Database(sqlx::Error::Configuration(
            format!(
                "the scheme must be postgres:// or postgresql://, not {:?}",
                scheme.unwrap_or(database_url)
            )
            .into(),
        )));
    }
    let url = Url::parse(database_url).map_err(|e| sqlx::Error::Configuration(e.into()))?;
    let tls = tls::Tls::read(&url)?;
    tls.apply(PgConnectOptions::from_url(&tls::without_settings(&url))?)
}

/// The database `database_url` names (PostgreSQL's default: the user's name), if it parses.
pub fn database_name(database_url: &str) -> Option<String> {
    let options = connect_options(database_url).ok()?;
    Some(
        options
            .get_database()
            .unwrap_or(options.get_username())
            .to_owned(),
    )
}

const MIGRATION_HINT: &str = "run `bin/rails generate good_cron:install && bin/rails db:migrate` \
     (or load lib/good_cron/schema.sql)";

/// GoodJob's enable/disable rows, and whether `c` (with `cron_key` and a nullable
/// `enabled_by_default`) is enabled by them, as `GoodJob::Setting.cron_key_enabled?` decides.
const SETTINGS_CTE: &str = r#"settings AS (
    SELECT COALESCE((SELECT value FROM good_job_settings WHERE key = 'cron_keys_disabled'), '[]'::jsonb) AS disabled,
           COALESCE((SELECT value FROM good_job_settings WHERE key = 'cron_keys_enabled'), '[]'::jsonb) AS enabled
)"#;
/// The same where GoodJob's tables are absent (an app that only has the ledger): no overrides.
const NO_SETTINGS_CTE: &str =
    "settings AS (SELECT '[]'::jsonb AS disabled, '[]'::jsonb AS enabled)";

fn settings_cte(settings: bool) -> &'static str {
    if settings {
        SETTINGS_CTE
    } else {
        NO_SETTINGS_CTE
    }
}
const ENABLED: &str = "CASE WHEN c.enabled_by_default IS NULL THEN true \
     WHEN c.enabled_by_default THEN NOT (s.disabled ? c.cron_key) ELSE s.enabled ? c.cron_key END";

/// Inserts every claim in one statement. A row that exists already (another process won it)
/// or whose entry is disabled is skipped without an error; the rows inserted wake executors
/// with `NOTIFY good_job`, as GoodJob's enqueue does (one per distinct payload). Returns the
/// positions of the claims won or disabled: the others are duplicates, which losers need not
/// be sent. Built once: it runs at every instant.
static CLAIM_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
WITH {SETTINGS_CTE}, candidates AS (
    SELECT c.*, {ENABLED} AS enabled FROM settings s,
        unnest($1::uuid[], $2::text[], $3::timestamp[], $4::text[], $5::int[], $6::text[], $7::text[],
               $8::timestamp[], $9::timestamp[], $10::bool[]) WITH ORDINALITY
        AS c(id, cron_key, cron_at, queue_name, priority, job_class, serialized_params, scheduled_at,
             created_at, enabled_by_default, position)
), inserted AS (
    INSERT INTO good_jobs (id, active_job_id, cron_key, cron_at, queue_name, priority, job_class,
                           serialized_params, scheduled_at, created_at, updated_at)
    SELECT id, id, cron_key, cron_at, queue_name, priority, job_class, serialized_params::jsonb,
           scheduled_at, created_at, created_at
    FROM candidates WHERE enabled ORDER BY position
    ON CONFLICT (cron_key, cron_at) WHERE cron_key IS NOT NULL DO NOTHING
    RETURNING id, queue_name, scheduled_at
), notified AS (
    SELECT count(pg_notify('good_job', payload)) AS n
    FROM (SELECT DISTINCT json_build_object(
              'queue_name', queue_name,
              'scheduled_at', to_char(scheduled_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text AS payload
          FROM inserted) wake
)
SELECT c.position, CASE WHEN c.enabled THEN 'claimed' ELSE 'disabled' END
FROM candidates c LEFT JOIN inserted i ON i.id = c.id, notified
WHERE NOT c.enabled OR i.id IS NOT NULL
"#
    )
});

/// Claims the runs of ledger-path entries: the winner enqueues them. One statement
/// with GoodJob's settings, one for a database without them.
static CLAIM_LEDGER_SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
    [
        claim_ledger_sql(NO_SETTINGS_CTE),
        claim_ledger_sql(SETTINGS_CTE),
    ]
});

fn claim_ledger_sql(settings: &str) -> String {
    format!(
        r#"
WITH {settings}, candidates AS (
    SELECT c.*, {ENABLED} AS enabled, {LISTED} FROM settings s,
        unnest($1::text[], $2::timestamp[], $3::bool[]) WITH ORDINALITY
        AS c(cron_key, cron_at, enabled_by_default, position)
), inserted AS (
    INSERT INTO good_cron_claims (cron_key, cron_at, claimed_by, claimed_at)
    SELECT cron_key, cron_at, $4, now() FROM candidates WHERE enabled ORDER BY position
    ON CONFLICT (cron_key, cron_at) DO NOTHING
    RETURNING cron_key, cron_at
)
SELECT c.position, CASE WHEN c.enabled THEN 'claimed' ELSE 'disabled' END,
       c.listed_enabled, c.listed_disabled
FROM candidates c LEFT JOIN inserted i ON i.cron_key = c.cron_key AND i.cron_at = c.cron_at
WHERE NOT c.enabled OR i.cron_key IS NOT NULL
"#
    )
}

/// Takes over stale ledger claims (see `Store::take_over_stale`). One statement with GoodJob's
/// settings, one for a database without them.
static TAKE_OVER_SQL: LazyLock<[String; 2]> =
    LazyLock::new(|| [take_over_sql(NO_SETTINGS_CTE), take_over_sql(SETTINGS_CTE)]);

fn take_over_sql(settings: &str) -> String {
    format!(
        "WITH {settings}
         UPDATE good_cron_claims c SET
             claimed_by = CASE WHEN stale.late THEN c.claimed_by ELSE $1 END,
             claimed_at = CASE WHEN stale.late THEN c.claimed_at ELSE now() END,
             takeovers = c.takeovers + CASE WHEN stale.late THEN 0 ELSE 1 END,
             failed_at = CASE WHEN stale.late THEN now() END,
             error = CASE WHEN stale.late THEN 'skipped: stale (never enqueued, older than the catch-up window)' END
         FROM settings s, (SELECT cron_key, cron_at,
                      cron_at < (now() AT TIME ZONE 'UTC') - make_interval(secs => $4) AS late
               FROM good_cron_claims
               WHERE enqueued_at IS NULL AND failed_at IS NULL AND cron_key = ANY($2)
                 AND claimed_at < now() - make_interval(secs => $3)
               ORDER BY cron_at LIMIT 1000 FOR UPDATE SKIP LOCKED) stale
         WHERE c.cron_key = stale.cron_key AND c.cron_at = stale.cron_at
         RETURNING c.cron_key, c.cron_at, stale.late, {LISTED}"
    )
}

/// Every claim's outcome, in order, from the rows a claim statement returned (the positions
/// of those won or disabled), each with what `details` reads from its row: the rest lost to
/// another process (with the default details).
fn outcomes<T: Clone + Default>(
    count: usize,
    rows: &[sqlx::postgres::PgRow],
    details: impl Fn(&sqlx::postgres::PgRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<(Outcome, T)>, sqlx::Error> {
    let mut outcomes = vec![(Outcome::Duplicate, T::default()); count];
    for row in rows {
        let position: i64 = row.try_get(0)?;
        let claimed = row.try_get::<&str, _>(1)? == "claimed";
        if let Some(outcome) = usize::try_from(position - 1)
            .ok()
            .and_then(|i| outcomes.get_mut(i))
        {
            let decided = if claimed {
                Outcome::Claimed
            } else {
                Outcome::Disabled
            };
            *outcome = (decided, details(row)?);
        }
    }
    Ok(outcomes)
}

/// A small pool on the app's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Connects lazily: no connection is opened until the first query. Must be called inside
    /// a tokio runtime.
    pub fn new(database_url: &str) -> Result<Store, StoreError> {
        Store::with_connections(database_url, 2)
    }

    /// A pool of up to `connections`, connected lazily.
    pub fn with_connections(database_url: &str, connections: u32) -> Result<Store, StoreError> {
        // A hung server must not hang a tick (or `stop`) forever.
        let options = connect_options(database_url)?
            .application_name("good_cron")
            .options([("statement_timeout", "30s")]);
        let pool = PgPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy_with(options);
        Ok(Store { pool })
    }

    /// Checks that GoodJob's tables and the unique index cron dedup relies on exist when
    /// `direct` entries need them, and the claim ledger when `ledger` entries do. Returns
    /// whether GoodJob's `good_job_settings` exists (a ledger-only app may lack it).
    pub async fn check_schema(&self, direct: bool, ledger: bool) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT to_regclass('good_jobs') IS NOT NULL, to_regclass('good_job_settings') IS NOT NULL,
                    EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = 'good_jobs'
                            AND indexname = 'index_good_jobs_on_cron_key_and_cron_at_cond'),
                    to_regclass('good_cron_claims') IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        let present: (bool, bool, bool, bool) = (
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        );
        let missing = match present {
            (false, _, _, _) if direct => "the good_jobs table",
            (_, false, _, _) if direct => "the good_job_settings table",
            (_, _, false, _) if direct => {
                "the unique index index_good_jobs_on_cron_key_and_cron_at_cond on good_jobs (cron_key, cron_at)"
            }
            (_, _, _, false) if ledger => "the good_cron_claims table (entries enqueued through ActiveJob need it)",
            (_, settings, _, _) => return Ok(settings),
        };
        Err(StoreError::Schema(format!(
            "{missing} is missing: {MIGRATION_HINT}"
        )))
    }

    /// Claims runs in one statement; returns every claim's outcome, in order.
    pub async fn claim(&self, claims: &[Claim]) -> Result<Vec<Outcome>, StoreError> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let query = bind_columns!(
            sqlx::query(&CLAIM_SQL),
            claims,
            [
                id,
                cron_key,
                cron_at,
                queue_name,
                priority,
                job_class,
                serialized_params,
                scheduled_at,
                created_at,
                enabled_by_default,
            ]
        );
        let rows = query.fetch_all(&self.pool).await?;
        let outcomes = outcomes(claims.len(), &rows, |_| Ok(()))?;
        Ok(outcomes.into_iter().map(|(outcome, ())| outcome).collect())
    }

    /// Whether GoodJob's `good_job_settings` table exists.
    pub async fn has_settings(&self) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT to_regclass('good_job_settings') IS NOT NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Claims runs in the ledger for process `process`, with GoodJob's enable/disable rows
    /// when `settings` (the table exists); returns every claim's outcome, and for those won
    /// how the settings list its key.
    pub async fn claim_ledger(
        &self,
        claims: &[LedgerClaim],
        process: Uuid,
        settings: bool,
    ) -> Result<Vec<(Outcome, Listed)>, StoreError> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let query = sqlx::query(&CLAIM_LEDGER_SQL[usize::from(settings)]);
        let rows = bind_columns!(query, claims, [cron_key, cron_at, enabled_by_default])
            .bind(process)
            .fetch_all(&self.pool)
            .await?;
        Ok(outcomes(claims.len(), &rows, |row| listed(row, 2))?)
    }

    /// Ledger claims of `keys` that were never enqueued and are older than `timeout` (their
    /// process died between claim and enqueue, or its enqueues kept raising): taken over for
    /// `process`, or, when their instant is more than `max_age` seconds old (database clock),
    /// closed as skipped. Oldest first.
    /// With `settings` (GoodJob's table exists), a run taken over says how they list its key.
    pub async fn take_over_stale(
        &self,
        keys: &[String],
        process: Uuid,
        timeout: Duration,
        max_age: f64,
        settings: bool,
    ) -> Result<Vec<(String, NaiveDateTime, Stale)>, StoreError> {
        let rows = sqlx::query(&TAKE_OVER_SQL[usize::from(settings)])
            .bind(process)
            .bind(keys)
            .bind(timeout.as_secs_f64())
            .bind(max_age)
            .fetch_all(&self.pool)
            .await?;
        let mut found: Vec<(String, NaiveDateTime, Stale)> = rows
            .iter()
            .map(|row| {
                let stale = if row.try_get(2)? {
                    Stale::Skipped
                } else {
                    Stale::TakenOver(listed(row, 3)?)
                };
                Ok((row.try_get(0)?, row.try_get(1)?, stale))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        found.sort_by_key(|(_, at, _)| *at);
        Ok(found)
    }

    /// Records what the Ruby side did with ledger claims of `process`.
    pub async fn mark_enqueued(&self, done: &[Enqueued], process: Uuid) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE good_cron_claims c
             SET enqueued_at = CASE WHEN u.error IS NULL THEN now() END,
                 failed_at = CASE WHEN u.error IS NOT NULL THEN now() END,
                 job_id = u.job_id, error = u.error
             FROM unnest($1::text[], $2::timestamp[], $3::text[], $4::text[]) AS u(cron_key, cron_at, job_id, error)
             WHERE c.cron_key = u.cron_key AND c.cron_at = u.cron_at AND c.claimed_by = $5",
        )
        .bind(done.iter().map(|d| d.cron_key.clone()).collect::<Vec<_>>())
        .bind(done.iter().map(|d| d.cron_at).collect::<Vec<_>>())
        .bind(done.iter().map(|d| d.job_id.clone()).collect::<Vec<_>>())
        .bind(done.iter().map(|d| d.skipped.clone()).collect::<Vec<_>>())
        .bind(process)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets closed ledger rows a week old: they only guard against a second claim of a
    /// past run.
    pub async fn prune_ledger(&self) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM good_cron_claims WHERE claimed_at < now() - interval '7 days' \
                     AND (enqueued_at IS NOT NULL OR failed_at IS NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Enables or disables `key` in GoodJob's settings (moves it between `cron_keys_enabled`
    /// and `cron_keys_disabled`) in one statement. Both rows are written by one multi-row
    /// upsert, always in the same order, so concurrent toggles neither deadlock nor leave a key
    /// twice in an array or in both.
    pub async fn set_enabled(&self, key: &str, enabled: bool) -> Result<(), StoreError> {
        if !self.has_settings().await? {
            return Err(StoreError::Schema(format!(
                "enable/disable is kept in GoodJob's good_job_settings table, which this database does not have: \
                 {MIGRATION_HINT}"
            )));
        }
        sqlx::query(
            "INSERT INTO good_job_settings (id, key, value, created_at, updated_at)
             VALUES (gen_random_uuid(), 'cron_keys_disabled',
                     CASE WHEN $2 THEN '[]'::jsonb ELSE jsonb_build_array($1::text) END, now(), now()),
                    (gen_random_uuid(), 'cron_keys_enabled',
                     CASE WHEN $2 THEN jsonb_build_array($1::text) ELSE '[]'::jsonb END, now(), now())
             ON CONFLICT (key) DO UPDATE SET
                 value = CASE
                     WHEN (EXCLUDED.key = 'cron_keys_enabled') = $2 THEN
                         CASE WHEN COALESCE(good_job_settings.value, '[]') ? $1 THEN good_job_settings.value
                              ELSE COALESCE(good_job_settings.value, '[]') || jsonb_build_array($1::text) END
                     ELSE COALESCE(good_job_settings.value, '[]') - $1::text
                 END,
                 updated_at = now()",
        )
        .bind(key)
        .bind(enabled)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The database server's clock.
    pub async fn database_now(&self) -> Result<DateTime<Utc>, StoreError> {
        Ok(sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(&self.pool)
            .await?)
    }

    /// For each key: the latest `cron_at` it ran at (in good_jobs, or enqueued from the
    /// ledger), and whether it is enabled given its default (`None`: counted as enabled).
    pub async fn entry_states(
        &self,
        keys: &[String],
        enabled_by_default: &[Option<bool>],
    ) -> Result<Vec<(String, Option<NaiveDateTime>, bool)>, StoreError> {
        let tables = sqlx::query(
            "SELECT to_regclass('good_jobs') IS NOT NULL, to_regclass('good_job_settings') IS NOT NULL,
                    to_regclass('good_cron_claims') IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        let (jobs, settings, ledger): (bool, bool, bool) =
            (tables.get(0), tables.get(1), tables.get(2));
        let jobs_last = if jobs {
            "(SELECT max(cron_at) FROM good_jobs WHERE cron_key = c.cron_key)"
        } else {
            "NULL"
        };
        let ledger_last = if ledger {
            "(SELECT max(cron_at) FROM good_cron_claims WHERE cron_key = c.cron_key AND enqueued_at IS NOT NULL)"
        } else {
            "NULL"
        };
        let settings = settings_cte(settings);
        let sql = format!(
            "WITH {settings}
             SELECT c.cron_key,
                    GREATEST({jobs_last}, {ledger_last}),
                    {ENABLED}
             FROM settings s, unnest($1::text[], $2::bool[]) WITH ORDINALITY AS c(cron_key, enabled_by_default, position)
             ORDER BY c.position"
        );
        let rows = sqlx::query(&sql)
            .bind(keys)
            .bind(enabled_by_default)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
