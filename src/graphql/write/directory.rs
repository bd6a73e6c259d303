//! Writing the directory: territories and organizations. Neither belongs
//! to a territory's editors, so only admin keys write them.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::{organization, territory};
use sea_orm::{ConnectionTrait, Set};

use super::{Checks, Draft, InputChecks, MAX_LINE, MAX_TEXT, Writable, undefined_or};
use crate::{
    error::AppResult,
    graphql::{
        Organization, Territory,
        enums::{OrganizationKind, TerritoryKind},
    },
};

#[async_trait::async_trait]
impl Writable for territory::Model {
    const ADMIN_ONLY: bool = true;

    async fn territory<C: ConnectionTrait>(&self, _db: &C) -> AppResult<Option<i64>> {
        Ok(Some(self.id))
    }
}

#[async_trait::async_trait]
impl Writable for organization::Model {
    const ADMIN_ONLY: bool = true;
}

/// A new territory (admin keys only).
#[derive(InputObject)]
pub struct CreateTerritoryInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// Its name (at most 300 characters).
    pub name: String,
    /// Its URL name, unique in the hub: lowercase letters and digits
    /// joined by dashes. Made from the name when left out.
    pub slug: Option<String>,
    /// Its legal form.
    pub kind: TerritoryKind,
    /// Its country: ISO 3166-1 alpha-2, two capital letters (`FR` when
    /// left out).
    pub country: Option<String>,
    /// Its SIREN: 9 digits with a valid check digit (Luhn); unique.
    pub siren: Option<String>,
    /// Its INSEE code (5 characters).
    pub insee_code: Option<String>,
    /// Its region.
    pub region: Option<String>,
    /// Its département.
    pub department: Option<String>,
    /// Its population (not negative).
    pub population: Option<i64>,
    /// The territory it is part of (ID of a Territory).
    pub parent: Option<ID>,
    /// Its website (http or https).
    pub website: Option<String>,
    /// Notes on it.
    pub notes: Option<String>,
}

/// Changes to a territory: only the fields given change; `null` empties an
/// optional field.
#[derive(InputObject)]
pub struct UpdateTerritoryInput {
    /// The territory to change.
    pub id: ID,
    /// The version you read; if it changed since, the update is refused
    /// with CONFLICT.
    pub expected_version: i32,
    /// Its name.
    pub name: Option<String>,
    /// Its URL name (changing it breaks links that use the old one).
    pub slug: Option<String>,
    /// Its legal form.
    pub kind: Option<TerritoryKind>,
    /// Its country: ISO 3166-1 alpha-2, two capital letters.
    pub country: Option<String>,
    /// Its SIREN.
    pub siren: MaybeUndefined<String>,
    /// Its INSEE code.
    pub insee_code: MaybeUndefined<String>,
    /// Its region.
    pub region: MaybeUndefined<String>,
    /// Its département.
    pub department: MaybeUndefined<String>,
    /// Its population.
    pub population: MaybeUndefined<i64>,
    /// The territory it is part of.
    pub parent: MaybeUndefined<ID>,
    /// Its website.
    pub website: MaybeUndefined<String>,
    /// Notes on it.
    pub notes: MaybeUndefined<String>,
}

/// What names a directory record: its name, URL name and SIREN, checked.
/// For an update, each is `None` when left unchanged.
struct Names<T> {
    name: Option<String>,
    slug: Option<String>,
    siren: Option<T>,
}

impl<T> Names<T> {
    /// The URL name and the SIREN are the record's alone.
    fn unique<A>(&self, draft: Draft<A>) -> Draft<A>
    where
        T: Clone + Into<Option<String>>,
    {
        draft
            .unique("input.slug", "slug", self.slug.clone())
            .unique(
                "input.siren",
                "siren",
                self.siren.clone().and_then(Into::into),
            )
    }
}

/// The names of a new record.
fn new_names(
    checks: &mut Checks,
    name: &str,
    slug: Option<&str>,
    siren: Option<&str>,
) -> Names<String> {
    let name = checks.required("input.name", name, MAX_LINE);
    Names {
        slug: Some(checks.slug("input.slug", slug, &name)),
        siren: checks.siren("input.siren", siren),
        name: Some(name),
    }
}

/// The names an update changes.
fn changed_names(
    checks: &mut Checks,
    name: Option<&str>,
    slug: Option<&str>,
    siren: &MaybeUndefined<String>,
    current_name: &str,
) -> Names<Option<String>> {
    Names {
        name: name.map(|n| checks.required("input.name", n, MAX_LINE)),
        slug: slug.map(|s| checks.slug("input.slug", Some(s), current_name)),
        siren: super::change(siren, |s| checks.siren("input.siren", Some(s))),
    }
}

/// INSEE codes: five digits, or 2A/2B and three digits in Corsica.
fn insee(checks: &mut Checks, field: &str, text: Option<&str>) -> Option<String> {
    let text = checks.optional(field, text, 5)?;
    let bytes = text.as_bytes();
    let corsica = bytes.len() == 5 && bytes[0] == b'2' && matches!(bytes[1], b'A' | b'B');
    let valid = bytes.len() == 5
        && (bytes.iter().all(u8::is_ascii_digit)
            || (corsica && bytes[2..].iter().all(u8::is_ascii_digit)));
    if !valid {
        checks.add(field, "must be 5 digits (2A or 2B and 3 digits in Corsica)");
    }
    Some(text)
}

/// A country code, checked: two capital letters (ISO 3166-1 alpha-2).
fn country(checks: &mut Checks, field: &str, text: &str) -> String {
    if !(text.len() == 2 && text.bytes().all(|b| b.is_ascii_uppercase())) {
        checks.add(
            field,
            "must be an ISO 3166-1 alpha-2 code: two capital letters (FR, NL, GB)",
        );
    }
    text.to_owned()
}

fn territory_draft(
    input: CreateTerritoryInput,
    checks: &mut Checks,
) -> Draft<territory::ActiveModel> {
    let names = new_names(
        checks,
        &input.name,
        input.slug.as_deref(),
        input.siren.as_deref(),
    );
    let parent = checks.maybe_id("input.parent", input.parent.as_ref(), "Territory");
    let row = territory::ActiveModel {
        slug: Set(names.slug.clone().unwrap_or_default()),
        name: Set(names.name.clone().unwrap_or_default()),
        kind: Set(input.kind.into()),
        country: Set(country(
            checks,
            "input.country",
            input.country.as_deref().unwrap_or("FR"),
        )),
        siren: Set(names.siren.clone()),
        insee_code: Set(insee(
            checks,
            "input.inseeCode",
            input.insee_code.as_deref(),
        )),
        region: Set(checks.optional("input.region", input.region.as_deref(), MAX_LINE)),
        department: Set(checks.optional("input.department", input.department.as_deref(), MAX_LINE)),
        population: Set(checks.not_negative("input.population", input.population)),
        parent_id: Set(parent),
        website: Set(checks.url("input.website", input.website.as_deref())),
        notes: Set(checks.optional("input.notes", input.notes.as_deref(), MAX_TEXT)),
        ..Default::default()
    };
    names.unique(Draft::new(row).names("input.parent", "territory", parent))
}

fn territory_change(
    input: UpdateTerritoryInput,
    current: &territory::Model,
    checks: &mut Checks,
) -> Draft<territory::ActiveModel> {
    let names = changed_names(
        checks,
        input.name.as_deref(),
        input.slug.as_deref(),
        &input.siren,
        &current.name,
    );
    let parent = checks.change_id("input.parent", &input.parent, "Territory");
    if parent == Some(Some(current.id)) {
        checks.add("input.parent", "a territory cannot be part of itself");
    }
    let population = undefined_or::<i64, i64>(input.population);
    checks.not_negative("input.population", population.flatten());
    let mut row = territory::ActiveModel::default();
    patch!(row {
        name: names.name.clone(),
        slug: names.slug.clone(),
        kind: input.kind.map(Into::into),
        country: input
            .country
            .as_deref()
            .map(|text| country(checks, "input.country", text)),
        siren: names.siren.clone(),
        insee_code: super::change(&input.insee_code, |c| insee(
            checks,
            "input.inseeCode",
            Some(c)
        )),
        region: checks.change_text("input.region", &input.region, MAX_LINE),
        department: checks.change_text("input.department", &input.department, MAX_LINE),
        population: population,
        parent_id: parent,
        website: checks.change_url("input.website", &input.website),
        notes: checks.change_text("input.notes", &input.notes, MAX_TEXT),
    });
    names.unique(Draft::new(row).names("input.parent", "territory", parent.flatten()))
}

writing! {
    TerritoryMutation for territory::Model as Territory;
    /// Adds a territory (admin keys only). With an `idempotencyKey`, a
    /// retried request returns the territory the first one created.
    "createTerritory"(CreateTerritoryInput) => territory_draft;
    /// Changes a territory (admin keys only): the fields given, at the
    /// version you read.
    "updateTerritory"(UpdateTerritoryInput) => territory_change;
}

archiving! {
    TerritoryArchiving for territory::Model as Territory;
    /// Archives a territory (admin keys only): it leaves lists (unless
    /// `includeArchived`) and search; what belongs to it stays.
    "archiveTerritory";
    /// Brings an archived territory back into lists and search.
    "restoreTerritory";
}

/// A new organization: a vendor, research lab, public operator or
/// association taking part in deployments (admin keys only).
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// Its name (at most 300 characters).
    pub name: String,
    /// Its URL name, unique in the hub; made from the name when left out.
    pub slug: Option<String>,
    /// What kind of body it is.
    pub kind: OrganizationKind,
    /// Its SIREN: 9 digits with a valid check digit (Luhn); unique.
    pub siren: Option<String>,
    /// Its website (http or https).
    pub website: Option<String>,
    /// What it does.
    pub description: Option<String>,
}

/// Changes to an organization: only the fields given change; `null`
/// empties an optional field.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The organization to change.
    pub id: ID,
    /// The version you read; if it changed since, the update is refused
    /// with CONFLICT.
    pub expected_version: i32,
    /// Its name.
    pub name: Option<String>,
    /// Its URL name.
    pub slug: Option<String>,
    /// What kind of body it is.
    pub kind: Option<OrganizationKind>,
    /// Its SIREN.
    pub siren: MaybeUndefined<String>,
    /// Its website.
    pub website: MaybeUndefined<String>,
    /// What it does.
    pub description: MaybeUndefined<String>,
}

fn organization_draft(
    input: CreateOrganizationInput,
    checks: &mut Checks,
) -> Draft<organization::ActiveModel> {
    let names = new_names(
        checks,
        &input.name,
        input.slug.as_deref(),
        input.siren.as_deref(),
    );
    let row = organization::ActiveModel {
        slug: Set(names.slug.clone().unwrap_or_default()),
        name: Set(names.name.clone().unwrap_or_default()),
        kind: Set(input.kind.into()),
        siren: Set(names.siren.clone()),
        website: Set(checks.url("input.website", input.website.as_deref())),
        description: Set(checks.optional(
            "input.description",
            input.description.as_deref(),
            MAX_TEXT,
        )),
        ..Default::default()
    };
    names.unique(Draft::new(row))
}

fn organization_change(
    input: UpdateOrganizationInput,
    current: &organization::Model,
    checks: &mut Checks,
) -> Draft<organization::ActiveModel> {
    let names = changed_names(
        checks,
        input.name.as_deref(),
        input.slug.as_deref(),
        &input.siren,
        &current.name,
    );
    let mut row = organization::ActiveModel::default();
    patch!(row {
        name: names.name.clone(),
        slug: names.slug.clone(),
        kind: input.kind.map(Into::into),
        siren: names.siren.clone(),
        website: checks.change_url("input.website", &input.website),
        description: checks.change_text("input.description", &input.description, MAX_TEXT),
    });
    names.unique(Draft::new(row))
}

writing! {
    OrganizationMutation for organization::Model as Organization;
    /// Adds an organization (admin keys only). With an `idempotencyKey`, a
    /// retried request returns the organization the first one created.
    "createOrganization"(CreateOrganizationInput) => organization_draft;
    /// Changes an organization (admin keys only): the fields given, at the
    /// version you read.
    "updateOrganization"(UpdateOrganizationInput) => organization_change;
}

archiving! {
    OrganizationArchiving for organization::Model as Organization;
    /// Archives an organization (admin keys only): it leaves lists (unless
    /// `includeArchived`) and search; its parts in deployments stay.
    "archiveOrganization";
    /// Brings an archived organization back into lists and search.
    "restoreOrganization";
}
