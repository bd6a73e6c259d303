//! The closed vocabularies of the domain, stored as their upper-case names
//! (text on both SQLite and PostgreSQL, so they sort and compare alike).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Declares a string-backed enum whose stored value is the variant's
/// SCREAMING_SNAKE_CASE name, with a label in French for readers.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal ($label:literal)),+ $(,)? }) => {
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

        impl From<$name> for &'static str {
            fn from(value: $name) -> Self {
                value.as_str()
            }
        }

        impl $name {
            /// The stored (and exported) name of this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }

            /// A label of this value for readers, in French.
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                }
            }

            /// The label of a stored name, if it is one of this enum's.
            pub fn label_of(value: &str) -> Option<&'static str> {
                match value {
                    $($value => Some($label),)+
                    _ => None,
                }
            }
        }
    };
}

text_enum!(
    /// Legal form of a territory.
    TerritoryKind {
        Municipality = "MUNICIPALITY" ("Commune"),
        MunicipalArrondissement = "MUNICIPAL_ARRONDISSEMENT" ("Arrondissement municipal"),
        CommunityOfCommunes = "COMMUNITY_OF_COMMUNES" ("Communauté de communes"),
        AgglomerationCommunity = "AGGLOMERATION_COMMUNITY" ("Communauté d'agglomération"),
        UrbanCommunity = "URBAN_COMMUNITY" ("Communauté urbaine"),
        Metropole = "METROPOLE" ("Métropole"),
        LyonMetropolis = "LYON_METROPOLIS" ("Métropole de Lyon"),
        PublicTerritorialEstablishment = "PUBLIC_TERRITORIAL_ESTABLISHMENT" ("Établissement public territorial"),
        Department = "DEPARTMENT" ("Département"),
        Region = "REGION" ("Région"),
        University = "UNIVERSITY" ("Université"),
        TerritorialGrouping = "TERRITORIAL_GROUPING" ("Groupement de collectivités"),
        Country = "COUNTRY" ("État (administration nationale)"),
        NationalMinistry = "NATIONAL_MINISTRY" ("Ministère"),
        NationalAgency = "NATIONAL_AGENCY" ("Agence ou opérateur national"),
        Province = "PROVINCE" ("Province"),
        WaterBoard = "WATER_BOARD" ("Office des eaux (waterschap)"),
        LocalAuthority = "LOCAL_AUTHORITY" ("Autorité locale (Royaume-Uni)"),
        Other = "OTHER" ("Autre"),
    }
);

text_enum!(
    /// What kind of body an organization is.
    OrganizationKind {
        Vendor = "VENDOR" ("Éditeur"),
        Integrator = "INTEGRATOR" ("Intégrateur"),
        Lab = "LAB" ("Laboratoire"),
        Association = "ASSOCIATION" ("Association"),
        StateBody = "STATE_BODY" ("Service de l'État"),
        Other = "OTHER" ("Autre"),
    }
);

text_enum!(
    /// The part an organization plays in a deployment.
    OrganizationRole {
        Developer = "DEVELOPER" ("Développeur"),
        Supplier = "SUPPLIER" ("Fournisseur"),
        Integrator = "INTEGRATOR" ("Intégrateur"),
        Funder = "FUNDER" ("Financeur"),
        Auditor = "AUDITOR" ("Auditeur"),
    }
);

text_enum!(
    /// Life-cycle stage of a deployment.
    DeploymentStatus {
        Idea = "IDEA" ("Idée"),
        Design = "DESIGN" ("Conception"),
        Development = "DEVELOPMENT" ("Développement"),
        Pilot = "PILOT" ("Expérimentation"),
        Evaluation = "EVALUATION" ("Évaluation"),
        Production = "PRODUCTION" ("En production"),
        Retired = "RETIRED" ("Arrêté"),
        Abandoned = "ABANDONED" ("Abandonné"),
        Unknown = "UNKNOWN" ("Non précisé"),
    }
);

text_enum!(
    /// How far the system weighs on decisions.
    DecisionRole {
        FullyAutomated = "FULLY_AUTOMATED" ("Décision automatisée"),
        DecisionSupport = "DECISION_SUPPORT" ("Aide à la décision"),
        InternalProductivity = "INTERNAL_PRODUCTIVITY" ("Productivité interne"),
        PublicInformation = "PUBLIC_INFORMATION" ("Information du public"),
    }
);

text_enum!(
    /// Who uses the system.
    Audience {
        Agents = "AGENTS" ("Agents"),
        Public = "PUBLIC" ("Public"),
        Both = "BOTH" ("Agents et public"),
    }
);

text_enum!(
    /// Which personal data the system processes.
    PersonalData {
        None = "NONE" ("Aucune"),
        Pseudonymised = "PSEUDONYMISED" ("Pseudonymisées"),
        Identified = "IDENTIFIED" ("Identifiantes"),
    }
);

text_enum!(
    /// Risk tier under the EU AI Act (Regulation (EU) 2024/1689).
    AiActTier {
        Unacceptable = "UNACCEPTABLE" ("Inacceptable"),
        High = "HIGH" ("Haut risque"),
        Limited = "LIMITED" ("Limité"),
        Minimal = "MINIMAL" ("Minimal"),
        NotAi = "NOT_AI" ("Hors IA"),
        Unassessed = "UNASSESSED" ("Non évalué"),
    }
);

text_enum!(
    /// High-risk areas listed in Annex III of the EU AI Act.
    AnnexIiiArea {
        Biometrics = "BIOMETRICS" ("Biométrie"),
        CriticalInfrastructure = "CRITICAL_INFRASTRUCTURE" ("Infrastructures critiques"),
        Education = "EDUCATION" ("Éducation et formation"),
        Employment = "EMPLOYMENT" ("Emploi et gestion des travailleurs"),
        EssentialServices = "ESSENTIAL_SERVICES" ("Services essentiels"),
        LawEnforcement = "LAW_ENFORCEMENT" ("Répression"),
        MigrationAsylumBorder = "MIGRATION_ASYLUM_BORDER" ("Migration, asile et frontières"),
        JusticeAndDemocracy = "JUSTICE_AND_DEMOCRACY" ("Justice et démocratie"),
    }
);

text_enum!(
    /// How bad a risk would be if it happened.
    Severity {
        Low = "LOW" ("Faible"),
        Moderate = "MODERATE" ("Modérée"),
        High = "HIGH" ("Élevée"),
        Critical = "CRITICAL" ("Critique"),
    }
);

text_enum!(
    /// How likely a risk is to happen.
    Likelihood {
        Rare = "RARE" ("Rare"),
        Unlikely = "UNLIKELY" ("Peu probable"),
        Possible = "POSSIBLE" ("Possible"),
        Likely = "LIKELY" ("Probable"),
        AlmostCertain = "ALMOST_CERTAIN" ("Quasi certain"),
    }
);

text_enum!(
    /// Where the mitigation of a risk stands.
    MitigationStatus {
        None = "NONE" ("Aucune"),
        Planned = "PLANNED" ("Prévue"),
        InProgress = "IN_PROGRESS" ("En cours"),
        Implemented = "IMPLEMENTED" ("En place"),
        Verified = "VERIFIED" ("Vérifiée"),
    }
);

text_enum!(
    /// Stage of a citizen concertation.
    ConcertationStatus {
        Planned = "PLANNED" ("Prévue"),
        Ongoing = "ONGOING" ("En cours"),
        Completed = "COMPLETED" ("Terminée"),
        ResultsPublished = "RESULTS_PUBLISHED" ("Résultats publiés"),
    }
);

text_enum!(
    /// A way a concertation gathers people.
    ConcertationFormat {
        Workshop = "WORKSHOP" ("Atelier"),
        PublicDebate = "PUBLIC_DEBATE" ("Débat public"),
        Seminar = "SEMINAR" ("Séminaire"),
        Survey = "SURVEY" ("Questionnaire"),
        CitizenPanel = "CITIZEN_PANEL" ("Panel citoyen"),
        OnlinePlatform = "ONLINE_PLATFORM" ("Plateforme en ligne"),
        Conference = "CONFERENCE" ("Conférence"),
        Exhibition = "EXHIBITION" ("Exposition"),
        Other = "OTHER" ("Autre"),
    }
);

text_enum!(
    /// A public a concertation addresses, or that raised a contribution.
    Public {
        Citizens = "CITIZENS" ("Citoyens"),
        Agents = "AGENTS" ("Agents"),
        ElectedOfficials = "ELECTED_OFFICIALS" ("Élus"),
        Youth = "YOUTH" ("Jeunes"),
        Associations = "ASSOCIATIONS" ("Associations"),
        Businesses = "BUSINESSES" ("Entreprises"),
        Unions = "UNIONS" ("Syndicats"),
        Researchers = "RESEARCHERS" ("Chercheurs"),
    }
);

text_enum!(
    /// What a contribution is.
    ContributionKind {
        Concern = "CONCERN" ("Crainte"),
        Expectation = "EXPECTATION" ("Attente"),
        Proposal = "PROPOSAL" ("Proposition"),
        Opportunity = "OPPORTUNITY" ("Opportunité"),
    }
);

text_enum!(
    /// How the organisers answered a contribution.
    ResponseState {
        Open = "OPEN" ("Sans réponse"),
        Acknowledged = "ACKNOWLEDGED" ("Prise en compte"),
        InProgress = "IN_PROGRESS" ("En cours de traitement"),
        Addressed = "ADDRESSED" ("Traitée"),
        Declined = "DECLINED" ("Écartée"),
    }
);

text_enum!(
    /// How a territory takes part in a concertation programme.
    ParticipationMode {
        OwnConcertation = "OWN_CONCERTATION" ("Concertation propre"),
        Codev = "CODEV" ("Codéveloppement"),
    }
);

text_enum!(
    /// What a study finding is.
    FindingKind {
        KeyLearning = "KEY_LEARNING" ("Enseignement"),
        JobExposure = "JOB_EXPOSURE" ("Exposition des métiers"),
        Statistic = "STATISTIC" ("Chiffre"),
        Recommendation = "RECOMMENDATION" ("Recommandation"),
    }
);

text_enum!(
    /// How exposed a job family is to AI.
    ExposureLevel {
        Low = "LOW" ("Faible"),
        Moderate = "MODERATE" ("Modérée"),
        High = "HIGH" ("Forte"),
    }
);

text_enum!(
    /// What a resource is.
    ResourceKind {
        Guide = "GUIDE" ("Guide"),
        Sheet = "SHEET" ("Fiche"),
        Report = "REPORT" ("Rapport"),
        Template = "TEMPLATE" ("Modèle"),
        Other = "OTHER" ("Autre"),
    }
);

text_enum!(
    /// What an API key may write.
    KeyRole {
        Admin = "ADMIN" ("Administrateur"),
        Editor = "EDITOR" ("Éditeur de territoire"),
    }
);

text_enum!(
    /// What a write did to a record.
    AuditAction {
        Create = "CREATE" ("Création"),
        Update = "UPDATE" ("Modification"),
        Archive = "ARCHIVE" ("Archivage"),
        Restore = "RESTORE" ("Restauration"),
    }
);
