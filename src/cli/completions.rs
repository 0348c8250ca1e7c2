//! `konform completions SHELL`: the shell completion script, generated from the clap
//! definitions, so that it always knows every subcommand, flag and value.

use clap::{Args, CommandFactory as _};
use clap_complete::Shell;

/// Arguments of `konform completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// How to install the script, shown by `konform completions --help`.
pub const INSTALL: &str = "\
Install the script where your shell looks for completions, e.g.:
  bash:        konform completions bash > ~/.local/share/bash-completion/completions/konform
  zsh:         konform completions zsh > ~/.zfunc/_konform   (with fpath+=~/.zfunc before compinit)
  fish:        konform completions fish > ~/.config/fish/completions/konform.fish
  PowerShell:  konform completions powershell | Out-String | Invoke-Expression   (in $PROFILE)
  Elvish:      konform completions elvish > ~/.config/elvish/lib/konform.elv   (then: use konform)";

/// The completion script for the shell; exit code 0.
pub fn run(args: &CompletionsArgs) -> (String, i32) {
    let mut cmd = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "konform", &mut script);
    (String::from_utf8_lossy(&script).into_owned(), 0)
}
