//! The subcommands other than `serve`: tokens, keys, verification, export, view rebuilds.

mod client;
mod export;
mod progress;
mod tilecheck;
mod verify;

pub use export::export;
pub use verify::verify;

use chrono::Utc;

use crate::config::{DatabaseConfig, TokenCommand};
use crate::store::{NewToken, Store, StoreError};

/// `error` and its causes on one line, each cause once: a cause whose text its wrapper already
/// quotes (a database error quotes the driver's, which quotes the socket's) is not repeated.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// `token create | list | revoke`. `create` prints the secret on stdout, once.
pub async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            database,
            name,
            role,
            bodies,
            powers,
            expires_at,
        } => {
            let store = Store::connect(&database.database_url, 1).await?;
            let new = NewToken {
                name,
                role,
                bodies,
                powers,
                expires_at,
            };
            let (info, secret) = match store.create_token(&new, None, Utc::now()).await {
                Err(StoreError::Invalid(errors)) => {
                    let problems: Vec<String> = errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect();
                    anyhow::bail!("the token is not valid: {}", problems.join("; "));
                }
                other => other?,
            };
            eprintln!(
                "Created {} token {:?}. Keep it safe: it is not stored and cannot be shown again.",
                info.role.as_str(),
                info.name
            );
            println!("{secret}");
            Ok(())
        }
        TokenCommand::List { database } => {
            let store = Store::connect(&database.database_url, 1).await?;
            for t in store.list_tokens().await? {
                let state = match (&t.revoked_at, &t.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(at)) => format!("expires {at}"),
                    (None, None) => "live".to_owned(),
                };
                let scope = [t.bodies.join(","), {
                    let p: Vec<&str> = t
                        .powers
                        .iter()
                        .map(|p| match p {
                            crate::store::Power::Erase => "erase",
                            crate::store::Power::Publish => "publish",
                        })
                        .collect();
                    p.join(",")
                }]
                .concat();
                println!(
                    "{}\t{}\t{}\t{}",
                    t.name,
                    t.role.as_str(),
                    if scope.is_empty() { "-" } else { &scope },
                    state
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { database, name } => {
            let store = Store::connect(&database.database_url, 1).await?;
            match store.revoke_token(&name, None, Utc::now()).await? {
                Some(_) => {
                    eprintln!("Revoked token {name:?}.");
                    Ok(())
                }
                None => anyhow::bail!("no token named {name:?}"),
            }
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
    let mut bar: Option<progress::Progress> = None;
    let replayed = store
        .rebuild_views_reporting(&mut |replayed, size, bytes| {
            let bar = bar.get_or_insert_with(|| progress::Progress::new(size, 0, false));
            bar.grow_to(replayed);
            bar.add(replayed - bar.position(), bytes);
        })
        .await?;
    if let Some(bar) = &bar {
        bar.finish();
    }
    eprintln!("Rebuilt the read views from {replayed} entries.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_its_wrapper_already_quotes_is_printed_once() {
        let inner = std::io::Error::other("pool timed out");
        let error = anyhow::Error::new(inner)
            .context("Connection Error: pool timed out")
            .context("database error: Connection Error: pool timed out");
        assert_eq!(
            one_line(&error),
            "database error: Connection Error: pool timed out"
        );
        let error = anyhow::anyhow!("connection refused").context("GET http://x/");
        assert_eq!(one_line(&error), "GET http://x/: connection refused");
    }
}
