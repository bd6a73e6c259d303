//! Full-text search across the hub: territories, deployments,
//! concertations, contributions, study findings and resources, ranked, in
//! French — words are stemmed (« discriminations » finds « discrimination »)
//! and matched without case or accents, the same way on SQLite (FTS5) and
//! PostgreSQL (text search): both return the same hits for the same query.

use std::collections::HashMap;

use async_graphql::{Context, Enum, Object, SimpleObject, Union};
use entity::search::words;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::{
    Concertation, Contribution, Deployment, Resource, StudyFinding, Territory,
    engine::loader::database, engine::node::find, engine::record::NodeType,
};
use crate::error::{AppError, AppResult};

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

/// A search hit: the record, and how well it matches.
#[derive(SimpleObject)]
pub struct SearchHit {
    /// How well the record matches: higher is better. Comparable between
    /// the hits of one search only.
    pub score: f64,
    /// The record.
    pub node: SearchResult,
}

/// One row of the index that matched.
struct Match {
    kind: String,
    record: i64,
    score: f64,
}

/// The statement matching `words` (all of them) in the index, best first.
fn matching(backend: DbBackend, words: &[String], kinds: &[&str], limit: i32) -> Statement {
    // Words are letters and digits only: safe inside FTS5 quotes and
    // tsquery syntax alike.
    let mut values: Vec<Value> = Vec::new();
    let placeholder = |values: &Vec<Value>| crate::db::placeholder(backend, values.len());
    let query = match backend {
        DbBackend::Postgres => words.join(" & "),
        _ => words
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(" "),
    };
    values.push(query.into());
    let query = placeholder(&values);
    let mut kind_filter = String::new();
    if !kinds.is_empty() {
        let alias = if backend == DbBackend::Postgres {
            "e."
        } else {
            ""
        };
        let marks: Vec<String> = kinds
            .iter()
            .map(|kind| {
                values.push((*kind).into());
                placeholder(&values)
            })
            .collect();
        kind_filter = format!(" AND {alias}kind IN ({})", marks.join(", "));
    }
    // Written as a number, not bound: see `loader::literal`.
    let limit = limit.max(0);
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT e.kind, e.record_id, CAST(ts_rank(e.document, q) AS DOUBLE PRECISION) AS score \
             FROM search_entry e, to_tsquery('simple', {query}) q \
             WHERE e.document @@ q{kind_filter} \
             ORDER BY score DESC, e.kind, e.record_id LIMIT {limit}"
        ),
        // FTS5 ranks its matches itself (bm25) and keeps the best: only
        // those are joined to their records.
        _ => format!(
            "SELECT e.kind, e.record_id, -m.rank AS score \
             FROM (SELECT rowid, rank FROM search_fts WHERE search_fts MATCH {query}{kind_filter} \
                   ORDER BY rank LIMIT {limit}) m \
             JOIN search_entry e ON e.id = m.rowid \
             ORDER BY m.rank, e.kind, e.record_id"
        ),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

async fn run_search(
    ctx: &Context<'_>,
    query: &str,
    types: &[SearchType],
    first: i32,
) -> AppResult<Vec<Match>> {
    if query.chars().count() > MAX_QUERY_LENGTH {
        return Err(AppError::bad_argument(
            "query",
            format!("`query` is at most {MAX_QUERY_LENGTH} characters"),
        ));
    }
    let mut search_words = words(query);
    search_words.sort();
    search_words.dedup();
    if search_words.len() > MAX_QUERY_WORDS {
        return Err(AppError::bad_argument(
            "query",
            format!("`query` has at most {MAX_QUERY_WORDS} distinct words"),
        ));
    }
    // Punctuation or stop words alone: nothing to look for.
    if search_words.is_empty() || first == 0 {
        return Ok(Vec::new());
    }
    let db = database(ctx);
    let kinds: Vec<&str> = types.iter().map(|t| t.kind()).collect();
    let statement = matching(db.get_database_backend(), &search_words, &kinds, first);
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| {
            Ok(Match {
                kind: row.try_get("", "kind")?,
                record: row.try_get("", "record_id")?,
                score: row.try_get("", "score")?,
            })
        })
        .collect()
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
    /// Records matching every word of `query`, best first. Words match
    /// whatever their case, accents or French inflection; punctuation and
    /// common words (« le », « des »…) are left out, so a query of only
    /// those finds nothing.
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The words to look for (at most 500 characters).")] query: String,
        #[graphql(desc = "Only records of these types (all types when not given).")] types: Option<
            Vec<SearchType>,
        >,
        #[graphql(desc = "Most hits returned (default 20, at most 100).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<SearchHit>> {
        let first = first.unwrap_or(DEFAULT_HITS);
        if !(0..=MAX_HITS).contains(&first) {
            return Err(AppError::bad_argument(
                "first",
                format!("`first` is between 0 and {MAX_HITS}"),
            )
            .into());
        }
        let matches = run_search(ctx, &query, &types.unwrap_or_default(), first).await?;
        // Records load in parallel, so that each type's loader batches them.
        let lookups = matches.iter().map(|m| async move {
            let kind = SearchType::of_kind(&m.kind);
            match kind {
                Some(kind) => result(ctx, kind, m.record).await,
                None => Ok(None),
            }
        });
        let found = futures_util::future::try_join_all(lookups).await?;
        let scores: HashMap<usize, f64> = matches
            .iter()
            .enumerate()
            .map(|(i, m)| (i, m.score))
            .collect();
        Ok(found
            .into_iter()
            .enumerate()
            .filter_map(|(i, node)| {
                node.map(|node| SearchHit {
                    score: scores[&i],
                    node,
                })
            })
            .collect())
    }
}
