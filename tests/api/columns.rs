//! A nested list reads only the columns its selection needs (and NULL for
//! the others): every field of its items must answer as the same record
//! read whole, by `node(id:)`, whether the field is selected alone or with
//! all the others.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::helpers::{Backend, TestApp};

/// The type a field's type names, under its NON_NULL and LIST wrappers.
fn named(mut ty: &Json) -> &Json {
    while ty["name"].is_null() && !ty["ofType"].is_null() {
        ty = &ty["ofType"];
    }
    ty
}

struct Schema {
    /// Type name → its fields, as introspection gives them.
    types: BTreeMap<String, Json>,
    /// Record type → the root field listing it.
    roots: BTreeMap<String, String>,
}

async fn schema(app: &TestApp) -> Schema {
    let wrapped = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";
    let data = app
        .query(
            &format!(
                "{{ __schema {{ queryType {{ name }} types {{ name kind
                   fields {{ name args {{ name type {{ kind }} }} type {{ {wrapped} }} }} }} }} }}"
            ),
            json!({}),
        )
        .await;
    let types: BTreeMap<String, Json> = data["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
        .collect();
    let query_type = data["__schema"]["queryType"]["name"].as_str().unwrap();
    let mut schema = Schema {
        types,
        roots: BTreeMap::new(),
    };
    let mut roots = BTreeMap::new();
    for field in schema.types[query_type]["fields"].as_array().unwrap() {
        let ty = named(&field["type"])["name"].as_str().unwrap_or_default();
        if let Some(record) = schema.listed(ty) {
            roots.insert(record, field["name"].as_str().unwrap().to_owned());
        }
    }
    schema.roots = roots;
    schema
}

impl Schema {
    /// The record type a connection type lists, if `ty` is one.
    fn listed(&self, ty: &str) -> Option<String> {
        let connection = self.types.get(ty)?;
        let nodes = connection["fields"]
            .as_array()?
            .iter()
            .find(|f| f["name"] == "nodes")?;
        Some(named(&nodes["type"])["name"].as_str()?.to_owned())
    }

    /// The fields of a record type that read its own row, each with what
    /// to select under it: scalars and enums as they are, a record or an
    /// object by its `__typename` (null when the link is empty). Lists of
    /// other records and fields needing arguments are left out.
    fn own_fields(&self, ty: &str) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        for field in self.types[ty]["fields"].as_array().unwrap() {
            let name = field["name"].as_str().unwrap();
            let target = named(&field["type"]);
            let target_name = target["name"].as_str().unwrap();
            let needs_args = field["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["type"]["kind"] == "NON_NULL");
            if needs_args || name == "id" || name == "history" || self.listed(target_name).is_some()
            {
                continue;
            }
            let selection = match target["kind"].as_str().unwrap() {
                "SCALAR" | "ENUM" => name.to_owned(),
                _ => format!("{name} {{ __typename }}"),
            };
            fields.push((name.to_owned(), selection));
        }
        fields
    }
}

/// The items of `parent_root { nodes { relation { <path> { … } } } }`, in
/// order, each as an object of its selected fields.
async fn items(
    app: &TestApp,
    root: &str,
    relation: &str,
    edges: bool,
    selection: &str,
) -> Vec<Json> {
    let inner = if edges {
        format!("edges {{ node {{ id {selection} }} }}")
    } else {
        format!("nodes {{ id {selection} }}")
    };
    let query = format!(
        "{{ {root}(first: 50) {{ nodes {{ {relation}(first: 50, includeArchived: true) {{ {inner} }} }} }} }}"
    );
    let data = app.query(&query, json!({})).await;
    let mut found = Vec::new();
    for parent in data[root]["nodes"].as_array().unwrap() {
        let list = &parent[relation];
        if edges {
            for edge in list["edges"].as_array().unwrap() {
                found.push(edge["node"].clone());
            }
        } else {
            found.extend(list["nodes"].as_array().unwrap().iter().cloned());
        }
    }
    found
}

/// The records of `ids`, read whole by `node(id:)`, each as an object of
/// its selected fields, by id.
async fn read_whole(
    app: &TestApp,
    ty: &str,
    ids: &[Json],
    selection: &str,
) -> BTreeMap<String, Json> {
    let mut found = BTreeMap::new();
    for chunk in ids.chunks(50) {
        let aliases: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| format!("n{i}: node(id: {id}) {{ id ... on {ty} {{ {selection} }} }}"))
            .collect();
        let data = app
            .query(&format!("{{ {} }}", aliases.join(" ")), json!({}))
            .await;
        for record in data.as_object().unwrap().values() {
            found.insert(record["id"].as_str().unwrap().to_owned(), record.clone());
        }
    }
    found
}

on_both_backends! {
    async fn nested_items_answer_each_field_as_with_all_selected(backend: Backend) {
        let app = TestApp::with_reference(backend).await;
        let schema = schema(&app).await;
        let mut relations = 0;
        let mut compared = 0;
        for (parent, root) in &schema.roots {
            for field in schema.types[parent]["fields"].as_array().unwrap() {
                let Some(child) = named(&field["type"])["name"]
                    .as_str()
                    .and_then(|ty| schema.listed(ty))
                else {
                    continue;
                };
                let relation = field["name"].as_str().unwrap();
                if relation == "history" {
                    continue;
                }
                relations += 1;
                let fields = schema.own_fields(&child);
                let all: String = fields.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join(" ");
                let nested = items(&app, root, relation, false, &all).await;
                assert_eq!(
                    items(&app, root, relation, true, &all).await,
                    nested,
                    "{parent}.{relation}: edges and nodes differ"
                );
                let ids: Vec<Json> = nested.iter().map(|item| item["id"].clone()).collect();
                let whole = read_whole(&app, &child, &ids, &all).await;
                for (name, selection) in &fields {
                    let alone = items(&app, root, relation, false, selection).await;
                    assert_eq!(alone.len(), nested.len(), "{parent}.{relation}.{name}");
                    for (one, with_all) in alone.iter().zip(&nested) {
                        let record = &whole[with_all["id"].as_str().unwrap()];
                        assert_eq!(one["id"], with_all["id"], "{parent}.{relation}: order differs");
                        for (item, how) in [(one, "alone"), (with_all, "with all fields")] {
                            assert_eq!(
                                item[name.as_str()], record[name.as_str()],
                                "{parent}.{relation}: {child}.{name} {how} differs from the record read whole"
                            );
                        }
                        if !record[name.as_str()].is_null() {
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert!(relations >= 30, "only {relations} nested lists found");
        assert!(compared > 1000, "only {compared} non-empty values compared");
    }
}
