//! Answers kept for anonymous queries. Dashboards, embedded widgets and
//! partner apps ask the same questions over and over; until a write
//! touches what an answer read, it cannot change, so the hub keeps it and
//! sends it again instead of computing it again.
//!
//! An answer is kept with the tags of what it read (see [`crate::tags`]),
//! and dropped when a committed write touches one of them: a write of this
//! replica as soon as it commits, another replica's or the CLI's when its
//! announcement arrives (see [`crate::store::changes`]). Writes this
//! replica cannot hear of one by one drop every answer: on SQLite another
//! process's (seen in the data version, read once per anonymous request),
//! on PostgreSQL those made while it was not listening (answers are then
//! computed and not kept until it listens again). An answer computed while
//! a write that touches it was heard of is not kept.
//!
//! Only answers to anonymous requests are kept (with an API key, what a
//! request may see depends on its key), only to queries, and only those
//! without errors. Kept answers take at most the configured number of
//! bytes; the least recently used go first.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Mutex,
};

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use lru::LruCache;
use sea_orm::DbErr;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::{HasErrors, Media};
use crate::{
    db::DataState,
    error::{AppError, is_unavailable},
    store::changes::Touched,
    tags::{Scope, Tag},
};

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

/// A kept answer and what it read.
struct Kept {
    tags: Box<[Tag]>,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Kept {
    /// The bytes it holds, roughly: its body, headers and tags, and the
    /// entry and its places in the indexes.
    fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        let tags = self.tags.len() * (std::mem::size_of::<Tag>() + 2 * 48);
        self.body.len() + headers + tags + std::mem::size_of::<(Key, Kept)>() + 64
    }
}

/// Writes heard of whose tags are remembered, for answers computed while
/// they were heard of (see [`Answers::keep`]).
const RECENT: usize = 4096;

struct Store {
    answers: LruCache<Key, Kept>,
    bytes: usize,
    /// The answers that read each tag.
    by_tag: HashMap<Tag, HashSet<Key>>,
    /// The answers that read each type, in any scope.
    by_type: HashMap<&'static str, HashSet<Key>>,
    /// How many writes were heard of.
    heard: u64,
    /// What the last ones touched, the latest last.
    recent: VecDeque<Touched>,
    /// On SQLite, the data version of the last writes heard of only by
    /// their version (see [`Touched::Unheard`]).
    unheard: Option<i64>,
}

impl Store {
    fn remove(&mut self, key: &Key) {
        let Some(kept) = self.answers.pop(key) else {
            return;
        };
        self.bytes -= kept.size();
        self.unindex(key, &kept);
    }

    fn unindex(&mut self, key: &Key, kept: &Kept) {
        for tag in &kept.tags {
            for keys in [
                self.by_tag.get_mut(tag),
                self.by_type.get_mut(tag.type_name),
            ]
            .into_iter()
            .flatten()
            {
                keys.remove(key);
            }
            if self.by_tag.get(tag).is_some_and(HashSet::is_empty) {
                self.by_tag.remove(tag);
            }
            if self
                .by_type
                .get(tag.type_name)
                .is_some_and(HashSet::is_empty)
            {
                self.by_type.remove(tag.type_name);
            }
        }
    }

    /// Keeps an answer, then forgets the least recently used ones until
    /// the kept ones fit in `budget`.
    fn put(&mut self, key: Key, kept: Kept, budget: usize) {
        self.remove(&key);
        for tag in &kept.tags {
            self.by_tag.entry(*tag).or_default().insert(key);
            self.by_type.entry(tag.type_name).or_default().insert(key);
        }
        self.bytes += kept.size();
        self.answers.put(key, kept);
        while self.bytes > budget {
            let Some((oldest_key, oldest)) = self.answers.pop_lru() else {
                break;
            };
            self.bytes -= oldest.size();
            self.unindex(&oldest_key, &oldest);
        }
    }

    /// Forgets the answers a write touched, and remembers it.
    fn touched(&mut self, touched: &Touched) {
        match touched {
            Touched::Unheard(version) => {
                if self.unheard == Some(*version) {
                    return;
                }
                self.unheard = Some(*version);
                return self.touched(&Touched::Everything);
            }
            Touched::Everything => {
                self.answers.clear();
                self.by_tag.clear();
                self.by_type.clear();
                self.bytes = 0;
            }
            Touched::Tags(written) => {
                let mut stale = HashSet::new();
                for tag in written {
                    if tag.scope == Scope::All {
                        stale.extend(self.by_type.get(tag.type_name).into_iter().flatten());
                    } else {
                        for read in [Tag::all(tag.type_name), *tag] {
                            stale.extend(self.by_tag.get(&read).into_iter().flatten());
                        }
                    }
                }
                for key in stale {
                    self.remove(&key);
                }
            }
        }
        self.heard += 1;
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(touched.clone());
    }

    /// Whether an answer that read `tags`, computed since `since` writes
    /// were heard of, is still true: no write heard of since touched it.
    fn still_true(&self, since: u64, tags: &[Tag]) -> bool {
        let missed = self.heard - since;
        if missed > self.recent.len() as u64 {
            return false;
        }
        self.recent
            .iter()
            .rev()
            .take(missed as usize)
            .all(|touched| match touched {
                Touched::Everything | Touched::Unheard(_) => false,
                Touched::Tags(written) => !tags
                    .iter()
                    .any(|read| written.iter().any(|w| read.touched_by(w))),
            })
    }
}

/// The answers kept, within a budget of bytes (0: none kept).
pub struct Answers {
    budget: usize,
    store: Mutex<Store>,
    /// Answers being computed, by key: a request asking the same question
    /// waits for that answer instead of computing it again. The sender is
    /// dropped when the computation ends, which wakes the receivers.
    computing: Mutex<HashMap<Key, watch::Receiver<()>>>,
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
    key: Key,
    _done: watch::Sender<()>,
}

impl Drop for Computing<'_> {
    fn drop(&mut self) {
        // Forgotten first, so that no request waits for it from now on;
        // the sender goes next, and wakes those that were.
        self.answers.computing().remove(&self.key);
    }
}

impl Answers {
    pub fn new(budget: usize) -> Self {
        Answers {
            budget,
            store: Mutex::new(Store {
                answers: LruCache::unbounded(),
                bytes: 0,
                by_tag: HashMap::new(),
                by_type: HashMap::new(),
                heard: 0,
                recent: VecDeque::new(),
                unheard: None,
            }),
            computing: Mutex::default(),
        }
    }

    fn computing(&self) -> std::sync::MutexGuard<'_, HashMap<Key, watch::Receiver<()>>> {
        self.computing.lock().expect("computations poisoned")
    }

    /// What a request whose answer was not kept does: computes it, or
    /// waits for the request computing it already and sends its answer.
    /// Identical questions asked at once (a dashboard's, after a write
    /// dropped the answer kept) are then computed once.
    pub async fn turn(&self, key: Key) -> Turn<'_> {
        let mut underway = {
            let mut computing = self.computing();
            match computing.get(&key) {
                Some(underway) => underway.clone(),
                None => {
                    // Kept between this request's look and now?
                    if let Some(response) = self.get(&key) {
                        return Turn::Kept(response);
                    }
                    let (done, underway) = watch::channel(());
                    computing.insert(key, underway);
                    return Turn::Lead(Computing {
                        answers: self,
                        key,
                        _done: done,
                    });
                }
            }
        };
        // Never sent to: this ends when the sender is dropped.
        let _ = underway.changed().await;
        match self.get(&key) {
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

    /// How many writes were heard of so far: a request notes it before it
    /// reads anything, and its answer is kept only if no write heard of
    /// since touched what it read.
    pub fn heard(&self) -> u64 {
        self.lock().heard
    }

    /// Forgets the answers a committed write touched.
    pub fn touched(&self, touched: &Touched) {
        self.lock().touched(touched);
    }

    /// On SQLite, the data version a request read: if the last write was
    /// not announced by the API named `own` (another process wrote, or
    /// direct SQL), every kept answer is forgotten, once for that version.
    pub fn heard_at(&self, state: DataState, own: u64) {
        if !state.heard_by(own) {
            self.touched(&Touched::Unheard(state.version));
        }
    }

    /// The answer kept under `key`, if any.
    pub fn get(&self, key: &Key) -> Option<Response> {
        let mut store = self.lock();
        let kept = store.answers.get(key)?;
        let mut response = Response::new(Body::from(kept.body.clone()));
        *response.status_mut() = kept.status;
        *response.headers_mut() = kept.headers.clone();
        Some(response)
    }

    /// Keeps a successful answer that read `tags`, computed since `since`
    /// writes were heard of, and gives it back to be sent. An answer with
    /// errors, too large, or touched by a write heard of meanwhile, is not
    /// kept.
    pub async fn keep(&self, key: Key, since: u64, tags: &[Tag], response: Response) -> Response {
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
            tags: tags.into(),
            status: parts.status,
            headers: parts.headers.clone(),
            body: body.clone(),
        };
        if kept.size() <= self.largest() {
            let mut store = self.lock();
            if store.still_true(since, tags) {
                store.put(key, kept, self.budget);
            }
        }
        Response::from_parts(parts, Body::from(body))
    }

    /// How many answers are kept, and the bytes they take.
    pub fn usage(&self) -> (usize, usize) {
        let store = self.lock();
        (store.answers.len(), store.bytes)
    }
}

/// The data version's state as a request read it (see [`DataState`]):
/// `Ok(None)` if it cannot be read for another reason than an unreachable
/// database (logged): the answer is then computed, and not kept. An
/// unreachable database is the error itself: the query would wait for it a
/// second time to fail the same way.
pub fn state_read(read: Result<DataState, DbErr>) -> Result<Option<DataState>, AppError> {
    match read {
        Ok(state) => Ok(Some(state)),
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

    fn key(text: &str) -> Key {
        Key::of(Media::Json, text, None, None)
    }

    const NANTES: Tag = Tag::territory("Deployment", 1);
    const LYON: Tag = Tag::territory("Deployment", 2);

    #[tokio::test]
    async fn an_answer_is_served_until_a_write_touches_what_it_read() {
        let answers = Answers::new(budget_of_mib(1));
        let (nantes, lyon, list) = (key("{ nantes }"), key("{ lyon }"), key("{ all }"));
        assert!(answers.get(&nantes).is_none());
        let since = answers.heard();
        let sent = answers
            .keep(
                nantes,
                since,
                &[NANTES, Tag::record("Territory", 1)],
                answer("{\"data\":1}"),
            )
            .await;
        assert_eq!(body_of(sent).await, "{\"data\":1}");
        answers.keep(lyon, since, &[LYON], answer("2")).await;
        answers
            .keep(list, since, &[Tag::all("Deployment")], answer("3"))
            .await;
        let again = answers.get(&nantes).expect("kept");
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(body_of(again).await, "{\"data\":1}");
        // A deployment of Lyon is written: Lyon's answer and the list go,
        // Nantes's stays.
        answers.touched(&Touched::Tags(vec![Tag::record("Deployment", 55), LYON]));
        assert!(answers.get(&lyon).is_none());
        assert!(answers.get(&list).is_none());
        assert!(answers.get(&nantes).is_some());
        // A write of another type leaves it; one of the whole type does not.
        answers.touched(&Touched::Tags(vec![Tag::record("Concertation", 1)]));
        assert!(answers.get(&nantes).is_some());
        answers.touched(&Touched::Tags(vec![Tag::all("Territory")]));
        assert!(answers.get(&nantes).is_none());
        assert_eq!(answers.usage(), (0, 0));
        let store = answers.lock();
        assert!(store.by_tag.is_empty() && store.by_type.is_empty());
    }

    #[tokio::test]
    async fn an_answer_a_write_touched_while_it_was_computed_is_not_kept() {
        let answers = Answers::new(budget_of_mib(1));
        let since = answers.heard();
        answers.touched(&Touched::Tags(vec![LYON]));
        answers
            .keep(key("{ lyon }"), since, &[LYON], answer("2"))
            .await;
        assert!(answers.get(&key("{ lyon }")).is_none());
        answers
            .keep(key("{ nantes }"), since, &[NANTES], answer("1"))
            .await;
        assert!(answers.get(&key("{ nantes }")).is_some());
        // Forgetting everything meanwhile keeps nothing computed before.
        let since = answers.heard();
        answers.touched(&Touched::Everything);
        assert_eq!(answers.usage(), (0, 0));
        answers
            .keep(key("{ nantes }"), since, &[NANTES], answer("1"))
            .await;
        assert!(answers.get(&key("{ nantes }")).is_none());
        // Too many writes meanwhile to tell: not kept either.
        let since = answers.heard();
        for id in 0..=RECENT as i64 {
            answers.touched(&Touched::Tags(vec![Tag::record("Concertation", id)]));
        }
        answers
            .keep(key("{ nantes }"), since, &[NANTES], answer("1"))
            .await;
        assert!(answers.get(&key("{ nantes }")).is_none());
    }

    #[tokio::test]
    async fn another_process_writing_forgets_everything_once() {
        let answers = Answers::new(budget_of_mib(1));
        let me = 12;
        let mine = DataState {
            version: 5,
            announced: 5,
            writer: me,
        };
        answers
            .keep(key("{ a }"), answers.heard(), &[NANTES], answer("1"))
            .await;
        answers.heard_at(mine, 12);
        assert!(answers.get(&key("{ a }")).is_some());
        let theirs = DataState {
            version: 6,
            announced: 5,
            writer: me,
        };
        answers.heard_at(theirs, 12);
        assert!(answers.get(&key("{ a }")).is_none());
        answers
            .keep(key("{ a }"), answers.heard(), &[NANTES], answer("1"))
            .await;
        answers.heard_at(theirs, 12);
        assert!(
            answers.get(&key("{ a }")).is_some(),
            "forgotten once for a version"
        );
        answers.heard_at(
            DataState {
                version: 7,
                announced: 7,
                writer: me + 1,
            },
            12,
        );
        assert!(answers.get(&key("{ a }")).is_none());
    }

    #[tokio::test]
    async fn those_asking_while_an_answer_is_computed_wait_for_it() {
        let answers = Answers::new(budget_of_mib(1));
        let key = key("{ a }");
        let Turn::Lead(computing) = answers.turn(key).await else {
            panic!("the first to ask computes");
        };
        // Kept, then done: the one waiting sends it.
        let (waited, ()) = tokio::join!(answers.turn(key), async {
            tokio::task::yield_now().await;
            answers
                .keep(key, 0, &[NANTES], answer("{\"data\":3}"))
                .await;
            drop(computing);
        });
        let Turn::Kept(response) = waited else {
            panic!("the answer computed meanwhile is sent");
        };
        assert_eq!(body_of(response).await, "{\"data\":3}");
        // A computation that ends without keeping its answer (an error, a
        // request gone, a write): those waiting compute their own.
        answers.touched(&Touched::Everything);
        let Turn::Lead(computing) = answers.turn(key).await else {
            panic!("nothing kept");
        };
        let (waited, ()) = tokio::join!(answers.turn(key), async {
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
        answers.keep(key, 0, &[], with_errors).await;
        answers
            .keep(
                key,
                0,
                &[],
                (StatusCode::NOT_ACCEPTABLE, "no").into_response(),
            )
            .await;
        assert!(answers.get(&key).is_none());
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
            answers.keep(*key, 0, &[NANTES], answer(&body)).await;
            // The first stays in use.
            assert!(answers.get(&keys[0]).is_some(), "after {n}");
            assert!(answers.usage().1 <= budget);
        }
        let (count, bytes) = answers.usage();
        assert!(count > 1 && count < 100, "{count} answers kept");
        assert!(bytes <= budget);
        assert!(answers.get(&keys[1]).is_none());
        assert!(answers.get(&keys[99]).is_some());
        // The index holds only the answers kept.
        assert_eq!(answers.lock().by_tag[&NANTES].len(), count);
        // An answer larger than a sixteenth of the budget is sent, not kept.
        let large = "y".repeat(budget / 16 + 1);
        let key = Key::of(Media::Json, "{ large }", None, None);
        assert_eq!(
            body_of(answers.keep(key, 0, &[], answer(&large)).await).await,
            large
        );
        assert!(answers.get(&key).is_none());
    }

    #[test]
    fn no_budget_keeps_nothing() {
        assert!(!Answers::new(budget_of_mib(0)).enabled());
        assert!(Answers::new(budget_of_mib(1)).enabled());
    }
}
