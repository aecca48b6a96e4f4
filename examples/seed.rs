//! Fills a log with realistic decisions straight through the store's append path, for
//! benchmarks: `cargo run --release --example seed -- DATABASE_URL COUNT`.
//!
//! Every entry goes through `Store::append` (the same transaction as `POST /api/v1/decisions`),
//! so the log, its tree and its views are exactly what the service would have written.

use decision_log::record::DecisionRecord;
use decision_log::store::{NewEntry, Store};
use ledger::EntryKind;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "sqlite://bench.db?mode=rwc".into());
    let count: u64 = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let store = Store::connect(&url, 4).await?;
    let start = store.head().await?.tree_size;
    let started = std::time::Instant::now();
    for n in start..start + count {
        let mut value = decision_log::record::example();
        value["title"] =
            format!("Decision {n}: close Northgate depot and move waste collection").into();
        let record = DecisionRecord::from_json(&value, chrono::Utc::now().date_naive())
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let (hashed, disclosures) = record.commit(rand::random);
        store
            .append(
                NewEntry {
                    kind: EntryKind::DecisionRecorded,
                    decision_id: uuid::Uuid::now_v7().to_string(),
                    recorded_by: "bench".into(),
                    record: hashed,
                    disclosures,
                },
                None,
                chrono::Utc::now(),
            )
            .await?;
        if (n + 1) % 10_000 == 0 {
            eprintln!(
                "{} entries, {:.0}/s",
                n + 1,
                (n + 1 - start) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!(
        "appended {count} entries in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
