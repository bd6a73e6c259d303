//! The mutations: each type's inputs, checked field by field into a
//! [`Draft`] that the store writes (see [`crate::store::write`] for the
//! rules every write follows, and the order of its checks). What is here
//! is GraphQL's alone: global IDs in inputs, `null` against left out, the
//! mutations' names.

/// The mutations that archive and restore records of one type.
macro_rules! archiving {
    (
        $mutation:ident for $model:ty as $node:ident;
        $(#[$archive_meta:meta])* $archive:literal;
        $(#[$restore_meta:meta])* $restore:literal;
    ) => {
        #[derive(Default)]
        pub struct $mutation;

        #[async_graphql::Object]
        impl $mutation {
            $(#[$archive_meta])*
            #[graphql(name = $archive)]
            async fn archive(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "The record to archive.")] id: async_graphql::ID,
                #[graphql(desc = "The version you read.")] expected_version: i32,
            ) -> async_graphql::Result<$node> {
                let model = $crate::graphql::write::set_archived::<$model>(ctx, &id, expected_version, true).await?;
                Ok($node(model))
            }

            $(#[$restore_meta])*
            #[graphql(name = $restore)]
            async fn restore(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "The record to restore.")] id: async_graphql::ID,
                #[graphql(desc = "The version you read.")] expected_version: i32,
            ) -> async_graphql::Result<$node> {
                let model = $crate::graphql::write::set_archived::<$model>(ctx, &id, expected_version, false).await?;
                Ok($node(model))
            }
        }
    };
}

/// The mutations that create and update records of one type: `$draft`
/// checks a create's input into a [`Draft`], `$change` an update's against
/// the record as it is (see [`create`] and [`update`]).
macro_rules! writing {
    (
        $mutation:ident for $model:ty as $node:ident;
        $(#[$create_meta:meta])* $create:literal($create_input:ty) => $draft:path;
        $(#[$update_meta:meta])* $update:literal($update_input:ty) => $change:path;
    ) => {
        #[derive(Default)]
        pub struct $mutation;

        #[async_graphql::Object]
        impl $mutation {
            $(#[$create_meta])*
            #[graphql(name = $create)]
            async fn create(
                &self,
                ctx: &async_graphql::Context<'_>,
                input: $create_input,
                #[graphql(
                    desc = "A key of your choosing, unique for each new record: a retry with the same key returns the first result."
                )]
                idempotency_key: Option<String>,
            ) -> async_graphql::Result<$node> {
                let source = input.source.clone();
                let draft = |checks: &mut $crate::graphql::write::Checks| {
                    use $crate::graphql::write::InputChecks as _;
                    let source = checks.maybe_id("input.source", source.as_ref(), "Source");
                    $draft(input, checks).from_source("input.source", source)
                };
                let model =
                    $crate::graphql::write::create::<$model>(ctx, idempotency_key, $create, draft)
                        .await?;
                Ok($node(model))
            }

            $(#[$update_meta])*
            #[graphql(name = $update)]
            async fn update(
                &self,
                ctx: &async_graphql::Context<'_>,
                input: $update_input,
            ) -> async_graphql::Result<$node> {
                let (id, version) = (input.id.clone(), input.expected_version);
                let change = |current: &$model, checks: &mut $crate::graphql::write::Checks| {
                    $change(input, current, checks)
                };
                let model =
                    $crate::graphql::write::update::<$model>(ctx, &id, version, change).await?;
                Ok($node(model))
            }
        }
    };
}

/// Sets the columns of `$row` whose new value is `Some`.
macro_rules! patch {
    ($row:ident { $($field:ident: $value:expr),* $(,)? }) => {
        $(if let Some(value) = $value {
            $row.$field = sea_orm::Set(value);
        })*
    };
}

pub mod charter;
pub mod concertation;
pub mod contribution;
pub mod deployment;
pub mod directory;
pub mod resource;
pub mod study;

use async_graphql::{Context, ID, MaybeUndefined};

use super::engine::{id, loader::writing};
pub use crate::store::{
    Checks, MAX_LINE, MAX_TEXT,
    draft::{Draft, Links},
    idempotency::IdempotencyKey,
    is_month, is_siren,
    write::{Store, Writable, existing, load, territory_scope},
};
use crate::{auth::Actor, error::AppResult};

/// The actor of a request: anonymous unless the request carried a key.
pub fn actor<'a>(ctx: &Context<'a>) -> &'a Actor {
    static ANONYMOUS: Actor = Actor::Anonymous;
    ctx.data_opt::<Actor>().unwrap_or(&ANONYMOUS)
}

/// The store, as the request's writer writes to it; UNAUTHENTICATED for
/// an anonymous request.
pub fn store<'a>(ctx: &Context<'a>) -> AppResult<Store<'a>> {
    Ok(Store {
        db: writing(ctx),
        writer: actor(ctx).writer()?,
        changes: ctx.data_opt(),
    })
}

/// Creates a record of `W` from a create mutation's input (see
/// [`Store::create`]).
pub async fn create<W: Writable>(
    ctx: &Context<'_>,
    idempotency_key: Option<String>,
    operation: &'static str,
    draft: impl FnOnce(&mut Checks) -> Draft<<W::Entity as sea_orm::EntityTrait>::ActiveModel>,
) -> AppResult<W> {
    let store = store(ctx)?;
    let idempotency = IdempotencyKey::new(idempotency_key, operation)?;
    store.create(idempotency, draft).await
}

/// Updates the record of `W` a global ID names (see [`Store::update`]).
pub async fn update<W: Writable>(
    ctx: &Context<'_>,
    global: &ID,
    expected_version: i32,
    draft: impl FnOnce(&W, &mut Checks) -> Draft<<W::Entity as sea_orm::EntityTrait>::ActiveModel>,
) -> AppResult<W> {
    let store = store(ctx)?;
    store
        .update(id::decode_as(global, W::TYPE)?, expected_version, draft)
        .await
}

/// Archives (or restores) the record of `W` a global ID names.
pub async fn set_archived<W: Writable>(
    ctx: &Context<'_>,
    global: &ID,
    expected_version: i32,
    archive: bool,
) -> AppResult<W> {
    let store = store(ctx)?;
    store
        .set_archived(id::decode_as(global, W::TYPE)?, expected_version, archive)
        .await
}

/// Checks of what only GraphQL inputs hold: global IDs, and `null` told
/// apart from a field left out.
pub trait InputChecks {
    /// A global ID that must name a record of `type_name`.
    fn id(&mut self, field: &str, global: &async_graphql::ID, type_name: &str) -> Option<i64>;
    /// A change to an optional text: `None` when left out, `Some(None)`
    /// when emptied.
    fn change_text(
        &mut self,
        field: &str,
        value: &MaybeUndefined<String>,
        max: usize,
    ) -> Option<Option<String>>;
    /// A change to an optional http(s) URL.
    fn change_url(&mut self, field: &str, value: &MaybeUndefined<String>)
    -> Option<Option<String>>;
    /// A change to an optional month.
    fn change_month(
        &mut self,
        field: &str,
        value: &MaybeUndefined<String>,
    ) -> Option<Option<String>>;
    /// An optional global ID of a record of `type_name`.
    fn maybe_id(
        &mut self,
        field: &str,
        global: Option<&async_graphql::ID>,
        type_name: &str,
    ) -> Option<i64>;
    /// A change to an optional reference.
    fn change_id(
        &mut self,
        field: &str,
        value: &MaybeUndefined<async_graphql::ID>,
        type_name: &str,
    ) -> Option<Option<i64>>;
    /// IDs of records of `type_name`, each once, under `field.N`.
    fn ids(&mut self, field: &str, ids: &[async_graphql::ID], type_name: &str) -> Vec<i64>;
}

impl InputChecks for Checks {
    /// A global ID that must name a record of `type_name`.
    fn id(&mut self, field: &str, global: &async_graphql::ID, type_name: &str) -> Option<i64> {
        match id::decode_as(global, type_name) {
            Ok(id) => Some(id),
            Err(_) => {
                self.add(field, format!("is not the ID of a {type_name}"));
                None
            }
        }
    }
    /// A change to an optional text: `None` when left out, `Some(None)`
    /// when emptied.
    fn change_text(
        &mut self,
        field: &str,
        value: &MaybeUndefined<String>,
        max: usize,
    ) -> Option<Option<String>> {
        change(value, |v| self.optional(field, Some(v), max))
    }
    /// A change to an optional http(s) URL.
    fn change_url(
        &mut self,
        field: &str,
        value: &MaybeUndefined<String>,
    ) -> Option<Option<String>> {
        change(value, |v| self.url(field, Some(v)))
    }
    /// A change to an optional month.
    fn change_month(
        &mut self,
        field: &str,
        value: &MaybeUndefined<String>,
    ) -> Option<Option<String>> {
        change(value, |v| self.month(field, Some(v)))
    }
    /// An optional global ID of a record of `type_name`.
    fn maybe_id(
        &mut self,
        field: &str,
        global: Option<&async_graphql::ID>,
        type_name: &str,
    ) -> Option<i64> {
        global.and_then(|global| self.id(field, global, type_name))
    }
    /// A change to an optional reference.
    fn change_id(
        &mut self,
        field: &str,
        value: &MaybeUndefined<async_graphql::ID>,
        type_name: &str,
    ) -> Option<Option<i64>> {
        match value {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(global) => Some(self.id(field, global, type_name)),
        }
    }
    /// IDs of records of `type_name`, each once, under `field.N`.
    fn ids(&mut self, field: &str, ids: &[async_graphql::ID], type_name: &str) -> Vec<i64> {
        let mut out = Vec::new();
        for (i, global) in ids.iter().enumerate() {
            if let Some(id) = self.id(&format!("{field}.{i}"), global, type_name)
                && !out.contains(&id)
            {
                out.push(id);
            }
        }
        out
    }
}

pub fn change<T>(
    value: &MaybeUndefined<String>,
    check: impl FnOnce(&str) -> Option<T>,
) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(check(v)),
    }
}

/// `Some(value)` for a value or `null` given, `None` when left out.
pub fn undefined_or<T: Into<U>, U>(value: MaybeUndefined<T>) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v.into())),
    }
}
