//! GraphiQL on `GET /`, served whole by the hub: the page, and under
//! `/graphiql/` the browser builds of graphiql, react and react-dom (pinned
//! and taken unchanged from their npm packages by `graphiql/vendor.sh`,
//! stored gzip-compressed) with their licences. The page's
//! Content-Security-Policy names no origin but the hub's, so GraphiQL works
//! offline and behind a strict proxy, and runs no third party's code.

use std::{io::Read as _, sync::LazyLock};

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use flate2::read::GzDecoder;

use super::{HEADLINE_QUERY, HEADLINE_SLUG};

const PAGE: &str = include_str!("graphiql/index.html");

/// The page may run scripts and styles of the hub only; GraphiQL's fonts
/// and icons are `data:` URLs of its stylesheet, and the styles React sets
/// are inline.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// How long browsers and caches may keep an asset.
const ASSET_CACHE: &str = "public, max-age=86400";

/// One file under `/graphiql/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    /// Whether `bytes` are gzip-compressed.
    gzipped: bool,
}

/// The file `$name` of `graphiql/` (stored `$name.gz` when `gz`), served
/// as `$content_type`.
macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("graphiql/", $name)),
            gzipped: false,
        }
    };
    ($name:literal, $content_type:expr, gz) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("graphiql/", $name, ".gz")),
            gzipped: true,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

const ASSETS: &[Asset] = &[
    asset!("graphiql.min.js", JS, gz),
    asset!("graphiql.min.css", CSS, gz),
    asset!("react.production.min.js", JS, gz),
    asset!("react-dom.production.min.js", JS, gz),
    asset!("start.js", JS),
    asset!("vigie.css", CSS),
    asset!("LICENSE.graphiql", TEXT),
    asset!("LICENSE.react", TEXT),
];

/// The page's settings, as JSON safe inside its `<script>` block.
fn settings() -> String {
    let settings = serde_json::json!({
        "endpoint": "/graphql",
        "query": HEADLINE_QUERY,
        "variables": { "slug": HEADLINE_SLUG },
    });
    serde_json::to_string(&settings)
        .expect("settings serialize")
        .replace('<', "\\u003c")
}

/// The page, its settings in place: made once.
static FILLED_PAGE: LazyLock<String> = LazyLock::new(|| PAGE.replace("__SETTINGS__", &settings()));

/// `GET /`: GraphiQL, open on the headline query.
pub async fn page() -> Response {
    let mut response = (StatusCode::OK, FILLED_PAGE.as_str()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Whether a request's `Accept-Encoding` takes gzip.
fn takes_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// `GET /graphiql/{name}`: one of GraphiQL's files, gzip-compressed to
/// clients that take it.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return (StatusCode::NOT_FOUND, "GraphiQL has no such file").into_response();
    };
    let compressed = asset.gzipped && takes_gzip(&headers);
    let body = if asset.gzipped && !compressed {
        let mut plain = Vec::new();
        if let Err(err) = GzDecoder::new(asset.bytes).read_to_end(&mut plain) {
            tracing::error!(asset = asset.name, error = %err, "a GraphiQL file does not decompress");
            return super::internal_error();
        }
        plain
    } else {
        asset.bytes.to_vec()
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(ASSET_CACHE));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if asset.gzipped {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if compressed {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compressed_file_decompresses() {
        for asset in ASSETS.iter().filter(|asset| asset.gzipped) {
            let mut plain = Vec::new();
            GzDecoder::new(asset.bytes).read_to_end(&mut plain).unwrap();
            assert!(plain.len() > asset.bytes.len(), "{}", asset.name);
        }
    }

    #[test]
    fn gzip_is_sent_to_those_who_take_it() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            takes_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, gzip;q=0.8"));
        assert!(with("*"));
        assert!(!with("br"));
        assert!(!with("gzip;q=0"));
        assert!(!with("gzip;q=0.000"));
        assert!(!takes_gzip(&HeaderMap::new()));
    }

    #[test]
    fn the_settings_cannot_close_their_script_block() {
        assert!(!settings().contains('<'));
        assert!(PAGE.contains("__SETTINGS__"));
        assert!(!PAGE.contains("https://"), "the page names another origin");
    }
}
