//! Full-text search over decisions: one row per decision holding the text it is found by.
//!
//! The row is a read view like the others: derived from the `decisions` row (title, decision,
//! reasons, alternatives) and its `decision.outcome_reported` timeline events (narratives),
//! keyed by the leaf index of the decision's `decision.recorded` entry, and carrying the
//! classification readers see and the body, so that a search can keep to what its reader may
//! read without reading `decisions`. Names of people are never indexed.
//!
//! SQLite holds it in an FTS5 table (`rowid` is the leaf index; Porter stemming over unicode61
//! tokens). PostgreSQL holds the text in `content` with a generated English `tsvector` under a
//! GIN index; `content` is what `ts_headline` cuts snippets from.
//!
//! This migration only creates the table: the service fills it at start-up from the decisions
//! already recorded (see `store::search`), with the same code that maintains it on every append.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_search"
    }
}

const SQLITE: &[&str] = &["CREATE VIRTUAL TABLE decision_search USING fts5 (
    title,
    decision,
    reasons,
    alternatives,
    outcomes,
    decision_id UNINDEXED,
    classification UNINDEXED,
    body UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
)"];

const POSTGRES: &[&str] = &[
    "CREATE TABLE decision_search (
    leaf_index     BIGINT   NOT NULL PRIMARY KEY,
    decision_id    TEXT     NOT NULL UNIQUE,
    classification TEXT     NOT NULL,
    body           TEXT     NOT NULL,
    content        TEXT     NOT NULL,
    document       TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', content)) STORED
)",
    "CREATE INDEX decision_search_document ON decision_search USING GIN (document)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES,
            _ => SQLITE,
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
