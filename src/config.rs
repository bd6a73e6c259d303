//! Settings, from the command line or the environment. `vigie --help` (and
//! `vigie serve --help`) is their reference.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

use crate::graphql::Limits;

/// Vigie: the open GraphQL hub on public-sector AI in French territories.
///
/// It links territories, their citizen concertations on AI, the AI uses
/// they document, the risks and citizen concerns around them, and study
/// findings, in one graph.
#[derive(Debug, Parser)]
#[command(name = "vigie", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database to use: a SQLite file (`sqlite://FILE?mode=rwc`, the
    /// embedded default, created if missing) or PostgreSQL
    /// (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://vigie.db?mode=rwc",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,

    /// Most database connections the hub keeps open.
    #[arg(
        long,
        env = "VIGIE_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the hub: migrate the database, load the reference data into an
    /// empty one, and serve GraphQL on /graphql, GraphiQL on / and /health.
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Load the reference data (the Commission Numérique's document) again;
    /// existing records are updated in place, never duplicated.
    ImportReference,
    /// Print the GraphQL schema (SDL), as committed in schema.graphql.
    PrintSchema,
    /// Fill an empty database with synthetic data for benchmarks and load
    /// tests (every name says it is synthetic); the same scale and seed
    /// always give the same rows.
    SeedSynthetic(SeedArgs),
    /// Import records from a JSON file, a CSV file of one type, or a
    /// directory of CSV files named after their types: every row is
    /// checked, and all are written in one transaction, or none.
    Import(ImportArgs),
    /// Print the CSV header of a type, after comment lines saying what each
    /// column holds.
    Template {
        /// The type (a table: territory, deployment, deployment_risk…).
        #[arg(value_name = "TYPE")]
        table: String,
    },
    /// Export the database (or one type) as JSON or CSV; importing an export
    /// into an empty database gives the same database.
    Export(ExportArgs),
    /// Manage the API keys writers authenticate with.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A .json file, a .csv file, or a directory of TYPE.csv files.
    pub file: std::path::PathBuf,

    /// The type of a CSV file or a JSON list (default: the file's name).
    #[arg(long = "type", value_name = "TYPE")]
    pub table: Option<String>,

    /// Check every row and report, without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// JSON (every type in one file) or CSV (one type a file).
    #[arg(long, value_enum)]
    pub format: ExportFormat,

    /// Only this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub table: Option<String>,

    /// Write here instead of standard output: a file, or for CSV of every
    /// type, a directory.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

/// The format of an export.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it, once: only its hash is kept.
    Create(KeyCreateArgs),
    /// List the keys: id, prefix, role, territories, label, state.
    List,
    /// Revoke a key, by id or prefix: from then on it is refused.
    Revoke {
        /// The key's id or prefix, as `vigie keys list` shows them.
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// ADMIN writes everything; EDITOR writes what belongs to its territories.
    #[arg(long, value_enum)]
    pub role: KeyRoleArg,

    /// A territory (by slug) an editor's key writes for; repeat for several.
    #[arg(long = "territory")]
    pub territories: Vec<String>,

    /// Who holds the key; records' history shows it with each write.
    #[arg(long)]
    pub label: String,
}

/// The role of a new key.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KeyRoleArg {
    Admin,
    Editor,
}

impl From<KeyRoleArg> for entity::enums::KeyRole {
    fn from(role: KeyRoleArg) -> Self {
        match role {
            KeyRoleArg::Admin => entity::enums::KeyRole::Admin,
            KeyRoleArg::Editor => entity::enums::KeyRole::Editor,
        }
    }
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// How much data: 1 makes about 1,000 territories, 50,000 deployments,
    /// 2,000 concertations and 200,000 contributions, with their links.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,

    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "VIGIE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Do not load the reference data into an empty database.
    #[arg(long, env = "VIGIE_NO_REFERENCE")]
    pub no_reference: bool,

    /// Deepest field nesting a query may have.
    #[arg(long, env = "VIGIE_MAX_DEPTH", default_value_t = Limits::default().max_depth)]
    pub max_depth: usize,

    /// Highest cost a query may have; a list counts its fields once per item
    /// of its page (`first`/`last`, 20 by default).
    #[arg(long, env = "VIGIE_MAX_COMPLEXITY", default_value_t = Limits::default().max_complexity)]
    pub max_complexity: usize,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "VIGIE_MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,
}

impl ServeArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
        }
    }
}
