//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `warn`,
//! `info` with `-v`; batches log one `store.apply` span each, closed with its
//! duration).

use tracing_subscriber::EnvFilter;

/// Install the subscriber; `verbose` raises the default level to `info`.
pub fn init(verbose: bool) {
    // sqlx reports slow statements as warnings; bulk work makes them routine.
    let default = if verbose {
        "info,sqlx=error"
    } else {
        "warn,sqlx=error"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
