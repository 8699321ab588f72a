//! The statements that enqueue and run jobs, following GoodJob 4.x's protocol
//! (doc/goodjob-execution-protocol.md): rows in GoodJob's format, `NOTIFY good_job`, GoodJob's
//! advisory lock on `'good_jobs-' || id` held by one session for as long as a job runs, and a
//! `good_job_processes` row that GoodJob counts alive while that session holds its lock.

mod enqueue;

pub use enqueue::{enqueue_statement, NewJob};

use super::StoreError;
use crate::config::Queues;
use chrono::NaiveDateTime;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use std::sync::LazyLock;
use uuid::Uuid;

/// A job this process locked and must run.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: Uuid,
    /// A JSON object (rows whose params are not one come back as `Unrunnable`).
    pub serialized_params: String,
    /// The row's `executions_count` once this attempt began: after an outage the row is
    /// still this attempt's only if nobody began another meanwhile.
    pub executions_count: i32,
}

/// A locked row that cannot be run, and why (naming the column).
#[derive(Clone, Debug)]
pub struct Unrunnable {
    pub id: Uuid,
    pub problem: String,
}

/// A job this process had when it lost the database: running, or with a result or a release
/// not yet written (`attempt`: the result's execution id).
#[derive(Clone, Copy, Debug)]
pub struct Held {
    pub id: Uuid,
    pub executions_count: i32,
    pub attempt: Option<Uuid>,
}

/// What one dequeue locked.
#[derive(Debug, Default)]
pub struct Dequeued {
    pub jobs: Vec<Job>,
    pub unrunnable: Vec<Unrunnable>,
}

/// A result this process did not write because the job was no longer its own: another
/// process took it while this one was away from the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotOwned {
    pub id: Uuid,
    /// The process that has it now, or whose attempt came last.
    pub other: Option<Uuid>,
    /// Finished elsewhere (rather than running elsewhere, or gone).
    pub finished: bool,
}

/// `retry_on` re-enqueued the job from inside its perform: the same row runs again.
#[derive(Clone, Debug)]
pub struct Retry {
    pub serialized_params: String,
    pub scheduled_at: NaiveDateTime,
    pub queue_name: String,
    pub priority: Option<i32>,
}

/// The end of an attempt.
#[derive(Clone, Debug)]
pub struct Finished {
    pub id: Uuid,
    /// The id of the attempt's `good_job_executions` row, chosen before it is written, so a
    /// batch written again after a lost reply cannot record it twice.
    pub attempt: Uuid,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    pub duration_seconds: f64,
    /// `"Class: message"`, GoodJob's format.
    pub error: Option<String>,
    /// GoodJob's `error_event`: 1 unhandled, 2 handled, 3 retried, 4 retry_stopped,
    /// 5 discarded.
    pub error_event: Option<i16>,
    /// The backtrace as a JSON array of strings.
    pub backtrace: Option<String>,
    pub retry: Option<Retry>,
}

/// A locked job given back without a result: never started (its attempt is undone), or
/// abandoned while running (left as GoodJob leaves an interrupted one).
#[derive(Clone, Copy, Debug)]
pub struct Released {
    pub id: Uuid,
    pub started: bool,
}

/// GoodJob's advisory lock key of `'<table>-' || <id expression>`.
fn lock_key(table: &str, id: &str) -> String {
    format!("('x' || substr(md5('{table}-' || {id}::text), 1, 16))::bit(64)::bigint")
}

/// Whether process row `p` is alive by GoodJob 4.x's rule: with `lock_type = 0` while some
/// session holds its advisory lock, without a lock type while refreshed in the last 5 minutes.
static PROCESS_ALIVE: LazyLock<String> = LazyLock::new(|| {
    let key = "('x' || substr(md5('good_job_processes-' || p.id::text), 1, 16))";
    format!(
        "CASE WHEN p.lock_type = 0 THEN EXISTS (
             SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1
               AND l.classid = {key}::bit(32)::int AND l.objid = ({key}::bit(64) << 32)::bit(32)::int)
         WHEN p.lock_type IS NULL THEN p.updated_at >= now() - interval '5 minutes'
         ELSE true END"
    )
});

const TIMESTAMP_JSON: &str = r#"'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'"#;

/// GoodJob's error for an attempt that did not end (its process died or gave it up), from the
/// row `j` of its job.
const INTERRUPTED: &str = "'GoodJob::InterruptError: Interrupted after starting perform at '''
    || to_char(j.performed_at, 'YYYY-MM-DD HH24:MI:SS UTC') || ''''";

/// The `good_job_executions` row of an interrupted attempt of job `j` (its process: the SQL
/// `process`), to be followed by the `FROM` that gives `j`.
fn interrupted_attempt(process: &str) -> String {
    format!(
        "INSERT INTO good_job_executions (id, active_job_id, job_class, queue_name, serialized_params,
        scheduled_at, created_at, updated_at, finished_at, error, error_event, duration, process_id)
    SELECT gen_random_uuid(), COALESCE(j.active_job_id, j.id), j.job_class, j.queue_name,
           j.serialized_params, COALESCE(j.scheduled_at, j.created_at), j.performed_at, now(), now(),
           {INTERRUPTED}, 0, now() - j.performed_at, {process}"
    )
}

/// The dequeue statement of one pool: `$1` how many, `$2` the process id, `$3` now (the
/// poller's clock, which also decides when a cached scheduled time is due), `$4` the pool's
/// queue names (unless it takes every queue). A row without `scheduled_at` is due (GoodJob 3
/// read it so; 4.x would leave it forever).
///
/// Jobs go in priority, then scheduled order (GoodJob's `dequeue_query_sort: :scheduled_at`),
/// the order of GoodJob's index `index_good_jobs_on_priority_scheduled_at_unfinished`, so a
/// generic plan reads the first due rows of that index instead of sorting every unfinished
/// job. Rows are reached through `id = ANY(…)`, which plans as primary-key lookups whatever
/// the statistics say (a join could plan as a scan of every preserved job). An attempt that
/// was interrupted (its process died) is recorded as GoodJob records it, `error_event` 0: its
/// open execution row is closed, or one is written if it has none.
fn dequeue_sql(queues: &Queues) -> String {
    let (filter, ordered) = match queues {
        Queues::All => ("", false),
        Queues::Only { ordered, .. } => ("AND j.queue_name = ANY($4)", *ordered),
        Queues::Except(_) => (
            "AND (j.queue_name <> ALL($4) OR j.queue_name IS NULL)",
            false,
        ),
    };
    let order = |table: &str| {
        if ordered {
            format!("array_position($4, {table}queue_name),")
        } else {
            String::new()
        }
    };
    let (candidate_order, claimed_order) = (order("j."), order(""));
    let alive = &*PROCESS_ALIVE;
    let job_key = lock_key("good_jobs", "id");
    let write_interrupted = interrupted_attempt("j.locked_by_id");
    format!(
        r#"
WITH live AS MATERIALIZED (
    SELECT p.id FROM good_job_processes p WHERE {alive}
), candidate AS MATERIALIZED (
    SELECT j.id FROM good_jobs j
    WHERE j.finished_at IS NULL AND (j.scheduled_at <= $3 OR j.scheduled_at IS NULL) {filter}
      AND (j.locked_by_id IS NULL
           OR (j.locked_by_id <> $2 AND j.locked_by_id NOT IN (SELECT id FROM live)))
    ORDER BY {candidate_order} j.priority ASC NULLS LAST, j.scheduled_at ASC, j.id ASC
    LIMIT $1 FOR NO KEY UPDATE OF j SKIP LOCKED
), locked AS MATERIALIZED (
    SELECT id FROM candidate WHERE pg_try_advisory_lock({job_key})
), interrupted AS MATERIALIZED (
    SELECT j.* FROM good_jobs j
    WHERE j.id = ANY(ARRAY(SELECT id FROM locked)) AND j.performed_at IS NOT NULL
), closed AS (
    UPDATE good_job_executions e
    SET finished_at = now(), updated_at = now(), error_event = 0, duration = now() - e.created_at,
        error = {INTERRUPTED}
    FROM interrupted j
    WHERE e.active_job_id = COALESCE(j.active_job_id, j.id) AND e.finished_at IS NULL
    RETURNING e.active_job_id
), written AS (
    {write_interrupted}
    FROM interrupted j
    WHERE COALESCE(j.active_job_id, j.id) NOT IN (SELECT active_job_id FROM closed)
), claimed AS (
    UPDATE good_jobs j
    SET locked_by_id = $2, locked_at = now(), lock_type = 2, performed_at = now(), updated_at = now(),
        executions_count = COALESCE(j.executions_count, 0) + 1
    WHERE j.id = ANY(ARRAY(SELECT id FROM locked))
    RETURNING j.id, j.serialized_params, j.queue_name, j.priority, j.scheduled_at, j.executions_count
)
SELECT id, executions_count,
       CASE WHEN jsonb_typeof(serialized_params) = 'object' THEN serialized_params::text END,
       CASE WHEN serialized_params IS NULL THEN 'serialized_params is NULL'
            WHEN jsonb_typeof(serialized_params) <> 'object'
            THEN 'serialized_params is a JSON ' || jsonb_typeof(serialized_params) || ', not an object' END
FROM claimed
ORDER BY {claimed_order} priority ASC NULLS LAST, scheduled_at ASC, id ASC
"#
    )
}

/// Records finished attempts: the job row (a retried job runs again on the same row, woken by
/// `NOTIFY`), and the attempt's `good_job_executions` row, written whole here with the id the
/// attempt chose. Only a job this process still owns (`locked_by_id`, unfinished) is written,
/// checked by the update itself; an attempt recorded already (the batch is written again
/// after its reply was lost) is skipped. Returns the jobs not written for want of ownership,
/// with the process that has them or ran them last. `id = ANY($1)` gives the planner the
/// primary key even when the tables' statistics are behind a burst.
static FINISH_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
WITH r AS MATERIALIZED (
    SELECT * FROM unnest($1::uuid[], $2::timestamp[], $3::timestamp[], $4::float8[], $5::text[],
                         $6::int2[], $7::text[], $8::text[], $9::timestamp[], $10::text[], $11::int[],
                         $13::uuid[])
    AS r(id, started_at, finished_at, duration, error, error_event, backtrace,
         retry_params, retry_at, retry_queue, retry_priority, attempt)
), recorded AS MATERIALIZED (
    SELECT e.id FROM good_job_executions e WHERE e.id = ANY($13)
), owned AS MATERIALIZED (
    SELECT r.*, j.active_job_id, j.job_class, j.queue_name, j.serialized_params,
           j.scheduled_at, j.created_at
    FROM r JOIN good_jobs j ON j.id = r.id
    WHERE j.id = ANY($1) AND j.locked_by_id = $12 AND j.finished_at IS NULL
      AND r.attempt <> ALL(ARRAY(SELECT id FROM recorded))
), jobs AS (
    UPDATE good_jobs j SET
        performed_at = CASE WHEN o.retry_params IS NULL THEN o.started_at END,
        finished_at = CASE WHEN o.retry_params IS NULL THEN o.finished_at END,
        error = o.error, error_event = o.error_event,
        locked_by_id = NULL, locked_at = NULL, lock_type = NULL, updated_at = o.finished_at,
        serialized_params = COALESCE(o.retry_params::jsonb, j.serialized_params),
        scheduled_at = COALESCE(o.retry_at, j.scheduled_at),
        created_at = CASE WHEN o.retry_params IS NULL THEN j.created_at ELSE o.finished_at END,
        queue_name = CASE WHEN o.retry_params IS NULL THEN j.queue_name ELSE o.retry_queue END,
        priority = CASE WHEN o.retry_params IS NULL THEN j.priority ELSE o.retry_priority END
    FROM owned o
    -- Checked again on the row as it is now, should another process have changed it since.
    WHERE j.id = o.id AND j.id = ANY($1) AND j.locked_by_id = $12 AND j.finished_at IS NULL
    RETURNING j.id
), written AS MATERIALIZED (
    SELECT o.* FROM owned o WHERE o.id IN (SELECT id FROM jobs)
), attempts AS (
    INSERT INTO good_job_executions (id, active_job_id, job_class, queue_name, serialized_params,
        scheduled_at, created_at, updated_at, finished_at, error, error_event, error_backtrace,
        duration, process_id)
    SELECT o.attempt, COALESCE(o.active_job_id, o.id), o.job_class, o.queue_name,
           o.serialized_params, COALESCE(o.scheduled_at, o.created_at), o.started_at, o.finished_at,
           o.finished_at, o.error, o.error_event,
           CASE WHEN o.backtrace IS NOT NULL
                THEN ARRAY(SELECT jsonb_array_elements_text(o.backtrace::jsonb)) END,
           make_interval(secs => o.duration), $12
    FROM written o
    ON CONFLICT (id) DO NOTHING
), notified AS (
    SELECT count(pg_notify('good_job', json_build_object(
               'queue_name', retry_queue, 'scheduled_at', to_char(retry_at, {TIMESTAMP_JSON}))::text))
    FROM written WHERE retry_params IS NOT NULL
), not_owned AS (
    SELECT r.id, COALESCE(j.locked_by_id,
                          (SELECT e.process_id FROM good_job_executions e
                           WHERE e.active_job_id = COALESCE(j.active_job_id, j.id)
                             AND e.process_id <> $12
                           ORDER BY e.created_at DESC LIMIT 1)) AS other,
           COALESCE(j.finished_at IS NOT NULL, false) AS finished
    FROM r LEFT JOIN good_jobs j ON j.id = r.id
    WHERE r.id NOT IN (SELECT id FROM written) AND r.attempt <> ALL(ARRAY(SELECT id FROM recorded))
)
-- One row at least, so that the notifications are sent.
SELECT l.id, l.other, l.finished FROM (SELECT count(*) FROM notified) n LEFT JOIN not_owned l ON true
"#
    )
});

/// Gives jobs back unfinished: one never started is as it was before the dequeue; one
/// abandoned while running has its attempt recorded as interrupted here, naming this process
/// (GoodJob's next run would record it, without knowing the process).
static RELEASE_SQL: LazyLock<String> = LazyLock::new(|| {
    let write_interrupted = interrupted_attempt("$3");
    format!(
        r#"
WITH r AS MATERIALIZED (
    SELECT * FROM unnest($1::uuid[], $2::bool[]) AS r(id, started)
), interrupted AS (
    {write_interrupted}
    FROM r JOIN good_jobs j ON j.id = r.id
    WHERE r.started AND j.id = ANY($1) AND j.locked_by_id = $3 AND j.performed_at IS NOT NULL
)
UPDATE good_jobs j SET locked_by_id = NULL, locked_at = NULL, lock_type = NULL, updated_at = now(),
    performed_at = NULL,
    executions_count = CASE WHEN r.started THEN j.executions_count ELSE j.executions_count - 1 END
FROM r WHERE j.id = r.id AND j.id = ANY($1) AND j.locked_by_id = $3
"#
    )
});

static UNLOCK_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT count(*) FILTER (WHERE pg_advisory_unlock({})) FROM unnest($1::uuid[]) AS r(id)",
        lock_key("good_jobs", "r.id")
    )
});

/// After a reconnect: takes back the advisory locks of the jobs this process still has (`$1`,
/// with the `executions_count` each had when its attempt began, `$2`, and the attempt's id
/// when its result waits to be written, `$4`) and its ownership of those nobody took meanwhile
/// (another process's cleanup may have cleared `locked_by_id` while this one looked dead).
/// A result whose write went through before the reply was lost is left alone. Returns the
/// others, now another process's, with their advisory locks let go again.
static REOWN_SQL: LazyLock<String> = LazyLock::new(|| {
    let key = |id| lock_key("good_jobs", id);
    let (held_key, lost_key) = (key("h.id"), key("l.id"));
    format!(
        r#"
WITH held AS MATERIALIZED (
    SELECT * FROM unnest($1::uuid[], $2::int[], $4::uuid[]) AS h(id, executions_count, attempt)
), recorded AS MATERIALIZED (
    SELECT e.id FROM good_job_executions e WHERE e.id = ANY($4)
), pending AS MATERIALIZED (
    SELECT h.* FROM held h WHERE h.attempt IS NULL OR h.attempt <> ALL(ARRAY(SELECT id FROM recorded))
), locked AS MATERIALIZED (
    SELECT h.* FROM pending h WHERE pg_try_advisory_lock({held_key})
), reowned AS MATERIALIZED (
    UPDATE good_jobs j SET locked_by_id = $3, locked_at = now(), lock_type = 2
    FROM locked h
    WHERE j.id = h.id AND j.id = ANY($1) AND j.finished_at IS NULL
      AND (j.locked_by_id = $3 OR j.locked_by_id IS NULL)
      AND j.executions_count IS NOT DISTINCT FROM h.executions_count
    RETURNING j.id
), lost AS MATERIALIZED (
    SELECT h.id, h.id IN (SELECT id FROM locked) AS locked FROM pending h
    WHERE h.id NOT IN (SELECT id FROM reowned)
)
SELECT l.id, CASE WHEN l.locked THEN pg_advisory_unlock({lost_key}) END FROM lost l
"#
    )
});

/// After a reconnect: jobs locked by this process that it does not know of (a dequeue whose
/// reply was lost) are given back as never started.
static ORPHANS_SQL: &str = "
UPDATE good_jobs j SET locked_by_id = NULL, locked_at = NULL, lock_type = NULL, performed_at = NULL,
    executions_count = GREATEST(COALESCE(j.executions_count, 1) - 1, 0), updated_at = now()
WHERE j.locked_by_id = $1 AND j.finished_at IS NULL AND j.id <> ALL($2)
RETURNING j.id";

static REGISTER_SQL: &str = "
INSERT INTO good_job_processes (id, created_at, updated_at, state, lock_type)
VALUES ($1, now(), now(), $2::jsonb, 0)
ON CONFLICT (id) DO UPDATE SET updated_at = now(), state = EXCLUDED.state, lock_type = 0";

/// GoodJob's `Process.cleanup`: processes that are not alive lose their rows and their
/// jobs' `locked_by_id`.
static CLEANUP_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH dead AS MATERIALIZED (SELECT p.id FROM good_job_processes p WHERE NOT ({})),
         cleared AS (UPDATE good_jobs SET locked_by_id = NULL, locked_at = NULL
                     WHERE locked_by_id IN (SELECT id FROM dead))
         DELETE FROM good_job_processes WHERE id IN (SELECT id FROM dead)",
        &*PROCESS_ALIVE
    )
});

/// The one connection of a poller that holds its advisory locks: its process's, and every
/// running job's. If it breaks, PostgreSQL releases them all.
pub struct LockSession {
    conn: PgConnection,
    process_id: Uuid,
}

/// The prepared dequeue of one pool.
pub struct Dequeue {
    sql: String,
    queues: Option<Vec<String>>,
}

impl Dequeue {
    pub fn new(queues: &Queues) -> Dequeue {
        Dequeue {
            sql: dequeue_sql(queues),
            queues: queues.names().map(<[String]>::to_vec),
        }
    }
}

impl LockSession {
    /// Connects, takes the process's advisory lock, and writes its `good_job_processes` row
    /// (`state`: JSON, GoodJob's process state).
    pub async fn open(
        database_url: &str,
        process_id: Uuid,
        state: &str,
    ) -> Result<LockSession, StoreError> {
        let options = super::connect_options(database_url)?
            .application_name("good_cron poller")
            // Its few statements run hundreds of times a second: planning each call cost more
            // than running it, so plans are generic (rebuilt when ANALYZE updates statistics).
            // Without sorts the dequeue reads its index in order even on a table never
            // analyzed yet (a burst of jobs on a fresh install), where the planner would
            // otherwise sort every unfinished job; no JIT, which the cost of a disabled sort
            // would trigger for half a second.
            .options([
                ("statement_timeout", "30s"),
                ("plan_cache_mode", "force_generic_plan"),
                ("enable_sort", "off"),
                ("jit", "off"),
            ]);
        let mut conn = PgConnection::connect_with(&options).await?;
        let present: bool = sqlx::query_scalar(
            "SELECT to_regclass('good_jobs') IS NOT NULL AND to_regclass('good_job_executions') IS NOT NULL
                    AND to_regclass('good_job_processes') IS NOT NULL",
        )
        .fetch_one(&mut conn)
        .await?;
        if !present {
            return Err(StoreError::Schema(format!(
                "GoodJob's tables (good_jobs, good_job_executions, good_job_processes) are missing: {}",
                super::MIGRATION_HINT
            )));
        }
        // The lock first: a row with lock_type 0 and no lock would look dead to others.
        sqlx::query(&format!(
            "SELECT pg_advisory_lock({})",
            lock_key("good_job_processes", "$1")
        ))
        .bind(process_id)
        .execute(&mut conn)
        .await?;
        let mut session = LockSession { conn, process_id };
        session.heartbeat(state).await?;
        Ok(session)
    }

    /// Locks and starts up to `limit` jobs of a pool that are due at `now`.
    pub async fn dequeue(
        &mut self,
        dequeue: &Dequeue,
        limit: usize,
        now: NaiveDateTime,
    ) -> Result<Dequeued, StoreError> {
        let mut query = sqlx::query(&dequeue.sql)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind(self.process_id)
            .bind(now);
        if let Some(queues) = &dequeue.queues {
            query = query.bind(queues);
        }
        let mut dequeued = Dequeued::default();
        for row in query.fetch_all(&mut self.conn).await? {
            let id: Uuid = row.try_get(0)?;
            let decoded = (
                row.try_get::<Option<i32>, _>(1),
                row.try_get::<Option<String>, _>(2),
                row.try_get::<Option<String>, _>(3),
            );
            match decoded {
                (Ok(count), Ok(Some(serialized_params)), Ok(None)) => dequeued.jobs.push(Job {
                    id,
                    serialized_params,
                    executions_count: count.unwrap_or(0),
                }),
                (_, _, Ok(Some(problem))) => dequeued.unrunnable.push(Unrunnable { id, problem }),
                (count, params, problem) => dequeued.unrunnable.push(Unrunnable {
                    id,
                    problem: [count.err(), params.err(), problem.err()]
                        .into_iter()
                        .flatten()
                        .map(|e| format!("cannot read the row: {e}"))
                        .next()
                        .unwrap_or_else(|| "serialized_params cannot be read".into()),
                }),
            }
        }
        Ok(dequeued)
    }

    /// Records finished attempts in one statement, then releases their advisory locks (after
    /// the commit, so no other worker can lock a job whose result it cannot see yet). Returns
    /// those not written because another process has the job now.
    pub async fn finish(&mut self, finished: &[Finished]) -> Result<Vec<NotOwned>, StoreError> {
        let retry = |f: &Finished| f.retry.clone();
        let attempts = bind_columns!(
            sqlx::query(&FINISH_SQL),
            finished,
            [
                id,
                started_at,
                finished_at,
                duration_seconds,
                error,
                error_event,
                backtrace
            ]
        );
        let rows = attempts
            .bind(column!(finished, |f| retry(f).map(|r| r.serialized_params)))
            .bind(column!(finished, |f| retry(f).map(|r| r.scheduled_at)))
            .bind(column!(finished, |f| retry(f).map(|r| r.queue_name)))
            .bind(column!(finished, |f| retry(f).and_then(|r| r.priority)))
            .bind(self.process_id)
            .bind(column!(finished, attempt))
            .fetch_all(&mut self.conn)
            .await?;
        let mut not_owned = Vec::new();
        for row in rows {
            if let Some(id) = row.try_get(0)? {
                not_owned.push(NotOwned {
                    id,
                    other: row.try_get(1)?,
                    finished: row.try_get::<Option<bool>, _>(2)?.unwrap_or(false),
                });
            }
        }
        self.unlock(&column!(finished, id)).await?;
        Ok(not_owned)
    }

    /// Gives jobs back unfinished, then releases their advisory locks.
    pub async fn release(&mut self, released: &[Released]) -> Result<(), StoreError> {
        let ids: Vec<Uuid> = released.iter().map(|r| r.id).collect();
        sqlx::query(&RELEASE_SQL)
            .bind(&ids)
            .bind(released.iter().map(|r| r.started).collect::<Vec<_>>())
            .bind(self.process_id)
            .execute(&mut self.conn)
            .await?;
        self.unlock(&ids).await
    }

    async fn unlock(&mut self, ids: &[Uuid]) -> Result<(), StoreError> {
        sqlx::query(&UNLOCK_SQL)
            .bind(ids)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// After a reconnect: takes back the jobs this process still has and gives back those it
    /// does not know of; returns the ones another process took meanwhile, and how many were
    /// given back.
    pub async fn reown(&mut self, held: &[Held]) -> Result<(Vec<Uuid>, u64), StoreError> {
        let ids: Vec<Uuid> = held.iter().map(|h| h.id).collect();
        let lost = sqlx::query(&REOWN_SQL)
            .bind(&ids)
            .bind(held.iter().map(|h| h.executions_count).collect::<Vec<_>>())
            .bind(self.process_id)
            .bind(held.iter().map(|h| h.attempt).collect::<Vec<_>>())
            .fetch_all(&mut self.conn)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<Vec<Uuid>, _>>()?;
        let orphans = sqlx::query(ORPHANS_SQL)
            .bind(self.process_id)
            .bind(&ids)
            .execute(&mut self.conn)
            .await?;
        Ok((lost, orphans.rows_affected()))
    }

    /// Refreshes the process row (writing it again if another process removed it), then
    /// runs GoodJob's cleanup of dead processes.
    pub async fn heartbeat(&mut self, state: &str) -> Result<(), StoreError> {
        sqlx::query(REGISTER_SQL)
            .bind(self.process_id)
            .bind(state)
            .execute(&mut self.conn)
            .await?;
        sqlx::query(&CLEANUP_SQL).execute(&mut self.conn).await?;
        Ok(())
    }

    /// When jobs not yet due become due: the `scheduled_at` of up to `limit` of them.
    pub async fn upcoming(&mut self, limit: usize) -> Result<Vec<NaiveDateTime>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT scheduled_at FROM good_jobs
             WHERE finished_at IS NULL AND locked_by_id IS NULL AND scheduled_at > now()
             ORDER BY scheduled_at LIMIT $1",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut self.conn)
        .await?)
    }

    /// Removes the process row, frees what it still had locked, and disconnects.
    pub async fn close(mut self) -> Result<(), StoreError> {
        sqlx::query(
            "WITH cleared AS (UPDATE good_jobs SET locked_by_id = NULL, locked_at = NULL, lock_type = NULL
                              WHERE locked_by_id = $1)
             DELETE FROM good_job_processes WHERE id = $1",
        )
        .bind(self.process_id)
        .execute(&mut self.conn)
        .await?;
        sqlx::query("SELECT pg_advisory_unlock_all()")
            .execute(&mut self.conn)
            .await?;
        self.conn.close().await?;
        Ok(())
    }
}
