//! The embeddable card of a territory: `GET /embed/territory/{slug}` (plain
//! HTML, CSS and JS, for an `<iframe>`) and `GET /embed.js` (for partners
//! who add `<script src="…/embed.js" data-territory="…">`). The card reads
//! the safelisted `TerritoryWidget` operation over GET, so browsers and
//! caches keep its answer.

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

const CARD: &str = include_str!("embed/territory.html");
const SCRIPT: &str = include_str!("embed/embed.js");

/// How long browsers and caches may keep the card and the script.
const CACHE: &str = "public, max-age=300";

/// The card may be framed by any site; it runs its own inline script and
/// style, and talks to this hub only.
const CARD_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; frame-ancestors *";

fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The card of one territory.
pub async fn territory(Path(slug): Path<String>) -> Response {
    if !is_slug(&slug) {
        return (
            StatusCode::NOT_FOUND,
            "no territory has this name: a territory's slug is lowercase letters, digits and dashes",
        )
            .into_response();
    }
    // The slug is only letters, digits and dashes: safe inside an attribute.
    let mut response = asset(CARD.replace("__SLUG__", &slug), "text/html; charset=utf-8");
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CARD_POLICY),
    );
    response
}

/// The script that puts the card in a partner's page.
pub async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

/// A file of the widget, with its type, that caches may keep.
fn asset(body: impl IntoResponse, content_type: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_and_its_script_stay_small() {
        assert!(CARD.len() + SCRIPT.len() < 30 * 1024);
    }

    #[test]
    fn only_slugs_reach_the_page() {
        assert!(is_slug("nantes-metropole"));
        assert!(!is_slug("a\"><script>"));
        assert!(!is_slug(""));
    }
}
