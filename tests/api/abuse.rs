//! The abuse suite: requests an attacker would send, against `vigie serve`
//! as shipped (its defaults, rate limits included), over POST, GET and the
//! WebSocket. Each is refused with its code, quickly, before any SQL runs;
//! after each burst the hub still answers `/health` at once and its memory
//! is near where it was before. graphql-cop's twelve checks are rewritten
//! here too: in the public default only introspection and GET queries are
//! allowed; with `--safelist-only`, none.

use std::{
    process::Child,
    time::{Duration, Instant},
};

use serde_json::{Value as Json, json};

use crate::{
    helpers::{Backend, TestApp, TestDb, codes, serve_process},
    live::{self, Socket},
};

/// The introspection query GraphiQL and schema tools send.
const INTROSPECTION: &str = include_str!("abuse/introspection.graphql");

/// The longest a refusal may take, on a busy test machine: refusals cost
/// milliseconds, the time limit is ten seconds.
const QUICK: Duration = Duration::from_secs(2);

/// How much more memory the hub may hold after a burst than before it.
const MEMORY_SLACK_KIB: u64 = 64 * 1024;

/// `vigie serve` on a test database of its own, stopped when dropped.
struct Hub {
    child: Child,
    base: String,
    client: reqwest::Client,
    _db: TestDb,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Hub {
    async fn start(backend: Backend, args: &[&str]) -> Hub {
        let db = TestDb::new(backend).await;
        let (child, base) = serve_process(&db.url, args).await;
        Hub {
            child,
            base,
            client: reqwest::Client::new(),
            _db: db,
        }
    }

    /// The hub's resident memory, in KiB.
    fn memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc")
    }

    async fn answer(&self, request: reqwest::RequestBuilder) -> (u16, Json, Duration) {
        let started = Instant::now();
        let response = request.send().await.expect("the hub answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("not JSON ({status}): {text:.300}"));
        (status, body, started.elapsed())
    }

    async fn post(&self, body: &Json) -> (u16, Json, Duration) {
        self.answer(
            self.client
                .post(format!("{}/graphql", self.base))
                .json(body),
        )
        .await
    }

    async fn get(&self, query: &str) -> (u16, Json, Duration) {
        self.answer(
            self.client
                .get(format!("{}/graphql", self.base))
                .query(&[("query", query)]),
        )
        .await
    }

    /// The hub answers `/health` at once, and holds about the memory it
    /// held before the burst.
    async fn still_up(&self, before_kib: u64) {
        let started = Instant::now();
        let health = self
            .client
            .get(format!("{}/health", self.base))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .expect("/health answers");
        assert!(health.status().is_success());
        assert!(
            started.elapsed() < QUICK,
            "/health took {:?}",
            started.elapsed()
        );
        let after = self.memory_kib();
        assert!(
            after <= before_kib + MEMORY_SLACK_KIB,
            "the hub held {before_kib} KiB before the burst, {after} KiB after"
        );
    }
}

fn code(body: &Json) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body:.300}"))
}

fn nested(levels: usize, wrap: impl Fn(&str) -> String) -> String {
    (0..levels).fold(r#"{ name: { eq: "x" } }"#.to_owned(), |inner, _| {
        wrap(&inner)
    })
}

fn and(levels: usize) -> String {
    nested(levels, |inner| format!("{{ and: [{inner}] }}"))
}

fn relations(levels: usize) -> String {
    nested(levels, |inner| {
        format!("{{ deployments: {{ some: {{ territory: {inner} }} }} }}")
    })
}

/// Fragment F(n) spreads F(n-1) twice: 2^levels fields once expanded.
fn fragment_bomb(levels: usize) -> String {
    let mut document = format!("query {{ ...F{levels} }}\nfragment F0 on Query {{ __typename }}\n");
    for n in 1..=levels {
        document.push_str(&format!(
            "fragment F{n} on Query {{ ...F{} ...F{} }}\n",
            n - 1,
            n - 1
        ));
    }
    document
}

fn aliases(count: usize, field: &str) -> String {
    let each: Vec<String> = (0..count).map(|n| format!("alias{n}: {field}")).collect();
    format!("query {{ {} }}", each.join(" "))
}

/// The requests of the findings, each with the code it must be refused
/// with.
fn attacks() -> Vec<(&'static str, String, &'static str)> {
    let filtered = |filter: String| format!("{{ territories(filter: {filter}) {{ totalCount }} }}");
    vec![
        ("and × 89", filtered(and(89)), "QUERY_TOO_COMPLEX"),
        (
            "or × 89",
            filtered(nested(89, |inner| format!("{{ or: [{inner}] }}"))),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "not × 182",
            filtered(nested(182, |inner| format!("{{ not: {inner} }}"))),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "relations × 100",
            filtered(relations(100)),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "relations × 30",
            filtered(relations(30)),
            "QUERY_TOO_COMPLEX",
        ),
        // At the text's nesting bound: it parses, and the input's bound
        // refuses it.
        (
            "objects nested to the text's bound",
            filtered(format!("{}1{}", "{ a: ".repeat(62), " }".repeat(62))),
            "QUERY_TOO_COMPLEX",
        ),
        // Within the text's nesting bound, beyond the input's.
        ("and × 7", filtered(and(7)), "QUERY_TOO_COMPLEX"),
        ("relations × 7", filtered(relations(7)), "QUERY_TOO_COMPLEX"),
        ("fragment bomb × 30", fragment_bomb(30), "QUERY_TOO_COMPLEX"),
        // Each condition of a filter counts in the cost, for every item of
        // the page around it.
        (
            "a wide filter in a nested list",
            format!(
                "{{ territories(first: 100) {{ nodes {{ deployments(first: 100, filter: {{ or: [{}] }}) {{ totalCount }} }} }} }}",
                vec!["{ status: { eq: IDEA } }"; 200].join(", ")
            ),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "introspection × 3000",
            aliases(3000, "__schema { types { name fields { name } } }"),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "introspection × 5",
            aliases(5, "__schema { queryType { name } }"),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "aliases × 5000",
            aliases(5000, "__typename"),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "directives × 10000",
            format!(
                "query {{ __typename {} }}",
                "@include(if: true) ".repeat(10_000)
            ),
            "QUERY_TOO_COMPLEX",
        ),
        (
            "fragment cycle",
            "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".into(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "NUL in a look-up",
            r#"{ territory(slug: "a\u0000b") { name } }"#.into(),
            "BAD_USER_INPUT",
        ),
        (
            "NUL in a filter",
            filtered(r#"{ name: { contains: "\u0000" } }"#.into()),
            "BAD_USER_INPUT",
        ),
    ]
}

/// Whether a query sent with its hash is registered: it runs, and then its
/// hash alone finds it.
async fn registered(hub: &Hub, query: &str) -> bool {
    let hash = vigie::server::persisted::sha256_hex(query);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let (_, ran, _) = hub
        .post(&json!({ "query": query, "extensions": extensions }))
        .await;
    assert!(ran.get("errors").is_none(), "{ran:.300}");
    let (_, again, _) = hub.post(&json!({ "extensions": extensions })).await;
    again.get("errors").is_none()
}

on_both_backends! {
    async fn every_finding_is_refused_quickly_before_it_runs(backend: Backend) {
        let hub = Hub::start(backend, &[]).await;
        // The real queries run: the headline, and the introspection query.
        let (_, headline, _) = hub
            .post(&json!({ "query": vigie::server::HEADLINE_QUERY,
                "variables": { "slug": "nantes-metropole" } }))
            .await;
        assert!(headline.get("errors").is_none(), "{headline}");
        assert_eq!(headline["data"]["territory"]["name"], "Nantes Métropole");
        let (_, schema, _) = hub.post(&json!({ "query": INTROSPECTION })).await;
        assert!(schema.get("errors").is_none(), "{schema:.300}");
        assert!(schema["data"]["__schema"]["types"].as_array().unwrap().len() > 25);

        let before = hub.memory_kib();
        for (name, query, expected) in attacks() {
            let (status, body, took) = hub.post(&json!({ "query": query })).await;
            assert_eq!(status, 200, "{name} over POST: {body:.300}");
            assert_eq!(code(&body), expected, "{name} over POST: {body:.300}");
            assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{name}");
            assert!(body.get("data").is_none(), "{name}: {body:.300}");
            assert!(took < QUICK, "{name} over POST took {took:?}");
            // A link or an image on any page sends it by GET.
            if query.len() < 60_000 {
                let (_, body, took) = hub.get(&query).await;
                assert_eq!(code(&body), expected, "{name} over GET: {body:.300}");
                assert!(took < QUICK, "{name} over GET took {took:?}");
            }
        }
        // Through variables, the same bounds.
        let (_, body, _) = hub
            .post(&json!({
                "query": "query($f: TerritoryFilter) { territories(filter: $f) { totalCount } }",
                "variables": { "f": serde_json::from_str::<Json>(
                    &and(40).replace("and", "\"and\"").replace("name", "\"name\"")
                        .replace("eq", "\"eq\"")).unwrap() },
            }))
            .await;
        assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body:.300}");
        let (_, body, _) = hub
            .post(&json!({
                "query": "query($slug: String!) { territory(slug: $slug) { name } }",
                "variables": { "slug": "nantes\u{0}" },
            }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body:.300}");
        hub.still_up(before).await;
    }

    async fn refused_requests_run_no_sql(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        for (name, query, expected) in attacks() {
            let before = app.statements();
            let errors = app.errors(&query, json!({})).await;
            assert_eq!(codes(&errors), [expected], "{name}");
            assert_eq!(app.statements(), before, "{name} ran SQL");
        }
    }

    async fn errors_never_echo_more_than_an_excerpt_of_the_input(backend: Backend) {
        let hub = Hub::start(backend, &[]).await;
        let before = hub.memory_kib();
        let long_name = "N".repeat(300_000);
        let (status, body, _) = hub
            .post(&json!({ "query": "query A { __typename }", "operationName": long_name }))
            .await;
        assert_eq!(status, 400);
        assert!(body.to_string().len() < 1_000, "{body:.300}");
        let named = "N".repeat(200);
        let (_, body, _) = hub
            .post(&json!({ "query": "query A { __typename }", "operationName": named }))
            .await;
        assert!(body.to_string().len() < 1_000, "{body:.300}");
        let (_, body, _) = hub
            .post(&json!({ "query": format!("{{ {} ( }}", "a".repeat(300_000)) }))
            .await;
        assert_eq!(code(&body), "GRAPHQL_PARSE_FAILED");
        assert!(body.to_string().len() < 1_000, "{body:.300}");
        let unknown: Vec<String> = (0..300).map(|n| format!("f{n}")).collect();
        let (_, body, _) = hub
            .post(&json!({ "query": format!("{{ {} }}", unknown.join(" ")) }))
            .await;
        assert!(body.to_string().len() < 10_000, "{body:.300}");
        hub.still_up(before).await;
    }

    async fn persisted_query_registration_is_bounded(backend: Backend) {
        let hub = Hub::start(
            backend,
            &["--persisted-query-max-bytes", "2048", "--persisted-registrations-per-minute", "3"],
        )
        .await;
        let padding = format!("# {}\n", "x".repeat(3_000));
        assert!(!registered(&hub, &format!("{padding}query Big {{ __typename }}")).await);
        let small: Vec<String> = (0..4).map(|n| format!("query Small{n} {{ __typename }}")).collect();
        let mut kept = Vec::new();
        for query in small {
            kept.push(registered(&hub, &query).await);
        }
        assert_eq!(kept, [true, true, true, false], "three a minute per address");

        let keyed_only = Hub::start(backend, &["--persisted-queries-keyed-only"]).await;
        assert!(!registered(&keyed_only, "query Anonymous { __typename }").await);
    }

    async fn the_persisted_queries_kept_fit_their_budget(backend: Backend) {
        let db = TestDb::new(backend).await;
        let rules = vigie::server::persisted::Registration {
            max_total_bytes: 3_500,
            ..Default::default()
        };
        let mut hashes = Vec::new();
        for n in 0..5 {
            let query = format!("query Q{n} {{ __typename }} # {}", "x".repeat(1_000));
            let hash = vigie::server::persisted::sha256_hex(&query);
            vigie::server::persisted::store(&db.db.conn, &hash, &query, &rules)
                .await
                .unwrap();
            hashes.push(hash);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut kept = Vec::new();
        for hash in &hashes {
            kept.push(
                vigie::server::persisted::stored(&db.db.conn, hash)
                    .await
                    .unwrap()
                    .is_some(),
            );
        }
        assert_eq!(kept, [false, false, true, true, true], "the newest that fit");
    }

    async fn ready_answers_within_its_bound_when_no_connection_is_free(backend: Backend) {
        use sea_orm::TransactionTrait;
        let test_db = TestDb::new(backend).await;
        let db = vigie::db::connect_with_timeout(&test_db.url, 1, Duration::from_secs(30))
            .await
            .unwrap();
        let api = vigie::graphql::Api::new(db.conn.clone(), vigie::graphql::Limits::default());
        let router = vigie::server::app(vigie::server::AppState::new(
            api,
            crate::helpers::http_settings(),
        ));
        // The pool's one connection is held.
        let held = db.conn.begin().await.unwrap();
        let started = Instant::now();
        let (status, _, _) = crate::helpers::send_raw(
            &router,
            axum::http::Request::get("/ready")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        let took = started.elapsed();
        assert_eq!(status, 503);
        assert!(
            took < vigie::server::ops::READY_WAIT + Duration::from_secs(1),
            "/ready took {took:?}"
        );
        held.rollback().await.unwrap();
    }
}

/// On PostgreSQL, a connection the server ends ("terminating connection
/// due to administrator command") is the database being unavailable, not
/// an internal error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_terminated_connection_is_db_unavailable() {
    use sea_orm::{ConnectionTrait, Statement};
    let test_db = TestDb::new(Backend::Postgres).await;
    let db = vigie::db::connect(&test_db.url, 1).await.unwrap();
    let conn = db.conn.clone();
    let sleeping = tokio::spawn(async move {
        conn.query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_sleep(30) AS slept -- vigie abuse test",
        ))
        .await
    });
    let admin = &test_db.db.conn;
    let terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
        WHERE query LIKE 'SELECT pg_sleep(30) AS slept%' AND datname = current_database()";
    let started = Instant::now();
    loop {
        let row = admin
            .query_one_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                format!("SELECT COUNT(*) AS n FROM ({terminate}) AS t"),
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the statement never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let err = sleeping
        .await
        .unwrap()
        .expect_err("the statement was ended");
    let err = vigie::error::AppError::from(err);
    assert_eq!(err.code(), vigie::error::Code::DbUnavailable, "{err:?}");
}

async fn connect(hub: &Hub) -> Result<Socket, u16> {
    live::connect(&hub.base).await
}

/// Sends an operation and returns the first message about it.
async fn operation(socket: &mut Socket, id: &str, query: &str, variables: Json) -> Json {
    live::operation(
        socket,
        id,
        json!({ "query": query, "variables": variables }),
    )
    .await
}

fn socket_code(message: &Json) -> &str {
    live::errors(message)[0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {message}"))
}

const SUBSCRIBE: &str = "subscription { recordChanged { recordType recordId } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_is_held_to_the_http_rules() {
    let hub = Hub::start(
        Backend::Sqlite,
        &[
            "--ws-connections-per-ip",
            "2",
            "--ws-operations-per-ip",
            "2",
            "--ws-operations-per-minute",
            "8",
        ],
    )
    .await;
    let before = hub.memory_kib();
    let mut socket = connect(&hub).await.unwrap();
    // The same bounds as over HTTP.
    for (n, (name, query, expected)) in attacks().into_iter().enumerate().take(4) {
        let id = n.to_string();
        let message = operation(&mut socket, &id, &query, json!({})).await;
        assert_eq!(socket_code(&message), expected, "{name} over the WebSocket");
        // An answer may come before its operation ends: the next one waits
        // for the end, or it may find two still running.
        if message["type"] == "next" {
            loop {
                let message = live::next_json(&mut socket).await;
                if message["type"] == "complete" && message["id"] == id.as_str() {
                    break;
                }
            }
        }
    }
    // Two operations may run at once per address; a third waits its turn.
    operation(&mut socket, "s1", SUBSCRIBE, json!({}))
        .await_none()
        .await;
    let mut second = connect(&hub).await.unwrap();
    operation(&mut second, "s2", SUBSCRIBE, json!({}))
        .await_none()
        .await;
    let message = operation(&mut second, "s3", "{ __typename }", json!({})).await;
    assert_eq!(socket_code(&message), "RATE_LIMITED", "{message}");
    // Two sockets per address.
    assert_eq!(connect(&hub).await.err(), Some(429));
    drop(second);
    // The hub hears of the closed socket, and lets its operation go.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Eight operations a minute per socket.
    let mut refused = None;
    for n in 0..10 {
        let message = operation(&mut socket, &format!("q{n}"), "{ __typename }", json!({})).await;
        if message["type"] == "next" && message["payload"].get("errors").is_some() {
            refused = Some((n, socket_code(&message).to_owned()));
            break;
        }
    }
    // Four attacks and a subscription went before: three more queries pass.
    assert_eq!(refused, Some((3, "RATE_LIMITED".to_owned())));
    hub.still_up(before).await;

    // --safelist-only holds over the WebSocket too.
    let safelisted = Hub::start(Backend::Sqlite, &["--safelist-only"]).await;
    let mut socket = connect(&safelisted).await.unwrap();
    let message = operation(&mut socket, "1", "{ __typename }", json!({})).await;
    assert_eq!(socket_code(&message), "PERSISTED_QUERY_REQUIRED");
    let message = operation(&mut socket, "2", SUBSCRIBE, json!({})).await;
    assert_eq!(socket_code(&message), "PERSISTED_QUERY_REQUIRED");
    let widget = vigie::server::persisted::Safelist::get()
        .find("TerritoryWidget")
        .unwrap()
        .query;
    let message = operation(
        &mut socket,
        "3",
        widget,
        json!({ "slug": "nantes-metropole" }),
    )
    .await;
    assert_eq!(
        message["payload"]["data"]["territory"]["slug"], "nantes-metropole",
        "{message}"
    );
}

/// Waits a moment for a subscription to start: it sends nothing until a
/// write.
trait AwaitNone {
    async fn await_none(self);
}

impl<F: std::future::Future<Output = Json>> AwaitNone for F {
    async fn await_none(self) {
        let started = tokio::time::timeout(Duration::from_millis(500), self).await;
        assert!(
            started.is_err(),
            "a subscription answered at once: {started:?}"
        );
    }
}

/// graphql-cop's checks, as it sends and judges them: which are found.
async fn graphql_cop(hub: &Hub) -> Vec<&'static str> {
    let mut found = Vec::new();
    let data = |body: &Json, path: &[&str]| {
        let mut value = &body["data"];
        for step in path {
            value = &value[*step];
        }
        !value.is_null() && value != &Json::Bool(false)
    };
    let (_, body, _) = hub
        .post(&json!({ "query": aliases(101, "__typename") }))
        .await;
    if data(&body, &["alias100"]) {
        found.push("alias overloading");
    }
    let batch = hub
        .client
        .post(format!("{}/graphql", hub.base))
        .json(&json!(vec![
            json!({ "query": "query cop { __typename }" });
            10
        ]))
        .send()
        .await
        .unwrap();
    if batch
        .json::<Json>()
        .await
        .is_ok_and(|b| b.as_array().is_some_and(|a| a.len() >= 10))
    {
        found.push("batching");
    }
    let circular = "query cop { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }";
    let (_, body, _) = hub.post(&json!({ "query": circular })).await;
    if body["data"]["__schema"]["types"]
        .as_array()
        .is_some_and(|t| t.len() > 25)
    {
        found.push("circular introspection");
    }
    let (_, body, _) = hub
        .post(&json!({ "query": "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }" }))
        .await;
    if body["errors"].as_array().is_some_and(|e| e.len() == 10) {
        found.push("directive overloading");
    }
    let (_, body, _) = hub
        .post(&json!({ "query": format!("query cop {{ {}}}", "__typename \n".repeat(500)) }))
        .await;
    if data(&body, &["__typename"]) {
        found.push("field duplication");
    }
    let (_, body, _) = hub
        .post(&json!({ "query": "query cop { __schema { directive } }" }))
        .await;
    if body.to_string().contains("Did you mean") {
        found.push("field suggestions");
    }
    let (_, body, _) = hub.get("mutation cop {__typename}").await;
    if data(&body, &["__typename"]) {
        found.push("GET mutation");
    }
    let (_, body, _) = hub.get("query cop {__typename}").await;
    if data(&body, &["__typename"]) {
        found.push("GET queries");
    }
    let page = hub
        .client
        .get(format!("{}/graphql", hub.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    if [
        "graphiql.min.css",
        "GraphQL Playground",
        "GraphiQL",
        "graphql-playground",
    ]
    .iter()
    .any(|word| page.contains(word))
    {
        found.push("IDE on the endpoint");
    }
    let (_, body, _) = hub
        .post(&json!({ "query": "query cop { __schema { types { name fields { name } } } }" }))
        .await;
    if data(&body, &["__schema", "types"]) {
        found.push("introspection");
    }
    let form = hub
        .client
        .post(format!("{}/graphql", hub.base))
        .form(&[("query", "query cop { __typename }")])
        .send()
        .await
        .unwrap();
    if form
        .json::<Json>()
        .await
        .is_ok_and(|b| data(&b, &["__typename"]))
    {
        found.push("url-encoded POST");
    }
    let (_, body, _) = hub
        .post(&json!({ "query": "query cop { __typename }" }))
        .await;
    if body.to_string().to_lowercase().contains("\"tracing\"") {
        found.push("tracing");
    }
    let (_, body, _) = hub.post(&json!({ "query": "qwerty cop { abc }" })).await;
    if body.to_string().to_lowercase().contains("\"exception\"") {
        found.push("unhandled errors");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_cop_finds_only_introspection_and_get_queries_in_the_public_default() {
    let hub = Hub::start(Backend::Sqlite, &[]).await;
    let before = hub.memory_kib();
    assert_eq!(graphql_cop(&hub).await, ["GET queries", "introspection"]);
    hub.still_up(before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_cop_finds_nothing_with_safelist_only() {
    let hub = Hub::start(Backend::Sqlite, &["--safelist-only"]).await;
    let before = hub.memory_kib();
    assert_eq!(graphql_cop(&hub).await, Vec::<&str>::new());
    hub.still_up(before).await;
}
