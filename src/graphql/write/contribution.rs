//! Writing contributions: what a concertation raised, with the risk
//! categories and deployments it names.
//!
//! A contribution of a concertation is written by the keys that may write
//! the concertation (its leading or co-organising territories); a
//! programme-level one (a concern of the whole programme) by admins only.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::Utc;
use entity::{concertation, contribution};
use sea_orm::{ActiveModelTrait, ConnectionTrait, IntoActiveModel, Set};

use super::{
    Checks, IdempotencyKey, Links, MAX_TEXT, Refs, Writable, Write, actor, check_references,
    claimed, find, snapshot_with, undefined_or,
};
use crate::{
    auth::Writer,
    error::{AppError, AppResult},
    graphql::{
        Contribution,
        engine::loader::database,
        enums::{ContributionKind, Public, ResponseState},
    },
};

const TYPE: &str = "Contribution";

/// A new contribution: something a concertation (or, for admins, a whole
/// programme) raised.
#[derive(InputObject)]
pub struct CreateContributionInput {
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
    const TYPE: &'static str = TYPE;
    const TABLE: &'static str = "contribution";

    async fn check_scope<C: ConnectionTrait>(&self, db: &C, writer: &Writer) -> AppResult<()> {
        in_scope(db, writer, self.concertation_id).await
    }

    /// The territory that leads its concertation.
    async fn territory<C: ConnectionTrait>(&self, db: &C) -> AppResult<Option<i64>> {
        let Some(id) = self.concertation_id else {
            return Ok(None);
        };
        Ok(super::load::<concertation::Model, _>(db, id)
            .await?
            .map(|c| c.territory_id))
    }

    async fn snapshot<C: ConnectionTrait>(&self, db: &C) -> AppResult<serde_json::Value> {
        let parent = "contribution_id";
        let risk_categories: Vec<i64> = Links::read(
            db,
            "contribution_risk_category",
            parent,
            "risk_category_id",
            self.id,
        )
        .await?;
        let deployments: Vec<i64> = Links::read(
            db,
            "contribution_deployment",
            parent,
            "deployment_id",
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

/// A contribution of `concertation` may be written by whoever may write the
/// concertation; a programme-level one (`None`) by admins.
async fn in_scope<C: ConnectionTrait>(
    db: &C,
    writer: &Writer,
    concertation: Option<i64>,
) -> AppResult<()> {
    match concertation {
        None if writer.is_admin() => Ok(()),
        None => Err(AppError::Forbidden(
            "only an admin key may write programme-level contributions".into(),
        )),
        Some(id) => match super::load::<concertation::Model, _>(db, id).await? {
            Some(concertation) => concertation.check_scope(db, writer).await,
            // Checked as a reference with the other fields.
            None => Ok(()),
        },
    }
}

/// Makes the contribution's lists those given (lists not given stay).
async fn write_lists(
    write: &Write<'_>,
    id: i64,
    risk_categories: Option<Vec<i64>>,
    deployments: Option<Vec<i64>>,
) -> AppResult<()> {
    let parent = "contribution_id";
    let links = [
        risk_categories
            .map(|c| Links::to("contribution_risk_category", parent, "risk_category_id", c)),
        deployments.map(|d| Links::to("contribution_deployment", parent, "deployment_id", d)),
    ];
    for links in links.into_iter().flatten() {
        links.replace(&write.txn, id).await?;
    }
    Ok(())
}

fn references(
    parent: Option<Refs<'static>>,
    categories: &Option<Vec<i64>>,
    deployments: &Option<Vec<i64>>,
) -> Vec<Refs<'static>> {
    let mut wanted: Vec<Refs<'static>> = parent.into_iter().collect();
    if let Some(categories) = categories {
        wanted.push(Refs::Many(
            "input.riskCategories",
            "risk_category",
            categories.clone(),
        ));
    }
    if let Some(deployments) = deployments {
        wanted.push(Refs::Many(
            "input.deployments",
            "deployment",
            deployments.clone(),
        ));
    }
    wanted
}

/// Mutations of contributions.
#[derive(Default)]
pub struct ContributionMutation;

#[Object]
impl ContributionMutation {
    /// Records what a concertation raised. With an `idempotencyKey`, a
    /// retried request returns the contribution the first one created
    /// instead of a duplicate.
    async fn create_contribution(
        &self,
        ctx: &Context<'_>,
        input: CreateContributionInput,
        #[graphql(
            desc = "A key of your choosing, unique for each new record: a retry with the same key returns the first result."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Contribution> {
        let writer = actor(ctx).writer()?;
        let idempotency = IdempotencyKey::new(idempotency_key, "createContribution")?;
        let db = database(ctx);
        if let Some(earlier) = IdempotencyKey::earlier(&idempotency, db, writer).await? {
            return Ok(Contribution(earlier));
        }
        let mut checks = Checks::default();
        let concertation = input
            .concertation
            .as_ref()
            .and_then(|c| checks.id("input.concertation", c, "Concertation"));
        let programme = input
            .programme
            .as_ref()
            .and_then(|p| checks.id("input.programme", p, "ConcertationProgramme"));
        if input.concertation.is_some() == input.programme.is_some() {
            checks.add(
                "input.concertation",
                "give either a concertation or a programme",
            );
        }
        let statement = checks.required("input.statement", &input.statement, MAX_TEXT);
        checks.at_least("input.rank", input.rank, 1);
        checks.within("input.salience", input.salience, 1, 5);
        let response = checks.optional("input.response", input.response.as_deref(), MAX_TEXT);
        let categories = Some(checks.ids(
            "input.riskCategories",
            &input.risk_categories,
            "RiskCategory",
        ));
        let deployments = Some(checks.ids("input.deployments", &input.deployments, "Deployment"));
        if concertation.is_some() || programme.is_some() {
            in_scope(db, writer, concertation).await?;
        }
        checks.finish()?;
        let parent = match (concertation, programme) {
            (Some(c), _) => Refs::One("input.concertation", "concertation", c),
            (_, Some(p)) => Refs::One("input.programme", "concertation_programme", p),
            _ => unreachable!("checked"),
        };
        check_references(db, references(Some(parent), &categories, &deployments)).await?;

        let write = Write::begin(ctx, writer).await?;
        let now = Utc::now();
        let model = contribution::ActiveModel {
            concertation_id: Set(concertation),
            programme_id: Set(programme),
            kind: Set(input.kind.into()),
            rank: Set(input.rank),
            statement: Set(statement),
            salience: Set(input.salience),
            public: Set(input.public.map(Into::into)),
            response_state: Set(input
                .response_state
                .map_or(entity::enums::ResponseState::Open, Into::into)),
            response: Set(response),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        }
        .insert(&write.txn)
        .await
        .map_err(AppError::from)?;
        write_lists(&write, model.id, categories, deployments).await?;
        Ok(Contribution(
            write.finish_create(db, &idempotency, model).await?,
        ))
    }

    /// Changes a contribution: the fields given, at the version you read.
    async fn update_contribution(
        &self,
        ctx: &Context<'_>,
        input: UpdateContributionInput,
    ) -> async_graphql::Result<Contribution> {
        let writer = actor(ctx).writer()?;
        let db = database(ctx);
        let current: contribution::Model = find(db, &input.id).await?;
        current.check_scope(db, writer).await?;

        let mut checks = Checks::default();
        let statement = input
            .statement
            .as_deref()
            .map(|s| checks.required("input.statement", s, MAX_TEXT));
        let rank = undefined_or::<i32, i32>(input.rank);
        checks.at_least("input.rank", rank.flatten(), 1);
        let salience = undefined_or::<i32, i32>(input.salience);
        checks.within("input.salience", salience.flatten(), 1, 5);
        let response = checks.change_text("input.response", &input.response, MAX_TEXT);
        let categories = input
            .risk_categories
            .as_deref()
            .map(|ids| checks.ids("input.riskCategories", ids, "RiskCategory"));
        let deployments = input
            .deployments
            .as_deref()
            .map(|ids| checks.ids("input.deployments", ids, "Deployment"));
        checks.finish()?;
        check_references(db, references(None, &categories, &deployments)).await?;

        let write = Write::begin(ctx, writer).await?;
        let (current, version, before) =
            claimed::<contribution::Model>(&write, current.id, input.expected_version).await?;
        let mut row = current.into_active_model();
        macro_rules! set {
            ($($field:ident = $value:expr;)*) => {
                $(if let Some(value) = $value { row.$field = Set(value); })*
            };
        }
        set! {
            statement = statement;
            rank = rank;
            salience = salience;
            response = response;
            kind = input.kind.map(Into::into);
            public = undefined_or(input.public);
            response_state = input.response_state.map(Into::into);
        }
        row.version = Set(version);
        row.updated_at = Set(Utc::now());
        let model = row.update(&write.txn).await.map_err(AppError::from)?;
        write_lists(&write, model.id, categories, deployments).await?;
        Ok(Contribution(
            write.finish_update(version, before, model).await?,
        ))
    }
}

archiving! {
    ContributionArchiving for contribution::Model as Contribution;
    /// Archives a contribution: it leaves lists (unless `includeArchived`)
    /// and search, and stays whole, with its history.
    "archiveContribution";
    /// Brings an archived contribution back into lists and search.
    "restoreContribution";
}
