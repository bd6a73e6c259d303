//! Paging and sorting, the arguments of every list: page sizes, sort keys,
//! cursors (keyset positions, opaque to clients), the window a page is cut
//! from, and what a list costs in the query-cost limit. It uses the
//! engine's filter (its values and sort directions) only.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use super::filter::{OrderDirection, Pred, Val};
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

/// An opaque cursor holding `data`: its JSON, in URL-safe base64.
pub fn opaque_cursor<T: Serialize>(data: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(data).expect("cursor data serializes"))
}

/// The data an opaque cursor given as `argument` holds; BAD_USER_INPUT
/// when it holds none of that shape.
pub fn open_cursor<T: serde::de::DeserializeOwned>(
    argument: &'static str,
    cursor: &str,
) -> AppResult<T> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            AppError::bad_argument(
                argument,
                format!("`{argument}` is not a cursor of this API"),
            )
        })
}

/// The cursor of the row at `position` in a list sorted by `sort`.
pub fn encode_cursor(sort: &Sort, position: Position) -> String {
    opaque_cursor(&CursorData {
        s: sort.signature(),
        k: position.keys,
        i: position.id,
    })
}

fn decode_cursor(argument: &'static str, cursor: &str, sort: &Sort) -> AppResult<Position> {
    let data: CursorData = open_cursor(argument, cursor)?;
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
}
