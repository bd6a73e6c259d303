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
    Named, Options, Server, VIGIE, answered, drop_database, free_port, fresh_database,
    graphql_sender, hub_server, ms, slug, wait_until_up,
};

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
    _directory: tempfile::TempDir,
}

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
        _directory: directory,
    }
}

/// `vigie serve` on `url`, keeping `kept_mib` of answers, once ready;
/// its address.
async fn hub(url: &str, kept_mib: u32) -> (Server, String) {
    let port = free_port();
    let server = hub_server(url, kept_mib, port);
    let address = format!("http://127.0.0.1:{port}");
    wait_until_up(&format!("{address}/ready")).await;
    (server, address)
}

/// The versions of the deployments a writer updates, as it writes them.
struct Writer {
    client: reqwest::Client,
    url: String,
    key: String,
    versions: HashMap<i64, i32>,
}

impl Writer {
    /// Updates deployment `id` (at the version this writer last wrote, 1
    /// the first time), and checks the hub took it.
    async fn update(&mut self, id: i64, n: usize) {
        let version = self.versions.entry(id).or_insert(1);
        answered(self.client.post(&self.url).bearer_auth(&self.key).json(
            &json!({ "query": UPDATE, "variables": { "input": {
                    "id": id::encode("Deployment", id),
                    "expectedVersion": *version,
                    "summary": format!("Résumé revu, écriture {n}"),
                } } }),
        ))
        .await;
        *version += 1;
    }
}

/// Answers to anonymous queries, kept and computed, as `/metrics` counts them.
async fn answers_counted(client: &reqwest::Client, address: &str) -> (f64, f64) {
    let text = client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |from: &str| {
        text.lines()
            .find(|line| {
                line.starts_with("vigie_anonymous_query_answers_total")
                    && line.contains(&format!("from=\"{from}\""))
            })
            .and_then(|line| line.rsplit(' ').next())
            .map_or(0.0, |n| n.parse().unwrap())
    };
    (count("kept"), count("computed"))
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
    let (_hub, address) = hub(&seeded.url, kept_mib).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn({
        let mut writer = Writer {
            client: client.clone(),
            url: format!("{address}/graphql"),
            key: seeded.key.clone(),
            versions: HashMap::new(),
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

/// Writes per second of 8 writers, each updating deployments of its own
/// for `seconds` after a warm-up of 2 s; and their p50 and p99.
async fn writers_run(seeded: &Seeded, seconds: u64) -> (f64, Duration, Duration) {
    let (_hub, address) = hub(&seeded.url, 0).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .unwrap();
    let warm_up = Instant::now() + Duration::from_secs(2);
    let end = warm_up + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let mut writer = Writer {
                client: client.clone(),
                url: format!("{address}/graphql"),
                key: seeded.key.clone(),
                versions: HashMap::new(),
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
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    (latencies.len() as f64 / seconds as f64, at(0.5), at(0.99))
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
    println!("| writes | writes/s | p50 | p99 |");
    println!("|---|---:|---:|---:|");
    for (name, (rate, p50, p99)) in [
        ("before: each write holds the data version's row", before),
        ("after: announced, serial by row", after),
    ] {
        println!("| {name} | {rate:.0} | {} ms | {} ms |", ms(p50), ms(p99));
    }
    println!("| → after ÷ before | {:.1}× | | |", after.0 / before.0);
    drop_database(seeded.admin).await;
}
