//! Writing contributions: what a concertation raised, with the risk
//! categories and deployments it names.
//!
//! A contribution of a concertation is written by the keys that may write
//! the concertation (its leading or co-organising territories); a
//! programme-level one (a concern of the whole programme) by admins only.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::{concertation, contribution};
use sea_orm::{ConnectionTrait, Set};

use super::{Checks, Draft, InputChecks, Links, MAX_TEXT, Writable, load, undefined_or};
use crate::{
    auth::Writer,
    error::{AppError, AppResult},
    graphql::{
        Contribution,
        enums::{ContributionKind, Public, ResponseState},
    },
    store::snapshot_with,
};

/// A new contribution: something a concertation (or, for admins, a whole
/// programme) raised.
#[derive(InputObject)]
pub struct CreateContributionInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// The concertation that raised it (ID of a Concertation).
    pub concertation: Option<ID>,
    /// The programme that raised it, for a programme-level contribution (ID
    /// of a ConcertationProgramme; admin keys only). Give this or
    /// `concertation`, not both.
    pub programme: Option<ID>,
    /// What it is.
    pub kind: ContributionKind,
    /// What was said (at most 10,000 characters).
    pub statement: String,
    /// Its rank among its kind, when the source ranks them (1 or more).
    pub rank: Option<i32>,
    /// How strongly it came out, 1 to 5.
    pub salience: Option<i32>,
    /// The public that raised it.
    pub public: Option<Public>,
    /// How the organisers answered it (default OPEN).
    pub response_state: Option<ResponseState>,
    /// Their answer.
    pub response: Option<String>,
    /// Risk categories it relates to (IDs of RiskCategories).
    #[graphql(default)]
    pub risk_categories: Vec<ID>,
    /// AI uses it names (IDs of Deployments).
    #[graphql(default)]
    pub deployments: Vec<ID>,
}

/// Changes to a contribution: only the fields given change; `null` empties
/// an optional field. Lists given replace the contribution's.
#[derive(InputObject)]
pub struct UpdateContributionInput {
    /// The contribution to change.
    pub id: ID,
    /// The version you read; if it changed since, the update is refused
    /// with CONFLICT.
    pub expected_version: i32,
    /// What it is.
    pub kind: Option<ContributionKind>,
    /// What was said.
    pub statement: Option<String>,
    /// Its rank among its kind.
    pub rank: MaybeUndefined<i32>,
    /// How strongly it came out, 1 to 5.
    pub salience: MaybeUndefined<i32>,
    /// The public that raised it.
    pub public: MaybeUndefined<Public>,
    /// How the organisers answered it.
    pub response_state: Option<ResponseState>,
    /// Their answer.
    pub response: MaybeUndefined<String>,
    /// Replaces the risk categories.
    pub risk_categories: Option<Vec<ID>>,
    /// Replaces the AI uses it names.
    pub deployments: Option<Vec<ID>>,
}

#[async_trait::async_trait]
impl Writable for contribution::Model {
    /// A contribution of a concertation may be written by whoever may
    /// write the concertation; a programme-level one by admins.
    async fn check_scope<C: ConnectionTrait>(&self, db: &C, writer: &Writer) -> AppResult<()> {
        match self.concertation_id {
            None if writer.is_admin() => Ok(()),
            None => Err(AppError::Forbidden(
                "only an admin key may write programme-level contributions".into(),
            )),
            Some(id) => match load::<concertation::Model, _>(db, id).await? {
                Some(concertation) => concertation.check_scope(db, writer).await,
                // Checked as a reference with the other fields.
                None => Ok(()),
            },
        }
    }

    /// The territory that leads its concertation.
    async fn territory<C: ConnectionTrait>(&self, db: &C) -> AppResult<Option<i64>> {
        let Some(id) = self.concertation_id else {
            return Ok(None);
        };
        Ok(load::<concertation::Model, _>(db, id)
            .await?
            .map(|c| c.territory_id))
    }

    async fn snapshot<C: ConnectionTrait>(&self, db: &C) -> AppResult<serde_json::Value> {
        use entity::{contribution_deployment as cd, contribution_risk_category as cr};
        let risk_categories: Vec<i64> = Links::read(
            db,
            cr::Column::ContributionId,
            cr::Column::RiskCategoryId,
            self.id,
        )
        .await?;
        let deployments: Vec<i64> = Links::read(
            db,
            cd::Column::ContributionId,
            cd::Column::DeploymentId,
            self.id,
        )
        .await?;
        Ok(snapshot_with(
            self,
            [
                ("riskCategories", risk_categories.into()),
                ("deployments", deployments.into()),
            ],
        ))
    }
}

/// The lists of a contribution's input, checked into its draft: lists
/// given replace the contribution's.
fn contribution_lists(
    draft: Draft<contribution::ActiveModel>,
    checks: &mut Checks,
    risk_categories: Option<&[ID]>,
    deployments: Option<&[ID]>,
) -> Draft<contribution::ActiveModel> {
    use entity::{contribution_deployment as cd, contribution_risk_category as cr};
    let risk_categories = risk_categories.map(|ids| {
        let ids = checks.ids("input.riskCategories", ids, "RiskCategory");
        Links::to(cr::Column::ContributionId, cr::Column::RiskCategoryId, ids)
    });
    let deployments = deployments.map(|ids| {
        let ids = checks.ids("input.deployments", ids, "Deployment");
        Links::to(cd::Column::ContributionId, cd::Column::DeploymentId, ids)
    });
    draft
        .linked("input.riskCategories", "risk_category", risk_categories)
        .linked("input.deployments", "deployment", deployments)
}

fn contribution_draft(
    input: CreateContributionInput,
    checks: &mut Checks,
) -> Draft<contribution::ActiveModel> {
    let concertation = checks.maybe_id(
        "input.concertation",
        input.concertation.as_ref(),
        "Concertation",
    );
    let programme = checks.maybe_id(
        "input.programme",
        input.programme.as_ref(),
        "ConcertationProgramme",
    );
    if input.concertation.is_some() == input.programme.is_some() {
        checks.add(
            "input.concertation",
            "give either a concertation or a programme",
        );
    }
    let row = contribution::ActiveModel {
        concertation_id: Set(concertation),
        programme_id: Set(programme),
        kind: Set(input.kind.into()),
        rank: Set(checks.at_least("input.rank", input.rank, 1)),
        statement: Set(checks.required("input.statement", &input.statement, MAX_TEXT)),
        salience: Set(checks.within("input.salience", input.salience, 1, 5)),
        public: Set(input.public.map(Into::into)),
        response_state: Set(input
            .response_state
            .map_or(entity::enums::ResponseState::Open, Into::into)),
        response: Set(checks.optional("input.response", input.response.as_deref(), MAX_TEXT)),
        ..Default::default()
    };
    let draft = Draft::new(row)
        .names("input.concertation", "concertation", concertation)
        .names("input.programme", "concertation_programme", programme);
    contribution_lists(
        draft,
        checks,
        Some(&input.risk_categories),
        Some(&input.deployments),
    )
}

fn contribution_change(
    input: UpdateContributionInput,
    _current: &contribution::Model,
    checks: &mut Checks,
) -> Draft<contribution::ActiveModel> {
    let rank = undefined_or::<i32, i32>(input.rank);
    checks.at_least("input.rank", rank.flatten(), 1);
    let salience = undefined_or::<i32, i32>(input.salience);
    checks.within("input.salience", salience.flatten(), 1, 5);
    let mut row = contribution::ActiveModel::default();
    patch!(row {
        statement: input.statement.as_deref().map(|s| checks.required(
            "input.statement",
            s,
            MAX_TEXT
        )),
        rank: rank,
        salience: salience,
        response: checks.change_text("input.response", &input.response, MAX_TEXT),
        kind: input.kind.map(Into::into),
        public: undefined_or(input.public),
        response_state: input.response_state.map(Into::into),
    });
    contribution_lists(
        Draft::new(row),
        checks,
        input.risk_categories.as_deref(),
        input.deployments.as_deref(),
    )
}

writing! {
    ContributionMutation for contribution::Model as Contribution;
    /// Records what a concertation raised. With an `idempotencyKey`, a
    /// retried request returns the contribution the first one created
    /// instead of a duplicate.
    "createContribution"(CreateContributionInput) => contribution_draft;
    /// Changes a contribution: the fields given, at the version you read.
    "updateContribution"(UpdateContributionInput) => contribution_change;
}

archiving! {
    ContributionArchiving for contribution::Model as Contribution;
    /// Archives a contribution: it leaves lists (unless `includeArchived`)
    /// and search, and stays whole, with its history.
    "archiveContribution";
    /// Brings an archived contribution back into lists and search.
    "restoreContribution";
}
