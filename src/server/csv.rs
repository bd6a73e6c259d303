//! CSV answers: a query's first list, one row per item, one column per
//! selected field (dotted paths for nested fields), nested lists joined with
//! " | ". RFC 4180: UTF-8, a header row, CRLF line ends, quotes where needed.

use async_graphql::Value;

use crate::graphql::Selection;

/// How the values of a nested list are joined in one cell.
pub const LIST_SEPARATOR: &str = " | ";

/// A rendered CSV answer.
pub struct Csv {
    pub body: Vec<u8>,
    /// The cursor of the next page, when the query asked `pageInfo` and
    /// there is one.
    pub next_cursor: Option<String>,
}

/// The first list (connection) of an answer, in query order: its selection
/// and its value.
fn first_connection<'a>(
    selection: &'a Selection,
    data: &'a Value,
) -> Option<(&'a Selection, &'a Value)> {
    let Value::Object(map) = data else {
        return None;
    };
    for (key, child) in &selection.fields {
        let Some(value) = map.get(key.as_str()) else {
            continue;
        };
        let Value::Object(object) = value else {
            continue;
        };
        let is_list = ["nodes", "edges"].iter().any(|part| {
            child.get(part).is_some() && matches!(object.get(*part), Some(Value::List(_)))
        });
        if is_list {
            return Some((child, value));
        }
        if let Some(found) = first_connection(child, value) {
            return Some(found);
        }
    }
    None
}

/// The dotted paths of the leaves of a selection, in query order.
fn columns(selection: &Selection, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    for (key, child) in &selection.fields {
        prefix.push(key.clone());
        if child.fields.is_empty() {
            out.push(prefix.clone());
        } else {
            columns(child, prefix, out);
        }
        prefix.pop();
    }
}

fn scalar(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Null => {}
        Value::String(text) => out.push(text.clone()),
        Value::Enum(name) => out.push(name.to_string()),
        Value::Boolean(flag) => out.push(flag.to_string()),
        Value::Number(number) => out.push(number.to_string()),
        Value::List(items) => items.iter().for_each(|item| scalar(item, out)),
        other => out.push(other.to_string()),
    }
}

/// Every value at `path` under `value`, through lists.
fn values(value: &Value, path: &[String], out: &mut Vec<String>) {
    match (value, path.split_first()) {
        (Value::List(items), _) => items.iter().for_each(|item| values(item, path, out)),
        (Value::Object(map), Some((key, rest))) => {
            if let Some(child) = map.get(key.as_str()) {
                values(child, rest, out);
            }
        }
        (value, None) => scalar(value, out),
        _ => {}
    }
}

/// The CSV of an answer's first list; `None` when the answer has no list.
pub fn render(selection: &Selection, data: &Value) -> Option<Csv> {
    let (list, value) = first_connection(selection, data)?;
    let Value::Object(connection) = value else {
        return None;
    };
    let (row_selection, rows): (&Selection, Vec<&Value>) =
        match (list.get("nodes"), connection.get("nodes")) {
            (Some(nodes), Some(Value::List(items))) => (nodes, items.iter().collect()),
            _ => {
                let node = list.get("edges").and_then(|edges| edges.get("node"))?;
                let Some(Value::List(edges)) = connection.get("edges") else {
                    return None;
                };
                let nodes = edges
                    .iter()
                    .filter_map(|edge| match edge {
                        Value::Object(edge) => edge.get("node"),
                        _ => None,
                    })
                    .collect();
                (node, nodes)
            }
        };
    let mut paths = Vec::new();
    columns(row_selection, &mut Vec::new(), &mut paths);

    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let header: Vec<String> = paths.iter().map(|path| path.join(".")).collect();
    // Writing to memory only fails on a broken invariant of the csv crate.
    writer.write_record(&header).expect("CSV to memory");
    for row in rows {
        let record: Vec<String> = paths
            .iter()
            .map(|path| {
                let mut cell = Vec::new();
                values(row, path, &mut cell);
                cell.join(LIST_SEPARATOR)
            })
            .collect();
        writer.write_record(&record).expect("CSV to memory");
    }
    let body = writer.into_inner().expect("CSV to memory");

    let next_cursor = match connection.get("pageInfo") {
        Some(Value::Object(info)) if info.get("hasNextPage") == Some(&Value::Boolean(true)) => {
            match info.get("endCursor") {
                Some(Value::String(cursor)) => Some(cursor.clone()),
                _ => None,
            }
        }
        _ => None,
    };
    Some(Csv { body, next_cursor })
}

#[cfg(test)]
mod tests {
    use async_graphql::{parser::parse_query, value};

    use super::*;

    fn render_query(query: &str, data: Value) -> Option<String> {
        let doc = parse_query(query).unwrap();
        let selection = Selection::of_operation(&doc, None).unwrap();
        render(&selection, &data).map(|csv| String::from_utf8(csv.body).unwrap())
    }

    #[test]
    fn the_first_list_becomes_rows_with_dotted_columns() {
        let csv = render_query(
            "{ territory { name deployments { nodes { title territory { name } risks { nodes { severity } } } } } }",
            value!({ "territory": { "name": "X", "deployments": { "nodes": [
                { "title": "Chatbot, « accueil »", "territory": { "name": "X" }, "risks": { "nodes": [{ "severity": "HIGH" }, { "severity": "LOW" }] } },
                { "title": "Tri \"courrier\"", "territory": { "name": "X" }, "risks": { "nodes": [] } },
            ] } } }),
        )
        .unwrap();
        assert_eq!(
            csv,
            "title,territory.name,risks.nodes.severity\r\n\
             \"Chatbot, « accueil »\",X,HIGH | LOW\r\n\
             \"Tri \"\"courrier\"\"\",X,\r\n"
        );
    }

    #[test]
    fn edges_and_empty_values_are_read_too() {
        let csv = render_query(
            "{ territories { edges { cursor node { name population } } } }",
            value!({ "territories": { "edges": [{ "cursor": "c", "node": { "name": "A", "population": null } }] } }),
        )
        .unwrap();
        assert_eq!(csv, "name,population\r\nA,\r\n");
    }

    #[test]
    fn an_answer_without_a_list_has_no_csv() {
        assert!(
            render_query(
                "{ territory { name } }",
                value!({ "territory": { "name": "A" } })
            )
            .is_none()
        );
        assert!(render_query("{ territory { name } }", value!({ "territory": null })).is_none());
    }
}
