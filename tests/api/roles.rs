//! Who may write what: every mutation of every record type, called by an
//! anonymous client, a revoked key, an editor of another territory, the
//! editor of the record's territory and an admin. Refused calls are
//! UNAUTHENTICATED or FORBIDDEN and write nothing.

use serde_json::{Value as Json, json};

use crate::{
    fixtures::{Fixture, seed_everything},
    helpers::{Backend, TestApp, gid},
    writes::{Keys, keys, new_deployment, outsider_key, post},
};

/// One record type of the matrix.
struct Case {
    /// GraphQL type, as in `createTerritory`.
    name: &'static str,
    table: &'static str,
    /// A record the editor of `owner` writes (an admin-only type: anyone's).
    target: i64,
    /// The key of the editor whose territory the target (and the new
    /// record) belongs to; `None` for admin-only types.
    owner: Option<String>,
    create: Json,
    /// Fields an update changes.
    update: Json,
}

fn cases(f: &Fixture, keys: &Keys) -> Vec<Case> {
    let commune = gid("Territory", f.commune);
    let epci = gid("Territory", f.epci);
    vec![
        Case {
            name: "Territory",
            table: "territory",
            target: f.commune,
            owner: None,
            create: json!({ "name": "Commune Nouvelle", "kind": "MUNICIPALITY", "siren": "217500016" }),
            update: json!({ "notes": "Membre du réseau depuis 2024." }),
        },
        Case {
            name: "Organization",
            table: "organization",
            target: f.organization,
            owner: None,
            create: json!({ "name": "Laboratoire Nouveau", "kind": "LAB" }),
            update: json!({ "description": "Laboratoire de recherche." }),
        },
        Case {
            name: "Deployment",
            table: "deployment",
            target: f.deployment,
            owner: Some(keys.editor.clone()),
            create: new_deployment(f, f.commune),
            update: json!({ "title": "Titre revu" }),
        },
        Case {
            name: "Concertation",
            table: "concertation",
            target: f.concertation,
            owner: Some(keys.editor.clone()),
            create: json!({ "territory": commune, "title": "Atelier citoyen", "status": "PLANNED" }),
            update: json!({ "summary": "Trois ateliers." }),
        },
        Case {
            name: "Contribution",
            table: "contribution",
            target: f.concern,
            owner: Some(keys.editor.clone()),
            create: json!({ "concertation": gid("Concertation", f.concertation),
                            "kind": "CONCERN", "statement": "Qui relit les réponses ?" }),
            update: json!({ "statement": "Qui relit les réponses de l'agent ?" }),
        },
        Case {
            name: "CharterSignature",
            table: "charter_signature",
            target: f.territory_signature,
            owner: Some(keys.editor.clone()),
            create: json!({ "charter": gid("Charter", f.charter), "territory": commune,
                            "signatory": "La maire", "signedOn": "2025-05-12" }),
            update: json!({ "signatory": "Le premier adjoint" }),
        },
        Case {
            name: "Study",
            table: "study",
            target: f.study,
            owner: None,
            create: json!({ "title": "Étude nouvelle", "url": "https://example.org/etude" }),
            update: json!({ "description": "Deuxième vague." }),
        },
        Case {
            name: "StudyFinding",
            table: "study_finding",
            target: f.finding,
            owner: None,
            create: json!({ "study": gid("Study", f.study), "kind": "KEY_LEARNING",
                            "statement": "Les agents veulent être formés.",
                            "concertations": [gid("Concertation", f.concertation)],
                            "levers": [gid("Lever", f.lever)],
                            "riskCategories": [gid("RiskCategory", f.risk_child)] }),
            update: json!({ "metric": "part des agents" }),
        },
        Case {
            name: "Resource",
            table: "resource",
            target: f.resource,
            owner: Some(keys.editor.clone()),
            create: json!({ "title": "Guide de l'atelier", "kind": "GUIDE", "territory": commune }),
            update: json!({ "description": "Pour animer un atelier." }),
        },
        Case {
            name: "Event",
            table: "event",
            target: f.event,
            owner: Some(keys.other_editor.clone()),
            create: json!({ "title": "Rencontre du réseau", "startsOn": "2026-03-02",
                            "endsOn": "2026-03-03", "territory": epci }),
            update: json!({ "location": "Salle du conseil" }),
        },
    ]
}

/// Rows a refused write must leave alone: the type's records, the audit
/// trail and the target's version.
async fn written(app: &TestApp, case: &Case) -> (i64, i64, i64) {
    (
        app.count_rows(case.table).await,
        // The writes to this type (a first create also makes its key's
        // source of contributions).
        app.count_rows(&format!("audit_event WHERE record_type = '{}'", case.name))
            .await,
        version(app, case).await,
    )
}

async fn version(app: &TestApp, case: &Case) -> i64 {
    let query = format!(
        "query($id: ID!) {{ node(id: $id) {{ ... on {} {{ version }} }} }}",
        case.name
    );
    let data = app
        .query(&query, json!({ "id": gid(case.name, case.target) }))
        .await;
    data["node"]["version"].as_i64().unwrap()
}

on_both_backends! {
    async fn every_mutation_of_every_type_refuses_out_of_scope_callers(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let outsider = outsider_key(&app).await;
        let router = app.router();
        let mut allowed_calls = 0;
        let mut refused_calls = 0;
        for case in cases(&f, &keys) {
            let target = gid(case.name, case.target);
            let n = case.name;
            let create = format!(
                "mutation($input: Create{n}Input!) {{ create{n}(input: $input) {{ id version }} }}"
            );
            let update = format!(
                "mutation($input: Update{n}Input!) {{ update{n}(input: $input) {{ id version }} }}"
            );
            let archive = format!(
                "mutation($id: ID!, $v: Int!) {{ archive{n}(id: $id, expectedVersion: $v) {{ version archivedAt }} }}"
            );
            let restore = format!(
                "mutation($id: ID!, $v: Int!) {{ restore{n}(id: $id, expectedVersion: $v) {{ version archivedAt }} }}"
            );
            let owner_refusal = if case.owner.is_some() { None } else { Some("FORBIDDEN") };
            let owner = case.owner.clone().unwrap_or_else(|| keys.editor.clone());
            let callers: [(&str, Option<&str>, Option<&str>); 5] = [
                ("anonymous", None, Some("UNAUTHENTICATED")),
                ("revoked key", Some(&keys.revoked), Some("UNAUTHENTICATED")),
                ("editor of another territory", Some(&outsider), Some("FORBIDDEN")),
                ("editor of the territory", Some(&owner), owner_refusal),
                ("admin", Some(&keys.admin), None),
            ];
            for (who, key, refusal) in callers {
                let v = version(&app, &case).await;
                let mut changes = case.update.clone();
                changes["id"] = json!(target);
                changes["expectedVersion"] = json!(v);
                let calls = [
                    ("create", &create, json!({ "input": case.create })),
                    ("update", &update, json!({ "input": changes })),
                    ("archive", &archive, json!({ "id": target, "v": v + 1 })),
                    ("restore", &restore, json!({ "id": target, "v": v + 2 })),
                ];
                for (mutation, query, variables) in calls {
                    let before = written(&app, &case).await;
                    let answer = post(&router, key, query, variables).await;
                    match refusal {
                        Some(code) => {
                            refused_calls += 1;
                            assert_eq!(answer.code(), Some(code),
                                "{who} {mutation} {n}: {:#}", answer.body);
                            assert_eq!(written(&app, &case).await, before,
                                "{who} {mutation} {n} wrote");
                        }
                        None => {
                            allowed_calls += 1;
                            answer.data();
                            let after = written(&app, &case).await;
                            assert_eq!(after.1, before.1 + 1,
                                "{who} {mutation} {n} left no audit event");
                        }
                    }
                }
            }
        }
        // 10 types × 4 mutations × 5 callers.
        assert_eq!(allowed_calls + refused_calls, 200);
        assert_eq!(refused_calls, 10 * 4 * 3 + 4 * 4);
    }
}

/// A field each type checks, and a value it refuses: blank where the
/// field is required, too long where it is not.
fn wrong_field(name: &str) -> (&'static str, Json) {
    match name {
        "Territory" | "Organization" => ("name", json!(" ")),
        "Contribution" | "StudyFinding" => ("statement", json!(" ")),
        "CharterSignature" => ("signatory", json!("x".repeat(301))),
        _ => ("title", json!(" ")),
    }
}

on_both_backends! {
    async fn field_errors_come_before_scope_checks(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let outsider = outsider_key(&app).await;
        let router = app.router();
        for case in cases(&f, &keys) {
            let n = case.name;
            let (field, wrong) = wrong_field(n);
            let mut create = case.create.clone();
            create[field] = wrong.clone();
            let mut update = case.update.clone();
            update[field] = wrong;
            update["id"] = json!(gid(n, case.target));
            update["expectedVersion"] = json!(version(&app, &case).await);
            let calls = [
                ("create", json!({ "input": create })),
                ("update", json!({ "input": update })),
            ];
            for (mutation, variables) in calls {
                let query = format!(
                    "mutation($input: {M}{n}Input!) {{ {mutation}{n}(input: $input) {{ id }} }}",
                    M = if mutation == "create" { "Create" } else { "Update" },
                );
                let before = written(&app, &case).await;
                let answer = post(&router, Some(&outsider), &query, variables).await;
                assert_eq!(bad_fields(&answer), [format!("input.{field}")],
                    "{mutation} {n}: the field error, not the scope");
                assert_eq!(written(&app, &case).await, before, "{mutation} {n} wrote");
                // With the field right, the same caller is out of scope.
                let right = post(&router, Some(&outsider), &query,
                    json!({ "input": if mutation == "create" { case.create.clone() } else {
                        let mut update = case.update.clone();
                        update["id"] = json!(gid(n, case.target));
                        update["expectedVersion"] = json!(version(&app, &case).await);
                        update
                    } })).await;
                assert_eq!(right.code(), Some("FORBIDDEN"), "{mutation} {n}: {:#}", right.body);
            }
        }
    }
}

/// The `extensions.fields[].field` of a BAD_USER_INPUT answer.
fn bad_fields(answer: &crate::writes::Answer) -> Vec<String> {
    assert_eq!(answer.code(), Some("BAD_USER_INPUT"), "{:#}", answer.body);
    answer.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_else(|| {
            vec![
                answer.body["errors"][0]["extensions"]["field"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ]
        })
}

on_both_backends! {
    async fn curated_records_check_their_fields_and_stay_in_scope(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let keys = keys(&app).await;
        let router = app.router();
        let admin = Some(keys.admin.as_str());
        let audited = "audit_event WHERE record_type <> 'Source'";
        let audit = app.count_rows(audited).await;

        // Territories: SIREN with its Luhn key, a name, a free slug.
        let create_territory = "mutation($input: CreateTerritoryInput!) {
            createTerritory(input: $input) { id slug siren version } }";
        let answer = post(&router, admin, create_territory, json!({ "input": {
            "name": " ", "kind": "MUNICIPALITY", "siren": "217500017", "website": "ftp://x.fr",
            "inseeCode": "7505" } })).await;
        let fields = bad_fields(&answer);
        for field in ["input.name", "input.siren", "input.website", "input.inseeCode"] {
            assert!(fields.iter().any(|f| f == field), "{field} not in {fields:?}");
        }
        let answer = post(&router, admin, create_territory, json!({ "input": {
            "name": "Ville de Test", "kind": "MUNICIPALITY" } })).await;
        assert_eq!(bad_fields(&answer), ["input.slug"], "the slug made from the name is taken");
        let answer = post(&router, admin, create_territory, json!({ "input": {
            "name": "Ville de Test", "slug": "ville-de-test-2", "kind": "MUNICIPALITY",
            "siren": "217500016", "inseeCode": "2A004", "parent": gid("Territory", f.epci) } })).await;
        let created = answer.data()["createTerritory"].clone();
        assert_eq!(created["slug"], "ville-de-test-2");
        assert_eq!(created["version"], 1);
        let answer = post(&router, admin, create_territory, json!({ "input": {
            "name": "Autre", "kind": "MUNICIPALITY", "siren": "217500016" } })).await;
        assert_eq!(bad_fields(&answer), ["input.siren"], "a SIREN belongs to one territory");
        let answer = post(&router, admin,
            "mutation($input: UpdateTerritoryInput!) { updateTerritory(input: $input) { id } }",
            json!({ "input": { "id": created["id"], "expectedVersion": 1, "parent": created["id"] } })).await;
        assert_eq!(bad_fields(&answer), ["input.parent"]);

        // Events: dates in order; an editor cannot move its event away.
        let create_event = "mutation($input: CreateEventInput!) { createEvent(input: $input) { id version } }";
        let answer = post(&router, Some(&keys.other_editor), create_event, json!({ "input": {
            "title": "Atelier", "startsOn": "2026-03-05", "endsOn": "2026-03-01",
            "territory": gid("Territory", f.epci) } })).await;
        assert_eq!(bad_fields(&answer), ["input.endsOn"]);
        let event = gid("Event", f.event);
        let answer = post(&router, Some(&keys.other_editor),
            "mutation($input: UpdateEventInput!) { updateEvent(input: $input) { id } }",
            json!({ "input": { "id": event, "expectedVersion": 1,
                               "territory": gid("Territory", f.commune) } })).await;
        assert_eq!(answer.code(), Some("FORBIDDEN"), "{:#}", answer.body);

        // Charter signatures name who signed.
        let answer = post(&router, admin,
            "mutation($input: CreateCharterSignatureInput!) { createCharterSignature(input: $input) { id } }",
            json!({ "input": { "charter": gid("Charter", f.charter), "signatory": "X" } })).await;
        assert_eq!(bad_fields(&answer), ["input.territory"]);

        // Findings name live records only; their links are in their history.
        let create_finding = "mutation($input: CreateStudyFindingInput!) {
            createStudyFinding(input: $input) { id version levers { nodes { id } } } }";
        let answer = post(&router, admin, create_finding, json!({ "input": {
            "study": gid("Study", f.study), "kind": "STATISTIC", "statement": "40 %",
            "rank": 0, "levers": [gid("Lever", f.lever), gid("Lever", 999_999)] } })).await;
        assert_eq!(bad_fields(&answer), ["input.rank"]);
        let answer = post(&router, admin, create_finding, json!({ "input": {
            "study": gid("Study", f.study), "kind": "STATISTIC", "statement": "40 %",
            "levers": [gid("Lever", f.lever), gid("Lever", 999_999)] } })).await;
        assert_eq!(bad_fields(&answer), ["input.levers.1"]);
        let answer = post(&router, admin, create_finding, json!({ "input": {
            "study": gid("Study", f.study), "kind": "STATISTIC", "statement": "40 %",
            "levers": [gid("Lever", f.lever)] } })).await;
        let finding = answer.data()["createStudyFinding"].clone();
        assert_eq!(finding["levers"]["nodes"][0]["id"], gid("Lever", f.lever));
        let answer = post(&router, admin,
            "mutation($input: UpdateStudyFindingInput!) { updateStudyFinding(input: $input) {
                version levers { totalCount } history { nodes { action before after } } } }",
            json!({ "input": { "id": finding["id"], "expectedVersion": 1, "levers": [] } })).await;
        let updated = answer.data()["updateStudyFinding"].clone();
        assert_eq!(updated["version"], 2);
        assert_eq!(updated["levers"]["totalCount"], 0);
        let last = &updated["history"]["nodes"][0];
        assert_eq!(last["action"], "UPDATE");
        assert_eq!(last["before"]["levers"], json!([f.lever]));
        assert_eq!(last["after"]["levers"], json!([]));

        // A co-organising territory's editor adds resources to the concertation.
        let answer = post(&router, Some(&keys.other_editor),
            "mutation($input: CreateResourceInput!) { createResource(input: $input) { id concertation { id } } }",
            json!({ "input": { "title": "Synthèse", "kind": "REPORT",
                               "concertation": gid("Concertation", f.concertation) } })).await;
        assert_eq!(answer.data()["createResource"]["concertation"]["id"],
            gid("Concertation", f.concertation));

        // Four writes went through: the territory, the finding and its
        // update, the resource (and the keys' sources of contributions).
        assert_eq!(app.count_rows(audited).await, audit + 4);
    }
}
