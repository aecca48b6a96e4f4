//! The secretariat's workflow: decision state and lineage views, the bodies registry, token
//! scopes and expiry, and idempotency keys.
//!
//! `decisions` gains the state derived from lineage entries (status, effective and review dates,
//! supersession links, published fields); `decision_events` is the timeline of every entry about
//! a decision, each with the detail a cleared reader sees and the detail anyone may see. Both are
//! read views, rebuilt from the log like the others.
//! `bodies` and `body_members` are the registry of deciding bodies, kept by admins (not hashed).
//! `idempotency_keys` remembers, for at least 24 hours, which request a key was first used with
//! and what it produced: the log entry it appended, or the stored response of a registry write.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_workflow"
    }
}

const STATEMENTS: &str = r#"
ALTER TABLE decisions ADD COLUMN status TEXT NOT NULL DEFAULT 'in_force';
ALTER TABLE decisions ADD COLUMN effective_from TEXT;
ALTER TABLE decisions ADD COLUMN review_on TEXT;
ALTER TABLE decisions ADD COLUMN last_outcome TEXT;
ALTER TABLE decisions ADD COLUMN superseded_by TEXT;
ALTER TABLE decisions ADD COLUMN supersedes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE decisions ADD COLUMN published TEXT NOT NULL DEFAULT '{"record":false,"fields":[]}';
ALTER TABLE decisions ADD COLUMN updated_at TEXT;
CREATE INDEX decisions_status ON decisions (status, leaf_index);
CREATE INDEX decisions_review_on ON decisions (review_on, leaf_index);

CREATE TABLE decision_events (
    leaf_index     BIGINT NOT NULL PRIMARY KEY,
    decision_id    TEXT   NOT NULL,
    kind           TEXT   NOT NULL,
    recorded_at    TEXT   NOT NULL,
    recorded_by    TEXT   NOT NULL,
    entry_hash     TEXT   NOT NULL,
    detail         TEXT   NOT NULL,
    public_detail  TEXT   NOT NULL
);
CREATE INDEX decision_events_decision ON decision_events (decision_id, leaf_index);

CREATE TABLE bodies (
    slug         TEXT NOT NULL PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL
);

CREATE TABLE body_members (
    id            TEXT NOT NULL PRIMARY KEY,
    body          TEXT NOT NULL REFERENCES bodies (slug),
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    organisation  TEXT,
    from_date     TEXT NOT NULL,
    until_date    TEXT
);
CREATE INDEX body_members_body ON body_members (body, from_date);

ALTER TABLE api_tokens ADD COLUMN powers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN created_by TEXT;

CREATE TABLE idempotency_keys (
    token_name    TEXT    NOT NULL,
    idem_key      TEXT    NOT NULL,
    request_hash  {BYTES} NOT NULL,
    leaf_index    BIGINT,
    status        INTEGER,
    location      TEXT,
    response      TEXT,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (token_name, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

INSERT INTO bodies (slug, name, kind, created_at, created_by)
    SELECT DISTINCT body, body, 'committee', '1970-01-01T00:00:00Z', 'migration' FROM decisions;

INSERT INTO decision_events
    (leaf_index, decision_id, kind, recorded_at, recorded_by, entry_hash, detail, public_detail)
    SELECT leaf_index, id, 'decision.recorded', recorded_at, recorded_by, entry_hash, '{}', '{}'
    FROM decisions
"#;

/// Dates already in the read view's documents move into their own columns.
const SQLITE_BACKFILL: &str = "UPDATE decisions SET
    effective_from = json_extract(document, '$.effective_from'),
    review_on = json_extract(document, '$.review_on')";

const POSTGRES_BACKFILL: &str = "UPDATE decisions SET
    effective_from = document::json->>'effective_from',
    review_on = document::json->>'review_on'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (bytes, backfill) = match manager.get_database_backend() {
            DbBackend::Postgres => ("BYTEA", POSTGRES_BACKFILL),
            _ => ("BLOB", SQLITE_BACKFILL),
        };
        for statement in STATEMENTS.replace("{BYTES}", bytes).split(';') {
            if !statement.trim().is_empty() {
                db.execute_unprepared(statement).await?;
            }
        }
        db.execute_unprepared(backfill).await?;
        Ok(())
    }
}
