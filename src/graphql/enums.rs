//! The closed vocabularies of the API, mirrored from the entity crate with
//! a description for every value.

use async_graphql::Enum;
use entity::enums as db;

/// Legal form of a territory.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::TerritoryKind")]
pub enum TerritoryKind {
    /// A commune (ville).
    Municipality,
    /// A municipal arrondissement of Paris, Lyon or Marseille.
    MunicipalArrondissement,
    /// A communauté de communes.
    CommunityOfCommunes,
    /// A communauté d'agglomération.
    AgglomerationCommunity,
    /// A communauté urbaine.
    UrbanCommunity,
    /// A métropole (an EPCI).
    Metropole,
    /// The Métropole de Lyon, a collectivité with the powers of a
    /// département and of an EPCI.
    LyonMetropolis,
    /// An établissement public territorial (inside the Métropole du Grand Paris).
    PublicTerritorialEstablishment,
    /// A département.
    Department,
    /// A région.
    Region,
    /// A university.
    University,
    /// Several collectivités acting together (pays, syndicat, grouping).
    TerritorialGrouping,
    /// A country's national government as a whole (its agencies not
    /// told apart).
    Country,
    /// A ministry of a national government.
    NationalMinistry,
    /// A national agency, operator or inspectorate (Belastingdienst,
    /// HMRC, CNAF…).
    NationalAgency,
    /// A province (the Netherlands' provincies…).
    Province,
    /// A Dutch water board (waterschap).
    WaterBoard,
    /// A local authority of the United Kingdom (a council).
    LocalAuthority,
    /// Any other public body.
    Other,
}

/// What kind of body an organization is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::OrganizationKind")]
pub enum OrganizationKind {
    /// A company selling a product or service.
    Vendor,
    /// A company assembling and operating systems for others.
    Integrator,
    /// A research laboratory.
    Lab,
    /// An association or network.
    Association,
    /// A body of the State.
    StateBody,
    /// Any other organization.
    Other,
}

/// The part an organization plays in a deployment.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::OrganizationRole")]
pub enum OrganizationRole {
    /// Built the system.
    Developer,
    /// Supplies the system or a component of it.
    Supplier,
    /// Integrates the system into the territory's services.
    Integrator,
    /// Funds the deployment.
    Funder,
    /// Audits or evaluates the system.
    Auditor,
}

/// Life-cycle stage of a deployment.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::DeploymentStatus")]
pub enum DeploymentStatus {
    /// An idea, not yet designed.
    Idea,
    /// Being designed.
    Design,
    /// Being built.
    Development,
    /// Tried on a limited scale.
    Pilot,
    /// Under evaluation before a decision.
    Evaluation,
    /// In regular use.
    Production,
    /// Was used, no longer is.
    Retired,
    /// Stopped before regular use.
    Abandoned,
    /// Not stated by its source (a register that gives no stage).
    Unknown,
}

/// How far the system weighs on decisions.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::DecisionRole")]
pub enum DecisionRole {
    /// Decides without a human in the loop.
    FullyAutomated,
    /// Informs a decision a person takes.
    DecisionSupport,
    /// Helps agents with their own work; takes no decision about people.
    InternalProductivity,
    /// Informs the public.
    PublicInformation,
}

/// Who uses the system.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::Audience")]
pub enum Audience {
    /// The territory's agents.
    Agents,
    /// The public.
    Public,
    /// Agents and the public.
    Both,
}

/// Which personal data the system processes.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::PersonalData")]
pub enum PersonalData {
    /// No personal data.
    None,
    /// Pseudonymised personal data.
    Pseudonymised,
    /// Data identifying people.
    Identified,
}

/// Risk tier under the EU AI Act (Regulation (EU) 2024/1689).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::AiActTier")]
pub enum AiActTier {
    /// A prohibited practice (article 5).
    Unacceptable,
    /// A high-risk system (article 6, annex III).
    High,
    /// A system with transparency obligations (article 50).
    Limited,
    /// Minimal risk: no specific obligation.
    Minimal,
    /// Not an AI system in the sense of the Act.
    NotAi,
    /// Not assessed yet.
    Unassessed,
}

/// High-risk areas listed in Annex III of the EU AI Act.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::AnnexIiiArea")]
pub enum AnnexIiiArea {
    /// Biometric identification and categorisation, emotion recognition.
    Biometrics,
    /// Safety components of critical infrastructure.
    CriticalInfrastructure,
    /// Education and vocational training.
    Education,
    /// Employment and workers' management.
    Employment,
    /// Access to essential public and private services and benefits.
    EssentialServices,
    /// Law enforcement.
    LawEnforcement,
    /// Migration, asylum and border control.
    MigrationAsylumBorder,
    /// Administration of justice and democratic processes.
    JusticeAndDemocracy,
}

/// How bad a risk would be if it happened.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::Severity")]
pub enum Severity {
    /// Minor harm, easily undone.
    Low,
    /// Real harm, which can be undone.
    Moderate,
    /// Serious harm, hard to undo.
    High,
    /// Grave or irreversible harm.
    Critical,
}

/// How likely a risk is to happen.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::Likelihood")]
pub enum Likelihood {
    /// Only in exceptional circumstances.
    Rare,
    /// Could happen, not expected.
    Unlikely,
    /// Might well happen.
    Possible,
    /// Expected to happen.
    Likely,
    /// Will happen unless something changes.
    AlmostCertain,
}

/// Where the mitigation of a risk stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::MitigationStatus")]
pub enum MitigationStatus {
    /// No mitigation.
    None,
    /// Mitigation decided, not started.
    Planned,
    /// Mitigation under way.
    InProgress,
    /// Mitigation in place.
    Implemented,
    /// Mitigation in place and checked.
    Verified,
}

/// Stage of a citizen concertation.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::ConcertationStatus")]
pub enum ConcertationStatus {
    /// Announced, not started.
    Planned,
    /// Under way.
    Ongoing,
    /// Over; results not yet published.
    Completed,
    /// Over, with its results published.
    ResultsPublished,
}

/// A way a concertation gathers people.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::ConcertationFormat")]
pub enum ConcertationFormat {
    /// Workshops (ateliers).
    Workshop,
    /// Public debates.
    PublicDebate,
    /// Seminars.
    Seminar,
    /// Surveys and questionnaires.
    Survey,
    /// A citizen panel or convention.
    CitizenPanel,
    /// An online participation platform.
    OnlinePlatform,
    /// Conferences.
    Conference,
    /// Exhibitions.
    Exhibition,
    /// Any other format.
    Other,
}

/// A public a concertation addresses, or that raised a contribution.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::Public")]
pub enum Public {
    /// Inhabitants.
    Citizens,
    /// Agents of the territory.
    Agents,
    /// Elected officials.
    ElectedOfficials,
    /// Young people.
    Youth,
    /// Associations.
    Associations,
    /// Businesses.
    Businesses,
    /// Trade unions.
    Unions,
    /// Researchers.
    Researchers,
}

/// What a contribution is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::ContributionKind")]
pub enum ContributionKind {
    /// A concern or fear (crainte).
    Concern,
    /// An expectation.
    Expectation,
    /// A proposal.
    Proposal,
    /// An opportunity seen.
    Opportunity,
}

/// How the organisers answered a contribution.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::ResponseState")]
pub enum ResponseState {
    /// No answer recorded.
    Open,
    /// Acknowledged by the organisers.
    Acknowledged,
    /// Being acted on.
    InProgress,
    /// Acted on.
    Addressed,
    /// Considered and declined.
    Declined,
}

/// How a territory takes part in a concertation programme.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::ParticipationMode")]
pub enum ParticipationMode {
    /// Runs its own concertation(s) on its territory.
    OwnConcertation,
    /// Takes part in a co-development group (codev).
    Codev,
}

/// What a study finding is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::FindingKind")]
pub enum FindingKind {
    /// A learning drawn from the concertations (enseignement).
    KeyLearning,
    /// How exposed a job family is to AI.
    JobExposure,
    /// A figure.
    Statistic,
    /// A recommendation.
    Recommendation,
}

/// How exposed a job family is to AI.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::ExposureLevel")]
pub enum ExposureLevel {
    /// Little exposed.
    Low,
    /// Moderately exposed.
    Moderate,
    /// Highly exposed.
    High,
}

/// What a resource is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::ResourceKind")]
pub enum ResourceKind {
    /// A guide.
    Guide,
    /// A fact sheet (fiche).
    Sheet,
    /// A report.
    Report,
    /// A template to reuse.
    Template,
    /// Any other resource.
    Other,
}

/// What a write did to a record.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "db::AuditAction")]
pub enum AuditAction {
    /// The record was created.
    Create,
    /// Some of its fields changed.
    Update,
    /// It was archived: hidden from lists, kept whole.
    Archive,
    /// It was brought back from the archive.
    Restore,
}
