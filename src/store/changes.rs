//! Committed writes, announced: each write of the store tells of itself
//! once it commits, so that live subscribers and kept answers hear of it.
//!
//! On PostgreSQL, a write announces itself with `NOTIFY` in its own
//! transaction — so only once it commits — and every replica `LISTEN`s:
//! every replica hears of the writes of every other, and of the CLI's.
//! Other writes (bulk imports, direct SQL) are announced by the tables'
//! triggers, table by table (see the migration that adds them). On SQLite
//! (one process) changes go through memory after the commit, and other
//! processes' writes show in the data version (see [`crate::db::DataState`]).
//! A listener too slow to read its changes (more than `BUFFER` behind)
//! misses the oldest.
//!
//! Kept answers hear of writes synchronously, through [`Changes::watch`]:
//! a write is announced to them before its mutation answers, so that the
//! replica that made it never sends an answer older than it. It uses the
//! entities and the database; nothing of GraphQL or HTTP.

use std::sync::{
    Arc, RwLock,
    atomic::{AtomicBool, Ordering},
};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::broadcast;

use crate::tags::{self, Tag};

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
    /// The territory it belonged to before, when the write moved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was_in: Option<i64>,
    pub at: DateTime<Utc>,
    /// The API that wrote it (see [`Changes::origin`]).
    pub origin: u64,
    /// What else the write touched, besides the record and its territory
    /// (a source it made for its writer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<&'static str>,
}

impl Change {
    /// What the write touched (see [`crate::tags`]): the record, the
    /// territories it was and is in, its audit trail, and what else it made.
    pub fn tags(&self) -> Vec<Tag> {
        let mut tags = vec![
            Tag::record(self.record_type, self.id),
            Tag::all(tags::AUDIT),
        ];
        for territory in self.territory.iter().chain(&self.was_in) {
            tags.push(Tag::territory(self.record_type, *territory));
        }
        tags.extend(self.also.iter().map(|type_name| Tag::all(type_name)));
        tags
    }
}

/// A new name for a writer: an API (see [`Changes::origin`]), or a
/// command's writes. Positive, as the data version's `writer` column (a
/// signed 64-bit integer) holds it.
pub fn new_origin() -> u64 {
    (getrandom::u64().unwrap_or(1) >> 1).max(1)
}

/// A change as `NOTIFY` carries it: a write of the store, or a table
/// written by anything else (announced by the table's trigger).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Notified {
    Write {
        record_type: String,
        id: i64,
        action: entity::enums::AuditAction,
        version: i32,
        territory: Option<i64>,
        #[serde(default)]
        was_in: Option<i64>,
        at: DateTime<Utc>,
        #[serde(default)]
        origin: u64,
        #[serde(default)]
        also: Vec<String>,
    },
    Table {
        table: String,
    },
}

impl Notified {
    /// The change, if a live subscriber may follow it.
    fn change(&self) -> Option<Change> {
        let Notified::Write {
            record_type,
            id,
            action,
            version,
            territory,
            was_in,
            at,
            origin,
            also,
        } = self
        else {
            return None;
        };
        let record_type = entity::records::of_type(record_type)
            .filter(|record| record.written)?
            .type_name;
        Some(Change {
            record_type,
            id: *id,
            action: *action,
            version: *version,
            territory: *territory,
            was_in: *was_in,
            at: *at,
            origin: *origin,
            also: also.iter().filter_map(|t| static_type(t)).collect(),
        })
    }

    /// What kept answers must forget for it; `None` for the writes of the
    /// API named `own`, forgotten already.
    fn touched(&self, own: u64) -> Option<Touched> {
        match self {
            Notified::Write { origin, .. } if *origin == own => None,
            Notified::Write { record_type, .. } => Some(match self.change() {
                Some(change) => Touched::Tags(change.tags()),
                None => match static_type(record_type) {
                    Some(type_name) => Touched::Tags(vec![Tag::all(type_name)]),
                    None => Touched::Everything,
                },
            }),
            Notified::Table { table } => Some(
                match entity::records::TABLES
                    .iter()
                    .chain(&["audit_event"])
                    .find(|known| **known == table.as_str())
                {
                    Some(table) => Touched::Tags(vec![Tag::all(tags::owner(table))]),
                    None => Touched::Everything,
                },
            ),
        }
    }
}

/// The static name of a record type named in a notification.
fn static_type(name: &str) -> Option<&'static str> {
    entity::records::of_type(name).map(|record| record.type_name)
}

/// What committed writes touched, as kept answers hear it.
#[derive(Clone, Debug)]
pub enum Touched {
    /// What these tags name.
    Tags(Vec<Tag>),
    /// Anything: writes this process could not hear of one by one.
    Everything,
    /// On SQLite, the writes up to this data version, not heard of one by
    /// one (another process's): anything, unless already forgotten for
    /// that version.
    Unheard(i64),
}

/// Heard synchronously of every write (see [`Changes::watch`]).
type Watcher = Arc<dyn Fn(&Touched) + Send + Sync>;

/// Where committed writes are announced.
#[derive(Clone)]
pub struct Changes {
    live: broadcast::Sender<Change>,
    watchers: Arc<RwLock<Vec<Watcher>>>,
    /// Whether this process hears of every write: on PostgreSQL, only while
    /// it listens.
    hearing: Arc<AtomicBool>,
    origin: u64,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            live: broadcast::channel(BUFFER).0,
            watchers: Arc::default(),
            hearing: Arc::new(AtomicBool::new(true)),
            origin: new_origin(),
        }
    }
}

impl Changes {
    /// The name its writes carry: the API that made a write hears of it
    /// when it commits, and knows it when it hears of it again.
    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// A receiver of the changes announced from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.live.subscribe()
    }

    /// Announces a committed write to this process's subscribers, if any.
    pub fn publish(&self, change: Change) {
        let _ = self.live.send(change);
    }

    /// Calls `watcher` with what every write heard of from now on touched,
    /// as soon as it is heard of.
    pub fn watch(&self, watcher: impl Fn(&Touched) + Send + Sync + 'static) {
        self.watchers
            .write()
            .expect("watchers poisoned")
            .push(Arc::new(watcher));
    }

    /// Tells the watchers what committed writes touched.
    pub fn touched(&self, touched: &Touched) {
        for watcher in self.watchers.read().expect("watchers poisoned").iter() {
            watcher(touched);
        }
    }

    /// Whether this process hears of every write now (see the module doc):
    /// answers are kept only while it does.
    pub fn hearing(&self) -> bool {
        self.hearing.load(Ordering::Acquire)
    }

    /// Starts or stops hearing: either way, what was kept may be stale.
    fn set_hearing(&self, hearing: bool) {
        if !hearing {
            self.hearing.store(false, Ordering::Release);
        }
        self.touched(&Touched::Everything);
        if hearing {
            self.hearing.store(true, Ordering::Release);
        }
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
        // Not heard until it listens.
        changes.hearing.store(false, Ordering::Release);
        let task = runtime.spawn(async move {
            loop {
                let lost = match listen(&options, &changes).await {
                    Err(err) => err.to_string(),
                    Ok(()) => "the connection was lost".into(),
                };
                changes.set_hearing(false);
                tracing::warn!(
                    error = %lost,
                    "changes: not listening; answers are computed, not kept, until it \
                     listens again (in 1 s)"
                );
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
        Some(Relay(task.abort_handle()))
    }
}

/// Relays `NOTIFY`s to the subscribers until the connection fails or is
/// lost (what was announced meanwhile is gone: the caller forgets what it
/// kept, and listens again on a new connection). It
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
    changes.set_hearing(true);
    loop {
        let Some(notification) = listener.try_recv().await? else {
            return Ok(());
        };
        match serde_json::from_str::<Notified>(notification.payload()) {
            Ok(notified) => {
                if let Some(touched) = notified.touched(changes.origin) {
                    changes.touched(&touched);
                }
                if let Some(change) = notified.change() {
                    changes.publish(change);
                }
            }
            Err(_) => {
                tracing::warn!(
                    payload = notification.payload(),
                    "changes: unreadable change; kept answers forgotten"
                );
                changes.touched(&Touched::Everything);
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
