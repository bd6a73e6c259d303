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

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fmt,
    path::Path,
};

use crate::store::bulk::{self, Author};
use anyhow::{Context as _, bail};
use chrono::Utc;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ColumnType, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, EntityTrait, IdenStatic, Iterable, PrimaryKeyToColumn,
    QueryOrder, TransactionTrait,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
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

/// Columns filled in when an import leaves them out.
const FILLED: &[&str] = &["id", "created_at", "updated_at", "version"];

fn kind_of(column_type: &ColumnType) -> Kind {
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
fn referenced(table: &'static str, column: &str) -> Option<&'static str> {
    let target = column.strip_suffix("_id")?;
    Some(match target {
        "parent" => table,
        "programme" => "concertation_programme",
        "finding" => "study_finding",
        _ => TYPES.iter().find(|t| **t == target)?,
    })
}

/// The closed vocabulary of a column.
fn vocabulary(table: &str, column: &str) -> Option<Vec<&'static str>> {
    use entity::enums::*;
    macro_rules! values {
        ($enum:ty) => {
            Some(<$enum>::iter().map(|v| v.as_str()).collect())
        };
    }
    match (table, column) {
        ("territory", "kind") => values!(TerritoryKind),
        ("organization", "kind") => values!(OrganizationKind),
        ("deployment_organization", "role") => values!(OrganizationRole),
        ("deployment", "status") => values!(DeploymentStatus),
        ("deployment", "decision_role") => values!(DecisionRole),
        ("deployment", "audience") => values!(Audience),
        ("deployment", "personal_data") => values!(PersonalData),
        ("deployment", "ai_act_tier") => values!(AiActTier),
        ("deployment", "annex_iii_area") => values!(AnnexIiiArea),
        ("deployment_risk", "severity") => values!(Severity),
        ("deployment_risk", "likelihood") => values!(Likelihood),
        ("deployment_risk", "mitigation_status") => values!(MitigationStatus),
        ("concertation", "status") => values!(ConcertationStatus),
        ("concertation_format", "format") => values!(ConcertationFormat),
        ("concertation_public", "public") | ("contribution", "public") => values!(Public),
        ("contribution", "kind") => values!(ContributionKind),
        ("contribution", "response_state") => values!(ResponseState),
        ("programme_participation", "mode") => values!(ParticipationMode),
        ("study_finding", "kind") => values!(FindingKind),
        ("study_finding", "exposure_level") => values!(ExposureLevel),
        ("resource", "kind") => values!(ResourceKind),
        _ => None,
    }
}

fn columns_of<E: EntityTrait>(table: &'static str) -> Vec<Column> {
    E::Column::iter()
        .filter(|c| !c.as_str().ends_with("_folded"))
        .map(|c| {
            let name = c.as_str();
            let def = c.def();
            Column {
                name,
                kind: kind_of(def.get_column_type()),
                required: !def.is_null() && !FILLED.contains(&name),
                references: referenced(table, name),
                values: vocabulary(table, name),
            }
        })
        .collect()
}

/// Declares the types import and export know, parents before children,
/// and dispatches to the generic code for each.
macro_rules! types {
    ($($table:ident),+ $(,)?) => {
        /// Every type, parents before children (the order of an import).
        pub const TYPES: &[&str] = &[$(stringify!($table)),+];

        /// The columns of a type.
        pub fn columns(table: &str) -> anyhow::Result<Vec<Column>> {
            match table {
                $(stringify!($table) => Ok(columns_of::<entity::$table::Entity>(stringify!($table))),)+
                _ => bail!(unknown_type(table)),
            }
        }

        /// Every row of a type, in primary-key order.
        pub async fn export_type<C: ConnectionTrait>(db: &C, table: &str) -> anyhow::Result<Vec<Row>> {
            match table {
                $(stringify!($table) => export_rows::<entity::$table::Entity, C>(db).await,)+
                _ => bail!(unknown_type(table)),
            }
        }

        async fn import_type(
            txn: &DatabaseTransaction,
            table: &'static str,
            rows: Vec<(usize, Row)>,
            author: Author<'_>,
            report: &mut Report,
        ) -> anyhow::Result<()> {
            match table {
                $(stringify!($table) => {
                    import_rows::<entity::$table::Entity>(txn, table, rows, author, report).await
                })+
                _ => bail!(unknown_type(table)),
            }
        }
    };
}

types!(
    source,
    network,
    axis,
    territory,
    organization,
    deployment,
    deployment_organization,
    domain,
    deployment_domain,
    technique,
    deployment_technique,
    risk_category,
    deployment_risk,
    concertation_programme,
    programme_participation,
    concertation,
    concertation_co_organizer,
    concertation_format,
    concertation_public,
    contribution,
    contribution_risk_category,
    contribution_deployment,
    opportunity,
    lever,
    lever_risk_category,
    charter,
    charter_signature,
    study,
    study_finding,
    finding_risk_category,
    finding_lever,
    finding_concertation,
    resource,
    event,
);

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
            for table in TYPES {
                let rows = export_type(db, table).await?;
                all.insert(
                    (*table).to_owned(),
                    Json::Array(rows.into_iter().map(Json::Object).collect()),
                );
            }
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

/// A value as its column holds it: numbers as numbers (a CSV cell is text),
/// dates checked; `Err` says why it cannot be.
fn typed_value(column: &Column, value: Json) -> Result<Json, String> {
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
    fn problem(&mut self, table: &str, line: usize, column: &str, reason: impl Into<String>) {
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
fn check_row(table: &str, line: usize, columns: &[Column], row: &Row, report: &mut Report) {
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

/// Ids of `table` that exist in the transaction.
async fn existing_ids<C: ConnectionTrait>(
    db: &C,
    table: &str,
    ids: &[i64],
) -> anyhow::Result<HashSet<i64>> {
    let mut found = HashSet::new();
    for chunk in ids.chunks(500) {
        let query = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
            .to_owned();
        for row in db.query_all(&query).await? {
            found.insert(row.try_get::<i64>("", "id")?);
        }
    }
    Ok(found)
}

async fn import_rows<E: EntityTrait>(
    txn: &DatabaseTransaction,
    table: &'static str,
    rows: Vec<(usize, Row)>,
    author: Author<'_>,
    report: &mut Report,
) -> anyhow::Result<()>
where
    E::Model:
        serde::Serialize + serde::de::DeserializeOwned + sea_orm::IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E>
        + sea_orm::ActiveModelBehavior
        + sea_orm::TryIntoModel<E::Model>
        + Send,
{
    let columns = columns_of::<E>(table);
    // References, looked up once per referenced type.
    let mut wanted: HashMap<&'static str, Vec<i64>> = HashMap::new();
    for (_, row) in &rows {
        for column in &columns {
            if let (Some(target), Some(id)) = (
                column.references,
                row.get(column.name).and_then(Json::as_i64),
            ) {
                wanted.entry(target).or_default().push(id);
            }
        }
    }
    let own_ids: HashSet<i64> = rows
        .iter()
        .filter_map(|(_, row)| row.get("id").and_then(Json::as_i64))
        .collect();
    let mut known: HashMap<&'static str, HashSet<i64>> = HashMap::new();
    for (target, ids) in wanted {
        known.insert(target, existing_ids(txn, target, &ids).await?);
    }
    let now = author.at;
    // Every row is checked, then the sound ones are written in batches:
    // with a problem anywhere the import is undone, but the database has
    // had its say on every sound row (a duplicate slug…), and the types
    // after this one find the records they name.
    let mut ready: Vec<Ready<E::ActiveModel>> = Vec::new();
    for (line, mut row) in rows {
        let before = report.problems.len();
        check_row(table, line, &columns, &row, report);
        for column in &columns {
            let Some(target) = column.references else {
                continue;
            };
            let Some(id) = row.get(column.name).and_then(Json::as_i64) else {
                continue;
            };
            let exists = known.get(target).is_some_and(|ids| ids.contains(&id))
                || (target == table && own_ids.contains(&id));
            if !exists {
                report.problem(
                    table,
                    line,
                    column.name,
                    format!("names no {target} with id {id}"),
                );
            }
        }
        if report.problems.len() > before {
            continue;
        }
        for (name, value) in [
            ("created_at", Json::from(now.to_rfc3339())),
            ("updated_at", Json::from(now.to_rfc3339())),
            ("version", Json::from(1)),
        ] {
            if columns.iter().any(|c| c.name == name) && row.get(name).is_none_or(Json::is_null) {
                row.insert(name.to_owned(), value);
            }
        }
        let given: Vec<String> = row.keys().cloned().collect();
        match E::ActiveModel::from_json(Json::Object(row)) {
            Ok(model) => ready.push(Ready { line, given, model }),
            Err(err) => report.problem(table, line, "-", err.to_string()),
        }
    }
    let mut written = 0;
    // Rows giving the same columns go in one statement.
    let most = bulk::rows_per_statement::<E>();
    let mut ready = ready.into_iter().peekable();
    while let Some(first) = ready.next() {
        let mut batch = vec![first];
        while batch.len() < most
            && let Some(next) = ready.next_if(|next| next.given == batch[0].given)
        {
            batch.push(next);
        }
        written += insert_batch::<E>(txn, batch, author, report).await?;
    }
    report.rows.insert(table.to_owned(), written);
    Ok(())
}

/// A row checked and ready to be written.
struct Ready<A> {
    line: usize,
    /// The columns it gives, in order.
    given: Vec<String>,
    model: A,
}

/// Writes rows that give the same columns through the store's bulk path,
/// in one statement (see [`crate::store::bulk`]). If the database refuses
/// it, the rows are written one at a time instead, so that each refused row
/// is reported. Returns the number of rows written.
async fn insert_batch<E: EntityTrait>(
    txn: &DatabaseTransaction,
    batch: Vec<Ready<E::ActiveModel>>,
    author: Author<'_>,
    report: &mut Report,
) -> anyhow::Result<usize>
where
    E::Model: serde::Serialize + sea_orm::IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let table = E::default().table_name();
    if batch.len() > 1 {
        let models: Vec<E::ActiveModel> = batch.iter().map(|ready| ready.model.clone()).collect();
        let savepoint = txn.begin().await?;
        match bulk::insert(&savepoint, models, author).await {
            Ok(inserted) => {
                savepoint.commit().await?;
                return Ok(inserted.len());
            }
            Err(_) => savepoint.rollback().await?,
        }
    }
    let mut written = 0;
    for Ready { line, model, .. } in batch {
        let savepoint = txn.begin().await?;
        match bulk::insert(&savepoint, vec![model], author).await {
            Ok(_) => {
                savepoint.commit().await?;
                written += 1;
            }
            Err(err) => {
                savepoint.rollback().await?;
                let reason = match err.sql_err() {
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                        "another row already has its id or a value that must be unique (slug, SIREN, title…)".to_owned()
                    }
                    Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                        "names a record that does not exist".to_owned()
                    }
                    _ => {
                        tracing::warn!(table, line, error = %err, "import row refused");
                        "the database refused this row".to_owned()
                    }
                };
                report.problem(table, line, "-", reason);
            }
        }
    }
    Ok(written)
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
        label: actor,
        at: Utc::now(),
    };
    for (table, rows) in parsed {
        import_type(&txn, table, rows, author, &mut report).await?;
    }
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
