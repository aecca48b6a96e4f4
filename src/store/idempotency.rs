//! Idempotency keys: a retried POST returns the original result and writes nothing more.
//!
//! A key is scoped to the token that used it. The first request with a key records the hash of
//! the request (method, path and canonical body) and what it produced — the leaf index of the log
//! entry it appended, or the response of a registry write — in the same transaction as the write
//! itself, so the write and the key commit together or not at all. A retry with the same key and
//! request replays the result; the same key with another request is refused.
//!
//! For log appends the key is checked under the append lock, so concurrent retries serialise and
//! exactly one appends. For registry writes the key row is inserted in the write's transaction: a
//! concurrent retry waits on it, fails on the unique key, and then replays the committed result.
//! Stored registry responses never hold a token's secret; log appends store only a leaf index, and
//! the replayed response is rendered from the current read view, so an erased value is never
//! replayed.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use ledger::Hash;
use sea_orm::{
    AccessMode, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, QueryFilter, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use super::entities::idempotency_key;
use super::{Store, StoreError};

/// How long keys are kept at least.
pub const KEY_RETENTION: Duration = Duration::hours(24);

/// A request's claim on an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The token that sent it.
    pub token: String,
    /// The `Idempotency-Key` header.
    pub key: String,
    /// SHA-256 of the method, path and canonical body.
    pub request_hash: Hash,
}

/// What the first request with a key produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// It appended the entry at this leaf index.
    Entry(u64),
    /// It wrote to the registry and answered this.
    Response {
        /// HTTP status.
        status: u16,
        /// `Location` header, if any.
        location: Option<String>,
        /// Response body (JSON).
        body: String,
    },
}

/// What a registry write answers, to send and to keep for retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// HTTP status.
    pub status: u16,
    /// `Location` header, if any.
    pub location: Option<String>,
    /// The response body sent now.
    pub body: String,
    /// The response body a retry gets (differs only where a secret is shown once).
    pub replay_body: String,
}

/// Looks up `claim`'s key: `Some` when it was used before with the same request.
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    claim: &Claim,
) -> Result<Option<Replay>, StoreError> {
    let Some(row) = idempotency_key::Entity::find_by_id((claim.token.clone(), claim.key.clone()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.request_hash != claim.request_hash.as_bytes() {
        return Err(StoreError::KeyReused);
    }
    if let Some(leaf) = row.leaf_index {
        return Ok(Some(Replay::Entry(u64::try_from(leaf).map_err(|_| {
            StoreError::Inconsistent("negative leaf index in idempotency_keys".into())
        })?)));
    }
    Ok(Some(Replay::Response {
        status: row
            .status
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200),
        location: row.location,
        body: row.response.unwrap_or_default(),
    }))
}

/// Records `claim` as having produced `result`.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    claim: &Claim,
    leaf_index: Option<i64>,
    written: Option<&Written>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        token_name: Set(claim.token.clone()),
        idem_key: Set(claim.key.clone()),
        request_hash: Set(claim.request_hash.as_bytes().to_vec()),
        leaf_index: Set(leaf_index),
        status: Set(written.map(|w| i32::from(w.status))),
        location: Set(written.and_then(|w| w.location.clone())),
        response: Set(written.map(|w| w.replay_body.clone())),
        created_at: Set(now.to_rfc3339_opts(SecondsFormat::Millis, true)),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The outcome of a registry write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryOutcome {
    /// Written now.
    Written(Written),
    /// A retry: nothing was written, this is what the first request got.
    Replayed(Replay),
}

impl Store {
    /// Runs a registry write in one transaction with its idempotency key, if any.
    pub async fn registry_write(
        &self,
        claim: Option<&Claim>,
        now: DateTime<Utc>,
        write: impl AsyncFnOnce(&DatabaseTransaction) -> Result<Written, StoreError>,
    ) -> Result<RegistryOutcome, StoreError> {
        let backend = self.backend();
        let txn = self
            .db
            .begin_with_options(TransactionOptions {
                isolation_level: None,
                access_mode: Some(AccessMode::ReadWrite).filter(|_| backend == DbBackend::Postgres),
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            })
            .await?;
        if let Some(claim) = claim
            && let Some(replay) = find(&txn, claim).await?
        {
            return Ok(RegistryOutcome::Replayed(replay));
        }
        let attempt = async {
            let written = write(&txn).await?;
            if let Some(claim) = claim {
                record(&txn, claim, None, Some(&written), now).await?;
            }
            txn.commit().await?;
            Ok::<_, StoreError>(written)
        }
        .await;
        // A registry write may have appended (a token's grant).
        self.moved();
        match attempt {
            Ok(written) => Ok(RegistryOutcome::Written(written)),
            // A concurrent request with the same key may have won: replay what it wrote.
            Err(error) => match claim {
                Some(claim) => match find(&self.db, claim).await? {
                    Some(replay) => Ok(RegistryOutcome::Replayed(replay)),
                    None => Err(error),
                },
                None => Err(error),
            },
        }
    }

    /// Forgets keys older than twice [`KEY_RETENTION`]; returns how many.
    pub async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let cutoff = (now - KEY_RETENTION * 2).to_rfc3339_opts(SecondsFormat::Millis, true);
        let result = idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::CreatedAt.lt(cutoff))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }
}
