//! The official French geography as territories: the régions, the
//! départements, the EPCI à fiscalité propre and the EPT of the Métropole
//! du Grand Paris, the current communes and the municipal arrondissements
//! of Paris, Lyon and Marseille, from INSEE's Code officiel géographique
//! as Etalab publishes it ([`files`]). Each gets its official name, INSEE
//! code, SIREN where the files have one, population, département and
//! région; each grouping its member communes (`territory_membership`).
//!
//! The territories of the network are matched, not duplicated: each one
//! `data/geography/matches.json` finds in the files gains its codes,
//! population and links, and keeps its name, slug and source.
//!
//! An import is one transaction, written through the store's bulk path
//! (`store::bulk`): versions, audit events and search words as for every
//! writer. It is idempotent: a record is found again by its INSEE code (or
//! SIREN), and only what differs is written; a second run writes nothing.
//! A territory of the geography that a newer copy no longer has (a merged
//! commune) is archived, never deleted. It uses the entities and the
//! store; nothing of GraphQL or HTTP.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::Path,
};

use anyhow::{Context as _, bail};
use chrono::Utc;
use entity::{enums::TerritoryKind, territory, territory_membership};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Statement,
};
use serde_json::json;

pub mod files;
mod plan;

use files::Files;
use plan::{Key, Place, Plan};

use crate::{
    progress::Progress,
    store::{
        Author,
        bulk::{self, Outcome},
    },
    text::unique_slug,
};

/// Who writes, as the audit trail names it.
pub const AUTHOR: &str = "import of the official geography";

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Records created (territories, and the source on a first import).
    pub inserted: usize,
    /// Records changed: what differs, or their memberships.
    pub updated: usize,
    pub unchanged: usize,
    /// Territories the files no longer have.
    pub archived: usize,
    /// Memberships of a grouping added and removed.
    pub links_added: usize,
    pub links_removed: usize,
    /// Territories of the network found in the files: (slug, how).
    pub matched: Vec<(String, String)>,
    /// Territories of the network not found: (slug, why).
    pub unmatched: Vec<(String, String)>,
    /// What the files say that could not be followed (a grouping's member
    /// the communes file does not have).
    pub warnings: Vec<String>,
    /// The current communes no EPCI or EPT lists (islands, overseas
    /// collectivités): `CODE name`.
    pub ungrouped: Vec<String>,
}

impl Report {
    /// Whether the import wrote anything.
    pub fn wrote(&self) -> bool {
        self.inserted + self.updated + self.archived + self.links_added + self.links_removed > 0
    }

    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Inserted => self.inserted += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

/// Imports the geography of `dir` (the built-in copy when `None`), in one
/// transaction: all of it, or nothing.
pub async fn import(db: &DatabaseConnection, dir: Option<&Path>) -> anyhow::Result<Report> {
    let files = Files::read(dir)?;
    let plan = Plan::new(&files)?;
    if entity::source::holds_synthetic(db).await? {
        bail!(
            "this database holds synthetic data; import the geography into another one, \
             so that real and synthetic records never mix"
        );
    }
    let txn = crate::store::begin(db).await?;
    let mut import = Import {
        txn: &txn,
        author: Author {
            key: None,
            label: AUTHOR,
            at: Utc::now(),
        },
        report: Report::default(),
        stored: Stored::default(),
        ids: HashMap::new(),
        source: 0,
        slugs: BTreeSet::new(),
        region_names: files
            .regions
            .iter()
            .map(|r| (r.code.clone(), r.name.clone()))
            .collect(),
    };
    import.run(&files, &plan).await?;
    let report = import.report;
    txn.commit().await?;
    Ok(report)
}

/// The territories stored before the import.
#[derive(Default)]
struct Stored {
    rows: Vec<territory::Model>,
    by_key: HashMap<Key, usize>,
}

struct Import<'a> {
    txn: &'a DatabaseTransaction,
    author: Author<'static>,
    report: Report,
    stored: Stored,
    /// The id of each territory of the geography, once written.
    ids: HashMap<Key, i64>,
    /// The id of the geography's source.
    source: i64,
    /// The slugs taken, by stored territories and those written.
    slugs: BTreeSet<String>,
    /// Région names by code.
    region_names: HashMap<String, String>,
}

impl Import<'_> {
    async fn run(&mut self, files: &Files, plan: &Plan<'_>) -> anyhow::Result<()> {
        let counts = [
            files.regions.len(),
            files.departments.len(),
            plan.groupings.len(),
            plan.communes.len() + plan.arrondissements.len(),
        ];
        let progress = Progress::new("official geography", counts.iter().sum::<usize>() as u64);
        let mut done = 0;
        let mut step = |count: usize, stage: &str| {
            done += count as u64;
            progress.at(done, stage);
        };
        self.source = self.source_record(files).await?;
        self.read_stored(files).await?;
        self.regions(files).await?;
        step(counts[0], "régions");
        self.departments(files).await?;
        step(counts[1], "départements");
        self.groupings(plan).await?;
        step(counts[2], "EPCI and EPT");
        self.communes(plan).await?;
        step(counts[3], "communes");
        self.archive().await?;
        self.memberships(plan).await?;
        progress.finish();
        Ok(())
    }

    /// The source every territory of the geography names.
    async fn source_record(&mut self, files: &Files) -> anyhow::Result<i64> {
        let about = &files.about;
        let existing = about.find().one(self.txn).await?;
        let (model, outcome) =
            bulk::upsert(self.txn, existing, about.record(), self.author).await?;
        self.report.count(outcome);
        Ok(model.id)
    }

    /// Reads the stored territories, and claims for each territory of the
    /// network `matches.json` finds in the files its official key.
    async fn read_stored(&mut self, files: &Files) -> anyhow::Result<()> {
        let rows = territory::Entity::find().all(self.txn).await?;
        let mut by_key = HashMap::new();
        for (index, row) in rows.iter().enumerate() {
            if let Some(key) = Key::of(row) {
                by_key.entry(key).or_insert(index);
            }
        }
        let by_slug: HashMap<&str, usize> = rows
            .iter()
            .enumerate()
            .map(|(index, row)| (row.slug.as_str(), index))
            .collect();
        let regions: BTreeSet<&str> = files.regions.iter().map(|r| r.code.as_str()).collect();
        let communes: BTreeSet<&str> = files.communes.iter().map(|c| c.code.as_str()).collect();
        let groupings: BTreeSet<&str> = files
            .epci
            .iter()
            .chain(&files.ept)
            .map(|g| g.code.as_str())
            .collect();
        for found in &files.matches {
            let Some(&index) = by_slug.get(found.slug.as_str()) else {
                continue;
            };
            let (key, known, how) = match (&found.siren, &found.commune, &found.region) {
                (Some(siren), _, _) => (
                    Key::Grouping(siren.clone()),
                    groupings.contains(siren.as_str()),
                    format!("SIREN {siren}"),
                ),
                (_, Some(code), _) => (
                    Key::Commune(code.clone()),
                    communes.contains(code.as_str()),
                    format!("commune {code}"),
                ),
                (_, _, Some(code)) => (
                    Key::Region(code.clone()),
                    regions.contains(code.as_str()),
                    format!("région {code}"),
                ),
                _ => {
                    let why = found.unmatched.clone().unwrap_or_default();
                    self.report.unmatched.push((found.slug.clone(), why));
                    continue;
                }
            };
            if known {
                by_key.insert(key, index);
                self.report.matched.push((found.slug.clone(), how));
            } else {
                let why = format!("{how} is not in the official files");
                self.report.unmatched.push((found.slug.clone(), why));
            }
        }
        self.slugs = rows.iter().map(|row| row.slug.clone()).collect();
        self.stored = Stored { rows, by_key };
        Ok(())
    }

    /// Writes one level of territories: each found again is updated with
    /// what differs, the others inserted together. A territory of the
    /// geography gets every column; one of the network (matched) keeps its
    /// name, kind, slug and source, and gains the official ones.
    async fn write(&mut self, level: Vec<(Key, territory::ActiveModel)>) -> anyhow::Result<()> {
        let mut new = Vec::new();
        for (key, mut desired) in level {
            let Some(&index) = self.stored.by_key.get(&key) else {
                let name = match &desired.name {
                    Set(name) => name.clone(),
                    _ => String::new(),
                };
                // A collectivité d'outre-mer is both a département and a
                // commune of the same name and code: the second is `-2`.
                desired.slug = Set(unique_slug(
                    &mut self.slugs,
                    &format!("{name} {}", key.code()),
                ));
                new.push((key, desired));
                continue;
            };
            let row = self.stored.rows[index].clone();
            if row.source_id != Some(self.source) {
                for column in [
                    territory::Column::Name,
                    territory::Column::Kind,
                    territory::Column::Region,
                    territory::Column::Department,
                    territory::Column::SourceId,
                    territory::Column::ArchivedAt,
                    territory::Column::ParentId,
                ] {
                    sea_orm::ActiveModelTrait::not_set(&mut desired, column);
                }
            }
            let (model, outcome) = bulk::upsert(self.txn, Some(row), desired, self.author).await?;
            self.report.count(outcome);
            self.stored.rows[index] = model.clone();
            self.ids.insert(key, model.id);
        }
        let (keys, rows): (Vec<Key>, Vec<territory::ActiveModel>) = new.into_iter().unzip();
        self.report.inserted += rows.len();
        let stored = bulk::insert(self.txn, rows, self.author).await?;
        for (key, model) in keys.into_iter().zip(stored) {
            self.ids.insert(key, model.id);
        }
        Ok(())
    }

    /// A territory of the geography, every column set but its slug.
    fn territory(
        &self,
        name: &str,
        kind: TerritoryKind,
        codes: (Option<&str>, Option<&str>),
        population: Option<i64>,
        place: Place<'_>,
    ) -> territory::ActiveModel {
        let (insee_code, siren) = codes;
        let (department, region) = place;
        territory::ActiveModel {
            region: Set(region.and_then(|code| self.region_names.get(code).cloned())),
            name: Set(name.to_owned()),
            official_name: Set(Some(name.to_owned())),
            kind: Set(kind),
            siren: Set(siren.map(str::to_owned)),
            insee_code: Set(insee_code.map(str::to_owned)),
            population: Set(population),
            department: Set(department.map(str::to_owned)),
            department_id: Set(department.and_then(|code| self.id(&Key::Department(code.into())))),
            region_id: Set(region.and_then(|code| self.id(&Key::Region(code.into())))),
            source_id: Set(Some(self.source)),
            archived_at: Set(None),
            parent_id: Set(None),
            ..Default::default()
        }
    }

    fn id(&self, key: &Key) -> Option<i64> {
        self.ids.get(key).copied()
    }

    /// Ids for territories not stored yet that must name themselves (a
    /// région is its own région): taken from the table's sequence on
    /// PostgreSQL, after the largest id on SQLite (whose transaction holds
    /// the write lock).
    async fn fresh_ids(&self, count: usize) -> anyhow::Result<Vec<i64>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let backend = self.txn.get_database_backend();
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => format!(
                "SELECT nextval(pg_get_serial_sequence('territory', 'id')) AS id \
                 FROM generate_series(1, {count})"
            ),
            _ => format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
                 SELECT (SELECT COALESCE(MAX(id), 0) FROM territory) + i AS id FROM n"
            ),
        };
        let rows = self
            .txn
            .query_all_raw(Statement::from_string(backend, sql))
            .await?;
        rows.iter()
            .map(|row| row.try_get::<i64>("", "id").context("a fresh id"))
            .collect()
    }

    /// Régions and départements name themselves: new ones get their ids
    /// first.
    async fn own_ids(&mut self, keys: &[Key]) -> anyhow::Result<()> {
        let missing: Vec<&Key> = keys
            .iter()
            .filter(|key| !self.stored.by_key.contains_key(key))
            .collect();
        let fresh = self.fresh_ids(missing.len()).await?;
        for (key, id) in missing.into_iter().zip(fresh) {
            self.ids.insert(key.clone(), id);
        }
        for key in keys {
            if let Some(&index) = self.stored.by_key.get(key) {
                self.ids.insert(key.clone(), self.stored.rows[index].id);
            }
        }
        Ok(())
    }

    /// Régions and départements: each names itself as its région or its
    /// département, so new ones get their ids first.
    async fn self_named(
        &mut self,
        entries: Vec<(Key, &str, TerritoryKind, Place<'_>)>,
    ) -> anyhow::Result<()> {
        let keys: Vec<Key> = entries.iter().map(|(key, ..)| key.clone()).collect();
        self.own_ids(&keys).await?;
        let level = entries
            .into_iter()
            .map(|(key, name, kind, place)| {
                let mut row = self.territory(name, kind, (Some(key.code()), None), None, place);
                self.with_id(&mut row, &key);
                (key, row)
            })
            .collect();
        self.write(level).await
    }

    async fn regions(&mut self, files: &Files) -> anyhow::Result<()> {
        let entries = files
            .regions
            .iter()
            .map(|r| {
                let key = Key::Region(r.code.clone());
                (
                    key,
                    r.name.as_str(),
                    TerritoryKind::Region,
                    (None, Some(r.code.as_str())),
                )
            })
            .collect();
        self.self_named(entries).await
    }

    async fn departments(&mut self, files: &Files) -> anyhow::Result<()> {
        let entries = files
            .departments
            .iter()
            .map(|d| {
                let key = Key::Department(d.code.clone());
                let place = (Some(d.code.as_str()), Some(d.region.as_str()));
                (key, d.name.as_str(), TerritoryKind::Department, place)
            })
            .collect();
        self.self_named(entries).await
    }

    /// A new row with the id [`Self::own_ids`] gave it.
    fn with_id(&self, row: &mut territory::ActiveModel, key: &Key) {
        if !self.stored.by_key.contains_key(key) {
            row.id = self.id(key).map_or(NotSet, Set);
        }
    }

    async fn groupings(&mut self, plan: &Plan<'_>) -> anyhow::Result<()> {
        let level = plan
            .groupings
            .iter()
            .map(|(grouping, kind)| {
                let (department, region) = plan.place_of(grouping);
                let row = self.territory(
                    &grouping.name,
                    *kind,
                    (None, Some(&grouping.code)),
                    grouping.population,
                    (department, region),
                );
                (Key::Grouping(grouping.code.clone()), row)
            })
            .collect();
        self.write(level).await
    }

    async fn communes(&mut self, plan: &Plan<'_>) -> anyhow::Result<()> {
        for (list, kind) in [
            (&plan.communes, TerritoryKind::Municipality),
            (
                &plan.arrondissements,
                TerritoryKind::MunicipalArrondissement,
            ),
        ] {
            let level = list
                .iter()
                .map(|commune| {
                    let mut row = self.territory(
                        &commune.name,
                        kind,
                        (Some(&commune.code), commune.siren.as_deref()),
                        commune.population,
                        (commune.department.as_deref(), commune.region.as_deref()),
                    );
                    if let Some(parent) = &commune.commune {
                        row.parent_id = Set(self.id(&Key::Commune(parent.clone())));
                    }
                    let key = match kind {
                        TerritoryKind::Municipality => Key::Commune(commune.code.clone()),
                        _ => Key::Arrondissement(commune.code.clone()),
                    };
                    (key, row)
                })
                .collect();
            self.write(level).await?;
        }
        bulk::ids_given(self.txn).await?;
        Ok(())
    }

    /// Makes the memberships of every grouping what the files say: adds
    /// the new ones, removes those gone; a commune already stored whose
    /// groupings changed moves to its next version, its groupings before
    /// and after in the audit trail.
    async fn memberships(&mut self, plan: &Plan<'_>) -> anyhow::Result<()> {
        let listed: BTreeSet<&str> = plan
            .groupings
            .iter()
            .flat_map(|(grouping, _)| grouping.members.iter().map(|m| m.code.as_str()))
            .collect();
        self.report.ungrouped = plan
            .communes
            .iter()
            .filter(|commune| !listed.contains(commune.code.as_str()))
            .map(|commune| format!("{} {}", commune.code, commune.name))
            .collect();
        let mut desired: BTreeSet<(i64, i64)> = BTreeSet::new();
        for (grouping, _) in &plan.groupings {
            let Some(group) = self.id(&Key::Grouping(grouping.code.clone())) else {
                continue;
            };
            for member in &grouping.members {
                match self.id(&Key::Commune(member.code.clone())) {
                    Some(commune) => {
                        desired.insert((group, commune));
                    }
                    None => self.report.warnings.push(format!(
                        "{} ({}) lists member {}, which communes.json does not have as a current commune",
                        grouping.name, grouping.code, member.code
                    )),
                }
            }
        }
        let stored: BTreeSet<(i64, i64)> = territory_membership::Entity::find()
            .all(self.txn)
            .await?
            .into_iter()
            .map(|link| (link.grouping_id, link.member_id))
            .collect();
        let added: Vec<(i64, i64)> = desired.difference(&stored).copied().collect();
        let removed: Vec<(i64, i64)> = stored.difference(&desired).copied().collect();
        self.report.links_added += added.len();
        self.report.links_removed += removed.len();

        // The groupings of each stored commune whose groupings change.
        let groupings_of = |pairs: &BTreeSet<(i64, i64)>| {
            let mut of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
            for (group, member) in pairs {
                of.entry(*member).or_default().push(*group);
            }
            of
        };
        let (before, after) = (groupings_of(&stored), groupings_of(&desired));
        let moved: BTreeSet<i64> = added
            .iter()
            .chain(&removed)
            .map(|(_, member)| *member)
            .filter(|member| before.contains_key(member))
            .collect();

        for chunk in removed.chunks(500) {
            let mut condition = sea_orm::Condition::any();
            for (group, member) in chunk {
                condition = condition.add(
                    sea_orm::Condition::all()
                        .add(territory_membership::Column::GroupingId.eq(*group))
                        .add(territory_membership::Column::MemberId.eq(*member)),
                );
            }
            territory_membership::Entity::delete_many()
                .filter(condition)
                .exec(self.txn)
                .await?;
        }
        let links = added
            .iter()
            .map(|(group, member)| territory_membership::ActiveModel {
                grouping_id: Set(*group),
                member_id: Set(*member),
                created_at: Set(self.author.at),
            })
            .collect();
        bulk::insert(self.txn, links, self.author).await?;

        let index: HashMap<i64, usize> = self
            .stored
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| (row.id, i))
            .collect();
        for member in moved {
            // An archived territory leaves its groupings with its archive.
            let Some(&i) = index.get(&member) else {
                continue;
            };
            if self.stored.rows[i].archived_at.is_some() {
                continue;
            }
            let list =
                |of: &BTreeMap<i64, Vec<i64>>| json!(of.get(&member).cloned().unwrap_or_default());
            let row = self.stored.rows[i].clone();
            let updated = bulk::relinked::<territory::ActiveModel, _>(
                self.txn,
                row,
                "grouping_ids",
                (list(&before), list(&after)),
                self.author,
            )
            .await?;
            self.stored.rows[i] = updated;
            self.report.updated += 1;
        }
        Ok(())
    }

    /// Archives the territories of the geography the files no longer have
    /// (their memberships go next).
    async fn archive(&mut self) -> anyhow::Result<()> {
        let written: BTreeSet<i64> = self.ids.values().copied().collect();
        let gone: Vec<usize> = (0..self.stored.rows.len())
            .filter(|&i| {
                let row = &self.stored.rows[i];
                row.source_id == Some(self.source)
                    && row.archived_at.is_none()
                    && !written.contains(&row.id)
            })
            .collect();
        for i in gone {
            let desired = territory::ActiveModel {
                archived_at: Set(Some(self.author.at)),
                ..Default::default()
            };
            let row = self.stored.rows[i].clone();
            let (model, _) = bulk::upsert(self.txn, Some(row), desired, self.author).await?;
            self.stored.rows[i] = model;
            self.report.archived += 1;
        }
        Ok(())
    }
}
