//! The Merkle tree over the log, its signed checkpoints, and the log's identity.
//!
//! `merkle_nodes` holds the hash of every complete subtree (level 0 is the entry hashes), so a
//! root, an inclusion proof or a consistency proof reads O(log n) rows and a tile reads one range.
//! `log_head.frontier` is the compact range of the current tree (at most 64 hashes), which lets an
//! append compute the new nodes and the new root without reading any node. `merkle_size` says how
//! many leaves the tree covers: it equals `tree_size` except on a log created before the tree
//! existed, which the service extends once at start-up.
//! `checkpoints` keeps every signed checkpoint; `log_identity` pins the origin and verifier key
//! the log was created with, so that the service refuses to start with another.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_merkle"
    }
}

const STATEMENTS: &str = r#"
CREATE TABLE merkle_nodes (
    level  SMALLINT NOT NULL,
    idx    BIGINT   NOT NULL,
    hash   {BYTES}  NOT NULL,
    PRIMARY KEY (level, idx)
);

ALTER TABLE log_head ADD COLUMN merkle_size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE log_head ADD COLUMN frontier {BYTES} NOT NULL DEFAULT {EMPTY};

CREATE TABLE checkpoints (
    tree_size  BIGINT  NOT NULL PRIMARY KEY,
    root_hash  {BYTES} NOT NULL,
    note       TEXT    NOT NULL,
    signed_at  TEXT    NOT NULL
);

CREATE TABLE log_identity (
    id          INTEGER NOT NULL PRIMARY KEY,
    origin      TEXT    NOT NULL,
    vkey        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (bytes, empty) = match manager.get_database_backend() {
            DbBackend::Postgres => ("BYTEA", "''::bytea"),
            _ => ("BLOB", "x''"),
        };
        for statement in STATEMENTS
            .replace("{BYTES}", bytes)
            .replace("{EMPTY}", empty)
            .split(';')
        {
            if !statement.trim().is_empty() {
                db.execute_unprepared(statement).await?;
            }
        }
        Ok(())
    }
}
