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
use entity::{
    deployment, deployment_domain, deployment_organization, deployment_risk, deployment_technique,
    enums::AuditAction,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

use super::{Checks, IdempotencyKey, MAX_LINE, MAX_TEXT, Write, actor, missing, snapshot};
use crate::{
    auth::Writer,
    error::{AppError, AppResult},
    graphql::{
        Deployment,
        enums::{
            AiActTier, AnnexIiiArea, Audience, DecisionRole, DeploymentStatus, Likelihood,
            MitigationStatus, OrganizationRole, PersonalData, Severity,
        },
        loader::database,
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
    let ids = |checks: &mut Checks, name: &str, ids: &[ID], type_name: &str| {
        let mut out = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            if let Some(id) = checks.id(&format!("input.{name}.{i}"), id, type_name)
                && !out.contains(&id)
            {
                out.push(id);
            }
        }
        out
    };
    let domains = domains.map(|d| ids(checks, "domains", d, "Domain"));
    let techniques = techniques.map(|t| ids(checks, "techniques", t, "Technique"));
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
async fn check_references<C: ConnectionTrait>(
    db: &C,
    territory: Option<i64>,
    links: &Links,
) -> AppResult<()> {
    let mut checks = Checks::default();
    let gone = |field: &str, table: &'static str, ids: Vec<i64>| (field.to_owned(), table, ids);
    let mut wanted = Vec::new();
    if let Some(territory) = territory {
        wanted.push(gone("input.territory", "territory", vec![territory]));
    }
    if let Some(domains) = &links.domains {
        wanted.push(gone("input.domains", "domain", domains.clone()));
    }
    if let Some(techniques) = &links.techniques {
        wanted.push(gone("input.techniques", "technique", techniques.clone()));
    }
    if let Some(risks) = &links.risks {
        let ids = risks.iter().map(|(id, _)| *id).collect();
        wanted.push(gone("input.risks", "risk_category", ids));
    }
    if let Some(orgs) = &links.organizations {
        let ids = orgs.iter().map(|(id, _)| *id).collect();
        wanted.push(gone("input.organizations", "organization", ids));
    }
    for (field, table, ids) in wanted {
        for id in missing(db, table, &ids).await? {
            let position = ids.iter().position(|i| *i == id).unwrap_or_default();
            let path = if field == "input.territory" {
                field.clone()
            } else {
                format!("{field}.{position}")
            };
            checks.add(path, format!("names no live {table} (absent or archived)"));
        }
    }
    checks.finish()
}

/// A deployment and its live links, as the audit trail keeps them.
async fn deployment_snapshot<C: ConnectionTrait>(
    db: &C,
    model: &deployment::Model,
) -> AppResult<serde_json::Value> {
    let domains: Vec<i64> = deployment_domain::Entity::find()
        .filter(deployment_domain::Column::DeploymentId.eq(model.id))
        .order_by_asc(deployment_domain::Column::DomainId)
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.domain_id)
        .collect();
    let techniques: Vec<i64> = deployment_technique::Entity::find()
        .filter(deployment_technique::Column::DeploymentId.eq(model.id))
        .order_by_asc(deployment_technique::Column::TechniqueId)
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.technique_id)
        .collect();
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
    let mut value = snapshot(model);
    if let serde_json::Value::Object(fields) = &mut value {
        fields.insert("domains".into(), domains.into());
        fields.insert("techniques".into(), techniques.into());
        fields.insert("risks".into(), risks.into());
        fields.insert("organizations".into(), organizations.into());
    }
    Ok(value)
}

/// Replaces a deployment's plain links of one kind (`$field`: the other end).
macro_rules! replace_links {
    ($txn:expr, $now:expr, $deployment_id:expr, $module:ident, $field:ident, $ids:expr) => {{
        $module::Entity::delete_many()
            .filter($module::Column::DeploymentId.eq($deployment_id))
            .exec($txn)
            .await?;
        for id in $ids {
            $module::ActiveModel {
                deployment_id: Set($deployment_id),
                $field: Set(id),
                created_at: Set($now),
            }
            .insert($txn)
            .await?;
        }
    }};
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
    if let Some(domains) = links.domains {
        replace_links!(
            txn,
            now,
            deployment_id,
            deployment_domain,
            domain_id,
            domains
        );
    }
    if let Some(techniques) = links.techniques {
        replace_links!(
            txn,
            now,
            deployment_id,
            deployment_technique,
            technique_id,
            techniques
        );
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

/// A live or archived deployment by its global ID.
async fn find<C: ConnectionTrait>(db: &C, id: &ID) -> AppResult<deployment::Model> {
    let key = crate::graphql::id::decode_as(id, TYPE)?;
    deployment::Entity::find_by_id(key)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no Deployment has this ID".into()))
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
        if let Some(key) = &idempotency
            && let Some(id) = key.done_before(db, writer).await?
        {
            return Ok(Deployment(
                deployment::Entity::find_by_id(id)
                    .one(db)
                    .await
                    .map_err(AppError::from)?
                    .ok_or_else(|| AppError::NotFound("no Deployment has this ID".into()))?,
            ));
        }
        let mut checks = Checks::default();
        let territory = checks.id("input.territory", &input.territory, "Territory");
        let title = checks.required("input.title", &input.title, MAX_LINE);
        let summary = checks.optional("input.summary", input.summary.as_deref(), MAX_TEXT);
        let purpose = checks.optional("input.purpose", input.purpose.as_deref(), MAX_TEXT);
        let start_month = checks.month("input.startMonth", input.start_month.as_deref());
        let end_month = checks.month("input.endMonth", input.end_month.as_deref());
        checks.in_order(
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
        check_references(db, Some(territory), &links).await?;

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
        let after = deployment_snapshot(&write.txn, &model).await?;
        write
            .audit(AuditAction::Create, TYPE, model.id, 1, None, &after)
            .await?;
        if let Err(err) = write.remember(&idempotency, TYPE, model.id).await {
            // Another request with the same key won the race: answer as it did.
            write.txn.rollback().await.map_err(AppError::from)?;
            let key = idempotency.as_ref().expect("only keyed creates remember");
            let Some(id) = key.done_before(db, writer).await? else {
                return Err(err.into());
            };
            return Ok(Deployment(
                deployment::Entity::find_by_id(id)
                    .one(db)
                    .await
                    .map_err(AppError::from)?
                    .ok_or_else(|| AppError::NotFound("no Deployment has this ID".into()))?,
            ));
        }
        write.commit().await?;
        Ok(Deployment(model))
    }

    /// Changes a deployment: the fields given, at the version you read.
    async fn update_deployment(
        &self,
        ctx: &Context<'_>,
        input: UpdateDeploymentInput,
    ) -> async_graphql::Result<Deployment> {
        let writer = actor(ctx).writer()?;
        let db = database(ctx);
        let current = find(db, &input.id).await?;
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
        let text =
            |checks: &mut Checks, field: &str, value: &MaybeUndefined<String>, max| match value {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(v) => Some(checks.optional(field, Some(v), max)),
            };
        let url = |checks: &mut Checks, field: &str, value: &MaybeUndefined<String>| match value {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(v) => Some(checks.url(field, Some(v))),
        };
        let month = |checks: &mut Checks, field: &str, value: &MaybeUndefined<String>| match value {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(v) => Some(checks.month(field, Some(v))),
        };
        let summary = text(&mut checks, "input.summary", &input.summary, MAX_TEXT);
        let purpose = text(&mut checks, "input.purpose", &input.purpose, MAX_TEXT);
        let start_month = month(&mut checks, "input.startMonth", &input.start_month);
        let end_month = month(&mut checks, "input.endMonth", &input.end_month);
        let human_oversight = text(
            &mut checks,
            "input.humanOversight",
            &input.human_oversight,
            MAX_TEXT,
        );
        let objection_procedure = text(
            &mut checks,
            "input.objectionProcedure",
            &input.objection_procedure,
            MAX_TEXT,
        );
        let dpia_url = url(&mut checks, "input.dpiaUrl", &input.dpia_url);
        let impact_assessment_url = url(
            &mut checks,
            "input.impactAssessmentUrl",
            &input.impact_assessment_url,
        );
        let code_url = url(&mut checks, "input.codeUrl", &input.code_url);
        let algorithm_register_url = url(
            &mut checks,
            "input.algorithmRegisterUrl",
            &input.algorithm_register_url,
        );
        {
            let start = start_month.clone().unwrap_or(current.start_month.clone());
            let end = end_month.clone().unwrap_or(current.end_month.clone());
            checks.in_order("input.endMonth", start.as_deref(), end.as_deref());
        }
        let links = check_links(
            &mut checks,
            input.domains.as_deref(),
            input.techniques.as_deref(),
            input.risks.as_deref(),
            input.organizations.as_deref(),
        );
        checks.finish()?;
        check_references(db, territory, &links).await?;

        let write = Write::begin(ctx, writer).await?;
        let version = write
            .claim("deployment", TYPE, current.id, input.expected_version)
            .await?;
        // Read again inside the write: this is the state being changed.
        let current = deployment::Entity::find_by_id(current.id)
            .one(&write.txn)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::NotFound("no Deployment has this ID".into()))?;
        in_scope(writer, current.territory_id)?;
        let mut before = deployment_snapshot(&write.txn, &current).await?;
        if let serde_json::Value::Object(fields) = &mut before {
            fields.insert("version".into(), (version - 1).into());
        }
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
        let after = deployment_snapshot(&write.txn, &model).await?;
        write
            .audit(
                AuditAction::Update,
                TYPE,
                model.id,
                version,
                Some(&before),
                &after,
            )
            .await?;
        write.commit().await?;
        Ok(Deployment(model))
    }

    /// Archives a deployment: it leaves lists (unless `includeArchived`)
    /// and search, and stays whole, with its history.
    async fn archive_deployment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The deployment to archive.")] id: ID,
        #[graphql(desc = "The version you read.")] expected_version: i32,
    ) -> async_graphql::Result<Deployment> {
        set_archived(ctx, id, expected_version, true).await
    }

    /// Brings an archived deployment back into lists and search.
    async fn restore_deployment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The deployment to restore.")] id: ID,
        #[graphql(desc = "The version you read.")] expected_version: i32,
    ) -> async_graphql::Result<Deployment> {
        set_archived(ctx, id, expected_version, false).await
    }
}

/// `Some(value)` for a value or `null` given, `None` when left out.
fn undefined_or<T: Into<U>, U>(value: MaybeUndefined<T>) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v.into())),
    }
}

async fn set_archived(
    ctx: &Context<'_>,
    id: ID,
    expected_version: i32,
    archive: bool,
) -> async_graphql::Result<Deployment> {
    let writer = actor(ctx).writer()?;
    let db = database(ctx);
    let current = find(db, &id).await?;
    in_scope(writer, current.territory_id)?;
    if current.archived_at.is_some() == archive {
        let state = if archive {
            "already archived"
        } else {
            "not archived"
        };
        return Err(AppError::bad_argument("id", format!("this Deployment is {state}")).into());
    }
    let write = Write::begin(ctx, writer).await?;
    let version = write
        .claim("deployment", TYPE, current.id, expected_version)
        .await?;
    let current = deployment::Entity::find_by_id(current.id)
        .one(&write.txn)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::NotFound("no Deployment has this ID".into()))?;
    if current.archived_at.is_some() == archive {
        // Changed between the check and the claim: the claim caught it
        // unless the version matched, which it cannot have.
        return Err(AppError::bad_argument("id", "the archive state changed meanwhile").into());
    }
    let mut before = deployment_snapshot(&write.txn, &current).await?;
    if let serde_json::Value::Object(fields) = &mut before {
        fields.insert("version".into(), (version - 1).into());
    }
    let mut row = current.into_active_model();
    row.archived_at = Set(archive.then(Utc::now));
    row.version = Set(version);
    row.updated_at = Set(Utc::now());
    let model = row.update(&write.txn).await.map_err(AppError::from)?;
    let after = deployment_snapshot(&write.txn, &model).await?;
    let action = if archive {
        AuditAction::Archive
    } else {
        AuditAction::Restore
    };
    write
        .audit(action, TYPE, model.id, version, Some(&before), &after)
        .await?;
    write.commit().await?;
    Ok(Deployment(model))
}
