//! The answers of the hub's own queries on the default data, as snapshots
//! (`tests/api/snapshots/`): the headline query, the widget's and the
//! dashboards' safelisted operations, and a list with its record fields,
//! the moments of writing redacted. A change to any of them shows as a
//! diff to review; `INSTA_UPDATE=always cargo test --test api snapshots`
//! writes the new answers once the change is meant.

use serde_json::{Value as Json, json};
use vigie::server::persisted::Safelist;

use crate::helpers::{Backend, TestApp};

fn safelisted(name: &str) -> &'static str {
    Safelist::get()
        .find(name)
        .expect("a safelisted operation")
        .query
}

on_both_backends! {
    async fn the_default_data_answers_as_recorded(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let slug = json!({ "slug": "nantes-metropole" });
        let answers: Vec<(&str, Json)> = vec![
            ("headline", app.query(vigie::server::HEADLINE_QUERY, slug.clone()).await),
            ("territory_widget", app.query(safelisted("TerritoryWidget"), slug).await),
            (
                "deployments_by_region_and_status",
                app.query(safelisted("DeploymentsByRegionAndStatus"), json!({})).await,
            ),
            (
                "concertations_by_territory",
                app.query(safelisted("ConcertationsByTerritory"), json!({})).await,
            ),
            (
                "first_territories",
                app.query(
                    "{ territories(first: 3, orderBy: [{ field: NAME, direction: ASC }]) {
                        totalCount nodes { id name slug kind region createdAt updatedAt version }
                    } }",
                    json!({}),
                )
                .await,
            ),
        ];
        for (name, answer) in answers {
            insta::assert_json_snapshot!(name, answer, {
                ".**.createdAt" => "[when written]",
                ".**.updatedAt" => "[when written]",
            });
        }
    }
}
