//! Writing deployments, with their links: domains, techniques, risks
//! (severity, likelihood, mitigation) and organizations (with their role).
//!
//! An editor's key writes the deployments of its territories; an admin's,
//! all. Links given in an update replace the deployment's: a risk or an
//! organization's part left out is archived (kept, hidden), one given again
//! is brought back.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::{deployment, deployment_organization, deployment_risk};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Checks, Draft, InputChecks, Links, MAX_LINE, MAX_TEXT, Writable, undefined_or};
use crate::{
    auth::Writer,
    error::{AppError, AppResult},
    graphql::{
        Deployment,
        enums::{
            AiActTier, AnnexIiiArea, Audience, DecisionRole, DeploymentStatus, Likelihood,
            MitigationStatus, OrganizationRole, PersonalData, Severity,
        },
    },
    store::{snapshot, snapshot_with},
};

/// A risk declared for a deployment.
#[derive(InputObject, Clone)]
pub struct DeploymentRiskInput {
    /// The risk category (ID of a RiskCategory).
    pub category: ID,
    /// How bad it would be.
    pub severity: Option<Severity>,
    /// How likely it is.
    pub likelihood: Option<Likelihood>,
    /// Where its mitigation stands (default NONE).
    pub mitigation_status: Option<MitigationStatus>,
    /// How it is mitigated.
    pub mitigation: Option<String>,
}

/// An organization's part in a deployment.
#[derive(InputObject, Clone)]
pub struct DeploymentOrganizationInput {
    /// The organization (ID of an Organization).
    pub organization: ID,
    /// The part it plays.
    pub role: OrganizationRole,
}

/// A new deployment: one AI use in one territory.
#[derive(InputObject)]
pub struct CreateDeploymentInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// The territory that uses the system (ID of a Territory).
    pub territory: ID,
    /// Name of the AI use (at most 300 characters).
    pub title: String,
    /// What the system does.
    pub summary: Option<String>,
    /// The public-service need it answers.
    pub purpose: Option<String>,
    /// Life-cycle stage.
    pub status: DeploymentStatus,
    /// Month the use started, `YYYY-MM`.
    pub start_month: Option<String>,
    /// Month the use ended, `YYYY-MM`, not before it started.
    pub end_month: Option<String>,
    /// How far the system weighs on decisions.
    pub decision_role: Option<DecisionRole>,
    /// Who uses the system.
    pub audience: Option<Audience>,
    /// Which personal data the system processes.
    pub personal_data: Option<PersonalData>,
    /// Risk tier under the EU AI Act (default UNASSESSED).
    pub ai_act_tier: Option<AiActTier>,
    /// The Annex III area of the EU AI Act, if any.
    pub annex_iii_area: Option<AnnexIiiArea>,
    /// How people oversee the system.
    pub human_oversight: Option<String>,
    /// How someone affected can object to or appeal an outcome.
    pub objection_procedure: Option<String>,
    /// Link (http or https) to the data-protection impact assessment.
    pub dpia_url: Option<String>,
    /// Link (http or https) to another impact assessment.
    pub impact_assessment_url: Option<String>,
    /// Link (http or https) to the source code.
    pub code_url: Option<String>,
    /// Link (http or https) to the territory's register of public algorithms.
    pub algorithm_register_url: Option<String>,
    /// The law or rule that allows the use.
    pub legal_basis: Option<String>,
    /// The language of its texts, BCP 47 (`fr`, `nl`, `en`, `fr-BE`).
    pub language: Option<String>,
    /// Public-service areas it serves (IDs of Domains).
    #[graphql(default)]
    pub domains: Vec<ID>,
    /// AI techniques it uses (IDs of Techniques).
    #[graphql(default)]
    pub techniques: Vec<ID>,
    /// Risks declared for it.
    #[graphql(default)]
    pub risks: Vec<DeploymentRiskInput>,
    /// Organizations involved, each with its role.
    #[graphql(default)]
    pub organizations: Vec<DeploymentOrganizationInput>,
}

/// Changes to a deployment: only the fields given change; `null` empties an
/// optional field. Lists given replace the deployment's.
#[derive(InputObject)]
pub struct UpdateDeploymentInput {
    /// The deployment to change.
    pub id: ID,
    /// The version you read; if the deployment changed since, the update is
    /// refused with CONFLICT.
    pub expected_version: i32,
    /// Moves the use to another territory (both must be yours).
    pub territory: Option<ID>,
    /// Name of the AI use.
    pub title: Option<String>,
    /// What the system does.
    pub summary: MaybeUndefined<String>,
    /// The public-service need it answers.
    pub purpose: MaybeUndefined<String>,
    /// Life-cycle stage.
    pub status: Option<DeploymentStatus>,
    /// Month the use started, `YYYY-MM`.
    pub start_month: MaybeUndefined<String>,
    /// Month the use ended, `YYYY-MM`.
    pub end_month: MaybeUndefined<String>,
    /// How far the system weighs on decisions.
    pub decision_role: MaybeUndefined<DecisionRole>,
    /// Who uses the system.
    pub audience: MaybeUndefined<Audience>,
    /// Which personal data the system processes.
    pub personal_data: MaybeUndefined<PersonalData>,
    /// Risk tier under the EU AI Act.
    pub ai_act_tier: Option<AiActTier>,
    /// The Annex III area of the EU AI Act.
    pub annex_iii_area: MaybeUndefined<AnnexIiiArea>,
    /// How people oversee the system.
    pub human_oversight: MaybeUndefined<String>,
    /// How someone affected can object to or appeal an outcome.
    pub objection_procedure: MaybeUndefined<String>,
    /// Link to the data-protection impact assessment.
    pub dpia_url: MaybeUndefined<String>,
    /// Link to another impact assessment.
    pub impact_assessment_url: MaybeUndefined<String>,
    /// Link to the source code.
    pub code_url: MaybeUndefined<String>,
    /// Link to the territory's register of public algorithms.
    pub algorithm_register_url: MaybeUndefined<String>,
    /// The law or rule that allows the use.
    pub legal_basis: MaybeUndefined<String>,
    /// The language of its texts, BCP 47.
    pub language: MaybeUndefined<String>,
    /// Replaces the public-service areas.
    pub domains: Option<Vec<ID>>,
    /// Replaces the AI techniques.
    pub techniques: Option<Vec<ID>>,
    /// Replaces the declared risks.
    pub risks: Option<Vec<DeploymentRiskInput>>,
    /// Replaces the organizations involved.
    pub organizations: Option<Vec<DeploymentOrganizationInput>>,
}

/// A deployment's draft: its row, the territory given (if any), and the
/// links of its input, checked (lists given replace the deployment's).
fn deployment_links(
    row: deployment::ActiveModel,
    territory: Option<i64>,
    checks: &mut Checks,
    domains: Option<&[ID]>,
    techniques: Option<&[ID]>,
    risks: Option<&[DeploymentRiskInput]>,
    organizations: Option<&[DeploymentOrganizationInput]>,
) -> Draft<deployment::ActiveModel> {
    use entity::{deployment_domain as dd, deployment_technique as dt};
    let domains = domains.map(|ids| {
        let ids = checks.ids("input.domains", ids, "Domain");
        Links::to(dd::Column::DeploymentId, dd::Column::DomainId, ids)
    });
    let techniques = techniques.map(|ids| {
        let ids = checks.ids("input.techniques", ids, "Technique");
        Links::to(dt::Column::DeploymentId, dt::Column::TechniqueId, ids)
    });
    let risks = risks.map(|risks| {
        let mut out: Vec<(i64, deployment_risk::ActiveModel)> = Vec::new();
        for (i, risk) in risks.iter().enumerate() {
            let field = format!("input.risks.{i}");
            let mitigation = checks.optional(
                &format!("{field}.mitigation"),
                risk.mitigation.as_deref(),
                MAX_TEXT,
            );
            if let Some(id) =
                checks.id(&format!("{field}.category"), &risk.category, "RiskCategory")
            {
                if out.iter().any(|(c, _)| *c == id) {
                    checks.add(format!("{field}.category"), "is declared twice");
                }
                let row = deployment_risk::ActiveModel {
                    severity: Set(risk.severity.map(Into::into)),
                    likelihood: Set(risk.likelihood.map(Into::into)),
                    mitigation_status: Set(risk
                        .mitigation_status
                        .map_or(entity::enums::MitigationStatus::None, Into::into)),
                    mitigation: Set(mitigation),
                    ..Default::default()
                };
                out.push((id, row));
            }
        }
        out
    });
    let organizations = organizations.map(|orgs| {
        let mut out: Vec<(i64, deployment_organization::ActiveModel)> = Vec::new();
        for (i, org) in orgs.iter().enumerate() {
            let field = format!("input.organizations.{i}.organization");
            if let Some(id) = checks.id(&field, &org.organization, "Organization") {
                if out.iter().any(|(o, _)| *o == id) {
                    checks.add(field, "is given twice");
                }
                let row = deployment_organization::ActiveModel {
                    role: Set(org.role.into()),
                    ..Default::default()
                };
                out.push((id, row));
            }
        }
        out
    });
    use {deployment_organization as dor, deployment_risk as dr};
    Draft::new(row)
        .names("input.territory", "territory", territory)
        .within(territory)
        .linked("input.domains", "domain", domains)
        .linked("input.techniques", "technique", techniques)
        .rows::<dr::Entity>(
            ("input.risks", "risk_category"),
            (dr::Column::DeploymentId, dr::Column::RiskCategoryId),
            risks,
        )
        .rows::<dor::Entity>(
            ("input.organizations", "organization"),
            (dor::Column::DeploymentId, dor::Column::OrganizationId),
            organizations,
        )
}

/// A deployment and its live links, as the audit trail keeps it.
async fn deployment_snapshot<C: ConnectionTrait>(
    db: &C,
    model: &deployment::Model,
) -> AppResult<serde_json::Value> {
    use entity::{deployment_domain as dd, deployment_technique as dt};
    let domains: Vec<i64> =
        Links::read(db, dd::Column::DeploymentId, dd::Column::DomainId, model.id).await?;
    let techniques: Vec<i64> = Links::read(
        db,
        dt::Column::DeploymentId,
        dt::Column::TechniqueId,
        model.id,
    )
    .await?;
    let risks: Vec<serde_json::Value> = deployment_risk::Entity::find()
        .filter(deployment_risk::Column::DeploymentId.eq(model.id))
        .filter(deployment_risk::Column::ArchivedAt.is_null())
        .order_by_asc(deployment_risk::Column::RiskCategoryId)
        .all(db)
        .await?
        .iter()
        .map(snapshot)
        .collect();
    let organizations: Vec<serde_json::Value> = deployment_organization::Entity::find()
        .filter(deployment_organization::Column::DeploymentId.eq(model.id))
        .filter(deployment_organization::Column::ArchivedAt.is_null())
        .order_by_asc(deployment_organization::Column::OrganizationId)
        .all(db)
        .await?
        .iter()
        .map(snapshot)
        .collect();
    Ok(snapshot_with(
        model,
        [
            ("domains", domains.into()),
            ("techniques", techniques.into()),
            ("risks", risks.into()),
            ("organizations", organizations.into()),
        ],
    ))
}

#[async_trait::async_trait]
impl Writable for deployment::Model {
    async fn check_scope<C: ConnectionTrait>(&self, _db: &C, writer: &Writer) -> AppResult<()> {
        if writer.covers(self.territory_id) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "this key may not write for this deployment's territory".into(),
            ))
        }
    }

    async fn snapshot<C: ConnectionTrait>(&self, db: &C) -> AppResult<serde_json::Value> {
        deployment_snapshot(db, self).await
    }
}

/// A language tag, checked: a BCP 47 language (2 or 3 small letters),
/// with a region (2 capitals or 3 digits) if any — `fr`, `nl`, `fr-BE`.
fn language(checks: &mut Checks, field: &str, text: Option<&str>) -> Option<String> {
    let text = checks.optional(field, text, 10)?;
    let (primary, region) = text
        .split_once('-')
        .map_or((text.as_str(), None), |(p, r)| (p, Some(r)));
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    let region_ok = region.is_none_or(|r| {
        (r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
            || (r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()))
    });
    if !(primary_ok && region_ok) {
        checks.add(field, "must be a BCP 47 language tag: fr, nl, en, fr-BE");
    }
    Some(text)
}

fn deployment_draft(
    input: CreateDeploymentInput,
    checks: &mut Checks,
) -> Draft<deployment::ActiveModel> {
    let territory = checks.id("input.territory", &input.territory, "Territory");
    let start_month = checks.month("input.startMonth", input.start_month.as_deref());
    let end_month = checks.month("input.endMonth", input.end_month.as_deref());
    checks.ordered(
        "input.endMonth",
        start_month.as_deref(),
        end_month.as_deref(),
    );
    let row = deployment::ActiveModel {
        territory_id: Set(territory.unwrap_or_default()),
        title: Set(checks.required("input.title", &input.title, MAX_LINE)),
        summary: Set(checks.optional("input.summary", input.summary.as_deref(), MAX_TEXT)),
        purpose: Set(checks.optional("input.purpose", input.purpose.as_deref(), MAX_TEXT)),
        status: Set(input.status.into()),
        start_month: Set(start_month),
        end_month: Set(end_month),
        decision_role: Set(input.decision_role.map(Into::into)),
        audience: Set(input.audience.map(Into::into)),
        personal_data: Set(input.personal_data.map(Into::into)),
        ai_act_tier: Set(input
            .ai_act_tier
            .map_or(entity::enums::AiActTier::Unassessed, Into::into)),
        annex_iii_area: Set(input.annex_iii_area.map(Into::into)),
        human_oversight: Set(checks.optional(
            "input.humanOversight",
            input.human_oversight.as_deref(),
            MAX_TEXT,
        )),
        objection_procedure: Set(checks.optional(
            "input.objectionProcedure",
            input.objection_procedure.as_deref(),
            MAX_TEXT,
        )),
        dpia_url: Set(checks.url("input.dpiaUrl", input.dpia_url.as_deref())),
        impact_assessment_url: Set(checks.url(
            "input.impactAssessmentUrl",
            input.impact_assessment_url.as_deref(),
        )),
        code_url: Set(checks.url("input.codeUrl", input.code_url.as_deref())),
        algorithm_register_url: Set(checks.url(
            "input.algorithmRegisterUrl",
            input.algorithm_register_url.as_deref(),
        )),
        legal_basis: Set(checks.optional(
            "input.legalBasis",
            input.legal_basis.as_deref(),
            MAX_TEXT,
        )),
        language: Set(language(
            checks,
            "input.language",
            input.language.as_deref(),
        )),
        ..Default::default()
    };
    deployment_links(
        row,
        territory,
        checks,
        Some(&input.domains),
        Some(&input.techniques),
        Some(&input.risks),
        Some(&input.organizations),
    )
}

fn deployment_change(
    input: UpdateDeploymentInput,
    current: &deployment::Model,
    checks: &mut Checks,
) -> Draft<deployment::ActiveModel> {
    let territory = input
        .territory
        .as_ref()
        .and_then(|t| checks.id("input.territory", t, "Territory"));
    let start_month = checks.change_month("input.startMonth", &input.start_month);
    let end_month = checks.change_month("input.endMonth", &input.end_month);
    {
        let start = start_month.clone().unwrap_or(current.start_month.clone());
        let end = end_month.clone().unwrap_or(current.end_month.clone());
        checks.ordered("input.endMonth", start.as_deref(), end.as_deref());
    }
    let mut row = deployment::ActiveModel::default();
    patch!(row {
        territory_id: territory,
        title: input
            .title
            .as_deref()
            .map(|t| checks.required("input.title", t, MAX_LINE)),
        summary: checks.change_text("input.summary", &input.summary, MAX_TEXT),
        purpose: checks.change_text("input.purpose", &input.purpose, MAX_TEXT),
        start_month: start_month,
        end_month: end_month,
        human_oversight: checks.change_text(
            "input.humanOversight",
            &input.human_oversight,
            MAX_TEXT
        ),
        objection_procedure: checks.change_text(
            "input.objectionProcedure",
            &input.objection_procedure,
            MAX_TEXT
        ),
        dpia_url: checks.change_url("input.dpiaUrl", &input.dpia_url),
        impact_assessment_url: checks
            .change_url("input.impactAssessmentUrl", &input.impact_assessment_url),
        code_url: checks.change_url("input.codeUrl", &input.code_url),
        algorithm_register_url: checks
            .change_url("input.algorithmRegisterUrl", &input.algorithm_register_url),
        legal_basis: checks.change_text("input.legalBasis", &input.legal_basis, MAX_TEXT),
        language: super::change(&input.language, |text| language(
            checks,
            "input.language",
            Some(text)
        )),
        status: input.status.map(Into::into),
        ai_act_tier: input.ai_act_tier.map(Into::into),
        decision_role: undefined_or(input.decision_role),
        audience: undefined_or(input.audience),
        personal_data: undefined_or(input.personal_data),
        annex_iii_area: undefined_or(input.annex_iii_area),
    });
    deployment_links(
        row,
        territory,
        checks,
        input.domains.as_deref(),
        input.techniques.as_deref(),
        input.risks.as_deref(),
        input.organizations.as_deref(),
    )
}

writing! {
    DeploymentMutation for deployment::Model as Deployment;
    /// Records a new AI use in a territory, with its links. With an
    /// `idempotencyKey`, a retried request returns the deployment the first
    /// one created instead of a duplicate.
    "createDeployment"(CreateDeploymentInput) => deployment_draft;
    /// Changes a deployment: the fields given, at the version you read.
    "updateDeployment"(UpdateDeploymentInput) => deployment_change;
}

archiving! {
    DeploymentArchiving for deployment::Model as Deployment;
    /// Archives a deployment: it leaves lists (unless `includeArchived`)
    /// and search, and stays whole, with its history.
    "archiveDeployment";
    /// Brings an archived deployment back into lists and search.
    "restoreDeployment";
}
