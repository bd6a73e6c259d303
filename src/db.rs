//! Connecting to the database: SQLite (the embedded default) or PostgreSQL
//! (production), migrated by our own migrations.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::{Context as _, bail};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Marks a PostgreSQL transaction as one of the store's writes, which
/// announce what they touch themselves (see [`crate::store::changes`]):
/// the tables' triggers then announce nothing of it.
pub const TAGGED_WRITE: &str = "SELECT set_config('vigie.tagged', 'on', true)";

/// The table of live deployments counted by stage and territory, kept by
/// triggers.
pub const DEPLOYMENT_TALLY: &str = "deployment_tally";

/// The mark of the `n`-th value (from 1) bound to a statement written by
/// hand: `$n` on PostgreSQL, `?` on SQLite.
pub fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// What is missing when the data version's row is.
pub const MISSING_VERSION: &str = "the data version row";

/// The data version's row. On SQLite, `version` is a number every
/// committed write to the data the API serves moves forward, whichever
/// process wrote it (triggers move it, see the migration that adds it); on
/// PostgreSQL it stays put: writes are announced instead (see
/// [`crate::store::changes`]). With it, on SQLite, the version the last
/// write of the store left it at, and the process that made that write.
/// A process that reads a version it did not announce itself knows that
/// something else wrote since: the CLI, another process, direct SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataState {
    pub version: i64,
    pub announced: i64,
    pub writer: i64,
}

impl DataState {
    /// The columns, for a statement that reads them with something else.
    pub const COLUMNS: [&'static str; 3] = ["version", "announced", "writer"];

    pub async fn read<C: ConnectionTrait>(db: &C) -> Result<DataState, sea_orm::DbErr> {
        let sql = format!(
            "SELECT {} FROM data_version WHERE id = 1",
            Self::COLUMNS.join(", ")
        );
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound(MISSING_VERSION.into()))?;
        Self::of_row(&row, "")?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound(MISSING_VERSION.into()))
    }

    /// The state in a row holding its columns, prefixed with `prefix`;
    /// `None` if they are null (no data version row).
    pub fn of_row(
        row: &sea_orm::QueryResult,
        prefix: &str,
    ) -> Result<Option<DataState>, sea_orm::DbErr> {
        let [version, announced, writer] = Self::COLUMNS
            .map(|column| row.try_get::<Option<i64>>("", &format!("{prefix}{column}")));
        Ok(match (version?, announced?, writer?) {
            (Some(version), Some(announced), Some(writer)) => Some(DataState {
                version,
                announced,
                writer,
            }),
            _ => None,
        })
    }

    /// Whether the last write was the store's, by process `origin`: then
    /// that process has heard of every write up to this version.
    pub fn heard_by(&self, origin: u64) -> bool {
        self.version == self.announced && u64::try_from(self.writer) == Ok(origin)
    }

    /// On SQLite, notes in a write's transaction, after its last statement,
    /// that process `origin` made it and announces it.
    pub async fn announce<C: ConnectionTrait>(txn: &C, origin: u64) -> Result<(), sea_orm::DbErr> {
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            return Ok(());
        }
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Sqlite,
            "UPDATE data_version SET announced = version, writer = ? WHERE id = 1",
            [i64::try_from(origin).unwrap_or_default().into()],
        ))
        .await?;
        Ok(())
    }
}

/// How long a SQLite writer waits for the lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Counters of what the hub asked of the database.
#[derive(Debug, Default)]
pub struct DbStats {
    statements: AtomicU64,
}

impl DbStats {
    /// SQL statements run since the connection opened.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}

/// An open, checked connection pool with its counters.
#[derive(Clone)]
pub struct Db {
    pub conn: DatabaseConnection,
    pub stats: Arc<DbStats>,
}

impl Db {
    /// Closes every connection of the pool and waits for them. The last
    /// SQLite connection to close folds the write-ahead log into the
    /// database file and removes it, so that the file alone holds every
    /// record (it may be copied elsewhere); PostgreSQL sessions end cleanly
    /// instead of losing their socket. A command that exits without this
    /// leaves its writes in `FILE-wal` beside the file.
    pub async fn close(self) {
        if let Err(err) = self.conn.close().await {
            tracing::warn!(error = %err, "the database did not close cleanly");
        }
    }
}

/// The URL with any password hidden, for logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            if user_info.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                url.to_owned()
            }
        }
        None => url.to_owned(),
    }
}

/// How many connections a pool on `url` keeps open unless told otherwise.
/// SQLite works in the hub's process, each connection on a thread of its
/// own, and the C library's allocator keeps freed memory per thread: four
/// connections serve two cores as fast as ten, with much less memory.
/// PostgreSQL works in its own processes.
pub fn default_max_connections(url: &str) -> u32 {
    if url.starts_with("sqlite:") { 4 } else { 10 }
}

/// Opens a pool on `url` (`sqlite://…` or `postgres://…`). SQLite files run
/// in WAL mode with full synchronous writes, foreign keys on and a busy
/// timeout; these are checked, not assumed.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
    connect_with_timeout(url, max_connections, Duration::from_secs(10)).await
}

/// How long a pooled connection may sit idle and still be handed out
/// without a ping.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Opens a pool whose requests wait at most `acquire_timeout` for a
/// connection (past it they fail, as DB_UNAVAILABLE).
pub async fn connect_with_timeout(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<Db> {
    connect_with_limits(url, max_connections, acquire_timeout, None).await
}

/// Opens a pool as [`connect_with_timeout`] does, on which PostgreSQL also
/// stops any statement running longer than `statement_limit` (its
/// `statement_timeout`; the error is TIMEOUT). SQLite has no such setting:
/// there, a query stopped by the hub's own time limit leaves its statement
/// to end on its connection.
pub async fn connect_with_limits(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    statement_limit: Option<Duration>,
) -> anyhow::Result<Db> {
    let options = options(url, max_connections, acquire_timeout, statement_limit);
    let conn = Database::connect(options)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let db = counted(conn);
    if db.conn.get_database_backend() == DatabaseBackend::Sqlite {
        check_sqlite(&db.conn, url).await?;
    }
    Ok(db)
}

/// Opens a pool on a PostgreSQL standby (see [`crate::server::standbys`])
/// as [`connect_with_limits`] does, without connecting yet: a standby that
/// is down when the hub starts is skipped until it answers.
pub async fn connect_standby(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    statement_limit: Option<Duration>,
) -> anyhow::Result<Db> {
    let mut options = options(url, max_connections, acquire_timeout, statement_limit);
    options.connect_lazy(true);
    let conn = Database::connect(options)
        .await
        .with_context(|| format!("cannot open the standby at {}", redact(url)))?;
    Ok(counted(conn))
}

/// How a pool connects: at most `max_connections`, each request waiting
/// at most `acquire_timeout` for one, and on PostgreSQL every statement
/// stopped past `statement_limit`.
fn options(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    statement_limit: Option<Duration>,
) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .connect_timeout(acquire_timeout)
        .acquire_timeout(acquire_timeout)
        // A connection back from a request within the last second is
        // handed out again without a ping (a round trip per statement under
        // load); one idle for longer is pinged first, and replaced if the
        // database dropped it. A connection that fails is closed when it
        // is released, which always pings.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
        });
    if let Some(limit) = statement_limit {
        let millis = limit.as_millis().to_string();
        options.map_sqlx_postgres_opts(move |opts| {
            opts.options([("statement_timeout", millis.as_str())])
        });
    }
    options
}

/// A pool whose statements are counted (and traced).
fn counted(mut conn: DatabaseConnection) -> Db {
    let stats = Arc::new(DbStats::default());
    let counter = stats.clone();
    conn.set_metric_callback(move |info| {
        counter.statements.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(
            sql = %info.statement.sql,
            elapsed_us = info.elapsed.as_micros() as u64,
            failed = info.failed,
            "statement"
        );
    });
    Db { conn, stats }
}

async fn pragma(conn: &DatabaseConnection, name: &str) -> anyhow::Result<String> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await?
        .with_context(|| format!("PRAGMA {name} returned nothing"))?;
    let value: String = match row.try_get_by_index::<String>(0) {
        Ok(text) => text,
        Err(_) => row.try_get_by_index::<i64>(0)?.to_string(),
    };
    Ok(value)
}

async fn check_sqlite(conn: &DatabaseConnection, url: &str) -> anyhow::Result<()> {
    if pragma(conn, "foreign_keys").await? != "1" {
        bail!("SQLite foreign keys are off");
    }
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let journal = pragma(conn, "journal_mode").await?;
    if !in_memory && !journal.eq_ignore_ascii_case("wal") {
        bail!("SQLite journal mode is {journal}, not WAL");
    }
    // 2 is FULL.
    if pragma(conn, "synchronous").await? != "2" {
        bail!("SQLite synchronous is not FULL");
    }
    // What SQLite advises a long-lived connection to run when it opens:
    // gather statistics for tables that need them, within a bounded effort.
    conn.execute_unprepared("PRAGMA analysis_limit = 1000")
        .await?;
    conn.execute_unprepared("PRAGMA optimize = 0x10002").await?;
    Ok(())
}

/// Refreshes the planner's statistics after a bulk write. Without them
/// SQLite takes any indexed equality for a selective one, and PostgreSQL
/// plans a freshly filled table as if it were empty. PostgreSQL also
/// vacuums: until its visibility map marks the new rows visible to all, a
/// scan of an index that holds every column a query needs (a count by stage
/// and territory) still reads each row from the table. And it rewrites the
/// deployment counts compactly: a bulk write rewrote each of them once per
/// statement, and the old copies would leave that small table several
/// times its size (a vacuum frees them, but keeps the pages).
pub async fn analyze(conn: &DatabaseConnection) -> anyhow::Result<()> {
    refresh(conn, None).await
}

/// [`analyze`] for the tables a bulk write wrote (`vigie import`) alone.
pub async fn analyze_tables(conn: &DatabaseConnection, tables: &[&str]) -> anyhow::Result<()> {
    if tables.is_empty() {
        return Ok(());
    }
    refresh(conn, Some(tables)).await
}

async fn refresh(conn: &DatabaseConnection, tables: Option<&[&str]>) -> anyhow::Result<()> {
    let statements = match conn.get_database_backend() {
        DatabaseBackend::Postgres => {
            let mut statements = Vec::new();
            if tables.is_none_or(|tables| tables.contains(&"deployment")) {
                statements.push(format!("VACUUM FULL {DEPLOYMENT_TALLY}"));
            }
            statements.push(match tables {
                Some(tables) => format!("VACUUM ANALYZE {}", tables.join(", ")),
                None => "VACUUM ANALYZE".to_owned(),
            });
            statements
        }
        // SQLite analyzes one table a statement.
        _ => match tables {
            Some(tables) => tables
                .iter()
                .map(|table| format!("ANALYZE {table}"))
                .collect(),
            None => vec!["ANALYZE".to_owned()],
        },
    };
    for statement in statements {
        conn.execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// Applies every pending migration.
pub async fn migrate(conn: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(conn, None)
        .await
        .context("cannot migrate the database")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build setting in `.cargo/config.toml`: without it, every
    /// allocation SQLite makes takes one process-wide lock.
    #[tokio::test]
    async fn sqlite_is_built_without_global_memory_statistics() {
        let db = connect("sqlite::memory:", 1).await.unwrap();
        let options: Vec<String> = db
            .conn
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA compile_options",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }

    #[test]
    fn sqlite_keeps_fewer_connections_than_postgres() {
        assert_eq!(default_max_connections("sqlite://vigie.db?mode=rwc"), 4);
        assert_eq!(default_max_connections("sqlite::memory:"), 4);
        assert_eq!(
            default_max_connections("postgres://postgres@127.0.0.1/test"),
            10
        );
    }

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://vigie:s3cret@db:5432/vigie"),
            "postgres://vigie:***@db:5432/vigie"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(
            redact("sqlite://vigie.db?mode=rwc"),
            "sqlite://vigie.db?mode=rwc"
        );
    }
}
