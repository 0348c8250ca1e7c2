//! `konform init [DIR] [--profile …]`: writes a commented konform.yaml proposed from the exports
//! in the folder, and an empty waivers.yaml. Never overwrites either file.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use konform::init::{self, Profile};

/// Arguments of `konform init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The school's folder, with its exports (default: the current folder).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Country, state and packs of a kind of school; without one, the packs follow the
    /// country and state you fill in.
    #[arg(long, value_enum)]
    pub profile: Option<ProfileArg>,
}

/// The profiles of `konform init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// A Hamburg school: eduPort accounts from DiViS, IServ (DE-HH; common, eduport, iserv).
    Eduport,
    /// A German school running IServ (DE; common, iserv).
    Iserv,
    /// A Swedish school and Skolverket's assessment portal (SE; common, skolverket).
    Skolverket,
    /// A Danish school with Aula and UNI-login (DK; common, aula, iserv).
    Aula,
    /// A school in North Rhine-Westphalia with its IT inventory (DE-NW; common, it-inventory).
    ItInventory,
}

impl From<ProfileArg> for Profile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Eduport => Profile::Eduport,
            ProfileArg::Iserv => Profile::Iserv,
            ProfileArg::Skolverket => Profile::Skolverket,
            ProfileArg::Aula => Profile::Aula,
            ProfileArg::ItInventory => Profile::ItInventory,
        }
    }
}

/// Writes the files; exit 2 when konform.yaml exists or a file cannot be written.
pub fn run(args: &InitArgs) -> (String, i32) {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        return (
            format!(
                "error: `{}` is not a folder\n  help: give the folder with the school's exports\n",
                dir.display()
            ),
            2,
        );
    }
    let config_path = dir.join("konform.yaml");
    if config_path.exists() || dir.join("konform.yml").exists() {
        return (
            format!(
                "error: `{}` already exists; konform init never overwrites it\n  help: edit it, or move it away to start again\n",
                config_path.display()
            ),
            2,
        );
    }
    let proposal = init::propose(&dir, args.profile.map(Profile::from));
    let mut out = String::new();
    if let Err(e) = konform::output::write_atomic(&config_path, proposal.config.as_bytes()) {
        return (format!("error: {e}\n"), 2);
    }
    let _ = writeln!(out, "wrote {}", config_path.display());
    let waivers_path = dir.join("waivers.yaml");
    if waivers_path.exists() {
        let _ = writeln!(out, "kept {} (it exists)", waivers_path.display());
    } else if let Err(e) = konform::output::write_atomic(&waivers_path, proposal.waivers.as_bytes())
    {
        return (format!("{out}error: {e}\n"), 2);
    } else {
        let _ = writeln!(out, "wrote {}", waivers_path.display());
    }
    if proposal.found.is_empty() {
        out.push_str("\nno exports found in the folder yet: list them under `inputs:`\n");
    } else {
        let _ = writeln!(out, "\ninputs found:");
        for f in &proposal.found {
            let kind = f.kind.map_or("unknown kind", |k| k.name());
            let mut notes = Vec::new();
            if f.kind_from_name {
                notes.push("kind told from the file name".to_owned());
            }
            if !f.suggested.is_empty() {
                notes.push(format!("{} column(s) to confirm", f.suggested.len()));
            }
            if let Some(p) = &f.problem {
                notes.push(format!("cannot be read yet: {p}"));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            let _ = writeln!(out, "  {} — {kind}{notes}", f.path);
        }
    }
    out.push_str(
        "\nnext: check the lines marked CHECK in konform.yaml, then run `konform check`\n",
    );
    (out, 0)
}
