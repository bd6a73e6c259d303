//! Parsed documents of recent requests, by their text. Dashboards, widgets
//! and partner apps send the same few queries over and over (with other
//! variables); each is parsed once, and later requests start from a copy.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
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
