//! Predicates: the plain tree every filter turns into — comparisons,
//! text matches that ignore case and accents, `and`/`or`/`not`, and
//! conditions on related rows (`some`/`none`/`every`) — and its compiler to
//! SQL for either database. Loader keys hash it. It uses the relation
//! model below it.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    DbBackend, Value,
    sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, LikeExpr, Query, SelectStatement},
};
use serde::{Deserialize, Serialize};

use super::relation::{RelDef, Via};
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

    /// The tags of the other tables this condition reads (see
    /// [`crate::tags`]): each related record's whole type, for a condition
    /// on related records may change with any of them.
    pub fn tags(&self, out: &mut Vec<crate::tags::Tag>) {
        use crate::tags::{Tag, owner};
        match self {
            Pred::All(preds) | Pred::Any(preds) => preds.iter().for_each(|p| p.tags(out)),
            Pred::Not(pred) => pred.tags(out),
            Pred::Related(_, rel, pred) => {
                out.extend(rel.tags(&[]));
                out.push(Tag::all(owner(rel.child)));
                pred.tags(out);
            }
            Pred::Parent { table, pred, .. } => {
                out.push(Tag::all(owner(table)));
                pred.tags(out);
            }
            Pred::Cmp(..) | Pred::In(..) | Pred::NotIn(..) | Pred::IsNull(..) | Pred::Text(..) => {}
        }
    }

    /// The tags of a read of `table`'s rows matching `pred`, all of them:
    /// the table's whole type, and what the condition reads.
    pub fn reads_of(table: &'static str, pred: Option<&Pred>) -> Vec<crate::tags::Tag> {
        let mut tags = vec![crate::tags::Tag::all(crate::tags::owner(table))];
        if let Some(pred) = pred {
            pred.tags(&mut tags);
        }
        tags
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
