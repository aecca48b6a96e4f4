//! Typed configuration: the command line and the environment, in one place.
//!
//! Every setting is a flag with an environment variable behind it; the doc comment on each field
//! is its reference (shown by `--help` and copied into the README's configuration table).

use clap::{Args, Parser, Subcommand};

use crate::store::Role;

/// The embedded default: a SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://decision-log.db?mode=rwc";

/// decision-log: a tamper-evident, append-only log of organisational decisions.
#[derive(Debug, Parser)]
#[command(name = "decision-log", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API.
    Serve(ServeConfig),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Re-read every entry and check every hash, chain link and disclosure.
    Verify(DatabaseConfig),
    /// Print the OpenAPI document.
    Openapi,
    /// Rebuild the read views (decisions, participants, tags) from the log alone.
    RebuildViews(DatabaseConfig),
}

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret once.
    Create {
        /// Database connection.
        #[command(flatten)]
        database: DatabaseConfig,
        /// A unique name; it is written into every entry the token records.
        #[arg(long)]
        name: String,
        /// What the token may do.
        #[arg(long, value_enum)]
        role: Role,
        /// A body slug a secretariat token may record for (repeat for several).
        #[arg(long = "body")]
        bodies: Vec<String>,
    },
}

/// Where the log's database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://PATH?mode=rwc` (embedded, the default) or
    /// `postgres://USER:PASSWORD@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

/// Settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Database connection.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Largest number of pooled database connections.
    #[arg(long, env = "DECISION_LOG_MAX_CONNECTIONS", default_value_t = 10)]
    pub max_connections: u32,
    /// Address and port to listen on; port 0 picks a free port.
    #[arg(long, env = "DECISION_LOG_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "DECISION_LOG_WORKERS")]
    pub workers: Option<usize>,
}

impl ServeConfig {
    /// Settings for a server on `database_url`, listening on a free loopback port.
    pub fn for_tests(database_url: &str) -> ServeConfig {
        ServeConfig {
            database: DatabaseConfig {
                database_url: database_url.to_owned(),
            },
            max_connections: 10,
            bind: "127.0.0.1:0".into(),
            workers: Some(2),
        }
    }
}
