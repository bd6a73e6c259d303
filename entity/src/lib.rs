//! Vigie's tables as SeaORM entities, one module a table.
//!
//! Plain data only: the GraphQL types of the hub convert from these models.

pub mod enums;
pub mod records;
pub mod search;
pub mod text;

pub mod api_key;
pub mod api_key_territory;
pub mod audit_event;
pub mod axis;
pub mod charter;
pub mod charter_signature;
pub mod concertation;
pub mod concertation_co_organizer;
pub mod concertation_format;
pub mod concertation_programme;
pub mod concertation_public;
pub mod contribution;
pub mod contribution_deployment;
pub mod contribution_risk_category;
pub mod deployment;
pub mod deployment_domain;
pub mod deployment_organization;
pub mod deployment_register_entry;
pub mod deployment_risk;
pub mod deployment_technique;
pub mod domain;
pub mod event;
pub mod finding_concertation;
pub mod finding_lever;
pub mod finding_risk_category;
pub mod idempotency_key;
pub mod lever;
pub mod lever_risk_category;
pub mod network;
pub mod opportunity;
pub mod organization;
pub mod persisted_query;
pub mod programme_participation;
pub mod register_fetch;
pub mod resource;
pub mod risk_category;
pub mod source;
pub mod study;
pub mod study_finding;
pub mod technique;
pub mod territory;
pub mod territory_identifier;
pub mod territory_membership;
