//! The `konform` binary: parse arguments, run the library, print, exit.

mod cli;

/// See Cargo.toml: measured faster than the system allocator on large lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Usage errors exit 2 (as documented); --help and --version exit 0.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let (text, code) = match &cli.command {
        cli::Command::Check(args) => {
            // Written as it is rendered: a report of a million findings is never held as text.
            let code = cli::check::run(args, &mut std::io::stdout(), &mut std::io::stderr());
            (String::new(), code)
        }
        cli::Command::Baseline(args) => cli::baseline::run(args),
        cli::Command::Diff(args) => cli::diff::run(args),
        cli::Command::Test(args) => cli::test::run(args),
        cli::Command::Policies(args) => cli::policies::run(args),
        cli::Command::Explain(args) => cli::explain::run(args),
        cli::Command::Init(args) => cli::init::run(args),
        cli::Command::Fmt(args) => cli::fmt::run(args),
        cli::Command::Completions(args) => cli::completions::run(args),
        cli::Command::Man(args) => cli::man::run(args),
        cli::Command::Schema(args) => cli::schema::run(args),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`konform check | head`) is not an error worth a panic.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}
