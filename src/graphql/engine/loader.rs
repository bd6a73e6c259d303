//! Batched loading: every relation field of the graph goes through here, so a
//! query costs one SQL statement per relation level, whatever its row count.
//!
//! Resolvers ask the request's [`DataLoader`] for keys; the loader gathers
//! the keys asked for at the same level and answers them with one statement:
//! `IN (…)` for look-ups, and `ROW_NUMBER() OVER (PARTITION BY parent …)` to
//! cut one page per parent in SQL (`ORDER BY … LIMIT` when a level has a
//! single parent).

use std::{collections::HashMap, str::FromStr};

use async_graphql::{Context, dataloader::Loader};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    ModelTrait, QueryFilter, QueryResult, Statement, StatementBuilder, Value,
    sea_query::{
        Alias, Asterisk, Condition, Expr, ExprTrait, Func, NullOrdering, Order, Query,
        SelectStatement, WindowStatement,
    },
};

use super::selection::snake_case;
pub use super::{
    batch::{Fetches, SqlLoader, loader, reading, request_loader, run_batched, writing},
    keys::{ById, ByKey, Columns, Page, RelAll, RelCount, RelPage},
};
use super::{
    filter::{Compiler, OrderDirection, Pred, root_rows},
    paging::{Position, Shape, Sort},
    relation::{Record, RelDef, Via, same_rel},
};
use crate::{
    error::{AppError, AppResult},
    tags::{self, Tag},
};

/// A page size or a rank bound, written into the SQL as a number rather
/// than bound as a parameter. SQLite plans with the value of a bound LIMIT
/// (or of a bound rank compared with `ROW_NUMBER()`), so it prepares the
/// statement again each time that parameter is bound: more work than
/// reading a page of a few rows. The numbers are page sizes the API has
/// already checked, never text from a client.
pub fn literal(n: u64) -> Expr {
    Expr::cust(n.to_string())
}

/// `query` for at most `limit` rows, the limit written as a number (see
/// [`literal`]). `query` has no LIMIT of its own, so the one added here
/// ends the statement, where SQL puts it.
pub fn limited(backend: DbBackend, query: &impl StatementBuilder, limit: u64) -> Statement {
    let mut statement = backend.build(query);
    statement.sql.push_str(&format!(" LIMIT {limit}"));
    statement
}

impl Columns {
    /// The columns the items of the list field being resolved read: every
    /// column that cannot be NULL, the sort's (their cursors carry them),
    /// and those the fields of its items (`nodes { … }`, `edges { node { … } }`)
    /// are named after: a field's own column (`startMonth`: `start_month`),
    /// or the id of the record it leads to (`territory`: `territory_id`).
    /// Worked out once per list field of a request, for all its parents.
    pub fn selected<E: EntityTrait>(ctx: &Context<'_>, sort: &Sort) -> Columns {
        let place = (
            std::ptr::from_ref(ctx.item) as usize,
            E::default().table_name(),
        );
        let known = &loader(ctx).loader().columns;
        if let Some(columns) = known.lock().expect("column cache poisoned").get(&place) {
            return columns.clone();
        }
        let columns = Self::read_by::<E>(ctx, sort);
        known
            .lock()
            .expect("column cache poisoned")
            .insert(place, columns.clone());
        columns
    }

    fn read_by<E: EntityTrait>(ctx: &Context<'_>, sort: &Sort) -> Columns {
        let mut fields = Vec::new();
        for item in ctx.field().selection_set() {
            match item.name() {
                "nodes" => fields.extend(item.selection_set().map(|f| snake_case(f.name()))),
                "edges" => {
                    for edge in item.selection_set().filter(|f| f.name() == "node") {
                        fields.extend(edge.selection_set().map(|f| snake_case(f.name())));
                    }
                }
                _ => {}
            }
        }
        let read = |name: &str| {
            let field = name.strip_suffix("_id");
            fields
                .iter()
                .any(|f| f == name || Some(f.as_str()) == field)
                || sort.0.iter().any(|(column, _)| *column == name)
        };
        Columns(
            E::Column::iter()
                .filter(|column| !column.def().is_null() || read(column.as_str()))
                .map(|column| column.as_str())
                .collect(),
        )
    }

    /// Adds the columns of `table` to `query`: those to read, and NULL under
    /// the name of each other one.
    fn select_from<E: EntityTrait>(&self, query: &mut SelectStatement, table: &'static str) {
        for column in E::Column::iter() {
            let name = column.as_str();
            if self.0.contains(&name) {
                query.column((table, name));
            } else {
                query.expr_as(Expr::cust("NULL"), name);
            }
        }
    }
}

/// The id column of entity `E`.
fn id_column<E: EntityTrait>() -> E::Column {
    column::<E>("id")
}

fn column<E: EntityTrait>(name: &str) -> E::Column {
    E::Column::from_str(name)
        .unwrap_or_else(|_| panic!("table {} has no column {name}", E::default().table_name()))
}

impl SqlLoader {
    /// Notes a read of `rel`'s rows under `parents`, matching `pred`.
    pub(crate) fn read_related(&self, rel: &RelDef, parents: &[i64], pred: Option<&Pred>) {
        self.read(rel.tags(parents));
        if let Some(pred) = pred {
            let mut tags = Vec::new();
            pred.tags(&mut tags);
            self.read(tags);
        }
    }
}

impl<E> Loader<ById<E>> for SqlLoader
where
    E: EntityTrait,
    E::Model: Record + Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = AppError;

    async fn load(&self, keys: &[ById<E>]) -> AppResult<HashMap<ById<E>, E::Model>> {
        let table = E::default().table_name();
        self.read(keys.iter().map(|k| tags::of_row(table, k.id)));
        let rows = E::find()
            .filter(Expr::col(id_column::<E>()).is_in(keys.iter().map(|k| k.id)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|m| (ById::new(m.id()), m)).collect())
    }
}

impl<E> Loader<ByKey<E>> for SqlLoader
where
    E: EntityTrait,
    E::Model: Clone + Send + Sync,
{
    /// Every record the key names: one for a unique key; a key that may
    /// be shared (an INSEE code) may name several.
    type Value = Vec<E::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[ByKey<E>]) -> AppResult<HashMap<ByKey<E>, Vec<E::Model>>> {
        let mut found = HashMap::new();
        let mut by_column: HashMap<&'static str, Vec<String>> = HashMap::new();
        for key in keys {
            by_column
                .entry(key.column)
                .or_default()
                .push(key.value.clone());
        }
        for (name, values) in by_column {
            let asked = values.len();
            let col = column::<E>(name);
            let rows = E::find()
                .filter(Expr::col(col).is_in(values))
                .all(&self.db)
                .await?;
            // A key that names no record, or several, may name others
            // after any write of the type.
            let table = E::default().table_name();
            let one = match (rows.as_slice(), asked) {
                ([row], 1) => match row.get(id_column::<E>()) {
                    Value::BigInt(Some(id)) => Some(id),
                    Value::Int(Some(id)) => Some(i64::from(id)),
                    _ => None,
                },
                _ => None,
            };
            if let Some(id) = one {
                self.read([tags::of_row(table, id)]);
            } else {
                self.read([Tag::all(tags::owner(table))]);
            }
            for row in rows {
                if let Value::String(Some(value)) = row.get(col) {
                    found
                        .entry(ByKey::new(name, value))
                        .or_insert_with(Vec::new)
                        .push(row);
                }
            }
        }
        Ok(found)
    }
}

/// `SELECT … FROM child [JOIN …] WHERE <parent> IN (…)`, and the column
/// holding each row's parent id.
///
/// The parent ids are what must drive the query. SQLite, when it has no
/// statistics (a young or never-analyzed database), takes any indexed
/// equality as selective, and may instead walk, say, every `CONCERN` of the
/// `kind` index and probe each against the parents: minutes instead of
/// milliseconds on a large table. On SQLite, the fixed condition is therefore
/// written `+column = value`, which the planner cannot serve from an index.
pub(crate) fn related_rows(
    backend: DbBackend,
    rel: &RelDef,
    parents: &[i64],
) -> (SelectStatement, (&'static str, &'static str)) {
    let mut query = Query::select();
    query.from(rel.child);
    let parent = match rel.via {
        Via::Column(column) => (rel.child, column),
        Via::Link {
            table,
            child,
            parent,
        } => {
            query.inner_join(table, Expr::col((table, child)).equals((rel.child, "id")));
            (table, parent)
        }
        Via::Through { table, fk, parent } => {
            query.inner_join(table, Expr::col((table, "id")).equals((rel.child, fk)));
            (table, parent)
        }
    };
    query.and_where(Expr::col(parent).is_in(parents.iter().copied()));
    if let Some((column, value)) = rel.only {
        let column = Expr::col((rel.child, column));
        let column = match backend {
            DbBackend::Sqlite => Expr::cust_with_expr("+?", column),
            _ => column,
        };
        query.and_where(column.eq(value));
    }
    (query, parent)
}

const PARENT: &str = "vigie_parent";
const ROW: &str = "vigie_row";
const COUNT: &str = "vigie_count";

/// Reads rows carrying their parent id into per-parent lists.
fn group_rows<M: FromQueryResult>(rows: Vec<QueryResult>) -> AppResult<HashMap<i64, Vec<M>>> {
    let mut grouped: HashMap<i64, Vec<M>> = HashMap::new();
    for row in rows {
        let parent: i64 = row.try_get("", PARENT)?;
        grouped
            .entry(parent)
            .or_default()
            .push(M::from_query_result(&row, "")?);
    }
    Ok(grouped)
}

/// Groups keys that share a relation (and whatever else `part` returns), to
/// answer each group with one statement.
fn groups<K, P: Eq + Clone>(
    keys: &[K],
    part: impl Fn(&K) -> (P, &'static RelDef, i64),
) -> Vec<(&'static RelDef, P, Vec<i64>)> {
    let mut groups: Vec<(&'static RelDef, P, Vec<i64>)> = Vec::new();
    for key in keys {
        let (p, rel, parent) = part(key);
        match groups
            .iter_mut()
            .find(|(r, q, _)| same_rel(r, rel) && *q == p)
        {
            Some((_, _, parents)) => parents.push(parent),
            None => groups.push((rel, p, vec![parent])),
        }
    }
    groups
}

impl<E> Loader<RelPage<E>> for SqlLoader
where
    E: EntityTrait,
    E::Model: Clone + Send + Sync,
{
    type Value = Page<E::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[RelPage<E>]) -> AppResult<HashMap<RelPage<E>, Page<E::Model>>> {
        let backend = self.db.get_database_backend();
        let mut found = HashMap::new();
        let part = |k: &RelPage<E>| {
            (
                (k.shape.clone(), k.counted, k.columns.clone()),
                k.rel,
                k.parent,
            )
        };
        for (rel, (shape, counted, columns), parents) in groups(keys, part) {
            self.read_related(rel, &parents, shape.pred.as_ref());
            let (mut query, parent) = related_rows(backend, rel, &parents);
            query.cond_where(page_condition(backend, rel.child, &shape, true));
            // One parent: its page is the first rows in order, which an index
            // may give without numbering them all, and its count is a
            // sub-query's over the same rows, which an index can answer (a
            // window over the whole result would read every row, all its
            // columns, before the page is cut).
            let single = parents.len() == 1;
            let count = (counted && single).then(|| {
                let mut count = query.clone();
                count.expr(Func::count(Expr::col(Asterisk)));
                count
            });
            columns.select_from::<E>(&mut query, rel.child);
            query.expr_as(Expr::col(parent), PARENT);
            if let Some(count) = count {
                query.expr_as(Expr::SubQuery(None, Box::new(count.into())), COUNT);
            } else if counted {
                let all = WindowStatement::partition_by(parent);
                query.expr_window_as(Func::count(Expr::col(Asterisk)), all, COUNT);
            }
            let order = order_terms(&shape.sort, shape.window.backward);
            let statement = if single {
                for (column, direction, nulls) in order {
                    query.order_by_with_nulls((rel.child, column), direction, nulls);
                }
                limited(backend, &query, shape.window.fetch())
            } else {
                let mut window = WindowStatement::partition_by(parent);
                for (column, direction, nulls) in order {
                    window.order_by_with_nulls((rel.child, column), direction, nulls);
                }
                query.expr_window_as(Func::cust("ROW_NUMBER"), window, ROW);
                backend.build(
                    Query::select()
                        .column(Asterisk)
                        .from_subquery(query, "page")
                        .and_where(Expr::col(ROW).lte(literal(shape.window.fetch())))
                        .order_by(PARENT, Order::Asc)
                        .order_by(ROW, Order::Asc),
                )
            };
            let rows = self.db.query_all_raw(statement).await?;
            let mut totals: HashMap<i64, i64> = HashMap::new();
            if counted {
                for row in &rows {
                    totals.insert(row.try_get("", PARENT)?, row.try_get("", COUNT)?);
                }
            }
            let mut grouped = group_rows::<E::Model>(rows)?;
            for parent in parents {
                let page = Page {
                    rows: grouped.remove(&parent).unwrap_or_default(),
                    // A parent without rows has none to count.
                    total: counted.then(|| totals.get(&parent).copied().unwrap_or(0)),
                };
                let key = RelPage::new(rel, parent, shape.clone(), counted, columns.clone());
                found.insert(key, page);
            }
        }
        Ok(found)
    }
}

/// The ORDER BY terms of a sort, in fetch order (reversed to fetch the last
/// rows of a list). Empty values sort as the largest, on every database.
fn order_terms(sort: &Sort, backward: bool) -> Vec<(&'static str, Order, NullOrdering)> {
    let mut terms: Vec<_> = sort
        .0
        .iter()
        .map(|(column, direction)| {
            let ascending = (*direction == OrderDirection::Asc) != backward;
            if ascending {
                (*column, Order::Asc, NullOrdering::Last)
            } else {
                (*column, Order::Desc, NullOrdering::First)
            }
        })
        .collect();
    let id_order = if backward { Order::Desc } else { Order::Asc };
    terms.push(("id", id_order, NullOrdering::Last));
    terms
}

/// The rows strictly after (or before) `position` in the list's order.
fn keyset(table: &str, sort: &Sort, position: &Position, after: bool) -> Condition {
    let col = |column: &'static str| Expr::col((Alias::new(table), column));
    let mut any = Condition::any();
    let mut equal_so_far = Condition::all();
    for ((column, direction), value) in sort.0.iter().zip(&position.keys) {
        let larger = (*direction == OrderDirection::Asc) == after;
        let beyond = match (larger, value.is_null()) {
            (true, false) => Some(
                Condition::any()
                    .add(col(column).gt(value.to_value()))
                    .add(col(column).is_null()),
            ),
            // Empty values sort last: nothing is larger than one.
            (true, true) => None,
            (false, false) => Some(Condition::all().add(col(column).lt(value.to_value()))),
            (false, true) => Some(Condition::all().add(col(column).is_not_null())),
        };
        if let Some(beyond) = beyond {
            any = any.add(equal_so_far.clone().add(beyond));
        }
        equal_so_far = equal_so_far.add(if value.is_null() {
            col(column).is_null()
        } else {
            col(column).eq(value.to_value())
        });
    }
    let id_beyond = if after {
        col("id").gt(position.id)
    } else {
        col("id").lt(position.id)
    };
    any.add(equal_so_far.add(id_beyond))
}

/// The rows of `table` a page may hold: matching its filter, past its
/// cursors. `nested`: the rows of a nested list, which their parents select.
fn page_condition(backend: DbBackend, table: &str, shape: &Shape, nested: bool) -> Condition {
    let mut condition = Condition::all();
    if let Some(pred) = &shape.pred {
        let compiler = if nested {
            Compiler::nested(backend)
        } else {
            Compiler::new(backend)
        };
        condition = condition.add(compiler.compile(pred, table));
    }
    if let Some(past) = past_cursors(table, shape) {
        condition = condition.add(past);
    }
    condition
}

/// The rows of `table` past a page's cursors; `None` without cursors.
fn past_cursors(table: &str, shape: &Shape) -> Option<Condition> {
    let after = (shape.window.after.as_ref()).map(|after| keyset(table, &shape.sort, after, true));
    let before =
        (shape.window.before.as_ref()).map(|before| keyset(table, &shape.sort, before, false));
    match (after, before) {
        (None, None) => None,
        (after, before) => Some(Condition::all().add_option(after).add_option(before)),
    }
}

impl<E> Loader<RelAll<E>> for SqlLoader
where
    E: EntityTrait,
    E::Model: Clone + Send + Sync,
{
    type Value = Vec<E::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[RelAll<E>]) -> AppResult<HashMap<RelAll<E>, Vec<E::Model>>> {
        let mut found = HashMap::new();
        for (rel, (), parents) in groups(keys, |k| ((), k.rel, k.parent)) {
            self.read_related(rel, &parents, None);
            let (mut query, parent) = related_rows(self.db.get_database_backend(), rel, &parents);
            query
                .column((rel.child, Asterisk))
                .expr_as(Expr::col(parent), PARENT);
            let mut grouped = group_rows::<E::Model>(self.db.query_all(&query).await?)?;
            for parent in parents {
                let rows = grouped.remove(&parent).unwrap_or_default();
                found.insert(RelAll::new(rel, parent), rows);
            }
        }
        Ok(found)
    }
}

impl Loader<RelCount> for SqlLoader {
    type Value = i64;
    type Error = AppError;

    async fn load(&self, keys: &[RelCount]) -> AppResult<HashMap<RelCount, i64>> {
        let backend = self.db.get_database_backend();
        let mut found = HashMap::new();
        for (rel, pred, parents) in groups(keys, |k| (k.pred.clone(), k.rel, k.parent)) {
            self.read_related(rel, &parents, pred.as_deref());
            let (mut query, parent) = related_rows(backend, rel, &parents);
            query
                .expr_as(Expr::col(parent), PARENT)
                .expr_as(Func::count(Expr::col(Asterisk)), COUNT)
                .group_by_col(parent);
            if let Some(pred) = &pred {
                query.cond_where(Compiler::nested(backend).compile(pred, rel.child));
            }
            let counts: HashMap<i64, i64> = self
                .db
                .query_all(&query)
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get("", PARENT)?, row.try_get("", COUNT)?)))
                .collect::<AppResult<_>>()?;
            for parent in parents {
                let count = counts.get(&parent).copied().unwrap_or(0);
                found.insert(
                    RelCount {
                        rel,
                        parent,
                        pred: pred.clone(),
                    },
                    count,
                );
            }
        }
        Ok(found)
    }
}

/// Most matching rows a root page is sorted from directly: see
/// [`counted_table_page`].
pub const SORTED_FROM_MATCHES: u64 = 2_000;

/// One page of a whole table, for root connections, read in the page's
/// order (from an index where one serves it).
pub async fn table_page<E>(ctx: &Context<'_>, shape: &Shape) -> AppResult<Vec<E::Model>>
where
    E: EntityTrait,
{
    let table = E::default().table_name();
    let db = reading(ctx, Pred::reads_of(table, shape.pred.as_ref()));
    let backend = db.get_database_backend();
    let mut rows = Query::select();
    rows.column((table, Asterisk))
        .from(table)
        .cond_where(page_condition(backend, table, shape, false));
    for (column, order, nulls) in order_terms(&shape.sort, shape.window.backward) {
        rows.order_by_with_nulls((table, column), order, nulls);
    }
    models::<E>(
        db.query_all_raw(limited(backend, &rows, shape.window.fetch()))
            .await?,
    )
}

/// The statement of [`counted_table_page`]: the rows matching the filter,
/// one more than [`SORTED_FROM_MATCHES`] at most, each marked with whether
/// it lies past the page's cursors; then the page sorted from them, each
/// row with their number.
pub(super) fn gathered_page(backend: DbBackend, table: &'static str, shape: &Shape) -> Statement {
    let mut matches = root_rows(backend, table, shape.pred.as_ref());
    matches.column((table, Asterisk));
    if let Some(past) = past_cursors(table, shape) {
        matches.expr_as(Expr::from(past), PAST);
    }
    let mut page = Query::select();
    page.column(Asterisk)
        .expr_as(
            Expr::cust(format!(r#"(SELECT COUNT(*) FROM "{MATCHES}")"#)),
            COUNT,
        )
        .from(MATCHES);
    if shape.window.has_cursors() {
        page.and_where(Expr::col(PAST));
    }
    for (column, order, nulls) in order_terms(&shape.sort, shape.window.backward) {
        page.order_by_with_nulls((MATCHES, column), order, nulls);
    }
    // The page binds no values, so the two parts join as text whatever the
    // backend's placeholders; the gathering's LIMIT is written as a number
    // (see `literal`), which sea-query's WITH would bind.
    let matches = limited(backend, &matches, SORTED_FROM_MATCHES + 1);
    let page = limited(backend, &page, shape.window.fetch());
    debug_assert!(
        page.values
            .as_ref()
            .is_none_or(|values| values.0.is_empty())
    );
    Statement {
        sql: format!(
            r#"WITH "{MATCHES}" AS MATERIALIZED ({}) {}"#,
            matches.sql, page.sql
        ),
        ..matches
    }
}

/// Models from the rows of their table.
pub(super) fn models<E: EntityTrait>(rows: Vec<QueryResult>) -> AppResult<Vec<E::Model>> {
    rows.iter()
        .map(|row| Ok(E::Model::from_query_result(row, "")?))
        .collect()
}

/// The rows matching a root page's filter, gathered before they are sorted.
const MATCHES: &str = "vigie_matches";

/// Whether a gathered match lies past the page's cursors.
const PAST: &str = "vigie_past";

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    use super::*;

    const CONCERNS: RelDef = RelDef {
        name: "ConcertationProgramme.concerns",
        child: "contribution",
        via: Via::Column("programme_id"),
        only: Some(("kind", "CONCERN")),
    };

    #[test]
    fn on_sqlite_a_fixed_condition_cannot_take_the_lead_from_the_parents() {
        let (query, parent) = related_rows(DbBackend::Sqlite, &CONCERNS, &[1, 2]);
        assert_eq!(parent, ("contribution", "programme_id"));
        let (sql, _) = query.build(SqliteQueryBuilder);
        assert!(
            sql.contains(r#""contribution"."programme_id" IN (?, ?)"#),
            "{sql}"
        );
        assert!(sql.contains(r#"(+"contribution"."kind") = ?"#), "{sql}");

        let (query, _) = related_rows(DbBackend::Postgres, &CONCERNS, &[1, 2]);
        let (sql, _) = query.build(PostgresQueryBuilder);
        assert!(sql.contains(r#""contribution"."kind" = $3"#), "{sql}");
    }

    #[test]
    fn page_sizes_are_written_into_the_sql_not_bound() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let (mut query, _) = related_rows(backend, &CONCERNS, &[1]);
            query.order_by(("contribution", "id"), Order::Asc);
            let statement = limited(backend, &query, 21);
            assert!(
                statement
                    .sql
                    .ends_with(r#"ORDER BY "contribution"."id" ASC LIMIT 21"#),
                "{}",
                statement.sql
            );
            let values = statement.values.map(|values| values.0).unwrap_or_default();
            assert_eq!(values.len(), 2, "the parent and the kind: {values:?}");
        }
    }

    #[test]
    fn link_and_through_relations_join_to_reach_the_parent() {
        let link = RelDef {
            name: "Deployment.domains",
            child: "domain",
            via: Via::Link {
                table: "deployment_domain",
                child: "domain_id",
                parent: "deployment_id",
            },
            only: None,
        };
        let (query, parent) = related_rows(DbBackend::Postgres, &link, &[7]);
        assert_eq!(parent, ("deployment_domain", "deployment_id"));
        let (sql, _) = query.build(PostgresQueryBuilder);
        assert!(
            sql.contains(r#"INNER JOIN "deployment_domain" ON "deployment_domain"."domain_id" = "domain"."id""#),
            "{sql}"
        );

        let through = RelDef {
            name: "Territory.contributions",
            child: "contribution",
            via: Via::Through {
                table: "concertation",
                fk: "concertation_id",
                parent: "territory_id",
            },
            only: None,
        };
        let (query, parent) = related_rows(DbBackend::Postgres, &through, &[7]);
        assert_eq!(parent, ("concertation", "territory_id"));
        let (sql, _) = query.build(PostgresQueryBuilder);
        assert!(
            sql.contains(r#"INNER JOIN "concertation" ON "concertation"."id" = "contribution"."concertation_id""#),
            "{sql}"
        );
    }
}
