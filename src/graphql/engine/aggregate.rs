//! Aggregates: every list can be grouped — by enum fields, by a related
//! record (territory, programme…), by the territory's région or legal form,
//! by year — into groups with their count and, where the records carry
//! numbers (participants, hours, population…), their sum, average, minimum
//! and maximum. The list's filter applies first; groups are computed in SQL,
//! one statement for a root list, one per level for nested lists.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::Arc,
};

use async_graphql::{Context, dataloader::Loader};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryResult, Statement,
    sea_query::{
        Alias, Asterisk, Condition, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement,
        WindowStatement,
    },
};

pub use super::grouping::{
    Asked, DEFAULT_GROUPS, GroupKey, GroupKeyInput, GroupKeyValue, GroupOrder, GroupQuery,
    GroupRow, KeyKind, MAX_GROUP_KEYS, MAX_GROUPS, Path, Stats,
};
use super::{
    filter::{Compiler, Pred, root_rows},
    id,
    loader::{
        SORTED_FROM_MATCHES, SqlLoader, gathered_page, limited, literal, models, reading,
        related_rows, table_page,
    },
    paging::Shape,
    relation::RelDef,
};
use crate::error::{AppError, AppResult};

const PARENT: &str = "vigie_parent";
const COUNT: &str = "vigie_count";
const ROW: &str = "vigie_row";
const PARTIAL: &str = "vigie_partial";

fn value_alias(i: usize) -> String {
    format!("vigie_key_{i}")
}

fn label_alias(i: usize) -> String {
    format!("vigie_label_{i}")
}

fn stat_alias(stat: &str, i: usize) -> String {
    format!("vigie_{stat}_{i}")
}

/// What a grouping statement reads: the records themselves, or partial
/// groups of them (see `partial_groups`).
#[derive(Clone, Copy, PartialEq)]
enum Source {
    Records,
    Partial,
}

/// Adds to `query` (over rows of `table`, or partial groups named `table`)
/// the joins, columns and GROUP BY of the groups.
fn add_groups(
    backend: DbBackend,
    query: &mut SelectStatement,
    table: &str,
    groups: &GroupQuery,
    source: Source,
) {
    for (i, (_, key)) in groups.keys.iter().enumerate() {
        // Follow the key's path with LEFT JOINs, so that a record whose
        // foreign key is empty still counts, in a group of its own.
        let mut at = table.to_owned();
        for (step, (fk, target)) in key.path.iter().enumerate() {
            let alias = format!("vigie_k{i}_{step}");
            query.join_as(
                JoinType::LeftJoin,
                *target,
                Alias::new(&alias),
                Expr::col((Alias::new(&alias), "id")).equals((Alias::new(&at), *fk)),
            );
            at = alias;
        }
        let column = Expr::col((Alias::new(&at), key.column));
        let value = match key.kind {
            KeyKind::YearOfMonth => Func::cust("SUBSTR").arg(column).arg(1).arg(4).into(),
            KeyKind::YearOfDate => match backend {
                // A number, which PostgreSQL hashes and sorts faster than
                // the text of TO_CHAR; it is read back as text.
                DbBackend::Postgres => {
                    Expr::cust_with_expr("CAST(EXTRACT(YEAR FROM $1) AS INTEGER)", column)
                }
                _ => Func::cust("SUBSTR").arg(column).arg(1).arg(4).into(),
            },
            _ => column,
        };
        // Grouped by their aliases: PostgreSQL would not see that two
        // copies of an expression with bound arguments are the same.
        query.expr_as(value, Alias::new(value_alias(i)));
        query.add_group_by([Expr::col(Alias::new(value_alias(i)))]);
        if let KeyKind::Record { label, .. } = key.kind {
            let label = Expr::col((Alias::new(&at), label));
            query.expr_as(label, Alias::new(label_alias(i)));
            query.add_group_by([Expr::col(Alias::new(label_alias(i)))]);
        }
    }
    let at = |column: String| Expr::col((Alias::new(table), Alias::new(column)));
    match source {
        Source::Records => query.expr_as(Func::count(Expr::col(Asterisk)), COUNT),
        // PostgreSQL sums counts into NUMERIC.
        Source::Partial => query.expr_as(
            Func::cast_as(Func::sum(at(COUNT.to_owned())), "BIGINT"),
            COUNT,
        ),
    };
    for (i, number) in groups.numbers.iter().enumerate() {
        let stats: [(&str, Expr); 4] = match source {
            Source::Records => {
                let column = || at((*number).to_owned());
                [
                    ("sum", Func::sum(column()).into()),
                    ("avg", Func::avg(column()).into()),
                    ("min", Func::min(column()).into()),
                    ("max", Func::max(column()).into()),
                ]
            }
            Source::Partial => {
                let part = |stat: &str| at(stat_alias(&format!("part_{stat}"), i));
                // The sum of the values over the count of those not NULL,
                // in floating point: both databases divide integers whole.
                let average = Expr::from(Func::cast_as(Func::sum(part("sum")), "DOUBLE PRECISION"))
                    .div(Func::cust("NULLIF").arg(Func::sum(part("count"))).arg(0));
                [
                    ("sum", Func::sum(part("sum")).into()),
                    ("avg", average),
                    ("min", Func::min(part("min")).into()),
                    ("max", Func::max(part("max")).into()),
                ]
            }
        };
        for (stat, aggregate) in stats
            .into_iter()
            .filter(|(stat, _)| groups.asked.has(stat, i))
        {
            // PostgreSQL averages into NUMERIC, which drivers read apart;
            // every statistic is read as a double.
            let aggregate = Func::cast_as(aggregate, "DOUBLE PRECISION");
            query.expr_as(aggregate, Alias::new(stat_alias(stat, i)));
        }
    }
}

/// The matching rows of `table` grouped by the columns the keys start
/// from — a key's own column, or the foreign key its path leaves by — with
/// their count and each number's sum, count, minimum and maximum. Groups
/// by a related record's column then join the related table once per
/// partial group (a territory's deployments in one stage, say) rather than
/// once per row, and add the partial figures up.
///
/// With a `tally` (and the conditions it must meet), the partial groups add
/// up its counts instead of counting rows. The tally is named after the
/// table, so that the conditions read its columns as the table's.
fn partial_groups(
    backend: DbBackend,
    table: &'static str,
    pred: Option<&Pred>,
    groups: &GroupQuery,
    tally: Option<(&Tally, Vec<&Pred>)>,
) -> SelectStatement {
    let mut query = match &tally {
        Some((tally, conditions)) => {
            let mut query = Query::select();
            query.from_as(tally.table, Alias::new(table));
            let compiler = Compiler::new(backend);
            for condition in conditions {
                query.cond_where(compiler.compile(condition, table));
            }
            query
        }
        None => root_rows(backend, table, pred),
    };
    // The record's own columns lead the GROUP BY, the foreign keys follow:
    // an index that begins with those columns (a deployment's stage, then
    // its territory) hands the rows over in group order, and PostgreSQL
    // then groups them as they come instead of hashing them.
    let mut keys: Vec<&GroupKey> = groups.keys.iter().map(|(_, key)| key).collect();
    keys.sort_by_key(|key| !key.path.is_empty());
    let mut columns: Vec<&str> = Vec::new();
    for key in keys {
        let column = key.path.first().map_or(key.column, |(fk, _)| *fk);
        if !columns.contains(&column) {
            columns.push(column);
            query.column((Alias::new(table), Alias::new(column)));
        }
    }
    match tally {
        // By all the tally's columns, each of its rows is a partial group
        // (and a tally serves counts alone: no numbers follow).
        Some((tally, _)) if tally.columns.iter().all(|c| columns.contains(c)) => {
            query.expr_as(Expr::col((Alias::new(table), tally.count)), COUNT);
            return query;
        }
        // No row matching, no keys: one group, of none (as `COUNT(*)` says).
        Some((tally, _)) => query.expr_as(
            Func::coalesce([
                Func::sum(Expr::col((Alias::new(table), tally.count))).into(),
                Expr::val(0),
            ]),
            COUNT,
        ),
        None => query.expr_as(Func::count(Expr::col(Asterisk)), COUNT),
    };
    for column in columns {
        query.add_group_by([Expr::col((Alias::new(table), Alias::new(column)))]);
    }
    for (i, number) in groups.numbers.iter().enumerate() {
        let column = || Expr::col((Alias::new(table), *number));
        let parts = [
            ("sum", Func::sum(column())),
            ("count", Func::count(column())),
            ("min", Func::min(column())),
            ("max", Func::max(column())),
        ];
        for (stat, aggregate) in parts
            .into_iter()
            .filter(|(part, _)| groups.asked.needs_part(part, i))
        {
            query.expr_as(
                aggregate,
                Alias::new(stat_alias(&format!("part_{stat}"), i)),
            );
        }
    }
    query
}

/// Counts of a table's rows not archived, kept as the rows are written
/// (by triggers: see the migration that creates the tally): one row per
/// combination of `columns` with their number.
#[derive(Debug)]
struct Tally {
    table: &'static str,
    columns: &'static [&'static str],
    /// The tally's column holding the number of rows.
    count: &'static str,
}

/// Deployments by stage and territory.
const DEPLOYMENT_TALLY: Tally = Tally {
    table: crate::db::DEPLOYMENT_TALLY,
    columns: &["status", "territory_id"],
    count: "deployments",
};

impl Tally {
    /// The tally of `table`'s rows that answers `groups` of the rows `pred`
    /// keeps, if there is one, with the conditions it must meet (see
    /// [`Tally::serves`]).
    fn serving<'p>(
        table: &str,
        pred: Option<&'p Pred>,
        groups: &GroupQuery,
    ) -> Option<(&'static Tally, Vec<&'p Pred>)> {
        let tally = (table == "deployment").then_some(&DEPLOYMENT_TALLY)?;
        Some((tally, tally.serves(pred, groups)?))
    }

    /// When the tally answers `groups` of the rows `pred` keeps: the
    /// conditions it must meet besides being live. Only counts, of rows not
    /// archived, grouped by the tally's columns (or records and their
    /// columns reached through them) and filtered on them alone.
    fn serves<'p>(&self, pred: Option<&'p Pred>, groups: &GroupQuery) -> Option<Vec<&'p Pred>> {
        let rest: Vec<&Pred> = match pred? {
            pred if *pred == Pred::LIVE => Vec::new(),
            Pred::All(preds) if preds.first() == Some(&Pred::LIVE) => preds[1..].iter().collect(),
            _ => return None,
        };
        let keys_served = groups.keys.iter().all(|(_, key)| {
            let column = key.path.first().map_or(key.column, |(fk, _)| *fk);
            self.columns.contains(&column)
        });
        (!groups.asked.any()
            && keys_served
            && rest.iter().all(|pred| pred.reads_only(self.columns)))
        .then_some(rest)
    }
}

/// The ORDER BY terms of groups, by the aliases of their columns.
fn group_order(groups: &GroupQuery) -> Vec<(String, Order)> {
    let (count, keys) = match groups.order {
        GroupOrder::CountDesc => (Some(Order::Desc), Order::Asc),
        GroupOrder::CountAsc => (Some(Order::Asc), Order::Asc),
        GroupOrder::KeyAsc => (None, Order::Asc),
        GroupOrder::KeyDesc => (None, Order::Desc),
    };
    let mut terms = Vec::new();
    if let Some(count) = count {
        terms.push((COUNT.to_owned(), count));
    }
    for i in 0..groups.keys.len() {
        terms.push((value_alias(i), keys.clone()));
    }
    terms
}

fn null_order(order: &Order) -> sea_orm::sea_query::NullOrdering {
    match order {
        Order::Desc => sea_orm::sea_query::NullOrdering::First,
        _ => sea_orm::sea_query::NullOrdering::Last,
    }
}

/// A key value read as text, whatever its SQL type.
fn text_at(row: &QueryResult, column: &str) -> AppResult<Option<String>> {
    if let Ok(value) = row.try_get::<Option<String>>("", column) {
        return Ok(value);
    }
    if let Ok(value) = row.try_get::<Option<i64>>("", column) {
        return Ok(value.map(|v| v.to_string()));
    }
    if let Ok(value) = row.try_get::<Option<i32>>("", column) {
        return Ok(value.map(|v| v.to_string()));
    }
    Ok(row
        .try_get::<Option<f64>>("", column)?
        .map(|v| v.to_string()))
}

fn read_group(row: &QueryResult, groups: &GroupQuery) -> AppResult<GroupRow> {
    let mut keys = Vec::with_capacity(groups.keys.len());
    for (i, (name, key)) in groups.keys.iter().enumerate() {
        let raw = text_at(row, &value_alias(i))?;
        let (value, label) = match key.kind {
            KeyKind::Record { type_name, .. } => {
                let label = text_at(row, &label_alias(i))?;
                let value = raw
                    .as_deref()
                    .and_then(|id| id.parse::<i64>().ok())
                    .map(|id| id::encode(type_name, id).0);
                (value, label)
            }
            KeyKind::Value(Some(label_of)) => {
                let label = raw.as_deref().and_then(label_of).map(str::to_owned);
                (raw, label)
            }
            _ => (raw.clone(), raw),
        };
        keys.push(GroupKeyValue {
            key: (*name).to_owned(),
            value,
            label,
        });
    }
    let mut stats = Stats::default();
    let stat = |stat: &str, i: usize| -> AppResult<Option<f64>> {
        if groups.asked.has(stat, i) {
            Ok(row.try_get("", &stat_alias(stat, i))?)
        } else {
            Ok(None)
        }
    };
    for i in 0..groups.numbers.len() {
        stats.sum.push(stat("sum", i)?);
        stats.avg.push(stat("avg", i)?);
        stats.min.push(stat("min", i)?);
        stats.max.push(stat("max", i)?);
    }
    Ok(GroupRow {
        keys,
        count: row.try_get("", COUNT)?,
        stats,
    })
}

/// How many rows of `table` `pred` keeps, as `vigie_count`: added up from
/// the table's tally when it keeps one that can tell, counted otherwise.
pub fn counted_rows(
    backend: DbBackend,
    table: &'static str,
    pred: Option<&Pred>,
) -> SelectStatement {
    let whole = GroupQuery {
        keys: Vec::new(),
        numbers: &[],
        asked: Asked::default(),
        order: GroupOrder::default(),
        first: 1,
    };
    // Without keys, partial groups are the one group of every match.
    let tally = Tally::serving(table, pred, &whole);
    partial_groups(backend, table, pred, &whole, tally)
}

/// The groups of a whole table's matching rows.
pub async fn table_groups(
    db: &DatabaseConnection,
    table: &'static str,
    pred: Option<&Pred>,
    groups: &GroupQuery,
) -> AppResult<Vec<GroupRow>> {
    let backend = db.get_database_backend();
    db.query_all_raw(table_groups_statement(backend, table, pred, groups))
        .await?
        .iter()
        .map(|row| read_group(row, groups))
        .collect()
}

/// The statement of [`table_groups`].
fn table_groups_statement(
    backend: DbBackend,
    table: &'static str,
    pred: Option<&Pred>,
    groups: &GroupQuery,
) -> Statement {
    let tally = Tally::serving(table, pred, groups);
    let mut query = if tally.is_some() || groups.keys.iter().any(|(_, key)| !key.path.is_empty()) {
        let mut query = Query::select();
        query.from_subquery(partial_groups(backend, table, pred, groups, tally), PARTIAL);
        add_groups(backend, &mut query, PARTIAL, groups, Source::Partial);
        query
    } else {
        let mut query = root_rows(backend, table, pred);
        add_groups(backend, &mut query, table, groups, Source::Records);
        query
    };
    for (column, order) in group_order(groups) {
        let nulls = null_order(&order);
        query.order_by_with_nulls(Alias::new(column), order, nulls);
    }
    limited(backend, &query, groups.first as u64)
}

/// The groups of the matching rows related to each of `parents`.
pub async fn related_groups(
    db: &DatabaseConnection,
    rel: &RelDef,
    parents: &[i64],
    pred: Option<&Pred>,
    groups: &GroupQuery,
) -> AppResult<HashMap<i64, Vec<GroupRow>>> {
    let backend = db.get_database_backend();
    let (mut inner, parent) = related_rows(backend, rel, parents);
    inner.expr_as(Expr::col(parent), PARENT);
    inner.add_group_by([Expr::col(parent)]);
    if let Some(pred) = pred {
        inner.cond_where(Compiler::nested(backend).compile(pred, rel.child));
    }
    add_groups(backend, &mut inner, rel.child, groups, Source::Records);
    // Number the groups of each parent in order, to keep the first ones.
    let mut window = WindowStatement::partition_by(Alias::new(PARENT));
    for (column, order) in group_order(groups) {
        let nulls = null_order(&order);
        window.order_by_with_nulls(Alias::new(column), order, nulls);
    }
    let numbered = Query::select()
        .column(Asterisk)
        .expr_window_as(Func::cust("ROW_NUMBER"), window, ROW)
        .from_subquery(inner, "vigie_groups")
        .to_owned();
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(numbered, "vigie_numbered")
        .cond_where(Condition::all().add(Expr::col(ROW).lte(literal(groups.first as u64))))
        .order_by(PARENT, Order::Asc)
        .order_by(ROW, Order::Asc)
        .to_owned();
    let mut found: HashMap<i64, Vec<GroupRow>> = HashMap::new();
    for row in db.query_all(&outer).await? {
        let parent: i64 = row.try_get("", PARENT)?;
        found
            .entry(parent)
            .or_default()
            .push(read_group(&row, groups)?);
    }
    Ok(found)
}

/// The groups of the records related to one parent.
#[derive(Clone)]
pub struct RelGroups {
    pub rel: &'static RelDef,
    pub parent: i64,
    pub pred: Option<Arc<Pred>>,
    pub groups: Arc<GroupQuery>,
}

impl PartialEq for RelGroups {
    fn eq(&self, other: &Self) -> bool {
        self.rel == other.rel
            && self.parent == other.parent
            && self.pred == other.pred
            && self.groups.signature() == other.groups.signature()
    }
}

impl Eq for RelGroups {}

impl Hash for RelGroups {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.rel, self.parent, &self.pred, self.groups.signature()).hash(state);
    }
}

impl Loader<RelGroups> for SqlLoader {
    type Value = Vec<GroupRow>;
    type Error = AppError;

    async fn load(&self, keys: &[RelGroups]) -> AppResult<HashMap<RelGroups, Vec<GroupRow>>> {
        // Keys asking the same thing of the same relation share a statement.
        let mut batches: Vec<(&RelGroups, Vec<i64>)> = Vec::new();
        for key in keys {
            match batches.iter_mut().find(|(first, _)| {
                first.rel == key.rel
                    && first.pred == key.pred
                    && first.groups.signature() == key.groups.signature()
            }) {
                Some((_, parents)) => parents.push(key.parent),
                None => batches.push((key, vec![key.parent])),
            }
        }
        let mut found = HashMap::new();
        for (first, parents) in batches {
            self.read_related(first.rel, &parents, first.pred.as_deref());
            self.read(first.groups.tags());
            let mut groups = related_groups(
                &self.db,
                first.rel,
                &parents,
                first.pred.as_deref(),
                &first.groups,
            )
            .await?;
            for parent in parents {
                let key = RelGroups {
                    parent,
                    ..first.clone()
                };
                found.insert(key, groups.remove(&parent).unwrap_or_default());
            }
        }
        Ok(found)
    }
}

/// Number of rows of a table matching a condition.
pub async fn count_table(
    ctx: &Context<'_>,
    table: &'static str,
    pred: Option<&Pred>,
) -> AppResult<i64> {
    let db = reading(ctx, Pred::reads_of(table, pred));
    let query = counted_rows(db.get_database_backend(), table, pred);
    let row = db.query_one(&query).await?;
    Ok(match row {
        Some(row) => row.try_get("", COUNT)?,
        None => 0,
    })
}

/// One page of a filtered root list, and how many rows the filter keeps.
///
/// When they are few (at most [`SORTED_FROM_MATCHES`]), one statement
/// gathers them, counts them and sorts the page from them alone. When they
/// are more, they are counted, and the page is read in order as
/// [`table_page`] reads it: quick when matches are dense. Sorted from all
/// its matches, a page of a filter keeping thousands of rows would sort them
/// all; read in order, a page of a filter keeping a few hundred rows of
/// 50,000 made PostgreSQL read thousands before the page was full (a text
/// `contains` looks cheap to its planner).
pub async fn counted_table_page<E>(
    ctx: &Context<'_>,
    shape: &Shape,
) -> AppResult<(Vec<E::Model>, i64)>
where
    E: EntityTrait,
{
    let table = E::default().table_name();
    let db = reading(ctx, Pred::reads_of(table, shape.pred.as_ref()));
    let backend = db.get_database_backend();
    let found = db
        .query_all_raw(gathered_page(backend, table, shape))
        .await?;
    let total = match found.first() {
        Some(row) => row.try_get::<i64>("", COUNT)?,
        // No match, or none past the cursors.
        None if !shape.window.has_cursors() => 0,
        None => count_table(ctx, table, shape.pred.as_ref()).await?,
    };
    if total > SORTED_FROM_MATCHES as i64 {
        let total = count_table(ctx, table, shape.pred.as_ref()).await?;
        return Ok((table_page::<E>(ctx, shape).await?, total));
    }
    Ok((models::<E>(found)?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_statistics_asked_are_computed() {
        let sql = |asked: Asked| {
            let groups = GroupQuery {
                keys: Vec::new(),
                numbers: &["participant_count", "hours"],
                asked,
                order: GroupOrder::default(),
                first: 10,
            };
            table_groups_statement(DbBackend::Postgres, "concertation", None, &groups).to_string()
        };
        // The sum of the hours alone (the second number).
        let hours = sql(Asked {
            sum: 0b10,
            ..Asked::default()
        });
        assert!(hours.contains("SUM(\"concertation\".\"hours\")"), "{hours}");
        for absent in ["participant_count", "AVG(", "MIN(", "MAX("] {
            assert!(!hours.contains(absent), "{absent} in {hours}");
        }
        let sums = sql(Asked {
            sum: Asked::ALL.sum,
            ..Asked::default()
        });
        assert!(
            sums.contains("SUM(\"concertation\".\"participant_count\")"),
            "{sums}"
        );
        assert!(sums.contains("SUM(\"concertation\".\"hours\")"), "{sums}");
        for absent in ["AVG(", "MIN(", "MAX("] {
            assert!(!sums.contains(absent), "{absent} in {sums}");
        }
        let all = sql(Asked::ALL);
        for present in ["SUM(", "AVG(", "MIN(", "MAX("] {
            assert!(all.contains(present), "{present} not in {all}");
        }
        let counts = sql(Asked::default());
        assert!(
            counts.contains("COUNT(*)") && !counts.contains("SUM("),
            "{counts}"
        );
    }

    #[test]
    fn partial_groups_carry_only_the_parts_asked() {
        // The average of the hours by région: partial groups per territory
        // carry the hours' sum and count, nothing of the participants.
        let groups = GroupQuery {
            keys: vec![(
                "REGION",
                GroupKey::value("region").at(&[("territory_id", "territory")]),
            )],
            numbers: &["participant_count", "hours"],
            asked: Asked {
                avg: 0b10,
                ..Asked::default()
            },
            order: GroupOrder::default(),
            first: 10,
        };
        let sql =
            table_groups_statement(DbBackend::Postgres, "concertation", None, &groups).to_string();
        for present in ["vigie_part_sum_1", "vigie_part_count_1", "vigie_avg_1"] {
            assert!(sql.contains(present), "{present} not in {sql}");
        }
        for absent in [
            "participant_count",
            "vigie_part_min",
            "vigie_part_max",
            "vigie_sum_1",
        ] {
            assert!(!sql.contains(absent), "{absent} in {sql}");
        }
    }
}
