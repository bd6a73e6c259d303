//! Answers kept for anonymous queries. Dashboards, embedded widgets and
//! partner apps ask the same questions over and over; between two writes
//! the answer cannot change, so the hub keeps it and sends it again instead
//! of computing it again.
//!
//! An answer is kept under the data version read before it was computed
//! (see [`crate::db::data_version`]), and served again only while the
//! version still reads the same: no write has committed since, from this
//! replica, another one, the CLI or direct SQL. Checking costs one
//! primary-key read per anonymous request.
//!
//! Only answers to anonymous requests are kept (with an API key, what a
//! request may see depends on its key), only to queries, and only those
//! without errors. Kept answers take at most the configured number of
//! bytes; the least recently used go first.

use std::{collections::HashMap, sync::Mutex};

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use lru::LruCache;
use sea_orm::{DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::{HasErrors, Media};
use crate::error::{AppError, is_unavailable};

/// Mebibytes of answers kept unless configured otherwise.
pub const DEFAULT_MIB: u32 = 32;

/// What an answer is kept under: a digest of everything the answer depends
/// on besides the data (the media type, the query text, the operation's
/// name and the variables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key([u8; 32]);

impl Key {
    pub fn of(
        media: Media,
        query: &str,
        operation: Option<&str>,
        variables: Option<&serde_json::Value>,
    ) -> Key {
        let mut digest = Sha256::new();
        digest.update([media as u8, u8::from(operation.is_some())]);
        for part in [query, operation.unwrap_or_default()] {
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part);
        }
        if let Some(variables) = variables {
            digest.update(variables.to_string());
        }
        Key(digest.finalize().into())
    }
}

/// A kept answer and the data version it was computed at.
struct Kept {
    version: i64,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Kept {
    /// The bytes it holds, roughly: its body and headers, and the entry.
    fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        self.body.len() + headers + std::mem::size_of::<(Key, Kept)>() + 64
    }
}

struct Store {
    answers: LruCache<Key, Kept>,
    bytes: usize,
}

impl Store {
    fn remove(&mut self, key: &Key) {
        if let Some(kept) = self.answers.pop(key) {
            self.bytes -= kept.size();
        }
    }

    /// Keeps an answer, then forgets the least recently used ones until
    /// the kept ones fit in `budget`. One computed at a later version (by a
    /// request that started after a write this one may not have seen)
    /// stays instead.
    fn put(&mut self, key: Key, kept: Kept, budget: usize) {
        if self
            .answers
            .peek(&key)
            .is_some_and(|newer| newer.version > kept.version)
        {
            return;
        }
        self.remove(&key);
        self.bytes += kept.size();
        self.answers.put(key, kept);
        while self.bytes > budget {
            let Some((_, oldest)) = self.answers.pop_lru() else {
                break;
            };
            self.bytes -= oldest.size();
        }
    }
}

/// The answers kept, within a budget of bytes (0: none kept).
pub struct Answers {
    budget: usize,
    store: Mutex<Store>,
    /// Answers being computed, by key and data version: a request asking
    /// the same question at the same version waits for that answer instead
    /// of computing it again. The sender is dropped when the computation
    /// ends, which wakes the receivers.
    computing: Mutex<HashMap<(Key, i64), watch::Receiver<()>>>,
}

/// What a request whose answer is not kept does.
pub enum Turn<'a> {
    /// Another request computed it meanwhile: the answer to send.
    Kept(Response),
    /// Compute it, then keep it, while holding this: requests asking the
    /// same meanwhile wait for it.
    Lead(Computing<'a>),
    /// Compute it: the request that did could not keep its answer.
    Compute,
}

/// A computation others may be waiting for; they wake when it is dropped.
pub struct Computing<'a> {
    answers: &'a Answers,
    at: (Key, i64),
    _done: watch::Sender<()>,
}

impl Drop for Computing<'_> {
    fn drop(&mut self) {
        // Forgotten first, so that no request waits for it from now on;
        // the sender goes next, and wakes those that were.
        self.answers.computing().remove(&self.at);
    }
}

impl Answers {
    pub fn new(budget: usize) -> Self {
        Answers {
            budget,
            store: Mutex::new(Store {
                answers: LruCache::unbounded(),
                bytes: 0,
            }),
            computing: Mutex::default(),
        }
    }

    fn computing(&self) -> std::sync::MutexGuard<'_, HashMap<(Key, i64), watch::Receiver<()>>> {
        self.computing.lock().expect("computations poisoned")
    }

    /// What a request whose answer was not kept at `version` does: computes
    /// it, or waits for the request computing it already and sends its
    /// answer. Identical questions asked at once (a dashboard's, after a
    /// write dropped the answers kept) are then computed once.
    pub async fn turn(&self, key: Key, version: i64) -> Turn<'_> {
        let mut underway = {
            let mut computing = self.computing();
            match computing.get(&(key, version)) {
                Some(underway) => underway.clone(),
                None => {
                    // Kept between this request's look and now?
                    if let Some(response) = self.get(&key, version) {
                        return Turn::Kept(response);
                    }
                    let (done, underway) = watch::channel(());
                    computing.insert((key, version), underway);
                    return Turn::Lead(Computing {
                        answers: self,
                        at: (key, version),
                        _done: done,
                    });
                }
            }
        };
        // Never sent to: this ends when the sender is dropped.
        let _ = underway.changed().await;
        match self.get(&key, version) {
            Some(response) => Turn::Kept(response),
            None => Turn::Compute,
        }
    }

    /// Whether answers are kept at all.
    pub fn enabled(&self) -> bool {
        self.budget > 0
    }

    /// Largest answer kept: a sixteenth of the budget, so that one answer
    /// never pushes out all the others.
    fn largest(&self) -> usize {
        self.budget / 16
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().expect("answer store poisoned")
    }

    /// The answer kept under `key`, if it was computed at `version`. One
    /// computed at an earlier version is dropped.
    pub fn get(&self, key: &Key, version: i64) -> Option<Response> {
        let mut store = self.lock();
        let kept = store.answers.get(key)?;
        if kept.version != version {
            store.remove(key);
            return None;
        }
        let mut response = Response::new(Body::from(kept.body.clone()));
        *response.status_mut() = kept.status;
        *response.headers_mut() = kept.headers.clone();
        Some(response)
    }

    /// Keeps a successful answer computed at `version`, and gives it back
    /// to be sent. An answer with errors, or too large, is not kept.
    pub async fn keep(&self, key: Key, version: i64, response: Response) -> Response {
        if response.status() != StatusCode::OK || response.extensions().get::<HasErrors>().is_some()
        {
            return response;
        }
        let (parts, body) = response.into_parts();
        let body = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(body) => body,
            Err(err) => {
                tracing::error!(error = %err, "cannot read an answer to keep it");
                return super::internal_error();
            }
        };
        let kept = Kept {
            version,
            status: parts.status,
            headers: parts.headers.clone(),
            body: body.clone(),
        };
        if kept.size() <= self.largest() {
            self.lock().put(key, kept, self.budget);
        }
        Response::from_parts(parts, Body::from(body))
    }

    /// How many answers are kept, and the bytes they take.
    pub fn usage(&self) -> (usize, usize) {
        let store = self.lock();
        (store.answers.len(), store.bytes)
    }
}

/// The data version, read before anything else of a request whose answer
/// may be kept: an answer computed after it is right for as long as the
/// version stays there. `Ok(None)` if it cannot be read for another reason
/// than an unreachable database (logged): the answer is then computed, and
/// not kept. An unreachable database is the error itself: the query would
/// wait for it a second time to fail the same way.
pub async fn version_now(db: &DatabaseConnection) -> Result<Option<i64>, AppError> {
    version_read(crate::db::data_version(db).await)
}

/// The data version as [`version_now`] gives it, from a read made already.
pub fn version_read(read: Result<i64, DbErr>) -> Result<Option<i64>, AppError> {
    match read {
        Ok(version) => Ok(Some(version)),
        Err(err) if is_unavailable(&err) => Err(err.into()),
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the data version; the answer is not kept");
            Ok(None)
        }
    }
}

/// The most bytes of answers kept, from a number of mebibytes.
pub fn budget_of_mib(mib: u32) -> usize {
    usize::try_from(mib)
        .unwrap_or(usize::MAX)
        .saturating_mul(1 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    fn answer(body: &str) -> Response {
        (StatusCode::OK, body.to_owned()).into_response()
    }

    async fn body_of(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn keys_tell_every_part_apart() {
        let vars = serde_json::json!({"slug": "a"});
        let base = Key::of(Media::Json, "{ a }", None, Some(&vars));
        assert_eq!(base, Key::of(Media::Json, "{ a }", None, Some(&vars)));
        let other_vars = serde_json::json!({"slug": "b"});
        for other in [
            Key::of(Media::Csv, "{ a }", None, Some(&vars)),
            Key::of(Media::GraphqlResponseJson, "{ a }", None, Some(&vars)),
            Key::of(Media::Json, "{ b }", None, Some(&vars)),
            Key::of(Media::Json, "{ a }", Some("A"), Some(&vars)),
            Key::of(Media::Json, "{ a }", Some(""), Some(&vars)),
            Key::of(Media::Json, "{ a }", None, Some(&other_vars)),
            Key::of(Media::Json, "{ a }", None, None),
            // The text and the name are delimited by their lengths.
            Key::of(Media::Json, "{ a }A", None, Some(&vars)),
        ] {
            assert_ne!(base, other);
        }
        assert_ne!(
            Key::of(Media::Json, "ab", Some("c"), None),
            Key::of(Media::Json, "a", Some("bc"), None)
        );
    }

    #[tokio::test]
    async fn an_answer_is_served_only_at_its_version() {
        let answers = Answers::new(budget_of_mib(1));
        let key = Key::of(Media::Json, "{ a }", None, None);
        assert!(answers.get(&key, 7).is_none());
        let sent = answers.keep(key, 7, answer("{\"data\":1}")).await;
        assert_eq!(body_of(sent).await, "{\"data\":1}");
        let again = answers.get(&key, 7).expect("kept at version 7");
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(body_of(again).await, "{\"data\":1}");
        // One computed before a write does not replace one computed after.
        answers.keep(key, 6, answer("{\"data\":0}")).await;
        assert_eq!(body_of(answers.get(&key, 7).unwrap()).await, "{\"data\":1}");
        // A write moved the version: the answer is dropped, not served.
        assert!(answers.get(&key, 8).is_none());
        assert_eq!(answers.usage(), (0, 0));
        assert!(answers.get(&key, 7).is_none());
    }

    #[tokio::test]
    async fn those_asking_while_an_answer_is_computed_wait_for_it() {
        let answers = Answers::new(budget_of_mib(1));
        let key = Key::of(Media::Json, "{ a }", None, None);
        let Turn::Lead(computing) = answers.turn(key, 3).await else {
            panic!("the first to ask computes");
        };
        // At another version, another computation.
        assert!(matches!(answers.turn(key, 4).await, Turn::Lead(_)));
        // Kept, then done: the one waiting sends it.
        let (waited, ()) = tokio::join!(answers.turn(key, 3), async {
            tokio::task::yield_now().await;
            answers.keep(key, 3, answer("{\"data\":3}")).await;
            drop(computing);
        });
        let Turn::Kept(response) = waited else {
            panic!("the answer computed meanwhile is sent");
        };
        assert_eq!(body_of(response).await, "{\"data\":3}");
        // A computation that ends without keeping its answer (an error, a
        // request gone): those waiting compute their own.
        let Turn::Lead(computing) = answers.turn(key, 5).await else {
            panic!("nothing kept at version 5");
        };
        let (waited, ()) = tokio::join!(answers.turn(key, 5), async {
            tokio::task::yield_now().await;
            drop(computing);
        });
        assert!(matches!(waited, Turn::Compute));
        assert!(answers.computing().is_empty());
    }

    #[tokio::test]
    async fn failed_answers_are_not_kept() {
        let answers = Answers::new(budget_of_mib(1));
        let key = Key::of(Media::Json, "{ a }", None, None);
        let mut with_errors = answer("{\"errors\":[]}");
        with_errors.extensions_mut().insert(HasErrors);
        answers.keep(key, 1, with_errors).await;
        answers
            .keep(key, 1, (StatusCode::NOT_ACCEPTABLE, "no").into_response())
            .await;
        assert!(answers.get(&key, 1).is_none());
        assert_eq!(answers.usage(), (0, 0));
    }

    #[tokio::test]
    async fn the_budget_holds_and_the_least_recently_used_go_first() {
        let budget = 16 * 1024;
        let answers = Answers::new(budget);
        let body = "x".repeat(500);
        let keys: Vec<Key> = (0..100)
            .map(|n| Key::of(Media::Json, &format!("{{ a{n} }}"), None, None))
            .collect();
        for (n, key) in keys.iter().enumerate() {
            answers.keep(*key, 1, answer(&body)).await;
            // The first stays in use.
            assert!(answers.get(&keys[0], 1).is_some(), "after {n}");
            assert!(answers.usage().1 <= budget);
        }
        let (count, bytes) = answers.usage();
        assert!(count > 1 && count < 100, "{count} answers kept");
        assert!(bytes <= budget);
        assert!(answers.get(&keys[1], 1).is_none());
        assert!(answers.get(&keys[99], 1).is_some());
        // An answer larger than a sixteenth of the budget is sent, not kept.
        let large = "y".repeat(budget / 16 + 1);
        let key = Key::of(Media::Json, "{ large }", None, None);
        assert_eq!(
            body_of(answers.keep(key, 1, answer(&large)).await).await,
            large
        );
        assert!(answers.get(&key, 1).is_none());
    }

    #[test]
    fn no_budget_keeps_nothing() {
        assert!(!Answers::new(budget_of_mib(0)).enabled());
        assert!(Answers::new(budget_of_mib(1)).enabled());
    }
}
