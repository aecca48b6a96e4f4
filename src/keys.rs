//! The log's signing key: loading it, creating it, and where the embedded default keeps it.
//!
//! The key is a C2SP signed-note Ed25519 key whose name is the log's origin. It lives in a file
//! holding the `PRIVATE+KEY+…` text, readable only by its owner. On the embedded SQLite default
//! with no key configured, the first `serve` creates one beside the database file, so the
//! one-command start needs no setup; on PostgreSQL a key MUST be configured, because several
//! instances must share it.
//!
//! A key is created only for a log that has none yet: once a log has pinned its identity (its
//! first start), a missing key file is refused, never replaced. The checkpoints already signed,
//! and the verifier key auditors hold, name the original key; only a backup of it can continue
//! the log.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ledger::note::Signer;

/// Where the embedded default keeps its key: beside the SQLite file, with the extension `.key`.
/// `None` for PostgreSQL and in-memory databases.
pub fn default_key_path(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(Path::new(path).with_extension("key"))
}

/// A fresh key for `origin`, from 32 random bytes.
pub fn generate(origin: &str) -> anyhow::Result<Signer> {
    Signer::from_seed(origin, rand::random::<[u8; 32]>()).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Writes `signer` to a new file at `path` (mode 0600), refusing to overwrite one.
pub fn write_new(path: &Path, signer: &Signer) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "cannot create the key file {} (it must not exist yet)",
            path.display()
        )
    })?;
    writeln!(file, "{}", signer.to_skey())?;
    file.sync_all()?;
    Ok(())
}

/// Reads a key file.
pub fn read(path: &Path) -> anyhow::Result<Signer> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    Signer::from_skey(text.trim())
        .map_err(|e| anyhow::anyhow!("{} is not a signing key: {e}", path.display()))
}

/// The key `serve` runs with: the configured file; else, on the embedded default, the key beside
/// the database, created on first start with `origin` (or a random one). `pinned` is the origin
/// the log was created with, if it has been started before: its key is then never created anew.
/// Returns the key and, if it was just created, its file.
pub fn load_or_create(
    configured: Option<&Path>,
    database_url: &str,
    origin: Option<&str>,
    pinned: Option<&str>,
) -> anyhow::Result<(Signer, Option<PathBuf>)> {
    let (signer, created) = match configured {
        Some(path) => (read(path)?, None),
        None => {
            let Some(path) = default_key_path(database_url) else {
                bail!(
                    "no signing key configured: create one with `decision-log keygen --origin ORIGIN` \
                     and pass it with --signing-key (or DECISION_LOG_SIGNING_KEY)"
                );
            };
            if path.exists() {
                (read(&path)?, None)
            } else if let Some(pinned) = pinned {
                bail!(
                    "the signing key file {} is missing, but this log was created with it (origin \
                     {pinned:?}); a log that exists never gets a new key: restore the key file \
                     from a backup",
                    path.display()
                );
            } else {
                let origin = match origin {
                    Some(o) => o.to_owned(),
                    None => format!("decision-log/{}", hex::encode(rand::random::<[u8; 6]>())),
                };
                let signer = generate(&origin)?;
                write_new(&path, &signer)?;
                tracing::info!(path = %path.display(), "created the log's signing key");
                (signer, Some(path))
            }
        }
    };
    if let Some(origin) = origin
        && origin != signer.name()
    {
        bail!(
            "the signing key is for origin {:?}, not {origin:?}",
            signer.name()
        );
    }
    Ok((signer, created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_default_keeps_its_key_beside_the_database() {
        assert_eq!(
            default_key_path("sqlite://decision-log.db?mode=rwc"),
            Some(PathBuf::from("decision-log.key"))
        );
        assert_eq!(
            default_key_path("sqlite:///var/lib/dl/log.db"),
            Some(PathBuf::from("/var/lib/dl/log.key"))
        );
        assert_eq!(default_key_path("sqlite::memory:"), None);
        assert_eq!(default_key_path("postgres://u@h/db"), None);
    }
}
