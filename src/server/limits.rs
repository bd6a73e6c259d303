//! Rate limits: every request counts against the client's IP address, and
//! a request with an API key also against that key (so that made-up keys
//! cannot dodge the address's limit). Over a limit, the hub answers 429
//! RATE_LIMITED with `Retry-After`.
//!
//! The counts live in each replica's memory: behind a load balancer that
//! spreads clients over N replicas, a client may make up to N times the
//! limit. Set each replica's limit to the whole limit divided by N, or let
//! the balancer keep clients on one replica.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use super::{AppState, http_error};

/// Requests a client may make per minute; 0 turns a limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Per client IP address, for every request.
    pub per_ip: u32,
    /// Per API key.
    pub per_key: u32,
    /// Take the client's address from the last `X-Forwarded-For` entry (the
    /// one a trusted proxy in front of the hub adds).
    pub trust_forwarded_for: bool,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_ip: 600,
            per_key: 3000,
            trust_forwarded_for: false,
        }
    }
}

/// Keys kept before forgetting those whose counts are back to full.
const FORGET_AFTER: usize = 10_000;

/// The state of the rate limits.
pub struct Limiter {
    settings: RateLimits,
    by_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    by_key: Option<DefaultKeyedRateLimiter<String>>,
}

/// A limit of `per_minute` for each key; `None` for 0 (no limit).
pub(crate) fn keyed<K: std::hash::Hash + Eq + Clone>(
    per_minute: u32,
) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

/// `Err(wait)` when `key` is over its limit; forgets idle keys once there
/// are many.
pub(crate) fn check_key<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), Duration> {
    if limiter.len() > FORGET_AFTER {
        limiter.retain_recent();
    }
    limiter
        .check_key(key)
        .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
}

impl Limiter {
    pub fn new(settings: RateLimits) -> Self {
        Limiter {
            settings,
            by_ip: keyed(settings.per_ip),
            by_key: keyed(settings.per_key),
        }
    }

    /// `Err(wait)` when the client must wait before its next request.
    fn check(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Result<(), Duration> {
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty());
        let by_ip = self.check_ip(self.client_ip(headers, peer));
        let by_key = key.and_then(|key| {
            self.by_key.as_ref().map(|limiter| {
                // The key's prefix names it; the rest is its secret.
                check_key(limiter, &key.chars().take(24).collect())
            })
        });
        let waits = [Some(by_ip), by_key]
            .into_iter()
            .flatten()
            .filter_map(Result::err);
        match waits.max() {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// `Err(wait)` when the address must wait before its next request.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Duration> {
        match &self.by_ip {
            Some(limiter) => check_key(limiter, &ip),
            None => Ok(()),
        }
    }

    /// The client's address: the peer's, or the last `X-Forwarded-For`
    /// entry when the hub is told to trust it.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> IpAddr {
        let forwarded = self
            .settings
            .trust_forwarded_for
            .then(|| {
                headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.rsplit(',').next())
                    .and_then(|ip| ip.trim().parse().ok())
            })
            .flatten();
        forwarded
            .or(peer)
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }
}

/// Refuses a request over its client's limit.
pub async fn limit(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let Err(wait) = state.limiter.check(request.headers(), peer) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut response = http_error(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            &format!("too many requests; retry in {seconds} s"),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        return response;
    }
    next.run(request).await
}
