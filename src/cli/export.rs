//! `decision-log export --url URL`: the whole log, to standard output, as JSON Lines that
//! `verify --file` checks offline.
//!
//! The first line is a header holding the log's latest signed checkpoint; then one line per entry,
//! `0` up to the checkpoint's size, as the API serves them (entry, entry hash, the disclosures an
//! anonymous reader may see). The export is a snapshot at that checkpoint: entries appended while
//! it runs are left for the next one. Memory does not grow with the log.

use std::io::Write;

use anyhow::{Context, bail};

use super::client::LogClient;
use crate::config::ExportConfig;

use super::verify::{EXPORT_FORMAT, ExportHeader};

const BATCH: u64 = 1000;

/// Writes the export of the log at `url` to standard output.
pub async fn export(config: &ExportConfig) -> anyhow::Result<()> {
    let client = LogClient::new(&config.url, config.token.as_deref())?;
    let checkpoint = client.checkpoint().await?;
    let mut lines = checkpoint.lines();
    let origin = lines.next().context("the checkpoint is empty")?.to_owned();
    let size: u64 = lines
        .next()
        .and_then(|n| n.parse().ok())
        .context("the checkpoint has no tree size")?;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let header = ExportHeader {
        format: EXPORT_FORMAT.to_owned(),
        origin,
        checkpoint,
    };
    serde_json::to_writer(&mut out, &header)?;
    out.write_all(b"\n")?;
    let mut from = 0;
    while from < size {
        let limit = BATCH.min(size - from);
        let page: serde_json::Value =
            serde_json::from_slice(&client.entries_page(from, limit).await?)?;
        let entries = page["entries"]
            .as_array()
            .context("the page has no entries")?;
        if entries.is_empty() {
            bail!("the log ends at {from} entries but its checkpoint commits to {size}");
        }
        for entry in entries.iter().take(limit as usize) {
            serde_json::to_writer(&mut out, entry)?;
            out.write_all(b"\n")?;
        }
        from += entries.len().min(limit as usize) as u64;
    }
    out.flush()?;
    eprintln!("Exported {size} entries.");
    Ok(())
}
