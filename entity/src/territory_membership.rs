//! `territory_membership`: A commune's membership of a grouping (an EPCI,
//! an EPT): a relation of its own, since a grouping may span départements.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "territory_membership")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub grouping_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!();
