//! Who is asking: API keys and what each may write.
//!
//! A key is shown once, when it is created; the database keeps only its
//! SHA-256. Requests send it as `Authorization: Bearer KEY`. No header
//! means an anonymous reader; a header with a wrong or revoked key is
//! refused, never treated as anonymous.

use chrono::Utc;
use entity::{api_key, api_key_territory, enums::KeyRole, territory};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// What every key starts with, so that a leaked one is easy to spot.
const KEY_PREFIX: &str = "vigie_";

/// How many characters of a key listings show.
const SHOWN_PREFIX_LEN: usize = KEY_PREFIX.len() + 8;

/// The author of a request.
#[derive(Debug, Clone, Default)]
pub enum Actor {
    /// No key: may read, never write.
    #[default]
    Anonymous,
    /// A valid key.
    Writer(Writer),
}

/// A valid API key, and what it may write.
#[derive(Debug, Clone)]
pub struct Writer {
    /// The API key it wrote with; none for the hub's own writers (the
    /// reference load, `vigie import`).
    pub key_id: Option<i64>,
    /// The label the key was created with; audit events name it.
    pub label: String,
    pub role: KeyRole,
    /// For an editor, the territories it writes for.
    pub territories: Vec<i64>,
}

impl Writer {
    /// One of the hub's own writers, which writes everything and is named
    /// `label` in the audit trail.
    pub fn system(label: impl Into<String>) -> Self {
        Writer {
            key_id: None,
            label: label.into(),
            role: KeyRole::Admin,
            territories: Vec::new(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == KeyRole::Admin
    }

    /// Whether the key may write what belongs to this territory.
    pub fn covers(&self, territory_id: i64) -> bool {
        self.is_admin() || self.territories.contains(&territory_id)
    }

    /// Whether the key may write what belongs to any of these territories.
    pub fn covers_any(&self, territories: &[i64]) -> bool {
        self.is_admin() || territories.iter().any(|t| self.territories.contains(t))
    }
}

impl Actor {
    /// The writer behind a mutation; anonymous requests may not write.
    pub fn writer(&self) -> AppResult<&Writer> {
        match self {
            Actor::Writer(writer) => Ok(writer),
            Actor::Anonymous => Err(AppError::Unauthenticated(
                "writing needs an API key: send `Authorization: Bearer KEY`".into(),
            )),
        }
    }

    /// The writer behind a mutation only admins may make.
    pub fn admin(&self) -> AppResult<&Writer> {
        let writer = self.writer()?;
        if writer.is_admin() {
            Ok(writer)
        } else {
            Err(AppError::Forbidden("only an admin key may do this".into()))
        }
    }
}

/// SHA-256 of a key, in hexadecimal.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new random key: the prefix and 256 random bits.
fn new_key() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("no randomness: {err}"))?;
    Ok(format!("{KEY_PREFIX}{}", hex::encode(bytes)))
}

/// A key as listings show it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub key: api_key::Model,
    /// Slugs of the territories an editor's key covers.
    pub territories: Vec<String>,
}

/// Creates a key; returns it (the only time it is shown) and its record.
/// An editor's key names at least one territory, by slug; an admin's none.
pub async fn create_key(
    db: &DatabaseConnection,
    role: KeyRole,
    territory_slugs: &[String],
    label: &str,
) -> anyhow::Result<(String, KeyInfo)> {
    let label = label.trim();
    anyhow::ensure!(!label.is_empty(), "a key needs a label naming who holds it");
    match role {
        KeyRole::Editor => anyhow::ensure!(
            !territory_slugs.is_empty(),
            "an editor's key needs at least one --territory"
        ),
        KeyRole::Admin => anyhow::ensure!(
            territory_slugs.is_empty(),
            "an admin's key writes everywhere: give no --territory"
        ),
    }
    let mut territories = Vec::new();
    for slug in territory_slugs {
        let found = territory::Entity::find()
            .filter(territory::Column::Slug.eq(slug))
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no territory has the slug {slug:?}"))?;
        territories.push(found);
    }
    let key = new_key()?;
    let txn = db.begin().await?;
    let model = api_key::ActiveModel {
        label: Set(label.to_owned()),
        role: Set(role),
        prefix: Set(key[..SHOWN_PREFIX_LEN].to_owned()),
        hash: Set(hash_key(&key)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for territory in &territories {
        api_key_territory::ActiveModel {
            api_key_id: Set(model.id),
            territory_id: Set(territory.id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    let info = KeyInfo {
        key: model,
        territories: territories.into_iter().map(|t| t.slug).collect(),
    };
    Ok((key, info))
}

/// Every key, oldest first, revoked ones included.
pub async fn list_keys<C: ConnectionTrait>(db: &C) -> anyhow::Result<Vec<KeyInfo>> {
    let keys = api_key::Entity::find()
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await?;
    let links = api_key_territory::Entity::find().all(db).await?;
    let slugs: std::collections::HashMap<i64, String> = territory::Entity::find()
        .filter(
            territory::Column::Id.is_in(links.iter().map(|l| l.territory_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.slug))
        .collect();
    Ok(keys
        .into_iter()
        .map(|key| {
            let territories = links
                .iter()
                .filter(|l| l.api_key_id == key.id)
                .filter_map(|l| slugs.get(&l.territory_id).cloned())
                .collect();
            KeyInfo { key, territories }
        })
        .collect())
}

/// Revokes the key with this id or shown prefix; from then on it is refused.
pub async fn revoke_key<C: ConnectionTrait>(db: &C, which: &str) -> anyhow::Result<api_key::Model> {
    let keys = list_keys(db).await?;
    let matching: Vec<_> = keys
        .into_iter()
        .filter(|k| k.key.id.to_string() == which || k.key.prefix == which)
        .collect();
    let [info] = matching.as_slice() else {
        anyhow::bail!("no single key has the id or prefix {which:?}; see `vigie keys list`");
    };
    anyhow::ensure!(
        info.key.revoked_at.is_none(),
        "key {} is already revoked",
        info.key.id
    );
    let mut model: api_key::ActiveModel = info.key.clone().into();
    model.revoked_at = Set(Some(Utc::now()));
    Ok(model.update(db).await?)
}

/// Who sent a request, from its `Authorization` header.
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    authorization: Option<&str>,
) -> AppResult<Actor> {
    let Some(header) = authorization else {
        return Ok(Actor::Anonymous);
    };
    let refused = || AppError::Unauthenticated("the API key is not valid or was revoked".into());
    let key = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .ok_or_else(|| {
            AppError::Unauthenticated("send the API key as `Authorization: Bearer KEY`".into())
        })?;
    let found = api_key::Entity::find()
        .filter(api_key::Column::Hash.eq(hash_key(key)))
        .one(db)
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or_else(refused)?;
    let territories = api_key_territory::Entity::find()
        .filter(api_key_territory::Column::ApiKeyId.eq(found.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.territory_id)
        .collect();
    Ok(Actor::Writer(Writer {
        key_id: Some(found.id),
        label: found.label,
        role: found.role,
        territories,
    }))
}
