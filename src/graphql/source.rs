//! Sources: where every fact of the hub comes from. Each record points to
//! its source, so a reader can always check a fact against the document,
//! page or dataset it was taken from.

use super::{
    Axis, Charter, CharterSignature, Concertation, ConcertationProgramme, Contribution, Deployment,
    DeploymentOrganization, DeploymentRisk, Domain, Event, Lever, Network, Opportunity,
    Organization, ProgrammeParticipation, Resource, RiskCategory, Study, StudyFinding, Technique,
    Territory,
    engine::node::{all_related, find, maybe_one},
    engine::record::NodeType,
    engine::relation::Rel,
    engine::scalars::Date,
};
use async_graphql::Context;
use sea_orm::EntityTrait;

node! {
    /// A document, web page or dataset facts are taken from.
    Source(source);
    root SourceRoot {
        /// All sources.
        list: sources,
        /// One source, by `id`; `null` if none matches.
        one: source(),
    }
    filter SourceFilter {
        /// Title.
        title: text;
        /// Who published it.
        publisher: text;
        /// Where it can be read.
        url: string;
        /// Name of the file as received.
        document: string;
        /// When it was retrieved.
        retrieved_on: date;
    } parents {}
    order SourceOrder by SourceOrderField {
        /// Title.
        Title = title;
        /// When it was retrieved.
        RetrievedOn = retrieved_on;
    }
    groups SourceGroup by SourceGroupKey {
        /// Who published it.
        Publisher = key!(source.publisher);
        /// The year it was retrieved.
        Year = key!(year_of_date: source.retrieved_on);
    } numbers SourceNumbers {}
    fields {
        /// Title of the source.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// Who published it.
        async fn publisher(&self) -> Option<&str> {
            self.0.publisher.as_deref()
        }

        /// Where it can be read.
        async fn url(&self) -> Option<&str> {
            self.0.url.as_deref()
        }

        /// Name of the file as received, when the source is a document.
        async fn document(&self) -> Option<&str> {
            self.0.document.as_deref()
        }

        /// When it was retrieved, if recorded.
        async fn retrieved_on(&self) -> Option<Date> {
            self.0.retrieved_on.map(Date)
        }

        /// The licence its content is published under (e.g. `Licence
        /// Ouverte / Open Licence 2.0`), if recorded.
        async fn licence(&self) -> Option<&str> {
            self.0.licence.as_deref()
        }

        /// The attribution its licence asks of those who reuse its content,
        /// to be shown where that content is shown.
        async fn attribution(&self) -> Option<&str> {
            self.0.attribution.as_deref()
        }
    }
    relations {
        /// Networks taken from this source.
        networks: Network = column(source_id);
        /// Work axes taken from this source.
        axes: Axis = column(source_id);
        /// Territories taken from this source.
        territories: Territory = column(source_id);
        /// Organizations taken from this source.
        organizations: Organization = column(source_id);
        /// Deployments taken from this source.
        deployments: Deployment = column(source_id);
        /// Organizations' parts in deployments taken from this source.
        deployment_organizations: DeploymentOrganization = column(source_id);
        /// Declared risks taken from this source.
        deployment_risks: DeploymentRisk = column(source_id);
        /// Public-service areas taken from this source.
        domains: Domain = column(source_id);
        /// Technique families taken from this source.
        techniques: Technique = column(source_id);
        /// Risk categories taken from this source.
        risk_categories: RiskCategory = column(source_id);
        /// Concertation programmes taken from this source.
        programmes: ConcertationProgramme = column(source_id);
        /// Engagements of territories taken from this source.
        participations: ProgrammeParticipation = column(source_id);
        /// Concertations taken from this source.
        concertations: Concertation = column(source_id);
        /// Contributions taken from this source.
        contributions: Contribution = column(source_id);
        /// Opportunities taken from this source.
        opportunities: Opportunity = column(source_id);
        /// Levers taken from this source.
        levers: Lever = column(source_id);
        /// Charters taken from this source.
        charters: Charter = column(source_id);
        /// Charter signatures taken from this source.
        charter_signatures: CharterSignature = column(source_id);
        /// Studies taken from this source.
        studies: Study = column(source_id);
        /// Study findings taken from this source.
        findings: StudyFinding = column(source_id);
        /// Resources taken from this source.
        resources: Resource = column(source_id);
        /// Events taken from this source.
        events: Event = column(source_id);
    }
}

/// A record reached through a link, and the source of that link: where
/// the link is a choice of its own (the Vigie editors joining two facts
/// the document sets side by side), a reader sees who made it.
pub struct Linked<N> {
    node: N,
    source: Option<i64>,
}

/// A record reached through a link, with the source of the link.
#[async_graphql::Object(name_type)]
impl<N: NodeType> Linked<N> {
    /// The record linked.
    async fn node(&self) -> &N {
        &self.node
    }

    /// Who chose this link: the Vigie editors' curation for the links
    /// between facts of the reference document; `null` for a link written
    /// with its record, whose own `source` speaks for it.
    async fn source(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Source>> {
        maybe_one(ctx, self.source).await
    }
}

impl<N: NodeType> async_graphql::TypeName for Linked<N> {
    fn type_name() -> std::borrow::Cow<'static, str> {
        format!("Linked{}", N::type_name()).into()
    }
}

/// The records of `N` linked to `parent` through the link rows of `rel`,
/// each with its link's source, in the order of their ids; `link` reads a
/// link row's record id and source.
pub async fn linked<N: NodeType, L>(
    ctx: &Context<'_>,
    rel: &'static Rel<L>,
    parent: i64,
    link: impl Fn(&L::Model) -> (i64, Option<i64>),
) -> async_graphql::Result<Vec<Linked<N>>>
where
    L: EntityTrait<Model: Clone + Send + Sync>,
{
    let mut links: Vec<(i64, Option<i64>)> = all_related(ctx, rel, parent)
        .await?
        .iter()
        .map(link)
        .collect();
    links.sort_unstable();
    let nodes =
        futures_util::future::try_join_all(links.iter().map(|(id, _)| find::<N>(ctx, *id))).await?;
    Ok(nodes
        .into_iter()
        .zip(links)
        .filter_map(|(node, (_, source))| node.map(|node| Linked { node, source }))
        .collect())
}
