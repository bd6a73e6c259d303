//! Bulk import and export of the hub's records, as JSON or CSV.
//!
//! Every table of the domain is a type, named after its table (`territory`,
//! `deployment`, `deployment_risk`…); its columns are the table's, less the
//! folded copies kept for matching. An export holds every row and column,
//! so that exporting, importing into an empty database and exporting again
//! gives the same files. An import checks every row and column — types,
//! required values, closed vocabularies, SIREN, URLs and months, references
//! — and writes all or nothing, in one transaction; each record it creates
//! gets a `CREATE` event in the audit trail.

use std::path::Path;

mod rows;
mod write;

pub use rows::{Column, Kind, Problem, Report, Row};
use rows::{columns_of, typed_value};
use write::import_rows;

use anyhow::{Context as _, bail};
use chrono::Utc;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Iterable,
    PrimaryKeyToColumn, QueryOrder,
};
use serde_json::{Map, Value as Json};

use entity::records::{Visit, visit};
use futures_util::future::BoxFuture;

use crate::{
    progress::Progress,
    store::{Author, bulk},
};

/// Every type, parents before children (the order of an import): the
/// tables of the graph, as the entity crate declares them.
pub use entity::records::TABLES as TYPES;

/// The columns of a type.
pub fn columns(table: &str) -> anyhow::Result<Vec<Column>> {
    struct Columns;
    impl Visit for Columns {
        type Output = Vec<Column>;
        fn visit<E: EntityTrait>(self, table: &'static str) -> Vec<Column> {
            columns_of::<E>(table)
        }
    }
    visit(table, Columns).ok_or_else(|| anyhow::anyhow!(unknown_type(table)))
}

/// Every row of a type, in primary-key order.
pub async fn export_type<C: ConnectionTrait>(db: &C, table: &str) -> anyhow::Result<Vec<Row>> {
    struct Export<'a, C>(&'a C);
    impl<'a, C: ConnectionTrait> Visit for Export<'a, C> {
        type Output = BoxFuture<'a, anyhow::Result<Vec<Row>>>;
        fn visit<E>(self, _: &'static str) -> Self::Output
        where
            E: EntityTrait,
            E::Model: serde::Serialize,
        {
            Box::pin(export_rows::<E, C>(self.0))
        }
    }
    visit(table, Export(db))
        .ok_or_else(|| anyhow::anyhow!(unknown_type(table)))?
        .await
}

async fn import_type(
    txn: &DatabaseTransaction,
    table: &'static str,
    rows: Vec<(usize, Row)>,
    author: Author<'_>,
    report: &mut Report,
) -> anyhow::Result<()> {
    struct Import<'a> {
        txn: &'a DatabaseTransaction,
        rows: Vec<(usize, Row)>,
        author: Author<'a>,
        report: &'a mut Report,
    }
    impl<'a> Visit for Import<'a> {
        type Output = BoxFuture<'a, anyhow::Result<()>>;
        fn visit<E>(self, table: &'static str) -> Self::Output
        where
            E: EntityTrait,
            E::Model: serde::Serialize
                + serde::de::DeserializeOwned
                + sea_orm::IntoActiveModel<E::ActiveModel>,
            E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E>
                + sea_orm::ActiveModelBehavior
                + sea_orm::TryIntoModel<E::Model>
                + Send,
        {
            Box::pin(import_rows::<E>(
                self.txn,
                table,
                self.rows,
                self.author,
                self.report,
            ))
        }
    }
    let import = Import {
        txn,
        rows,
        author,
        report,
    };
    visit(table, import)
        .ok_or_else(|| anyhow::anyhow!(unknown_type(table)))?
        .await
}

fn unknown_type(table: &str) -> String {
    format!(
        "unknown type {table:?}; the types are: {}",
        TYPES.join(", ")
    )
}

/// The known type of this name.
pub fn type_named(table: &str) -> anyhow::Result<&'static str> {
    TYPES
        .iter()
        .copied()
        .find(|t| *t == table)
        .ok_or_else(|| anyhow::anyhow!(unknown_type(table)))
}

async fn export_rows<E: EntityTrait, C: ConnectionTrait>(db: &C) -> anyhow::Result<Vec<Row>>
where
    E::Model: serde::Serialize,
{
    let mut select = E::find();
    for key in E::PrimaryKey::iter() {
        select = select.order_by_asc(key.into_column());
    }
    let mut rows = Vec::new();
    for model in select.all(db).await? {
        let Json::Object(mut row) = serde_json::to_value(&model)? else {
            bail!("a row is not an object");
        };
        row.retain(|name, _| !name.ends_with("_folded"));
        rows.push(row);
    }
    Ok(rows)
}

/// The whole database (or one type) as JSON: an object of types, each a
/// list of rows; or, for one type, the list.
pub async fn export_json<C: ConnectionTrait>(
    db: &C,
    table: Option<&str>,
) -> anyhow::Result<String> {
    let value = match table {
        Some(table) => Json::Array(
            export_type(db, type_named(table)?)
                .await?
                .into_iter()
                .map(Json::Object)
                .collect(),
        ),
        None => {
            let mut all = Map::new();
            let progress = Progress::new("export", TYPES.len() as u64);
            for (done, table) in TYPES.iter().enumerate() {
                let rows = export_type(db, table).await?;
                all.insert(
                    (*table).to_owned(),
                    Json::Array(rows.into_iter().map(Json::Object).collect()),
                );
                progress.at(done as u64 + 1, table);
            }
            progress.finish();
            Json::Object(all)
        }
    };
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}

/// One type as CSV (RFC 4180, UTF-8): a header of its columns, then a line
/// per row; an empty cell is no value.
pub async fn export_csv<C: ConnectionTrait>(db: &C, table: &str) -> anyhow::Result<String> {
    let table = type_named(table)?;
    let columns = columns(table)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(columns.iter().map(|c| c.name))?;
    for row in export_type(db, table).await? {
        out.write_record(columns.iter().map(|c| cell(row.get(c.name))))?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

fn cell(value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// The CSV header of a type, after comment lines (`#`) that say what each
/// column holds. `vigie import` skips the comment lines.
pub fn template(table: &str) -> anyhow::Result<String> {
    let table = type_named(table)?;
    let columns = columns(table)?;
    let mut out = format!(
        "# Vigie import template for {table}: one row per record, UTF-8, comma-separated.\n\
         # Import with: vigie import FILE.csv --type {table} [--dry-run]\n\
         # An empty cell is no value. Columns:\n"
    );
    for column in &columns {
        let kind = match column.kind {
            Kind::Integer => "whole number",
            Kind::Number => "number",
            Kind::Boolean => "true or false",
            Kind::Date => "date YYYY-MM-DD",
            Kind::DateTime => "date and time, RFC 3339 (2026-01-31T09:00:00Z)",
            Kind::Text => "text",
        };
        let mut line = format!("#   {}: {kind}", column.name);
        if let Some(target) = column.references {
            line += &format!(", id of a {target}");
        }
        if let Some(values) = &column.values {
            line += &format!(", one of {}", values.join(" "));
        }
        line += match (column.required, column.name) {
            (true, _) => ", required",
            (false, "id") => ", optional: a new id is given when empty",
            (false, "version") => ", optional: 1 when empty",
            (false, "created_at" | "updated_at") => ", optional: now when empty",
            (false, _) => ", optional",
        };
        out += &line;
        out.push('\n');
    }
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(columns.iter().map(|c| c.name))?;
    out += &String::from_utf8(header.into_inner()?)?;
    Ok(out)
}

/// Rows read from a file, by type, with their line (or item) numbers.
type Parsed = Vec<(&'static str, Vec<(usize, Row)>)>;

/// Reads an import: a JSON file (an object of types, or with `--type` a
/// list of rows), a CSV file of one type, or a directory of CSV files
/// named after their types (`territory.csv`).
pub fn read(path: &Path, table: Option<&str>, report: &mut Report) -> anyhow::Result<Parsed> {
    let table = table.map(type_named).transpose()?;
    if path.is_dir() {
        let mut parsed = Vec::new();
        for table in TYPES {
            let file = path.join(format!("{table}.csv"));
            if file.exists() {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                parsed.push((*table, read_csv(table, &text, report)?));
            }
        }
        return Ok(parsed);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with(['{', '[']);
    if is_json {
        let value: Json = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        return read_json(value, table, report);
    }
    let table = match table {
        Some(table) => table,
        None => path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| TYPES.iter().copied().find(|t| *t == s))
            .context("a CSV file holds one type: say which with --type")?,
    };
    Ok(vec![(table, read_csv(table, &text, report)?)])
}

fn read_json(
    value: Json,
    table: Option<&'static str>,
    report: &mut Report,
) -> anyhow::Result<Parsed> {
    let lists: Vec<(&'static str, Json)> = match (value, table) {
        (Json::Array(rows), Some(table)) => vec![(table, Json::Array(rows))],
        (Json::Array(_), None) => bail!("a JSON list holds one type: say which with --type"),
        (Json::Object(mut all), table) => {
            if let Some(unknown) = all.keys().find(|k| !TYPES.contains(&k.as_str())) {
                bail!(unknown_type(unknown));
            }
            TYPES
                .iter()
                .filter(|t| table.is_none_or(|only| only == **t))
                .filter_map(|t| all.remove(*t).map(|rows| (*t, rows)))
                .collect()
        }
        _ => bail!("a JSON import is an object of types or a list of rows"),
    };
    let mut parsed = Vec::new();
    for (table, rows) in lists {
        let Json::Array(rows) = rows else {
            bail!("{table}: expected a list of rows");
        };
        let columns = columns(table)?;
        let mut out = Vec::new();
        for (i, row) in rows.into_iter().enumerate() {
            let line = i + 1;
            let Json::Object(row) = row else {
                report.problem(table, line, "-", "a row is a JSON object");
                continue;
            };
            let mut typed = Row::new();
            for (name, value) in row {
                match columns.iter().find(|c| c.name == name) {
                    Some(column) => match typed_value(column, value) {
                        Ok(value) => {
                            typed.insert(name, value);
                        }
                        Err(reason) => report.problem(table, line, &name, reason),
                    },
                    None if name.ends_with("_folded") => {}
                    None => report.problem(table, line, &name, "no such column"),
                }
            }
            out.push((line, typed));
        }
        parsed.push((table, out));
    }
    Ok(parsed)
}

fn read_csv(
    table: &'static str,
    text: &str,
    report: &mut Report,
) -> anyhow::Result<Vec<(usize, Row)>> {
    let columns = columns(table)?;
    // Comment lines before the header (a template's) are skipped.
    let skipped = text.lines().take_while(|l| l.starts_with('#')).count();
    let body: String = text
        .split_inclusive('\n')
        .skip(skipped)
        .collect::<Vec<_>>()
        .concat();
    let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{table}: cannot read the CSV header"))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let header_line = skipped + 1;
    let mut known = Vec::new();
    for name in &header {
        let column = columns.iter().find(|c| c.name == name);
        if column.is_none() {
            report.problem(table, header_line, name, "no such column");
        }
        known.push(column);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{table}: cannot read a CSV line"))?;
        let line = skipped + record.position().map_or(0, |p| p.line() as usize);
        let mut row = Row::new();
        for (column, text) in known.iter().zip(record.iter()) {
            let Some(column) = column else { continue };
            if text.is_empty() {
                continue;
            }
            match typed_value(column, Json::String(text.to_owned())) {
                Ok(value) => {
                    row.insert(column.name.to_owned(), value);
                }
                Err(reason) => report.problem(table, line, column.name, reason),
            }
        }
        rows.push((line, row));
    }
    Ok(rows)
}

/// Imports what `read` found, all or nothing: on any problem, or in a dry
/// run, nothing is written. Once written, the tables it wrote have their
/// statistics refreshed (see [`crate::db::analyze`]); a failure there is
/// logged, the import having committed.
pub async fn import(
    db: &DatabaseConnection,
    parsed: Parsed,
    actor: &str,
    dry_run: bool,
    mut report: Report,
) -> anyhow::Result<Report> {
    let txn = crate::store::begin(db).await?;
    let author = Author {
        key: None,
        label: actor,
        at: Utc::now(),
    };
    let progress = Progress::new(
        "import",
        parsed.iter().map(|(_, rows)| rows.len() as u64).sum(),
    );
    let mut done = 0;
    for (table, rows) in parsed {
        done += rows.len() as u64;
        import_type(&txn, table, rows, author, &mut report).await?;
        progress.at(done, table);
    }
    progress.finish();
    if dry_run || !report.problems.is_empty() {
        txn.rollback().await?;
        return Ok(report);
    }
    // Rows came with their ids: new records must get ids after them.
    bulk::ids_given(&txn).await?;
    txn.commit().await?;
    let written: Vec<&str> = report
        .rows
        .iter()
        .filter(|(_, rows)| **rows > 0)
        .map(|(table, _)| table.as_str())
        .collect();
    // Written and committed: a failure here leaves the planner's
    // statistics as they were, and must not say the import failed.
    if let Err(err) = crate::db::analyze_tables(db, &written).await {
        tracing::warn!(error = %err, "imported; the statistics of the tables written were not refreshed");
    }
    Ok(report)
}
