//! Writing resources (guides, sheets, reports, templates) and events. An
//! editor's key writes those of its territories, and the resources of the
//! concertations its territories run; those of no territory are written by
//! admins.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::{event, resource};
use sea_orm::{ConnectionTrait, Set};

use super::{
    Checks, Draft, InputChecks, MAX_LINE, MAX_TEXT, Writable, concertation::organisers, load,
    territory_scope, undefined_or,
};
use crate::{
    auth::Writer,
    error::AppResult,
    graphql::{Event, Resource, engine::scalars::Date, enums::ResourceKind},
};

#[async_trait::async_trait]
impl Writable for resource::Model {
    async fn check_scope<C: ConnectionTrait>(&self, db: &C, writer: &Writer) -> AppResult<()> {
        let mut territories: Vec<i64> = self.territory_id.into_iter().collect();
        if let Some(id) = self.concertation_id
            && let Some(concertation) = load::<entity::concertation::Model, _>(db, id).await?
        {
            territories.extend(organisers(db, &concertation).await?);
        }
        territory_scope(writer, &territories, "resources")
    }
}

#[async_trait::async_trait]
impl Writable for event::Model {
    async fn check_scope<C: ConnectionTrait>(&self, _db: &C, writer: &Writer) -> AppResult<()> {
        let territories: Vec<i64> = self.territory_id.into_iter().collect();
        territory_scope(writer, &territories, "events")
    }
}

/// A new resource: a guide, fact sheet, report or template.
#[derive(InputObject)]
pub struct CreateResourceInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// Its title (at most 300 characters).
    pub title: String,
    /// What kind of resource it is.
    pub kind: ResourceKind,
    /// Where to find it (http or https).
    pub url: Option<String>,
    /// What it holds.
    pub description: Option<String>,
    /// The territory it comes from (ID of a Territory).
    pub territory: Option<ID>,
    /// The concertation it comes from (ID of a Concertation).
    pub concertation: Option<ID>,
}

/// Changes to a resource: only the fields given change; `null` empties an
/// optional field.
#[derive(InputObject)]
pub struct UpdateResourceInput {
    /// The resource to change.
    pub id: ID,
    /// The version you read; if it changed since, the update is refused
    /// with CONFLICT.
    pub expected_version: i32,
    /// Its title.
    pub title: Option<String>,
    /// What kind of resource it is.
    pub kind: Option<ResourceKind>,
    /// Where to find it.
    pub url: MaybeUndefined<String>,
    /// What it holds.
    pub description: MaybeUndefined<String>,
    /// The territory it comes from.
    pub territory: MaybeUndefined<ID>,
    /// The concertation it comes from.
    pub concertation: MaybeUndefined<ID>,
}

fn resource_draft(input: CreateResourceInput, checks: &mut Checks) -> Draft<resource::ActiveModel> {
    let territory = checks.maybe_id("input.territory", input.territory.as_ref(), "Territory");
    let concertation = checks.maybe_id(
        "input.concertation",
        input.concertation.as_ref(),
        "Concertation",
    );
    let row = resource::ActiveModel {
        title: Set(checks.required("input.title", &input.title, MAX_LINE)),
        kind: Set(input.kind.into()),
        url: Set(checks.url("input.url", input.url.as_deref())),
        description: Set(checks.optional(
            "input.description",
            input.description.as_deref(),
            MAX_TEXT,
        )),
        territory_id: Set(territory),
        concertation_id: Set(concertation),
        ..Default::default()
    };
    Draft::new(row)
        .names("input.territory", "territory", territory)
        .names("input.concertation", "concertation", concertation)
}

fn resource_change(
    input: UpdateResourceInput,
    _current: &resource::Model,
    checks: &mut Checks,
) -> Draft<resource::ActiveModel> {
    let territory = checks.change_id("input.territory", &input.territory, "Territory");
    let concertation = checks.change_id("input.concertation", &input.concertation, "Concertation");
    let mut row = resource::ActiveModel::default();
    patch!(row {
        title: input
            .title
            .as_deref()
            .map(|t| checks.required("input.title", t, MAX_LINE)),
        kind: input.kind.map(Into::into),
        url: checks.change_url("input.url", &input.url),
        description: checks.change_text("input.description", &input.description, MAX_TEXT),
        territory_id: territory,
        concertation_id: concertation,
    });
    Draft::new(row)
        .names("input.territory", "territory", territory.flatten())
        .names("input.concertation", "concertation", concertation.flatten())
}

writing! {
    ResourceMutation for resource::Model as Resource;
    /// Adds a resource. An editor's key adds those of its territories and
    /// of the concertations they run. With an `idempotencyKey`, a retried
    /// request returns the resource the first one created.
    "createResource"(CreateResourceInput) => resource_draft;
    /// Changes a resource: the fields given, at the version you read.
    "updateResource"(UpdateResourceInput) => resource_change;
}

archiving! {
    ResourceArchiving for resource::Model as Resource;
    /// Archives a resource: it leaves lists (unless `includeArchived`) and
    /// search, and stays whole, with its history.
    "archiveResource";
    /// Brings an archived resource back into lists and search.
    "restoreResource";
}

/// A new event of the network: a meeting, workshop or conference.
#[derive(InputObject)]
pub struct CreateEventInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// Its title (at most 300 characters).
    pub title: String,
    /// What it is about.
    pub description: Option<String>,
    /// First day.
    pub starts_on: Date,
    /// Last day, not before the first.
    pub ends_on: Option<Date>,
    /// Where it takes place.
    pub location: Option<String>,
    /// Its page (http or https).
    pub url: Option<String>,
    /// The territory that hosts it (ID of a Territory).
    pub territory: Option<ID>,
}

/// Changes to an event: only the fields given change; `null` empties an
/// optional field.
#[derive(InputObject)]
pub struct UpdateEventInput {
    /// The event to change.
    pub id: ID,
    /// The version you read; if it changed since, the update is refused
    /// with CONFLICT.
    pub expected_version: i32,
    /// Its title.
    pub title: Option<String>,
    /// What it is about.
    pub description: MaybeUndefined<String>,
    /// First day.
    pub starts_on: Option<Date>,
    /// Last day.
    pub ends_on: MaybeUndefined<Date>,
    /// Where it takes place.
    pub location: MaybeUndefined<String>,
    /// Its page.
    pub url: MaybeUndefined<String>,
    /// The territory that hosts it.
    pub territory: MaybeUndefined<ID>,
}

fn event_draft(input: CreateEventInput, checks: &mut Checks) -> Draft<event::ActiveModel> {
    let territory = checks.maybe_id("input.territory", input.territory.as_ref(), "Territory");
    let (starts, ends) = (input.starts_on.0, input.ends_on.map(|d| d.0));
    checks.ordered("input.endsOn", Some(starts), ends);
    let row = event::ActiveModel {
        title: Set(checks.required("input.title", &input.title, MAX_LINE)),
        description: Set(checks.optional(
            "input.description",
            input.description.as_deref(),
            MAX_TEXT,
        )),
        starts_on: Set(starts),
        ends_on: Set(ends),
        location: Set(checks.optional("input.location", input.location.as_deref(), MAX_LINE)),
        url: Set(checks.url("input.url", input.url.as_deref())),
        territory_id: Set(territory),
        ..Default::default()
    };
    Draft::new(row).names("input.territory", "territory", territory)
}

fn event_change(
    input: UpdateEventInput,
    current: &event::Model,
    checks: &mut Checks,
) -> Draft<event::ActiveModel> {
    let territory = checks.change_id("input.territory", &input.territory, "Territory");
    let starts = input.starts_on.map(|d| d.0);
    let ends = undefined_or::<Date, _>(input.ends_on);
    checks.ordered(
        "input.endsOn",
        Some(starts.unwrap_or(current.starts_on)),
        ends.unwrap_or(current.ends_on),
    );
    let mut row = event::ActiveModel::default();
    patch!(row {
        title: input
            .title
            .as_deref()
            .map(|t| checks.required("input.title", t, MAX_LINE)),
        description: checks.change_text("input.description", &input.description, MAX_TEXT),
        starts_on: starts,
        ends_on: ends,
        location: checks.change_text("input.location", &input.location, MAX_LINE),
        url: checks.change_url("input.url", &input.url),
        territory_id: territory,
    });
    Draft::new(row).names("input.territory", "territory", territory.flatten())
}

writing! {
    EventMutation for event::Model as Event;
    /// Adds an event. An editor's key adds those its territories host.
    /// With an `idempotencyKey`, a retried request returns the event the
    /// first one created.
    "createEvent"(CreateEventInput) => event_draft;
    /// Changes an event: the fields given, at the version you read.
    "updateEvent"(UpdateEventInput) => event_change;
}

archiving! {
    EventArchiving for event::Model as Event;
    /// Archives an event: it leaves lists (unless `includeArchived`) and
    /// search, and stays whole, with its history.
    "archiveEvent";
    /// Brings an archived event back into lists and search.
    "restoreEvent";
}
