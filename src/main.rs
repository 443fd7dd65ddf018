//! The `fogg` binary: parse, run, map the outcome to an exit code.
//!
//! Exit codes: 0 ran and passed, 1 ran but a threshold failed, 2 usage,
//! scenario or I/O error. A closed pipe on stdout is not an error.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: load mode's requests
/// allocate from many tasks on several threads, where glibc's malloc
/// spent a tenth of the CPU and contended on its arena locks
/// (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = fogg::cli::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match fogg::run(&cli, &mut out) {
        Ok(verdict) => verdict.exit_code(),
        Err(err) => {
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            fogg_core::say!("Error: {err:#}");
            ExitCode::from(2)
        }
    }
}
