//! The HTTP face of the hub: GraphQL over HTTP on `POST /graphql` and, for
//! queries (with HTTP caching and persisted queries), `GET /graphql`;
//! GraphiQL on `GET /`, `GET /health`, `GET /ready` and `GET /metrics`.
//!
//! Browsers may call `/graphql` from other origins (CORS: any origin by
//! default, or those configured; never with credentials). Clients are
//! rate-limited per API key or per IP address.
//!
//! `POST /graphql` takes JSON only (`Content-Type: application/json`): a form
//! or `text/plain` post, which a browser may send cross-site without asking,
//! is refused, and GET never runs a mutation, so there is no CSRF path. Answers follow the GraphQL over HTTP
//! specification for both `application/json` and
//! `application/graphql-response+json`.
//!
//! Reading needs no credentials. Writing needs an API key, sent as
//! `Authorization: Bearer KEY`; a request with a key that is not valid is
//! refused with 401 UNAUTHENTICATED, never served as anonymous.

use std::{
    any::Any,
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, DefaultBodyLimit, Extension, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    trace::TraceLayer,
};

use crate::{
    error::{AppError, Code},
    graphql::Api,
};

pub mod answers;
mod csv;
pub mod embed;
mod graphiql;
mod incoming;
pub mod limits;
pub mod ops;
pub mod persisted;
mod render;
mod request;
pub mod socket;
pub mod standbys;

pub use incoming::{Incoming, MAX_OPERATION_NAME, parse_request};
use incoming::{get_request, is_json_content_type, read_body};
use render::{HasErrors, accepted, cacheable, not_acceptable};
pub use render::{Media, NEXT_CURSOR, negotiate};
use request::answer;

/// The query GraphiQL opens with: the hub's headline question.
pub const HEADLINE_QUERY: &str = include_str!("headline.graphql");

/// The territory GraphiQL asks the headline question of: a municipality
/// whose AI uses a bundled register lists.
pub const HEADLINE_SLUG: &str = "gemeente-amsterdam-nl";

/// How the hub answers over HTTP.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Origins whose pages may call the API from a browser; empty: any.
    pub cors_origins: Vec<String>,
    pub rate_limits: limits::RateLimits,
    /// Most database connections (shown in the metrics).
    pub db_max_connections: u32,
    /// How long caches may keep a GET answer, in seconds.
    pub cache_max_age: u32,
    /// Refuse requests without an API key unless they run a safelisted
    /// operation.
    pub safelist_only: bool,
    /// Which automatic persisted queries are registered, and how many kept.
    pub persisted: persisted::Registration,
    /// Most bytes of answers kept for anonymous queries (see [`answers`]);
    /// 0 keeps none.
    pub answer_cache_bytes: usize,
    /// What an address may hold open over WebSocket.
    pub socket_limits: socket::SocketLimits,
    /// Where rate limits are shared by every replica; none: each counts
    /// alone.
    pub shared_limits: Option<limits::SharedLimits>,
    /// The standbys anonymous queries read from (see [`standbys`]); none:
    /// every request reads the primary.
    pub read_replicas: standbys::ReadReplicas,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            max_body_bytes: 1 << 20,
            cors_origins: Vec::new(),
            rate_limits: limits::RateLimits::default(),
            db_max_connections: 10,
            cache_max_age: 60,
            safelist_only: false,
            persisted: persisted::Registration::default(),
            answer_cache_bytes: answers::budget_of_mib(answers::DEFAULT_MIB),
            socket_limits: socket::SocketLimits::default(),
            shared_limits: None,
            read_replicas: standbys::ReadReplicas::default(),
        }
    }
}

/// Everything a request handler needs.
pub struct AppState {
    pub api: Api,
    pub settings: HttpSettings,
    pub metrics: ops::Metrics,
    pub limiter: limits::Limiter,
    pub answers: std::sync::Arc<answers::Answers>,
    pub sockets: socket::Sockets,
    /// The standbys anonymous queries read from, and their health.
    pub standbys: Arc<standbys::Standbys>,
    /// Registrations of persisted queries, per client address.
    pub registrations: Option<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
}

impl AppState {
    pub fn new(api: Api, settings: HttpSettings) -> Self {
        let answers = std::sync::Arc::new(answers::Answers::new(settings.answer_cache_bytes));
        let kept = std::sync::Arc::downgrade(&answers);
        api.changes().watch(move |touched| {
            if let Some(answers) = kept.upgrade() {
                answers.touched(touched);
            }
        });
        let counted = std::sync::Arc::downgrade(&answers);
        let standbys = standbys::Standbys::start(
            settings.read_replicas.clone(),
            api.db().clone(),
            move || counted.upgrade().map_or(0, |answers| answers.heard()),
        );
        AppState {
            api,
            metrics: ops::Metrics::new(settings.db_max_connections),
            limiter: limits::Limiter::new(settings.rate_limits, settings.shared_limits.clone()),
            answers,
            sockets: socket::Sockets::default(),
            standbys,
            registrations: limits::keyed(settings.persisted.per_minute),
            settings,
        }
    }
}

/// Cross-origin calls: the configured origins (any by default), the methods
/// and headers GraphQL clients use, never with credentials.
fn cors(origins: &[String]) -> CorsLayer {
    let allowed = if origins.is_empty() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            header::HeaderName::from_static(NEXT_CURSOR),
        ])
        .max_age(Duration::from_secs(3600))
}

/// The hub's router.
pub fn app(state: AppState) -> Router {
    let cors = cors(&state.settings.cors_origins);
    let state = Arc::new(state);
    let graphql_routes = Router::new()
        .route(
            "/graphql",
            axum::routing::post(graphql)
                .get(graphql_get)
                .fallback(method_not_allowed),
        )
        .route("/graphql/ws", get(socket::upgrade))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::limit,
        ));
    Router::new()
        .route("/", get(graphiql::page))
        .route("/graphiql/{name}", get(graphiql::asset))
        .merge(graphql_routes)
        .route("/embed/territory/{slug}", get(embed::territory))
        .route("/embed.js", get(embed::script))
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .with_state(state)
        // The handler enforces the limit itself, with a GraphQL-shaped 413.
        .layer(DefaultBodyLimit::disable())
        .layer(cors)
        .layer(CatchPanicLayer::custom(panic_response))
        // Every answer of 500 or 503 was logged where it was decided, with
        // its cause: the trace does not log it a second time.
        .layer(TraceLayer::new_for_http().on_failure(()))
}

/// An error the HTTP layer answers itself, GraphQL-shaped.
pub(crate) fn http_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response.extensions_mut().insert(HasErrors);
    response
}

/// An error of the hub answered before GraphQL runs (a refused key…).
fn app_error(err: AppError) -> Response {
    let code = err.code();
    let status = match code {
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::DbUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = http_error(status, code.as_str(), &err.public_message());
    if code == Code::Unauthenticated {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"vigie\""),
        );
    }
    if code == Code::DbUnavailable {
        retry_soon(&mut response);
    }
    response
}

/// Tells the client to try again in a second: the database is out of
/// reach, for now.
pub(crate) fn retry_soon(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
}

fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    internal_error()
}

/// 500, saying no more than that: what went wrong is logged where it did.
fn internal_error() -> Response {
    http_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        crate::error::INTERNAL_MESSAGE,
    )
}

async fn method_not_allowed() -> Response {
    let mut response = http_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "send GraphQL requests with POST (or GET, for queries)",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

/// The address of the client a request comes from.
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

fn client_ip(state: &AppState, headers: &HeaderMap, peer: Peer) -> IpAddr {
    state
        .limiter
        .client_ip(headers, peer.map(|Extension(ConnectInfo(addr))| addr.ip()))
}

async fn graphql(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !is_json_content_type(&headers) {
        return http_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as `Content-Type: application/json`",
        );
    }
    let Some(media) = accepted(&headers) else {
        return not_acceptable();
    };
    let body = match read_body(body, state.settings.max_body_bytes).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    match parse_request(&body) {
        Ok(incoming) => {
            let ip = client_ip(&state, &headers, peer);
            answer(&state, &headers, ip, incoming, media, false).await
        }
        Err(message) => http_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message),
    }
}

/// `GET /graphql`: queries only, with HTTP caching (`Cache-Control`, a
/// strong `ETag`, 304 to a matching `If-None-Match`).
async fn graphql_get(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    headers: HeaderMap,
    axum::extract::Query(params): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let Some(media) = accepted(&headers) else {
        return not_acceptable();
    };
    let response = match get_request(params) {
        Ok(incoming) => {
            let ip = client_ip(&state, &headers, peer);
            answer(&state, &headers, ip, incoming, media, true).await
        }
        Err(message) => return http_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message),
    };
    cacheable(response, &headers, state.settings.cache_max_age).await
}

/// Serves `app` on `addr` until SIGTERM or Ctrl-C, then lets in-flight
/// requests finish.
pub async fn serve(app: Router, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {addr}: {err}"))?;
    serve_on(app, listener).await
}

/// Serves `app` on an open listener until SIGTERM or Ctrl-C.
pub async fn serve_on(app: Router, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "Vigie is listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("Vigie stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
    // Leave a moment for the log line to reach its sink.
    tokio::time::sleep(Duration::from_millis(10)).await;
}
