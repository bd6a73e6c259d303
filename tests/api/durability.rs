//! Nothing acknowledged is lost: the hub on a SQLite file is killed
//! (SIGKILL, no chance to flush) while eight clients write, then started
//! again; every write it acknowledged is there exactly once, and the file
//! is sound. Several rounds, on the same file.

use std::{
    collections::HashSet,
    process::{Child, Command},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value as Json, json};

use crate::helpers::{post_graphql, serve_process, succeeded};

const VIGIE: &str = env!("CARGO_BIN_EXE_vigie");
const WRITERS: usize = 8;
const ROUNDS: usize = 4;

/// Starts the hub and waits until it answers.
async fn start(url: &str) -> (Child, String) {
    serve_process(url, &["--rate-limit-ip", "0", "--rate-limit-key", "0"]).await
}

const CREATE: &str = "mutation($input: CreateDeploymentInput!, $key: String) {
    createDeployment(input: $input, idempotencyKey: $key) { id title }
}";

/// One writer: creates deployments until the hub stops answering; returns
/// the titles the hub acknowledged.
async fn writer(
    client: reqwest::Client,
    base: String,
    key: String,
    territory: String,
    name: String,
    acknowledged: Arc<Mutex<Vec<String>>>,
) {
    for n in 0.. {
        let title = format!("{name}-{n}");
        let body = json!({ "query": CREATE, "variables": {
            "input": { "territory": territory, "title": title, "status": "IDEA" },
            "key": title,
        }});
        let sent = client
            .post(format!("{base}/graphql"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await;
        // The hub was killed: this write was never acknowledged.
        let Ok(response) = sent else { return };
        let Ok(answer) = response.json::<Json>().await else {
            return;
        };
        assert!(
            answer.get("errors").is_none(),
            "a write failed while the hub ran: {answer}"
        );
        assert_eq!(answer["data"]["createDeployment"]["title"], title.as_str());
        acknowledged.lock().unwrap().push(title);
    }
}

async fn rows(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_a_kill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    succeeded(
        Command::new(VIGIE)
            .args(["import-reference", "--database-url", &url])
            .output()
            .unwrap(),
    );
    let output = succeeded(
        Command::new(VIGIE)
            .args(["keys", "create", "--role", "admin", "--label", "durability"])
            .args(["--database-url", &url])
            .output()
            .unwrap(),
    );
    let key = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    let client = reqwest::Client::new();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    for round in 0..ROUNDS {
        let (mut hub, base) = start(&url).await;
        let answer = post_graphql(
            &base,
            None,
            "{ territories(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
        let territory = answer["data"]["territories"]["nodes"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let before = acknowledged.lock().unwrap().len();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(writer(
                    client.clone(),
                    base.clone(),
                    key.clone(),
                    territory.clone(),
                    format!("durability-{round}-{w}"),
                    acknowledged.clone(),
                ))
            })
            .collect();
        // Let the writers run, then kill the hub mid-write.
        let started = Instant::now();
        while acknowledged.lock().unwrap().len() < before + 100 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "writes too slow"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        hub.kill().unwrap(); // SIGKILL
        hub.wait().unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
    }

    // Started once more on the file the last kill left: everything is there.
    let (mut hub, _) = start(&url).await;
    hub.kill().unwrap();
    hub.wait().unwrap();
    let db = vigie::db::connect(&url, 1).await.unwrap().conn;
    let stored: Vec<String> = rows(
        &db,
        "SELECT title FROM deployment WHERE title LIKE 'durability-%'",
    )
    .await
    .iter()
    .map(|row| row.try_get::<String>("", "title").unwrap())
    .collect();
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "a write was stored twice");
    let acknowledged = acknowledged.lock().unwrap().clone();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|t| !unique.contains(t))
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(acknowledged.len() >= ROUNDS * 100);
    // Each stored write has its audit event, in the same transaction.
    let audited = rows(
        &db,
        "SELECT COUNT(*) AS n FROM audit_event a JOIN deployment d \
         ON a.record_type = 'Deployment' AND a.record_id = d.id \
         WHERE d.title LIKE 'durability-%'",
    )
    .await[0]
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(audited as usize, stored.len());
    let integrity = rows(&db, "PRAGMA integrity_check").await;
    assert_eq!(
        integrity[0]
            .try_get::<String>("", "integrity_check")
            .unwrap(),
        "ok"
    );
    assert!(rows(&db, "PRAGMA foreign_key_check").await.is_empty());
}
