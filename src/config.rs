//! Typed configuration: the command line and the environment, in one place.
//!
//! Every setting is a flag with an environment variable behind it; the doc comment on each field
//! is its reference (shown by `--help` and copied into the README's configuration table).
//!
//! `--help` names each variable but never shows its value (`hide_env_values` on every argument
//! with an `env`): `DATABASE_URL` carries a password and `DECISION_LOG_TOKEN` a token, and help
//! text ends up in terminals, screenshots and CI logs.

use clap::{Args, Parser, Subcommand};

use crate::base_url::{IpRange, PublicUrl};
use crate::store::{Power, Role};
use crate::telemetry::LogFormat;

/// The embedded default: a SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://decision-log.db?mode=rwc";

/// decision-log: a tamper-evident, append-only log of organisational decisions.
#[derive(Debug, Parser)]
#[command(name = "decision-log", version, about)]
pub struct Cli {
    /// How log events are written to standard error: `text` (one line each) or `json` (one JSON
    /// object per line, for log pipelines).
    #[arg(
        long,
        global = true,
        env = "DECISION_LOG_LOG_FORMAT",
        hide_env_values = true,
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
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
    /// Check the log (from its database, over HTTP, or from an export) or a receipt: every entry
    /// hash, chain link, disclosure and lineage rule, the Merkle root and the checkpoint
    /// signature.
    Verify(VerifyConfig),
    /// Write the whole log to standard output as JSON Lines, for `verify --file`.
    Export(ExportConfig),
    /// Print the OpenAPI document.
    Openapi,
    /// Rebuild the read views (decisions, participants, tags) from the log alone.
    RebuildViews(DatabaseConfig),
    /// Create a signing key for a log: writes the private key file, prints the verifier key.
    Keygen {
        /// The log's origin, which names the key and heads every checkpoint, e.g.
        /// `decisions.example.gov.uk/log` (no spaces, no `+`).
        #[arg(long)]
        origin: String,
        /// Where to write the private key (the file must not exist).
        #[arg(long, default_value = "decision-log.key")]
        out: std::path::PathBuf,
    },
}

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret once.
    Create {
        /// Database connection.
        #[command(flatten)]
        database: DatabaseConfig,
        /// A unique name of `a-z 0-9 - _ .`; it is written into every entry the token records,
        /// so name it after an office (`cabinet-clerk`), never a person.
        #[arg(long)]
        name: String,
        /// What the token may do.
        #[arg(long, value_enum)]
        role: Role,
        /// A registered body a secretariat token records for (repeat for several).
        #[arg(long = "body")]
        bodies: Vec<String>,
        /// A power of a redactor token (repeat for both).
        #[arg(long = "power", value_enum)]
        powers: Vec<Power>,
        /// When the token stops working (RFC 3339), e.g. `2027-03-31T00:00:00Z`.
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// List tokens (never their secrets).
    List {
        /// Database connection.
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        /// Database connection.
        #[command(flatten)]
        database: DatabaseConfig,
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

/// Settings of `verify`. With none of `--url`, `--file` and `--receipt`, the database is checked.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("source").args(["url", "file", "receipt"])))]
pub struct VerifyConfig {
    /// Database connection (when checking the database).
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Check a live log at this base URL, e.g. `https://decisions.example.gov.uk`.
    #[arg(long, requires = "vkey")]
    pub url: Option<String>,
    /// Check an export written by `decision-log export`.
    #[arg(long, requires = "vkey")]
    pub file: Option<std::path::PathBuf>,
    /// Check a receipt (JSON, or a C2SP tlog-proof).
    #[arg(long, requires = "vkey")]
    pub receipt: Option<std::path::PathBuf>,
    /// The log's verifier key (`name+keyid+base64`), or a file holding it. Obtain it from the
    /// log's operator, not from the log.
    #[arg(long)]
    pub vkey: Option<String>,
    /// With `--url`: an API token, so that the disclosures of internal and restricted records are
    /// served too and checked against their commitments (anonymously only public ones are).
    #[arg(
        long,
        env = "DECISION_LOG_TOKEN",
        hide_env_values = true,
        requires = "url"
    )]
    pub token: Option<String>,
    /// With `--url`: a file remembering the last checkpoint verified. The next run checks that the
    /// log still extends it, then reads only the entries appended since (a resumed run does not
    /// check the lineage rules, which need the whole log: use `--full` now and then).
    #[arg(long, requires = "url")]
    pub state: Option<std::path::PathBuf>,
    /// With `--url`: who the disclosures are served to, for the check that each reader is served
    /// exactly what `docs/log-format.md` §6 gives it: `anonymous`, a role (`staff`,
    /// `secretariat`, `admin`: any authenticated reader; `auditor`, `redactor`), or
    /// `authenticated`. Default: `auditor` with `--token`, `anonymous` without.
    #[arg(long, requires = "url", value_parser = parse_reader)]
    pub reader: Option<ledger::Reader>,
    /// With `--state`: re-read every entry instead of resuming, lineage rules included.
    #[arg(long, requires = "state")]
    pub full: bool,
    /// Print one JSON object instead of text, and no progress bar.
    #[arg(long)]
    pub json: bool,
}

/// Settings of `export`.
#[derive(Debug, Clone, Args)]
pub struct ExportConfig {
    /// The log's base URL, e.g. `https://decisions.example.gov.uk`.
    #[arg(long)]
    pub url: String,
    /// An API token: the export then holds the disclosures served to it.
    #[arg(long, env = "DECISION_LOG_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Who the token reads as (see `verify --reader`); recorded in the export's header.
    #[arg(long, value_parser = parse_reader)]
    pub reader: Option<ledger::Reader>,
}

/// A reader class named on the command line.
fn parse_reader(text: &str) -> Result<ledger::Reader, String> {
    ledger::Reader::parse(text).ok_or_else(|| {
        format!(
            "{text:?} is not a reader: use anonymous, authenticated, staff, secretariat, admin, \
             auditor or redactor"
        )
    })
}

/// Where the log's database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://PATH?mode=rwc` (embedded, the default) or
    /// `postgres://USER:PASSWORD@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

/// Settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Database connection.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Largest number of pooled database connections.
    #[arg(
        long,
        env = "DECISION_LOG_MAX_CONNECTIONS",
        hide_env_values = true,
        default_value_t = 10
    )]
    pub max_connections: u32,
    /// Address and port to listen on; port 0 picks a free port.
    #[arg(
        long,
        env = "DECISION_LOG_BIND",
        hide_env_values = true,
        default_value = "127.0.0.1:8080"
    )]
    pub bind: String,
    /// The log's signing key file (from `decision-log keygen`). Without it, the embedded SQLite
    /// default keeps a key beside the database file, creating it on first start; PostgreSQL
    /// requires one.
    #[arg(long, env = "DECISION_LOG_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<std::path::PathBuf>,
    /// The log's origin, used when the first start creates the key (default: a random
    /// `decision-log/…`); when given with an existing key, it must match the key's name.
    #[arg(long, env = "DECISION_LOG_ORIGIN", hide_env_values = true)]
    pub origin: Option<String>,
    /// The least time between two checkpoints, in milliseconds: a checkpoint is signed as soon
    /// as the tree has grown and this long has passed since the last.
    #[arg(
        long,
        env = "DECISION_LOG_CHECKPOINT_INTERVAL_MS",
        hide_env_values = true,
        default_value_t = 500
    )]
    pub checkpoint_interval_ms: u64,
    /// The most decision and lineage appends committed together in one transaction.
    #[arg(
        long,
        env = "DECISION_LOG_APPEND_BATCH_MAX",
        hide_env_values = true,
        default_value_t = 256,
        value_parser = clap::value_parser!(u16).range(1..=4096)
    )]
    pub append_batch_max: u16,
    /// How long a batch of appends waits for more once the queue is empty, in microseconds
    /// (0, the default: batches form from what queued while the previous batch committed).
    #[arg(
        long,
        env = "DECISION_LOG_APPEND_BATCH_DELAY_US",
        hide_env_values = true,
        default_value_t = 0,
        value_parser = clap::value_parser!(u32).range(0..=100_000)
    )]
    pub append_batch_delay_us: u32,
    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "DECISION_LOG_WORKERS", hide_env_values = true)]
    pub workers: Option<usize>,
    /// Whether readers without a token may read public decisions, the log and its proofs
    /// (`false` for an intranet where every reader signs in).
    #[arg(
        long,
        env = "DECISION_LOG_ANONYMOUS_READ", hide_env_values = true,
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub anonymous_read: bool,
    /// On a database with no tokens at all, create an admin token named `admin` and print its
    /// secret once, so a new deployment can be set up over HTTP.
    #[arg(
        long,
        env = "DECISION_LOG_FIRST_RUN_ADMIN", hide_env_values = true,
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub first_run_admin: bool,
    /// The name at the top of every page, e.g. `Northshire Council decisions`.
    #[arg(
        long,
        env = "DECISION_LOG_SITE_NAME",
        hide_env_values = true,
        default_value = "Decision log"
    )]
    pub site_name: String,
    /// The base URL readers reach the service at, e.g. `https://decisions.example.gov.uk`
    /// (`http` or `https`, a host and optional port, no path). Every absolute link — in feeds and
    /// in the `/log` page's instructions to auditors — uses it, whatever the request's headers
    /// say. Without it, links use the `Host` header when it is a plain `host[:port]`, else the
    /// listen address; set it on every deployment readers reach by name.
    #[arg(long, env = "DECISION_LOG_PUBLIC_URL", hide_env_values = true)]
    pub public_url: Option<PublicUrl>,
    /// Comma-separated IP addresses or CIDR blocks of the reverse proxies in front of the
    /// service, e.g. `10.0.0.7,fd00::/8`. Only a request from one of them may set the scheme and
    /// host of links through `Forwarded` or `X-Forwarded-Proto` / `X-Forwarded-Host` (ignored
    /// when `--public-url` is set); from anyone else these headers are ignored. Default: none.
    #[arg(
        long,
        env = "DECISION_LOG_TRUSTED_PROXIES",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpRange>,
    /// Comma-separated origins whose browser pages may read this API (CORS), e.g.
    /// `https://dashboard.county.example.gov.uk`. They may `GET` and `HEAD` without credentials,
    /// so they read what an anonymous reader reads; writes and tokens are never allowed across
    /// origins. Default: none (no CORS headers at all).
    #[arg(
        long,
        env = "DECISION_LOG_CORS_ALLOWED_ORIGINS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub cors_allowed_origins: Vec<PublicUrl>,
    /// How long a client may take to send a request's line and headers, in milliseconds; a
    /// slower one is answered 408 and disconnected.
    #[arg(
        long,
        env = "DECISION_LOG_CLIENT_REQUEST_TIMEOUT_MS",
        hide_env_values = true,
        default_value_t = 10_000
    )]
    pub client_request_timeout_ms: u64,
    /// How long a write's body may take to arrive once the server reads it (after the token is
    /// checked), in milliseconds; a slower one is answered 408 and disconnected.
    #[arg(
        long,
        env = "DECISION_LOG_BODY_READ_TIMEOUT_MS",
        hide_env_values = true,
        default_value_t = 10_000
    )]
    pub body_read_timeout_ms: u64,
    /// How long a connection may take to close after its response, in milliseconds.
    #[arg(
        long,
        env = "DECISION_LOG_CLIENT_DISCONNECT_TIMEOUT_MS",
        hide_env_values = true,
        default_value_t = 5_000
    )]
    pub client_disconnect_timeout_ms: u64,
    /// Most open HTTP connections per worker; more wait in the backlog. With the body limits
    /// this bounds the memory requests can hold: per worker, at most this many request heads
    /// (128 KiB each at most) and bodies (256 KiB each at most, and only for a caller whose token
    /// allows the write).
    #[arg(
        long,
        env = "DECISION_LOG_HTTP_MAX_CONNECTIONS",
        hide_env_values = true,
        default_value_t = 256
    )]
    pub http_max_connections: usize,
    /// Most connections waiting to be accepted (the listen backlog).
    #[arg(
        long,
        env = "DECISION_LOG_HTTP_BACKLOG",
        hide_env_values = true,
        default_value_t = 1_024
    )]
    pub http_backlog: u32,
    /// On SIGINT or SIGTERM, how long requests in flight may take to finish, in seconds, while
    /// no new connection is accepted; those still running then are cut off.
    #[arg(
        long,
        env = "DECISION_LOG_SHUTDOWN_TIMEOUT_SECS",
        hide_env_values = true,
        default_value_t = 30
    )]
    pub shutdown_timeout_secs: u64,
}

impl ServeConfig {
    /// Settings for a server on `database_url` with the key at `signing_key`, listening on a free
    /// loopback port and signing checkpoints every 100 ms.
    pub fn for_tests(database_url: &str, signing_key: &std::path::Path) -> ServeConfig {
        ServeConfig {
            database: DatabaseConfig {
                database_url: database_url.to_owned(),
            },
            max_connections: 10,
            signing_key: Some(signing_key.to_owned()),
            origin: None,
            checkpoint_interval_ms: 100,
            append_batch_max: 256,
            append_batch_delay_us: 0,
            bind: "127.0.0.1:0".into(),
            workers: Some(2),
            anonymous_read: true,
            first_run_admin: false,
            site_name: "Decision log".into(),
            public_url: None,
            trusted_proxies: Vec::new(),
            cors_allowed_origins: Vec::new(),
            client_request_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            client_disconnect_timeout_ms: 5_000,
            http_max_connections: 256,
            http_backlog: 1_024,
            shutdown_timeout_secs: 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every argument of `command` and its subcommands that reads the environment.
    fn env_args(command: &clap::Command, out: &mut Vec<(String, bool)>) {
        for arg in command.get_arguments() {
            if arg.get_env().is_some() {
                out.push((
                    format!("{} --{}", command.get_name(), arg.get_id()),
                    arg.is_hide_env_values_set(),
                ));
            }
        }
        for sub in command.get_subcommands() {
            env_args(sub, out);
        }
    }

    #[test]
    fn help_never_shows_the_value_of_an_environment_variable() {
        let mut args = Vec::new();
        env_args(&Cli::command(), &mut args);
        assert!(args.len() >= 13, "{args:?}");
        for (arg, hidden) in args {
            assert!(hidden, "{arg} would print its environment value in --help");
        }
    }
}
