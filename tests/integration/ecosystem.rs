//! konform in its ecosystem: shell completions, the man pages, `--version` with the pack
//! versions, the pre-commit hooks, and the JSON schemas of konform.yaml and waiver files.
//!
//! The schema tests keep the committed schemas (`schemas/`) in step with the parsers: the keys
//! of every mapping equal the parser's key lists (`konform::config::KEYS` …), the enums equal
//! what the parsers accept, every example validates, and every config or waiver file the
//! parser rejects for its shape (an unknown key, a wrong type, a missing field) fails the
//! schema too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::ValueEnum as _;
use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use konform::source::yaml::{self, Node, NodeValue, YamlLimits};
use konform::source::{FileId, SourceFile, SourceMap};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn konform(args: &[&str]) -> Command {
    let mut c = Command::new(get_cargo_bin("konform"));
    c.current_dir(root())
        .args(args)
        .env("COLUMNS", "100")
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE");
    c
}

/// Exit code and standard output; panics when konform cannot be run.
fn run(args: &[&str]) -> (i32, String) {
    match konform(args).output() {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ),
        Err(e) => panic!("cannot run konform {args:?}: {e}"),
    }
}

/// Standard output of a command that must succeed.
fn stdout_of(args: &[&str]) -> String {
    let (code, out) = run(args);
    assert_eq!(code, 0, "konform {args:?} exited with {code}:\n{out}");
    out
}

macro_rules! snap {
    ($name:expr, $cmd:expr) => {
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            assert_cmd_snapshot!($name, $cmd);
        })
    };
}

fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

/// The subcommands, as `konform --help` lists them (without `help`).
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // Continuation lines of a long description are indented further.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect();
    for expected in ["check", "test", "completions", "man", "schema"] {
        assert!(
            names.iter().any(|n| n == expected),
            "`{expected}` not in {names:?}"
        );
    }
    names
}

// ---------------------------------------------------------------------------------------------
// Completions and man pages

#[test]
fn completions_for_every_shell_know_the_subcommands() {
    let subcommands = subcommands();
    for shell in clap_complete::Shell::value_variants() {
        let Some(name) = shell.to_possible_value().map(|v| v.get_name().to_owned()) else {
            continue;
        };
        let script = stdout_of(&["completions", &name]);
        assert!(!script.trim().is_empty(), "{name}: empty script");
        // fish names long options without their dashes (`-l format`).
        assert!(
            script.contains("--format") || script.contains("-l format"),
            "{name}: no --format"
        );
        for sub in &subcommands {
            assert!(script.contains(sub.as_str()), "{name}: no `{sub}`");
        }
    }
}

#[cfg(unix)]
#[test]
fn bash_completion_is_valid_bash() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("no temporary folder: {e}"),
    };
    let script = dir.path().join("konform.bash");
    if let Err(e) = std::fs::write(&script, stdout_of(&["completions", "bash"])) {
        panic!("cannot write the script: {e}");
    }
    match Command::new("bash").arg("-n").arg(&script).output() {
        Ok(o) => assert!(
            o.status.success(),
            "bash -n: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run bash: {e}"),
    }
}

#[test]
fn man_page_is_roff_and_names_every_subcommand() {
    let page = stdout_of(&["man"]);
    let start: String = page.chars().take(80).collect();
    assert!(page.starts_with('.'), "not roff: {start}");
    assert!(
        page.lines().any(|l| l.starts_with(".TH konform 1 ")),
        "no .TH line"
    );
    assert!(page.contains(".SH SYNOPSIS"));
    for sub in subcommands() {
        assert!(
            page.contains(&format!("konform\\-{sub}(1)")),
            "the page does not mention `{sub}`"
        );
    }
}

#[test]
fn man_out_writes_one_page_per_subcommand() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("no temporary folder: {e}"),
    };
    let out = dir.path().join("man1");
    let Some(out_arg) = out.to_str() else {
        panic!("the temporary folder is not UTF-8");
    };
    stdout_of(&["man", "--out", out_arg]);
    let written: BTreeSet<String> = match std::fs::read_dir(&out) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => panic!("cannot list {}: {e}", out.display()),
    };
    let mut expected: BTreeSet<String> = subcommands()
        .iter()
        .map(|s| format!("konform-{s}.1"))
        .collect();
    expected.insert("konform.1".to_owned());
    assert_eq!(written, expected, "no temporary file may be left behind");
    for name in &written {
        let page = read(&out.join(name));
        let title = name.trim_end_matches(".1");
        assert!(
            page.lines()
                .any(|l| l.starts_with(&format!(".TH {title} 1 "))),
            "{name}: no .TH line"
        );
    }
    assert_eq!(read(&out.join("konform.1")), stdout_of(&["man"]));
}

// ---------------------------------------------------------------------------------------------
// --version

#[test]
fn version_names_every_embedded_pack_with_its_version() {
    snap!("ecosystem_version", konform(&["--version"]));
    let long = stdout_of(&["--version"]);
    assert_eq!(stdout_of(&["-V"]), long);
    let Some(packs) = long.lines().nth(1).and_then(|l| l.strip_prefix("packs: ")) else {
        panic!("no `packs:` line in {long}");
    };
    let listed: Vec<&str> = packs.split(", ").collect();
    let ids = konform::pack::embedded_pack_ids();
    assert_eq!(listed.len(), ids.len(), "{packs}");
    for id in ids {
        // The version in the pack folder, read independently of konform's manifest parser.
        let manifest = read(&root().join("policies").join(&id).join("pack.yaml"));
        let version = parse_yaml(&manifest)
            .get("version")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        assert!(!version.is_empty(), "{id}: no version in pack.yaml");
        let entry = format!("{id} {version}");
        assert!(listed.contains(&entry.as_str()), "`{entry}` not in {packs}");
    }
}

// ---------------------------------------------------------------------------------------------
// pre-commit hooks

fn parse_yaml(text: &str) -> Node {
    match yaml::parse(text, YamlLimits::default()) {
        Ok(n) => n,
        Err(e) => panic!("invalid YAML: {}", e.message),
    }
}

fn text_of<'a>(hook: &'a Node, key: &str) -> Option<&'a str> {
    hook.get(key).and_then(Node::as_str)
}

fn compile(pattern: &str) -> regex::Regex {
    match regex::Regex::new(pattern) {
        Ok(r) => r,
        Err(e) => panic!("bad pattern {pattern}: {e}"),
    }
}

#[test]
fn pre_commit_hooks_run_real_subcommands() {
    let hooks = parse_yaml(&read(&root().join(".pre-commit-hooks.yaml")));
    let Some(hooks) = hooks.as_seq() else {
        panic!(".pre-commit-hooks.yaml is not a list");
    };
    let mut ids = Vec::new();
    for hook in hooks {
        let id = text_of(hook, "id").unwrap_or_default();
        ids.push(id.to_owned());
        for key in ["name", "entry", "files"] {
            assert!(text_of(hook, key).is_some(), "{id}: no `{key}`");
        }
        assert_eq!(text_of(hook, "language"), Some("rust"), "{id}");
        assert!(
            matches!(
                hook.get("pass_filenames").map(|n| &n.value),
                Some(NodeValue::Bool(_))
            ),
            "{id}: pass_filenames must be true or false"
        );
        let entry: Vec<&str> = text_of(hook, "entry")
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let [program, subcommand, ..] = entry[..] else {
            panic!("{id}: entry names no subcommand");
        };
        assert_eq!(program, "konform", "{id}");
        let (code, _) = run(&[subcommand, "--help"]);
        assert_eq!(code, 0, "{id}: `konform {subcommand} --help` failed");
        // The patterns are Python regular expressions; these use the syntax both share.
        compile(text_of(hook, "files").unwrap_or_default());
    }
    assert!(ids.iter().any(|i| i == "konform-check"), "{ids:?}");
    assert!(ids.iter().any(|i| i == "konform-policies-test"), "{ids:?}");

    let hook = |id: &str| hooks.iter().find(|h| text_of(h, "id") == Some(id));
    let Some(check) = hook("konform-check") else {
        panic!("no konform-check");
    };
    assert_eq!(text_of(check, "entry"), Some("konform check"));
    assert_eq!(
        check.get("pass_filenames").map(|n| &n.value),
        Some(&NodeValue::Bool(true))
    );
    let files = compile(text_of(check, "files").unwrap_or_default());
    let exclude = compile(text_of(check, "exclude").unwrap_or_default());
    let selected = |p: &str| files.is_match(p) && !exclude.is_match(p);
    for input in [
        "exports/iserv-konten.csv",
        "EXPORT.CSV",
        "personal.tsv",
        "accounts.yaml",
        "platform.yml",
        "scim-users.json",
        "directory.ldif",
        "sds-export.zip",
    ] {
        assert!(selected(input), "konform-check skips input `{input}`");
    }
    for own in [
        "konform.yaml",
        "schools/5012/konform.yml",
        "waivers.yaml",
        "baseline.json",
        "packs/local/pack.yaml",
        "policies/common/tests/generic-account.yaml",
        "exports/archive/konten-2026-10-01.csv",
        ".pre-commit-config.yaml",
        ".github/workflows/konform.yml",
        "notes.md",
    ] {
        assert!(!selected(own), "konform-check passes `{own}`, not an input");
    }
}

// ---------------------------------------------------------------------------------------------
// JSON schemas

const CONFIG_SCHEMA: &str = "schemas/konform.schema.json";
const WAIVERS_SCHEMA: &str = "schemas/waivers.schema.json";

fn schema(path: &str) -> Value {
    match serde_json::from_str(&read(&root().join(path))) {
        Ok(v) => v,
        Err(e) => panic!("{path} is not JSON: {e}"),
    }
}

fn validator(path: &str) -> jsonschema::Validator {
    let schema = schema(path);
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("{path} is not a valid JSON schema: {e}");
    }
    match jsonschema::draft7::options().build(&schema) {
        Ok(v) => v,
        Err(e) => panic!("{path} does not compile: {e}"),
    }
}

/// A YAML tree as the JSON value an editor's YAML language server validates.
fn to_json(node: &Node) -> Value {
    match &node.value {
        NodeValue::Null => Value::Null,
        NodeValue::Bool(b) => Value::Bool(*b),
        NodeValue::Int(n) => Value::from(*n),
        NodeValue::Float(x) => Value::from(*x),
        NodeValue::Str(s) => Value::String(s.clone()),
        NodeValue::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.scalar_text().unwrap_or_default(), to_json(v)))
                .collect(),
        ),
    }
}

/// The sections of each schema with the parser's list of keys for them.
fn sections() -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    use konform::{config, waiver};
    vec![
        (CONFIG_SCHEMA, "", config::KEYS),
        (CONFIG_SCHEMA, "/properties/school", config::SCHOOL_KEYS),
        (
            CONFIG_SCHEMA,
            "/properties/parameters/additionalProperties/additionalProperties/then",
            config::PARAMETER_KEYS,
        ),
        (
            CONFIG_SCHEMA,
            "/properties/policies/additionalProperties",
            config::POLICY_KEYS,
        ),
        (
            CONFIG_SCHEMA,
            "/properties/waivers/anyOf/1",
            config::WAIVERS_KEYS,
        ),
        (
            CONFIG_SCHEMA,
            "/properties/inputs/items",
            config::INPUT_KEYS,
        ),
        (WAIVERS_SCHEMA, "/oneOf/2", waiver::FILE_KEYS),
        (WAIVERS_SCHEMA, "/definitions/waiver", waiver::WAIVER_KEYS),
    ]
}

/// JSON pointers of every schema node that lists `properties`.
fn property_sections(node: &Value, at: &str, out: &mut BTreeSet<String>) {
    match node {
        Value::Object(map) => {
            if map.get("properties").is_some_and(Value::is_object) {
                out.insert(at.to_owned());
            }
            for (k, v) in map {
                // The names under `properties` are keys of the document, not schema keywords.
                let child = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                if k == "properties" {
                    if let Value::Object(props) = v {
                        for (name, sub) in props {
                            property_sections(sub, &format!("{child}/{name}"), out);
                        }
                    }
                } else {
                    property_sections(v, &child, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                property_sections(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn schema_keys_equal_the_parsers_keys() {
    let sections = sections();
    for path in [CONFIG_SCHEMA, WAIVERS_SCHEMA] {
        let doc = schema(path);
        let mut found = BTreeSet::new();
        property_sections(&doc, "", &mut found);
        let known: BTreeSet<String> = sections
            .iter()
            .filter(|(p, _, _)| *p == path)
            .map(|(_, at, _)| (*at).to_owned())
            .collect();
        assert_eq!(
            found, known,
            "{path}: a mapping in the schema that the test does not pair with a parser key list"
        );
        for (_, at, keys) in sections.iter().filter(|(p, _, _)| *p == path) {
            let Some(section) = doc.pointer(at) else {
                panic!("{path}: nothing at {at}");
            };
            let in_schema: BTreeSet<&str> = section["properties"]
                .as_object()
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let in_parser: BTreeSet<&str> = keys.iter().copied().collect();
            assert_eq!(in_schema, in_parser, "{path} at `{at}`");
            assert_eq!(
                section.get("additionalProperties"),
                Some(&Value::Bool(false)),
                "{path} at `{at}`: the parser rejects unknown keys"
            );
            for (key, sub) in section["properties"].as_object().into_iter().flatten() {
                assert!(
                    sub.get("description").is_some_and(Value::is_string),
                    "{path} at `{at}`: `{key}` has no description"
                );
            }
        }
    }
}

fn enum_at(doc: &Value, at: &str) -> BTreeSet<String> {
    doc.pointer(at)
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_else(|| panic!("no enum at {at}"))
}

#[test]
fn schema_enums_equal_what_the_parsers_accept() {
    use konform::record::RecordKind;
    use konform::source::{columns, detect};
    let doc = schema(CONFIG_SCHEMA);
    let input = "/properties/inputs/items/properties";

    let kinds = enum_at(&doc, &format!("{input}/kind/enum"));
    for k in &kinds {
        assert!(
            k == "attributes" || detect::kind_from_name(k).is_some(),
            "kind `{k}` is not accepted"
        );
    }
    for k in detect::KIND_NAMES.iter().chain(&["attributes"]) {
        assert!(kinds.contains(*k), "kind `{k}` is missing from the schema");
    }

    let formats = enum_at(&doc, &format!("{input}/format/enum"));
    for f in &formats {
        assert!(detect::Format::from_name(f).is_some(), "format `{f}`");
    }
    for f in detect::Format::NAMES {
        assert!(
            formats.contains(*f),
            "format `{f}` is missing from the schema"
        );
    }

    for s in enum_at(&doc, "/properties/fail_on/enum") {
        assert!(
            konform::finding::Severity::from_name(&s).is_some(),
            "severity `{s}`"
        );
    }
    for s in ["error", "warning", "info"] {
        assert!(enum_at(&doc, "/properties/fail_on/enum").contains(s));
    }

    let targets = enum_at(&doc, &format!("{input}/columns/additionalProperties/enum"));
    let mut attributes: BTreeSet<String> = RecordKind::ALL
        .iter()
        .flat_map(|k| columns::canonical_for(*k).iter().map(|c| c.name.to_owned()))
        .collect();
    attributes.insert("ignore".to_owned());
    assert_eq!(targets, attributes, "column targets");
}

/// Whether the parser reports a problem with the document's shape: an unknown key, a wrong
/// type or a missing field (bad values such as an unknown encoding are beyond a schema).
fn shape_problem(problems: &[konform::problem::Problem]) -> bool {
    problems.iter().any(|p| {
        ["unknown-key", "wrong-type", "missing-key"]
            .iter()
            .any(|c| p.code == format!("konform::config::{c}"))
    })
}

/// What the parser and the schema say of a konform.yaml: (shape problem, any error, valid).
fn judge_config(text: &str, dir: &Path, schema: &jsonschema::Validator) -> (bool, bool, bool) {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("konform.yaml", None, text));
    let (_, problems) = konform::config::parse(file, text, dir);
    let valid = schema.is_valid(&to_json(&parse_yaml(text)));
    (
        shape_problem(&problems),
        problems.iter().any(konform::problem::Problem::is_error),
        valid,
    )
}

/// Like [`judge_config`], for a waiver file.
fn judge_waivers(text: &str, schema: &jsonschema::Validator) -> (bool, bool, bool) {
    let mut waivers = Vec::new();
    let mut problems = Vec::new();
    konform::waiver::parse(FileId(0), text, &mut waivers, &mut problems);
    let valid = schema.is_valid(&to_json(&parse_yaml(text)));
    (
        shape_problem(&problems),
        problems.iter().any(konform::problem::Problem::is_error),
        valid,
    )
}

/// The schema rejects what the parser rejects for its shape, and accepts what the parser
/// accepts.
fn assert_agree(what: &str, (shape, error, valid): (bool, bool, bool)) {
    assert!(
        !(shape && valid),
        "{what}: the parser rejects its shape, the schema accepts it"
    );
    assert!(
        valid || error,
        "{what}: the schema rejects it, the parser accepts it"
    );
}

/// Files under `dir` whose name satisfies `wanted`, sorted.
fn files_named(dir: &Path, wanted: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && wanted(&e.file_name().to_string_lossy()))
        .map(walkdir::DirEntry::into_path)
        .collect();
    out.sort();
    out
}

fn is_config(name: &str) -> bool {
    konform::config::CONFIG_NAMES.contains(&name)
}

fn is_waiver_file(name: &str) -> bool {
    name.starts_with("waivers") && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

#[test]
fn examples_validate_against_the_schemas() {
    let config = validator(CONFIG_SCHEMA);
    let waivers = validator(WAIVERS_SCHEMA);
    let examples = root().join("examples");
    let configs = files_named(&examples, is_config);
    assert!(configs.len() >= 5, "{configs:?}");
    for path in configs {
        let text = read(&path);
        let doc = to_json(&parse_yaml(&text));
        let errors: Vec<String> = config.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        let dir = path.parent().unwrap_or(&examples);
        assert_eq!(judge_config(&text, dir, &config), (false, false, true));
    }
    let files = files_named(&examples, is_waiver_file);
    assert!(!files.is_empty());
    for path in files {
        let doc = to_json(&parse_yaml(&read(&path)));
        let errors: Vec<String> = waivers.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
}

#[test]
fn schemas_reject_what_the_parsers_reject() {
    let config = validator(CONFIG_SCHEMA);
    let waivers = validator(WAIVERS_SCHEMA);
    let fixtures = root().join("tests/fixtures");

    // The fixture for unknown keys fails both.
    let unknown = fixtures.join("unknown-config-key/konform.yaml");
    let verdict = judge_config(
        &read(&unknown),
        &fixtures.join("unknown-config-key"),
        &config,
    );
    assert_eq!(verdict, (true, true, false), "unknown-config-key");

    // Every config and waiver file of the fixtures.
    for path in files_named(&fixtures, is_config) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if yaml::parse(&text, YamlLimits::default()).is_err() {
            continue;
        }
        let dir = path.parent().unwrap_or(&fixtures);
        assert_agree(
            &path.display().to_string(),
            judge_config(&text, dir, &config),
        );
    }
    let waiver_files = files_named(&fixtures, is_waiver_file);
    assert!(!waiver_files.is_empty());
    for path in waiver_files {
        let text = read(&path);
        assert_agree(&path.display().to_string(), judge_waivers(&text, &waivers));
    }

    // Forms the fixtures do not show; (text, the parser rejects its shape).
    let dir = root().join("examples/change-review");
    for (text, rejected) in [
        ("", false),
        ("packs: common\n", false),
        ("school: { id: 5012, types: gymnasium }\n", false),
        ("school: { id: '5012', contry: DE }\n", true),
        ("school: [5012]\n", true),
        ("waivers: { max_days: 90 }\n", false),
        ("waivers: { file: waivers.yaml, max_day: 90 }\n", true),
        (
            "parameters: { eduport: { manual_account_cap: { value: 3, locked: true } } }\n",
            false,
        ),
        (
            "parameters: { eduport: { manual_account_cap: { value: 3, lockd: true } } }\n",
            true,
        ),
        (
            "parameters: { eduport: { allowed_roles: { teacher: 1 } } }\n",
            false,
        ),
        ("parameters: { eduport: 3 }\n", true),
        (
            "policies: { common.generic-account: { enabled: false, waivable: false } }\n",
            false,
        ),
        (
            "policies: { common.generic-account: { enabled: 'no' } }\n",
            true,
        ),
        (
            "policies: { common.generic-account: { disabled: true } }\n",
            true,
        ),
        (
            "inputs:\n  - path: exports/iserv-konten.csv\n    kind: accounts\n    delimiter: tab\n    columns: { Kürzel: username, Raum: ignore }\n",
            false,
        ),
        ("inputs:\n  - kind: accounts\n", true),
        (
            "inputs:\n  - path: exports/iserv-konten.csv\n    sheet: 1\n",
            true,
        ),
        ("inputs: exports/iserv-konten.csv\n", true),
        ("fail_on: [error]\n", true),
    ] {
        let verdict = judge_config(text, &dir, &config);
        assert_eq!(verdict.0, rejected, "the parser on {text:?}: {verdict:?}");
        assert_agree(text, verdict);
    }
    let entry = "policy: common.generic-account\n  subject: M9001\n  reason: pool\n  approved_by: DSB\n  expires: 2027-01-31\n";
    for (text, rejected) in [
        (String::new(), false),
        ("waivers:\n".to_owned(), false),
        (format!("- {entry}"), false),
        (format!("waivers:\n- {entry}"), false),
        (
            format!("waivers:\n- {entry}  ticket: 2026-14\n  approved_on: 2026-11-02\n"),
            false,
        ),
        (format!("waivers:\n- {entry}  approved: yes\n"), true),
        (
            format!("waivers:\n- {}", entry.replace("  reason: pool\n", "")),
            true,
        ),
        (
            format!(
                "waivers:\n- {}",
                entry.replace("reason: pool", "reason: ''")
            ),
            true,
        ),
        (format!("waiver:\n- {entry}"), true),
        (format!("waivers:\n- {entry}notes: x\n"), true),
        ("waivers: common.generic-account\n".to_owned(), true),
    ] {
        let verdict = judge_waivers(&text, &waivers);
        assert_eq!(verdict.0, rejected, "the parser on {text:?}: {verdict:?}");
        assert_agree(&text, verdict);
    }
}

#[test]
fn schema_command_prints_the_committed_schemas() {
    for (which, path) in [("config", CONFIG_SCHEMA), ("waivers", WAIVERS_SCHEMA)] {
        assert_eq!(
            stdout_of(&["schema", which]),
            read(&root().join(path)),
            "{which}"
        );
    }
    snap!("ecosystem_schema_waivers", konform(&["schema", "waivers"]));
}
