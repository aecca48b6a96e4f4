//! Storage: the one append transaction, the read views derived from the log, and API tokens.
//!
//! The log lives in `log_entries` (canonical entry bytes, never updated or deleted) and
//! `disclosures` (the salted values that open the entries' commitments). `log_head` is a single
//! row holding the size and head hash; [`Store::append`] is the only writer of all three.
//! Everything derived (`decisions`, `decision_participants`, `decision_tags`, `decision_events`,
//! the search index `decision_search` and the statistics rollups) is written by [`views`] alone,
//! in the same transaction as the append, and can be rebuilt from the log alone
//! ([`Store::rebuild_views`]). Bodies, tokens and idempotency keys are configuration and
//! bookkeeping, not derived from the log; but every token's creation and revocation is also
//! appended to it, as an `access.*` entry, in the same transaction.
//!
//! SQLite is the embedded default and PostgreSQL the production backend. Both run the same
//! migrations and the same code; the differences (how the head is locked, connection pragmas) are
//! confined to [`Store::connect`] and [`append`].

mod append;
mod audit;
mod batch;
mod checkpoints;
mod effects;
mod entities;
mod entries;
mod idempotency;
mod lineage;
mod open;
mod registry;
mod search;
mod sequencer;
mod stats;
mod tokens;
mod tree;
mod views;

use std::time::Duration;

use chrono::{DateTime, Utc};
use ledger::Hash;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, EntityTrait,
};

pub use append::{Appended, NewEntry};
pub use audit::{AuditBatch, EntryColumns, ViewCopy, completed_ranges};
pub use checkpoints::StoredCheckpoint;
pub use entries::StoredEntry;
pub use idempotency::{Claim, KEY_RETENTION, RegistryOutcome, Replay, Written};
pub use lineage::LineageRequest;
pub use registry::{
    Body, BodyChange, BodyKind, EndMembership, Member, NewBody, NewMember, end_member, insert_body,
    insert_member,
};
pub use search::{MATCH_END, MATCH_START, SearchHit, SearchPage};
pub use sequencer::Batching;
pub use stats::{Statistics, StatsFilter, Tally};
pub use tokens::{MAX_TOKEN_BODIES, NewToken, Power, Role, Token, TokenInfo};
pub use tokens::{OPERATOR, insert_token};
pub use tree::{ConsistencyProof, InclusionProof, TILE_WIDTH, TreeRequestError};
pub use views::{DecisionFilter, DecisionRow, DecisionView, Event, ListOrder};

use entities::log_head;

/// The server's clock, injected so that tests can fix time.
pub type Clock = std::sync::Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    std::sync::Arc::new(Utc::now)
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// The database cannot be opened (at start): the message names the file, server or database
    /// at fault and the likely fix, never the URL's password.
    #[error("{0}")]
    CannotOpen(String),
    /// The stored log contradicts itself; appends are refused until an operator investigates.
    #[error("the log is inconsistent: {0}")]
    Inconsistent(String),
    /// The canonical entry exceeds [`MAX_ENTRY_BYTES`].
    #[error("the canonical entry is {size} bytes; the limit is {MAX_ENTRY_BYTES}")]
    EntryTooLarge {
        /// Size of the canonical entry.
        size: usize,
    },
    /// Another append took the position this one read; nothing was written and a retry succeeds.
    #[error("another append took leaf {leaf_index}; retry")]
    Contention {
        /// The position both appends claimed.
        leaf_index: u64,
    },
    /// The signing key or origin is not the one the log was created with.
    #[error(
        "this log was created with origin {pinned_origin:?} and verifier key {pinned_vkey}, \
         but the service was started with origin {origin:?} and verifier key {vkey}; \
         start it with the original signing key"
    )]
    IdentityMismatch {
        /// Origin pinned at creation.
        pinned_origin: String,
        /// Verifier key pinned at creation.
        pinned_vkey: String,
        /// Origin presented now.
        origin: String,
        /// Verifier key presented now.
        vkey: String,
    },
    /// A name that must be unique is taken.
    #[error("{0} already exists")]
    Duplicate(String),
    /// What was asked is malformed; every offending field is named. Nothing was written.
    #[error("the request is not valid")]
    Invalid(Vec<crate::record::FieldError>),
    /// The request is well formed but the current state does not allow it. Nothing was written.
    #[error("{0}")]
    Conflict(String),
    /// What the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// An idempotency key was reused for a different request.
    #[error("this Idempotency-Key was already used for a different request")]
    KeyReused,
    /// The batch this append was part of did not commit: nothing of it was appended, and a
    /// retry may succeed. The cause is the database's, logged by the sequencer and not sent.
    #[error("the append did not commit; nothing was appended, retry")]
    NotCommitted(String),
}

impl From<crate::lineage::Refusal> for StoreError {
    fn from(refusal: crate::lineage::Refusal) -> StoreError {
        match refusal {
            crate::lineage::Refusal::Invalid(errors) => StoreError::Invalid(errors),
            crate::lineage::Refusal::Conflict(why) => StoreError::Conflict(why),
        }
    }
}

/// The largest canonical entry accepted: 65,535 bytes, because C2SP tlog-tiles entry bundles
/// prefix each entry with its length as a big-endian uint16.
pub const MAX_ENTRY_BYTES: usize = 65_535;

/// Size and head hash of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Number of entries.
    pub tree_size: u64,
    /// Entry hash of the last entry, or the genesis constant for an empty log.
    pub head_hash: Hash,
}

/// A connection pool to the log's database.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// What this process appended, for `/metrics`.
    appends: std::sync::Arc<crate::metrics::AppendMetrics>,
    /// How appends are batched, and the sequencer that batches them, started by the first.
    batching: Batching,
    sequencer: std::sync::Arc<std::sync::OnceLock<sequencer::Sequencer>>,
    /// Woken when the head has moved: by this process's appends, and on PostgreSQL by every
    /// process's ([`Store::follow_heads`]).
    head_moved: std::sync::Arc<tokio::sync::Notify>,
}

/// The PostgreSQL channel every append notifies at commit ([`Store::follow_heads`]).
pub(crate) const HEAD_CHANNEL: &str = "decision_log_head";

/// Prepared statements kept per connection. A batch of appends writes each table with at most
/// nine shapes of multi-row statement ([`batch::chunk_sizes`]): enough room for all of them and
/// for every read, so that no statement is parsed twice on one connection.
const STATEMENT_CACHE: usize = 512;

impl Store {
    /// Connects, applies pending migrations and returns the store. A `sqlite:` URL creates the
    /// file if needed and runs it in WAL mode with full fsync, so that an acknowledged append
    /// survives a power cut.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let kind = open::check(url).await?;
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            // sea-orm sets sqlx's acquire timeout from both settings, the later winning; the
            // first connection was already made (and timed) by `open::check` on PostgreSQL.
            .acquire_timeout(Duration::from_secs(30))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
                    // Erased values are overwritten on disk, not left in free pages.
                    .pragma("secure_delete", "ON")
                    .statement_cache_capacity(STATEMENT_CACHE)
            })
            .map_sqlx_postgres_opts(|opts| opts.statement_cache_capacity(STATEMENT_CACHE));
        let opened = match Database::connect(options).await {
            Ok(db) => migrate(&db).await.map(|()| db),
            Err(error) => Err(error),
        };
        let db = match (opened, kind) {
            (Ok(db), _) => db,
            // Opening the file or its first write failed: name the file or folder at fault.
            (Err(error), open::Kind::Sqlite(Some(path))) => {
                return Err(open::explain_sqlite(&path, &error));
            }
            (Err(error), _) => return Err(error.into()),
        };
        let store = Store::over(db);
        let extended = store.extend_tree().await?;
        if extended > 0 {
            tracing::info!(
                leaves = extended,
                "extended the Merkle tree over entries recorded before it existed"
            );
        }
        search::backfill(&store).await?;
        store.backfill_stats().await?;
        let grants = store.backfill_grants(Utc::now()).await?;
        if grants > 0 {
            tracing::info!(
                tokens = grants,
                "recorded the grants of tokens created before grants were logged"
            );
        }
        Ok(store)
    }

    /// Which database this is.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(StoreError::from)
    }

    /// The current size and head hash.
    pub async fn head(&self) -> Result<Head, StoreError> {
        let row = log_head::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::Inconsistent("the log_head row is missing".into()))?;
        head_of(&row)
    }

    fn over(db: DatabaseConnection) -> Store {
        Store {
            db,
            appends: std::sync::Arc::default(),
            batching: Batching::default(),
            sequencer: std::sync::Arc::default(),
            head_moved: std::sync::Arc::default(),
        }
    }

    /// This store, batching its appends as `batching` says. Call before the first append.
    pub fn with_batching(mut self, batching: Batching) -> Store {
        self.batching = batching;
        self.sequencer = std::sync::Arc::default();
        self
    }

    /// The process's sequencer, started on first use (inside the runtime that serves). Its task
    /// holds a copy of this store without the sequencer, so that it ends once every handle that
    /// can queue to it has been dropped.
    fn sequencer(&self) -> &sequencer::Sequencer {
        self.sequencer.get_or_init(|| {
            let worker = Store {
                sequencer: std::sync::Arc::default(),
                ..self.clone()
            };
            sequencer::Sequencer::start(worker, self.batching)
        })
    }

    /// Waits until the head may have moved since the last call returned: an append of this
    /// process committed, or, on PostgreSQL, any process's (while [`Store::follow_heads`] runs).
    /// Moves in between are told once.
    pub async fn head_moved(&self) {
        self.head_moved.notified().await;
    }

    /// Tells [`Store::head_moved`] that an append has committed.
    fn moved(&self) {
        self.head_moved.notify_one();
    }

    /// On PostgreSQL, wakes [`Store::head_moved`] whenever any process moves the head: every
    /// append sends `NOTIFY` on [`HEAD_CHANNEL`] in its transaction, which the server delivers
    /// at commit to every listener. Runs until dropped, listening again after a lost connection,
    /// on one connection of its own beside the pool.
    /// On SQLite there is nothing to follow: it returns at once.
    pub async fn follow_heads(self) {
        if self.backend() != DbBackend::Postgres {
            return;
        }
        // A connection of its own, outside the pool that serves requests: a listener holds its
        // connection for good, and would otherwise take one of `--max-connections` (all of them
        // with a pool of one).
        let options = (*self.db.get_postgres_connection_pool().connect_options()).clone();
        let own = sea_orm::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(options);
        loop {
            let listening = async {
                let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&own).await?;
                listener.listen(HEAD_CHANNEL).await?;
                // The head may have moved while nobody listened.
                self.moved();
                loop {
                    listener.recv().await?;
                    self.moved();
                }
            };
            let Err::<std::convert::Infallible, sea_orm::sqlx::Error>(error) = listening.await;
            tracing::warn!(%error, "lost the notifications of new heads; listening again in 1 s");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Appends queued and not yet taken into a batch, for `/metrics`.
    pub fn append_queue_depth(&self) -> u64 {
        self.sequencer.get().map_or(0, sequencer::Sequencer::depth)
    }

    /// The counts and latencies of the appends made through this store (and its clones).
    pub fn append_metrics(&self) -> &crate::metrics::AppendMetrics {
        &self.appends
    }

    /// The connection pool's use: (in use, idle, largest size). Reads counters the pool keeps;
    /// asks the database nothing.
    pub fn pool_use(&self) -> (u64, u64, u64) {
        fn of<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> (u64, u64, u64) {
            let size = u64::from(pool.size());
            let idle = u64::try_from(pool.num_idle()).unwrap_or(u64::MAX);
            (
                size.saturating_sub(idle),
                idle,
                u64::from(pool.options().get_max_connections()),
            )
        }
        // Each accessor panics on the other backend: the match keeps them apart.
        match self.backend() {
            DbBackend::Sqlite => of(self.db.get_sqlite_connection_pool()),
            DbBackend::Postgres => of(self.db.get_postgres_connection_pool()),
            _ => (0, 0, 0),
        }
    }

    /// The raw connection, for tests that tamper with the database behind the service's back.
    #[doc(hidden)]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

fn head_of(row: &log_head::Model) -> Result<Head, StoreError> {
    Ok(Head {
        tree_size: u64::try_from(row.tree_size)
            .map_err(|_| StoreError::Inconsistent("negative tree size".into()))?,
        head_hash: Hash::from_slice(&row.head_hash)
            .map_err(|_| StoreError::Inconsistent("head hash is not 32 bytes".into()))?,
    })
}

/// Applies pending migrations. Several instances may start at once on one PostgreSQL: a session
/// advisory lock makes them take turns, so each migration runs exactly once.
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    const MIGRATION_LOCK: i64 = 0x6465_6369_7369_6f6e; // "decision"
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    // The lock is held by one pooled connection for the duration; a transaction pins it there.
    let txn = sea_orm::TransactionTrait::begin(db).await?;
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        .await?;
    Migrator::up(&txn, None).await?;
    txn.commit().await
}
