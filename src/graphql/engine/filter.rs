//! Filters: what a client may ask of the rows of any list, root or nested.
//!
//! Each record type has its own filter input (generated with the type, in
//! `node!`), made of typed conditions on its fields — `eq ne in notIn
//! isNull lt lte gt gte`, and on text `contains startsWith endsWith`, which
//! ignore case and accents — combined with `and`/`or`/`not`, and of
//! conditions on its relations (`some`/`none`/`every` related record
//! matches). Inputs turn into a [`Pred`] (see [`super::predicate`]).

use async_graphql::{Enum, ID, InputObject, InputType};
use chrono::{DateTime, Utc};

pub use super::predicate::{
    CmpOp, Compiler, MAX_CONDITIONS, MAX_IN_VALUES, Pred, Quantifier, TextOp, Val, checked,
    root_rows,
};
use super::{id, scalars::Date};
use crate::error::{AppError, AppResult};

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
