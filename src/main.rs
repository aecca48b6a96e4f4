//! The `decision-log` binary: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use decision_log::app::App;
use decision_log::cli;
use decision_log::config::{Cli, Command};

/// mimalloc rather than the system allocator: the verifier and the request handlers build and
/// drop many small JSON values on several threads, where glibc's malloc took over a third of the
/// verifier's time (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    // Parsed first, so that the log's format is known; `--help` and usage errors print and exit
    // here, before there is a log.
    let cli = Cli::parse();
    decision_log::telemetry::init(cli.log_format);
    let result = match cli.command {
        Command::Serve(config) => serve(config).await,
        Command::Token(command) => cli::token(command).await,
        Command::Verify(config) => return cli::verify(&config).await,
        Command::Export(config) => cli::export(&config).await,
        Command::Openapi => {
            print!("{}", decision_log::api::openapi_json());
            Ok(())
        }
        Command::RebuildViews(database) => cli::rebuild_views(&database).await,
        Command::Keygen { origin, out } => cli::keygen(&origin, &out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn serve(config: decision_log::config::ServeConfig) -> anyhow::Result<()> {
    let app = App::build(&config).await?;
    if app.created_key() {
        // Printed so that the operator can hand it to auditors: it is how they check checkpoints.
        println!(
            "Created this log's signing key. Verifier key (give it to auditors):\n{}",
            app.vkey()
        );
    }
    if let Some(secret) = app.first_admin_token() {
        println!(
            "This database had no API tokens, so an admin token named \"admin\" was created.\n\
             It is shown once and not stored; keep it safe:\n{secret}\n\
             Use it to register bodies (POST /api/v1/bodies) and create tokens (POST /api/v1/tokens)."
        );
    }
    tracing::info!(vkey = app.vkey(), "signing checkpoints");
    let host = config
        .bind
        .rsplit_once(':')
        .map_or(config.bind.as_str(), |(h, _)| h);
    tracing::info!("decision-log listening on http://{host}:{}", app.port());
    app.run_until_signalled().await?;
    Ok(())
}
