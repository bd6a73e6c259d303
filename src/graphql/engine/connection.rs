//! Relay connections: the one shape of every list of the API, root or nested.
//!
//! Pages are cut in SQL by keyset on the record id (cursors carry it), so a
//! page costs the same at the start and at the end of a long list, and rows
//! inserted between two pages are neither skipped nor repeated.

use std::{borrow::Cow, marker::PhantomData, sync::Arc};

use async_graphql::{Context, Object, OutputType, SimpleObject, TypeName};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use super::{
    aggregate::{Asked, GroupOrder, GroupQuery, RelGroups, table_groups},
    filter::{OrderDirection, Pred, Val},
    loader::{RelCount, RelDef, loader},
    node::NodeType,
};
use crate::error::{AppError, AppResult};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The pagination arguments of a connection field, as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// A record type's sort-key input.
pub trait OrderInput: async_graphql::InputType {
    /// The column and direction it sorts by.
    fn key(&self) -> (&'static str, OrderDirection);
}

/// Most sort keys one list takes.
pub const MAX_SORT_KEYS: usize = 5;

/// How a list is sorted: the client's keys, then the id (ascending), which
/// breaks every tie so that the order is total and pages are stable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Sort(pub Vec<(&'static str, OrderDirection)>);

impl Sort {
    pub fn from_input<O: OrderInput>(order_by: Option<Vec<O>>) -> AppResult<Sort> {
        let keys = order_by.unwrap_or_default();
        if keys.len() > MAX_SORT_KEYS {
            return Err(AppError::bad_argument(
                "orderBy",
                format!("`orderBy` takes at most {MAX_SORT_KEYS} keys"),
            ));
        }
        Ok(Sort(keys.iter().map(OrderInput::key).collect()))
    }

    /// Names the sort, so that a cursor is only used with the sort it came from.
    fn signature(&self) -> String {
        self.0
            .iter()
            .map(|(column, direction)| format!("{column}:{direction:?}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Where a row stands in a sorted list: its sort-key values and its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    pub keys: Vec<Val>,
    pub id: i64,
}

/// What a cursor carries.
#[derive(Serialize, Deserialize)]
struct CursorData {
    /// The sort's signature.
    s: String,
    /// The sort-key values.
    k: Vec<Val>,
    /// The id.
    i: i64,
}

/// A validated page request: past which rows, how many, in which direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Window {
    pub after: Option<Position>,
    pub before: Option<Position>,
    pub size: u64,
    pub backward: bool,
}

impl Window {
    /// Rows to fetch: the page and one more, to learn whether another follows.
    pub fn fetch(&self) -> u64 {
        self.size + 1
    }

    /// Whether the page starts or ends at a cursor, rather than at an end
    /// of the list.
    pub fn has_cursors(&self) -> bool {
        self.after.is_some() || self.before.is_some()
    }
}

impl PageArgs {
    pub fn window(&self, sort: &Sort) -> AppResult<Window> {
        if self.first.is_some() && self.last.is_some() {
            return Err(AppError::bad_argument(
                "last",
                "pass `first` or `last`, not both",
            ));
        }
        let size = match (self.first, self.last) {
            (Some(n), _) => page_size("first", n)?,
            (_, Some(n)) => page_size("last", n)?,
            _ => DEFAULT_PAGE_SIZE,
        };
        let position = |argument, cursor: &Option<String>| {
            cursor
                .as_deref()
                .map(|c| decode_cursor(argument, c, sort))
                .transpose()
        };
        Ok(Window {
            after: position("after", &self.after)?,
            before: position("before", &self.before)?,
            size,
            backward: self.last.is_some(),
        })
    }
}

/// What a page asks of a table: which rows, in what order, which page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape {
    pub pred: Option<Pred>,
    pub sort: Sort,
    pub window: Window,
}

fn page_size(argument: &'static str, n: i32) -> AppResult<u64> {
    if n < 0 {
        return Err(AppError::bad_argument(
            argument,
            format!("`{argument}` must not be negative"),
        ));
    }
    let n = n as u64;
    if n > MAX_PAGE_SIZE {
        return Err(AppError::bad_argument(
            argument,
            format!("`{argument}` is at most {MAX_PAGE_SIZE}"),
        ));
    }
    Ok(n)
}

/// Complexity of a connection field for the query-cost limit: its page size
/// times the cost of what is selected in each item.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let page = first
        .or(last)
        .map_or(DEFAULT_PAGE_SIZE, |n| (n.max(0) as u64).min(MAX_PAGE_SIZE))
        as usize;
    1 + page.max(1) * child_complexity
}

/// What one condition of a filter adds to the query-cost limit: each is a
/// predicate, and a relation's (`deployments: { some: … }`) a subquery run
/// for every row the list considers.
pub const FILTER_CONDITION_COST: usize = 10;

/// Complexity of a list's filter: [`FILTER_CONDITION_COST`] for each of its
/// conditions (each input object in it, relations' included), and one for
/// each value it compares with. The filter's depth and size are bounded
/// before this runs (see [`super::guard`]).
pub fn filter_cost<F: async_graphql::InputType>(filter: &Option<F>) -> usize {
    fn cost(value: &async_graphql::Value) -> usize {
        match value {
            async_graphql::Value::Null => 0,
            async_graphql::Value::Object(fields) => {
                FILTER_CONDITION_COST + fields.values().map(cost).sum::<usize>()
            }
            async_graphql::Value::List(items) => items.iter().map(cost).sum(),
            _ => 1,
        }
    }
    filter.as_ref().map_or(0, |filter| cost(&filter.to_value()))
}

/// The cursor of the row at `position` in a list sorted by `sort`.
pub fn encode_cursor(sort: &Sort, position: Position) -> String {
    let data = CursorData {
        s: sort.signature(),
        k: position.keys,
        i: position.id,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).expect("cursor data serializes"))
}

fn decode_cursor(argument: &'static str, cursor: &str, sort: &Sort) -> AppResult<Position> {
    let data: CursorData = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            AppError::bad_argument(
                argument,
                format!("`{argument}` is not a cursor of this API"),
            )
        })?;
    if data.s != sort.signature() || data.k.len() != sort.0.len() {
        return Err(AppError::bad_argument(
            argument,
            format!(
                "`{argument}` is a cursor of a list sorted another way; use the same `orderBy`"
            ),
        ));
    }
    Ok(Position {
        keys: data.k,
        id: data.i,
    })
}

/// What `totalCount` counts, computed only when a client selects it.
#[derive(Debug, Clone)]
pub enum Total {
    /// The matching items related to one parent record.
    Related {
        rel: &'static RelDef,
        parent: i64,
        pred: Option<Arc<Pred>>,
        /// Counted already, by the statement that fetched the page.
        known: Option<i64>,
    },
    /// The matching rows of a table.
    Table {
        table: &'static str,
        pred: Option<Arc<Pred>>,
        /// Counted already, before the page was fetched.
        known: Option<i64>,
    },
}

/// Information to aid in pagination.
#[derive(SimpleObject, Debug, Clone, Default)]
#[graphql(shareable)]
pub struct PageInfo {
    /// When paginating forwards, whether more items follow this page.
    pub has_next_page: bool,
    /// When paginating backwards, whether more items precede this page; when
    /// paginating forwards, whether this page started after a cursor.
    pub has_previous_page: bool,
    /// Cursor of the first item of this page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of this page.
    pub end_cursor: Option<String>,
}

/// An item of a connection with its cursor.
pub struct Edge<N> {
    cursor: String,
    node: N,
}

/// An item of a list, with its cursor.
#[Object(name_type)]
impl<N: OutputType> Edge<N> {
    /// Opaque cursor of this item: pass it as `after` or `before`.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The item.
    async fn node(&self) -> &N {
        &self.node
    }
}

impl<N: OutputType> TypeName for Edge<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", N::type_name()).into()
    }
}

/// A page of a list, with what is needed to fetch the next one.
pub struct Connection<N> {
    edges: Vec<Edge<N>>,
    page_info: PageInfo,
    total: Total,
    _node: PhantomData<N>,
}

impl<N> Connection<N> {
    /// Builds the page from the rows a window fetched (in fetch order:
    /// reversed when paginating backwards), mapping each row to its item.
    pub fn from_rows<M>(
        rows: Vec<M>,
        window: &Window,
        total: Total,
        cursor_of: impl Fn(&M) -> String,
        to_node: impl Fn(M) -> N,
    ) -> Self {
        let mut rows = rows;
        let more = rows.len() as u64 > window.size;
        rows.truncate(window.size as usize);
        if window.backward {
            rows.reverse();
        }
        let edges: Vec<Edge<N>> = rows
            .into_iter()
            .map(|row| Edge {
                cursor: cursor_of(&row),
                node: to_node(row),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: if window.backward {
                window.before.is_some()
            } else {
                more
            },
            has_previous_page: if window.backward {
                more
            } else {
                window.after.is_some()
            },
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Connection {
            edges,
            page_info,
            total,
            _node: PhantomData,
        }
    }
}

/// A page of a list: its items, how to get the next page, and the size of
/// the whole list.
#[Object(name_type)]
impl<N: NodeType> Connection<N> {
    /// The items of this page, each with its cursor.
    async fn edges(&self) -> &[Edge<N>] {
        &self.edges
    }

    /// The items of this page.
    async fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// Information to aid in pagination.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// Number of items in the whole list, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let count = match &self.total {
            Total::Related {
                known: Some(count), ..
            } => *count,
            Total::Related {
                rel, parent, pred, ..
            } => loader(ctx)
                .load_one(RelCount {
                    rel,
                    parent: *parent,
                    pred: pred.clone(),
                })
                .await?
                .unwrap_or(0),
            Total::Table {
                known: Some(count), ..
            } => *count,
            Total::Table { table, pred, .. } => {
                super::loader::count_table(ctx, table, pred.as_deref()).await?
            }
        };
        Ok(count)
    }

    /// The whole list (its filter applied), grouped by the given keys — no
    /// keys: one group of everything — each group with its count and, where
    /// the records carry numbers, their sum, average, minimum and maximum.
    async fn group_by(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Keys to group by (at most 4); none makes one group.")] by: Vec<
            N::GroupKey,
        >,
        #[graphql(desc = "How groups are sorted (largest first by default).")] order_by: Option<
            GroupOrder,
        >,
        #[graphql(desc = "Most groups returned (default 100, at most 1,000).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<N::Group>> {
        let asked = Asked::selected(ctx.field(), N::NUMBERS);
        let groups = GroupQuery::new(&by, N::NUMBERS, asked, order_by, first)?;
        let rows = match &self.total {
            Total::Related {
                rel, parent, pred, ..
            } => loader(ctx)
                .load_one(RelGroups {
                    rel,
                    parent: *parent,
                    pred: pred.clone(),
                    groups: Arc::new(groups),
                })
                .await?
                .unwrap_or_default(),
            Total::Table { table, pred, .. } => {
                table_groups(
                    super::loader::database(ctx),
                    table,
                    pred.as_deref(),
                    &groups,
                )
                .await?
            }
        };
        Ok(rows.into_iter().map(N::Group::from).collect())
    }
}

impl<N: OutputType> TypeName for Connection<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", N::type_name()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(first: Option<i32>, last: Option<i32>) -> PageArgs {
        PageArgs {
            first,
            last,
            ..Default::default()
        }
    }

    fn by_name() -> Sort {
        Sort(vec![("name", OrderDirection::Asc)])
    }

    #[test]
    fn page_size_defaults_and_is_bounded() {
        let sort = Sort::default();
        assert_eq!(
            args(None, None).window(&sort).unwrap().size,
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(args(Some(100), None).window(&sort).unwrap().size, 100);
        assert!(args(Some(101), None).window(&sort).is_err());
        assert!(args(Some(-1), None).window(&sort).is_err());
        assert!(args(Some(1), Some(1)).window(&sort).is_err());
        assert!(args(None, Some(5)).window(&sort).unwrap().backward);
    }

    #[test]
    fn cursors_round_trip_only_with_their_own_sort() {
        let position = Position {
            keys: vec![Val::Text("Rezé".into())],
            id: 7,
        };
        let cursor = encode_cursor(&by_name(), position.clone());
        let page = PageArgs {
            after: Some(cursor.clone()),
            ..Default::default()
        };
        assert_eq!(page.window(&by_name()).unwrap().after, Some(position));
        assert!(page.window(&Sort::default()).is_err());
        let descending = Sort(vec![("name", OrderDirection::Desc)]);
        assert!(page.window(&descending).is_err());
        let bad = PageArgs {
            before: Some("nope".into()),
            ..Default::default()
        };
        assert!(bad.window(&by_name()).is_err());
    }

    fn plain_cursor(row: &i64) -> String {
        encode_cursor(
            &Sort::default(),
            Position {
                keys: vec![],
                id: *row,
            },
        )
    }

    fn total() -> Total {
        Total::Table {
            table: "t",
            pred: None,
            known: None,
        }
    }

    #[test]
    fn pages_know_whether_more_items_follow() {
        let window = args(Some(2), None).window(&Sort::default()).unwrap();
        let page: Connection<i64> =
            Connection::from_rows(vec![1, 2, 3], &window, total(), plain_cursor, |r| r);
        assert_eq!(page.edges.len(), 2);
        assert!(page.page_info.has_next_page);
        assert!(!page.page_info.has_previous_page);

        let window = args(None, Some(2)).window(&Sort::default()).unwrap();
        let page: Connection<i64> =
            Connection::from_rows(vec![9, 8, 7], &window, total(), plain_cursor, |r| r);
        let ids: Vec<i64> = page.edges.iter().map(|e| e.node).collect();
        assert_eq!(ids, vec![8, 9]);
        assert!(page.page_info.has_previous_page);
        assert!(!page.page_info.has_next_page);
    }

    #[test]
    fn cost_grows_with_the_page() {
        assert_eq!(cost(Some(10), None, 3), 31);
        assert_eq!(cost(None, None, 1), 21);
        assert_eq!(cost(Some(1000), None, 1), 101);
        assert_eq!(cost(Some(0), None, 5), 6);
    }

    #[test]
    fn too_many_sort_keys_are_refused() {
        struct Key;
        impl async_graphql::InputType for Key {
            type RawValueType = Self;
            fn type_name() -> Cow<'static, str> {
                "Key".into()
            }
            fn create_type_info(_: &mut async_graphql::registry::Registry) -> String {
                "Key".into()
            }
            fn parse(_: Option<async_graphql::Value>) -> async_graphql::InputValueResult<Self> {
                Ok(Key)
            }
            fn to_value(&self) -> async_graphql::Value {
                async_graphql::Value::Null
            }
            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }
        }
        impl OrderInput for Key {
            fn key(&self) -> (&'static str, OrderDirection) {
                ("name", OrderDirection::Asc)
            }
        }
        assert_eq!(Sort::from_input(Some(vec![Key, Key])).unwrap().0.len(), 2);
        assert!(Sort::from_input(Some((0..=MAX_SORT_KEYS).map(|_| Key).collect())).is_err());
    }
}
