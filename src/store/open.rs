//! Opening a database, and saying in one line what is wrong when it cannot be opened.
//!
//! The pool hides the cause of a failed connection: it retries a refused one until its acquire
//! timeout and then reports only that it timed out. So before the pool is built, [`check`]
//! rejects a URL of another scheme and, on PostgreSQL, makes one connection of its own, bounded
//! by [`PROBE_TIMEOUT`], whose error names the server, the database or the user. On SQLite the
//! file is opened by the pool itself; when that (or the first write) fails, [`explain_sqlite`]
//! names the file or folder at fault. Messages never quote the URL: it may hold a password.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sea_orm::DbErr;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{self, Connection};

use super::StoreError;

/// How long the first connection to PostgreSQL may take: a server that does not answer in this
/// time is reported as unreachable.
pub(super) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The URLs this build opens, for messages.
const SCHEMES: &str = "sqlite://PATH?mode=rwc (embedded) or postgres://USER:PASSWORD@HOST:PORT/DB";

/// Which database a URL names.
pub(super) enum Kind {
    /// A SQLite file (`None`: in memory).
    Sqlite(Option<PathBuf>),
    /// A PostgreSQL server.
    Postgres,
}

/// Checks that `url` names a database this build opens and, on PostgreSQL, that the server
/// answers, accepts the user and has the database. Every failure is one line that names the
/// thing at fault and the likely fix.
pub(super) async fn check(url: &str) -> Result<Kind, StoreError> {
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    match scheme {
        "sqlite" => {
            let options = SqliteConnectOptions::from_str(url).map_err(|e| {
                StoreError::CannotOpen(format!("the SQLite database URL is not valid: {e}"))
            })?;
            let path = options.get_filename();
            let in_memory =
                path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:");
            Ok(Kind::Sqlite((!in_memory).then(|| path.to_owned())))
        }
        "postgres" | "postgresql" => {
            probe_postgres(url).await?;
            Ok(Kind::Postgres)
        }
        "" => Err(StoreError::CannotOpen(format!(
            "the database URL has no scheme: use {SCHEMES}"
        ))),
        other => Err(StoreError::CannotOpen(format!(
            "the database URL's scheme {other:?} is not supported: use {SCHEMES}"
        ))),
    }
}

/// One connection to the PostgreSQL server of `url`, closed again.
async fn probe_postgres(url: &str) -> Result<(), StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|e| {
        StoreError::CannotOpen(format!("the PostgreSQL database URL is not valid: {e}"))
    })?;
    let server = match options.get_socket() {
        Some(socket) => format!("the socket in {}", socket.display()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let user = options.get_username().to_owned();
    let database = options
        .get_database()
        .unwrap_or(options.get_username())
        .to_owned();
    let cannot = |why: String| StoreError::CannotOpen(why);
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(connection)) => {
            // The pool makes its own connections; this one only had to succeed.
            let _ = connection.close().await;
            Ok(())
        }
        Err(_) => Err(cannot(format!(
            "cannot reach PostgreSQL at {server}: no answer within {} s; check the host and port \
             in DATABASE_URL and that the server is running and reachable from here",
            PROBE_TIMEOUT.as_secs()
        ))),
        Ok(Err(sqlx::Error::Io(error))) => Err(cannot(match error.kind() {
            std::io::ErrorKind::ConnectionRefused => format!(
                "cannot reach PostgreSQL at {server}: connection refused; is the server running, \
                 and are the host and port in DATABASE_URL right?"
            ),
            _ => format!(
                "cannot reach PostgreSQL at {server}: {error}; check the host and port in \
                 DATABASE_URL"
            ),
        })),
        Ok(Err(sqlx::Error::Database(error))) => Err(cannot(match error.code().as_deref() {
            // invalid_catalog_name
            Some("3D000") => format!(
                "the PostgreSQL database {database:?} does not exist on {server}; create it \
                 (`createdb {database}`, or CREATE DATABASE {database}) or name another in \
                 DATABASE_URL"
            ),
            // invalid_password, invalid_authorization_specification
            Some("28P01" | "28000") => format!(
                "PostgreSQL at {server} refused the user {user:?}: {}; check the user and \
                 password in DATABASE_URL",
                error.message()
            ),
            _ => format!(
                "PostgreSQL at {server} refused the connection to {database:?}: {}",
                error.message()
            ),
        })),
        Ok(Err(error)) => Err(cannot(format!(
            "cannot connect to PostgreSQL at {server}: {error}"
        ))),
    }
}

/// What is wrong with the SQLite database at `path`, which failed to open or to take a write
/// with `error`: a missing or unwritable folder, an unwritable file, or else the driver's words.
pub(super) fn explain_sqlite(path: &Path, error: &DbErr) -> StoreError {
    let shown = path.display();
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let choose = "choose another path in DATABASE_URL (--database-url)";
    let why = match std::fs::metadata(folder) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(format!(
            "cannot open the SQLite database {shown}: the folder {} does not exist; create it, or {choose}",
            folder.display()
        )),
        Err(e) => Some(format!(
            "cannot open the SQLite database {shown}: the folder {}: {e}",
            folder.display()
        )),
        Ok(meta) if !meta.is_dir() => Some(format!(
            "cannot open the SQLite database {shown}: {} is not a folder; {choose}",
            folder.display()
        )),
        Ok(_) => None,
    };
    let why = why.or_else(|| match path.metadata() {
        Ok(meta) if meta.is_dir() => Some(format!(
            "cannot open the SQLite database {shown}: it is a folder, not a file; {choose}"
        )),
        Ok(_) => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .err()
            .map(|e| {
                format!(
                    "cannot write the SQLite database {shown}: {}; give this user write access \
                     to it, or {choose}",
                    io_reason(&e)
                )
            }),
        Err(_) => None,
    });
    // SQLite writes its write-ahead log and lock files beside the database, so the folder must
    // be writable even when the file is. A probe file, removed at once, is the one test that
    // answers for this user on every filesystem (permissions, ACLs, read-only mounts).
    let why = why.or_else(|| {
        let probe = folder.join(format!(".decision-log-write-check-{}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
        {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
                None
            }
            Err(e) => Some(format!(
                "cannot write in the folder {} of the SQLite database {shown}: {}; SQLite keeps \
                 its journal beside the database, so give this user write access to the folder, \
                 or {choose}",
                folder.display(),
                io_reason(&e)
            )),
        }
    });
    StoreError::CannotOpen(why.unwrap_or_else(|| {
        format!(
            "cannot open the SQLite database {shown}: {}",
            driver_reason(error)
        )
    }))
}

/// An I/O error's reason without the "(os error N)" suffix.
fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::ReadOnlyFilesystem => "the filesystem is read-only".to_owned(),
        _ => error.to_string(),
    }
}

/// The innermost words of a database error: sea-orm wraps the driver's error in text that
/// repeats it.
fn driver_reason(error: &DbErr) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(inner) = source.source() {
        source = inner;
    }
    source.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_url_of_another_scheme_is_named_with_the_ones_supported() {
        let Err(error) = check("mysql://u:secret@h/db").await else {
            panic!("accepted");
        };
        let message = error.to_string();
        assert_eq!(
            message,
            "the database URL's scheme \"mysql\" is not supported: use sqlite://PATH?mode=rwc \
             (embedded) or postgres://USER:PASSWORD@HOST:PORT/DB"
        );
        assert!(!message.contains("secret"));
        let Err(error) = check("decision-log.db").await else {
            panic!("accepted");
        };
        assert!(error.to_string().contains("has no scheme"), "{error}");
    }

    #[test]
    fn a_missing_folder_is_named() {
        let error = explain_sqlite(
            Path::new("/nonexistent-folder/log.db"),
            &DbErr::Custom("unable to open database file".into()),
        );
        assert_eq!(
            error.to_string(),
            "cannot open the SQLite database /nonexistent-folder/log.db: the folder \
             /nonexistent-folder does not exist; create it, or choose another path in \
             DATABASE_URL (--database-url)"
        );
    }
}
