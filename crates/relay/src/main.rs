//! `linedesk-relay`: the team server's command line.
//!
//! `serve` runs the relay; `channel`, `user` and `events` work on the same data directory,
//! also while `serve` runs (SQLite WAL); `watch` signs in and prints events as a console sees them.

mod cli;

use clap::Parser as _;

/// mimalloc instead of glibc's malloc: a request's many small, short-lived allocations (hyper's
/// and axum's, the split body, the tail's frames) cost less CPU on the ingest path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Both rustls providers are compiled in (through dependencies); name one for the
    // process so every client and server built without an explicit provider agrees.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LINEDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    match runtime.block_on(cli::run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
