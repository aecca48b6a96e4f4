//! Statistics of who takes part in decisions ("who is in the room"), kept as monthly rollups so
//! that reading them costs the same whatever the size of the log.
//!
//! A decision *contributes* counters to the statistics — one decision, its participants by role,
//! organisation and attendance, whether alternatives were documented, conflicts and
//! dispensations, input by kind, votes and dissent, outcomes, type, status and its review date —
//! all derived from its current `decisions` row (amendments applied, state from its lineage).
//! `stats_contributions` stores each decision's contribution with the body, month (`YYYY-MM` of
//! `decided_on`) and scope (the row's `classification`: who may read it now) it counts under;
//! `stats_rollups` holds the sums per (body, month, scope, measure, item).
//!
//! Invariant: every rollup equals the sum of the stored contributions under its key. [`refresh`]
//! keeps it, in the transaction of the entry that changed the decision: it subtracts the stored
//! contribution, adds the new one and stores it, in O(1) statements per append. It is called
//! from `views::apply` and from nowhere else, so a rebuild of the views rebuilds the statistics
//! with them.
//!
//! Scopes: figures about participants and content come from withheld content for records that
//! are not public, so rollups are kept per classification and a reader sums only the scopes it
//! may read. Whether a review is overdue depends on the day it is asked: a decision that still
//! stands contributes its review date as an item, and a read sums the items before today.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    AccessMode, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    IsolationLevel, QueryFilter, QueryOrder, QuerySelect, TransactionOptions, TransactionTrait,
};
use serde_json::Value;

use super::entities::decision;
use super::{Store, StoreError};
use crate::lineage::Status;
use crate::record::Classification;

pub(super) mod contribution {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stats_contributions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub decision_id: String,
        pub body: String,
        pub month: String,
        pub scope: String,
        pub counters: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod rollup {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stats_rollups")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub body: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub month: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub measure: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub item: String,
        pub n: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

// Measures, as stored. A plain counter has the item "".
const DECISIONS: &str = "decisions";
const PARTICIPANTS: &str = "participants";
const ROLE: &str = "role";
const ORGANISATION: &str = "organisation";
const ATTENDANCE: &str = "attendance";
const WITH_ALTERNATIVES: &str = "with_alternatives";
const WITH_CONFLICTS: &str = "with_conflicts";
const CONFLICTS: &str = "conflicts";
const DISPENSATIONS: &str = "dispensations";
/// Decisions with at least one input of the item's kind.
const INPUT: &str = "input";
const WITH_VOTE: &str = "with_vote";
/// Decisions whose vote had at least one vote against, or whose motion failed.
const WITH_DISSENT: &str = "with_dissent";
const WITH_OUTCOME: &str = "with_outcome";
const DECISION_TYPE: &str = "decision_type";
const STATUS: &str = "status";
/// Standing decisions by review date (`YYYY-MM-DD`); summed up to a day, the overdue reviews.
const REVIEW_DUE: &str = "review_due";

/// Longest item kept, in characters: organisations are free text, and an item is part of a
/// primary key, which PostgreSQL limits to about 2,700 bytes.
const MAX_ITEM_CHARS: usize = 200;

/// Rows per multi-row statement: well under the bound-parameter limits of both backends.
const BATCH: usize = 500;

/// What [`Store::statistics`] is asked for.
#[derive(Debug, Clone)]
pub struct StatsFilter {
    /// One body's slug, or every body.
    pub body: Option<String>,
    /// First month counted, `YYYY-MM`, inclusive.
    pub from: String,
    /// Last month counted, `YYYY-MM`, inclusive.
    pub to: String,
    /// The classifications the reader may read; decisions of other classifications are only
    /// counted in [`Statistics::not_counted`].
    pub scopes: Vec<Classification>,
    /// The day on which a review dated before it is overdue.
    pub today: NaiveDate,
}

/// Counters over a set of decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Decisions.
    pub decisions: i64,
    /// Participations (a person taking part in a decision).
    pub participants: i64,
    /// Participations by role, as spelt in JSON.
    pub by_role: BTreeMap<String, i64>,
    /// Participations by team or organisation; `""` when none was given.
    pub by_organisation: BTreeMap<String, i64>,
    /// Participations by attendance, as spelt in JSON.
    pub by_attendance: BTreeMap<String, i64>,
    /// Decisions that document the alternatives considered and rejected.
    pub with_alternatives: i64,
    /// Decisions with at least one conflict of interest declared.
    pub with_conflicts: i64,
    /// Conflicts of interest declared.
    pub conflicts: i64,
    /// Dispensations granted.
    pub dispensations: i64,
    /// Decisions with at least one input of a kind (`community`, `staff`, `expert`).
    pub by_input: BTreeMap<String, i64>,
    /// Decisions with a vote.
    pub with_vote: i64,
    /// Decisions whose vote had a vote against or a failed motion.
    pub with_dissent: i64,
    /// Decisions with at least one outcome reported.
    pub with_outcome: i64,
    /// Decisions by type, as spelt in JSON.
    pub by_type: BTreeMap<String, i64>,
    /// Decisions by status, as spelt in JSON.
    pub by_status: BTreeMap<String, i64>,
    /// Decisions that still stand and whose review date has passed.
    pub review_overdue: i64,
}

impl Tally {
    fn add(&mut self, measure: &str, item: &str, n: i64) {
        let into = |map: &mut BTreeMap<String, i64>| *map.entry(item.to_owned()).or_default() += n;
        match measure {
            DECISIONS => self.decisions += n,
            PARTICIPANTS => self.participants += n,
            ROLE => into(&mut self.by_role),
            ORGANISATION => into(&mut self.by_organisation),
            ATTENDANCE => into(&mut self.by_attendance),
            WITH_ALTERNATIVES => self.with_alternatives += n,
            WITH_CONFLICTS => self.with_conflicts += n,
            CONFLICTS => self.conflicts += n,
            DISPENSATIONS => self.dispensations += n,
            INPUT => into(&mut self.by_input),
            WITH_VOTE => self.with_vote += n,
            WITH_DISSENT => self.with_dissent += n,
            WITH_OUTCOME => self.with_outcome += n,
            DECISION_TYPE => into(&mut self.by_type),
            STATUS => into(&mut self.by_status),
            _ => {}
        }
    }
}

/// Statistics over a period, for one reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Every body asked for, together.
    pub total: Tally,
    /// Each body with decisions the reader may read in the period, by slug.
    pub bodies: BTreeMap<String, Tally>,
    /// Decisions the reader may read, by month (`YYYY-MM`); months without any are absent.
    pub months: BTreeMap<String, i64>,
    /// Decisions in the period of a classification the reader may not read.
    pub not_counted: i64,
}

/// What one decision adds to the statistics, and under which key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contribution {
    body: String,
    month: String,
    scope: String,
    counters: BTreeMap<(String, String), i64>,
}

/// (body, month, scope, measure, item).
type RollupKey = (String, String, String, String, String);

impl Contribution {
    fn keyed(&self) -> impl Iterator<Item = (RollupKey, i64)> + '_ {
        self.counters.iter().map(|((measure, item), n)| {
            (
                (
                    self.body.clone(),
                    self.month.clone(),
                    self.scope.clone(),
                    measure.clone(),
                    item.clone(),
                ),
                *n,
            )
        })
    }
}

/// The contribution of a decision as its read-view row stands. Reads the document as JSON rather
/// than as a record, so that a value replaced by an erasure marker counts as absent.
fn contribution_of(row: &decision::Model) -> Contribution {
    let document: Value = serde_json::from_str(&row.document).unwrap_or(Value::Null);
    contribution_with(row, &document)
}

/// [`contribution_of`] `row`, whose document is already read as `document`.
fn contribution_with(row: &decision::Model, document: &Value) -> Contribution {
    let mut counters = BTreeMap::new();
    let mut add = |measure: &str, item: &str, n: i64| {
        if n != 0 {
            let item: String = item.trim().chars().take(MAX_ITEM_CHARS).collect();
            *counters.entry((measure.to_owned(), item)).or_insert(0) += n;
        }
    };
    let list = |field: &str| document[field].as_array().map_or(&[][..], Vec::as_slice);
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();

    add(DECISIONS, "", 1);
    add(DECISION_TYPE, &row.decision_type, 1);
    add(STATUS, &row.status, 1);
    for participant in list("participants") {
        add(PARTICIPANTS, "", 1);
        add(ROLE, &text(&participant["role"]), 1);
        add(ORGANISATION, &text(&participant["organisation"]), 1);
        add(ATTENDANCE, &text(&participant["attendance"]), 1);
    }
    // "none_considered" is a string, not a list.
    if !list("alternatives").is_empty() {
        add(WITH_ALTERNATIVES, "", 1);
    }
    let conflicts = list("conflicts");
    if !conflicts.is_empty() {
        add(WITH_CONFLICTS, "", 1);
        add(CONFLICTS, "", conflicts.len() as i64);
        let granted = conflicts
            .iter()
            .filter(|c| c["dispensation"].is_object())
            .count();
        add(DISPENSATIONS, "", granted as i64);
    }
    let mut kinds: Vec<String> = list("input_from")
        .iter()
        .map(|i| text(&i["kind"]))
        .collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        add(INPUT, &kind, 1);
    }
    let vote = &document["vote"];
    if vote.is_object() {
        add(WITH_VOTE, "", 1);
        if vote["counts"]["against"].as_u64().unwrap_or(0) > 0 || vote["result"] == "failed" {
            add(WITH_DISSENT, "", 1);
        }
    }
    if row.last_outcome.is_some() {
        add(WITH_OUTCOME, "", 1);
    }
    let standing = !Status::parse(&row.status).is_some_and(Status::is_final);
    if let (true, Some(review_on)) = (standing, &row.review_on) {
        add(REVIEW_DUE, review_on, 1);
    }
    Contribution {
        body: row.body.clone(),
        month: row.decided_on.get(..7).unwrap_or_default().to_owned(),
        scope: row.classification.clone(),
        counters,
    }
}

fn stored_of(model: contribution::Model) -> Result<Contribution, StoreError> {
    let triples: Vec<(String, String, i64)> =
        serde_json::from_str(&model.counters).map_err(|_| {
            StoreError::Inconsistent(format!(
                "decision {}: bad counters in stats_contributions",
                model.decision_id
            ))
        })?;
    Ok(Contribution {
        body: model.body,
        month: model.month,
        scope: model.scope,
        counters: triples
            .into_iter()
            .map(|(measure, item, n)| ((measure, item), n))
            .collect(),
    })
}

fn model_of(decision_id: &str, c: &Contribution) -> contribution::ActiveModel {
    let triples: Vec<(&String, &String, i64)> = c
        .counters
        .iter()
        .map(|((measure, item), n)| (measure, item, *n))
        .collect();
    contribution::ActiveModel {
        decision_id: Set(decision_id.to_owned()),
        body: Set(c.body.clone()),
        month: Set(c.month.clone()),
        scope: Set(c.scope.clone()),
        counters: Set(serde_json::to_string(&triples).unwrap_or_else(|_| "[]".into())),
    }
}

/// Adds `deltas` to the rollups, creating the rows that do not exist yet.
async fn add_to_rollups(
    db: &impl ConnectionTrait,
    deltas: &BTreeMap<RollupKey, i64>,
) -> Result<(), StoreError> {
    let rows: Vec<rollup::ActiveModel> = deltas
        .iter()
        .filter(|(_, n)| **n != 0)
        .map(
            |((body, month, scope, measure, item), n)| rollup::ActiveModel {
                body: Set(body.clone()),
                month: Set(month.clone()),
                scope: Set(scope.clone()),
                measure: Set(measure.clone()),
                item: Set(item.clone()),
                n: Set(*n),
            },
        )
        .collect();
    let mut rows = rows.into_iter();
    for size in super::batch::chunk_sizes(rows.len()) {
        rollup::Entity::insert_many(rows.by_ref().take(size))
            .on_conflict(
                OnConflict::columns([
                    rollup::Column::Body,
                    rollup::Column::Month,
                    rollup::Column::Scope,
                    rollup::Column::Measure,
                    rollup::Column::Item,
                ])
                .value(
                    rollup::Column::N,
                    Expr::cust("stats_rollups.n + excluded.n"),
                )
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Brings the statistics of decision `decision_id` in line with its read-view row. Runs after
/// every entry is applied, in the same transaction; MUST NOT be called anywhere else.
pub(super) async fn refresh(
    db: &impl ConnectionTrait,
    decision_id: &str,
) -> Result<(), StoreError> {
    let row = decision::Entity::find_by_id(decision_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::Inconsistent(format!(
                "statistics of decision {decision_id}, not in the view"
            ))
        })?;
    let new = contribution_of(&row);
    let old = contribution::Entity::find_by_id(decision_id.to_owned())
        .one(db)
        .await?
        .map(stored_of)
        .transpose()?;
    if old.as_ref() == Some(&new) {
        return Ok(());
    }
    let mut deltas: BTreeMap<RollupKey, i64> = BTreeMap::new();
    for (key, n) in old.iter().flat_map(Contribution::keyed) {
        *deltas.entry(key).or_insert(0) -= n;
    }
    for (key, n) in new.keyed() {
        *deltas.entry(key).or_insert(0) += n;
    }
    add_to_rollups(db, &deltas).await?;
    contribution::Entity::insert(model_of(decision_id, &new))
        .on_conflict(
            OnConflict::column(contribution::Column::DecisionId)
                .update_columns([
                    contribution::Column::Body,
                    contribution::Column::Month,
                    contribution::Column::Scope,
                    contribution::Column::Counters,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Changes to the rollups, summed over a batch before they are written.
pub(super) type Deltas = BTreeMap<RollupKey, i64>;

/// What decision `row`, recorded just now with the record `document`, adds to the statistics: its
/// contribution row, with its counts added to `deltas`. A batch of new decisions writes these
/// with [`add_recorded`]; every later change to a decision goes through [`refresh`].
pub(super) fn recorded(
    row: &decision::Model,
    document: &Value,
    deltas: &mut Deltas,
) -> contribution::ActiveModel {
    let new = contribution_with(row, document);
    for (key, n) in new.keyed() {
        *deltas.entry(key).or_insert(0) += n;
    }
    model_of(&row.id, &new)
}

/// Writes the contributions of newly recorded decisions and their summed `deltas`.
pub(super) async fn add_recorded(
    db: &impl ConnectionTrait,
    contributions: Vec<contribution::ActiveModel>,
    deltas: &Deltas,
) -> Result<(), StoreError> {
    add_to_rollups(db, deltas).await?;
    super::batch::insert_all(db, contributions).await
}

/// Empties the statistics, for a rebuild of the views.
pub(super) async fn clear(db: &impl ConnectionTrait) -> Result<(), StoreError> {
    rollup::Entity::delete_many().exec(db).await?;
    contribution::Entity::delete_many().exec(db).await?;
    Ok(())
}

/// Whether decisions exist but their statistics do not: a log recorded before they were kept.
async fn missing(db: &impl ConnectionTrait) -> Result<bool, StoreError> {
    let counted = contribution::Entity::find()
        .select_only()
        .column(contribution::Column::DecisionId)
        .limit(1)
        .into_tuple::<String>()
        .one(db)
        .await?
        .is_some();
    if counted {
        return Ok(false);
    }
    Ok(decision::Entity::find()
        .select_only()
        .column(decision::Column::Id)
        .limit(1)
        .into_tuple::<String>()
        .one(db)
        .await?
        .is_some())
}

/// Derives every decision's contribution and the rollups from the `decisions` view, in batches
/// in leaf order. Returns the number of decisions counted.
async fn derive_all(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    clear(db).await?;
    let mut totals: BTreeMap<RollupKey, i64> = BTreeMap::new();
    let mut counted = 0;
    let mut after = -1;
    loop {
        let batch = decision::Entity::find()
            .filter(decision::Column::LeafIndex.gt(after))
            .order_by_asc(decision::Column::LeafIndex)
            .limit(BATCH as u64)
            .all(db)
            .await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.leaf_index;
        let mut models = Vec::with_capacity(batch.len());
        for row in &batch {
            let c = contribution_of(row);
            for (key, n) in c.keyed() {
                *totals.entry(key).or_insert(0) += n;
            }
            models.push(model_of(&row.id, &c));
        }
        counted += models.len() as u64;
        contribution::Entity::insert_many(models)
            .exec_without_returning(db)
            .await?;
    }
    add_to_rollups(db, &totals).await?;
    Ok(counted)
}

impl Store {
    /// Derives the statistics of a log whose decisions were recorded before statistics were
    /// kept; does nothing (two indexed lookups) when they exist or there are no decisions. Runs
    /// under the append lock, so that no append, and no other instance starting at the same
    /// time, counts a decision twice.
    pub(super) async fn backfill_stats(&self) -> Result<u64, StoreError> {
        if !missing(&self.db).await? {
            return Ok(0);
        }
        let (txn, _) = self.lock_head().await?;
        if !missing(&txn).await? {
            return Ok(0);
        }
        let counted = derive_all(&txn).await?;
        txn.commit().await?;
        tracing::info!(
            decisions = counted,
            "derived the statistics of decisions recorded before they were kept"
        );
        Ok(counted)
    }

    /// The statistics of `filter`'s bodies and months for a reader who may read `filter.scopes`.
    /// Reads rollup rows only: O(months × bodies × items), whatever the size of the log.
    pub async fn statistics(&self, filter: &StatsFilter) -> Result<Statistics, StoreError> {
        let scopes: Vec<&str> = filter.scopes.iter().map(|c| c.as_str()).collect();
        let readable = |scope: &str| scopes.contains(&scope);
        let sum = || Expr::cust("CAST(SUM(n) AS BIGINT)");
        let in_period = || {
            let mut query = rollup::Entity::find()
                .select_only()
                .filter(rollup::Column::Month.gte(filter.from.as_str()))
                .filter(rollup::Column::Month.lte(filter.to.as_str()));
            if let Some(body) = &filter.body {
                query = query.filter(rollup::Column::Body.eq(body.as_str()));
            }
            query
        };
        // One snapshot for the three reads, so that the figures of a page agree with each other
        // while appends go on (SQLite's read transactions are snapshots already).
        let postgres = self.backend() == DbBackend::Postgres;
        let txn = self
            .db
            .begin_with_options(TransactionOptions {
                isolation_level: Some(IsolationLevel::RepeatableRead).filter(|_| postgres),
                access_mode: Some(AccessMode::ReadOnly).filter(|_| postgres),
                sqlite_transaction_mode: None,
            })
            .await?;
        let mut stats = Statistics::default();

        let counters: Vec<(String, String, String, String, i64)> = in_period()
            .column(rollup::Column::Body)
            .column(rollup::Column::Scope)
            .column(rollup::Column::Measure)
            .column(rollup::Column::Item)
            .column_as(sum(), "n")
            .filter(rollup::Column::Measure.ne(REVIEW_DUE))
            .group_by(rollup::Column::Body)
            .group_by(rollup::Column::Scope)
            .group_by(rollup::Column::Measure)
            .group_by(rollup::Column::Item)
            .into_tuple()
            .all(&txn)
            .await?;
        for (body, scope, measure, item, n) in counters {
            if readable(&scope) {
                stats
                    .bodies
                    .entry(body)
                    .or_default()
                    .add(&measure, &item, n);
                stats.total.add(&measure, &item, n);
            } else if measure == DECISIONS {
                stats.not_counted += n;
            }
        }

        let overdue: Vec<(String, i64)> = in_period()
            .column(rollup::Column::Body)
            .column_as(sum(), "n")
            .filter(rollup::Column::Measure.eq(REVIEW_DUE))
            .filter(rollup::Column::Item.lt(filter.today.to_string()))
            .filter(rollup::Column::Scope.is_in(scopes.clone()))
            .group_by(rollup::Column::Body)
            .into_tuple()
            .all(&txn)
            .await?;
        for (body, n) in overdue {
            stats.bodies.entry(body).or_default().review_overdue += n;
            stats.total.review_overdue += n;
        }

        let months: Vec<(String, i64)> = in_period()
            .column(rollup::Column::Month)
            .column_as(sum(), "n")
            .filter(rollup::Column::Measure.eq(DECISIONS))
            .filter(rollup::Column::Scope.is_in(scopes.clone()))
            .group_by(rollup::Column::Month)
            .into_tuple()
            .all(&txn)
            .await?;
        txn.commit().await?;
        stats.months = months.into_iter().filter(|(_, n)| *n != 0).collect();
        // A body whose decisions all moved to another month or scope leaves rows of zero.
        stats.bodies.retain(|_, tally| tally.decisions != 0);
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(document: Value) -> decision::Model {
        decision::Model {
            id: "d".into(),
            leaf_index: 0,
            entry_hash: String::new(),
            prev_hash: String::new(),
            recorded_at: String::new(),
            recorded_by: String::new(),
            body: "cabinet".into(),
            decision_type: "key".into(),
            classification: "public".into(),
            decided_on: "2026-11-18".into(),
            title: String::new(),
            document: document.to_string(),
            status: "in_force".into(),
            effective_from: None,
            review_on: Some("2027-10-01".into()),
            last_outcome: None,
            superseded_by: None,
            supersedes: "[]".into(),
            published: "{}".into(),
            updated_at: None,
        }
    }

    fn tally(c: &Contribution) -> Tally {
        let mut t = Tally::default();
        for ((measure, item), n) in &c.counters {
            t.add(measure, item, *n);
        }
        t
    }

    #[test]
    fn the_example_contributes_what_it_records() {
        let c = contribution_of(&row(crate::record::example()));
        assert_eq!((c.month.as_str(), c.scope.as_str()), ("2026-11", "public"));
        let t = tally(&c);
        assert_eq!(t.decisions, 1);
        assert_eq!(t.participants, 5);
        assert_eq!(t.by_role["decision_maker"], 3);
        assert_eq!(t.by_organisation["Cabinet"], 4);
        assert_eq!(t.by_attendance["present"], 3);
        assert_eq!(
            (
                t.with_alternatives,
                t.with_conflicts,
                t.conflicts,
                t.dispensations
            ),
            (1, 1, 1, 1)
        );
        assert_eq!((t.with_vote, t.with_dissent, t.with_outcome), (1, 1, 0));
        assert_eq!(t.by_input.len(), 2);
        assert_eq!(c.counters[&(REVIEW_DUE.into(), "2027-10-01".into())], 1);
    }

    #[test]
    fn erased_and_absent_values_count_as_nothing() {
        let mut document = crate::record::example();
        document["alternatives"] = json!("none_considered");
        document["conflicts"] = json!("[redacted]");
        document["participants"][0]["organisation"] = json!("x".repeat(5000));
        document.as_object_mut().expect("object").remove("vote");
        let mut ended = row(document);
        ended.status = "rescinded".into();
        let c = contribution_of(&ended);
        let t = tally(&c);
        assert_eq!(
            (t.with_alternatives, t.with_conflicts, t.with_vote),
            (0, 0, 0)
        );
        assert!(
            t.by_organisation
                .keys()
                .all(|k| k.chars().count() <= MAX_ITEM_CHARS)
        );
        assert!(!c.counters.keys().any(|(m, _)| m == REVIEW_DUE));
    }

    #[test]
    fn a_failed_motion_is_dissent_even_without_votes_against() {
        let mut document = crate::record::example();
        document["vote"] = json!({"method": "show_of_hands", "counts": {"for": 0, "against": 0, "abstain": 3}, "result": "failed"});
        assert_eq!(tally(&contribution_of(&row(document))).with_dissent, 1);
    }

    #[test]
    fn a_stored_contribution_reads_back_the_same() {
        let c = contribution_of(&row(crate::record::example()));
        let model = model_of("d", &c);
        let stored = contribution::Model {
            decision_id: "d".into(),
            body: model.body.unwrap(),
            month: model.month.unwrap(),
            scope: model.scope.unwrap(),
            counters: model.counters.unwrap(),
        };
        assert_eq!(stored_of(stored).expect("reads"), c);
    }
}
