//! The subcommands other than `serve`: tokens, keys, verification, export, view rebuilds.

mod client;
mod export;
mod verify;

pub use export::export;
pub use verify::verify;

use chrono::Utc;

use crate::config::{DatabaseConfig, TokenCommand};
use crate::store::{Role, Store};

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

/// `keygen`: writes a new signing key for `origin` to `out` and prints its verifier key.
pub fn keygen(origin: &str, out: &std::path::Path) -> anyhow::Result<()> {
    let signer = crate::keys::generate(origin)?;
    crate::keys::write_new(out, &signer)?;
    eprintln!(
        "Wrote the signing key for {origin:?} to {}. Keep it secret; back it up.",
        out.display()
    );
    println!("{}", signer.verifier().to_vkey());
    Ok(())
}

/// `rebuild-views`: derives the read views again from the log alone.
pub async fn rebuild_views(database: &DatabaseConfig) -> anyhow::Result<()> {
    let store = Store::connect(&database.database_url, 1).await?;
    let replayed = store.rebuild_views().await?;
    eprintln!("Rebuilt the read views from {replayed} entries.");
    Ok(())
}
