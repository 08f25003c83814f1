//! `projector`: run, replay and inspect projections.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = host::cli::Cli::parse();
    host::telemetry::init(cli.verbose);
    host::cli::exit_code(host::cli::run(cli))
}
