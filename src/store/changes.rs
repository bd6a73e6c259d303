//! Committed writes, announced: each write of the store tells of itself
//! once it commits, so that live subscribers (and, later, kept answers)
//! hear of it.
//!
//! On PostgreSQL, a write announces itself with `NOTIFY` in its own
//! transaction — so only once it commits — and every replica `LISTEN`s:
//! every replica hears of the writes of every other. On SQLite (one
//! process) changes go through memory after the commit. A listener too
//! slow to read its changes (more than `BUFFER` behind) misses the oldest.
//! It uses the entities and the database; nothing of GraphQL or HTTP.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::broadcast;

/// Changes kept for slow subscribers.
const BUFFER: usize = 1024;

/// The PostgreSQL channel writes are announced on.
pub const CHANNEL: &str = "vigie_changes";

/// A committed write.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Change {
    pub record_type: &'static str,
    pub id: i64,
    pub action: entity::enums::AuditAction,
    pub version: i32,
    /// The territory the record belongs to, if any.
    pub territory: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A change as `NOTIFY` carries it.
#[derive(serde::Deserialize)]
struct Notified {
    record_type: String,
    id: i64,
    action: entity::enums::AuditAction,
    version: i32,
    territory: Option<i64>,
    at: DateTime<Utc>,
}

impl Notified {
    fn change(self) -> Option<Change> {
        let record_type = entity::records::of_type(&self.record_type)
            .filter(|record| record.written)?
            .type_name;
        Some(Change {
            record_type,
            id: self.id,
            action: self.action,
            version: self.version,
            territory: self.territory,
            at: self.at,
        })
    }
}

/// Where committed writes are announced.
#[derive(Clone)]
pub struct Changes(broadcast::Sender<Change>);

impl Default for Changes {
    fn default() -> Self {
        Changes(broadcast::channel(BUFFER).0)
    }
}

impl Changes {
    /// A receiver of the changes announced from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.0.subscribe()
    }

    /// Announces a committed write to this process's subscribers, if any.
    pub fn publish(&self, change: Change) {
        let _ = self.0.send(change);
    }

    /// On PostgreSQL, relays the changes every replica announces to this
    /// process's subscribers, until the returned handle is dropped.
    /// Reconnects when the connection is lost.
    pub fn relay(&self, db: &DatabaseConnection) -> Option<Relay> {
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return None;
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let options = (*db.get_postgres_connection_pool().connect_options()).clone();
        let changes = self.clone();
        let task = runtime.spawn(async move {
            loop {
                if let Err(err) = listen(&options, &changes).await {
                    tracing::warn!(error = %err, "live updates: listening again in 1 s");
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
        Some(Relay(task.abort_handle()))
    }
}

/// Relays `NOTIFY`s to the subscribers until the connection fails. It
/// listens on a connection of its own, made with `options`, outside the
/// pool that serves requests: held for as long as the hub runs, it would
/// leave that pool one connection short (a pool of one, none at all).
async fn listen(
    options: &sea_orm::sqlx::postgres::PgConnectOptions,
    changes: &Changes,
) -> Result<(), sea_orm::sqlx::Error> {
    let own = sea_orm::sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options.clone())
        .await?;
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&own).await?;
    listener.listen(CHANNEL).await?;
    loop {
        // `None`: the connection was lost and is back; what was sent
        // meanwhile is gone.
        if let Some(notification) = listener.try_recv().await? {
            match serde_json::from_str::<Notified>(notification.payload()).map(Notified::change) {
                Ok(Some(change)) => changes.publish(change),
                _ => tracing::warn!(
                    payload = notification.payload(),
                    "live updates: unreadable change"
                ),
            }
        }
    }
}

/// Stops relaying when dropped.
pub struct Relay(tokio::task::AbortHandle);

impl Drop for Relay {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Announces a write from inside its transaction: on PostgreSQL with
/// `NOTIFY` (sent to every replica when, and only if, the transaction
/// commits). Returns the change when it must instead be published in
/// memory after the commit.
pub async fn announce<C: sea_orm::ConnectionTrait>(
    txn: &C,
    change: Change,
) -> Result<Option<Change>, sea_orm::DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(Some(change));
    }
    let payload = serde_json::to_string(&change).unwrap_or_default();
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload.into()],
    ))
    .await?;
    Ok(None)
}
