//! What a grouping asks and gives: the keys a list can be grouped by
//! (an enum field, a related record, a column reached through relations,
//! a year), their order, the numbers of each group (count, sum, average,
//! minimum, maximum) and the bounds on how many groups one answer holds.
//! The SQL that computes groups is [`super::aggregate`]'s. It uses the
//! engine's ids and what a request selects.

use async_graphql::{Enum, SelectionField, SimpleObject};

use super::selection::snake_case;
use crate::error::{AppError, AppResult};

/// Most groups one `groupBy` returns (per parent, for a nested list).
pub const MAX_GROUPS: i32 = 1_000;
/// Groups returned when `first` is not given.
pub const DEFAULT_GROUPS: i32 = 100;
/// Most keys one `groupBy` takes.
pub const MAX_GROUP_KEYS: usize = 4;

/// Foreign keys to follow from a row to reach a key's table: each step is
/// `(foreign key column, table it points to)`.
pub type Path = &'static [(&'static str, &'static str)];

/// What a key's values are.
#[derive(Debug, Clone, Copy)]
pub enum KeyKind {
    /// The column's value; enums name their values' labels.
    Value(Option<fn(&str) -> Option<&'static str>>),
    /// The year of a date or timestamp column.
    YearOfDate,
    /// The year of a `YYYY-MM` month column.
    YearOfMonth,
    /// A record: its global ID, labelled by one of its columns.
    Record {
        type_name: &'static str,
        label: &'static str,
    },
}

/// A key records can be grouped by.
#[derive(Debug, Clone, Copy)]
pub struct GroupKey {
    pub path: Path,
    pub column: &'static str,
    pub kind: KeyKind,
}

impl GroupKey {
    /// A column of the record itself.
    pub const fn value(column: &'static str) -> Self {
        GroupKey {
            path: &[],
            column,
            kind: KeyKind::Value(None),
        }
    }

    /// The same key, its values labelled (an enum column's).
    pub const fn labelled_by(self, label: fn(&str) -> Option<&'static str>) -> Self {
        GroupKey {
            kind: KeyKind::Value(Some(label)),
            ..self
        }
    }

    /// The same key, read on the record `path` leads to.
    pub const fn at(self, path: Path) -> Self {
        GroupKey { path, ..self }
    }

    /// The record `path` leads to.
    pub const fn record(path: Path, type_name: &'static str, label: &'static str) -> Self {
        GroupKey {
            path,
            column: "id",
            kind: KeyKind::Record { type_name, label },
        }
    }

    /// The year of a date or timestamp column.
    pub const fn year_of_date(column: &'static str) -> Self {
        GroupKey {
            path: &[],
            column,
            kind: KeyKind::YearOfDate,
        }
    }

    /// The year of a `YYYY-MM` month column.
    pub const fn year_of_month(column: &'static str) -> Self {
        GroupKey {
            path: &[],
            column,
            kind: KeyKind::YearOfMonth,
        }
    }
}

/// A record type's group-key input.
pub trait GroupKeyInput: async_graphql::InputType + Copy {
    /// The key's name in the schema.
    fn name(&self) -> &'static str;
    fn spec(&self) -> GroupKey;
}

/// How groups are sorted.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum GroupOrder {
    /// Largest groups first; then by key values.
    #[default]
    CountDesc,
    /// Smallest groups first; then by key values.
    CountAsc,
    /// By key values, A to Z (empty values last).
    KeyAsc,
    /// By key values, Z to A (empty values first).
    KeyDesc,
}

/// One key of a group, and its value.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct GroupKeyValue {
    /// The key, as named in `by`.
    pub key: String,
    /// Its value (a global ID for a record key); `null` for records where
    /// it is empty.
    pub value: Option<String>,
    /// A label for readers: the enum value in French, the record's name,
    /// or the value itself.
    pub label: Option<String>,
}

/// Sum, average, minimum and maximum of each number of a group's records,
/// in the order of the type's numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub sum: Vec<Option<f64>>,
    pub avg: Vec<Option<f64>>,
    pub min: Vec<Option<f64>>,
    pub max: Vec<Option<f64>>,
}

/// A group, as computed.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub keys: Vec<GroupKeyValue>,
    pub count: i64,
    pub stats: Stats,
}

/// Which statistics of which numbers a `groupBy` selects: only those are
/// computed. Each statistic holds a set of the type's numbers, bit `i` for
/// its `i`-th number: `sum { hours }` asks the sum of the hours alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Asked {
    pub sum: u32,
    pub avg: u32,
    pub min: u32,
    pub max: u32,
}

impl Asked {
    /// Every statistic of every number.
    pub const ALL: Asked = Asked {
        sum: u32::MAX,
        avg: u32::MAX,
        min: u32::MAX,
        max: u32::MAX,
    };

    /// What a `groupBy` field's selection asks of `numbers` (the type's
    /// columns, in order), through fragments and aliases alike.
    pub fn selected(group_by: SelectionField<'_>, numbers: &[&str]) -> Asked {
        let mut asked = Asked::default();
        for stat in group_by.selection_set() {
            let set = match stat.name() {
                "sum" => &mut asked.sum,
                "avg" => &mut asked.avg,
                "min" => &mut asked.min,
                "max" => &mut asked.max,
                _ => continue,
            };
            for number in stat.selection_set() {
                let column = snake_case(number.name());
                if let Some(i) = numbers.iter().position(|n| *n == column) {
                    *set |= 1 << i;
                }
            }
        }
        asked
    }

    pub(super) fn any(self) -> bool {
        (self.sum | self.avg | self.min | self.max) != 0
    }

    /// Whether `stat` of the `i`-th number is asked.
    pub(super) fn has(self, stat: &str, i: usize) -> bool {
        let set = match stat {
            "sum" => self.sum,
            "avg" => self.avg,
            "min" => self.min,
            "max" => self.max,
            _ => 0,
        };
        set >> i & 1 == 1
    }

    /// Whether a partial group must carry its `part` (sum, count, min or
    /// max) of the `i`-th number: an average is a sum over a count.
    pub(super) fn needs_part(self, part: &str, i: usize) -> bool {
        match part {
            "sum" => self.has("sum", i) || self.has("avg", i),
            "count" => self.has("avg", i),
            part => self.has(part, i),
        }
    }
}

/// What a `groupBy` asks, checked.
#[derive(Debug, Clone)]
pub struct GroupQuery {
    pub keys: Vec<(&'static str, GroupKey)>,
    /// The type's numbers, in order: bit `i` of each statistic in `asked`
    /// stands for the `i`-th.
    pub numbers: &'static [&'static str],
    pub asked: Asked,
    pub order: GroupOrder,
    pub first: i32,
}

impl GroupQuery {
    /// The tags of the tables its keys reach through foreign keys.
    pub fn tags(&self) -> impl Iterator<Item = crate::tags::Tag> + '_ {
        self.keys.iter().flat_map(|(_, key)| {
            key.path
                .iter()
                .map(|(_, table)| crate::tags::Tag::all(crate::tags::owner(table)))
        })
    }

    pub fn new<K: GroupKeyInput>(
        by: &[K],
        numbers: &'static [&'static str],
        asked: Asked,
        order: Option<GroupOrder>,
        first: Option<i32>,
    ) -> AppResult<GroupQuery> {
        if by.len() > MAX_GROUP_KEYS {
            return Err(AppError::bad_argument(
                "by",
                format!("`by` takes at most {MAX_GROUP_KEYS} keys"),
            ));
        }
        let first = first.unwrap_or(DEFAULT_GROUPS);
        if !(0..=MAX_GROUPS).contains(&first) {
            return Err(AppError::bad_argument(
                "first",
                format!("`first` is between 0 and {MAX_GROUPS}"),
            ));
        }
        Ok(GroupQuery {
            keys: by.iter().map(|k| (k.name(), k.spec())).collect(),
            numbers,
            asked,
            order: order.unwrap_or_default(),
            first,
        })
    }

    /// Names the query, for loader keys.
    pub fn signature(&self) -> String {
        let keys: Vec<&str> = self.keys.iter().map(|(name, _)| *name).collect();
        format!(
            "{}|{:?}|{}|{:?}",
            keys.join(","),
            self.order,
            self.first,
            self.asked
        )
    }
}
