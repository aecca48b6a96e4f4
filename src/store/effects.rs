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

use ledger::{Entry, EntryKind};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use super::StoreError;
use super::entities::{disclosure, log_entry};

fn bad(entry: &Entry, what: &str) -> StoreError {
    StoreError::Inconsistent(format!("leaf {}: {what}", entry.leaf_index))
}

/// Carries out `entry`'s effect on stored disclosures, if it has one.
pub(super) async fn apply(db: &impl ConnectionTrait, entry: &Entry) -> Result<(), StoreError> {
    match entry.kind {
        EntryKind::DecisionRedacted => {
            let leaf = entry.record["leaf_index"]
                .as_i64()
                .ok_or_else(|| bad(entry, "redaction without leaf_index"))?;
            let path = entry.record["path"]
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
