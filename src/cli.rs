//! The subcommands other than `serve`: tokens, verification, view rebuilds.

use std::io::IsTerminal;
use std::process::ExitCode;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use ledger::ChainVerifier;

use crate::config::{DatabaseConfig, TokenCommand};
use crate::store::{Role, Store};

/// Entries read per query while verifying.
const VERIFY_BATCH: u64 = 1000;

/// `token create`: prints the secret on stdout, once.
pub async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            database,
            name,
            role,
            bodies,
        } => {
            if name.trim().is_empty() {
                anyhow::bail!("--name must not be empty");
            }
            if role == Role::Secretariat && bodies.is_empty() {
                anyhow::bail!("a secretariat token needs at least one --body SLUG");
            }
            let store = Store::connect(&database.database_url, 1).await?;
            let secret = store.create_token(&name, role, &bodies, Utc::now()).await?;
            eprintln!(
                "Created {} token {name:?}. Keep it safe: it is not stored and cannot be shown again.",
                role.as_str()
            );
            println!("{secret}");
            Ok(())
        }
    }
}

/// `rebuild-views`: derives the read views again from the log alone.
pub async fn rebuild_views(database: &DatabaseConfig) -> anyhow::Result<()> {
    let store = Store::connect(&database.database_url, 1).await?;
    let replayed = store.rebuild_views().await?;
    eprintln!("Rebuilt the read views from {replayed} entries.");
    Ok(())
}

/// `verify`: re-reads every entry in order, in constant memory, and checks each entry hash,
/// chain link and disclosure, then the stored head. Exit code 0 when the log verifies, 1 when it
/// does not (naming the first bad leaf), 2 when it cannot be read.
pub async fn verify(database: &DatabaseConfig) -> ExitCode {
    match run_verify(database).await {
        Ok(Ok((size, head))) => {
            let noun = if size == 1 { "entry" } else { "entries" };
            println!("OK: {size} {noun} verified; head {head}");
            ExitCode::SUCCESS
        }
        Ok(Err(failure)) => {
            println!("FAILED: {failure}");
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run_verify(
    database: &DatabaseConfig,
) -> anyhow::Result<Result<(u64, ledger::Hash), ledger::ChainError>> {
    let store = Store::connect(&database.database_url, 1).await?;
    let head = store.head().await?;
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(head.tree_size);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} entries  {per_sec}  eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut verifier = ChainVerifier::new();
    let mut from = 0;
    while from < head.tree_size {
        let batch = store
            .entries(from, VERIFY_BATCH.min(head.tree_size - from))
            .await?;
        if batch.is_empty() {
            break;
        }
        for stored in &batch {
            let disclosures: Vec<ledger::Disclosure> =
                stored.disclosures.iter().map(|(d, _)| d.clone()).collect();
            if let Err(failure) = verifier.check(
                stored.leaf_index,
                &stored.canonical,
                Some(stored.entry_hash),
                &disclosures,
            ) {
                progress.abandon();
                return Ok(Err(failure));
            }
        }
        from += batch.len() as u64;
        progress.set_position(from);
    }
    progress.finish_and_clear();
    Ok(verifier
        .check_head(head.tree_size, head.head_hash)
        .map(|()| (verifier.size(), verifier.head())))
}
