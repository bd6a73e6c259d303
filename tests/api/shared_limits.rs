//! Rate limits shared by replicas through Redis: a client's limit holds
//! once across two replicas; with Redis stopped, each replica counts alone
//! and says so (`/ready`, `/metrics`), and serves on; with Redis back, the
//! limits are shared again without a restart. Each test runs its own
//! Redis server (`redis-server`, on a free port, keeping nothing on disk).

use std::process::{Child, Command, Stdio};

use axum::{Router, body::Body, http::Request};
use tower::ServiceExt;
use vigie::server::{self, AppState, limits::SharedLimits};

use crate::helpers::{Backend, TestApp, free_port, get_text as get, http_settings, ready};

/// A Redis server of the test's own, stopped when dropped.
struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn start(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Redis { port, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A replica of the hub on `app`'s database, limiting each address to
/// `per_ip` requests a minute, shared through the Redis at `url`.
fn replica(app: &TestApp, url: &str, per_ip: u32) -> Router {
    let mut settings = http_settings();
    settings.rate_limits.per_ip = per_ip;
    settings.shared_limits = Some(SharedLimits::open(url).unwrap());
    server::app(AppState::new(app.api.clone(), settings))
}

async fn status(router: &Router) -> u16 {
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"query":"{ __typename }"}"#))
        .unwrap();
    router
        .clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_limit_holds_once_across_replicas_and_each_counts_alone_while_redis_is_down() {
    let app = TestApp::new(Backend::Sqlite).await;
    let mut redis = Redis::start(free_port());
    let (one, two) = (
        replica(&app, &redis.url(), 4),
        replica(&app, &redis.url(), 4),
    );

    // Four requests spread over two replicas use the whole limit.
    for router in [&one, &two, &one, &two] {
        assert_eq!(status(router).await, 200);
    }
    assert_eq!(status(&one).await, 429);
    assert_eq!(status(&two).await, 429);
    assert_eq!(ready(&one).await["rateLimits"], "shared");
    assert!(
        get(&one, "/metrics")
            .await
            .contains("vigie_rate_limits_shared 1")
    );

    // Redis stopped: each replica counts alone, from zero, and says so.
    redis.stop();
    for router in [&one, &two] {
        for _ in 0..4 {
            assert_eq!(status(router).await, 200);
        }
        assert_eq!(status(router).await, 429);
        let ready = ready(router).await;
        assert_eq!(ready["status"], "ready");
        assert_eq!(ready["rateLimits"], "per-replica");
        assert!(
            ready["degraded"][0].as_str().unwrap().contains("Redis"),
            "{ready}"
        );
        assert!(
            get(router, "/metrics")
                .await
                .contains("vigie_rate_limits_shared 0")
        );
    }

    // Redis back (empty): shared again, without restarting the replicas.
    let _redis = Redis::start(redis.port);
    let mut shared = false;
    for _ in 0..40 {
        if status(&one).await == 200 && ready(&one).await["rateLimits"] == "shared" {
            shared = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(shared, "the replica did not go back to Redis");
}

#[tokio::test]
async fn redis_stopped_under_load_costs_no_error() {
    let app = TestApp::new(Backend::Sqlite).await;
    let redis = std::sync::Mutex::new(Redis::start(free_port()));
    let url = redis.lock().unwrap().url();
    let (one, two) = (
        replica(&app, &url, 1_000_000),
        replica(&app, &url, 1_000_000),
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    // Four clients ask both replicas without pause while Redis stops.
    let load = futures_util::future::join_all((0..4).map(|_| async {
        let mut statuses = Vec::new();
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            for router in [&one, &two] {
                statuses.push(status(router).await);
            }
            tokio::task::yield_now().await;
        }
        statuses
    }));
    let stopping = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        redis.lock().unwrap().stop();
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (statuses, ()) = tokio::join!(load, stopping);
    let statuses: Vec<u16> = statuses.into_iter().flatten().collect();
    assert!(statuses.len() > 40, "{} requests", statuses.len());
    assert!(statuses.iter().all(|&status| status == 200), "{statuses:?}");
    assert_eq!(ready(&one).await["rateLimits"], "per-replica");
}

#[test]
fn a_redis_url_that_is_not_one_is_refused_at_start_up() {
    let output = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["serve", "--redis-url", "http://example.org/"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("--redis-url"), "{text}");
}
