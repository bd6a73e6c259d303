//! The search index: for each searchable record, one row of `search_entry`
//! holding the words of its text, folded (no case, no accents), stripped
//! of French stop words and stemmed with the French Snowball stemmer. The
//! database indexes these words — SQLite with FTS5, PostgreSQL with a
//! `tsvector` — and a query goes through the same steps, so both find the
//! same records for the same query.
//!
//! Every save of a searchable record refreshes its row (see `behavior!`),
//! in the same transaction as the save.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use sea_orm::{
    ConnectionTrait, DbErr, ModelTrait, Value,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

use crate::records::Declared;

/// The index table.
pub const TABLE: &str = "search_entry";

/// Words too common in French to tell records apart.
const STOP_WORDS: &[&str] = &[
    "a", "au", "aux", "avec", "c", "ce", "ces", "d", "dans", "de", "des", "du", "elle", "elles",
    "en", "est", "et", "il", "ils", "j", "l", "la", "le", "les", "leur", "leurs", "m", "n", "ne",
    "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "s", "sa", "se", "ses", "son",
    "sont", "sur", "t", "un", "une", "vous", "y",
];

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::French))
}

/// The search words of a text, in order: `« Des algorithmes biaisés »` →
/// `["algorithm", "biais"]`.
pub fn words(text: &str) -> Vec<String> {
    crate::text::fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && !STOP_WORDS.contains(word))
        .map(|word| stemmer().stem(word).into_owned())
        .collect()
}

/// The text fields that make up the search words of the records of
/// `kind` (a table), if it is searchable (see [`crate::records`]).
pub fn fields(kind: &str) -> Option<&'static [&'static str]> {
    crate::records::of_table(kind)
        .map(|record| record.search.as_slice())
        .filter(|fields| !fields.is_empty())
}

/// Makes the search index follow record `id` of `E`, just saved: its
/// search words from the columns its declaration names, or no entry at
/// all once it is archived.
pub async fn follow<C, E>(db: &C, model: &E::Model, id: i64, archived: bool) -> Result<(), DbErr>
where
    C: ConnectionTrait,
    E: Declared,
{
    if archived {
        return remove(db, E::TABLE, id).await;
    }
    let values: Vec<Value> = E::SEARCH.iter().map(|column| model.get(*column)).collect();
    let texts: Vec<Option<&str>> = values
        .iter()
        .map(|value| match value {
            Value::String(Some(text)) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    store(db, E::TABLE, id, &texts).await
}

/// Sets the search words of record `id` of `kind` from its text fields.
pub async fn store<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    id: i64,
    fields: &[Option<&str>],
) -> Result<(), DbErr> {
    store_many(db, kind, &[(id, fields.to_vec())]).await
}

/// Sets the search words of several records of `kind`, each with its text
/// fields, in one statement.
pub async fn store_many<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    records: &[(i64, Vec<Option<&str>>)],
) -> Result<(), DbErr> {
    if records.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(TABLE)
        .columns(["kind", "record_id", "words"]);
    for (id, fields) in records {
        let words: Vec<String> = fields
            .iter()
            .flatten()
            .flat_map(|text| words(text))
            .collect();
        insert.values_panic([kind.into(), (*id).into(), words.join(" ").into()]);
    }
    insert.on_conflict(
        OnConflict::columns(["kind", "record_id"])
            .update_column("words")
            .to_owned(),
    );
    db.execute(&insert).await?;
    Ok(())
}

/// Takes a record out of search (it was archived).
pub async fn remove<C: ConnectionTrait>(db: &C, kind: &str, id: i64) -> Result<(), DbErr> {
    let delete = Query::delete()
        .from_table(TABLE)
        .and_where(Expr::col("kind").eq(kind))
        .and_where(Expr::col("record_id").eq(id))
        .to_owned();
    db.execute(&delete).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every search column of a declared type is a text column.
    #[test]
    fn every_search_column_is_text() {
        use sea_orm::{ColumnTrait, ColumnType, IdenStatic};
        fn check<E: Declared>() -> usize {
            for column in E::SEARCH {
                assert!(
                    matches!(
                        column.def().get_column_type(),
                        ColumnType::Text | ColumnType::String(_)
                    ),
                    "{}.{} is not text",
                    E::TABLE,
                    column.as_str()
                );
            }
            E::SEARCH.len()
        }
        let columns = check::<crate::territory::Entity>()
            + check::<crate::deployment::Entity>()
            + check::<crate::concertation::Entity>()
            + check::<crate::contribution::Entity>()
            + check::<crate::study_finding::Entity>()
            + check::<crate::resource::Entity>();
        let declared: usize = crate::records::all().iter().map(|r| r.search.len()).sum();
        assert_eq!(
            columns, declared,
            "a searchable type is left out of this test"
        );
    }

    #[test]
    fn words_are_folded_stemmed_and_stripped_of_stop_words() {
        assert_eq!(
            words("Le renforcement des discriminations via des algorithmes biaisés."),
            words("renforcement discrimination via algorithme biaise")
        );
        assert_eq!(words("SÉCURITÉ"), words("securite"));
        assert!(words("« … » !? — ").is_empty());
        assert!(words("de la et les").is_empty());
        assert_eq!(words("l'opacité"), words("opacite"));
    }
}
