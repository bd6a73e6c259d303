//! Every relation of the graph can be followed both ways, and lands on the
//! right records.

use std::collections::BTreeSet;

use serde_json::json;

use crate::{
    fixtures::{Fixture, seed_everything},
    helpers::{Backend, TestApp, gid, node_ids},
};

/// A relation field followed from one record, and the records it must reach.
struct Case {
    on: &'static str,
    id: i64,
    field: &'static str,
    /// `None` for a to-one field, which returns one record (or null).
    list: bool,
    expected: Vec<(&'static str, i64)>,
}

fn many(
    on: &'static str,
    id: i64,
    field: &'static str,
    expected: Vec<(&'static str, i64)>,
) -> Case {
    Case {
        on,
        id,
        field,
        list: true,
        expected,
    }
}

fn one(
    on: &'static str,
    id: i64,
    field: &'static str,
    expected: Option<(&'static str, i64)>,
) -> Case {
    Case {
        on,
        id,
        field,
        list: false,
        expected: expected.into_iter().collect(),
    }
}

fn cases(f: &Fixture) -> Vec<Case> {
    let src = Some(("Source", f.source));
    let s = |on, id| one(on, id, "source", src);
    vec![
        // Territory
        one(
            "Territory",
            f.commune,
            "parent",
            Some(("Territory", f.epci)),
        ),
        one("Territory", f.epci, "parent", None),
        one(
            "Territory",
            f.commune,
            "inDepartment",
            Some(("Territory", f.department)),
        ),
        one("Territory", f.epci, "inDepartment", None),
        one(
            "Territory",
            f.commune,
            "inRegion",
            Some(("Territory", f.region)),
        ),
        one(
            "Territory",
            f.department,
            "inRegion",
            Some(("Territory", f.region)),
        ),
        many(
            "Territory",
            f.commune,
            "groupings",
            vec![("Territory", f.epci)],
        ),
        many(
            "Territory",
            f.epci,
            "members",
            vec![("Territory", f.commune)],
        ),
        many(
            "Territory",
            f.region,
            "departments",
            vec![("Territory", f.department)],
        ),
        many(
            "Territory",
            f.department,
            "communes",
            vec![("Territory", f.commune)],
        ),
        many(
            "Territory",
            f.epci,
            "children",
            vec![("Territory", f.commune)],
        ),
        many(
            "Territory",
            f.commune,
            "deployments",
            vec![("Deployment", f.deployment)],
        ),
        many(
            "Territory",
            f.commune,
            "concertations",
            vec![("Concertation", f.concertation)],
        ),
        many(
            "Territory",
            f.epci,
            "coOrganizedConcertations",
            vec![("Concertation", f.concertation)],
        ),
        many(
            "Territory",
            f.commune,
            "contributions",
            vec![("Contribution", f.concern), ("Contribution", f.proposal)],
        ),
        many(
            "Territory",
            f.commune,
            "concerns",
            vec![("Contribution", f.concern)],
        ),
        many(
            "Territory",
            f.commune,
            "participations",
            vec![("ProgrammeParticipation", f.participation)],
        ),
        many(
            "Territory",
            f.commune,
            "charters",
            vec![("Charter", f.local_charter)],
        ),
        many(
            "Territory",
            f.commune,
            "charterSignatures",
            vec![("CharterSignature", f.territory_signature)],
        ),
        many(
            "Territory",
            f.commune,
            "resources",
            vec![("Resource", f.resource)],
        ),
        many("Territory", f.epci, "events", vec![("Event", f.event)]),
        s("Territory", f.commune),
        // Organization
        many(
            "Organization",
            f.organization,
            "deployments",
            vec![("DeploymentOrganization", f.deployment_organization)],
        ),
        many(
            "Organization",
            f.organization,
            "charterSignatures",
            vec![("CharterSignature", f.organization_signature)],
        ),
        s("Organization", f.organization),
        // Deployment
        one(
            "Deployment",
            f.deployment,
            "territory",
            Some(("Territory", f.commune)),
        ),
        many(
            "Deployment",
            f.deployment,
            "organizations",
            vec![("DeploymentOrganization", f.deployment_organization)],
        ),
        many(
            "Deployment",
            f.deployment,
            "domains",
            vec![("Domain", f.domain)],
        ),
        many(
            "Deployment",
            f.deployment,
            "techniques",
            vec![("Technique", f.technique)],
        ),
        many(
            "Deployment",
            f.deployment,
            "risks",
            vec![("DeploymentRisk", f.deployment_risk)],
        ),
        many(
            "Deployment",
            f.deployment,
            "contributions",
            vec![("Contribution", f.concern), ("Contribution", f.proposal)],
        ),
        many(
            "Deployment",
            f.deployment,
            "concerns",
            vec![("Contribution", f.concern)],
        ),
        s("Deployment", f.deployment),
        one(
            "DeploymentOrganization",
            f.deployment_organization,
            "deployment",
            Some(("Deployment", f.deployment)),
        ),
        one(
            "DeploymentOrganization",
            f.deployment_organization,
            "organization",
            Some(("Organization", f.organization)),
        ),
        s("DeploymentOrganization", f.deployment_organization),
        many(
            "Domain",
            f.domain,
            "deployments",
            vec![("Deployment", f.deployment)],
        ),
        one("Domain", f.domain, "source", None),
        many(
            "Technique",
            f.technique,
            "deployments",
            vec![("Deployment", f.deployment)],
        ),
        one("Technique", f.technique, "source", None),
        // Risks
        one(
            "RiskCategory",
            f.risk_child,
            "parent",
            Some(("RiskCategory", f.risk_root)),
        ),
        many(
            "RiskCategory",
            f.risk_root,
            "children",
            vec![("RiskCategory", f.risk_child)],
        ),
        many(
            "RiskCategory",
            f.risk_child,
            "deploymentRisks",
            vec![("DeploymentRisk", f.deployment_risk)],
        ),
        many(
            "RiskCategory",
            f.risk_child,
            "contributions",
            vec![("Contribution", f.concern)],
        ),
        many(
            "RiskCategory",
            f.risk_child,
            "concerns",
            vec![("Contribution", f.concern)],
        ),
        many(
            "RiskCategory",
            f.risk_root,
            "levers",
            vec![("Lever", f.lever)],
        ),
        many(
            "RiskCategory",
            f.risk_root,
            "findings",
            vec![("StudyFinding", f.finding)],
        ),
        s("RiskCategory", f.risk_root),
        one(
            "DeploymentRisk",
            f.deployment_risk,
            "deployment",
            Some(("Deployment", f.deployment)),
        ),
        one(
            "DeploymentRisk",
            f.deployment_risk,
            "category",
            Some(("RiskCategory", f.risk_child)),
        ),
        s("DeploymentRisk", f.deployment_risk),
        s("Opportunity", f.opportunity),
        many(
            "Lever",
            f.lever,
            "riskCategories",
            vec![("RiskCategory", f.risk_root)],
        ),
        many(
            "Lever",
            f.lever,
            "findings",
            vec![("StudyFinding", f.finding)],
        ),
        s("Lever", f.lever),
        // Concertations
        one(
            "ConcertationProgramme",
            f.programme,
            "axis",
            Some(("Axis", f.axis)),
        ),
        many(
            "ConcertationProgramme",
            f.programme,
            "participations",
            vec![("ProgrammeParticipation", f.participation)],
        ),
        many(
            "ConcertationProgramme",
            f.programme,
            "concertations",
            vec![("Concertation", f.concertation)],
        ),
        many(
            "ConcertationProgramme",
            f.programme,
            "contributions",
            vec![("Contribution", f.programme_concern)],
        ),
        many(
            "ConcertationProgramme",
            f.programme,
            "concerns",
            vec![("Contribution", f.programme_concern)],
        ),
        many(
            "ConcertationProgramme",
            f.programme,
            "charters",
            vec![("Charter", f.charter)],
        ),
        many(
            "ConcertationProgramme",
            f.programme,
            "studies",
            vec![("Study", f.study)],
        ),
        s("ConcertationProgramme", f.programme),
        one(
            "ProgrammeParticipation",
            f.participation,
            "programme",
            Some(("ConcertationProgramme", f.programme)),
        ),
        one(
            "ProgrammeParticipation",
            f.participation,
            "territory",
            Some(("Territory", f.commune)),
        ),
        s("ProgrammeParticipation", f.participation),
        one(
            "Concertation",
            f.concertation,
            "territory",
            Some(("Territory", f.commune)),
        ),
        one(
            "Concertation",
            f.concertation,
            "programme",
            Some(("ConcertationProgramme", f.programme)),
        ),
        many(
            "Concertation",
            f.concertation,
            "coOrganizers",
            vec![("Territory", f.epci)],
        ),
        many(
            "Concertation",
            f.concertation,
            "contributions",
            vec![("Contribution", f.concern), ("Contribution", f.proposal)],
        ),
        many(
            "Concertation",
            f.concertation,
            "concerns",
            vec![("Contribution", f.concern)],
        ),
        many(
            "Concertation",
            f.concertation,
            "charters",
            vec![("Charter", f.local_charter)],
        ),
        many(
            "Concertation",
            f.concertation,
            "findings",
            vec![("StudyFinding", f.finding)],
        ),
        many(
            "Concertation",
            f.concertation,
            "resources",
            vec![("Resource", f.resource)],
        ),
        s("Concertation", f.concertation),
        one(
            "Contribution",
            f.concern,
            "concertation",
            Some(("Concertation", f.concertation)),
        ),
        one("Contribution", f.programme_concern, "concertation", None),
        one(
            "Contribution",
            f.programme_concern,
            "programme",
            Some(("ConcertationProgramme", f.programme)),
        ),
        many(
            "Contribution",
            f.concern,
            "riskCategories",
            vec![("RiskCategory", f.risk_child)],
        ),
        many(
            "Contribution",
            f.concern,
            "deployments",
            vec![("Deployment", f.deployment)],
        ),
        s("Contribution", f.concern),
        // Charters
        one(
            "Charter",
            f.charter,
            "programme",
            Some(("ConcertationProgramme", f.programme)),
        ),
        one(
            "Charter",
            f.local_charter,
            "territory",
            Some(("Territory", f.commune)),
        ),
        one(
            "Charter",
            f.local_charter,
            "concertation",
            Some(("Concertation", f.concertation)),
        ),
        many(
            "Charter",
            f.charter,
            "signatures",
            vec![
                ("CharterSignature", f.territory_signature),
                ("CharterSignature", f.organization_signature),
            ],
        ),
        s("Charter", f.charter),
        one(
            "CharterSignature",
            f.territory_signature,
            "charter",
            Some(("Charter", f.charter)),
        ),
        one(
            "CharterSignature",
            f.territory_signature,
            "territory",
            Some(("Territory", f.commune)),
        ),
        one(
            "CharterSignature",
            f.organization_signature,
            "organization",
            Some(("Organization", f.organization)),
        ),
        s("CharterSignature", f.territory_signature),
        // Studies
        one("Study", f.study, "axis", Some(("Axis", f.axis))),
        one(
            "Study",
            f.study,
            "programme",
            Some(("ConcertationProgramme", f.programme)),
        ),
        many(
            "Study",
            f.study,
            "findings",
            vec![("StudyFinding", f.finding)],
        ),
        s("Study", f.study),
        one("StudyFinding", f.finding, "study", Some(("Study", f.study))),
        many(
            "StudyFinding",
            f.finding,
            "riskCategories",
            vec![("RiskCategory", f.risk_root)],
        ),
        many(
            "StudyFinding",
            f.finding,
            "levers",
            vec![("Lever", f.lever)],
        ),
        many(
            "StudyFinding",
            f.finding,
            "concertations",
            vec![("Concertation", f.concertation)],
        ),
        s("StudyFinding", f.finding),
        // Network
        many("Network", f.network, "axes", vec![("Axis", f.axis)]),
        s("Network", f.network),
        one("Axis", f.axis, "network", Some(("Network", f.network))),
        many(
            "Axis",
            f.axis,
            "programmes",
            vec![("ConcertationProgramme", f.programme)],
        ),
        many("Axis", f.axis, "studies", vec![("Study", f.study)]),
        s("Axis", f.axis),
        // Resources and events
        one(
            "Resource",
            f.resource,
            "territory",
            Some(("Territory", f.commune)),
        ),
        one(
            "Resource",
            f.resource,
            "concertation",
            Some(("Concertation", f.concertation)),
        ),
        s("Resource", f.resource),
        one("Event", f.event, "territory", Some(("Territory", f.epci))),
        s("Event", f.event),
        // Provenance, the other way
        many("Source", f.source, "networks", vec![("Network", f.network)]),
        many("Source", f.source, "axes", vec![("Axis", f.axis)]),
        many(
            "Source",
            f.source,
            "territories",
            vec![("Territory", f.epci), ("Territory", f.commune)],
        ),
        many(
            "Source",
            f.source,
            "organizations",
            vec![("Organization", f.organization)],
        ),
        many(
            "Source",
            f.source,
            "deployments",
            vec![("Deployment", f.deployment)],
        ),
        many(
            "Source",
            f.source,
            "deploymentOrganizations",
            vec![("DeploymentOrganization", f.deployment_organization)],
        ),
        many(
            "Source",
            f.source,
            "deploymentRisks",
            vec![("DeploymentRisk", f.deployment_risk)],
        ),
        many("Source", f.source, "domains", vec![]),
        many("Source", f.source, "techniques", vec![]),
        many(
            "Source",
            f.source,
            "riskCategories",
            vec![
                ("RiskCategory", f.risk_root),
                ("RiskCategory", f.risk_child),
            ],
        ),
        many(
            "Source",
            f.source,
            "programmes",
            vec![("ConcertationProgramme", f.programme)],
        ),
        many(
            "Source",
            f.source,
            "participations",
            vec![("ProgrammeParticipation", f.participation)],
        ),
        many(
            "Source",
            f.source,
            "concertations",
            vec![("Concertation", f.concertation)],
        ),
        many(
            "Source",
            f.source,
            "contributions",
            vec![
                ("Contribution", f.concern),
                ("Contribution", f.proposal),
                ("Contribution", f.programme_concern),
            ],
        ),
        many(
            "Source",
            f.source,
            "opportunities",
            vec![("Opportunity", f.opportunity)],
        ),
        many("Source", f.source, "levers", vec![("Lever", f.lever)]),
        many(
            "Source",
            f.source,
            "charters",
            vec![("Charter", f.charter), ("Charter", f.local_charter)],
        ),
        many(
            "Source",
            f.source,
            "charterSignatures",
            vec![
                ("CharterSignature", f.territory_signature),
                ("CharterSignature", f.organization_signature),
            ],
        ),
        many("Source", f.source, "studies", vec![("Study", f.study)]),
        many(
            "Source",
            f.source,
            "findings",
            vec![("StudyFinding", f.finding)],
        ),
        many(
            "Source",
            f.source,
            "resources",
            vec![("Resource", f.resource)],
        ),
        many("Source", f.source, "events", vec![("Event", f.event)]),
    ]
}

/// The relation fields of every record type, read from the schema itself:
/// fields whose type is a connection or another record.
async fn relation_fields(app: &TestApp) -> BTreeSet<(String, String)> {
    let data = app
        .query(
            r#"{ __schema { types { name interfaces { name }
                 fields { name type { kind name ofType { kind name } } } } } }"#,
            json!({}),
        )
        .await;
    let types = data["__schema"]["types"].as_array().unwrap();
    let nodes: BTreeSet<&str> = types
        .iter()
        .filter(|t| {
            t["interfaces"]
                .as_array()
                .is_some_and(|i| i.iter().any(|i| i["name"] == "Node"))
        })
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut fields = BTreeSet::new();
    for t in types
        .iter()
        .filter(|t| nodes.contains(t["name"].as_str().unwrap()))
    {
        for field in t["fields"].as_array().unwrap() {
            let ty = &field["type"];
            let named = if ty["kind"] == "NON_NULL" {
                &ty["ofType"]
            } else {
                ty
            };
            let name = named["name"].as_str().unwrap_or_default();
            // `history` lists audit events, which tests/api/writes.rs covers.
            let relation =
                (name.ends_with("Connection") && name != "AuditConnection") || nodes.contains(name);
            if relation {
                fields.insert((
                    t["name"].as_str().unwrap().to_owned(),
                    field["name"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    fields
}

on_both_backends! {
    async fn every_relation_is_followed_both_ways_to_the_right_records(backend: Backend) {
        let app = TestApp::new(backend).await;
        let fixture = seed_everything(&app.db).await;
        let cases = cases(&fixture);

        let covered: BTreeSet<(String, String)> =
            cases.iter().map(|c| (c.on.to_owned(), c.field.to_owned())).collect();
        let missing: Vec<_> = relation_fields(&app).await.difference(&covered).cloned().collect();
        assert!(missing.is_empty(), "relations without a case: {missing:?}");

        for case in &cases {
            let id = gid(case.on, case.id);
            let selection = if case.list {
                format!("{}(first: 100) {{ totalCount nodes {{ id }} }}", case.field)
            } else {
                format!("{} {{ id }}", case.field)
            };
            let query = format!(
                "query($id: ID!) {{ node(id: $id) {{ ... on {} {{ {selection} }} }} }}",
                case.on
            );
            let data = app.query(&query, json!({ "id": id })).await;
            let value = &data["node"][case.field];
            let expected: BTreeSet<String> =
                case.expected.iter().map(|(t, id)| gid(t, *id)).collect();
            let found: BTreeSet<String> = if case.list {
                assert_eq!(
                    value["totalCount"].as_u64().unwrap() as usize,
                    case.expected.len(),
                    "{}.{} totalCount",
                    case.on,
                    case.field
                );
                node_ids(value).into_iter().collect()
            } else {
                value["id"].as_str().map(str::to_owned).into_iter().collect()
            };
            assert_eq!(found, expected, "{}.{}", case.on, case.field);
        }
    }

    async fn enum_lists_and_scalars_read_back_as_stored(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let data = app
            .query(
                r#"query($c: ID!, $t: ID!) {
                    c: node(id: $c) { ... on Concertation { formats publics startDate endDate hours participantCount producedLocalCharter status } }
                    t: node(id: $t) { ... on Territory { name slug kind siren population } }
                }"#,
                json!({ "c": gid("Concertation", f.concertation), "t": gid("Territory", f.commune) }),
            )
            .await;
        assert_eq!(
            data["c"],
            json!({
                "formats": ["WORKSHOP", "SURVEY"],
                "publics": ["CITIZENS"],
                "startDate": "2025-01-15",
                "endDate": "2025-03-01",
                "hours": 12.5,
                "participantCount": 120,
                "producedLocalCharter": true,
                "status": "COMPLETED"
            })
        );
        assert_eq!(
            data["t"],
            json!({ "name": "Ville de Test", "slug": "ville-de-test", "kind": "MUNICIPALITY", "siren": "210000006", "population": 12345 })
        );
    }

    async fn records_are_found_by_every_natural_key(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let data = app
            .query(
                r#"{
                  bySlug: territory(slug: "ville-de-test") { id }
                  bySiren: territory(siren: "210000006") { id }
                  org: organization(siren: "300000007") { id }
                  orgSlug: organization(slug: "editeur-sas") { id }
                  risk: riskCategory(key: "OPACITY") { id }
                  domain(key: "CITIZEN_SERVICES") { id }
                  technique(key: "GENERATIVE_TEXT") { id }
                  none: territory(slug: "nowhere") { id }
                }"#,
                json!({}),
            )
            .await;
        assert_eq!(data["bySlug"]["id"], gid("Territory", f.commune));
        assert_eq!(data["bySiren"]["id"], gid("Territory", f.commune));
        assert_eq!(data["org"]["id"], gid("Organization", f.organization));
        assert_eq!(data["orgSlug"]["id"], gid("Organization", f.organization));
        assert_eq!(data["risk"]["id"], gid("RiskCategory", f.risk_root));
        assert_eq!(data["domain"]["id"], gid("Domain", f.domain));
        assert_eq!(data["technique"]["id"], gid("Technique", f.technique));
        assert!(data["none"].is_null());

        let by_id = app
            .query(
                "query($id: ID!) { deployment(id: $id) { title } node(id: $id) { id } }",
                json!({ "id": gid("Deployment", f.deployment) }),
            )
            .await;
        assert_eq!(by_id["deployment"]["title"], "Agent conversationnel d'accueil");
        assert_eq!(by_id["node"]["id"], gid("Deployment", f.deployment));
    }
}
