//! `territory`: A collectivité or public body.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "territory")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Its name in the official geography, when it is one of its
    /// territories (`name` may be the network's own wording).
    pub official_name: Option<String>,
    /// Its name as the source document writes it, when a document names
    /// it (`name` is a cleaned name).
    pub name_in_source: Option<String>,
    pub slug: String,
    pub kind: TerritoryKind,
    /// Its country, ISO 3166-1 alpha-2 (`FR`, `NL`, `GB`); `FR` unless
    /// given.
    #[sea_orm(default_value = "FR")]
    pub country: String,
    pub siren: Option<String>,
    pub insee_code: Option<String>,
    pub region: Option<String>,
    pub department: Option<String>,
    pub population: Option<i64>,
    pub parent_id: Option<i64>,
    /// The département it is in (a département's is itself).
    pub department_id: Option<i64>,
    /// The région it is in (a région's is itself).
    pub region_id: Option<i64>,
    pub website: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub notes: Option<String>,
    pub source_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1; every write adds one.
    pub version: i32,
    /// When the record was archived (hidden from lists); `None` while live.
    pub archived_at: Option<DateTimeUtc>,
    // Lower-cased, accent-free copies, for case- and accent-insensitive matching.
    #[sea_orm(column_type = "Text")]
    pub name_folded: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub region_folded: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

crate::behavior!(name => name_folded, region => region_folded; searchable);
