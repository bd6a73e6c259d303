//! Bad input gets a clear error with an `extensions.code`; internal errors
//! are logged, never shown.

use serde_json::json;
use vigie::graphql::Limits;

use crate::{
    fixtures::seed_everything,
    helpers::{Backend, TestApp, codes, execute_sql, gid},
};

/// Text that must never reach a client: SQL, driver and Rust internals.
const LEAKS: &[&str] = &[
    "SELECT",
    "sqlx",
    "Sqlx",
    "DbErr",
    "no such table",
    "relation \"",
    "Error {",
    "Some(",
    "/work",
    "src/",
];

fn assert_no_leak(text: &str) {
    for leak in LEAKS {
        assert!(!text.contains(leak), "{leak:?} leaked in {text}");
    }
}

/// The introspection query GraphiQL sends (graphql-js `getIntrospectionQuery`,
/// with every option on and the deepest type references).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    description
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives {
      name description isRepeatable locations
      args(includeDeprecated: true) { ...InputValue }
    }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name
      ofType { kind name } } } } } } } } }
}
"#;

on_both_backends! {
    async fn unknown_ids_give_null_and_malformed_ones_bad_user_input(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let data = app
            .query(
                "query($a: ID!, $b: ID!) { territory(id: $a) { id } node(id: $b) { id } }",
                json!({ "a": gid("Territory", 999_999), "b": gid("Deployment", 999_999) }),
            )
            .await;
        assert!(data["territory"].is_null());
        assert!(data["node"].is_null());

        for (query, id) in [
            ("query($id: ID!) { territory(id: $id) { id } }", "not-an-id".to_owned()),
            ("query($id: ID!) { node(id: $id) { id } }", "bm9wZQ".to_owned()),
            // A valid ID of another type.
            ("query($id: ID!) { territory(id: $id) { id } }", gid("Deployment", f.deployment)),
        ] {
            let errors = app.errors(query, json!({ "id": id })).await;
            assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"], "{query} {id}");
            assert_eq!(errors[0]["extensions"]["argument"], "id");
        }
    }

    async fn a_look_up_needs_exactly_one_key(backend: Backend) {
        let app = TestApp::new(backend).await;
        for query in [
            "{ territory { id } }",
            r#"{ territory(slug: "a", siren: "123456789") { id } }"#,
        ] {
            let errors = app.errors(query, json!({})).await;
            assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
            assert!(errors[0]["message"].as_str().unwrap().contains("exactly one of `id`, `slug`, `siren`"));
        }
    }

    async fn queries_beyond_the_limits_are_refused_before_running(backend: Backend) {
        let app = TestApp::with_limits(backend, Limits { max_depth: 6, max_complexity: 500, ..Limits::default() }).await;
        let before = app.statements();
        let deep = "{ territories { nodes { deployments { nodes { territory { deployments { nodes { title } } } } } } } }";
        let errors = app.errors(deep, json!({})).await;
        assert_eq!(codes(&errors), vec!["QUERY_TOO_COMPLEX"]);
        let costly = "{ territories(first: 100) { nodes { deployments(first: 100) { nodes { title } } } } }";
        let errors = app.errors(costly, json!({})).await;
        assert_eq!(codes(&errors), vec!["QUERY_TOO_COMPLEX"]);
        assert_eq!(app.statements(), before, "a refused query ran SQL");
    }

    async fn the_default_limits_let_the_headline_query_and_introspection_through(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        app.query(vigie::server::HEADLINE_QUERY, json!({ "slug": "nantes-metropole" })).await;
        app.query(INTROSPECTION, json!({})).await;
    }

    async fn parse_and_validation_errors_are_coded(backend: Backend) {
        let app = TestApp::new(backend).await;
        let cases = [
            ("{ territories { ", "GRAPHQL_PARSE_FAILED"),
            ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
            ("{ territories { nodes { name(x: 1) } } }", "GRAPHQL_VALIDATION_FAILED"),
            (r#"{ territories(first: "ten") { totalCount } }"#, "BAD_USER_INPUT"),
            ("query($n: Int!) { territories(first: $n) { totalCount } }", "BAD_USER_INPUT"),
        ];
        for (query, code) in cases {
            let errors = app.errors(query, json!({})).await;
            assert!(codes(&errors).iter().all(|c| c == code), "{query}: {errors:?}");
            for error in &errors {
                assert_no_leak(&error.to_string());
            }
        }
        let errors = app.errors("query A { __typename } query B { __typename }", json!({})).await;
        assert_eq!(codes(&errors), vec!["GRAPHQL_VALIDATION_FAILED"]);
    }

    async fn a_failing_database_is_internal_and_says_nothing_of_itself(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_everything(&app.db).await;
        execute_sql(&app.db.conn, "DROP TABLE event").await;
        let response = app.run("{ events { nodes { title } } territories { totalCount } }", json!({})).await;
        let errors = response["errors"].as_array().unwrap();
        assert_eq!(codes(errors), vec!["INTERNAL"]);
        assert_eq!(errors[0]["message"], vigie::error::INTERNAL_MESSAGE);
        assert_no_leak(&response.to_string());
    }
}
