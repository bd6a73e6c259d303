//! Parsed documents of recent requests, by their text. Dashboards, widgets
//! and partner apps send the same few queries over and over (with other
//! variables); each is parsed once, and later requests start from a copy.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::{Request, ServerError, parser::types::ExecutableDocument};
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
    /// text, or the one parsed now (and kept).
    pub fn parse(&self, request: &mut Request) -> Result<(), ServerError> {
        let cacheable = request.query.len() <= LONGEST;
        if cacheable && let Some(document) = self.lock().get(&request.query).cloned() {
            request.set_parsed_query(document);
            return Ok(());
        }
        let document = request.parsed_query()?;
        if cacheable {
            let document = document.clone();
            self.lock().put(request.query.clone(), document);
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, ExecutableDocument>> {
        self.0.lock().expect("document cache poisoned")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_parsed_once_and_copied_after() {
        let documents = Documents::default();
        let mut first = Request::new("{ territories { totalCount } }");
        documents.parse(&mut first).unwrap();
        assert_eq!(documents.lock().len(), 1);

        let mut again = Request::new("{ territories { totalCount } }");
        documents.parse(&mut again).unwrap();
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
        assert!(documents.parse(&mut broken).is_err());
        let long = format!(
            "{{ territories {{ totalCount }} }} #{}",
            "x".repeat(LONGEST)
        );
        let mut long = Request::new(long);
        documents.parse(&mut long).unwrap();
        assert!(long.parsed_query().is_ok());
        assert_eq!(documents.lock().len(), 0);
    }

    #[test]
    fn the_least_recently_used_document_goes_first() {
        let documents = Documents::default();
        for n in 0..=KEPT {
            documents
                .parse(&mut Request::new(format!(
                    "{{ a{n}: territories {{ totalCount }} }}"
                )))
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
