//! The closed vocabularies of the domain, stored as their upper-case names
//! (text on both SQLite and PostgreSQL, so they sort and compare alike).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Declares a string-backed enum whose stored value is the variant's
/// SCREAMING_SNAKE_CASE name.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// The stored (and exported) name of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }
        }
    };
}

text_enum!(
    /// Legal form of a territory.
    TerritoryKind {
        Municipality = "MUNICIPALITY",
        CommunityOfCommunes = "COMMUNITY_OF_COMMUNES",
        AgglomerationCommunity = "AGGLOMERATION_COMMUNITY",
        UrbanCommunity = "URBAN_COMMUNITY",
        Metropole = "METROPOLE",
        PublicTerritorialEstablishment = "PUBLIC_TERRITORIAL_ESTABLISHMENT",
        Department = "DEPARTMENT",
        Region = "REGION",
        University = "UNIVERSITY",
        TerritorialGrouping = "TERRITORIAL_GROUPING",
        Other = "OTHER",
    }
);

text_enum!(
    /// What kind of body an organization is.
    OrganizationKind {
        Vendor = "VENDOR",
        Integrator = "INTEGRATOR",
        Lab = "LAB",
        Association = "ASSOCIATION",
        StateBody = "STATE_BODY",
        Other = "OTHER",
    }
);

text_enum!(
    /// The part an organization plays in a deployment.
    OrganizationRole {
        Developer = "DEVELOPER",
        Supplier = "SUPPLIER",
        Integrator = "INTEGRATOR",
        Funder = "FUNDER",
        Auditor = "AUDITOR",
    }
);

text_enum!(
    /// Life-cycle stage of a deployment.
    DeploymentStatus {
        Idea = "IDEA",
        Design = "DESIGN",
        Development = "DEVELOPMENT",
        Pilot = "PILOT",
        Evaluation = "EVALUATION",
        Production = "PRODUCTION",
        Retired = "RETIRED",
        Abandoned = "ABANDONED",
    }
);

text_enum!(
    /// How far the system weighs on decisions.
    DecisionRole {
        FullyAutomated = "FULLY_AUTOMATED",
        DecisionSupport = "DECISION_SUPPORT",
        InternalProductivity = "INTERNAL_PRODUCTIVITY",
        PublicInformation = "PUBLIC_INFORMATION",
    }
);

text_enum!(
    /// Who uses the system.
    Audience {
        Agents = "AGENTS",
        Public = "PUBLIC",
        Both = "BOTH",
    }
);

text_enum!(
    /// Which personal data the system processes.
    PersonalData {
        None = "NONE",
        Pseudonymised = "PSEUDONYMISED",
        Identified = "IDENTIFIED",
    }
);

text_enum!(
    /// Risk tier under the EU AI Act (Regulation (EU) 2024/1689).
    AiActTier {
        Unacceptable = "UNACCEPTABLE",
        High = "HIGH",
        Limited = "LIMITED",
        Minimal = "MINIMAL",
        NotAi = "NOT_AI",
        Unassessed = "UNASSESSED",
    }
);

text_enum!(
    /// High-risk areas listed in Annex III of the EU AI Act.
    AnnexIiiArea {
        Biometrics = "BIOMETRICS",
        CriticalInfrastructure = "CRITICAL_INFRASTRUCTURE",
        Education = "EDUCATION",
        Employment = "EMPLOYMENT",
        EssentialServices = "ESSENTIAL_SERVICES",
        LawEnforcement = "LAW_ENFORCEMENT",
        MigrationAsylumBorder = "MIGRATION_ASYLUM_BORDER",
        JusticeAndDemocracy = "JUSTICE_AND_DEMOCRACY",
    }
);

text_enum!(
    /// How bad a risk would be if it happened.
    Severity {
        Low = "LOW",
        Moderate = "MODERATE",
        High = "HIGH",
        Critical = "CRITICAL",
    }
);

text_enum!(
    /// How likely a risk is to happen.
    Likelihood {
        Rare = "RARE",
        Unlikely = "UNLIKELY",
        Possible = "POSSIBLE",
        Likely = "LIKELY",
        AlmostCertain = "ALMOST_CERTAIN",
    }
);

text_enum!(
    /// Where the mitigation of a risk stands.
    MitigationStatus {
        None = "NONE",
        Planned = "PLANNED",
        InProgress = "IN_PROGRESS",
        Implemented = "IMPLEMENTED",
        Verified = "VERIFIED",
    }
);

text_enum!(
    /// Stage of a citizen concertation.
    ConcertationStatus {
        Planned = "PLANNED",
        Ongoing = "ONGOING",
        Completed = "COMPLETED",
        ResultsPublished = "RESULTS_PUBLISHED",
    }
);

text_enum!(
    /// A way a concertation gathers people.
    ConcertationFormat {
        Workshop = "WORKSHOP",
        PublicDebate = "PUBLIC_DEBATE",
        Seminar = "SEMINAR",
        Survey = "SURVEY",
        CitizenPanel = "CITIZEN_PANEL",
        OnlinePlatform = "ONLINE_PLATFORM",
        Conference = "CONFERENCE",
        Exhibition = "EXHIBITION",
        Other = "OTHER",
    }
);

text_enum!(
    /// A public a concertation addresses, or that raised a contribution.
    Public {
        Citizens = "CITIZENS",
        Agents = "AGENTS",
        ElectedOfficials = "ELECTED_OFFICIALS",
        Youth = "YOUTH",
        Associations = "ASSOCIATIONS",
        Businesses = "BUSINESSES",
        Unions = "UNIONS",
        Researchers = "RESEARCHERS",
    }
);

text_enum!(
    /// What a contribution is.
    ContributionKind {
        Concern = "CONCERN",
        Expectation = "EXPECTATION",
        Proposal = "PROPOSAL",
        Opportunity = "OPPORTUNITY",
    }
);

text_enum!(
    /// How the organisers answered a contribution.
    ResponseState {
        Open = "OPEN",
        Acknowledged = "ACKNOWLEDGED",
        InProgress = "IN_PROGRESS",
        Addressed = "ADDRESSED",
        Declined = "DECLINED",
    }
);

text_enum!(
    /// How a territory takes part in a concertation programme.
    ParticipationMode {
        OwnConcertation = "OWN_CONCERTATION",
        Codev = "CODEV",
    }
);

text_enum!(
    /// What a study finding is.
    FindingKind {
        KeyLearning = "KEY_LEARNING",
        JobExposure = "JOB_EXPOSURE",
        Statistic = "STATISTIC",
        Recommendation = "RECOMMENDATION",
    }
);

text_enum!(
    /// How exposed a job family is to AI.
    ExposureLevel {
        Low = "LOW",
        Moderate = "MODERATE",
        High = "HIGH",
    }
);

text_enum!(
    /// What a resource is.
    ResourceKind {
        Guide = "GUIDE",
        Sheet = "SHEET",
        Report = "REPORT",
        Template = "TEMPLATE",
        Other = "OTHER",
    }
);
