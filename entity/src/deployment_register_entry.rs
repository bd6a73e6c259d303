//! `deployment_register_entry`: The entry a deployment has in a public
//! register of algorithms: which register, the id it has there, its
//! address, and when the register published and last revised it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deployment_register_entry")]
pub struct Model {
    /// The register, e.g. `nl-algoritmeregister`, `uk-atrs`, `fr-etalab`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub register: String,
    /// The entry's id in that register.
    #[sea_orm(primary_key, auto_increment = false)]
    pub external_id: String,
    pub deployment_id: i64,
    /// Where the register shows the entry.
    #[sea_orm(column_type = "Text")]
    pub url: Option<String>,
    /// When the register published the entry.
    pub published_on: Option<Date>,
    /// When the register last revised the entry.
    pub revised_on: Option<Date>,
    /// What the register said of the entry at the last import: the fields
    /// it owns, as JSON (see `vigie import-register`).
    #[sea_orm(column_type = "Text")]
    pub imported: Option<String>,
    /// When the register stopped listing the entry; `None` while listed.
    pub withdrawn_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!();
