//! Full-text search across the hub: territories, deployments,
//! concertations, contributions, study findings and resources, ranked, in
//! French — words are stemmed (« discriminations » finds « discrimination »)
//! and matched without case or accents, the same way on SQLite (FTS5) and
//! PostgreSQL (text search): both return the same hits for the same query.

use async_graphql::{Context, Enum, Object, SimpleObject, Union};
use entity::search::words;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    Concertation, Contribution, Deployment, Resource, StudyFinding, Territory,
    engine::connection::{Listing, ListingConnection},
    engine::loader::reading,
    engine::node::find,
    engine::paging::{opaque_cursor, open_cursor},
    engine::record::NodeType,
};
use crate::{
    error::{AppError, AppResult},
    tags::Tag,
};

/// The tags of a read of the search index: every searchable type, whole.
fn searched() -> Vec<Tag> {
    entity::records::all()
        .iter()
        .filter(|record| !record.search.is_empty())
        .map(|record| Tag::all(record.type_name))
        .collect()
}

/// Most hits one search returns.
pub const MAX_HITS: i32 = 100;
/// Hits returned when `first` is not given.
pub const DEFAULT_HITS: i32 = 20;
/// Longest query, in characters.
pub const MAX_QUERY_LENGTH: usize = 500;
/// Most words a query may search for.
pub const MAX_QUERY_WORDS: usize = 20;

/// What a search may return.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SearchType {
    /// Territories, by name and région.
    Territory,
    /// Deployments, by title, summary and purpose.
    Deployment,
    /// Concertations, by title and summary.
    Concertation,
    /// Contributions, by statement and response.
    Contribution,
    /// Study findings, by statement, job family and metric.
    Finding,
    /// Resources, by title and description.
    Resource,
}

impl SearchType {
    /// The kind its records are indexed under: their table.
    fn kind(self) -> &'static str {
        match self {
            SearchType::Territory => Territory::TABLE,
            SearchType::Deployment => Deployment::TABLE,
            SearchType::Concertation => Concertation::TABLE,
            SearchType::Contribution => Contribution::TABLE,
            SearchType::Finding => StudyFinding::TABLE,
            SearchType::Resource => Resource::TABLE,
        }
    }

    fn of_kind(kind: &str) -> Option<SearchType> {
        [
            SearchType::Territory,
            SearchType::Deployment,
            SearchType::Concertation,
            SearchType::Contribution,
            SearchType::Finding,
            SearchType::Resource,
        ]
        .into_iter()
        .find(|t| t.kind() == kind)
    }
}

/// A record a search found.
#[derive(Union)]
pub enum SearchResult {
    Territory(Territory),
    Deployment(Deployment),
    Concertation(Concertation),
    Contribution(Contribution),
    StudyFinding(StudyFinding),
    Resource(Resource),
}

/// A search hit: the record, how well it matches, and its place.
#[derive(SimpleObject)]
pub struct SearchHit {
    /// How well the record matches: higher is better. Comparable between
    /// the hits of one search only.
    pub score: f64,
    /// Its place among all the hits of the search, from 1, the same on
    /// every page.
    pub rank: i64,
    /// The record.
    pub node: SearchResult,
}

/// One row of the index that matched.
struct Match {
    kind: String,
    record: i64,
    entry: i64,
    score: f64,
    tier: i64,
}

/// Where a page of hits starts: after the hit of this score tier and
/// index entry, ranked so. Its cursor names the search it belongs to.
#[derive(Serialize, Deserialize)]
struct After {
    /// The search: a digest of its words and types.
    q: String,
    /// The hit's score tier (see [`TIERS`]).
    t: i64,
    /// The index entry.
    e: i64,
    /// The hit's rank.
    r: i64,
}

impl After {
    /// The hit the cursor `after` names, of the search of this digest.
    fn decode(cursor: &str, search: &str) -> AppResult<After> {
        let after: After = open_cursor("after", cursor)?;
        if after.q != search {
            return Err(AppError::bad_argument(
                "after",
                "`after` is not a cursor of this search's hits",
            ));
        }
        Ok(after)
    }
}

/// What one search looks for: its words and the kinds of records.
struct Search {
    words: Vec<String>,
    kinds: Vec<&'static str>,
}

impl Search {
    /// A digest of the words and types, which cursors carry: a cursor
    /// only continues the search that gave it.
    fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        for word in &self.words {
            hasher.update(word.as_bytes());
            hasher.update([0]);
        }
        hasher.update([1]);
        for kind in &self.kinds {
            hasher.update(kind.as_bytes());
            hasher.update([0]);
        }
        hex::encode(&hasher.finalize()[..8])
    }

    /// The text query and the kind filter, with their values bound.
    fn conditions(&self, backend: DbBackend, values: &mut Vec<Value>) -> (String, String) {
        // Words are letters and digits only: safe inside FTS5 quotes and
        // tsquery syntax alike.
        let query = match backend {
            DbBackend::Postgres => self.words.join(" & "),
            _ => self
                .words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" "),
        };
        values.push(query.into());
        let query = crate::db::placeholder(backend, values.len());
        let mut kind_filter = String::new();
        if !self.kinds.is_empty() {
            let alias = if backend == DbBackend::Postgres {
                "e."
            } else {
                ""
            };
            let marks: Vec<String> = self
                .kinds
                .iter()
                .map(|kind| {
                    values.push((*kind).into());
                    crate::db::placeholder(backend, values.len())
                })
                .collect();
            kind_filter = format!(" AND {alias}kind IN ({})", marks.join(", "));
        }
        (query, kind_filter)
    }

    /// The number of entries that match.
    fn counting(&self, backend: DbBackend) -> Statement {
        let mut values = Vec::new();
        let (query, kind_filter) = self.conditions(backend, &mut values);
        let sql = match backend {
            DbBackend::Postgres => format!(
                "SELECT COUNT(*) AS n FROM search_entry e, to_tsquery('simple', {query}) q \
                 WHERE e.document @@ q{kind_filter}"
            ),
            _ => format!(
                "SELECT COUNT(*) AS n FROM search_fts WHERE search_fts MATCH {query}{kind_filter}"
            ),
        };
        Statement::from_sql_and_values(backend, sql, values)
    }

    /// The statement matching the words (all of them), best first, ties
    /// by index entry: `limit` hits after `after`.
    fn matching(&self, backend: DbBackend, after: Option<&After>, limit: u64) -> Statement {
        let mut values: Vec<Value> = Vec::new();
        let (query, kind_filter) = self.conditions(backend, &mut values);
        let mut keyset = String::new();
        if let Some(after) = after {
            // Each value bound where it stands: SQLite's marks are numbered
            // by their place.
            let mut bind = |value: i64| {
                values.push(value.into());
                crate::db::placeholder(backend, values.len())
            };
            let (below, tied, entry) = (bind(after.t), bind(after.t), bind(after.e));
            keyset = format!(" WHERE (tier < {below} OR (tier = {tied} AND entry > {entry}))");
        }
        // Hits are ordered by their score in billionths (`tier`), then by
        // index entry: an integer pair, that pages compare exactly, where
        // floating-point scores may come out of two statements a last bit
        // apart. FTS5's rank is the score negated; inside FTS5, `rank = …`
        // would choose a ranking function, so the matches come out first.
        let matches = match backend {
            DbBackend::Postgres => format!(
                "SELECT e.kind, e.record_id, e.id AS entry, \
                        CAST(ts_rank(e.document, q) AS DOUBLE PRECISION) AS score \
                 FROM search_entry e, to_tsquery('simple', {query}) q \
                 WHERE e.document @@ q{kind_filter}"
            ),
            _ => format!(
                "SELECT e.kind, e.record_id, e.id AS entry, -m.rank AS score \
                 FROM (SELECT rowid, rank FROM search_fts \
                       WHERE search_fts MATCH {query}{kind_filter}) m \
                 JOIN search_entry e ON e.id = m.rowid"
            ),
        };
        // Written as a number, not bound: see `loader::literal`.
        let sql = format!(
            "SELECT * FROM (SELECT hit.*, CAST(hit.score * {TIERS} AS BIGINT) AS tier \
                            FROM ({matches}) hit) ranked{keyset} \
             ORDER BY tier DESC, entry LIMIT {limit}"
        );
        Statement::from_sql_and_values(backend, sql, values)
    }

    /// The search `query` asks for, checked.
    fn new(query: &str, types: &[SearchType]) -> AppResult<Search> {
        if query.chars().count() > MAX_QUERY_LENGTH {
            return Err(AppError::bad_argument(
                "query",
                format!("`query` is at most {MAX_QUERY_LENGTH} characters"),
            ));
        }
        let mut words = words(query);
        words.sort();
        words.dedup();
        if words.len() > MAX_QUERY_WORDS {
            return Err(AppError::bad_argument(
                "query",
                format!("`query` has at most {MAX_QUERY_WORDS} distinct words"),
            ));
        }
        let mut kinds: Vec<&'static str> = types.iter().map(|t| t.kind()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        Ok(Search { words, kinds })
    }

    /// Up to `fetch` matches after `after`.
    async fn run(
        &self,
        ctx: &Context<'_>,
        after: Option<&After>,
        fetch: u64,
    ) -> AppResult<Vec<Match>> {
        // Punctuation or stop words alone: nothing to look for.
        if self.words.is_empty() || fetch == 0 {
            return Ok(Vec::new());
        }
        let db = reading(ctx, searched());
        let statement = self.matching(db.get_database_backend(), after, fetch);
        db.query_all_raw(statement)
            .await?
            .iter()
            .map(|row| {
                Ok(Match {
                    kind: row.try_get("", "kind")?,
                    record: row.try_get("", "record_id")?,
                    entry: row.try_get("", "entry")?,
                    score: row.try_get("", "score")?,
                    tier: row.try_get("", "tier")?,
                })
            })
            .collect()
    }
}

/// Score units in one tier: scores that differ by less than a billionth
/// tie, and ties are ordered by index entry.
const TIERS: f64 = 1e9;

impl Listing for Search {
    type Item = SearchHit;
    const CONNECTION: &'static str = "SearchConnection";

    async fn count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        if self.words.is_empty() {
            return Ok(0);
        }
        let db = reading(ctx, searched());
        let row = db
            .query_one_raw(self.counting(db.get_database_backend()))
            .await?;
        Ok(match row {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        })
    }
}

async fn result(
    ctx: &Context<'_>,
    kind: SearchType,
    id: i64,
) -> async_graphql::Result<Option<SearchResult>> {
    Ok(match kind {
        SearchType::Territory => find::<Territory>(ctx, id)
            .await?
            .map(SearchResult::Territory),
        SearchType::Deployment => find::<Deployment>(ctx, id)
            .await?
            .map(SearchResult::Deployment),
        SearchType::Concertation => find::<Concertation>(ctx, id)
            .await?
            .map(SearchResult::Concertation),
        SearchType::Contribution => find::<Contribution>(ctx, id)
            .await?
            .map(SearchResult::Contribution),
        SearchType::Finding => find::<StudyFinding>(ctx, id)
            .await?
            .map(SearchResult::StudyFinding),
        SearchType::Resource => find::<Resource>(ctx, id).await?.map(SearchResult::Resource),
    })
}

/// The `search` root field.
#[derive(Default)]
pub struct SearchRoot;

#[Object]
impl SearchRoot {
    /// Records matching every word of `query`, best first, in pages: each
    /// hit keeps its rank from page to page (ties broken the same way every
    /// time). Words match whatever their case, accents or French
    /// inflection; punctuation and common words (« le », « des »…) are left
    /// out, so a query of only those finds nothing.
    #[graphql(complexity = "crate::graphql::engine::paging::cost(first, None, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The words to look for (at most 500 characters).")] query: String,
        #[graphql(desc = "Only records of these types (all types when not given).")] types: Option<
            Vec<SearchType>,
        >,
        #[graphql(desc = "Most hits returned (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the hits after this cursor (of the same search).")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<ListingConnection<Search>> {
        let first = first.unwrap_or(DEFAULT_HITS);
        if !(0..=MAX_HITS).contains(&first) {
            return Err(AppError::bad_argument(
                "first",
                format!("`first` is between 0 and {MAX_HITS}"),
            )
            .into());
        }
        let search = Search::new(&query, &types.unwrap_or_default())?;
        let digest = search.digest();
        let after = after
            .map(|cursor| After::decode(&cursor, &digest))
            .transpose()?;
        let size = first as u64;
        let matches = search.run(ctx, after.as_ref(), size + 1).await?;
        // Records load in parallel, so that each type's loader batches them.
        let lookups = matches.iter().map(|m| async move {
            match SearchType::of_kind(&m.kind) {
                Some(kind) => result(ctx, kind, m.record).await,
                None => Ok(None),
            }
        });
        let found = futures_util::future::try_join_all(lookups).await?;
        let first_rank = after.as_ref().map_or(1, |after| after.r + 1);
        let hits = matches
            .iter()
            .zip(found)
            .enumerate()
            .filter_map(|(place, (hit, node))| {
                let rank = first_rank + place as i64;
                let cursor = opaque_cursor(&After {
                    q: digest.clone(),
                    t: hit.tier,
                    e: hit.entry,
                    r: rank,
                });
                node.map(|node| {
                    let score = hit.score;
                    (cursor, SearchHit { score, rank, node })
                })
            })
            .collect();
        Ok(ListingConnection::new(hits, size, after.is_some(), search))
    }
}
