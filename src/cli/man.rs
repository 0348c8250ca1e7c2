//! `konform man`: the roff man page, generated from the clap definitions. Without `--out` it
//! prints `konform(1)`, whose SUBCOMMANDS section refers to `konform-check(1)` and the other
//! pages; `--out DIR` writes all of them (for packagers: `konform man --out target/man`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory as _};
use clap_mangen::Man;

/// Arguments of `konform man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write konform.1 and one page per subcommand (konform-check.1 …) into DIR, each
    /// atomically, instead of printing konform.1. DIR is created if needed.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// A page's file name (`konform-check.1`) and roff text.
type Page = (String, Vec<u8>);

/// Prints the main page, or writes every page with `--out`. Exit codes: 0, or 2 when a page
/// could not be written.
pub fn run(args: &ManArgs) -> (String, i32) {
    let pages = match pages() {
        Ok(p) => p,
        Err(e) => return (format!("error: cannot render the man page: {e}\n"), 2),
    };
    let Some(dir) = &args.out else {
        let main = pages.into_iter().next().map(|(_, text)| text);
        return (
            String::from_utf8_lossy(&main.unwrap_or_default()).into_owned(),
            0,
        );
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return (
            format!("error: cannot create `{}`: {e}\n", dir.display()),
            2,
        );
    }
    let mut out = String::new();
    for (name, text) in &pages {
        if let Err(e) = write_page(dir, name, text) {
            let _ = writeln!(
                out,
                "error: cannot write `{}`: {e}",
                dir.join(name).display()
            );
            return (out, 2);
        }
        let _ = writeln!(out, "wrote {}", dir.join(name).display());
    }
    (out, 0)
}

/// Every page, konform.1 first, then one per subcommand in definition order.
fn pages() -> std::io::Result<Vec<Page>> {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![render(cmd.clone())?];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(render(sub.clone())?);
    }
    Ok(pages)
}

fn render(cmd: clap::Command) -> std::io::Result<Page> {
    // The default source is the version string, whose second line (the pack versions) would
    // break the `.TH` line; the full version text stays in the VERSION section. An empty date
    // would vanish from `.TH` and shift the source into its place: `\&` is roff's empty
    // argument (no build date, so that the pages are reproducible).
    let man = Man::new(cmd)
        .date("\\&")
        .source(format!("konform {}", env!("CARGO_PKG_VERSION")));
    let mut text = Vec::new();
    man.render(&mut text)?;
    Ok((man.get_filename(), text))
}

/// Writes a page atomically (a temporary file beside it, renamed over it), readable by all as
/// installed man pages are (temporary files are created private).
fn write_page(dir: &Path, name: &str, text: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".konform-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}
