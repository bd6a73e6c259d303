//! The Dutch national Algoritmeregister's listing (`algoritmes.json`: one
//! object per algorithm under `algoritmes`), its ids the register's LARS
//! numbers. The body running an algorithm is named in `organisatie`; the
//! code lists of the Ministry of the Interior (MinBZK) give the official
//! code (`GM####` for a municipality, `PV##`, `WS##`…) of those they name
//! exactly. Others take their kind from their name (`Ministerie van…`,
//! `Gemeente…`) or are `OTHER`.
//!
//! Not imported as facts: the listing's `impactassessment` (a scraper's
//! guess from texts), and `toegevoegd` (the day the scraper first saw it).
//! `geregistreerd`, the day the register recorded the entry, is its
//! publication date, never the start of the use.

use std::{collections::HashMap, sync::LazyLock};

use entity::enums::{DeploymentStatus, TerritoryKind};
use serde_json::Value as Json;

use super::{Body, Entry, Record, Skipped, clean, day, id_of, text};

/// The scheme of the register's own names for organisations.
pub const ORGANISATION: &str = "nl-algoritmeregister:organisatie";
/// The codes of MinBZK's lists (CBS codes for municipalities and
/// provinces).
pub const CODE: &str = "NL-CBS";

/// MinBZK's code lists: (file, the kind of the bodies it lists).
const CODE_LISTS: [(&str, TerritoryKind); 5] = [
    (
        include_str!("../../data/registers/nl-algoritmeregister/Gemeenten.csv"),
        TerritoryKind::Municipality,
    ),
    (
        include_str!("../../data/registers/nl-algoritmeregister/Provincies.csv"),
        TerritoryKind::Province,
    ),
    (
        include_str!("../../data/registers/nl-algoritmeregister/Waterschappen.csv"),
        TerritoryKind::WaterBoard,
    ),
    (
        include_str!("../../data/registers/nl-algoritmeregister/Veiligheidsregios.csv"),
        TerritoryKind::TerritorialGrouping,
    ),
    (
        include_str!("../../data/registers/nl-algoritmeregister/Omgevingsdiensten.csv"),
        TerritoryKind::TerritorialGrouping,
    ),
];

/// Bodies by the exact name the code lists give them: (kind, code).
static CODES: LazyLock<HashMap<String, (TerritoryKind, String)>> = LazyLock::new(|| {
    let mut codes = HashMap::new();
    for (file, kind) in CODE_LISTS {
        // `name;identifier;org_id`, a header first.
        for line in file.lines().skip(1) {
            let mut fields = line.split(';');
            if let (Some(name), Some(code)) = (fields.next(), fields.next())
                && !name.trim().is_empty()
            {
                codes.insert(name.trim().to_owned(), (kind, code.trim().to_owned()));
            }
        }
    }
    codes
});

pub fn parse(text: &str) -> anyhow::Result<Vec<Entry>> {
    let listing: Json = serde_json::from_str(text)
        .map_err(|err| anyhow::anyhow!("not the Algoritmeregister's listing: {err}"))?;
    let Some(rows) = listing.get("algoritmes").and_then(Json::as_array) else {
        anyhow::bail!("not the Algoritmeregister's listing: no `algoritmes` list");
    };
    Ok(rows
        .iter()
        .enumerate()
        .map(|(index, row)| record(row, index + 1))
        .collect())
}

/// The stage a listing's status says.
fn status(text: &str) -> Option<DeploymentStatus> {
    Some(match text {
        "in_gebruik" => DeploymentStatus::Production,
        "ontwikkeling" => DeploymentStatus::Development,
        "buiten_gebruik" => DeploymentStatus::Retired,
        _ => return None,
    })
}

/// A body the code lists do not name, by what its name says.
fn kind_of_name(name: &str) -> TerritoryKind {
    let lower = name.to_lowercase();
    if lower.starts_with("ministerie") {
        TerritoryKind::NationalMinistry
    } else if lower.starts_with("gemeente ") {
        TerritoryKind::Municipality
    } else if lower.starts_with("provincie ") {
        TerritoryKind::Province
    } else if lower.starts_with("waterschap") || lower.starts_with("hoogheemraadschap") {
        TerritoryKind::WaterBoard
    } else {
        TerritoryKind::Other
    }
}

/// The body named `name`, with its official code when the lists have one.
pub fn body(name: &str) -> Body {
    let mut identifiers = vec![(ORGANISATION.to_owned(), name.to_owned())];
    let kind = match CODES.get(name) {
        Some((kind, code)) => {
            identifiers.push((CODE.to_owned(), code.clone()));
            *kind
        }
        None => kind_of_name(name),
    };
    Body {
        name: name.to_owned(),
        kind,
        country: "NL",
        identifiers,
    }
}

fn record(row: &Json, position: usize) -> Entry {
    let id = id_of(row, "id");
    let skip = |reason: String| Skipped {
        id: id.clone(),
        position,
        reason,
    };
    let Some(external_id) = id.clone() else {
        return Err(skip("no `id`".into()));
    };
    let Some(title) = clean(text(row, "title")) else {
        return Err(skip("no title".into()));
    };
    let Some(organisation) = clean(text(row, "organisatie")) else {
        return Err(skip("no `organisatie`: the body is unknown".into()));
    };
    let given = text(row, "status").unwrap_or_default();
    let Some(status) = status(given) else {
        return Err(skip(format!("unknown status `{given}`")));
    };
    Ok(Record {
        summary: clean(text(row, "doel")),
        url: clean(text(row, "url")),
        published_on: day(text(row, "geregistreerd")),
        legal_basis: clean(text(row, "juridische_basis")),
        ..Record::new(external_id, title, status, body(&organisation), "nl")
    })
}
