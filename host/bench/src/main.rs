//! `projector-bench`: measure the projector host on scratch databases.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = projector_bench::cli::Cli::parse();
    host::telemetry::init(cli.verbose);
    match projector_bench::cli::run(cli) {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Output piped into `head` and closed early is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
