//! What an entry does to the values kept beside the log, in the append's transaction.
//!
//! `decision.redacted` deletes the erased disclosure — value and salt — so the value cannot be
//! recovered from anything the service holds; the commitment in the hashed entry stays, and the
//! chain and every proof still verify. `decision.published` marks the published disclosures
//! `public`, so that anyone is served them and can check them against the commitments recorded
//! at the time. These are the only changes ever made to `disclosures`.
//!
//! Effects are not replayed when the read views are rebuilt: the disclosures already reflect
//! them.
//!
//! Deleting a row is not enough for an erasure: the database keeps deleted content in its own
//! files. [`Erasure::scrub`] runs after an erasure commits and removes those copies, so that an erasure
//! is answered only once the value is gone from the database files:
//!
//! - SQLite runs with `secure_delete` (deleted cells and freed pages are overwritten with
//!   zeros), and FTS5's `secure-delete` for the search index; the old page images that remain in
//!   the write-ahead log are removed by a `TRUNCATE` checkpoint, which copies the current pages
//!   into the database file and empties the log.
//! - PostgreSQL never overwrites a dead row in place, and a plain `VACUUM` leaves its bytes in
//!   the free space of the page. `VACUUM FULL` of the tables that hold personal values writes
//!   them anew and deletes the old files, once no snapshot older than the erasure remains (a
//!   rewrite keeps the rows such a snapshot may still read). It takes those tables' exclusive
//!   lock, so reads and
//!   appends wait for it: its cost grows with the size of those tables (docs/API.md,
//!   "Erasure"). The write-ahead log, replicas and backups keep what they hold until they are
//!   recycled.

use std::time::Duration;

use ledger::{Disclosure, Entry, EntryKind};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};
use serde_json::Value;

use super::StoreError;
use super::entities::{disclosure, log_entry};

fn bad(entry: &Entry, what: &str) -> StoreError {
    StoreError::Inconsistent(format!("leaf {}: {what}", entry.leaf_index))
}

/// Carries out `entry`'s effect on stored disclosures, if it has one. `disclosures` are the
/// entry's own: a redaction of a non-public decision commits its path.
pub(super) async fn apply(
    db: &impl ConnectionTrait,
    entry: &Entry,
    disclosures: &[Disclosure],
) -> Result<(), StoreError> {
    match entry.kind {
        EntryKind::DecisionRedacted => {
            let mut record = entry.record.clone();
            ledger::disclosure::reveal_all(&mut record, disclosures)
                .map_err(|e| bad(entry, &e.to_string()))?;
            let leaf = record["leaf_index"]
                .as_i64()
                .ok_or_else(|| bad(entry, "redaction without leaf_index"))?;
            let path = record["path"]
                .as_str()
                .ok_or_else(|| bad(entry, "redaction without path"))?;
            disclosure::Entity::delete_many()
                .filter(disclosure::Column::LeafIndex.eq(leaf))
                .filter(disclosure::Column::Path.eq(path))
                .exec(db)
                .await?;
        }
        EntryKind::DecisionPublished => {
            let leaves = Query::select()
                .column(log_entry::Column::LeafIndex)
                .from(log_entry::Entity)
                .and_where(log_entry::Column::DecisionId.eq(entry.decision_id.as_str()))
                .and_where(log_entry::Column::LeafIndex.lt(entry.leaf_index as i64))
                .to_owned();
            let mut update = disclosure::Entity::update_many()
                .col_expr(disclosure::Column::Visibility, Expr::value("public"))
                .filter(disclosure::Column::LeafIndex.in_subquery(leaves));
            if entry.record["scope"] == "fields" {
                let fields = entry.record["fields"]
                    .as_array()
                    .ok_or_else(|| bad(entry, "publication without fields"))?;
                let mut paths = sea_orm::Condition::any();
                for field in fields.iter().filter_map(Value::as_str) {
                    let token = ledger::disclosure::escape_pointer_token(field);
                    for prefix in [format!("/{token}"), format!("/changes/{token}")] {
                        paths = paths
                            .add(disclosure::Column::Path.eq(prefix.as_str()))
                            .add(disclosure::Column::Path.starts_with(format!("{prefix}/")));
                    }
                }
                update = update.filter(paths);
            }
            update.exec(db).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The tables that hold personal values in clear, which PostgreSQL rewrites after an erasure.
const PERSONAL_TABLES: &str = "disclosures, decisions, decision_participants, decision_events";

/// How often a scrub that found readers in the way (a SQLite checkpoint, or PostgreSQL snapshots
/// older than the erasure) looks again, and how long apart: readers finish within milliseconds,
/// so this waits a few seconds at most.
const CHECKPOINT_TRIES: u32 = 50;
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(100);

/// An erasure in progress: begun inside the append's transaction, scrubbed after its commit.
pub(super) struct Erasure {
    /// PostgreSQL: the erasing transaction's id, as a 32-bit `xid` in text.
    xid: Option<String>,
}

impl Erasure {
    /// Notes what [`Erasure::scrub`] needs from the erasing transaction, inside it.
    pub(super) async fn begin(txn: &impl ConnectionTrait) -> Result<Erasure, StoreError> {
        let xid = match txn.get_database_backend() {
            DbBackend::Postgres => {
                let row = txn
                    .query_one_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT (txid_current() % 4294967296)::text AS xid",
                    ))
                    .await?
                    .ok_or_else(|| StoreError::Inconsistent("no transaction id".into()))?;
                Some(row.try_get::<String>("", "xid")?)
            }
            _ => None,
        };
        Ok(Erasure { xid })
    }

    /// Removes the copies of deleted content that the database keeps in its files, once the
    /// erasure has committed. Runs outside any transaction (neither statement may run inside
    /// one).
    pub(super) async fn scrub(self, db: &impl ConnectionTrait) -> Result<(), StoreError> {
        match (db.get_database_backend(), self.xid) {
            (DbBackend::Postgres, Some(xid)) => {
                // `VACUUM FULL` keeps a dead row that a snapshot older than the erasure may still
                // read, or that a transaction begun before it holds back. Both belong to requests
                // in flight: wait for them to end, on every database of the server, since some
                // horizons are computed across databases.
                for _ in 0..CHECKPOINT_TRIES {
                    let row = db
                        .query_one_raw(Statement::from_sql_and_values(
                            DbBackend::Postgres,
                            "SELECT count(*) AS older FROM pg_stat_activity \
                             WHERE pid <> pg_backend_pid() \
                             AND ((backend_xmin IS NOT NULL AND age(backend_xmin) >= age($1::xid)) \
                             OR (backend_xid IS NOT NULL AND age(backend_xid) > age($1::xid)))",
                            [xid.clone().into()],
                        ))
                        .await?
                        .ok_or_else(|| StoreError::Inconsistent("no activity count".into()))?;
                    if row.try_get::<i64>("", "older")? == 0 {
                        break;
                    }
                    tokio::time::sleep(CHECKPOINT_PAUSE).await;
                }
                db.execute_unprepared(&format!("VACUUM (FULL) {PERSONAL_TABLES}"))
                    .await?;
                Ok(())
            }
            (backend, _) => {
                for _ in 0..CHECKPOINT_TRIES {
                    let row = db
                        .query_one_raw(Statement::from_string(
                            backend,
                            "PRAGMA wal_checkpoint(TRUNCATE)",
                        ))
                        .await?
                        .ok_or_else(|| StoreError::Inconsistent("no checkpoint result".into()))?;
                    // (busy, frames in the log, frames checkpointed): busy means a reader still
                    // needed the old pages and the log could not be emptied.
                    let busy: i32 = row.try_get_by_index(0)?;
                    if busy == 0 {
                        return Ok(());
                    }
                    tokio::time::sleep(CHECKPOINT_PAUSE).await;
                }
                Err(StoreError::Database(sea_orm::DbErr::Custom(
                    "the write-ahead log could not be emptied after an erasure: readers kept it \
                     busy"
                        .into(),
                )))
            }
        }
    }
}
