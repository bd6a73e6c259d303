//! Writing many rows at once, under the rules of the write path: the
//! loaders and `vigie import` write here. Each row gets its folded copies,
//! its timestamps and version 1 when it does not bring its own, each
//! searchable record its search words, and each record (a row with a
//! version) a CREATE event in the audit trail, named after `author`. Rows
//! go in statements within the number of values a statement may bind.
//! It uses the entities and the database; nothing of GraphQL or HTTP.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use entity::{audit_event, enums::AuditAction};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DbErr, EntityName, EntityTrait,
    IntoActiveModel, Iterable, ModelTrait,
};
use serde::Serialize;
use serde_json::Value as Json;

use super::{Author, audit_event, column, snapshot};

/// Most values one statement binds: within SQLite's limit (32,766).
const MAX_BINDS: usize = 30_000;
/// Most rows one statement writes.
const MAX_BATCH: usize = 1_000;

/// Inserts `rows`, all of one table and setting the same columns, with
/// their search words and audit events; returns the rows as stored.
pub async fn insert<A, C>(
    db: &C,
    rows: Vec<A>,
    author: Author<'_>,
) -> Result<Vec<<A::Entity as EntityTrait>::Model>, DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + Serialize,
    C: ConnectionTrait,
{
    let most = rows_per_statement::<A::Entity>();
    let mut stored = Vec::with_capacity(rows.len());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut batch = Vec::with_capacity(most);
        for row in rows.by_ref().take(most) {
            // What saving one row does before its statement: the folded
            // copies follow their text.
            batch.push(stamp(row.before_save(db, true).await?, author.at));
        }
        let inserted = <A::Entity as EntityTrait>::insert_many(batch)
            .exec_with_returning(db)
            .await?;
        let records: Vec<Json> = inserted.iter().map(snapshot).collect();
        let table = <A::Entity as Default>::default().table_name();
        index(db, table, &records).await?;
        if let Some(record) = entity::records::of_table(table) {
            audit(db, record.type_name, &records, author).await?;
        }
        stored.extend(inserted);
    }
    Ok(stored)
}

/// What [`upsert`] did to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

/// Makes a row what `desired` sets: inserts it when `existing` is none
/// (as [`insert`] does); otherwise sets on `existing` the columns
/// `desired` sets that differ, if any, moving a record to its next version
/// with an UPDATE event (before and after) in the audit trail. A row
/// already as desired is left alone: no write, no event.
pub async fn upsert<A, C>(
    db: &C,
    existing: Option<<A::Entity as EntityTrait>::Model>,
    desired: A,
    author: Author<'_>,
) -> Result<(<A::Entity as EntityTrait>::Model, Outcome), DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + Serialize,
    C: ConnectionTrait,
{
    let Some(model) = existing else {
        let mut inserted = insert(db, vec![desired], author).await?;
        let model = inserted.pop().expect("one row inserted");
        return Ok((model, Outcome::Inserted));
    };
    let mut current = model.clone().into_active_model();
    for column in <A::Entity as EntityTrait>::Column::iter() {
        if let sea_orm::ActiveValue::Set(value) = desired.get(column)
            && current.get(column).into_value() != Some(value.clone())
        {
            current.set(column, value);
        }
    }
    if !current.is_changed() {
        return Ok((model, Outcome::Unchanged));
    }
    let updated = update_record(db, model, current, None, author).await?;
    Ok((updated, Outcome::Updated))
}

/// A record whose links (rows of a link table, written on their own)
/// changed: moves it to its next version with an UPDATE event whose before
/// and after carry its list of links, named `list`.
pub async fn relinked<A, C>(
    db: &C,
    model: <A::Entity as EntityTrait>::Model,
    list: &str,
    (before, after): (Json, Json),
    author: Author<'_>,
) -> Result<<A::Entity as EntityTrait>::Model, DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + Serialize,
    C: ConnectionTrait,
{
    if entity::records::of_table(<A::Entity as Default>::default().table_name()).is_none() {
        return Ok(model);
    }
    let current = model.clone().into_active_model();
    update_record(db, model, current, Some((list, before, after)), author).await
}

/// Writes `current`, the changes to `model`, with its `updated_at`. A
/// record moves to its next version, with an event holding it before and
/// after (as [`snapshot`] has it), and `links` (a list's name, before and
/// after) beside its fields when given: ARCHIVE when it archives the
/// record, RESTORE when it brings it back, UPDATE otherwise.
async fn update_record<A, C>(
    db: &C,
    model: <A::Entity as EntityTrait>::Model,
    mut current: A,
    links: Option<(&str, Json, Json)>,
    author: Author<'_>,
) -> Result<<A::Entity as EntityTrait>::Model, DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + Serialize,
    C: ConnectionTrait,
{
    if let Ok(updated_at) = <A::Entity as EntityTrait>::Column::from_str("updated_at") {
        current.set(updated_at, author.at.into());
    }
    let record = entity::records::of_table(<A::Entity as Default>::default().table_name());
    let version = match record.map(|_| model.get(column::<A::Entity>("version"))) {
        Some(sea_orm::Value::Int(Some(version))) => Some(version + 1),
        _ => None,
    };
    if let Some(version) = version {
        current.set(column::<A::Entity>("version"), version.into());
    }
    let updated = current.update(db).await?;
    if let (Some(record), Some(version)) = (record, version) {
        let (mut before, mut after) = (snapshot(&model), snapshot(&updated));
        if let (Some((list, was, is)), Json::Object(b), Json::Object(a)) =
            (links, &mut before, &mut after)
        {
            b.insert(list.to_owned(), was);
            a.insert(list.to_owned(), is);
        }
        let id = after.get("id").and_then(Json::as_i64).unwrap_or_default();
        let archived = |record: &Json| record.get("archived_at").is_some_and(|at| !at.is_null());
        let action = match (archived(&before), archived(&after)) {
            (false, true) => AuditAction::Archive,
            (true, false) => AuditAction::Restore,
            _ => AuditAction::Update,
        };
        audit_event(
            author,
            action,
            record.type_name,
            id,
            version,
            Some(&before),
            &after,
        )
        .insert(db)
        .await?;
    }
    Ok(updated)
}

/// How many rows of `E` one statement writes: within the number of values
/// a statement may bind, every column of the table (the folded copies
/// included) given.
pub fn rows_per_statement<E: EntityTrait>() -> usize {
    (MAX_BINDS / E::Column::iter().count().max(1)).clamp(1, MAX_BATCH)
}

/// After rows written with ids of their own: on PostgreSQL, moves the id
/// sequence of every record table past its largest id, so that new
/// records get ids after them. (SQLite takes the next id from the table.)
pub async fn ids_given<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    for record in entity::records::all() {
        let table = record.table;
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
        .await?;
    }
    Ok(())
}

/// Gives a row the timestamps and version it does not bring.
fn stamp<A: ActiveModelTrait>(mut row: A, at: DateTime<Utc>) -> A {
    let defaults: [(&str, sea_orm::Value); 3] = [
        ("created_at", at.into()),
        ("updated_at", at.into()),
        ("version", 1_i32.into()),
    ];
    for (name, value) in defaults {
        if let Ok(column) = <A::Entity as EntityTrait>::Column::from_str(name)
            && row.get(column).is_not_set()
        {
            row.set(column, value);
        }
    }
    row
}

/// Gives records of a searchable table (as [`snapshot`] has them) their
/// search words, in one statement; archived ones stay out of search.
async fn index<C: ConnectionTrait>(db: &C, table: &str, records: &[Json]) -> Result<(), DbErr> {
    let Some(fields) = entity::search::fields(table) else {
        return Ok(());
    };
    let entries: Vec<(i64, Vec<Option<&str>>)> = records
        .iter()
        .filter(|record| record.get("archived_at").is_none_or(Json::is_null))
        .filter_map(|record| {
            let id = record.get("id").and_then(Json::as_i64)?;
            Some((
                id,
                fields
                    .iter()
                    .map(|field| record.get(*field).and_then(Json::as_str))
                    .collect(),
            ))
        })
        .collect();
    entity::search::store_many(db, table, &entries).await
}

/// Records the creation of records (as [`snapshot`] has them) in the audit
/// trail, in one statement.
async fn audit<C: ConnectionTrait>(
    db: &C,
    record_type: &str,
    records: &[Json],
    author: Author<'_>,
) -> Result<(), DbErr> {
    if records.is_empty() {
        return Ok(());
    }
    let events = records.iter().map(|after| {
        let id = after.get("id").and_then(Json::as_i64).unwrap_or_default();
        let version = after.get("version").and_then(Json::as_i64).unwrap_or(1);
        let version = i32::try_from(version).unwrap_or(1);
        audit_event(
            author,
            AuditAction::Create,
            record_type,
            id,
            version,
            None,
            after,
        )
    });
    audit_event::Entity::insert_many(events)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
