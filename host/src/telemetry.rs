//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `warn`).

use tracing_subscriber::EnvFilter;

/// Install the subscriber; `verbose` raises the default level to `info`.
pub fn init(verbose: bool) {
    let default = if verbose { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
