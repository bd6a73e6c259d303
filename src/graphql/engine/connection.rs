//! Relay connections: the one shape of every list of the API, root or nested.
//!
//! Pages are cut in SQL by keyset on the record id (cursors carry it), so a
//! page costs the same at the start and at the end of a long list, and rows
//! inserted between two pages are neither skipped nor repeated.

use std::{borrow::Cow, marker::PhantomData, sync::Arc};

use async_graphql::{Context, Object, OutputType, SimpleObject, TypeName};

use super::{
    aggregate::{Asked, GroupOrder, GroupQuery, RelGroups, count_table, table_groups},
    filter::Pred,
    loader::{RelCount, loader},
    paging::Window,
    record::NodeType,
    relation::RelDef,
};

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
        let items = rows
            .into_iter()
            .map(|row| (cursor_of(&row), to_node(row)))
            .collect();
        let (edges, page_info) = cut(
            items,
            window.size,
            window.backward,
            window.before.is_some(),
            window.after.is_some(),
        );
        Connection {
            edges,
            page_info,
            total,
            _node: PhantomData,
        }
    }
}

/// A page's edges and page info, from the items a window fetched (each
/// with its cursor; in fetch order, reversed when reading backwards; at
/// most one more than the page holds, whose presence says more follow
/// in the reading direction), of `size` items, read `backward` or not,
/// before and after a cursor or not.
fn cut<N>(
    mut items: Vec<(String, N)>,
    size: u64,
    backward: bool,
    before: bool,
    after: bool,
) -> (Vec<Edge<N>>, PageInfo) {
    let more = items.len() as u64 > size;
    items.truncate(size as usize);
    if backward {
        items.reverse();
    }
    let edges: Vec<Edge<N>> = items
        .into_iter()
        .map(|(cursor, node)| Edge { cursor, node })
        .collect();
    let page_info = PageInfo {
        has_next_page: if backward { before } else { more },
        has_previous_page: if backward { more } else { after },
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    (edges, page_info)
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
            Total::Table { table, pred, .. } => count_table(ctx, table, pred.as_deref()).await?,
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
                let mut reads = super::filter::Pred::reads_of(table, pred.as_deref());
                reads.extend(groups.tags());
                table_groups(
                    super::loader::reading(ctx, reads),
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

/// A list that is not of records of one table (the audit trail, search
/// hits): it names its connection type and counts itself.
pub trait Listing: Send + Sync + 'static {
    /// The items of the list.
    type Item: OutputType;
    /// The name of its connection type.
    const CONNECTION: &'static str;
    /// The number of items in the whole list.
    fn count(
        &self,
        ctx: &Context<'_>,
    ) -> impl std::future::Future<Output = crate::error::AppResult<i64>> + Send;
}

/// A page of a [`Listing`], in the shape of every list: edges with their
/// cursors, nodes, page info and the size of the whole list.
pub struct ListingConnection<L: Listing> {
    edges: Vec<Edge<L::Item>>,
    page_info: PageInfo,
    listing: L,
}

impl<L: Listing> ListingConnection<L> {
    /// The page of `items` (each with its cursor, at most one more than the
    /// page holds: its presence says more follow) of `size` items, read
    /// after a cursor or from the start.
    pub fn new(items: Vec<(String, L::Item)>, size: u64, after: bool, listing: L) -> Self {
        let (edges, page_info) = cut(items, size, false, false, after);
        ListingConnection {
            edges,
            page_info,
            listing,
        }
    }
}

/// A page of a list: its items, how to get the next page, and the size of
/// the whole list.
#[Object(name_type)]
impl<L: Listing> ListingConnection<L> {
    /// The items of this page, each with its cursor.
    async fn edges(&self) -> &[Edge<L::Item>] {
        &self.edges
    }

    /// The items of this page.
    async fn nodes(&self) -> Vec<&L::Item> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// Information to aid in pagination.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// Number of items in the whole list, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.listing.count(ctx).await?)
    }
}

impl<L: Listing> TypeName for ListingConnection<L> {
    fn type_name() -> Cow<'static, str> {
        L::CONNECTION.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::engine::{
        filter::OrderDirection,
        paging::{MAX_SORT_KEYS, OrderInput, PageArgs, Position, Sort, cost, encode_cursor},
    };

    fn args(first: Option<i32>, last: Option<i32>) -> PageArgs {
        PageArgs {
            first,
            last,
            ..Default::default()
        }
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
