//! Operating the hub: Prometheus metrics on `/metrics`, liveness on
//! `/health`, readiness on `/ready`.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Metric, Registry},
};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use serde_json::json;

use super::AppState;

/// Most distinct operation names the metrics keep apart; later ones are
/// counted as `other`, so that clients cannot grow the metrics without
/// bound.
const MAX_OPERATION_NAMES: usize = 200;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnswerLabel {
    /// `kept` (sent again) or `computed`.
    from: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StandbyQueryLabel {
    /// `read` (answered there) or `failed` (run again on the primary).
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ValidationLabel {
    /// `remembered` (validated before, rules skipped) or `validated`.
    from: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StandbyLabel {
    standby: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

/// The hub's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabel, Histogram>,
    pool_size: Gauge,
    pool_idle: Gauge,
    answers: Family<AnswerLabel, Counter>,
    kept_bytes: Gauge,
    limits_shared: Gauge,
    standby_queries: Family<StandbyQueryLabel, Counter>,
    validations: Family<ValidationLabel, Gauge>,
    standbys_usable: Gauge,
    standby_lag: Family<StandbyLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    names: Mutex<HashSet<String>>,
}

/// `metric`, registered under `name` with its `help`.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Metrics {
    pub fn new(max_connections: u32) -> Self {
        let mut registry = Registry::with_prefix("vigie");
        let r = &mut registry;
        let requests = registered(
            r,
            "graphql_requests",
            "GraphQL requests, by operation name and outcome (ok or the first error's code)",
            Family::default(),
        );
        let latency = registered(
            r,
            "graphql_request_duration_seconds",
            "Time to answer a GraphQL request, by operation name",
            Family::new_with_constructor(latency_histogram as fn() -> Histogram),
        );
        let pool_size = registered(
            r,
            "db_pool_connections",
            "Database connections open in the pool",
            Gauge::default(),
        );
        let pool_idle = registered(
            r,
            "db_pool_idle_connections",
            "Open database connections not in use",
            Gauge::default(),
        );
        let pool_max: Gauge = registered(
            r,
            "db_pool_max_connections",
            "Most database connections the pool opens",
            Gauge::default(),
        );
        pool_max.set(i64::from(max_connections));
        let answers = registered(
            r,
            "anonymous_query_answers",
            "Answers to anonymous queries the hub may keep, by where they came from: kept (sent again, not computed) or computed",
            Family::default(),
        );
        let kept_bytes = registered(
            r,
            "kept_answer_bytes",
            "Bytes the kept answers take",
            Gauge::default(),
        );
        let limits_shared = registered(
            r,
            "rate_limits_shared",
            "1 while rate limits are shared by the replicas through Redis; 0 while this replica counts alone (no Redis configured, or Redis not answering)",
            Gauge::default(),
        );
        let standby_queries = registered(
            r,
            "standby_queries",
            "Anonymous queries sent to a standby, by outcome: read there, or failed there and run again on the primary",
            Family::default(),
        );
        let standbys_usable = registered(
            r,
            "standbys_usable",
            "Standbys anonymous queries may read now (streaming, within --max-replica-lag-ms)",
            Gauge::default(),
        );
        let standby_lag = registered(
            r,
            "standby_lag_seconds",
            "How far each standby is behind the primary, at its last probe (absent while it does not answer)",
            Family::default(),
        );
        let validations = registered(
            r,
            "validations",
            "GraphQL requests validated, by how: remembered (the same document, operation and variables validated before without errors: only cost and depth counted) or validated (every rule)",
            Family::default(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
            answers,
            kept_bytes,
            limits_shared,
            standby_queries,
            validations,
            standbys_usable,
            standby_lag,
            names: Mutex::new(HashSet::new()),
        }
    }

    /// The label of an operation name: the name if it is a plain GraphQL
    /// name among the first ones seen, `unnamed` or `other` otherwise.
    fn label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation.filter(|n| {
            !n.is_empty()
                && n.len() <= 64
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }) else {
            return "unnamed".into();
        };
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.contains(name) || names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Counts one answered request.
    pub fn record(&self, operation: Option<&str>, outcome: &str, elapsed: Duration) {
        let operation = self.label(operation);
        self.requests
            .get_or_create(&RequestLabels {
                operation: operation.clone(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabel { operation })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one answer to an anonymous query: sent again from the kept
    /// answers, or computed.
    pub fn answer_kept(&self, kept: bool) {
        let from = if kept { "kept" } else { "computed" };
        self.answers.get_or_create(&AnswerLabel { from }).inc();
    }

    /// Counts one anonymous query sent to a standby: read there, or failed
    /// there (and run again on the primary).
    pub fn standby_query(&self, read: bool) {
        let outcome = if read { "read" } else { "failed" };
        self.standby_queries
            .get_or_create(&StandbyQueryLabel { outcome })
            .inc();
    }

    /// The metrics in the Prometheus text format, with the pool's state,
    /// the bytes of the kept answers, where rate limits are counted now and
    /// the standbys' state.
    pub fn render(
        &self,
        db: &DatabaseConnection,
        kept_bytes: usize,
        counting: super::limits::Counting,
        standbys: &super::standbys::Standbys,
        validations: Option<(u64, u64)>,
    ) -> String {
        if let Some((remembered, validated)) = validations {
            for (from, count) in [("remembered", remembered), ("validated", validated)] {
                self.validations
                    .get_or_create(&ValidationLabel { from })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
        }
        self.standbys_usable
            .set(i64::try_from(standbys.counts().1).unwrap_or(i64::MAX));
        self.standby_lag.clear();
        for (standby, lag) in standbys.lags() {
            if let Some(lag) = lag {
                self.standby_lag
                    .get_or_create(&StandbyLabel { standby })
                    .set(lag);
            }
        }
        self.kept_bytes
            .set(i64::try_from(kept_bytes).unwrap_or(i64::MAX));
        self.limits_shared
            .set(i64::from(counting == super::limits::Counting::Shared));
        let (size, idle) = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        };
        self.pool_size.set(i64::from(size));
        self.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
        let mut out = String::new();
        if let Err(err) = encode(&mut out, &self.registry) {
            tracing::error!(error = %err, "cannot encode the metrics");
        }
        out
    }
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let body = state.metrics.render(
        state.api.db(),
        state.answers.usage().1,
        state.limiter.counting(),
        &state.standbys,
        state.api.validations(),
    );
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Alive: answers without touching the database.
pub async fn health() -> Response {
    (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
}

/// Longest `/ready` waits for the database: a hub that cannot get a
/// connection and an answer in that time is not ready to serve.
pub const READY_WAIT: Duration = Duration::from_secs(2);

/// Ready to serve: the database answers within [`READY_WAIT`]. The answer
/// also says where rate limits are counted: `shared` (Redis), or
/// `per-replica` — and lists what is `degraded`, which does not stop the
/// hub from serving: Redis configured but not answering, a replica not
/// listening for other replicas' writes (it keeps no answers meanwhile).
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let ping = tokio::time::timeout(READY_WAIT, state.api.db().ping()).await;
    let mut degraded = Vec::new();
    let limits = match state.limiter.counting() {
        super::limits::Counting::Shared => "shared",
        super::limits::Counting::Degraded => {
            degraded.push("rate limits: Redis does not answer, each replica counts alone");
            "per-replica"
        }
        super::limits::Counting::PerReplica => "per-replica",
    };
    if !state.api.changes().hearing() {
        degraded.push(
            "kept answers: not listening for other replicas' writes, every answer is computed",
        );
    }
    let (standbys, usable) = state.standbys.counts();
    let skipped = format!(
        "standbys: {} of {standbys} skipped, anonymous queries read the others or the primary",
        standbys - usable
    );
    if usable < standbys {
        degraded.push(skipped.as_str());
    }
    let mut limits = json!({ "rateLimits": limits });
    if standbys > 0 {
        limits["standbys"] = json!(state.standbys.report());
    }
    if !degraded.is_empty() {
        limits["degraded"] = json!(degraded);
    }
    match ping {
        Ok(Ok(())) => {
            let mut body = json!({ "status": "ready" });
            if let (Some(body), Some(limits)) = (body.as_object_mut(), limits.as_object()) {
                body.extend(limits.clone());
            }
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "not ready: the database does not answer");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer in time");
            unavailable()
        }
    }
}

fn unavailable() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({ "status": "unavailable" })),
    )
        .into_response();
    super::retry_soon(&mut response);
    response
}
