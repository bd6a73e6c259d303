//! The `vigie` binary itself: its settings reference, its schema output,
//! and `serve` on the embedded default, stopped gracefully.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::helpers::{
    count_rows, free_port, post_graphql, succeeded, wait_for_exit, wait_until_healthy,
};

const VIGIE: &str = env!("CARGO_BIN_EXE_vigie");

fn vigie(args: &[&str]) -> std::process::Output {
    Command::new(VIGIE)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

/// Runs `vigie` with `args`, which must succeed.
fn vigie_succeeds(args: &[&str]) {
    succeeded(vigie(args));
}

#[test]
fn help_documents_every_setting() {
    let top = String::from_utf8(vigie(&["--help"]).stdout).unwrap();
    for setting in [
        "--database-url",
        "DATABASE_URL",
        "--db-max-connections",
        "serve",
        "migrate",
        "import-reference",
        "import-geography",
        "print-schema",
        "seed-synthetic",
        "keys",
        "import",
        "export",
        "template",
    ] {
        assert!(
            top.contains(setting),
            "vigie --help lacks {setting}:\n{top}"
        );
    }
    let serve = String::from_utf8(vigie(&["serve", "--help"]).stdout).unwrap();
    for setting in [
        "--addr",
        "VIGIE_ADDR",
        "127.0.0.1:8080",
        "--max-depth",
        "VIGIE_MAX_DEPTH",
        "--max-complexity",
        "VIGIE_MAX_COMPLEXITY",
        "--max-body-bytes",
        "VIGIE_MAX_BODY_BYTES",
        "--no-reference",
        "--no-geography",
        "VIGIE_NO_GEOGRAPHY",
        "--no-registers",
        "VIGIE_NO_REGISTERS",
        "sqlite://vigie.db?mode=rwc",
        "--cors-origins",
        "--rate-limit-ip",
        "--rate-limit-key",
        "--trust-forwarded-for",
        "--db-acquire-timeout-ms",
        "--log-format",
        "--cache-max-age",
        "--safelist-only",
    ] {
        assert!(
            serve.contains(setting),
            "vigie serve --help lacks {setting}:\n{serve}"
        );
    }
}

#[test]
fn seed_synthetic_documents_its_scale_and_seed() {
    let help = String::from_utf8(vigie(&["seed-synthetic", "--help"]).stdout).unwrap();
    for setting in ["--scale", "--seed", "200,000 contributions"] {
        assert!(
            help.contains(setting),
            "vigie seed-synthetic --help lacks {setting}:\n{help}"
        );
    }
}

#[test]
fn print_schema_prints_the_committed_schema() {
    let output = succeeded(vigie(&["print-schema"]));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

#[tokio::test]
async fn serve_starts_on_an_empty_sqlite_file_with_the_reference_data_and_the_geography_and_stops_on_sigterm()
 {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("vigie.db");
    let port = free_port();
    let mut child = Command::new(VIGIE)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", database.display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{base}/health")).send().await
            && response.status().is_success()
        {
            break;
        }
        // The first start loads the official geography: 36,000 territories.
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "vigie serve did not start"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "vigie serve exited early"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let data = post_graphql(
        &base,
        None,
        vigie::server::HEADLINE_QUERY,
        json!({ "slug": "nantes-metropole" }),
    )
    .await;
    assert_eq!(
        data["data"]["territory"]["name"], "Nantes Métropole",
        "{data}"
    );
    let concerns =
        &data["data"]["territory"]["participations"]["nodes"][0]["programme"]["concerns"]["nodes"];
    assert_eq!(concerns.as_array().unwrap().len(), 10);
    // The official geography, with the network's territories matched.
    let data = post_graphql(
        &base,
        None,
        r#"{ commune: territory(inseeCode: "44109") { name groupings { nodes { slug } } }
             metropole: territory(siren: "244400404") { slug } }"#,
        json!({}),
    )
    .await;
    assert_eq!(data["data"]["commune"]["name"], "Nantes", "{data}");
    assert_eq!(
        data["data"]["commune"]["groupings"]["nodes"][0]["slug"],
        "nantes-metropole"
    );
    assert_eq!(data["data"]["metropole"]["slug"], "nantes-metropole");
    // The bundled registers of algorithms: every Dutch listing entry.
    let data = post_graphql(
        &base,
        None,
        r#"{ deployments(filter: { territory: { country: { eq: "NL" } } }) { totalCount } }"#,
        json!({}),
    )
    .await;
    let listing = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/registers/nl-algoritmeregister/algoritmes.json.gz"
    ))
    .unwrap();
    let listing: serde_json::Value =
        serde_json::from_reader(flate2::read::GzDecoder::new(listing.as_slice())).unwrap();
    assert_eq!(
        data["data"]["deployments"]["totalCount"].as_u64(),
        listing["count"].as_u64(),
        "{data}"
    );

    // WAL mode is on for the file.
    assert!(dir.path().join("vigie.db-wal").exists());

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_for_exit(&mut child).await;
    assert!(exit.success(), "vigie serve exited with {exit}");
    // Stopped, it folded the write-ahead log into the file.
    assert!(!dir.path().join("vigie.db-wal").exists());
}

/// The number of rows of each of `tables` in the SQLite file at `path`.
async fn row_counts(path: &std::path::Path, tables: &[&str]) -> Vec<i64> {
    let db = vigie::db::connect(&format!("sqlite://{}?mode=rw", path.display()), 1)
        .await
        .unwrap();
    let mut counts = Vec::new();
    for table in tables {
        counts.push(count_rows(&db.conn, table).await);
    }
    db.conn.close().await.unwrap();
    counts
}

#[tokio::test]
async fn a_command_leaves_the_sqlite_file_whole_without_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vigie.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    vigie_succeeds(&["seed-synthetic", "--scale", "0.02", "--database-url", &url]);
    assert!(
        !dir.path().join("vigie.db-wal").exists(),
        "seed-synthetic left its writes in the write-ahead log"
    );

    // The file copied alone holds what the command wrote.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&file, &copy).unwrap();
    let tables = ["territory", "deployment", "contribution", "search_entry"];
    let copied = row_counts(&copy, &tables).await;
    let original = row_counts(&file, &tables).await;
    assert!(copied.iter().all(|&n| n > 0), "{copied:?}");
    assert_eq!(copied, original);
}

#[test]
fn import_reference_can_run_again_on_a_loaded_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    for _ in 0..2 {
        vigie_succeeds(&["import-reference", "--database-url", &url]);
    }
    vigie_succeeds(&["migrate", "--database-url", &url]);
}

#[test]
fn keys_are_created_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let run = |args: &[&str]| {
        Command::new(VIGIE)
            .args(args)
            .args(["--database-url", &url])
            .output()
            .unwrap()
    };
    succeeded(run(&["import-reference"]));

    let created = succeeded(run(&[
        "keys",
        "create",
        "--role",
        "editor",
        "--territory",
        "nantes-metropole",
        "--label",
        "Nantes Métropole — service numérique",
    ]));
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("vigie_") && key.len() == 6 + 64, "{key}");

    let listed = String::from_utf8(run(&["keys", "list"]).stdout).unwrap();
    let line = listed.lines().nth(1).expect("one key listed");
    assert!(line.contains(&key[..14]), "the prefix is listed: {line}");
    assert!(
        !listed.contains(&key[14..]),
        "the key itself is never listed"
    );
    assert!(
        line.contains("EDITOR") && line.contains("nantes-metropole") && line.ends_with("active")
    );

    let id = line.split('\t').next().unwrap();
    succeeded(run(&["keys", "revoke", id]));
    let listed = String::from_utf8(run(&["keys", "list"]).stdout).unwrap();
    assert!(listed.lines().nth(1).unwrap().contains("revoked"));
    assert!(
        !run(&["keys", "revoke", id]).status.success(),
        "revoked twice"
    );

    for refused in [
        &[
            "keys",
            "create",
            "--role",
            "editor",
            "--label",
            "Sans territoire",
        ][..],
        &[
            "keys",
            "create",
            "--role",
            "editor",
            "--territory",
            "nowhere",
            "--label",
            "X",
        ],
        &[
            "keys",
            "create",
            "--role",
            "admin",
            "--territory",
            "nantes-metropole",
            "--label",
            "X",
        ],
        &["keys", "create", "--role", "admin", "--label", " "],
    ] {
        let output = run(refused);
        assert!(!output.status.success(), "{refused:?} was accepted");
        assert!(output.stdout.is_empty(), "{refused:?} printed a key");
    }
}

#[tokio::test]
async fn a_request_in_flight_at_sigterm_is_answered_before_the_hub_stops() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(VIGIE)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env(
            "DATABASE_URL",
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("vigie.db").display()
            ),
        )
        .env("VIGIE_NO_GEOGRAPHY", "true")
        .env("VIGIE_NO_REGISTERS", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_healthy(&format!("http://127.0.0.1:{port}")).await;

    // A request whose body is still arriving when the hub is told to stop.
    let body = json!({ "query": "{ territories { totalCount } }" }).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the hub stopped with a request in flight"
    );
    socket.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""totalCount":28"#), "{answer}");

    let exit = wait_for_exit(&mut child).await;
    assert!(exit.success(), "vigie serve exited with {exit}");
}

/// What a command logged, without its colours.
fn log_of(output: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An escape sequence ends at its first letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// Off a terminal, long commands say how far they are in plain log lines,
/// up to their total.
#[test]
fn long_commands_log_their_progress_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("seeded.db").display()
    );
    let seeded = vigie(&["seed-synthetic", "--scale", "0.01", "--database-url", &url]);
    let log = log_of(&seeded);
    assert!(seeded.status.success(), "{log}");
    assert!(log.contains("synthetic data done=17 total=17"), "{log}");

    let export = dir.path().join("export.json");
    let exported = vigie(&[
        "export",
        "--format",
        "json",
        "--out",
        export.to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    let log = log_of(&exported);
    assert!(exported.status.success(), "{log}");
    let types = entity::records::TABLES.len();
    assert!(
        log.contains(&format!("export done={types} total={types}")),
        "{log}"
    );

    let other = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("imported.db").display()
    );
    let imported = vigie(&["import", export.to_str().unwrap(), "--database-url", &other]);
    let log = log_of(&imported);
    assert!(imported.status.success(), "{log}");
    let rows: usize = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
        &std::fs::read_to_string(&export).unwrap(),
    )
    .unwrap()
    .values()
    .map(|rows| rows.as_array().unwrap().len())
    .sum();
    assert!(
        log.contains(&format!("import done={rows} total={rows}")),
        "{log}"
    );
}

/// `vigie import-register` prints its report, as JSON when asked; a second
/// run changes nothing, and a dry run writes nothing.
#[test]
fn import_register_reports_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/registers/fr-etalab/algorithmes_publics.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["import-register", "--format", "fr-etalab", "--report-json"];
        args.extend(extra);
        args.extend(["--database-url", &url]);
        let output = vigie(&args);
        assert!(output.status.success(), "{}", log_of(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let dry = run(&["--dry-run"]);
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["created"].as_u64()),
        (Some(true), Some(rows.len() as u64))
    );
    let first = run(&[]);
    assert_eq!(
        first["created"].as_u64(),
        Some(rows.len() as u64),
        "{first}"
    );
    assert_eq!(first["register"], "fr-etalab");
    let again = run(&[]);
    assert_eq!(
        (again["created"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(rows.len() as u64)),
        "{again}"
    );

    // Without --report-json: lines for a reader.
    let output = vigie(&[
        "import-register",
        "--format",
        "fr-etalab",
        "--database-url",
        &url,
    ]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("fr-etalab from the bundled copy of fr-etalab: 14 records; 0 created"),
        "{text}"
    );
    // A file that is not the format: a clear error, and a failure.
    let wrong = vigie(&[
        "import-register",
        "--format",
        "uk-atrs",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/registers/fr-etalab/algorithmes_publics.json"
        ),
        "--database-url",
        &url,
    ]);
    assert!(!wrong.status.success());
    assert!(
        log_of(&wrong).contains("not a CSV of UK transparency records"),
        "{}",
        log_of(&wrong)
    );
}
