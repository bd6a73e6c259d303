//! The graph: one module a domain, each with its objects, relation lists and
//! root fields, merged here into one schema.

#[macro_use]
mod macros;

pub mod audit;
pub mod charter;
pub mod concertation;
pub mod deployment;
pub mod engine;
pub mod enums;
pub mod inputs;
pub mod live;
pub mod network;
pub mod nodes;
pub mod organization;
pub mod resource;
pub mod risk;
pub mod search;
pub mod source;
pub mod study;
pub mod territory;
pub mod write;

use async_graphql::{
    MergedObject, SDLExportOptions, Schema, SchemaBuilder, parser::types::OperationType,
};
use futures_util::{StreamExt, stream::BoxStream};
use sea_orm::DatabaseConnection;
use std::time::Duration;
use tokio::time::Instant;

pub use charter::{Charter, CharterSignature};
pub use concertation::{Concertation, ConcertationProgramme, Contribution, ProgrammeParticipation};
pub use deployment::{Deployment, DeploymentOrganization, Domain, Technique};
pub use engine::errors::timed_out;
pub use engine::selection::Selection;
pub use network::{Axis, Network};
pub use organization::Organization;
pub use resource::{Event, Resource};
pub use risk::{DeploymentRisk, Lever, Opportunity, RiskCategory};
pub use source::Source;
pub use study::{Study, StudyFinding};
pub use territory::Territory;

/// Every root field of the API.
#[derive(MergedObject, Default)]
pub struct Query(
    territory::TerritoryRoot,
    deployment::DeploymentRoot,
    concertation::ConcertationRoot,
    concertation::ContributionRoot,
    concertation::ConcertationProgrammeRoot,
    concertation::ProgrammeParticipationRoot,
    risk::RiskCategoryRoot,
    risk::DeploymentRiskRoot,
    risk::OpportunityRoot,
    risk::LeverRoot,
    organization::OrganizationRoot,
    deployment::DeploymentOrganizationRoot,
    deployment::DomainRoot,
    deployment::TechniqueRoot,
    charter::CharterRoot,
    charter::CharterSignatureRoot,
    study::StudyRoot,
    study::StudyFindingRoot,
    network::NetworkRoot,
    network::AxisRoot,
    resource::ResourceRoot,
    resource::EventRoot,
    source::SourceRoot,
    search::SearchRoot,
    nodes::NodeRoot,
    audit::AuditRoot,
);

/// Every mutation of the API. Writing needs an API key
/// (`Authorization: Bearer KEY`); every write is versioned and audited.
#[derive(MergedObject, Default)]
pub struct Mutation(
    write::deployment::DeploymentMutation,
    write::concertation::ConcertationMutation,
    write::contribution::ContributionMutation,
    write::deployment::DeploymentArchiving,
    write::concertation::ConcertationArchiving,
    write::contribution::ContributionArchiving,
    write::directory::TerritoryMutation,
    write::directory::TerritoryArchiving,
    write::directory::OrganizationMutation,
    write::directory::OrganizationArchiving,
    write::charter::CharterSignatureMutation,
    write::charter::CharterSignatureArchiving,
    write::study::StudyMutation,
    write::study::StudyArchiving,
    write::study::StudyFindingMutation,
    write::study::StudyFindingArchiving,
    write::resource::ResourceMutation,
    write::resource::ResourceArchiving,
    write::resource::EventMutation,
    write::resource::EventArchiving,
);

pub type VigieSchema = Schema<Query, Mutation, live::Subscription>;

/// How long a query may run unless told otherwise.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10);

/// Limits on what one request may ask.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of fields.
    pub max_depth: usize,
    /// Highest cost, counting each connection's items at its page size.
    pub max_complexity: usize,
    /// Longest a query may run; past it, it is stopped and answered
    /// TIMEOUT. Mutations are not cut short: on PostgreSQL each of their
    /// statements is bounded by the database (see
    /// [`crate::db::connect_with_limits`]).
    pub time_limit: Option<Duration>,
    /// Bounds checked on the document before it is validated or run.
    pub bounds: engine::guard::Bounds,
    /// Documents known to validate, by what validation reads (see
    /// [`engine::documents::Validated`]); 0 validates every request fully.
    pub validated_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_complexity: 100_000,
            time_limit: Some(DEFAULT_TIME_LIMIT),
            bounds: engine::guard::Bounds::default(),
            validated_documents: engine::documents::DEFAULT_VALIDATED,
        }
    }
}

fn builder(limits: Limits) -> SchemaBuilder<Query, Mutation, live::Subscription> {
    Schema::build(Query::default(), Mutation::default(), live::Subscription)
        .enable_federation()
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_directives(limits.bounds.max_directives_per_location)
        // "Did you mean …?" would map the schema field by field.
        .disable_suggestions()
}

/// The schema in SDL, as clients use it and as committed in
/// `schema.graphql`: queries, mutations and subscriptions, with fields,
/// arguments and enum values sorted, so that it only changes when the API
/// does.
pub fn sdl() -> String {
    builder(Limits::default())
        .finish()
        .sdl_with_options(SDLExportOptions::new().sorted_fields())
}

/// The schema as an Apollo Federation subgraph declares it to a gateway
/// (what `_service { sdl }` answers): entity keys and federation
/// directives, and no subscriptions, which federation does not route.
pub fn federation_sdl() -> String {
    builder(Limits::default())
        .finish()
        .sdl_with_options(SDLExportOptions::new().sorted_fields().federation())
}

/// Runs the operations sent over WebSocket: subscriptions as streams, and
/// queries and mutations once, as [`Api::execute`] runs them (with the
/// request's loader). Every error is coded.
impl async_graphql::Executor for Api {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        Api::execute(self, request).await
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<std::sync::Arc<async_graphql::Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        if let Err(refused) = self.admit(&mut request) {
            return futures_util::stream::once(std::future::ready(*refused)).boxed();
        }
        if matches!(
            engine::documents::operation_type(&mut request),
            Some(OperationType::Query | OperationType::Mutation)
        ) {
            let api = self.clone();
            return futures_util::stream::once(async move { api.execute(request).await }).boxed();
        }
        self.schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(|mut response| {
                engine::errors::code_errors(&mut response);
                response
            })
            .boxed()
    }
}

/// The API: the schema and the database it reads.
#[derive(Clone)]
pub struct Api {
    schema: VigieSchema,
    /// The same schema, validating in `Fast` mode: for requests that
    /// validated without errors before (see `validated`).
    fast: VigieSchema,
    validated: Option<engine::documents::Validated>,
    db: DatabaseConnection,
    documents: engine::documents::Documents,
    time_limit: Option<Duration>,
    bounds: engine::guard::Bounds,
    changes: crate::store::changes::Changes,
    /// Relays other replicas' writes to this one's subscribers while the
    /// API lives.
    _relay: Option<std::sync::Arc<crate::store::changes::Relay>>,
}

impl Api {
    pub fn new(db: DatabaseConnection, limits: Limits) -> Self {
        let changes = crate::store::changes::Changes::default();
        let relay = changes.relay(&db).map(std::sync::Arc::new);
        let schema = |mode| {
            builder(limits)
                .validation_mode(mode)
                .data(db.clone())
                .data(changes.clone())
                .finish()
        };
        Api {
            schema: schema(async_graphql::ValidationMode::Strict),
            fast: schema(async_graphql::ValidationMode::Fast),
            validated: engine::documents::Validated::new(limits.validated_documents),
            changes,
            db,
            documents: engine::documents::Documents::default(),
            time_limit: limits.time_limit,
            bounds: limits.bounds,
            _relay: relay,
        }
    }

    /// How many requests were found validated before (and skipped the
    /// rules they passed), and how many were validated fully; none when
    /// documents are not remembered.
    pub fn validations(&self) -> Option<(u64, u64)> {
        self.validated
            .as_ref()
            .map(engine::documents::Validated::counts)
    }

    /// Where its writes, and other replicas', are announced.
    pub fn changes(&self) -> &crate::store::changes::Changes {
        &self.changes
    }

    /// The database the API reads and writes.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Runs one GraphQL request, with a loader of its own, and answers its
    /// fields in the order the query asks them.
    pub async fn execute(
        &self,
        request: impl Into<async_graphql::Request>,
    ) -> async_graphql::Response {
        self.execute_with_selection(request).await.response
    }

    /// The bounds every document of this API meets.
    pub fn bounds(&self) -> &engine::guard::Bounds {
        &self.bounds
    }

    /// Checks a document's text before anything parses it (see
    /// [`engine::guard::check_text`]); a text refused is answered here.
    pub fn check_text(&self, query: &str) -> Result<(), Box<async_graphql::Response>> {
        engine::guard::check_text(query, &self.bounds)
            .map_err(|error| Box::new(async_graphql::Response::from_errors(vec![error])))
    }

    /// Parses a request's document (once, or copied from an earlier
    /// request of the same text: the schema runs the document parsed here)
    /// and checks it against the bounds, its variables included; a
    /// request refused is answered here, before anything runs.
    fn admit(
        &self,
        request: &mut async_graphql::Request,
    ) -> Result<(), Box<async_graphql::Response>> {
        self.check_text(&request.query)?;
        let bounds = &self.bounds;
        self.documents
            .parse(request, |document, variables| {
                engine::guard::check_document(document, variables, bounds)
            })
            .map_err(|error| Box::new(engine::errors::parse_failed(error)))
    }

    /// When a query that starts now must have its answer: its time limit
    /// from now, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.time_limit.map(|limit| Instant::now() + limit)
    }

    /// Runs one GraphQL request, and also gives what its operation is and
    /// selects (when the document parses and names one operation).
    pub async fn execute_with_selection(
        &self,
        request: impl Into<async_graphql::Request>,
    ) -> Executed {
        self.execute_until(request, self.deadline(), None).await
    }

    /// Runs one GraphQL request as [`Api::execute_with_selection`] does; a
    /// query still running at `deadline` is stopped, and answered TIMEOUT.
    /// A query reads from `reads_from` when it is given (a standby), the
    /// API's database otherwise; mutations always use the API's database.
    pub async fn execute_until(
        &self,
        request: impl Into<async_graphql::Request>,
        deadline: Option<Instant>,
        reads_from: Option<&DatabaseConnection>,
    ) -> Executed {
        let mut request = request.into();
        if let Err(response) = self.admit(&mut request) {
            return Executed {
                response: *response,
                selection: None,
                query: false,
                reads: Vec::new(),
            };
        }
        let query = engine::documents::operation_type(&mut request) == Some(OperationType::Query);
        let operation_name = request.operation_name.clone();
        let selection = request
            .parsed_query()
            .ok()
            .and_then(|doc| Selection::of_operation(doc, operation_name.as_deref()));
        let reads = std::sync::Arc::new(crate::tags::Reads::default());
        let db = reads_from.filter(|_| query).unwrap_or(&self.db);
        let (loader, fetches) = engine::loader::request_loader(db.clone(), reads.clone());
        let validation = self.validated.as_ref().and_then(|validated| {
            Some((validated, engine::documents::Validated::key(&mut request)?))
        });
        let schema = match validation {
            Some((validated, key)) if validated.contains(&key) => &self.fast,
            _ => &self.schema,
        };
        let request = request.data(loader);
        let run = engine::loader::run_batched(schema.execute(request), fetches);
        let mut response = match deadline.filter(|_| query) {
            Some(deadline) => match tokio::time::timeout_at(deadline, run).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::warn!(
                        operation = operation_name.as_deref().unwrap_or(""),
                        limit_ms = self.time_limit.unwrap_or_default().as_millis() as u64,
                        "a query ran past the time limit and was stopped"
                    );
                    engine::errors::timed_out()
                }
            },
            None => run.await,
        };
        if let Some((validated, key)) = validation.filter(|_| response.errors.is_empty()) {
            validated.insert(key);
        }
        engine::errors::code_errors(&mut response);
        if let Some(selection) = &selection {
            selection.reorder(&mut response.data);
        }
        Executed {
            response,
            selection,
            query,
            reads: reads.tags(),
        }
    }
}

/// A request the API ran.
pub struct Executed {
    pub response: async_graphql::Response,
    /// What its operation selects.
    pub selection: Option<Selection>,
    /// Whether its operation is a query (not a mutation or a subscription).
    pub query: bool,
    /// What it read, as tags (see [`crate::tags`]): its answer stays true
    /// until a write touches one of them.
    pub reads: Vec<crate::tags::Tag>,
}
