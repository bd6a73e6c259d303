//! The batching scheduler: one loader a request, whose fetches start only
//! when the request has asked for every key it can (see [`run_batched`]),
//! so that a level of a query is one statement whatever its length. It
//! uses nothing of the engine but the loader it schedules.

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Wake, Waker},
    time::Duration,
};

use async_graphql::{Context, dataloader::DataLoader};
use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use super::keys::Columns;
use crate::tags::{Reads, Tag};

/// Answers the keys of one request against the database.
pub struct SqlLoader {
    pub(crate) db: DatabaseConnection,
    /// The columns each list field of the request reads, by the field's
    /// place in the document and its table: the same for all its parents.
    pub(crate) columns: Mutex<HashMap<(usize, &'static str), Columns>>,
    /// What the request read (see [`crate::tags`]).
    pub(crate) reads: Arc<Reads>,
}

impl SqlLoader {
    /// Notes that the request read what `tags` name.
    pub(crate) fn read(&self, tags: impl IntoIterator<Item = Tag>) {
        self.reads.add_all(tags);
    }
}

/// The fetches a request's loader has queued and not started yet.
///
/// A batch must hold every key of one level of the query. Waiting a fixed
/// delay for the keys to arrive does not ensure it: on a busy machine, or
/// with a long list, the delay can end while sibling fields are still being
/// polled, and the level splits into several statements. Instead, the
/// loader queues its fetches here, and [`run_batched`] starts them only
/// when the request is idle — polled, and waiting without having asked to
/// be polled again — for by then every field that can ask for a key has.
#[derive(Clone, Default)]
pub struct Fetches(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);

impl Fetches {
    fn queue(&self, fetch: BoxFuture<'static, ()>) {
        self.0.lock().expect("fetch queue poisoned").push(fetch);
    }

    fn start_all(&self) {
        let queued = std::mem::take(&mut *self.0.lock().expect("fetch queue poisoned"));
        for fetch in queued {
            tokio::spawn(fetch);
        }
    }
}

/// A waker that notes whether it was woken, and passes the wake on.
struct NotingWaker {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for NotingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.inner.wake_by_ref();
    }
}

/// The loader of one request: batches are never shared between requests.
/// Its fetches only start within [`run_batched`], which decides when a
/// batch is complete, so they wait for no delay of their own. (With
/// async-graphql's `tokio-timer` feature a zero delay would still wait for
/// the next millisecond tick of tokio's timer, per level of every query;
/// its default timer completes a zero delay at once.)
pub fn request_loader(
    db: DatabaseConnection,
    reads: Arc<Reads>,
) -> (DataLoader<SqlLoader>, Fetches) {
    let fetches = Fetches::default();
    let queue = fetches.clone();
    let loader = DataLoader::new(
        SqlLoader {
            db,
            columns: Mutex::default(),
            reads,
        },
        move |fetch| queue.queue(fetch),
    )
    .delay(Duration::ZERO)
    .max_batch_size(MAX_BATCH);
    (loader, fetches)
}

/// Most keys one statement takes: well within the bind-parameter limits of
/// SQLite (32,766) and PostgreSQL (65,535).
const MAX_BATCH: usize = 10_000;

/// Runs `request`, starting the loader's queued fetches each time it has
/// gone as far as it can without them.
///
/// Futures that poll many children (as GraphQL lists do) wake themselves to
/// let other tasks run, and finish polling their children on the next
/// poll; a poll that ends with such a wake is not the end of a level.
pub async fn run_batched<F: Future>(request: F, fetches: Fetches) -> F::Output {
    let mut request = std::pin::pin!(request);
    std::future::poll_fn(|cx| {
        let waker = Arc::new(NotingWaker {
            woken: AtomicBool::new(false),
            inner: cx.waker().clone(),
        });
        let polled = request
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&Waker::from(
                waker.clone(),
            )));
        if polled.is_pending() && !waker.woken.load(Ordering::Acquire) {
            fetches.start_all();
        }
        polled
    })
    .await
}

pub fn loader<'a>(ctx: &Context<'a>) -> &'a DataLoader<SqlLoader> {
    ctx.data_unchecked::<DataLoader<SqlLoader>>()
}

/// The database, to write: a mutation's answer is never kept.
pub fn writing<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

/// The database, to read what `tags` name: every read of a request says
/// what it reads, so that its answer is kept only until a write touches
/// it (see [`crate::tags`]). It is the request's loader's: a standby for
/// an anonymous query, when one is used.
pub fn reading<'a>(
    ctx: &Context<'a>,
    tags: impl IntoIterator<Item = Tag>,
) -> &'a DatabaseConnection {
    let loader = loader(ctx).loader();
    loader.read(tags);
    &loader.db
}
