//! The search index: for each searchable record, one row of `search_entry`
//! holding the words of its text, folded (no case, no accents), stripped
//! of French stop words and stemmed with the French Snowball stemmer. The
//! database indexes these words — SQLite with FTS5, PostgreSQL with a
//! `tsvector` — and a query goes through the same steps, so both find the
//! same records for the same query.
//!
//! Every save of a searchable record refreshes its row (see `behavior!`),
//! in the same transaction as the save.

use std::{str::FromStr, sync::OnceLock};

use rust_stemmers::{Algorithm, Stemmer};
use sea_orm::{
    ConnectionTrait, DbErr, EntityName, EntityTrait, ModelTrait, Value,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

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
/// `kind`, if it is searchable (its entry of [`SEARCHABLE`]).
pub fn fields(kind: &str) -> Option<&'static [&'static str]> {
    SEARCHABLE
        .iter()
        .find(|(searchable, _)| *searchable == kind)
        .map(|(_, fields)| *fields)
}

/// Makes the search index follow record `id`, just saved: its search
/// words from its text fields (as [`SEARCHABLE`] lists them for its
/// table), or no entry at all once it is archived.
pub async fn follow<C, M>(db: &C, model: &M, id: i64, archived: bool) -> Result<(), DbErr>
where
    C: ConnectionTrait,
    M: ModelTrait,
{
    let kind = M::Entity::default().table_name();
    if archived {
        return remove(db, kind, id).await;
    }
    let Some(names) = fields(kind) else {
        return Err(DbErr::Custom(format!("{kind} is not searchable")));
    };
    let values = names
        .iter()
        .map(|name| {
            let column = <M::Entity as EntityTrait>::Column::from_str(name)
                .map_err(|_| DbErr::Custom(format!("{kind} has no column {name}")))?;
            Ok(model.get(column))
        })
        .collect::<Result<Vec<Value>, DbErr>>()?;
    let texts: Vec<Option<&str>> = values
        .iter()
        .map(|value| match value {
            Value::String(Some(text)) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    store(db, kind, id, &texts).await
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

    /// Every field [`SEARCHABLE`] lists is a text column of its table.
    fn check_searchable<E: EntityTrait>() {
        use sea_orm::{ColumnTrait, ColumnType};
        let kind = E::default().table_name();
        let names = fields(kind).unwrap_or_else(|| panic!("{kind} is not searchable"));
        for name in names {
            let column =
                E::Column::from_str(name).unwrap_or_else(|_| panic!("{kind} has no column {name}"));
            assert!(
                matches!(
                    column.def().get_column_type(),
                    ColumnType::Text | ColumnType::String(_)
                ),
                "{kind}.{name} is not text"
            );
        }
    }

    #[test]
    fn every_searchable_field_is_a_text_column_of_its_table() {
        check_searchable::<crate::territory::Entity>();
        check_searchable::<crate::deployment::Entity>();
        check_searchable::<crate::concertation::Entity>();
        check_searchable::<crate::contribution::Entity>();
        check_searchable::<crate::study_finding::Entity>();
        check_searchable::<crate::resource::Entity>();
        assert_eq!(SEARCHABLE.len(), 6);
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

/// The searchable tables: each with the kind its records are indexed under
/// and the text fields that make up their search words.
pub const SEARCHABLE: &[(&str, &[&str])] = &[
    ("territory", &["name", "region"]),
    ("deployment", &["title", "summary", "purpose"]),
    ("concertation", &["title", "summary"]),
    ("contribution", &["statement", "response"]),
    ("study_finding", &["statement", "job_family", "metric"]),
    ("resource", &["title", "description"]),
];

/// Rows read and written at once while rebuilding.
const REBUILD_BATCH: u64 = 1_000;

/// Recomputes the search words of every searchable record: after bulk
/// writes, which skip the save hooks. Records are indexed under their
/// table's name.
pub async fn rebuild<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait, Order};

    for (table, fields) in SEARCHABLE {
        let mut after = 0_i64;
        loop {
            let select = Query::select()
                .column("id")
                .columns(fields.iter().copied())
                .from(*table)
                .and_where(Expr::col("id").gt(after))
                .order_by("id", Order::Asc)
                .limit(REBUILD_BATCH)
                .to_owned();
            let rows = db.query_all(&select).await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("", "id")?;
            let mut insert = Query::insert();
            insert
                .into_table(TABLE)
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
