//! Deployments counted as they are written: `deployment_tally` holds, for
//! each stage and territory, how many deployments not archived it has.
//! Triggers keep it in step with `deployment` inside the writing
//! transaction, whoever writes; a stage or territory left with none has no
//! row. Counting deployments by stage, territory or région — a dashboard's
//! first question — then reads these few thousand rows instead of every
//! deployment.
//!
//! The tally is not in the data version's tables: only the triggers of
//! `deployment` write it, and those writes move the version already.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::kit::run_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tally's table.
pub const TALLY: &str = "deployment_tally";

/// Counts the deployments already there.
const FILL: &str = "INSERT INTO deployment_tally (status, territory_id, deployments) \
     SELECT status, territory_id, COUNT(*) FROM deployment WHERE archived_at IS NULL \
     GROUP BY status, territory_id";

/// Statements counting a deployment `row` (`new` or `old`) in, or out,
/// when it is not archived. SQLite's triggers take them as they are;
/// PostgreSQL's function runs them under an `IF`.
fn count_in(row: &str) -> String {
    format!(
        "INSERT INTO deployment_tally (status, territory_id, deployments) \
         SELECT {row}.status, {row}.territory_id, 1 WHERE {row}.archived_at IS NULL \
         ON CONFLICT (status, territory_id) \
         DO UPDATE SET deployments = deployment_tally.deployments + 1"
    )
}

fn count_out(row: &str) -> [String; 2] {
    let this = format!(
        "{row}.archived_at IS NULL AND status = {row}.status AND territory_id = {row}.territory_id"
    );
    [
        format!("UPDATE deployment_tally SET deployments = deployments - 1 WHERE {this}"),
        format!("DELETE FROM deployment_tally WHERE {this} AND deployments = 0"),
    ]
}

/// PostgreSQL's row trigger, as this migration creates it (a later one
/// replaces it, and gives it back when undone).
pub(crate) fn postgres_row_trigger() -> [String; 2] {
    let [out, emptied] = count_out("OLD");
    [
        format!(
            "CREATE FUNCTION deployment_tally_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF TG_OP <> 'INSERT' THEN {out}; {emptied}; END IF; \
               IF TG_OP <> 'DELETE' THEN {}; END IF; \
               RETURN NULL; END $$",
            count_in("NEW")
        ),
        "CREATE TRIGGER deployment_tally_moved \
         AFTER INSERT OR UPDATE OF status, territory_id, archived_at OR DELETE ON deployment \
         FOR EACH ROW EXECUTE FUNCTION deployment_tally_move()"
            .into(),
    ]
}

/// Drops [`postgres_row_trigger`].
pub(crate) const POSTGRES_ROW_TRIGGER_DOWN: [&str; 2] = [
    "DROP TRIGGER deployment_tally_moved ON deployment",
    "DROP FUNCTION deployment_tally_move()",
];

fn postgres_up() -> Vec<String> {
    let mut statements = postgres_row_trigger().to_vec();
    statements.extend([
        // TRUNCATE fires no row trigger: it empties the tally too.
        "CREATE FUNCTION deployment_tally_empty() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           DELETE FROM deployment_tally; RETURN NULL; END $$"
            .into(),
        "CREATE TRIGGER deployment_tally_emptied AFTER TRUNCATE ON deployment \
         FOR EACH STATEMENT EXECUTE FUNCTION deployment_tally_empty()"
            .into(),
    ]);
    statements
}

const POSTGRES_DOWN: &[&str] = &[
    "DROP TRIGGER deployment_tally_emptied ON deployment",
    "DROP FUNCTION deployment_tally_empty()",
    POSTGRES_ROW_TRIGGER_DOWN[0],
    POSTGRES_ROW_TRIGGER_DOWN[1],
];

fn sqlite_up() -> Vec<String> {
    let [out, emptied] = count_out("old");
    vec![
        format!(
            "CREATE TRIGGER deployment_tally_inserted AFTER INSERT ON deployment BEGIN {}; END",
            count_in("new")
        ),
        format!(
            "CREATE TRIGGER deployment_tally_updated \
             AFTER UPDATE OF status, territory_id, archived_at ON deployment \
             BEGIN {out}; {emptied}; {}; END",
            count_in("new")
        ),
        format!(
            "CREATE TRIGGER deployment_tally_deleted AFTER DELETE ON deployment BEGIN {out}; {emptied}; END"
        ),
    ]
}

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER deployment_tally_deleted",
    "DROP TRIGGER deployment_tally_updated",
    "DROP TRIGGER deployment_tally_inserted",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TALLY)
                    .col(text("status"))
                    .col(big_integer("territory_id"))
                    .col(integer("deployments"))
                    .primary_key(Index::create().col("status").col("territory_id"))
                    .to_owned(),
            )
            .await?;
        let mut statements = match manager.get_database_backend() {
            DbBackend::Postgres => postgres_up(),
            _ => sqlite_up(),
        };
        statements.push(FILL.into());
        run_all(manager, statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_DOWN,
            _ => SQLITE_DOWN,
        };
        run_all(manager, statements.iter().map(|&s| s.to_owned()).collect()).await?;
        manager
            .drop_table(Table::drop().table(TALLY).to_owned())
            .await
    }
}
