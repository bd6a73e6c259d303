//! The write path every writer takes. A write runs in one transaction that
//! claims the record's version first (a stale expected version is a
//! CONFLICT, never a silent overwrite), and records an audit event — who,
//! when, what, before and after — before it commits; once committed it is
//! announced (see [`super::changes`]). Saving a row through its active
//! model keeps its folded copies and its search words (see the entities'
//! `behavior!`). Nothing here deletes a record: archiving sets
//! `archived_at`.
//!
//! A write checks, in this order: the input's fields (every wrong field
//! named at once, BAD_USER_INPUT); then the writer's scope (FORBIDDEN);
//! then the records it names and the values that must be unique
//! (BAD_USER_INPUT); then, inside the transaction, the version
//! (CONFLICT) and the scope again, on the record as written. Archiving and
//! restoring take no fields: the scope comes first, then whether the
//! record is archived already.
//!
//! It uses the entities, the database, the keys' scopes and the hub's
//! error type; nothing of GraphQL or HTTP.

use std::{collections::HashMap, str::FromStr};

use chrono::Utc;
use entity::{audit_event, enums::AuditAction, idempotency_key, records::Declared};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, EntityName, EntityTrait, IntoActiveModel, Iterable,
    ModelTrait, QueryFilter, Set,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use serde::Serialize;

use super::{
    Checks, begin,
    changes::{Change, Changes, announce},
    snapshot,
};
use crate::{
    auth::Writer,
    error::{AppError, AppResult},
};

/// A record the store writes: how to find it, whom it belongs to and how
/// the audit trail keeps it. Every record table has `id`, `version`,
/// `created_at`, `updated_at` and `archived_at` columns.
#[async_trait::async_trait]
pub trait Writable:
    ModelTrait<Entity: EntityTrait<Model = Self, ActiveModel: Send> + Declared>
    + IntoActiveModel<<Self::Entity as EntityTrait>::ActiveModel>
    + Serialize
    + Sized
    + Send
    + Sync
{
    /// Its GraphQL type, also the prefix of its IDs (as declared).
    const TYPE: &'static str = <Self::Entity as Declared>::TYPE;
    /// Its table.
    const TABLE: &'static str = <Self::Entity as Declared>::TABLE;
    /// Whether only admin keys write it (nothing of it belongs to a
    /// territory).
    const ADMIN_ONLY: bool = false;

    /// FORBIDDEN unless `writer` may write this record.
    async fn check_scope<C: ConnectionTrait>(&self, db: &C, writer: &Writer) -> AppResult<()> {
        let _ = db;
        if writer.is_admin() {
            Ok(())
        } else {
            Err(admin_only::<Self>())
        }
    }

    /// The record, with its links, as the audit trail keeps it.
    async fn snapshot<C: ConnectionTrait>(&self, db: &C) -> AppResult<serde_json::Value> {
        let _ = db;
        Ok(snapshot(self))
    }

    /// The territory the record belongs to, if any: its `territory_id`.
    async fn territory<C: ConnectionTrait>(&self, db: &C) -> AppResult<Option<i64>> {
        let _ = db;
        Ok(snapshot(self)
            .get("territory_id")
            .and_then(serde_json::Value::as_i64))
    }
}

/// The id of a record.
fn id_of<W: Writable>(model: &W) -> i64 {
    match model.get(column::<W::Entity>("id")) {
        sea_orm::Value::BigInt(Some(id)) => id,
        sea_orm::Value::Int(Some(id)) => id.into(),
        other => unreachable!("a record's id is an integer, not {other:?}"),
    }
}

fn admin_only<W: Writable>() -> AppError {
    AppError::Forbidden(format!("only admin keys write {} records", W::TYPE))
}

/// A column every record table has.
fn column<E: EntityTrait>(name: &str) -> E::Column {
    E::Column::from_str(name).unwrap_or_else(|_| panic!("every record table has a column {name}"))
}

/// The record with this id, archived or not.
pub async fn load<W: Writable, C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<W>> {
    Ok(W::Entity::find()
        .filter(column::<W::Entity>("id").eq(id))
        .one(db)
        .await?)
}

/// A record known to exist; NOT_FOUND if it does not.
pub async fn existing<W: Writable, C: ConnectionTrait>(db: &C, id: i64) -> AppResult<W> {
    load::<W, C>(db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no {} has this ID", W::TYPE)))
}

fn is_archived<W: Writable>(model: &W) -> bool {
    model.get(column::<W::Entity>("archived_at")).is_some()
}

/// FORBIDDEN unless `writer` writes for one of `territories`.
pub fn territory_scope(writer: &Writer, territories: &[i64], what: &str) -> AppResult<()> {
    if writer.covers_any(territories) {
        Ok(())
    } else if territories.is_empty() {
        Err(AppError::Forbidden(format!(
            "only admin keys write {what} that belong to no territory"
        )))
    } else {
        Err(AppError::Forbidden(format!(
            "this key may not write {what} of this territory"
        )))
    }
}

/// The transaction of a write, and who makes it.
pub struct Write<'a> {
    pub txn: DatabaseTransaction,
    pub writer: &'a Writer,
    /// Where the write is announced once committed.
    changes: Option<&'a Changes>,
}

impl<'a> Write<'a> {
    /// Takes the record's next version if its current one is `expected`:
    /// the first statement of an update, so that of two writes racing on
    /// one record exactly one proceeds. Returns the new version.
    pub async fn claim(
        &self,
        table: &'static str,
        type_name: &str,
        id: i64,
        expected: i32,
    ) -> AppResult<i32> {
        let claim = Query::update()
            .table(Alias::new(table))
            .value(
                Alias::new("version"),
                Expr::col(Alias::new("version")).add(1),
            )
            .value(Alias::new("updated_at"), Utc::now())
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .and_where(Expr::col(Alias::new("version")).eq(expected))
            .to_owned();
        if self.txn.execute(&claim).await?.rows_affected() == 1 {
            return Ok(expected + 1);
        }
        let current = Query::select()
            .column(Alias::new("version"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        let current = self
            .txn
            .query_one(&current)
            .await?
            .map(|row| row.try_get::<i32>("", "version"))
            .transpose()?;
        match current {
            None => Err(AppError::NotFound(format!("no {type_name} has this ID"))),
            Some(current) => Err(AppError::Conflict {
                message: format!(
                    "this {type_name} is at version {current}, not {expected}: \
                     it changed since you read it; read it again and redo your change"
                ),
                current_version: current,
            }),
        }
    }

    /// Records the write in the audit trail, in its transaction.
    pub async fn audit(
        &self,
        action: AuditAction,
        record_type: &str,
        record_id: i64,
        version: i32,
        before: Option<&serde_json::Value>,
        after: &serde_json::Value,
    ) -> AppResult<()> {
        audit_event::ActiveModel {
            at: Set(Utc::now()),
            api_key_id: Set(self.writer.key_id),
            actor: Set(self.writer.label.clone()),
            action: Set(action),
            record_type: Set(record_type.to_owned()),
            record_id: Set(record_id),
            version: Set(version),
            before: Set(before.map(serde_json::Value::to_string)),
            after: Set(Some(after.to_string())),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?;
        Ok(())
    }

    /// Records a write of `record` in the audit trail, announces it once
    /// committed, and commits.
    async fn finish<W: Writable>(
        self,
        model: &W,
        action: AuditAction,
        version: i32,
        before: Option<&serde_json::Value>,
    ) -> AppResult<()> {
        let after = model.snapshot(&self.txn).await?;
        let id = id_of(model);
        self.audit(action, W::TYPE, id, version, before, &after)
            .await?;
        let change = Change {
            record_type: W::TYPE,
            id,
            action,
            version,
            territory: model.territory(&self.txn).await?,
            at: Utc::now(),
        };
        let changes = self.changes;
        let in_memory = announce(&self.txn, change).await?;
        self.txn.commit().await?;
        if let (Some(changes), Some(change)) = (changes, in_memory) {
            changes.publish(change);
        }
        Ok(())
    }
}

/// The record as a write began it: claimed at `version`, read again
/// inside the write, still in the writer's scope; and its snapshot, at the
/// version the client read.
async fn claimed<W: Writable>(
    write: &Write<'_>,
    id: i64,
    expected_version: i32,
) -> AppResult<(W, i32, serde_json::Value)> {
    let version = write.claim(W::TABLE, W::TYPE, id, expected_version).await?;
    let current: W = existing(&write.txn, id).await?;
    current.check_scope(&write.txn, write.writer).await?;
    let mut before = current.snapshot(&write.txn).await?;
    if let serde_json::Value::Object(fields) = &mut before {
        fields.insert("version".into(), (version - 1).into());
    }
    Ok((current, version, before))
}

/// Sets the version a write gives a record, and when it was written.
fn stamp<E: EntityTrait>(row: &mut E::ActiveModel, version: i32) {
    row.set(column::<E>("version"), version.into());
    row.set(column::<E>("updated_at"), Utc::now().into());
}

/// What a record holds beside its row, written with it: its link rows.
#[async_trait::async_trait]
pub trait Children: Send {
    /// Makes these the record's rows of this kind.
    async fn write(self: Box<Self>, txn: &DatabaseTransaction, record: i64) -> AppResult<()>;
}

/// A record as a create or an update makes it, once its input is checked:
/// its row (for an update, only the columns that change), the records it
/// names, the territories the writer must write for, and the link rows
/// that replace its own.
pub struct Draft<A> {
    pub row: A,
    refs: Vec<Refs<'static>>,
    children: Vec<Box<dyn Children>>,
    /// Values no other record of the table may hold: (field, column, value).
    unique: Vec<(&'static str, &'static str, sea_orm::Value)>,
    /// Territories the writer must write for.
    within: Vec<i64>,
}

impl<A> Draft<A> {
    pub fn new(row: A) -> Self {
        Draft {
            row,
            refs: Vec::new(),
            children: Vec::new(),
            unique: Vec::new(),
            within: Vec::new(),
        }
    }

    /// No other record may hold this value (when `Some`) in `column`.
    pub fn unique<V: Into<sea_orm::Value>>(
        mut self,
        field: &'static str,
        column: &'static str,
        value: Option<V>,
    ) -> Self {
        if let Some(value) = value {
            self.unique.push((field, column, value.into()));
        }
        self
    }

    /// The record names this one (`Some`) record of `table`, under `field`.
    pub fn names(mut self, field: &'static str, table: &'static str, id: Option<i64>) -> Self {
        if let Some(id) = id {
            self.refs.push(Refs::One(field, table, id));
        }
        self
    }

    /// The record names these (`Some`) records of `table`, under `field`.
    pub fn names_all(
        mut self,
        field: &'static str,
        table: &'static str,
        ids: Option<Vec<i64>>,
    ) -> Self {
        if let Some(ids) = ids {
            self.refs.push(Refs::Many(field, table, ids));
        }
        self
    }

    /// The writer must write for this (`Some`) territory: FORBIDDEN
    /// otherwise, once the fields are checked.
    pub fn within(mut self, territory: Option<i64>) -> Self {
        self.within.extend(territory);
        self
    }

    /// The record names these records of `table`, under `field`, and is
    /// linked to them alone through `links`.
    pub fn linked(
        mut self,
        field: &'static str,
        table: &'static str,
        links: Option<Links>,
    ) -> Self {
        if let Some(links) = links {
            let ids = links.values.iter().filter_map(|v| match v {
                sea_orm::Value::BigInt(Some(id)) => Some(*id),
                _ => None,
            });
            self.refs.push(Refs::Many(field, table, ids.collect()));
            self.children.push(Box::new(links));
        }
        self
    }

    /// The record's rows of one kind become these (when `Some`).
    pub fn with<R: Children + 'static>(mut self, rows: Option<R>) -> Self {
        if let Some(rows) = rows {
            self.children.push(Box::new(rows));
        }
        self
    }

    /// The record names these (`Some`) records of `table`, under `field`,
    /// and its rows of `E` (whose `parent` column names the record and
    /// `key` column one of those records) become those given, with their
    /// values (see [`Rows`]).
    pub fn rows<E>(
        self,
        (field, table): (&'static str, &'static str),
        (parent, key): (E::Column, E::Column),
        given: Option<Vec<(i64, E::ActiveModel)>>,
    ) -> Self
    where
        E: EntityTrait,
        Rows<E>: Children,
    {
        let ids = given
            .as_ref()
            .map(|rows| rows.iter().map(|(id, _)| *id).collect());
        self.names_all(field, table, ids)
            .with(given.map(|given| Rows { parent, key, given }))
    }
}

/// The link rows of one kind a write gives a record: the rows of `table`
/// whose `parent` column names the record become one per value, held in
/// `child`.
pub struct Links {
    pub table: &'static str,
    pub parent: &'static str,
    pub child: &'static str,
    pub values: Vec<sea_orm::Value>,
}

impl Links {
    /// Links through the table of `parent` and `child`, two columns of one
    /// link entity, to these values (ids of records, or vocabulary values).
    pub fn to<C: ColumnTrait, V: Into<sea_orm::Value>>(
        parent: C,
        child: C,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Links {
            table: C::EntityName::default().table_name(),
            parent: parent.as_str(),
            child: child.as_str(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// The values a record is linked to through the table of `parent` and
    /// `child`, sorted (for the audit trail).
    pub async fn read<T, L, C>(db: &C, parent: L, child: L, record: i64) -> AppResult<Vec<T>>
    where
        T: sea_orm::TryGetable + Ord,
        L: ColumnTrait,
        C: ConnectionTrait,
    {
        let query = Query::select()
            .column(child)
            .from(L::EntityName::default())
            .and_where(Expr::col(parent).eq(record))
            .to_owned();
        let mut values = db
            .query_all(&query)
            .await?
            .iter()
            .map(|row| row.try_get::<T>("", child.as_str()))
            .collect::<Result<Vec<T>, _>>()?;
        values.sort_unstable();
        Ok(values)
    }
}

#[async_trait::async_trait]
impl Children for Links {
    async fn write(self: Box<Self>, txn: &DatabaseTransaction, record: i64) -> AppResult<()> {
        let delete = Query::delete()
            .from_table(Alias::new(self.table))
            .and_where(Expr::col(Alias::new(self.parent)).eq(record))
            .to_owned();
        txn.execute(&delete).await?;
        if self.values.is_empty() {
            return Ok(());
        }
        let mut insert = Query::insert()
            .into_table(Alias::new(self.table))
            .columns([
                Alias::new(self.parent),
                Alias::new(self.child),
                Alias::new("created_at"),
            ])
            .to_owned();
        let now = Utc::now();
        for value in self.values {
            insert.values_panic([record.into(), value.into(), now.into()]);
        }
        txn.execute(&insert).await?;
        Ok(())
    }
}

/// The rows of one kind a write gives a record when they carry values of
/// their own (a deployment's risks, with their severity): each is keyed by
/// the record at its other end, in `key`. A row given again is updated
/// (and brought back if archived), a new one inserted, one left out
/// archived — kept, with its values, should it be given again.
pub struct Rows<E: EntityTrait> {
    parent: E::Column,
    key: E::Column,
    given: Vec<(i64, E::ActiveModel)>,
}

#[async_trait::async_trait]
impl<E> Children for Rows<E>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    async fn write(self: Box<Self>, txn: &DatabaseTransaction, record: i64) -> AppResult<()> {
        let key_of = |model: &E::Model| match model.get(self.key) {
            sea_orm::Value::BigInt(Some(key)) => key,
            other => unreachable!("a row's key is an id, not {other:?}"),
        };
        let version_of = |model: &E::Model| match model.get(column::<E>("version")) {
            sea_orm::Value::Int(Some(version)) => version,
            other => unreachable!("a version is an integer, not {other:?}"),
        };
        let mut existing: HashMap<i64, E::Model> = E::find()
            .filter(self.parent.eq(record))
            .all(txn)
            .await?
            .into_iter()
            .map(|row| (key_of(&row), row))
            .collect();
        let now = Utc::now();
        for (key, values) in self.given {
            let mut row = match existing.remove(&key) {
                Some(old) => {
                    let version = version_of(&old);
                    let mut row = old.into_active_model();
                    row.set(column::<E>("version"), (version + 1).into());
                    row
                }
                None => {
                    let mut row = E::ActiveModel::default();
                    row.set(self.parent, record.into());
                    row.set(self.key, key.into());
                    row.set(column::<E>("created_at"), now.into());
                    row
                }
            };
            for field in E::Column::iter() {
                if let ActiveValue::Set(value) = values.get(field) {
                    row.set(field, value);
                }
            }
            row.set(
                column::<E>("archived_at"),
                None::<chrono::DateTime<Utc>>.into(),
            );
            row.set(column::<E>("updated_at"), now.into());
            row.save(txn).await?;
        }
        let archived = column::<E>("archived_at");
        for old in existing.into_values() {
            if old.get(archived).is_some() {
                continue;
            }
            let version = version_of(&old);
            let mut row = old.into_active_model();
            row.set(archived, Some(now).into());
            row.set(column::<E>("version"), (version + 1).into());
            row.set(column::<E>("updated_at"), now.into());
            row.update(txn).await?;
        }
        Ok(())
    }
}

/// BAD_USER_INPUT naming every field whose value another record of the
/// table (other than `except`) already holds.
async fn check_unique<W: Writable>(
    db: &DatabaseConnection,
    unique: Vec<(&'static str, &'static str, sea_orm::Value)>,
    except: Option<i64>,
) -> AppResult<()> {
    let mut checks = Checks::default();
    for (field, name, value) in unique {
        let mut held = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(W::TABLE))
            .and_where(Expr::col(Alias::new(name)).eq(value))
            .to_owned();
        if let Some(except) = except {
            held.and_where(Expr::col(Alias::new("id")).ne(except));
        }
        if db.query_one(&held).await?.is_some() {
            checks.add(field, format!("is already used by another {}", W::TYPE));
        }
    }
    checks.finish()
}

/// A unique value taken by a write that committed meanwhile: the input's
/// fault, told as such.
fn taken(err: sea_orm::DbErr) -> AppError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::bad_input(
            "another record already holds one of the values that must be unique; read again and choose another",
        ),
        _ => err.into(),
    }
}

/// The store as one writer writes to it.
#[derive(Clone, Copy)]
pub struct Store<'a> {
    pub db: &'a DatabaseConnection,
    pub writer: &'a Writer,
    /// Where writes are announced once committed.
    pub changes: Option<&'a Changes>,
}

impl<'a> Store<'a> {
    /// Starts a write (see [`super::begin`]).
    pub async fn begin(&self) -> AppResult<Write<'a>> {
        Ok(Write {
            txn: begin(self.db).await?,
            writer: self.writer,
            changes: self.changes,
        })
    }

    /// FORBIDDEN unless the writer may write records of this type for
    /// these territories; asked once the fields are checked.
    fn check_within<W: Writable>(&self, territories: &[i64]) -> AppResult<()> {
        if W::ADMIN_ONLY && !self.writer.is_admin() {
            return Err(admin_only::<W>());
        }
        match territories.iter().find(|t| !self.writer.covers(**t)) {
            Some(_) => Err(AppError::Forbidden(format!(
                "this key may not write {} records for this territory",
                W::TYPE
            ))),
            None => Ok(()),
        }
    }

    /// Creates a record: checks what `draft` makes of the input, who
    /// writes, and the records it names; stores it at version 1 with its
    /// link rows, audits it and commits. With an idempotency key, a retry
    /// answers the first result.
    pub async fn create<W: Writable>(
        &self,
        idempotency: Option<IdempotencyKey>,
        draft: impl FnOnce(&mut Checks) -> Draft<<W::Entity as EntityTrait>::ActiveModel>,
    ) -> AppResult<W> {
        if let Some(earlier) = IdempotencyKey::earlier(&idempotency, self.db, self.writer).await? {
            return Ok(earlier);
        }
        let mut checks = Checks::default();
        let draft = draft(&mut checks);
        checks.finish()?;
        self.check_within::<W>(&draft.within)?;
        check_references(self.db, draft.refs).await?;
        check_unique::<W>(self.db, draft.unique, None).await?;

        let write = self.begin().await?;
        let mut row = draft.row;
        row.set(column::<W::Entity>("created_at"), Utc::now().into());
        stamp::<W::Entity>(&mut row, 1);
        let model: W = row.insert(&write.txn).await.map_err(taken)?;
        model.check_scope(&write.txn, self.writer).await?;
        let id = id_of(&model);
        for children in draft.children {
            children.write(&write.txn, id).await?;
        }
        if let Err(err) = remember(&write, &idempotency, W::TYPE, id).await {
            write.txn.rollback().await?;
            let Some(key) = idempotency else {
                return Err(err);
            };
            return match key.done_before(self.db, self.writer).await? {
                Some(id) => existing(self.db, id).await,
                None => Err(err),
            };
        }
        write.finish(&model, AuditAction::Create, 1, None).await?;
        Ok(model)
    }

    /// Updates record `id` at the version the client read: `draft` checks
    /// the input against the record as it is and gives the columns that
    /// change. The record must be the writer's before and after.
    pub async fn update<W: Writable>(
        &self,
        id: i64,
        expected_version: i32,
        draft: impl FnOnce(&W, &mut Checks) -> Draft<<W::Entity as EntityTrait>::ActiveModel>,
    ) -> AppResult<W> {
        let current: W = existing(self.db, id).await?;
        let mut checks = Checks::default();
        let draft = draft(&current, &mut checks);
        checks.finish()?;
        current.check_scope(self.db, self.writer).await?;
        self.check_within::<W>(&draft.within)?;
        check_references(self.db, draft.refs).await?;
        check_unique::<W>(self.db, draft.unique, Some(id)).await?;

        let write = self.begin().await?;
        let (current, version, before) = claimed::<W>(&write, id, expected_version).await?;
        let mut row = current.into_active_model();
        for field in <W::Entity as EntityTrait>::Column::iter() {
            if let ActiveValue::Set(value) = draft.row.get(field) {
                row.set(field, value);
            }
        }
        stamp::<W::Entity>(&mut row, version);
        let model: W = row.update(&write.txn).await.map_err(taken)?;
        model.check_scope(&write.txn, self.writer).await?;
        for children in draft.children {
            children.write(&write.txn, id).await?;
        }
        write
            .finish(&model, AuditAction::Update, version, Some(&before))
            .await?;
        Ok(model)
    }

    /// Archives (or restores) record `id` at the version the client read.
    pub async fn set_archived<W: Writable>(
        &self,
        id: i64,
        expected_version: i32,
        archive: bool,
    ) -> AppResult<W> {
        let refuse = || {
            let state = if archive {
                "already archived"
            } else {
                "not archived"
            };
            AppError::bad_argument("id", format!("this {} is {state}", W::TYPE))
        };
        let current: W = existing(self.db, id).await?;
        current.check_scope(self.db, self.writer).await?;
        if is_archived(&current) == archive {
            return Err(refuse());
        }
        let write = self.begin().await?;
        let (current, version, before) = claimed::<W>(&write, id, expected_version).await?;
        if is_archived(&current) == archive {
            return Err(refuse());
        }
        let mut row = current.into_active_model();
        row.set(
            column::<W::Entity>("archived_at"),
            archive.then(Utc::now).into(),
        );
        stamp::<W::Entity>(&mut row, version);
        let model = row.update(&write.txn).await?;
        let action = if archive {
            AuditAction::Archive
        } else {
            AuditAction::Restore
        };
        write.finish(&model, action, version, Some(&before)).await?;
        Ok(model)
    }
}

/// Notes that `key` made this record, so that a retry finds it. Fails
/// when another request with the same key won the race.
async fn remember(
    write: &Write<'_>,
    key: &Option<IdempotencyKey>,
    record_type: &str,
    record_id: i64,
) -> AppResult<()> {
    if let (Some(key), Some(key_id)) = (key, write.writer.key_id) {
        idempotency_key::ActiveModel {
            api_key_id: Set(key_id),
            key: Set(key.key.clone()),
            operation: Set(key.operation.to_owned()),
            record_type: Set(record_type.to_owned()),
            record_id: Set(record_id),
            created_at: Set(Utc::now()),
        }
        .insert(&write.txn)
        .await?;
    }
    Ok(())
}

/// Longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 200;

/// A client's idempotency key for one create.
pub struct IdempotencyKey {
    key: String,
    operation: &'static str,
}

impl IdempotencyKey {
    pub fn new(key: Option<String>, operation: &'static str) -> AppResult<Option<Self>> {
        key.map(|key| {
            if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY {
                return Err(AppError::bad_argument(
                    "idempotencyKey",
                    format!("`idempotencyKey` has 1 to {MAX_IDEMPOTENCY_KEY} characters"),
                ));
            }
            Ok(IdempotencyKey { key, operation })
        })
        .transpose()
    }

    /// The record an earlier create with `key` (if given) made, if any: a
    /// retry answers it.
    async fn earlier<W: Writable>(
        key: &Option<Self>,
        db: &DatabaseConnection,
        writer: &Writer,
    ) -> AppResult<Option<W>> {
        match key {
            Some(key) => match key.done_before(db, writer).await? {
                Some(id) => Ok(Some(existing(db, id).await?)),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// The record an earlier request with this key created, if any.
    async fn done_before<C: ConnectionTrait>(
        &self,
        db: &C,
        writer: &Writer,
    ) -> AppResult<Option<i64>> {
        let Some(key_id) = writer.key_id else {
            return Ok(None);
        };
        let found = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::ApiKeyId.eq(key_id))
            .filter(idempotency_key::Column::Key.eq(&self.key))
            .one(db)
            .await?;
        match found {
            None => Ok(None),
            Some(found) if found.operation == self.operation => Ok(Some(found.record_id)),
            Some(found) => Err(AppError::bad_argument(
                "idempotencyKey",
                format!(
                    "this idempotency key was already used for {}; use a new key for each create",
                    found.operation
                ),
            )),
        }
    }
}

/// References an input makes: under a field, to records of a table.
pub enum Refs<'a> {
    /// One record (`input.territory`).
    One(&'a str, &'static str, i64),
    /// A list of records (`input.domains`: errors name `input.domains.N`).
    Many(&'a str, &'static str, Vec<i64>),
}

/// BAD_USER_INPUT naming every reference that names no live record.
pub async fn check_references<C: ConnectionTrait>(db: &C, wanted: Vec<Refs<'_>>) -> AppResult<()> {
    let mut checks = Checks::default();
    for refs in wanted {
        let (field, table, ids, many) = match refs {
            Refs::One(field, table, id) => (field, table, vec![id], false),
            Refs::Many(field, table, ids) => (field, table, ids, true),
        };
        for id in missing(db, table, &ids).await? {
            let path = if many {
                let position = ids.iter().position(|i| *i == id).unwrap_or_default();
                format!("{field}.{position}")
            } else {
                field.to_owned()
            };
            checks.add(path, format!("names no live {table} (absent or archived)"));
        }
    }
    checks.finish()
}

/// The ids among `ids` that name no live record of `table`.
pub async fn missing<C: ConnectionTrait>(
    db: &C,
    table: &'static str,
    ids: &[i64],
) -> AppResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let live = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("archived_at")).is_null())
        .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()))
        .to_owned();
    let live: std::collections::HashSet<i64> = db
        .query_all(&live)
        .await?
        .into_iter()
        .map(|row| row.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| !live.contains(id))
        .collect())
}
