//! Retry-safe creates: a client's idempotency key, remembered with the
//! record its create made, so that a retry answers that record instead of
//! making another. It uses the entities, the database and the keys.

use chrono::Utc;
use entity::idempotency_key;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::{
    auth::Writer,
    error::{AppError, AppResult},
};

/// Longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 200;

/// A client's idempotency key for one create.
pub struct IdempotencyKey {
    key: String,
    operation: &'static str,
}

impl IdempotencyKey {
    pub fn new(key: Option<String>, operation: &'static str) -> AppResult<Option<Self>> {
        key.map(|key| {
            if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY {
                return Err(AppError::bad_argument(
                    "idempotencyKey",
                    format!("`idempotencyKey` has 1 to {MAX_IDEMPOTENCY_KEY} characters"),
                ));
            }
            Ok(IdempotencyKey { key, operation })
        })
        .transpose()
    }

    /// Notes, in the write's transaction `txn`, that this key made record
    /// `record_id`, so that a retry finds it. Fails when another request
    /// with the same key won the race.
    pub(super) async fn remember<C: ConnectionTrait>(
        &self,
        txn: &C,
        writer: &Writer,
        record_type: &str,
        record_id: i64,
    ) -> AppResult<()> {
        let Some(key_id) = writer.key_id else {
            return Ok(());
        };
        idempotency_key::ActiveModel {
            api_key_id: Set(key_id),
            key: Set(self.key.clone()),
            operation: Set(self.operation.to_owned()),
            record_type: Set(record_type.to_owned()),
            record_id: Set(record_id),
            created_at: Set(Utc::now()),
        }
        .insert(txn)
        .await?;
        Ok(())
    }

    /// The record an earlier request with this key created, if any.
    pub(super) async fn done_before<C: ConnectionTrait>(
        &self,
        db: &C,
        writer: &Writer,
    ) -> AppResult<Option<i64>> {
        let Some(key_id) = writer.key_id else {
            return Ok(None);
        };
        let found = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::ApiKeyId.eq(key_id))
            .filter(idempotency_key::Column::Key.eq(&self.key))
            .one(db)
            .await?;
        match found {
            None => Ok(None),
            Some(found) if found.operation == self.operation => Ok(Some(found.record_id)),
            Some(found) => Err(AppError::bad_argument(
                "idempotencyKey",
                format!(
                    "this idempotency key was already used for {}; use a new key for each create",
                    found.operation
                ),
            )),
        }
    }
}
