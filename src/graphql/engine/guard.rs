//! Bounds the work a request may ask for, before any of it is done: the
//! text's nesting before it is parsed, then the parsed document's size once
//! its fragments are expanded (counted, never expanded), its aliases,
//! directives, introspection and input values. Every transport (POST, GET,
//! persisted queries, the WebSocket) runs its documents through here, so a
//! refusal costs the time of reading the document once, never the time
//! limit, and no SQL runs for a refused request.
//!
//! It uses the parsed document types of async-graphql and the hub's error
//! codes; it knows nothing of the domain.

use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, ServerError, Variables,
    parser::types::{Directive, ExecutableDocument, Selection, SelectionSet},
};
use async_graphql_value::{ConstValue, Value};

use crate::error::Code;

/// The bounds on one request. The defaults leave every query of the README,
/// the widget and the dashboards far inside them (see docs/api.md,
/// "Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Deepest nesting of `{`, `[` and `(` in the text, outside strings and
    /// comments: checked before parsing, so that no step after it recurses
    /// deeper than this.
    pub max_nesting: usize,
    /// Deepest nesting of objects and lists in an input value (a filter,
    /// with the variables it uses).
    pub max_input_depth: usize,
    /// Most input values (objects, lists and scalars) in the arguments of
    /// a request, with its variables, counted each time they are used.
    pub max_input_values: u64,
    /// Most fields selected, once fragments are expanded (each alias and
    /// each repeat counts).
    pub max_fields: u64,
    /// Most aliased fields, once fragments are expanded.
    pub max_aliases: u64,
    /// Most times one selection set may select the same field under the
    /// same name (repeats are merged: they only cost).
    pub max_repeats: usize,
    /// Most directives on one field, fragment or operation.
    pub max_directives_per_location: usize,
    /// Most directives in the whole document.
    pub max_directives: usize,
    /// Most fragment definitions in a document.
    pub max_fragments: usize,
    /// Most introspection roots (`__schema`, `__type`), once fragments are
    /// expanded.
    pub max_introspection: u64,
    /// Deepest nesting of introspection lists (`types`, `fields`, `args`…):
    /// the standard introspection query nests three.
    pub max_introspection_lists: u32,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_nesting: 64,
            max_input_depth: 12,
            max_input_values: 4_000,
            max_fields: 1_000,
            max_aliases: 64,
            max_repeats: 10,
            max_directives_per_location: 4,
            max_directives: 50,
            max_fragments: 64,
            max_introspection: 4,
            max_introspection_lists: 3,
        }
    }
}

/// The fields of the introspection types that answer lists.
const INTROSPECTION_LISTS: &[&str] = &[
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];

/// Longest excerpt of a client's text an error message quotes.
pub const EXCERPT_CHARS: usize = 64;

/// The first characters of a client's text, marked when cut.
pub fn excerpt(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// An error refusing a request, with its code.
pub fn error(code: Code, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
    error
}

fn too_complex(message: String) -> ServerError {
    error(Code::QueryTooComplex, message)
}

/// The error of a string holding U+0000, which no database column may
/// hold.
pub fn nul_refused() -> ServerError {
    error(
        Code::BadUserInput,
        "strings may not contain the NUL character (U+0000)".into(),
    )
}

/// Checks the text of a document before it is parsed: how deep its
/// brackets nest, and no NUL character.
pub fn check_text(query: &str, bounds: &Bounds) -> Result<(), ServerError> {
    if query.contains('\0') {
        return Err(nul_refused());
    }
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // A block string ends at the next `"""` not escaped as `\"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > bounds.max_nesting {
                    return Err(too_complex(format!(
                        "the document nests brackets deeper than {} levels",
                        bounds.max_nesting
                    )));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// What a selection set asks for once its fragments are expanded.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    fields: u64,
    aliases: u64,
    introspection: u64,
    input_values: u64,
    /// Deepest nesting of introspection lists.
    lists: u32,
    /// Deepest input value.
    input_depth: usize,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.introspection = self.introspection.saturating_add(other.introspection);
        self.input_values = self.input_values.saturating_add(other.input_values);
        self.lists = self.lists.max(other.lists);
        self.input_depth = self.input_depth.max(other.input_depth);
    }
}

/// The depth and number of values of a variable's value; `Err` when a
/// string in it holds NUL.
fn const_value(value: &ConstValue) -> Result<(usize, u64), ServerError> {
    match value {
        ConstValue::String(s) if s.contains('\0') => Err(nul_refused()),
        ConstValue::List(items) => items.iter().try_fold((1, 1), |(d, n), item| {
            let (depth, values) = const_value(item)?;
            Ok((d.max(depth + 1), n + values))
        }),
        ConstValue::Object(fields) => fields.values().try_fold((1, 1), |(d, n), item| {
            let (depth, values) = const_value(item)?;
            Ok((d.max(depth + 1), n + values))
        }),
        _ => Ok((0, 1)),
    }
}

/// Counts a document's work, fragment by fragment.
struct Counter<'a> {
    document: &'a ExecutableDocument,
    /// Each variable's depth and number of values.
    variables: HashMap<&'a str, (usize, u64)>,
    /// The tally of each fragment counted so far.
    fragments: HashMap<&'a str, Tally>,
    directives: usize,
    bounds: &'a Bounds,
}

impl<'a> Counter<'a> {
    fn input(&self, value: &'a Value, tally: &mut Tally) -> Result<(), ServerError> {
        let (depth, values) = self.value(value)?;
        tally.input_values = tally.input_values.saturating_add(values);
        tally.input_depth = tally.input_depth.max(depth);
        Ok(())
    }

    /// The depth and number of values of an input value, its variables'
    /// included.
    fn value(&self, value: &'a Value) -> Result<(usize, u64), ServerError> {
        let nested = |items: &mut dyn Iterator<Item = &'a Value>| {
            let mut sum = (1usize, 1u64);
            for item in items {
                let (depth, values) = self.value(item)?;
                sum = (sum.0.max(depth + 1), sum.1.saturating_add(values));
            }
            Ok(sum)
        };
        match value {
            Value::Variable(name) => {
                Ok(self.variables.get(name.as_str()).copied().unwrap_or((0, 1)))
            }
            Value::String(s) if s.contains('\0') => Err(nul_refused()),
            Value::List(items) => nested(&mut items.iter()),
            Value::Object(fields) => nested(&mut fields.values()),
            _ => Ok((0, 1)),
        }
    }

    fn directives(
        &mut self,
        directives: &'a [Positioned<Directive>],
        tally: &mut Tally,
    ) -> Result<(), ServerError> {
        if directives.len() > self.bounds.max_directives_per_location {
            return Err(too_complex(format!(
                "a field, fragment or operation may carry at most {} directives",
                self.bounds.max_directives_per_location
            )));
        }
        self.directives += directives.len();
        if self.directives > self.bounds.max_directives {
            return Err(too_complex(format!(
                "a document may carry at most {} directives",
                self.bounds.max_directives
            )));
        }
        for directive in directives {
            for (_, value) in &directive.node.arguments {
                self.input(&value.node, tally)?;
            }
        }
        Ok(())
    }

    /// The tally of a selection set; the fragments it spreads are counted
    /// already (see [`check_document`]'s order).
    fn selection_set(&mut self, set: &'a SelectionSet) -> Result<Tally, ServerError> {
        let mut tally = Tally::default();
        let mut names: HashMap<&str, usize> = HashMap::new();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let times = names.entry(field.response_key().node.as_str()).or_default();
                    *times += 1;
                    if *times > self.bounds.max_repeats {
                        return Err(too_complex(format!(
                            "a selection may name the same field at most {} times",
                            self.bounds.max_repeats
                        )));
                    }
                    tally.fields += 1;
                    if field.alias.is_some() {
                        tally.aliases += 1;
                    }
                    let name = field.name.node.as_str();
                    if name == "__schema" || name == "__type" {
                        tally.introspection += 1;
                    }
                    for (_, value) in &field.arguments {
                        self.input(&value.node, &mut tally)?;
                    }
                    self.directives(&field.directives, &mut tally)?;
                    let mut inner = self.selection_set(&field.selection_set.node)?;
                    if INTROSPECTION_LISTS.contains(&name) {
                        inner.lists += 1;
                    }
                    tally.add(&inner);
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives, &mut tally)?;
                    // A fragment that is not defined counts nothing here;
                    // validation names it.
                    if let Some(spread) =
                        self.fragments.get(spread.node.fragment_name.node.as_str())
                    {
                        tally.add(&spread.clone());
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.directives(&inline.node.directives, &mut tally)?;
                    let inner = self.selection_set(&inline.node.selection_set.node)?;
                    tally.add(&inner);
                }
            }
        }
        Ok(tally)
    }
}

/// The fragments a selection set spreads, directly.
fn spreads<'a>(set: &'a SelectionSet, out: &mut Vec<&'a Name>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => spreads(&field.node.selection_set.node, out),
            Selection::FragmentSpread(spread) => out.push(&spread.node.fragment_name.node),
            Selection::InlineFragment(inline) => spreads(&inline.node.selection_set.node, out),
        }
    }
}

/// The fragments of a document, each after those it spreads; `Err` names a
/// fragment that spreads itself, directly or not.
fn fragment_order(document: &ExecutableDocument) -> Result<Vec<&Name>, ServerError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: HashMap<&Name, Mark> = HashMap::new();
    let mut order = Vec::with_capacity(document.fragments.len());
    for root in document.fragments.keys() {
        if marks.contains_key(root) {
            continue;
        }
        // Each entry: a fragment and the spreads of it still to visit.
        let mut stack: Vec<(&Name, Vec<&Name>)> = Vec::new();
        let open = |name: &Name| {
            let mut out = Vec::new();
            if let Some(fragment) = document.fragments.get(name) {
                spreads(&fragment.node.selection_set.node, &mut out);
            }
            out
        };
        marks.insert(root, Mark::Open);
        let first = open(root);
        stack.push((root, first));
        while let Some((name, pending)) = stack.last_mut() {
            match pending.pop() {
                Some(next) => match marks.get(next) {
                    Some(Mark::Done) => {}
                    Some(Mark::Open) => {
                        return Err(error(
                            Code::ValidationFailed,
                            format!("fragment `{}` spreads itself", excerpt(next, EXCERPT_CHARS)),
                        ));
                    }
                    None if !document.fragments.contains_key(next) => {}
                    None => {
                        let (next, _) = document
                            .fragments
                            .get_key_value(next)
                            .expect("checked just above");
                        marks.insert(next, Mark::Open);
                        let inner = open(next);
                        stack.push((next, inner));
                    }
                },
                None => {
                    let name = *name;
                    marks.insert(name, Mark::Done);
                    order.push(name);
                    stack.pop();
                }
            }
        }
    }
    Ok(order)
}

/// Checks a parsed document, with the variables it is run with, against
/// the bounds: every operation and fragment of it, as validation will
/// visit them all.
pub fn check_document(
    document: &ExecutableDocument,
    variables: &Variables,
    bounds: &Bounds,
) -> Result<(), ServerError> {
    if document.fragments.len() > bounds.max_fragments {
        return Err(too_complex(format!(
            "a document may define at most {} fragments",
            bounds.max_fragments
        )));
    }
    let mut counter = Counter {
        document,
        variables: HashMap::new(),
        fragments: HashMap::new(),
        directives: 0,
        bounds,
    };
    for (name, value) in variables.iter() {
        counter.variables.insert(name.as_str(), const_value(value)?);
    }
    for name in fragment_order(document)? {
        let fragment = &counter.document.fragments[name].node;
        let mut tally = Tally::default();
        counter.directives(&fragment.directives, &mut tally)?;
        tally.add(&counter.selection_set(&fragment.selection_set.node)?);
        counter.fragments.insert(name.as_str(), tally);
    }
    let mut total = Tally::default();
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        counter.directives(&operation.directives, &mut total)?;
        for definition in &operation.variable_definitions {
            counter.directives(&definition.node.directives, &mut total)?;
            if let Some(default) = &definition.node.default_value {
                let (depth, values) = const_value(&default.node)?;
                total.input_depth = total.input_depth.max(depth);
                total.input_values = total.input_values.saturating_add(values);
            }
        }
        total.add(&counter.selection_set(&operation.selection_set.node)?);
    }
    // Unused fragments are visited by validation once each.
    for fragment in counter.fragments.values() {
        total.fields = total.fields.max(fragment.fields);
    }
    let over = |what: &str, bound: u64| {
        too_complex(format!(
            "a request may ask for at most {bound} {what} once its fragments are expanded"
        ))
    };
    if total.fields > bounds.max_fields {
        return Err(over("fields", bounds.max_fields));
    }
    if total.aliases > bounds.max_aliases {
        return Err(over("aliased fields", bounds.max_aliases));
    }
    if total.introspection > bounds.max_introspection {
        return Err(over(
            "introspection fields (`__schema`, `__type`)",
            bounds.max_introspection,
        ));
    }
    if total.lists > bounds.max_introspection_lists {
        return Err(too_complex(format!(
            "introspection lists (`types`, `fields`, `args`…) may nest at most {} deep",
            bounds.max_introspection_lists
        )));
    }
    if total.input_depth > bounds.max_input_depth {
        return Err(too_complex(format!(
            "input values (filters, inputs, their variables) may nest at most {} levels deep",
            bounds.max_input_depth
        )));
    }
    if total.input_values > bounds.max_input_values {
        return Err(over("input values", bounds.max_input_values));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str) -> Result<(), String> {
        let bounds = Bounds::default();
        check_text(query, &bounds).map_err(|e| e.message.clone())?;
        let document = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
        check_document(&document, &Variables::default(), &bounds).map_err(|e| e.message)
    }

    #[test]
    fn the_hubs_own_queries_are_well_inside_the_bounds() {
        let safelist = crate::server::persisted::Safelist::get();
        for operation in safelist.operations() {
            assert_eq!(check(operation.query), Ok(()), "{}", operation.name);
        }
        let introspection = include_str!("../../../tests/api/abuse/introspection.graphql");
        assert_eq!(check(introspection), Ok(()));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_nest() {
        let deep = "[".repeat(100);
        assert_eq!(check(&format!("# {deep}\n{{ __typename }}")), Ok(()));
        assert_eq!(
            check(&format!("{{ territory(slug: \"{deep}\") {{ name }} }}")),
            Ok(())
        );
        assert_eq!(
            check(&format!(
                "{{ territory(slug: \"\"\"{deep}\"\"\") {{ name }} }}"
            )),
            Ok(())
        );
        assert!(check(&format!("{{ a(b: {deep}")).is_err());
    }

    #[test]
    fn fragments_are_counted_once_each_not_expanded() {
        let mut bomb = String::from("query { ...F40 }\nfragment F0 on Query { __typename }\n");
        for n in 1..=40 {
            bomb.push_str(&format!(
                "fragment F{n} on Query {{ ...F{} ...F{} }}\n",
                n - 1,
                n - 1
            ));
        }
        let refused = check(&bomb).unwrap_err();
        assert!(refused.contains("at most 1000 fields"), "{refused}");
        let fine = "query { ...A ...A } fragment A on Query { ...B ...B } fragment B on Query { __typename }";
        assert_eq!(check(fine), Ok(()));
    }

    #[test]
    fn a_fragment_that_spreads_itself_is_named() {
        let refused = check("query { ...A } fragment A on Query { ...B } fragment B on Query { ...C } fragment C on Query { ...A }").unwrap_err();
        assert!(refused.starts_with("fragment `"), "{refused}");
    }

    #[test]
    fn input_values_are_bounded_with_their_variables() {
        let bounds = Bounds::default();
        let document = async_graphql::parser::parse_query(
            "query($f: TerritoryFilter) { territories(filter: { and: [$f] }) { totalCount } }",
        )
        .unwrap();
        let nested = |levels: usize| {
            let mut value = serde_json::json!({ "name": { "eq": "x" } });
            for _ in 0..levels {
                value = serde_json::json!({ "and": [value] });
            }
            Variables::from_json(serde_json::json!({ "f": value }))
        };
        assert!(check_document(&document, &nested(2), &bounds).is_ok());
        let refused = check_document(&document, &nested(5), &bounds).unwrap_err();
        assert!(
            refused.message.contains("nest at most 12"),
            "{}",
            refused.message
        );
        let nul = Variables::from_json(serde_json::json!({ "f": { "name": { "eq": "a\u{0}" } } }));
        let refused = check_document(&document, &nul, &bounds).unwrap_err();
        assert!(refused.message.contains("NUL"));
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("Métropole", 2), "Mé…");
        assert_eq!(excerpt("Nantes", 10), "Nantes");
    }
}
