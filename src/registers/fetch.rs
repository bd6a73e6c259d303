//! A register fetched from its address over HTTP(S), conditionally: the
//! request carries the `ETag` and `Last-Modified` of the copy last imported
//! from that address (`register_fetch`), so an unchanged register answers
//! 304 and costs one request. The answer is bounded in size and time.

use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::Utc;
use entity::register_fetch;
use reqwest::{StatusCode, header};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};

use super::{Format, Input, MAX_BYTES, source::too_large};

/// The longest a fetch may take, answer included.
const TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Whether `text` is an address to fetch rather than a file.
pub fn is_address(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// What the server said of a copy: its validators.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Validators {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Fetches the register of `format` from `url`: `None` when the server
/// says the copy last imported from there is current.
pub async fn fetch<C: ConnectionTrait>(
    db: &C,
    format: Format,
    url: &str,
) -> anyhow::Result<Option<Input>> {
    let last = register_fetch::Entity::find_by_id(format.register().to_owned())
        .one(db)
        .await?
        .filter(|row| row.url == url);
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("vigie/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut request = client.get(url);
    if let Some(last) = &last {
        if let Some(etag) = &last.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &last.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
    }
    let mut response = request
        .send()
        .await
        .with_context(|| format!("cannot fetch {url}"))?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED && last.is_some() {
        return Ok(None);
    }
    if !status.is_success() {
        bail!("{url} answered {status}; nothing imported");
    }
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BYTES)
    {
        return Err(too_large(url));
    }
    let header = |name: header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let validators = Validators {
        url: url.to_owned(),
        etag: header(header::ETAG),
        last_modified: header(header::LAST_MODIFIED),
    };
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .with_context(|| format!("cannot read the answer of {url}"))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > MAX_BYTES {
            return Err(too_large(url));
        }
    }
    let mut input = Input::bytes(url.to_owned(), bytes);
    input.retrieved_on = Some(Utc::now().date_naive());
    input.validators = Some(validators);
    Ok(Some(input))
}

/// Keeps what the server said of the copy just imported.
pub async fn remember<C: ConnectionTrait>(
    db: &C,
    register: &str,
    validators: &Validators,
) -> anyhow::Result<()> {
    let row = register_fetch::ActiveModel {
        register: Set(register.to_owned()),
        url: Set(validators.url.clone()),
        etag: Set(validators.etag.clone()),
        last_modified: Set(validators.last_modified.clone()),
        fetched_at: Set(Utc::now()),
    };
    register_fetch::Entity::insert(row)
        .on_conflict(
            OnConflict::column(register_fetch::Column::Register)
                .update_columns([
                    register_fetch::Column::Url,
                    register_fetch::Column::Etag,
                    register_fetch::Column::LastModified,
                    register_fetch::Column::FetchedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}
