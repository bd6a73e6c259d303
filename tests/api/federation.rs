//! Apollo Federation v2: Vigie is a subgraph whose territories,
//! deployments, concertations and organizations other graphs can extend.

use serde_json::json;

use crate::{
    fixtures::seed_everything,
    helpers::{Backend, TestApp, codes, gid},
};

on_both_backends! {
    async fn the_service_sdl_declares_the_entity_keys(backend: Backend) {
        let app = TestApp::new(backend).await;
        let data = app.query("{ _service { sdl } }", json!({})).await;
        let sdl = data["_service"]["sdl"].as_str().unwrap();
        for declaration in [
            r#"type Territory implements Node @key(fields: "id") @key(fields: "siren")"#,
            r#"type Deployment implements Node @key(fields: "id")"#,
            r#"type Concertation implements Node @key(fields: "id")"#,
            r#"type Organization implements Node @key(fields: "id")"#,
            "@link(",
        ] {
            assert!(sdl.contains(declaration), "missing {declaration}");
        }
    }

    async fn entities_resolve_by_every_key(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let query = r#"query($r: [_Any!]!) { _entities(representations: $r) {
            __typename
            ... on Territory { id name }
            ... on Deployment { id title }
            ... on Concertation { id title }
            ... on Organization { id name }
        } }"#;
        let representations = json!([
            { "__typename": "Territory", "id": gid("Territory", f.commune) },
            { "__typename": "Territory", "siren": "200000008" },
            { "__typename": "Deployment", "id": gid("Deployment", f.deployment) },
            { "__typename": "Concertation", "id": gid("Concertation", f.concertation) },
            { "__typename": "Organization", "id": gid("Organization", f.organization) },
            { "__typename": "Territory", "siren": "999999999" },
            { "__typename": "Deployment", "id": gid("Deployment", 999_999) },
        ]);
        let data = app.query(query, json!({ "r": representations })).await;
        let entities = data["_entities"].as_array().unwrap();
        assert_eq!(entities[0]["name"], "Ville de Test");
        assert_eq!(entities[1]["id"], gid("Territory", f.epci));
        assert_eq!(entities[2]["title"], "Agent conversationnel d'accueil");
        assert_eq!(entities[3]["title"], "Concertation citoyenne");
        assert_eq!(entities[4]["name"], "Éditeur SAS");
        assert!(entities[5].is_null());
        assert!(entities[6].is_null());

        let errors = app
            .errors(query, json!({ "r": [{ "__typename": "Territory", "id": "garbage" }] }))
            .await;
        assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
    }
}
