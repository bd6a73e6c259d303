//! `vigie import`, `vigie template` and `vigie export`: exports that import
//! back to the same database, and imports checked row by row, written all
//! or nothing.

use std::process::{Command, Output};

use sea_orm::ConnectionTrait;
use serde_json::{Value as Json, json};

use crate::{
    fixtures::seed_everything,
    helpers::{Backend, TestDb, succeeded},
};

const VIGIE: &str = env!("CARGO_BIN_EXE_vigie");

fn vigie(db: &TestDb, args: &[&str]) -> Output {
    Command::new(VIGIE)
        .args(["--database-url", &db.url])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// What a command that must succeed wrote.
fn stdout_of(output: Output) -> String {
    String::from_utf8(succeeded(output).stdout).unwrap()
}

async fn count(db: &TestDb, table: &str) -> i64 {
    let row = db
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            db.db.conn.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

on_both_backends! {
    async fn an_export_imported_into_an_empty_database_exports_the_same(backend: Backend) {
        let source = TestDb::new(backend).await;
        seed_everything(&source.db).await;
        vigie::reference::load(&source.db.conn).await.unwrap();
        // An archived record and a record at version 3 travel as they are.
        {
            use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
            let first = entity::deployment::Entity::find().one(&source.db.conn).await.unwrap().unwrap();
            let mut row = first.into_active_model();
            row.archived_at = Set(Some("2026-01-02T03:04:05Z".parse().unwrap()));
            row.version = Set(3);
            row.update(&source.db.conn).await.unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();

        // JSON: every type in one file.
        stdout_of(vigie(&source, &["export", "--format", "json", "--out", &path("a.json")]));
        let copy = TestDb::new(backend).await;
        let report = stdout_of(vigie(&copy, &["import", &path("a.json")]));
        assert!(report.contains("row(s) written"), "{report}");
        stdout_of(vigie(&copy, &["export", "--format", "json", "--out", &path("b.json")]));
        let (a, b) = (
            std::fs::read_to_string(path("a.json")).unwrap(),
            std::fs::read_to_string(path("b.json")).unwrap(),
        );
        assert!(a == b, "the second export differs from the first");
        let exported: serde_json::Value = serde_json::from_str(&a).unwrap();
        for table in vigie::transfer::TYPES {
            assert!(
                !exported[table].as_array().unwrap().is_empty(),
                "the fixture has no {table} row to carry"
            );
        }
        // Search and the folded copies are rebuilt; each record has its
        // audit event.
        for table in ["search_entry", "territory", "deployment"] {
            assert_eq!(count(&copy, table).await, count(&source, table).await, "{table}");
        }
        let records: usize = ["territory", "deployment", "concertation", "contribution"]
            .iter()
            .map(|t| exported[t].as_array().unwrap().len())
            .sum();
        assert!(count(&copy, "audit_event").await as usize >= records);

        // CSV: a directory of one file per type.
        stdout_of(vigie(&source, &["export", "--format", "csv", "--out", &path("csv-a")]));
        let copy = TestDb::new(backend).await;
        stdout_of(vigie(&copy, &["import", &path("csv-a")]));
        stdout_of(vigie(&copy, &["export", "--format", "csv", "--out", &path("csv-b")]));
        for table in vigie::transfer::TYPES {
            let file = format!("{table}.csv");
            let a = std::fs::read_to_string(dir.path().join("csv-a").join(&file)).unwrap();
            let b = std::fs::read_to_string(dir.path().join("csv-b").join(&file)).unwrap();
            assert!(a == b, "{file} differs after a round trip");
        }
        // New records get ids after the imported ones.
        let created = stdout_of(vigie(&copy, &["keys", "create", "--role", "admin", "--label", "x"]));
        assert!(created.starts_with("vigie_"));
        let before = count(&copy, "territory").await;
        let file = path("new.csv");
        std::fs::write(&file, "name,slug,kind\nCommune Neuve,commune-neuve,MUNICIPALITY\n").unwrap();
        stdout_of(vigie(&copy, &["import", &file, "--type", "territory"]));
        assert_eq!(count(&copy, "territory").await, before + 1);
    }

    async fn an_import_reports_every_bad_row_and_writes_nothing(backend: Backend) {
        let db = TestDb::new(backend).await;
        vigie::reference::load(&db.db.conn).await.unwrap();
        let territories = count(&db, "territory").await;
        let audit = count(&db, "audit_event").await;

        let template = stdout_of(vigie(&db, &["template", "territory"]));
        assert!(template.contains("#   kind: text, one of MUNICIPALITY"), "{template}");
        assert!(template.contains("#   parent_id: whole number, id of a territory"), "{template}");
        assert!(template.contains("#   name: text, required"), "{template}");
        let header = template.lines().last().unwrap();
        assert!(header.starts_with("id,name,official_name,name_in_source,slug,kind,country,siren"), "{header}");

        // Lines 1–N are the template's comments and header.
        let first = template.lines().count() + 1;
        let row = |cells: &[(&str, &str)]| {
            header
                .split(',')
                .map(|column| {
                    cells.iter().find(|(c, _)| *c == column).map_or("", |(_, v)| *v)
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let good = row(&[("name", "Commune A"), ("slug", "commune-a"), ("kind", "MUNICIPALITY"),
                         ("siren", "217500016"), ("population", "1200")]);
        let rows = [
            good.clone(),
            row(&[("name", "Commune B"), ("slug", "commune-b"), ("kind", "VILLE")]),
            row(&[("name", "Commune C"), ("slug", "commune-c"), ("kind", "MUNICIPALITY"),
                  ("siren", "217500017"), ("website", "ftp://c.fr")]),
            row(&[("slug", "commune-d"), ("kind", "MUNICIPALITY"), ("population", "beaucoup")]),
            row(&[("name", "Commune E"), ("slug", "commune-e"), ("kind", "MUNICIPALITY"),
                  ("parent_id", "999999")]),
            row(&[("name", "Commune\u{0}G"), ("slug", "commune-g"), ("kind", "MUNICIPALITY")]),
        ];
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("communes.csv").display().to_string();
        std::fs::write(&file, format!("{template}{}\n", rows.join("\n"))).unwrap();
        let output = vigie(&db, &["import", &file, "--type", "territory"]);
        assert!(!output.status.success());
        let report = String::from_utf8(output.stdout).unwrap();
        for expected in [
            format!("territory line {}, column kind: \"VILLE\" is not one of", first + 1),
            format!("territory line {}, column siren: a SIREN is 9 digits", first + 2),
            format!("territory line {}, column website: must be an http", first + 2),
            format!("territory line {}, column name: a value is required", first + 3),
            format!("territory line {}, column population: \"beaucoup\" is not a whole number", first + 3),
            format!("territory line {}, column parent_id: names no territory with id 999999", first + 4),
            format!("territory line {}, column name: text may not contain the NUL character", first + 5),
        ] {
            assert!(report.contains(&expected), "missing {expected:?} in:\n{report}");
        }
        assert_eq!(report.lines().count(), 7, "one line per problem:\n{report}");
        assert_eq!(count(&db, "territory").await, territories, "a bad file writes nothing");

        // A dry run of a good file checks it and writes nothing; the real
        // run writes it, with audit events.
        std::fs::write(&file, format!("{header}\n{good}\n")).unwrap();
        let dry = stdout_of(vigie(&db, &["import", &file, "--type", "territory", "--dry-run"]));
        assert!(dry.contains("dry run: 1 row(s) are valid"), "{dry}");
        assert_eq!(count(&db, "territory").await, territories);
        stdout_of(vigie(&db, &["import", &file, "--type", "territory"]));
        assert_eq!(count(&db, "territory").await, territories + 1);
        assert_eq!(count(&db, "audit_event").await, audit + 1);
        // Importing it again breaks the unique slug: refused, nothing written.
        let again = vigie(&db, &["import", &file, "--type", "territory"]);
        assert!(!again.status.success());
        let report = String::from_utf8(again.stdout).unwrap();
        assert!(report.contains("must be unique"), "{report}");
        assert_eq!(count(&db, "territory").await, territories + 1);

        // JSON lists work the same; an unknown type is named.
        let json = dir.path().join("x.json").display().to_string();
        std::fs::write(&json, r#"[{"name": "Commune F", "slug": "commune-f", "kind": "REGION", "population": -1.5}]"#).unwrap();
        let output = vigie(&db, &["import", &json, "--type", "territory"]);
        let report = String::from_utf8(output.stdout).unwrap();
        assert!(report.contains("territory line 1, column population"), "{report}");
        let output = vigie(&db, &["import", &json, "--type", "town"]);
        assert!(String::from_utf8_lossy(&output.stderr).contains("unknown type \"town\""));
    }

    async fn an_import_writes_its_rows_a_thousand_at_a_time(backend: Backend) {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("communes.json");
        let import = async |rows: &[Json]| {
            std::fs::write(&file, Json::Array(rows.to_vec()).to_string()).unwrap();
            let mut report = vigie::transfer::Report::default();
            let parsed = vigie::transfer::read(&file, Some("territory"), &mut report).unwrap();
            let before = db.db.stats.statements();
            let report = vigie::transfer::import(&db.db.conn, parsed, "import de test", false, report)
                .await
                .unwrap();
            (report, db.db.stats.statements() - before)
        };
        let commune = |n: usize| json!({ "name": format!("Commune {n}"), "slug": format!("commune-{n}"),
            "kind": "MUNICIPALITY", "population": n });
        let mut rows: Vec<Json> = (1..=1500).map(commune).collect();
        // One row breaks the unique slug: the rows are written one at a time
        // in its batch, so that it is the one named; nothing is kept.
        rows[1399]["slug"] = json!("commune-700");
        let (report, _) = import(&rows).await;
        let problems: Vec<(usize, &str)> = report.problems.iter().map(|p| (p.line, p.reason.as_str())).collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, 1400);
        assert!(problems[0].1.contains("must be unique"), "{problems:?}");
        assert_eq!(report.rows["territory"], 1499);
        assert_eq!(count(&db, "territory").await, 0);

        // Sound, they are written in two statements, with their audit
        // events in two more, not several statements a row.
        rows[1399] = commune(1400);
        let (report, statements) = import(&rows).await;
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.rows["territory"], 1500);
        assert!(statements < 60, "{statements} statements for 1,500 rows");
        assert_eq!(count(&db, "territory").await, 1500);
        let audited = db.db.conn.query_one_raw(sea_orm::Statement::from_string(db.db.conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_event a JOIN territory t ON t.id = a.record_id \
             WHERE a.record_type = 'Territory' AND a.action = 'CREATE' AND a.actor = 'import de test' \
             AND a.after LIKE '%\"slug\":\"' || t.slug || '\"%'")).await.unwrap().unwrap();
        assert_eq!(audited.try_get::<i64>("", "n").unwrap(), 1500);
        // Each found by its words, as a record saved alone would be.
        let indexed = db.db.conn.query_one_raw(sea_orm::Statement::from_string(db.db.conn.get_database_backend(),
            "SELECT e.words FROM search_entry e JOIN territory t ON t.id = e.record_id \
             WHERE e.kind = 'territory' AND t.slug = 'commune-700'")).await.unwrap().unwrap();
        assert_eq!(indexed.try_get::<String>("", "words").unwrap(), entity::search::words("Commune 700").join(" "));
        assert_eq!(count(&db, "search_entry").await, 1500);
        // The planner knows how many there are now.
        let sql = match backend {
            Backend::Postgres => "SELECT CAST(reltuples AS BIGINT) AS n FROM pg_class WHERE relname = 'territory'",
            Backend::Sqlite => "SELECT CAST(stat AS INTEGER) AS n FROM sqlite_stat1 WHERE tbl = 'territory' AND idx IS NULL \
                UNION ALL SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE tbl = 'territory' AND idx LIKE 'uq_%' LIMIT 1",
        };
        let planned = db.db.conn.query_one_raw(sea_orm::Statement::from_string(db.db.conn.get_database_backend(), sql))
            .await.unwrap().expect("statistics of territory");
        assert_eq!(planned.try_get::<i64>("", "n").unwrap(), 1500);
    }

}
