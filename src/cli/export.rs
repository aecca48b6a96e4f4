//! `decision-log export --url URL`: the whole log, to standard output, as JSON Lines that
//! `verify --file` checks offline.
//!
//! The first line is a header (`decision-log-export/v2`) holding the log's latest signed
//! checkpoint and the reader the disclosures were served to; then one line per entry, from `0`
//! on, as the API served it: the entry's stored bytes verbatim, its hash, the disclosures served
//! to the token given (none: an anonymous reader's), and the log's size when its page was read.
//! The export reads past the checkpoint up to the log's size when its last page was read, because
//! the disclosures served reflect every entry up to that size (an erasure past the checkpoint
//! removes a value from earlier entries); `verify --file` checks the checkpoint's root at its
//! size and reports the rest as not yet covered. Memory does not grow with the log. When stderr is
//! a terminal, a progress line shows there; standard output carries the export alone.

use std::io::Write;

use super::client::LogClient;
use super::progress::Progress;
use super::verify::{EXPORT_FORMAT, ExportHeader, Page, reader_of};
use crate::config::ExportConfig;
use anyhow::{Context, bail};

const BATCH: u64 = 1000;

/// Writes the export of the log at `config.url` to standard output.
pub async fn export(config: &ExportConfig) -> anyhow::Result<()> {
    let client = LogClient::new(&config.url, config.token.as_deref())?;
    let reader = reader_of(config.reader, config.token.as_deref());
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
        reader: Some(reader.as_str().to_owned()),
    };
    serde_json::to_writer(&mut out, &header)?;
    out.write_all(b"\n")?;
    let mut from = 0;
    let mut target = size;
    let progress = Progress::new(size, 0, false);
    loop {
        let body = client.entries_page(from, BATCH).await?;
        let page: Page = serde_json::from_slice(&body)
            .with_context(|| format!("the page of entries from {from} is malformed"))?;
        target = target.max(page.tree_size);
        progress.grow_to(target);
        progress.add(page.entries.len() as u64, body.len() as u64);
        if page.entries.is_empty() && from < target {
            bail!("the log ends at {from} entries but it has {target}");
        }
        for mut entry in page.entries {
            entry.tree_size = Some(page.tree_size);
            serde_json::to_writer(&mut out, &entry)?;
            out.write_all(b"\n")?;
            from += 1;
        }
        if from >= target {
            break;
        }
    }
    out.flush()?;
    progress.finish();
    eprintln!("Exported {from} entries ({size} covered by the checkpoint).");
    Ok(())
}
