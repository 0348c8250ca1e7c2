//! `konform schema config|waivers`: the JSON schemas of konform.yaml and of waiver files, for
//! editor completion and hover help. The command prints the files committed under `schemas/`
//! (embedded at build time), so the two can never differ; a test keeps the schemas in step with
//! the keys the parsers accept.

use clap::{Args, ValueEnum};

/// The schema of konform.yaml (`schemas/konform.schema.json`).
pub const CONFIG: &str = include_str!("../../schemas/konform.schema.json");

/// The schema of waiver files (`schemas/waivers.schema.json`).
pub const WAIVERS: &str = include_str!("../../schemas/waivers.schema.json");

/// Arguments of `konform schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which file's schema to print.
    #[arg(value_enum, value_name = "FILE")]
    pub which: SchemaFile,
}

/// The files konform has a schema for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFile {
    /// konform.yaml.
    Config,
    /// A waiver file (waivers.yaml).
    Waivers,
}

/// How to use the schemas, shown by `konform schema --help`.
pub const USE: &str = "\
The schemas (JSON Schema draft-07) are the files schemas/konform.schema.json and
schemas/waivers.schema.json of the konform repository. Editors with the YAML language server
(VS Code, Neovim, Helix, JetBrains) use the schema a comment at the top of the file names, e.g.
a copy that matches the installed konform:
  konform schema config > .konform.schema.json
and as the first line of konform.yaml:
  # yaml-language-server: $schema=.konform.schema.json";

/// The schema text; exit code 0.
pub fn run(args: &SchemaArgs) -> (String, i32) {
    let text = match args.which {
        SchemaFile::Config => CONFIG,
        SchemaFile::Waivers => WAIVERS,
    };
    (text.to_owned(), 0)
}
