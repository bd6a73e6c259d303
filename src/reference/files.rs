//! The shapes of the reference files: `data/reference.json` (the facts of
//! the document), `data/curation.json` (how Vigie's editors name and link
//! them) and `data/vocabulary.json` (public-service areas, AI technique
//! families), as the load reads them. Declarations only.

use entity::enums::{ParticipationMode, TerritoryKind};
use serde::Deserialize;

pub(super) const REFERENCE: &str = include_str!("../../data/reference.json");
pub(super) const CURATION: &str = include_str!("../../data/curation.json");
pub(super) const VOCABULARY: &str = include_str!("../../data/vocabulary.json");

#[derive(Deserialize)]
pub(super) struct Reference {
    pub(super) network: NetworkData,
    pub(super) axes: Vec<AxisData>,
    pub(super) resources: Vec<ResourceData>,
    pub(super) concertation_programme: ProgrammeData,
    pub(super) engaged_territories: Vec<TerritoryData>,
    pub(super) learnings: Vec<LearningData>,
    pub(super) citizen_concerns: Vec<ConcernData>,
    pub(super) risks: Vec<RiskData>,
    pub(super) opportunities: Vec<TitledData>,
    pub(super) levers: Vec<TitledData>,
}

#[derive(Deserialize)]
pub(super) struct NetworkData {
    pub(super) name: String,
    pub(super) website: String,
    pub(super) body: String,
    pub(super) members_people: i32,
    pub(super) member_collectivities: i32,
    pub(super) events_per_year: Range,
    pub(super) participants_at_least: i32,
}

#[derive(Deserialize)]
pub(super) struct Range {
    pub(super) min: i32,
    pub(super) max: i32,
}

#[derive(Deserialize)]
pub(super) struct AxisData {
    pub(super) number: i32,
    pub(super) title: String,
    pub(super) description: String,
}

#[derive(Deserialize)]
pub(super) struct ResourceData {
    pub(super) title: String,
    pub(super) url: String,
    pub(super) kind: String,
    pub(super) description: String,
}

#[derive(Deserialize)]
pub(super) struct ProgrammeData {
    pub(super) title: String,
    pub(super) operation: String,
    pub(super) charter: String,
    pub(super) online_space: String,
    pub(super) methodological_resources: String,
}

#[derive(Deserialize)]
pub(super) struct TerritoryData {
    pub(super) name: String,
    pub(super) name_in_source: String,
    pub(super) kind: TerritoryKind,
    pub(super) region: Option<String>,
    pub(super) department: Option<String>,
    #[serde(default)]
    pub(super) participations: Option<Vec<ParticipationMode>>,
    pub(super) notes: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct LearningData {
    pub(super) rank: i32,
    pub(super) title: String,
}

#[derive(Deserialize)]
pub(super) struct ConcernData {
    pub(super) rank: i32,
    pub(super) text: String,
}

#[derive(Deserialize)]
pub(super) struct RiskData {
    pub(super) key: String,
    pub(super) title: String,
    pub(super) description: String,
}

#[derive(Deserialize)]
pub(super) struct TitledData {
    pub(super) title: String,
    pub(super) description: String,
}

#[derive(Deserialize)]
pub(super) struct Curation {
    pub(super) source: SourceData,
    pub(super) editors: SourceData,
    pub(super) programme_axis: i32,
    pub(super) charter_title: String,
    pub(super) studies: Vec<StudyData>,
    pub(super) learnings_study: String,
    pub(super) concern_risks: Vec<Links>,
    pub(super) lever_risks: Vec<Links>,
    pub(super) learning_risks: Vec<Links>,
    pub(super) learning_levers: Vec<Links>,
}

/// A source as the files describe it: the document, or a file of Vigie's
/// editors.
pub(super) use crate::store::provenance::SourceFile as SourceData;

#[derive(Deserialize)]
pub(super) struct StudyData {
    pub(super) key: String,
    pub(super) title: Option<String>,
    pub(super) title_from_axis: Option<i32>,
    pub(super) description: Option<String>,
    pub(super) description_from_axis: Option<i32>,
    pub(super) axis: i32,
    pub(super) from_programme: bool,
}

/// Links from one item (a concern, a lever or a learning, by rank) to risk
/// keys or lever ranks.
#[derive(Deserialize)]
pub(super) struct Links {
    #[serde(alias = "concern", alias = "lever", alias = "learning")]
    pub(super) from: i32,
    #[serde(default)]
    pub(super) risks: Vec<String>,
    #[serde(default)]
    pub(super) levers: Vec<i32>,
}

#[derive(Deserialize)]
pub(super) struct Vocabulary {
    pub(super) source: SourceData,
    pub(super) techniques: Vec<Term>,
    pub(super) domains: Vec<Term>,
}

#[derive(Deserialize)]
pub(super) struct Term {
    pub(super) key: String,
    pub(super) name: String,
    pub(super) description: Option<String>,
}
