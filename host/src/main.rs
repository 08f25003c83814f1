//! `projector`: run, replay and inspect projections.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = host::cli::Cli::parse();
    host::telemetry::init(cli.verbose);
    match host::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
