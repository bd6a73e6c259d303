//! Writing: what every mutation shares. A write runs in one transaction that
//! claims the record's version first (a stale `expectedVersion` is a
//! CONFLICT, never a silent overwrite), checks its input field by field,
//! and records an audit event — who, when, what, before and after — before
//! it commits. Nothing here deletes a row: archiving sets `archived_at`.

/// The mutations that archive and restore records of one type.
macro_rules! archiving {
    (
        $mutation:ident for $model:ty as $node:ident;
        $(#[$archive_meta:meta])* $archive:literal;
        $(#[$restore_meta:meta])* $restore:literal;
    ) => {
        #[derive(Default)]
        pub struct $mutation;

        #[async_graphql::Object]
        impl $mutation {
            $(#[$archive_meta])*
            #[graphql(name = $archive)]
            async fn archive(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "The record to archive.")] id: async_graphql::ID,
                #[graphql(desc = "The version you read.")] expected_version: i32,
            ) -> async_graphql::Result<$node> {
                let model = $crate::graphql::write::set_archived::<$model>(ctx, &id, expected_version, true).await?;
                Ok($node(model))
            }

            $(#[$restore_meta])*
            #[graphql(name = $restore)]
            async fn restore(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "The record to restore.")] id: async_graphql::ID,
                #[graphql(desc = "The version you read.")] expected_version: i32,
            ) -> async_graphql::Result<$node> {
                let model = $crate::graphql::write::set_archived::<$model>(ctx, &id, expected_version, false).await?;
                Ok($node(model))
            }
        }
    };
}

/// The mutations that create and update records of one type: `$draft`
/// checks a create's input into a [`Draft`], `$change` an update's against
/// the record as it is (see [`create`] and [`update`]).
macro_rules! writing {
    (
        $mutation:ident for $model:ty as $node:ident;
        $(#[$create_meta:meta])* $create:literal($create_input:ty) => $draft:path;
        $(#[$update_meta:meta])* $update:literal($update_input:ty) => $change:path;
    ) => {
        #[derive(Default)]
        pub struct $mutation;

        #[async_graphql::Object]
        impl $mutation {
            $(#[$create_meta])*
            #[graphql(name = $create)]
            async fn create(
                &self,
                ctx: &async_graphql::Context<'_>,
                input: $create_input,
                #[graphql(
                    desc = "A key of your choosing, unique for each new record: a retry with the same key returns the first result."
                )]
                idempotency_key: Option<String>,
            ) -> async_graphql::Result<$node> {
                let draft = |checks: &mut $crate::graphql::write::Checks| $draft(input, checks);
                let model =
                    $crate::graphql::write::create::<$model>(ctx, idempotency_key, $create, draft)
                        .await?;
                Ok($node(model))
            }

            $(#[$update_meta])*
            #[graphql(name = $update)]
            async fn update(
                &self,
                ctx: &async_graphql::Context<'_>,
                input: $update_input,
            ) -> async_graphql::Result<$node> {
                let (id, version) = (input.id.clone(), input.expected_version);
                let change = |current: &$model, checks: &mut $crate::graphql::write::Checks| {
                    $change(input, current, checks)
                };
                let model =
                    $crate::graphql::write::update::<$model>(ctx, &id, version, change).await?;
                Ok($node(model))
            }
        }
    };
}

/// Sets the columns of `$row` whose new value is `Some`.
macro_rules! patch {
    ($row:ident { $($field:ident: $value:expr),* $(,)? }) => {
        $(if let Some(value) = $value {
            $row.$field = sea_orm::Set(value);
        })*
    };
}

pub mod charter;
pub mod concertation;
pub mod contribution;
pub mod deployment;
pub mod directory;
pub mod resource;
pub mod study;

use async_graphql::{Context, MaybeUndefined};
use chrono::Utc;
use entity::{audit_event, enums::AuditAction, idempotency_key};
use std::str::FromStr;

use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, Iterable, ModelTrait, QueryFilter, Set,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use serde::Serialize;

use super::{
    engine::id,
    engine::loader::database,
    engine::relation::Record,
    live::{Change, Changes},
};
pub use crate::store::{begin, is_month, is_siren, snapshot, snapshot_with};
use crate::{
    auth::{Actor, Writer},
    error::{AppError, AppResult, FieldErrors},
};

/// The actor of a request: anonymous unless the request carried a key.
pub fn actor<'a>(ctx: &Context<'a>) -> &'a Actor {
    static ANONYMOUS: Actor = Actor::Anonymous;
    ctx.data_opt::<Actor>().unwrap_or(&ANONYMOUS)
}

/// The transaction of a write, and who makes it.
pub struct Write<'a> {
    pub txn: DatabaseTransaction,
    pub writer: &'a Writer,
    /// Where the write is announced once committed.
    changes: Option<&'a Changes>,
}

impl<'a> Write<'a> {
    pub async fn begin(ctx: &Context<'a>, writer: &'a Writer) -> AppResult<Write<'a>> {
        Ok(Write {
            txn: begin(database(ctx)).await?,
            writer,
            changes: ctx.data_opt::<Changes>(),
        })
    }

    /// Commits, announcing the write to live subscribers (see
    /// [`super::live`]).
    async fn commit_change<W: Writable>(
        self,
        model: &W,
        action: AuditAction,
        version: i32,
    ) -> AppResult<()> {
        let change = Change {
            record_type: W::TYPE,
            id: model.id(),
            action,
            version,
            territory: model.territory(&self.txn).await?,
            at: Utc::now(),
        };
        let changes = self.changes;
        let in_memory = super::live::announce(&self.txn, change).await?;
        self.commit().await?;
        if let (Some(changes), Some(change)) = (changes, in_memory) {
            changes.publish(change);
        }
        Ok(())
    }

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
            api_key_id: Set(Some(self.writer.key_id)),
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

    /// Notes that `key` made this record, so that a retry finds it. Fails
    /// when another request with the same key won the race.
    pub async fn remember(
        &self,
        key: &Option<IdempotencyKey>,
        record_type: &str,
        record_id: i64,
    ) -> AppResult<()> {
        if let Some(key) = key {
            idempotency_key::ActiveModel {
                api_key_id: Set(self.writer.key_id),
                key: Set(key.key.clone()),
                operation: Set(key.operation.to_owned()),
                record_type: Set(record_type.to_owned()),
                record_id: Set(record_id),
                created_at: Set(Utc::now()),
            }
            .insert(&self.txn)
            .await?;
        }
        Ok(())
    }

    /// Ends a create: records it in the audit trail, notes its idempotency
    /// key and commits. When another request with the same key won the
    /// race, rolls back and answers the record that one created.
    pub async fn finish_create<W: Writable + Record>(
        self,
        db: &DatabaseConnection,
        idempotency: &Option<IdempotencyKey>,
        model: W,
    ) -> AppResult<W> {
        let after = model.snapshot(&self.txn).await?;
        self.audit(AuditAction::Create, W::TYPE, model.id(), 1, None, &after)
            .await?;
        if let Err(err) = self.remember(idempotency, W::TYPE, model.id()).await {
            self.txn.rollback().await?;
            let Some(key) = idempotency else {
                return Err(err);
            };
            return match key.done_before(db, self.writer).await? {
                Some(id) => existing(db, id).await,
                None => Err(err),
            };
        }
        self.commit_change(&model, AuditAction::Create, 1).await?;
        Ok(model)
    }

    /// Ends an update: records it, from `before` to what `model` now is,
    /// in the audit trail, and commits.
    pub async fn finish_update<W: Writable + Record>(
        self,
        version: i32,
        before: serde_json::Value,
        model: W,
    ) -> AppResult<W> {
        let after = model.snapshot(&self.txn).await?;
        self.audit(
            AuditAction::Update,
            W::TYPE,
            model.id(),
            version,
            Some(&before),
            &after,
        )
        .await?;
        self.commit_change(&model, AuditAction::Update, version)
            .await?;
        Ok(model)
    }

    pub async fn commit(self) -> AppResult<()> {
        Ok(self.txn.commit().await?)
    }
}

/// A record the API writes: how to find it, whom it belongs to and how
/// the audit trail keeps it. Every record table has `id`, `version`,
/// `created_at`, `updated_at` and `archived_at` columns.
#[async_trait::async_trait]
pub trait Writable:
    ModelTrait<Entity: EntityTrait<Model = Self, ActiveModel: Send>>
    + IntoActiveModel<<Self::Entity as EntityTrait>::ActiveModel>
    + Record
    + Serialize
    + Sized
    + Send
    + Sync
{
    /// Its GraphQL type, also the prefix of its IDs.
    const TYPE: &'static str;
    /// Its table.
    const TABLE: &'static str;
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

/// The record a global ID names, archived or not; NOT_FOUND if none.
pub async fn find<W: Writable, C: ConnectionTrait>(
    db: &C,
    global: &async_graphql::ID,
) -> AppResult<W> {
    existing(db, id::decode_as(global, W::TYPE)?).await
}

/// A record known to exist (an earlier create made it).
pub async fn existing<W: Writable, C: ConnectionTrait>(db: &C, id: i64) -> AppResult<W> {
    load::<W, C>(db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no {} has this ID", W::TYPE)))
}

/// The record as a write began it: claimed at `version`, read again
/// inside the write, still in the writer's scope; and its snapshot, at the
/// version the client read.
pub async fn claimed<W: Writable>(
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

/// Archives (or restores) a record at the version the client read.
pub async fn set_archived<W: Writable>(
    ctx: &Context<'_>,
    id: &async_graphql::ID,
    expected_version: i32,
    archive: bool,
) -> AppResult<W> {
    let writer = actor(ctx).writer()?;
    let current: W = find(database(ctx), id).await?;
    current.check_scope(database(ctx), writer).await?;
    let refuse = || {
        let state = if archive {
            "already archived"
        } else {
            "not archived"
        };
        AppError::bad_argument("id", format!("this {} is {state}", W::TYPE))
    };
    if is_archived(&current) == archive {
        return Err(refuse());
    }
    let write = Write::begin(ctx, writer).await?;
    let (current, version, before) =
        claimed::<W>(&write, id::decode_as(id, W::TYPE)?, expected_version).await?;
    if is_archived(&current) == archive {
        return Err(refuse());
    }
    let mut row = current.into_active_model();
    row.set(
        column::<W::Entity>("archived_at"),
        archive.then(Utc::now).into(),
    );
    stamp::<W>(&mut row, version);
    let model = row.update(&write.txn).await?;
    let after = model.snapshot(&write.txn).await?;
    let action = if archive {
        AuditAction::Archive
    } else {
        AuditAction::Restore
    };
    let record_id = id::decode_as(id, W::TYPE)?;
    write
        .audit(action, W::TYPE, record_id, version, Some(&before), &after)
        .await?;
    write.commit_change(&model, action, version).await?;
    Ok(model)
}

/// Sets the version a write gives a record, and when it was written.
fn stamp<W: Writable>(row: &mut <W::Entity as EntityTrait>::ActiveModel, version: i32) {
    row.set(column::<W::Entity>("version"), version.into());
    row.set(column::<W::Entity>("updated_at"), Utc::now().into());
}

/// A record as a create or an update makes it, once its input is checked:
/// its row (for an update, only the columns that change), the records it
/// names, and the link rows that replace its own.
pub struct Draft<A> {
    pub row: A,
    pub refs: Vec<Refs<'static>>,
    pub links: Vec<Links>,
    /// Values no other record of the table may hold: (field, column, value).
    pub unique: Vec<(&'static str, &'static str, sea_orm::Value)>,
}

impl<A> Draft<A> {
    pub fn new(row: A) -> Self {
        Draft {
            row,
            refs: Vec::new(),
            links: Vec::new(),
            unique: Vec::new(),
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
            self.links.push(links);
        }
        self
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
    /// Links to these values (ids of records, or vocabulary values).
    pub fn to<V: Into<sea_orm::Value>>(
        table: &'static str,
        parent: &'static str,
        child: &'static str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Links {
            table,
            parent,
            child,
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// The values a record is linked to, sorted (for the audit trail).
    pub async fn read<T, C>(
        db: &C,
        table: &'static str,
        parent: &'static str,
        child: &'static str,
        record: i64,
    ) -> AppResult<Vec<T>>
    where
        T: sea_orm::TryGetable + Ord,
        C: ConnectionTrait,
    {
        let query = Query::select()
            .column(Alias::new(child))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(parent)).eq(record))
            .to_owned();
        let mut values = db
            .query_all(&query)
            .await?
            .iter()
            .map(|row| row.try_get::<T>("", child))
            .collect::<Result<Vec<T>, _>>()?;
        values.sort_unstable();
        Ok(values)
    }

    /// Makes these the record's links of this kind.
    async fn replace<C: ConnectionTrait>(self, db: &C, record: i64) -> AppResult<()> {
        let delete = Query::delete()
            .from_table(Alias::new(self.table))
            .and_where(Expr::col(Alias::new(self.parent)).eq(record))
            .to_owned();
        db.execute(&delete).await?;
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
        db.execute(&insert).await?;
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

/// Creates a record: checks who writes and what `draft` makes of the
/// input, stores it at version 1 with its links, audits it and commits.
/// With an idempotency key, a retry answers the first result.
pub async fn create<W: Writable>(
    ctx: &Context<'_>,
    idempotency_key: Option<String>,
    operation: &'static str,
    draft: impl FnOnce(&mut Checks) -> Draft<<W::Entity as EntityTrait>::ActiveModel>,
) -> AppResult<W> {
    let writer = actor(ctx).writer()?;
    if W::ADMIN_ONLY && !writer.is_admin() {
        return Err(admin_only::<W>());
    }
    let idempotency = IdempotencyKey::new(idempotency_key, operation)?;
    let db = database(ctx);
    if let Some(earlier) = IdempotencyKey::earlier(&idempotency, db, writer).await? {
        return Ok(earlier);
    }
    let mut checks = Checks::default();
    let Draft {
        mut row,
        refs,
        links,
        unique,
    } = draft(&mut checks);
    checks.finish()?;
    check_references(db, refs).await?;
    check_unique::<W>(db, unique, None).await?;

    let write = Write::begin(ctx, writer).await?;
    row.set(column::<W::Entity>("created_at"), Utc::now().into());
    stamp::<W>(&mut row, 1);
    let model: W = row.insert(&write.txn).await.map_err(taken)?;
    model.check_scope(&write.txn, writer).await?;
    for links in links {
        links.replace(&write.txn, model.id()).await?;
    }
    write.finish_create(db, &idempotency, model).await
}

/// Updates a record at the version the client read: `draft` checks the
/// input against the record as it is and gives the columns that change.
/// The record must be the writer's before and after.
pub async fn update<W: Writable>(
    ctx: &Context<'_>,
    id: &async_graphql::ID,
    expected_version: i32,
    draft: impl FnOnce(&W, &mut Checks) -> Draft<<W::Entity as EntityTrait>::ActiveModel>,
) -> AppResult<W> {
    let writer = actor(ctx).writer()?;
    let db = database(ctx);
    let current: W = find(db, id).await?;
    current.check_scope(db, writer).await?;
    let mut checks = Checks::default();
    let Draft {
        row: change,
        refs,
        links,
        unique,
    } = draft(&current, &mut checks);
    checks.finish()?;
    check_references(db, refs).await?;
    check_unique::<W>(db, unique, Some(current.id())).await?;

    let write = Write::begin(ctx, writer).await?;
    let (current, version, before) = claimed::<W>(&write, current.id(), expected_version).await?;
    let mut row = current.into_active_model();
    for field in <W::Entity as EntityTrait>::Column::iter() {
        if let ActiveValue::Set(value) = change.get(field) {
            row.set(field, value);
        }
    }
    stamp::<W>(&mut row, version);
    let model: W = row.update(&write.txn).await.map_err(taken)?;
    model.check_scope(&write.txn, writer).await?;
    for links in links {
        links.replace(&write.txn, model.id()).await?;
    }
    write.finish_update(version, before, model).await
}

/// Longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 200;

/// A client's idempotency key for one create mutation.
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
    pub async fn earlier<W: Writable>(
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
    pub async fn done_before<C: ConnectionTrait>(
        &self,
        db: &C,
        writer: &Writer,
    ) -> AppResult<Option<i64>> {
        let found = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::ApiKeyId.eq(writer.key_id))
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

/// Checks of input fields, gathered into one error naming every wrong field.
#[derive(Default)]
pub struct Checks(pub FieldErrors);

/// Longest one-line text (titles, names).
pub const MAX_LINE: usize = 300;
/// Longest free text (summaries, statements).
pub const MAX_TEXT: usize = 10_000;
/// Longest URL name.
const MAX_SLUG: usize = 100;
/// Longest URL.
const MAX_URL: usize = 2_000;

impl Checks {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.add(field, message);
    }

    /// A required text: not blank, at most `max` characters. Returns it trimmed.
    pub fn required(&mut self, field: &str, text: &str, max: usize) -> String {
        let text = text.trim();
        if text.is_empty() {
            self.add(field, "must not be empty");
        } else if text.chars().count() > max {
            self.add(field, format!("is longer than {max} characters"));
        }
        text.to_owned()
    }

    /// An optional text: blank means none.
    pub fn optional(&mut self, field: &str, text: Option<&str>, max: usize) -> Option<String> {
        let text = text.map(str::trim).filter(|t| !t.is_empty())?;
        if text.chars().count() > max {
            self.add(field, format!("is longer than {max} characters"));
        }
        Some(text.to_owned())
    }

    /// An optional http(s) URL.
    pub fn url(&mut self, field: &str, text: Option<&str>) -> Option<String> {
        let text = self.optional(field, text, MAX_URL)?;
        match url::Url::parse(&text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => self.add(field, "must be an http:// or https:// URL"),
        }
        Some(text)
    }

    /// An optional month, `YYYY-MM`.
    pub fn month(&mut self, field: &str, text: Option<&str>) -> Option<String> {
        let text = self.optional(field, text, 7)?;
        if !is_month(&text) {
            self.add(field, "must be a month written YYYY-MM");
        }
        Some(text)
    }

    /// A URL name: the one given (lowercase letters, digits and single
    /// dashes), else one made from `name`.
    pub fn slug(&mut self, field: &str, given: Option<&str>, name: &str) -> String {
        let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) else {
            let made = crate::text::slug(name);
            if made.is_empty() && !name.trim().is_empty() {
                self.add(field, "cannot be made from this name: give one");
            }
            return made;
        };
        if given.len() > MAX_SLUG || crate::text::slug(given) != given {
            self.add(
                field,
                format!(
                    "must be lowercase letters and digits joined by single dashes, \
                     at most {MAX_SLUG} characters"
                ),
            );
        }
        given.to_owned()
    }

    /// An optional SIREN: nine digits with a valid Luhn key.
    pub fn siren(&mut self, field: &str, text: Option<&str>) -> Option<String> {
        let text = self.optional(field, text, 9)?;
        if !is_siren(&text) {
            self.add(field, "must be 9 digits with a valid check digit (Luhn)");
        }
        Some(text)
    }

    /// A global ID that must name a record of `type_name`.
    pub fn id(&mut self, field: &str, global: &async_graphql::ID, type_name: &str) -> Option<i64> {
        match id::decode_as(global, type_name) {
            Ok(id) => Some(id),
            Err(_) => {
                self.add(field, format!("is not the ID of a {type_name}"));
                None
            }
        }
    }

    /// A change to an optional text: `None` when left out, `Some(None)`
    /// when emptied.
    pub fn change_text(
        &mut self,
        field: &str,
        value: &MaybeUndefined<String>,
        max: usize,
    ) -> Option<Option<String>> {
        change(value, |v| self.optional(field, Some(v), max))
    }

    /// A change to an optional http(s) URL.
    pub fn change_url(
        &mut self,
        field: &str,
        value: &MaybeUndefined<String>,
    ) -> Option<Option<String>> {
        change(value, |v| self.url(field, Some(v)))
    }

    /// A change to an optional month.
    pub fn change_month(
        &mut self,
        field: &str,
        value: &MaybeUndefined<String>,
    ) -> Option<Option<String>> {
        change(value, |v| self.month(field, Some(v)))
    }

    /// An optional count or amount, not negative.
    pub fn not_negative<N: PartialOrd + Default + Copy>(
        &mut self,
        field: &str,
        value: Option<N>,
    ) -> Option<N> {
        if value.is_some_and(|v| v < N::default()) {
            self.add(field, "cannot be negative");
        }
        value
    }

    /// An optional global ID of a record of `type_name`.
    pub fn maybe_id(
        &mut self,
        field: &str,
        global: Option<&async_graphql::ID>,
        type_name: &str,
    ) -> Option<i64> {
        global.and_then(|global| self.id(field, global, type_name))
    }

    /// A change to an optional reference.
    pub fn change_id(
        &mut self,
        field: &str,
        value: &MaybeUndefined<async_graphql::ID>,
        type_name: &str,
    ) -> Option<Option<i64>> {
        match value {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(global) => Some(self.id(field, global, type_name)),
        }
    }

    /// Two optional bounds (dates, months) in order: `end` not before `start`.
    pub fn ordered<T: PartialOrd + std::fmt::Display>(
        &mut self,
        field: &str,
        start: Option<T>,
        end: Option<T>,
    ) {
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            self.add(field, format!("ends ({end}) before it starts ({start})"));
        }
    }

    /// An optional number within `min..=max`.
    pub fn within<N: PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        field: &str,
        value: Option<N>,
        min: N,
        max: N,
    ) -> Option<N> {
        if let Some(v) = value
            && (v < min || v > max)
        {
            self.add(field, format!("must be between {min} and {max}"));
        }
        value
    }

    /// An optional number, `min` or more.
    pub fn at_least<N: PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        field: &str,
        value: Option<N>,
        min: N,
    ) -> Option<N> {
        if value.is_some_and(|v| v < min) {
            self.add(field, format!("must be {min} or more"));
        }
        value
    }

    /// IDs of records of `type_name`, each once, under `field.N`.
    pub fn ids(&mut self, field: &str, ids: &[async_graphql::ID], type_name: &str) -> Vec<i64> {
        let mut out = Vec::new();
        for (i, global) in ids.iter().enumerate() {
            if let Some(id) = self.id(&format!("{field}.{i}"), global, type_name)
                && !out.contains(&id)
            {
                out.push(id);
            }
        }
        out
    }

    pub fn finish(self) -> AppResult<()> {
        self.0.check()
    }
}

pub fn change<T>(
    value: &MaybeUndefined<String>,
    check: impl FnOnce(&str) -> Option<T>,
) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(check(v)),
    }
}

/// `Some(value)` for a value or `null` given, `None` when left out.
pub fn undefined_or<T: Into<U>, U>(value: MaybeUndefined<T>) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v.into())),
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
