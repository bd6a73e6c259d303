//! Writing an import's rows: references looked up once per type, every
//! row checked, the sound ones written through the store's bulk path in
//! statements of rows that give the same columns, and a row the database
//! refuses reported on its own line. It uses the rows' checks and the
//! store.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    TransactionTrait,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use serde_json::Value as Json;

use super::rows::{Report, Row, check_row, columns_of};
use crate::store::{Author, bulk};

/// Ids of `table` that exist in the transaction.
async fn existing_ids<C: ConnectionTrait>(
    db: &C,
    table: &str,
    ids: &[i64],
) -> anyhow::Result<HashSet<i64>> {
    let mut found = HashSet::new();
    for chunk in ids.chunks(500) {
        let query = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
            .to_owned();
        for row in db.query_all(&query).await? {
            found.insert(row.try_get::<i64>("", "id")?);
        }
    }
    Ok(found)
}

pub(super) async fn import_rows<E: EntityTrait>(
    txn: &DatabaseTransaction,
    table: &'static str,
    rows: Vec<(usize, Row)>,
    author: Author<'_>,
    report: &mut Report,
) -> anyhow::Result<()>
where
    E::Model:
        serde::Serialize + serde::de::DeserializeOwned + sea_orm::IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E>
        + sea_orm::ActiveModelBehavior
        + sea_orm::TryIntoModel<E::Model>
        + Send,
{
    let columns = columns_of::<E>(table);
    // References, looked up once per referenced type.
    let mut wanted: HashMap<&'static str, Vec<i64>> = HashMap::new();
    for (_, row) in &rows {
        for column in &columns {
            if let (Some(target), Some(id)) = (
                column.references,
                row.get(column.name).and_then(Json::as_i64),
            ) {
                wanted.entry(target).or_default().push(id);
            }
        }
    }
    let own_ids: HashSet<i64> = rows
        .iter()
        .filter_map(|(_, row)| row.get("id").and_then(Json::as_i64))
        .collect();
    let mut known: HashMap<&'static str, HashSet<i64>> = HashMap::new();
    for (target, ids) in wanted {
        known.insert(target, existing_ids(txn, target, &ids).await?);
    }
    let now = author.at;
    // Every row is checked, then the sound ones are written in batches:
    // with a problem anywhere the import is undone, but the database has
    // had its say on every sound row (a duplicate slug…), and the types
    // after this one find the records they name.
    let mut ready: Vec<Ready<E::ActiveModel>> = Vec::new();
    for (line, mut row) in rows {
        let before = report.problems.len();
        check_row(table, line, &columns, &row, report);
        for column in &columns {
            let Some(target) = column.references else {
                continue;
            };
            let Some(id) = row.get(column.name).and_then(Json::as_i64) else {
                continue;
            };
            let exists = known.get(target).is_some_and(|ids| ids.contains(&id))
                || (target == table && own_ids.contains(&id));
            if !exists {
                report.problem(
                    table,
                    line,
                    column.name,
                    format!("names no {target} with id {id}"),
                );
            }
        }
        if report.problems.len() > before {
            continue;
        }
        for (name, value) in [
            ("created_at", Json::from(now.to_rfc3339())),
            ("updated_at", Json::from(now.to_rfc3339())),
            ("version", Json::from(1)),
        ] {
            if columns.iter().any(|c| c.name == name) && row.get(name).is_none_or(Json::is_null) {
                row.insert(name.to_owned(), value);
            }
        }
        let given: Vec<String> = row.keys().cloned().collect();
        match E::ActiveModel::from_json(Json::Object(row)) {
            Ok(model) => ready.push(Ready { line, given, model }),
            Err(err) => report.problem(table, line, "-", err.to_string()),
        }
    }
    let mut written = 0;
    // Rows giving the same columns go in one statement.
    let most = bulk::rows_per_statement::<E>();
    let mut ready = ready.into_iter().peekable();
    while let Some(first) = ready.next() {
        let mut batch = vec![first];
        while batch.len() < most
            && let Some(next) = ready.next_if(|next| next.given == batch[0].given)
        {
            batch.push(next);
        }
        written += insert_batch::<E>(txn, batch, author, report).await?;
    }
    report.rows.insert(table.to_owned(), written);
    Ok(())
}

/// A row checked and ready to be written.
struct Ready<A> {
    line: usize,
    /// The columns it gives, in order.
    given: Vec<String>,
    model: A,
}

/// Writes rows that give the same columns through the store's bulk path,
/// in one statement (see [`crate::store::bulk`]). If the database refuses
/// it, the rows are written one at a time instead, so that each refused row
/// is reported. Returns the number of rows written.
async fn insert_batch<E: EntityTrait>(
    txn: &DatabaseTransaction,
    batch: Vec<Ready<E::ActiveModel>>,
    author: Author<'_>,
    report: &mut Report,
) -> anyhow::Result<usize>
where
    E::Model: serde::Serialize + sea_orm::IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let table = E::default().table_name();
    if batch.len() > 1 {
        let models: Vec<E::ActiveModel> = batch.iter().map(|ready| ready.model.clone()).collect();
        let savepoint = txn.begin().await?;
        match bulk::insert(&savepoint, models, author).await {
            Ok(inserted) => {
                savepoint.commit().await?;
                return Ok(inserted.len());
            }
            Err(_) => savepoint.rollback().await?,
        }
    }
    let mut written = 0;
    for Ready { line, model, .. } in batch {
        let savepoint = txn.begin().await?;
        match bulk::insert(&savepoint, vec![model], author).await {
            Ok(_) => {
                savepoint.commit().await?;
                written += 1;
            }
            Err(err) => {
                savepoint.rollback().await?;
                let reason = match err.sql_err() {
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                        "another row already has its id or a value that must be unique (slug, SIREN, title…)".to_owned()
                    }
                    Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                        "names a record that does not exist".to_owned()
                    }
                    _ => {
                        tracing::warn!(table, line, error = %err, "import row refused");
                        "the database refused this row".to_owned()
                    }
                };
                report.problem(table, line, "-", reason);
            }
        }
    }
    Ok(written)
}
