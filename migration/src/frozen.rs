//! Functions of the hub that migrations ran, copied here as they were when
//! those migrations ran: a migration is history, and must do tomorrow what
//! it did then, whatever the hub's code becomes. A test compares them with
//! today's code; when they part, the hub's change needs a migration of its
//! own (refolding the text, rebuilding the search index).

use rust_stemmers::{Algorithm, Stemmer};
use sea_orm_migration::{
    prelude::*,
    sea_orm::ConnectionTrait,
    sea_query::{OnConflict, Order},
};
use unicode_normalization::UnicodeNormalization;

/// Lower-cases `text` and strips its accents: `« Sécurité »` → `« securite »`.
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(|c| match c {
            'œ' | 'Œ' => "oe".chars().collect::<Vec<_>>(),
            'æ' | 'Æ' => "ae".chars().collect(),
            'ß' => "ss".chars().collect(),
            'ø' | 'Ø' => "o".chars().collect(),
            'đ' | 'Đ' => "d".chars().collect(),
            'ł' | 'Ł' => "l".chars().collect(),
            other => other.to_lowercase().collect(),
        })
        .collect()
}

/// Words too common in French to tell records apart.
const STOP_WORDS: &[&str] = &[
    "a", "au", "aux", "avec", "c", "ce", "ces", "d", "dans", "de", "des", "du", "elle", "elles",
    "en", "est", "et", "il", "ils", "j", "l", "la", "le", "les", "leur", "leurs", "m", "n", "ne",
    "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "s", "sa", "se", "ses", "son",
    "sont", "sur", "t", "un", "une", "vous", "y",
];

/// The search words of a text, in order: folded, stop words dropped,
/// stemmed with the French Snowball stemmer.
pub fn words(text: &str) -> Vec<String> {
    words_with(&Stemmer::create(Algorithm::French), text)
}

fn words_with(stemmer: &Stemmer, text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && !STOP_WORDS.contains(word))
        .map(|word| stemmer.stem(word).into_owned())
        .collect()
}

/// The searchable tables when the search index was made, each with the
/// text fields that make up their records' search words.
pub const SEARCHABLE: &[(&str, &[&str])] = &[
    ("territory", &["name", "region"]),
    ("deployment", &["title", "summary", "purpose"]),
    ("concertation", &["title", "summary"]),
    ("contribution", &["statement", "response"]),
    ("study_finding", &["statement", "job_family", "metric"]),
    ("resource", &["title", "description"]),
];

/// Rows read and written at once while indexing.
const BATCH: u64 = 1_000;

/// Indexes every searchable record already there, under its table's name.
pub async fn index_search_words<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let stemmer = Stemmer::create(Algorithm::French);
    let words = |text: &str| words_with(&stemmer, text);
    for (table, fields) in SEARCHABLE {
        let mut after = 0_i64;
        loop {
            let select = Query::select()
                .column("id")
                .columns(fields.iter().copied())
                .from(*table)
                .and_where(Expr::col("id").gt(after))
                .order_by("id", Order::Asc)
                .limit(BATCH)
                .to_owned();
            let rows = db.query_all(&select).await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("", "id")?;
            let mut insert = Query::insert();
            insert
                .into_table("search_entry")
                .columns(["kind", "record_id", "words"]);
            for row in &rows {
                let mut record_words = Vec::new();
                for field in *fields {
                    let text: Option<String> = row.try_get("", field)?;
                    record_words.extend(text.as_deref().map(words).unwrap_or_default());
                }
                let id: i64 = row.try_get("", "id")?;
                insert.values_panic([(*table).into(), id.into(), record_words.join(" ").into()]);
            }
            insert.on_conflict(
                OnConflict::columns(["kind", "record_id"])
                    .update_column("words")
                    .to_owned(),
            );
            db.execute(&insert).await?;
        }
    }
    Ok(())
}
