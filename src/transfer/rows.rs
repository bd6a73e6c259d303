//! The rows of an import or export: a row's columns, with their kind,
//! whether they are required, the record they name and their closed
//! vocabulary; values typed from JSON or CSV text, and every row checked.
//! It uses the entities, their declaration and the store's value checks.

use std::{collections::BTreeMap, fmt};

use sea_orm::{ColumnTrait, ColumnType, EntityTrait, IdenStatic, Iterable};
use serde_json::{Map, Value as Json};

use crate::store::is_siren;

/// One row: column name to value.
pub type Row = Map<String, Json>;

/// A wrong value of an import: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub table: String,
    /// Line of a CSV file (the header is line 1), or item of a JSON list
    /// (the first is 1).
    pub line: usize,
    pub column: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} line {}, column {}: {}",
            self.table, self.line, self.column, self.reason
        )
    }
}

/// What an import did, or would do.
#[derive(Debug, Default)]
pub struct Report {
    /// Rows written (or, in a dry run, found valid), by type.
    pub rows: BTreeMap<String, usize>,
    pub problems: Vec<Problem>,
}

/// How a column's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Integer,
    Number,
    Boolean,
    Date,
    DateTime,
    Text,
}

/// A column of a type, as import, export and templates see it.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// Whether a value must be given (the id, dates of writing and version
    /// are filled in when left out).
    pub required: bool,
    /// The type whose id this column holds.
    pub references: Option<&'static str>,
    /// The closed vocabulary of the column, if it has one.
    pub values: Option<Vec<&'static str>>,
}

/// Columns filled in when an import leaves them out (besides those with
/// a default value, such as a territory's country).
const FILLED: &[&str] = &["id", "created_at", "updated_at", "version"];

pub(super) fn kind_of(column_type: &ColumnType) -> Kind {
    match column_type {
        ColumnType::BigInteger
        | ColumnType::Integer
        | ColumnType::SmallInteger
        | ColumnType::TinyInteger => Kind::Integer,
        ColumnType::Double | ColumnType::Float | ColumnType::Decimal(_) => Kind::Number,
        ColumnType::Boolean => Kind::Boolean,
        ColumnType::Date => Kind::Date,
        ColumnType::TimestampWithTimeZone | ColumnType::DateTime | ColumnType::Timestamp => {
            Kind::DateTime
        }
        _ => Kind::Text,
    }
}

/// The type a reference column points to: `territory_id` names a
/// territory; a few columns say it otherwise.
pub(super) fn referenced(table: &'static str, column: &str) -> Option<&'static str> {
    let target = column.strip_suffix("_id")?;
    Some(match target {
        "parent" => table,
        "programme" => "concertation_programme",
        "finding" => "study_finding",
        _ => entity::records::of_table(target)?.table,
    })
}

pub(super) fn columns_of<E: EntityTrait>(table: &'static str) -> Vec<Column> {
    E::Column::iter()
        .filter(|c| !c.as_str().ends_with("_folded"))
        .map(|c| {
            let name = c.as_str();
            let def = c.def();
            Column {
                name,
                kind: kind_of(def.get_column_type()),
                required: !def.is_null()
                    && !FILLED.contains(&name)
                    && def.get_column_default().is_none(),
                references: referenced(table, name),
                values: entity::records::vocabulary(table, name),
            }
        })
        .collect()
}

/// A value as its column holds it: numbers as numbers (a CSV cell is text),
/// dates checked; `Err` says why it cannot be.
pub(super) fn typed_value(column: &Column, value: Json) -> Result<Json, String> {
    let text = match &value {
        Json::Null => return Ok(Json::Null),
        Json::String(text) => text.trim().to_owned(),
        other => other.to_string(),
    };
    if text.is_empty() && column.kind != Kind::Text {
        return Ok(Json::Null);
    }
    match column.kind {
        Kind::Integer => text
            .parse::<i64>()
            .map(Json::from)
            .map_err(|_| format!("{text:?} is not a whole number")),
        Kind::Number => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Json::from(n)),
            _ => Err(format!("{text:?} is not a number")),
        },
        Kind::Boolean => match text.as_str() {
            "true" => Ok(Json::Bool(true)),
            "false" => Ok(Json::Bool(false)),
            _ => Err(format!("{text:?} is not true or false")),
        },
        Kind::Date => chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(|_| Json::String(text.clone()))
            .map_err(|_| format!("{text:?} is not a date YYYY-MM-DD")),
        Kind::DateTime => chrono::DateTime::parse_from_rfc3339(&text)
            .map(|_| Json::String(text.clone()))
            .map_err(|_| format!("{text:?} is not a date and time (RFC 3339)")),
        Kind::Text => match value {
            Json::String(text) => Ok(Json::String(text)),
            _ => Err("must be text".into()),
        },
    }
}

impl Report {
    pub(super) fn problem(
        &mut self,
        table: &str,
        line: usize,
        column: &str,
        reason: impl Into<String>,
    ) {
        self.problems.push(Problem {
            table: table.to_owned(),
            line,
            column: column.to_owned(),
            reason: reason.into(),
        });
    }
}

/// Checks the values of a row that its column types alone do not: required
/// values, no NUL in text (which PostgreSQL refuses and SQLite would keep),
/// vocabularies, SIREN, URLs and months.
pub(super) fn check_row(
    table: &str,
    line: usize,
    columns: &[Column],
    row: &Row,
    report: &mut Report,
) {
    for column in columns {
        let value = row.get(column.name).filter(|v| !v.is_null());
        let Some(value) = value else {
            let told = report
                .problems
                .iter()
                .any(|p| p.table == table && p.line == line && p.column == column.name);
            if column.required && !told {
                report.problem(table, line, column.name, "a value is required");
            }
            continue;
        };
        let Some(text) = value.as_str() else { continue };
        if text.contains('\0') {
            report.problem(
                table,
                line,
                column.name,
                "text may not contain the NUL character (U+0000)",
            );
        }
        if let Some(values) = &column.values
            && !values.contains(&text)
        {
            report.problem(
                table,
                line,
                column.name,
                format!("{text:?} is not one of {}", values.join(" ")),
            );
        }
        let name = column.name;
        if name == "siren" && !is_siren(text) {
            report.problem(
                table,
                line,
                name,
                "a SIREN is 9 digits with a valid check digit (Luhn)",
            );
        }
        if (name == "url" || name == "website" || name.ends_with("_url"))
            && !url::Url::parse(text)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        {
            report.problem(table, line, name, "must be an http:// or https:// URL");
        }
        if name.ends_with("_month") && !crate::store::is_month(text) {
            report.problem(table, line, name, "must be a month written YYYY-MM");
        }
    }
}
