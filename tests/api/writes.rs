//! Writing: API keys, roles, validated and versioned mutations, the audit
//! trail, archiving and retry-safe creates — over HTTP, as clients write.

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use entity::enums::KeyRole;
use http_body_util::BodyExt;
use serde_json::{Value as Json, json};
use tower::ServiceExt;

use crate::{
    fixtures::{Fixture, seed_everything},
    helpers::{Backend, TestApp, gid},
};

/// The keys of a test: an admin, an editor of the fixture's commune, an
/// editor of another territory, and a revoked key.
pub(crate) struct Keys {
    pub admin: String,
    pub editor: String,
    pub other_editor: String,
    pub revoked: String,
}

pub(crate) async fn keys(app: &TestApp) -> Keys {
    let db = &app.db.conn;
    let create = |role, territories: &[&str], label: &str| {
        let territories: Vec<String> = territories.iter().map(|t| t.to_string()).collect();
        let label = label.to_owned();
        async move {
            vigie::auth::create_key(db, role, &territories, &label)
                .await
                .unwrap()
                .0
        }
    };
    let keys = Keys {
        admin: create(KeyRole::Admin, &[], "Réseau (admin)").await,
        editor: create(KeyRole::Editor, &["ville-de-test"], "Ville de Test").await,
        other_editor: create(KeyRole::Editor, &["agglomeration-de-test"], "Agglo").await,
        revoked: create(KeyRole::Admin, &[], "Ancienne clé").await,
    };
    let listed = vigie::auth::list_keys(db).await.unwrap();
    let revoked = listed
        .iter()
        .find(|k| k.key.label == "Ancienne clé")
        .unwrap();
    vigie::auth::revoke_key(db, &revoked.key.id.to_string())
        .await
        .unwrap();
    keys
}

pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Json,
}

impl Answer {
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    pub fn data(&self) -> &Json {
        assert!(
            self.body.get("errors").is_none(),
            "request failed: {:#}",
            self.body
        );
        &self.body["data"]
    }
}

pub(crate) async fn post(
    router: &Router,
    key: Option<&str>,
    query: &str,
    variables: Json,
) -> Answer {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/graphql")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap(),
    }
}

const CREATE: &str = "mutation($input: CreateDeploymentInput!, $key: String) {
    createDeployment(input: $input, idempotencyKey: $key) {
        id version title territory { slug }
        domains { nodes { id } } risks { nodes { severity mitigation category { id } } }
    }
}";

const UPDATE: &str = "mutation($input: UpdateDeploymentInput!) {
    updateDeployment(input: $input) { id version title summary status }
}";

const ARCHIVE: &str = "mutation($id: ID!, $v: Int!) {
    archiveDeployment(id: $id, expectedVersion: $v) { id version archivedAt }
}";

const RESTORE: &str = "mutation($id: ID!, $v: Int!) {
    restoreDeployment(id: $id, expectedVersion: $v) { id version archivedAt }
}";

pub(crate) fn new_deployment(f: &Fixture, territory: i64) -> Json {
    json!({
        "territory": gid("Territory", territory),
        "title": "Tri automatique du courrier",
        "summary": "Classe le courrier entrant par service.",
        "status": "PILOT",
        "startMonth": "2025-01",
        "dpiaUrl": "https://example.org/aipd.pdf",
        "domains": [gid("Domain", f.domain)],
        "techniques": [gid("Technique", f.technique)],
        "risks": [{ "category": gid("RiskCategory", f.risk_child), "severity": "HIGH", "mitigation": "Relecture humaine" }],
        "organizations": [{ "organization": gid("Organization", f.organization), "role": "SUPPLIER" }],
    })
}

/// Rows that a refused write must leave alone.
async fn written(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count_rows("deployment").await,
        app.count_rows("audit_event").await,
        app.count_rows("deployment_risk").await,
    )
}

/// A key for the editor of a territory that neither runs nor uses
/// anything of the fixture.
pub(crate) async fn outsider_key(app: &TestApp) -> String {
    let outsider = crate::helpers::put(
        &app.db,
        entity::territory::ActiveModel {
            name: sea_orm::Set("Ville Voisine".into()),
            slug: sea_orm::Set("ville-voisine".into()),
            kind: sea_orm::Set(entity::enums::TerritoryKind::Municipality),
            ..Default::default()
        },
    )
    .await;
    vigie::auth::create_key(
        &app.db.conn,
        KeyRole::Editor,
        std::slice::from_ref(&outsider.slug),
        "Voisine",
    )
    .await
    .unwrap()
    .0
}

/// The version of a deployment or concertation, as clients read it.
async fn version_of(app: &TestApp, id: &str) -> i64 {
    let data = app
        .query(
            "query($id: ID!) { node(id: $id) {
                ... on Deployment { version } ... on Concertation { version } } }",
            json!({ "id": id }),
        )
        .await;
    data["node"]["version"].as_i64().unwrap()
}

on_both_backends! {
    async fn every_mutation_refuses_out_of_scope_callers_and_writes_nothing(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        let target = gid("Deployment", f.deployment);

        // (caller, expected refusal, or None when allowed)
        let callers: [(&str, Option<&str>, Option<&str>); 5] = [
            ("anonymous", None, Some("UNAUTHENTICATED")),
            ("other editor", Some(&keys.other_editor), Some("FORBIDDEN")),
            ("revoked", Some(&keys.revoked), Some("UNAUTHENTICATED")),
            ("editor", Some(&keys.editor), None),
            ("admin", Some(&keys.admin), None),
        ];
        for (who, key, refusal) in callers {
            let version = version_of(&app, &target).await;
            let calls = [
                ("create", CREATE, json!({ "input": new_deployment(&f, f.commune) })),
                ("update", UPDATE, json!({ "input": {
                    "id": target, "expectedVersion": version, "title": format!("Titre par {who}")
                }})),
                ("archive", ARCHIVE, json!({ "id": target, "v": version + 1 })),
                ("restore", RESTORE, json!({ "id": target, "v": version + 2 })),
            ];
            for (mutation, query, variables) in calls {
                let before = written(&app).await;
                let answer = post(&router, key, query, variables).await;
                match refusal {
                    Some(code) => {
                        assert_eq!(answer.code(), Some(code), "{who} {mutation}: {:#}", answer.body);
                        if code == "UNAUTHENTICATED" && key.is_some() {
                            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
                        }
                        assert_eq!(written(&app).await, before, "{who} {mutation} wrote");
                    }
                    None => {
                        answer.data();
                        assert_ne!(written(&app).await, before, "{who} {mutation} wrote nothing");
                    }
                }
            }
        }
        // An editor may not create for a territory that is not its own.
        let before = written(&app).await;
        let answer = post(&router, Some(&keys.editor), CREATE,
            json!({ "input": new_deployment(&f, f.epci) })).await;
        assert_eq!(answer.code(), Some("FORBIDDEN"));
        assert_eq!(written(&app).await, before);
        // …nor move its deployment there.
        let version = version_of(&app, &target).await;
        let answer = post(&router, Some(&keys.editor), UPDATE, json!({ "input": {
            "id": target, "expectedVersion": version, "territory": gid("Territory", f.epci)
        }})).await;
        assert_eq!(answer.code(), Some("FORBIDDEN"));
        assert_eq!(written(&app).await, before);
    }

    async fn a_malformed_or_unknown_key_is_refused_not_anonymous(backend: Backend) {
        let app = TestApp::new(backend).await;
        seed_everything(&app.db).await;
        let router = app.router();
        let read = "{ territories { totalCount } }";
        let anonymous = post(&router, None, read, json!({})).await;
        assert_eq!(anonymous.data()["territories"]["totalCount"], app.count_rows("territory").await);
        for key in ["vigie_0000", ""] {
            let answer = post(&router, Some(key), read, json!({})).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{key:?}");
            assert_eq!(answer.code(), Some("UNAUTHENTICATED"));
        }
    }

    async fn creates_with_links_and_checks_every_field(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        let answer = post(&router, Some(&keys.editor), CREATE,
            json!({ "input": new_deployment(&f, f.commune) })).await;
        let created = &answer.data()["createDeployment"];
        assert_eq!(created["version"], 1);
        assert_eq!(created["territory"]["slug"], "ville-de-test");
        assert_eq!(created["domains"]["nodes"][0]["id"], gid("Domain", f.domain));
        assert_eq!(created["risks"]["nodes"][0]["severity"], "HIGH");
        assert_eq!(created["risks"]["nodes"][0]["mitigation"], "Relecture humaine");

        let mut bad = new_deployment(&f, f.commune);
        bad["title"] = json!("   ");
        bad["startMonth"] = json!("2025-06");
        bad["endMonth"] = json!("2025-02");
        bad["dpiaUrl"] = json!("javascript:alert(1)");
        bad["domains"] = json!([gid("Technique", f.technique)]);
        bad["organizations"] = json!([{ "organization": gid("Organization", 999_999), "role": "FUNDER" }]);
        let before = written(&app).await;
        let answer = post(&router, Some(&keys.editor), CREATE, json!({ "input": bad })).await;
        assert_eq!(answer.code(), Some("BAD_USER_INPUT"), "{:#}", answer.body);
        let fields: Vec<&str> = answer.body["errors"][0]["extensions"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        for field in ["input.title", "input.endMonth", "input.dpiaUrl", "input.domains.0"] {
            assert!(fields.contains(&field), "{field} not reported in {fields:?}");
        }
        assert_eq!(written(&app).await, before);

        // References must exist: checked once the fields are well-formed.
        let mut bad = new_deployment(&f, f.commune);
        bad["organizations"] = json!([{ "organization": gid("Organization", 999_999), "role": "FUNDER" }]);
        let answer = post(&router, Some(&keys.editor), CREATE, json!({ "input": bad })).await;
        assert_eq!(answer.code(), Some("BAD_USER_INPUT"));
        assert_eq!(answer.body["errors"][0]["extensions"]["field"], "input.organizations.0");
        assert_eq!(written(&app).await, before);
    }

    async fn a_stale_version_is_a_conflict_and_racing_writers_cannot_both_win(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        let target = gid("Deployment", f.deployment);
        let version = version_of(&app, &target).await;

        // Eight clients update from the same version at once.
        let mut racers = Vec::new();
        for n in 0..8 {
            let (router, key, target) = (router.clone(), keys.admin.clone(), target.clone());
            racers.push(tokio::spawn(async move {
                post(&router, Some(&key), UPDATE, json!({ "input": {
                    "id": target, "expectedVersion": version, "summary": format!("version {n}")
                }})).await
            }));
        }
        let mut won = Vec::new();
        let mut conflicts = 0;
        for racer in racers {
            let answer = racer.await.unwrap();
            match answer.code() {
                None => won.push(answer.data()["updateDeployment"]["summary"].clone()),
                Some("CONFLICT") => {
                    conflicts += 1;
                    assert_eq!(
                        answer.body["errors"][0]["extensions"]["currentVersion"],
                        version + 1
                    );
                }
                other => panic!("unexpected {other:?}: {:#}", answer.body),
            }
        }
        assert_eq!(won.len(), 1, "exactly one racer wins");
        assert_eq!(conflicts, 7);
        let now = app
            .query("query($id: ID!) { deployment(id: $id) { version summary } }", json!({ "id": target }))
            .await;
        assert_eq!(now["deployment"]["version"], version + 1);
        assert_eq!(now["deployment"]["summary"], won[0]);

        // A retry with the old version is refused, and changes nothing.
        let answer = post(&router, Some(&keys.admin), ARCHIVE, json!({ "id": target, "v": version })).await;
        assert_eq!(answer.code(), Some("CONFLICT"));
        assert_eq!(version_of(&app, &target).await, version + 1);
    }

    async fn every_write_is_in_the_history_with_before_and_after(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        let answer = post(&router, Some(&keys.editor), CREATE,
            json!({ "input": new_deployment(&f, f.commune) })).await;
        let id = answer.data()["createDeployment"]["id"].as_str().unwrap().to_owned();
        post(&router, Some(&keys.editor), UPDATE, json!({ "input": {
            "id": id, "expectedVersion": 1, "status": "PRODUCTION", "summary": null, "risks": []
        }})).await.data();
        post(&router, Some(&keys.admin), ARCHIVE, json!({ "id": id, "v": 2 })).await.data();

        let history = app.query("query($id: ID!) { deployment(id: $id) {
            version history(first: 10) { nodes { action actor version before after } pageInfo { hasNextPage } }
        } }", json!({ "id": id })).await;
        let events = history["deployment"]["history"]["nodes"].as_array().unwrap().clone();
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["ARCHIVE", "UPDATE", "CREATE"]);
        // Anonymous readers see the keys' roles and territories, never
        // their labels (often a person's name); an admin sees the labels.
        let actors: Vec<&str> = events.iter().map(|e| e["actor"].as_str().unwrap()).collect();
        assert_eq!(actors, ["admin", "editor for ville-de-test", "editor for ville-de-test"]);
        let query = "query($id: ID!) { deployment(id: $id) { history(first: 10) { nodes { actor } } } }";
        for (key, expected) in [
            (&keys.admin, ["Réseau (admin)", "Ville de Test", "Ville de Test"]),
            (&keys.editor, ["admin", "editor for ville-de-test", "editor for ville-de-test"]),
        ] {
            let seen = post(&router, Some(key), query, json!({ "id": id })).await;
            let actors: Vec<String> = seen.data()["deployment"]["history"]["nodes"].as_array().unwrap()
                .iter().map(|e| e["actor"].as_str().unwrap().to_owned()).collect();
            assert_eq!(actors, expected);
        }
        let update = &events[1];
        assert_eq!(update["version"], 2);
        assert_eq!(update["before"]["status"], "PILOT");
        assert_eq!(update["after"]["status"], "PRODUCTION");
        assert_eq!(update["before"]["summary"], "Classe le courrier entrant par service.");
        assert_eq!(update["after"]["summary"], Json::Null);
        assert_eq!(update["before"]["risks"].as_array().unwrap().len(), 1);
        assert_eq!(update["after"]["risks"].as_array().unwrap().len(), 0);
        assert_eq!(events[2]["before"], Json::Null);
        // The risk left out was archived, not deleted.
        assert_eq!(app.count_rows("deployment_risk").await, 2);

        // Paging through the history.
        let page = app.query("query($id: ID!) { deployment(id: $id) {
            history(first: 2) { totalCount edges { cursor node { id action } }
              pageInfo { startCursor endCursor hasNextPage hasPreviousPage } }
        } }", json!({ "id": id })).await;
        // A Relay connection: edges with their cursors, page info, and
        // the length of the whole history.
        let history = &page["deployment"]["history"];
        assert_eq!(history["totalCount"], 3);
        let edges = history["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 2);
        for edge in edges {
            assert_eq!(edge["cursor"], edge["node"]["id"]);
        }
        assert_eq!(history["pageInfo"]["startCursor"], edges[0]["cursor"]);
        assert_eq!(history["pageInfo"]["endCursor"], edges[1]["cursor"]);
        assert_eq!(history["pageInfo"]["hasNextPage"], true);
        assert_eq!(history["pageInfo"]["hasPreviousPage"], false);
        let cursor = history["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        let rest = app.query("query($id: ID!, $after: String) { deployment(id: $id) {
            history(first: 2, after: $after) { totalCount nodes { action }
              pageInfo { hasNextPage hasPreviousPage } }
        } }", json!({ "id": id, "after": cursor })).await;
        let rest = &rest["deployment"]["history"];
        assert_eq!(rest["nodes"], json!([{ "action": "CREATE" }]));
        assert_eq!(rest["totalCount"], 3);
        assert_eq!(rest["pageInfo"], json!({ "hasNextPage": false, "hasPreviousPage": true }));

        // All events: admins only.
        let all = "{ auditEvents(first: 100) { nodes { action recordType } } }";
        let answer = post(&router, Some(&keys.admin), all, json!({})).await;
        // The deployment's three, and the creation of the editor's source of
        // contributions.
        let events = answer.data()["auditEvents"]["nodes"].as_array().unwrap().clone();
        assert_eq!(events.iter().filter(|e| e["recordType"] == "Deployment").count(), 3);
        assert_eq!(events.iter().filter(|e| e["recordType"] == "Source").count(), 1);
        assert_eq!(events.len(), 4);
        // In pages of two, newest first, each event once; filtered by type
        // or by the key's label, only those.
        let every = post(&router, Some(&keys.admin), "{ auditEvents(first: 100) { nodes { id actor recordType } } }", json!({})).await;
        let every = every.data()["auditEvents"]["nodes"].as_array().unwrap().clone();
        let mut paged = Vec::new();
        let mut after = Json::Null;
        loop {
            let page = post(&router, Some(&keys.admin), "query($after: String) {
                auditEvents(first: 2, after: $after) { totalCount nodes { id actor recordType }
                  pageInfo { endCursor hasNextPage hasPreviousPage } }
            }", json!({ "after": after })).await;
            let page = &page.data()["auditEvents"];
            assert!(page["nodes"].as_array().unwrap().len() <= 2, "{page}");
            assert_eq!(page["totalCount"], every.len());
            assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
            paged.extend(page["nodes"].as_array().unwrap().iter().cloned());
            if page["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(paged, every);
        let ids: Vec<i64> = every.iter().map(|e| vigie::graphql::engine::id::decode_as(e["id"].as_str().unwrap(), "AuditEvent").unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
        for (argument, field, value) in [("recordType", "recordType", "Deployment"), ("actor", "actor", "Ville de Test")] {
            let filtered = post(&router, Some(&keys.admin), &format!("query($v: String) {{ auditEvents({argument}: $v) {{ totalCount nodes {{ id actor recordType }} }} }}"), json!({ "v": value })).await;
            let want: Vec<&Json> = every.iter().filter(|e| e[field] == value).collect();
            assert!(!want.is_empty(), "no event with {field} {value}");
            assert_eq!(filtered.data()["auditEvents"]["totalCount"], want.len());
            assert_eq!(filtered.data()["auditEvents"]["nodes"].as_array().unwrap().iter().collect::<Vec<_>>(), want);
        }
        let answer = post(&router, Some(&keys.editor), all, json!({})).await;
        assert_eq!(answer.code(), Some("FORBIDDEN"));
        let answer = post(&router, None, all, json!({})).await;
        assert_eq!(answer.code(), Some("UNAUTHENTICATED"));
    }

    async fn archived_records_leave_lists_and_search_until_restored(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        let target = gid("Deployment", f.deployment);
        let version = version_of(&app, &target).await;
        let lists = "query($t: ID!) {
            deployments { totalCount nodes { id } }
            all: deployments(includeArchived: true) { totalCount }
            territory(id: $t) { deployments { totalCount } }
            search(query: \"conversationnel\") { totalCount }
            deployment(id: $t2) { archivedAt }
        }".replace("$t2", &format!("\"{target}\""));
        let seen = |data: &Json| {
            (
                data["deployments"]["totalCount"].as_i64().unwrap(),
                data["all"]["totalCount"].as_i64().unwrap(),
                data["territory"]["deployments"]["totalCount"].as_i64().unwrap(),
                data["search"]["totalCount"].as_i64().unwrap() as usize,
                data["deployment"]["archivedAt"].is_null(),
            )
        };
        let vars = json!({ "t": gid("Territory", f.commune) });
        let before = seen(&app.query(&lists, vars.clone()).await);
        assert_eq!(before, (1, 1, 1, 1, true));
        post(&router, Some(&keys.editor), ARCHIVE, json!({ "id": target, "v": version })).await.data();
        assert_eq!(seen(&app.query(&lists, vars.clone()).await), (0, 1, 0, 0, false));
        assert_eq!(app.count_rows("deployment").await, 1, "archiving deletes nothing");
        // Archiving twice is refused, with the reason.
        let again = post(&router, Some(&keys.editor), ARCHIVE, json!({ "id": target, "v": version + 1 })).await;
        assert_eq!(again.code(), Some("BAD_USER_INPUT"));
        post(&router, Some(&keys.editor), RESTORE, json!({ "id": target, "v": version + 1 })).await.data();
        assert_eq!(seen(&app.query(&lists, vars).await), before);
    }

    async fn a_retried_create_returns_the_first_result(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        let variables = json!({ "input": new_deployment(&f, f.commune), "key": "courrier-2025-01" });
        let before = app.count_rows("deployment").await;
        // Four copies of one request at once, then a late retry.
        let mut retries = Vec::new();
        for _ in 0..4 {
            let (router, key, variables) = (router.clone(), keys.editor.clone(), variables.clone());
            retries.push(tokio::spawn(async move {
                post(&router, Some(&key), CREATE, variables).await
            }));
        }
        let mut ids = Vec::new();
        for retry in retries {
            ids.push(retry.await.unwrap().data()["createDeployment"]["id"].clone());
        }
        ids.push(post(&router, Some(&keys.editor), CREATE, variables).await.data()["createDeployment"]["id"].clone());
        ids.dedup();
        assert_eq!(ids.len(), 1, "every retry answers the same deployment");
        assert_eq!(app.count_rows("deployment").await, before + 1);
        // Without a key, each request creates.
        let plain = json!({ "input": new_deployment(&f, f.commune) });
        post(&router, Some(&keys.editor), CREATE, plain).await.data();
        assert_eq!(app.count_rows("deployment").await, before + 2);
    }

    async fn concertations_are_written_by_the_territories_that_run_them(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let outsider_key = outsider_key(&app).await;
        let router = app.router();
        let target = gid("Concertation", f.concertation);
        let update = "mutation($input: UpdateConcertationInput!) {
            updateConcertation(input: $input) { version participantCount formats publics coOrganizers { nodes { slug } } }
        }";

        // The co-organiser (the agglomeration) may change it; a neighbour may not.
        let v = version_of(&app, &target).await;
        let input = json!({ "input": { "id": target, "expectedVersion": v, "participantCount": 120,
            "formats": ["WORKSHOP", "SURVEY", "WORKSHOP"], "publics": ["YOUTH"] } });
        let refused = post(&router, Some(&outsider_key), update, input.clone()).await;
        assert_eq!(refused.code(), Some("FORBIDDEN"));
        assert_eq!(version_of(&app, &target).await, v);
        let done = post(&router, Some(&keys.other_editor), update, input).await;
        let changed = &done.data()["updateConcertation"];
        assert_eq!(changed["version"], v + 1);
        assert_eq!(changed["participantCount"], 120);
        assert_eq!(changed["formats"], json!(["WORKSHOP", "SURVEY"]));
        assert_eq!(changed["publics"], json!(["YOUTH"]));
        assert_eq!(changed["coOrganizers"]["nodes"], json!([{ "slug": "agglomeration-de-test" }]));

        // Field checks.
        let bad = json!({ "input": { "id": target, "expectedVersion": v + 1, "participantCount": -3,
            "startDate": "2025-05-02", "endDate": "2025-05-01", "reportUrl": "ftp://x" } });
        let answer = post(&router, Some(&keys.editor), update, bad).await;
        assert_eq!(answer.code(), Some("BAD_USER_INPUT"));
        let fields: Vec<&str> = answer.body["errors"][0]["extensions"]["fields"].as_array().unwrap()
            .iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["input.reportUrl", "input.endDate", "input.participantCount"]);

        // Creating: only for a territory of the key, which then leads it.
        let create = "mutation($input: CreateConcertationInput!) {
            createConcertation(input: $input) { id version territory { slug } coOrganizers { totalCount } }
        }";
        let input = |territory: i64| json!({ "input": {
            "territory": gid("Territory", territory), "title": "Atelier IA et accueil",
            "status": "PLANNED", "coOrganizers": [gid("Territory", f.epci)], "formats": ["WORKSHOP"] } });
        let refused = post(&router, Some(&outsider_key), create, input(f.commune)).await;
        assert_eq!(refused.code(), Some("FORBIDDEN"));
        let created = post(&router, Some(&keys.editor), create, input(f.commune)).await;
        let created = created.data()["createConcertation"].clone();
        assert_eq!(created["territory"]["slug"], "ville-de-test");
        assert_eq!(created["coOrganizers"]["totalCount"], 1);

        // Archived, then restored, with the history of all of it.
        let id = created["id"].as_str().unwrap();
        let archive = "mutation($id: ID!, $v: Int!) { archiveConcertation(id: $id, expectedVersion: $v) { version } }";
        let restore = "mutation($id: ID!, $v: Int!) { restoreConcertation(id: $id, expectedVersion: $v) { version } }";
        post(&router, Some(&keys.editor), archive, json!({ "id": id, "v": 1 })).await.data();
        let listed = app.query("{ concertations { totalCount } all: concertations(includeArchived: true) { totalCount } }", json!({})).await;
        assert_eq!((listed["concertations"]["totalCount"].as_i64(), listed["all"]["totalCount"].as_i64()), (Some(1), Some(2)));
        post(&router, Some(&keys.editor), restore, json!({ "id": id, "v": 2 })).await.data();
        let history = app.query("query($id: ID!) { concertation(id: $id) { history { nodes { action } } } }", json!({ "id": id })).await;
        assert_eq!(history["concertation"]["history"]["nodes"],
            json!([{ "action": "RESTORE" }, { "action": "ARCHIVE" }, { "action": "CREATE" }]));
    }

    async fn contributions_are_written_with_their_concertation(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let outsider_key = outsider_key(&app).await;
        let router = app.router();
        let create = "mutation($input: CreateContributionInput!) {
            createContribution(input: $input) { id version kind salience
                riskCategories { nodes { id } } deployments { nodes { id } } }
        }";
        let input = json!({ "input": {
            "concertation": gid("Concertation", f.concertation), "kind": "CONCERN",
            "statement": "Peur d'une décision sans humain", "salience": 4,
            "riskCategories": [gid("RiskCategory", f.risk_child)],
            "deployments": [gid("Deployment", f.deployment)] } });
        let before = app.count_rows("contribution").await;
        let refused = post(&router, Some(&outsider_key), create, input.clone()).await;
        assert_eq!(refused.code(), Some("FORBIDDEN"));
        assert_eq!(app.count_rows("contribution").await, before);
        let created = post(&router, Some(&keys.editor), create, input).await;
        let created = created.data()["createContribution"].clone();
        assert_eq!(created["salience"], 4);
        assert_eq!(created["riskCategories"]["nodes"][0]["id"], gid("RiskCategory", f.risk_child));
        assert_eq!(created["deployments"]["nodes"][0]["id"], gid("Deployment", f.deployment));

        // Programme-level contributions: admins only.
        let programme = json!({ "input": {
            "programme": gid("ConcertationProgramme", f.programme), "kind": "CONCERN",
            "statement": "Crainte commune à tout le programme" } });
        let refused = post(&router, Some(&keys.editor), create, programme.clone()).await;
        assert_eq!(refused.code(), Some("FORBIDDEN"));
        post(&router, Some(&keys.admin), create, programme).await.data();

        // Field checks: one parent, salience 1 to 5.
        let bad = json!({ "input": {
            "concertation": gid("Concertation", f.concertation),
            "programme": gid("ConcertationProgramme", f.programme),
            "kind": "CONCERN", "statement": "x", "salience": 7 } });
        let answer = post(&router, Some(&keys.admin), create, bad).await;
        assert_eq!(answer.code(), Some("BAD_USER_INPUT"));
        let fields: Vec<&str> = answer.body["errors"][0]["extensions"]["fields"].as_array().unwrap()
            .iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["input.concertation", "input.salience"]);

        // The co-organiser updates it; archiving takes it out of its concertation's list.
        let id = created["id"].as_str().unwrap();
        let update = "mutation($input: UpdateContributionInput!) {
            updateContribution(input: $input) { version responseState deployments { totalCount } } }";
        let updated = post(&router, Some(&keys.other_editor), update, json!({ "input": {
            "id": id, "expectedVersion": 1, "responseState": "ADDRESSED", "deployments": [] } })).await;
        assert_eq!(updated.data()["updateContribution"],
            json!({ "version": 2, "responseState": "ADDRESSED", "deployments": { "totalCount": 0 } }));
        let listed = format!(
            "{{ node(id: \"{}\") {{ ... on Concertation {{ contributions {{ totalCount }} }} }} }}",
            gid("Concertation", f.concertation)
        );
        let count = |data: Json| data["node"]["contributions"]["totalCount"].as_i64().unwrap();
        let before = count(app.query(&listed, json!({})).await);
        post(&router, Some(&keys.editor), "mutation($id: ID!) { archiveContribution(id: $id, expectedVersion: 2) { version } }",
            json!({ "id": id })).await.data();
        assert_eq!(count(app.query(&listed, json!({})).await), before - 1);
    }

    async fn concertation_and_contribution_mutations_refuse_out_of_scope_callers(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let outsider = outsider_key(&app).await;
        let router = app.router();
        let concertation = gid("Concertation", f.concertation);
        let contribution = gid("Contribution", f.concern);
        let calls = [
            ("mutation($i: CreateConcertationInput!) { createConcertation(input: $i) { id } }",
             json!({ "i": { "territory": gid("Territory", f.commune), "title": "T", "status": "PLANNED" } })),
            ("mutation($i: UpdateConcertationInput!) { updateConcertation(input: $i) { id } }",
             json!({ "i": { "id": concertation, "expectedVersion": 1, "title": "T" } })),
            ("mutation($id: ID!) { archiveConcertation(id: $id, expectedVersion: 1) { id } }",
             json!({ "id": concertation })),
            ("mutation($i: CreateContributionInput!) { createContribution(input: $i) { id } }",
             json!({ "i": { "concertation": concertation, "kind": "CONCERN", "statement": "S" } })),
            ("mutation($i: UpdateContributionInput!) { updateContribution(input: $i) { id } }",
             json!({ "i": { "id": contribution, "expectedVersion": 1, "statement": "S" } })),
            ("mutation($id: ID!) { archiveContribution(id: $id, expectedVersion: 1) { id } }",
             json!({ "id": contribution })),
        ];
        let tables = ["concertation", "contribution", "audit_event", "concertation_co_organizer"];
        for (who, key, code) in [
            ("anonymous", None, "UNAUTHENTICATED"),
            ("outsider", Some(outsider.as_str()), "FORBIDDEN"),
            ("revoked", Some(keys.revoked.as_str()), "UNAUTHENTICATED"),
        ] {
            for (query, variables) in &calls {
                let mut before = Vec::new();
                for table in tables {
                    before.push(app.count_rows(table).await);
                }
                let answer = post(&router, key, query, variables.clone()).await;
                assert_eq!(answer.code(), Some(code), "{who}: {query}");
                let mut after = Vec::new();
                for table in tables {
                    after.push(app.count_rows(table).await);
                }
                assert_eq!(before, after, "{who} wrote with {query}");
                assert_eq!(version_of(&app, &concertation).await, 1);
            }
        }
    }
}

on_both_backends! {
    /// Every record written through the API has a source: the one its
    /// input names, or one saying who contributed it.
    async fn records_created_through_the_api_carry_a_source(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        const CREATE_SOURCED: &str = "mutation($input: CreateDeploymentInput!) {
            createDeployment(input: $input) { id source { id title publisher document } } }";
        let create = async |key: &str, extra: Json| {
            let mut input = new_deployment(&f, f.commune);
            input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            post(&router, Some(key), CREATE_SOURCED, json!({ "input": input })).await
        };

        // Left out: the editor's contributions, one source for all of them.
        let first = create(&keys.editor, json!({})).await;
        let source = first.data()["createDeployment"]["source"].clone();
        assert_eq!(source["document"], "contributed by editor for ville-de-test", "{source}");
        assert!(source["title"].as_str().unwrap().contains("Ville de Test"), "{source}");
        let second = create(&keys.editor, json!({ "title": "Un autre usage" })).await;
        assert_eq!(second.data()["createDeployment"]["source"]["id"], source["id"]);
        let by_admin = create(&keys.admin, json!({ "title": "Par un admin" })).await;
        assert_eq!(by_admin.data()["createDeployment"]["source"]["document"], "contributed by admin");
        // The source made is in the audit trail, written by the key.
        let made = app.query("query($id: ID!) { node(id: $id) { ... on Source { history { nodes { action actor } } } } }",
            json!({ "id": source["id"] })).await;
        assert_eq!(made["node"]["history"]["nodes"], json!([{ "action": "CREATE", "actor": "editor for ville-de-test" }]));

        // Named: that source.
        let named = create(&keys.editor, json!({ "title": "Sourcé", "source": gid("Source", f.source) })).await;
        assert_eq!(named.data()["createDeployment"]["source"]["id"], gid("Source", f.source));

        // A source that is not one, absent, or archived: refused, naming
        // the field, and nothing written.
        crate::helpers::execute_sql(&app.db.conn, "INSERT INTO source (title, created_at, updated_at, version, archived_at) \
            VALUES ('Ancienne source', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1, '2026-02-01 00:00:00')").await;
        let archived = app.ids("SELECT id FROM source WHERE title = 'Ancienne source'").await[0];
        let before = written(&app).await;
        for bad in [gid("Source", 999_999), gid("Source", archived), gid("Territory", f.commune), "pas un id".to_owned()] {
            let answer = create(&keys.editor, json!({ "source": bad })).await;
            assert_eq!(answer.code(), Some("BAD_USER_INPUT"), "{bad}: {:#}", answer.body);
            let field = &answer.body["errors"][0]["extensions"];
            assert!(field.to_string().contains("input.source"), "{bad}: {field}");
        }
        assert_eq!(written(&app).await, before);
    }
}
