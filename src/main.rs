//! The `decision-log` binary: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use decision_log::app::{App, Created};
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
            eprintln!("error: {}", cli::one_line(&error));
            ExitCode::from(2)
        }
    }
}

async fn serve(config: decision_log::config::ServeConfig) -> anyhow::Result<()> {
    // Shown the moment each exists, on standard output: the start may still fail afterwards,
    // and neither can be shown again.
    let mut announce = |created: Created<'_>| match created {
        Created::SigningKey { vkey, .. } => {
            println!("Created this log's signing key. Verifier key (give it to auditors):\n{vkey}")
        }
        Created::FirstAdmin { secret } => println!(
            "This database had no API tokens, so an admin token named \"admin\" was created.\n\
             It is shown once and not stored; keep it safe:\n{secret}\n\
             Use it to register bodies (POST /api/v1/bodies) and create tokens (POST /api/v1/tokens)."
        ),
    };
    let app =
        App::build_announcing(&config, decision_log::store::system_clock(), &mut announce).await?;
    tracing::info!(vkey = app.vkey(), "signing checkpoints");
    let host = config
        .bind
        .rsplit_once(':')
        .map_or(config.bind.as_str(), |(h, _)| h);
    tracing::info!("decision-log listening on http://{host}:{}", app.port());
    app.run_until_signalled().await?;
    Ok(())
}
