//! Output formats through the command line: snapshots of every format on an example,
//! `--output FORMAT=PATH`, atomic report files that never replace an input, and the CI recipes
//! under `examples/ci/` run as written.

use std::path::{Path, PathBuf};
use std::process::Command;

use insta_cmd::get_cargo_bin;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn konform(cwd: &Path) -> Command {
    let mut c = Command::new(get_cargo_bin("konform"));
    c.current_dir(cwd)
        .env("COLUMNS", "100")
        .env("SOURCE_DATE_EPOCH", "1795305600")
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .env_remove("NO_GRAPHICS");
    c
}

fn run(mut cmd: Command) -> (i32, String, String) {
    match cmd.output() {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ),
        Err(e) => panic!("cannot run konform: {e}"),
    }
}

/// The text formats on `examples/aula-skole` through the command line, as a user gets them by
/// default (machine formats redacted, the others not). SARIF, JUnit, GitLab and HTML have
/// snapshots of their own (`sarif_schema.rs`, `html_report.rs`); here they must only run.
#[test]
fn every_format_on_an_example() {
    for format in ["sarif", "junit", "gitlab", "html"] {
        let mut c = konform(&root());
        c.args(["check", "examples/aula-skole", "--today", "2026-11-22"])
            .args(["--format", format]);
        let (code, stdout, stderr) = run(c);
        assert_eq!(code, 1, "{format}: {stderr}");
        assert!(
            stdout.len() > 1000 && stdout.contains("aula."),
            "{format}: {stdout}"
        );
    }
    for format in ["human", "plain", "json", "github", "markdown", "csv"] {
        let mut c = konform(&root());
        c.args(["check", "examples/aula-skole", "--today", "2026-11-22"])
            .args(["--color", "never", "--format", format]);
        let (code, stdout, stderr) = run(c);
        assert_eq!(code, 1, "{format}: {stderr}");
        let stdout = regex_time(&stdout);
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("format_{format}_aula"), stdout);
        });
    }
}

/// Drops the time taken from the human summary.
fn regex_time(s: &str) -> String {
    match regex::Regex::new(r"in \d+\.\d+s") {
        Ok(re) => re.replace_all(s, "in [TIME]").into_owned(),
        Err(_) => s.to_owned(),
    }
}

#[test]
fn colours_on_request_through_pipes_and_never_in_plain_text() {
    let colour = |format: &str, color: &str, no_color: bool| {
        let mut c = konform(&root());
        c.args(["check", "examples/aula-skole", "--today", "2026-11-22"])
            .args(["--format", format, "--color", color]);
        if no_color {
            c.env("NO_COLOR", "1");
        }
        run(c).1.contains('\u{1b}')
    };
    assert!(
        colour("human", "always", false),
        "--color always through a pipe"
    );
    assert!(
        colour("human", "always", true),
        "--color always beats NO_COLOR"
    );
    assert!(!colour("human", "auto", false), "a pipe is not a terminal");
    assert!(!colour("human", "never", false));
    assert!(
        !colour("plain", "always", false),
        "plain text has no colours"
    );
}

#[test]
fn markdown_summary_of_the_hamburg_example() {
    let mut c = konform(&root());
    c.args([
        "check",
        "examples/hamburg-gymnasium",
        "--today",
        "2026-11-22",
    ])
    .args(["--format", "markdown", "--redact"]);
    let (code, stdout, _) = run(c);
    assert_eq!(code, 1);
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("format_markdown_hamburg", stdout);
    });
}

#[test]
fn several_outputs_at_once_and_never_over_an_input() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let copy = dir.path().join("school");
    copy_dir(&root().join("examples/aula-skole"), &copy)?;
    let before = snapshot_dir(&copy)?;
    let mut c = konform(&copy);
    c.args(["check", "--today", "2026-11-22", "--format", "plain"])
        .args(["-o", "sarif=out/konform.sarif", "-o", "html=audit.html"])
        .args(["--output", "junit=junit.xml"]);
    std::fs::create_dir(copy.join("out"))?;
    let (code, stdout, stderr) = run(c);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("found 4 findings"), "{stdout}");
    for f in ["out/konform.sarif", "audit.html", "junit.xml"] {
        let text = std::fs::read_to_string(copy.join(f))?;
        assert!(text.len() > 200, "{f} is too short");
    }
    // The inputs are untouched.
    for (path, bytes) in &before {
        assert_eq!(&std::fs::read(path)?, bytes, "{} changed", path.display());
    }
    // An output that names an input is refused before anything is written, with exit 2.
    let input = std::fs::read_dir(&copy)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "csv"))
        .ok_or("no csv input in the example")?;
    let name = input.file_name().and_then(|n| n.to_str()).ok_or("name")?;
    let original = std::fs::read(&input)?;
    let mut c = konform(&copy);
    c.args(["check", "--today", "2026-11-22", "-o", "json=fresh.json"])
        .args(["-o", &format!("json={name}")]);
    let (code, _, stderr) = run(c);
    assert_eq!(code, 2);
    assert!(stderr.contains("it is an input of this run"), "{stderr}");
    assert_eq!(std::fs::read(&input)?, original);
    assert!(
        !copy.join("fresh.json").exists(),
        "nothing is written when one target is bad"
    );
    // A bad FORMAT=PATH is a usage error (exit 2) naming the formats.
    let mut c = konform(&copy);
    c.args(["check", "-o", "pdf=x.pdf"]);
    let (code, _, stderr) = run(c);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown format `pdf`"), "{stderr}");
    // An unwritable target is an error, not a silent success.
    let mut c = konform(&copy);
    c.args([
        "check",
        "--today",
        "2026-11-22",
        "-o",
        "json=missing/dir/x.json",
    ]);
    let (code, _, stderr) = run(c);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot write `missing/dir/x.json`"),
        "{stderr}"
    );
    Ok(())
}

/// The `konform check` command of each CI recipe, run in a copy of the Hamburg example with
/// `CI=true`: it succeeds as documented (exit 1: the example has findings) and writes every
/// file the rest of the pipeline uses, redacted.
#[test]
fn ci_recipes_run_as_written() -> Result<(), Box<dyn std::error::Error>> {
    for recipe in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(root().join("examples/ci").join(recipe))?;
        let args = check_command(&text).ok_or(format!("{recipe}: no `konform check` command"))?;
        let dir = tempfile::tempdir()?;
        copy_dir(&root().join("examples/hamburg-gymnasium"), dir.path())?;
        let mut c = konform(dir.path());
        c.env("CI", "true")
            .args(&args)
            .args(["--today", "2026-11-22"]);
        let (code, stdout, stderr) = run(c);
        assert_eq!(code, 1, "{recipe}: {stderr}");
        assert!(
            !stdout.contains("hannes.hansen2"),
            "{recipe}: the log shows personal data"
        );
        let outputs: Vec<&String> = args
            .iter()
            .zip(args.iter().skip(1))
            .filter(|(flag, _)| flag.as_str() == "--output")
            .map(|(_, value)| value)
            .collect();
        assert!(outputs.len() >= 3, "{recipe}: {args:?}");
        for spec in outputs {
            let path = spec.split_once('=').map(|(_, p)| p).ok_or("FORMAT=PATH")?;
            let written = std::fs::read_to_string(dir.path().join(path))?;
            assert!(!written.is_empty(), "{recipe}: {path} is empty");
            assert!(
                !written.contains("hannes.hansen2"),
                "{recipe}: {path} is not redacted"
            );
            // Every file the recipe hands on is named in it again (artifact or report).
            let uses = text.matches(path).count();
            assert!(uses >= 2, "{recipe}: {path} is written but never used");
        }
    }
    Ok(())
}

/// The arguments after `konform` of the first `konform check` command in a YAML recipe
/// (folded `>-` blocks and one-line `run:` commands).
fn check_command(yaml: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = yaml.lines().collect();
    let start = lines.iter().position(|l| l.trim() == "konform check")?;
    let indent = lines.get(start)?.len() - lines.get(start)?.trim_start().len();
    let mut words = Vec::new();
    for line in lines.iter().skip(start) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || line.len() - trimmed.len() != indent {
            break;
        }
        words.extend(trimmed.split_whitespace().map(str::to_owned));
    }
    words.first().filter(|w| *w == "konform")?;
    Some(words.into_iter().skip(1).collect())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn snapshot_dir(dir: &Path) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            out.extend(snapshot_dir(&entry.path())?);
        } else {
            out.push((entry.path(), std::fs::read(entry.path())?));
        }
    }
    Ok(out)
}

#[test]
fn max_file_size_refuses_larger_inputs() {
    let mut c = konform(&root());
    c.args([
        "check",
        "examples/aula-skole",
        "--today",
        "2026-11-22",
        "--max-file-size",
        "100",
    ]);
    let (code, stdout, _) = run(c);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("is larger than the limit of 100 bytes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not checked, could not be read completely"),
        "{stdout}"
    );
    let mut c = konform(&root());
    c.args(["check", "examples/aula-skole", "--max-file-size", "lots"]);
    let (code, _, stderr) = run(c);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a size"), "{stderr}");
}
