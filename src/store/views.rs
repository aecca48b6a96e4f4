//! Read views derived from the log: `decisions`, `decision_participants`, `decision_tags` and
//! `decision_events`.
//!
//! [`apply`] is the only code that writes them, both inside an append and when the views are
//! rebuilt from the log alone, so the two paths cannot drift apart. A `decisions` row holds the
//! current record — every amendment applied, every erased value replaced by its marker — and the
//! state derived from the decision's lineage entries; `decision_events` holds its timeline. Who
//! may see what is decided by the API, from the row's `classification` (the record's, or `public`
//! once it is published as a whole) and body.
//!
//! Listing is keyset-paginated, in one of two orders ([`ListOrder`]): newest recorded first on
//! `leaf_index`, or latest decision date first on `(decided_on, leaf_index)`. Every filter has an
//! index that ends in each key, and a filtered list is read in two bounded steps (the next rows in
//! the list's order, then further matches through the filter's index), so a page reads its own
//! rows plus at most a fixed window, however long the log. (A tag or role filter in date order is
//! the exception: it reads that tag's or role's matches to sort them, as their tables are keyed
//! on `leaf_index` alone.)

use chrono::NaiveDate;
use ledger::{Disclosure, Entry, EntryKind, Hash};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Value, json};

use super::entities::{decision, event, participant, tag};
use super::search::SearchRow;
use super::{Store, StoreError, Token, stats};
use crate::lineage::{self, OutcomeStatus, Published, Status};
use crate::record::{Classification, DecisionRecord, WITHHELD_FIELDS};

/// How many of the newest decisions a filtered list walks in leaf order before it turns to the
/// filter's own index for older ones.
const RECENT_WINDOW: i64 = 4096;

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
    /// Who may read it: the record's classification, or public once published as a whole.
    pub classification: Classification,
    /// The current record: amendments applied, erased values marked.
    pub record: DecisionRecord,
    /// Where it stands.
    pub status: Status,
    /// When it takes effect, as recorded or as call-in decided.
    pub effective_from: Option<NaiveDate>,
    /// When its outcome is next due.
    pub review_on: Option<NaiveDate>,
    /// The latest outcome reported.
    pub last_outcome: Option<OutcomeStatus>,
    /// The decision that superseded it.
    pub superseded_by: Option<uuid::Uuid>,
    /// The decisions it superseded.
    pub supersedes: Vec<uuid::Uuid>,
    /// What of a non-public record has been published.
    pub published: Published,
    /// When its newest entry was recorded.
    pub updated_at: String,
}

/// A decision as the read view holds it, with its timeline, oldest first.
#[derive(Debug, Clone)]
pub struct DecisionView {
    /// The decision.
    pub row: DecisionRow,
    /// Its timeline.
    pub events: Vec<Event>,
}

/// One entry in a decision's timeline.
#[derive(Debug, Clone)]
pub struct Event {
    /// The entry's position in the log.
    pub leaf_index: u64,
    /// The decision it is about.
    pub decision_id: String,
    /// What happened.
    pub kind: EntryKind,
    /// When it was recorded.
    pub recorded_at: String,
    /// Which token recorded it.
    pub recorded_by: String,
    /// The entry hash.
    pub entry_hash: Hash,
    /// What happened, every value revealed (for amendments: field, old and new values).
    pub detail: Value,
    /// What happened, with withheld values shown as `"[withheld]"`.
    pub public_detail: Value,
}

/// Filters for [`Store::list_decisions`]; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    /// Slug of the deciding body.
    pub body: Option<String>,
    /// Decision type, as spelt in JSON.
    pub decision_type: Option<String>,
    /// Classification (as readers see it: `public` once published).
    pub classification: Option<String>,
    /// Where the decision stands.
    pub status: Option<Status>,
    /// Only decisions whose review date is before this date and that still stand.
    pub review_overdue_on: Option<String>,
    /// A tag the decision carries.
    pub tag: Option<String>,
    /// Earliest `decided_on`, inclusive, as `YYYY-MM-DD`.
    pub decided_from: Option<String>,
    /// Latest `decided_on`, inclusive, as `YYYY-MM-DD`.
    pub decided_to: Option<String>,
    /// A role at least one participant held.
    pub participant_role: Option<String>,
    /// The order of the list, and where a page continues.
    pub order: ListOrder,
}

/// The two orders a list of decisions is offered in, each with its keyset cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListOrder {
    /// Newest recorded first: descending `leaf_index`, continuing before this leaf index.
    Recorded {
        /// The leaf index of the last decision of the previous page.
        before: Option<u64>,
    },
    /// Latest decision date first, ties newest recorded first: descending
    /// `(decided_on, leaf_index)`, continuing after this pair.
    Decided {
        /// The `(decided_on, leaf_index)` of the last decision of the previous page.
        before: Option<(NaiveDate, u64)>,
    },
}

impl Default for ListOrder {
    fn default() -> Self {
        Self::Recorded { before: None }
    }
}

impl ListOrder {
    /// Where the page after `row`, the last of a page in this order, continues.
    pub fn after(&self, row: &DecisionRow) -> Self {
        match self {
            Self::Recorded { .. } => Self::Recorded {
                before: Some(row.leaf_index),
            },
            Self::Decided { .. } => Self::Decided {
                before: Some((row.record.decided_on, row.leaf_index)),
            },
        }
    }
}

/// Updates the read views for one entry. Runs inside the append transaction or a rebuild.
pub(super) async fn apply(
    db: &impl ConnectionTrait,
    entry: &Entry,
    entry_hash: Hash,
    disclosures: &[Disclosure],
) -> Result<(), StoreError> {
    if !entry.kind.is_decision() {
        // Grants of access are read from the log itself; no decision view changes.
        return Ok(());
    }
    if entry.kind == EntryKind::DecisionRecorded {
        let mut new = NewDecisions::default();
        new.add(entry, entry_hash, disclosures)?;
        return new.write(db).await;
    }
    let revealed = revealed_of(entry, disclosures)?;
    let current = decision::Entity::find_by_id(entry.decision_id.clone())
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::Inconsistent(format!(
                "leaf {}: {} for decision {}, which was never recorded",
                entry.leaf_index,
                entry.kind.as_str(),
                entry.decision_id
            ))
        })?;
    let detail = apply_lineage(db, entry, &current, &revealed).await?;
    let public_detail = match entry.kind {
        EntryKind::DecisionAmended => public_changes(&current, &detail),
        _ => lineage::public_detail(&entry.record),
    };
    event::Entity::insert(event::ActiveModel {
        leaf_index: Set(super::append::to_i64(entry.leaf_index)?),
        decision_id: Set(entry.decision_id.clone()),
        kind: Set(entry.kind.as_str().to_owned()),
        recorded_at: Set(entry.recorded_at.clone()),
        recorded_by: Set(entry.recorded_by.clone()),
        entry_hash: Set(entry_hash.to_hex()),
        detail: Set(detail.to_string()),
        public_detail: Set(public_detail.to_string()),
    })
    .exec_without_returning(db)
    .await?;
    super::search::reindex(db, &entry.decision_id).await?;
    super::stats::refresh(db, &entry.decision_id).await?;
    Ok(())
}

/// Whether a reader who may not read `decision` may see its field `field`.
fn field_is_public(decision: &decision::Model, published: &Published, field: &str) -> bool {
    decision.classification == Classification::Public.as_str()
        || !WITHHELD_FIELDS.contains(&field)
        || published.covers(field)
}

/// An amendment's detail as a reader who may not read the decision sees it: the same shape, with
/// the values of withheld fields shown as `"[withheld]"`.
fn public_changes(decision: &decision::Model, detail: &Value) -> Value {
    let published: Published = serde_json::from_str(&decision.published).unwrap_or_default();
    let mut public = detail.clone();
    if let Some(changes) = public["changes"].as_array_mut() {
        for change in changes {
            let field = change["field"].as_str().unwrap_or_default().to_owned();
            if !field_is_public(decision, &published, &field) {
                change["old"] = json!("[withheld]");
                change["new"] = json!("[withheld]");
            }
        }
    }
    if decision.classification != Classification::Public.as_str() && !published.record {
        public["reason"] = json!("[withheld]");
    }
    public
}

/// Applies a lineage entry to its decision's row and returns the event's detail.
async fn apply_lineage(
    db: &impl ConnectionTrait,
    entry: &Entry,
    current: &decision::Model,
    revealed: &Value,
) -> Result<Value, StoreError> {
    let bad = |what: &str| StoreError::Inconsistent(format!("leaf {}: {what}", entry.leaf_index));
    let text = |key: &str| revealed.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut update = decision::Entity::update_many()
        .col_expr(
            decision::Column::UpdatedAt,
            Expr::value(entry.recorded_at.clone()),
        )
        .filter(decision::Column::Id.eq(current.id.as_str()));
    let mut set = |column: decision::Column, value: Option<String>| {
        update = std::mem::replace(&mut update, decision::Entity::update_many())
            .col_expr(column, Expr::value(value));
    };
    let mut detail = revealed.clone();
    match entry.kind {
        EntryKind::DecisionRecorded | EntryKind::AccessGranted | EntryKind::AccessRevoked => {
            return Err(bad("not a lineage entry of a decision"));
        }
        EntryKind::DecisionAmended => {
            let changes = revealed
                .get("changes")
                .and_then(Value::as_object)
                .ok_or_else(|| bad("an amendment without changes"))?;
            let mut document: Value =
                serde_json::from_str(&current.document).map_err(|_| bad("bad document"))?;
            let changed = lineage::apply_amendment(&mut document, changes);
            let record: DecisionRecord = serde_json::from_value(document.clone())
                .map_err(|e| bad(&format!("the amended record is not a record: {e}")))?;
            set(decision::Column::Document, Some(document.to_string()));
            set(decision::Column::Title, Some(record.title.clone()));
            set(
                decision::Column::DecidedOn,
                Some(record.decided_on.to_string()),
            );
            set(
                decision::Column::DecisionType,
                Some(record.decision_type.as_str().to_owned()),
            );
            if changes.contains_key("review_on") {
                set(
                    decision::Column::ReviewOn,
                    record.review_on.map(|d| d.to_string()),
                );
            }
            if changes.contains_key("tags") {
                tag::Entity::delete_many()
                    .filter(tag::Column::DecisionId.eq(current.id.as_str()))
                    .exec(db)
                    .await?;
                let tags = record.tags.iter().map(|t| tag::ActiveModel {
                    tag: Set(t.clone()),
                    leaf_index: Set(current.leaf_index),
                    decision_id: Set(current.id.clone()),
                });
                super::batch::insert_all(db, tags.collect()).await?;
            }
            detail = json!({"changes": changed, "reason": revealed.get("reason")});
        }
        EntryKind::OutcomeReported => {
            set(decision::Column::LastOutcome, text("status"));
            set(decision::Column::ReviewOn, text("next_review_on"));
        }
        EntryKind::CallIn => {
            let (status, effective) = match text("status").as_deref() {
                Some("called_in") => (Status::CalledIn, None),
                Some("upheld") => (Status::InForce, text("on")),
                Some("referred_back") => (Status::ReferredBack, None),
                Some("referred_to_council") => (Status::ReferredToCouncil, None),
                _ => return Err(bad("unknown call-in status")),
            };
            set(decision::Column::Status, Some(status.as_str().to_owned()));
            set(decision::Column::EffectiveFrom, effective);
        }
        EntryKind::DecisionRescinded => {
            set(
                decision::Column::Status,
                Some(Status::Rescinded.as_str().to_owned()),
            );
        }
        EntryKind::DecisionSuperseded => {
            let by = text("superseded_by").ok_or_else(|| bad("no superseded_by"))?;
            set(
                decision::Column::Status,
                Some(Status::Superseded.as_str().to_owned()),
            );
            set(decision::Column::SupersededBy, Some(by.clone()));
            let successor = decision::Entity::find_by_id(by.clone())
                .one(db)
                .await?
                .ok_or_else(|| bad("superseded by a decision never recorded"))?;
            let mut list: Vec<String> =
                serde_json::from_str(&successor.supersedes).map_err(|_| bad("bad supersedes"))?;
            list.push(current.id.clone());
            decision::Entity::update_many()
                .col_expr(
                    decision::Column::Supersedes,
                    Expr::value(json!(list).to_string()),
                )
                .filter(decision::Column::Id.eq(by.as_str()))
                .exec(db)
                .await?;
        }
        EntryKind::DecisionRedacted => {
            let path = text("path").ok_or_else(|| bad("a redaction without path"))?;
            let basis = text("basis").unwrap_or_default();
            let marker =
                lineage::redaction_marker(&basis, entry.recorded_at.get(..10).unwrap_or(""));
            let mut document: Value =
                serde_json::from_str(&current.document).map_err(|_| bad("bad document"))?;
            if let Some(slot) = document.pointer_mut(&path) {
                *slot = Value::String(marker.clone());
            }
            set(decision::Column::Document, Some(document.to_string()));
            let parts: Vec<&str> = path.split('/').collect();
            if let ["", "participants", n, "name"] = parts.as_slice()
                && let Ok(position) = n.parse::<i32>()
            {
                participant::Entity::update_many()
                    .col_expr(participant::Column::Name, Expr::value(marker))
                    .filter(participant::Column::DecisionId.eq(current.id.as_str()))
                    .filter(participant::Column::Position.eq(position))
                    .exec(db)
                    .await?;
            }
        }
        EntryKind::DecisionPublished => {
            let mut published: Published =
                serde_json::from_str(&current.published).unwrap_or_default();
            if revealed.get("scope").and_then(Value::as_str) == Some("record") {
                published.record = true;
                set(
                    decision::Column::Classification,
                    Some(Classification::Public.as_str().to_owned()),
                );
            } else {
                for field in revealed["fields"].as_array().into_iter().flatten() {
                    if let Some(field) = field.as_str()
                        && !published.fields.iter().any(|f| f == field)
                    {
                        published.fields.push(field.to_owned());
                    }
                }
            }
            set(
                decision::Column::Published,
                Some(json!(published).to_string()),
            );
            // Amendments of fields now published show their values to every reader.
            let mut now_public = current.clone();
            now_public.published = json!(published).to_string();
            let amendments = event::Entity::find()
                .filter(event::Column::DecisionId.eq(current.id.as_str()))
                .filter(event::Column::Kind.eq(EntryKind::DecisionAmended.as_str()))
                .all(db)
                .await?;
            for amendment in amendments {
                let detail: Value =
                    serde_json::from_str(&amendment.detail).map_err(|_| bad("bad event detail"))?;
                let mut public = public_changes(&now_public, &detail);
                let before: Value = serde_json::from_str(&amendment.public_detail)
                    .map_err(|_| bad("bad event detail"))?;
                public["reason"] = before["reason"].clone();
                event::Entity::update_many()
                    .col_expr(event::Column::PublicDetail, Expr::value(public.to_string()))
                    .filter(event::Column::LeafIndex.eq(amendment.leaf_index))
                    .exec(db)
                    .await?;
            }
        }
    }
    update.exec(db).await?;
    Ok(detail)
}

/// `entry`'s record with its disclosures opened; a placeholder left unopened is a value erased
/// since, marked as such (its redaction entry, later in the log, gives the marker its basis and
/// date).
fn revealed_of(entry: &Entry, disclosures: &[Disclosure]) -> Result<Value, StoreError> {
    let mut revealed = entry.record.clone();
    ledger::disclosure::reveal_all(&mut revealed, disclosures)
        .map_err(|e| StoreError::Inconsistent(format!("leaf {}: {e}", entry.leaf_index)))?;
    lineage::mark_erased(&mut revealed);
    Ok(revealed)
}

/// A newly recorded decision as the read view will hold it: its row and its first event.
struct Recorded {
    revealed: Value,
    record: DecisionRecord,
    decision: decision::Model,
    event: event::Model,
}

impl Recorded {
    /// `entry`, a `decision.recorded` entry with its own `disclosures`, with nothing read.
    fn of(entry: &Entry, entry_hash: Hash, disclosures: &[Disclosure]) -> Result<Self, StoreError> {
        let revealed = revealed_of(entry, disclosures)?;
        let record: DecisionRecord = serde_json::from_value(revealed.clone()).map_err(|e| {
            StoreError::Inconsistent(format!(
                "leaf {}: not a decision record: {e}",
                entry.leaf_index
            ))
        })?;
        let leaf_index = super::append::to_i64(entry.leaf_index)?;
        let decision = decision::Model {
            id: entry.decision_id.clone(),
            leaf_index,
            entry_hash: entry_hash.to_hex(),
            prev_hash: entry.prev_hash.to_hex(),
            recorded_at: entry.recorded_at.clone(),
            recorded_by: entry.recorded_by.clone(),
            body: record.body.clone(),
            decision_type: record.decision_type.as_str().to_owned(),
            classification: record.classification.as_str().to_owned(),
            decided_on: record.decided_on.to_string(),
            title: record.title.clone(),
            document: revealed.to_string(),
            status: Status::InForce.as_str().to_owned(),
            effective_from: record.effective_from.map(|d| d.to_string()),
            review_on: record.review_on.map(|d| d.to_string()),
            last_outcome: None,
            superseded_by: None,
            supersedes: "[]".into(),
            published: json!(Published::default()).to_string(),
            updated_at: Some(entry.recorded_at.clone()),
        };
        let event = event::Model {
            leaf_index,
            decision_id: entry.decision_id.clone(),
            kind: entry.kind.as_str().to_owned(),
            recorded_at: entry.recorded_at.clone(),
            recorded_by: entry.recorded_by.clone(),
            entry_hash: entry_hash.to_hex(),
            detail: "{}".into(),
            public_detail: "{}".into(),
        };
        Ok(Recorded {
            revealed,
            record,
            decision,
            event,
        })
    }
}

/// The read-view rows of newly recorded decisions: the decision, its participants, tags, first
/// event, search row and statistics. Built in memory and written with one statement per table,
/// so that a batch of appends writes each table once ([`super::batch`]).
#[derive(Default)]
pub(super) struct NewDecisions {
    decisions: Vec<decision::ActiveModel>,
    participants: Vec<participant::ActiveModel>,
    tags: Vec<tag::ActiveModel>,
    events: Vec<event::ActiveModel>,
    search: Vec<SearchRow>,
    contributions: Vec<stats::contribution::ActiveModel>,
    deltas: stats::Deltas,
}

impl NewDecisions {
    /// Adds the rows of `entry`, a `decision.recorded` entry with its own `disclosures`, and
    /// returns the decision as the view will hold it once they are written (what reading it back
    /// would give, without the read); adds nothing if it fails.
    pub(super) fn add(
        &mut self,
        entry: &Entry,
        entry_hash: Hash,
        disclosures: &[Disclosure],
    ) -> Result<DecisionView, StoreError> {
        let recorded = Recorded::of(entry, entry_hash, disclosures)?;
        let view = DecisionView {
            row: row_with(recorded.decision.clone(), recorded.record.clone())?,
            events: vec![event_of(recorded.event.clone())?],
        };
        let leaf_index = recorded.decision.leaf_index;
        self.participants.extend(
            recorded
                .record
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
                }),
        );
        self.tags
            .extend(recorded.record.tags.iter().map(|t| tag::ActiveModel {
                tag: Set(t.clone()),
                leaf_index: Set(leaf_index),
                decision_id: Set(entry.decision_id.clone()),
            }));
        self.search
            .push(SearchRow::of(&recorded.decision, &recorded.revealed, &[]));
        self.contributions.push(stats::recorded(
            &recorded.decision,
            &recorded.revealed,
            &mut self.deltas,
        ));
        self.events.push(recorded.event.into());
        self.decisions.push(recorded.decision.into());
        Ok(view)
    }

    /// Whether there is nothing to write.
    pub(super) fn is_empty(&self) -> bool {
        self.decisions.is_empty()
    }

    /// Writes every row added, and starts afresh.
    pub(super) async fn write(&mut self, db: &impl ConnectionTrait) -> Result<(), StoreError> {
        let new = std::mem::take(self);
        super::batch::insert_all(db, new.decisions).await?;
        super::batch::insert_all(db, new.participants).await?;
        super::batch::insert_all(db, new.tags).await?;
        super::batch::insert_all(db, new.events).await?;
        super::search::insert_rows(db, &new.search).await?;
        stats::add_recorded(db, new.contributions, &new.deltas).await
    }
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
    row_with(model, record)
}

/// The row of `model`, whose document is `record`.
fn row_with(model: decision::Model, record: DecisionRecord) -> Result<DecisionRow, StoreError> {
    let bad = |what: &str| {
        StoreError::Inconsistent(format!(
            "decision {}: bad {what} in the read view",
            model.id
        ))
    };
    let date = |text: &Option<String>, what: &str| {
        text.as_deref()
            .map(|t| t.parse::<NaiveDate>().map_err(|_| bad(what)))
            .transpose()
    };
    Ok(DecisionRow {
        leaf_index: u64::try_from(model.leaf_index).map_err(|_| bad("leaf_index"))?,
        entry_hash: Hash::parse(&model.entry_hash).map_err(|_| bad("entry_hash"))?,
        prev_hash: Hash::parse(&model.prev_hash).map_err(|_| bad("prev_hash"))?,
        classification: serde_json::from_value(json!(model.classification))
            .map_err(|_| bad("classification"))?,
        status: Status::parse(&model.status).ok_or_else(|| bad("status"))?,
        effective_from: date(&model.effective_from, "effective_from")?,
        review_on: date(&model.review_on, "review_on")?,
        last_outcome: model
            .last_outcome
            .as_deref()
            .map(|o| serde_json::from_value(json!(o)).map_err(|_| bad("last_outcome")))
            .transpose()?,
        superseded_by: model
            .superseded_by
            .as_deref()
            .map(|id| uuid::Uuid::parse_str(id).map_err(|_| bad("superseded_by")))
            .transpose()?,
        supersedes: serde_json::from_str(&model.supersedes).map_err(|_| bad("supersedes"))?,
        published: serde_json::from_str(&model.published).map_err(|_| bad("published"))?,
        updated_at: model
            .updated_at
            .unwrap_or_else(|| model.recorded_at.clone()),
        recorded_at: model.recorded_at,
        recorded_by: model.recorded_by,
        id: uuid::Uuid::parse_str(&model.id).map_err(|_| bad("id"))?,
        record,
    })
}

fn event_of(model: event::Model) -> Result<Event, StoreError> {
    let bad = |what: &str| {
        StoreError::Inconsistent(format!(
            "event {}: bad {what} in the read view",
            model.leaf_index
        ))
    };
    Ok(Event {
        leaf_index: u64::try_from(model.leaf_index).map_err(|_| bad("leaf_index"))?,
        kind: EntryKind::parse(&model.kind).ok_or_else(|| bad("kind"))?,
        entry_hash: Hash::parse(&model.entry_hash).map_err(|_| bad("entry_hash"))?,
        detail: serde_json::from_str(&model.detail).map_err(|_| bad("detail"))?,
        public_detail: serde_json::from_str(&model.public_detail)
            .map_err(|_| bad("public_detail"))?,
        decision_id: model.decision_id,
        recorded_at: model.recorded_at,
        recorded_by: model.recorded_by,
    })
}

/// The decision `id` as the view holds it, read through `db` (a transaction or the pool).
pub(super) async fn find_decision(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<DecisionRow>, StoreError> {
    decision::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .map(row_of)
        .transpose()
}

/// The timeline of decision `id`, oldest first.
pub(super) async fn find_events(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Vec<Event>, StoreError> {
    event::Entity::find()
        .filter(event::Column::DecisionId.eq(id))
        .order_by_asc(event::Column::LeafIndex)
        .all(db)
        .await?
        .into_iter()
        .map(event_of)
        .collect()
}

impl Store {
    /// One decision by id.
    pub async fn decision(&self, id: &str) -> Result<Option<DecisionRow>, StoreError> {
        find_decision(&self.db, id).await
    }

    /// The timeline of decision `id`, oldest first.
    pub async fn events(&self, id: &str) -> Result<Vec<Event>, StoreError> {
        find_events(&self.db, id).await
    }

    /// The timeline event of the entry at `leaf_index`.
    pub async fn event(&self, leaf_index: u64) -> Result<Option<Event>, StoreError> {
        event::Entity::find_by_id(super::append::bound(leaf_index))
            .one(&self.db)
            .await?
            .map(event_of)
            .transpose()
    }

    /// Up to `limit` decisions matching `filter` as `reader` (`None`: anonymous) may see them,
    /// newest first.
    ///
    /// Every reader is listed every decision's public face, but a filter on a field that a
    /// record withholds (its tags, its participants' roles) matches only decisions the reader
    /// may read in full: otherwise the filter would confirm a guessed tag of a restricted
    /// decision. As in search, a field published from a record that is still withheld is not
    /// matched for readers who may not read the whole record.
    pub async fn list_decisions(
        &self,
        filter: &DecisionFilter,
        reader: Option<&Token>,
        limit: u64,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        let mut query = decision::Entity::find();
        if filter.tag.is_some() || filter.participant_role.is_some() {
            query = query.filter(super::search::Scope::of(reader).on_decisions());
        }
        if let Some(status) = filter.status {
            query = query.filter(decision::Column::Status.eq(status.as_str()));
        }
        if let Some(today) = &filter.review_overdue_on {
            query = query
                .filter(decision::Column::ReviewOn.lt(today.as_str()))
                .filter(
                    decision::Column::Status
                        .is_not_in([Status::Rescinded.as_str(), Status::Superseded.as_str()]),
                );
        }
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
        let rows = match &filter.order {
            ListOrder::Recorded { before } => self.list_recorded(query, *before, limit).await?,
            ListOrder::Decided { before } => self.list_decided(query, *before, limit).await?,
        };
        rows.into_iter().map(row_of).collect()
    }

    /// Newest recorded first, in two bounded steps. A filter that most recent decisions match
    /// (or none) is answered from the newest RECENT_WINDOW rows, walked in leaf order; one they
    /// rarely match falls through to the rows before that window, where the planner reads the
    /// few matches through the filter's own index. Neither step reads the whole table, which a
    /// single query cannot promise for a date range, the overdue filter or a combination.
    async fn list_recorded(
        &self,
        query: sea_orm::Select<decision::Entity>,
        before: Option<u64>,
        limit: u64,
    ) -> Result<Vec<decision::Model>, StoreError> {
        let upper = match before {
            Some(before) => super::append::bound(before),
            None => decision::Entity::find()
                .select_only()
                .column_as(decision::Column::LeafIndex.max(), "upper")
                .into_tuple::<Option<i64>>()
                .one(&self.db)
                .await?
                .flatten()
                .map_or(0, |max| max + 1),
        };
        let query = query.filter(decision::Column::LeafIndex.lt(upper));
        let window_start = upper.saturating_sub(RECENT_WINDOW);
        let mut rows = query
            .clone()
            .filter(decision::Column::LeafIndex.gte(window_start))
            .order_by_desc(decision::Column::LeafIndex)
            .limit(limit)
            .all(&self.db)
            .await?;
        if (rows.len() as u64) < limit && window_start > 0 {
            rows.extend(
                query
                    .filter(decision::Column::LeafIndex.lt(window_start))
                    .order_by_desc(decision::Column::LeafIndex)
                    .limit(limit - rows.len() as u64)
                    .all(&self.db)
                    .await?,
            );
        }
        Ok(rows)
    }

    /// Latest decision date first, in the same two bounded steps as [`Self::list_recorded`]:
    /// the window is the RECENT_WINDOW rows that follow the cursor in `(decided_on, leaf_index)`
    /// order (found by one walk of that index, without reading rows), and the rows beyond it
    /// are read through the filter's `(column, decided_on, leaf_index)` index.
    async fn list_decided(
        &self,
        query: sea_orm::Select<decision::Entity>,
        before: Option<(NaiveDate, u64)>,
        limit: u64,
    ) -> Result<Vec<decision::Model>, StoreError> {
        let key = || {
            Expr::tuple([
                Expr::col(decision::Column::DecidedOn),
                Expr::col(decision::Column::LeafIndex),
            ])
        };
        let pair = |(day, leaf): (String, i64)| Expr::tuple([Expr::val(day), Expr::val(leaf)]);
        let before = before.map(|(day, leaf)| (day.to_string(), super::append::bound(leaf)));
        let newest_first = |q: sea_orm::Select<decision::Entity>| {
            q.order_by_desc(decision::Column::DecidedOn)
                .order_by_desc(decision::Column::LeafIndex)
        };
        let mut window = newest_first(decision::Entity::find())
            .select_only()
            .column(decision::Column::DecidedOn)
            .column(decision::Column::LeafIndex)
            .offset(RECENT_WINDOW.unsigned_abs() - 1)
            .limit(1);
        let mut query = query;
        if let Some(before) = before.clone() {
            window = window.filter(key().lt(pair(before.clone())));
            query = query.filter(key().lt(pair(before)));
        }
        let edge = window.into_tuple::<(String, i64)>().one(&self.db).await?;
        let Some(edge) = edge else {
            // Fewer rows than a window follow the cursor: one step reads them all.
            return Ok(newest_first(query).limit(limit).all(&self.db).await?);
        };
        let mut rows = newest_first(query.clone().filter(key().gte(pair(edge.clone()))))
            .limit(limit)
            .all(&self.db)
            .await?;
        if (rows.len() as u64) < limit {
            rows.extend(
                newest_first(query.filter(key().lt(pair(edge))))
                    .limit(limit - rows.len() as u64)
                    .all(&self.db)
                    .await?,
            );
        }
        Ok(rows)
    }

    /// Drops the read views and derives them again from the log alone, in one transaction that
    /// holds the append lock, so it is safe while the service runs (appends wait for it).
    /// Returns the number of entries replayed.
    pub async fn rebuild_views(&self) -> Result<u64, StoreError> {
        self.rebuild_views_reporting(&mut |_, _, _| {}).await
    }

    /// [`Store::rebuild_views`], calling `progress(replayed, of, bytes)` after each batch with
    /// the entries replayed so far, the log's size and the canonical bytes of the batch.
    pub async fn rebuild_views_reporting(
        &self,
        progress: &mut (dyn FnMut(u64, u64, u64) + Send),
    ) -> Result<u64, StoreError> {
        // Under the append lock: no entry can land between the replay and the commit.
        let (txn, head) = self.lock_head().await?;
        let size = u64::try_from(head.tree_size).unwrap_or_default();
        event::Entity::delete_many().exec(&txn).await?;
        super::search::clear(&txn).await?;
        super::stats::clear(&txn).await?;
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
            let bytes = batch.iter().map(|e| e.canonical.len() as u64).sum();
            progress(replayed, size, bytes);
        }
        txn.commit().await?;
        Ok(replayed)
    }
}
