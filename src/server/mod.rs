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
    time::{Duration, Instant},
};

use async_graphql::parser::types::OperationType;
use axum::{
    Router,
    body::{Body, Bytes},
    extract::{ConnectInfo, DefaultBodyLimit, Extension, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use sea_orm::DbErr;
use serde_json::{Value as Json, json};
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    trace::TraceLayer,
};

use crate::{
    auth,
    error::{AppError, Code},
    graphql::Api,
};

pub mod answers;
mod csv;
pub mod embed;
pub mod limits;
pub mod ops;
pub mod persisted;
pub mod socket;

/// The query GraphiQL opens with: the hub's headline question.
pub const HEADLINE_QUERY: &str = include_str!("headline.graphql");

const GRAPHIQL: &str = include_str!("graphiql.html");

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
        }
    }
}

/// Everything a request handler needs.
pub struct AppState {
    pub api: Api,
    pub settings: HttpSettings,
    pub metrics: ops::Metrics,
    pub limiter: limits::Limiter,
    pub answers: answers::Answers,
    pub sockets: socket::Sockets,
    /// Registrations of persisted queries, per client address.
    pub registrations: Option<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
}

impl AppState {
    pub fn new(api: Api, settings: HttpSettings) -> Self {
        AppState {
            api,
            metrics: ops::Metrics::new(settings.db_max_connections),
            limiter: limits::Limiter::new(settings.rate_limits),
            answers: answers::Answers::new(settings.answer_cache_bytes),
            sockets: socket::Sockets::default(),
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
        .route("/", get(graphiql))
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

/// Marks an answer that carries errors, so that caching need not read its
/// body again to know it.
#[derive(Clone, Copy)]
struct HasErrors;

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

async fn graphiql() -> Html<String> {
    let query = serde_json::to_string(HEADLINE_QUERY)
        .expect("a string serializes")
        .replace('<', "\\u003c");
    Html(
        GRAPHIQL
            .replace("__HEADLINE_QUERY__", &query)
            .replace("__ENDPOINT__", "/graphql"),
    )
}

/// The response media types a client may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Media {
    Json,
    GraphqlResponseJson,
    /// The query's first list, as a table.
    Csv,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json; charset=utf-8",
            Media::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Media::Csv => "text/csv; charset=utf-8; header=present",
        }
    }
}

/// Picks the response media type from an `Accept` header: the acceptable
/// type with the highest quality, the first listed on a tie; `application/json`
/// when the header is absent or accepts anything. `None`: nothing we can send.
pub fn negotiate(accept: Option<&str>) -> Option<Media> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Some(Media::Json);
    };
    let mut best: Option<(f32, Media)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = match parts
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "application/graphql-response+json" => Media::GraphqlResponseJson,
            "application/json" | "application/*" | "*/*" => Media::Json,
            "text/csv" => Media::Csv,
            _ => continue,
        };
        let quality = parts
            .filter_map(|param| param.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, media));
        }
    }
    best.map(|(_, media)| media)
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads the request body, refusing one larger than `limit` bytes.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        let too_large =
            std::iter::successors(Some(&err as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .any(|e| e.is::<http_body_util::LengthLimitError>());
        if too_large {
            http_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!("the request body is larger than {limit} bytes"),
            )
        } else {
            http_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the request body could not be read",
            )
        }
    })
}

/// A GraphQL request as it came, before its persisted query is looked up.
#[derive(Debug, Default)]
pub struct Incoming {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<Json>,
    /// `extensions.persistedQuery.sha256Hash` (automatic persisted queries).
    pub persisted_hash: Option<String>,
    /// A safelisted operation's name or hash (`GET /graphql?id=…`).
    pub id: Option<String>,
}

/// Longest operation name a request may give, in bytes.
pub const MAX_OPERATION_NAME: usize = 256;

/// Turns a JSON body into a GraphQL request, with a clear word on what is
/// wrong with it otherwise.
pub fn parse_request(body: &[u8]) -> Result<Incoming, String> {
    let value: Json =
        serde_json::from_slice(body).map_err(|err| format!("the body is not valid JSON: {err}"))?;
    let Json::Object(fields) = value else {
        return Err("the body must be a JSON object with a `query`".into());
    };
    incoming(fields.into_iter().collect())
}

/// A request from its parts (a JSON body's fields, or a GET's parameters
/// with `variables` and `extensions` decoded).
fn incoming(mut fields: HashMap<String, Json>) -> Result<Incoming, String> {
    let mut request = Incoming::default();
    match fields.remove("query") {
        None | Some(Json::Null) => {}
        Some(Json::String(query)) => request.query = Some(query),
        Some(_) => return Err("`query` must be a string".into()),
    }
    match fields.remove("operationName") {
        None | Some(Json::Null) => {}
        Some(Json::String(name)) if name.len() > MAX_OPERATION_NAME => {
            return Err(format!(
                "`operationName` is longer than {MAX_OPERATION_NAME} bytes"
            ));
        }
        Some(Json::String(name)) => request.operation_name = Some(name),
        Some(_) => return Err("`operationName` must be a string".into()),
    }
    match fields.remove("variables") {
        None | Some(Json::Null) => {}
        Some(variables @ Json::Object(_)) => request.variables = Some(variables),
        Some(_) => return Err("`variables` must be an object".into()),
    }
    match fields.remove("extensions") {
        None | Some(Json::Null) => {}
        Some(Json::Object(extensions)) => {
            if let Some(persisted) = extensions.get("persistedQuery") {
                let hash = persisted
                    .get("sha256Hash")
                    .and_then(Json::as_str)
                    .filter(|_| persisted.get("version") == Some(&Json::from(1)));
                match hash {
                    Some(hash) => request.persisted_hash = Some(hash.to_ascii_lowercase()),
                    None => {
                        return Err(
                            "`extensions.persistedQuery` needs `version: 1` and a `sha256Hash`"
                                .into(),
                        );
                    }
                }
            }
        }
        Some(_) => return Err("`extensions` must be an object".into()),
    }
    if let Some(Json::String(id)) = fields.remove("id") {
        request.id = Some(id);
    }
    if request.query.is_none() && request.persisted_hash.is_none() && request.id.is_none() {
        return Err("the body has no `query`".into());
    }
    Ok(request)
}

/// Reads a GET request's parameters: `query` (or `id`, a safelisted
/// operation), `operationName`, and `variables` and `extensions` as JSON.
fn get_request(params: HashMap<String, String>) -> Result<Incoming, String> {
    let mut fields = HashMap::new();
    for (name, value) in params {
        let value = match name.as_str() {
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|err| format!("`{name}` is not valid JSON: {err}"))?,
            _ => Json::String(value),
        };
        fields.insert(name, value);
    }
    incoming(fields)
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

fn accepted(headers: &HeaderMap) -> Option<Media> {
    negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))
}

fn not_acceptable() -> Response {
    http_error(
        StatusCode::NOT_ACCEPTABLE,
        "NOT_ACCEPTABLE",
        "this endpoint answers `application/graphql-response+json`, `application/json` or `text/csv`",
    )
}

/// The query text a request runs: given, safelisted (`id`), or persisted
/// under its hash.
struct QueryText {
    query: String,
    /// The hash to register it under, when it is a new persisted query
    /// (registered only once it has parsed and validated, see [`register`]).
    new_hash: Option<String>,
    /// The data version, when it was read with a persisted query's text
    /// (asked with `with_version`).
    version: Option<Result<i64, DbErr>>,
}

/// The query text a request runs. With `with_version`, a text read from the
/// database comes with the data version, read in the same statement.
async fn query_text(
    state: &AppState,
    incoming: &mut Incoming,
    with_version: bool,
) -> Result<QueryText, Response> {
    let text = |query: String, new_hash: Option<String>| QueryText {
        query,
        new_hash,
        version: None,
    };
    let safelist = persisted::Safelist::get();
    if let Some(id) = &incoming.id {
        return match safelist.find(id) {
            Some(operation) => {
                // Named in metrics and logs by its name.
                incoming
                    .operation_name
                    .get_or_insert_with(|| operation.name.to_owned());
                Ok(text(operation.query.to_owned(), None))
            }
            None => Err(http_error(
                StatusCode::NOT_FOUND,
                "PERSISTED_QUERY_NOT_FOUND",
                &format!(
                    "no safelisted operation is named or hashed {:?}",
                    crate::graphql::guard::excerpt(id, crate::graphql::guard::EXCERPT_CHARS)
                ),
            )),
        };
    }
    let Some(hash) = incoming.persisted_hash.clone() else {
        return Ok(text(incoming.query.take().unwrap_or_default(), None));
    };
    if let Some(query) = incoming.query.take() {
        if persisted::sha256_hex(&query) != hash {
            return Err(http_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of the query",
            ));
        }
        let new = !state.settings.safelist_only && safelist.find(&hash).is_none();
        return Ok(text(query, new.then_some(hash)));
    }
    if let Some(operation) = safelist.find(&hash) {
        return Ok(text(operation.query.to_owned(), None));
    }
    let stored = if with_version {
        persisted::stored_at_version(state.api.db(), &hash)
            .await
            .map(|(query, version)| (query, Some(version)))
    } else {
        persisted::stored(state.api.db(), &hash)
            .await
            .map(|query| (query, None))
    };
    match stored {
        Ok((Some(query), version)) => Ok(QueryText {
            query,
            new_hash: None,
            version,
        }),
        Ok((None, _)) => Err(http_error(
            StatusCode::OK,
            "PERSISTED_QUERY_NOT_FOUND",
            "PersistedQueryNotFound",
        )),
        Err(err) => Err(app_error(err)),
    }
}

/// Runs a request and answers it, as JSON or CSV.
async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    ip: IpAddr,
    mut incoming: Incoming,
    media: Media,
    get: bool,
) -> Response {
    let started = Instant::now();
    // A query's time limit runs from here: a request that waited for
    // another to compute its answer, in vain, has what is left of it.
    let deadline = state.api.deadline();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default());
    // Only anonymous answers are kept: with a key, what a request may see
    // depends on the key.
    let keeps = state.answers.enabled() && authorization.is_none();
    let QueryText {
        query,
        new_hash,
        version,
    } = match query_text(state, &mut incoming, keeps).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if state.settings.safelist_only
        && authorization.is_none()
        && !persisted::Safelist::get().holds(&query)
    {
        return http_error(
            StatusCode::FORBIDDEN,
            "PERSISTED_QUERY_REQUIRED",
            "this hub runs only its safelisted operations for requests without an API key",
        );
    }
    // Registered once it has run, if this client may register it.
    // Nothing parses a text before it is checked (the GET rule below
    // parses it).
    if let Err(refused) = state.api.check_text(&query) {
        let outcome = refused.errors.first().and_then(code_of).map(str::to_owned);
        record(
            state,
            incoming.operation_name.as_deref(),
            outcome.as_deref().unwrap_or("refused"),
            started,
        );
        return graphql_response(*refused, media);
    }
    let new_query = new_hash
        .filter(|_| authorization.is_some() || !state.settings.persisted.keyed_only)
        .map(|hash| (hash, query.clone()));
    let key = keeps.then(|| {
        answers::Key::of(
            media,
            &query,
            incoming.operation_name.as_deref(),
            incoming.variables.as_ref(),
        )
    });
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = incoming.operation_name.take() {
        request = request.operation_name(name);
    }
    if let Some(variables) = incoming.variables.take() {
        request = request.variables(async_graphql::Variables::from_json(variables));
    }
    if get && !is_query(&mut request) {
        let mut response = http_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "GET runs queries only: send mutations with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let operation = request.operation_name.clone();
    let request = match auth::authenticate(state.api.db(), authorization).await {
        Ok(actor) => request.data(actor),
        Err(err) => {
            let code = err.code();
            record(state, operation.as_deref(), code.as_str(), started);
            return app_error(err);
        }
    };
    let kept = match key {
        Some(key) => {
            let version = match version {
                Some(read) => answers::version_read(read),
                None => answers::version_now(state.api.db()).await,
            };
            match version {
                Ok(version) => version.map(|version| (key, version)),
                Err(err) => {
                    record(state, operation.as_deref(), err.code().as_str(), started);
                    return app_error(err);
                }
            }
        }
        None => None,
    };
    let outcome_ok = if media == Media::Csv { "csv" } else { "ok" };
    let mut computing = None;
    if let Some((key, version)) = kept {
        let found = match state.answers.get(&key, version) {
            Some(response) => Some(response),
            None => match state.answers.turn(key, version).await {
                answers::Turn::Kept(response) => Some(response),
                answers::Turn::Lead(lead) => {
                    computing = Some(lead);
                    None
                }
                answers::Turn::Compute => None,
            },
        };
        if let Some(response) = found {
            state.metrics.answer_kept(true);
            // It ran before without errors, so its document is worth keeping.
            if let Some((hash, query)) = new_query {
                register(state, ip, &hash, &query).await;
            }
            record(state, operation.as_deref(), outcome_ok, started);
            return response;
        }
    }
    let ran = if media == Media::Csv {
        csv_response(&state.api, request, deadline).await
    } else {
        json_response(&state.api, request, media, deadline).await
    };
    if let Some((hash, query)) = new_query.filter(|_| ran.runs) {
        register(state, ip, &hash, &query).await;
    }
    record(
        state,
        operation.as_deref(),
        ran.outcome.as_deref().unwrap_or(outcome_ok),
        started,
    );
    let response = match kept {
        Some((key, version)) if ran.query => {
            state.metrics.answer_kept(false);
            state.answers.keep(key, version, ran.response).await
        }
        _ => ran.response,
    };
    // Kept (or not keepable): those waiting for it may look.
    drop(computing);
    response
}

/// A request run, and answered.
struct Ran {
    response: Response,
    /// The first error's code, if any (for the metrics and the log).
    outcome: Option<String>,
    /// Whether the document parsed and validated ([`runs_here`]).
    runs: bool,
    /// Whether it ran a query (not a mutation or a subscription).
    query: bool,
}

/// Runs a request and answers it as JSON.
async fn json_response(
    api: &Api,
    request: async_graphql::Request,
    media: Media,
    deadline: Option<tokio::time::Instant>,
) -> Ran {
    let executed = api.execute_until(request, deadline).await;
    let response = executed.response;
    Ran {
        runs: runs_here(&response.errors),
        outcome: response.errors.first().and_then(code_of).map(str::to_owned),
        query: executed.query,
        response: graphql_response(response, media),
    }
}

/// Whether a document the hub answered with these errors parsed, validated
/// and kept within the limits: only such a document is worth keeping as a
/// persisted query.
fn runs_here(errors: &[async_graphql::ServerError]) -> bool {
    let refused = [
        Code::ParseFailed,
        Code::ValidationFailed,
        Code::QueryTooComplex,
    ];
    !errors
        .iter()
        .filter_map(code_of)
        .any(|code| refused.iter().any(|c| c.as_str() == code))
}

/// The `extensions.code` of an error, when it is a string (the hub's
/// codes all are).
fn code_of(error: &async_graphql::ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code),
        _ => None,
    }
}

/// Keeps a persisted query under its hash, unless its client has
/// registered too many lately. The request has its answer already: a
/// failure here only means the client sends the query again next time, so
/// it is logged, not answered.
async fn register(state: &AppState, ip: IpAddr, hash: &str, query: &str) {
    let rules = &state.settings.persisted;
    if rules.kept == 0 || query.len() > rules.max_bytes {
        return;
    }
    if let Some(limiter) = &state.registrations
        && limits::check_key(limiter, &ip).is_err()
    {
        tracing::debug!(%ip, "a client registers persisted queries too fast; not kept");
        return;
    }
    if let Err(err) = persisted::store(state.api.db(), hash, query, rules).await {
        tracing::error!(error = ?err, "cannot keep a persisted query");
    }
}

/// Counts and logs one answered request.
fn record(state: &AppState, operation: Option<&str>, outcome: &str, started: Instant) {
    let elapsed = started.elapsed();
    state.metrics.record(operation, outcome, elapsed);
    tracing::info!(
        operation = operation.unwrap_or("-"),
        outcome,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "graphql request"
    );
}

/// Whether the operation a request runs is a query (not a mutation or a
/// subscription). A document that does not parse or name its operation is
/// left to the executor, which says what is wrong.
fn is_query(request: &mut async_graphql::Request) -> bool {
    crate::graphql::operation_type(request).is_none_or(|ty| ty == OperationType::Query)
}

/// Adds HTTP caching to a successful GET answer: `Cache-Control`, a strong
/// `ETag` of its body, and 304 (no body) when the client has it already.
async fn cacheable(mut response: Response, headers: &HeaderMap, max_age: u32) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    response.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization"),
    );
    if response.extensions().get::<HasErrors>().is_some() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return internal_error();
    };
    let visibility = if headers.contains_key(header::AUTHORIZATION) {
        "private"
    } else {
        "public"
    };
    let etag = format!("\"{}\"", &persisted::sha256_hex_bytes(&bytes)[..32]);
    let out = &mut parts.headers;
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("{visibility}, max-age={max_age}"))
            .expect("an ASCII header"),
    );
    out.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("an ASCII header"),
    );
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Answers a request as CSV: its first list, flattened. A request that
/// fails answers with its errors as JSON; one without a list, 406.
async fn csv_response(
    api: &Api,
    request: async_graphql::Request,
    deadline: Option<tokio::time::Instant>,
) -> Ran {
    let executed = api.execute_until(request, deadline).await;
    let response = executed.response;
    if !response.errors.is_empty() {
        let runs = runs_here(&response.errors);
        let mut answer = graphql_response(response, Media::Json);
        // No CSV for a request with errors; the hub's own failures keep
        // their status.
        if answer.status() == StatusCode::OK {
            *answer.status_mut() = StatusCode::BAD_REQUEST;
        }
        return Ran {
            response: answer,
            outcome: Some("csv".into()),
            runs,
            query: executed.query,
        };
    }
    Ran {
        response: csv_answer(&response, executed.selection),
        outcome: None,
        runs: true,
        query: executed.query,
    }
}

/// The CSV of an answer that has no errors; 406 when it has no list.
fn csv_answer(
    response: &async_graphql::Response,
    selection: Option<crate::graphql::Selection>,
) -> Response {
    let Some(csv) = selection.and_then(|selection| csv::render(&selection, &response.data)) else {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "a CSV answer needs a query with a list (a field with `nodes` or `edges`); ask for JSON otherwise",
        );
    };
    let mut answer = (StatusCode::OK, csv.body).into_response();
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(Media::Csv.content_type()),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"vigie.csv\""),
    );
    if let Some(cursor) = csv
        .next_cursor
        .and_then(|c: String| HeaderValue::from_str(&c).ok())
    {
        headers.insert(NEXT_CURSOR, cursor);
    }
    answer
}

/// The header carrying, with a CSV page, the cursor of the next page.
pub const NEXT_CURSOR: &str = "vigie-next-cursor";

/// The body of a GraphQL answer: `data` is left out of a request that
/// failed before it ran.
#[derive(serde::Serialize)]
struct Answer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

/// Shapes an executed request's answer: a request that failed before
/// execution (it did not parse or validate) has no `data`, and is a 400 for
/// clients that understand `application/graphql-response+json`.
fn graphql_response(response: async_graphql::Response, media: Media) -> Response {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let body = Answer {
        data: (!request_error).then_some(&response.data),
        errors: &response.errors,
        extensions: &response.extensions,
    };
    let bytes = match serde_json::to_vec(&body) {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(error = %err, "cannot serialize a GraphQL response");
            return internal_error();
        }
    };
    let all_coded = |wanted: Code| {
        !response.errors.is_empty()
            && response
                .errors
                .iter()
                .all(|e| code_of(e) == Some(wanted.as_str()))
    };
    let unavailable = all_coded(Code::DbUnavailable);
    let status = match (request_error, media) {
        _ if unavailable || all_coded(Code::Timeout) => StatusCode::SERVICE_UNAVAILABLE,
        (true, Media::GraphqlResponseJson) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let mut http = (status, bytes).into_response();
    if !response.errors.is_empty() {
        http.extensions_mut().insert(HasErrors);
    }
    if unavailable {
        retry_soon(&mut http);
    }
    http.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    http
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_pick_the_best_type() {
        assert_eq!(negotiate(None), Some(Media::Json));
        assert_eq!(negotiate(Some("*/*")), Some(Media::Json));
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(Media::Json)
        );
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("text/csv")), Some(Media::Csv));
        assert_eq!(
            negotiate(Some("text/csv;q=0.5, application/json")),
            Some(Media::Json)
        );
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }

    #[test]
    fn bodies_are_checked_field_by_field() {
        assert!(parse_request(br#"{"query":"{ __typename }"}"#).is_ok());
        assert!(
            parse_request(br#"{"query":"{ a }","variables":null,"operationName":null}"#).is_ok()
        );
        for (body, says) in [
            (&b"{"[..], "not valid JSON"),
            (b"[]", "JSON object"),
            (b"{}", "no `query`"),
            (br#"{"query":1}"#, "`query` must be a string"),
            (
                br#"{"query":"{a}","variables":[1]}"#,
                "`variables` must be an object",
            ),
            (br#"{"query":"{a}","operationName":3}"#, "`operationName`"),
        ] {
            let err = parse_request(body).unwrap_err();
            assert!(err.contains(says), "{err:?} should say {says:?}");
        }
    }
}
