//! A GraphQL request as it arrives over HTTP: a JSON body (`POST`) or
//! query parameters (`GET`), read into [`Incoming`] with a clear word on
//! what is wrong otherwise. It uses nothing of the rest of the hub but its
//! error answer.

use std::collections::HashMap;

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use serde_json::Value as Json;

use super::http_error;

pub(super) fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads the request body, refusing one larger than `limit` bytes.
pub(super) async fn read_body(body: Body, limit: usize) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        let too_large =
            std::iter::successors(Some(&err as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .any(|e| e.is::<http_body_util::LengthLimitError>());
        if too_large {
            http_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!("the request body is larger than {limit} bytes"),
            )
        } else {
            http_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the request body could not be read",
            )
        }
    })
}

/// A GraphQL request as it came, before its persisted query is looked up.
#[derive(Debug, Default)]
pub struct Incoming {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<Json>,
    /// `extensions.persistedQuery.sha256Hash` (automatic persisted queries).
    pub persisted_hash: Option<String>,
    /// A safelisted operation's name or hash (`GET /graphql?id=…`).
    pub id: Option<String>,
}

/// Longest operation name a request may give, in bytes.
pub const MAX_OPERATION_NAME: usize = 256;

/// Turns a JSON body into a GraphQL request, with a clear word on what is
/// wrong with it otherwise.
pub fn parse_request(body: &[u8]) -> Result<Incoming, String> {
    let value: Json =
        serde_json::from_slice(body).map_err(|err| format!("the body is not valid JSON: {err}"))?;
    let Json::Object(fields) = value else {
        return Err("the body must be a JSON object with a `query`".into());
    };
    incoming(fields.into_iter().collect())
}

/// A request from its parts (a JSON body's fields, or a GET's parameters
/// with `variables` and `extensions` decoded).
fn incoming(mut fields: HashMap<String, Json>) -> Result<Incoming, String> {
    let mut request = Incoming::default();
    match fields.remove("query") {
        None | Some(Json::Null) => {}
        Some(Json::String(query)) => request.query = Some(query),
        Some(_) => return Err("`query` must be a string".into()),
    }
    match fields.remove("operationName") {
        None | Some(Json::Null) => {}
        Some(Json::String(name)) if name.len() > MAX_OPERATION_NAME => {
            return Err(format!(
                "`operationName` is longer than {MAX_OPERATION_NAME} bytes"
            ));
        }
        Some(Json::String(name)) => request.operation_name = Some(name),
        Some(_) => return Err("`operationName` must be a string".into()),
    }
    match fields.remove("variables") {
        None | Some(Json::Null) => {}
        Some(variables @ Json::Object(_)) => request.variables = Some(variables),
        Some(_) => return Err("`variables` must be an object".into()),
    }
    match fields.remove("extensions") {
        None | Some(Json::Null) => {}
        Some(Json::Object(extensions)) => {
            if let Some(persisted) = extensions.get("persistedQuery") {
                let hash = persisted
                    .get("sha256Hash")
                    .and_then(Json::as_str)
                    .filter(|_| persisted.get("version") == Some(&Json::from(1)));
                match hash {
                    Some(hash) => request.persisted_hash = Some(hash.to_ascii_lowercase()),
                    None => {
                        return Err(
                            "`extensions.persistedQuery` needs `version: 1` and a `sha256Hash`"
                                .into(),
                        );
                    }
                }
            }
        }
        Some(_) => return Err("`extensions` must be an object".into()),
    }
    if let Some(Json::String(id)) = fields.remove("id") {
        request.id = Some(id);
    }
    if request.query.is_none() && request.persisted_hash.is_none() && request.id.is_none() {
        return Err("the body has no `query`".into());
    }
    Ok(request)
}

/// Reads a GET request's parameters: `query` (or `id`, a safelisted
/// operation), `operationName`, and `variables` and `extensions` as JSON.
pub(super) fn get_request(params: HashMap<String, String>) -> Result<Incoming, String> {
    let mut fields = HashMap::new();
    for (name, value) in params {
        let value = match name.as_str() {
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|err| format!("`{name}` is not valid JSON: {err}"))?,
            _ => Json::String(value),
        };
        fields.insert(name, value);
    }
    incoming(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_field_by_field() {
        assert!(parse_request(br#"{"query":"{ __typename }"}"#).is_ok());
        assert!(
            parse_request(br#"{"query":"{ a }","variables":null,"operationName":null}"#).is_ok()
        );
        for (body, says) in [
            (&b"{"[..], "not valid JSON"),
            (b"[]", "JSON object"),
            (b"{}", "no `query`"),
            (br#"{"query":1}"#, "`query` must be a string"),
            (
                br#"{"query":"{a}","variables":[1]}"#,
                "`variables` must be an object",
            ),
            (br#"{"query":"{a}","operationName":3}"#, "`operationName`"),
        ] {
            let err = parse_request(body).unwrap_err();
            assert!(err.contains(says), "{err:?} should say {says:?}");
        }
    }
}
