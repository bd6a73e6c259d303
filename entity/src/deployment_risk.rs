//! `deployment_risk`: A risk declared for a deployment.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deployment_risk")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deployment_id: i64,
    /// Its category; `None` for a risk stated only in words (as
    /// registers of algorithms give them).
    pub risk_category_id: Option<i64>,
    pub severity: Option<Severity>,
    pub likelihood: Option<Likelihood>,
    pub mitigation_status: MitigationStatus,
    #[sea_orm(column_type = "Text")]
    pub mitigation: Option<String>,
    /// The risk in its source's words, when it states one.
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    pub source_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1; every write adds one.
    pub version: i32,
    /// When the record was archived (hidden from lists); `None` while live.
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!();
