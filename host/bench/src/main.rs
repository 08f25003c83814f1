//! `projector-bench`: measure the projector host on scratch databases.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = projector_bench::cli::Cli::parse();
    host::telemetry::init(cli.verbose);
    host::cli::exit_code(projector_bench::cli::run(cli))
}
