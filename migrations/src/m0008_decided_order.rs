//! Indexes for listing decisions by decision date: each list filter gets an index that ends in
//! `(decided_on, leaf_index)`, the key of that order, as it already has one ending in
//! `leaf_index` (m0001, m0003). Without them a filtered page in date order would read every
//! match of the filter to sort it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_decided_order"
    }
}

const INDEXES: &[&str] = &[
    "CREATE INDEX decisions_body_decided ON decisions (body, decided_on, leaf_index)",
    "CREATE INDEX decisions_type_decided ON decisions (decision_type, decided_on, leaf_index)",
    "CREATE INDEX decisions_classification_decided ON decisions (classification, decided_on, leaf_index)",
    "CREATE INDEX decisions_status_decided ON decisions (status, decided_on, leaf_index)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for index in INDEXES {
            db.execute_unprepared(index).await?;
        }
        Ok(())
    }
}
