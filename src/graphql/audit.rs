//! The audit trail: every write, with who made it, when, and the record
//! before and after. Each record's `history` lists its own writes; admins
//! may list them all (`auditEvents`).

use std::collections::HashMap;

use async_graphql::{Context, Json, Object, dataloader::Loader};
use entity::{audit_event, enums::KeyRole};
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query},
};

use super::{
    engine::connection::{Listing, ListingConnection},
    engine::id,
    engine::loader::{SqlLoader, limited, literal, loader, reading},
    engine::paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
    enums::AuditAction,
};
use crate::tags::{AUDIT, Tag};
use crate::{
    auth::Actor,
    error::{AppError, AppResult},
};

/// One write to one record.
pub struct AuditEvent(audit_event::Model);

/// One write to one record: who made it, when, and the record before and
/// after.
#[Object]
impl AuditEvent {
    /// Global ID of the event; also its cursor in history lists.
    async fn id(&self) -> async_graphql::ID {
        id::encode("AuditEvent", self.0.id)
    }

    /// When the write was committed.
    async fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.at
    }

    /// Who wrote. An admin sees the label of the API key, often a
    /// person's name; others see the key's role and the territories it
    /// writes for (`editor for nantes-metropole`, `admin`). The hub's own
    /// writers are named (`reference load`, `seed-synthetic`, `import of
    /// FILE`, `import of the official geography`).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let admin = matches!(
            ctx.data_opt::<Actor>(),
            Some(Actor::Writer(writer)) if writer.role == KeyRole::Admin
        );
        match self.0.api_key_id {
            Some(key) if !admin => Ok(loader(ctx)
                .load_one(KeyWithoutLabel(key))
                .await?
                .unwrap_or_else(|| "a key".to_owned())),
            _ => Ok(self.0.actor.clone()),
        }
    }

    /// What the write did.
    async fn action(&self) -> AuditAction {
        self.0.action.into()
    }

    /// The type of the record written (`Deployment`…).
    async fn record_type(&self) -> &str {
        &self.0.record_type
    }

    /// Global ID of the record written.
    async fn record_id(&self) -> async_graphql::ID {
        id::encode(&self.0.record_type, self.0.record_id)
    }

    /// The record's version after the write.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The record's stored fields before the write; `null` for a creation.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        parse(self.0.before.as_deref())
    }

    /// The record's stored fields after the write.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        parse(self.0.after.as_deref())
    }
}

fn parse(text: Option<&str>) -> Option<Json<serde_json::Value>> {
    text.and_then(|text| serde_json::from_str(text).ok())
        .map(Json)
}

/// Which events a list holds, to count them when asked.
pub enum Listed {
    /// One record's history.
    History(&'static str, i64),
    /// The whole trail, filtered.
    Trail(Box<Select<audit_event::Entity>>),
}

impl Listing for Listed {
    type Item = AuditEvent;
    const CONNECTION: &'static str = "AuditConnection";

    async fn count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        Ok(match self {
            Listed::History(record_type, record_id) => loader(ctx)
                .load_one(HistoryCount(record_type, *record_id))
                .await?
                .unwrap_or(0),
            Listed::Trail(select) => {
                select
                    .as_ref()
                    .clone()
                    .count(reading(ctx, [Tag::all(AUDIT)]))
                    .await? as i64
            }
        })
    }
}

/// A page of audit events, newest first.
pub type AuditConnection = ListingConnection<Listed>;

/// The page size asked for, checked.
fn page_size(first: Option<i32>) -> AppResult<u64> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n < 0 => Err(AppError::bad_argument(
            "first",
            "`first` cannot be negative",
        )),
        Some(n) if n as u64 > MAX_PAGE_SIZE => Err(AppError::bad_argument(
            "first",
            format!("`first` is at most {MAX_PAGE_SIZE}"),
        )),
        Some(n) => Ok(n as u64),
    }
}

fn after_id(after: Option<String>) -> AppResult<Option<i64>> {
    after
        .map(|cursor| {
            id::decode_as(&cursor, "AuditEvent").map_err(|_| {
                AppError::bad_argument("after", "`after` is not a cursor of this list")
            })
        })
        .transpose()
}

fn connection(
    rows: Vec<audit_event::Model>,
    size: u64,
    after: Option<i64>,
    listed: Listed,
) -> AuditConnection {
    let items = rows
        .into_iter()
        .map(|row| {
            (
                id::encode("AuditEvent", row.id).to_string(),
                AuditEvent(row),
            )
        })
        .collect();
    ListingConnection::new(items, size, after.is_some(), listed)
}

/// The number of events in one record's history.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct HistoryCount(&'static str, i64);

impl Loader<HistoryCount> for SqlLoader {
    type Value = i64;
    type Error = AppError;

    async fn load(&self, keys: &[HistoryCount]) -> AppResult<HashMap<HistoryCount, i64>> {
        self.read([Tag::all(AUDIT)]);
        let mut by_type: HashMap<&'static str, Vec<i64>> = HashMap::new();
        for key in keys {
            by_type.entry(key.0).or_default().push(key.1);
        }
        let mut found = HashMap::new();
        for (record_type, ids) in by_type {
            let counts: Vec<(i64, i64)> = audit_event::Entity::find()
                .select_only()
                .column(audit_event::Column::RecordId)
                .column_as(audit_event::Column::Id.count(), "n")
                .filter(audit_event::Column::RecordType.eq(record_type))
                .filter(audit_event::Column::RecordId.is_in(ids))
                .group_by(audit_event::Column::RecordId)
                .into_tuple()
                .all(&self.db)
                .await?;
            found.extend(
                counts
                    .into_iter()
                    .map(|(record_id, n)| (HistoryCount(record_type, record_id), n)),
            );
        }
        Ok(found)
    }
}

/// One page of one record's history.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct History {
    record_type: &'static str,
    record_id: i64,
    /// Rows to fetch: the page and one more.
    fetch: u64,
    after: Option<i64>,
}

/// The history of a record, batched: one statement a level of the query,
/// each record's page cut in SQL.
pub async fn history(
    ctx: &Context<'_>,
    record_type: &'static str,
    record_id: i64,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<AuditConnection> {
    let size = page_size(first)?;
    let after = after_id(after)?;
    let key = History {
        record_type,
        record_id,
        fetch: size + 1,
        after,
    };
    let rows = loader(ctx).load_one(key).await?.unwrap_or_default();
    Ok(connection(
        rows,
        size,
        after,
        Listed::History(record_type, record_id),
    ))
}

impl Loader<History> for SqlLoader {
    type Value = Vec<audit_event::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[History]) -> AppResult<HashMap<History, Self::Value>> {
        self.read([Tag::all(AUDIT)]);
        let mut groups: HashMap<(&'static str, u64, Option<i64>), Vec<i64>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.record_type, key.fetch, key.after))
                .or_default()
                .push(key.record_id);
        }
        let backend = sea_orm::ConnectionTrait::get_database_backend(&self.db);
        let mut found = HashMap::new();
        for ((record_type, fetch, after), ids) in groups {
            let mut inner = Query::select();
            inner
                .column(Asterisk)
                .expr_as(
                    Expr::cust("ROW_NUMBER() OVER (PARTITION BY record_id ORDER BY id DESC)"),
                    Alias::new("rank_in_record"),
                )
                .from(Alias::new("audit_event"))
                .and_where(Expr::col(Alias::new("record_type")).eq(record_type))
                .and_where(Expr::col(Alias::new("record_id")).is_in(ids.clone()));
            if let Some(after) = after {
                inner.and_where(Expr::col(Alias::new("id")).lt(after));
            }
            let outer = Query::select()
                .column(Asterisk)
                .from_subquery(inner, Alias::new("page"))
                .and_where(Expr::col(Alias::new("rank_in_record")).lte(literal(fetch)))
                .order_by(Alias::new("id"), Order::Desc)
                .to_owned();
            let rows = audit_event::Model::find_by_statement(backend.build(&outer))
                .all(&self.db)
                .await?;
            let mut by_record: HashMap<i64, Vec<audit_event::Model>> = HashMap::new();
            for row in rows {
                by_record.entry(row.record_id).or_default().push(row);
            }
            for record_id in ids {
                let key = History {
                    record_type,
                    record_id,
                    fetch,
                    after,
                };
                found.insert(key, by_record.remove(&record_id).unwrap_or_default());
            }
        }
        Ok(found)
    }
}

/// An API key, as those who may not see its label see it: its role, and
/// the territories an editor writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct KeyWithoutLabel(i64);

impl Loader<KeyWithoutLabel> for SqlLoader {
    type Value = String;
    type Error = AppError;

    async fn load(&self, keys: &[KeyWithoutLabel]) -> AppResult<HashMap<KeyWithoutLabel, String>> {
        use entity::{api_key, api_key_territory, territory};
        // Keys are the trail's authors; territories name what they cover.
        self.read([Tag::all(AUDIT), Tag::all("Territory")]);
        let ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
        let roles = api_key::Entity::find()
            .filter(api_key::Column::Id.is_in(ids.clone()))
            .all(&self.db)
            .await?;
        let links = api_key_territory::Entity::find()
            .filter(api_key_territory::Column::ApiKeyId.is_in(ids))
            .all(&self.db)
            .await?;
        let slugs: HashMap<i64, String> = territory::Entity::find()
            .filter(territory::Column::Id.is_in(links.iter().map(|l| l.territory_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| (t.id, t.slug))
            .collect();
        Ok(roles
            .into_iter()
            .map(|key| {
                let named = match key.role {
                    KeyRole::Admin => "admin".to_owned(),
                    KeyRole::Editor => {
                        let mut territories: Vec<&str> = links
                            .iter()
                            .filter(|l| l.api_key_id == key.id)
                            .filter_map(|l| slugs.get(&l.territory_id).map(String::as_str))
                            .collect();
                        territories.sort_unstable();
                        format!("editor for {}", territories.join(", "))
                    }
                };
                (KeyWithoutLabel(key.id), named)
            })
            .collect())
    }
}

/// Root fields of the audit trail.
#[derive(Default)]
pub struct AuditRoot;

#[Object]
impl AuditRoot {
    /// Every write to the hub, newest first (admin keys only).
    #[graphql(complexity = "crate::graphql::engine::paging::cost(first, None, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n events (default 20, at most 100).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Returns the events after this cursor.")] after: Option<String>,
        #[graphql(desc = "Only writes to records of this type (`Deployment`…).")]
        record_type: Option<String>,
        #[graphql(desc = "Only writes made with keys of this label.")] actor: Option<String>,
    ) -> async_graphql::Result<AuditConnection> {
        ctx.data_opt::<Actor>()
            .unwrap_or(&Actor::Anonymous)
            .admin()?;
        let size = page_size(first)?;
        let after = after_id(after)?;
        let mut listed = audit_event::Entity::find();
        if let Some(record_type) = record_type {
            listed = listed.filter(audit_event::Column::RecordType.eq(record_type));
        }
        if let Some(actor) = actor {
            listed = listed.filter(audit_event::Column::Actor.eq(actor));
        }
        let mut select = listed.clone().order_by_desc(audit_event::Column::Id);
        if let Some(after) = after {
            select = select.filter(audit_event::Column::Id.lt(after));
        }
        let db = reading(ctx, [Tag::all(AUDIT)]);
        // The page's size written as a number (see `loader::literal`).
        let page = limited(db.get_database_backend(), &select.into_query(), size + 1);
        let rows = audit_event::Entity::find()
            .from_raw_sql(page)
            .all(db)
            .await
            .map_err(AppError::from)?;
        Ok(connection(
            rows,
            size,
            after,
            Listed::Trail(Box::new(listed)),
        ))
    }
}
