//! Running the hub for real: CORS, rate limits, metrics, health and
//! readiness, and PostgreSQL going away under load and coming back.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use serde_json::{Value as Json, json};
use tokio::{net::TcpListener, task::JoinHandle};
use vigie::{
    graphql::{Api, Limits},
    server::{self, AppState, HttpSettings, limits::RateLimits},
};

use crate::helpers::{Backend, TestApp, TestDb, send_raw as send};

fn router(app: &TestApp, settings: HttpSettings) -> Router {
    server::app(AppState::new(app.api.clone(), settings))
}

fn graphql(query: &str, operation: Option<&str>) -> Request<Body> {
    let body = json!({ "query": query, "operationName": operation }).to_string();
    Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "https://partner.example")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn public_reads_work_cross_origin_and_configured_origins_are_kept() {
    let app = TestApp::new(Backend::Sqlite).await;
    let preflight = || {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/graphql")
            .header(header::ORIGIN, "https://partner.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap()
    };
    // By default, any origin, and never credentials.
    let open = router(&app, HttpSettings::default());
    let (status, headers, _) = send(&open, preflight()).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(
        headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
    let methods = headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let (status, headers, body) =
        send(&open, graphql("{ territories { totalCount } }", None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");

    // Configured: the listed origins only.
    let settings = HttpSettings {
        cors_origins: vec!["https://partner.example".into()],
        ..Default::default()
    };
    let closed = router(&app, settings);
    let (_, headers, _) = send(&closed, preflight()).await;
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://partner.example"
    );
    assert!(
        headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
    let mut other = preflight();
    other
        .headers_mut()
        .insert(header::ORIGIN, "https://elsewhere.example".parse().unwrap());
    let (_, headers, _) = send(&closed, other).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn clients_over_their_limit_are_told_when_to_come_back() {
    let app = TestApp::new(Backend::Sqlite).await;
    let settings = HttpSettings {
        rate_limits: RateLimits {
            per_ip: 3,
            per_key: 2,
            trust_forwarded_for: true,
        },
        ..Default::default()
    };
    let limited = router(&app, settings);
    let from = |ip: &str, key: Option<&str>| {
        let mut request = graphql("{ territories { totalCount } }", None);
        request.headers_mut().insert(
            "x-forwarded-for",
            format!("10.0.0.9, {ip}").parse().unwrap(),
        );
        if let Some(key) = key {
            request.headers_mut().insert(
                header::AUTHORIZATION,
                format!("Bearer {key}").parse().unwrap(),
            );
        }
        request
    };
    for _ in 0..3 {
        let (status, _, body) = send(&limited, from("192.0.2.1", None)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, headers, body) = send(&limited, from("192.0.2.1", None)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Another address has its own count…
    let (status, _, _) = send(&limited, from("192.0.2.2", None)).await;
    assert_eq!(status, StatusCode::OK);
    // …a made-up key does not dodge the address's…
    let (status, _, _) = send(&limited, from("192.0.2.1", Some("vigie_made_up"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // …and a key has its own, lower here.
    let key = "vigie_0123456789abcdef0123456789abcdef";
    for expected in [
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let (status, _, _) = send(&limited, from("192.0.2.3", Some(key))).await;
        assert_eq!(status, expected);
    }
}

#[tokio::test]
async fn metrics_count_requests_by_operation_and_outcome() {
    let app = TestApp::new(Backend::Sqlite).await;
    let hub = router(&app, HttpSettings::default());
    for _ in 0..2 {
        send(
            &hub,
            graphql(
                "query Dashboard { territories { totalCount } }",
                Some("Dashboard"),
            ),
        )
        .await;
    }
    send(&hub, graphql("query Broken { nope }", Some("Broken"))).await;
    let widget = Request::get("/graphql?id=TerritoryWidget&variables=%7B%22slug%22%3A%22x%22%7D")
        .body(Body::empty())
        .unwrap();
    send(&hub, widget).await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let (status, headers, metrics) = send(&hub, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for line in [
        r#"vigie_graphql_requests_total{operation="Dashboard",outcome="ok"} 2"#,
        r#"vigie_graphql_requests_total{operation="Broken",outcome="GRAPHQL_VALIDATION_FAILED"} 1"#,
        r#"vigie_graphql_request_duration_seconds_count{operation="Dashboard"} 2"#,
        r#"vigie_graphql_requests_total{operation="TerritoryWidget",outcome="ok"} 1"#,
        // The second Dashboard was sent again from the kept answers.
        r#"vigie_anonymous_query_answers_total{from="kept"} 1"#,
        r#"vigie_anonymous_query_answers_total{from="computed"} 3"#,
        "vigie_kept_answer_bytes ",
        "vigie_db_pool_max_connections 10",
        "vigie_db_pool_connections ",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    let (status, _, body) = send(&hub, get("/health")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"ok"}"#)
    );
    let (status, _, body) = send(&hub, get("/ready")).await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::OK,
            r#"{"status":"ready","rateLimits":"per-replica"}"#
        )
    );
    assert!(metrics.contains("vigie_rate_limits_shared 0"), "{metrics}");
}

/// A TCP relay to PostgreSQL that can cut every connection and refuse new
/// ones (PostgreSQL "stopped"), then accept again on the same port.
struct Relay {
    port: u16,
    accepting: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start() -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut relay = Relay {
            port,
            accepting: None,
            connections: Arc::default(),
        };
        relay.accept(listener);
        relay
    }

    fn accept(&mut self, listener: TcpListener) {
        let connections = self.connections.clone();
        self.accepting = Some(tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections.lock().unwrap().push(task);
            }
        }));
    }

    fn stop(&mut self) {
        if let Some(accepting) = self.accepting.take() {
            accepting.abort();
        }
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    async fn resume(&mut self) {
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let started = Instant::now();
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(listener) => break listener,
                Err(_) if started.elapsed() < Duration::from_secs(5) => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                Err(err) => panic!("cannot listen again on {addr}: {err}"),
            }
        };
        self.accept(listener);
    }
}

/// What the hub logs on this thread while it lives, as text.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Logs what the hub writes on this thread until the guard is dropped.
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// The lines logged that contain `text`.
    fn lines_with(&self, text: &str) -> usize {
        let logs = self.0.lock().unwrap();
        String::from_utf8_lossy(&logs)
            .lines()
            .filter(|line| line.contains(text))
            .count()
    }
}

// On one thread, so that every task of the hub logs where the test reads.
#[tokio::test(flavor = "current_thread")]
async fn postgres_going_away_is_db_unavailable_and_its_return_is_served_without_a_restart() {
    let logs = Logs::default();
    let _capture = logs.capture();
    let test_db = TestDb::new(Backend::Postgres).await;
    let mut relay = Relay::start().await;
    let (base, name) = test_db.url.rsplit_once('/').unwrap();
    let (_, after_host) = base.rsplit_once('@').unwrap_or(("", base));
    let through_relay = test_db
        .url
        .replace(after_host, &format!("127.0.0.1:{}", relay.port));
    assert!(through_relay.ends_with(name));
    let timeout = Duration::from_millis(800);
    let db = vigie::db::connect_with_timeout(&through_relay, 4, timeout)
        .await
        .unwrap();
    let hub = server::app(AppState::new(
        Api::new(db.conn.clone(), Limits::default()),
        HttpSettings::default(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(server::serve_on(hub, listener));
    let client = reqwest::Client::new();
    let query = || {
        client
            .post(format!("{url}/graphql"))
            .json(&json!({ "query": "{ territories { totalCount } }" }))
            .send()
    };
    assert_eq!(query().await.unwrap().status(), StatusCode::OK);

    relay.stop();
    // Under load: every request is told, within the pool's timeout: it
    // waits for a connection once, and is told at once (anonymous, its
    // answer might have been kept: the data version is what it reads first).
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..8).map(|_| query())).await;
    let elapsed = started.elapsed();
    for answer in answers {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.headers()[header::RETRY_AFTER], "1");
        let body: Json = answer.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "DB_UNAVAILABLE",
            "{body}"
        );
    }
    assert!(elapsed < timeout * 2, "answers took {elapsed:?}");
    // One warning for each request: not a second one for the data version,
    // nor an error from the trace.
    assert_eq!(logs.lines_with("database unavailable"), 8);
    assert_eq!(logs.lines_with("data version"), 0);
    assert_eq!(logs.lines_with(" ERROR "), 0);
    let started = Instant::now();
    let health = client.get(format!("{url}/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "health took {:?}",
        started.elapsed()
    );
    let ready = client.get(format!("{url}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    relay.resume().await;
    let back = Instant::now();
    loop {
        let status = query().await.unwrap().status();
        if status == StatusCode::OK {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(2),
            "still {status} 2 s after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready = client.get(format!("{url}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    relay.stop();
}
