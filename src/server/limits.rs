//! Rate limits: every request counts against the client's IP address, and
//! a request with an API key also against that key (so that made-up keys
//! cannot dodge the address's limit). Over a limit, the hub answers 429
//! RATE_LIMITED with `Retry-After`.
//!
//! With `--redis-url`, the counts live in Redis, shared by every replica
//! behind one address: a client's limit holds once, however many replicas
//! answer it (GCRA, one atomic script per check, on Redis's clock). When
//! Redis does not answer within [`SHARED_WAIT`], each replica counts alone
//! in its own memory, says so in its log, `/metrics`
//! (`vigie_rate_limits_shared` 0) and `/ready`, asks Redis again once every
//! [`RETRY_AFTER`] (other requests do not wait for it), and goes back to
//! Redis as soon as it answers. Without Redis, a client behind a load balancer that
//! spreads it over N replicas may make up to N times the limit.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU8, AtomicU64, Ordering},
    },
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
    shared: Option<Shared>,
}

/// Where the limits are shared: a Redis server, and the prefix of the
/// hub's keys there.
#[derive(Debug, Clone)]
pub struct SharedLimits {
    pub client: redis::Client,
    pub prefix: String,
}

impl SharedLimits {
    /// The limits shared through the Redis server at `url`; an error when
    /// `url` is not a Redis address.
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|err| anyhow::anyhow!("--redis-url is not a Redis address: {err}"))?;
        Ok(SharedLimits {
            client,
            prefix: "vigie:limit:".into(),
        })
    }
}

/// Longest a check waits for Redis before counting in memory.
pub const SHARED_WAIT: Duration = Duration::from_millis(250);

/// How often a replica asks Redis again while it does not answer; between
/// tries, requests are counted in memory at once.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// One GCRA check, atomic in Redis: `KEYS[1]` holds the theoretical
/// arrival time (µs); `ARGV[1]` is the interval between requests (µs),
/// `ARGV[2]` the burst's tolerance (µs). Returns 0 when allowed, else the
/// microseconds to wait. Microseconds, not milliseconds: a limit above
/// 60,000 a minute has an interval under a millisecond.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then
  return tat - now - tolerance
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
return 0
";

/// The interval between requests (µs) and the burst's tolerance (µs) of a
/// limit of `per_minute`, as [`GCRA`] takes them: a full minute's requests
/// may come at once, then one every interval.
fn gcra(per_minute: NonZeroU32) -> (u64, u64) {
    let interval = (60_000_000 / u64::from(per_minute.get())).max(1);
    (interval, interval * u64::from(per_minute.get() - 1))
}

/// Where the counts are: 0 in Redis, 1 in memory because Redis does not
/// answer.
const SHARED_UP: u8 = 0;
const SHARED_DOWN: u8 = 1;

struct Shared {
    settings: SharedLimits,
    connection: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
    script: redis::Script,
    state: AtomicU8,
    /// When Redis was last found down or asked again, in ms since `started`.
    last_try: AtomicU64,
    started: std::time::Instant,
}

impl Shared {
    fn new(settings: SharedLimits) -> Self {
        Shared {
            settings,
            connection: tokio::sync::OnceCell::new(),
            script: redis::Script::new(GCRA),
            state: AtomicU8::new(SHARED_UP),
            last_try: AtomicU64::new(0),
            started: std::time::Instant::now(),
        }
    }

    /// `Some(Err(wait))` when `key` is over `per_minute`; `None` when Redis
    /// does not answer in time, or did not a moment ago (it is asked again
    /// once every [`RETRY_AFTER`], so that requests do not each wait for it).
    async fn check(&self, key: &str, per_minute: NonZeroU32) -> Option<Result<(), Duration>> {
        if !self.up() && !self.retry_due() {
            return None;
        }
        let (interval, tolerance) = gcra(per_minute);
        let asked = tokio::time::timeout(SHARED_WAIT, async {
            let mut connection = self.connection().await?;
            self.script
                .key(format!("{}{key}", self.settings.prefix))
                .arg(interval)
                .arg(tolerance)
                .invoke_async::<u64>(&mut connection)
                .await
        })
        .await;
        let answer = match asked {
            Ok(Ok(wait)) => Some(if wait == 0 {
                Ok(())
            } else {
                Err(Duration::from_micros(wait))
            }),
            Ok(Err(err)) => {
                self.down(&err.to_string());
                None
            }
            Err(_) => {
                self.down("no answer in time");
                None
            }
        };
        if answer.is_some() && self.state.swap(SHARED_UP, Ordering::Relaxed) == SHARED_DOWN {
            tracing::info!("rate limits shared through Redis again");
        }
        answer
    }

    /// The connection to Redis, made on first use (and tried again on the
    /// next use when it cannot be made); it reconnects on its own after.
    async fn connection(&self) -> redis::RedisResult<redis::aio::ConnectionManager> {
        self.connection
            .get_or_try_init(|| redis::aio::ConnectionManager::new(self.settings.client.clone()))
            .await
            .cloned()
    }

    /// Whether Redis, down, may be asked again: once per [`RETRY_AFTER`].
    fn retry_due(&self) -> bool {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_try.load(Ordering::Relaxed);
        now.saturating_sub(last) >= RETRY_AFTER.as_millis() as u64
            && self
                .last_try
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    fn down(&self, why: &str) {
        self.last_try
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        if self.state.swap(SHARED_DOWN, Ordering::Relaxed) == SHARED_UP {
            tracing::warn!(
                why,
                "Redis does not answer: each replica counts rate limits alone until it does"
            );
        }
    }

    fn up(&self) -> bool {
        self.state.load(Ordering::Relaxed) == SHARED_UP
    }
}

/// Where the rate limits are counted, as `/ready` and `/metrics` say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// In Redis, shared by every replica.
    Shared,
    /// In each replica's memory: Redis is configured but does not answer.
    Degraded,
    /// In each replica's memory: no Redis is configured.
    PerReplica,
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
    pub fn new(settings: RateLimits, shared: Option<SharedLimits>) -> Self {
        Limiter {
            settings,
            by_ip: keyed(settings.per_ip),
            by_key: keyed(settings.per_key),
            shared: shared.map(Shared::new),
        }
    }

    /// Where the limits are counted now.
    pub fn counting(&self) -> Counting {
        match &self.shared {
            Some(shared) if shared.up() => Counting::Shared,
            Some(_) => Counting::Degraded,
            None => Counting::PerReplica,
        }
    }

    /// `Err(wait)` when the client must wait before its next request.
    async fn check(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Result<(), Duration> {
        let key: Option<String> = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            // The key's prefix names it; the rest is its secret.
            .map(|key| key.chars().take(24).collect());
        let ip = self.client_ip(headers, peer);
        let by_ip = self
            .counted(self.settings.per_ip, &format!("ip:{ip}"), || {
                self.check_ip(ip)
            })
            .await;
        let by_key = match (&key, &self.by_key) {
            (Some(key), Some(limiter)) => Some(
                self.counted(self.settings.per_key, &format!("key:{key}"), || {
                    check_key(limiter, key)
                })
                .await,
            ),
            _ => None,
        };
        let waits = [Some(by_ip), by_key]
            .into_iter()
            .flatten()
            .filter_map(Result::err);
        match waits.max() {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// A check of `per_minute` for `key`: in Redis when the limits are
    /// shared and it answers, else by `local`.
    async fn counted(
        &self,
        per_minute: u32,
        key: &str,
        local: impl FnOnce() -> Result<(), Duration>,
    ) -> Result<(), Duration> {
        if let (Some(shared), Some(per_minute)) = (&self.shared, NonZeroU32::new(per_minute))
            && let Some(answer) = shared.check(key, per_minute).await
        {
            return answer;
        }
        local()
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
    if let Err(wait) = state.limiter.check(request.headers(), peer).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_limit_keeps_its_rate_and_burst_below_a_millisecond() {
        let of = |n: u32| gcra(NonZeroU32::new(n).unwrap());
        // 600 a minute: one every 100 ms, 600 at once.
        assert_eq!(of(600), (100_000, 59_900_000));
        // A million a minute: one every 60 µs, not one a millisecond.
        assert_eq!(of(1_000_000), (60, 59_999_940));
        assert_eq!(of(1), (60_000_000, 0));
    }
}
