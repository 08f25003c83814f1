//! `projector-bench`: measure the projector host on scratch databases.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: a replay allocates and frees
/// many small strings and vectors per event, and glibc's allocator spent a
/// quarter of the host's CPU time on them (`perf` on a replay of the
/// realistic stream).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = projector_bench::cli::Cli::parse();
    host::telemetry::init(cli.verbose);
    host::cli::exit_code(projector_bench::cli::run(cli))
}
