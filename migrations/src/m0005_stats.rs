//! Statistics of who takes part in decisions: monthly rollups maintained as the log grows.
//!
//! `stats_contributions` holds, for every decision, what it currently adds to the statistics:
//! its body, the month of its decision date, the classification readers see it under (its
//! scope), and its counters as a JSON list of `[measure, item, n]`. `stats_rollups` holds the
//! sums of those counters per body, month, scope, measure and item. Both are read views: the
//! store keeps them in step with `decisions` in the append transaction (subtracting a decision's
//! stored contribution and adding its new one) and rebuilds them with the other views.
//!
//! A log recorded before this migration has decisions but no contributions; the store derives
//! them once at start-up, under the append lock, rather than in SQL here, so that one piece of
//! code decides what a decision contributes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_stats"
    }
}

const STATEMENTS: &str = r#"
CREATE TABLE stats_contributions (
    decision_id  TEXT NOT NULL PRIMARY KEY,
    body         TEXT NOT NULL,
    month        TEXT NOT NULL,
    scope        TEXT NOT NULL,
    counters     TEXT NOT NULL
);

CREATE TABLE stats_rollups (
    body     TEXT   NOT NULL,
    month    TEXT   NOT NULL,
    scope    TEXT   NOT NULL,
    measure  TEXT   NOT NULL,
    item     TEXT   NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (body, month, scope, measure, item)
);
CREATE INDEX stats_rollups_month ON stats_rollups (month, measure)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in STATEMENTS.split(';') {
            if !statement.trim().is_empty() {
                db.execute_unprepared(statement).await?;
            }
        }
        Ok(())
    }
}
