//! `deployment`: One AI use in one territory.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deployment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub territory_id: i64,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub summary: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub purpose: Option<String>,
    pub status: DeploymentStatus,
    pub start_month: Option<String>,
    pub end_month: Option<String>,
    pub decision_role: Option<DecisionRole>,
    pub audience: Option<Audience>,
    pub personal_data: Option<PersonalData>,
    pub ai_act_tier: AiActTier,
    pub annex_iii_area: Option<AnnexIiiArea>,
    #[sea_orm(column_type = "Text")]
    pub human_oversight: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub objection_procedure: Option<String>,
    pub dpia_url: Option<String>,
    pub impact_assessment_url: Option<String>,
    pub code_url: Option<String>,
    pub algorithm_register_url: Option<String>,
    /// The law or rule that allows the use, as its register states it.
    #[sea_orm(column_type = "Text")]
    pub legal_basis: Option<String>,
    /// The language of its texts (BCP 47: `fr`, `nl`, `en`).
    pub language: Option<String>,
    pub source_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1; every write adds one.
    pub version: i32,
    /// When the record was archived (hidden from lists); `None` while live.
    pub archived_at: Option<DateTimeUtc>,
    // Lower-cased, accent-free copies, for case- and accent-insensitive matching.
    #[sea_orm(column_type = "Text")]
    pub title_folded: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub summary_folded: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub purpose_folded: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!(title => title_folded, summary => summary_folded, purpose => purpose_folded; searchable);
