//! The hub under load, over HTTP, at synthetic scale 1, on SQLite and on
//! PostgreSQL: throughput and latency (p50, p99) at 1 and 16 concurrent
//! clients for five named queries, each with its SQL statement count; the
//! headline query against a hand-written raw-SQL baseline serving the same
//! data over HTTP, measured in the same run; the hub's peak resident memory.
//!
//! ```text
//! cargo bench --bench hub                       # both databases, scale 1
//! cargo bench --bench hub -- --scale 0.1 --seconds 5 --only sqlite
//! cargo bench --bench hub -- --kept-answers      # answers kept, as served by default
//! cargo bench --bench hub -- --loaders --scale 0.2 # seed-synthetic and import-geography, rows/s
//! cargo bench --bench hub -- --mixed             # readers and a writer, answers kept or not
//! cargo bench --bench hub -- --writers           # 8 writers on PostgreSQL, before and after
//! cargo bench --bench hub -- --replicas          # two replicas against one, limits in Redis
//! cargo bench --bench hub -- --validated         # headline query, documents validated once or each time
//! ```
//!
//! `--mixed` and `--writers` are described in `hub/scale_out.rs`.
//!
//! The hub computes every answer (`--answer-cache-mb 0`) unless
//! `--kept-answers` is given: then it keeps its answers to these anonymous
//! queries as it does by default, and sends a kept answer again while no
//! write has changed the data, so most requests measure a kept answer.
//!
//! PostgreSQL: a database of its own is created (and dropped) on the server
//! of `VIGIE_BENCH_POSTGRES_URL` (default: the local one, without TLS),
//! keeping the URL's options. Results go to
//! standard output as Markdown, for BENCHMARKS.md.

// The hub's merged root query nests one level per part of the schema.
#![recursion_limit = "256"]

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Json, Router, extract::Query, routing::get};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};
use serde_json::{Value as JsonValue, json};
use vigie::{db, graphql::Api, server::HEADLINE_QUERY};

#[path = "hub/scale_out.rs"]
mod scale_out;

const VIGIE: &str = env!("CARGO_BIN_EXE_vigie");

// The baseline server allocates as the hub does, so the two differ only in
// the work they do.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    scale: f64,
    seconds: u64,
    backends: Vec<&'static str>,
    /// Whether the hub keeps its answers (see the module's documentation).
    kept_answers: bool,
    /// Measure the bulk writers instead of the hub.
    loaders: bool,
    /// Measure readers and a writer together (see `scale_out`).
    mixed: bool,
    /// Measure concurrent writers (see `scale_out`).
    writers: bool,
    /// Measure two replicas against one (see `scale_out`).
    replicas: bool,
    /// Measure the headline query before and after documents are known
    /// validated (see `scale_out`).
    validated: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let backends = match value("--only").as_deref() {
        Some("sqlite") => vec!["sqlite"],
        Some("postgres") => vec!["postgres"],
        _ => vec!["sqlite", "postgres"],
    };
    Options {
        scale: value("--scale").map_or(1.0, |s| s.parse().expect("--scale takes a number")),
        seconds: value("--seconds").map_or(10, |s| s.parse().expect("--seconds takes a number")),
        backends,
        kept_answers: args.iter().any(|a| a == "--kept-answers"),
        loaders: args.iter().any(|a| a == "--loaders"),
        mixed: args.iter().any(|a| a == "--mixed"),
        writers: args.iter().any(|a| a == "--writers"),
        replicas: args.iter().any(|a| a == "--replicas"),
        validated: args.iter().any(|a| a == "--validated"),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A named query, with the variables of each successive request.
struct Named {
    name: &'static str,
    query: &'static str,
    variables: fn(usize) -> JsonValue,
}

const FILTERED: &str = r#"query($region: String!) {
  deployments(
    first: 50
    filter: { status: { in: [PILOT, PRODUCTION] }, territory: { region: { eq: $region } }, summary: { contains: "usagers" } }
    orderBy: [{ field: START_MONTH, direction: DESC }, { field: TITLE }]
  ) { totalCount nodes { title status startMonth territory { name } } }
}"#;

const DASHBOARD: &str = r#"query($status: [DeploymentStatus!]) {
  deployments(filter: { status: { in: $status } }) {
    groupBy(by: [REGION, STATUS]) { keys { value label } count }
  }
  concertations {
    groupBy(by: [YEAR], orderBy: KEY_ASC) { keys { value } count sum { participantCount hours } avg { participantCount } }
  }
}"#;

const SEARCH: &str = r#"query($q: String!) {
  search(query: $q, first: 20) { nodes {
    score
    node { ... on Contribution { statement } ... on Deployment { title } ... on Territory { name } }
  } }
}"#;

const DEEP: &str = r#"query($after: String) {
  territories(first: 10, after: $after) { nodes { name
    deployments(first: 10) { nodes { title
      risks { nodes { severity
        category { title } } } } } } }
}"#;

const REGIONS: &[&str] = &[
    "Bretagne",
    "Occitanie",
    "Île-de-France",
    "Grand Est",
    "Normandie",
];
const WORDS: &[&str] = &[
    "données personnelles",
    "transparence algorithmes",
    "registre",
    "fracture numérique",
    "comité citoyen",
];

fn slug(n: usize) -> String {
    format!("territoire-synthetique-{:05}", n % 1000 + 1)
}

/// A number no other request of the process has had: a request carrying
/// it was never answered before, so no kept answer can serve it.
fn fresh() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The named queries; with `kept_answers`, also the headline query with
/// each request new (a variable the query does not use makes it so): what
/// a request the hub has no kept answer for costs when it keeps answers.
fn named_queries(kept_answers: bool) -> Vec<Named> {
    let mut named = vec![Named {
        name: "headline",
        query: HEADLINE_QUERY,
        variables: |n| json!({ "slug": slug(n) }),
    }];
    if kept_answers {
        named.push(Named {
            name: "headline, each request new",
            query: HEADLINE_QUERY,
            variables: |n| json!({ "slug": slug(n), "request": fresh() }),
        });
    }
    named.extend([
        Named {
            name: "filtered, ordered list",
            query: FILTERED,
            variables: |n| json!({ "region": REGIONS[n % REGIONS.len()] }),
        },
        Named {
            name: "dashboard groupBy",
            query: DASHBOARD,
            variables: |n| {
                if n % 2 == 0 {
                    json!({ "status": ["PRODUCTION"] })
                } else {
                    json!({ "status": null })
                }
            },
        },
        Named {
            name: "search",
            query: SEARCH,
            variables: |n| json!({ "q": WORDS[n % WORDS.len()] }),
        },
        Named {
            name: "4-level deep",
            query: DEEP,
            variables: |_| json!({ "after": null }),
        },
    ]);
    named
}

/// Latencies of a run, and its throughput.
struct Measure {
    requests: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    /// Every request sent, the warm-up's included.
    sent: usize,
}

impl Measure {
    fn throughput(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// Sends requests from `clients` concurrent clients for `seconds`, after a
/// warm-up, and measures them.
/// Sends the n-th request of a load, and waits for its answer.
type Sender = Arc<dyn Fn(usize) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>;

async fn load(clients: usize, seconds: u64, send: Sender) -> Measure {
    let warm_up = Instant::now() + Duration::from_secs(2);
    let end = warm_up + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = client * 7919;
            while Instant::now() < end {
                let started = Instant::now();
                send(n).await;
                if started >= warm_up {
                    latencies.push(started.elapsed());
                }
                n += 1;
            }
            (latencies, n - client * 7919)
        }));
    }
    measured(tasks, seconds).await
}

/// The measure of clients' tasks, each giving the latencies of its
/// requests after the warm-up and how many it sent in all, over `seconds`.
async fn measured(
    tasks: Vec<tokio::task::JoinHandle<(Vec<Duration>, usize)>>,
    seconds: u64,
) -> Measure {
    let mut latencies = Vec::new();
    let mut sent = 0;
    for task in tasks {
        let (measured, all) = task.await.unwrap();
        latencies.extend(measured);
        sent += all;
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    Measure {
        requests: latencies.len(),
        seconds: seconds as f64,
        p50: at(0.50),
        p99: at(0.99),
        sent,
    }
}

/// The HTTP client of a load: up to 32 connections kept open to each
/// server, for 16 clients and more.
fn load_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .unwrap()
}

fn graphql_sender(client: reqwest::Client, url: String, named: &Named) -> Sender {
    let query = named.query;
    let variables = named.variables;
    Arc::new(move |n| {
        let client = client.clone();
        let url = url.clone();
        Box::pin(async move {
            answered(
                client
                    .post(&url)
                    .json(&json!({ "query": query, "variables": variables(n) })),
            )
            .await;
        })
    })
}

/// Peak resident memory of a process, in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time (user and system) a process has used so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are the 14th and 15th fields of the line, counted in
    // clock ticks (100 per second on Linux).
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU time used so far by every PostgreSQL server process on this machine.
fn postgres_cpu_seconds() -> f64 {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}

/// CPU time of a server process and of the database, per request.
struct Cpu {
    server: f64,
    database: Option<f64>,
}

impl Cpu {
    fn now(pid: u32, postgres: bool) -> Self {
        Cpu {
            server: cpu_seconds(pid),
            database: postgres.then(postgres_cpu_seconds),
        }
    }

    /// Milliseconds per request between `before` and now.
    fn per_request(before: &Self, after: &Self, requests: usize) -> Self {
        let per = |seconds: f64| seconds * 1000.0 / requests.max(1) as f64;
        Cpu {
            server: per(after.server - before.server),
            database: after.database.zip(before.database).map(|(a, b)| per(a - b)),
        }
    }

    fn columns(&self) -> String {
        format!(
            "{:.1} | {}",
            self.server,
            self.database
                .map_or("(in the server)".to_owned(), |d| format!("{d:.1}"))
        )
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `vigie serve` on `url` at `port`, keeping `kept_mib` of answers,
/// without rate limits: the load clients are one IP (and one key) making
/// many requests.
fn hub_server(url: &str, kept_mib: u32, port: u16) -> Server {
    hub_server_with(url, kept_mib, port, &["--rate-limit-ip", "0"])
}

/// `vigie serve` as [`hub_server`] starts it, with `more` arguments (a
/// rate limit per IP among them).
fn hub_server_with(url: &str, kept_mib: u32, port: u16, more: &[&str]) -> Server {
    Server(
        Command::new(VIGIE)
            .args([
                "serve",
                "--no-reference",
                "--rate-limit-key",
                "0",
                "--answer-cache-mb",
                &kept_mib.to_string(),
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                url,
            ])
            .args(more)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Sends a GraphQL request and gives its answer, which has no errors.
async fn answered(request: reqwest::RequestBuilder) -> JsonValue {
    let body: JsonValue = request
        .send()
        .await
        .expect("the hub answers")
        .json()
        .await
        .expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
    body
}

async fn wait_until_up(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not come up");
}

// ---------------------------------------------------------------------------
// The raw-SQL baseline: the headline query's data, by hand-written SQL.

/// `?` placeholders, numbered for PostgreSQL.
fn sql(backend: DbBackend, text: &str, values: Vec<Value>) -> Statement {
    let text = match backend {
        DbBackend::Postgres => {
            let mut numbered = String::new();
            let mut n = 0;
            for c in text.chars() {
                if c == '?' {
                    n += 1;
                    numbered.push_str(&format!("${n}"));
                } else {
                    numbered.push(c);
                }
            }
            numbered
        }
        _ => text.to_owned(),
    };
    Statement::from_sql_and_values(backend, text, values)
}

fn in_list(ids: &[i64]) -> (String, Vec<Value>) {
    let marks = vec!["?"; ids.len().max(1)].join(", ");
    let values = if ids.is_empty() {
        vec![Value::from(0_i64)]
    } else {
        ids.iter().map(|&id| id.into()).collect()
    };
    (marks, values)
}

fn text(row: &sea_orm::QueryResult, column: &str) -> JsonValue {
    row.try_get::<Option<String>>("", column)
        .unwrap()
        .map_or(JsonValue::Null, JsonValue::String)
}

/// A column written so that SQLite does not pick its index to drive a
/// query that another condition (a parent key) should drive: what a careful
/// hand-writer of SQLite queries does, and what the hub does itself.
fn unindexed(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Sqlite => format!("+{column}"),
        _ => column.to_owned(),
    }
}

/// The headline query's answer for `slug`, built by hand from raw SQL.
async fn raw_headline(db: &DatabaseConnection, slug: &str) -> JsonValue {
    let b = db.get_database_backend();
    let kind = |alias: &str| unindexed(b, &format!("{alias}.kind"));
    let Some(t) = db
        .query_one_raw(sql(
            b,
            "SELECT id, name, kind, region FROM territory WHERE slug = ?",
            vec![slug.into()],
        ))
        .await
        .unwrap()
    else {
        return json!({ "territory": null });
    };
    let territory: i64 = t.try_get("", "id").unwrap();
    let count = |statement| async move {
        db.query_one_raw(statement)
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap()
    };
    let deployment_count = count(sql(
        b,
        "SELECT COUNT(*) AS n FROM deployment WHERE territory_id = ?",
        vec![territory.into()],
    ))
    .await;
    let deployments = db
        .query_all_raw(sql(b, "SELECT id, title, status, ai_act_tier FROM deployment WHERE territory_id = ? ORDER BY id LIMIT 20", vec![territory.into()]))
        .await
        .unwrap();
    let ids: Vec<i64> = deployments
        .iter()
        .map(|d| d.try_get("", "id").unwrap())
        .collect();
    let (marks, values) = in_list(&ids);
    let risks = db
        .query_all_raw(sql(b, &format!(
            "SELECT r.deployment_id, c.key, c.title, r.severity, r.likelihood, r.mitigation_status, r.mitigation \
             FROM deployment_risk r JOIN risk_category c ON c.id = r.risk_category_id \
             WHERE r.deployment_id IN ({marks}) ORDER BY r.id"), values.clone()))
        .await
        .unwrap();
    let deployment_concerns = db
        .query_all_raw(sql(b, &format!(
            "SELECT l.deployment_id, c.statement FROM contribution c JOIN contribution_deployment l ON l.contribution_id = c.id \
             WHERE l.deployment_id IN ({marks}) AND {} = 'CONCERN' ORDER BY c.id", kind("c")), values))
        .await
        .unwrap();
    let concern_count = count(sql(
        b,
        &format!(
            "SELECT COUNT(*) AS n FROM contribution c JOIN concertation k ON k.id = c.concertation_id \
             WHERE k.territory_id = ? AND {} = 'CONCERN'",
            kind("c")
        ),
        vec![territory.into()],
    ))
    .await;
    let concerns = db
        .query_all_raw(sql(b, &format!(
            "SELECT c.id, c.statement, k.title FROM contribution c JOIN concertation k ON k.id = c.concertation_id \
             WHERE k.territory_id = ? AND {} = 'CONCERN' ORDER BY c.id LIMIT 20", kind("c")), vec![territory.into()]))
        .await
        .unwrap();
    let concern_ids: Vec<i64> = concerns
        .iter()
        .map(|c| c.try_get("", "id").unwrap())
        .collect();
    let (marks, values) = in_list(&concern_ids);
    let concern_risks = db
        .query_all_raw(sql(b, &format!(
            "SELECT l.contribution_id, c.key, c.title FROM contribution_risk_category l \
             JOIN risk_category c ON c.id = l.risk_category_id WHERE l.contribution_id IN ({marks}) ORDER BY c.id"), values))
        .await
        .unwrap();
    let participations = db
        .query_all_raw(sql(b,
            "SELECT p.mode, g.id, g.title FROM programme_participation p JOIN concertation_programme g ON g.id = p.programme_id \
             WHERE p.territory_id = ? ORDER BY p.id", vec![territory.into()]))
        .await
        .unwrap();
    let programmes: Vec<i64> = participations
        .iter()
        .map(|p| p.try_get("", "id").unwrap())
        .collect();
    let (marks, values) = in_list(&programmes);
    let programme_concerns = db
        .query_all_raw(sql(
            b,
            &format!(
                "SELECT id, programme_id, rank, statement FROM contribution \
             WHERE programme_id IN ({marks}) AND {} = 'CONCERN' ORDER BY id",
                unindexed(b, "kind")
            ),
            values,
        ))
        .await
        .unwrap();

    let deployments: Vec<JsonValue> = deployments
        .iter()
        .map(|d| {
            let id: i64 = d.try_get("", "id").unwrap();
            fn of(rows: &[sea_orm::QueryResult], id: i64) -> Vec<&sea_orm::QueryResult> {
                rows.iter().filter(|r| r.try_get::<i64>("", "deployment_id").unwrap() == id).collect()
            }
            json!({
                "title": text(d, "title"),
                "status": text(d, "status"),
                "aiActTier": text(d, "ai_act_tier"),
                "risks": { "nodes": of(&risks, id).iter().map(|r| json!({
                    "category": { "key": text(r, "key"), "title": text(r, "title") },
                    "severity": text(r, "severity"),
                    "likelihood": text(r, "likelihood"),
                    "mitigationStatus": text(r, "mitigation_status"),
                    "mitigation": text(r, "mitigation"),
                })).collect::<Vec<_>>() },
                "concerns": { "nodes": of(&deployment_concerns, id).iter().take(20).map(|c| json!({ "statement": text(c, "statement") })).collect::<Vec<_>>() },
            })
        })
        .collect();
    let concerns: Vec<JsonValue> = concerns
        .iter()
        .map(|c| {
            let id: i64 = c.try_get("", "id").unwrap();
            json!({
                "statement": text(c, "statement"),
                "concertation": { "title": text(c, "title") },
                "riskCategories": { "nodes": concern_risks.iter()
                    .filter(|r| r.try_get::<i64>("", "contribution_id").unwrap() == id)
                    .map(|r| json!({ "key": text(r, "key"), "title": text(r, "title") }))
                    .collect::<Vec<_>>() },
            })
        })
        .collect();
    let participations: Vec<JsonValue> = participations
        .iter()
        .map(|p| {
            let programme: i64 = p.try_get("", "id").unwrap();
            json!({
                "mode": text(p, "mode"),
                "programme": {
                    "title": text(p, "title"),
                    "concerns": { "nodes": programme_concerns.iter()
                        .filter(|c| c.try_get::<i64>("", "programme_id").unwrap() == programme)
                        .take(10)
                        .map(|c| json!({
                            "rank": c.try_get::<Option<i32>>("", "rank").unwrap(),
                            "statement": text(c, "statement"),
                            "riskCategories": { "nodes": [] },
                        }))
                        .collect::<Vec<_>>() },
                },
            })
        })
        .collect();
    json!({ "territory": {
        "name": text(&t, "name"),
        "kind": text(&t, "kind"),
        "region": text(&t, "region"),
        "deployments": { "totalCount": deployment_count, "nodes": deployments },
        "concerns": { "totalCount": concern_count, "nodes": concerns },
        "participations": { "nodes": participations },
    } })
}

#[derive(serde::Deserialize)]
struct SlugQuery {
    slug: String,
}

/// Serves the baseline over HTTP, as the hub serves GraphQL: `GET
/// /headline?slug=…` answers `{"data": …}`.
async fn serve_baseline(url: &str, addr: &str) {
    let db = db::connect(url, db::default_max_connections(url))
        .await
        .expect("the database")
        .conn;
    let app = Router::new()
        .route(
            "/headline",
            get(move |Query(q): Query<SlugQuery>| {
                let db = db.clone();
                async move { Json(json!({ "data": raw_headline(&db, &q.slug).await })) }
            }),
        )
        .route("/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}

// ---------------------------------------------------------------------------

/// The SQL statements one run of each query costs.
async fn statement_counts(url: &str, kept_answers: bool) -> Vec<u64> {
    let db = db::connect(url, 4).await.unwrap();
    let api = Api::new(db.conn.clone(), Default::default());
    let mut counts = Vec::new();
    for named in named_queries(kept_answers) {
        let before = db.stats.statements();
        let request = async_graphql::Request::new(named.query)
            .variables(async_graphql::Variables::from_json((named.variables)(1)));
        let response = api.execute(request).await;
        assert!(
            response.errors.is_empty(),
            "{}: {:?}",
            named.name,
            response.errors
        );
        counts.push(db.stats.statements() - before);
    }
    counts
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// A fresh database for a run: a SQLite file in `directory`, or a
/// PostgreSQL database of its own (with the connection that drops it, and
/// its name); its URL.
async fn fresh_database(
    backend: &str,
    directory: &Path,
    name: &str,
) -> (String, Option<(DatabaseConnection, String)>) {
    match backend {
        "sqlite" => {
            let file = directory.join(format!("{name}.db"));
            (format!("sqlite://{}?mode=rwc", file.display()), None)
        }
        _ => {
            // The server is on this machine: no TLS (see BENCHMARKS.md).
            let admin_url = std::env::var("VIGIE_BENCH_POSTGRES_URL").unwrap_or_else(|_| {
                "postgres://postgres@127.0.0.1:5432/test?sslmode=disable".into()
            });
            let name = format!("vigie_bench_{name}_{}", std::process::id());
            let admin = Database::connect(&admin_url)
                .await
                .expect("PostgreSQL for the benchmark");
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            // The data is on SSD or in memory: the README's advice.
            admin
                .execute_unprepared(&format!("ALTER DATABASE {name} SET random_page_cost = 1.1"))
                .await
                .unwrap();
            let (base, database) = admin_url.rsplit_once('/').unwrap();
            let options = database.split_once('?').map_or("", |(_, o)| o);
            let url = if options.is_empty() {
                format!("{base}/{name}")
            } else {
                format!("{base}/{name}?{options}")
            };
            (url, Some((admin, name)))
        }
    }
}

/// Drops a PostgreSQL database [`fresh_database`] made.
async fn drop_database(admin: Option<(DatabaseConnection, String)>) {
    if let Some((admin, name)) = admin {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

async fn bench(backend: &str, options: &Options) {
    // Removed when the run ends.
    let directory = tempfile::tempdir().unwrap();
    let (url, admin) = fresh_database(backend, directory.path(), "hub").await;

    let started = Instant::now();
    let seeded = Command::new(VIGIE)
        .args([
            "seed-synthetic",
            "--scale",
            &options.scale.to_string(),
            "--database-url",
            &url,
        ])
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(seeded.success());
    let seeding = started.elapsed();

    let hub_port = free_port();
    let kept_mib = if options.kept_answers {
        vigie::server::answers::DEFAULT_MIB
    } else {
        0
    };
    let hub = hub_server(&url, kept_mib, hub_port);
    let (baseline, baseline_url) = baseline_server(&url).await;
    let hub_url = format!("http://127.0.0.1:{hub_port}");
    wait_until_up(&format!("{hub_url}/health")).await;

    let client = load_client();

    // The baseline returns the same data as the headline query.
    for n in [0, 1, 2, 3] {
        let ours: JsonValue = client
            .post(format!("{hub_url}/graphql"))
            .json(&json!({ "query": HEADLINE_QUERY, "variables": { "slug": slug(n) } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let raw: JsonValue = client
            .get(format!("{baseline_url}/headline"))
            .query(&[("slug", slug(n))])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            ours["data"], raw["data"],
            "the baseline must return the headline query's data"
        );
    }

    let counts = statement_counts(&url, options.kept_answers).await;
    println!(
        "\n### {backend} (scale {}, seeded in {:.0} s, answers {})\n",
        options.scale,
        seeding.as_secs_f64(),
        if options.kept_answers {
            "kept"
        } else {
            "computed"
        }
    );
    // Kept answers cost one statement (the data version), and a request
    // without one, one more than computing it: the column gives what
    // computing an answer takes.
    println!(
        "| query | SQL statements (computed) | clients | requests/s | p50 (ms) | p99 (ms) | server CPU (ms/request) | database CPU (ms/request) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let postgres = admin.is_some();
    let baseline_sender = baseline_sender(client.clone(), &baseline_url);
    for (named, statements) in named_queries(options.kept_answers).iter().zip(&counts) {
        for clients in [1, 16] {
            let before = Cpu::now(hub.0.id(), postgres);
            let measure = load(
                clients,
                options.seconds,
                graphql_sender(client.clone(), format!("{hub_url}/graphql"), named),
            )
            .await;
            let cpu = Cpu::per_request(&before, &Cpu::now(hub.0.id(), postgres), measure.sent);
            println!(
                "| {} | {} | {} | {:.0} | {} | {} | {} |",
                named.name,
                statements,
                clients,
                measure.throughput(),
                ms(measure.p50),
                ms(measure.p99),
                cpu.columns()
            );
            if !named.name.starts_with("headline") {
                continue;
            }
            // The baseline right after the headline query, so that both
            // meet the machine in the same state: its speed drifts.
            let before = Cpu::now(baseline.0.id(), postgres);
            let raw = load(clients, options.seconds, baseline_sender.clone()).await;
            let cpu = Cpu::per_request(&before, &Cpu::now(baseline.0.id(), postgres), raw.sent);
            // The baseline's ten statements: see `raw_headline`.
            println!(
                "| raw-SQL baseline (headline data) | 10 | {} | {:.0} | {} | {} | {} |",
                clients,
                raw.throughput(),
                ms(raw.p50),
                ms(raw.p99),
                cpu.columns()
            );
            println!(
                "| → {} / baseline | | {} | {:.2}× fewer | {:.2}× | {:.2}× | | |",
                named.name,
                clients,
                raw.throughput() / measure.throughput(),
                measure.p50.as_secs_f64() / raw.p50.as_secs_f64(),
                measure.p99.as_secs_f64() / raw.p99.as_secs_f64()
            );
        }
    }
    println!(
        "\nPeak resident memory of the hub: {:.0} MiB.",
        peak_rss_mib(hub.0.id())
    );
    drop(hub);
    drop(baseline);
    drop_database(admin).await;
}

/// The raw-SQL baseline (`baseline-server`) on `url`, once up; its
/// address.
async fn baseline_server(url: &str) -> (Server, String) {
    let port = free_port();
    let server = Server(
        Command::new(std::env::current_exe().unwrap())
            .args(["baseline-server", url, &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let address = format!("http://127.0.0.1:{port}");
    wait_until_up(&format!("{address}/health")).await;
    (server, address)
}

/// Asks the baseline at `address` the headline data of the n-th
/// territory.
fn baseline_sender(client: reqwest::Client, address: &str) -> Sender {
    let url = format!("{address}/headline");
    Arc::new(move |n| {
        let client = client.clone();
        let url = url.clone();
        Box::pin(async move {
            let response = client
                .get(&url)
                .query(&[("slug", slug(n))])
                .send()
                .await
                .unwrap();
            let _: JsonValue = response.json().await.unwrap();
        })
    })
}

/// Rows of the graph's tables a database holds.
async fn domain_rows(url: &str) -> i64 {
    let db = Database::connect(url).await.unwrap();
    let mut rows = 0;
    for table in entity::records::TABLES {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        rows += row.try_get::<i64>("", "n").unwrap();
    }
    db.close().await.unwrap();
    rows
}

/// Runs `vigie ARGS` on `url`; how long it took.
fn timed_vigie(args: &[&str], url: &str) -> Duration {
    let started = Instant::now();
    let status = Command::new(VIGIE)
        .args(args)
        .args(["--database-url", url])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "vigie {args:?}");
    started.elapsed()
}

/// The bulk writers in one run: the rows per second of `seed-synthetic`
/// and of `import-geography`, each into an empty database, and their
/// ratio.
async fn loaders(backend: &str, options: &Options) {
    let directory = tempfile::tempdir().unwrap();
    let (synthetic_url, synthetic_admin) =
        fresh_database(backend, directory.path(), "synthetic").await;
    let (geography_url, geography_admin) =
        fresh_database(backend, directory.path(), "geography").await;
    let scale = options.scale.to_string();
    let migrate = |url: &str| timed_vigie(&["migrate"], url);
    migrate(&synthetic_url);
    migrate(&geography_url);
    let synthetic = timed_vigie(&["seed-synthetic", "--scale", &scale], &synthetic_url);
    let geography = timed_vigie(&["import-geography"], &geography_url);
    let rate = |rows: i64, took: Duration| rows as f64 / took.as_secs_f64();
    let synthetic_rows = domain_rows(&synthetic_url).await;
    let geography_rows = domain_rows(&geography_url).await;
    let (s, g) = (
        rate(synthetic_rows, synthetic),
        rate(geography_rows, geography),
    );
    println!(
        "\n### {backend}: bulk writers (rows of the graph's tables, each into an empty database)\n"
    );
    println!("| writer | rows | seconds | rows/s |");
    println!("|---|---:|---:|---:|");
    println!(
        "| seed-synthetic --scale {scale} | {synthetic_rows} | {:.1} | {s:.0} |",
        synthetic.as_secs_f64()
    );
    println!(
        "| import-geography | {geography_rows} | {:.1} | {g:.0} |",
        geography.as_secs_f64()
    );
    println!(
        "| → import-geography / seed-synthetic | | | {:.2}× |",
        g / s
    );
    drop_database(synthetic_admin).await;
    drop_database(geography_admin).await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "baseline-server") {
        runtime.block_on(serve_baseline(&args[i + 1], &args[i + 2]));
        return;
    }
    let options = options();
    runtime.block_on(async {
        if options.writers {
            return scale_out::writers(&options).await;
        }
        if options.replicas {
            return scale_out::replicas(&options).await;
        }
        for backend in options.backends.clone() {
            if options.mixed {
                scale_out::mixed(backend, &options).await;
            } else if options.validated {
                scale_out::validated(backend, &options).await;
            } else if options.loaders {
                loaders(backend, &options).await;
            } else {
                bench(backend, &options).await;
            }
        }
    });
}
