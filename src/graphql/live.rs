//! Live updates: `recordChanged` fires after a write commits, over
//! graphql-ws (`/graphql/ws`). The store announces the writes (see
//! [`crate::store::changes`]); this module lets clients follow them.

use async_graphql::{Context, ID, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::{engine::id, enums::AuditAction};
use crate::{
    error::AppError,
    store::changes::{Change, Changes},
};

/// A write that committed: which record, what was done, at which version.
pub struct RecordChange(Change);

/// A write that committed: which record, what was done, at which version.
#[Object]
impl RecordChange {
    /// The record's type (`Deployment`, `Concertation`…).
    async fn record_type(&self) -> &str {
        self.0.record_type
    }

    /// The record's global ID: read it with `node(id:)`.
    async fn record_id(&self) -> ID {
        id::encode(self.0.record_type, self.0.id)
    }

    /// What the write did.
    async fn action(&self) -> AuditAction {
        self.0.action.into()
    }

    /// The record's version after the write.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The territory the record belongs to, when it belongs to one.
    async fn territory_id(&self) -> Option<ID> {
        self.0.territory.map(|t| id::encode("Territory", t))
    }

    /// When the write committed.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// Every subscription of the API.
#[derive(Default)]
pub struct Subscription;

/// Every subscription of the API.
#[Subscription]
impl Subscription {
    /// Fires after each write (create, update, archive, restore) commits,
    /// for the record types asked (all when left out), and only for the
    /// records of a territory when `territory` is given.
    async fn record_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Record types to follow (`Deployment`, `Concertation`…); all when left out."
        )]
        types: Option<Vec<String>>,
        #[graphql(desc = "Only the records of this territory (ID of a Territory).")]
        territory: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = RecordChange> + use<>> {
        if let Some(unknown) = types
            .iter()
            .flatten()
            .find(|t| !entity::records::written().any(|written| written == t.as_str()))
        {
            return Err(AppError::bad_argument(
                "types",
                format!(
                    "{unknown:?} is not a record type; the types are {}",
                    entity::records::written().collect::<Vec<_>>().join(", ")
                ),
            )
            .into());
        }
        let territory = territory
            .map(|t| id::decode_as(&t, "Territory"))
            .transpose()?;
        let receiver = ctx.data_unchecked::<Changes>().subscribe();
        let stream =
            tokio_stream::wrappers::BroadcastStream::new(receiver).filter_map(move |change| {
                let wanted = change.ok().filter(|change| {
                    types
                        .as_ref()
                        .is_none_or(|types| types.iter().any(|t| t == change.record_type))
                        && territory.is_none_or(|t| change.territory == Some(t))
                });
                std::future::ready(wanted.map(RecordChange))
            });
        Ok(stream)
    }
}
