//! `territory_identifier`: An official identifier of a territory in a
//! scheme other than the SIREN and INSEE code it keeps in its own columns
//! (`NL-CBS` `GM0363`, `GOV.UK` `hm-revenue-customs`…): each names one
//! territory.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "territory_identifier")]
pub struct Model {
    /// The scheme, e.g. `NL-CBS`, `GOV.UK`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scheme: String,
    /// The identifier in that scheme.
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    pub territory_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!();
