//! The UK's Algorithmic Transparency Records, one CSV row per record as
//! GOV.UK lists them (`atrs_audit.csv`). A record's id is GOV.UK's content
//! id, which survives a renamed page.
//!
//! The body that runs a tool is the one its title names before `: ` (or
//! ` - `): GOV.UK's organisation tag is the sponsoring department, not
//! always the owner. A title naming none falls back on the tag (a GOV.UK
//! organisation slug, kept as the body's name and identifier). Its kind:
//! a council is a local authority; otherwise as GOV.UK types the tagged
//! organisation (ministerial department, agency or public body…).

use entity::enums::{DeploymentStatus, TerritoryKind};

use super::{Body, Entry, Record, Skipped, clean, day};

/// The scheme of the bodies titles name.
pub const PUBLISHER: &str = "uk-atrs:publisher";
/// GOV.UK's organisation slugs.
pub const GOV_UK: &str = "GOV.UK";

const COLUMNS: [&str; 6] = [
    "record_id",
    "title",
    "description",
    "source_url",
    "organisation",
    "phase",
];

pub fn parse(text: &str) -> anyhow::Result<Vec<Entry>> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|err| anyhow::anyhow!("not a CSV of UK transparency records: {err}"))?
        .clone();
    let at = |name: &str| headers.iter().position(|h| h == name);
    if let Some(missing) = COLUMNS.iter().find(|name| at(name).is_none()) {
        anyhow::bail!("not a CSV of UK transparency records: no `{missing}` column");
    }
    let mut entries = Vec::new();
    for (index, row) in reader.records().enumerate() {
        let row =
            row.map_err(|err| anyhow::anyhow!("invalid CSV at record {}: {err}", index + 1))?;
        let field = |name: &str| at(name).and_then(|i| row.get(i));
        entries.push(record(&field, index + 1));
    }
    Ok(entries)
}

/// The stage a record's phase says.
fn status(phase: &str) -> Option<DeploymentStatus> {
    Some(match phase {
        "production" => DeploymentStatus::Production,
        "beta-pilot" | "private-beta" | "public-beta" => DeploymentStatus::Pilot,
        "pre-deployment" => DeploymentStatus::Development,
        "retired" => DeploymentStatus::Retired,
        _ => return None,
    })
}

fn kind(name: &str, organisation_type: &str) -> TerritoryKind {
    let council = name.ends_with("Council") || name.starts_with("London Borough");
    match organisation_type.split('|').next().unwrap_or_default() {
        _ if council => TerritoryKind::LocalAuthority,
        "local-authority" => TerritoryKind::LocalAuthority,
        "ministerial-department" => TerritoryKind::NationalMinistry,
        "non-ministerial-department" | "agency-or-public-body" => TerritoryKind::NationalAgency,
        _ => TerritoryKind::Other,
    }
}

/// The body a title names, and the tool's name after it.
pub fn split_title(title: &str) -> Option<(&str, &str)> {
    let (body, tool) = title.split_once(": ").or_else(|| title.split_once(" - "))?;
    let (body, tool) = (body.trim(), tool.trim());
    (!body.is_empty() && !tool.is_empty()).then_some((body, tool))
}

fn record<'a>(field: &impl Fn(&str) -> Option<&'a str>, position: usize) -> Entry {
    let id = clean(field("record_id"));
    let skip = |reason: String| Skipped {
        id: id.clone(),
        position,
        reason,
    };
    let Some(external_id) = id.clone() else {
        return Err(skip("no `record_id`".into()));
    };
    let Some(full_title) = clean(field("title")) else {
        return Err(skip("no title".into()));
    };
    let phase = field("phase").unwrap_or_default().trim();
    let Some(status) = status(phase) else {
        return Err(skip(format!("unknown phase `{phase}`")));
    };
    let organisation = clean(field("organisation"));
    let organisation_type = field("organisation_type").unwrap_or_default();
    let (body, title) = match (split_title(&full_title), &organisation) {
        (Some((body, tool)), _) => (
            Body {
                name: body.to_owned(),
                kind: kind(body, organisation_type),
                country: "GB",
                identifiers: vec![(PUBLISHER.to_owned(), body.to_owned())],
            },
            tool.to_owned(),
        ),
        (None, Some(slug)) => (
            Body {
                name: slug.clone(),
                kind: kind(slug, organisation_type),
                country: "GB",
                identifiers: vec![(GOV_UK.to_owned(), slug.clone())],
            },
            full_title.clone(),
        ),
        (None, None) => return Err(skip("no body: neither in the title nor tagged".into())),
    };
    Ok(Record {
        summary: clean(field("description")),
        url: clean(field("source_url")),
        published_on: day(field("date_published")),
        revised_on: day(field("public_updated_at")),
        ..Record::new(external_id, title, status, body, "en")
    })
}
