//! The log, its head, the read views derived from it, and API tokens.
//!
//! `log_entries` is append-only twice over: the service never issues UPDATE or DELETE on it, and
//! triggers on both backends reject them. `leaf_index`, `entry_hash` and `prev_hash` are unique,
//! so that two appenders that somehow read the same head collide instead of forking the chain.
//! `log_head` is the single row every append locks and advances in the same transaction.
//! Everything under "read views" can be dropped and rebuilt from `log_entries` + `disclosures`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_log"
    }
}

const TABLES: &str = r#"
CREATE TABLE log_entries (
    leaf_index   BIGINT  NOT NULL PRIMARY KEY,
    entry_hash   {BYTES} NOT NULL UNIQUE,
    prev_hash    {BYTES} NOT NULL UNIQUE,
    kind         TEXT    NOT NULL,
    decision_id  TEXT    NOT NULL,
    recorded_at  TEXT    NOT NULL,
    canonical    {BYTES} NOT NULL
);
CREATE INDEX log_entries_decision ON log_entries (decision_id, leaf_index);

CREATE TABLE disclosures (
    leaf_index   BIGINT NOT NULL REFERENCES log_entries (leaf_index),
    path         TEXT   NOT NULL,
    salt         TEXT   NOT NULL,
    value        TEXT   NOT NULL,
    visibility   TEXT   NOT NULL,
    PRIMARY KEY (leaf_index, path)
);

CREATE TABLE log_head (
    id           INTEGER NOT NULL PRIMARY KEY,
    tree_size    BIGINT  NOT NULL,
    head_hash    {BYTES} NOT NULL,
    recorded_at  TEXT
);

CREATE TABLE decisions (
    id             TEXT   NOT NULL PRIMARY KEY,
    leaf_index     BIGINT NOT NULL UNIQUE,
    entry_hash     TEXT   NOT NULL,
    prev_hash      TEXT   NOT NULL,
    recorded_at    TEXT   NOT NULL,
    recorded_by    TEXT   NOT NULL,
    body           TEXT   NOT NULL,
    decision_type  TEXT   NOT NULL,
    classification TEXT   NOT NULL,
    decided_on     TEXT   NOT NULL,
    title          TEXT   NOT NULL,
    document       TEXT   NOT NULL
);
CREATE INDEX decisions_body ON decisions (body, leaf_index);
CREATE INDEX decisions_type ON decisions (decision_type, leaf_index);
CREATE INDEX decisions_classification ON decisions (classification, leaf_index);
CREATE INDEX decisions_decided_on ON decisions (decided_on, leaf_index);

CREATE TABLE decision_participants (
    decision_id   TEXT    NOT NULL REFERENCES decisions (id),
    position      INTEGER NOT NULL,
    leaf_index    BIGINT  NOT NULL,
    role          TEXT    NOT NULL,
    attendance    TEXT    NOT NULL,
    organisation  TEXT,
    name          TEXT,
    PRIMARY KEY (decision_id, position)
);
CREATE INDEX decision_participants_role ON decision_participants (role, leaf_index);

CREATE TABLE decision_tags (
    tag          TEXT   NOT NULL,
    leaf_index   BIGINT NOT NULL,
    decision_id  TEXT   NOT NULL REFERENCES decisions (id),
    PRIMARY KEY (tag, leaf_index)
);
CREATE INDEX decision_tags_decision ON decision_tags (decision_id);

CREATE TABLE api_tokens (
    name         TEXT    NOT NULL PRIMARY KEY,
    token_hash   {BYTES} NOT NULL UNIQUE,
    role         TEXT    NOT NULL,
    bodies       TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    revoked_at   TEXT
);
"#;

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER log_entries_no_update BEFORE UPDATE ON log_entries
     BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END",
    "CREATE TRIGGER log_entries_no_delete BEFORE DELETE ON log_entries
     BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION log_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'log_entries is append-only'; END $$",
    "CREATE TRIGGER log_entries_no_update_delete BEFORE UPDATE OR DELETE ON log_entries
     FOR EACH ROW EXECUTE FUNCTION log_entries_append_only()",
    "CREATE TRIGGER log_entries_no_truncate BEFORE TRUNCATE ON log_entries
     FOR EACH STATEMENT EXECUTE FUNCTION log_entries_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let (bytes, triggers) = match backend {
            DbBackend::Postgres => ("BYTEA", POSTGRES_TRIGGERS),
            _ => ("BLOB", SQLITE_TRIGGERS),
        };
        for statement in TABLES.replace("{BYTES}", bytes).split(';') {
            if !statement.trim().is_empty() {
                db.execute_unprepared(statement).await?;
            }
        }
        for statement in triggers {
            db.execute_unprepared(statement).await?;
        }
        // The genesis head: an empty log whose next entry links to 32 zero bytes.
        let zeros = match backend {
            DbBackend::Postgres => {
                "'\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea"
            }
            _ => "zeroblob(32)",
        };
        db.execute_unprepared(&format!(
            "INSERT INTO log_head (id, tree_size, head_hash, recorded_at) VALUES (1, 0, {zeros}, NULL)"
        ))
        .await?;
        Ok(())
    }
}
