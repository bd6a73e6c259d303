//! What a write gives a record besides its row, and the records it names:
//! a [`Draft`] holds a create's or an update's row, the records its input
//! names (each must be live), the territories the writer must write for,
//! and the link rows that replace the record's own — plain links
//! ([`Links`]) or rows with values of their own ([`Rows`]). It uses the
//! entities, the database and the hub's error type.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait,
    DatabaseTransaction, EntityName, EntityTrait, IntoActiveModel, Iterable, ModelTrait,
    QueryFilter,
    sea_query::{Alias, Expr, ExprTrait, Query},
};

use super::{Checks, column};
use crate::error::AppResult;

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
    pub(super) refs: Vec<Refs<'static>>,
    pub(super) children: Vec<Box<dyn Children>>,
    /// Values no other record of the table may hold: (field, column, value).
    pub(super) unique: Vec<(&'static str, &'static str, sea_orm::Value)>,
    /// Territories the writer must write for.
    pub(super) within: Vec<i64>,
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

    /// The record's facts come from this (`Some`) source, named under
    /// `field`; left out, the store gives it its writer's (see
    /// [`super::provenance`]).
    pub fn from_source(mut self, field: &'static str, source: Option<i64>) -> Self
    where
        A: ActiveModelTrait,
    {
        if let (Some(id), Some(column)) = (source, source_column::<A::Entity>()) {
            self.row.set(column, id.into());
            self.refs.push(Refs::One(field, "source", id));
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
        // Rows without a key (a risk stated only in words, by a register)
        // are not the list's: left as they are.
        let mut existing: HashMap<i64, E::Model> = E::find()
            .filter(self.parent.eq(record))
            .filter(self.key.is_not_null())
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

/// References an input makes: under a field, to records of a table.
pub enum Refs<'a> {
    /// One record (`input.territory`).
    One(&'a str, &'static str, i64),
    /// A list of records (`input.domains`: errors name `input.domains.N`).
    Many(&'a str, &'static str, Vec<i64>),
}

/// The column naming a record's source, for the tables that have one.
pub fn source_column<E: EntityTrait>() -> Option<E::Column> {
    use std::str::FromStr;
    E::Column::from_str("source_id").ok()
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
