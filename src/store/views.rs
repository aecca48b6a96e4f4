//! Read views derived from the log: `decisions`, `decision_participants`, `decision_tags`.
//!
//! [`apply`] is the only code that writes them, both inside an append and when the views are
//! rebuilt from the log alone, so the two paths cannot drift apart. A view row holds the fully
//! revealed record; who may see it is decided by the API, from `classification`.
//!
//! Listing is keyset-paginated on `leaf_index` (newest first) and every filter has an index that
//! ends in `leaf_index`, so a page costs O(limit) whatever the size of the log.

use ledger::{Disclosure, Entry, EntryKind, Hash};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::{decision, participant, tag};
use super::{Store, StoreError};
use crate::record::{Classification, DecisionRecord};

/// A decision as the read view holds it.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    /// The decision's id.
    pub id: uuid::Uuid,
    /// Leaf index of its `decision.recorded` entry.
    pub leaf_index: u64,
    /// Entry hash of that entry.
    pub entry_hash: Hash,
    /// `prev_hash` of that entry.
    pub prev_hash: Hash,
    /// When it was recorded.
    pub recorded_at: String,
    /// Which token recorded it.
    pub recorded_by: String,
    /// Its classification.
    pub classification: Classification,
    /// The record, all commitments opened.
    pub record: DecisionRecord,
}

/// Filters for [`Store::list_decisions`]; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    /// Slug of the deciding body.
    pub body: Option<String>,
    /// Decision type, as spelt in JSON.
    pub decision_type: Option<String>,
    /// Classifications the caller asks for.
    pub classification: Option<String>,
    /// Classifications the caller may see.
    pub visible: Vec<Classification>,
    /// A tag the decision carries.
    pub tag: Option<String>,
    /// Earliest `decided_on`, inclusive, as `YYYY-MM-DD`.
    pub decided_from: Option<String>,
    /// Latest `decided_on`, inclusive, as `YYYY-MM-DD`.
    pub decided_to: Option<String>,
    /// A role at least one participant held.
    pub participant_role: Option<String>,
    /// Only decisions recorded before this leaf index (the page cursor).
    pub before: Option<u64>,
}

/// Updates the read views for one entry. Runs inside the append transaction or a rebuild.
pub(super) async fn apply(
    db: &impl ConnectionTrait,
    entry: &Entry,
    entry_hash: Hash,
    disclosures: &[Disclosure],
) -> Result<(), StoreError> {
    match entry.kind {
        EntryKind::DecisionRecorded => record_decision(db, entry, entry_hash, disclosures).await,
    }
}

async fn record_decision(
    db: &impl ConnectionTrait,
    entry: &Entry,
    entry_hash: Hash,
    disclosures: &[Disclosure],
) -> Result<(), StoreError> {
    let mut revealed = entry.record.clone();
    ledger::disclosure::reveal_all(&mut revealed, disclosures)
        .map_err(|e| StoreError::Inconsistent(format!("leaf {}: {e}", entry.leaf_index)))?;
    let record: DecisionRecord = serde_json::from_value(revealed.clone()).map_err(|e| {
        StoreError::Inconsistent(format!(
            "leaf {}: not a decision record: {e}",
            entry.leaf_index
        ))
    })?;
    let leaf_index = super::append::to_i64(entry.leaf_index)?;

    decision::Entity::insert(decision::ActiveModel {
        id: Set(entry.decision_id.clone()),
        leaf_index: Set(leaf_index),
        entry_hash: Set(entry_hash.to_hex()),
        prev_hash: Set(entry.prev_hash.to_hex()),
        recorded_at: Set(entry.recorded_at.clone()),
        recorded_by: Set(entry.recorded_by.clone()),
        body: Set(record.body.clone()),
        decision_type: Set(record.decision_type.as_str().to_owned()),
        classification: Set(record.classification.as_str().to_owned()),
        decided_on: Set(record.decided_on.to_string()),
        title: Set(record.title.clone()),
        document: Set(revealed.to_string()),
    })
    .exec_without_returning(db)
    .await?;

    if !record.participants.is_empty() {
        let rows = record
            .participants
            .iter()
            .enumerate()
            .map(|(i, p)| participant::ActiveModel {
                decision_id: Set(entry.decision_id.clone()),
                position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                leaf_index: Set(leaf_index),
                role: Set(p.role.as_str().to_owned()),
                attendance: Set(p.attendance.as_str().to_owned()),
                organisation: Set(p.organisation.clone()),
                name: Set(Some(p.name.clone())),
            });
        participant::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    if !record.tags.is_empty() {
        let rows = record.tags.iter().map(|t| tag::ActiveModel {
            tag: Set(t.clone()),
            leaf_index: Set(leaf_index),
            decision_id: Set(entry.decision_id.clone()),
        });
        tag::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

fn row_of(model: decision::Model) -> Result<DecisionRow, StoreError> {
    let bad = |what: &str| {
        StoreError::Inconsistent(format!(
            "decision {}: bad {what} in the read view",
            model.id
        ))
    };
    let record: DecisionRecord =
        serde_json::from_str(&model.document).map_err(|_| bad("document"))?;
    Ok(DecisionRow {
        leaf_index: u64::try_from(model.leaf_index).map_err(|_| bad("leaf_index"))?,
        entry_hash: Hash::parse(&model.entry_hash).map_err(|_| bad("entry_hash"))?,
        prev_hash: Hash::parse(&model.prev_hash).map_err(|_| bad("prev_hash"))?,
        classification: record.classification,
        recorded_at: model.recorded_at,
        recorded_by: model.recorded_by,
        id: uuid::Uuid::parse_str(&model.id).map_err(|_| bad("id"))?,
        record,
    })
}

impl Store {
    /// One decision by id.
    pub async fn decision(&self, id: &str) -> Result<Option<DecisionRow>, StoreError> {
        decision::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .map(row_of)
            .transpose()
    }

    /// Up to `limit` decisions matching `filter`, newest first.
    pub async fn list_decisions(
        &self,
        filter: &DecisionFilter,
        limit: u64,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        let mut query = decision::Entity::find().filter(
            decision::Column::Classification.is_in(filter.visible.iter().map(|c| c.as_str())),
        );
        if let Some(body) = &filter.body {
            query = query.filter(decision::Column::Body.eq(body.as_str()));
        }
        if let Some(t) = &filter.decision_type {
            query = query.filter(decision::Column::DecisionType.eq(t.as_str()));
        }
        if let Some(c) = &filter.classification {
            query = query.filter(decision::Column::Classification.eq(c.as_str()));
        }
        if let Some(from) = &filter.decided_from {
            query = query.filter(decision::Column::DecidedOn.gte(from.as_str()));
        }
        if let Some(to) = &filter.decided_to {
            query = query.filter(decision::Column::DecidedOn.lte(to.as_str()));
        }
        if let Some(before) = filter.before {
            query = query.filter(decision::Column::LeafIndex.lt(super::append::to_i64(before)?));
        }
        if let Some(t) = &filter.tag {
            query = query.filter(
                decision::Column::LeafIndex.in_subquery(
                    Query::select()
                        .column(tag::Column::LeafIndex)
                        .from(tag::Entity)
                        .and_where(tag::Column::Tag.eq(t.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(role) = &filter.participant_role {
            query = query.filter(
                decision::Column::LeafIndex.in_subquery(
                    Query::select()
                        .column(participant::Column::LeafIndex)
                        .from(participant::Entity)
                        .and_where(participant::Column::Role.eq(role.as_str()))
                        .to_owned(),
                ),
            );
        }
        query
            .order_by_desc(decision::Column::LeafIndex)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(row_of)
            .collect()
    }

    /// Drops the read views and derives them again from the log alone, in one transaction that
    /// holds the append lock, so it is safe while the service runs (appends wait for it).
    /// Returns the number of entries replayed.
    pub async fn rebuild_views(&self) -> Result<u64, StoreError> {
        // Under the append lock: no entry can land between the replay and the commit.
        let (txn, _) = self.lock_head().await?;
        tag::Entity::delete_many().exec(&txn).await?;
        participant::Entity::delete_many().exec(&txn).await?;
        decision::Entity::delete_many().exec(&txn).await?;
        let mut replayed = 0;
        let mut from = 0;
        loop {
            let batch = super::entries::read_entries(&txn, from, 500).await?;
            if batch.is_empty() {
                break;
            }
            for stored in &batch {
                let entry = Entry::from_canonical_bytes(&stored.canonical).map_err(|e| {
                    StoreError::Inconsistent(format!("leaf {}: {e}", stored.leaf_index))
                })?;
                let disclosures: Vec<Disclosure> =
                    stored.disclosures.iter().map(|(d, _)| d.clone()).collect();
                apply(&txn, &entry, stored.entry_hash, &disclosures).await?;
                replayed += 1;
            }
            from += batch.len() as u64;
        }
        txn.commit().await?;
        Ok(replayed)
    }
}
