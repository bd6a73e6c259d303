//! Parsed documents of recent requests, by their text. Dashboards, widgets
//! and partner apps send the same few queries over and over (with other
//! variables); each is parsed once, and later requests start from a copy.
//!
//! Validated documents, by a hash of what validation reads: the text, the
//! operation's name and the values of the variables the document declares
//! (validation checks those values against their arguments' types, and
//! counts a list's cost from its `first`, `last` and `filter`). A request
//! that matches one validated before, without errors, runs on the schema
//! that validates in `Fast` mode: it still counts the cost and depth
//! against the limits (the same as before, with the same variables), and
//! skips the rules it passed already. Clients asking the same questions of
//! the same territories validate each once.

use std::{
    num::NonZeroUsize,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use async_graphql::{
    Positioned, Request, ServerError, Variables,
    parser::{
        parse_query,
        types::{DocumentOperations, ExecutableDocument, OperationDefinition, OperationType},
    },
};
use lru::LruCache;

/// How many documents are kept: the least recently used goes first.
const KEPT: usize = 128;

/// Longest query text kept, in bytes: longer ones are parsed each time, so
/// that the cache stays small whatever clients send.
const LONGEST: usize = 8 * 1024;

#[derive(Clone)]
pub struct Documents(Arc<Mutex<LruCache<String, ExecutableDocument>>>);

impl Default for Documents {
    fn default() -> Self {
        Documents(Arc::new(Mutex::new(LruCache::new(
            NonZeroUsize::new(KEPT).expect("KEPT is not zero"),
        ))))
    }
}

impl Documents {
    /// Gives `request` its parsed document: a copy of the one kept for its
    /// text, or the one parsed now (and kept), once `check` has passed it
    /// with the request's variables.
    pub fn parse(
        &self,
        request: &mut Request,
        check: impl FnOnce(&ExecutableDocument, &Variables) -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let cacheable = request.query.len() <= LONGEST;
        let kept = if cacheable {
            self.lock().get(&request.query).cloned()
        } else {
            None
        };
        let document = match kept {
            Some(document) => document,
            None => {
                let document = parse_query(&request.query)?;
                if cacheable {
                    self.lock().put(request.query.clone(), document.clone());
                }
                document
            }
        };
        check(&document, &request.variables)?;
        request.set_parsed_query(document);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, ExecutableDocument>> {
        self.0.lock().expect("document cache poisoned")
    }
}

/// How many validated documents are kept unless told otherwise: each is
/// a hash, so 4,096 take about 200 KiB.
pub const DEFAULT_VALIDATED: usize = 4096;

/// The hashes of documents validated without errors (see the module's
/// documentation), the least recently used going first, and how often a
/// request's was found.
#[derive(Clone)]
pub struct Validated(Arc<ValidatedInner>);

struct ValidatedInner {
    kept: Mutex<LruCache<[u8; 32], ()>>,
    found: AtomicU64,
    missed: AtomicU64,
}

impl Validated {
    /// Keeps `kept` hashes; none for 0.
    pub fn new(kept: usize) -> Option<Self> {
        NonZeroUsize::new(kept).map(|kept| {
            Validated(Arc::new(ValidatedInner {
                kept: Mutex::new(LruCache::new(kept)),
                found: AtomicU64::new(0),
                missed: AtomicU64::new(0),
            }))
        })
    }

    /// How many requests were found validated before, and how many were
    /// not.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.0.found.load(Ordering::Relaxed),
            self.0.missed.load(Ordering::Relaxed),
        )
    }

    /// What validating `request` (parsed already) reads, as a hash: its
    /// text, its operation's name, and the values of the variables its
    /// document declares. None for a document too long to keep, or not
    /// parsed.
    pub fn key(request: &mut Request) -> Option<[u8; 32]> {
        use sha2::{Digest, Sha256};
        if request.query.len() > LONGEST {
            return None;
        }
        let mut hash = Sha256::new();
        hash.update(request.query.as_bytes());
        hash.update([0]);
        if let Some(name) = &request.operation_name {
            hash.update([1]);
            hash.update(name.as_bytes());
        }
        hash.update([0]);
        let variables = request.variables.clone();
        for (_, operation) in request.parsed_query().ok()?.operations.iter() {
            for definition in &operation.node.variable_definitions {
                let name = &definition.node.name.node;
                hash.update(name.as_bytes());
                match variables.get(name) {
                    Some(value) => {
                        hash.update([1]);
                        hash.update(serde_json::to_vec(value).ok()?);
                    }
                    None => hash.update([0]),
                }
                hash.update([0]);
            }
        }
        Some(hash.finalize().into())
    }

    /// Whether a document of this hash was validated without errors
    /// (counted).
    pub fn contains(&self, key: &[u8; 32]) -> bool {
        let found = self.lock().get(key).is_some();
        let count = if found { &self.0.found } else { &self.0.missed };
        count.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Notes that a document of this hash was validated without errors.
    pub fn insert(&self, key: [u8; 32]) {
        self.lock().put(key, ());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<[u8; 32], ()>> {
        self.0.kept.lock().expect("validated documents poisoned")
    }
}

/// The operation of a document a request runs: the one named, or the only
/// one.
pub fn operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        _ => None,
    }
}

/// The type of the operation a request runs, if its document parses and
/// designates one operation.
pub fn operation_type(request: &mut async_graphql::Request) -> Option<OperationType> {
    let name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    Some(operation(document, name.as_deref())?.node.ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(_: &ExecutableDocument, _: &Variables) -> Result<(), ServerError> {
        Ok(())
    }

    #[test]
    fn a_document_is_parsed_once_and_copied_after() {
        let documents = Documents::default();
        let mut first = Request::new("{ territories { totalCount } }");
        documents.parse(&mut first, pass).unwrap();
        assert_eq!(documents.lock().len(), 1);

        let mut again = Request::new("{ territories { totalCount } }");
        documents.parse(&mut again, pass).unwrap();
        assert_eq!(documents.lock().len(), 1);
        assert_eq!(
            format!("{:?}", again.parsed_query().unwrap()),
            format!("{:?}", first.parsed_query().unwrap())
        );
    }

    #[test]
    fn errors_and_long_documents_are_not_kept() {
        let documents = Documents::default();
        let mut broken = Request::new("{ territories { ");
        assert!(documents.parse(&mut broken, pass).is_err());
        let long = format!(
            "{{ territories {{ totalCount }} }} #{}",
            "x".repeat(LONGEST)
        );
        let mut long = Request::new(long);
        documents.parse(&mut long, pass).unwrap();
        assert!(long.parsed_query().is_ok());
        assert_eq!(documents.lock().len(), 0);
    }

    fn parsed(query: &str, variables: serde_json::Value) -> Request {
        let mut request = Request::new(query).variables(Variables::from_json(variables));
        Documents::default().parse(&mut request, pass).unwrap();
        request
    }

    #[test]
    fn a_validation_is_known_by_the_text_the_operation_and_the_declared_variables() {
        let query =
            "query A($slug: String!) { territory(slug: $slug) { name } } query B { __typename }";
        let key = |operation: Option<&str>, variables| {
            let mut request = parsed(query, variables);
            request.operation_name = operation.map(str::to_owned);
            Validated::key(&mut request).unwrap()
        };
        let nantes = serde_json::json!({ "slug": "nantes" });
        let first = key(Some("A"), nantes.clone());
        assert_eq!(key(Some("A"), nantes.clone()), first);
        // A variable the document does not declare changes nothing.
        assert_eq!(
            key(
                Some("A"),
                serde_json::json!({ "slug": "nantes", "request": 7 })
            ),
            first
        );
        assert_ne!(key(Some("A"), serde_json::json!({ "slug": "lyon" })), first);
        assert_ne!(key(Some("A"), serde_json::json!({ "slug": 3 })), first);
        assert_ne!(key(Some("A"), serde_json::json!({})), first);
        assert_ne!(key(Some("B"), nantes.clone()), first);
        assert_ne!(key(None, nantes), first);

        let validated = Validated::new(1).unwrap();
        validated.insert(first);
        assert!(validated.contains(&first));
        let other = key(Some("B"), serde_json::json!({}));
        validated.insert(other);
        assert!(!validated.contains(&first), "one kept: the oldest goes");
        assert_eq!(validated.counts(), (1, 1));
        assert!(Validated::new(0).is_none());
        let mut long = parsed(
            &format!("{{ __typename }} #{}", "x".repeat(LONGEST)),
            serde_json::json!({}),
        );
        assert!(Validated::key(&mut long).is_none());
    }

    #[test]
    fn the_least_recently_used_document_goes_first() {
        let documents = Documents::default();
        for n in 0..=KEPT {
            documents
                .parse(
                    &mut Request::new(format!("{{ a{n}: territories {{ totalCount }} }}")),
                    pass,
                )
                .unwrap();
        }
        assert_eq!(documents.lock().len(), KEPT);
        assert!(
            !documents
                .lock()
                .contains("{ a0: territories { totalCount } }")
        );
    }
}
