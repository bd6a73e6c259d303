//! Read replicas: anonymous queries read a real streaming standby of the
//! test machine's PostgreSQL (a second cluster made by `pg_basebackup -R`,
//! started by the test on a free port), requests with a key read the
//! primary; a standby that lags past the limit, or stops, is skipped, with
//! no error, and read again once it is back, without a restart of the hub.
//! An answer read on a lagging standby is never kept past a write the
//! standby had not replayed.
//!
//! The primary must let the test's user replicate from 127.0.0.1
//! (`host replication all 127.0.0.1/32 trust` in its `pg_hba.conf`;
//! `.ci/run` adds it).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use axum::Router;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value as Json, json};
use vigie::server::{
    self, AppState,
    standbys::{ReadReplicas, Standby},
};

use crate::{
    answers::{JSON, QUERY, ask, hearing, retitle, until_it_holds},
    fixtures::seed_everything,
    helpers::{
        Backend, TestApp, execute_sql, free_port, get_text as get, http_settings,
        postgres_admin_url, ready,
    },
    writes::keys,
};

/// Whether the test runs as root.
fn root() -> bool {
    let id = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&id.stdout).trim() == "0"
}

/// A PostgreSQL command run as the `postgres` user when the test runs as
/// root (the server refuses to run as root), as the test's user otherwise.
fn as_postgres(program: &Path) -> Command {
    if root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The one text a PostgreSQL query answers.
async fn text_of(db: &DatabaseConnection, sql: &str) -> String {
    db.query_one_raw(sea_orm::Statement::from_string(
        sea_orm::DatabaseBackend::Postgres,
        sql,
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index(0)
    .unwrap()
}

/// A streaming standby of the primary the tests use, in a directory of
/// its own; stopped and removed when dropped.
struct StandbyCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Its replication slot on the primary (dropped after it stops).
    _slot: Slot,
}

/// A replication slot on the primary, dropped with this.
struct Slot(String);

impl Drop for Slot {
    fn drop(&mut self) {
        let dropped = Command::new("psql")
            .arg(postgres_admin_url())
            .arg("-c")
            .arg(format!("SELECT pg_drop_replication_slot('{}')", self.0))
            .output();
        if !dropped.is_ok_and(|output| output.status.success()) {
            eprintln!("could not drop the replication slot {}", self.0);
        }
    }
}

impl StandbyCluster {
    /// Copies the primary with `pg_basebackup -R` and starts the copy as a
    /// standby streaming from it.
    async fn make(primary: &DatabaseConnection) -> StandbyCluster {
        let admin = url::Url::parse(&postgres_admin_url()).unwrap();
        let version = text_of(primary, "SELECT current_setting('server_version_num')").await;
        let major = version.parse::<u32>().unwrap() / 10_000;
        // Debian keeps the server's programs by major version, off PATH.
        let debian = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"));
        let bin = if debian.is_dir() {
            debian
        } else {
            PathBuf::new()
        };
        let dir = tempfile::tempdir().unwrap();
        // A slot of its own, made first, keeps the WAL from now on until
        // the copy has streamed it, even while other tests copy the server
        // (their checkpoints would recycle it otherwise).
        let slot = Slot(format!(
            "vigie_test_standby_{}_{}",
            std::process::id(),
            free_port()
        ));
        execute_sql(
            primary,
            &format!(
                "SELECT pg_create_physical_replication_slot('{}', true)",
                slot.0
            ),
        )
        .await;
        if root() {
            run(
                {
                    let mut chown = Command::new("chown");
                    chown.arg("postgres").arg(dir.path());
                    chown
                },
                "chown",
            );
        }
        let data = dir.path().join("data");
        let mut backup = as_postgres(&bin.join("pg_basebackup"));
        backup
            .args(["-h", admin.host_str().unwrap_or("127.0.0.1")])
            .args(["-p", &admin.port().unwrap_or(5432).to_string()])
            .args(["-U", admin.username()])
            .arg("-D")
            .arg(&data)
            .args(["-R", "-X", "stream", "-c", "fast", "-S", &slot.0]);
        run(
            backup,
            "pg_basebackup (does pg_hba.conf allow replication from 127.0.0.1?)",
        );
        let port = free_port();
        // Debian keeps the primary's settings outside its data directory:
        // the copy gets its own.
        let settings = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nhot_standby = on\n",
            dir.path().display()
        );
        let write = |name: &str, text: &str| std::fs::write(data.join(name), text).unwrap();
        write("postgresql.conf", &settings);
        write(
            "pg_hba.conf",
            "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        );
        write("pg_ident.conf", "");
        let standby = StandbyCluster {
            dir,
            bin,
            port,
            _slot: slot,
        };
        standby.start();
        standby
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn start(&self) {
        let mut start = as_postgres(&self.bin.join("pg_ctl"));
        start
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-w", "start"]);
        run(start, "pg_ctl start");
    }

    /// Stops it at once, as a crash would.
    fn stop(&self) {
        let mut stop = as_postgres(&self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = stop.output();
    }

    /// The address of `database` on the standby.
    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for StandbyCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A hub on `app`'s database whose anonymous queries read `standby`, no
/// more than `max_lag` behind; with `keep`, answers are kept.
async fn hub(
    app: &TestApp,
    standby: &StandbyCluster,
    max_lag: Duration,
    keep: bool,
) -> (Router, vigie::db::Db) {
    let name = text_of(&app.db.conn, "SELECT current_database()").await;
    let db = vigie::db::connect_standby(&standby.url(&name), 4, Duration::from_secs(1), None)
        .await
        .unwrap();
    let mut settings = http_settings();
    settings.read_replicas = ReadReplicas {
        standbys: vec![Standby {
            name: "standby".into(),
            db: db.conn.clone(),
        }],
        max_lag,
    };
    if !keep {
        settings.answer_cache_bytes = 0;
    }
    (server::app(AppState::new(app.api.clone(), settings)), db)
}

/// Anonymous queries answered on the standby so far (`/metrics`).
async fn standby_reads(router: &Router) -> u64 {
    let metrics = get(router, "/metrics").await;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("vigie_standby_queries_total{outcome=\"read\"} "))
        .map_or(0, |count| count.parse().unwrap())
}

/// A hub on a seeded database with a key of each kind, reading a standby
/// of its own (streaming when this is made).
struct Setup {
    app: TestApp,
    f: crate::fixtures::Fixture,
    keys: crate::writes::Keys,
    standby: StandbyCluster,
    router: Router,
    standby_db: vigie::db::Db,
}

/// The town whose deployments the tests ask.
fn town() -> Json {
    json!({ "slug": "ville-de-test" })
}

impl Setup {
    /// Pauses the standby's replay, then retitles the town's deployment
    /// through the primary, with the town's editor key.
    async fn write_while_replay_paused(&self, title: &str) {
        execute_sql(&self.standby_db.conn, "SELECT pg_wal_replay_pause()").await;
        retitle(
            &self.app,
            &self.router,
            &self.keys.editor,
            self.f.deployment,
            1,
            title,
        )
        .await;
    }

    /// Lets the standby replay again.
    async fn resume_replay(&self) {
        execute_sql(&self.standby_db.conn, "SELECT pg_wal_replay_resume()").await;
    }

    async fn new(max_lag: Duration, keep: bool) -> Setup {
        let app = TestApp::new(Backend::Postgres).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        hearing(&app.api).await;
        let standby = StandbyCluster::make(&app.db.conn).await;
        let (router, standby_db) = hub(&app, &standby, max_lag, keep).await;
        until_standby_is(&router, "streaming").await;
        Setup {
            app,
            f,
            keys,
            standby,
            router,
            standby_db,
        }
    }
}

/// Waits until `/ready` says the standby is in `state`.
async fn until_standby_is(router: &Router, state: &str) -> Json {
    let start = std::time::Instant::now();
    loop {
        let ready = ready(router).await;
        if ready["standbys"][0]["state"] == state {
            return ready;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the standby is never {state}: {ready}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn anonymous_queries_read_the_standby_and_never_keep_what_it_had_not_replayed() {
    let setup = Setup::new(Duration::from_secs(20), true).await;
    let (app, keys, router) = (&setup.app, &setup.keys, &setup.router);
    let vars = town();

    // An anonymous query reads the standby.
    let before = standby_reads(router).await;
    let first = until_it_holds(app, router, &vars, "Ville de Test").await.0;
    assert!(standby_reads(router).await > before);

    // Replay paused: the standby no longer follows the primary.
    setup.write_while_replay_paused("Relu au primaire").await;
    // With a key, the write is read back at once, from the primary.
    let (_, keyed, _) = ask(app, router, Some(&keys.editor), JSON, QUERY, vars.clone()).await;
    assert!(keyed.contains("Relu au primaire"), "{keyed}");
    // Anonymous, it reads the standby, within its lag: as it was.
    let before = standby_reads(router).await;
    let (_, stale, _) = ask(app, router, None, JSON, QUERY, vars.clone()).await;
    assert_eq!(stale, first);
    assert!(standby_reads(router).await > before, "read on the standby");
    // That answer was not kept: the write it missed was already heard of.
    let before = standby_reads(router).await;
    let (_, again, _) = ask(app, router, None, JSON, QUERY, vars.clone()).await;
    assert_eq!(again, first);
    assert!(
        standby_reads(router).await > before,
        "computed again, not kept"
    );

    // Replay resumed: the anonymous answer catches up.
    setup.resume_replay().await;
    until_it_holds(app, router, &vars, "Relu au primaire").await;
    let metrics = get(router, "/metrics").await;
    assert!(metrics.contains("vigie_standbys_usable 1"), "{metrics}");
    assert!(
        metrics.contains("vigie_standby_lag_seconds{standby=\"standby\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_standby_lagging_past_the_limit_is_skipped_until_it_catches_up() {
    let setup = Setup::new(Duration::from_millis(300), false).await;
    let (app, router) = (&setup.app, &setup.router);
    let vars = town();

    setup
        .write_while_replay_paused("Écrit pendant la pause")
        .await;
    // Past the limit, the standby is skipped: anonymous queries read the
    // primary, and see the write.
    let ready = until_standby_is(router, "lagging").await;
    assert_eq!(ready["status"], "ready");
    assert!(
        ready["degraded"][0]
            .as_str()
            .unwrap()
            .contains("standbys: 1 of 1 skipped"),
        "{ready}"
    );
    let before = standby_reads(router).await;
    until_it_holds(app, router, &vars, "Écrit pendant la pause").await;
    assert_eq!(
        standby_reads(router).await,
        before,
        "the standby was not read"
    );

    // Caught up, it is read again.
    setup.resume_replay().await;
    until_standby_is(router, "streaming").await;
    let before = standby_reads(router).await;
    until_it_holds(app, router, &vars, "Écrit pendant la pause").await;
    assert!(standby_reads(router).await > before);
}

#[tokio::test]
async fn a_standby_stopped_under_load_costs_no_error_and_is_read_again_once_back() {
    let Setup {
        app,
        standby,
        router,
        ..
    } = Setup::new(Duration::from_secs(1), false).await;

    // Four clients ask without pause while the standby stops.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let load = futures_util::future::join_all((0..4).map(|_| async {
        let mut answers = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let vars = town();
            answers.push(ask(&app, &router, None, JSON, QUERY, vars).await);
            tokio::task::yield_now().await;
        }
        answers
    }));
    let stopping = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        standby.stop();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (answers, ()) = tokio::join!(load, stopping);
    let answers: Vec<_> = answers.into_iter().flatten().collect();
    assert!(answers.len() > 8, "{} answers", answers.len());
    let first = &answers[0].1;
    for (status, body, _) in &answers {
        assert_eq!(status.as_u16(), 200, "{body}");
        assert_eq!(body, first);
    }
    let ready = until_standby_is(&router, "down").await;
    assert_eq!(ready["status"], "ready");
    assert!(
        ready["degraded"][0].as_str().unwrap().contains("skipped"),
        "{ready}"
    );

    // Started again: read again, without a restart of the hub.
    standby.start();
    until_standby_is(&router, "streaming").await;
    let before = standby_reads(&router).await;
    let vars = town();
    let (status, body, _) = ask(&app, &router, None, JSON, QUERY, vars).await;
    assert_eq!((status.as_u16(), &body), (200, first));
    assert!(standby_reads(&router).await > before);
}

#[test]
fn a_standby_address_that_is_not_one_or_without_a_postgresql_primary_stops_the_start() {
    let refused = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("serve")
            .args(args)
            .output()
            .unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let text = refused(&["--read-database-url", "standby.example.org"]);
    assert!(text.contains("--read-database-url"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    let text = refused(&[
        "--database-url",
        &sqlite,
        "--read-database-url",
        "postgres://127.0.0.1:1/none",
    ]);
    assert!(text.contains("must be PostgreSQL"), "{text}");
}
