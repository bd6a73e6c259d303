//! GET queries: safelisted operations by name, automatic persisted queries,
//! HTTP caching, and GET never writing.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use entity::enums::KeyRole;
use serde_json::{Value as Json, json};
use vigie::server::{self, AppState, HttpSettings, persisted::Safelist};

use crate::helpers::{Backend, TestApp, send_raw as send};

fn get(params: &[(&str, &str)]) -> Request<Body> {
    let query = serde_urlencoded::to_string(params).unwrap();
    Request::get(format!("/graphql?{query}"))
        .body(Body::empty())
        .unwrap()
}

fn post(body: Json) -> Request<Body> {
    Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn code(body: &str) -> Json {
    let body: Json = serde_json::from_str(body).unwrap();
    body["errors"][0]["extensions"]["code"].clone()
}

#[tokio::test]
async fn safelisted_operations_run_by_name_and_get_answers_are_cacheable() {
    let app = TestApp::with_reference(Backend::Sqlite).await;
    let router = app.router();
    let slug = r#"{"slug":"nantes-metropole"}"#;
    for operation in Safelist::get().operations() {
        let (status, headers, body) =
            send(&router, get(&[("id", operation.name), ("variables", slug)])).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", operation.name);
        let answer: Json = serde_json::from_str(&body).unwrap();
        assert!(answer.get("errors").is_none(), "{}: {body}", operation.name);
        assert!(headers.contains_key(header::ETAG), "{}", operation.name);
        // By hash too.
        let (status, _, by_hash) = send(
            &router,
            get(&[("id", &operation.hash), ("variables", slug)]),
        )
        .await;
        assert_eq!((status, by_hash), (StatusCode::OK, body));
    }
    let (_, _, widget) = send(
        &router,
        get(&[("id", "TerritoryWidget"), ("variables", slug)]),
    )
    .await;
    let widget: Json = serde_json::from_str(&widget).unwrap();
    assert_eq!(widget["data"]["territory"]["slug"], "nantes-metropole");

    // Caching: Cache-Control, a strong ETag, and 304 with no body.
    let query = "{ territories { totalCount } }";
    let (status, headers, body) = send(&router, get(&[("query", query)])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=60");
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    let mut again = get(&[("query", query)]);
    again
        .headers_mut()
        .insert(header::IF_NONE_MATCH, etag.parse().unwrap());
    let (status, headers, empty) = send(&router, again).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(empty.is_empty());
    assert_eq!(headers[header::ETAG], etag.as_str());
    let mut stale = get(&[("query", query)]);
    stale
        .headers_mut()
        .insert(header::IF_NONE_MATCH, "\"other\"".parse().unwrap());
    let (status, _, same) = send(&router, stale).await;
    assert_eq!((status, same), (StatusCode::OK, body));
    // Errors are not cached.
    let (_, headers, _) = send(&router, get(&[("query", "{ nope }")])).await;
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(!headers.contains_key(header::ETAG));
    // An unknown safelist id is named.
    let (status, _, body) = send(&router, get(&[("id", "Nope")])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test]
async fn get_never_runs_a_mutation() {
    let app = TestApp::with_reference(Backend::Sqlite).await;
    let router = app.router();
    let before = app.count_rows("audit_event").await;
    for (query, name) in [
        (
            "mutation { archiveTerritory(id: \"VGVycml0b3J5OjE=\", expectedVersion: 1) { id } }",
            None,
        ),
        (
            "query A { territories { totalCount } } mutation B { archiveTerritory(id: \"VGVycml0b3J5OjE=\", expectedVersion: 1) { id } }",
            Some("B"),
        ),
    ] {
        let mut params = vec![("query", query)];
        if let Some(name) = name {
            params.push(("operationName", name));
        }
        let (status, headers, body) = send(&router, get(&params)).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
        assert_eq!(headers[header::ALLOW], "POST");
        assert_eq!(code(&body), "METHOD_NOT_ALLOWED");
    }
    assert_eq!(app.count_rows("audit_event").await, before);
}

on_both_backends! {
    async fn automatic_persisted_queries_register_once_and_run_by_hash(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let router = app.router();
        let query = "query Count { territories { totalCount } }";
        let hash = server::persisted::sha256_hex(query);
        let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });

        // Unknown hash: the client is told to send the query.
        let (status, _, body) = send(&router, post(json!({ "extensions": extensions }))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");
        // A wrong hash is refused.
        let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": "00" } });
        let (status, _, _) = send(&router, post(json!({ "query": query, "extensions": wrong }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // The query with its hash runs and is kept…
        let (status, _, first) = send(&router, post(json!({ "query": query, "extensions": extensions }))).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(app.count_rows("persisted_query").await, 1);
        // …then the hash alone is enough, by POST and by GET. Its answer was
        // kept: the text and the data version are read in one statement.
        let before = app.statements();
        let (_, _, by_hash) = send(&router, post(json!({ "extensions": extensions }))).await;
        assert_eq!((by_hash.as_str(), app.statements() - before), (first.as_str(), 1));
        // With an API key too (its answer is computed: never kept).
        let (key, _) = vigie::auth::create_key(&app.db.conn, KeyRole::Admin, &[], "Réseau").await.unwrap();
        let keyed = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::from(json!({ "extensions": extensions }).to_string()))
            .unwrap();
        let (status, _, by_key) = send(&router, keyed).await;
        assert_eq!((status, by_key.as_str()), (StatusCode::OK, first.as_str()));
        let (status, headers, by_get) =
            send(&router, get(&[("extensions", &extensions.to_string())])).await;
        assert_eq!((status, by_get), (StatusCode::OK, first));
        assert!(headers.contains_key(header::ETAG));
        // Registering again changes nothing.
        send(&router, post(json!({ "query": query, "extensions": extensions }))).await;
        assert_eq!(app.count_rows("persisted_query").await, 1);

        // A document that does not parse, or does not fit the schema, is
        // answered with its error and not kept: its hash stays unknown.
        for (broken, want) in [
            ("query { territories {", "GRAPHQL_PARSE_FAILED"),
            ("query { territories { noSuchField } }", "GRAPHQL_VALIDATION_FAILED"),
        ] {
            let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": server::persisted::sha256_hex(broken) } });
            let (_, _, body) = send(&router, post(json!({ "query": broken, "extensions": extensions }))).await;
            assert_eq!(code(&body), want, "{body}");
            let (_, _, body) = send(&router, post(json!({ "extensions": extensions }))).await;
            assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{broken}");
        }
        // Asked as CSV, a new query is kept as well.
        let listed = "query Listed { territories(first: 2) { nodes { slug } } }";
        let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": server::persisted::sha256_hex(listed) } });
        let csv = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "text/csv")
            .body(Body::from(json!({ "query": listed, "extensions": extensions }).to_string()))
            .unwrap();
        let (status, _, body) = send(&router, csv).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.starts_with("slug\r\n"), "{body}");
        assert_eq!(app.count_rows("persisted_query").await, 2);
        // A mutation sent by GET is refused before it runs: not kept either.
        let mutation = "mutation { archiveDeployment(id: \"x\") { id } }";
        let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": server::persisted::sha256_hex(mutation) } });
        let (status, _, _) = send(&router, get(&[("query", mutation), ("extensions", &extensions.to_string())])).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(app.count_rows("persisted_query").await, 2);
    }
}

on_both_backends! {
    async fn the_oldest_persisted_queries_are_forgotten_past_the_cap(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let router = server::app(AppState::new(
            app.api.clone(),
            HttpSettings {
                persisted: server::persisted::Registration {
                    kept: 2,
                    ..Default::default()
                },
                ..Default::default()
            },
        ));
        let queries = [
            "query First { territories { totalCount } }",
            "query Second { deployments { totalCount } }",
            "query Third { concertations { totalCount } }",
        ];
        let extensions = |query: &str| {
            json!({ "persistedQuery": { "version": 1, "sha256Hash": server::persisted::sha256_hex(query) } })
        };
        let mut answers = Vec::new();
        for query in queries {
            let (status, _, body) =
                send(&router, post(json!({ "query": query, "extensions": extensions(query) }))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            answers.push(body);
            // Registrations a clock tick apart, so that their order is known.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(app.count_rows("persisted_query").await, 2);
        // The first is forgotten: its client is told to send it again…
        let (_, _, body) = send(&router, post(json!({ "extensions": extensions(queries[0]) }))).await;
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");
        // …and the two latest still run by hash.
        for (query, answer) in queries.iter().zip(&answers).skip(1) {
            let (_, _, body) = send(&router, post(json!({ "extensions": extensions(query) }))).await;
            assert_eq!(&body, answer);
        }
        // Sending the forgotten one again registers it, and forgets the second.
        send(&router, post(json!({ "query": queries[0], "extensions": extensions(queries[0]) }))).await;
        assert_eq!(app.count_rows("persisted_query").await, 2);
        let (_, _, body) = send(&router, post(json!({ "extensions": extensions(queries[1]) }))).await;
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");
        let (_, _, body) = send(&router, post(json!({ "extensions": extensions(queries[0]) }))).await;
        assert_eq!(body, answers[0]);
    }
}

#[tokio::test]
async fn a_safelist_only_hub_runs_nothing_else_without_a_key() {
    let app = TestApp::with_reference(Backend::Sqlite).await;
    let router = server::app(AppState::new(
        app.api.clone(),
        HttpSettings {
            safelist_only: true,
            ..Default::default()
        },
    ));
    let (status, _, body) = send(
        &router,
        post(json!({ "query": "{ territories { totalCount } }" })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "PERSISTED_QUERY_REQUIRED");
    let (status, _, _) = send(&router, get(&[("query", "{ territories { totalCount } }")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let slug = r#"{"slug":"nantes-metropole"}"#;
    let (status, _, body) = send(
        &router,
        get(&[("id", "TerritoryWidget"), ("variables", slug)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let widget = Safelist::get().find("TerritoryWidget").unwrap();
    let (status, _, body) = send(
        &router,
        post(json!({ "query": widget.query, "variables": { "slug": "nantes-metropole" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // New persisted queries are not registered.
    let query = "{ territories { totalCount } }";
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": server::persisted::sha256_hex(query) } });
    let (status, _, _) = send(
        &router,
        post(json!({ "query": query, "extensions": extensions })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.count_rows("persisted_query").await, 0);
    // A request with an API key is not held to the safelist.
    let (key, _) =
        vigie::auth::create_key(&app.db.conn, entity::enums::KeyRole::Admin, &[], "admin")
            .await
            .unwrap();
    let mut keyed = post(json!({ "query": "{ territories { totalCount } }" }));
    keyed.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {key}").parse().unwrap(),
    );
    let (status, _, body) = send(&router, keyed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
