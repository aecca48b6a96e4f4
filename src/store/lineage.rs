//! Appending lineage entries: the decision's state is read and the request checked under the
//! append lock, so the check and the append see the same state.
//!
//! The state a request is checked against is the read view's, handed to the ledger's lifecycle
//! ([`ledger::Lifecycle`]) as the verifier would derive it from the entries.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::append::{Appended, NewEntry, append_locked, replayed, to_i64};
use super::entities::{disclosure, event};
use super::idempotency::{self, Claim};
use super::sequencer::Job;
use super::views::{DecisionRow, find_decision};
use super::{Store, StoreError};
use crate::lineage::{
    AmendmentRequest, CallInRequest, Current, OutcomeRequest, Planned, PublicationRequest,
    RedactionRequest, RescissionRequest, SupersessionRequest,
};
use crate::record::FieldError;
use ledger::{Disclosure, EntryKind, Lifecycle};

/// A lineage request, checked and planned by [`crate::lineage`].
#[derive(Debug, Clone)]
pub enum LineageRequest {
    /// `decision.amended`
    Amend(AmendmentRequest),
    /// `decision.outcome_reported`
    Outcome(OutcomeRequest),
    /// `decision.call_in`
    CallIn(CallInRequest),
    /// `decision.rescinded`
    Rescind(RescissionRequest),
    /// `decision.superseded`
    Supersede(SupersessionRequest),
    /// `decision.redacted`
    Redact(RedactionRequest),
    /// `decision.published`
    Publish(PublicationRequest),
}

async fn called_in_before(db: &impl ConnectionTrait, id: &str) -> Result<bool, StoreError> {
    Ok(event::Entity::find()
        .filter(event::Column::DecisionId.eq(id))
        .filter(event::Column::Kind.eq(EntryKind::CallIn.as_str()))
        .count(db)
        .await?
        > 0)
}

/// The decision's lifecycle state, read from its view: status and successor from its row,
/// whether it was ever called in from its events.
async fn lifecycle(db: &impl ConnectionTrait, row: &DecisionRow) -> Result<Lifecycle, StoreError> {
    Ok(Lifecycle {
        status: row.status.into(),
        called_in_before: called_in_before(db, &row.id.to_string()).await?,
        superseded_by: row.superseded_by.map(|id| id.to_string()),
    })
}

/// The stored disclosure of the decision's recorded entry at `path`, if it has not been erased.
async fn disclosure_at(
    db: &impl ConnectionTrait,
    leaf_index: u64,
    path: &str,
) -> Result<Option<Disclosure>, StoreError> {
    let Some(row) = disclosure::Entity::find_by_id((to_i64(leaf_index)?, path.to_owned()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let value = serde_json::from_str(&row.value)
        .map_err(|_| StoreError::Inconsistent(format!("disclosure {path}: value is not JSON")))?;
    Ok(Some(Disclosure {
        path: row.path,
        salt: row.salt,
        value,
    }))
}

/// Why there is nothing to erase at `path` of the decision's recorded entry, read from the entry
/// itself: its placeholder is still there but its disclosure is gone (erased already: 409); the
/// value is in the hashed entry in clear (never committed, so it cannot be erased: 422); or
/// there is no such value (422).
async fn no_disclosure(
    db: &impl ConnectionTrait,
    row: &DecisionRow,
    path: &str,
) -> Result<StoreError, StoreError> {
    let id = &row.id;
    let stored = super::entries::read_entries(db, row.leaf_index, 1)
        .await?
        .pop()
        .ok_or_else(|| StoreError::Inconsistent(format!("decision {id}: no recorded entry")))?;
    let entry = ledger::Entry::from_canonical_bytes(&stored.canonical)
        .map_err(|e| StoreError::Inconsistent(format!("leaf {}: {e}", row.leaf_index)))?;
    let mut record = entry.record;
    ledger::disclosure::reveal_all(&mut record, stored.disclosures.iter().map(|(d, _)| d))
        .map_err(|e| StoreError::Inconsistent(format!("leaf {}: {e}", row.leaf_index)))?;
    Ok(match record.pointer(path) {
        Some(value) if ledger::disclosure::commitment_of(value).is_some() => StoreError::Conflict(
            format!("the value at {path} of decision {id} has already been erased"),
        ),
        Some(_) => StoreError::Invalid(vec![FieldError::new(
            "path",
            format!(
                "the value at {path} of decision {id} is in the hashed entry in clear: it was                  recorded before every name was committed (entry format {}) and cannot be                  erased; record a superseding decision without it",
                entry.format
            ),
        )]),
        None => StoreError::Invalid(vec![FieldError::new(
            "path",
            format!("decision {id} has no value at {path}"),
        )]),
    })
}

async fn plan(
    db: &impl ConnectionTrait,
    row: &DecisionRow,
    request: &LineageRequest,
    today: chrono::NaiveDate,
) -> Result<Planned, StoreError> {
    let id = row.id.to_string();
    let current = Current {
        id: &id,
        record: &row.record,
        lifecycle: lifecycle(db, row).await?,
        published: &row.published,
    };
    let salt = rand::random;
    Ok(match request {
        LineageRequest::Amend(r) => r.plan(&current, today, salt)?,
        LineageRequest::Outcome(r) => r.plan(&current, today, salt)?,
        LineageRequest::CallIn(r) => r.plan(&current, today, salt)?,
        LineageRequest::Rescind(r) => r.plan(&current, today, salt)?,
        LineageRequest::Supersede(r) => {
            let successor = match find_decision(db, &r.superseded_by.to_string()).await? {
                Some(s) => Some(lifecycle(db, &s).await?),
                None => None,
            };
            r.plan(&current, successor.as_ref(), salt)?
        }
        LineageRequest::Redact(r) => {
            r.check()?;
            let Some(d) = disclosure_at(db, row.leaf_index, &r.path).await? else {
                return Err(no_disclosure(db, row, &r.path).await?);
            };
            let commitment = d
                .digest()
                .map_err(|e| StoreError::Inconsistent(format!("disclosure {}: {e}", r.path)))?;
            r.plan(&current, row.leaf_index, &commitment.to_hex(), salt)?
        }
        LineageRequest::Publish(r) => r.plan(&current)?,
    })
}

/// The lineage entry that `request` about decision `id` asks for, planned against the
/// decision's state inside `txn` (which holds the append lock).
pub(super) async fn plan_lineage(
    txn: &DatabaseTransaction,
    id: &str,
    request: &LineageRequest,
    recorded_by: &str,
    now: DateTime<Utc>,
) -> Result<NewEntry, StoreError> {
    let row = find_decision(txn, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no decision {id}")))?;
    let planned = plan(txn, &row, request, now.date_naive()).await?;
    Ok(NewEntry {
        kind: planned.kind,
        decision_id: id.to_owned(),
        recorded_by: recorded_by.to_owned(),
        record: planned.record,
        disclosures: planned.disclosures,
    })
}

impl Store {
    /// Appends a lineage entry about decision `id`, checked against its state under the append
    /// lock. `recorded_by` is the token's name. The entry is committed in a batch with the
    /// appends asked for at the same time ([`super::sequencer`]), except a redaction: its erasure
    /// is scrubbed from the database files after its own commit, before it is answered.
    pub async fn append_lineage(
        &self,
        id: &str,
        request: &LineageRequest,
        recorded_by: &str,
        claim: Option<&Claim>,
        now: DateTime<Utc>,
    ) -> Result<Appended, StoreError> {
        if !matches!(request, LineageRequest::Redact(_)) {
            let job = Job::Lineage {
                id: id.to_owned(),
                request: request.clone(),
                recorded_by: recorded_by.to_owned(),
            };
            return self.sequencer().append(job, claim.cloned(), now).await;
        }
        let started = std::time::Instant::now();
        let (txn, head_row) = self.lock_head().await?;
        if let Some(claim) = claim
            && let Some(replay) = idempotency::find(&txn, claim).await?
        {
            return replayed(replay);
        }
        let new = plan_lineage(&txn, id, request, recorded_by, now).await?;
        let (entry, entry_hash) = append_locked(&txn, &head_row, new, now).await?;
        if let Some(claim) = claim {
            idempotency::record(&txn, claim, Some(to_i64(entry.leaf_index)?), None, now).await?;
        }
        let erasure = super::effects::Erasure::begin(&txn).await?;
        txn.commit().await?;
        self.moved();
        self.appends.observe(entry.kind, started.elapsed());
        // The erasure is committed; it is answered once the value has left the files too.
        erasure.scrub(&self.db).await?;
        Ok(Appended::Fresh(entry, entry_hash))
    }
}
