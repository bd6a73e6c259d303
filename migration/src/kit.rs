//! Small helpers so that every table is declared the same way: names of
//! constraints and indexes derive from the table and its columns.

use sea_orm_migration::{prelude::*, schema::*};

/// A table of records: integer primary key, timestamps and, unless the table
/// is `source` itself, the provenance `source_id`.
pub fn record_table(name: &'static str, with_source: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(name).col(big_pk_auto("id"));
    if with_source {
        table.col(big_integer_null("source_id"));
        foreign_key(&mut table, "source_id", "source");
    }
    timestamps(&mut table, true);
    table
}

/// A pure link between two records (or a record and a value): its primary
/// key is the pair, so a link exists at most once.
pub fn link_table(name: &'static str) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(name);
    timestamps(&mut table, false);
    table
}

fn timestamps(table: &mut TableCreateStatement, updated: bool) {
    table.col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()));
    if updated {
        table.col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()));
    }
}

/// `column` references `target.id`. Nothing is ever deleted through the API,
/// so a referenced row cannot be deleted under its dependents either.
pub fn foreign_key(table: &mut TableCreateStatement, column: &'static str, target: &'static str) {
    let name = table_name(table);
    table.foreign_key(
        ForeignKey::create()
            .name(format!("fk_{name}_{column}"))
            .from(name.clone(), column)
            .to(target, "id")
            .on_delete(ForeignKeyAction::Restrict)
            .on_update(ForeignKeyAction::Restrict),
    );
}

fn table_name(table: &TableCreateStatement) -> String {
    match table.get_table_name() {
        Some(TableRef::Table(name, _)) => name.1.to_string(),
        _ => unreachable!("every table of the model is named"),
    }
}

/// The name of the index on `columns` of `table`: `idx_<table>_<columns>`,
/// or `uq_…` for a unique one.
pub fn index_name(table: &str, columns: &[&str], unique: bool) -> String {
    let prefix = if unique { "uq" } else { "idx" };
    format!("{prefix}_{table}_{}", columns.join("_"))
}

/// Creates tables and their indexes through one schema manager.
pub struct Tables<'a> {
    manager: &'a SchemaManager<'a>,
}

impl<'a> Tables<'a> {
    pub fn new(manager: &'a SchemaManager<'a>) -> Self {
        Self { manager }
    }

    pub async fn create(&mut self, table: TableCreateStatement) -> Result<(), DbErr> {
        self.manager.create_table(table).await
    }

    /// A plain index, for foreign keys and the columns lists filter on.
    pub async fn index(
        &mut self,
        table: &'static str,
        columns: &[&'static str],
    ) -> Result<(), DbErr> {
        self.create_index(table, columns, false).await
    }

    /// A unique index: a natural key.
    pub async fn unique(
        &mut self,
        table: &'static str,
        columns: &[&'static str],
    ) -> Result<(), DbErr> {
        self.create_index(table, columns, true).await
    }

    async fn create_index(
        &mut self,
        table: &'static str,
        columns: &[&'static str],
        unique: bool,
    ) -> Result<(), DbErr> {
        let mut index = Index::create();
        index.name(index_name(table, columns, unique)).table(table);
        for column in columns {
            index.col(*column);
        }
        if unique {
            index.unique();
        }
        self.manager.create_index(index).await
    }
}

/// Runs `statements` (raw SQL: triggers, functions) one after another.
pub async fn run_all(manager: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// Rebuilds SQLite table `table` with its `CREATE TABLE` statement as
/// `edit` makes it (SQLite cannot change a column in place): a new table,
/// the rows copied, the old one dropped, the new one renamed, and the
/// table's indexes and triggers made again. `edit` must change the
/// statement.
pub async fn sqlite_rebuild(
    manager: &SchemaManager<'_>,
    table: &str,
    edit: impl Fn(&str) -> String,
) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
    let db = manager.get_connection();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
            [table.into()],
        ))
        .await?;
    let mut create = None;
    let mut others = Vec::new();
    for row in rows {
        let kind: String = row.try_get("", "type")?;
        let sql: String = row.try_get("", "sql")?;
        if kind == "table" {
            create = Some(sql);
        } else {
            others.push(sql);
        }
    }
    let create = create.ok_or_else(|| DbErr::Custom(format!("no table {table}")))?;
    let edited = edit(&create);
    if edited == create {
        return Err(DbErr::Custom(format!(
            "the rebuild of {table} changes nothing"
        )));
    }
    let rebuilt = format!("{table}_rebuilt");
    let edited = edited.replacen(&format!("\"{table}\""), &format!("\"{rebuilt}\""), 1);
    let mut statements = vec![
        edited,
        format!("INSERT INTO \"{rebuilt}\" SELECT * FROM \"{table}\""),
        format!("DROP TABLE \"{table}\""),
        format!("ALTER TABLE \"{rebuilt}\" RENAME TO \"{table}\""),
    ];
    statements.extend(others);
    // One batch, so that every statement runs on one connection: another
    // of the pool may still see the table before the drop.
    db.execute_unprepared(&statements.join(";\n")).await?;
    Ok(())
}
