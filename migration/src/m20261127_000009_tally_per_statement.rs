//! Deployments counted once per statement on PostgreSQL. The row trigger
//! of the tally's migration rewrote a tally row for every deployment a
//! statement wrote: a bulk load (the synthetic data, a large import) wrote
//! each of its rows thousands of times, and PostgreSQL keeps every old copy
//! of a row until a vacuum, which frees them but leaves the table that
//! large. Statement triggers read the deployments a statement wrote (its
//! transition tables), add up what each stage and territory gained or lost,
//! and write each tally row once, in key order — so that two statements
//! never wait on each other's rows in opposite orders.
//!
//! SQLite writes a row in place, without old copies, and has no statement
//! triggers: its row triggers stay.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use crate::{
    kit::run_all,
    m20261127_000008_deployment_tally::{POSTGRES_ROW_TRIGGER_DOWN, postgres_row_trigger},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Applies `moves` — rows of (status, territory_id, d), `d` being +1 for a
/// live deployment a statement wrote and -1 for one it removed — to the
/// tally: each key's net change once, then the keys left at zero removed.
fn apply(moves: &str) -> String {
    format!(
        "INSERT INTO deployment_tally (status, territory_id, deployments) \
         SELECT status, territory_id, SUM(d) FROM ({moves}) m \
         GROUP BY status, territory_id HAVING SUM(d) <> 0 ORDER BY status, territory_id \
         ON CONFLICT (status, territory_id) \
         DO UPDATE SET deployments = deployment_tally.deployments + excluded.deployments; \
         DELETE FROM deployment_tally WHERE deployments = 0 AND (status, territory_id) IN \
         (SELECT status, territory_id FROM ({moves}) m GROUP BY status, territory_id HAVING SUM(d) < 0)"
    )
}

const WRITTEN: &str =
    "SELECT status, territory_id, 1 AS d FROM vigie_written WHERE archived_at IS NULL";
const REMOVED: &str =
    "SELECT status, territory_id, -1 AS d FROM vigie_removed WHERE archived_at IS NULL";

fn up_statements() -> Vec<String> {
    let mut statements: Vec<String> = POSTGRES_ROW_TRIGGER_DOWN
        .iter()
        .map(|&s| s.to_owned())
        .collect();
    statements.push(format!(
        "CREATE FUNCTION deployment_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           IF TG_OP = 'INSERT' THEN {}; \
           ELSIF TG_OP = 'DELETE' THEN {}; \
           ELSE {}; END IF; \
           RETURN NULL; END $$",
        apply(WRITTEN),
        apply(REMOVED),
        apply(&format!("{WRITTEN} UNION ALL {REMOVED}")),
    ));
    // A trigger with transition tables takes one event, and no column list.
    for (event, tables) in [
        ("INSERT", "NEW TABLE AS vigie_written"),
        (
            "UPDATE",
            "OLD TABLE AS vigie_removed NEW TABLE AS vigie_written",
        ),
        ("DELETE", "OLD TABLE AS vigie_removed"),
    ] {
        statements.push(format!(
            "CREATE TRIGGER deployment_tally_{} AFTER {event} ON deployment \
             REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION deployment_tally_apply()",
            event.to_lowercase()
        ));
    }
    statements
}

fn down_statements() -> Vec<String> {
    let mut statements: Vec<String> = ["insert", "update", "delete"]
        .iter()
        .map(|event| format!("DROP TRIGGER deployment_tally_{event} ON deployment"))
        .collect();
    statements.push("DROP FUNCTION deployment_tally_apply()".into());
    statements.extend(postgres_row_trigger());
    statements
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        run_all(manager, up_statements()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        run_all(manager, down_statements()).await
    }
}
