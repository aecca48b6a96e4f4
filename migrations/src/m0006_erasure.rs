//! Erasure that reaches the disk.
//!
//! An erased value is deleted from every table that held it (see the store's `effects`), but a
//! database keeps copies of deleted content of its own accord. This migration closes the two
//! copies that outlive the service's own scrubbing after an erasure:
//!
//! - PostgreSQL's planner statistics (`pg_statistic`) sample column values, names included, when
//!   a table is analysed. The columns that hold personal values never need statistics (they are
//!   never filtered on), so none are gathered for them. Statistics gathered before this
//!   migration stay until a superuser deletes them (docs/API.md, "Erasure").
//! - SQLite's full-text index keeps the tokens of a deleted row in its segments until they are
//!   merged; FTS5's `secure-delete` option removes them at once. The index holds no names, but
//!   withheld text that is later erased, or deleted with its row, must not linger either.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_erasure"
    }
}

/// The columns that hold personal values in clear: disclosures, and the read views that show
/// them.
const PERSONAL_COLUMNS: &[(&str, &str)] = &[
    ("disclosures", "value"),
    ("decisions", "document"),
    ("decision_participants", "name"),
    ("decision_events", "detail"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                for (table, column) in PERSONAL_COLUMNS {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS 0"
                    ))
                    .await?;
                }
            }
            _ => {
                db.execute_unprepared(
                    "INSERT INTO decision_search (decision_search, rank) VALUES ('secure-delete', 1)",
                )
                .await?;
            }
        }
        Ok(())
    }
}
