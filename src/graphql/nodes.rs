//! The records of the graph fetched by global ID: the `Node` interface
//! over every record type, `node`/`nodes`, and the federation entities'
//! look-ups (`_entities`). It lists the domain's record types; the look-ups
//! themselves are the engine's ([`super::engine::node`]).

use async_graphql::{Context, ID, Object};
use sea_orm::IdenStatic;

use super::engine::{
    id,
    node::{find, lookup},
};
use crate::error::AppError;

/// Declares the `Node` interface over every record type, with the look-up
/// that turns a global ID into the record it names.
macro_rules! nodes {
    ($($name:ident),+ $(,)?) => {
        /// Any record of the hub, fetched by its global ID.
        #[derive(async_graphql::Interface)]
        #[graphql(field(name = "id", ty = "ID", desc = "Global ID of the record."))]
        pub enum Node {
            $($name(super::$name),)+
        }

        /// The record types `node` finds.
        #[cfg(test)]
        const NODE_TYPES: &[&str] = &[$(stringify!($name)),+];

        /// The record a global ID names, or `None` if there is none.
        async fn resolve_node(ctx: &Context<'_>, global_id: &str) -> async_graphql::Result<Option<Node>> {
            let global = id::decode(global_id)?;
            match global.type_name.as_str() {
                $(stringify!($name) => Ok(find::<super::$name>(ctx, global.id).await?.map(Node::$name)),)+
                _ => Ok(None),
            }
        }
    };
}

nodes!(
    Axis,
    Charter,
    CharterSignature,
    Concertation,
    ConcertationProgramme,
    Contribution,
    Deployment,
    DeploymentOrganization,
    DeploymentRisk,
    Domain,
    Event,
    Lever,
    Network,
    Opportunity,
    Organization,
    ProgrammeParticipation,
    Resource,
    RiskCategory,
    Source,
    Study,
    StudyFinding,
    Technique,
    Territory,
);

/// Most global IDs `nodes` takes at once.
const MAX_NODES: usize = 100;

/// Relay's `node` and `nodes`, and the Apollo Federation entity look-ups.
#[derive(Default)]
pub struct NodeRoot;

#[Object]
impl NodeRoot {
    /// The record with this global ID, whatever its type; `null` if none.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the record.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        resolve_node(ctx, &id).await
    }

    /// The records with these global IDs, in the same order; `null` for an
    /// ID that names no record.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global IDs of the records (at most 100).")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::bad_argument("ids", format!("at most {MAX_NODES} ids")).into());
        }
        let lookups = ids.iter().map(|id| resolve_node(ctx, id));
        futures_util::future::try_join_all(lookups).await
    }

    #[graphql(entity)]
    async fn find_territory_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<super::Territory>> {
        lookup(ctx, Some(id), &[]).await
    }

    #[graphql(entity)]
    async fn find_territory_by_siren(
        &self,
        ctx: &Context<'_>,
        siren: String,
    ) -> async_graphql::Result<Option<super::Territory>> {
        let siren_column = entity::territory::Column::Siren.as_str();
        lookup(ctx, None, &[(siren_column, Some(siren))]).await
    }

    #[graphql(entity)]
    async fn find_deployment_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<super::Deployment>> {
        lookup(ctx, Some(id), &[]).await
    }

    #[graphql(entity)]
    async fn find_concertation_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<super::Concertation>> {
        lookup(ctx, Some(id), &[]).await
    }

    #[graphql(entity)]
    async fn find_organization_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<super::Organization>> {
        lookup(ctx, Some(id), &[]).await
    }
}

#[cfg(test)]
mod tests {
    use super::NODE_TYPES;

    #[test]
    fn node_finds_every_declared_record_type() {
        let mut declared: Vec<&str> = entity::records::all()
            .iter()
            .map(|record| record.type_name)
            .collect();
        declared.sort_unstable();
        assert_eq!(NODE_TYPES, declared.as_slice());
    }
}
