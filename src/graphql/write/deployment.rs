//! Writing deployments, with their links: domains, techniques, risks
//! (severity, likelihood, mitigation) and organizations (with their role).
//!
//! An editor's key writes the deployments of its territories; an admin's,
//! all. Links given in an update replace the deployment's: a risk or an
//! organization's part left out is archived (kept, hidden), one given again
//! is brought back.

use std::collections::HashMap;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::Utc;
use entity::{deployment, deployment_organization, deployment_risk};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

use super::{
    Checks, IdempotencyKey, MAX_LINE, MAX_TEXT, Refs, Writable, Write, actor, check_references,
    claimed, find, snapshot, undefined_or,
};
use crate::{
    auth::Writer,
    error::{AppError, AppResult},
    graphql::{
        Deployment,
        engine::loader::database,
        enums::{
            AiActTier, AnnexIiiArea, Audience, DecisionRole, DeploymentStatus, Likelihood,
            MitigationStatus, OrganizationRole, PersonalData, Severity,
        },
    },
};

const TYPE: &str = "Deployment";

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
    /// Replaces the public-service areas.
    pub domains: Option<Vec<ID>>,
    /// Replaces the AI techniques.
    pub techniques: Option<Vec<ID>>,
    /// Replaces the declared risks.
    pub risks: Option<Vec<DeploymentRiskInput>>,
    /// Replaces the organizations involved.
    pub organizations: Option<Vec<DeploymentOrganizationInput>>,
}

/// The links of a deployment, as ids.
#[derive(Default)]
struct Links {
    domains: Option<Vec<i64>>,
    techniques: Option<Vec<i64>>,
    risks: Option<Vec<(i64, DeploymentRiskInput)>>,
    organizations: Option<Vec<(i64, OrganizationRole)>>,
}

/// Checks the link inputs under `prefix` (`input`), resolving their IDs.
fn check_links(
    checks: &mut Checks,
    domains: Option<&[ID]>,
    techniques: Option<&[ID]>,
    risks: Option<&[DeploymentRiskInput]>,
    organizations: Option<&[DeploymentOrganizationInput]>,
) -> Links {
    let domains = domains.map(|d| checks.ids("input.domains", d, "Domain"));
    let techniques = techniques.map(|t| checks.ids("input.techniques", t, "Technique"));
    let risks = risks.map(|risks| {
        let mut out: Vec<(i64, DeploymentRiskInput)> = Vec::new();
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
                let mut risk = risk.clone();
                risk.mitigation = mitigation;
                out.push((id, risk));
            }
        }
        out
    });
    let organizations = organizations.map(|orgs| {
        let mut out: Vec<(i64, OrganizationRole)> = Vec::new();
        for (i, org) in orgs.iter().enumerate() {
            let field = format!("input.organizations.{i}.organization");
            if let Some(id) = checks.id(&field, &org.organization, "Organization") {
                if out.iter().any(|(o, _)| *o == id) {
                    checks.add(field, "is given twice");
                }
                out.push((id, org.role));
            }
        }
        out
    });
    Links {
        domains,
        techniques,
        risks,
        organizations,
    }
}

/// Every referenced record exists and is not archived.
async fn check_deployment_references<C: ConnectionTrait>(
    db: &C,
    territory: Option<i64>,
    links: &Links,
) -> AppResult<()> {
    let mut wanted = Vec::new();
    if let Some(territory) = territory {
        wanted.push(Refs::One("input.territory", "territory", territory));
    }
    if let Some(domains) = &links.domains {
        wanted.push(Refs::Many("input.domains", "domain", domains.clone()));
    }
    if let Some(techniques) = &links.techniques {
        wanted.push(Refs::Many(
            "input.techniques",
            "technique",
            techniques.clone(),
        ));
    }
    if let Some(risks) = &links.risks {
        wanted.push(Refs::Many(
            "input.risks",
            "risk_category",
            risks.iter().map(|(id, _)| *id).collect(),
        ));
    }
    if let Some(orgs) = &links.organizations {
        wanted.push(Refs::Many(
            "input.organizations",
            "organization",
            orgs.iter().map(|(id, _)| *id).collect(),
        ));
    }
    check_references(db, wanted).await
}

/// A deployment and its live links, as the audit trail keeps them.
async fn deployment_snapshot<C: ConnectionTrait>(
    db: &C,
    model: &deployment::Model,
) -> AppResult<serde_json::Value> {
    let parent = "deployment_id";
    let domains: Vec<i64> =
        super::Links::read(db, "deployment_domain", parent, "domain_id", model.id).await?;
    let techniques: Vec<i64> =
        super::Links::read(db, "deployment_technique", parent, "technique_id", model.id).await?;
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
    Ok(super::snapshot_with(
        model,
        [
            ("domains", domains.into()),
            ("techniques", techniques.into()),
            ("risks", risks.into()),
            ("organizations", organizations.into()),
        ],
    ))
}

/// Makes a deployment's rows of one kind those given, each keyed by the
/// record at its other end (`$key`): a row given again is updated (and
/// brought back if archived), a new one inserted, one left out archived.
macro_rules! sync_rows {
    (
        $txn:expr, $now:expr, $deployment_id:expr, $module:ident, $key:ident, $given:expr,
        |$row:ident, $value:ident| $apply:block
    ) => {{
        let mut existing: HashMap<i64, $module::Model> = $module::Entity::find()
            .filter($module::Column::DeploymentId.eq($deployment_id))
            .all($txn)
            .await?
            .into_iter()
            .map(|r| (r.$key, r))
            .collect();
        for (key, $value) in $given {
            let mut $row = match existing.remove(&key) {
                Some(old) => {
                    let version = old.version;
                    let mut row = old.into_active_model();
                    row.version = Set(version + 1);
                    row
                }
                None => $module::ActiveModel {
                    deployment_id: Set($deployment_id),
                    $key: Set(key),
                    created_at: Set($now),
                    ..Default::default()
                },
            };
            $apply
            $row.archived_at = Set(None);
            $row.updated_at = Set($now);
            $row.save($txn).await?;
        }
        let left_out = existing.into_values().filter(|r| r.archived_at.is_none());
        for old in left_out {
            let version = old.version;
            let mut row = old.into_active_model();
            row.archived_at = Set(Some($now));
            row.version = Set(version + 1);
            row.updated_at = Set($now);
            row.update($txn).await?;
        }
    }};
}

/// Makes the deployment's links those given (lists not given stay).
async fn write_links(write: &Write<'_>, deployment_id: i64, links: Links) -> AppResult<()> {
    let txn = &write.txn;
    let now = Utc::now();
    let parent = "deployment_id";
    let plain = [
        links
            .domains
            .map(|d| super::Links::to("deployment_domain", parent, "domain_id", d)),
        links
            .techniques
            .map(|t| super::Links::to("deployment_technique", parent, "technique_id", t)),
    ];
    for plain in plain.into_iter().flatten() {
        plain.replace(txn, deployment_id).await?;
    }
    if let Some(risks) = links.risks {
        sync_rows!(
            txn,
            now,
            deployment_id,
            deployment_risk,
            risk_category_id,
            risks,
            |row, risk| {
                row.severity = Set(risk.severity.map(Into::into));
                row.likelihood = Set(risk.likelihood.map(Into::into));
                row.mitigation_status = Set(risk
                    .mitigation_status
                    .map_or(entity::enums::MitigationStatus::None, Into::into));
                row.mitigation = Set(risk.mitigation);
            }
        );
    }
    if let Some(organizations) = links.organizations {
        sync_rows!(
            txn,
            now,
            deployment_id,
            deployment_organization,
            organization_id,
            organizations,
            |row, role| {
                row.role = Set(role.into());
            }
        );
    }
    Ok(())
}

/// The territory of a deployment the writer may change; FORBIDDEN otherwise.
fn in_scope(writer: &Writer, territory_id: i64) -> AppResult<()> {
    if writer.covers(territory_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this key may not write for this deployment's territory".into(),
        ))
    }
}

#[async_trait::async_trait]
impl Writable for deployment::Model {
    const TYPE: &'static str = TYPE;
    const TABLE: &'static str = "deployment";

    async fn check_scope<C: ConnectionTrait>(&self, _db: &C, writer: &Writer) -> AppResult<()> {
        in_scope(writer, self.territory_id)
    }

    async fn snapshot<C: ConnectionTrait>(&self, db: &C) -> AppResult<serde_json::Value> {
        deployment_snapshot(db, self).await
    }
}

/// Mutations of deployments.
#[derive(Default)]
pub struct DeploymentMutation;

#[Object]
impl DeploymentMutation {
    /// Records a new AI use in a territory, with its links. With an
    /// `idempotencyKey`, a retried request returns the deployment the first
    /// one created instead of a duplicate.
    async fn create_deployment(
        &self,
        ctx: &Context<'_>,
        input: CreateDeploymentInput,
        #[graphql(
            desc = "A key of your choosing, unique for each new record: a retry with the same key returns the first result."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Deployment> {
        let writer = actor(ctx).writer()?;
        let idempotency = IdempotencyKey::new(idempotency_key, "createDeployment")?;
        let db = database(ctx);
        if let Some(earlier) = IdempotencyKey::earlier(&idempotency, db, writer).await? {
            return Ok(Deployment(earlier));
        }
        let mut checks = Checks::default();
        let territory = checks.id("input.territory", &input.territory, "Territory");
        let title = checks.required("input.title", &input.title, MAX_LINE);
        let summary = checks.optional("input.summary", input.summary.as_deref(), MAX_TEXT);
        let purpose = checks.optional("input.purpose", input.purpose.as_deref(), MAX_TEXT);
        let start_month = checks.month("input.startMonth", input.start_month.as_deref());
        let end_month = checks.month("input.endMonth", input.end_month.as_deref());
        checks.ordered(
            "input.endMonth",
            start_month.as_deref(),
            end_month.as_deref(),
        );
        let human_oversight = checks.optional(
            "input.humanOversight",
            input.human_oversight.as_deref(),
            MAX_TEXT,
        );
        let objection_procedure = checks.optional(
            "input.objectionProcedure",
            input.objection_procedure.as_deref(),
            MAX_TEXT,
        );
        let dpia_url = checks.url("input.dpiaUrl", input.dpia_url.as_deref());
        let impact_assessment_url = checks.url(
            "input.impactAssessmentUrl",
            input.impact_assessment_url.as_deref(),
        );
        let code_url = checks.url("input.codeUrl", input.code_url.as_deref());
        let algorithm_register_url = checks.url(
            "input.algorithmRegisterUrl",
            input.algorithm_register_url.as_deref(),
        );
        let links = check_links(
            &mut checks,
            Some(&input.domains),
            Some(&input.techniques),
            Some(&input.risks),
            Some(&input.organizations),
        );
        if let Some(territory) = territory {
            in_scope(writer, territory)?;
        }
        checks.finish()?;
        let territory = territory.expect("checked");
        check_deployment_references(db, Some(territory), &links).await?;

        let write = Write::begin(ctx, writer).await?;
        let now = Utc::now();
        let model = deployment::ActiveModel {
            territory_id: Set(territory),
            title: Set(title),
            summary: Set(summary),
            purpose: Set(purpose),
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
            human_oversight: Set(human_oversight),
            objection_procedure: Set(objection_procedure),
            dpia_url: Set(dpia_url),
            impact_assessment_url: Set(impact_assessment_url),
            code_url: Set(code_url),
            algorithm_register_url: Set(algorithm_register_url),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        }
        .insert(&write.txn)
        .await
        .map_err(AppError::from)?;
        write_links(&write, model.id, links).await?;
        Ok(Deployment(
            write.finish_create(db, &idempotency, model).await?,
        ))
    }

    /// Changes a deployment: the fields given, at the version you read.
    async fn update_deployment(
        &self,
        ctx: &Context<'_>,
        input: UpdateDeploymentInput,
    ) -> async_graphql::Result<Deployment> {
        let writer = actor(ctx).writer()?;
        let db = database(ctx);
        let current: deployment::Model = find(db, &input.id).await?;
        in_scope(writer, current.territory_id)?;

        let mut checks = Checks::default();
        let territory = input
            .territory
            .as_ref()
            .and_then(|t| checks.id("input.territory", t, "Territory"));
        if let Some(territory) = territory {
            in_scope(writer, territory)?;
        }
        let title = input
            .title
            .as_deref()
            .map(|t| checks.required("input.title", t, MAX_LINE));
        let summary = checks.change_text("input.summary", &input.summary, MAX_TEXT);
        let purpose = checks.change_text("input.purpose", &input.purpose, MAX_TEXT);
        let start_month = checks.change_month("input.startMonth", &input.start_month);
        let end_month = checks.change_month("input.endMonth", &input.end_month);
        let human_oversight =
            checks.change_text("input.humanOversight", &input.human_oversight, MAX_TEXT);
        let objection_procedure = checks.change_text(
            "input.objectionProcedure",
            &input.objection_procedure,
            MAX_TEXT,
        );
        let dpia_url = checks.change_url("input.dpiaUrl", &input.dpia_url);
        let impact_assessment_url =
            checks.change_url("input.impactAssessmentUrl", &input.impact_assessment_url);
        let code_url = checks.change_url("input.codeUrl", &input.code_url);
        let algorithm_register_url =
            checks.change_url("input.algorithmRegisterUrl", &input.algorithm_register_url);
        {
            let start = start_month.clone().unwrap_or(current.start_month.clone());
            let end = end_month.clone().unwrap_or(current.end_month.clone());
            checks.ordered("input.endMonth", start.as_deref(), end.as_deref());
        }
        let links = check_links(
            &mut checks,
            input.domains.as_deref(),
            input.techniques.as_deref(),
            input.risks.as_deref(),
            input.organizations.as_deref(),
        );
        checks.finish()?;
        check_deployment_references(db, territory, &links).await?;

        let write = Write::begin(ctx, writer).await?;
        let (current, version, before) =
            claimed::<deployment::Model>(&write, current.id, input.expected_version).await?;
        let mut row = current.into_active_model();
        if let Some(territory) = territory {
            row.territory_id = Set(territory);
        }
        if let Some(title) = title {
            row.title = Set(title);
        }
        macro_rules! set {
            ($($field:ident = $value:expr;)*) => {
                $(if let Some(value) = $value { row.$field = Set(value); })*
            };
        }
        set! {
            summary = summary;
            purpose = purpose;
            start_month = start_month;
            end_month = end_month;
            human_oversight = human_oversight;
            objection_procedure = objection_procedure;
            dpia_url = dpia_url;
            impact_assessment_url = impact_assessment_url;
            code_url = code_url;
            algorithm_register_url = algorithm_register_url;
            status = input.status.map(Into::into);
            ai_act_tier = input.ai_act_tier.map(Into::into);
            decision_role = undefined_or(input.decision_role);
            audience = undefined_or(input.audience);
            personal_data = undefined_or(input.personal_data);
            annex_iii_area = undefined_or(input.annex_iii_area);
        }
        row.version = Set(version);
        row.updated_at = Set(Utc::now());
        let model = row.update(&write.txn).await.map_err(AppError::from)?;
        write_links(&write, model.id, links).await?;
        Ok(Deployment(
            write.finish_update(version, before, model).await?,
        ))
    }
}

archiving! {
    DeploymentArchiving for deployment::Model as Deployment;
    /// Archives a deployment: it leaves lists (unless `includeArchived`)
    /// and search, and stays whole, with its history.
    "archiveDeployment";
    /// Brings an archived deployment back into lists and search.
    "restoreDeployment";
}
