//! What every record type shares: how it is looked up by id or key,
//! listed, and followed through relations. The `Node` interface over the
//! domain's types is declared above the engine (`graphql::nodes`).

use std::{str::FromStr, sync::Arc};

use async_graphql::{Context, ID};
use sea_orm::{EntityName, EntityTrait, ModelTrait};

use super::{
    aggregate::counted_table_page,
    connection::{Connection, Total},
    filter::{Filter, Pred, Val, checked},
    id,
    loader::{ById, ByKey, Columns, Page, RelAll, RelPage, loader, table_page},
    paging::{PageArgs, Position, Shape, Sort, encode_cursor},
    record::NodeType,
    relation::{Record, Rel},
};
use crate::error::AppError;

/// What a list field was asked: its page, filter and sort; archived
/// records are left out unless asked for.
fn shape<N: NodeType>(
    page: PageArgs,
    filter: Option<N::Filter>,
    order_by: Option<Vec<N::Order>>,
    include_archived: Option<bool>,
) -> async_graphql::Result<Shape> {
    let sort = Sort::from_input(order_by)?;
    let window = page.window(&sort)?;
    let pred = filter
        .map(|filter| filter.to_pred().and_then(checked))
        .transpose()?;
    let pred = if include_archived.unwrap_or(false) {
        pred
    } else {
        Some(match pred {
            Some(pred) => Pred::All(vec![Pred::LIVE, pred]),
            None => Pred::LIVE,
        })
    };
    Ok(Shape { pred, sort, window })
}

/// Whether a list field's selection reads any of `fields` (directly, under
/// an alias or through a fragment).
fn selects(ctx: &Context<'_>, fields: &[&str]) -> bool {
    let selection = ctx.look_ahead();
    fields.iter().any(|field| selection.field(field).exists())
}

/// Whether a list field's selection reads its page (its items or where
/// they stand), rather than only its `totalCount` or `groupBy`: a page
/// nobody reads is not fetched.
fn wants_rows(ctx: &Context<'_>) -> bool {
    selects(ctx, &["edges", "nodes", "pageInfo"])
}

fn wants_count(ctx: &Context<'_>) -> bool {
    selects(ctx, &["totalCount"])
}

/// The cursor of a row in a list sorted by `sort`, or an empty string when
/// the list field's selection reads no cursor (neither `edges` nor
/// `pageInfo`): only `nodes`, the usual case of a nested list, needs none.
fn cursor_of<'a, N: NodeType>(
    ctx: &Context<'_>,
    sort: &'a Sort,
) -> impl Fn(&<N::Entity as EntityTrait>::Model) -> String + 'a {
    let wanted = selects(ctx, &["edges", "pageInfo"]);
    move |row| {
        if !wanted {
            return String::new();
        }
        let keys = sort
            .0
            .iter()
            .map(|(column, _)| {
                let column = <N::Entity as EntityTrait>::Column::from_str(column)
                    .unwrap_or_else(|_| panic!("{} has no column {column}", N::TABLE));
                Val::from_column(row.get(column))
            })
            .collect();
        encode_cursor(sort, Position { keys, id: row.id() })
    }
}

/// One page of the records related to `parent` through `rel`.
pub async fn related<N: NodeType>(
    ctx: &Context<'_>,
    rel: &'static Rel<N::Entity>,
    parent: i64,
    page: PageArgs,
    filter: Option<N::Filter>,
    order_by: Option<Vec<N::Order>>,
    include_archived: Option<bool>,
) -> async_graphql::Result<Connection<N>> {
    debug_assert_eq!(
        rel.def.child,
        N::Entity::default().table_name(),
        "relation {} names the wrong table",
        rel.def.name
    );
    let shape = Arc::new(shape::<N>(page, filter, order_by, include_archived)?);
    // A first page counts its whole list in the statement that fetches it
    // (past a cursor, the statement only sees the rows beyond it).
    let counted = wants_count(ctx) && !shape.window.has_cursors();
    let page = if wants_rows(ctx) {
        loader(ctx)
            .load_one(RelPage::<N::Entity>::new(
                &rel.def,
                parent,
                shape.clone(),
                counted,
                Columns::selected::<N::Entity>(ctx, &shape.sort),
            ))
            .await?
            .unwrap_or_default()
    } else {
        Page::default()
    };
    let total = Total::Related {
        rel: &rel.def,
        parent,
        pred: shape.pred.clone().map(Arc::new),
        known: page.total,
    };
    let rows = page.rows;
    Ok(Connection::from_rows(
        rows,
        &shape.window,
        total,
        cursor_of::<N>(ctx, &shape.sort),
        N::from,
    ))
}

/// Every row related to `parent` through `rel`, for short closed lists
/// (the formats of a concertation…).
pub async fn all_related<E>(
    ctx: &Context<'_>,
    rel: &'static Rel<E>,
    parent: i64,
) -> async_graphql::Result<Vec<E::Model>>
where
    E: EntityTrait<Model: Clone + Send + Sync>,
{
    Ok(loader(ctx)
        .load_one(RelAll::<E>::new(&rel.def, parent))
        .await?
        .unwrap_or_default())
}

/// One page of all the records of a type.
pub async fn root_list<N: NodeType>(
    ctx: &Context<'_>,
    page: PageArgs,
    filter: Option<N::Filter>,
    order_by: Option<Vec<N::Order>>,
    include_archived: Option<bool>,
) -> async_graphql::Result<Connection<N>> {
    let filtered = filter.is_some();
    let shape = shape::<N>(page, filter, order_by, include_archived)?;
    // A filtered list asked for both its page and its count has them
    // gathered together. Unfiltered, its page is best read in order from an
    // index, and counted only if asked.
    let (rows, known) = if !wants_rows(ctx) {
        (Vec::new(), None)
    } else if filtered && wants_count(ctx) {
        let (rows, total) = counted_table_page::<N::Entity>(ctx, &shape).await?;
        (rows, Some(total))
    } else {
        (table_page::<N::Entity>(ctx, &shape).await?, None)
    };
    let total = Total::Table {
        table: N::TABLE,
        pred: shape.pred.clone().map(Arc::new),
        known,
    };
    Ok(Connection::from_rows(
        rows,
        &shape.window,
        total,
        cursor_of::<N>(ctx, &shape.sort),
        N::from,
    ))
}

/// The record with this integer key, if any.
pub async fn find<N: NodeType>(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<N>> {
    Ok(loader(ctx)
        .load_one(ById::<N::Entity>::new(id))
        .await?
        .map(N::from))
}

/// The record a non-null foreign key points to; its absence is a broken
/// invariant of the database, hence internal.
pub async fn one<N: NodeType>(ctx: &Context<'_>, id: i64) -> async_graphql::Result<N> {
    find(ctx, id).await?.ok_or_else(|| {
        tracing::error!(table = N::TABLE, id, "foreign key points to a missing row");
        AppError::Database(std::sync::Arc::new(sea_orm::DbErr::RecordNotFound(
            format!("{} {id}", N::TABLE),
        )))
        .into()
    })
}

/// The record a nullable foreign key points to.
pub async fn maybe_one<N: NodeType>(
    ctx: &Context<'_>,
    id: Option<i64>,
) -> async_graphql::Result<Option<N>> {
    match id {
        Some(id) => Ok(Some(one(ctx, id).await?)),
        None => Ok(None),
    }
}

/// The record named by exactly one of: its global ID, or one of its natural
/// keys (`slug`, `siren`, `key`…). `null` when none matches.
pub async fn lookup<N: NodeType>(
    ctx: &Context<'_>,
    global_id: Option<ID>,
    keys: &[(&'static str, Option<String>)],
) -> async_graphql::Result<Option<N>> {
    let given = usize::from(global_id.is_some()) + keys.iter().filter(|(_, v)| v.is_some()).count();
    if given != 1 {
        let names: Vec<String> = std::iter::once("id")
            .chain(keys.iter().map(|(name, _)| *name))
            .map(|name| format!("`{name}`"))
            .collect();
        let message = match names.len() {
            1 => "give `id`".to_owned(),
            _ => format!("give exactly one of {}", names.join(", ")),
        };
        return Err(AppError::bad_input(message).into());
    }
    if let Some(global_id) = global_id {
        return find(ctx, id::decode_as(&global_id, N::TYPE)?).await;
    }
    let (column, value) = keys
        .iter()
        .find_map(|(column, value)| value.clone().map(|v| (*column, v)))
        .expect("one key is given");
    let mut found = loader(ctx)
        .load_one(ByKey::<N::Entity>::new(column, value.clone()))
        .await?
        .unwrap_or_default();
    if found.len() > 1 {
        // A key that names several records answers none of them rather
        // than a guess.
        let argument = heck::ToLowerCamelCase::to_lower_camel_case(column);
        return Err(AppError::bad_input(format!(
            "`{argument}: \"{value}\"` names {} records; list them with the `{argument}` \
             filter, with another condition (e.g. `kind`) to choose one",
            found.len(),
        ))
        .into());
    }
    Ok(found.pop().map(N::from))
}
