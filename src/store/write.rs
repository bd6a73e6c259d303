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

use chrono::Utc;
use entity::{enums::AuditAction, records::Declared};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, Iterable, ModelTrait, QueryFilter,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use serde::Serialize;

use super::{
    Author, Checks, audit_event, begin,
    changes::{Change, Changes, Touched, announce},
    column,
    draft::{Draft, check_references, source_column},
    idempotency::IdempotencyKey,
    provenance, snapshot,
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
    <W::Entity as Declared>::id(model)
}

fn admin_only<W: Writable>() -> AppError {
    AppError::Forbidden(format!("only admin keys write {} records", W::TYPE))
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
    /// On SQLite, the data version this write started at, if the writes
    /// up to it were not all heard of (see [`crate::db::DataState`]).
    unheard: Option<i64>,
    /// The record types written besides the record (a source made for
    /// the writer).
    also: Vec<&'static str>,
    /// The writer's name (see [`Changes::origin`]).
    origin: u64,
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
        let author = Author {
            key: self.writer.key_id,
            label: &self.writer.label,
            at: Utc::now(),
        };
        audit_event(
            author,
            action,
            record_type,
            record_id,
            version,
            before,
            after,
        )
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
        before: Option<(&serde_json::Value, Option<i64>)>,
    ) -> AppResult<()> {
        let (before, was_in) = before.unzip();
        let after = model.snapshot(&self.txn).await?;
        let id = id_of(model);
        self.audit(action, W::TYPE, id, version, before, &after)
            .await?;
        let territory = model.territory(&self.txn).await?;
        let change = Change {
            record_type: W::TYPE,
            id,
            action,
            version,
            territory,
            was_in: was_in.flatten().filter(|was| Some(*was) != territory),
            at: Utc::now(),
            origin: self.origin,
            also: self.also,
        };
        crate::db::DataState::announce(&self.txn, self.origin).await?;
        let touched = Touched::Tags(change.tags());
        let changes = self.changes;
        let in_memory = announce(&self.txn, change).await?;
        self.txn.commit().await?;
        if let Some(changes) = changes {
            if let Some(version) = self.unheard {
                changes.touched(&Touched::Unheard(version));
            }
            changes.touched(&touched);
            if let Some(change) = in_memory {
                changes.publish(change);
            }
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
    /// Starts a write (see [`super::begin`]) that announces precisely what
    /// it touches: on PostgreSQL, the tables' triggers leave it to the
    /// write; on SQLite, it reads whether every write before it was heard.
    pub async fn begin(&self) -> AppResult<Write<'a>> {
        let txn = begin(self.db).await?;
        let origin = self
            .changes
            .map_or_else(super::changes::new_origin, Changes::origin);
        let unheard = match txn.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                txn.execute_unprepared(crate::db::TAGGED_WRITE).await?;
                None
            }
            _ => {
                let state = crate::db::DataState::read(&txn).await?;
                (!state.heard_by(origin)).then_some(state.version)
            }
        };
        Ok(Write {
            txn,
            writer: self.writer,
            changes: self.changes,
            unheard,
            also: Vec::new(),
            origin,
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
        if let Some(key) = &idempotency
            && let Some(earlier) = key.done_before(self.db, self.writer).await?
        {
            return existing(self.db, earlier).await;
        }
        let mut checks = Checks::default();
        let draft = draft(&mut checks);
        checks.finish()?;
        self.check_within::<W>(&draft.within)?;
        check_references(self.db, draft.refs).await?;
        check_unique::<W>(self.db, draft.unique, None).await?;

        let mut write = self.begin().await?;
        let mut row = draft.row;
        if let Some(source) = source_column::<W::Entity>()
            && row.is_not_set(source)
        {
            let (contributed, made) = provenance::contributed(&write.txn, self.writer).await?;
            if made {
                write.also.push(<entity::source::Entity as Declared>::TYPE);
            }
            row.set(source, contributed.into());
        }
        row.set(column::<W::Entity>("created_at"), Utc::now().into());
        stamp::<W::Entity>(&mut row, 1);
        let model: W = row.insert(&write.txn).await.map_err(taken)?;
        model.check_scope(&write.txn, self.writer).await?;
        let id = id_of(&model);
        for children in draft.children {
            children.write(&write.txn, id).await?;
        }
        let remembered = match &idempotency {
            Some(key) => key.remember(&write.txn, self.writer, W::TYPE, id).await,
            None => Ok(()),
        };
        if let Err(err) = remembered {
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
        let was_in = current.territory(&write.txn).await?;
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
            .finish(
                &model,
                AuditAction::Update,
                version,
                Some((&before, was_in)),
            )
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
        write
            .finish(&model, action, version, Some((&before, None)))
            .await?;
        Ok(model)
    }
}
