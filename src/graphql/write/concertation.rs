//! Writing concertations, with their co-organisers, formats and publics.
//!
//! An editor's key writes the concertations its territories lead or
//! co-organise, and creates those they lead; an admin's, all.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::Utc;
use entity::{concertation, concertation_co_organizer};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

use super::{
    Checks, IdempotencyKey, Links, MAX_LINE, MAX_TEXT, Refs, Writable, Write, actor,
    check_references, claimed, find, snapshot_with,
};
use crate::{
    auth::Writer,
    error::{AppError, AppResult},
    graphql::{
        Concertation,
        engine::loader::database,
        engine::scalars::Date,
        enums::{ConcertationFormat, ConcertationStatus, Public},
    },
};

const TYPE: &str = "Concertation";

/// A new citizen concertation on AI, led by a territory.
#[derive(InputObject)]
pub struct CreateConcertationInput {
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

fn forbidden() -> AppError {
    AppError::Forbidden(
        "this key may not write for the territories that run this concertation".into(),
    )
}

#[async_trait::async_trait]
impl Writable for concertation::Model {
    const TYPE: &'static str = TYPE;
    const TABLE: &'static str = "concertation";

    async fn check_scope<C: ConnectionTrait>(&self, db: &C, writer: &Writer) -> AppResult<()> {
        if writer.is_admin() || writer.covers_any(&organisers(db, self).await?) {
            Ok(())
        } else {
            Err(forbidden())
        }
    }

    async fn snapshot<C: ConnectionTrait>(&self, db: &C) -> AppResult<serde_json::Value> {
        let co_organizers: Vec<i64> = organisers(db, self).await?.split_off(1);
        let parent = "concertation_id";
        let formats: Vec<String> =
            Links::read(db, "concertation_format", parent, "format", self.id).await?;
        let publics: Vec<String> =
            Links::read(db, "concertation_public", parent, "public", self.id).await?;
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

/// The lists of a concertation, as given.
struct Lists {
    co_organizers: Option<Vec<i64>>,
    formats: Option<Vec<ConcertationFormat>>,
    publics: Option<Vec<Public>>,
}

/// Makes the concertation's lists those given (lists not given stay).
async fn write_lists(write: &Write<'_>, id: i64, lists: Lists) -> AppResult<()> {
    let parent = "concertation_id";
    let links = [
        lists
            .co_organizers
            .map(|t| Links::to("concertation_co_organizer", parent, "territory_id", t)),
        lists.formats.map(|f| {
            let values = f.into_iter().map(entity::enums::ConcertationFormat::from);
            Links::to("concertation_format", parent, "format", values)
        }),
        lists.publics.map(|p| {
            let values = p.into_iter().map(entity::enums::Public::from);
            Links::to("concertation_public", parent, "public", values)
        }),
    ];
    for links in links.into_iter().flatten() {
        links.replace(&write.txn, id).await?;
    }
    Ok(())
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

/// References of a concertation's input that must name live records.
fn references(
    territory: Option<i64>,
    programme: Option<i64>,
    co: &Option<Vec<i64>>,
) -> Vec<Refs<'static>> {
    let mut wanted = Vec::new();
    if let Some(territory) = territory {
        wanted.push(Refs::One("input.territory", "territory", territory));
    }
    if let Some(programme) = programme {
        wanted.push(Refs::One(
            "input.programme",
            "concertation_programme",
            programme,
        ));
    }
    if let Some(co) = co {
        wanted.push(Refs::Many("input.coOrganizers", "territory", co.clone()));
    }
    wanted
}

/// Mutations of concertations.
#[derive(Default)]
pub struct ConcertationMutation;

#[Object]
impl ConcertationMutation {
    /// Records a new concertation led by one of your territories. With an
    /// `idempotencyKey`, a retried request returns the concertation the
    /// first one created instead of a duplicate.
    async fn create_concertation(
        &self,
        ctx: &Context<'_>,
        input: CreateConcertationInput,
        #[graphql(
            desc = "A key of your choosing, unique for each new record: a retry with the same key returns the first result."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Concertation> {
        let writer = actor(ctx).writer()?;
        let idempotency = IdempotencyKey::new(idempotency_key, "createConcertation")?;
        let db = database(ctx);
        if let Some(earlier) = IdempotencyKey::earlier(&idempotency, db, writer).await? {
            return Ok(Concertation(earlier));
        }
        let mut checks = Checks::default();
        let territory = checks.id("input.territory", &input.territory, "Territory");
        let programme = input
            .programme
            .as_ref()
            .and_then(|p| checks.id("input.programme", p, "ConcertationProgramme"));
        let title = checks.required("input.title", &input.title, MAX_LINE);
        let summary = checks.optional("input.summary", input.summary.as_deref(), MAX_TEXT);
        let (start, end) = (input.start_date.map(|d| d.0), input.end_date.map(|d| d.0));
        checks.ordered("input.endDate", start, end);
        let participants = checks.not_negative("input.participantCount", input.participant_count);
        let hours = checks.not_negative("input.hours", input.hours);
        let report_url = checks.url("input.reportUrl", input.report_url.as_deref());
        let co_organizers =
            Some(checks.ids("input.coOrganizers", &input.co_organizers, "Territory"));
        if let Some(territory) = territory
            && !writer.covers(territory)
        {
            return Err(forbidden().into());
        }
        checks.finish()?;
        let territory = territory.expect("checked");
        check_references(db, references(Some(territory), programme, &co_organizers)).await?;

        let write = Write::begin(ctx, writer).await?;
        let now = Utc::now();
        let model = concertation::ActiveModel {
            territory_id: Set(territory),
            programme_id: Set(programme),
            title: Set(title),
            summary: Set(summary),
            status: Set(input.status.into()),
            start_date: Set(start),
            end_date: Set(end),
            participant_count: Set(participants),
            hours: Set(hours),
            report_url: Set(report_url),
            produced_local_charter: Set(input.produced_local_charter.unwrap_or(false)),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        }
        .insert(&write.txn)
        .await
        .map_err(AppError::from)?;
        let lists = Lists {
            co_organizers,
            formats: Some(unique(&input.formats)),
            publics: Some(unique(&input.publics)),
        };
        write_lists(&write, model.id, lists).await?;
        Ok(Concertation(
            write.finish_create(db, &idempotency, model).await?,
        ))
    }

    /// Changes a concertation: the fields given, at the version you read.
    async fn update_concertation(
        &self,
        ctx: &Context<'_>,
        input: UpdateConcertationInput,
    ) -> async_graphql::Result<Concertation> {
        let writer = actor(ctx).writer()?;
        let db = database(ctx);
        let current: concertation::Model = find(db, &input.id).await?;
        current.check_scope(db, writer).await?;

        let mut checks = Checks::default();
        let territory = input
            .territory
            .as_ref()
            .and_then(|t| checks.id("input.territory", t, "Territory"));
        if let Some(territory) = territory
            && !writer.covers(territory)
        {
            return Err(forbidden().into());
        }
        let programme = match &input.programme {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(p) => {
                Some(checks.id("input.programme", p, "ConcertationProgramme"))
            }
        };
        let title = input
            .title
            .as_deref()
            .map(|t| checks.required("input.title", t, MAX_LINE));
        let summary = checks.change_text("input.summary", &input.summary, MAX_TEXT);
        let report_url = checks.change_url("input.reportUrl", &input.report_url);
        let start_date =
            super::undefined_or::<Date, Date>(input.start_date).map(|d| d.map(|d| d.0));
        let end_date = super::undefined_or::<Date, Date>(input.end_date).map(|d| d.map(|d| d.0));
        let start = start_date.unwrap_or(current.start_date);
        let end = end_date.unwrap_or(current.end_date);
        checks.ordered("input.endDate", start, end);
        let participants = super::undefined_or::<i32, i32>(input.participant_count);
        checks.not_negative("input.participantCount", participants.flatten());
        let hours = super::undefined_or::<f64, f64>(input.hours);
        checks.not_negative("input.hours", hours.flatten());
        let co_organizers = input
            .co_organizers
            .as_deref()
            .map(|ids| checks.ids("input.coOrganizers", ids, "Territory"));
        checks.finish()?;
        check_references(
            db,
            references(territory, programme.flatten(), &co_organizers),
        )
        .await?;

        let write = Write::begin(ctx, writer).await?;
        let (current, version, before) =
            claimed::<concertation::Model>(&write, current.id, input.expected_version).await?;
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
            programme_id = programme;
            summary = summary;
            report_url = report_url;
            start_date = start_date;
            end_date = end_date;
            participant_count = participants;
            hours = hours;
            status = input.status.map(Into::into);
            produced_local_charter = input.produced_local_charter;
        }
        row.version = Set(version);
        row.updated_at = Set(Utc::now());
        let model = row.update(&write.txn).await.map_err(AppError::from)?;
        let lists = Lists {
            co_organizers,
            formats: input.formats.as_deref().map(unique),
            publics: input.publics.as_deref().map(unique),
        };
        write_lists(&write, model.id, lists).await?;
        Ok(Concertation(
            write.finish_update(version, before, model).await?,
        ))
    }
}

archiving! {
    ConcertationArchiving for concertation::Model as Concertation;
    /// Archives a concertation: it leaves lists (unless `includeArchived`)
    /// and search, and stays whole, with its history.
    "archiveConcertation";
    /// Brings an archived concertation back into lists and search.
    "restoreConcertation";
}
