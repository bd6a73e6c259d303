//! Group-by aggregates: counts, and sums, averages, minima and maxima,
//! by enum fields, related records, région, legal form and year — equal to
//! what a hand-written GROUP BY gives.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value as Json, json};

use crate::{
    fixtures::{Grid, seed_grid},
    helpers::{Backend, TestApp, codes, execute_sql, gid},
};

/// Rows of a hand-written query, as `(keys joined by "|", count)`.
async fn sql_groups(app: &TestApp, sql: &str) -> BTreeMap<String, i64> {
    let backend = app.db.conn.get_database_backend();
    let rows = app
        .db
        .conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    rows.iter()
        .map(|row| {
            let key: Option<String> = row.try_get("", "k").unwrap();
            (
                key.unwrap_or_else(|| "∅".into()),
                row.try_get::<i64>("", "n").unwrap(),
            )
        })
        .collect()
}

/// The groups of a `groupBy` answer, as `(values joined by "|", count)`.
fn api_groups(groups: &Json) -> BTreeMap<String, i64> {
    groups
        .as_array()
        .unwrap()
        .iter()
        .map(|group| {
            let key = group["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["value"].as_str().unwrap_or("∅").to_owned())
                .collect::<Vec<_>>()
                .join("|");
            (key, group["count"].as_i64().unwrap())
        })
        .collect()
}

async fn seeded(backend: Backend) -> TestApp {
    let app = TestApp::new(backend).await;
    seed_grid(
        &app.db,
        Grid {
            territories: 30,
            deployments_per_territory: 7,
            concerns_per_deployment: 2,
        },
    )
    .await;
    let backend = app.db.conn.get_database_backend();
    // Numbers, dates and a missing value or two for the concertations.
    for sql in [
        "UPDATE concertation SET participant_count = id * 10, hours = id * 1.5 WHERE id % 4 <> 0",
        "UPDATE concertation SET start_date = '2024-03-01' WHERE id % 3 = 0",
        "UPDATE concertation SET start_date = '2025-10-15' WHERE id % 3 = 1",
        "UPDATE territory SET kind = 'METROPOLE' WHERE id % 5 = 0",
    ] {
        app.db
            .conn
            .execute_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
    }
    app
}

on_both_backends! {
    async fn groups_and_counts_equal_a_hand_written_group_by(backend: Backend) {
        let app = seeded(backend).await;
        let data = app.query(r#"{
            byStatus: deployments { groupBy(by: [STATUS]) { keys { key value label } count } }
            byRegionStatus: deployments(filter: { status: { eq: PILOT } }) { groupBy(by: [REGION, STATUS]) { keys { value } count } }
            byKindYear: deployments { groupBy(by: [TERRITORY_KIND, YEAR], first: 1000) { keys { value } count } }
            concernsByTerritory: contributions { groupBy(by: [TERRITORY], first: 1000) { keys { value label } count } }
        }"#, json!({})).await;

        assert_eq!(
            api_groups(&data["byStatus"]["groupBy"]),
            sql_groups(&app, "SELECT status AS k, COUNT(*) AS n FROM deployment GROUP BY status").await
        );
        let first = &data["byStatus"]["groupBy"][0];
        assert_eq!(first["keys"][0]["key"], "STATUS");
        assert_eq!(first["keys"][0]["value"], "PRODUCTION");
        assert_eq!(first["keys"][0]["label"], "En production");

        assert_eq!(
            api_groups(&data["byRegionStatus"]["groupBy"]),
            sql_groups(&app, "SELECT t.region || '|' || d.status AS k, COUNT(*) AS n FROM deployment d \
                JOIN territory t ON t.id = d.territory_id WHERE d.status = 'PILOT' GROUP BY t.region, d.status").await
        );
        assert_eq!(
            api_groups(&data["byKindYear"]["groupBy"]),
            sql_groups(&app, "SELECT t.kind || '|' || COALESCE(SUBSTR(d.start_month, 1, 4), '∅') AS k, COUNT(*) AS n \
                FROM deployment d JOIN territory t ON t.id = d.territory_id \
                GROUP BY t.kind, SUBSTR(d.start_month, 1, 4)").await
        );

        let by_territory = &data["concernsByTerritory"]["groupBy"];
        let want: BTreeMap<String, i64> = sql_groups(&app, "SELECT CAST(c.territory_id AS TEXT) AS k, COUNT(*) AS n \
            FROM contribution x JOIN concertation c ON c.id = x.concertation_id GROUP BY c.territory_id").await
            .into_iter()
            .map(|(id, n)| (gid("Territory", id.parse().unwrap()), n))
            .collect();
        assert_eq!(api_groups(by_territory), want);
        assert!(by_territory[0]["keys"][0]["label"].as_str().unwrap().starts_with("Territoire "));
    }

    async fn numbers_are_summed_averaged_and_bounded_per_group(backend: Backend) {
        let app = seeded(backend).await;
        let data = app.query(r#"{ concertations { groupBy(by: [YEAR], orderBy: KEY_ASC) {
            keys { value } count
            sum { participantCount hours } avg { participantCount hours }
            min { participantCount } max { hours }
        } } }"#, json!({})).await;
        let groups = data["concertations"]["groupBy"].as_array().unwrap();
        let years: Vec<Json> = groups.iter().map(|g| g["keys"][0]["value"].clone()).collect();
        assert_eq!(years, vec![json!("2024"), json!("2025"), Json::Null]);
        let backend_kind = app.db.conn.get_database_backend();
        for group in groups {
            let condition = match group["keys"][0]["value"].as_str() {
                Some(year) => format!("start_date >= '{year}-01-01' AND start_date <= '{year}-12-31'"),
                None => "start_date IS NULL".to_owned(),
            };
            let row = app.db.conn.query_one_raw(Statement::from_string(backend_kind, format!(
                "SELECT COUNT(*) AS n, CAST(SUM(participant_count) AS DOUBLE PRECISION) AS s, \
                 CAST(AVG(hours) AS DOUBLE PRECISION) AS a, CAST(MIN(participant_count) AS DOUBLE PRECISION) AS lo, \
                 CAST(MAX(hours) AS DOUBLE PRECISION) AS hi FROM concertation WHERE {condition}"
            ))).await.unwrap().unwrap();
            assert_eq!(group["count"], row.try_get::<i64>("", "n").unwrap());
            let close = |api: &Json, sql: f64| (api.as_f64().unwrap() - sql).abs() < 1e-9;
            assert!(close(&group["sum"]["participantCount"], row.try_get("", "s").unwrap()), "{group}");
            assert!(close(&group["avg"]["hours"], row.try_get("", "a").unwrap()), "{group}");
            assert!(close(&group["min"]["participantCount"], row.try_get("", "lo").unwrap()), "{group}");
            assert!(close(&group["max"]["hours"], row.try_get("", "hi").unwrap()), "{group}");
        }
        // Only the statistics selected are computed: selected through a
        // fragment, an inline fragment and an alias, they are the same.
        let parts = app.query(r#"fragment Sums on ConcertationGroup { total: sum { participantCount } }
            { concertations { groupBy(by: [YEAR], orderBy: KEY_ASC) {
                count ...Sums ... on ConcertationGroup { max { hours } } } } }"#, json!({})).await;
        let parts = parts["concertations"]["groupBy"].as_array().unwrap();
        assert_eq!(parts.len(), groups.len());
        for (part, group) in parts.iter().zip(groups) {
            assert_eq!(part["count"], group["count"]);
            assert_eq!(part["total"]["participantCount"], group["sum"]["participantCount"]);
            assert_eq!(part["max"]["hours"], group["max"]["hours"]);
        }
        // Each number's statistics are computed as its own: one sum under
        // two aliases, each with one number, equals the sum of both.
        let split = app.query(r#"{ concertations { groupBy(by: [YEAR], orderBy: KEY_ASC) {
                people: sum { participantCount } time: sum { hours } avg { hours } } } }"#, json!({})).await;
        let split = split["concertations"]["groupBy"].as_array().unwrap();
        assert_eq!(split.len(), groups.len());
        for (part, group) in split.iter().zip(groups) {
            assert_eq!(part["people"]["participantCount"], group["sum"]["participantCount"]);
            assert_eq!(part["time"]["hours"], group["sum"]["hours"]);
            assert_eq!(part["avg"]["hours"], group["avg"]["hours"]);
        }
        let counts = app.query(r#"{ concertations { groupBy(by: [YEAR], orderBy: KEY_ASC) { count } } }"#,
            json!({})).await;
        let counts: Vec<&Json> = counts["concertations"]["groupBy"].as_array().unwrap()
            .iter().map(|g| &g["count"]).collect();
        assert_eq!(counts, groups.iter().map(|g| &g["count"]).collect::<Vec<_>>());
        // No key: one group of the whole filtered list.
        let data = app.query(r#"{ concertations(filter: { participantCount: { isNull: false } }) {
            totalCount groupBy(by: []) { keys { value } count sum { participantCount } } } }"#, json!({})).await;
        let list = &data["concertations"];
        assert_eq!(list["groupBy"].as_array().unwrap().len(), 1);
        assert_eq!(list["groupBy"][0]["count"], list["totalCount"]);
        assert_eq!(list["groupBy"][0]["keys"], json!([]));
    }

    async fn numbers_grouped_through_a_relation_equal_a_hand_written_group_by(backend: Backend) {
        // Groups by a related record's column add up partial groups (here
        // one per territory, each group holding several, some of them
        // without numbers): counts and numbers must still be the records'.
        let app = seeded(backend).await;
        let data = app.query(r#"{ concertations(filter: { status: { ne: PLANNED } }) {
            groupBy(by: [TERRITORY_KIND, YEAR], first: 1000) {
                keys { value } count
                sum { participantCount hours } avg { participantCount hours }
                min { participantCount hours } max { participantCount hours }
            } } }"#, json!({})).await;
        let year = match backend {
            Backend::Sqlite => "SUBSTR(c.start_date, 1, 4)",
            Backend::Postgres => "TO_CHAR(c.start_date, 'YYYY')",
        };
        let double = |aggregate: &str| format!("CAST({aggregate} AS DOUBLE PRECISION)");
        let sql = format!(
            "SELECT COALESCE(t.kind, '∅') || '|' || COALESCE({year}, '∅') AS k, COUNT(*) AS n, \
             {} AS s_p, {} AS s_h, {} AS a_p, {} AS a_h, {} AS lo_p, {} AS lo_h, {} AS hi_p, {} AS hi_h \
             FROM concertation c LEFT JOIN territory t ON t.id = c.territory_id \
             WHERE c.status <> 'PLANNED' GROUP BY t.kind, {year}",
            double("SUM(c.participant_count)"), double("SUM(c.hours)"),
            double("AVG(c.participant_count)"), double("AVG(c.hours)"),
            double("MIN(c.participant_count)"), double("MIN(c.hours)"),
            double("MAX(c.participant_count)"), double("MAX(c.hours)"),
        );
        let rows = app.db.conn
            .query_all_raw(Statement::from_string(app.db.conn.get_database_backend(), sql))
            .await
            .unwrap();
        let groups = data["concertations"]["groupBy"].as_array().unwrap();
        assert_eq!(groups.len(), rows.len());
        assert!(rows.len() > 1);
        assert!(groups.iter().all(|g| g["count"].as_i64().unwrap() > 1), "{groups:?}");
        let close = |api: &Json, sql: Option<f64>| match (api.as_f64(), sql) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9 * b.abs().max(1.0),
            (None, None) => api.is_null(),
            _ => false,
        };
        for row in rows {
            let key: String = row.try_get("", "k").unwrap();
            let group = groups
                .iter()
                .find(|g| {
                    let values: Vec<&str> = g["keys"].as_array().unwrap().iter()
                        .map(|k| k["value"].as_str().unwrap_or("∅"))
                        .collect();
                    values.join("|") == key
                })
                .unwrap_or_else(|| panic!("no group {key}"));
            assert_eq!(group["count"], row.try_get::<i64>("", "n").unwrap(), "{key}");
            for (stat, column) in [("sum", "s"), ("avg", "a"), ("min", "lo"), ("max", "hi")] {
                for (field, suffix) in [("participantCount", "p"), ("hours", "h")] {
                    let want: Option<f64> = row.try_get("", &format!("{column}_{suffix}")).unwrap();
                    assert!(close(&group[stat][field], want), "{key} {stat} {field}: {group} against {want:?}");
                }
            }
        }
        // One statistic of one number: the partial groups carry only its
        // parts, and the figures stay the same.
        let averages = app.query(r#"{ concertations(filter: { status: { ne: PLANNED } }) {
            groupBy(by: [TERRITORY_KIND, YEAR], first: 1000) { count avg { hours } } } }"#, json!({})).await;
        let averages = averages["concertations"]["groupBy"].as_array().unwrap();
        assert_eq!(averages.len(), groups.len());
        for (average, group) in averages.iter().zip(groups) {
            assert_eq!(average["count"], group["count"]);
            assert_eq!(average["avg"]["hours"], group["avg"]["hours"]);
        }
    }

    async fn nested_lists_group_per_parent_in_one_statement(backend: Backend) {
        let app = seeded(backend).await;
        let before = app.statements();
        let data = app.query(r#"{ territories(first: 30) { nodes { id
            deployments { groupBy(by: [STATUS], orderBy: KEY_ASC) { keys { value } count } }
        } } }"#, json!({})).await;
        assert_eq!(app.statements() - before, 2);
        for (t, territory) in data["territories"]["nodes"].as_array().unwrap().iter().enumerate() {
            let want = sql_groups(&app, &format!(
                "SELECT status AS k, COUNT(*) AS n FROM deployment WHERE territory_id = {} GROUP BY status", t + 1
            )).await;
            assert_eq!(api_groups(&territory["deployments"]["groupBy"]), want);
        }
    }

    async fn groups_sort_by_count_or_key_and_stop_at_first(backend: Backend) {
        let app = seeded(backend).await;
        let data = app.query(r#"{
            desc: territories { groupBy(by: [KIND]) { keys { value } count } }
            asc: territories { groupBy(by: [KIND], orderBy: COUNT_ASC) { keys { value } count } }
            keys: territories { groupBy(by: [REGION], orderBy: KEY_DESC, first: 3) { keys { value } count } }
        }"#, json!({})).await;
        let counts = |groups: &Json| -> Vec<i64> {
            groups.as_array().unwrap().iter().map(|g| g["count"].as_i64().unwrap()).collect()
        };
        let desc = counts(&data["desc"]["groupBy"]);
        assert_eq!(desc, vec![24, 6]);
        assert_eq!(counts(&data["asc"]["groupBy"]), vec![6, 24]);
        let last_regions = sql_groups(
            &app,
            "SELECT region AS k, COUNT(*) AS n FROM territory GROUP BY region ORDER BY region DESC LIMIT 3",
        )
        .await;
        assert_eq!(api_groups(&data["keys"]["groupBy"]), last_regions);
        let regions: Vec<&str> = data["keys"]["groupBy"].as_array().unwrap().iter()
            .map(|g| g["keys"][0]["value"].as_str().unwrap()).collect();
        assert!(regions.windows(2).all(|pair| pair[0] > pair[1]), "{regions:?}");
    }

    async fn deployment_counts_kept_as_they_are_written_equal_a_hand_written_group_by(backend: Backend) {
        // Counts by stage and territory are kept by triggers as deployments
        // are written; groups of live deployments by those (or the région)
        // are read from them. Whoever writes, they must stay exact.
        let app = seeded(backend).await;
        let query = r#"{
            byRegionStatus: deployments { groupBy(by: [REGION, STATUS], first: 1000) { keys { value } count } }
            byTerritory: deployments(filter: { status: { in: [PILOT, IDEA] }, territory: { kind: { eq: METROPOLE } } }) {
                groupBy(by: [TERRITORY], first: 1000) { keys { value } count } }
            all: deployments(filter: { not: { status: { eq: PRODUCTION } } }) { groupBy(by: []) { keys { value } count } }
            archivedToo: deployments(includeArchived: true) { groupBy(by: [STATUS]) { keys { value } count } }
            total: deployments(filter: { status: { in: [PILOT, IDEA] }, territory: { kind: { eq: METROPOLE } } }) { totalCount }
        }"#;
        let live = "FROM deployment d JOIN territory t ON t.id = d.territory_id WHERE d.archived_at IS NULL";
        let check = async |step: &str| {
            let (data, statements) = app.count_statements(query, json!({})).await;
            assert_eq!(statements, 5, "{step}");
            assert_eq!(
                api_groups(&data["byRegionStatus"]["groupBy"]),
                sql_groups(&app, &format!("SELECT t.region || '|' || d.status AS k, COUNT(*) AS n {live} \
                    GROUP BY t.region, d.status")).await,
                "{step}"
            );
            let want: BTreeMap<String, i64> = sql_groups(&app, &format!("SELECT CAST(t.id AS TEXT) AS k, COUNT(*) AS n {live} \
                AND d.status IN ('PILOT', 'IDEA') AND t.kind = 'METROPOLE' GROUP BY t.id")).await
                .into_iter()
                .map(|(id, n)| (gid("Territory", id.parse().unwrap()), n))
                .collect();
            assert_eq!(data["total"]["totalCount"], json!(want.values().sum::<i64>()), "{step}");
            assert_eq!(api_groups(&data["byTerritory"]["groupBy"]), want, "{step}");
            let none = sql_groups(&app, &format!("SELECT '' AS k, COUNT(*) AS n {live} AND d.status <> 'PRODUCTION'")).await;
            assert_eq!(data["all"]["groupBy"][0]["count"], json!(none[""]), "{step}");
            assert_eq!(
                api_groups(&data["archivedToo"]["groupBy"]),
                sql_groups(&app, "SELECT status AS k, COUNT(*) AS n FROM deployment GROUP BY status").await,
                "{step}"
            );
            // The kept counts themselves, row for row.
            assert_eq!(
                sql_groups(&app, "SELECT status || '|' || CAST(territory_id AS TEXT) AS k, CAST(deployments AS BIGINT) AS n \
                    FROM deployment_tally").await,
                sql_groups(&app, "SELECT status || '|' || CAST(territory_id AS TEXT) AS k, COUNT(*) AS n \
                    FROM deployment WHERE archived_at IS NULL GROUP BY status, territory_id").await,
                "{step}"
            );
        };
        check("seeded").await;
        for (step, sql) in [
            ("new stage", "UPDATE deployment SET status = 'IDEA' WHERE id % 6 = 0"),
            ("moved", "UPDATE deployment SET territory_id = 5 WHERE id % 7 = 0"),
            ("archived", "UPDATE deployment SET archived_at = '2026-01-01 00:00:00' WHERE id % 4 = 0"),
            ("restored", "UPDATE deployment SET archived_at = NULL WHERE id % 8 = 0"),
            ("unrelated column", "UPDATE deployment SET title = 'Renommé' WHERE id % 3 = 0"),
            ("stages swapped", "UPDATE deployment SET status = CASE status WHEN 'PILOT' THEN 'PRODUCTION' \
                WHEN 'PRODUCTION' THEN 'PILOT' ELSE status END"),
            ("moved and archived at once", "UPDATE deployment SET territory_id = 3, \
                archived_at = CASE WHEN id % 2 = 0 THEN '2026-02-01 00:00:00' ELSE archived_at END WHERE id % 9 = 0"),
            ("deleted", "DELETE FROM deployment_risk WHERE deployment_id % 5 = 0; \
                         DELETE FROM contribution_deployment WHERE deployment_id % 5 = 0; \
                         DELETE FROM deployment WHERE id % 5 = 0"),
            ("inserted", "INSERT INTO deployment (territory_id, title, status, ai_act_tier) \
                          SELECT id, 'Ajout', 'RETIRED', 'MINIMAL' FROM territory"),
            ("a stage emptied", "UPDATE deployment SET status = 'PILOT' WHERE status = 'RETIRED'"),
        ] {
            execute_sql(&app.db.conn, sql).await;
            check(step).await;
        }
        // Those groups and totals came from the kept counts: a count changed
        // by hand shows in them, and not in groups the counts cannot give.
        execute_sql(&app.db.conn, "UPDATE deployment_tally SET deployments = deployments + 1000").await;
        let data = app.query(r#"{
            kept: deployments(filter: { status: { ne: IDEA } }) { groupBy(by: [STATUS]) { keys { value } count } }
            keptTotal: deployments(filter: { status: { eq: PILOT } }) { totalCount }
            byTitle: deployments(filter: { title: { contains: "usage" } }) { groupBy(by: [STATUS]) { keys { value } count } }
            byYear: deployments { groupBy(by: [STATUS, YEAR], first: 1000) { keys { value } count } }
        }"#, json!({})).await;
        let kept = sql_groups(&app, "SELECT status AS k, CAST(SUM(deployments) AS BIGINT) AS n \
            FROM deployment_tally WHERE status <> 'IDEA' GROUP BY status").await;
        assert!(kept.values().all(|n| *n > 1000), "{kept:?}");
        assert_eq!(api_groups(&data["kept"]["groupBy"]), kept);
        assert_eq!(data["keptTotal"]["totalCount"], json!(kept["PILOT"]));
        assert_eq!(
            api_groups(&data["byTitle"]["groupBy"]),
            sql_groups(&app, "SELECT status AS k, COUNT(*) AS n FROM deployment \
                WHERE archived_at IS NULL AND title_folded LIKE '%usage%' GROUP BY status").await
        );
        assert_eq!(
            api_groups(&data["byYear"]["groupBy"]),
            sql_groups(&app, "SELECT status || '|' || COALESCE(SUBSTR(start_month, 1, 4), '∅') AS k, COUNT(*) AS n \
                FROM deployment WHERE archived_at IS NULL GROUP BY status, SUBSTR(start_month, 1, 4)").await
        );
        if backend == Backend::Postgres {
            // TRUNCATE fires no row trigger; it empties the counts too.
            execute_sql(&app.db.conn, "TRUNCATE deployment CASCADE").await;
            check("truncated").await;
        }
    }

    async fn bad_group_requests_get_clear_errors(backend: Backend) {
        let app = TestApp::new(backend).await;
        for (query, argument) in [
            ("{ deployments { groupBy(by: [STATUS, YEAR, REGION, TERRITORY, AUDIENCE]) { count } } }", "by"),
            ("{ deployments { groupBy(by: [STATUS], first: 1001) { count } } }", "first"),
            ("{ deployments { groupBy(by: [STATUS], first: -1) { count } } }", "first"),
        ] {
            let errors = app.errors(query, json!({})).await;
            assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"], "{query}");
            assert_eq!(errors[0]["extensions"]["argument"], argument);
        }
        let errors = app.errors("{ deployments { groupBy(by: [COLOUR]) { count } } }", json!({})).await;
        assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
        assert!(errors[0]["message"].as_str().unwrap().contains("COLOUR"));
    }
}
