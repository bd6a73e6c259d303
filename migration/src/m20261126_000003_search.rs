//! The search index: one row of search words per searchable record (see
//! [`crate::frozen::words`]), indexed by FTS5 on SQLite and by a `tsvector` with a
//! GIN index on PostgreSQL, and filled for the records already there.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::kit::Tables;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite: an FTS5 index over `search_entry`, kept in step by triggers.
const SQLITE_UP: &[&str] = &[
    // `kind` rides along, unindexed, so that a search for some kinds only
    // filters inside the full-text query.
    "CREATE VIRTUAL TABLE search_fts USING fts5(words, kind UNINDEXED, content='search_entry', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_entry_inserted AFTER INSERT ON search_entry BEGIN \
       INSERT INTO search_fts(rowid, words, kind) VALUES (new.id, new.words, new.kind); END",
    "CREATE TRIGGER search_entry_deleted AFTER DELETE ON search_entry BEGIN \
       INSERT INTO search_fts(search_fts, rowid, words, kind) VALUES ('delete', old.id, old.words, old.kind); END",
    "CREATE TRIGGER search_entry_updated AFTER UPDATE ON search_entry BEGIN \
       INSERT INTO search_fts(search_fts, rowid, words, kind) VALUES ('delete', old.id, old.words, old.kind); \
       INSERT INTO search_fts(rowid, words, kind) VALUES (new.id, new.words, new.kind); END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER search_entry_updated",
    "DROP TRIGGER search_entry_deleted",
    "DROP TRIGGER search_entry_inserted",
    "DROP TABLE search_fts",
];

/// PostgreSQL: the words as a `tsvector` (the `simple` configuration: they
/// are stemmed already), with a GIN index.
const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE search_entry ADD COLUMN document tsvector \
       GENERATED ALWAYS AS (to_tsvector('simple', words)) STORED",
    "CREATE INDEX idx_search_entry_document ON search_entry USING GIN (document)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Tables::new(manager);
        let mut table = Table::create();
        table
            .table("search_entry")
            .col(big_pk_auto("id"))
            .col(text("kind"))
            .col(big_integer("record_id"))
            .col(text("words"));
        t.create(table).await?;
        t.unique("search_entry", &["kind", "record_id"]).await?;
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DbBackend::Sqlite => SQLITE_UP,
            DbBackend::Postgres => POSTGRES_UP,
            _ => &[],
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        crate::frozen::index_search_words(db).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Sqlite {
            for statement in SQLITE_DOWN {
                manager
                    .get_connection()
                    .execute_unprepared(statement)
                    .await?;
            }
        }
        manager
            .drop_table(Table::drop().table("search_entry").to_owned())
            .await
    }
}
