//! The files of the official geography, as Etalab's
//! `@etalab/decoupage-administratif` publishes them (`data/*.json`, the
//! large ones gzip-compressed), and the project's own `source.json` (what
//! they are: version, retrieval date, licence) and `matches.json` (where
//! the network's territories are in them). The copy in `data/geography/`
//! is built into the binary; `--from DIR` reads another.
//!
//! Every record is read on its own, so that a bad one is named: its file,
//! its place in the file and its code.

use std::{io::Read, path::Path};

use anyhow::{Context as _, bail};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value as Json;

/// The copy built in: (file name, contents).
const BUILT_IN: &[(&str, &[u8])] = &[
    (
        "regions.json",
        include_bytes!("../../data/geography/regions.json"),
    ),
    (
        "departements.json",
        include_bytes!("../../data/geography/departements.json"),
    ),
    (
        "epci.json.gz",
        include_bytes!("../../data/geography/epci.json.gz"),
    ),
    ("ept.json", include_bytes!("../../data/geography/ept.json")),
    (
        "communes.json.gz",
        include_bytes!("../../data/geography/communes.json.gz"),
    ),
    (
        "source.json",
        include_bytes!("../../data/geography/source.json"),
    ),
    (
        "matches.json",
        include_bytes!("../../data/geography/matches.json"),
    ),
];

/// A région.
#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    pub code: String,
    #[serde(rename = "nom")]
    pub name: String,
}

/// A département.
#[derive(Debug, Clone, Deserialize)]
pub struct Department {
    pub code: String,
    pub region: String,
    #[serde(rename = "nom")]
    pub name: String,
}

/// An EPCI or an EPT: its code is its SIREN.
#[derive(Debug, Clone, Deserialize)]
pub struct Grouping {
    pub code: String,
    #[serde(rename = "nom")]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "populationTotale")]
    pub population: Option<i64>,
    #[serde(rename = "membres")]
    pub members: Vec<Member>,
}

/// A member commune of a grouping, by INSEE code.
#[derive(Debug, Clone, Deserialize)]
pub struct Member {
    pub code: String,
}

/// A row of `communes.json`: a current commune, a municipal
/// arrondissement, or a former commune (delegated, associated) that is not
/// a territory of its own.
#[derive(Debug, Clone, Deserialize)]
pub struct Commune {
    pub code: String,
    #[serde(rename = "nom")]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "departement")]
    pub department: Option<String>,
    pub region: Option<String>,
    pub siren: Option<String>,
    pub population: Option<i64>,
    /// A municipal arrondissement's commune.
    pub commune: Option<String>,
}

/// What the files are: `source.json`.
pub type About = crate::store::provenance::SourceFile;

/// Where a territory of the network is in the official geography:
/// `matches.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Match {
    pub slug: String,
    /// The SIREN of an EPCI or an EPT.
    pub siren: Option<String>,
    /// The INSEE code of a commune.
    pub commune: Option<String>,
    /// The INSEE code of a région.
    pub region: Option<String>,
    /// Why it has no official counterpart.
    pub unmatched: Option<String>,
}

#[derive(Deserialize)]
struct Matches {
    territories: Vec<Match>,
}

/// Every file of one copy of the geography.
#[derive(Debug, Clone)]
pub struct Files {
    pub about: About,
    pub regions: Vec<Region>,
    pub departments: Vec<Department>,
    pub epci: Vec<Grouping>,
    pub ept: Vec<Grouping>,
    pub communes: Vec<Commune>,
    pub matches: Vec<Match>,
}

impl Files {
    /// The copy in `dir`, or the one built in. A file may be plain or
    /// gzip-compressed (`NAME.json` or `NAME.json.gz`). `source.json` and
    /// `matches.json` default to the built-in ones when `dir` has none.
    pub fn read(dir: Option<&Path>) -> anyhow::Result<Self> {
        let files = Source { dir };
        Ok(Files {
            about: files.object("source")?,
            regions: files.records("regions")?,
            departments: files.records("departements")?,
            epci: files.records("epci")?,
            // Only the Métropole du Grand Paris has EPT: a copy of
            // another part of France has none.
            ept: files
                .records("ept")
                .or_else(|err| match err.downcast_ref::<Empty>() {
                    Some(_) => Ok(Vec::new()),
                    None => Err(err),
                })?,
            communes: files.records("communes")?,
            matches: files.object::<Matches>("matches")?.territories,
        })
    }
}

/// Where the files are read from.
struct Source<'a> {
    dir: Option<&'a Path>,
}

impl Source<'_> {
    /// The text of `name` (`.json` or `.json.gz`), and the file it came from.
    fn text(&self, name: &str) -> anyhow::Result<(String, String)> {
        let plain = format!("{name}.json");
        let packed = format!("{name}.json.gz");
        let bytes = match self.dir {
            Some(dir) => {
                let found = [&plain, &packed]
                    .into_iter()
                    .map(|file| dir.join(file))
                    .find(|path| path.exists());
                match found {
                    Some(path) => (
                        path.display().to_string(),
                        std::fs::read(&path)
                            .with_context(|| format!("{}: cannot read", path.display()))?,
                    ),
                    None if matches!(name, "source" | "matches") => built_in(name)?,
                    None => bail!("{}: no {plain} or {packed} there", dir.display()),
                }
            }
            None => built_in(name)?,
        };
        let (file, bytes) = bytes;
        let text = if file.ends_with(".gz") {
            let mut text = String::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_string(&mut text)
                .with_context(|| format!("{file}: not a whole gzip file of UTF-8 text"))?;
            text
        } else {
            String::from_utf8(bytes).with_context(|| format!("{file}: not UTF-8 text"))?
        };
        Ok((file, text))
    }

    fn object<T: DeserializeOwned>(&self, name: &str) -> anyhow::Result<T> {
        let (file, text) = self.text(name)?;
        serde_json::from_str(&text).with_context(|| format!("{file}: not of the expected shape"))
    }

    /// A list of records, each read on its own; one that does not fit is
    /// named by its place and its code.
    fn records<T: DeserializeOwned>(&self, name: &str) -> anyhow::Result<Vec<T>> {
        let (file, text) = self.text(name)?;
        let Json::Array(rows) = serde_json::from_str(&text)
            .with_context(|| format!("{file}: not JSON (a truncated file?)"))?
        else {
            bail!("{file}: not a list of records");
        };
        if rows.is_empty() {
            // An empty file would archive every territory of its kind.
            return Err(anyhow::Error::new(Empty).context(format!("{file}: no records")));
        }
        rows.into_iter()
            .enumerate()
            .map(|(index, row)| {
                let code = match row.get("code") {
                    Some(Json::String(code)) if !code.trim().is_empty() => code.clone(),
                    _ => bail!("{file}: record {} has no code", index + 1),
                };
                serde_json::from_value(row)
                    .with_context(|| format!("{file}: record {} (code {code})", index + 1))
            })
            .collect()
    }
}

/// A file with no records.
#[derive(Debug)]
struct Empty;

impl std::fmt::Display for Empty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an empty list")
    }
}

impl std::error::Error for Empty {}

fn built_in(name: &str) -> anyhow::Result<(String, Vec<u8>)> {
    BUILT_IN
        .iter()
        .find(|(file, _)| file.strip_suffix(".gz").unwrap_or(file) == format!("{name}.json"))
        .map(|(file, bytes)| (format!("data/geography/{file}"), bytes.to_vec()))
        .ok_or_else(|| anyhow::anyhow!("no built-in file {name}"))
}
