//! The committed `schema.graphql` is the schema the hub serves, and every
//! part of it is documented.

use std::path::Path;

fn committed_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql")
}

#[test]
fn schema_graphql_is_the_schema_the_hub_serves() {
    let sdl = vigie::graphql::sdl();
    let path = committed_path();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &sdl).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != sdl {
        let first_difference = committed
            .lines()
            .zip(sdl.lines())
            .position(|(a, b)| a != b)
            .map_or(committed.lines().count().min(sdl.lines().count()), |i| i)
            + 1;
        panic!(
            "schema.graphql differs from the schema the hub serves (first at line \
             {first_difference}).\nRegenerate it with:\n    cargo run -- print-schema > schema.graphql\n\
             or: UPDATE_SCHEMA=1 cargo test --test api schema"
        );
    }
}

/// Lines that declare something a reader needs described: types, fields,
/// arguments and enum values.
fn declarations(sdl: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = sdl.lines().collect();
    let mut in_block_string = false;
    let mut in_link = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed == "\"\"\"" {
            in_block_string = !in_block_string;
            continue;
        }
        if in_block_string || trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with("extend schema") {
            in_link = true;
        }
        if in_link {
            if trimmed.ends_with(')') {
                in_link = false;
            }
            continue;
        }
        let declares = trimmed.starts_with("type ")
            || trimmed.starts_with("enum ")
            || trimmed.starts_with("interface ")
            || trimmed.starts_with("scalar ")
            || trimmed.starts_with("input ")
            || (line.starts_with('\t')
                && trimmed
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_'));
        if declares {
            out.push((i, trimmed.to_owned()));
        }
    }
    out
}

#[test]
fn every_type_field_argument_and_enum_value_is_documented() {
    let sdl = vigie::graphql::sdl();
    let lines: Vec<&str> = sdl.lines().collect();
    let undocumented: Vec<String> = declarations(&sdl)
        .into_iter()
        .filter(|(i, _)| *i == 0 || !lines[i - 1].trim().ends_with("\"\"\""))
        // The schema's roots, and the federation pieces the library
        // declares (`_service`, `_entities`, `_Service { sdl }`).
        .filter(|(_, decl)| {
            ![
                "query: Query",
                "mutation: Mutation",
                "subscription: Subscription",
                "sdl: String",
            ]
            .contains(&decl.as_str())
                && !decl.starts_with('_')
                && !decl.starts_with("type _")
        })
        .map(|(i, decl)| format!("line {}: {decl}", i + 1))
        .collect();
    assert!(
        undocumented.is_empty(),
        "undocumented schema elements:\n{}",
        undocumented.join("\n")
    );
}

/// Clients see the whole schema in `schema.graphql`, subscriptions
/// included; a gateway reads the federation SDL from `_service`.
#[test]
fn schema_graphql_holds_the_subscriptions_and_the_gateway_its_own_sdl() {
    let sdl = std::fs::read_to_string(committed_path()).unwrap();
    let subscription = sdl
        .split("type Subscription {")
        .nth(1)
        .expect("schema.graphql declares no Subscription type");
    assert!(subscription.contains("recordChanged("), "no recordChanged");
    assert!(
        subscription.contains("): RecordChange!"),
        "recordChanged does not answer RecordChange"
    );
    assert!(
        sdl.contains("subscription: Subscription"),
        "no subscription root"
    );

    let federation = vigie::graphql::federation_sdl();
    assert!(federation.contains("@key(fields: \"id\")"), "no entity key");
    assert!(!federation.contains("type Subscription"));
}

/// The README shows the headline query GraphiQL opens on, word for word,
/// with the default variables.
#[test]
fn the_readme_shows_the_headline_query() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(vigie::server::HEADLINE_QUERY),
        "README.md lacks src/server/headline.graphql"
    );
    let slug = vigie::server::HEADLINE_SLUG;
    assert!(readme.contains(&format!(r#"with `{{"slug": "{slug}"}}`"#)));
}
