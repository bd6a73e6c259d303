//! GraphQL over WebSocket on `/graphql/ws` (graphql-ws, and the older
//! subscriptions-transport-ws), held to the rules of HTTP: the upgrade
//! counts against the address's rate limit like any request; each
//! operation sent on a socket counts again, against the connection's own
//! limit and the address's; `--safelist-only` runs only safelisted
//! operations; messages are no larger than a request body; and an address
//! may keep only so many sockets and operations open at once. Documents go
//! through the same bounds as over HTTP ([`crate::graphql::engine::guard`]).
//!
//! Sockets are anonymous: a write needs an API key, sent over HTTP.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::{Arc, Mutex},
};

use async_graphql::{Data, Executor, Request, Response, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{ConnectInfo, Extension, State, ws::WebSocketUpgrade},
    http::{HeaderMap, StatusCode},
    response::Response as HttpResponse,
};
use futures_util::{StreamExt, stream::BoxStream};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{
    AppState, http_error,
    persisted::{SAFELIST_ONLY, Safelist},
};
use crate::{error::Code, graphql::engine::guard};

/// What an address may hold open over WebSocket, and how fast a socket may
/// send operations.
#[derive(Debug, Clone, Copy)]
pub struct SocketLimits {
    /// Sockets one address may keep open.
    pub connections_per_ip: usize,
    /// Operations (subscriptions, and queries not yet answered) one address
    /// may have running over all its sockets.
    pub operations_per_ip: usize,
    /// Operations one socket may start per minute (the address's rate
    /// limit applies too); 0: no limit of its own.
    pub operations_per_minute: u32,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            connections_per_ip: 8,
            operations_per_ip: 32,
            operations_per_minute: 120,
        }
    }
}

/// What each address holds open.
#[derive(Default)]
pub struct Sockets {
    open: Mutex<HashMap<IpAddr, Held>>,
}

#[derive(Default, Clone, Copy)]
struct Held {
    connections: usize,
    operations: usize,
}

/// What one lease holds: a socket or an operation.
#[derive(Clone, Copy)]
enum Kind {
    Connection,
    Operation,
}

/// A socket or an operation of an address, given back when dropped.
struct Lease {
    state: Arc<AppState>,
    ip: IpAddr,
    kind: Kind,
}

impl Sockets {
    /// Takes one more of `kind` for `ip`, if it is under `most`.
    fn lease(state: &Arc<AppState>, ip: IpAddr, kind: Kind, most: usize) -> Option<Lease> {
        let mut open = state.sockets.open.lock().expect("socket counts poisoned");
        let held = open.entry(ip).or_default();
        let count = match kind {
            Kind::Connection => &mut held.connections,
            Kind::Operation => &mut held.operations,
        };
        if *count >= most {
            return None;
        }
        *count += 1;
        Some(Lease {
            state: state.clone(),
            ip,
            kind,
        })
    }

    /// What `ip` holds open now: sockets, operations.
    pub fn held(&self, ip: IpAddr) -> (usize, usize) {
        let open = self.open.lock().expect("socket counts poisoned");
        open.get(&ip)
            .map_or((0, 0), |held| (held.connections, held.operations))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut open = self
            .state
            .sockets
            .open
            .lock()
            .expect("socket counts poisoned");
        if let Some(held) = open.get_mut(&self.ip) {
            match self.kind {
                Kind::Connection => held.connections = held.connections.saturating_sub(1),
                Kind::Operation => held.operations = held.operations.saturating_sub(1),
            }
            if held.connections == 0 && held.operations == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// `GET /graphql/ws`: opens a socket, if the address may open one more.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    let ip = state
        .limiter
        .client_ip(&headers, peer.map(|Extension(ConnectInfo(addr))| addr.ip()));
    let limits = state.settings.socket_limits;
    let Some(lease) = Sockets::lease(&state, ip, Kind::Connection, limits.connections_per_ip)
    else {
        return http_error(
            StatusCode::TOO_MANY_REQUESTS,
            Code::RateLimited.as_str(),
            &format!(
                "an address may keep at most {} WebSocket connections open",
                limits.connections_per_ip
            ),
        );
    };
    let executor = SocketExecutor {
        state: state.clone(),
        ip,
        operations: NonZeroU32::new(limits.operations_per_minute)
            .map(|n| Arc::new(RateLimiter::direct(Quota::per_minute(n)))),
    };
    let most = state.settings.max_body_bytes;
    upgrade
        .max_message_size(most)
        .max_frame_size(most)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| async move {
            GraphQLWebSocket::new(stream, executor, protocol)
                .serve()
                .await;
            drop(lease);
        })
}

/// Runs one socket's operations, each checked first.
#[derive(Clone)]
struct SocketExecutor {
    state: Arc<AppState>,
    ip: IpAddr,
    /// The socket's own rate limit.
    operations: Option<Arc<DefaultDirectRateLimiter>>,
}

fn refused(code: Code, message: String) -> Box<Response> {
    Box::new(Response::from_errors(vec![guard::error(code, message)]))
}

impl SocketExecutor {
    /// Checks an operation before it runs: the rate limits, the safelist
    /// and the address's open operations. The lease is held while the
    /// operation runs.
    fn admit(&self, request: &Request) -> Result<Lease, Box<Response>> {
        let socket = self
            .operations
            .as_ref()
            .is_some_and(|limiter| limiter.check().is_err());
        if socket || self.state.limiter.check_ip(self.ip).is_err() {
            return Err(refused(
                Code::RateLimited,
                "too many operations; wait a little before sending more".into(),
            ));
        }
        // Sockets are anonymous.
        if Safelist::get().refuses(self.state.settings.safelist_only, true, &request.query) {
            return Err(refused(Code::PersistedQueryRequired, SAFELIST_ONLY.into()));
        }
        let most = self.state.settings.socket_limits.operations_per_ip;
        Sockets::lease(&self.state, self.ip, Kind::Operation, most).ok_or_else(|| {
            refused(
                Code::RateLimited,
                format!("an address may have at most {most} operations running at once"),
            )
        })
    }
}

impl Executor for SocketExecutor {
    async fn execute(&self, request: Request) -> Response {
        match self.admit(&request) {
            Ok(lease) => {
                let response = self.state.api.execute(request).await;
                drop(lease);
                response
            }
            Err(response) => *response,
        }
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.admit(&request) {
            Ok(lease) => self
                .state
                .api
                .execute_stream(request, session_data)
                .map(move |response| {
                    let _held = &lease;
                    response
                })
                .boxed(),
            Err(response) => futures_util::stream::once(std::future::ready(*response)).boxed(),
        }
    }
}
