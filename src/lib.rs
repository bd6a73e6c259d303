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
pub mod geography;
pub mod graphql;
pub mod progress;
pub mod reference;
pub mod registers;
pub mod server;
pub mod store;
pub mod synthetic;
pub mod tags;
pub mod text;
pub mod transfer;

use anyhow::Context as _;

use crate::{
    config::{
        Cli, Command, DatabaseArgs, ExportArgs, ExportFormat, ImportArgs, KeysCommand, ServeArgs,
    },
    graphql::Api,
    server::AppState,
};

/// Opens the database of a command, brings its schema up to date, runs
/// `work` on it and closes it, whether `work` succeeded or not.
async fn with_database(
    database: &DatabaseArgs,
    work: impl AsyncFnOnce(&sea_orm::DatabaseConnection) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let db = db::connect(&database.database_url, database.max_connections()).await?;
    let outcome = match db::migrate(&db.conn).await {
        Ok(()) => work(&db.conn).await,
        Err(err) => Err(err),
    };
    db.close().await;
    outcome
}

/// Runs one command of the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let database = &cli.database;
    match cli.command {
        Command::PrintSchema { federation } => {
            let sdl = if federation {
                graphql::federation_sdl()
            } else {
                graphql::sdl()
            };
            print!("{sdl}");
            Ok(())
        }
        Command::Migrate => {
            with_database(database, async |_| {
                tracing::info!("database migrated");
                Ok(())
            })
            .await
        }
        Command::ImportReference => {
            with_database(database, async |db| {
                let report = reference::load(db).await?;
                tracing::info!(
                    inserted = report.inserted,
                    updated = report.updated,
                    unchanged = report.unchanged,
                    "reference data loaded"
                );
                Ok(())
            })
            .await
        }
        Command::ImportGeography { from } => {
            with_database(database, async |db| {
                let report = geography::import(db, from.as_deref()).await?;
                print_geography_report(&report);
                Ok(())
            })
            .await
        }
        Command::SeedSynthetic(args) => {
            with_database(database, async |db| {
                let counts = synthetic::seed(db, args.scale, args.seed).await?;
                tracing::info!(
                    ?counts,
                    scale = args.scale,
                    seed = args.seed,
                    "synthetic data written"
                );
                Ok(())
            })
            .await
        }
        Command::Keys(command) => with_database(database, async |db| keys(db, command).await).await,
        Command::ImportRegister(args) => {
            with_database(database, async |db| import_register(db, args).await).await
        }
        Command::Import(args) => with_database(database, async |db| import(db, args).await).await,
        Command::Export(args) => with_database(database, async |db| export(db, args).await).await,
        Command::Template { table } => {
            print!("{}", transfer::template(&table)?);
            Ok(())
        }
        Command::Serve(args) => serve(database, args).await,
    }
}

/// What an import of the geography did, as lines on standard output: the
/// counts, then every territory of the network matched or not.
fn print_geography_report(report: &geography::Report) {
    println!(
        "official geography: {} created, {} updated, {} unchanged, {} archived; \
         memberships: {} added, {} removed",
        report.inserted,
        report.updated,
        report.unchanged,
        report.archived,
        report.links_added,
        report.links_removed
    );
    for (slug, how) in &report.matched {
        println!("matched   {slug}: {how}");
    }
    for (slug, why) in &report.unmatched {
        println!("unmatched {slug}: {why}");
    }
    for warning in &report.warnings {
        println!("warning   {warning}");
    }
    if !report.ungrouped.is_empty() {
        println!(
            "in no EPCI or EPT: {} commune(s): {}",
            report.ungrouped.len(),
            report.ungrouped.join(", ")
        );
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

/// `vigie import`: the report goes to standard output; any problem fails
/// the command and writes nothing.
async fn import(db: &sea_orm::DatabaseConnection, args: ImportArgs) -> anyhow::Result<()> {
    let mut report = transfer::Report::default();
    let parsed = transfer::read(&args.file, args.table.as_deref(), &mut report)?;
    let actor = format!(
        "import of {}",
        args.file.file_name().map_or_else(
            || args.file.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )
    );
    let report = transfer::import(db, parsed, &actor, args.dry_run, report).await?;
    for problem in &report.problems {
        println!("{problem}");
    }
    let rows: usize = report.rows.values().sum();
    if !report.problems.is_empty() {
        anyhow::bail!(
            "{} problem(s) found; nothing was written",
            report.problems.len()
        );
    }
    for (table, count) in &report.rows {
        println!("{table}: {count} row(s)");
    }
    if args.dry_run {
        println!("dry run: {rows} row(s) are valid; nothing was written");
    } else {
        println!("{rows} row(s) written");
    }
    Ok(())
}

/// `vigie export`: to standard output, or to `--out` (a file, or for CSV of
/// every type a directory of one file per type).
async fn export(db: &sea_orm::DatabaseConnection, args: ExportArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let write = |path: &std::path::Path, text: String| {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    match (args.format, args.table.as_deref(), &args.out) {
        (ExportFormat::Json, table, None) => print!("{}", transfer::export_json(db, table).await?),
        (ExportFormat::Json, table, Some(out)) => {
            write(out, transfer::export_json(db, table).await?)?
        }
        (ExportFormat::Csv, Some(table), None) => {
            print!("{}", transfer::export_csv(db, table).await?)
        }
        (ExportFormat::Csv, Some(table), Some(out)) => {
            write(out, transfer::export_csv(db, table).await?)?
        }
        (ExportFormat::Csv, None, None) => {
            anyhow::bail!("CSV holds one type: give --type TYPE, or --out DIR for every type")
        }
        (ExportFormat::Csv, None, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let progress = progress::Progress::new("export", transfer::TYPES.len() as u64);
            for (done, table) in transfer::TYPES.iter().enumerate() {
                write(
                    &dir.join(format!("{table}.csv")),
                    transfer::export_csv(db, table).await?,
                )?;
                progress.at(done as u64 + 1, table);
            }
            progress.finish();
        }
    }
    Ok(())
}

/// Longest a stopping hub waits for its database connections to close.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens and prepares the database, then serves the hub until stopped, and
/// closes the database.
async fn serve(database: &DatabaseArgs, args: ServeArgs) -> anyhow::Result<()> {
    let database_url = &database.database_url;
    let max_connections = database.max_connections();
    // PostgreSQL stops the statements of requests at their time limit.
    let time_limit = args.time_limit();
    let db = db::connect_with_limits(
        database_url,
        max_connections,
        std::time::Duration::from_millis(database.db_acquire_timeout_ms),
        time_limit,
    )
    .await?;
    tracing::info!(database = %db::redact(database_url), "database open");
    let standbys = standbys(database, &args, db.conn.get_database_backend()).await?;
    let limited = time_limit.is_some()
        && db.conn.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    if limited {
        // Migrations and the first load are not requests: they run without
        // that limit, on a connection of their own.
        let setup = db::connect(database_url, 1).await?;
        let prepared = prepare(&setup.conn, &args).await;
        setup.close().await;
        prepared?;
    } else {
        prepare(&db.conn, &args).await?;
    }
    let outcome = serve_on(&db.conn, max_connections, args, standbys).await;
    if tokio::time::timeout(CLOSE_WAIT, db.close()).await.is_err() {
        tracing::warn!("database connections still busy after {CLOSE_WAIT:?}; stopping anyway");
    }
    outcome
}

/// Longest a query waits for a standby's connection before it reads the
/// primary instead (a standby that is down refuses connections, and the
/// pool would try again until its timeout).
const STANDBY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The standbys of `--read-database-url`, with pools of the primary's size
/// and time limit, opened without connecting: one that is down at start is
/// skipped until it answers. Standbys need a PostgreSQL primary.
async fn standbys(
    database: &DatabaseArgs,
    args: &ServeArgs,
    backend: sea_orm::DatabaseBackend,
) -> anyhow::Result<Vec<server::standbys::Standby>> {
    if args.read_database_urls.is_empty() {
        return Ok(Vec::new());
    }
    if backend != sea_orm::DatabaseBackend::Postgres {
        anyhow::bail!(
            "--read-database-url names PostgreSQL standbys: the primary (--database-url) must be PostgreSQL too"
        );
    }
    let wait = std::time::Duration::from_millis(database.db_acquire_timeout_ms).min(STANDBY_WAIT);
    let mut standbys = Vec::new();
    for url in &args.read_database_urls {
        let db =
            db::connect_standby(url, database.max_connections(), wait, args.time_limit()).await?;
        tracing::info!(standby = %db::redact(url), "standby for anonymous queries");
        standbys.push(server::standbys::Standby {
            name: db::redact(url),
            db: db.conn,
        });
    }
    Ok(standbys)
}

/// Brings the database's schema up to date, and loads the reference data
/// and then the official geography into it if it is empty (unless told
/// not to).
async fn prepare(conn: &sea_orm::DatabaseConnection, args: &ServeArgs) -> anyhow::Result<()> {
    db::migrate(conn).await?;
    if !reference::is_empty(conn).await? {
        return Ok(());
    }
    if !args.no_reference {
        let report = reference::load(conn)
            .await
            .context("cannot load the reference data")?;
        tracing::info!(
            inserted = report.inserted,
            "reference data loaded into the empty database"
        );
    }
    if !args.no_geography {
        tracing::info!("loading the official geography (about 36,000 territories)");
        let report = geography::import(conn, None)
            .await
            .context("cannot load the official geography")?;
        tracing::info!(
            inserted = report.inserted,
            matched = report.matched.len(),
            unmatched = report.unmatched.len(),
            "official geography loaded into the empty database"
        );
    }
    if !args.no_registers {
        for report in registers::load_bundled(conn)
            .await
            .context("cannot load the bundled registers of algorithms")?
        {
            tracing::info!(
                register = report.register,
                created = report.created,
                skipped = report.skipped.len(),
                "register of algorithms loaded into the empty database"
            );
        }
    }
    Ok(())
}

/// Imports a register of algorithms, and prints what it did.
async fn import_register(
    db: &sea_orm::DatabaseConnection,
    args: config::ImportRegisterArgs,
) -> anyhow::Result<()> {
    let options = registers::Options {
        dry_run: args.dry_run,
    };
    let report = registers::import_from(db, args.format, args.from.as_deref(), &options).await?;
    print_register_report(&report, args.report_json)
}

fn print_register_report(report: &registers::Report, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        for line in report.lines() {
            println!("{line}");
        }
    }
    Ok(())
}

async fn serve_on(
    conn: &sea_orm::DatabaseConnection,
    max_connections: u32,
    args: ServeArgs,
    standbys: Vec<server::standbys::Standby>,
) -> anyhow::Result<()> {
    let mut settings = args.http(max_connections);
    settings.read_replicas.standbys = standbys;
    let state = AppState::new(Api::new(conn.clone(), args.limits()), settings);
    server::serve(server::app(state), args.addr).await
}
