//! `register_fetch`: What the server of a register said of the copy last
//! imported from its address, so that the next fetch asks only for a newer
//! one (`If-None-Match`, `If-Modified-Since`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "register_fetch")]
pub struct Model {
    /// The register, e.g. `nl-algoritmeregister`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub register: String,
    /// The address fetched.
    #[sea_orm(column_type = "Text")]
    pub url: String,
    /// The `ETag` of the copy imported.
    #[sea_orm(column_type = "Text")]
    pub etag: Option<String>,
    /// Its `Last-Modified`.
    pub last_modified: Option<String>,
    pub fetched_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
