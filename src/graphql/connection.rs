//! Relay connections: the one shape of every list of the API, root or nested.
//!
//! Pages are cut in SQL by keyset on the record id (cursors carry it), so a
//! page costs the same at the start and at the end of a long list, and rows
//! inserted between two pages are neither skipped nor repeated.

use std::{borrow::Cow, marker::PhantomData};

use async_graphql::{Context, Object, OutputType, SimpleObject, TypeName};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::loader::{RelCount, RelDef, loader};
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

/// A validated page request: which ids to look past, how many rows to fetch
/// and in which direction. `fetch` is one more than the page size, to learn
/// whether another page follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub size: u64,
    pub backward: bool,
}

impl Window {
    /// Rows to fetch: the page and one more.
    pub fn fetch(&self) -> u64 {
        self.size + 1
    }
}

impl PageArgs {
    pub fn window(&self) -> AppResult<Window> {
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
        Ok(Window {
            after: self
                .after
                .as_deref()
                .map(|c| decode_cursor("after", c))
                .transpose()?,
            before: self
                .before
                .as_deref()
                .map(|c| decode_cursor("before", c))
                .transpose()?,
            size,
            backward: self.last.is_some(),
        })
    }
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

pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

fn decode_cursor(argument: &'static str, cursor: &str) -> AppResult<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("id:").and_then(|id| id.parse().ok()))
        .ok_or_else(|| {
            AppError::bad_argument(
                argument,
                format!("`{argument}` is not a cursor of this API"),
            )
        })
}

/// What `totalCount` counts, computed only when a client selects it.
#[derive(Debug, Clone, Copy)]
pub enum Total {
    /// The items related to one parent record.
    Related { rel: &'static RelDef, parent: i64 },
    /// Every row of a table.
    Table(&'static str),
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
    /// Builds the page from the rows a window fetched (in fetch order: id
    /// descending when paginating backwards), mapping each row to its item.
    pub fn from_rows<M>(
        rows: Vec<M>,
        window: &Window,
        total: Total,
        id_of: impl Fn(&M) -> i64,
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
                cursor: encode_cursor(id_of(&row)),
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
impl<N: OutputType> Connection<N> {
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
        let count = match self.total {
            Total::Related { rel, parent } => loader(ctx)
                .load_one(RelCount { rel, parent })
                .await?
                .unwrap_or(0),
            Total::Table(table) => super::loader::count_table(ctx, table).await?,
        };
        Ok(count)
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

    #[test]
    fn page_size_defaults_and_is_bounded() {
        assert_eq!(args(None, None).window().unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(args(Some(100), None).window().unwrap().size, 100);
        assert!(args(Some(101), None).window().is_err());
        assert!(args(Some(-1), None).window().is_err());
        assert!(args(Some(1), Some(1)).window().is_err());
        assert!(args(None, Some(5)).window().unwrap().backward);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let window = PageArgs {
            after: Some(encode_cursor(7)),
            ..Default::default()
        }
        .window()
        .unwrap();
        assert_eq!(window.after, Some(7));
        let bad = PageArgs {
            before: Some("nope".into()),
            ..Default::default()
        };
        assert!(bad.window().is_err());
    }

    #[test]
    fn pages_know_whether_more_items_follow() {
        let window = args(Some(2), None).window().unwrap();
        let page: Connection<i64> =
            Connection::from_rows(vec![1, 2, 3], &window, Total::Table("t"), |r| *r, |r| r);
        assert_eq!(page.edges.len(), 2);
        assert!(page.page_info.has_next_page);
        assert!(!page.page_info.has_previous_page);

        let window = args(None, Some(2)).window().unwrap();
        let page: Connection<i64> =
            Connection::from_rows(vec![9, 8, 7], &window, Total::Table("t"), |r| *r, |r| r);
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
}
