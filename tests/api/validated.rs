//! Documents validated once: the same document, operation and variables
//! asked again skip the validation rules they passed, and still meet the
//! cost limit; other variables are validated again, so that a value of the
//! wrong type, or a page past the cost limit, is refused as it would be
//! the first time.

use serde_json::{Value as Json, json};
use vigie::graphql::Limits;

use crate::{
    fixtures::seed_everything,
    helpers::{Backend, TestApp, codes},
};

const QUERY: &str = "query Uses($slug: String!, $first: Int) {
    territory(slug: $slug) { name deployments(first: $first) { nodes { title } } }
}";

async fn ask(app: &TestApp, variables: Json) -> Json {
    let request = async_graphql::Request::new(QUERY)
        .variables(async_graphql::Variables::from_json(variables));
    serde_json::to_value(app.api.execute(request).await).unwrap()
}

fn error_codes(answer: &Json) -> Vec<String> {
    codes(answer["errors"].as_array().map_or(&[][..], Vec::as_slice))
}

on_both_backends! {
    async fn a_document_is_validated_once_for_its_variables_and_still_meets_the_limits(backend: Backend) {
        let limits = Limits { max_complexity: 100, ..Limits::default() };
        let app = TestApp::with_limits(backend, limits).await;
        seed_everything(&app.db).await;
        let town = json!({ "slug": "ville-de-test", "first": 5 });

        let first = ask(&app, town.clone()).await;
        assert!(first.get("errors").is_none(), "{first}");
        assert_eq!(app.api.validations(), Some((0, 1)));
        // Asked again (another variable the document does not declare
        // changes nothing): remembered, the same answer.
        let again = ask(&app, json!({ "slug": "ville-de-test", "first": 5, "unused": 1 })).await;
        assert_eq!(again, first);
        assert_eq!(app.api.validations(), Some((1, 1)));

        // Other variables are validated again: the wrong type, or a page
        // past the cost limit, is refused as the first time.
        let wrong = ask(&app, json!({ "slug": "ville-de-test", "first": "cinq" })).await;
        assert_eq!(wrong["data"], Json::Null, "refused before it runs: {wrong}");
        assert_eq!(error_codes(&wrong), ["BAD_USER_INPUT", "BAD_USER_INPUT"], "{wrong}");
        let costly = ask(&app, json!({ "slug": "ville-de-test", "first": 100 })).await;
        assert_eq!(error_codes(&costly), ["QUERY_TOO_COMPLEX"], "{costly}");
        // Refused, they are not remembered.
        ask(&app, json!({ "slug": "ville-de-test", "first": 100 })).await;
        assert_eq!(app.api.validations(), Some((1, 4)));
    }
}

#[tokio::test]
async fn with_none_remembered_every_request_is_validated() {
    let limits = Limits {
        validated_documents: 0,
        ..Limits::default()
    };
    let app = TestApp::with_limits(Backend::Sqlite, limits).await;
    seed_everything(&app.db).await;
    let town = json!({ "slug": "ville-de-test", "first": 5 });
    assert_eq!(ask(&app, town.clone()).await, ask(&app, town).await);
    assert_eq!(app.api.validations(), None);
}

#[tokio::test]
async fn the_metrics_count_requests_remembered_and_validated() {
    let app = TestApp::new(Backend::Sqlite).await;
    seed_everything(&app.db).await;
    // No answer kept: each request runs.
    let settings = vigie::server::HttpSettings {
        answer_cache_bytes: 0,
        ..crate::helpers::http_settings()
    };
    let router = vigie::server::app(vigie::server::AppState::new(app.api.clone(), settings));
    let town = json!({ "slug": "ville-de-test", "first": 5 });
    for key in [None, Some("wrong key"), None] {
        // The wrong key is refused before anything is validated.
        crate::answers::ask(
            &app,
            &router,
            key,
            crate::answers::JSON,
            QUERY,
            town.clone(),
        )
        .await;
    }
    let metrics = crate::helpers::get_text(&router, "/metrics").await;
    assert!(
        metrics.contains("vigie_validations{from=\"remembered\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("vigie_validations{from=\"validated\"} 1"),
        "{metrics}"
    );
}
