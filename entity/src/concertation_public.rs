//! `concertation_public`: A public a concertation addressed.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "concertation_public")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub concertation_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub public: Public,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!();
