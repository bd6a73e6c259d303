//! The reference data: every fact of `data/reference.json` is in the graph,
//! with its source, and loading again never duplicates anything.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use crate::helpers::{Backend, TestApp};

fn reference() -> Json {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn texts(list: &Json, field: &str) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

/// Every table the reference load writes, to compare counts across loads.
const TABLES: &[&str] = &[
    "source",
    "network",
    "axis",
    "territory",
    "concertation_programme",
    "programme_participation",
    "charter",
    "contribution",
    "contribution_risk_category",
    "risk_category",
    "opportunity",
    "lever",
    "lever_risk_category",
    "study",
    "study_finding",
    "finding_risk_category",
    "finding_lever",
    "resource",
    "domain",
    "technique",
];

const EVERYTHING: &str = r#"{
  networks { totalCount nodes { name membersPeople memberCollectivities eventsPerYearMin eventsPerYearMax participantsAtLeast
    axes { nodes { number title } } } }
  territories(first: 100) { totalCount nodes { name slug kind region department source { document } } }
  concertationProgrammes(first: 1) { totalCount nodes { title axis { number }
    charters { nodes { description } }
    participations(first: 40) { totalCount nodes { mode territory { name } } }
    concerns(first: 20) { totalCount nodes { rank statement kind public source { document }
      riskCategories(first: 5) { totalCount nodes { key } } } } } }
  riskCategories { totalCount nodes { key title description source { document } } }
  opportunities { totalCount nodes { rank title source { document } } }
  levers { totalCount nodes { rank title riskCategories { totalCount } source { document } } }
  studyFindings { totalCount nodes { kind rank statement study { title } source { document } } }
  resources { totalCount nodes { title url kind source { document } } }
  sources { totalCount nodes { document } }
  studies { nodes { title source { document } } }
  charters { nodes { title source { document } } }
}"#;

on_both_backends! {
    async fn reference_data_holds_every_fact_of_the_document(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let facts = reference();
        let data = app.query(EVERYTHING, json!({})).await;

        let network = &data["networks"]["nodes"][0];
        assert_eq!(data["networks"]["totalCount"], 1);
        assert_eq!(network["name"], facts["network"]["name"]);
        assert_eq!(network["membersPeople"], facts["network"]["members_people"]);
        assert_eq!(network["memberCollectivities"], facts["network"]["member_collectivities"]);
        assert_eq!(network["eventsPerYearMin"], facts["network"]["events_per_year"]["min"]);
        assert_eq!(network["eventsPerYearMax"], facts["network"]["events_per_year"]["max"]);
        assert_eq!(network["participantsAtLeast"], facts["network"]["participants_at_least"]);
        assert_eq!(texts(&network["axes"]["nodes"], "title"), texts(&facts["axes"], "title"));

        let territories = &data["territories"];
        assert_eq!(territories["totalCount"], 28);
        assert_eq!(
            texts(&territories["nodes"], "name"),
            texts(&facts["engaged_territories"], "name")
        );
        for expected in facts["engaged_territories"].as_array().unwrap() {
            let found = territories["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == expected["name"])
                .unwrap();
            assert_eq!(found["kind"], expected["kind"]);
            assert_eq!(found["region"], expected["region"]);
            assert_eq!(found["department"], expected["department"]);
        }

        let programmes = &data["concertationProgrammes"];
        assert_eq!(programmes["totalCount"], 1);
        let programme = &programmes["nodes"][0];
        assert_eq!(programme["title"], facts["concertation_programme"]["title"]);
        assert_eq!(programme["axis"]["number"], 2);
        assert_eq!(
            programme["charters"]["nodes"][0]["description"],
            facts["concertation_programme"]["charter"]
        );
        // Every engaged territory takes part; one of them twice (its own
        // concertation and a co-development group).
        let participations = &programme["participations"];
        let engaged: BTreeSet<String> = participations["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["territory"]["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(engaged, texts(&facts["engaged_territories"], "name"));
        let codev: Vec<&Json> = participations["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["mode"] == "CODEV")
            .collect();
        assert_eq!(codev.len(), 1);
        assert_eq!(codev[0]["territory"]["name"], "Pays de Lorient et Quimperlé");
        assert_eq!(participations["totalCount"], 29);

        let concerns = &programme["concerns"];
        assert_eq!(concerns["totalCount"], 10);
        assert_eq!(texts(&concerns["nodes"], "statement"), texts(&facts["citizen_concerns"], "text"));
        for concern in concerns["nodes"].as_array().unwrap() {
            assert_eq!(concern["kind"], "CONCERN");
            assert_eq!(concern["public"], "CITIZENS");
            assert!(concern["riskCategories"]["totalCount"].as_i64().unwrap() >= 1, "{concern}");
        }

        assert_eq!(data["riskCategories"]["totalCount"], 5);
        assert_eq!(texts(&data["riskCategories"]["nodes"], "key"), texts(&facts["risks"], "key"));
        assert_eq!(texts(&data["riskCategories"]["nodes"], "description"), texts(&facts["risks"], "description"));
        assert_eq!(texts(&data["opportunities"]["nodes"], "title"), texts(&facts["opportunities"], "title"));
        assert_eq!(texts(&data["levers"]["nodes"], "title"), texts(&facts["levers"], "title"));
        for lever in data["levers"]["nodes"].as_array().unwrap() {
            assert!(lever["riskCategories"]["totalCount"].as_i64().unwrap() >= 1, "{lever}");
        }

        let findings = &data["studyFindings"];
        assert_eq!(findings["totalCount"], 8);
        assert_eq!(texts(&findings["nodes"], "statement"), texts(&facts["learnings"], "title"));
        for finding in findings["nodes"].as_array().unwrap() {
            assert_eq!(finding["kind"], "KEY_LEARNING");
        }

        assert_eq!(data["resources"]["totalCount"], 1);
        assert_eq!(data["resources"]["nodes"][0]["url"], facts["resources"][0]["url"]);
        assert_eq!(data["resources"]["nodes"][0]["kind"], "GUIDE");

        // Three sources: the document behind every fact, the editors'
        // curation behind what they name, and the hub's vocabularies.
        assert_eq!(
            texts(&data["sources"]["nodes"], "document"),
            BTreeSet::from(["000_57e718e40a6c0bc9.txt", "data/curation.json", "data/vocabulary.json"].map(String::from))
        );
        let document = json!("000_57e718e40a6c0bc9.txt");
        assert_eq!(data["charters"]["nodes"][0]["source"]["document"], "data/curation.json");
        for study in data["studies"]["nodes"].as_array().unwrap() {
            // A study titled as the document's third axis is the
            // document's; the one the editors titled is theirs.
            let by_axis = facts["axes"].as_array().unwrap().iter().any(|axis| axis["title"] == study["title"]);
            let expected = if by_axis { "000_57e718e40a6c0bc9.txt" } else { "data/curation.json" };
            assert_eq!(study["source"]["document"], expected, "{study}");
        }
        let mut sourced = 0;
        for list in ["territories", "riskCategories", "opportunities", "levers", "studyFindings", "resources"] {
            for node in data[list]["nodes"].as_array().unwrap() {
                assert_eq!(node["source"]["document"], document, "{list}: {node}");
                sourced += 1;
            }
        }
        for concern in concerns["nodes"].as_array().unwrap() {
            assert_eq!(concern["source"]["document"], document);
            sourced += 1;
        }
        assert_eq!(sourced, 28 + 5 + 3 + 3 + 8 + 1 + 10);
    }

    async fn loading_the_reference_again_duplicates_nothing(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let mut before = Vec::new();
        for table in TABLES {
            before.push(app.count_rows(table).await);
        }
        let report = vigie::reference::load(&app.db.conn).await.unwrap();
        assert_eq!(report.inserted, 0, "{report:?}");
        assert_eq!(report.updated, 0, "{report:?}");
        assert!(report.unchanged > 100, "{report:?}");
        for (table, count) in TABLES.iter().zip(before) {
            assert!(count > 0, "{table} is empty");
            assert_eq!(app.count_rows(table).await, count, "{table}");
        }
    }

    async fn loading_the_reference_restores_a_changed_fact(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let backend_kind = sea_orm::ConnectionTrait::get_database_backend(&app.db.conn);
        sea_orm::ConnectionTrait::execute_raw(
            &app.db.conn,
            sea_orm::Statement::from_string(
                backend_kind,
                "UPDATE territory SET name = 'Renamed' WHERE slug = 'nantes-metropole'",
            ),
        )
        .await
        .unwrap();
        let audit = app.count_rows("audit_event").await;
        let report = vigie::reference::load(&app.db.conn).await.unwrap();
        assert_eq!(report.updated, 1, "{report:?}");
        assert_eq!(report.inserted, 0, "{report:?}");
        let data = app
            .query(r#"{ territory(slug: "nantes-metropole") { name version
                history(first: 5) { nodes { action actor version before after } } } }"#, json!({}))
            .await;
        assert_eq!(data["territory"]["name"], "Nantes Métropole");
        // Written through the store: a new version, and its history says
        // who changed what.
        assert_eq!(data["territory"]["version"], 2);
        assert_eq!(app.count_rows("audit_event").await, audit + 1);
        let events = data["territory"]["history"]["nodes"].as_array().unwrap();
        let update = events.iter().find(|e| e["action"] == "UPDATE").expect("an UPDATE event");
        assert_eq!(update["actor"], "reference load");
        assert_eq!(update["version"], 2);
        assert!(update["before"].to_string().contains("Renamed"), "{update}");
        assert!(update["after"].to_string().contains("Nantes Métropole"), "{update}");
        // Loaded again: nothing to change, nothing written.
        let report = vigie::reference::load(&app.db.conn).await.unwrap();
        assert_eq!((report.inserted, report.updated), (0, 0), "{report:?}");
        assert_eq!(app.count_rows("audit_event").await, audit + 1);
    }
}

/// The source document as the hub carries it, its line breaks joined: a
/// run of blanks holding a line break becomes one space.
fn document_text() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/document/000_57e718e40a6c0bc9.txt"
    );
    let raw = std::fs::read_to_string(path).unwrap();
    // The copy is the document itself, where the network's files are at hand.
    let original = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/seed/000_57e718e40a6c0bc9.txt"
    );
    if let Ok(original) = std::fs::read_to_string(original) {
        assert_eq!(
            raw, original,
            "data/document/ is not a copy of the seed document"
        );
    }
    let mut joined = String::with_capacity(raw.len());
    let mut blanks = String::new();
    for c in raw.chars() {
        if c.is_whitespace() {
            blanks.push(c);
            continue;
        }
        if blanks.contains('\n') {
            joined.push(' ');
        } else {
            joined.push_str(&blanks);
        }
        blanks.clear();
        joined.push(c);
    }
    joined
}

/// Every text the hub quotes from the document, with where it is served.
const QUOTED: &str = r#"{
  networks { nodes { body website axes { nodes { title description } } } }
  territories(first: 100) { nodes { nameInSource } }
  concertationProgrammes { nodes { title operation onlineSpace methodologicalResources
    charters { nodes { description } }
    concerns(first: 20) { nodes { statement } } } }
  riskCategories { nodes { title description } }
  opportunities { nodes { title description } }
  levers { nodes { title description } }
  studyFindings { nodes { statement } }
  resources { nodes { title description } }
}"#;

/// The strings of a JSON value, with their paths.
fn strings(value: &Json, path: String, out: &mut Vec<(String, String)>) {
    match value {
        Json::String(text) => out.push((path, text.clone())),
        Json::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                strings(item, format!("{path}[{index}]"), out);
            }
        }
        Json::Object(fields) => {
            for (name, field) in fields {
                strings(field, format!("{path}.{name}"), out);
            }
        }
        _ => {}
    }
}

on_both_backends! {
    async fn every_text_quoted_from_the_document_is_word_for_word(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let document = document_text();
        let data = app.query(QUOTED, json!({})).await;
        let mut quoted = Vec::new();
        strings(&data, String::new(), &mut quoted);
        // 3 axes × 2, 28 names, 4 programme texts, the charter, 10
        // concerns, 5 risks × 2, 3 opportunities × 2, 3 levers × 2, 8
        // learnings, a resource × 2, the network's body and website.
        assert_eq!(quoted.len(), 6 + 28 + 4 + 1 + 10 + 10 + 6 + 6 + 8 + 2 + 2, "{data}");
        let misquoted: Vec<_> = quoted.iter().filter(|(_, text)| !document.contains(text.as_str())).collect();
        assert!(misquoted.is_empty(), "not word for word in the document: {misquoted:#?}");

        // Names keep the document's wording beside the cleaned one.
        let sicoval = app
            .query(r#"{ territory(slug: "agglomeration-du-sicoval") { name nameInSource } }"#, json!({}))
            .await;
        assert_eq!(sicoval["territory"]["name"], "Agglomération du Sicoval");
        assert_eq!(sicoval["territory"]["nameInSource"], "l’agglomération du Sicoval");

        // No person's address is kept.
        let network = app.query("{ networks { nodes { contactEmail } } }", json!({})).await;
        assert_eq!(network["networks"]["nodes"][0]["contactEmail"], Json::Null);
        assert_eq!(reference()["network"].get("contact_email"), None);
    }

    async fn vocabulary_terms_have_their_source(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let data = app
            .query("{ domains(first: 100) { nodes { source { title document } } }
                      techniques(first: 100) { nodes { source { title document } } } }", json!({}))
            .await;
        let mut terms = 0;
        for list in ["domains", "techniques"] {
            for term in data[list]["nodes"].as_array().unwrap() {
                assert_eq!(term["source"]["document"], "data/vocabulary.json", "{term}");
                terms += 1;
            }
        }
        assert!(terms > 10, "{data}");
    }
}

on_both_backends! {
    /// A database loaded from the earlier transcription (other apostrophes,
    /// capitals, full stops) is corrected in place: the records whose text
    /// was the key are found again by rank, axis or source.
    async fn texts_of_an_earlier_transcription_are_corrected_in_place(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let mut before = Vec::new();
        for table in TABLES {
            before.push(app.count_rows(table).await);
        }
        for table in ["concertation_programme", "lever", "opportunity", "study"] {
            crate::helpers::execute_sql(&app.db.conn, &format!(
                "UPDATE {table} SET title = REPLACE(REPLACE(title, '’', ''''), 'continue', 'continu')")).await;
        }
        let report = vigie::reference::load(&app.db.conn).await.unwrap();
        assert_eq!(report.inserted, 0, "{report:?}");
        assert!(report.updated >= 4, "{report:?}");
        for (table, count) in TABLES.iter().zip(before) {
            assert_eq!(app.count_rows(table).await, count, "{table}");
        }
        let data = app.query("{ levers { nodes { title } } concertationProgrammes { nodes { title } } }", json!({})).await;
        assert_eq!(texts(&data["levers"]["nodes"], "title"), texts(&reference()["levers"], "title"));
        assert_eq!(data["concertationProgrammes"]["nodes"][0]["title"], reference()["concertation_programme"]["title"]);
    }
}

on_both_backends! {
    /// The links between facts of the document are the editors' choice,
    /// and say so: each names the curation as its source.
    async fn links_the_editors_chose_name_their_source(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let data = app.query(r#"{
            contributions(first: 20) { nodes { riskCategories { totalCount }
              riskCategoryLinks { node { key } source { document } } } }
            levers { nodes { riskCategories { totalCount } riskCategoryLinks { node { key } source { document } } } }
            studyFindings { nodes { riskCategoryLinks { source { document } } leverLinks { node { rank } source { document } } } }
        }"#, json!({})).await;
        let mut links = 0;
        for (list, fields) in [
            ("contributions", &["riskCategoryLinks"][..]),
            ("levers", &["riskCategoryLinks"][..]),
            ("studyFindings", &["riskCategoryLinks", "leverLinks"][..]),
        ] {
            for node in data[list]["nodes"].as_array().unwrap() {
                if let Some(total) = node["riskCategories"]["totalCount"].as_u64() {
                    assert_eq!(node["riskCategoryLinks"].as_array().unwrap().len() as u64, total, "{node}");
                }
                for field in fields {
                    for link in node[field].as_array().unwrap() {
                        assert_eq!(link["source"]["document"], "data/curation.json", "{list}: {link}");
                        links += 1;
                    }
                }
            }
        }
        // As many as data/curation.json draws.
        let curation: Json = serde_json::from_str(include_str!("../../data/curation.json")).unwrap();
        let drawn: usize = ["concern_risks", "lever_risks", "learning_risks"].iter()
            .flat_map(|list| curation[*list].as_array().unwrap())
            .map(|links| links["risks"].as_array().unwrap().len())
            .sum::<usize>()
            + curation["learning_levers"].as_array().unwrap().iter()
                .map(|links| links["levers"].as_array().unwrap().len()).sum::<usize>();
        assert_eq!(links, drawn);
    }
}
