//! What the files of the geography say, checked and indexed before
//! anything is written (the communes that are territories, the place of
//! each, the kind of each grouping), and how a territory of the geography
//! is found again (its [`Key`]).

use std::collections::{BTreeSet, HashMap};

use anyhow::bail;
use entity::{enums::TerritoryKind, territory};

use super::files::{Commune, Files, Grouping};

/// The codes of the département and the région a territory lies in.
pub(super) type Place<'a> = (Option<&'a str>, Option<&'a str>);

/// How a territory of the geography is found again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Key {
    Region(String),
    Department(String),
    Commune(String),
    Arrondissement(String),
    /// An EPCI or an EPT, by SIREN.
    Grouping(String),
}

impl Key {
    /// The key a stored territory is found by, if it has one.
    pub(super) fn of(row: &territory::Model) -> Option<Key> {
        let code = row.insee_code.clone();
        match row.kind {
            TerritoryKind::Region => code.map(Key::Region),
            TerritoryKind::Department => code.map(Key::Department),
            TerritoryKind::Municipality => code.map(Key::Commune),
            TerritoryKind::MunicipalArrondissement => code.map(Key::Arrondissement),
            _ => row.siren.clone().map(Key::Grouping),
        }
    }

    pub(super) fn code(&self) -> &str {
        match self {
            Key::Region(code)
            | Key::Department(code)
            | Key::Commune(code)
            | Key::Arrondissement(code)
            | Key::Grouping(code) => code,
        }
    }
}

/// What the files say, checked and indexed before anything is written.
pub(super) struct Plan<'a> {
    /// The current communes and the municipal arrondissements.
    pub(super) communes: Vec<&'a Commune>,
    pub(super) arrondissements: Vec<&'a Commune>,
    /// (département code, région code) of each commune, by INSEE code.
    pub(super) commune_place: HashMap<&'a str, (&'a str, &'a str)>,
    /// Each grouping with its kind.
    pub(super) groupings: Vec<(&'a Grouping, TerritoryKind)>,
}

impl<'a> Plan<'a> {
    pub(super) fn new(files: &'a Files) -> anyhow::Result<Self> {
        let region_names: HashMap<&str, &str> = files
            .regions
            .iter()
            .map(|r| (r.code.as_str(), r.name.as_str()))
            .collect();
        let departments: BTreeSet<&str> =
            files.departments.iter().map(|d| d.code.as_str()).collect();
        for department in &files.departments {
            if !region_names.contains_key(department.region.as_str()) {
                bail!(
                    "departements.json: département {} names région {}, which regions.json does not have",
                    department.code,
                    department.region
                );
            }
        }
        let mut communes = Vec::new();
        let mut arrondissements = Vec::new();
        let mut commune_place = HashMap::new();
        for commune in &files.communes {
            let wanted = match commune.kind.as_str() {
                "commune-actuelle" => &mut communes,
                "arrondissement-municipal" => &mut arrondissements,
                // Former communes (delegated, associated) are parts of a
                // current one, not territories of their own.
                _ => continue,
            };
            let (Some(department), Some(region)) = (&commune.department, &commune.region) else {
                bail!(
                    "communes.json: commune {} ({}) has no département or région",
                    commune.code,
                    commune.name
                );
            };
            if !departments.contains(department.as_str())
                || !region_names.contains_key(region.as_str())
            {
                bail!(
                    "communes.json: commune {} ({}) names département {department} and région \
                     {region}, which departements.json and regions.json do not both have",
                    commune.code,
                    commune.name
                );
            }
            wanted.push(commune);
            if commune.kind == "commune-actuelle" {
                commune_place.insert(
                    commune.code.as_str(),
                    (department.as_str(), region.as_str()),
                );
            }
        }
        for arrondissement in &arrondissements {
            let Some(parent) = &arrondissement.commune else {
                bail!(
                    "communes.json: municipal arrondissement {} names no commune",
                    arrondissement.code
                );
            };
            if !commune_place.contains_key(parent.as_str()) {
                bail!(
                    "communes.json: municipal arrondissement {} names commune {parent}, which is not a current commune",
                    arrondissement.code
                );
            }
        }
        let mut groupings = Vec::new();
        for (file, list) in [("epci.json", &files.epci), ("ept.json", &files.ept)] {
            for grouping in list {
                let kind = match grouping.kind.as_str() {
                    "CC" => TerritoryKind::CommunityOfCommunes,
                    "CA" => TerritoryKind::AgglomerationCommunity,
                    "CU" => TerritoryKind::UrbanCommunity,
                    "METRO" => TerritoryKind::Metropole,
                    "MET69" | "METLYON" => TerritoryKind::LyonMetropolis,
                    "EPT" => TerritoryKind::PublicTerritorialEstablishment,
                    other => bail!(
                        "{file}: grouping {} ({}) is of an unknown type {other:?}",
                        grouping.code,
                        grouping.name
                    ),
                };
                if !crate::store::is_siren(&grouping.code) {
                    bail!(
                        "{file}: grouping {} ({}) has no SIREN for code",
                        grouping.code,
                        grouping.name
                    );
                }
                groupings.push((grouping, kind));
            }
        }
        Ok(Plan {
            communes,
            arrondissements,
            commune_place,
            groupings,
        })
    }

    /// The département and région all of a grouping's members lie in, when
    /// they share one.
    pub(super) fn place_of(&self, grouping: &Grouping) -> (Option<&'a str>, Option<&'a str>) {
        let places: Vec<(&str, &str)> = grouping
            .members
            .iter()
            .filter_map(|member| self.commune_place.get(member.code.as_str()).copied())
            .collect();
        let one = |values: BTreeSet<&'a str>| match values.len() {
            1 => values.into_iter().next(),
            _ => None,
        };
        (
            one(places.iter().map(|p| p.0).collect()),
            one(places.iter().map(|p| p.1).collect()),
        )
    }
}
