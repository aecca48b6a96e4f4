//! Grants of access on the log: each API token names the `access.granted` entry that records it.
//!
//! Entry format 2 records every token created and revoked as an `access.*` entry whose
//! `decision_id` is the grant's id (docs/log-format.md §5.10). Tokens created before this
//! migration have none; the store appends their grants (and revocations) once at start-up, so
//! that the log shows every power held from then on.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_access_log"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE api_tokens ADD COLUMN grant_id TEXT")
            .await?;
        db.execute_unprepared("CREATE UNIQUE INDEX api_tokens_grant ON api_tokens (grant_id)")
            .await?;
        Ok(())
    }
}
