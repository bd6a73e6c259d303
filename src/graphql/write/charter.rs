//! Writing charter signatures. An editor's key writes the signatures of
//! its territories; signatures by organizations are written by admins.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::charter_signature;
use sea_orm::{ConnectionTrait, Set};

use super::{Checks, Draft, InputChecks, MAX_LINE, Writable, territory_scope, undefined_or};
use crate::{
    auth::Writer,
    error::AppResult,
    graphql::{CharterSignature, engine::scalars::Date},
};

#[async_trait::async_trait]
impl Writable for charter_signature::Model {
    async fn check_scope<C: ConnectionTrait>(&self, _db: &C, writer: &Writer) -> AppResult<()> {
        let territories: Vec<i64> = self.territory_id.into_iter().collect();
        territory_scope(writer, &territories, "charter signatures")
    }
}

/// A new signature of a charter, by a territory or an organization.
#[derive(InputObject)]
pub struct CreateCharterSignatureInput {
    /// Where its facts come from (ID of a Source). Left out: a source
    /// saying who contributed it (« contributed by » the editor of your
    /// territories, or by an admin), made on your first such write.
    pub source: Option<ID>,
    /// The charter signed (ID of a Charter).
    pub charter: ID,
    /// The territory that signed (ID of a Territory); give this, an
    /// `organization`, or both.
    pub territory: Option<ID>,
    /// The organization that signed (ID of an Organization; admin keys only
    /// when no territory is given).
    pub organization: Option<ID>,
    /// Who signed, by name or office.
    pub signatory: Option<String>,
    /// When.
    pub signed_on: Option<Date>,
}

/// Changes to a charter signature: only the fields given change; `null`
/// empties an optional field.
#[derive(InputObject)]
pub struct UpdateCharterSignatureInput {
    /// The signature to change.
    pub id: ID,
    /// The version you read; if it changed since, the update is refused
    /// with CONFLICT.
    pub expected_version: i32,
    /// The territory that signed (it must be yours too).
    pub territory: MaybeUndefined<ID>,
    /// The organization that signed.
    pub organization: MaybeUndefined<ID>,
    /// Who signed.
    pub signatory: MaybeUndefined<String>,
    /// When.
    pub signed_on: MaybeUndefined<Date>,
}

/// A signature names who signed: a territory, an organization or both.
fn no_signer(checks: &mut Checks) {
    checks.add(
        "input.territory",
        "a signature names the territory or the organization that signed",
    );
}

/// Whether a change leaves a reference empty.
fn left_empty(given: &MaybeUndefined<ID>, now: Option<i64>) -> bool {
    match given {
        MaybeUndefined::Null => true,
        MaybeUndefined::Undefined => now.is_none(),
        MaybeUndefined::Value(_) => false,
    }
}

fn signature_draft(
    input: CreateCharterSignatureInput,
    checks: &mut Checks,
) -> Draft<charter_signature::ActiveModel> {
    let charter = checks.id("input.charter", &input.charter, "Charter");
    let territory = checks.maybe_id("input.territory", input.territory.as_ref(), "Territory");
    let organization = checks.maybe_id(
        "input.organization",
        input.organization.as_ref(),
        "Organization",
    );
    if input.territory.is_none() && input.organization.is_none() {
        no_signer(checks);
    }
    let row = charter_signature::ActiveModel {
        charter_id: Set(charter.unwrap_or_default()),
        territory_id: Set(territory),
        organization_id: Set(organization),
        signatory: Set(checks.optional("input.signatory", input.signatory.as_deref(), MAX_LINE)),
        signed_on: Set(input.signed_on.map(Into::into)),
        ..Default::default()
    };
    Draft::new(row)
        .names("input.charter", "charter", charter)
        .names("input.territory", "territory", territory)
        .names("input.organization", "organization", organization)
}

fn signature_change(
    input: UpdateCharterSignatureInput,
    current: &charter_signature::Model,
    checks: &mut Checks,
) -> Draft<charter_signature::ActiveModel> {
    let territory = checks.change_id("input.territory", &input.territory, "Territory");
    let organization = checks.change_id("input.organization", &input.organization, "Organization");
    if left_empty(&input.territory, current.territory_id)
        && left_empty(&input.organization, current.organization_id)
    {
        no_signer(checks);
    }
    let mut row = charter_signature::ActiveModel::default();
    patch!(row {
        territory_id: territory,
        organization_id: organization,
        signatory: checks.change_text("input.signatory", &input.signatory, MAX_LINE),
        signed_on: undefined_or::<Date, _>(input.signed_on),
    });
    Draft::new(row)
        .names("input.territory", "territory", territory.flatten())
        .names("input.organization", "organization", organization.flatten())
}

writing! {
    CharterSignatureMutation for charter_signature::Model as CharterSignature;
    /// Records that a territory (or an organization) signed a charter. An
    /// editor's key records its territories' signatures. With an
    /// `idempotencyKey`, a retried request returns the first result.
    "createCharterSignature"(CreateCharterSignatureInput) => signature_draft;
    /// Changes a charter signature: the fields given, at the version you
    /// read.
    "updateCharterSignature"(UpdateCharterSignatureInput) => signature_change;
}

archiving! {
    CharterSignatureArchiving for charter_signature::Model as CharterSignature;
    /// Archives a charter signature: it leaves lists (unless
    /// `includeArchived`) and stays whole, with its history.
    "archiveCharterSignature";
    /// Brings an archived charter signature back into lists.
    "restoreCharterSignature";
}
