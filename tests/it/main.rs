//! Integration tests: the real app, over real HTTP, on SQLite and on PostgreSQL, through the real
//! migrations. Each scenario runs once per backend and ends with the log invariant check.

mod helpers;

mod admin;
mod cli;
mod decisions;
mod errors;
mod feeds;
mod first_run;
mod hardening;
mod http;
mod intrusion;
mod keys;
mod limits;
mod log_format;
mod openapi;
mod operations;
mod pages;
mod permissions;
mod proofs;
mod search;
mod sequencer;
mod stats;
mod storage;
mod tamper;
mod verify_lineage;
mod workflow;

/// Runs each named scenario `fn(Backend)` as two tests, `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await;
            }
        }
    )*};
}
