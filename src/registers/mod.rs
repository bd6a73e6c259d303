//! The public registers of algorithms that governments publish, imported
//! as deployments of the public bodies that run them: the Dutch national
//! Algoritmeregister ([`nl`]), the UK's Algorithmic Transparency Records
//! ([`uk`]) and Etalab's list of French public algorithms ([`fr`]). Each
//! source is read into [`Record`]s, then synced ([`sync`]); the copies in
//! `data/registers/` are built into the binary.
//!
//! A sync is one transaction, written through the store's bulk path
//! (`store::bulk`), the register named as the author of every version and
//! audit event. A deployment is found again by its entry in the register
//! (register, external id). Only what changed is written: importing the
//! same file twice writes nothing. What the register no longer lists is
//! archived (never deleted), and restored when it comes back.
//!
//! **Who owns which field.** The register owns the fields it fills — the
//! title, summary, status, legal basis, language, the register's address
//! and the code's, and the body that runs the use — and every entry keeps
//! what the register said of them at the last import. A field the register
//! changed since is written; a field it did not change is left as it is,
//! so an edit made in Vigie holds until the register itself changes that
//! field. The same holds for the supplier a register names: linked when
//! the register names it, unlinked when the register drops it, left as
//! editors have it otherwise. Risks a register states in words are its
//! own (a sync writes them); every other field (decision role, AI Act
//! tier, audience, risks with a category, other organizations…) belongs
//! to editors: a sync never writes it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::bail;
use chrono::{NaiveDate, Utc};
use entity::{
    deployment, deployment_organization, deployment_register_entry as entry, deployment_risk,
    enums::{
        AiActTier, DeploymentStatus, MitigationStatus, OrganizationKind, OrganizationRole,
        TerritoryKind,
    },
    organization, territory, territory_identifier,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IdenStatic,
    IntoActiveModel, QueryFilter, QuerySelect, Select,
};
use serde::Serialize;
use serde_json::{Value as Json, json};

mod fetch;
mod fr;
mod nl;
mod records;
mod source;
mod uk;

pub use fetch::{fetch, is_address};
pub use source::{Input, MAX_BYTES};

use crate::{
    progress::Progress,
    store::{
        Author,
        bulk::{self, Outcome},
        provenance::SourceFile,
    },
    text::unique_slug,
};

/// The formats `vigie import-register` reads: one per register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// The Dutch Algoritmeregister's listing (`algoritmes.json`: `id`,
    /// `title`, `organisatie`, `status`, `doel`, `juridische_basis`…).
    NlAlgoritmeregister,
    /// The UK's Algorithmic Transparency Records, one CSV row each
    /// (`record_id`, `title`, `description`, `source_url`, `phase`…).
    UkAtrs,
    /// Etalab's list of French public algorithms (`theme_objet`,
    /// `producteurs`, `publication`…), as JSON.
    FrEtalab,
    /// Full Dutch register records: the current export
    /// (`{"algoritme_versions": […]}`, one row per language) or the 2022
    /// pilot's (`[{"algemene_informatie": …, "toezicht": …}]`).
    NlAlgoritmeregisterRecords,
}

impl Format {
    /// Every format, in the order the bundled registers load.
    pub const ALL: [Format; 3] = [
        Format::FrEtalab,
        Format::UkAtrs,
        Format::NlAlgoritmeregister,
    ];

    /// The register's name, as entries and the audit trail name it.
    pub fn register(self) -> &'static str {
        match self {
            Format::NlAlgoritmeregister => "nl-algoritmeregister",
            Format::UkAtrs => "uk-atrs",
            Format::FrEtalab => "fr-etalab",
            Format::NlAlgoritmeregisterRecords => records::REGISTER,
        }
    }

    /// The bundled copy of the register, loaded on a first start; none for
    /// full Dutch records (their copies are test data).
    fn bundled(self) -> Option<&'static [u8]> {
        Some(match self {
            Format::NlAlgoritmeregister => {
                include_bytes!("../../data/registers/nl-algoritmeregister/algoritmes.json.gz")
            }
            Format::UkAtrs => include_bytes!("../../data/registers/uk-atrs/atrs_audit.csv"),
            Format::FrEtalab => {
                include_bytes!("../../data/registers/fr-etalab/algorithmes_publics.json")
            }
            Format::NlAlgoritmeregisterRecords => return None,
        })
    }

    /// The bundled copy of the register, as an input.
    pub fn bundled_input(self) -> anyhow::Result<Input> {
        let Some(bytes) = self.bundled() else {
            bail!(
                "no copy of {} is built in: give a file or an address",
                self.register()
            );
        };
        Ok(Input::bytes(
            format!("the bundled copy of {}", self.register()),
            bytes.to_vec(),
        ))
    }

    /// The records of `text`, read as this format, and the register they
    /// are of; an error when it is not this format at all.
    pub fn parse(self, text: &str) -> anyhow::Result<Parsed> {
        let (register, entries) = match self {
            Format::NlAlgoritmeregister => (self.register(), nl::parse(text)?),
            Format::UkAtrs => (self.register(), uk::parse(text)?),
            Format::FrEtalab => (self.register(), fr::parse(text)?),
            Format::NlAlgoritmeregisterRecords => records::parse(text)?,
        };
        Ok(Parsed {
            register,
            entries: without_duplicates(entries),
        })
    }
}

/// What a source holds: the register, and its records.
pub struct Parsed {
    pub register: &'static str,
    pub entries: Vec<Entry>,
}

/// Each register's source, as its `source.json` describes it.
const SOURCES: [(&str, &[u8]); 5] = [
    (
        "nl-algoritmeregister",
        include_bytes!("../../data/registers/nl-algoritmeregister/source.json"),
    ),
    (
        "uk-atrs",
        include_bytes!("../../data/registers/uk-atrs/source.json"),
    ),
    (
        "fr-etalab",
        include_bytes!("../../data/registers/fr-etalab/source.json"),
    ),
    (
        records::REGISTER,
        include_bytes!("../../data/registers/nl-algoritmeregister-records/records.source.json"),
    ),
    (
        records::PILOT,
        include_bytes!("../../data/registers/nl-algoritmeregister-records/pilot-2022.source.json"),
    ),
];

/// The source of `register`, as its `source.json` describes it.
pub fn source_of(register: &str) -> SourceFile {
    let (_, json) = SOURCES
        .iter()
        .find(|(name, _)| *name == register)
        .expect("every register has a source.json");
    serde_json::from_slice(json).expect("a bundled source.json is valid")
}

/// One entry of a register, as Vigie holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its id in the register.
    pub external_id: String,
    pub title: String,
    pub summary: Option<String>,
    pub status: DeploymentStatus,
    /// The public body that runs it.
    pub body: Body,
    /// Where the register shows it.
    pub url: Option<String>,
    pub published_on: Option<NaiveDate>,
    pub revised_on: Option<NaiveDate>,
    pub legal_basis: Option<String>,
    /// The language of its texts (BCP 47).
    pub language: &'static str,
    /// Where its source code is published.
    pub code_url: Option<String>,
    /// The need it answers.
    pub purpose: Option<String>,
    pub human_oversight: Option<String>,
    pub objection_procedure: Option<String>,
    /// Months the use started and ended (`YYYY-MM`), when the register
    /// gives them.
    pub start_month: Option<String>,
    pub end_month: Option<String>,
    /// The risks, as the register states them (free text).
    pub risks: Option<String>,
    /// The organization that supplies the system, by name.
    pub supplier: Option<String>,
    /// Its place among the records read (1 for the first), set on sync.
    pub position: usize,
}

impl Record {
    /// A record with only what every register gives: id, title, stage,
    /// body and language.
    pub fn new(
        external_id: String,
        title: String,
        status: DeploymentStatus,
        body: Body,
        language: &'static str,
    ) -> Self {
        Self {
            external_id,
            title,
            summary: None,
            status,
            body,
            url: None,
            published_on: None,
            revised_on: None,
            legal_basis: None,
            language,
            code_url: None,
            purpose: None,
            human_oversight: None,
            objection_procedure: None,
            start_month: None,
            end_month: None,
            risks: None,
            supplier: None,
            position: 0,
        }
    }
}

/// A public body, as a register names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub name: String,
    pub kind: TerritoryKind,
    /// ISO 3166-1 alpha-2.
    pub country: &'static str,
    /// Its identifiers (scheme, value): the first is the register's own
    /// key for it, found again by the next import.
    pub identifiers: Vec<(String, String)>,
}

/// A record of the source that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// Its id, when it has one.
    pub id: Option<String>,
    /// Its place in the source (1 for the first record).
    pub position: usize,
    pub reason: String,
}

/// A record read from a source: one to import, or one skipped.
pub type Entry = Result<Record, Skipped>;

/// Text as registers give it: trimmed, zero-width spaces dropped, `None`
/// when nothing is left.
fn clean(text: Option<&str>) -> Option<String> {
    let text = text?.replace('\u{200B}', "");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The text of `row`'s `field`, when it is text.
fn text<'a>(row: &'a Json, field: &str) -> Option<&'a str> {
    row.get(field).and_then(Json::as_str)
}

/// An id as a JSON record gives it: text (cleaned) or a number.
fn id_of(row: &Json, field: &str) -> Option<String> {
    match row.get(field) {
        Some(Json::String(id)) => clean(Some(id)),
        Some(Json::Number(id)) => Some(id.to_string()),
        _ => None,
    }
}

/// A date `YYYY-MM-DD` at the start of `text` (a timestamp's day).
fn day(text: Option<&str>) -> Option<NaiveDate> {
    let text = text?.trim();
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

/// Skips every record whose id the source gives more than once: which of
/// them is the register's cannot be told.
fn without_duplicates(entries: Vec<Entry>) -> Vec<Entry> {
    let mut times: HashMap<String, usize> = HashMap::new();
    for record in entries.iter().flatten() {
        *times.entry(record.external_id.clone()).or_default() += 1;
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| match entry {
            Ok(record) if times[&record.external_id] > 1 => Err(Skipped {
                reason: format!(
                    "id {} appears {} times in the source",
                    record.external_id, times[&record.external_id]
                ),
                id: Some(record.external_id),
                position: index + 1,
            }),
            other => other,
        })
        .collect()
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Report {
    pub register: String,
    /// Read from.
    pub input: String,
    /// Nothing was written: a dry run, or an unchanged input (`not
    /// modified` when the server said so).
    pub dry_run: bool,
    pub not_modified: bool,
    /// Records read from the source, skipped ones included.
    pub records: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Deployments the register no longer lists, archived.
    pub archived: usize,
    /// Deployments back in the register, restored.
    pub restored: usize,
    /// Public bodies created.
    pub bodies_created: usize,
    /// Fields edited in Vigie that the register did not change, kept.
    pub edits_kept: usize,
    /// Risks as the register states them, created, changed or archived.
    pub risks_written: usize,
    /// Supplier links created, restored or archived, and organizations
    /// created for suppliers.
    pub suppliers_written: usize,
    pub skipped: Vec<Skipped>,
}

impl Report {
    /// The report of a fetch the server answered « not modified ».
    pub fn not_modified(format: Format, address: &str) -> Self {
        Self {
            register: format.register().to_owned(),
            input: address.to_owned(),
            not_modified: true,
            ..Default::default()
        }
    }

    /// Whether the import wrote anything.
    pub fn wrote(&self) -> bool {
        self.created
            + self.updated
            + self.archived
            + self.restored
            + self.bodies_created
            + self.risks_written
            + self.suppliers_written
            > 0
    }

    /// The report as lines for a reader.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{} from {}{}: {} records; {} created, {} updated, {} unchanged, {} archived, \
             {} restored, {} skipped; {} public bodies created; {} edits made in Vigie kept",
            self.register,
            self.input,
            match (self.dry_run, self.not_modified) {
                (true, _) => " (dry run: nothing written)",
                (_, true) => " (not modified since the last import: nothing written)",
                _ => "",
            },
            self.records,
            self.created,
            self.updated,
            self.unchanged,
            self.archived,
            self.restored,
            self.skipped.len(),
            self.bodies_created,
            self.edits_kept,
        )];
        lines.extend(self.skipped.iter().map(|skip| {
            format!(
                "skipped record {} (id {}): {}",
                skip.position,
                skip.id.as_deref().unwrap_or("none"),
                skip.reason
            )
        }));
        lines
    }
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Do everything but keep nothing.
    pub dry_run: bool,
}

/// Imports the register of `format` from `from`: an http(s) address
/// (fetched conditionally: nothing is imported when its server says the
/// copy last imported from there is current), a file, or when `None` the
/// bundled copy.
pub async fn import_from(
    db: &DatabaseConnection,
    format: Format,
    from: Option<&str>,
    options: &Options,
) -> anyhow::Result<Report> {
    let input = match from {
        None => format.bundled_input()?,
        Some(address) if is_address(address) => match fetch(db, format, address).await? {
            Some(input) => input,
            None => return Ok(Report::not_modified(format, address)),
        },
        Some(path) => Input::file(std::path::Path::new(path))?,
    };
    import(db, format, input, options).await
}

/// Reads `input` as `format` and syncs the register with it.
pub async fn import(
    db: &DatabaseConnection,
    format: Format,
    input: Input,
    options: &Options,
) -> anyhow::Result<Report> {
    let text = input.text()?;
    let parsed = format.parse(&text)?;
    let mut source = source_of(parsed.register);
    if let Some(retrieved_on) = input.retrieved_on {
        source.retrieved_on = Some(retrieved_on);
    }
    let mut report = sync(db, parsed.register, &source, parsed.entries, options).await?;
    if let (false, Some(validators)) = (options.dry_run, &input.validators) {
        fetch::remember(db, format.register(), validators).await?;
    }
    report.input = input.name;
    Ok(report)
}

/// Loads the bundled registers into the database, each one on its own.
pub async fn load_bundled(db: &DatabaseConnection) -> anyhow::Result<Vec<Report>> {
    let mut reports = Vec::new();
    for format in Format::ALL {
        reports.push(import(db, format, format.bundled_input()?, &Options::default()).await?);
    }
    Ok(reports)
}

/// The fields of a deployment the register owns, as the register gives
/// them: what an entry keeps of its last import.
const OWNED: [deployment::Column; 13] = [
    deployment::Column::Title,
    deployment::Column::Summary,
    deployment::Column::Status,
    deployment::Column::LegalBasis,
    deployment::Column::Language,
    deployment::Column::AlgorithmRegisterUrl,
    deployment::Column::CodeUrl,
    deployment::Column::TerritoryId,
    deployment::Column::Purpose,
    deployment::Column::HumanOversight,
    deployment::Column::ObjectionProcedure,
    deployment::Column::StartMonth,
    deployment::Column::EndMonth,
];

/// A deployment as `record` has it, run by `territory`, from `source`.
fn deployment_of(record: &Record, territory: i64, source: i64) -> deployment::ActiveModel {
    deployment::ActiveModel {
        territory_id: Set(territory),
        title: Set(record.title.clone()),
        summary: Set(record.summary.clone()),
        status: Set(record.status),
        legal_basis: Set(record.legal_basis.clone()),
        language: Set(Some(record.language.to_owned())),
        algorithm_register_url: Set(record.url.clone()),
        code_url: Set(record.code_url.clone()),
        purpose: Set(record.purpose.clone()),
        human_oversight: Set(record.human_oversight.clone()),
        objection_procedure: Set(record.objection_procedure.clone()),
        start_month: Set(record.start_month.clone()),
        end_month: Set(record.end_month.clone()),
        source_id: Set(Some(source)),
        ..Default::default()
    }
}

/// The owned fields of a deployment, as JSON by column name.
fn owned(row: &deployment::ActiveModel) -> Json {
    let fields = OWNED
        .iter()
        .map(|column| {
            let value = row.get(*column).into_value();
            (column.as_str().to_owned(), json_of(value))
        })
        .collect();
    Json::Object(fields)
}

fn json_of(value: Option<sea_orm::Value>) -> Json {
    use sea_orm::Value;
    match value {
        Some(Value::String(Some(text))) => Json::String(text.to_string()),
        Some(Value::BigInt(Some(n))) => json!(n),
        Some(Value::Int(Some(n))) => json!(n),
        _ => Json::Null,
    }
}

/// Syncs `register` with `entries`: one transaction, kept only when it
/// wrote something and is not a dry run.
pub async fn sync(
    db: &DatabaseConnection,
    register: &str,
    source: &SourceFile,
    entries: Vec<Entry>,
    options: &Options,
) -> anyhow::Result<Report> {
    if entity::source::holds_synthetic(db).await? {
        bail!(
            "this database holds synthetic data; import registers into another one, \
             so that real and synthetic records never mix"
        );
    }
    let label = format!("register {register}");
    let txn = crate::store::begin(db).await?;
    let mut sync = Sync {
        txn: &txn,
        register,
        author: Author {
            key: None,
            label: &label,
            at: Utc::now(),
        },
        report: Report {
            register: register.to_owned(),
            dry_run: options.dry_run,
            records: entries.len(),
            ..Default::default()
        },
        wrote: false,
        suppliers_changed: BTreeSet::new(),
    };
    let mut records = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        match entry {
            Ok(record) => records.push(Record {
                position: index + 1,
                ..record
            }),
            Err(skipped) => sync.report.skipped.push(skipped),
        }
    }
    let progress = Progress::new("register records", records.len() as u64);
    let source_id = sync.source(source).await?;
    let bodies = sync.bodies(&records, source_id).await?;
    let ids = sync
        .deployments(&records, &bodies, source_id, &progress)
        .await?;
    sync.risks(&records, &ids, source_id).await?;
    sync.suppliers(&records, &ids, source_id).await?;
    progress.finish();
    let wrote = sync.wrote || sync.report.wrote();
    let report = sync.report;
    if options.dry_run || !wrote {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(report)
}

struct Sync<'a> {
    txn: &'a sea_orm::DatabaseTransaction,
    register: &'a str,
    author: Author<'a>,
    report: Report,
    /// Whether anything was written (bookkeeping of entries included).
    wrote: bool,
    /// The records whose supplier the register changed since the last
    /// import (or named on their first).
    suppliers_changed: BTreeSet<String>,
}

impl Sync<'_> {
    /// The rows `select` finds whose `column` is one of `ids`, asked a few
    /// hundred ids at a time (within what a statement may bind).
    async fn among<E: EntityTrait>(
        &self,
        select: Select<E>,
        column: E::Column,
        ids: &[i64],
    ) -> Result<Vec<E::Model>, sea_orm::DbErr> {
        let mut rows = Vec::new();
        for chunk in ids.chunks(500) {
            rows.extend(
                select
                    .clone()
                    .filter(column.is_in(chunk.iter().copied()))
                    .all(self.txn)
                    .await?,
            );
        }
        Ok(rows)
    }

    /// The slugs a table's records have taken (`column`, its slug column).
    async fn slugs<E: EntityTrait>(
        &self,
        column: E::Column,
    ) -> Result<BTreeSet<String>, sea_orm::DbErr> {
        Ok(E::find()
            .select_only()
            .column(column)
            .into_tuple::<String>()
            .all(self.txn)
            .await?
            .into_iter()
            .collect())
    }

    /// The register's source record, as its `source.json` has it.
    async fn source(&mut self, file: &SourceFile) -> anyhow::Result<i64> {
        let existing = file.find().one(self.txn).await?;
        let (model, outcome) = bulk::upsert(self.txn, existing, file.record(), self.author).await?;
        self.wrote |= outcome != Outcome::Unchanged;
        Ok(model.id)
    }

    /// The territory of each public body the records name, by the body's
    /// key: found by any of its identifiers, or created (with them).
    async fn bodies(
        &mut self,
        records: &[Record],
        source: i64,
    ) -> anyhow::Result<HashMap<(String, String), i64>> {
        let mut wanted: BTreeMap<(String, String), &Body> = BTreeMap::new();
        for record in records {
            wanted
                .entry(record.body.identifiers[0].clone())
                .or_insert(&record.body);
        }
        let schemes: BTreeSet<&str> = wanted
            .values()
            .flat_map(|body| body.identifiers.iter().map(|(scheme, _)| scheme.as_str()))
            .collect();
        let mut known: HashMap<(String, String), i64> = territory_identifier::Entity::find()
            .filter(territory_identifier::Column::Scheme.is_in(schemes))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|row| ((row.scheme, row.value), row.territory_id))
            .collect();
        let mut ids = HashMap::new();
        let mut new = Vec::new();
        for (key, body) in &wanted {
            let found = body
                .identifiers
                .iter()
                .find_map(|id| known.get(id).copied());
            match found {
                Some(id) => {
                    ids.insert(key.clone(), id);
                }
                None => new.push((key.clone(), *body)),
            }
        }
        if !new.is_empty() {
            let mut slugs = self
                .slugs::<territory::Entity>(territory::Column::Slug)
                .await?;
            let rows = new
                .iter()
                .map(|(_, body)| territory::ActiveModel {
                    name: Set(body.name.clone()),
                    official_name: Set(Some(body.name.clone())),
                    slug: Set(unique_slug(
                        &mut slugs,
                        &format!("{} {}", body.name, body.country),
                    )),
                    kind: Set(body.kind),
                    country: Set(body.country.to_owned()),
                    source_id: Set(Some(source)),
                    ..Default::default()
                })
                .collect();
            let stored = bulk::insert(self.txn, rows, self.author).await?;
            self.report.bodies_created += stored.len();
            for ((key, _), model) in new.iter().zip(stored) {
                ids.insert(key.clone(), model.id);
            }
        }
        // Every identifier of a body that no territory holds yet.
        let mut identifiers = Vec::new();
        for (key, body) in &wanted {
            for id in &body.identifiers {
                if !known.contains_key(id) {
                    known.insert(id.clone(), ids[key]);
                    identifiers.push(territory_identifier::ActiveModel {
                        scheme: Set(id.0.clone()),
                        value: Set(id.1.clone()),
                        territory_id: Set(ids[key]),
                        created_at: Set(self.author.at),
                    });
                }
            }
        }
        self.wrote |= !identifiers.is_empty();
        bulk::insert(self.txn, identifiers, self.author).await?;
        Ok(ids)
    }

    /// Creates, updates, archives and restores the register's deployments
    /// so that they are what `records` say; returns the deployment of
    /// each record, by its id in the register.
    async fn deployments(
        &mut self,
        records: &[Record],
        bodies: &HashMap<(String, String), i64>,
        source: i64,
        progress: &Progress,
    ) -> anyhow::Result<HashMap<String, i64>> {
        let mut of_record = HashMap::new();
        let entries: HashMap<String, entry::Model> = entry::Entity::find()
            .filter(entry::Column::Register.eq(self.register))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|row| (row.external_id.clone(), row))
            .collect();
        let ids: Vec<i64> = entries.values().map(|row| row.deployment_id).collect();
        let stored: HashMap<i64, deployment::Model> = self
            .among(deployment::Entity::find(), deployment::Column::Id, &ids)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        let today = self.author.at.date_naive();
        let mut new = Vec::new();
        for (done, record) in records.iter().enumerate() {
            let territory = bodies[&record.body.identifiers[0]];
            let mut desired = deployment_of(record, territory, source);
            let mut said = owned(&desired);
            if let Json::Object(fields) = &mut said {
                fields.insert("supplier".into(), json!(record.supplier));
            }
            let entry_row = entry::ActiveModel {
                register: Set(self.register.to_owned()),
                external_id: Set(record.external_id.clone()),
                url: Set(record.url.clone()),
                published_on: Set(record.published_on),
                revised_on: Set(record.revised_on),
                imported: Set(Some(said.to_string())),
                withdrawn_on: Set(None),
                ..Default::default()
            };
            let Some(entry) = entries.get(&record.external_id) else {
                if record.supplier.is_some() {
                    self.suppliers_changed.insert(record.external_id.clone());
                }
                desired.ai_act_tier = Set(AiActTier::Unassessed);
                new.push((desired, entry_row));
                continue;
            };
            let Some(model) = stored.get(&entry.deployment_id).cloned() else {
                self.report.skipped.push(Skipped {
                    id: Some(record.external_id.clone()),
                    position: record.position,
                    reason: "its deployment is no longer in the database".into(),
                });
                continue;
            };
            of_record.insert(record.external_id.clone(), model.id);
            let last: Json = entry
                .imported
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or(Json::Null);
            let current = owned(&model.clone().into_active_model());
            let supplier = |json: &Json| json.get("supplier").cloned().unwrap_or(Json::Null);
            if supplier(&last) != supplier(&said) {
                self.suppliers_changed.insert(record.external_id.clone());
            }
            for column in OWNED {
                let name = column.as_str();
                // A field an older import did not keep was empty then.
                let was = |json: &Json| json.get(name).cloned().unwrap_or(Json::Null);
                if was(&last) == was(&said) {
                    // The register did not change it: Vigie's value holds.
                    if was(&current) != was(&said) {
                        self.report.edits_kept += 1;
                    }
                    desired.not_set(column);
                }
            }
            let back = entry.withdrawn_on.is_some() && model.archived_at.is_some();
            if back {
                desired.archived_at = Set(None);
            }
            let (model, mut outcome) =
                bulk::upsert(self.txn, Some(model), desired, self.author).await?;
            let (before, after) = self.write_entry(entry, entry_row).await?;
            if before != after && outcome == Outcome::Unchanged {
                // Only its entry changed (a revision date): the
                // deployment's next version says so.
                let list = |row: &entry::Model| json!([crate::store::snapshot(row)]);
                bulk::relinked::<deployment::ActiveModel, _>(
                    self.txn,
                    model,
                    "register_entries",
                    (list(&before), list(&after)),
                    self.author,
                )
                .await?;
                outcome = Outcome::Updated;
            }
            match outcome {
                Outcome::Updated if back => self.report.restored += 1,
                Outcome::Updated => self.report.updated += 1,
                _ => self.report.unchanged += 1,
            }
            progress.at(done as u64 + 1, "records");
        }
        let (rows, entry_rows): (Vec<_>, Vec<_>) = new.into_iter().unzip();
        let created = bulk::insert(self.txn, rows, self.author).await?;
        self.report.created += created.len();
        let entry_rows = created
            .iter()
            .zip(entry_rows)
            .map(|(model, mut row)| {
                if let Set(external_id) = &row.external_id {
                    of_record.insert(external_id.clone(), model.id);
                }
                row.deployment_id = Set(model.id);
                row.created_at = Set(self.author.at);
                row
            })
            .collect();
        bulk::insert(self.txn, entry_rows, self.author).await?;
        progress.at(records.len() as u64, "records");

        // What the register no longer lists.
        let listed: BTreeSet<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
        for entry in entries.values() {
            if listed.contains(entry.external_id.as_str()) || entry.withdrawn_on.is_some() {
                continue;
            }
            if let Some(model) = stored.get(&entry.deployment_id).cloned()
                && model.archived_at.is_none()
            {
                let desired = deployment::ActiveModel {
                    archived_at: Set(Some(self.author.at)),
                    ..Default::default()
                };
                bulk::upsert(self.txn, Some(model), desired, self.author).await?;
                self.report.archived += 1;
            }
            let mut row = entry.clone().into_active_model();
            row.withdrawn_on = Set(Some(today));
            row.update(self.txn).await?;
            self.wrote = true;
        }
        Ok(of_record)
    }

    /// Makes each deployment's risk, as the register states it (free
    /// text, no category), what its record says: created, changed, or
    /// archived when the register no longer states one. Risks with a
    /// category are the editors'; a sync never touches them.
    async fn risks(
        &mut self,
        records: &[Record],
        ids: &HashMap<String, i64>,
        source: i64,
    ) -> anyhow::Result<()> {
        let deployments: Vec<i64> = ids.values().copied().collect();
        let stated_risks = deployment_risk::Entity::find()
            .filter(deployment_risk::Column::RiskCategoryId.is_null())
            .filter(deployment_risk::Column::SourceId.eq(source));
        let mut stated: HashMap<i64, deployment_risk::Model> = self
            .among(
                stated_risks,
                deployment_risk::Column::DeploymentId,
                &deployments,
            )
            .await?
            .into_iter()
            .map(|row| (row.deployment_id, row))
            .collect();
        let mut new = Vec::new();
        for record in records {
            let Some(&deployment) = ids.get(&record.external_id) else {
                continue;
            };
            let existing = stated.remove(&deployment);
            let live = existing
                .as_ref()
                .is_some_and(|row| row.archived_at.is_none());
            let desired = match (&record.risks, live) {
                (Some(text), _) => deployment_risk::ActiveModel {
                    description: Set(Some(text.clone())),
                    archived_at: Set(None),
                    ..Default::default()
                },
                (None, true) => deployment_risk::ActiveModel {
                    archived_at: Set(Some(self.author.at)),
                    ..Default::default()
                },
                (None, false) => continue,
            };
            if existing.is_none() {
                new.push(deployment_risk::ActiveModel {
                    deployment_id: Set(deployment),
                    mitigation_status: Set(MitigationStatus::None),
                    source_id: Set(Some(source)),
                    ..desired
                });
                continue;
            }
            let (_, outcome) = bulk::upsert(self.txn, existing, desired, self.author).await?;
            if outcome != Outcome::Unchanged {
                self.report.risks_written += 1;
            }
        }
        self.report.risks_written += new.len();
        bulk::insert(self.txn, new, self.author).await?;
        Ok(())
    }

    /// Links each deployment whose supplier the register changed (or
    /// named first) to the organization of that name, as SUPPLIER (the
    /// organization created when none has that name), and unlinks
    /// (archives) the supplier the register named before. A supplier the
    /// register did not change is left as editors have it.
    async fn suppliers(
        &mut self,
        records: &[Record],
        ids: &HashMap<String, i64>,
        source: i64,
    ) -> anyhow::Result<()> {
        use deployment_organization as link;
        let changed: Vec<&Record> = records
            .iter()
            .filter(|r| self.suppliers_changed.contains(&r.external_id))
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let named: BTreeSet<&str> = changed
            .iter()
            .filter_map(|r| r.supplier.as_deref())
            .collect();
        let mut organizations: HashMap<String, i64> = HashMap::new();
        for row in organization::Entity::find()
            .filter(organization::Column::Name.is_in(named.iter().copied()))
            .all(self.txn)
            .await?
        {
            organizations.entry(row.name).or_insert(row.id);
        }
        let missing: Vec<&str> = named
            .iter()
            .copied()
            .filter(|name| !organizations.contains_key(*name))
            .collect();
        if !missing.is_empty() {
            let mut slugs = self
                .slugs::<organization::Entity>(organization::Column::Slug)
                .await?;
            let rows = missing
                .iter()
                .map(|name| organization::ActiveModel {
                    name: Set((*name).to_owned()),
                    slug: Set(unique_slug(&mut slugs, name)),
                    kind: Set(OrganizationKind::Vendor),
                    source_id: Set(Some(source)),
                    ..Default::default()
                })
                .collect();
            for model in bulk::insert(self.txn, rows, self.author).await? {
                self.report.suppliers_written += 1;
                organizations.insert(model.name, model.id);
            }
        }
        let deployments: Vec<i64> = changed
            .iter()
            .filter_map(|r| ids.get(&r.external_id).copied())
            .collect();
        let mut linked: HashMap<i64, Vec<link::Model>> = HashMap::new();
        let suppliers =
            link::Entity::find().filter(link::Column::Role.eq(OrganizationRole::Supplier));
        for row in self
            .among(suppliers, link::Column::DeploymentId, &deployments)
            .await?
        {
            linked.entry(row.deployment_id).or_default().push(row);
        }
        let mut new = Vec::new();
        for record in changed {
            let Some(&deployment) = ids.get(&record.external_id) else {
                continue;
            };
            let wanted = record.supplier.as_deref().map(|name| organizations[name]);
            let rows = linked.remove(&deployment).unwrap_or_default();
            if let Some(organization) = wanted
                && !rows.iter().any(|row| row.organization_id == organization)
            {
                new.push(link::ActiveModel {
                    deployment_id: Set(deployment),
                    organization_id: Set(organization),
                    role: Set(OrganizationRole::Supplier),
                    source_id: Set(Some(source)),
                    ..Default::default()
                });
            }
            for row in rows {
                let ours = row.source_id == Some(source);
                let archive = if Some(row.organization_id) == wanted {
                    false
                } else if ours {
                    true
                } else {
                    continue;
                };
                if archive == row.archived_at.is_some() {
                    continue;
                }
                let desired = link::ActiveModel {
                    archived_at: Set(archive.then_some(self.author.at)),
                    ..Default::default()
                };
                bulk::upsert(self.txn, Some(row), desired, self.author).await?;
                self.report.suppliers_written += 1;
            }
        }
        self.report.suppliers_written += new.len();
        bulk::insert(self.txn, new, self.author).await?;
        Ok(())
    }

    /// Writes what changed of a stored entry; returns what the register
    /// shows of it (address and dates) before and after.
    async fn write_entry(
        &mut self,
        stored: &entry::Model,
        desired: entry::ActiveModel,
    ) -> anyhow::Result<(entry::Model, entry::Model)> {
        let mut row = stored.clone().into_active_model();
        for column in [
            entry::Column::Url,
            entry::Column::PublishedOn,
            entry::Column::RevisedOn,
            entry::Column::Imported,
            entry::Column::WithdrawnOn,
        ] {
            if let Set(value) = desired.get(column)
                && row.get(column).into_value() != Some(value.clone())
            {
                row.set(column, value);
            }
        }
        let after = if row.is_changed() {
            self.wrote = true;
            row.update(self.txn).await?
        } else {
            stored.clone()
        };
        let shown = |row: &entry::Model| entry::Model {
            imported: None,
            withdrawn_on: None,
            ..row.clone()
        };
        Ok((shown(stored), shown(&after)))
    }
}
