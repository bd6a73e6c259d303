//! Writing concertations, with their co-organisers, formats and publics.
//!
//! An editor's key writes the concertations its territories lead or
//! co-organise, and creates those they lead; an admin's, all.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::{concertation, concertation_co_organizer};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Checks, Draft, InputChecks, Links, MAX_LINE, MAX_TEXT, Writable, undefined_or};
use crate::{
    auth::Writer,
    error::{AppError, AppResult},
    graphql::{
        Concertation,
        engine::scalars::Date,
        enums::{ConcertationFormat, ConcertationStatus, Public},
    },
    store::snapshot_with,
};

/// A new citizen concertation on AI, led by a territory.
#[derive(InputObject)]
pub struct CreateConcertationInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// The territory that leads it (ID of a Territory).
    pub territory: ID,
    /// The programme it is part of (ID of a ConcertationProgramme), if any.
    pub programme: Option<ID>,
    /// Its title (at most 300 characters).
    pub title: String,
    /// What it is about and how it went.
    pub summary: Option<String>,
    /// Where it stands.
    pub status: ConcertationStatus,
    /// First day.
    pub start_date: Option<Date>,
    /// Last day, not before the first.
    pub end_date: Option<Date>,
    /// Number of participants (not negative).
    pub participant_count: Option<i32>,
    /// Hours of concertation (not negative).
    pub hours: Option<f64>,
    /// Link (http or https) to its report.
    pub report_url: Option<String>,
    /// Whether it produced a local charter (default false).
    pub produced_local_charter: Option<bool>,
    /// Territories that co-organise it (IDs of Territories).
    #[graphql(default)]
    pub co_organizers: Vec<ID>,
    /// How it was run.
    #[graphql(default)]
    pub formats: Vec<ConcertationFormat>,
    /// Who took part.
    #[graphql(default)]
    pub publics: Vec<Public>,
}

/// Changes to a concertation: only the fields given change; `null` empties
/// an optional field. Lists given replace the concertation's.
#[derive(InputObject)]
pub struct UpdateConcertationInput {
    /// The concertation to change.
    pub id: ID,
    /// The version you read; if it changed since, the update is refused
    /// with CONFLICT.
    pub expected_version: i32,
    /// Another leading territory (it must be yours too).
    pub territory: Option<ID>,
    /// The programme it is part of.
    pub programme: MaybeUndefined<ID>,
    /// Its title.
    pub title: Option<String>,
    /// What it is about and how it went.
    pub summary: MaybeUndefined<String>,
    /// Where it stands.
    pub status: Option<ConcertationStatus>,
    /// First day.
    pub start_date: MaybeUndefined<Date>,
    /// Last day.
    pub end_date: MaybeUndefined<Date>,
    /// Number of participants.
    pub participant_count: MaybeUndefined<i32>,
    /// Hours of concertation.
    pub hours: MaybeUndefined<f64>,
    /// Link to its report.
    pub report_url: MaybeUndefined<String>,
    /// Whether it produced a local charter.
    pub produced_local_charter: Option<bool>,
    /// Replaces the co-organising territories.
    pub co_organizers: Option<Vec<ID>>,
    /// Replaces the formats.
    pub formats: Option<Vec<ConcertationFormat>>,
    /// Replaces the publics.
    pub publics: Option<Vec<Public>>,
}

/// The territories that lead or co-organise a concertation.
pub(super) async fn organisers<C: ConnectionTrait>(
    db: &C,
    model: &concertation::Model,
) -> AppResult<Vec<i64>> {
    let mut territories: Vec<i64> = concertation_co_organizer::Entity::find()
        .filter(concertation_co_organizer::Column::ConcertationId.eq(model.id))
        .order_by_asc(concertation_co_organizer::Column::TerritoryId)
        .all(db)
        .await?
        .into_iter()
        .map(|link| link.territory_id)
        .collect();
    territories.insert(0, model.territory_id);
    Ok(territories)
}

#[async_trait::async_trait]
impl Writable for concertation::Model {
    async fn check_scope<C: ConnectionTrait>(&self, db: &C, writer: &Writer) -> AppResult<()> {
        if writer.is_admin() || writer.covers_any(&organisers(db, self).await?) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "this key may not write for the territories that run this concertation".into(),
            ))
        }
    }

    async fn snapshot<C: ConnectionTrait>(&self, db: &C) -> AppResult<serde_json::Value> {
        use entity::{concertation_format as cf, concertation_public as cp};
        let co_organizers: Vec<i64> = organisers(db, self).await?.split_off(1);
        let formats: Vec<String> =
            Links::read(db, cf::Column::ConcertationId, cf::Column::Format, self.id).await?;
        let publics: Vec<String> =
            Links::read(db, cp::Column::ConcertationId, cp::Column::Public, self.id).await?;
        Ok(snapshot_with(
            self,
            [
                ("coOrganizers", co_organizers.into()),
                ("formats", formats.into()),
                ("publics", publics.into()),
            ],
        ))
    }
}

/// The lists of a concertation's input, checked into its draft: lists
/// given replace the concertation's.
fn concertation_lists(
    draft: Draft<concertation::ActiveModel>,
    checks: &mut Checks,
    co_organizers: Option<&[ID]>,
    formats: Option<&[ConcertationFormat]>,
    publics: Option<&[Public]>,
) -> Draft<concertation::ActiveModel> {
    use entity::{
        concertation_co_organizer as cco, concertation_format as cf, concertation_public as cp,
    };
    let co_organizers = co_organizers.map(|ids| {
        let ids = checks.ids("input.coOrganizers", ids, "Territory");
        Links::to(cco::Column::ConcertationId, cco::Column::TerritoryId, ids)
    });
    let formats = formats.map(|formats| {
        let values = unique(formats)
            .into_iter()
            .map(entity::enums::ConcertationFormat::from);
        Links::to(cf::Column::ConcertationId, cf::Column::Format, values)
    });
    let publics = publics.map(|publics| {
        let values = unique(publics).into_iter().map(entity::enums::Public::from);
        Links::to(cp::Column::ConcertationId, cp::Column::Public, values)
    });
    draft
        .linked("input.coOrganizers", "territory", co_organizers)
        .with(formats)
        .with(publics)
}

/// Unique values, in the order first given.
fn unique<T: PartialEq + Copy>(values: &[T]) -> Vec<T> {
    let mut out = Vec::new();
    for value in values {
        if !out.contains(value) {
            out.push(*value);
        }
    }
    out
}

fn concertation_draft(
    input: CreateConcertationInput,
    checks: &mut Checks,
) -> Draft<concertation::ActiveModel> {
    let territory = checks.id("input.territory", &input.territory, "Territory");
    let programme = checks.maybe_id(
        "input.programme",
        input.programme.as_ref(),
        "ConcertationProgramme",
    );
    let (start, end) = (input.start_date.map(|d| d.0), input.end_date.map(|d| d.0));
    checks.ordered("input.endDate", start, end);
    let row = concertation::ActiveModel {
        territory_id: Set(territory.unwrap_or_default()),
        programme_id: Set(programme),
        title: Set(checks.required("input.title", &input.title, MAX_LINE)),
        summary: Set(checks.optional("input.summary", input.summary.as_deref(), MAX_TEXT)),
        status: Set(input.status.into()),
        start_date: Set(start),
        end_date: Set(end),
        participant_count: Set(
            checks.not_negative("input.participantCount", input.participant_count)
        ),
        hours: Set(checks.not_negative("input.hours", input.hours)),
        report_url: Set(checks.url("input.reportUrl", input.report_url.as_deref())),
        produced_local_charter: Set(input.produced_local_charter.unwrap_or(false)),
        ..Default::default()
    };
    let draft = Draft::new(row)
        .names("input.territory", "territory", territory)
        .names("input.programme", "concertation_programme", programme)
        .within(territory);
    concertation_lists(
        draft,
        checks,
        Some(&input.co_organizers),
        Some(&input.formats),
        Some(&input.publics),
    )
}

fn concertation_change(
    input: UpdateConcertationInput,
    current: &concertation::Model,
    checks: &mut Checks,
) -> Draft<concertation::ActiveModel> {
    let territory = input
        .territory
        .as_ref()
        .and_then(|t| checks.id("input.territory", t, "Territory"));
    let programme = checks.change_id("input.programme", &input.programme, "ConcertationProgramme");
    let title = input
        .title
        .as_deref()
        .map(|t| checks.required("input.title", t, MAX_LINE));
    let summary = checks.change_text("input.summary", &input.summary, MAX_TEXT);
    let report_url = checks.change_url("input.reportUrl", &input.report_url);
    let start_date = undefined_or::<Date, Date>(input.start_date).map(|d| d.map(|d| d.0));
    let end_date = undefined_or::<Date, Date>(input.end_date).map(|d| d.map(|d| d.0));
    checks.ordered(
        "input.endDate",
        start_date.unwrap_or(current.start_date),
        end_date.unwrap_or(current.end_date),
    );
    let participants = undefined_or::<i32, i32>(input.participant_count);
    checks.not_negative("input.participantCount", participants.flatten());
    let hours = undefined_or::<f64, f64>(input.hours);
    checks.not_negative("input.hours", hours.flatten());
    let mut row = concertation::ActiveModel::default();
    patch!(row {
        territory_id: territory,
        programme_id: programme,
        title: title,
        summary: summary,
        report_url: report_url,
        start_date: start_date,
        end_date: end_date,
        participant_count: participants,
        hours: hours,
        status: input.status.map(Into::into),
        produced_local_charter: input.produced_local_charter,
    });
    let draft = Draft::new(row)
        .names("input.territory", "territory", territory)
        .names(
            "input.programme",
            "concertation_programme",
            programme.flatten(),
        )
        .within(territory);
    concertation_lists(
        draft,
        checks,
        input.co_organizers.as_deref(),
        input.formats.as_deref(),
        input.publics.as_deref(),
    )
}

writing! {
    ConcertationMutation for concertation::Model as Concertation;
    /// Records a new concertation led by one of your territories. With an
    /// `idempotencyKey`, a retried request returns the concertation the
    /// first one created instead of a duplicate.
    "createConcertation"(CreateConcertationInput) => concertation_draft;
    /// Changes a concertation: the fields given, at the version you read.
    "updateConcertation"(UpdateConcertationInput) => concertation_change;
}

archiving! {
    ConcertationArchiving for concertation::Model as Concertation;
    /// Archives a concertation: it leaves lists (unless `includeArchived`)
    /// and search, and stays whole, with its history.
    "archiveConcertation";
    /// Brings an archived concertation back into lists and search.
    "restoreConcertation";
}
