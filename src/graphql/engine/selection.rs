//! The shape of what a query selects, in the order it selects it: response
//! keys (aliases or field names), fragments merged in. Answers are put back
//! in this order — the resolver finishes fields in whatever order their data
//! arrives — and CSV exports take their columns from it.

use std::collections::HashSet;

use async_graphql::{
    Name, Value,
    parser::types::{ExecutableDocument, Selection as Sel, SelectionSet},
};

/// The fields a selection set asks for, by response key, in query order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub fields: Vec<(String, Selection)>,
}

impl Selection {
    /// The selection of the operation a request runs, if the document and
    /// the operation name designate one.
    pub fn of_operation(
        doc: &ExecutableDocument,
        operation_name: Option<&str>,
    ) -> Option<Selection> {
        let operation = super::documents::operation(doc, operation_name)?;
        let mut selection = Selection::default();
        selection.add(doc, &operation.node.selection_set.node, &mut HashSet::new());
        Some(selection)
    }

    /// The selection under a response key.
    pub fn get(&self, key: &str) -> Option<&Selection> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, s)| s)
    }

    fn add(&mut self, doc: &ExecutableDocument, set: &SelectionSet, visiting: &mut HashSet<Name>) {
        for item in &set.items {
            match &item.node {
                Sel::Field(field) => {
                    let field = &field.node;
                    let key = field.response_key().node.to_string();
                    let index = match self.fields.iter().position(|(k, _)| *k == key) {
                        Some(index) => index,
                        None => {
                            self.fields.push((key, Selection::default()));
                            self.fields.len() - 1
                        }
                    };
                    self.fields[index]
                        .1
                        .add(doc, &field.selection_set.node, visiting);
                }
                Sel::InlineFragment(fragment) => {
                    self.add(doc, &fragment.node.selection_set.node, visiting);
                }
                Sel::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // A fragment that spreads itself is refused by
                    // validation; here it is only not followed twice.
                    if let Some(fragment) = doc.fragments.get(name)
                        && visiting.insert(name.clone())
                    {
                        self.add(doc, &fragment.node.selection_set.node, visiting);
                        visiting.remove(name);
                    }
                }
            }
        }
    }

    /// Puts the fields of `value` in the order of this selection.
    pub fn reorder(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                // Where each selected key stands in the answer; fields the
                // selection does not name keep their places after.
                let place = |key: &str| {
                    self.fields
                        .iter()
                        .position(|(k, _)| k == key)
                        .unwrap_or(usize::MAX)
                };
                if !map.keys().map(|key| place(key)).is_sorted() {
                    map.sort_by_cached_key(|key, _| place(key));
                }
                for (key, selection) in &self.fields {
                    if let Some(child) = map.get_mut(key.as_str()) {
                        selection.reorder(child);
                    }
                }
            }
            Value::List(items) => {
                for item in items {
                    self.reorder(item);
                }
            }
            _ => {}
        }
    }
}

/// A GraphQL field's column: `startMonth` → `start_month`.
pub fn snake_case(field: &str) -> String {
    heck::ToSnakeCase::to_snake_case(field)
}

#[cfg(test)]
mod tests {
    use async_graphql::{parser::parse_query, value};

    use super::*;

    #[test]
    fn fragments_merge_in_query_order() {
        let doc = parse_query(
            "query Q { b: territory { ...F name } a: node { ... on Territory { slug } id } } \
             fragment F on Territory { kind slug }",
        )
        .unwrap();
        let selection = Selection::of_operation(&doc, None).unwrap();
        let keys = |s: &Selection| s.fields.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&selection), vec!["b", "a"]);
        assert_eq!(
            keys(selection.get("b").unwrap()),
            vec!["kind", "slug", "name"]
        );
        assert_eq!(keys(selection.get("a").unwrap()), vec!["slug", "id"]);
    }

    #[test]
    fn answers_come_back_in_query_order() {
        let doc = parse_query("{ t { nodes { name id } totalCount } }").unwrap();
        let selection = Selection::of_operation(&doc, None).unwrap();
        let mut data = value!({ "t": { "totalCount": 2, "nodes": [{ "id": 1, "name": "a" }] } });
        selection.reorder(&mut data);
        assert_eq!(
            serde_json::to_string(&data).unwrap(),
            r#"{"t":{"nodes":[{"name":"a","id":1}],"totalCount":2}}"#
        );
    }
}
