//! The official geography: every territory of the files is imported with
//! its codes, population, département, région and groupings; the
//! network's territories are matched, not duplicated; a second import
//! writes nothing, a newer copy changes exactly what changed; bad files
//! are refused, naming the file and the record, with nothing written. The
//! expected numbers are computed from the files themselves.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Read,
    path::Path,
};

use serde_json::{Value as Json, json};
use vigie::geography;

use crate::{
    fixtures::seed_everything,
    helpers::{Backend, TestApp, codes, gid},
};

fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data/geography"))
}

/// A file of the built-in copy, as JSON (`name.json` or `name.json.gz`).
fn file(name: &str) -> Json {
    let plain = data_dir().join(format!("{name}.json"));
    if plain.exists() {
        return serde_json::from_str(&std::fs::read_to_string(plain).unwrap()).unwrap();
    }
    let bytes = std::fs::read(data_dir().join(format!("{name}.json.gz"))).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_string(&mut text)
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn list(value: &Json) -> &Vec<Json> {
    value.as_array().unwrap()
}

fn text<'a>(value: &'a Json, field: &str) -> &'a str {
    value[field].as_str().unwrap()
}

async fn count(app: &TestApp, condition: &str) -> usize {
    app.ids(&format!("SELECT id FROM territory WHERE {condition}"))
        .await
        .len()
}

async fn audit_events(app: &TestApp) -> i64 {
    app.count_rows("audit_event").await
}

const NANTES: &str = r#"query($siren: String!, $commune: String!) {
  metropole: territory(siren: $siren) {
    slug name officialName kind siren population source { document }
    inDepartment { kind inseeCode name } inRegion { kind inseeCode name }
    members(first: 100) { totalCount nodes { inseeCode } }
  }
  commune: territory(inseeCode: $commune) {
    slug name kind siren population
    inDepartment { inseeCode } inRegion { inseeCode }
    groupings { nodes { slug siren } }
  }
}"#;

on_both_backends! {
    async fn the_official_geography_is_imported_whole_with_the_network_matched(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let report = geography::import(&app.db.conn, None).await.unwrap();

        // Counts per kind, from the files.
        let communes = file("communes");
        let current: Vec<&Json> = list(&communes).iter().filter(|c| c["type"] == "commune-actuelle").collect();
        let arrondissements = list(&communes).iter().filter(|c| c["type"] == "arrondissement-municipal").count();
        let (regions, departments, epci, ept) = (file("regions"), file("departements"), file("epci"), file("ept"));
        let of_type = |kind: &str| list(&epci).iter().filter(|e| e["type"] == kind).count();
        for (kind, expected) in [
            ("REGION", list(&regions).len()),
            ("DEPARTMENT", list(&departments).len()),
            ("MUNICIPAL_ARRONDISSEMENT", arrondissements),
            ("COMMUNITY_OF_COMMUNES", of_type("CC")),
            ("AGGLOMERATION_COMMUNITY", of_type("CA")),
            ("URBAN_COMMUNITY", of_type("CU")),
            ("METROPOLE", of_type("METRO")),
            ("LYON_METROPOLIS", of_type("MET69")),
            ("PUBLIC_TERRITORIAL_ESTABLISHMENT", list(&ept).len()),
        ] {
            let stored = count(&app, &format!("kind = '{kind}' AND insee_code IS NOT NULL OR kind = '{kind}' AND siren IS NOT NULL")).await;
            assert_eq!(stored, expected, "{kind}");
        }
        // The network's communes are among the current ones: none added twice.
        assert_eq!(count(&app, "kind = 'MUNICIPALITY'").await, current.len());

        // Communes per département, for a few.
        for code in ["44", "35", "2A", "974"] {
            let expected = current.iter().filter(|c| c["departement"] == code).count();
            let stored = count(&app, &format!(
                "kind = 'MUNICIPALITY' AND department_id = \
                 (SELECT id FROM territory WHERE kind = 'DEPARTMENT' AND insee_code = '{code}')"
            )).await;
            assert_eq!(stored, expected, "département {code}");
            assert!(expected > 0);
        }

        // Every current commune has its département and région; every
        // membership names a commune; no territory is its own parent.
        assert_eq!(count(&app, "kind = 'MUNICIPALITY' AND (department_id IS NULL OR region_id IS NULL)").await, 0);
        let members = app.ids("SELECT m.member_id AS id FROM territory_membership m \
            JOIN territory t ON t.id = m.member_id WHERE t.kind <> 'MUNICIPALITY'").await;
        assert!(members.is_empty(), "{members:?}");
        assert_eq!(count(&app, "parent_id = id").await, 0);
        let listed: usize = list(&epci).iter().chain(list(&ept)).map(|g| list(&g["membres"]).len()).sum();
        // The communes in no grouping are reported, not dropped.
        let members: BTreeSet<&str> = list(&epci).iter().chain(list(&ept))
            .flat_map(|g| list(&g["membres"]).iter().map(|m| text(m, "code")))
            .collect();
        let ungrouped: Vec<String> = current.iter()
            .filter(|c| !members.contains(text(c, "code")))
            .map(|c| format!("{} {}", text(c, "code"), text(c, "nom")))
            .collect();
        assert_eq!(report.ungrouped, ungrouped);
        assert!(!ungrouped.is_empty());
        assert_eq!(app.count_rows("territory_membership").await as usize, listed - report.warnings.len());

        // The match table: each territory of the network is found by its
        // code, keeps its slug, name and source; the others stay as they are.
        let matches = file("matches");
        let mut matched = BTreeSet::new();
        let mut unmatched = BTreeSet::new();
        for entry in list(&matches["territories"]) {
            let slug = text(entry, "slug");
            let (column, code) = if let Some(siren) = entry["siren"].as_str() {
                ("siren", siren)
            } else if let Some(code) = entry["commune"].as_str().or(entry["region"].as_str()) {
                ("insee_code", code)
            } else {
                unmatched.insert(slug.to_owned());
                assert_eq!(count(&app, &format!("slug = '{slug}' AND siren IS NULL AND insee_code IS NULL")).await, 1, "{slug}");
                continue;
            };
            matched.insert(slug.to_owned());
            let rows = count(&app, &format!("{column} = '{code}' AND slug = '{slug}' AND official_name IS NOT NULL")).await;
            assert_eq!(rows, 1, "{slug} is {column} {code}");
            let duplicates = count(&app, &format!("{column} = '{code}'")).await;
            assert!(duplicates <= 2, "{slug}: a région and a département may share a code, nothing else");
        }
        let reported = |pairs: &[(String, String)]| pairs.iter().map(|(s, _)| s.clone()).collect::<BTreeSet<_>>();
        assert_eq!(reported(&report.matched), matched);
        assert_eq!(reported(&report.unmatched), unmatched);
        assert_eq!(matched.len() + unmatched.len(), 28);

        // Nantes Métropole, the network's territory, with its official
        // identity; Nantes, a commune, with its groupings.
        let nantes = list(&epci).iter().find(|e| e["code"] == "244400404").unwrap();
        let data = app.query(NANTES, json!({ "siren": "244400404", "commune": "44109" })).await;
        let metropole = &data["metropole"];
        assert_eq!(metropole["slug"], "nantes-metropole");
        assert_eq!(metropole["name"], "Nantes Métropole");
        assert_eq!(metropole["officialName"], nantes["nom"]);
        assert_eq!(metropole["kind"], "METROPOLE");
        assert_eq!(metropole["population"], nantes["populationTotale"]);
        assert_ne!(metropole["source"]["document"], "@etalab/decoupage-administratif");
        assert_eq!(metropole["inDepartment"]["inseeCode"], "44");
        assert_eq!(metropole["inDepartment"]["kind"], "DEPARTMENT");
        assert_eq!(metropole["inRegion"]["inseeCode"], "52");
        assert_eq!(metropole["members"]["totalCount"], list(&nantes["membres"]).len());
        let commune = &data["commune"];
        let file_nantes = current.iter().find(|c| c["code"] == "44109").unwrap();
        assert_eq!(commune["name"], file_nantes["nom"]);
        assert_eq!(commune["siren"], file_nantes["siren"]);
        assert_eq!(commune["population"], file_nantes["population"]);
        assert_eq!(commune["inDepartment"]["inseeCode"], "44");
        assert_eq!(commune["inRegion"]["inseeCode"], "52");
        let groupings: Vec<&str> = list(&commune["groupings"]["nodes"]).iter().map(|g| text(g, "slug")).collect();
        assert_eq!(groupings, ["nantes-metropole"]);
        let commune_slug = text(commune, "slug").to_owned();

        // A région's départements, by the relation.
        let data = app.query(r#"{ territory(siren: "244400404") { inRegion {
            departments(first: 20) { totalCount nodes { inseeCode } } } } }"#, json!({})).await;
        let expected = list(&departments).iter().filter(|d| d["region"] == "52").count();
        assert_eq!(data["territory"]["inRegion"]["departments"]["totalCount"], expected);

        // Communes grouped by their région, as records.
        let data = app.query(r#"{ territories(filter: { kind: { eq: MUNICIPALITY } }) {
            groupBy(by: [IN_REGION], first: 100) { keys { label } count } } }"#, json!({})).await;
        let grouped: BTreeMap<String, i64> = list(&data["territories"]["groupBy"])
            .iter()
            .map(|g| (text(&g["keys"][0], "label").to_owned(), g["count"].as_i64().unwrap()))
            .collect();
        // A région the network matched keeps the network's name.
        let data = app.query(r#"{ territories(filter: { kind: { eq: REGION } }, first: 100) {
            nodes { name inseeCode } } }"#, json!({})).await;
        let names: BTreeMap<&str, &str> = list(&data["territories"]["nodes"])
            .iter()
            .map(|r| (text(r, "inseeCode"), text(r, "name")))
            .collect();
        let mut expected: BTreeMap<String, i64> = BTreeMap::new();
        for commune in &current {
            *expected.entry(names[text(commune, "region")].to_owned()).or_default() += 1;
        }
        assert_eq!(grouped, expected);

        // A code a région and a département share names neither.
        let errors = app.errors(r#"{ territory(inseeCode: "44") { name } }"#, json!({})).await;
        assert_eq!(codes(&errors), ["BAD_USER_INPUT"]);

        // The headline query and the widget, for a commune and for a
        // matched territory of the network.
        let widget = include_str!("../../src/server/safelist/TerritoryWidget.graphql");
        for slug in [commune_slug.as_str(), "nantes-metropole"] {
            let data = app.query(vigie::server::HEADLINE_QUERY, json!({ "slug": slug })).await;
            assert!(data["territory"]["deployments"]["totalCount"].is_number(), "{slug}: {data}");
            let data = app.query(widget, json!({ "slug": slug })).await;
            assert_eq!(data["territory"]["slug"], slug);
        }
        // The widget shows the attribution the geography's licence asks for.
        let data = app.query(widget, json!({ "slug": commune_slug })).await;
        let about = file("source");
        assert_eq!(data["territory"]["source"]["attribution"], about["attribution"]);
        assert_eq!(data["territory"]["source"]["licence"], about["licence"]);

        // Federation: a Territory by a real SIREN.
        let data = app.query(r#"query($r: [_Any!]!) { _entities(representations: $r) {
            ... on Territory { slug siren } } }"#,
            json!({ "r": [{ "__typename": "Territory", "siren": "244400404" }] })).await;
        assert_eq!(data["_entities"][0]["slug"], "nantes-metropole");

        // A second run writes nothing.
        let events = audit_events(&app).await;
        let again = geography::import(&app.db.conn, None).await.unwrap();
        assert!(!again.wrote(), "{again:?}");
        assert_eq!(audit_events(&app).await, events);
    }

    async fn a_newer_copy_changes_exactly_what_changed(backend: Backend) {
        let app = TestApp::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let mut copy = Copy::of_region("53");
        copy.write(dir.path());
        let first = geography::import(&app.db.conn, Some(dir.path())).await.unwrap();
        assert_eq!(first.inserted, 1 + copy.territories(), "{first:?}");
        assert!(!geography::import(&app.db.conn, Some(dir.path())).await.unwrap().wrote());

        // One EPCI renamed, one population changed, one commune gone.
        let events = audit_events(&app).await;
        let grouping = copy.epci[0]["code"].as_str().unwrap().to_owned();
        copy.epci[0]["nom"] = json!("CA Renommée");
        copy.communes[0]["population"] = json!(copy.communes[0]["population"].as_i64().unwrap() + 1);
        let populated = text(&copy.communes[0], "code").to_owned();
        let gone = copy.remove_a_commune();
        copy.write(dir.path());
        let second = geography::import(&app.db.conn, Some(dir.path())).await.unwrap();
        assert_eq!((second.inserted, second.updated, second.archived), (0, 2, 1), "{second:?}");
        assert_eq!((second.links_added, second.links_removed), (0, 1));
        assert_eq!(audit_events(&app).await, events + 3);
        let changed = app.query(r#"query($s: String!, $c: String!, $g: String!) {
            grouping: territory(siren: $s) { name version }
            populated: territory(inseeCode: $c) { version }
            gone: territories(filter: { inseeCode: { eq: $g } }, includeArchived: true) {
              nodes { archivedAt groupings { totalCount } } } }"#,
            json!({ "s": grouping, "c": populated, "g": gone })).await;
        assert_eq!(changed["grouping"]["name"], "CA Renommée");
        assert_eq!(changed["grouping"]["version"], 2);
        assert_eq!(changed["populated"]["version"], 2);
        let gone_row = &changed["gone"]["nodes"][0];
        assert!(gone_row["archivedAt"].is_string(), "archived, not deleted: {changed}");
        assert_eq!(gone_row["groupings"]["totalCount"], 0);

        // A commune that joins another EPCI: one new version, its
        // groupings before and after in the history.
        let events = audit_events(&app).await;
        let moved = copy.move_a_commune();
        copy.write(dir.path());
        let third = geography::import(&app.db.conn, Some(dir.path())).await.unwrap();
        assert_eq!((third.updated, third.links_added, third.links_removed), (1, 1, 1), "{third:?}");
        assert_eq!(audit_events(&app).await, events + 1);
        let data = app.query(r#"query($c: String!) { territory(inseeCode: $c) { version
            history(first: 1) { nodes { action before after } } } }"#, json!({ "c": moved })).await;
        let event = &data["territory"]["history"]["nodes"][0];
        assert_eq!(event["action"], "UPDATE");
        let ids = |side: &str| -> Json {
            let snapshot: Json = match &event[side] {
                Json::String(text) => serde_json::from_str(text).unwrap(),
                other => other.clone(),
            };
            snapshot["grouping_ids"].clone()
        };
        assert_ne!(ids("before"), ids("after"));
        assert_eq!(list(&ids("after")).len(), 1);

        // Only the commune gone is archived.
        assert_eq!(count(&app, "archived_at IS NOT NULL").await, 1);
    }

    async fn bad_files_are_refused_naming_file_and_record_with_nothing_written(backend: Backend) {
        let app = TestApp::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let copy = Copy::of_region("53");

        // A record without a code.
        let mut broken = copy.clone();
        broken.communes[3].as_object_mut().unwrap().remove("code");
        broken.write(dir.path());
        let err = geography::import(&app.db.conn, Some(dir.path())).await.unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("communes.json") && message.contains("record 4 has no code"), "{message}");

        // A file of the wrong shape.
        copy.write(dir.path());
        std::fs::write(dir.path().join("regions.json"), r#"{"code": "53"}"#).unwrap();
        let message = format!("{:#}", geography::import(&app.db.conn, Some(dir.path())).await.unwrap_err());
        assert!(message.contains("regions.json") && message.contains("not a list"), "{message}");

        // A truncated gzip file.
        copy.write(dir.path());
        std::fs::remove_file(dir.path().join("communes.json")).unwrap();
        let packed = std::fs::read(data_dir().join("communes.json.gz")).unwrap();
        std::fs::write(dir.path().join("communes.json.gz"), &packed[..packed.len() / 2]).unwrap();
        let message = format!("{:#}", geography::import(&app.db.conn, Some(dir.path())).await.unwrap_err());
        assert!(message.contains("communes.json.gz"), "{message}");

        // A missing file.
        std::fs::remove_file(dir.path().join("communes.json.gz")).unwrap();
        let message = format!("{:#}", geography::import(&app.db.conn, Some(dir.path())).await.unwrap_err());
        assert!(message.contains("communes.json"), "{message}");

        assert_eq!(app.count_rows("territory").await, 0);
        assert_eq!(app.count_rows("source").await, 0);
        assert_eq!(audit_events(&app).await, 0);
    }
}

on_both_backends! {
    async fn lists_group_by_departement_and_region_records(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let data = app.query(r#"{ deployments {
            byDepartment: groupBy(by: [IN_DEPARTMENT]) { keys { value label } count }
            byRegion: groupBy(by: [IN_REGION]) { keys { value label } count } } }"#, json!({})).await;
        let deployments = app.count_rows("deployment").await;
        for (field, id, label) in [
            ("byDepartment", f.department, "Département de Test"),
            ("byRegion", f.region, "Région de Test"),
        ] {
            let groups = list(&data["deployments"][field]);
            assert_eq!(groups.len(), 1, "{data}");
            assert_eq!(groups[0]["keys"][0]["value"], gid("Territory", id));
            assert_eq!(groups[0]["keys"][0]["label"], label);
            assert_eq!(groups[0]["count"], deployments);
        }
    }
}

/// A copy of the files reduced to one région: its départements, its
/// communes, and its groupings with their members in it.
#[derive(Clone)]
struct Copy {
    regions: Vec<Json>,
    departments: Vec<Json>,
    epci: Vec<Json>,
    ept: Vec<Json>,
    communes: Vec<Json>,
}

impl Copy {
    fn of_region(code: &str) -> Copy {
        let in_region = |row: &&Json| row["region"] == code;
        let communes: Vec<Json> = list(&file("communes"))
            .iter()
            .filter(in_region)
            .cloned()
            .collect();
        let codes: BTreeSet<&str> = communes.iter().map(|c| text(c, "code")).collect();
        let epci = list(&file("epci"))
            .iter()
            .filter_map(|grouping| {
                let mut grouping = grouping.clone();
                let members: Vec<Json> = list(&grouping["membres"])
                    .iter()
                    .filter(|m| codes.contains(text(m, "code")))
                    .cloned()
                    .collect();
                grouping["membres"] = Json::Array(members.clone());
                (!members.is_empty()).then_some(grouping)
            })
            .collect();
        let regions = list(&file("regions"))
            .iter()
            .filter(|r| r["code"] == code)
            .cloned()
            .collect();
        Copy {
            regions,
            departments: list(&file("departements"))
                .iter()
                .filter(in_region)
                .cloned()
                .collect(),
            epci,
            ept: Vec::new(),
            communes,
        }
    }

    /// The territories the copy makes.
    fn territories(&self) -> usize {
        let current = self
            .communes
            .iter()
            .filter(|c| c["type"] == "commune-actuelle" || c["type"] == "arrondissement-municipal")
            .count();
        self.regions.len() + self.departments.len() + self.epci.len() + self.ept.len() + current
    }

    fn write(&self, dir: &Path) {
        for (name, rows) in [
            ("regions", &self.regions),
            ("departements", &self.departments),
            ("epci", &self.epci),
            ("ept", &self.ept),
            ("communes", &self.communes),
        ] {
            let _ = std::fs::remove_file(dir.join(format!("{name}.json.gz")));
            std::fs::write(
                dir.join(format!("{name}.json")),
                serde_json::to_string(rows).unwrap(),
            )
            .unwrap();
        }
    }

    /// The member communes of each grouping, by INSEE code.
    fn members(&self) -> BTreeMap<String, usize> {
        let mut of = BTreeMap::new();
        for (index, grouping) in self.epci.iter().enumerate() {
            for member in list(&grouping["membres"]) {
                of.insert(text(member, "code").to_owned(), index);
            }
        }
        of
    }

    /// The départements of a grouping's members, leaving one out.
    fn departments_of(&self, grouping: usize, without: &str) -> BTreeSet<String> {
        list(&self.epci[grouping]["membres"])
            .iter()
            .map(|m| text(m, "code"))
            .filter(|code| *code != without)
            .filter_map(|code| self.communes.iter().find(|c| c["code"] == code))
            .map(|c| text(c, "departement").to_owned())
            .collect()
    }

    /// Removes a current commune (not the first) of a grouping of more
    /// than one, all in one département, from the communes and its
    /// grouping; returns its code.
    fn remove_a_commune(&mut self) -> String {
        let members = self.members();
        let position = (1..self.communes.len())
            .find(|&i| {
                let code = text(&self.communes[i], "code");
                self.communes[i]["type"] == "commune-actuelle"
                    && members.get(code).is_some_and(|&g| {
                        g != 0
                            && list(&self.epci[g]["membres"]).len() > 1
                            && self.departments_of(g, "").len() == 1
                    })
            })
            .unwrap();
        let gone = self.communes.remove(position);
        let code = text(&gone, "code").to_owned();
        let grouping = members[&code];
        self.epci[grouping]["membres"]
            .as_array_mut()
            .unwrap()
            .retain(|m| m["code"] != code.as_str());
        code
    }

    /// Moves a commune (not the first) of a grouping of more than one to
    /// another grouping; returns its code.
    fn move_a_commune(&mut self) -> String {
        let members = self.members();
        let (code, from) = members
            .iter()
            .find(|(code, g)| {
                **g > 2
                    && list(&self.epci[**g]["membres"]).len() > 1
                    && self.communes[1..]
                        .iter()
                        .any(|c| c["code"] == code.as_str())
                    && self.departments_of(**g, code) == self.departments_of(**g, "")
                    && self.departments_of(1, "")
                        == self
                            .departments_of(1, "")
                            .into_iter()
                            .chain(self.departments_of(**g, ""))
                            .collect()
            })
            .map(|(code, g)| (code.clone(), *g))
            .unwrap();
        let to = if from == 1 { 2 } else { 1 };
        let membres = self.epci[from]["membres"].as_array_mut().unwrap();
        let position = membres
            .iter()
            .position(|m| m["code"] == code.as_str())
            .unwrap();
        let member = membres.remove(position);
        self.epci[to]["membres"]
            .as_array_mut()
            .unwrap()
            .push(member);
        code
    }
}
