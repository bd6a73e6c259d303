//! Etalab's list of French public algorithms (`algorithmes_publics.json`,
//! from the table of `etalab/algorithmes-publics`): algorithms of the State
//! whose source code was published. The list has no ids: a record's id is
//! its first publication address. It gives no stage either (`UNKNOWN`),
//! and names producers by acronym (DGFIP, CNAF…): each is a national body
//! of France, known by that name; the first producer runs the algorithm.

use entity::enums::{DeploymentStatus, TerritoryKind};
use serde_json::Value as Json;

use super::{Body, Entry, Record, Skipped, clean};

/// The scheme of the list's own names for producers.
pub const PRODUCER: &str = "fr-etalab:producteur";

/// Hosts (or a file) where a publication is the source code itself.
fn is_code(url: &str) -> bool {
    ["github.com", "gitlab", "framagit.org"]
        .iter()
        .any(|host| url.contains(host))
        || url.ends_with(".zip")
}

pub fn parse(text: &str) -> anyhow::Result<Vec<Entry>> {
    let rows: Vec<Json> = serde_json::from_str(text)
        .map_err(|err| anyhow::anyhow!("not Etalab's list (a JSON array of rows): {err}"))?;
    if rows.iter().any(|row| {
        row.as_object()
            .is_none_or(|o| !o.contains_key("theme_objet"))
    }) {
        anyhow::bail!("not Etalab's list: every row is an object with a `theme_objet`");
    }
    Ok(rows
        .iter()
        .enumerate()
        .map(|(index, row)| record(row, index + 1))
        .collect())
}

fn urls<'a>(row: &'a Json, field: &str) -> Vec<&'a str> {
    row[field]
        .as_array()
        .map(|links| {
            links
                .iter()
                .filter_map(|link| link["url"].as_str())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|url| !url.trim().is_empty())
        .collect()
}

fn record(row: &Json, position: usize) -> Entry {
    let publications = urls(row, "publication");
    let skip = |id: Option<&str>, reason: &str| Skipped {
        id: id.map(str::to_owned),
        position,
        reason: reason.to_owned(),
    };
    let Some(id) = publications.first().map(|url| url.trim()) else {
        return Err(skip(None, "no publication address, the list's only id"));
    };
    let Some(title) = clean(row["theme_objet"].as_str()) else {
        return Err(skip(Some(id), "no `theme_objet`"));
    };
    let Some(producer) = row["producteurs"]
        .as_array()
        .and_then(|list| list.first())
        .and_then(|p| clean(p["label"].as_str()))
    else {
        return Err(skip(Some(id), "no producer"));
    };
    let body = Body {
        identifiers: vec![(PRODUCER.to_owned(), producer.clone())],
        name: producer,
        kind: TerritoryKind::NationalAgency,
        country: "FR",
    };
    Ok(Record {
        code_url: publications
            .iter()
            .find(|url| is_code(url))
            .map(|url| url.trim().to_owned()),
        ..Record::new(id.to_owned(), title, DeploymentStatus::Unknown, body, "fr")
    })
}
