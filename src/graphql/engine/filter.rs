//! Filters: what a client may ask of the rows of any list, root or nested.
//!
//! Each record type has its own filter input (generated with the type, in
//! `node!`), made of typed conditions on its fields — `eq ne in notIn
//! isNull lt lte gt gte`, and on text `contains startsWith endsWith`, which
//! ignore case and accents — combined with `and`/`or`/`not`, and of
//! conditions on its relations (`some`/`none`/`every` related record
//! matches). Inputs turn into a [`Pred`], a plain tree that compiles to SQL
//! for either database and that loader keys can hash.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Enum, ID, InputObject, InputType};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    DbBackend, Value,
    sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, LikeExpr, Query, SelectStatement},
};
use serde::{Deserialize, Serialize};

use super::{
    id,
    relation::{RelDef, Via},
    scalars::Date,
};
use crate::error::{AppError, AppResult};

/// Most values an `in` or `notIn` list may hold.
pub const MAX_IN_VALUES: usize = 1_000;
/// Most conditions one filter may hold, all levels together.
pub const MAX_CONDITIONS: usize = 200;

/// A value a filter compares with, or a cursor carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "t", content = "v")]
pub enum Val {
    Null,
    Int(i64),
    /// A float, by its bits, so that values hash.
    Float(u64),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

impl Val {
    pub fn float(value: f64) -> Val {
        Val::Float(value.to_bits())
    }

    /// The value of a column, as a model gives it.
    pub fn from_column(value: Value) -> Val {
        match value {
            Value::TinyInt(Some(v)) => Val::Int(v.into()),
            Value::SmallInt(Some(v)) => Val::Int(v.into()),
            Value::Int(Some(v)) => Val::Int(v.into()),
            Value::BigInt(Some(v)) => Val::Int(v),
            Value::Float(Some(v)) => Val::float(v.into()),
            Value::Double(Some(v)) => Val::float(v),
            Value::String(Some(v)) => Val::Text(v),
            Value::Bool(Some(v)) => Val::Bool(v),
            Value::ChronoDate(Some(v)) => Val::Date(v),
            Value::ChronoDateTimeUtc(Some(v)) => Val::Time(v),
            _ => Val::Null,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn to_value(&self) -> Value {
        match self {
            Val::Null => Value::String(None),
            Val::Int(v) => (*v).into(),
            Val::Float(bits) => f64::from_bits(*bits).into(),
            Val::Text(v) => v.clone().into(),
            Val::Bool(v) => (*v).into(),
            Val::Date(v) => (*v).into(),
            Val::Time(v) => (*v).into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    Some,
    None,
    Every,
}

/// A condition on the rows of one table, ready to compile to SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pred {
    All(Vec<Pred>),
    Any(Vec<Pred>),
    /// True where the inner condition is false or unknown.
    Not(Box<Pred>),
    Cmp(&'static str, CmpOp, Val),
    In(&'static str, Vec<Val>),
    NotIn(&'static str, Vec<Val>),
    IsNull(&'static str, bool),
    /// A folded text column matched against a folded needle.
    Text(&'static str, TextOp, String),
    /// Related records through a relation, some, none or all matching.
    Related(Quantifier, &'static RelDef, Box<Pred>),
    /// The record a foreign key points to matches.
    Parent {
        fk: &'static str,
        table: &'static str,
        pred: Box<Pred>,
    },
}

impl Pred {
    /// The records not archived: a list's first condition unless it asks
    /// for archived records too.
    pub const LIVE: Pred = Pred::IsNull("archived_at", true);

    /// Conditions in this tree, all levels together.
    pub fn size(&self) -> usize {
        match self {
            Pred::All(preds) | Pred::Any(preds) => 1 + preds.iter().map(Pred::size).sum::<usize>(),
            Pred::Not(pred) | Pred::Related(_, _, pred) | Pred::Parent { pred, .. } => {
                1 + pred.size()
            }
            _ => 1,
        }
    }

    /// Whether this condition reads no column of its rows but `columns`
    /// (it may read a related record's, through one of them).
    pub fn reads_only(&self, columns: &[&str]) -> bool {
        match self {
            Pred::All(preds) | Pred::Any(preds) => preds.iter().all(|p| p.reads_only(columns)),
            Pred::Not(pred) => pred.reads_only(columns),
            Pred::Cmp(column, ..)
            | Pred::In(column, _)
            | Pred::NotIn(column, _)
            | Pred::IsNull(column, _)
            | Pred::Text(column, ..) => columns.contains(column),
            Pred::Parent { fk, .. } => columns.contains(fk),
            // Related records point to the row's id.
            Pred::Related(..) => false,
        }
    }

    /// All of `preds`, without a needless wrapper.
    pub fn all(mut preds: Vec<Pred>) -> Pred {
        if preds.len() == 1 {
            preds.pop().expect("one")
        } else {
            Pred::All(preds)
        }
    }
}

/// Compiles predicates for one statement, naming each subquery's table
/// apart from the others.
///
/// Conditions on relations become uncorrelated `IN (SELECT …)` subqueries:
/// each runs once, with its own best plan (the région index to find the
/// territories of a région), instead of once per outer row.
pub struct Compiler {
    backend: DbBackend,
    /// Whether the rows are reached through something else — the parents
    /// of a nested list — that must drive the query (see [`Compiler::nested`]).
    steered: bool,
    next_alias: AtomicUsize,
}

/// `FROM table WHERE pred`, no columns yet: the rows of a root list that
/// its filter keeps.
pub fn root_rows(backend: DbBackend, table: &'static str, pred: Option<&Pred>) -> SelectStatement {
    let mut query = Query::select();
    query.from(table);
    if let Some(pred) = pred {
        query.cond_where(Compiler::new(backend).compile(pred, table));
    }
    query
}

impl Compiler {
    /// For conditions on the rows of a root list.
    pub fn new(backend: DbBackend) -> Self {
        Compiler {
            backend,
            steered: false,
            next_alias: AtomicUsize::new(0),
        }
    }

    /// For conditions on the rows of a nested list, which its parents' ids
    /// select. SQLite, whose statistics cannot tell how selective a
    /// condition is beside `parent IN (…)`, may otherwise scan an index of
    /// the condition's column through the whole table; on SQLite the
    /// columns of such conditions are therefore written `+column`, which no
    /// index serves.
    pub fn nested(backend: DbBackend) -> Self {
        Compiler {
            steered: backend == DbBackend::Sqlite,
            ..Compiler::new(backend)
        }
    }

    /// The same database, for the rows of a subquery: those pick their own
    /// plan.
    fn unsteered(&self) -> Compiler {
        Compiler::new(self.backend)
    }

    fn alias(&self) -> String {
        format!("f{}", self.next_alias.fetch_add(1, Ordering::Relaxed))
    }

    fn column(&self, alias: &str, column: &'static str) -> Expr {
        let column = Expr::col((Alias::new(alias), column));
        if self.steered {
            Expr::cust_with_expr("+?", column)
        } else {
            column
        }
    }

    /// The SQL of `pred` on the rows of the table named `alias`.
    pub fn compile(&self, pred: &Pred, alias: &str) -> Condition {
        let col = |column: &'static str| self.column(alias, column);
        match pred {
            Pred::All(preds) if preds.is_empty() => Condition::all().add(Expr::cust("1 = 1")),
            Pred::Any(preds) if preds.is_empty() => Condition::all().add(Expr::cust("1 = 0")),
            Pred::All(preds) => preds
                .iter()
                .fold(Condition::all(), |all, p| all.add(self.compile(p, alias))),
            Pred::Any(preds) => preds
                .iter()
                .fold(Condition::any(), |any, p| any.add(self.compile(p, alias))),
            Pred::Not(inner) => Condition::all().add(self.known_false(inner, alias)),
            Pred::Cmp(column, op, value) => {
                let value = value.to_value();
                let expr = match op {
                    CmpOp::Eq => col(column).eq(value),
                    CmpOp::Ne => col(column).ne(value),
                    CmpOp::Lt => col(column).lt(value),
                    CmpOp::Lte => col(column).lte(value),
                    CmpOp::Gt => col(column).gt(value),
                    CmpOp::Gte => col(column).gte(value),
                };
                Condition::all().add(expr)
            }
            Pred::In(column, values) => {
                Condition::all().add(col(column).is_in(values.iter().map(Val::to_value)))
            }
            Pred::NotIn(column, values) => {
                Condition::all().add(col(column).is_not_in(values.iter().map(Val::to_value)))
            }
            Pred::IsNull(column, true) => Condition::all().add(col(column).is_null()),
            Pred::IsNull(column, false) => Condition::all().add(col(column).is_not_null()),
            Pred::Text(column, op, needle) => {
                let escaped = escape_like(needle);
                let pattern = match op {
                    TextOp::Contains => format!("%{escaped}%"),
                    TextOp::StartsWith => format!("{escaped}%"),
                    TextOp::EndsWith => format!("%{escaped}"),
                };
                Condition::all().add(col(column).like(LikeExpr::new(pattern).escape('\\')))
            }
            Pred::Related(quantifier, rel, inner) => {
                // The parents that have (matching) related rows.
                let subquery = self.unsteered();
                let (mut parents, child) = subquery.related_parents(rel);
                let id = col("id");
                let expr = match quantifier {
                    Quantifier::Some => {
                        parents.cond_where(subquery.compile(inner, &child));
                        id.in_subquery(parents)
                    }
                    Quantifier::None => {
                        parents.cond_where(subquery.compile(inner, &child));
                        id.not_in_subquery(parents)
                    }
                    Quantifier::Every => {
                        parents.and_where(subquery.known_false(inner, &child));
                        id.not_in_subquery(parents)
                    }
                };
                Condition::all().add(expr)
            }
            Pred::Parent { fk, table, pred } => {
                // The foreign key points to one of the matching records.
                let subquery = self.unsteered();
                let parent = subquery.alias();
                let mut matching = Query::select();
                matching
                    .column((Alias::new(&parent), "id"))
                    .from_as(*table, Alias::new(&parent))
                    .cond_where(subquery.compile(pred, &parent));
                Condition::all().add(col(fk).in_subquery(matching))
            }
        }
    }

    /// True where `pred` is false or unknown (a comparison with NULL): what
    /// a reader means by "not".
    fn known_false(&self, pred: &Pred, alias: &str) -> Expr {
        let condition: Expr = self.compile(pred, alias).into();
        let truth = Expr::cust_with_expr(
            match self.backend {
                DbBackend::Sqlite => "COALESCE(?, 0)",
                _ => "COALESCE($1, FALSE)",
            },
            condition,
        );
        truth.not()
    }

    /// `SELECT <parent id> FROM child [JOIN link]`, over the related rows
    /// that have a parent, and the name of the child table in it.
    fn related_parents(&self, rel: &RelDef) -> (SelectStatement, String) {
        let child = self.alias();
        let child_alias = Alias::new(&child);
        let mut sub = Query::select();
        sub.from_as(rel.child, child_alias.clone());
        let parent = match rel.via {
            Via::Column(column) => Expr::col((child_alias.clone(), column)),
            Via::Link {
                table,
                child: child_column,
                parent,
            } => {
                let link = Alias::new(self.alias());
                sub.join_as(
                    JoinType::InnerJoin,
                    table,
                    link.clone(),
                    Expr::col((link.clone(), child_column)).equals((child_alias.clone(), "id")),
                );
                Expr::col((link, parent))
            }
            Via::Through { table, fk, parent } => {
                let middle = Alias::new(self.alias());
                sub.join_as(
                    JoinType::InnerJoin,
                    table,
                    middle.clone(),
                    Expr::col((middle.clone(), "id")).equals((child_alias.clone(), fk)),
                );
                Expr::col((middle, parent))
            }
        };
        // NOT IN must not meet a NULL: rows without a parent are left out.
        sub.expr(parent.clone()).and_where(parent.is_not_null());
        if let Some((column, value)) = rel.only {
            sub.and_where(Expr::col((child_alias, column)).eq(value));
        }
        (sub, child)
    }
}

/// Escapes `\`, `%` and `_` for a `LIKE … ESCAPE '\'` pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A column a field filter applies to, and its folded copy for text.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub folded: &'static str,
}

/// A filter on one field, turned into conditions on its column.
pub trait FieldFilter {
    fn preds(&self, column: Column, out: &mut Vec<Pred>) -> AppResult<()>;
}

fn check_list<T>(argument: &'static str, values: &[T]) -> AppResult<()> {
    if values.len() > MAX_IN_VALUES {
        return Err(AppError::bad_argument(
            argument,
            format!("`{argument}` takes at most {MAX_IN_VALUES} values"),
        ));
    }
    Ok(())
}

/// The conditions every comparable filter shares.
pub fn comparisons<T>(
    column: &'static str,
    out: &mut Vec<Pred>,
    ops: [(CmpOp, &Option<T>); 6],
    lists: (&Option<Vec<T>>, &Option<Vec<T>>),
    is_null: Option<bool>,
    to_val: impl Fn(&T) -> Val,
) -> AppResult<()> {
    for (op, value) in ops {
        if let Some(value) = value {
            out.push(Pred::Cmp(column, op, to_val(value)));
        }
    }
    if let Some(values) = lists.0 {
        check_list("in", values)?;
        out.push(Pred::In(column, values.iter().map(&to_val).collect()));
    }
    if let Some(values) = lists.1 {
        check_list("notIn", values)?;
        out.push(Pred::NotIn(column, values.iter().map(&to_val).collect()));
    }
    if let Some(is_null) = is_null {
        out.push(Pred::IsNull(column, is_null));
    }
    Ok(())
}

/// Conditions on a text field. `eq`, `ne`, `in` and `notIn` compare exact
/// text; `contains`, `startsWith` and `endsWith` ignore case and accents
/// (`securite` finds « Sécurité »).
#[derive(InputObject, Default, Debug)]
pub struct TextFilter {
    /// Exactly this text.
    pub eq: Option<String>,
    /// Anything but this text (never matches an empty field).
    pub ne: Option<String>,
    /// One of these texts (at most 1,000).
    #[graphql(name = "in")]
    pub in_: Option<Vec<String>>,
    /// None of these texts (at most 1,000).
    pub not_in: Option<Vec<String>>,
    /// Whether the field is empty (`true`) or filled (`false`).
    pub is_null: Option<bool>,
    /// Contains these words, ignoring case and accents.
    pub contains: Option<String>,
    /// Starts with this text, ignoring case and accents.
    pub starts_with: Option<String>,
    /// Ends with this text, ignoring case and accents.
    pub ends_with: Option<String>,
}

impl FieldFilter for TextFilter {
    fn preds(&self, column: Column, out: &mut Vec<Pred>) -> AppResult<()> {
        comparisons(
            column.name,
            out,
            [
                (CmpOp::Eq, &self.eq),
                (CmpOp::Ne, &self.ne),
                (CmpOp::Lt, &None),
                (CmpOp::Lte, &None),
                (CmpOp::Gt, &None),
                (CmpOp::Gte, &None),
            ],
            (&self.in_, &self.not_in),
            self.is_null,
            |v| Val::Text(v.clone()),
        )?;
        for (op, needle) in [
            (TextOp::Contains, &self.contains),
            (TextOp::StartsWith, &self.starts_with),
            (TextOp::EndsWith, &self.ends_with),
        ] {
            if let Some(needle) = needle {
                out.push(Pred::Text(column.folded, op, crate::text::fold(needle)));
            }
        }
        Ok(())
    }
}

/// Conditions on a code or other exact text (slug, SIREN, département,
/// month…): compared as the database orders text, which for codes and
/// `YYYY-MM` months is their natural order.
#[derive(InputObject, Default, Debug)]
pub struct StringFilter {
    /// Exactly this value.
    pub eq: Option<String>,
    /// Anything but this value (never matches an empty field).
    pub ne: Option<String>,
    /// One of these values (at most 1,000).
    #[graphql(name = "in")]
    pub in_: Option<Vec<String>>,
    /// None of these values (at most 1,000).
    pub not_in: Option<Vec<String>>,
    /// Whether the field is empty (`true`) or filled (`false`).
    pub is_null: Option<bool>,
    /// Before this value.
    pub lt: Option<String>,
    /// Before or equal to this value.
    pub lte: Option<String>,
    /// After this value.
    pub gt: Option<String>,
    /// After or equal to this value.
    pub gte: Option<String>,
}

impl FieldFilter for StringFilter {
    fn preds(&self, column: Column, out: &mut Vec<Pred>) -> AppResult<()> {
        comparisons(
            column.name,
            out,
            [
                (CmpOp::Eq, &self.eq),
                (CmpOp::Ne, &self.ne),
                (CmpOp::Lt, &self.lt),
                (CmpOp::Lte, &self.lte),
                (CmpOp::Gt, &self.gt),
                (CmpOp::Gte, &self.gte),
            ],
            (&self.in_, &self.not_in),
            self.is_null,
            |v| Val::Text(v.clone()),
        )
    }
}

/// Declares a filter on a comparable scalar.
macro_rules! comparable_filter {
    ($(#[$meta:meta])* $name:ident($ty:ty) => $to_val:expr) => {
        $(#[$meta])*
        #[derive(InputObject, Default, Debug)]
        pub struct $name {
            /// Equal to this value.
            pub eq: Option<$ty>,
            /// Not equal to this value (never matches an empty field).
            pub ne: Option<$ty>,
            /// One of these values (at most 1,000).
            #[graphql(name = "in")]
            pub in_: Option<Vec<$ty>>,
            /// None of these values (at most 1,000).
            pub not_in: Option<Vec<$ty>>,
            /// Whether the field is empty (`true`) or filled (`false`).
            pub is_null: Option<bool>,
            /// Less than this value.
            pub lt: Option<$ty>,
            /// Less than or equal to this value.
            pub lte: Option<$ty>,
            /// Greater than this value.
            pub gt: Option<$ty>,
            /// Greater than or equal to this value.
            pub gte: Option<$ty>,
        }

        impl FieldFilter for $name {
            fn preds(&self, column: Column, out: &mut Vec<Pred>) -> AppResult<()> {
                comparisons(
                    column.name,
                    out,
                    [
                        (CmpOp::Eq, &self.eq),
                        (CmpOp::Ne, &self.ne),
                        (CmpOp::Lt, &self.lt),
                        (CmpOp::Lte, &self.lte),
                        (CmpOp::Gt, &self.gt),
                        (CmpOp::Gte, &self.gte),
                    ],
                    (&self.in_, &self.not_in),
                    self.is_null,
                    $to_val,
                )
            }
        }
    };
}

comparable_filter!(
    /// Conditions on a whole number.
    IntFilter(i32) => |v| Val::Int((*v).into())
);
comparable_filter!(
    /// Conditions on a number.
    FloatFilter(f64) => |v| Val::float(*v)
);
comparable_filter!(
    /// Conditions on a date.
    DateFilter(Date) => |v| Val::Date(v.0)
);
comparable_filter!(
    /// Conditions on an instant.
    DateTimeFilter(DateTime<Utc>) => |v| Val::Time(*v)
);

/// Conditions on a yes/no field.
#[derive(InputObject, Default, Debug)]
pub struct BooleanFilter {
    /// Equal to this value.
    pub eq: Option<bool>,
    /// Whether the field is empty (`true`) or filled (`false`).
    pub is_null: Option<bool>,
}

impl FieldFilter for BooleanFilter {
    fn preds(&self, column: Column, out: &mut Vec<Pred>) -> AppResult<()> {
        if let Some(value) = self.eq {
            out.push(Pred::Cmp(column.name, CmpOp::Eq, Val::Bool(value)));
        }
        if let Some(is_null) = self.is_null {
            out.push(Pred::IsNull(column.name, is_null));
        }
        Ok(())
    }
}

/// Conditions on a record's global ID.
#[derive(InputObject, Default, Debug)]
pub struct IdFilter {
    /// This record.
    pub eq: Option<ID>,
    /// Any other record.
    pub ne: Option<ID>,
    /// One of these records (at most 1,000).
    #[graphql(name = "in")]
    pub in_: Option<Vec<ID>>,
    /// None of these records (at most 1,000).
    pub not_in: Option<Vec<ID>>,
}

impl IdFilter {
    /// Conditions on the `id` column of a table of `type_name` records.
    pub fn preds(&self, type_name: &str, out: &mut Vec<Pred>) -> AppResult<()> {
        let key = |id: &ID| id::decode_as(id, type_name).map(Val::Int);
        let keys = |ids: &Vec<ID>| ids.iter().map(key).collect::<AppResult<Vec<_>>>();
        if let Some(id) = &self.eq {
            out.push(Pred::Cmp("id", CmpOp::Eq, key(id)?));
        }
        if let Some(id) = &self.ne {
            out.push(Pred::Cmp("id", CmpOp::Ne, key(id)?));
        }
        if let Some(ids) = &self.in_ {
            check_list("in", ids)?;
            out.push(Pred::In("id", keys(ids)?));
        }
        if let Some(ids) = &self.not_in {
            check_list("notIn", ids)?;
            out.push(Pred::NotIn("id", keys(ids)?));
        }
        Ok(())
    }
}

/// A record type's filter input.
pub trait Filter: InputType {
    fn to_pred(&self) -> AppResult<Pred>;
}

/// Which way a list is sorted.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum OrderDirection {
    /// Smallest first (A to Z, oldest first); empty values last.
    #[default]
    Asc,
    /// Largest first (Z to A, newest first); empty values first.
    Desc,
}

/// A whole filter's conditions, checked for size.
pub fn checked(pred: Pred) -> AppResult<Pred> {
    let size = pred.size();
    if size > MAX_CONDITIONS {
        return Err(AppError::bad_argument(
            "filter",
            format!("the filter has {size} conditions; at most {MAX_CONDITIONS} are allowed"),
        ));
    }
    Ok(pred)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    use super::*;

    fn sql(backend: DbBackend, pred: &Pred) -> (String, Vec<Value>) {
        let compiler = Compiler::new(backend);
        let query = Query::select()
            .expr(Expr::cust("1"))
            .from("territory")
            .cond_where(compiler.compile(pred, "territory"))
            .to_owned();
        let (sql, values) = match backend {
            DbBackend::Sqlite => query.build(SqliteQueryBuilder),
            _ => query.build(PostgresQueryBuilder),
        };
        (sql, values.0)
    }

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(escape_like(r"100%_a\b"), r"100\%\_a\\b");
        let pred = Pred::Text("name_folded", TextOp::StartsWith, "50%".into());
        let (sql, values) = sql(DbBackend::Postgres, &pred);
        assert!(
            sql.contains(r#""territory"."name_folded" LIKE $1 ESCAPE"#),
            "{sql}"
        );
        assert_eq!(values, vec![Value::from(r"50\%%")]);
    }

    #[test]
    fn not_and_every_count_unknown_as_false() {
        let pred = Pred::Not(Box::new(Pred::Cmp(
            "region",
            CmpOp::Eq,
            Val::Text("Bretagne".into()),
        )));
        let (sqlite, _) = sql(DbBackend::Sqlite, &pred);
        assert!(
            sqlite.contains(r#"NOT (COALESCE("territory"."region" = ?, 0))"#),
            "{sqlite}"
        );
        let (postgres, _) = sql(DbBackend::Postgres, &pred);
        assert!(
            postgres.contains(r#"NOT (COALESCE("territory"."region" = $1, FALSE))"#),
            "{postgres}"
        );
    }

    #[test]
    fn nested_lists_keep_sqlite_on_the_parents_and_relations_run_once() {
        let pred = Pred::All(vec![
            Pred::Cmp("kind", CmpOp::Eq, Val::Text("METROPOLE".into())),
            Pred::Parent {
                fk: "parent_id",
                table: "territory",
                pred: Box::new(Pred::Cmp("region", CmpOp::Eq, Val::Text("Bretagne".into()))),
            },
        ]);
        let build = |compiler: Compiler| {
            let query = Query::select()
                .expr(Expr::cust("1"))
                .from("territory")
                .cond_where(compiler.compile(&pred, "territory"))
                .to_owned();
            query.build(SqliteQueryBuilder).0
        };
        let nested = build(Compiler::nested(DbBackend::Sqlite));
        assert!(nested.contains(r#"(+"territory"."kind") = ?"#), "{nested}");
        // The subquery is uncorrelated, with its own plan: its columns bare.
        assert!(
            nested.contains(r#"(+"territory"."parent_id") IN (SELECT "f0"."id" FROM "territory" AS "f0" WHERE "f0"."region" = ?)"#),
            "{nested}"
        );
        let root = build(Compiler::new(DbBackend::Sqlite));
        assert!(root.contains(r#""territory"."kind" = ?"#), "{root}");
        let postgres = Compiler::nested(DbBackend::Postgres);
        assert!(!postgres.steered);
    }

    #[test]
    fn the_size_of_a_filter_counts_every_condition() {
        let leaf = || Pred::IsNull("siren", true);
        let pred = Pred::All(vec![
            leaf(),
            Pred::Not(Box::new(Pred::Any(vec![leaf(), leaf()]))),
        ]);
        assert_eq!(pred.size(), 6);
        assert!(checked(pred).is_ok());
        let big = Pred::Any((0..=MAX_CONDITIONS).map(|_| leaf()).collect());
        assert!(checked(big).is_err());
    }
}
