//! `concertation_co_organizer`: A territory co-organising a concertation.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "concertation_co_organizer")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub concertation_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub territory_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!();
