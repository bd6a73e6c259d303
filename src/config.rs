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

    /// How the log is written: lines for people, or one JSON object a line
    /// for log collectors.
    #[arg(
        long,
        env = "VIGIE_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

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

    /// Most database connections the hub keeps open [default: 4 on
    /// SQLite, 10 on PostgreSQL].
    #[arg(long, env = "VIGIE_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,

    /// Longest wait for a database connection, in milliseconds; past it a
    /// request fails with DB_UNAVAILABLE (503) instead of hanging.
    #[arg(
        long,
        env = "VIGIE_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,
}

impl DatabaseArgs {
    /// The pool size asked for, or the database's default.
    pub fn max_connections(&self) -> u32 {
        self.db_max_connections
            .unwrap_or_else(|| crate::db::default_max_connections(&self.database_url))
    }
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
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
    /// Import the official French geography (régions, départements, EPCI,
    /// EPT, communes, municipal arrondissements) from INSEE's Code officiel
    /// géographique as Etalab publishes it, matching the network's
    /// territories into it; a second run changes nothing, a newer copy
    /// updates what changed and archives what is gone.
    ImportGeography {
        /// A directory holding regions.json, departements.json, epci.json,
        /// ept.json and communes.json (each may be .json.gz), and
        /// optionally source.json and matches.json; default: the copy
        /// built into the hub (data/geography/).
        #[arg(long, value_name = "DIR")]
        from: Option<std::path::PathBuf>,
    },
    /// Print the GraphQL schema (SDL) clients use, subscriptions included,
    /// as committed in schema.graphql.
    PrintSchema {
        /// Print instead the Apollo Federation subgraph SDL a gateway reads
        /// from `_service` (entity keys, no subscriptions).
        #[arg(long)]
        federation: bool,
    },
    /// Fill an empty database with synthetic data for benchmarks and load
    /// tests (every name says it is synthetic); the same scale and seed
    /// always give the same rows.
    SeedSynthetic(SeedArgs),
    /// Import a public register of algorithms (the bundled copy, a file or
    /// an address), syncing its deployments: created, updated, archived
    /// when the register drops them, restored when they come back.
    ImportRegister(ImportRegisterArgs),
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
pub struct ImportRegisterArgs {
    /// The register's format.
    #[arg(long, value_enum)]
    pub format: crate::registers::Format,

    /// A file, or an http(s) address fetched conditionally (an unchanged
    /// register costs one request); default: the copy built into the hub
    /// (data/registers/), for every format but full Dutch records.
    #[arg(value_name = "FILE|URL")]
    pub from: Option<String>,

    /// Read and compare everything, and report, without writing anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Print the report as JSON on standard output.
    #[arg(long)]
    pub report_json: bool,
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

    /// Do not load the official geography into an empty database.
    #[arg(long, env = "VIGIE_NO_GEOGRAPHY")]
    pub no_geography: bool,

    /// Do not load the bundled public registers of algorithms (Dutch,
    /// British, French) into an empty database.
    #[arg(long, env = "VIGIE_NO_REGISTERS")]
    pub no_registers: bool,

    /// Deepest field nesting a query may have.
    #[arg(long, env = "VIGIE_MAX_DEPTH", default_value_t = Limits::default().max_depth)]
    pub max_depth: usize,

    /// Highest cost a query may have; a list counts its fields once per item
    /// of its page (`first`/`last`, 20 by default).
    #[arg(long, env = "VIGIE_MAX_COMPLEXITY", default_value_t = Limits::default().max_complexity)]
    pub max_complexity: usize,

    /// Longest a query may run, in milliseconds; past it, it is stopped and
    /// answered TIMEOUT (503). On PostgreSQL each statement, mutations'
    /// included, is bounded by it too. 0: no limit.
    #[arg(long, env = "VIGIE_QUERY_TIME_LIMIT_MS", default_value_t = crate::graphql::DEFAULT_TIME_LIMIT.as_millis() as u64)]
    pub query_time_limit_ms: u64,

    /// Documents remembered as validated, by a hash of their text, operation
    /// and variables: asked again, they skip the validation rules they
    /// passed (their cost and depth are still counted). 0: validate every
    /// request fully.
    #[arg(long, env = "VIGIE_VALIDATED_DOCUMENTS", default_value_t = crate::graphql::engine::documents::DEFAULT_VALIDATED)]
    pub validated_documents: usize,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "VIGIE_MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,

    /// Origins (`https://example.org`) whose pages may call the API from a
    /// browser, comma-separated; `*` allows any. Credentials are never
    /// allowed cross-origin.
    #[arg(
        long,
        env = "VIGIE_CORS_ORIGINS",
        default_value = "*",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,

    /// Requests a client IP address may make per minute (every request,
    /// with an API key or not); 0 turns the limit off.
    #[arg(long, env = "VIGIE_RATE_LIMIT_IP", default_value_t = 600)]
    pub rate_limit_ip: u32,

    /// Requests an API key may make per minute; 0 turns the limit off.
    #[arg(long, env = "VIGIE_RATE_LIMIT_KEY", default_value_t = 3000)]
    pub rate_limit_key: u32,

    /// Take the client's address from the last `X-Forwarded-For` entry: set
    /// it only behind a proxy that adds that header.
    #[arg(long, env = "VIGIE_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Share the rate limits of every replica through this Redis server
    /// (`redis://HOST:PORT/`), so that a client's limit holds once behind a
    /// load balancer; while it does not answer, each replica counts alone.
    #[arg(long, env = "VIGIE_REDIS_URL", value_name = "URL", value_parser = redis_url)]
    pub redis_url: Option<String>,

    /// A PostgreSQL standby (a streaming replica of `--database-url`) that
    /// anonymous queries read from; repeat it, or separate addresses with
    /// commas, for several. Writes and requests with an API key read the
    /// primary. A standby that does not answer or lags is skipped.
    #[arg(
        long = "read-database-url",
        env = "VIGIE_READ_DATABASE_URLS",
        value_name = "URL",
        value_delimiter = ',',
        value_parser = read_database_url,
        hide_env_values = true
    )]
    pub read_database_urls: Vec<String>,

    /// Furthest behind the primary a standby may be, in milliseconds, and
    /// still be read from.
    #[arg(long, env = "VIGIE_MAX_REPLICA_LAG_MS", default_value_t = crate::server::standbys::DEFAULT_MAX_LAG.as_millis() as u64)]
    pub max_replica_lag_ms: u64,

    /// How long browsers and caches may keep a `GET /graphql` answer, in
    /// seconds.
    #[arg(long, env = "VIGIE_CACHE_MAX_AGE", default_value_t = 60)]
    pub cache_max_age: u32,

    /// Production setting: requests without an API key may run only the
    /// safelisted operations (by `id`, by hash, or by their exact text).
    #[arg(long, env = "VIGIE_SAFELIST_ONLY")]
    pub safelist_only: bool,

    /// Most automatic persisted queries kept (in the database, for every
    /// replica); registering one more forgets the oldest. 0 registers none.
    #[arg(long, env = "VIGIE_MAX_PERSISTED_QUERIES", default_value_t = crate::server::persisted::DEFAULT_KEPT)]
    pub max_persisted_queries: u32,

    /// Most mebibytes of answers kept for anonymous queries, and sent again
    /// until a write changes the data (see docs/api.md). 0 keeps none.
    #[arg(long, env = "VIGIE_ANSWER_CACHE_MB", default_value_t = crate::server::answers::DEFAULT_MIB)]
    pub answer_cache_mb: u32,
    /// Largest document registered as an automatic persisted query, in
    /// bytes; a larger one runs, but is not kept.
    #[arg(long, env = "VIGIE_PERSISTED_QUERY_MAX_BYTES", default_value_t = crate::server::persisted::DEFAULT_MAX_BYTES)]
    pub persisted_query_max_bytes: usize,
    /// Most mebibytes of automatic persisted queries kept in all;
    /// registering more forgets the oldest.
    #[arg(long, env = "VIGIE_PERSISTED_QUERIES_MAX_MB", default_value_t = crate::server::persisted::DEFAULT_MAX_TOTAL_MIB)]
    pub persisted_queries_max_mb: u32,
    /// Automatic persisted queries a client address may register per
    /// minute; 0: no limit of its own.
    #[arg(long, env = "VIGIE_PERSISTED_REGISTRATIONS_PER_MINUTE", default_value_t = crate::server::persisted::DEFAULT_REGISTRATIONS_PER_MINUTE)]
    pub persisted_registrations_per_minute: u32,
    /// Register automatic persisted queries only for requests with an API
    /// key; anonymous clients may still send those already kept.
    #[arg(long, env = "VIGIE_PERSISTED_QUERIES_KEYED_ONLY")]
    pub persisted_queries_keyed_only: bool,
    /// WebSocket connections one client address may keep open.
    #[arg(long, env = "VIGIE_WS_CONNECTIONS_PER_IP", default_value_t = crate::server::socket::SocketLimits::default().connections_per_ip)]
    pub ws_connections_per_ip: usize,
    /// Operations (subscriptions, queries not yet answered) one client
    /// address may have running over its WebSocket connections.
    #[arg(long, env = "VIGIE_WS_OPERATIONS_PER_IP", default_value_t = crate::server::socket::SocketLimits::default().operations_per_ip)]
    pub ws_operations_per_ip: usize,
    /// Operations one WebSocket connection may start per minute (the
    /// address's rate limit applies too); 0: no limit of its own.
    #[arg(long, env = "VIGIE_WS_OPERATIONS_PER_MINUTE", default_value_t = crate::server::socket::SocketLimits::default().operations_per_minute)]
    pub ws_operations_per_minute: u32,
}

impl ServeArgs {
    /// How the server answers over HTTP.
    pub fn http(&self, db_max_connections: u32) -> crate::server::HttpSettings {
        crate::server::HttpSettings {
            max_body_bytes: self.max_body_bytes,
            cors_origins: self
                .cors_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty() && o != "*")
                .collect(),
            rate_limits: crate::server::limits::RateLimits {
                per_ip: self.rate_limit_ip,
                per_key: self.rate_limit_key,
                trust_forwarded_for: self.trust_forwarded_for,
            },
            db_max_connections,
            cache_max_age: self.cache_max_age,
            safelist_only: self.safelist_only,
            answer_cache_bytes: crate::server::answers::budget_of_mib(self.answer_cache_mb),
            persisted: crate::server::persisted::Registration {
                kept: self.max_persisted_queries,
                max_bytes: self.persisted_query_max_bytes,
                max_total_bytes: u64::from(self.persisted_queries_max_mb) << 20,
                per_minute: self.persisted_registrations_per_minute,
                keyed_only: self.persisted_queries_keyed_only,
            },
            socket_limits: crate::server::socket::SocketLimits {
                connections_per_ip: self.ws_connections_per_ip,
                operations_per_ip: self.ws_operations_per_ip,
                operations_per_minute: self.ws_operations_per_minute,
            },
            shared_limits: self
                .redis_url
                .as_deref()
                .and_then(|url| crate::server::limits::SharedLimits::open(url).ok()),
            read_replicas: crate::server::standbys::ReadReplicas {
                standbys: Vec::new(),
                max_lag: std::time::Duration::from_millis(self.max_replica_lag_ms),
            },
        }
    }
}

impl ServeArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            time_limit: self.time_limit(),
            validated_documents: self.validated_documents,
            ..Limits::default()
        }
    }

    /// The time limit of a query, and of a statement on PostgreSQL.
    pub fn time_limit(&self) -> Option<std::time::Duration> {
        (self.query_time_limit_ms > 0)
            .then(|| std::time::Duration::from_millis(self.query_time_limit_ms))
    }
}

/// `--read-database-url`, checked when the hub starts: a PostgreSQL
/// address with a host.
fn read_database_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|err| {
        format!("not a database address ({err}); give postgres://USER@HOST:PORT/DATABASE")
    })?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(format!(
            "a standby is a PostgreSQL server (postgres://…), not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the address names no host".into());
    }
    Ok(text.to_owned())
}

/// `--redis-url`, checked when the hub starts: a Redis address.
fn redis_url(text: &str) -> Result<String, String> {
    crate::server::limits::SharedLimits::open(text)
        .map(|_| text.to_owned())
        .map_err(|err| format!("{err:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_size_is_the_flag_or_the_database_default() {
        let size = |args: &[&str]| {
            Cli::try_parse_from(args)
                .unwrap()
                .database
                .max_connections()
        };
        assert_eq!(
            size(&["vigie", "serve", "--database-url", "sqlite://x.db"]),
            4
        );
        assert_eq!(
            size(&["vigie", "serve", "--database-url", "postgres://h/db"]),
            10
        );
        assert_eq!(
            size(&[
                "vigie",
                "serve",
                "--database-url",
                "sqlite://x.db",
                "--db-max-connections",
                "7"
            ]),
            7
        );
    }

    #[test]
    fn standbys_are_postgresql_addresses_given_once_or_more() {
        let urls = |args: &[&str]| match Cli::try_parse_from(args).map(|cli| cli.command) {
            Ok(Command::Serve(serve)) => Ok(serve.read_database_urls),
            Ok(_) => unreachable!("a serve command"),
            Err(err) => Err(err.to_string()),
        };
        assert_eq!(
            urls(&[
                "vigie",
                "serve",
                "--read-database-url",
                "postgres://a/db",
                "--read-database-url",
                "postgresql://u:p@b:5433/db,postgres://c/db"
            ])
            .unwrap(),
            [
                "postgres://a/db",
                "postgresql://u:p@b:5433/db",
                "postgres://c/db"
            ]
        );
        for wrong in ["standby", "sqlite://x.db", "postgres:///db"] {
            let err = urls(&["vigie", "serve", "--read-database-url", wrong]).unwrap_err();
            assert!(err.contains("--read-database-url"), "{wrong}: {err}");
        }
    }

    #[test]
    fn the_time_limit_is_ten_seconds_unless_set_and_zero_lifts_it() {
        let limit = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Command::Serve(serve) => serve.limits().time_limit,
            _ => unreachable!("a serve command"),
        };
        assert_eq!(
            limit(&["vigie", "serve"]),
            Some(std::time::Duration::from_secs(10))
        );
        assert_eq!(
            limit(&["vigie", "serve", "--query-time-limit-ms", "250"]),
            Some(std::time::Duration::from_millis(250))
        );
        assert_eq!(
            limit(&["vigie", "serve", "--query-time-limit-ms", "0"]),
            None
        );
    }
}
