//! The public registers of algorithms: each bundled register is imported
//! whole, its deployments counted by stage and by body as the source file
//! itself counts them (read here on its own, not through the importer);
//! every imported record names its source, licence and attribution; a
//! second import writes nothing; a newer copy changes exactly what changed
//! (archived, never deleted, and restored when back); an edit made in
//! Vigie holds until the register changes that field; bad input is
//! refused with nothing written.

use std::{collections::BTreeMap, io::Read, path::Path};

use serde_json::{Value as Json, json};
use vigie::registers::{self, Format, Input, Options};

use crate::{
    helpers::{Backend, TestApp},
    writes::post,
};

fn data(path: &str) -> Vec<u8> {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data/registers")).join(path);
    let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    if !path.to_string_lossy().ends_with(".gz") {
        return bytes;
    }
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut text)
        .unwrap();
    text
}

/// Counts by stage and by body, as a source gives them.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    by_status: BTreeMap<String, i64>,
    by_body: BTreeMap<String, i64>,
}

impl Counts {
    fn add(&mut self, status: &str, body: &str) {
        *self.by_status.entry(status.to_owned()).or_default() += 1;
        *self.by_body.entry(body.to_owned()).or_default() += 1;
    }
}

/// The Dutch listing, read on its own: a status per `status`, a body per
/// `organisatie`.
fn dutch_counts() -> Counts {
    let listing: Json =
        serde_json::from_slice(&data("nl-algoritmeregister/algoritmes.json.gz")).unwrap();
    let mut counts = Counts::default();
    for row in listing["algoritmes"].as_array().unwrap() {
        let status = match row["status"].as_str().unwrap() {
            "in_gebruik" => "PRODUCTION",
            "ontwikkeling" => "DEVELOPMENT",
            "buiten_gebruik" => "RETIRED",
            other => panic!("a status the listing does not have: {other}"),
        };
        counts.add(status, row["organisatie"].as_str().unwrap().trim());
    }
    counts
}

/// The UK records, read on its own: a stage per phase, the body the title
/// names before `: ` (or ` - `), else GOV.UK's organisation tag.
fn uk_rows() -> Vec<csv::StringRecord> {
    let bytes = data("uk-atrs/atrs_audit.csv");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    reader.records().map(Result::unwrap).collect()
}

fn uk_counts(rows: &[csv::StringRecord]) -> Counts {
    let mut counts = Counts::default();
    for row in rows {
        // record_id, title, description, source_url, organisation, …, phase (8)
        let (title, organisation, phase) = (&row[1], &row[4], &row[8]);
        let status = match phase {
            "production" => "PRODUCTION",
            "beta-pilot" | "private-beta" | "public-beta" => "PILOT",
            "pre-deployment" => "DEVELOPMENT",
            "retired" => "RETIRED",
            other => panic!("a phase the records do not have: {other}"),
        };
        let body = title
            .split_once(": ")
            .or_else(|| title.split_once(" - "))
            .map_or(organisation, |(body, _)| body)
            .trim();
        counts.add(status, body);
    }
    counts
}

fn french_counts() -> Counts {
    let rows: Json = serde_json::from_slice(&data("fr-etalab/algorithmes_publics.json")).unwrap();
    let mut counts = Counts::default();
    for row in rows.as_array().unwrap() {
        counts.add("UNKNOWN", row["producteurs"][0]["label"].as_str().unwrap());
    }
    counts
}

/// The counts the API gives for the live deployments of one country.
async fn served_counts(app: &TestApp, country: &str) -> Counts {
    let data = app
        .query(
            r#"query($country: String!) {
              deployments(filter: { territory: { country: { eq: $country } } }) {
                byStatus: groupBy(by: [STATUS], first: 1000) { keys { value } count }
                byBody: groupBy(by: [TERRITORY], first: 1000) { keys { label } count }
              } }"#,
            json!({ "country": country }),
        )
        .await;
    let groups = |name: &str, field: &str| -> BTreeMap<String, i64> {
        data["deployments"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["keys"][0][field].as_str().unwrap().to_owned(),
                    g["count"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    Counts {
        by_status: groups("byStatus", "value"),
        by_body: groups("byBody", "label"),
    }
}

on_both_backends! {
    async fn the_bundled_registers_are_imported_whole_with_their_sources(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let reports = registers::load_bundled(&app.db.conn).await.unwrap();
        assert_eq!(reports.len(), 3);
        for report in &reports {
            assert!(report.skipped.is_empty(), "{report:?}");
            assert_eq!(report.created, report.records, "{report:?}");
        }

        // Counts by stage and by body, as the files count them.
        assert_eq!(served_counts(&app, "NL").await, dutch_counts());
        assert_eq!(served_counts(&app, "GB").await, uk_counts(&uk_rows()));
        let french = french_counts();
        let served = served_counts(&app, "FR").await;
        // The network's own territories are French too, without deployments.
        assert_eq!(served.by_status, french.by_status);
        assert_eq!(served.by_body, french.by_body);

        // Grouped by source (each register is one), filtered by it.
        let grouped = app.query(r#"{ deployments { groupBy(by: [SOURCE]) { keys { label } count } }
            uk: deployments(filter: { source: { document: { eq: "register uk-atrs" } } }) { totalCount } }"#,
            json!({})).await;
        let by_source: BTreeMap<String, i64> = grouped["deployments"]["groupBy"].as_array().unwrap().iter()
            .map(|g| (g["keys"][0]["label"].as_str().unwrap().to_owned(), g["count"].as_i64().unwrap()))
            .collect();
        let expected: BTreeMap<String, i64> = reports.iter()
            .map(|r| (registers::source_of(&r.register).title, r.records as i64))
            .collect();
        assert_eq!(by_source, expected);
        assert_eq!(grouped["uk"]["totalCount"].as_i64(), Some(uk_rows().len() as i64));

        // Every imported record names a source with its licence and
        // attribution, that of its register.
        let total: usize = reports.iter().map(|r| r.records).sum();
        let sourced = app.count_rows("deployment d \
            JOIN deployment_register_entry e ON e.deployment_id = d.id \
            JOIN source s ON s.id = d.source_id \
            WHERE s.attribution IS NOT NULL AND s.licence IS NOT NULL AND s.document = 'register ' || e.register").await;
        assert_eq!(sourced as usize, total);
        assert_eq!(app.count_rows("deployment WHERE source_id IS NULL").await, 0);

        // One Dutch record through the API, as a reader sees it.
        let listing: Json = serde_json::from_slice(&data("nl-algoritmeregister/algoritmes.json.gz")).unwrap();
        let first = &listing["algoritmes"][0];
        let found = app.query(r#"query($q: String!) { search(query: $q, types: [DEPLOYMENT], first: 50) {
            nodes { node { ... on Deployment { title language legalBasis startMonth
              territory { name country kind identifiers { scheme value } }
              source { title licence attribution url }
              registerEntries { register externalId url publishedOn withdrawnOn } } } } } }"#,
            json!({ "q": first["title"] })).await;
        let hit = found["search"]["nodes"].as_array().unwrap().iter()
            .map(|n| &n["node"])
            .find(|n| n["registerEntries"][0]["externalId"] == first["id"])
            .unwrap_or_else(|| panic!("{} not found by its title: {found}", first["id"]));
        assert_eq!(hit["title"], first["title"]);
        assert_eq!(hit["language"], "nl");
        assert_eq!(hit["startMonth"], Json::Null, "a register's date is not the use's start");
        assert_eq!(hit["registerEntries"][0]["publishedOn"], first["geregistreerd"]);
        assert_eq!(hit["registerEntries"][0]["url"], first["url"]);
        assert_eq!(hit["territory"]["name"], first["organisatie"]);
        assert_eq!(hit["territory"]["country"], "NL");
        assert_eq!(hit["source"]["attribution"],
            "Bron: Algoritmeregister van de Nederlandse overheid (algoritmes.overheid.nl), CC0");

        // Search finds imported records by their words, accents or not,
        // in Dutch and in English.
        let english = uk_rows()[5][0].to_owned();
        for (words, external_id) in [
            ("notariele akten", "39267519"),
            ("Notariële akten", "39267519"),
            ("generative communications assist", english.as_str()),
        ] {
            let found = app.query(r#"query($q: String!) { search(query: $q, types: [DEPLOYMENT], first: 20) {
                nodes { node { ... on Deployment { registerEntries { externalId } } } } } }"#, json!({ "q": words })).await;
            assert!(found["search"]["nodes"].as_array().unwrap().iter()
                .any(|n| n["node"]["registerEntries"][0]["externalId"] == external_id), "{words}: {found}");
        }

        // A list of imported deployments as CSV, one row each.
        let query = r#"{ deployments(filter: { source: { document: { eq: "register fr-etalab" } } }, first: 100) {
            nodes { title status territory { name } codeUrl } } }"#;
        let request = axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .header("accept", "text/csv")
            .body(axum::body::Body::from(json!({ "query": query }).to_string()))
            .unwrap();
        let response = tower::ServiceExt::oneshot(app.router(), request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let mut reader = csv::Reader::from_reader(body.as_ref());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), ["title", "status", "territory.name", "codeUrl"]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len() as i64, french_counts().by_status.values().sum::<i64>());
        assert!(rows.iter().all(|row| &row[1] == "UNKNOWN"));

        // A Dutch municipality has its CBS code from MinBZK's list.
        let amsterdam = app.query(r#"{ territories(filter: { name: { eq: "Gemeente Amsterdam" } }) {
            nodes { kind country identifiers { scheme value } deployments { totalCount } } } }"#, json!({})).await;
        let amsterdam = &amsterdam["territories"]["nodes"][0];
        assert_eq!(amsterdam["kind"], "MUNICIPALITY");
        assert!(amsterdam["identifiers"].as_array().unwrap().contains(&json!({ "scheme": "NL-CBS", "value": "GM0363" })), "{amsterdam}");
        assert_eq!(amsterdam["deployments"]["totalCount"].as_i64(),
            dutch_counts().by_body.get("Gemeente Amsterdam").copied());

        // The headline query on its default variables: the municipality's
        // uses, each with its register and attribution, and the network's
        // ten concerns.
        let headline = app.query(vigie::server::HEADLINE_QUERY, json!({ "slug": vigie::server::HEADLINE_SLUG })).await;
        let territory = &headline["territory"];
        assert_eq!(territory["name"], "Gemeente Amsterdam");
        assert_eq!(territory["deployments"]["totalCount"].as_i64(),
            dutch_counts().by_body.get("Gemeente Amsterdam").copied());
        for node in territory["deployments"]["nodes"].as_array().unwrap() {
            assert_eq!(node["registerEntries"][0]["register"], "nl-algoritmeregister");
            assert!(node["source"]["attribution"].as_str().unwrap().starts_with("Bron: Algoritmeregister"));
        }
        assert_eq!(headline["network"]["nodes"][0]["concerns"]["nodes"].as_array().unwrap().len(), 10);

        // A second import writes nothing: no version, no audit event.
        let events = app.count_rows("audit_event").await;
        let again = registers::load_bundled(&app.db.conn).await.unwrap();
        for report in &again {
            assert!(!report.wrote(), "{report:?}");
            assert_eq!(report.unchanged, report.records, "{report:?}");
        }
        assert_eq!(app.count_rows("audit_event").await, events);
    }
}

/// The UK records as CSV text, header first.
fn uk_csv(rows: &[csv::StringRecord]) -> Vec<u8> {
    let bytes = data("uk-atrs/atrs_audit.csv");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(reader.headers().unwrap()).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.into_inner().unwrap()
}

fn with_field(row: &csv::StringRecord, index: usize, value: &str) -> csv::StringRecord {
    row.iter()
        .enumerate()
        .map(|(i, field)| if i == index { value } else { field })
        .collect()
}

async fn import_uk(app: &TestApp, rows: &[csv::StringRecord]) -> registers::Report {
    let input = Input::bytes("a copy".into(), uk_csv(rows));
    registers::import(&app.db.conn, Format::UkAtrs, input, &Options::default())
        .await
        .unwrap()
}

/// The audit events of deployments since event `after`, by action.
async fn actions_since(app: &TestApp, after: i64) -> BTreeMap<String, i64> {
    use sea_orm::ConnectionTrait;
    let backend = app.db.conn.get_database_backend();
    let sql = format!(
        "SELECT action, COUNT(*) AS n FROM audit_event WHERE id > {after} \
        AND record_type = 'Deployment' AND actor = 'register uk-atrs' GROUP BY action"
    );
    app.db
        .conn
        .query_all_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get::<String>("", "action").unwrap(),
                row.try_get::<i64>("", "n").unwrap(),
            )
        })
        .collect()
}

async fn last_event(app: &TestApp) -> i64 {
    app.ids("SELECT COALESCE(MAX(id), 0) AS id FROM audit_event")
        .await[0]
}

on_both_backends! {
    async fn a_newer_copy_changes_exactly_what_changed(backend: Backend) {
        let app = TestApp::new(backend).await;
        let rows = uk_rows();
        let first = import_uk(&app, &rows).await;
        assert_eq!(first.created, rows.len());

        // An editor retitles a record in Vigie.
        let key = vigie::auth::create_key(&app.db.conn, entity::enums::KeyRole::Admin, &[], "Rédaction")
            .await.unwrap().0;
        let edited_id = rows[10][0].to_owned();
        let edited = app.query(r#"query($q: String!) { search(query: $q, types: [DEPLOYMENT], first: 50) {
            nodes { node { ... on Deployment { id version registerEntries { externalId } } } } } }"#,
            json!({ "q": uk_title(&rows[10]) })).await;
        let edited = edited["search"]["nodes"].as_array().unwrap().iter().map(|n| &n["node"])
            .find(|n| n["registerEntries"][0]["externalId"] == edited_id.as_str()).unwrap().clone();
        let answer = post(&app.router(), Some(&key), "mutation($input: UpdateDeploymentInput!) { updateDeployment(input: $input) { title } }",
            json!({ "input": { "id": edited["id"], "expectedVersion": edited["version"], "title": "Titre revu par la rédaction" } })).await;
        assert_eq!(answer.data()["updateDeployment"]["title"], "Titre revu par la rédaction");

        // A newer copy: three records changed (one of them the edited
        // record's summary, not its title), two removed, one added, and
        // one removed that comes back next time.
        let mut newer: Vec<csv::StringRecord> = rows.clone();
        newer[10] = with_field(&newer[10], 2, "A new description from the register.");
        let phase = if &newer[20][8] == "retired" { "production" } else { "retired" };
        newer[20] = with_field(&newer[20], 8, phase);
        newer[30] = with_field(&newer[30], 2, "Another description.");
        let comes_back = newer.remove(40);
        newer.remove(50);
        newer.remove(60);
        let mut added = with_field(&rows[0], 0, "00000000-0000-4000-8000-000000000001");
        added = with_field(&added, 3, "https://www.gov.uk/algorithmic-transparency-records/a-new-record");
        newer.push(added);

        let before = last_event(&app).await;
        let report = import_uk(&app, &newer).await;
        assert_eq!((report.created, report.updated, report.archived, report.restored), (1, 3, 3, 0), "{report:?}");
        assert_eq!(report.unchanged, rows.len() - 3 - 3);
        assert_eq!(report.edits_kept, 1, "{report:?}");
        assert_eq!(actions_since(&app, before).await, BTreeMap::from([
            ("ARCHIVE".to_owned(), 3), ("CREATE".to_owned(), 1), ("UPDATE".to_owned(), 3),
        ]));

        // The editor's title held; the register's new summary is there.
        let read = app.query("query($id: ID!) { node(id: $id) { ... on Deployment { title summary } } }",
            json!({ "id": edited["id"] })).await;
        assert_eq!(read["node"], json!({ "title": "Titre revu par la rédaction",
            "summary": "A new description from the register." }));

        // Archived, never deleted; the entry says when the register
        // dropped it.
        assert_eq!(app.count_rows("deployment WHERE archived_at IS NOT NULL").await, 3);
        assert_eq!(app.count_rows("deployment_register_entry WHERE withdrawn_on IS NOT NULL").await, 3);
        assert_eq!(app.count_rows("deployment").await as usize, rows.len() + 1);

        // The one that comes back is restored; nothing else moves.
        newer.push(comes_back);
        let before = last_event(&app).await;
        let report = import_uk(&app, &newer).await;
        assert_eq!((report.created, report.updated, report.archived, report.restored), (0, 0, 0, 1), "{report:?}");
        assert_eq!(actions_since(&app, before).await, BTreeMap::from([("RESTORE".to_owned(), 1)]));

        // Now the register retitles the edited record: the register's
        // change wins, as documented.
        let body = rows[10][1].split_once(": ").unwrap().0;
        let retitled = with_field(&newer[10], 1, &format!("{body}: A title the register changed"));
        newer[10] = retitled;
        let report = import_uk(&app, &newer).await;
        assert_eq!((report.updated, report.edits_kept), (1, 0), "{report:?}");
        let read = app.query("query($id: ID!) { node(id: $id) { ... on Deployment { title } } }",
            json!({ "id": edited["id"] })).await;
        assert_eq!(read["node"]["title"], "A title the register changed");

        // The same copy again: nothing written.
        let events = app.count_rows("audit_event").await;
        let report = import_uk(&app, &newer).await;
        assert!(!report.wrote(), "{report:?}");
        assert_eq!(app.count_rows("audit_event").await, events);
    }
}

fn uk_title(row: &csv::StringRecord) -> String {
    let title = &row[1];
    title
        .split_once(": ")
        .map_or(title, |(_, tool)| tool)
        .trim()
        .to_owned()
}

on_both_backends! {
    async fn bad_input_is_refused_or_skipped_with_its_reason_and_nothing_half_written(backend: Backend) {
        let app = TestApp::new(backend).await;
        let import = |format: Format, bytes: &[u8]| {
            let input = Input::bytes("a file".into(), bytes.to_vec());
            let db = app.db.conn.clone();
            async move { registers::import(&db, format, input, &Options::default()).await }
        };

        // The wrong format, invalid JSON or CSV, non-UTF-8: refused, naming
        // what was expected.
        let uk = data("uk-atrs/atrs_audit.csv");
        for (format, bytes, says) in [
            (Format::NlAlgoritmeregister, uk.as_slice(), "not the Algoritmeregister's listing"),
            (Format::FrEtalab, br#"{"algoritmes": []}"#.as_slice(), "not Etalab's list"),
            (Format::UkAtrs, br#"{"algoritmes": []}"#.as_slice(), "no `record_id` column"),
            (Format::NlAlgoritmeregister, b"{ not json".as_slice(), "not the Algoritmeregister's listing"),
            (Format::UkAtrs, b"record_id,title,description,source_url,organisation,phase\n\"a,b\n".as_slice(), "invalid CSV"),
            (Format::FrEtalab, b"\xff\xfe[]".as_slice(), "not UTF-8"),
        ] {
            let err = import(format, bytes).await.unwrap_err();
            assert!(format!("{err:#}").contains(says), "{format:?}: {err:#}");
        }
        assert_eq!(app.count_rows("deployment").await, 0);
        assert_eq!(app.count_rows("source").await, 0);

        // A record without an id, a duplicate id, an unknown status: each
        // skipped with its reason; the others imported.
        let listing = json!({ "algoritmes": [
            { "id": "1", "title": "Eerste", "organisatie": "Gemeente Amsterdam", "status": "in_gebruik" },
            { "title": "Zonder id", "organisatie": "Gemeente Amsterdam", "status": "in_gebruik" },
            { "id": "2", "title": "Dubbel", "organisatie": "Gemeente Utrecht", "status": "in_gebruik" },
            { "id": "2", "title": "Dubbel bis", "organisatie": "Gemeente Utrecht", "status": "in_gebruik" },
            { "id": "3", "title": "Onbekend", "organisatie": "Gemeente Utrecht", "status": "misschien" },
            { "id": "4", "title": "Zonder organisatie", "status": "in_gebruik" },
        ] });
        let report = import(Format::NlAlgoritmeregister, listing.to_string().as_bytes()).await.unwrap();
        assert_eq!(report.created, 1, "{report:?}");
        let reasons: Vec<(Option<&str>, &str)> = report.skipped.iter()
            .map(|s| (s.id.as_deref(), s.reason.as_str())).collect();
        assert_eq!(reasons, vec![
            (None, "no `id`"),
            (Some("2"), "id 2 appears 2 times in the source"),
            (Some("2"), "id 2 appears 2 times in the source"),
            (Some("3"), "unknown status `misschien`"),
            (Some("4"), "no `organisatie`: the body is unknown"),
        ]);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["skipped"][0], json!({ "id": null, "position": 2, "reason": "no `id`" }));

        // A dry run writes nothing.
        let before = app.count_rows("audit_event").await;
        let dry = registers::import(&app.db.conn, Format::UkAtrs,
            Input::bytes("a file".into(), uk.clone()), &Options { dry_run: true }).await.unwrap();
        assert_eq!(dry.created as i64, uk_rows().len() as i64);
        assert_eq!(app.count_rows("audit_event").await, before);
        assert_eq!(app.count_rows("deployment").await, 1);
    }
}

/// A register's server: the French list at `/list.json` with an ETag (and
/// 304 to a request that has it), a 500 at `/broken`, a web page at
/// `/page`; the number of requests it answered.
async fn register_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::{
        http::{HeaderMap, StatusCode, header},
        response::{Html, IntoResponse},
        routing::get,
    };
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };
    let hits = Arc::new(AtomicUsize::new(0));
    let body = data("fr-etalab/algorithmes_publics.json");
    let counted = hits.clone();
    let app = axum::Router::new()
        .route(
            "/list.json",
            get(move |headers: HeaderMap| {
                counted.fetch_add(1, Ordering::SeqCst);
                let body = body.clone();
                async move {
                    if headers
                        .get(header::IF_NONE_MATCH)
                        .is_some_and(|tag| tag == "\"v1\"")
                    {
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    (
                        [
                            (header::ETAG, "\"v1\""),
                            (header::CONTENT_TYPE, "application/json"),
                        ],
                        body,
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/broken",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route(
            "/page",
            get(|| async { Html("<html><body>Not a register</body></html>") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, hits)
}

on_both_backends! {
    async fn a_register_is_fetched_conditionally_and_an_unchanged_one_costs_one_request(backend: Backend) {
        use std::sync::atomic::Ordering;
        let app = TestApp::new(backend).await;
        let (base, hits) = register_server().await;
        let url = format!("{base}/list.json");
        let import = |from: String| {
            let db = app.db.conn.clone();
            async move { registers::import_from(&db, Format::FrEtalab, Some(&from), &Options::default()).await }
        };

        let first = import(url.clone()).await.unwrap();
        assert_eq!(first.created, french_counts().by_status.values().sum::<i64>() as usize);
        assert_eq!(first.input, url);
        assert_eq!(hits.load(Ordering::SeqCst), 1);

        // The server answers 304: one request, nothing written.
        let events = app.count_rows("audit_event").await;
        let second = import(url.clone()).await.unwrap();
        assert!(second.not_modified && !second.wrote(), "{second:?}");
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        assert_eq!(app.count_rows("audit_event").await, events);

        // A 500, a web page, nobody listening: refused, nothing written.
        let nobody = format!("http://127.0.0.1:{}/list.json", crate::helpers::free_port());
        for (from, says) in [
            (format!("{base}/broken"), "answered 500"),
            (format!("{base}/page"), "not Etalab's list"),
            (nobody, "cannot fetch"),
        ] {
            let err = import(from.clone()).await.unwrap_err();
            assert!(format!("{err:#}").contains(says), "{from}: {err:#}");
        }
        assert_eq!(app.count_rows("audit_event").await, events);

        // A file over the size limit is refused before it is read whole.
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        std::fs::File::create(&big).unwrap().set_len(registers::MAX_BYTES + 1).unwrap();
        let err = import(big.display().to_string()).await.unwrap_err();
        assert!(format!("{err:#}").contains("larger than 64 MiB"), "{err:#}");
    }
}

/// The counts of a register's live deployments, by stage and by body.
async fn register_counts(app: &TestApp, register: &str) -> Counts {
    use sea_orm::ConnectionTrait;
    let backend = app.db.conn.get_database_backend();
    let sql = format!(
        "SELECT d.status AS status, t.name AS body FROM deployment d \
        JOIN deployment_register_entry e ON e.deployment_id = d.id \
        JOIN territory t ON t.id = d.territory_id \
        WHERE e.register = '{register}' AND d.archived_at IS NULL"
    );
    let mut counts = Counts::default();
    for row in app
        .db
        .conn
        .query_all_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .unwrap()
    {
        counts.add(
            &row.try_get::<String>("", "status").unwrap(),
            &row.try_get::<String>("", "body").unwrap(),
        );
    }
    counts
}

on_both_backends! {
    async fn full_dutch_records_bring_their_texts_and_risks_in_words_one_deployment_per_language(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let import = |file: &str| {
            let input = Input::bytes(file.into(), data(&format!("nl-algoritmeregister-records/{file}")));
            let db = app.db.conn.clone();
            async move { registers::import(&db, Format::NlAlgoritmeregisterRecords, input, &Options::default()).await.unwrap() }
        };

        // The 2022 pilot: counts by stage and body as the file has them;
        // each stated risk is one risk in words, without a category.
        let pilot: Json = serde_json::from_slice(&data("nl-algoritmeregister-records/pilot_2022_testdata.json")).unwrap();
        let rows = pilot.as_array().unwrap();
        let report = import("pilot_2022_testdata.json").await;
        assert_eq!((report.register.as_str(), report.created), ("nl-algoritmeregister-pilot-2022", rows.len()), "{report:?}");
        let mut expected = Counts::default();
        for row in rows {
            let status = match row["algemene_informatie"]["status"].as_str().unwrap() {
                "In gebruik" => "PRODUCTION",
                "In ontwikkeling" => "DEVELOPMENT",
                "Buiten gebruik" => "RETIRED",
                _ => "UNKNOWN",
            };
            expected.add(status, row["algemene_informatie"]["organization"].as_str().unwrap());
        }
        assert_eq!(register_counts(&app, "nl-algoritmeregister-pilot-2022").await, expected);
        let stated = rows.iter().filter(|row| !row["toezicht"]["risks"].as_str().unwrap_or("").trim().is_empty()).count();
        assert_eq!(report.risks_written, stated);
        assert_eq!(app.count_rows("deployment_risk WHERE risk_category_id IS NULL \
            AND description IS NOT NULL AND severity IS NULL AND likelihood IS NULL").await as usize, stated);
        // The pilot's DPIA flags are placeholders: no DPIA is claimed.
        assert_eq!(app.count_rows("deployment WHERE dpia_url IS NOT NULL").await, 0);

        // The current export: two algorithms, each in Dutch and English,
        // are two deployments, in Dutch.
        let current: Json = serde_json::from_slice(&data("nl-algoritmeregister-records/etl_sample_data.json")).unwrap();
        let versions = current["algoritme_versions"].as_array().unwrap();
        let dutch: Vec<&Json> = versions.iter().filter(|v| v["language"] == "NLD").collect();
        let report = import("etl_sample_data.json").await;
        assert_eq!(report.created, dutch.len(), "{report:?}");
        let read = app.query(r#"{ deployments(filter: { source: { document: { eq: "register nl-algoritmeregister-records" } } }) {
            nodes { title language status purpose humanOversight territory { name }
              registerEntries { externalId }
              risks { nodes { category { key } description severity } } } } }"#, json!({})).await;
        let nodes = read["deployments"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), dutch.len());
        for version in &dutch {
            let node = nodes.iter().find(|n| n["registerEntries"][0]["externalId"] == version["lars"]).unwrap();
            assert_eq!(node["title"], version["name"]);
            assert_eq!(node["language"], "nl");
            assert_eq!(node["territory"]["name"], version["organization"]);
            let risk = &node["risks"]["nodes"][0];
            assert_eq!(risk["category"], Json::Null);
            assert_eq!(risk["severity"], Json::Null);
            assert_eq!(risk["description"].as_str().unwrap(), version["risks"].as_str().unwrap().trim());
        }

        // An editor declares a risk with a category: the register's risk
        // in words stays beside it.
        let key = vigie::auth::create_key(&app.db.conn, entity::enums::KeyRole::Admin, &[], "Rédaction")
            .await.unwrap().0;
        let target = app.query(r#"{ deployments(filter: { source: { document: { eq: "register nl-algoritmeregister-records" } } }, first: 1) {
            nodes { id version } } riskCategories(first: 1) { nodes { id } } }"#, json!({})).await;
        let deployment = &target["deployments"]["nodes"][0];
        let answer = post(&app.router(), Some(&key), "mutation($input: UpdateDeploymentInput!) {
            updateDeployment(input: $input) { risks { nodes { category { id } description } } } }",
            json!({ "input": { "id": deployment["id"], "expectedVersion": deployment["version"],
                "risks": [{ "category": target["riskCategories"]["nodes"][0]["id"], "severity": "HIGH" }] } })).await;
        let risks = answer.data()["updateDeployment"]["risks"]["nodes"].as_array().unwrap().clone();
        assert_eq!(risks.len(), 2, "{risks:?}");
        assert!(risks.iter().any(|r| r["category"].is_null() && r["description"].is_string()));
        // And the same export again writes nothing.
        let again = import("etl_sample_data.json").await;
        assert!(!again.wrote(), "{again:?}");

        // A supplier the export names: the organization, created once,
        // linked as SUPPLIER by the register; unlinked when the register
        // no longer names it.
        let with_provider = |provider: Json| {
            let mut copy = current.clone();
            for version in copy["algoritme_versions"].as_array_mut().unwrap() {
                if version["lars"] == "16268148" {
                    version["provider"] = provider.clone();
                }
            }
            let input = Input::bytes("a copy".into(), copy.to_string().into_bytes());
            let db = app.db.conn.clone();
            async move { registers::import(&db, Format::NlAlgoritmeregisterRecords, input, &Options::default()).await.unwrap() }
        };
        const SUPPLIERS: &str = r#"{ deployments(filter: { source: { document: { eq: "register nl-algoritmeregister-records" } } }) {
            nodes { registerEntries { externalId } organizations { nodes { role organization { name kind source { title } } } } } } }"#;
        let supplied = with_provider(json!("Resono")).await;
        assert_eq!((supplied.suppliers_written, supplied.updated), (2, 0), "{supplied:?}");
        let read = app.query(SUPPLIERS, json!({})).await;
        let druktebeeld = read["deployments"]["nodes"].as_array().unwrap().iter()
            .find(|n| n["registerEntries"][0]["externalId"] == "16268148").unwrap().clone();
        assert_eq!(druktebeeld["organizations"]["nodes"], json!([{ "role": "SUPPLIER",
            "organization": { "name": "Resono", "kind": "VENDOR", "source": { "title": "Algoritmeregister, volledige registraties" } } }]));
        assert!(!with_provider(json!("Resono")).await.wrote());
        let dropped = with_provider(Json::Null).await;
        assert_eq!(dropped.suppliers_written, 1, "{dropped:?}");
        let read = app.query(SUPPLIERS, json!({})).await;
        assert!(read["deployments"]["nodes"].as_array().unwrap().iter()
            .all(|n| n["organizations"]["nodes"].as_array().unwrap().is_empty()), "{read}");
    }
}

on_both_backends! {
    async fn without_the_registers_the_headline_still_reaches_the_networks_concerns(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let headline = app.query(vigie::server::HEADLINE_QUERY, json!({ "slug": vigie::server::HEADLINE_SLUG })).await;
        assert_eq!(headline["territory"], Json::Null);
        assert_eq!(headline["network"]["nodes"][0]["concerns"]["nodes"].as_array().unwrap().len(), 10);
    }
}
