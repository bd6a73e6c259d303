//! `api_key`: A key a writer authenticates with; only its hash is kept.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "api_key")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who holds the key, as audit events name them.
    pub label: String,
    pub role: KeyRole,
    /// The key's first characters, to tell keys apart in listings.
    pub prefix: String,
    /// SHA-256 of the whole key, in hexadecimal.
    pub hash: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
