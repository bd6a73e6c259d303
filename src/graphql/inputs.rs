//! The filter inputs made of the domain's types: conditions on a value of
//! each closed list (vocabulary), and on the lists of related records of
//! each record type. The engine's filter ([`super::engine::filter`])
//! compiles them; only the names of their GraphQL types are the domain's.

use async_graphql::{EnumType, InputObject, InputType};

use super::{
    engine::{
        filter::{CmpOp, Column, FieldFilter, Filter, Pred, Quantifier, Val, comparisons},
        relation::RelDef,
    },
    enums::*,
};
use crate::error::AppResult;

/// Conditions on a value of a closed list.
#[derive(InputObject, Debug)]
#[graphql(
    concrete(name = "TerritoryKindFilter", params(TerritoryKind)),
    concrete(name = "OrganizationKindFilter", params(OrganizationKind)),
    concrete(name = "OrganizationRoleFilter", params(OrganizationRole)),
    concrete(name = "DeploymentStatusFilter", params(DeploymentStatus)),
    concrete(name = "DecisionRoleFilter", params(DecisionRole)),
    concrete(name = "AudienceFilter", params(Audience)),
    concrete(name = "PersonalDataFilter", params(PersonalData)),
    concrete(name = "AiActTierFilter", params(AiActTier)),
    concrete(name = "AnnexIiiAreaFilter", params(AnnexIiiArea)),
    concrete(name = "SeverityFilter", params(Severity)),
    concrete(name = "LikelihoodFilter", params(Likelihood)),
    concrete(name = "MitigationStatusFilter", params(MitigationStatus)),
    concrete(name = "ConcertationStatusFilter", params(ConcertationStatus)),
    concrete(name = "PublicFilter", params(Public)),
    concrete(name = "ContributionKindFilter", params(ContributionKind)),
    concrete(name = "ResponseStateFilter", params(ResponseState)),
    concrete(name = "ParticipationModeFilter", params(ParticipationMode)),
    concrete(name = "FindingKindFilter", params(FindingKind)),
    concrete(name = "ExposureLevelFilter", params(ExposureLevel)),
    concrete(name = "ResourceKindFilter", params(ResourceKind))
)]
pub struct EnumFilter<T: InputType + EnumType> {
    /// This value.
    pub eq: Option<T>,
    /// Any other value (never matches an empty field).
    pub ne: Option<T>,
    /// One of these values.
    #[graphql(name = "in")]
    pub in_: Option<Vec<T>>,
    /// None of these values.
    pub not_in: Option<Vec<T>>,
    /// Whether the field is empty (`true`) or filled (`false`).
    pub is_null: Option<bool>,
}

/// The stored form of an enum value: its name.
fn enum_val<T: InputType>(value: &T) -> Val {
    match value.to_value() {
        async_graphql::Value::Enum(name) => Val::Text(name.to_string()),
        other => Val::Text(other.to_string()),
    }
}

impl<T: InputType + EnumType> FieldFilter for EnumFilter<T> {
    fn preds(&self, column: Column, out: &mut Vec<Pred>) -> AppResult<()> {
        comparisons(
            column.name,
            out,
            [
                (CmpOp::Eq, &self.eq),
                (CmpOp::Ne, &self.ne),
                (CmpOp::Lt, &None),
                (CmpOp::Lte, &None),
                (CmpOp::Gt, &None),
                (CmpOp::Gte, &None),
            ],
            (&self.in_, &self.not_in),
            self.is_null,
            enum_val,
        )
    }
}

/// Conditions on a list of related records.
#[derive(InputObject, Debug)]
#[graphql(
    concrete(name = "AxisListFilter", params(super::network::AxisFilter)),
    concrete(name = "CharterListFilter", params(super::charter::CharterFilter)),
    concrete(
        name = "CharterSignatureListFilter",
        params(super::charter::CharterSignatureFilter)
    ),
    concrete(
        name = "ConcertationListFilter",
        params(super::concertation::ConcertationFilter)
    ),
    concrete(
        name = "ConcertationProgrammeListFilter",
        params(super::concertation::ConcertationProgrammeFilter)
    ),
    concrete(
        name = "ContributionListFilter",
        params(super::concertation::ContributionFilter)
    ),
    concrete(
        name = "DeploymentListFilter",
        params(super::deployment::DeploymentFilter)
    ),
    concrete(
        name = "DeploymentOrganizationListFilter",
        params(super::deployment::DeploymentOrganizationFilter)
    ),
    concrete(
        name = "DeploymentRiskListFilter",
        params(super::risk::DeploymentRiskFilter)
    ),
    concrete(name = "DomainListFilter", params(super::deployment::DomainFilter)),
    concrete(name = "EventListFilter", params(super::resource::EventFilter)),
    concrete(name = "LeverListFilter", params(super::risk::LeverFilter)),
    concrete(name = "NetworkListFilter", params(super::network::NetworkFilter)),
    concrete(name = "OpportunityListFilter", params(super::risk::OpportunityFilter)),
    concrete(
        name = "OrganizationListFilter",
        params(super::organization::OrganizationFilter)
    ),
    concrete(
        name = "ProgrammeParticipationListFilter",
        params(super::concertation::ProgrammeParticipationFilter)
    ),
    concrete(name = "ResourceListFilter", params(super::resource::ResourceFilter)),
    concrete(
        name = "RiskCategoryListFilter",
        params(super::risk::RiskCategoryFilter)
    ),
    concrete(name = "SourceListFilter", params(super::source::SourceFilter)),
    concrete(name = "StudyListFilter", params(super::study::StudyFilter)),
    concrete(
        name = "StudyFindingListFilter",
        params(super::study::StudyFindingFilter)
    ),
    concrete(
        name = "TechniqueListFilter",
        params(super::deployment::TechniqueFilter)
    ),
    concrete(
        name = "TerritoryListFilter",
        params(super::territory::TerritoryFilter)
    )
)]
pub struct ListFilter<F: Filter> {
    /// At least one related record matches.
    pub some: Option<Box<F>>,
    /// No related record matches.
    pub none: Option<Box<F>>,
    /// Every related record matches (true when there are none).
    pub every: Option<Box<F>>,
}

impl<F: Filter> ListFilter<F> {
    pub fn preds(&self, rel: &'static RelDef, out: &mut Vec<Pred>) -> AppResult<()> {
        for (quantifier, filter) in [
            (Quantifier::Some, &self.some),
            (Quantifier::None, &self.none),
            (Quantifier::Every, &self.every),
        ] {
            if let Some(filter) = filter {
                out.push(Pred::Related(quantifier, rel, Box::new(filter.to_pred()?)));
            }
        }
        Ok(())
    }
}
