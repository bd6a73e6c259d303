//! Persisted queries: the safelist of named operations committed with the
//! hub (`GET /graphql?id=TerritoryWidget&variables=…`), and automatic
//! persisted queries (a client sends the SHA-256 of its query, and the query
//! itself only the first time), kept in the database so that every replica
//! knows them.

use std::{collections::HashMap, sync::OnceLock};

use chrono::Utc;
use entity::persisted_query;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set, Statement, TryInsertResult};
use sha2::{Digest, Sha256};

use crate::{
    db::{DataState, MISSING_VERSION, placeholder},
    error::AppResult,
};

/// Automatic persisted queries kept by default.
pub const DEFAULT_KEPT: u32 = 10_000;

/// Largest document registered by default, in bytes: the safelisted
/// operations are under 1 KiB, a large dashboard's query a few.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024;

/// Most mebibytes of documents kept by default, in all.
pub const DEFAULT_MAX_TOTAL_MIB: u32 = 32;

/// Registrations a client address may make per minute by default.
pub const DEFAULT_REGISTRATIONS_PER_MINUTE: u32 = 30;

/// What automatic persisted queries are registered, and how many kept.
#[derive(Debug, Clone, Copy)]
pub struct Registration {
    /// Most documents kept; registering one more forgets the oldest. 0
    /// registers none.
    pub kept: u32,
    /// Largest document registered, in bytes.
    pub max_bytes: usize,
    /// Most bytes of documents kept in all.
    pub max_total_bytes: u64,
    /// Registrations per client address per minute; 0: no limit of its own.
    pub per_minute: u32,
    /// Register only for requests with an API key.
    pub keyed_only: bool,
}

impl Registration {
    /// Whether a document of this text may be registered at all: some are
    /// kept, and it is no larger than the largest kept.
    pub fn takes(&self, query: &str) -> bool {
        self.kept > 0 && query.len() <= self.max_bytes
    }
}

impl Default for Registration {
    fn default() -> Self {
        Registration {
            kept: DEFAULT_KEPT,
            max_bytes: DEFAULT_MAX_BYTES,
            max_total_bytes: u64::from(DEFAULT_MAX_TOTAL_MIB) << 20,
            per_minute: DEFAULT_REGISTRATIONS_PER_MINUTE,
            keyed_only: false,
        }
    }
}

/// The committed operations: their names, and their files.
const SAFELIST: &[(&str, &str)] = &[
    ("TerritoryAiUses", include_str!("headline.graphql")),
    (
        "TerritoryWidget",
        include_str!("safelist/TerritoryWidget.graphql"),
    ),
    (
        "DeploymentsByRegionAndStatus",
        include_str!("safelist/DeploymentsByRegionAndStatus.graphql"),
    ),
    (
        "ConcertationsByTerritory",
        include_str!("safelist/ConcertationsByTerritory.graphql"),
    ),
];

/// A safelisted operation.
#[derive(Debug)]
pub struct Operation {
    pub name: &'static str,
    pub query: &'static str,
    /// Hex SHA-256 of the query text.
    pub hash: String,
}

/// The safelisted operations, by name and by hash.
pub struct Safelist {
    operations: Vec<Operation>,
    by_key: HashMap<String, usize>,
}

impl Safelist {
    pub fn get() -> &'static Safelist {
        static SAFELIST_: OnceLock<Safelist> = OnceLock::new();
        SAFELIST_.get_or_init(|| {
            let operations: Vec<Operation> = SAFELIST
                .iter()
                .map(|(name, query)| Operation {
                    name,
                    query,
                    hash: sha256_hex(query),
                })
                .collect();
            let mut by_key = HashMap::new();
            for (i, operation) in operations.iter().enumerate() {
                by_key.insert(operation.name.to_owned(), i);
                by_key.insert(operation.hash.clone(), i);
            }
            Safelist { operations, by_key }
        })
    }

    /// The operation of this name or hash.
    pub fn find(&self, id: &str) -> Option<&Operation> {
        self.by_key.get(id).map(|i| &self.operations[*i])
    }

    /// Whether a safelist-only hub refuses this query text to a request
    /// without an API key (see [`SAFELIST_ONLY`]).
    pub fn refuses(&self, safelist_only: bool, anonymous: bool, query: &str) -> bool {
        safelist_only && anonymous && !self.holds(query)
    }

    /// Whether this query text is a safelisted operation's.
    pub fn holds(&self, query: &str) -> bool {
        self.find(&sha256_hex(query)).is_some()
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }
}

/// What a safelist-only hub answers a request without a key that runs
/// another operation (`PERSISTED_QUERY_REQUIRED`).
pub const SAFELIST_ONLY: &str =
    "this hub runs only its safelisted operations for requests without an API key";

/// Hex SHA-256 of a text's UTF-8 bytes.
pub fn sha256_hex(text: &str) -> String {
    sha256_hex_bytes(text.as_bytes())
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The query registered under `hash`, if any.
pub async fn stored<C: ConnectionTrait>(db: &C, hash: &str) -> AppResult<Option<String>> {
    Ok(persisted_query::Entity::find_by_id(hash.to_owned())
        .one(db)
        .await?
        .map(|row| row.query))
}

/// The query registered under `hash`, if any, and the data version's
/// state (see [`DataState`]), read together in one statement: on SQLite a
/// request by hash whose answer may have been kept needs both before
/// anything else.
pub async fn stored_at_state<C: ConnectionTrait>(
    db: &C,
    hash: &str,
) -> AppResult<(Option<String>, Result<DataState, DbErr>)> {
    let backend = db.get_database_backend();
    let placeholder = placeholder(backend, 1);
    let columns: Vec<String> = DataState::COLUMNS
        .iter()
        .map(|column| format!("d.{column} AS {column}"))
        .collect();
    let sql = format!(
        "SELECT {}, p.query AS query FROM (SELECT 1 AS one) AS o \
         LEFT JOIN data_version AS d ON d.id = 1 \
         LEFT JOIN persisted_query AS p ON p.hash = {placeholder}",
        columns.join(", ")
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [hash.into()]))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("a row of outer joins".into()))?;
    let state = DataState::of_row(&row, "")
        .and_then(|state| state.ok_or_else(|| DbErr::RecordNotFound(MISSING_VERSION.into())));
    Ok((row.try_get("", "query")?, state))
}

/// Registers a query under its hash (once; a second registration is a
/// no-op), then forgets the oldest registrations past the `kept` most
/// recent ones or past `max_total_bytes` of documents in all: a client
/// whose query was forgotten is answered `PERSISTED_QUERY_NOT_FOUND` and
/// sends it again, as the protocol has it. With `kept` 0, or a document
/// over `max_bytes`, nothing is registered.
pub async fn store<C: ConnectionTrait>(
    db: &C,
    hash: &str,
    query: &str,
    rules: &Registration,
) -> AppResult<()> {
    if !rules.takes(query) {
        return Ok(());
    }
    let row = persisted_query::ActiveModel {
        hash: Set(hash.to_owned()),
        query: Set(query.to_owned()),
        created_at: Set(Utc::now()),
    };
    let inserted = persisted_query::Entity::insert(row)
        .on_conflict_do_nothing_on([persisted_query::Column::Hash])
        .exec_without_returning(db)
        .await?;
    if matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0) {
        // The numbers are written, not bound (see `loader::literal`); SQLite
        // takes an offset only after a limit.
        let older = format!(
            "DELETE FROM persisted_query WHERE hash IN (SELECT hash FROM persisted_query \
             ORDER BY created_at DESC, hash DESC LIMIT {} OFFSET {})",
            i64::MAX,
            rules.kept
        );
        db.execute_raw(Statement::from_string(db.get_database_backend(), older))
            .await?;
        // The newest documents that fit in the budget stay.
        let over_budget = format!(
            "DELETE FROM persisted_query WHERE hash IN (SELECT hash FROM (SELECT hash, \
             SUM(LENGTH(query)) OVER (ORDER BY created_at DESC, hash DESC) AS total \
             FROM persisted_query) AS kept WHERE total > {})",
            rules.max_total_bytes
        );
        db.execute_raw(Statement::from_string(
            db.get_database_backend(),
            over_budget,
        ))
        .await?;
    }
    Ok(())
}
