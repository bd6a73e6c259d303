//! Full Dutch register records, beyond the listing's ten fields: the
//! register's current export (`{"algoritme_versions": […]}`, keyed by LARS
//! number, one row per language) and the records of the 2022 pilot
//! (`[{"algemene_informatie": …, "inzet": …, "juridisch": …, "toezicht": …,
//! "metadata": …}]`, keyed by `metadata.uuid`), each a register of its own.
//!
//! One algorithm published in several languages is one deployment: its
//! Dutch row when there is one (`NLD`), else its first. Its purpose, human
//! oversight, objection procedure, legal basis, code address, months and
//! risks (free text: registers give no category or severity) come with it,
//! and its supplier (`provider`) where the export names one.
//! Not imported as facts: the pilot's `dpia` and `mprd` flags (set for
//! every record, placeholders), and the DPIA and IAMA texts (no field of
//! Vigie holds them).

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::enums::DeploymentStatus;
use serde_json::Value as Json;

use super::{Entry, Record, Skipped, clean, day, id_of, nl, text};

/// The register of the current export's records.
pub const REGISTER: &str = "nl-algoritmeregister-records";
/// The register of the 2022 pilot's records.
pub const PILOT: &str = "nl-algoritmeregister-pilot-2022";

pub fn parse(text: &str) -> anyhow::Result<(&'static str, Vec<Entry>)> {
    let json: Json = serde_json::from_str(text)
        .map_err(|err| anyhow::anyhow!("not full Dutch register records: {err}"))?;
    if let Some(rows) = json.get("algoritme_versions").and_then(Json::as_array) {
        return Ok((REGISTER, current(rows)));
    }
    if let Some(rows) = json.as_array()
        && rows
            .iter()
            .all(|row| row.get("algemene_informatie").is_some_and(Json::is_object))
    {
        return Ok((
            PILOT,
            rows.iter()
                .enumerate()
                .map(|(index, row)| pilot(row, index + 1))
                .collect(),
        ));
    }
    anyhow::bail!(
        "not full Dutch register records: neither the current export (`algoritme_versions`) \
         nor a list of the 2022 pilot's records (`algemene_informatie`…)"
    )
}

/// A stage as the records write it; `UNKNOWN` when they give none.
fn status(text: Option<&str>) -> DeploymentStatus {
    match text.unwrap_or_default().trim().to_lowercase().as_str() {
        "in gebruik" | "in_gebruik" | "actief" | "active" | "in use" => {
            DeploymentStatus::Production
        }
        "in ontwikkeling" | "ontwikkeling" | "in development" => DeploymentStatus::Development,
        "buiten gebruik" | "buiten_gebruik" | "out of use" => DeploymentStatus::Retired,
        _ => DeploymentStatus::Unknown,
    }
}

/// A month `YYYY-MM` at the start of `text`.
fn month(text: Option<&str>) -> Option<String> {
    let text = text?.trim().get(..7)?;
    crate::store::is_month(text).then(|| text.to_owned())
}

/// An address, when `text` is one.
fn address(text: Option<&str>) -> Option<String> {
    clean(text).filter(|url| url.starts_with("http://") || url.starts_with("https://"))
}

fn language(code: Option<&str>) -> &'static str {
    match code.unwrap_or_default() {
        "ENG" => "en",
        "FRY" => "fy",
        _ => "nl",
    }
}

/// The current export: one record per LARS number, its Dutch row first.
fn current(rows: &[Json]) -> Vec<Entry> {
    let mut chosen: Vec<(usize, String)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut entries = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let Some(id) = id_of(row, "lars") else {
            entries.push(Err(Skipped {
                id: None,
                position: index + 1,
                reason: "no `lars`".into(),
            }));
            continue;
        };
        match at.get(&id) {
            None => {
                at.insert(id.clone(), chosen.len());
                chosen.push((index, id));
            }
            Some(&slot) if text(row, "language") == Some("NLD") => chosen[slot].0 = index,
            Some(_) => {}
        }
    }
    for (index, id) in chosen {
        entries.push(current_record(&rows[index], id, index + 1));
    }
    entries
}

fn current_record(row: &Json, id: String, position: usize) -> Entry {
    let skip = |reason: &str| Skipped {
        id: Some(id.clone()),
        position,
        reason: reason.to_owned(),
    };
    let Some(title) = clean(text(row, "name")) else {
        return Err(skip("no `name`"));
    };
    let Some(organisation) = clean(text(row, "organization")) else {
        return Err(skip("no `organization`: the body is unknown"));
    };
    Ok(Record {
        summary: clean(text(row, "description_short")),
        url: address(text(row, "website")),
        revised_on: day(text(row, "create_dt")),
        legal_basis: clean(text(row, "lawful_basis")),
        code_url: address(text(row, "publiccode")),
        purpose: clean(text(row, "goal")),
        human_oversight: clean(text(row, "human_intervention")),
        objection_procedure: clean(text(row, "objection_procedure")),
        start_month: month(text(row, "begin_date")),
        end_month: month(text(row, "end_date")),
        risks: clean(text(row, "risks")),
        supplier: clean(text(row, "provider")),
        ..Record::new(
            id,
            title,
            status(text(row, "status")),
            nl::body(&organisation),
            language(text(row, "language")),
        )
    })
}

/// A date the pilot gives as a spreadsheet's day number (`44484` is
/// 2021-10-15).
fn serial_day(text: Option<&str>) -> Option<NaiveDate> {
    let days: i64 = text?.trim().parse().ok()?;
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    (20_000..100_000)
        .contains(&days)
        .then(|| epoch + chrono::Duration::days(days))
}

fn pilot(row: &Json, position: usize) -> Entry {
    let part = |name: &str| row.get(name).cloned().unwrap_or(Json::Null);
    let (general, use_, legal, application, oversight, meta) = (
        part("algemene_informatie"),
        part("inzet"),
        part("juridisch"),
        part("toepassing"),
        part("toezicht"),
        part("metadata"),
    );
    let id = clean(text(&meta, "uuid"));
    let skip = |reason: &str| Skipped {
        id: id.clone(),
        position,
        reason: reason.to_owned(),
    };
    let Some(external_id) = id.clone() else {
        return Err(skip("no `metadata.uuid`"));
    };
    let Some(title) = clean(text(&general, "name")) else {
        return Err(skip("no `algemene_informatie.name`"));
    };
    let Some(organisation) = clean(text(&general, "organization")) else {
        return Err(skip(
            "no `algemene_informatie.organization`: the body is unknown",
        ));
    };
    Ok(Record {
        summary: clean(text(&general, "description_short")),
        url: address(text(&general, "website")),
        revised_on: serial_day(text(&meta, "revision_date")),
        legal_basis: clean(text(&legal, "lawful_basis")),
        code_url: address(text(&application, "publiccode")),
        purpose: clean(text(&use_, "goal")),
        human_oversight: clean(text(&oversight, "human_intervention")),
        objection_procedure: clean(text(&legal, "objection_procedure")),
        risks: clean(text(&oversight, "risks")),
        ..Record::new(
            external_id,
            title,
            status(text(&general, "status")),
            nl::body(&organisation),
            "nl",
        )
    })
}
