//! Vigie, the open GraphQL hub on public-sector AI in French territories.
//!
//! `main.rs` only parses the command line; everything else is here, so that
//! tests drive the real application in-process.

// The merged root query nests one level per part of the schema.
#![recursion_limit = "256"]

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod reference;
pub mod server;
pub mod synthetic;
pub mod text;

use anyhow::Context as _;

use crate::{
    config::{Cli, Command, KeysCommand, ServeArgs},
    graphql::Api,
    server::AppState,
};

/// Runs one command of the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::PrintSchema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            let db =
                db::connect(&cli.database.database_url, cli.database.db_max_connections).await?;
            db::migrate(&db.conn).await?;
            tracing::info!("database migrated");
            Ok(())
        }
        Command::ImportReference => {
            let db =
                db::connect(&cli.database.database_url, cli.database.db_max_connections).await?;
            db::migrate(&db.conn).await?;
            let report = reference::load(&db.conn).await?;
            tracing::info!(
                inserted = report.inserted,
                updated = report.updated,
                unchanged = report.unchanged,
                "reference data loaded"
            );
            Ok(())
        }
        Command::SeedSynthetic(args) => {
            let db =
                db::connect(&cli.database.database_url, cli.database.db_max_connections).await?;
            db::migrate(&db.conn).await?;
            let counts = synthetic::seed(&db.conn, args.scale, args.seed).await?;
            tracing::info!(
                ?counts,
                scale = args.scale,
                seed = args.seed,
                "synthetic data written"
            );
            Ok(())
        }
        Command::Keys(command) => {
            let db =
                db::connect(&cli.database.database_url, cli.database.db_max_connections).await?;
            db::migrate(&db.conn).await?;
            keys(&db.conn, command).await
        }
        Command::Serve(args) => {
            serve(
                &cli.database.database_url,
                cli.database.db_max_connections,
                args,
            )
            .await
        }
    }
}

/// `vigie keys …`: what a key is shown once goes to standard output.
async fn keys(db: &sea_orm::DatabaseConnection, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create(args) => {
            let (key, info) =
                auth::create_key(db, args.role.into(), &args.territories, &args.label).await?;
            println!("{key}");
            tracing::info!(
                id = info.key.id,
                prefix = %info.key.prefix,
                role = info.key.role.as_str(),
                "key created; it is shown only this once"
            );
        }
        KeysCommand::List => {
            println!("id\tprefix\trole\tterritories\tlabel\tstate");
            for info in auth::list_keys(db).await? {
                let state = match info.key.revoked_at {
                    Some(at) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                    None => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{state}",
                    info.key.id,
                    info.key.prefix,
                    info.key.role.as_str(),
                    info.territories.join(","),
                    info.key.label,
                );
            }
        }
        KeysCommand::Revoke { key } => {
            let revoked = auth::revoke_key(db, &key).await?;
            tracing::info!(id = revoked.id, prefix = %revoked.prefix, "key revoked");
        }
    }
    Ok(())
}

/// Opens and prepares the database, then serves the hub until stopped.
async fn serve(database_url: &str, max_connections: u32, args: ServeArgs) -> anyhow::Result<()> {
    let db = db::connect(database_url, max_connections).await?;
    tracing::info!(database = %db::redact(database_url), "database open");
    db::migrate(&db.conn).await?;
    if !args.no_reference && reference::is_empty(&db.conn).await? {
        let report = reference::load(&db.conn)
            .await
            .context("cannot load the reference data")?;
        tracing::info!(
            inserted = report.inserted,
            "reference data loaded into the empty database"
        );
    }
    let state = AppState {
        api: Api::new(db.conn.clone(), args.limits()),
        max_body_bytes: args.max_body_bytes,
    };
    server::serve(server::app(state), args.addr).await
}
