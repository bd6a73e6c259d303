//! The HTTP face: GraphQL over HTTP on `POST /graphql`, GraphiQL, health,
//! and what is refused.

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use serde_json::{Value as Json, json};
use tower::ServiceExt;

use crate::helpers::{Backend, TestApp};

struct Answer {
    status: StatusCode,
    content_type: String,
    headers: axum::http::HeaderMap,
    /// The body as it came.
    raw: Vec<u8>,
    /// The body as text (lossy where it is not UTF-8).
    body: String,
}

impl Answer {
    fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    fn code(&self) -> String {
        self.json()["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        raw: bytes.to_vec(),
    }
}

fn post(content_type: Option<&str>, accept: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::builder().method(Method::POST).uri("/graphql");
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    request.body(body.into()).unwrap()
}

fn graphql(query: &str) -> String {
    json!({ "query": query }).to_string()
}

const JSON: Option<&str> = Some("application/json");

on_both_backends! {
    async fn posting_json_runs_the_query_and_answers_in_the_accepted_type(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let router = app.router();
        let query = graphql("{ territories(first: 2) { totalCount nodes { name } } }");

        let answer = send(&router, post(JSON, None, query.clone())).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.content_type, "application/json; charset=utf-8");
        assert_eq!(answer.json()["data"]["territories"]["totalCount"], 28);
        // Fields come back in the order they were asked.
        assert!(answer.body.find("totalCount").unwrap() < answer.body.find("nodes").unwrap());
        let reversed = send(&router, post(JSON, None, graphql("{ territories(first: 2) { nodes { name } totalCount } }"))).await;
        assert!(reversed.body.find("totalCount").unwrap() > reversed.body.find("nodes").unwrap());

        let answer = send(&router, post(Some("application/json; charset=utf-8"), Some("application/graphql-response+json"), query)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.content_type, "application/graphql-response+json; charset=utf-8");
        assert_eq!(answer.json()["data"]["territories"]["totalCount"], 28);

        let with_variables = json!({
            "query": "query One($slug: String!) { territory(slug: $slug) { name } }",
            "operationName": "One",
            "variables": { "slug": "rennes-ville-et-metropole" }
        });
        let answer = send(&router, post(JSON, None, with_variables.to_string())).await;
        assert_eq!(answer.json()["data"]["territory"]["name"], "Rennes Ville et Métropole");
    }

    async fn request_errors_are_400_for_graphql_response_clients_and_have_no_data(backend: Backend) {
        let app = TestApp::new(backend).await;
        let router = app.router();
        let invalid = graphql("{ nope }");
        let answer = send(&router, post(JSON, Some("application/graphql-response+json"), invalid.clone())).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.json().get("data").is_none());
        assert_eq!(answer.code(), "GRAPHQL_VALIDATION_FAILED");

        let answer = send(&router, post(JSON, Some("application/json"), invalid)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.json().get("data").is_none());

        // A field error is not a request error: the request ran.
        let answer = send(&router, post(JSON, Some("application/graphql-response+json"), graphql("{ territories(first: 500) { totalCount } }"))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.code(), "BAD_USER_INPUT");
        assert!(answer.json().get("data").is_some());
    }

    async fn only_json_posts_run_so_there_is_no_csrf_path(backend: Backend) {
        let app = TestApp::new(backend).await;
        let router = app.router();
        let query = graphql("{ __typename }");
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/graphql"),
        ] {
            let answer = send(&router, post(content_type, None, query.clone())).await;
            assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
            assert_eq!(answer.code(), "UNSUPPORTED_MEDIA_TYPE");
        }
        // GET runs queries, never mutations; other methods are refused.
        let get = Request::builder().uri("/graphql?query=%7B__typename%7D").body(Body::empty()).unwrap();
        let answer = send(&router, get).await;
        assert_eq!(answer.status, StatusCode::OK);
        let get = Request::builder()
            .uri("/graphql?query=mutation%7BarchiveTerritory(id%3A%22x%22%2CexpectedVersion%3A1)%7Bid%7D%7D")
            .body(Body::empty())
            .unwrap();
        let answer = send(&router, get).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.code(), "METHOD_NOT_ALLOWED");
        let put = Request::builder().method("PUT").uri("/graphql").body(Body::from(query)).unwrap();
        let answer = send(&router, put).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.code(), "METHOD_NOT_ALLOWED");
    }

    async fn malformed_bodies_get_400_and_oversized_ones_413(backend: Backend) {
        let app = TestApp::new(backend).await;
        let router = app.router_with_body_limit(1024);
        for body in ["{\"query\":", "[]", "{}", "{\"query\": 42}", "{\"query\":\"{a}\",\"variables\":\"x\"}", "\u{0}"] {
            let answer = send(&router, post(JSON, None, body)).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(answer.code(), "BAD_REQUEST");
            assert!(!answer.body.contains("Request"), "{}", answer.body);
        }
        let huge = graphql(&format!("{{ __typename }} # {}", "x".repeat(2000)));
        let answer = send(&router, post(JSON, None, huge)).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(answer.code(), "PAYLOAD_TOO_LARGE");

        let answer = send(&router, post(JSON, Some("text/html"), graphql("{ __typename }"))).await;
        assert_eq!(answer.status, StatusCode::NOT_ACCEPTABLE);
        assert_eq!(answer.code(), "NOT_ACCEPTABLE");
    }

    async fn csv_answers_flatten_the_first_list(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let router = app.router();
        let query = r#"{ network: networks { totalCount }
            territories(first: 100, orderBy: [{ field: NAME }]) {
              nodes { name kind department participations { nodes { mode } } }
            } }"#;
        let answer = send(&router, post(JSON, Some("text/csv"), graphql(query))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.content_type, "text/csv; charset=utf-8; header=present");
        assert!(answer.body.contains("\r\n"));
        let mut reader = csv::Reader::from_reader(answer.body.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, vec!["name", "kind", "department", "participations.nodes.mode"]);
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        // The same rows as the JSON answer.
        let json = app.query(query, json!({})).await;
        let nodes = json["territories"]["nodes"].as_array().unwrap();
        assert_eq!(rows.len(), nodes.len());
        assert_eq!(rows.len(), 28);
        for (row, node) in rows.iter().zip(nodes) {
            assert_eq!(row[0], node["name"].as_str().unwrap());
            assert_eq!(row[1], node["kind"].as_str().unwrap());
            assert_eq!(row[2], node["department"].as_str().unwrap_or(""));
        }
        let lorient = rows.iter().find(|r| r[0] == "Pays de Lorient et Quimperlé").unwrap();
        assert_eq!(lorient[3], "OWN_CONCERTATION | CODEV");
        let nice = rows.iter().find(|r| r[0] == "Métropole de Nice Côte d'Azur").unwrap();
        assert_eq!(nice[2], "06");

        // With pageInfo asked, the next page's cursor comes in a header.
        let paged = r#"{ territories(first: 10) { nodes { name } pageInfo { hasNextPage endCursor } } }"#;
        let response = router.clone().oneshot(post(JSON, Some("text/csv"), graphql(paged))).await.unwrap();
        let cursor = response.headers().get("vigie-next-cursor").unwrap().to_str().unwrap().to_owned();
        let next = json!({ "query": "query($after: String) { territories(first: 10, after: $after) { nodes { name } } }", "variables": { "after": cursor } });
        let answer = send(&router, post(JSON, Some("text/csv"), next.to_string())).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body.lines().count(), 11);

        // No list: nothing to flatten.
        let answer = send(&router, post(JSON, Some("text/csv"), graphql(r#"{ territory(slug: "reze") { name } }"#))).await;
        assert_eq!(answer.status, StatusCode::NOT_ACCEPTABLE);
        assert_eq!(answer.code(), "NOT_ACCEPTABLE");
        // A failing request answers with its errors.
        let answer = send(&router, post(JSON, Some("text/csv"), graphql("{ territories(first: 500) { nodes { name } } }"))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.code(), "BAD_USER_INPUT");
    }

    async fn graphiql_opens_on_the_headline_query_and_health_answers(backend: Backend) {
        let app = TestApp::new(backend).await;
        let router = app.router();
        let answer = send(&router, Request::builder().uri("/").body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.content_type.starts_with("text/html"));
        assert!(answer.body.contains("query TerritoryAiUses($slug: String!)"));
        assert!(answer.body.contains("\"/graphql\""));
        assert!(!answer.body.contains("__SETTINGS__"));
        // Everything it loads is the hub's: no other origin, and a policy
        // that allows none.
        assert!(!answer.body.contains("https://") && !answer.body.contains("http://"), "{}", answer.body);
        let policy = answer.headers["content-security-policy"].to_str().unwrap().to_owned();
        assert!(policy.contains("script-src 'self';"), "{policy}");
        assert!(!policy.contains("http"), "{policy}");
        let scripts: Vec<&str> = answer.body.split("src=\"").skip(1).map(|rest| rest.split('"').next().unwrap()).collect();
        assert_eq!(scripts.len(), 4, "{scripts:?}");
        for path in scripts.iter().copied().chain(["/graphiql/graphiql.min.css", "/graphiql/LICENSE.graphiql", "/graphiql/LICENSE.react"]) {
            assert!(path.starts_with("/graphiql/"), "{path}");
            let plain = send(&router, Request::builder().uri(path).body(Body::empty()).unwrap()).await;
            assert_eq!(plain.status, StatusCode::OK, "{path}");
            assert!(plain.headers.get("content-encoding").is_none(), "{path}");
            assert!(plain.body.len() > 100, "{path}");
            let gzipped = send(&router, Request::builder().uri(path).header("accept-encoding", "gzip, br").body(Body::empty()).unwrap()).await;
            assert_eq!(gzipped.status, StatusCode::OK, "{path}");
            if path.ends_with(".min.js") || path.ends_with(".min.css") {
                assert_eq!(gzipped.headers["content-encoding"], "gzip", "{path}");
                assert_eq!(&gzipped.raw[..2], &[0x1f, 0x8b], "{path}");
            }
        }
        assert!(send(&router, Request::builder().uri("/graphiql/react.production.min.js").body(Body::empty()).unwrap())
            .await.body.contains("React"));
        let missing = send(&router, Request::builder().uri("/graphiql/..%2FCargo.toml").body(Body::empty()).unwrap()).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);

        let answer = send(&router, Request::builder().uri("/health").body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.json(), json!({ "status": "ok" }));
    }
}
