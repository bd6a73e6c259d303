//! Public bodies beyond France: a territory's country and its official
//! identifiers in every scheme, written, filtered and grouped.

use serde_json::json;

use crate::{
    fixtures::seed_everything,
    helpers::{Backend, TestApp, execute_sql, gid},
    writes::{keys, post},
};

on_both_backends! {
    async fn territories_have_a_country_and_identifiers_in_every_scheme(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        const CREATE: &str = "mutation($input: CreateTerritoryInput!) {
            createTerritory(input: $input) { id country kind identifiers { scheme value } } }";

        // A Dutch municipality, by an admin; French when no country is given.
        let amsterdam = post(&router, Some(&keys.admin), CREATE, json!({ "input": {
            "name": "Gemeente Amsterdam", "kind": "MUNICIPALITY", "country": "NL" } })).await;
        let amsterdam = amsterdam.data()["createTerritory"].clone();
        assert_eq!(amsterdam["country"], "NL");
        let agency = post(&router, Some(&keys.admin), CREATE, json!({ "input": {
            "name": "Belastingdienst", "kind": "NATIONAL_AGENCY", "country": "NL" } })).await;
        assert_eq!(agency.data()["createTerritory"]["kind"], "NATIONAL_AGENCY");
        let french = post(&router, Some(&keys.admin), CREATE, json!({ "input": {
            "name": "Commune nouvelle", "kind": "MUNICIPALITY", "siren": "200054781", "inseeCode": "75056" } })).await;
        let french = french.data()["createTerritory"].clone();
        assert_eq!(french["country"], "FR");
        assert_eq!(french["identifiers"], json!([{ "scheme": "INSEE", "value": "75056" }, { "scheme": "SIREN", "value": "200054781" }]));

        // Identifiers of other schemes sit beside them, sorted by scheme.
        let id = vigie::graphql::engine::id::decode_as(amsterdam["id"].as_str().unwrap(), "Territory").unwrap();
        execute_sql(&app.db.conn, &format!(
            "INSERT INTO territory_identifier (scheme, value, territory_id) VALUES ('NL-CBS', 'GM0363', {id}), ('WIKIDATA', 'Q9899', {id})")).await;
        let read = app.query("query($id: ID!) { node(id: $id) { ... on Territory { identifiers { scheme value } } } }",
            json!({ "id": amsterdam["id"] })).await;
        assert_eq!(read["node"]["identifiers"], json!([{ "scheme": "NL-CBS", "value": "GM0363" }, { "scheme": "WIKIDATA", "value": "Q9899" }]));

        // Filtered and grouped by country, deployments too.
        let data = app.query(r#"{
            nl: territories(filter: { country: { eq: "NL" } }) { totalCount }
            territories { totalCount groupBy(by: [COUNTRY]) { keys { value } count } }
        }"#, json!({})).await;
        assert_eq!(data["nl"]["totalCount"], 2);
        let groups = data["territories"]["groupBy"].as_array().unwrap();
        let count = |country: &str| groups.iter().find(|g| g["keys"][0]["value"] == country).map(|g| g["count"].clone());
        assert_eq!(count("NL"), Some(json!(2)));
        assert_eq!(count("FR").unwrap().as_i64().unwrap() + 2, data["territories"]["totalCount"].as_i64().unwrap());
        post(&router, Some(&keys.admin), "mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }",
            json!({ "input": { "territory": amsterdam["id"], "title": "Toeslagen", "status": "PRODUCTION" } })).await.data();
        let deployments = app.query(r#"{ deployments { totalCount groupBy(by: [COUNTRY]) { keys { value } count } }
            dutch: deployments(filter: { territory: { country: { eq: "NL" } } }) { nodes { title } } }"#, json!({})).await;
        assert_eq!(deployments["dutch"]["nodes"], json!([{ "title": "Toeslagen" }]));
        let by_country = deployments["deployments"]["groupBy"].as_array().unwrap();
        assert_eq!(by_country.iter().find(|g| g["keys"][0]["value"] == "NL").unwrap()["count"], 1);

        // A country that is not a code is refused, naming the field, and
        // an update may move a territory to another country.
        for bad in ["nl", "NLD", "N1", ""] {
            let answer = post(&router, Some(&keys.admin), CREATE, json!({ "input": {
                "name": "Ailleurs", "kind": "OTHER", "country": bad } })).await;
            assert_eq!(answer.code(), Some("BAD_USER_INPUT"), "{bad}");
            assert!(answer.body["errors"][0]["extensions"].to_string().contains("input.country"), "{bad}");
        }
        let moved = post(&router, Some(&keys.admin), "mutation($input: UpdateTerritoryInput!) { updateTerritory(input: $input) { country } }",
            json!({ "input": { "id": gid("Territory", f.commune), "expectedVersion": 1, "country": "BE" } })).await;
        assert_eq!(moved.data()["updateTerritory"]["country"], "BE");
    }
}

on_both_backends! {
    /// A deployment keeps what registers say of it: its entry in each, with
    /// the register's dates, its legal basis and the language of its texts.
    async fn deployments_keep_their_register_entries_legal_basis_and_language(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        const CREATE: &str = "mutation($input: CreateDeploymentInput!) {
            createDeployment(input: $input) { id version legalBasis language } }";
        let created = post(&router, Some(&keys.editor), CREATE, json!({ "input": {
            "territory": gid("Territory", f.commune), "title": "Toeslagen", "status": "PRODUCTION",
            "legalBasis": "Algemene wet inkomensafhankelijke regelingen, art. 2", "language": "nl" } })).await;
        let created = created.data()["createDeployment"].clone();
        assert_eq!(created["language"], "nl");
        assert_eq!(created["legalBasis"], "Algemene wet inkomensafhankelijke regelingen, art. 2");

        // Its entries in two registers, by register then id, with the
        // registers' own dates.
        let id = vigie::graphql::engine::id::decode_as(created["id"].as_str().unwrap(), "Deployment").unwrap();
        execute_sql(&app.db.conn, &format!(
            "INSERT INTO deployment_register_entry (register, external_id, deployment_id, url, published_on, revised_on) VALUES \
             ('uk-atrs', 'b1c2', {id}, NULL, '2024-02-01', NULL), \
             ('nl-algoritmeregister', '12345678', {id}, 'https://algoritmes.overheid.nl/nl/algoritme/12345678', '2023-05-04', '2024-11-30')")).await;
        let read = app.query("query($id: ID!) { node(id: $id) { ... on Deployment {
            startMonth registerEntries { register externalId url publishedOn revisedOn } } } }", json!({ "id": created["id"] })).await;
        assert_eq!(read["node"]["registerEntries"], json!([
            { "register": "nl-algoritmeregister", "externalId": "12345678",
              "url": "https://algoritmes.overheid.nl/nl/algoritme/12345678", "publishedOn": "2023-05-04", "revisedOn": "2024-11-30" },
            { "register": "uk-atrs", "externalId": "b1c2", "url": null, "publishedOn": "2024-02-01", "revisedOn": null },
        ]));
        // A register's dates are not the use's.
        assert_eq!(read["node"]["startMonth"], serde_json::Value::Null);

        // A language that is not a tag is refused, naming the field; null
        // clears it.
        for bad in ["NL", "nederlands", "n", "nl_NL", "nl-nl"] {
            let answer = post(&router, Some(&keys.editor), CREATE, json!({ "input": {
                "territory": gid("Territory", f.commune), "title": "X", "status": "PILOT", "language": bad } })).await;
            assert_eq!(answer.code(), Some("BAD_USER_INPUT"), "{bad}");
            assert!(answer.body["errors"][0]["extensions"].to_string().contains("input.language"), "{bad}");
        }
        let cleared = post(&router, Some(&keys.editor), "mutation($input: UpdateDeploymentInput!) { updateDeployment(input: $input) { language legalBasis } }",
            json!({ "input": { "id": created["id"], "expectedVersion": 1, "language": null, "legalBasis": null } })).await;
        assert_eq!(cleared.data()["updateDeployment"], json!({ "language": null, "legalBasis": null }));
    }
}
