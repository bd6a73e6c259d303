//! `audit_event`: One write: who, when, what, and the record before and after.

use crate::enums::*;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub api_key_id: Option<i64>,
    /// The label of the key that wrote.
    pub actor: String,
    pub action: AuditAction,
    /// The GraphQL type of the record written.
    pub record_type: String,
    pub record_id: i64,
    /// The record's version after the write.
    pub version: i32,
    /// The record before the write (JSON), none for a create.
    #[sea_orm(column_type = "Text")]
    pub before: Option<String>,
    /// The record after the write (JSON).
    #[sea_orm(column_type = "Text")]
    pub after: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
