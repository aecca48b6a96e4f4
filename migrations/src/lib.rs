//! Database migrations for decision-log, applied at start-up on SQLite and PostgreSQL.
//!
//! Applied migrations are never edited: a schema change is a new migration. The DDL is written
//! as SQL, one statement list per backend where they differ, so that what runs is what is read.

pub use sea_orm_migration::prelude::*;

mod m0001_log;
mod m0002_merkle;
mod m0003_workflow;
mod m0004_search;
mod m0005_stats;
mod m0006_erasure;
mod m0007_access_log;
mod m0008_decided_order;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_log::Migration),
            Box::new(m0002_merkle::Migration),
            Box::new(m0003_workflow::Migration),
            Box::new(m0004_search::Migration),
            Box::new(m0005_stats::Migration),
            Box::new(m0006_erasure::Migration),
            Box::new(m0007_access_log::Migration),
            Box::new(m0008_decided_order::Migration),
        ]
    }
}
