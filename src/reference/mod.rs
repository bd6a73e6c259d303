//! The reference data: the facts of the Commission Numérique's document
//! (`data/reference.json`, a verbatim copy of the transcription), named and
//! linked as `data/curation.json` says, with the vocabularies of
//! `data/vocabulary.json`.
//!
//! Loading is idempotent: every record is found again by its natural key
//! (slug, key, rank…) and updated in place, so re-running it never
//! duplicates anything. It runs in one transaction: all or nothing.

use std::collections::HashMap;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use entity::{enums::*, *};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, ModelTrait, PaginatorTrait,
    PrimaryKeyToColumn, PrimaryKeyTrait, QueryFilter, Select,
};

mod files;

use files::*;

use crate::{
    store::Author,
    store::bulk::{self, Outcome},
    text::slug,
};

/// What a load did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Whether the database holds any data yet: the reference load always
/// records its source first.
pub async fn is_empty(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(source::Entity::find().count(db).await? == 0)
}

/// Loads (or reloads) the reference data, in one transaction. A database of
/// synthetic data is refused: real and synthetic records never mix.
pub async fn load(db: &DatabaseConnection) -> anyhow::Result<Report> {
    if entity::source::holds_synthetic(db).await? {
        anyhow::bail!(
            "this database holds synthetic data; load the reference data into another one, \
             so that real and synthetic records never mix"
        );
    }
    let reference: Reference =
        serde_json::from_str(REFERENCE).context("data/reference.json does not parse")?;
    let curation: Curation =
        serde_json::from_str(CURATION).context("data/curation.json does not parse")?;
    let vocabulary: Vocabulary =
        serde_json::from_str(VOCABULARY).context("data/vocabulary.json does not parse")?;
    let txn = crate::store::begin(db).await?;
    let mut load = Load {
        txn: &txn,
        now: Utc::now(),
        report: Report::default(),
    };
    load.everything(&reference, &curation, &vocabulary).await?;
    let report = load.report;
    txn.commit().await?;
    Ok(report)
}

/// Loads the vocabularies alone (public-service areas, AI technique
/// families) in a transaction of the caller's.
pub async fn load_vocabulary(txn: &DatabaseTransaction) -> anyhow::Result<Report> {
    let vocabulary: Vocabulary =
        serde_json::from_str(VOCABULARY).context("data/vocabulary.json does not parse")?;
    let mut load = Load {
        txn,
        now: Utc::now(),
        report: Report::default(),
    };
    load.vocabulary(&vocabulary).await?;
    Ok(load.report)
}

struct Load<'a> {
    txn: &'a DatabaseTransaction,
    now: DateTime<Utc>,
    report: Report,
}

impl Load<'_> {
    /// Who writes, as the audit trail names it.
    fn author(&self) -> Author<'static> {
        Author {
            key: None,
            label: "reference load",
            at: self.now,
        }
    }

    /// Inserts `desired`, or, if `existing` finds a row, sets on it the
    /// columns `desired` sets that differ (see [`bulk::upsert`]).
    async fn upsert<A>(
        &mut self,
        existing: Select<A::Entity>,
        desired: A,
    ) -> anyhow::Result<<A::Entity as EntityTrait>::Model>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + serde::Serialize,
    {
        let existing = existing.one(self.txn).await?;
        let (model, outcome) = bulk::upsert(self.txn, existing, desired, self.author()).await?;
        match outcome {
            Outcome::Inserted => self.report.inserted += 1,
            Outcome::Updated => self.report.updated += 1,
            Outcome::Unchanged => self.report.unchanged += 1,
        }
        Ok(model)
    }

    /// Links `from` to `to` in the link table of `A`, whose primary key is
    /// that pair, as the editors' choice (`source`), unless they are linked
    /// so already.
    async fn link<A>(&mut self, from: i64, to: i64, source: Option<i64>) -> anyhow::Result<()>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + serde::Serialize,
        <<A::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType: From<(i64, i64)>,
    {
        let source_column = crate::store::draft::source_column::<A::Entity>()
            .ok_or_else(|| anyhow!("a link of the curation names its source"))?;
        if let Some(existing) = <A::Entity as EntityTrait>::find_by_id((from, to))
            .one(self.txn)
            .await?
        {
            if existing.get(source_column) == source.into() {
                self.report.unchanged += 1;
            } else {
                // A link made before links named their source.
                let mut link = existing.into_active_model();
                link.set(source_column, source.into());
                link.update(self.txn).await?;
                self.report.updated += 1;
            }
            return Ok(());
        }
        let mut link = A::default();
        link.set(source_column, source.into());
        let mut key = <<A::Entity as EntityTrait>::PrimaryKey as sea_orm::Iterable>::iter();
        for id in [from, to] {
            let column = key
                .next()
                .expect("a link table's key is a pair")
                .into_column();
            link.set(column, id.into());
        }
        bulk::insert(self.txn, vec![link], self.author()).await?;
        self.report.inserted += 1;
        Ok(())
    }

    async fn everything(
        &mut self,
        reference: &Reference,
        curation: &Curation,
        vocabulary: &Vocabulary,
    ) -> anyhow::Result<()> {
        let source_id = Some(self.source(&curation.source).await?);
        let editors_id = Some(self.source(&curation.editors).await?);

        self.vocabulary(vocabulary).await?;

        let net = &reference.network;
        let network = self
            .upsert(
                network::Entity::find().filter(network::Column::Name.eq(&net.name)),
                network::ActiveModel {
                    name: Set(net.name.clone()),
                    body: Set(Some(net.body.clone())),
                    website: Set(Some(net.website.clone())),
                    // The document's only address is a person's: not kept.
                    contact_email: Set(None),
                    members_people: Set(Some(net.members_people)),
                    member_collectivities: Set(Some(net.member_collectivities)),
                    events_per_year_min: Set(Some(net.events_per_year.min)),
                    events_per_year_max: Set(Some(net.events_per_year.max)),
                    participants_at_least: Set(Some(net.participants_at_least)),
                    source_id: Set(source_id),
                    ..Default::default()
                },
            )
            .await?;

        let mut axes = HashMap::new();
        for axis_data in &reference.axes {
            let axis = self
                .upsert(
                    axis::Entity::find()
                        .filter(axis::Column::NetworkId.eq(network.id))
                        .filter(axis::Column::Number.eq(axis_data.number)),
                    axis::ActiveModel {
                        network_id: Set(network.id),
                        number: Set(axis_data.number),
                        title: Set(axis_data.title.clone()),
                        description: Set(Some(axis_data.description.clone())),
                        source_id: Set(source_id),
                        ..Default::default()
                    },
                )
                .await?;
            axes.insert(axis.number, axis);
        }
        let axis_id = |number: i32| {
            axes.get(&number).map(|axis| axis.id).ok_or_else(|| {
                anyhow!("data/curation.json names axis {number}, which does not exist")
            })
        };

        for resource_data in &reference.resources {
            let kind = match resource_data.kind.as_str() {
                "guide" => ResourceKind::Guide,
                "sheet" => ResourceKind::Sheet,
                "report" => ResourceKind::Report,
                "template" => ResourceKind::Template,
                _ => ResourceKind::Other,
            };
            self.upsert(
                resource::Entity::find().filter(resource::Column::Url.eq(&resource_data.url)),
                resource::ActiveModel {
                    title: Set(resource_data.title.clone()),
                    url: Set(Some(resource_data.url.clone())),
                    kind: Set(kind),
                    description: Set(Some(resource_data.description.clone())),
                    source_id: Set(source_id),
                    ..Default::default()
                },
            )
            .await?;
        }

        let prog = &reference.concertation_programme;
        let programme = self
            .upsert(
                concertation_programme::Entity::find()
                    .filter(concertation_programme::Column::SourceId.eq(source_id)),
                concertation_programme::ActiveModel {
                    axis_id: Set(Some(axis_id(curation.programme_axis)?)),
                    title: Set(prog.title.clone()),
                    operation: Set(Some(prog.operation.clone())),
                    online_space: Set(Some(prog.online_space.clone())),
                    methodological_resources: Set(Some(prog.methodological_resources.clone())),
                    source_id: Set(source_id),
                    ..Default::default()
                },
            )
            .await?;

        self.upsert(
            charter::Entity::find()
                .filter(charter::Column::ProgrammeId.eq(programme.id))
                .filter(charter::Column::Title.eq(&curation.charter_title)),
            charter::ActiveModel {
                title: Set(curation.charter_title.clone()),
                description: Set(Some(prog.charter.clone())),
                programme_id: Set(Some(programme.id)),
                // The document mentions a charter; its name is the editors'.
                source_id: Set(editors_id),
                ..Default::default()
            },
        )
        .await?;

        for data in &reference.engaged_territories {
            let slug = slug(&data.name);
            let territory = self
                .upsert(
                    territory::Entity::find().filter(territory::Column::Slug.eq(&slug)),
                    territory::ActiveModel {
                        name: Set(data.name.clone()),
                        name_in_source: Set(Some(data.name_in_source.clone())),
                        slug: Set(slug.clone()),
                        kind: Set(data.kind),
                        region: Set(data.region.clone()),
                        department: Set(data.department.clone()),
                        notes: Set(data.notes.clone()),
                        source_id: Set(source_id),
                        ..Default::default()
                    },
                )
                .await?;
            let modes = data
                .participations
                .clone()
                .unwrap_or_else(|| vec![ParticipationMode::OwnConcertation]);
            for mode in modes {
                self.upsert(
                    programme_participation::Entity::find()
                        .filter(programme_participation::Column::ProgrammeId.eq(programme.id))
                        .filter(programme_participation::Column::TerritoryId.eq(territory.id))
                        .filter(programme_participation::Column::Mode.eq(mode)),
                    programme_participation::ActiveModel {
                        programme_id: Set(programme.id),
                        territory_id: Set(territory.id),
                        mode: Set(mode),
                        source_id: Set(source_id),
                        ..Default::default()
                    },
                )
                .await?;
            }
        }

        let mut risks = HashMap::new();
        for risk in &reference.risks {
            let category = self
                .upsert(
                    risk_category::Entity::find().filter(risk_category::Column::Key.eq(&risk.key)),
                    risk_category::ActiveModel {
                        key: Set(risk.key.clone()),
                        title: Set(risk.title.clone()),
                        description: Set(Some(risk.description.clone())),
                        source_id: Set(source_id),
                        ..Default::default()
                    },
                )
                .await?;
            risks.insert(risk.key.clone(), category.id);
        }
        let risk_id = |key: &str| {
            risks
                .get(key)
                .copied()
                .ok_or_else(|| anyhow!("data/curation.json names risk {key}, which does not exist"))
        };

        let mut concerns = HashMap::new();
        for concern in &reference.citizen_concerns {
            let contribution = self
                .upsert(
                    contribution::Entity::find()
                        .filter(contribution::Column::ProgrammeId.eq(programme.id))
                        .filter(contribution::Column::ConcertationId.is_null())
                        .filter(contribution::Column::Kind.eq(ContributionKind::Concern))
                        .filter(contribution::Column::Rank.eq(concern.rank)),
                    contribution::ActiveModel {
                        programme_id: Set(Some(programme.id)),
                        kind: Set(ContributionKind::Concern),
                        rank: Set(Some(concern.rank)),
                        statement: Set(concern.text.clone()),
                        public: Set(Some(Public::Citizens)),
                        response_state: Set(ResponseState::Open),
                        source_id: Set(source_id),
                        ..Default::default()
                    },
                )
                .await?;
            concerns.insert(concern.rank, contribution.id);
        }
        for links in &curation.concern_risks {
            let concern = *concerns
                .get(&links.from)
                .ok_or_else(|| anyhow!("data/curation.json names concern {}", links.from))?;
            for key in &links.risks {
                self.link::<contribution_risk_category::ActiveModel>(
                    concern,
                    risk_id(key)?,
                    editors_id,
                )
                .await?;
            }
        }

        for (index, data) in reference.opportunities.iter().enumerate() {
            let rank = index as i32 + 1;
            self.upsert(
                opportunity::Entity::find()
                    .filter(opportunity::Column::SourceId.eq(source_id))
                    .filter(opportunity::Column::Rank.eq(rank)),
                opportunity::ActiveModel {
                    rank: Set(rank),
                    title: Set(data.title.clone()),
                    description: Set(Some(data.description.clone())),
                    source_id: Set(source_id),
                    ..Default::default()
                },
            )
            .await?;
        }

        let mut levers = HashMap::new();
        for (index, data) in reference.levers.iter().enumerate() {
            let rank = index as i32 + 1;
            let lever = self
                .upsert(
                    lever::Entity::find()
                        .filter(lever::Column::SourceId.eq(source_id))
                        .filter(lever::Column::Rank.eq(rank)),
                    lever::ActiveModel {
                        rank: Set(rank),
                        title: Set(data.title.clone()),
                        description: Set(Some(data.description.clone())),
                        source_id: Set(source_id),
                        ..Default::default()
                    },
                )
                .await?;
            levers.insert(rank, lever.id);
        }
        let lever_id = |rank: i32| {
            levers.get(&rank).copied().ok_or_else(|| {
                anyhow!("data/curation.json names lever {rank}, which does not exist")
            })
        };
        for links in &curation.lever_risks {
            let lever = lever_id(links.from)?;
            for key in &links.risks {
                self.link::<lever_risk_category::ActiveModel>(lever, risk_id(key)?, editors_id)
                    .await?;
            }
        }

        let mut studies = HashMap::new();
        let axis_data = |number: i32| {
            reference
                .axes
                .iter()
                .find(|axis| axis.number == number)
                .ok_or_else(|| {
                    anyhow!("data/curation.json names axis {number}, which does not exist")
                })
        };
        for data in &curation.studies {
            let description = match (&data.description, data.description_from_axis) {
                (Some(text), _) => Some(text.clone()),
                (None, Some(number)) => Some(axis_data(number)?.description.clone()),
                (None, None) => None,
            };
            // A study the editors title is theirs; one titled as an axis
            // of the document is the document's.
            let (title, study_source) = match (&data.title, data.title_from_axis) {
                (Some(title), _) => (title.clone(), editors_id),
                (None, Some(number)) => (axis_data(number)?.title.clone(), source_id),
                (None, None) => {
                    anyhow::bail!("data/curation.json: study {} has no title", data.key)
                }
            };
            let programme_id = data.from_programme.then_some(programme.id);
            let study = self
                .upsert(
                    study::Entity::find()
                        .filter(study::Column::AxisId.eq(axis_id(data.axis)?))
                        .filter(match programme_id {
                            Some(id) => study::Column::ProgrammeId.eq(id),
                            None => study::Column::ProgrammeId.is_null(),
                        })
                        .filter(study::Column::SourceId.is_in([source_id, editors_id])),
                    study::ActiveModel {
                        axis_id: Set(Some(axis_id(data.axis)?)),
                        programme_id: Set(programme_id),
                        title: Set(title),
                        description: Set(description),
                        source_id: Set(study_source),
                        ..Default::default()
                    },
                )
                .await?;
            studies.insert(data.key.clone(), study.id);
        }
        let learnings_study = *studies.get(&curation.learnings_study).ok_or_else(|| {
            anyhow!(
                "data/curation.json names no study {}",
                curation.learnings_study
            )
        })?;

        let mut learnings = HashMap::new();
        for learning in &reference.learnings {
            let finding = self
                .upsert(
                    study_finding::Entity::find()
                        .filter(study_finding::Column::StudyId.eq(learnings_study))
                        .filter(study_finding::Column::Kind.eq(FindingKind::KeyLearning))
                        .filter(study_finding::Column::Rank.eq(learning.rank)),
                    study_finding::ActiveModel {
                        study_id: Set(learnings_study),
                        kind: Set(FindingKind::KeyLearning),
                        rank: Set(Some(learning.rank)),
                        statement: Set(learning.title.clone()),
                        source_id: Set(source_id),
                        ..Default::default()
                    },
                )
                .await?;
            learnings.insert(learning.rank, finding.id);
        }
        let learning_id = |rank: i32| {
            learnings.get(&rank).copied().ok_or_else(|| {
                anyhow!("data/curation.json names learning {rank}, which does not exist")
            })
        };
        for links in &curation.learning_risks {
            let finding = learning_id(links.from)?;
            for key in &links.risks {
                self.link::<finding_risk_category::ActiveModel>(finding, risk_id(key)?, editors_id)
                    .await?;
            }
        }
        for links in &curation.learning_levers {
            let finding = learning_id(links.from)?;
            for rank in &links.levers {
                self.link::<finding_lever::ActiveModel>(finding, lever_id(*rank)?, editors_id)
                    .await?;
            }
        }
        Ok(())
    }

    /// The source a file describes, found again by its document.
    async fn source(&mut self, data: &SourceData) -> anyhow::Result<i64> {
        let source = self.upsert(data.find(), data.record()).await?;
        Ok(source.id)
    }

    async fn vocabulary(&mut self, vocabulary: &Vocabulary) -> anyhow::Result<()> {
        let source_id = Some(self.source(&vocabulary.source).await?);
        for term in &vocabulary.techniques {
            self.upsert(
                technique::Entity::find().filter(technique::Column::Key.eq(&term.key)),
                technique::ActiveModel {
                    key: Set(term.key.clone()),
                    name: Set(term.name.clone()),
                    description: Set(term.description.clone()),
                    source_id: Set(source_id),
                    ..Default::default()
                },
            )
            .await?;
        }
        for term in &vocabulary.domains {
            self.upsert(
                domain::Entity::find().filter(domain::Column::Key.eq(&term.key)),
                domain::ActiveModel {
                    key: Set(term.key.clone()),
                    name: Set(term.name.clone()),
                    description: Set(term.description.clone()),
                    source_id: Set(source_id),
                    ..Default::default()
                },
            )
            .await?;
        }
        Ok(())
    }
}
