//! The request path, in named steps: resolve the document (given,
//! safelisted, or persisted), admit it (the safelist rule, the text's
//! bounds, the GET rule), authenticate, answer from a kept answer or
//! compute, and render. Each step is a function of its own; [`answer`]
//! only chains them, and counts and logs the request.

use std::{net::IpAddr, time::Instant};

use async_graphql::parser::types::OperationType;
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use sea_orm::{DatabaseBackend, DbErr};

use super::{
    AppState, HttpSettings, answers, app_error, http_error,
    incoming::Incoming,
    limits, persisted,
    render::{Media, Ran, code_of, csv_response, graphql_response, json_response},
};
use crate::{
    auth,
    db::DataState,
    error::Code,
    graphql::engine::guard::{self, Bounds},
};

/// The query text a request runs: given, safelisted (`id`), or persisted
/// under its hash.
struct QueryText {
    query: String,
    /// The hash to register it under, when it is a new persisted query
    /// (registered only once it has parsed and validated, see [`register`]).
    new_hash: Option<String>,
    /// The data version's state, when it was read with a persisted
    /// query's text (asked with `with_state`).
    state: Option<Result<DataState, DbErr>>,
}

/// The query text a request runs. With `with_state`, a text read from the
/// database comes with the data version's state, read in the same
/// statement.
async fn query_text(
    state: &AppState,
    incoming: &mut Incoming,
    with_state: bool,
) -> Result<QueryText, Response> {
    let text = |query: String, new_hash: Option<String>| QueryText {
        query,
        new_hash,
        state: None,
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
                    crate::graphql::engine::guard::excerpt(
                        id,
                        crate::graphql::engine::guard::EXCERPT_CHARS
                    )
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
    let stored = if with_state {
        persisted::stored_at_state(state.api.db(), &hash)
            .await
            .map(|(query, read)| (query, Some(read)))
    } else {
        persisted::stored(state.api.db(), &hash)
            .await
            .map(|query| (query, None))
    };
    match stored {
        Ok((Some(query), read)) => Ok(QueryText {
            query,
            new_hash: None,
            state: read,
        }),
        Ok((None, _)) => Err(http_error(
            StatusCode::OK,
            "PERSISTED_QUERY_NOT_FOUND",
            "PersistedQueryNotFound",
        )),
        Err(err) => Err(app_error(err)),
    }
}

/// Who sends a request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Client<'a> {
    /// The client's address (see [`limits::Limiter::client_ip`]).
    pub(super) ip: IpAddr,
    /// Its `Authorization` header, if it sent one.
    pub(super) authorization: Option<&'a str>,
}

impl<'a> Client<'a> {
    pub(super) fn of(headers: &'a HeaderMap, ip: IpAddr) -> Self {
        Client {
            ip,
            authorization: headers
                .get(header::AUTHORIZATION)
                .map(|value| value.to_str().unwrap_or_default()),
        }
    }

    fn anonymous(&self) -> bool {
        self.authorization.is_none()
    }
}

/// A request refused on its way: the answer, and its code for the metrics
/// and the log.
#[derive(Debug)]
pub(super) struct Refused {
    code: String,
    response: Box<Response>,
}

impl Refused {
    fn http(status: StatusCode, code: &str, message: &str) -> Self {
        Refused {
            code: code.to_owned(),
            response: Box::new(http_error(status, code, message)),
        }
    }

    fn app(err: crate::error::AppError) -> Self {
        Refused {
            code: err.code().as_str().to_owned(),
            response: Box::new(app_error(err)),
        }
    }
}

/// Admits a resolved document, before anything parses it: requests
/// without a key run only safelisted operations on a safelist-only hub;
/// the text is within its bounds; GET runs queries only. Gives the GraphQL
/// request to run, with the operation and variables `incoming` names.
pub(super) fn admit(
    settings: &HttpSettings,
    bounds: &Bounds,
    client: Client,
    query: String,
    incoming: &mut Incoming,
    media: Media,
    get: bool,
) -> Result<async_graphql::Request, Refused> {
    if persisted::Safelist::get().refuses(settings.safelist_only, client.anonymous(), &query) {
        return Err(Refused::http(
            StatusCode::FORBIDDEN,
            Code::PersistedQueryRequired.as_str(),
            persisted::SAFELIST_ONLY,
        ));
    }
    // Nothing parses a text before it is checked (the GET rule below
    // parses it).
    if let Err(error) = guard::check_text(&query, bounds) {
        let code = code_of(&error).unwrap_or_default().to_owned();
        let response = graphql_response(async_graphql::Response::from_errors(vec![error]), media);
        return Err(Refused {
            code,
            response: Box::new(response),
        });
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = incoming.operation_name.take() {
        request = request.operation_name(name);
    }
    if let Some(variables) = incoming.variables.take() {
        request = request.variables(async_graphql::Variables::from_json(variables));
    }
    if get && !is_query(&mut request) {
        let mut refused = Refused::http(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "GET runs queries only: send mutations with POST",
        );
        refused
            .response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Err(refused);
    }
    Ok(request)
}

/// Who the request runs as: its key's actor, or anonymous. A key that is
/// not valid is refused, never served as anonymous.
async fn authenticate(
    state: &AppState,
    client: Client<'_>,
    request: async_graphql::Request,
) -> Result<async_graphql::Request, Refused> {
    auth::authenticate(state.api.db(), client.authorization)
        .await
        .map(|actor| request.data(actor))
        .map_err(Refused::app)
}

/// What the kept answers hold for a request.
enum Kept<'a> {
    /// The answer, kept and still true.
    Found(Response),
    /// To compute: kept afterwards under `keep` (with the count of writes
    /// heard of before it read anything) if it is set, while `computing`
    /// tells those asking the same to wait for it.
    Compute {
        keep: Option<(answers::Key, u64)>,
        computing: Option<answers::Computing<'a>>,
    },
}

/// Whether the kept answers may be used now, and first, on SQLite, whether
/// another process wrote since (seen in the data version's state, read
/// with the request's persisted text when it was, `read`, or now).
async fn trusted(
    state: &AppState,
    read: Option<Result<DataState, DbErr>>,
) -> Result<bool, Refused> {
    if !state.api.changes().hearing() {
        return Ok(false);
    }
    if state.api.db().get_database_backend() == DatabaseBackend::Postgres {
        return Ok(true);
    }
    let read = match read {
        Some(read) => read,
        None => DataState::read(state.api.db()).await,
    };
    Ok(match answers::state_read(read).map_err(Refused::app)? {
        Some(data) => {
            state.answers.heard_at(data, state.api.changes().origin());
            true
        }
        None => false,
    })
}

/// Looks a request up in the kept answers. Without a key (a request whose
/// answer is not kept), there is nothing to look up.
async fn kept<'a>(
    state: &'a AppState,
    key: Option<answers::Key>,
    read: Option<Result<DataState, DbErr>>,
) -> Result<Kept<'a>, Refused> {
    let compute = |keep| Kept::Compute {
        keep,
        computing: None,
    };
    let Some(key) = key else {
        return Ok(compute(None));
    };
    if !trusted(state, read).await? {
        return Ok(compute(None));
    }
    let since = state.answers.heard();
    if let Some(response) = state.answers.get(&key) {
        return Ok(Kept::Found(response));
    }
    Ok(match state.answers.turn(key).await {
        answers::Turn::Kept(response) => Kept::Found(response),
        answers::Turn::Lead(computing) => Kept::Compute {
            keep: Some((key, since)),
            computing: Some(computing),
        },
        answers::Turn::Compute => compute(Some((key, since))),
    })
}

/// Names what an anonymous query's answer read, for HTTP caches to purge
/// it by (see [`crate::tags::keys`]).
fn tag_answer(response: &mut Response, reads: &[crate::tags::Tag]) {
    if response.status() != StatusCode::OK || reads.is_empty() {
        return;
    }
    let keys = crate::tags::keys(reads);
    for (name, separator) in [("surrogate-key", " "), ("cache-tag", ",")] {
        if let Ok(value) = HeaderValue::from_str(&keys.join(separator)) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// Runs a request and renders its answer, as JSON or CSV; a query reads
/// from `reads_from` (a standby) when it is given, the primary otherwise.
async fn run(
    state: &AppState,
    request: async_graphql::Request,
    media: Media,
    deadline: Option<tokio::time::Instant>,
    reads_from: Option<&sea_orm::DatabaseConnection>,
) -> Ran {
    if media == Media::Csv {
        csv_response(&state.api, request, deadline, reads_from).await
    } else {
        json_response(&state.api, request, media, deadline, reads_from).await
    }
}

/// Computes an answer. An anonymous query reads a standby when one is
/// usable (see [`super::standbys`]), and is run again on the primary if the
/// standby fails it; anything else reads the primary. Gives also, for an
/// answer read on a standby, how many writes heard of it reflects at
/// least.
async fn compute(
    state: &AppState,
    request: async_graphql::Request,
    media: Media,
    deadline: Option<tokio::time::Instant>,
    anonymous: bool,
) -> (Ran, Option<u64>) {
    let Some(standby) = anonymous.then(|| state.standbys.choose()).flatten() else {
        return (run(state, request, media, deadline, None).await, None);
    };
    let again = anonymous_copy(&request);
    let ran = run(state, request, media, deadline, Some(standby.db)).await;
    // Only a query read the standby, and only a query may run twice.
    if !ran.query {
        return (ran, None);
    }
    if !ran.failed_by_database {
        state.metrics.standby_query(true);
        return (ran, Some(standby.caught_up));
    }
    state.metrics.standby_query(false);
    if ran.outcome.as_deref() == Some(Code::DbUnavailable.as_str()) {
        state.standbys.failed(standby.index);
    }
    tracing::warn!(
        outcome = ran.outcome.as_deref().unwrap_or("-"),
        "a standby failed a query; it runs again on the primary"
    );
    (run(state, again, media, deadline, None).await, None)
}

/// The same anonymous request again, to run a second time.
fn anonymous_copy(request: &async_graphql::Request) -> async_graphql::Request {
    let mut copy = async_graphql::Request::new(request.query.clone())
        .variables(request.variables.clone())
        .data(auth::Actor::Anonymous);
    copy.operation_name.clone_from(&request.operation_name);
    copy
}

/// Answers a request: the steps above, in order, each request counted and
/// logged once.
pub(super) async fn answer(
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
    let client = Client::of(headers, ip);
    // Only anonymous answers are kept: with a key, what a request may see
    // depends on the key.
    let keeps = state.answers.enabled() && client.anonymous();
    let sqlite = state.api.db().get_database_backend() == DatabaseBackend::Sqlite;
    let QueryText {
        query,
        new_hash,
        state: read,
    } = match query_text(state, &mut incoming, keeps && sqlite).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let operation = incoming.operation_name.clone();
    let done = |outcome: &str| record(state, operation.as_deref(), outcome, started);
    // Registered once it has run, if this client may register it.
    let new_query = new_hash
        .filter(|_| !client.anonymous() || !state.settings.persisted.keyed_only)
        .map(|hash| (hash, query.clone()));
    let key = keeps.then(|| {
        answers::Key::of(
            media,
            &query,
            incoming.operation_name.as_deref(),
            incoming.variables.as_ref(),
        )
    });
    let admitted = admit(
        &state.settings,
        state.api.bounds(),
        client,
        query,
        &mut incoming,
        media,
        get,
    );
    let request = match admitted {
        Ok(request) => authenticate(state, client, request).await,
        Err(refused) => Err(refused),
    };
    let lookup = match request {
        Ok(request) => kept(state, key, read).await.map(|found| (request, found)),
        Err(refused) => Err(refused),
    };
    let outcome_ok = if media == Media::Csv { "csv" } else { "ok" };
    let (request, keep, computing) = match lookup {
        Err(refused) => {
            done(&refused.code);
            return *refused.response;
        }
        Ok((_, Kept::Found(response))) => {
            state.metrics.answer_kept(true);
            // It ran before without errors, so its document is worth keeping.
            if let Some((hash, query)) = new_query {
                register(state, client.ip, &hash, &query).await;
            }
            done(outcome_ok);
            return response;
        }
        Ok((request, Kept::Compute { keep, computing })) => (request, keep, computing),
    };
    let (mut ran, caught_up) = compute(state, request, media, deadline, client.anonymous()).await;
    if client.anonymous() && ran.query {
        tag_answer(&mut ran.response, &ran.reads);
    }
    if let Some((hash, query)) = new_query.filter(|_| ran.runs) {
        register(state, client.ip, &hash, &query).await;
    }
    done(ran.outcome.as_deref().unwrap_or(outcome_ok));
    let response = match keep {
        Some((key, since)) if ran.query => {
            state.metrics.answer_kept(false);
            // Read on a standby, it is true as of the writes the standby
            // had replayed, which may be fewer than those heard of.
            let since = caught_up.map_or(since, |replayed| replayed.min(since));
            state
                .answers
                .keep(key, since, &ran.reads, ran.response)
                .await
        }
        _ => ran.response,
    };
    // Kept (or not keepable): those waiting for it may look.
    drop(computing);
    response
}

/// Keeps a persisted query under its hash, unless its client has
/// registered too many lately. The request has its answer already: a
/// failure here only means the client sends the query again next time, so
/// it is logged, not answered.
async fn register(state: &AppState, ip: IpAddr, hash: &str, query: &str) {
    let rules = &state.settings.persisted;
    if !rules.takes(query) {
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
    crate::graphql::engine::documents::operation_type(request)
        .is_none_or(|ty| ty == OperationType::Query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_code(result: Result<async_graphql::Request, Refused>) -> (StatusCode, String) {
        let refused = result.expect_err("refused");
        (refused.response.status(), refused.code)
    }

    fn admit_one(
        settings: &HttpSettings,
        authorization: Option<&str>,
        query: &str,
        get: bool,
    ) -> Result<async_graphql::Request, Refused> {
        let client = Client {
            ip: IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            authorization,
        };
        let mut incoming = Incoming {
            operation_name: Some("Named".into()),
            variables: Some(serde_json::json!({ "slug": "nantes-metropole" })),
            ..Incoming::default()
        };
        admit(
            settings,
            &Bounds::default(),
            client,
            query.to_owned(),
            &mut incoming,
            Media::Json,
            get,
        )
    }

    #[test]
    fn an_admitted_request_carries_its_operation_and_variables() {
        let request = admit_one(
            &HttpSettings::default(),
            None,
            "query Named { __typename }",
            true,
        )
        .unwrap();
        assert_eq!(request.operation_name.as_deref(), Some("Named"));
        assert_eq!(
            serde_json::to_value(&request.variables).unwrap(),
            serde_json::json!({ "slug": "nantes-metropole" })
        );
    }

    #[test]
    fn a_safelist_only_hub_admits_others_only_with_a_key() {
        let settings = HttpSettings {
            safelist_only: true,
            ..HttpSettings::default()
        };
        assert_eq!(
            refused_code(admit_one(&settings, None, "{ __typename }", false)),
            (StatusCode::FORBIDDEN, "PERSISTED_QUERY_REQUIRED".into())
        );
        assert!(admit_one(&settings, Some("Bearer k"), "{ __typename }", false).is_ok());
        let widget = persisted::Safelist::get()
            .find("TerritoryWidget")
            .unwrap()
            .query;
        assert!(admit_one(&settings, None, widget, true).is_ok());
    }

    #[test]
    fn a_text_past_its_bounds_is_refused_before_it_is_parsed() {
        let deep = format!("{{ a(b: {}) }}", "[".repeat(100));
        assert_eq!(
            refused_code(admit_one(&HttpSettings::default(), None, &deep, true)),
            (StatusCode::OK, "QUERY_TOO_COMPLEX".into())
        );
    }

    #[test]
    fn get_runs_queries_only() {
        let mutation = "mutation { archiveDeployment(id: \"x\") { id } }";
        let refused = admit_one(&HttpSettings::default(), None, mutation, true).unwrap_err();
        assert_eq!(refused.response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(refused.response.headers()[header::ALLOW], "POST");
        assert!(admit_one(&HttpSettings::default(), None, mutation, false).is_ok());
    }
}
