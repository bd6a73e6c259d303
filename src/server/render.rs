//! How an answer is sent: the media type a client accepts (JSON, GraphQL
//! response JSON, or CSV of the first list), the HTTP status of a GraphQL
//! answer, and HTTP caching of GET answers. It uses the API's results and
//! the hub's error codes.

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{csv, http_error, internal_error, persisted, retry_soon};
use crate::{error::Code, graphql::Api};

/// The response media types a client may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Media {
    Json,
    GraphqlResponseJson,
    /// The query's first list, as a table.
    Csv,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json; charset=utf-8",
            Media::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Media::Csv => "text/csv; charset=utf-8; header=present",
        }
    }
}

/// Picks the response media type from an `Accept` header: the acceptable
/// type with the highest quality, the first listed on a tie; `application/json`
/// when the header is absent or accepts anything. `None`: nothing we can send.
pub fn negotiate(accept: Option<&str>) -> Option<Media> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Some(Media::Json);
    };
    let mut best: Option<(f32, Media)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = match parts
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "application/graphql-response+json" => Media::GraphqlResponseJson,
            "application/json" | "application/*" | "*/*" => Media::Json,
            "text/csv" => Media::Csv,
            _ => continue,
        };
        let quality = parts
            .filter_map(|param| param.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, media));
        }
    }
    best.map(|(_, media)| media)
}

pub(super) fn accepted(headers: &HeaderMap) -> Option<Media> {
    negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))
}

pub(super) fn not_acceptable() -> Response {
    http_error(
        StatusCode::NOT_ACCEPTABLE,
        "NOT_ACCEPTABLE",
        "this endpoint answers `application/graphql-response+json`, `application/json` or `text/csv`",
    )
}

/// Marks an answer that carries errors, so that caching need not read its
/// body again to know it.
#[derive(Clone, Copy)]
pub(super) struct HasErrors;

/// A request run, and answered.
pub(super) struct Ran {
    pub(super) response: Response,
    /// The first error's code, if any (for the metrics and the log).
    pub(super) outcome: Option<String>,
    /// Whether the document parsed and validated ([`runs_here`]).
    pub(super) runs: bool,
    /// Whether it ran a query (not a mutation or a subscription).
    pub(super) query: bool,
    /// What it read (see [`crate::tags`]).
    pub(super) reads: Vec<crate::tags::Tag>,
    /// Whether the database failed it (DB_UNAVAILABLE or INTERNAL).
    pub(super) failed_by_database: bool,
}

/// Whether the database failed a request: it was unavailable, or an
/// internal error (a statement the database cancelled) stopped it.
fn failed_by_database(errors: &[async_graphql::ServerError]) -> bool {
    errors
        .iter()
        .filter_map(code_of)
        .any(|code| code == Code::DbUnavailable.as_str() || code == Code::Internal.as_str())
}

/// Runs a request and answers it as JSON.
pub(super) async fn json_response(
    api: &Api,
    request: async_graphql::Request,
    media: Media,
    deadline: Option<tokio::time::Instant>,
    reads_from: Option<&sea_orm::DatabaseConnection>,
) -> Ran {
    let executed = api.execute_until(request, deadline, reads_from).await;
    let response = executed.response;
    Ran {
        runs: runs_here(&response.errors),
        failed_by_database: failed_by_database(&response.errors),
        outcome: response.errors.first().and_then(code_of).map(str::to_owned),
        query: executed.query,
        reads: executed.reads,
        response: graphql_response(response, media),
    }
}

/// Whether a document the hub answered with these errors parsed, validated
/// and kept within the limits: only such a document is worth keeping as a
/// persisted query.
pub(super) fn runs_here(errors: &[async_graphql::ServerError]) -> bool {
    let refused = [
        Code::ParseFailed,
        Code::ValidationFailed,
        Code::QueryTooComplex,
    ];
    !errors
        .iter()
        .filter_map(code_of)
        .any(|code| refused.iter().any(|c| c.as_str() == code))
}

/// The `extensions.code` of an error, when it is a string (the hub's
/// codes all are).
pub(super) fn code_of(error: &async_graphql::ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code),
        _ => None,
    }
}

/// Adds HTTP caching to a successful GET answer: `Cache-Control`, a strong
/// `ETag` of its body, and 304 (no body) when the client has it already.
pub(super) async fn cacheable(
    mut response: Response,
    headers: &HeaderMap,
    max_age: u32,
) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    response.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization"),
    );
    if response.extensions().get::<HasErrors>().is_some() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return internal_error();
    };
    let visibility = if headers.contains_key(header::AUTHORIZATION) {
        "private"
    } else {
        "public"
    };
    let etag = format!("\"{}\"", &persisted::sha256_hex_bytes(&bytes)[..32]);
    let out = &mut parts.headers;
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("{visibility}, max-age={max_age}"))
            .expect("an ASCII header"),
    );
    out.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("an ASCII header"),
    );
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Answers a request as CSV: its first list, flattened. A request that
/// fails answers with its errors as JSON; one without a list, 406.
pub(super) async fn csv_response(
    api: &Api,
    request: async_graphql::Request,
    deadline: Option<tokio::time::Instant>,
    reads_from: Option<&sea_orm::DatabaseConnection>,
) -> Ran {
    let executed = api.execute_until(request, deadline, reads_from).await;
    let response = executed.response;
    if !response.errors.is_empty() {
        let runs = runs_here(&response.errors);
        let failed = failed_by_database(&response.errors);
        let mut answer = graphql_response(response, Media::Json);
        // No CSV for a request with errors; the hub's own failures keep
        // their status.
        if answer.status() == StatusCode::OK {
            *answer.status_mut() = StatusCode::BAD_REQUEST;
        }
        return Ran {
            response: answer,
            outcome: Some("csv".into()),
            runs,
            query: executed.query,
            reads: executed.reads,
            failed_by_database: failed,
        };
    }
    Ran {
        response: csv_answer(&response, executed.selection),
        outcome: None,
        runs: true,
        query: executed.query,
        reads: executed.reads,
        failed_by_database: false,
    }
}

/// The CSV of an answer that has no errors; 406 when it has no list.
fn csv_answer(
    response: &async_graphql::Response,
    selection: Option<crate::graphql::Selection>,
) -> Response {
    let Some(csv) = selection.and_then(|selection| csv::render(&selection, &response.data)) else {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "a CSV answer needs a query with a list (a field with `nodes` or `edges`); ask for JSON otherwise",
        );
    };
    let mut answer = (StatusCode::OK, csv.body).into_response();
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(Media::Csv.content_type()),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"vigie.csv\""),
    );
    if let Some(cursor) = csv
        .next_cursor
        .and_then(|c: String| HeaderValue::from_str(&c).ok())
    {
        headers.insert(NEXT_CURSOR, cursor);
    }
    answer
}

/// The header carrying, with a CSV page, the cursor of the next page.
pub const NEXT_CURSOR: &str = "vigie-next-cursor";

/// The body of a GraphQL answer: `data` is left out of a request that
/// failed before it ran.
#[derive(serde::Serialize)]
struct Answer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

/// Shapes an executed request's answer: a request that failed before
/// execution (it did not parse or validate) has no `data`, and is a 400 for
/// clients that understand `application/graphql-response+json`.
pub(super) fn graphql_response(response: async_graphql::Response, media: Media) -> Response {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let body = Answer {
        data: (!request_error).then_some(&response.data),
        errors: &response.errors,
        extensions: &response.extensions,
    };
    let bytes = match serde_json::to_vec(&body) {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(error = %err, "cannot serialize a GraphQL response");
            return internal_error();
        }
    };
    let all_coded = |wanted: Code| {
        !response.errors.is_empty()
            && response
                .errors
                .iter()
                .all(|e| code_of(e) == Some(wanted.as_str()))
    };
    let unavailable = all_coded(Code::DbUnavailable);
    let status = match (request_error, media) {
        _ if unavailable || all_coded(Code::Timeout) => StatusCode::SERVICE_UNAVAILABLE,
        (true, Media::GraphqlResponseJson) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let mut http = (status, bytes).into_response();
    if !response.errors.is_empty() {
        http.extensions_mut().insert(HasErrors);
    }
    if unavailable {
        retry_soon(&mut http);
    }
    http.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    http
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_pick_the_best_type() {
        assert_eq!(negotiate(None), Some(Media::Json));
        assert_eq!(negotiate(Some("*/*")), Some(Media::Json));
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(Media::Json)
        );
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("text/csv")), Some(Media::Csv));
        assert_eq!(
            negotiate(Some("text/csv;q=0.5, application/json")),
            Some(Media::Json)
        );
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }
}
