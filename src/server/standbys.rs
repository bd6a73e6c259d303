//! Read replicas: PostgreSQL standbys (streaming replicas of the primary)
//! that anonymous queries read from, so that readers do not load the
//! database writers use.
//!
//! What reads where:
//! - mutations, and every request with an API key, read and write the
//!   primary: a client that wrote reads its write back at once;
//! - anonymous queries over HTTP read a standby, taken in turn among those
//!   usable, or the primary when none is (operations over the WebSocket
//!   read the primary).
//!
//! Every [`PROBE_EVERY`], a probe reads the primary's WAL position, then
//! each standby's replayed position. A standby is usable while its last
//! probe (not older than [`STALE_PROBE`]) saw it streaming and no further
//! than `--max-replica-lag-ms` behind: the time since the primary was at
//! the position the standby has replayed. A standby that does not answer,
//! lags, or is not in recovery (promoted, or a primary given by mistake)
//! is skipped, and `/ready` says so; it is used again as soon as a probe
//! finds it usable, without a restart of the hub.
//!
//! A query whose standby fails under it (the standby stopped, a statement
//! cancelled by a conflict with recovery) is run again on the primary: a
//! standby going away costs time, not errors.
//!
//! An answer read on a standby may be kept (see [`super::answers`]), but
//! only as of the writes the standby is known to have replayed: the probe
//! notes how many writes had been heard of when the primary was at a
//! position the standby has since replayed ([`Chosen::caught_up`]), and an
//! answer is kept only if no write heard of after that touched it.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use serde_json::{Value as Json, json};
use tokio::time::Instant;

/// How often the probe reads the positions of the primary and the
/// standbys.
pub const PROBE_EVERY: Duration = Duration::from_millis(200);

/// Longest a probe waits for a server's answer.
const PROBE_WAIT: Duration = Duration::from_secs(1);

/// A standby whose last probe is older than this is not used: the probe
/// could not tell how far behind it is.
pub const STALE_PROBE: Duration = Duration::from_secs(2);

/// How far behind a standby may be, unless told otherwise.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_secs(1);

/// A standby to read from.
#[derive(Debug, Clone)]
pub struct Standby {
    /// Its address, without a password (for the log and `/ready`).
    pub name: String,
    pub db: DatabaseConnection,
}

/// The standbys anonymous queries read from, and how far behind they may
/// be.
#[derive(Debug, Clone)]
pub struct ReadReplicas {
    pub standbys: Vec<Standby>,
    pub max_lag: Duration,
}

impl Default for ReadReplicas {
    fn default() -> Self {
        ReadReplicas {
            standbys: Vec::new(),
            max_lag: DEFAULT_MAX_LAG,
        }
    }
}

/// What the last probe saw of a standby.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// Not probed yet.
    NotYet,
    /// It did not answer.
    Down,
    /// It answers, but is not replaying a primary's WAL.
    NotStandby,
    /// Replaying, behind every position the probe remembers.
    FarBehind,
    /// Replaying: the primary was at the position it has replayed `lag`
    /// ago, when `caught_up` writes had been heard of.
    Streaming { lag: Duration, caught_up: u64 },
}

#[derive(Debug)]
struct Health {
    seen: Seen,
    at: Instant,
}

impl Health {
    /// Whether it may be read now, no further than `max_lag` behind, and
    /// as of how many writes heard of.
    fn usable(&self, max_lag: Duration) -> Option<u64> {
        match self.seen {
            Seen::Streaming { lag, caught_up }
                if lag <= max_lag && self.at.elapsed() <= STALE_PROBE =>
            {
                Some(caught_up)
            }
            _ => None,
        }
    }
}

/// A position of the primary's WAL, and how many writes had been heard of
/// just before it was read.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    heard: u64,
    lsn: i64,
}

/// The standbys, their health, and the probe that keeps it.
pub struct Standbys {
    list: Vec<(Standby, Mutex<Health>)>,
    max_lag: Duration,
    next: AtomicUsize,
}

/// A standby a query reads from.
#[derive(Debug, Clone, Copy)]
pub struct Chosen<'a> {
    /// Its place among the standbys.
    pub index: usize,
    pub db: &'a DatabaseConnection,
    /// How many writes had been heard of when the primary was at a
    /// position the standby has replayed: an answer read there reflects
    /// every one of them, and maybe none heard of since.
    pub caught_up: u64,
}

impl Standbys {
    /// The standbys of `replicas`, probed every [`PROBE_EVERY`] against
    /// `primary` while the returned value lives; `heard` counts the writes
    /// heard of so far. Without standbys, nothing is probed.
    pub fn start(
        replicas: ReadReplicas,
        primary: DatabaseConnection,
        heard: impl Fn() -> u64 + Send + 'static,
    ) -> Arc<Standbys> {
        let standbys = Arc::new(Standbys {
            list: replicas
                .standbys
                .into_iter()
                .map(|standby| {
                    let health = Health {
                        seen: Seen::NotYet,
                        at: Instant::now(),
                    };
                    (standby, Mutex::new(health))
                })
                .collect(),
            max_lag: replicas.max_lag,
            next: AtomicUsize::new(0),
        });
        if !standbys.list.is_empty() {
            tokio::spawn(probe(Arc::downgrade(&standbys), primary, heard));
        }
        standbys
    }

    fn health(&self, index: usize) -> std::sync::MutexGuard<'_, Health> {
        self.list[index]
            .1
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the standby at `index` may be read now, and as of how many
    /// writes heard of.
    fn usable(&self, index: usize) -> Option<u64> {
        self.health(index).usable(self.max_lag)
    }

    /// The next usable standby, in turn; none when none is (read the
    /// primary then).
    pub fn choose(&self) -> Option<Chosen<'_>> {
        let count = self.list.len();
        if count == 0 {
            return None;
        }
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count).find_map(|offset| {
            let index = (first + offset) % count;
            self.usable(index).map(|caught_up| Chosen {
                index,
                db: &self.list[index].0.db,
                caught_up,
            })
        })
    }

    /// Notes that a standby failed a query for want of a connection: it is
    /// not used again until a probe finds it usable.
    pub fn failed(&self, index: usize) {
        let mut health = self.health(index);
        if health.seen != Seen::Down {
            tracing::warn!(
                standby = %self.list[index].0.name,
                "a standby does not answer; its reads go to the others or the primary"
            );
        }
        *health = Health {
            seen: Seen::Down,
            at: Instant::now(),
        };
    }

    /// Each standby's state, for `/ready`: its address, `streaming`,
    /// `lagging`, `down`, `not a standby` or `not probed yet`, and its lag
    /// in milliseconds when known.
    pub fn report(&self) -> Vec<Json> {
        (0..self.list.len())
            .map(|index| {
                let health = self.health(index);
                let (state, lag) = match health.seen {
                    Seen::NotYet => ("not probed yet", None),
                    Seen::Down => ("down", None),
                    Seen::NotStandby => ("not a standby", None),
                    Seen::FarBehind => ("lagging", None),
                    Seen::Streaming { lag, .. } if health.usable(self.max_lag).is_some() => {
                        ("streaming", Some(lag))
                    }
                    Seen::Streaming { lag, .. } => ("lagging", Some(lag)),
                };
                let mut entry = json!({ "standby": self.list[index].0.name, "state": state });
                if let Some(lag) = lag {
                    entry["lagMs"] = json!(lag.as_millis() as u64);
                }
                entry
            })
            .collect()
    }

    /// How many standbys there are, and how many are usable now.
    pub fn counts(&self) -> (usize, usize) {
        let usable = (0..self.list.len())
            .filter(|&index| self.usable(index).is_some())
            .count();
        (self.list.len(), usable)
    }

    /// The standbys' lag in seconds, by address, when known.
    pub fn lags(&self) -> Vec<(String, Option<f64>)> {
        (0..self.list.len())
            .map(|index| {
                let lag = match self.health(index).seen {
                    Seen::Streaming { lag, .. } => Some(lag.as_secs_f64()),
                    _ => None,
                };
                (self.list[index].0.name.clone(), lag)
            })
            .collect()
    }

    /// Notes what a probe saw of the standby at `index`, logging a change
    /// between usable and not.
    fn saw(&self, index: usize, seen: Seen) {
        let was = self.usable(index).is_some();
        *self.health(index) = Health {
            seen: seen.clone(),
            at: Instant::now(),
        };
        let is = self.usable(index).is_some();
        let name = &self.list[index].0.name;
        match (was, is) {
            (false, true) => tracing::info!(standby = %name, "a standby is read from"),
            (true, false) => tracing::warn!(
                standby = %name,
                state = ?seen,
                "a standby is skipped: its reads go to the others or the primary"
            ),
            _ => {}
        }
    }
}

/// A one-row, one-column answer read as a 64-bit integer.
async fn read_i64(db: &DatabaseConnection, sql: &str) -> Result<Option<i64>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<Option<i64>>(0)?,
        None => None,
    })
}

/// The primary's WAL position, in bytes.
async fn primary_position(db: &DatabaseConnection) -> Option<i64> {
    let read = read_i64(db, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
    match tokio::time::timeout(PROBE_WAIT, read).await {
        Ok(Ok(lsn)) => lsn,
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "the probe cannot read the primary's position");
            None
        }
        Err(_) => None,
    }
}

/// What a standby says of itself: the position it has replayed, or none
/// when it replays nothing (not in recovery); an error when it does not
/// answer in time.
async fn standby_position(db: &DatabaseConnection) -> Result<Option<i64>, ()> {
    // NULL when the server is not in recovery.
    let read = read_i64(
        db,
        "SELECT CASE WHEN pg_is_in_recovery() \
         THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END",
    );
    match tokio::time::timeout(PROBE_WAIT, read).await {
        Ok(Ok(replayed)) => Ok(replayed),
        Ok(Err(_)) | Err(_) => Err(()),
    }
}

/// Where a standby that has replayed up to `replayed` stands against the
/// primary's positions remembered (oldest first), at `now`: behind by the
/// time since the latest position it has reached.
fn place(samples: &VecDeque<Sample>, replayed: i64, now: Instant) -> Seen {
    samples
        .iter()
        .rev()
        .find(|sample| sample.lsn <= replayed)
        .map_or(Seen::FarBehind, |sample| Seen::Streaming {
            lag: now.saturating_duration_since(sample.at),
            caught_up: sample.heard,
        })
}

/// Probes the standbys every [`PROBE_EVERY`] until they are dropped.
async fn probe(standbys: Weak<Standbys>, primary: DatabaseConnection, heard: impl Fn() -> u64) {
    let mut samples: VecDeque<Sample> = VecDeque::new();
    let mut every = tokio::time::interval(PROBE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(standbys) = standbys.upgrade() else {
            return;
        };
        // Counted first: every write heard of by then has committed, and
        // is within the position read next.
        let count = heard();
        let Some(lsn) = primary_position(&primary).await else {
            // Without the primary's position the standbys cannot be
            // placed: their last probe ages until they are not used.
            continue;
        };
        let now = Instant::now();
        samples.push_back(Sample {
            at: now,
            heard: count,
            lsn,
        });
        let keep_for = standbys.max_lag + STALE_PROBE;
        while samples
            .front()
            .is_some_and(|oldest| now.saturating_duration_since(oldest.at) > keep_for)
        {
            samples.pop_front();
        }
        let seen = futures_util::future::join_all(
            standbys
                .list
                .iter()
                .map(|(standby, _)| standby_position(&standby.db)),
        )
        .await;
        let now = Instant::now();
        for (index, seen) in seen.into_iter().enumerate() {
            let seen = match seen {
                Ok(Some(replayed)) => place(&samples, replayed, now),
                Ok(None) => Seen::NotStandby,
                Err(()) => Seen::Down,
            };
            standbys.saw(index, seen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(start: Instant) -> VecDeque<Sample> {
        [(0, 3, 100), (200, 5, 180), (400, 9, 260)]
            .into_iter()
            .map(|(ms, heard, lsn)| Sample {
                at: start + Duration::from_millis(ms),
                heard,
                lsn,
            })
            .collect()
    }

    #[test]
    fn a_standby_is_as_far_behind_as_the_latest_position_it_has_replayed() {
        let start = Instant::now();
        let samples = samples(start);
        let now = start + Duration::from_millis(410);
        assert_eq!(
            place(&samples, 260, now),
            Seen::Streaming {
                lag: Duration::from_millis(10),
                caught_up: 9
            }
        );
        assert_eq!(
            place(&samples, 200, now),
            Seen::Streaming {
                lag: Duration::from_millis(210),
                caught_up: 5
            }
        );
        assert_eq!(place(&samples, 99, now), Seen::FarBehind);
    }
}
