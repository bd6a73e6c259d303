//! `finding_risk_category`: Links a finding to a risk category.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "finding_risk_category")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub finding_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub risk_category_id: i64,
    pub created_at: DateTimeUtc,
    /// Who chose the link, when it was chosen apart from the records it
    /// joins (the Vigie editors' curation); `None` for a link written with
    /// its record.
    pub source_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!();
