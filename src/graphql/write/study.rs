//! Writing the study of AI and public-service jobs: studies and their
//! findings, with the concertations, levers and risk categories a finding
//! draws on. The network's admins curate them: admin keys only.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::{study, study_finding};
use sea_orm::{ConnectionTrait, Set};

use super::{Checks, Draft, InputChecks, Links, MAX_LINE, MAX_TEXT, Writable, undefined_or};
use crate::store::snapshot_with;
use crate::{
    error::AppResult,
    graphql::{
        Study, StudyFinding,
        engine::scalars::Date,
        enums::{ExposureLevel, FindingKind},
    },
};

#[async_trait::async_trait]
impl Writable for study::Model {
    const ADMIN_ONLY: bool = true;
}

#[async_trait::async_trait]
impl Writable for study_finding::Model {
    const ADMIN_ONLY: bool = true;

    async fn snapshot<C: ConnectionTrait>(&self, db: &C) -> AppResult<serde_json::Value> {
        use entity::{
            finding_concertation as fc, finding_lever as fl, finding_risk_category as fr,
        };
        let concertations: Vec<i64> = Links::read(
            db,
            fc::Column::FindingId,
            fc::Column::ConcertationId,
            self.id,
        )
        .await?;
        let levers: Vec<i64> =
            Links::read(db, fl::Column::FindingId, fl::Column::LeverId, self.id).await?;
        let risk_categories: Vec<i64> = Links::read(
            db,
            fr::Column::FindingId,
            fr::Column::RiskCategoryId,
            self.id,
        )
        .await?;
        Ok(snapshot_with(
            self,
            [
                ("concertations", concertations.into()),
                ("levers", levers.into()),
                ("riskCategories", risk_categories.into()),
            ],
        ))
    }
}

/// A new study (admin keys only).
#[derive(InputObject)]
pub struct CreateStudyInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// Its title (at most 300 characters), unique in the hub.
    pub title: String,
    /// What it studies.
    pub description: Option<String>,
    /// The network's axis it belongs to (ID of an Axis).
    pub axis: Option<ID>,
    /// The concertation programme it draws on (ID of a
    /// ConcertationProgramme).
    pub programme: Option<ID>,
    /// When it was published.
    pub published_on: Option<Date>,
    /// Where to read it (http or https).
    pub url: Option<String>,
}

/// Changes to a study: only the fields given change; `null` empties an
/// optional field.
#[derive(InputObject)]
pub struct UpdateStudyInput {
    /// The study to change.
    pub id: ID,
    /// The version you read; if it changed since, the update is refused
    /// with CONFLICT.
    pub expected_version: i32,
    /// Its title.
    pub title: Option<String>,
    /// What it studies.
    pub description: MaybeUndefined<String>,
    /// The network's axis it belongs to.
    pub axis: MaybeUndefined<ID>,
    /// The concertation programme it draws on.
    pub programme: MaybeUndefined<ID>,
    /// When it was published.
    pub published_on: MaybeUndefined<Date>,
    /// Where to read it.
    pub url: MaybeUndefined<String>,
}

fn study_draft(input: CreateStudyInput, checks: &mut Checks) -> Draft<study::ActiveModel> {
    let title = checks.required("input.title", &input.title, MAX_LINE);
    let axis = checks.maybe_id("input.axis", input.axis.as_ref(), "Axis");
    let programme = checks.maybe_id(
        "input.programme",
        input.programme.as_ref(),
        "ConcertationProgramme",
    );
    let row = study::ActiveModel {
        title: Set(title.clone()),
        description: Set(checks.optional(
            "input.description",
            input.description.as_deref(),
            MAX_TEXT,
        )),
        axis_id: Set(axis),
        programme_id: Set(programme),
        published_on: Set(input.published_on.map(Into::into)),
        url: Set(checks.url("input.url", input.url.as_deref())),
        ..Default::default()
    };
    Draft::new(row)
        .names("input.axis", "axis", axis)
        .names("input.programme", "concertation_programme", programme)
        .unique("input.title", "title", Some(title))
}

fn study_change(
    input: UpdateStudyInput,
    _current: &study::Model,
    checks: &mut Checks,
) -> Draft<study::ActiveModel> {
    let title = input
        .title
        .as_deref()
        .map(|t| checks.required("input.title", t, MAX_LINE));
    let axis = checks.change_id("input.axis", &input.axis, "Axis");
    let programme = checks.change_id("input.programme", &input.programme, "ConcertationProgramme");
    let mut row = study::ActiveModel::default();
    patch!(row {
        title: title.clone(),
        description: checks.change_text("input.description", &input.description, MAX_TEXT),
        axis_id: axis,
        programme_id: programme,
        published_on: undefined_or::<Date, _>(input.published_on),
        url: checks.change_url("input.url", &input.url),
    });
    Draft::new(row)
        .names("input.axis", "axis", axis.flatten())
        .names(
            "input.programme",
            "concertation_programme",
            programme.flatten(),
        )
        .unique("input.title", "title", title)
}

writing! {
    StudyMutation for study::Model as Study;
    /// Adds a study (admin keys only). With an `idempotencyKey`, a retried
    /// request returns the study the first one created.
    "createStudy"(CreateStudyInput) => study_draft;
    /// Changes a study (admin keys only): the fields given, at the version
    /// you read.
    "updateStudy"(UpdateStudyInput) => study_change;
}

archiving! {
    StudyArchiving for study::Model as Study;
    /// Archives a study (admin keys only): it leaves lists (unless
    /// `includeArchived`) and stays whole, with its findings and history.
    "archiveStudy";
    /// Brings an archived study back into lists.
    "restoreStudy";
}

/// A new finding of a study (admin keys only).
#[derive(InputObject)]
pub struct CreateStudyFindingInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// The study it comes from (ID of a Study).
    pub study: ID,
    /// What it is.
    pub kind: FindingKind,
    /// What it says (at most 10,000 characters).
    pub statement: String,
    /// Its rank among its kind, when the study ranks them (1 or more).
    pub rank: Option<i32>,
    /// What a figure measures.
    pub metric: Option<String>,
    /// The figure.
    pub value: Option<f64>,
    /// The job family it is about.
    pub job_family: Option<String>,
    /// How exposed that job family is to AI.
    pub exposure_level: Option<ExposureLevel>,
    /// Concertations it draws on (IDs of Concertations).
    #[graphql(default)]
    pub concertations: Vec<ID>,
    /// Levers it points to (IDs of Levers).
    #[graphql(default)]
    pub levers: Vec<ID>,
    /// Risk categories it relates to (IDs of RiskCategories).
    #[graphql(default)]
    pub risk_categories: Vec<ID>,
}

/// Changes to a finding: only the fields given change; `null` empties an
/// optional field. Lists given replace the finding's.
#[derive(InputObject)]
pub struct UpdateStudyFindingInput {
    /// The finding to change.
    pub id: ID,
    /// The version you read; if it changed since, the update is refused
    /// with CONFLICT.
    pub expected_version: i32,
    /// What it is.
    pub kind: Option<FindingKind>,
    /// What it says.
    pub statement: Option<String>,
    /// Its rank among its kind.
    pub rank: MaybeUndefined<i32>,
    /// What a figure measures.
    pub metric: MaybeUndefined<String>,
    /// The figure.
    pub value: MaybeUndefined<f64>,
    /// The job family it is about.
    pub job_family: MaybeUndefined<String>,
    /// How exposed that job family is to AI.
    pub exposure_level: MaybeUndefined<ExposureLevel>,
    /// Replaces the concertations it draws on.
    pub concertations: Option<Vec<ID>>,
    /// Replaces the levers it points to.
    pub levers: Option<Vec<ID>>,
    /// Replaces the risk categories it relates to.
    pub risk_categories: Option<Vec<ID>>,
}

/// The links of a finding, as given.
fn finding_links(
    draft: Draft<study_finding::ActiveModel>,
    checks: &mut Checks,
    concertations: Option<&[ID]>,
    levers: Option<&[ID]>,
    risk_categories: Option<&[ID]>,
) -> Draft<study_finding::ActiveModel> {
    use entity::{finding_concertation as fc, finding_lever as fl, finding_risk_category as fr};
    let concertations = concertations.map(|ids| {
        let ids = checks.ids("input.concertations", ids, "Concertation");
        Links::to(fc::Column::FindingId, fc::Column::ConcertationId, ids)
    });
    let levers = levers.map(|ids| {
        let ids = checks.ids("input.levers", ids, "Lever");
        Links::to(fl::Column::FindingId, fl::Column::LeverId, ids)
    });
    let risk_categories = risk_categories.map(|ids| {
        let ids = checks.ids("input.riskCategories", ids, "RiskCategory");
        Links::to(fr::Column::FindingId, fr::Column::RiskCategoryId, ids)
    });
    draft
        .linked("input.concertations", "concertation", concertations)
        .linked("input.levers", "lever", levers)
        .linked("input.riskCategories", "risk_category", risk_categories)
}

fn finding_draft(
    input: CreateStudyFindingInput,
    checks: &mut Checks,
) -> Draft<study_finding::ActiveModel> {
    let study = checks.id("input.study", &input.study, "Study");
    let row = study_finding::ActiveModel {
        study_id: Set(study.unwrap_or_default()),
        kind: Set(input.kind.into()),
        statement: Set(checks.required("input.statement", &input.statement, MAX_TEXT)),
        rank: Set(checks.at_least("input.rank", input.rank, 1)),
        metric: Set(checks.optional("input.metric", input.metric.as_deref(), MAX_LINE)),
        value: Set(input.value),
        job_family: Set(checks.optional("input.jobFamily", input.job_family.as_deref(), MAX_LINE)),
        exposure_level: Set(input.exposure_level.map(Into::into)),
        ..Default::default()
    };
    let draft = Draft::new(row).names("input.study", "study", study);
    finding_links(
        draft,
        checks,
        Some(&input.concertations),
        Some(&input.levers),
        Some(&input.risk_categories),
    )
}

fn finding_change(
    input: UpdateStudyFindingInput,
    _current: &study_finding::Model,
    checks: &mut Checks,
) -> Draft<study_finding::ActiveModel> {
    let rank = undefined_or::<i32, i32>(input.rank);
    checks.at_least("input.rank", rank.flatten(), 1);
    let mut row = study_finding::ActiveModel::default();
    patch!(row {
        kind: input.kind.map(Into::into),
        statement: input.statement.as_deref().map(|s| checks.required(
            "input.statement",
            s,
            MAX_TEXT
        )),
        rank: rank,
        metric: checks.change_text("input.metric", &input.metric, MAX_LINE),
        value: undefined_or::<f64, f64>(input.value),
        job_family: checks.change_text("input.jobFamily", &input.job_family, MAX_LINE),
        exposure_level: undefined_or(input.exposure_level),
    });
    finding_links(
        Draft::new(row),
        checks,
        input.concertations.as_deref(),
        input.levers.as_deref(),
        input.risk_categories.as_deref(),
    )
}

writing! {
    StudyFindingMutation for study_finding::Model as StudyFinding;
    /// Adds a finding to a study (admin keys only). With an
    /// `idempotencyKey`, a retried request returns the finding the first
    /// one created.
    "createStudyFinding"(CreateStudyFindingInput) => finding_draft;
    /// Changes a finding (admin keys only): the fields given, at the
    /// version you read.
    "updateStudyFinding"(UpdateStudyFindingInput) => finding_change;
}

archiving! {
    StudyFindingArchiving for study_finding::Model as StudyFinding;
    /// Archives a finding (admin keys only): it leaves lists (unless
    /// `includeArchived`) and search, and stays whole, with its history.
    "archiveStudyFinding";
    /// Brings an archived finding back into lists and search.
    "restoreStudyFinding";
}
