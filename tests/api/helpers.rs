//! Test fixtures: a fresh database per test — a SQLite file or a PostgreSQL
//! database of its own — migrated by the hub's own migrations, and the hub's
//! API and router on top of it.

use std::{
    str::FromStr,
    sync::atomic::{AtomicU64, Ordering},
};

use axum::Router;
use chrono::Utc;
use entity::text::FoldText;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, EntityTrait, Statement, Value};
use serde_json::{Value as Json, json};
use vigie::{
    db::{self, Db},
    graphql::{Api, Limits},
    server::{self, AppState},
};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Writes each test twice: once on a SQLite file, once on PostgreSQL.
macro_rules! on_both_backends {
    ($(
        $(#[$meta:meta])*
        async fn $name:ident($backend:ident: Backend) $body:block
    )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($backend: Backend) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    run(Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    run(Backend::Postgres).await
                }
            }
        )*
    };
}

/// A local TCP port nothing listens on now, for a `vigie serve` of a test.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The PostgreSQL server tests create their databases in.
pub fn postgres_admin_url() -> String {
    std::env::var("VIGIE_TEST_POSTGRES_URL").expect(
        "VIGIE_TEST_POSTGRES_URL is not set: point it at a PostgreSQL server \
         (e.g. postgres://postgres@127.0.0.1:5432/test)",
    )
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("vigie_test_{}_{n}_{nanos}", std::process::id())
}

/// Drops what a test database left behind, even when the test panics.
enum Cleanup {
    Directory(#[allow(dead_code)] tempfile::TempDir),
    PostgresDatabase { admin_url: String, name: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::PostgresDatabase { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            let database = name.clone();
            // Drop runs inside the test's runtime: use a thread of our own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let admin = Database::connect(&admin_url).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                        ))
                        .await?;
                    admin.close().await
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test database {name}");
            }
        }
    }
}

/// A migrated, empty database of the test's own.
pub struct TestDb {
    pub db: Db,
    /// Its URL, for the `vigie` binary.
    pub url: String,
    _cleanup: Cleanup,
}

/// Shows the hub's warnings and errors with a failing test's output.
fn log_to_test_output() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("vigie=warn")),
            )
            .try_init();
    });
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        log_to_test_output();
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("vigie.db").display()
                );
                (url, Cleanup::Directory(dir))
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = unique_name();
                let admin = Database::connect(&admin_url)
                    .await
                    .unwrap_or_else(|err| panic!("cannot reach PostgreSQL at {admin_url}: {err}"));
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(base, _)| base);
                (
                    format!("{base}/{name}"),
                    Cleanup::PostgresDatabase { admin_url, name },
                )
            }
        };
        let db = db::connect(&url, 5).await.unwrap();
        db::migrate(&db.conn).await.unwrap();
        TestDb {
            db,
            url,
            _cleanup: cleanup,
        }
    }
}

/// The hub's HTTP settings in tests: the defaults, without rate limits
/// (tests make many requests from one address; the limits have tests of
/// their own).
pub fn http_settings() -> server::HttpSettings {
    server::HttpSettings {
        rate_limits: server::limits::RateLimits {
            per_ip: 0,
            per_key: 0,
            trust_forwarded_for: false,
        },
        ..Default::default()
    }
}

/// The hub on a test database.
pub struct TestApp {
    pub api: Api,
    pub db: Db,
    /// Keeps the database until the test ends.
    _test_db: TestDb,
}

impl TestApp {
    /// The hub on an empty, migrated database.
    pub async fn new(backend: Backend) -> TestApp {
        Self::with_limits(backend, Limits::default()).await
    }

    pub async fn with_limits(backend: Backend, limits: Limits) -> TestApp {
        let test_db = TestDb::new(backend).await;
        let db = test_db.db.clone();
        TestApp {
            api: Api::new(db.conn.clone(), limits),
            db,
            _test_db: test_db,
        }
    }

    /// The hub with the reference data loaded.
    pub async fn with_reference(backend: Backend) -> TestApp {
        let app = Self::new(backend).await;
        vigie::reference::load(&app.db.conn).await.unwrap();
        app
    }

    pub fn router(&self) -> Router {
        self.router_with_body_limit(1 << 20)
    }

    pub fn router_with_body_limit(&self, max_body_bytes: usize) -> Router {
        server::app(AppState::new(
            self.api.clone(),
            server::HttpSettings {
                max_body_bytes,
                ..http_settings()
            },
        ))
    }

    /// Runs a request and returns the whole response as JSON.
    pub async fn run(&self, query: &str, variables: Json) -> Json {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        serde_json::to_value(self.api.execute(request).await).unwrap()
    }

    /// Runs a query that must succeed and returns its `data`.
    pub async fn query(&self, query: &str, variables: Json) -> Json {
        let response = self.run(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "query failed: {response:#}\n{query}"
        );
        response["data"].clone()
    }

    /// Runs a query that must fail and returns its errors.
    pub async fn errors(&self, query: &str, variables: Json) -> Vec<Json> {
        let response = self.run(query, variables).await;
        response["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("expected errors, got {response:#}"))
            .clone()
    }

    /// SQL statements run so far on this app's database.
    pub fn statements(&self) -> u64 {
        self.db.stats.statements()
    }

    /// Runs a query that must succeed and counts its SQL statements.
    pub async fn count_statements(&self, query: &str, variables: Json) -> (Json, u64) {
        let before = self.statements();
        let data = self.query(query, variables).await;
        (data, self.statements() - before)
    }

    /// The `id` column of a hand-written query's rows.
    pub async fn ids(&self, sql: &str) -> Vec<i64> {
        let backend = self.db.conn.get_database_backend();
        self.db
            .conn
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
            .iter()
            .map(|row| row.try_get::<i64>("", "id").unwrap())
            .collect()
    }

    /// The number of rows of a table, by hand-written SQL.
    pub async fn count_rows(&self, table: &str) -> i64 {
        count_rows(&self.db.conn, table).await
    }
}

/// Runs hand-written SQL that must succeed.
pub async fn execute_sql(db: &impl ConnectionTrait, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
}

/// The number of rows of `table` in `db`, by hand-written SQL.
pub async fn count_rows(db: &impl ConnectionTrait, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// The sessions on the PostgreSQL database of `db` that match `condition`
/// (a condition on `pg_stat_activity`).
pub async fn sessions(db: &impl ConnectionTrait, condition: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND {condition}"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

/// Waits until a session on the PostgreSQL database of `db` listens for
/// the hub's changes (5 s at most).
pub async fn wait_until_listening(db: &impl ConnectionTrait) {
    let started = std::time::Instant::now();
    while sessions(db, "query LIKE 'LISTEN %'").await == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "nothing listens for the hub's changes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The codes of a response's errors.
pub fn codes(errors: &[Json]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            e["extensions"]["code"]
                .as_str()
                .unwrap_or("<none>")
                .to_owned()
        })
        .collect()
}

/// The global ID of a record.
pub fn gid(type_name: &str, id: i64) -> String {
    vigie::graphql::engine::id::encode(type_name, id).0
}

/// The global IDs of records of one type.
pub fn gids(type_name: &str, ids: impl IntoIterator<Item = i64>) -> Vec<String> {
    ids.into_iter().map(|id| gid(type_name, id)).collect()
}

/// The `id`s of a connection's nodes.
pub fn node_ids(connection: &Json) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("not a connection: {connection}"))
        .iter()
        .map(|node| node["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Sets a model's timestamps and folded text, as the hub does on every
/// write.
pub fn stamped<A: ActiveModelTrait + FoldText>(mut model: A) -> A {
    model.fold_text();
    let now: Value = Utc::now().into();
    for name in ["created_at", "updated_at"] {
        if let Ok(column) = <A::Entity as EntityTrait>::Column::from_str(name) {
            model.set(column, now.clone());
        }
    }
    model
}

/// Inserts a model, stamped, and returns the stored row.
pub async fn put<A>(db: &Db, model: A) -> <A::Entity as EntityTrait>::Model
where
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + FoldText + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    stamped(model).insert(&db.conn).await.unwrap()
}

/// Inserts many models, stamped, in chunks small enough for every backend.
pub async fn put_many<A, C>(db: &C, models: Vec<A>)
where
    A: ActiveModelTrait + FoldText + Send,
    C: ConnectionTrait,
{
    let mut models = models.into_iter().map(stamped).peekable();
    while models.peek().is_some() {
        let chunk: Vec<A> = models.by_ref().take(400).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .unwrap();
    }
}

/// `{ "slug": slug }`.
pub fn slug_vars(slug: &str) -> Json {
    json!({ "slug": slug })
}

/// Sends one request to a router: its status, headers and body as text.
pub async fn send_raw(
    router: &Router,
    request: axum::http::Request<axum::body::Body>,
) -> (axum::http::StatusCode, axum::http::HeaderMap, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// Starts `vigie serve` on the database at `url`, with `args` besides,
/// and waits until it answers: the process, and the hub's base URL.
pub async fn serve_process(url: &str, args: &[&str]) -> (std::process::Child, String) {
    let port = free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--database-url", url])
        .args(args)
        // The official geography and the registers are tested on their own.
        .env("VIGIE_NO_GEOGRAPHY", "true")
        .env("VIGIE_NO_REGISTERS", "true")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_healthy(&base).await;
    (child, base)
}

/// Waits until a `vigie serve` at `base` answers on `/health` (30 s at most).
pub async fn wait_until_healthy(base: &str) {
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while !client
        .get(format!("{base}/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "vigie serve did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits for a child process to exit (10 s at most).
pub async fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let stopped = std::time::Instant::now();
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            return exit;
        }
        assert!(
            stopped.elapsed() < std::time::Duration::from_secs(10),
            "vigie serve did not stop"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Posts a GraphQL request to a running hub at `base` (with an API key if
/// given) and returns its JSON answer.
pub async fn post_graphql(base: &str, key: Option<&str>, query: &str, variables: Json) -> Json {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// The output of a command that must have succeeded; when it did not, the
/// failure shows its exit status and error output.
#[track_caller]
pub fn succeeded(output: std::process::Output) -> std::process::Output {
    assert!(
        output.status.success(),
        "exited with {}:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The text of a GET on the hub (`/ready`, `/metrics`).
pub async fn get_text(router: &Router, path: &str) -> String {
    let response = tower::ServiceExt::oneshot(
        router.clone(),
        axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

/// The hub's `/ready` answer.
pub async fn ready(router: &Router) -> Json {
    serde_json::from_str(&get_text(router, "/ready").await).unwrap()
}
