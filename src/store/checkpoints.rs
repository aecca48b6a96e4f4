//! Signed checkpoints and the log's pinned identity.
//!
//! A checkpoint (C2SP tlog-checkpoint) commits to the tree at a size with the log's Ed25519 key.
//! [`Store::sign_checkpoint`] signs the current tree when it has grown since the last checkpoint;
//! the service calls it on a timer, so a busy log gets a new checkpoint every tick rather than one
//! per entry. Several instances may sign the same size at once: Ed25519 is deterministic, so they
//! produce the same note, and the primary key keeps one row.
//!
//! The first start pins the log's origin and verifier key in `log_identity`; every later start
//! MUST present the same, because a log whose key changed silently could no longer be checked
//! against what auditors have on file.

use chrono::{DateTime, SecondsFormat, Utc};
use ledger::Hash;
use ledger::checkpoint::Checkpoint;
use ledger::note::Signer;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait, QueryOrder, QuerySelect};

use super::append::to_i64;
use super::entities::{checkpoint, log_head, log_identity};
use super::{Store, StoreError, tree};

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The tree size it commits to.
    pub tree_size: u64,
    /// The root at that size.
    pub root_hash: Hash,
    /// The signed note, verbatim.
    pub note: String,
}

fn stored(row: checkpoint::Model) -> Result<StoredCheckpoint, StoreError> {
    Ok(StoredCheckpoint {
        tree_size: u64::try_from(row.tree_size)
            .map_err(|_| StoreError::Inconsistent("negative checkpoint size".into()))?,
        root_hash: Hash::from_slice(&row.root_hash)
            .map_err(|_| StoreError::Inconsistent("checkpoint root is not 32 bytes".into()))?,
        note: row.note,
    })
}

impl Store {
    /// Pins `origin` and `vkey` as this log's identity on first use; afterwards checks them.
    /// Returns an error naming both identities when they differ.
    pub async fn pin_identity(
        &self,
        origin: &str,
        vkey: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        log_identity::Entity::insert(log_identity::ActiveModel {
            id: Set(1),
            origin: Set(origin.to_owned()),
            vkey: Set(vkey.to_owned()),
            created_at: Set(now.to_rfc3339_opts(SecondsFormat::Secs, true)),
        })
        .on_conflict(
            OnConflict::column(log_identity::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        let pinned = log_identity::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                StoreError::Inconsistent("log_identity is empty after pinning".into())
            })?;
        if pinned.origin != origin || pinned.vkey != vkey {
            return Err(StoreError::IdentityMismatch {
                pinned_origin: pinned.origin,
                pinned_vkey: pinned.vkey,
                origin: origin.to_owned(),
                vkey: vkey.to_owned(),
            });
        }
        Ok(())
    }

    /// The origin and verifier key pinned at creation, if the log has been served.
    pub async fn identity(&self) -> Result<Option<(String, String)>, StoreError> {
        Ok(log_identity::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .map(|row| (row.origin, row.vkey)))
    }

    /// The newest checkpoint, if any has been signed.
    pub async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        checkpoint::Entity::find()
            .order_by_desc(checkpoint::Column::TreeSize)
            .one(&self.db)
            .await?
            .map(stored)
            .transpose()
    }

    /// The newest checkpoint's tree size and when it was signed, if one has been: two columns
    /// of one row, found by the primary key.
    pub async fn latest_checkpoint_signed(
        &self,
    ) -> Result<Option<(u64, DateTime<Utc>)>, StoreError> {
        let row = checkpoint::Entity::find()
            .select_only()
            .column(checkpoint::Column::TreeSize)
            .column(checkpoint::Column::SignedAt)
            .order_by_desc(checkpoint::Column::TreeSize)
            .into_tuple::<(i64, String)>()
            .one(&self.db)
            .await?;
        let Some((size, signed_at)) = row else {
            return Ok(None);
        };
        let size = u64::try_from(size)
            .map_err(|_| StoreError::Inconsistent("negative checkpoint size".into()))?;
        let signed_at = DateTime::parse_from_rfc3339(&signed_at)
            .map_err(|_| {
                StoreError::Inconsistent(format!("checkpoint {size}: bad signed_at {signed_at:?}"))
            })?
            .with_timezone(&Utc);
        Ok(Some((size, signed_at)))
    }

    /// Signs the current tree unless the newest checkpoint already covers it, and returns the
    /// newest checkpoint. Reads one row for the tree (the head's frontier gives the root).
    pub async fn sign_checkpoint(
        &self,
        signer: &Signer,
        now: DateTime<Utc>,
    ) -> Result<StoredCheckpoint, StoreError> {
        let latest = self.latest_checkpoint().await?;
        let row = log_head::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::Inconsistent("the log_head row is missing".into()))?;
        let frontier = tree::frontier_of(&row)?;
        if let Some(latest) = latest
            && latest.tree_size >= frontier.size()
        {
            return Ok(latest);
        }
        let body = Checkpoint {
            origin: signer.name().to_owned(),
            size: frontier.size(),
            root: frontier.root(),
            extensions: Vec::new(),
        };
        let note = body.sign(signer).map_err(|e| {
            StoreError::Inconsistent(format!("the checkpoint could not be signed: {e}"))
        })?;
        checkpoint::Entity::insert(checkpoint::ActiveModel {
            tree_size: Set(to_i64(body.size)?),
            root_hash: Set(body.root.as_bytes().to_vec()),
            note: Set(note.clone()),
            signed_at: Set(now.to_rfc3339_opts(SecondsFormat::Millis, true)),
        })
        .on_conflict(
            OnConflict::column(checkpoint::Column::TreeSize)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(StoredCheckpoint {
            tree_size: body.size,
            root_hash: body.root,
            note,
        })
    }
}
