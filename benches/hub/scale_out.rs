//! Scale-out measures, at synthetic scale 1 (see BENCHMARKS.md, "Scale
//! out"):
//!
//! - `--mixed`: 16 readers ask the widget's query (`TerritoryWidget`) of
//!   the 1,000 territories in turn while one writer updates a random
//!   deployment ten times a second, with answers kept as the hub keeps
//!   them by default, then with none kept (`--answer-cache-mb 0`): the
//!   share of reads answered from kept answers, and the reads per second
//!   of both runs.
//! - `--writers` (PostgreSQL): 8 writers update deployments of their own
//!   as fast as the hub commits them, as writes now commit, then with the
//!   triggers of the data version restored as they were before writes
//!   were announced (each statement's `UPDATE data_version`, which every
//!   write took until it committed): writes per second of both.
//! - `--replicas` (PostgreSQL, and Redis at `VIGIE_BENCH_REDIS_URL`,
//!   default the local one): the widget's query from 16 clients sent to
//!   one replica, then to two replicas in turn (a round robin in the load
//!   client, one address for the hub's limits: 127.0.0.1), reads per
//!   second of both; then as many requests as the clients can send for
//!   10 s to the two replicas with a limit of 600 a minute per address,
//!   counted once in Redis, then in each replica's memory: how many each
//!   took (the limit's burst is 600, and it refills 10 a second).
//! - `--validated`: the headline query computed (no answer kept) from 16
//!   clients across the 1,000 territories, on a hub that remembers the
//!   documents it validated (the default) and on one that validates every
//!   request (`--validated-documents 0`), each beside the raw-SQL
//!   baseline, in turns of three, twice: requests per second, the hub's
//!   CPU per request, and each against the baseline.

use std::{
    collections::HashMap,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::json;
use vigie::graphql::engine::id;

use super::{
    Cpu, HEADLINE_QUERY, Measure, Named, Options, Server, VIGIE, answered, baseline_sender,
    drop_database, free_port, fresh_database, graphql_sender, hub_server_with, load, load_client,
    measured, ms, slug, wait_until_up,
};

/// No rate limit: the load clients are one address making many requests.
const UNLIMITED: &[&str] = &["--rate-limit-ip", "0"];

const WIDGET: &str = include_str!("../../src/server/safelist/TerritoryWidget.graphql");

const UPDATE: &str =
    "mutation($input: UpdateDeploymentInput!) { updateDeployment(input: $input) { version } }";

/// A database seeded at the options' scale, with an admin key; its URL,
/// what drops it, the key and the deployments' ids.
struct Seeded {
    url: String,
    admin: Option<(DatabaseConnection, String)>,
    key: String,
    deployments: Vec<i64>,
    /// The deployments' versions, as the runs' writers left them.
    versions: Versions,
    _directory: tempfile::TempDir,
}

/// The version of each deployment written, by id (1 if never written).
type Versions = Arc<std::sync::Mutex<HashMap<i64, i32>>>;

async fn seeded(backend: &str, options: &Options, name: &str) -> Seeded {
    let directory = tempfile::tempdir().unwrap();
    let (url, admin) = fresh_database(backend, directory.path(), name).await;
    let vigie = |args: &[&str]| {
        let output = Command::new(VIGIE)
            .args(args)
            .args(["--database-url", &url])
            .env("RUST_LOG", "warn")
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(output.status.success(), "vigie {args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    vigie(&["seed-synthetic", "--scale", &options.scale.to_string()]);
    let key = vigie(&["keys", "create", "--role", "admin", "--label", "bench"])
        .trim()
        .to_owned();
    let db = Database::connect(&url).await.unwrap();
    let deployments = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM deployment WHERE archived_at IS NULL ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<i64>("", "id").unwrap())
        .collect();
    db.close().await.unwrap();
    Seeded {
        url,
        admin,
        key,
        deployments,
        versions: Versions::default(),
        _directory: directory,
    }
}

/// `vigie serve` on `url`, keeping `kept_mib` of answers, with `more`
/// arguments (its rate limits), once ready; its address.
async fn hub(url: &str, kept_mib: u32, more: &[&str]) -> (Server, String) {
    let port = free_port();
    let server = hub_server_with(url, kept_mib, port, more);
    let address = format!("http://127.0.0.1:{port}");
    wait_until_up(&format!("{address}/ready")).await;
    (server, address)
}

/// A writer of deployments, and their versions as writes left them.
struct Writer {
    client: reqwest::Client,
    url: String,
    key: String,
    versions: Versions,
}

impl Writer {
    /// Updates deployment `id` at its version, and checks the hub took it.
    /// Two writers never write one deployment.
    async fn update(&self, id: i64, n: usize) {
        let version = *self.versions.lock().unwrap().entry(id).or_insert(1);
        answered(self.client.post(&self.url).bearer_auth(&self.key).json(
            &json!({ "query": UPDATE, "variables": { "input": {
                    "id": id::encode("Deployment", id),
                    "expectedVersion": version,
                    "summary": format!("Résumé revu, écriture {n}"),
                } } }),
        ))
        .await;
        self.versions.lock().unwrap().insert(id, version + 1);
    }
}

/// Answers to anonymous queries, kept and computed, as `/metrics` counts them.
async fn answers_counted(client: &reqwest::Client, address: &str) -> (f64, f64) {
    let count = metric_counts(client, address, "vigie_anonymous_query_answers_total").await;
    (count("kept"), count("computed"))
}

/// The counts of a metric at `address`, by its `from` label.
async fn metric_counts(
    client: &reqwest::Client,
    address: &str,
    metric: &'static str,
) -> impl Fn(&str) -> f64 {
    let text = client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    move |from: &str| {
        text.lines()
            .find(|line| line.starts_with(metric) && line.contains(&format!("from=\"{from}\"")))
            .and_then(|line| line.rsplit(' ').next())
            .map_or(0.0, |n| n.parse().unwrap())
    }
}

/// One run of the mixed load: reads per second, p50 and p99, the share
/// kept, and the writes made.
struct Mixed {
    reads: f64,
    p50: Duration,
    p99: Duration,
    kept_share: f64,
    writes: usize,
}

async fn mixed_run(seeded: &Seeded, kept_mib: u32, seconds: u64) -> Mixed {
    let (_hub, address) = hub(&seeded.url, kept_mib, UNLIMITED).await;
    let client = load_client();
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn({
        let writer = Writer {
            client: client.clone(),
            url: format!("{address}/graphql"),
            key: seeded.key.clone(),
            versions: seeded.versions.clone(),
        };
        let deployments = seeded.deployments.clone();
        let (stop, writes) = (stop.clone(), writes.clone());
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let mut n = 0usize;
            while !stop.load(Ordering::Acquire) {
                tick.tick().await;
                // A spread of the deployments, not in order.
                let id = deployments[(n * 7919 + 13) % deployments.len()];
                writer.update(id, n).await;
                writes.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }
    });
    let before = answers_counted(&client, &address).await;
    let widget = Named {
        name: "TerritoryWidget",
        query: WIDGET,
        variables: |n| json!({ "slug": slug(n) }),
    };
    let send = graphql_sender(client.clone(), format!("{address}/graphql"), &widget);
    let measured = super::load(16, seconds, send).await;
    stop.store(true, Ordering::Release);
    writer.await.unwrap();
    let after = answers_counted(&client, &address).await;
    let (kept, computed) = (after.0 - before.0, after.1 - before.1);
    Mixed {
        reads: measured.throughput(),
        p50: measured.p50,
        p99: measured.p99,
        kept_share: if kept + computed > 0.0 {
            kept / (kept + computed)
        } else {
            0.0
        },
        writes: writes.load(Ordering::Relaxed),
    }
}

pub async fn mixed(backend: &str, options: &Options) {
    let seeded = seeded(backend, options, "mixed").await;
    let kept = mixed_run(
        &seeded,
        vigie::server::answers::DEFAULT_MIB,
        options.seconds,
    )
    .await;
    let computed = mixed_run(&seeded, 0, options.seconds).await;
    println!(
        "\n### {backend}: mixed load (16 readers of the widget across 1,000 territories, one writer at 10 writes/s, {} s)\n",
        options.seconds
    );
    println!("| answers | reads/s | p50 | p99 | reads answered from kept answers | writes |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, run) in [("kept (default)", &kept), ("none kept", &computed)] {
        println!(
            "| {name} | {:.0} | {} ms | {} ms | {:.1}% | {} |",
            run.reads,
            ms(run.p50),
            ms(run.p99),
            run.kept_share * 100.0,
            run.writes
        );
    }
    println!(
        "| → kept ÷ none kept | {:.1}× | | | | |",
        kept.reads / computed.reads
    );
    drop_database(seeded.admin).await;
}

/// What 8 writers did: their writes, CPU per write of the hub and of
/// PostgreSQL (ms), and how busy the machine's cores were.
struct Writes {
    measure: Measure,
    cpu: Cpu,
    busy: f64,
}

/// Time the machine's cores spent busy and in all, in clock ticks
/// (`/proc/stat`).
fn machine_ticks() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    let all: f64 = ticks.iter().sum();
    // idle and iowait are the 4th and 5th.
    let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
    (all - idle, all)
}

/// 8 writers, each updating deployments of its own for `seconds` after a
/// warm-up of 2 s.
async fn writers_run(seeded: &Seeded, seconds: u64) -> Writes {
    let (hub, address) = hub(&seeded.url, 0, UNLIMITED).await;
    let cpu_before = Cpu::now(hub.0.id(), true);
    let ticks_before = machine_ticks();
    let client = load_client();
    let warm_up = Instant::now() + Duration::from_secs(2);
    let end = warm_up + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let writer = Writer {
                client: client.clone(),
                url: format!("{address}/graphql"),
                key: seeded.key.clone(),
                versions: seeded.versions.clone(),
            };
            let own: Vec<i64> = seeded
                .deployments
                .iter()
                .copied()
                .filter(|id| id % 8 == w)
                .collect();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0;
                while Instant::now() < end {
                    let started = Instant::now();
                    writer.update(own[(n * 7919) % own.len()], n).await;
                    if started >= warm_up {
                        latencies.push(started.elapsed());
                    }
                    n += 1;
                }
                (latencies, n)
            })
        })
        .collect();
    let measure = measured(tasks, seconds).await;
    let ticks_after = machine_ticks();
    Writes {
        cpu: Cpu::per_request(&cpu_before, &Cpu::now(hub.0.id(), true), measure.sent),
        busy: (ticks_after.0 - ticks_before.0) / (ticks_after.1 - ticks_before.1),
        measure,
    }
}

/// The data version's triggers as they were before writes were announced:
/// each statement moves the version, so every write holds its one row
/// until it commits.
const BEFORE: &str = "CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger \
    LANGUAGE plpgsql AS $$ BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; \
    RETURN NULL; END $$";

pub async fn writers(options: &Options) {
    let seeded = seeded("postgres", options, "writers").await;
    let after = writers_run(&seeded, options.seconds).await;
    let db = Database::connect(&seeded.url).await.unwrap();
    db.execute_unprepared(BEFORE).await.unwrap();
    db.close().await.unwrap();
    let before = writers_run(&seeded, options.seconds).await;
    println!(
        "\n### postgres: 8 concurrent writers, each updating deployments of its own ({} s)\n",
        options.seconds
    );
    println!("| writes | writes/s | p50 | p99 | hub / PostgreSQL CPU per write | cores busy |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, run) in [
        ("before: each write holds the data version's row", &before),
        ("after: announced, serial by row", &after),
    ] {
        println!(
            "| {name} | {:.0} | {} ms | {} ms | {:.2} / {:.2} ms | {:.0}% |",
            run.measure.throughput(),
            ms(run.measure.p50),
            ms(run.measure.p99),
            run.cpu.server,
            run.cpu.database.unwrap_or(f64::NAN),
            run.busy * 100.0
        );
    }
    println!(
        "| → after ÷ before | {:.1}× | | | | |",
        after.measure.throughput() / before.measure.throughput()
    );
    drop_database(seeded.admin).await;
}

/// Replicas of the hub on one database, each started with `more`
/// arguments, once ready; their addresses.
async fn replicas_on(url: &str, count: usize, more: &[&str]) -> (Vec<Server>, Vec<String>) {
    let mut servers = Vec::new();
    let mut addresses = Vec::new();
    for _ in 0..count {
        let (server, address) = hub(url, vigie::server::answers::DEFAULT_MIB, more).await;
        servers.push(server);
        addresses.push(address);
    }
    (servers, addresses)
}

/// Reads per second of the widget's query from 16 clients, sent to
/// `addresses` in turn.
async fn round_robin(addresses: &[String], seconds: u64) -> f64 {
    let client = load_client();
    let widget = Named {
        name: "TerritoryWidget",
        query: WIDGET,
        variables: |n| json!({ "slug": slug(n) }),
    };
    let senders: Vec<_> = addresses
        .iter()
        .map(|address| graphql_sender(client.clone(), format!("{address}/graphql"), &widget))
        .collect();
    let turn = AtomicUsize::new(0);
    let send = Arc::new(move |n: usize| {
        let i = turn.fetch_add(1, Ordering::Relaxed) % senders.len();
        senders[i](n)
    });
    super::load(16, seconds, send).await.throughput()
}

/// Requests the two replicas took (200) and refused (429) when 16 clients
/// send as many as they can for `seconds`, in turn to each.
async fn taken_and_refused(addresses: &[String], seconds: u64) -> (usize, usize) {
    let client = reqwest::Client::new();
    let end = Instant::now() + Duration::from_secs(seconds);
    let taken = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let turn = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (client, addresses) = (client.clone(), addresses.to_vec());
            let (taken, refused, turn) = (taken.clone(), refused.clone(), turn.clone());
            tokio::spawn(async move {
                while Instant::now() < end {
                    let i = turn.fetch_add(1, Ordering::Relaxed);
                    let status = client
                        .post(format!("{}/graphql", addresses[i % addresses.len()]))
                        .json(&json!({ "query": WIDGET, "variables": { "slug": slug(i) } }))
                        .send()
                        .await
                        .expect("the hub answers")
                        .status();
                    match status.as_u16() {
                        200 => taken.fetch_add(1, Ordering::Relaxed),
                        429 => refused.fetch_add(1, Ordering::Relaxed),
                        other => panic!("status {other}"),
                    };
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (
        taken.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    )
}

pub async fn replicas(options: &Options) {
    let seeded = seeded("postgres", options, "replicas").await;
    let one = {
        let (_servers, addresses) = replicas_on(&seeded.url, 1, UNLIMITED).await;
        round_robin(&addresses, options.seconds).await
    };
    let two = {
        let (_servers, addresses) = replicas_on(&seeded.url, 2, UNLIMITED).await;
        round_robin(&addresses, options.seconds).await
    };
    let redis =
        std::env::var("VIGIE_BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    // What an earlier run left in Redis is at most a minute old: run this
    // mode a minute apart.
    let shared = {
        let (_servers, addresses) = replicas_on(
            &seeded.url,
            2,
            &["--rate-limit-ip", "600", "--redis-url", &redis],
        )
        .await;
        taken_and_refused(&addresses, 10).await
    };
    let alone = {
        let (_servers, addresses) = replicas_on(&seeded.url, 2, &["--rate-limit-ip", "600"]).await;
        taken_and_refused(&addresses, 10).await
    };
    println!(
        "\n### postgres: two replicas on one database ({} s a run; kept answers as by default)\n",
        options.seconds
    );
    println!("| replicas | reads/s |");
    println!("|---|---:|");
    println!("| one | {one:.0} |");
    println!("| two, in turn | {two:.0} |");
    println!("| → two ÷ one | {:.2}× |", two / one);
    println!("\nA limit of 600 a minute for one address, 16 clients for 10 s, two replicas:\n");
    println!("| limits counted | taken (200) | refused (429) | expected if counted once |");
    println!("|---|---:|---:|---:|");
    for (name, (taken, refused)) in [("once, in Redis", shared), ("in each replica", alone)] {
        println!("| {name} | {taken} | {refused} | 600 + 10 a second: about 700 |");
    }
    drop_database(seeded.admin).await;
}

/// The headline query computed, on a hub that remembers the documents it
/// validated and on one that validates every request, each beside the
/// raw-SQL baseline (see the module's documentation).
pub async fn validated(backend: &str, options: &Options) {
    let seeded = seeded(backend, options, "validated").await;
    let postgres = seeded.admin.is_some();
    let (once, once_address) = hub(&seeded.url, 0, UNLIMITED).await;
    let each: Vec<&str> = UNLIMITED
        .iter()
        .copied()
        .chain(["--validated-documents", "0"])
        .collect();
    let (every, every_address) = hub(&seeded.url, 0, &each).await;
    let (baseline, baseline_address) = super::baseline_server(&seeded.url).await;
    let client = load_client();
    let headline = Named {
        name: "headline",
        query: HEADLINE_QUERY,
        variables: |n| json!({ "slug": slug(n) }),
    };
    println!(
        "\n### {backend}: the headline query computed, 16 clients, {} s a run\n",
        options.seconds
    );
    println!(
        "| run | requests/s | p50 | p99 | hub CPU (ms/request) | database CPU (ms/request) | baseline requests/s | hub ÷ baseline |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for round in 1..=2 {
        for (name, server, address) in [
            ("validated once (default)", &once, &once_address),
            ("validated each time", &every, &every_address),
        ] {
            let raw = load(
                16,
                options.seconds,
                baseline_sender(client.clone(), &baseline_address),
            )
            .await;
            let before = Cpu::now(server.0.id(), postgres);
            let measure = load(
                16,
                options.seconds,
                graphql_sender(client.clone(), format!("{address}/graphql"), &headline),
            )
            .await;
            let cpu = Cpu::per_request(&before, &Cpu::now(server.0.id(), postgres), measure.sent);
            println!(
                "| {round}: {name} | {:.0} | {} ms | {} ms | {} | {:.0} | {:.2} |",
                measure.throughput(),
                ms(measure.p50),
                ms(measure.p99),
                cpu.columns(),
                raw.throughput(),
                measure.throughput() / raw.throughput()
            );
        }
    }
    let count = metric_counts(&client, &once_address, "vigie_validations").await;
    println!(
        "\nThe default hub found {:.0} requests validated before and validated {:.0}.",
        count("remembered"),
        count("validated")
    );
    drop((once, every, baseline));
    validation_alone(&seeded.url).await;
    drop_database(seeded.admin).await;
}

/// The headline query asked of a territory that does not exist, in the
/// bench's process, one request at a time: one statement, so that parsing
/// (a copy of the document kept), validating and running the root field
/// are what it costs. Microseconds a request with documents remembered
/// and without, in alternating rounds.
async fn validation_alone(url: &str) {
    use vigie::graphql::{Api, Limits};
    let db = vigie::db::connect(url, 4).await.unwrap();
    let apis = [
        (
            "validated once (default)",
            Api::new(db.conn.clone(), Limits::default()),
        ),
        (
            "validated each time",
            Api::new(
                db.conn.clone(),
                Limits {
                    validated_documents: 0,
                    ..Limits::default()
                },
            ),
        ),
    ];
    let mut totals = [Duration::ZERO; 2];
    const EACH: u32 = 2_000;
    for _round in 0..5 {
        for (total, (_, api)) in totals.iter_mut().zip(&apis) {
            let started = Instant::now();
            for _ in 0..EACH {
                let request = async_graphql::Request::new(HEADLINE_QUERY).variables(
                    async_graphql::Variables::from_json(json!({ "slug": "nowhere" })),
                );
                let response = api.execute(request).await;
                assert!(response.errors.is_empty(), "{:?}", response.errors);
            }
            *total += started.elapsed();
        }
    }
    println!("\n| the headline of no territory, one at a time | µs a request |\n|---|---:|");
    for (total, (name, _)) in totals.iter().zip(&apis) {
        println!(
            "| {name} | {:.0} |",
            total.as_secs_f64() * 1e6 / f64::from(EACH * 5)
        );
    }
    db.close().await;
}
