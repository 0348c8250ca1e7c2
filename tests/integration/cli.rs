//! The binary end to end: examples, bad inputs, options. Output is snapshotted (no colour,
//! fixed width, relative paths, fixed --today; the time taken is filtered).

use std::path::{Path, PathBuf};
use std::process::Command;

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures")
}

fn konform(cwd: &Path) -> Command {
    let mut c = Command::new(get_cargo_bin("konform"));
    c.current_dir(cwd)
        .env("COLUMNS", "100")
        .env_remove("NO_GRAPHICS")
        // CI=true (as in CI) would switch on redaction; the snapshots show what people see.
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE");
    c
}

fn check(cwd: &Path, args: &[&str]) -> Command {
    let mut c = konform(cwd);
    c.arg("check")
        .args(args)
        .args(["--today", "2026-11-22", "--color", "never"]);
    c
}

macro_rules! snap {
    ($name:expr, $cmd:expr) => {
        insta::with_settings!({
            filters => vec![(r"in \d+\.\d+s", "in [TIME]")],
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            assert_cmd_snapshot!($name, $cmd);
        })
    };
}

fn run(mut cmd: Command) -> (i32, String) {
    match cmd.output() {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ),
        Err(e) => panic!("cannot run konform: {e}"),
    }
}

/// The number of findings per policy in a JSON report.
fn policy_counts(doc: &serde_json::Value) -> std::collections::BTreeMap<String, i32> {
    let mut by_policy = std::collections::BTreeMap::new();
    for f in doc["findings"].as_array().into_iter().flatten() {
        *by_policy
            .entry(f["policy"].as_str().unwrap_or("").to_owned())
            .or_insert(0) += 1;
    }
    by_policy
}

fn json_of(cmd: Command) -> (i32, serde_json::Value) {
    let (code, out) = run(cmd);
    match serde_json::from_str(&out) {
        Ok(v) => (code, v),
        Err(e) => panic!("not JSON ({e}): {out}"),
    }
}

#[test]
fn hamburg_example_human() {
    snap!(
        "hamburg_human",
        check(&root(), &["examples/hamburg-gymnasium"])
    );
}

#[test]
fn hamburg_example_json() {
    snap!(
        "hamburg_json",
        check(&root(), &["examples/hamburg-gymnasium", "--format", "json"])
    );
}

#[test]
fn hamburg_example_finds_each_rule() {
    let (code, doc) = json_of(check(
        &root(),
        &["examples/hamburg-gymnasium", "--format", "json"],
    ));
    assert_eq!(code, 1);
    assert_eq!(doc["version"], 1);
    let by_policy = policy_counts(&doc);
    // Every policy of the three packs fires at least once (see examples/hamburg-gymnasium/README.md).
    let expected: Vec<(String, i32)> = [
        ("common.duplicate-identity", 2),
        ("common.expired-account-enabled", 1),
        ("common.generic-account", 4),
        ("common.inactive-account", 1),
        ("common.manual-account-undocumented", 4),
        ("common.national-id-exposed", 1),
        ("common.never-used-account", 1),
        ("common.pending-deletion-can-log-in", 1),
        ("common.pending-deletion-overdue", 2),
        ("common.plaintext-password", 1),
        ("common.special-category-data", 1),
        ("eduport.contract-worker-account", 2),
        ("eduport.ineligible-staff-category", 1),
        ("eduport.manual-account-cap", 1),
        ("eduport.missing-account", 1),
        ("eduport.name-differs-from-leading-system", 1),
        ("eduport.not-in-leading-system", 1),
        ("eduport.parent-or-external-account", 3),
        ("iserv.consent-evidence-incomplete", 1),
        ("iserv.consent-withdrawn-access", 1),
        ("iserv.parent-not-linked", 1),
        ("iserv.recording-enabled", 1),
        ("iserv.retention-too-long", 1),
        ("iserv.videoconference-without-consent", 8),
    ]
    .iter()
    .map(|(p, n)| ((*p).to_owned(), *n))
    .collect();
    assert_eq!(by_policy.into_iter().collect::<Vec<_>>(), expected);
    assert_eq!(doc["summary"]["records"], 177);
    for f in doc["findings"].as_array().into_iter().flatten() {
        let m = f["message"].as_str().unwrap_or("");
        assert!(!m.contains("(empty)"), "unfilled placeholder: {m}");
    }
    assert_eq!(doc["exit_code"], 1);
    // Every location is relative and inside its file.
    for f in doc["findings"].as_array().into_iter().flatten() {
        let file = f["location"]["file"].as_str().unwrap_or("/");
        assert!(!file.starts_with('/'), "{file}");
        let text = std::fs::read(root().join(file)).unwrap_or_default();
        let end = f["location"]["offset"].as_u64().unwrap_or(u64::MAX)
            + f["location"]["length"].as_u64().unwrap_or(0);
        assert!(end as usize <= text.len(), "span outside {file}");
    }
}

#[test]
fn clean_example_human_and_json() {
    snap!("clean_human", check(&root(), &["examples/clean-school"]));
    snap!(
        "clean_json",
        check(&root(), &["examples/clean-school", "--format", "json"])
    );
}

#[test]
fn running_inside_the_example_folder_uses_relative_names() {
    let (code, out) = run(check(&root().join("examples/hamburg-gymnasium"), &[]));
    assert_eq!(code, 1);
    assert!(out.contains("[exports/iserv-konten.csv:"), "{out}");
    assert!(!out.contains(&root().display().to_string()));
}

#[test]
fn inputs_are_never_modified() {
    let dir = root().join("examples/hamburg-gymnasium");
    let read_all = || {
        let mut files: Vec<(PathBuf, Vec<u8>)> = walk(&dir)
            .into_iter()
            .map(|p| {
                let b = std::fs::read(&p).unwrap_or_default();
                (p, b)
            })
            .collect();
        files.sort();
        files
    };
    let before = read_all();
    let (code, _) = run(check(&root(), &["examples/hamburg-gymnasium"]));
    assert_eq!(code, 1);
    assert_eq!(before, read_all());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Each bad input: a diagnostic with file, line and help, exit 2 (or a warning, exit 0).
const BAD_INPUTS: &[(&str, &[&str], i32)] = &[
    ("malformed-row", &[], 2),
    ("duplicate-column", &[], 2),
    ("missing-column", &[], 2),
    ("bad-date", &[], 2),
    ("invalid-utf8", &[], 2),
    ("yaml-syntax", &[], 2),
    ("unknown-config-key", &[], 2),
    ("unknown-pack", &[], 2),
    ("unknown-parameter", &[], 2),
    ("empty-input", &[], 2),
    ("misspelt-column", &[], 0),
    ("broken-policy", &["--pack", "broken-policy/pack"], 2),
    ("evaluation-error", &["--pack", "evaluation-error/pack"], 2),
    ("does-not-exist", &[], 2),
];

#[test]
fn bad_inputs_get_diagnostics_and_exit_codes() {
    for (case, extra, expected) in BAD_INPUTS {
        let mut args = vec![*case];
        args.extend_from_slice(extra);
        snap!(format!("bad_{case}"), check(&fixtures(), &args));
        args.extend_from_slice(&["--format", "json"]);
        let (code, doc) = json_of(check(&fixtures(), &args));
        assert_eq!(code, *expected, "{case}");
        assert_eq!(doc["exit_code"], *expected, "{case}");
        let problems = doc["problems"].as_array().cloned().unwrap_or_default();
        assert!(!problems.is_empty(), "{case}: no problem reported");
        for p in &problems {
            assert!(p["help"].is_string(), "{case}: problem without help: {p}");
        }
        snap!(format!("bad_{case}_json"), check(&fixtures(), &args));
    }
}

#[test]
fn other_encodings_are_read() {
    snap!("windows_1252", check(&fixtures(), &["windows-1252"]));
    snap!("utf16_tab", check(&fixtures(), &["utf16-tab"]));
}

#[test]
fn fail_on_threshold() {
    let (code, _) = run(check(&fixtures(), &["warning-only"]));
    assert_eq!(code, 0, "warnings do not fail by default");
    let (code, _) = run(check(
        &fixtures(),
        &["warning-only", "--fail-on", "warning"],
    ));
    assert_eq!(code, 1);
    let (code, _) = run(check(&fixtures(), &["warning-only/strict"]));
    assert_eq!(code, 1, "fail_on from konform.yaml");
    let (code, _) = run(check(
        &fixtures(),
        &["warning-only/strict", "--fail-on", "error"],
    ));
    assert_eq!(code, 0, "the flag wins over konform.yaml");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _) = run(check(&root(), &["--today", "22.11.2026"]));
    assert_eq!(code, 2);
    let mut c = konform(&root());
    c.arg("frobnicate");
    assert_eq!(run(c).0, 2);
    let (code, _) = run(check(
        &root(),
        &["--config", "nope.yaml", "examples/clean-school"],
    ));
    assert_eq!(code, 2);
    let mut c = konform(&root());
    c.arg("--version");
    assert_eq!(run(c).0, 0);
}

#[test]
fn colour_and_narrated_output() {
    let mut c = konform(&root());
    c.args([
        "check",
        "examples/hamburg-gymnasium",
        "--today",
        "2026-11-22",
        "--color",
        "always",
    ]);
    let (_, out) = run(c);
    assert!(
        out.contains("\u{1b}["),
        "--color always colours through pipes"
    );
    let mut c = konform(&root());
    c.args([
        "check",
        "examples/hamburg-gymnasium",
        "--today",
        "2026-11-22",
    ]);
    let (_, out) = run(c);
    assert!(!out.contains("\u{1b}["), "auto: no colour into a pipe");
    let mut c = check(&root(), &["examples/hamburg-gymnasium"]);
    c.env("NO_GRAPHICS", "1");
    let (_, out) = run(c);
    assert!(
        out.contains("Begin snippet for examples/hamburg-gymnasium"),
        "{out}"
    );
}

#[test]
fn parameters_and_country_come_from_the_config() {
    // The Hamburg export under a config with a higher cap: no cap finding.
    let (_, doc) = json_of(check(
        &fixtures(),
        &["--config", "higher-cap/konform.yaml", "--format", "json"],
    ));
    let policies: Vec<&str> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["policy"].as_str())
        .collect();
    assert!(
        !policies.contains(&"eduport.manual-account-cap"),
        "{policies:?}"
    );
    assert!(policies.contains(&"common.generic-account"));
    // The Danish example under German rules: the 15-year-old's own consent is not enough.
    let (code, doc) = json_of(check(
        &fixtures(),
        &["--config", "german-ages/konform.yaml", "--format", "json"],
    ));
    assert_eq!(code, 1);
    let subjects: Vec<&str> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["subject"].as_str())
        .collect();
    assert_eq!(subjects, vec!["S-201"]);
}

#[test]
fn messages_in_german() {
    snap!(
        "hamburg_german",
        check(
            &root(),
            &[
                "examples/hamburg-gymnasium/exports/iserv-konten.csv",
                "--config",
                "examples/hamburg-gymnasium/konform.yaml",
                "--lang",
                "de"
            ]
        )
    );
    let (_, out) = run(check(
        &root(),
        &["examples/hamburg-gymnasium", "--lang", "de"],
    ));
    assert!(
        out.contains("Aufzeichnung ist in `iserv/videoconference` aktiviert"),
        "{out}"
    );
    assert!(out.contains("generischer Account `lehrer1` ist keiner Person zugeordnet"));
}

/// Each pack's example fires every policy of its pack (the counts its README lists).
#[test]
fn every_pack_example_fires_each_policy_of_its_pack() {
    let cases: &[(&str, &[(&str, i32)])] = &[
        (
            "examples/aula-skole",
            &[
                ("aula.consent-below-age", 1),
                ("aula.guardian-without-child", 1),
                ("aula.manual-association-expiring", 1),
                ("aula.unknown-role", 1),
            ],
        ),
        (
            "examples/skolverket-gymnasium",
            &[
                ("skolverket.access-not-renewed", 1),
                ("skolverket.departed-teacher", 1),
                ("skolverket.school-form-not-registered", 1),
                ("skolverket.subject-permission-not-taught", 1),
                ("skolverket.test-administrator-deleted", 1),
            ],
        ),
        (
            "examples/nrw-it-inventory",
            &[
                ("it-inventory.inventory-entry-incomplete", 1),
                ("it-inventory.secret-in-inventory", 2),
                ("it-inventory.system-not-in-inventory", 1),
            ],
        ),
    ];
    for (example, expected) in cases {
        let (code, doc) = json_of(check(&root(), &[example, "--format", "json"]));
        assert_eq!(code, 1, "{example}");
        let by_policy = policy_counts(&doc);
        let expected: std::collections::BTreeMap<String, i32> = expected
            .iter()
            .map(|(p, n)| ((*p).to_owned(), *n))
            .collect();
        assert_eq!(by_policy, expected, "{example}");
        assert!(
            doc["problems"].as_array().is_some_and(Vec::is_empty),
            "{example}: {}",
            doc["problems"]
        );
    }
    snap!("aula_human", check(&root(), &["examples/aula-skole"]));
    snap!(
        "skolverket_human",
        check(&root(), &["examples/skolverket-gymnasium"])
    );
    snap!(
        "nrw_it_inventory_human",
        check(&root(), &["examples/nrw-it-inventory"])
    );
}

/// A school authority's config locks parameters and policies; a school's config extends it and
/// may tighten but not loosen them.
#[test]
fn authority_locks_are_honoured() {
    let (code, doc) = json_of(check(
        &fixtures(),
        &["authority/school-ok", "--format", "json"],
    ));
    assert_eq!(code, 1);
    let cap = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["policy"] == "eduport.manual-account-cap");
    assert!(
        cap.is_some_and(|f| f["message"].as_str().unwrap_or("").contains("cap of 1")),
        "the school's lower cap applies: {cap:?}"
    );
    assert_eq!(
        doc["summary"]["disabled_policies"][0],
        "common.never-used-account"
    );
    snap!(
        "authority_school_ok",
        check(&fixtures(), &["authority/school-ok"])
    );
    let (code, doc) = json_of(check(
        &fixtures(),
        &["authority/school-loosens", "--format", "json"],
    ));
    assert_eq!(code, 2);
    let codes: Vec<&str> = doc["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        vec![
            "konform::config::locked-parameter",
            "konform::config::locked-policy",
            "konform::config::unknown-policy"
        ]
    );
    snap!(
        "authority_school_loosens",
        check(&fixtures(), &["authority/school-loosens"])
    );
    snap!(
        "authority_cycle",
        check(&fixtures(), &["authority/cycle-a"])
    );
}

/// Microsoft SDS sample bundles (public samples, see tests/fixtures/samples/SOURCES.md) are read
/// as one input each, and the default packs find what their data calls for.
#[test]
fn sds_sample_bundles() {
    let samples = fixtures().join("samples");
    type Case<'a> = (&'a str, &'a [(&'a str, i32)], i64);
    let cases: &[Case] = &[
        (
            "sds-v2.1",
            &[
                ("common.expired-account-enabled", 6),
                ("common.plaintext-password", 8),
                ("common.special-category-data", 6),
            ],
            8,
        ),
        ("sds-v2", &[("common.plaintext-password", 29)], 29),
        (
            "sds-v1-classic-25users",
            &[("common.plaintext-password", 24)],
            24,
        ),
    ];
    for (bundle, expected, accounts) in cases {
        let (code, doc) = json_of(check(&samples, &[bundle, "--format", "json"]));
        assert_eq!(code, 1, "{bundle}");
        assert_eq!(
            doc["summary"]["records_by_kind"]["accounts"], *accounts,
            "{bundle}"
        );
        let by_policy = policy_counts(&doc);
        let expected: std::collections::BTreeMap<String, i32> = expected
            .iter()
            .map(|(p, n)| ((*p).to_owned(), *n))
            .collect();
        assert_eq!(by_policy, expected, "{bundle}");
    }
    snap!("sds_v21", check(&samples, &["sds-v2.1"]));
}

/// Standard exports: SCIM (RFC samples), SS 12000 (Skolverket samples) and LDIF are read by
/// content; broken files get precise diagnostics.
#[test]
fn standard_formats_are_read_and_broken_ones_rejected() {
    let samples = fixtures().join("samples");
    let cases: &[(&str, i32, i64, &[&str])] = &[
        (
            "scim/rfc7643-8.2-user-full.json",
            1,
            1,
            &["common.plaintext-password"],
        ),
        (
            "scim/rfc7644-3.4.3-list_response-post_query.json",
            0,
            2,
            &[],
        ),
        (
            "scim/rfc7644-3.7.2-bulk_request-enterprise_user.json",
            0,
            2,
            &[],
        ),
        ("ss12000/person.json", 0, 1, &[]),
    ];
    for (file, code, accounts, policies) in cases {
        let (got, doc) = json_of(check(&samples, &[file, "--format", "json"]));
        assert_eq!(got, *code, "{file}: {}", doc["problems"]);
        assert_eq!(
            doc["summary"]["records_by_kind"]["accounts"], *accounts,
            "{file}"
        );
        let found: Vec<&str> = doc["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["policy"].as_str())
            .collect();
        assert_eq!(found, policies.to_vec(), "{file}");
    }
    // SCIM schema definitions describe a server, not users: a precise error, not a misreading.
    for schema in ["user", "group", "enterprise_user"] {
        let file = format!("scim/rfc7643-8.7.1-schema-{schema}.json");
        let (code, doc) = json_of(check(&samples, &[&file, "--format", "json"]));
        assert_eq!(code, 2, "{file}");
        assert_eq!(
            doc["problems"][0]["code"], "konform::input::scim-metadata",
            "{file}"
        );
    }
    // The personnummer in SS 12000's protected civicNo field is not an exposed national id.
    let (_, doc) = json_of(check(
        &samples,
        &["ss12000/person.json", "--format", "json"],
    ));
    assert!(doc["findings"].as_array().is_some_and(Vec::is_empty));
    let (code, doc) = json_of(check(
        &fixtures(),
        &["ldif/ucsschool-export.ldif", "--format", "json"],
    ));
    assert_eq!(code, 1);
    assert_eq!(doc["summary"]["records_by_kind"]["accounts"], 3);
    snap!(
        "ldif_ucsschool",
        check(&fixtures(), &["ldif/ucsschool-export.ldif"])
    );
    for broken in [
        "scim-no-username.json",
        "broken.ldif",
        "ss12000-groups-only.json",
        "oneroster-bad",
        "google-bad.csv",
    ] {
        let path = format!("broken-formats/{broken}");
        let (code, _) = json_of(check(&fixtures(), &[&path, "--format", "json"]));
        assert_eq!(code, 2, "{broken}");
        snap!(format!("broken_{broken}"), check(&fixtures(), &[&path]));
    }
}

/// A Google Workspace user download: `[Required]` header suffixes, masked passwords (`****`,
/// not a plaintext password), `Never logged in`, `2026/11/20 07:31:02` dates, e-mail as the key.
#[test]
fn google_workspace_user_export() {
    let (code, doc) = json_of(check(
        &fixtures(),
        &["google-workspace", "--format", "json"],
    ));
    assert_eq!(code, 0, "{}", doc["problems"]);
    assert_eq!(doc["summary"]["records_by_kind"]["accounts"], 4);
    assert!(
        doc["findings"].as_array().is_some_and(Vec::is_empty),
        "{}",
        doc["findings"]
    );
    assert!(
        doc["problems"].as_array().is_some_and(Vec::is_empty),
        "{}",
        doc["problems"]
    );
}

/// A side input (`kind: attributes`) adds what a standard export lacks (here the staff category
/// of SCIM users), joined by key, username or e-mail; unmatched rows are warnings.
#[test]
fn side_inputs_join_onto_accounts() {
    let (code, doc) = json_of(check(&fixtures(), &["side-input", "--format", "json"]));
    assert_eq!(code, 1, "{}", doc["problems"]);
    let subjects: Vec<&str> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["subject"].as_str())
        .collect();
    assert_eq!(subjects, vec!["2819c223-7f76-413861904646"]);
    let codes: Vec<&str> = doc["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["konform::input::unmatched-side-record"]);
    snap!("side_input", check(&fixtures(), &["side-input"]));
}

/// A roster bundle shipped as `.zip` (the SDS v2.1 sample, zipped): findings name the member as
/// `export.zip!member`; unsafe member paths, archives without a bundle and broken archives are
/// errors.
#[test]
fn zip_bundles() {
    let (code, doc) = json_of(check(
        &fixtures(),
        &["zip/sds-export.zip", "--format", "json"],
    ));
    assert_eq!(code, 1, "{}", doc["problems"]);
    let files: std::collections::BTreeSet<&str> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["location"]["file"].as_str())
        .collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        vec!["zip/sds-export.zip!export/users.csv"]
    );
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(20));
    for bad in ["unsafe.zip", "not-a-bundle.zip", "truncated.zip"] {
        let path = format!("zip-bad/{bad}");
        let (code, doc) = json_of(check(&fixtures(), &[&path, "--format", "json"]));
        assert_eq!(code, 2, "{bad}");
        assert_eq!(
            doc["problems"][0]["code"], "konform::input::bad-zip",
            "{bad}"
        );
    }
    snap!("zip_bad", check(&fixtures(), &["zip-bad"]));
}

/// SARIF and HTML reports show the SHA-256 of every input (whichever way the output is asked
/// for); other formats show none, and the run leaves the digests out.
#[test]
fn sarif_and_html_reports_carry_the_digests_of_inputs() {
    use sha2::Digest as _;
    let example = root().join("examples/hamburg-gymnasium");
    let bytes =
        std::fs::read(example.join("exports/iserv-konten.csv")).unwrap_or_else(|e| panic!("{e}"));
    let digest: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let digest_of = |sarif: &serde_json::Value| -> Option<String> {
        sarif["runs"][0]["artifacts"]
            .as_array()?
            .iter()
            .find(|a| {
                a["location"]["uri"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("iserv-konten.csv"))
            })
            .and_then(|a| a["hashes"]["sha-256"].as_str().map(str::to_owned))
    };
    let (_, on_stdout) = json_of(check(&example, &["--format", "sarif"]));
    assert_eq!(digest_of(&on_stdout), Some(digest.clone()));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sarif = dir.path().join("r.sarif");
    let html = dir.path().join("r.html");
    let outputs = [
        format!("sarif={}", sarif.display()),
        format!("html={}", html.display()),
    ];
    let (_, json) = run(check(
        &example,
        &[
            "--format",
            "json",
            "--output",
            &outputs[0],
            "--output",
            &outputs[1],
        ],
    ));
    assert!(!json.contains(&digest));
    let written: serde_json::Value = std::fs::read_to_string(&sarif)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    assert_eq!(digest_of(&written), Some(digest.clone()));
    let page = std::fs::read_to_string(&html).unwrap_or_default();
    assert!(page.contains(&digest), "the HTML report lacks the digest");
}

/// A report that cannot be written to standard output (a full disk) is an error, exit code 2,
/// in every format; a closed pipe (`| head`) is not.
#[cfg(target_os = "linux")]
#[test]
fn a_report_that_cannot_be_written_is_an_error() -> Result<(), Box<dyn std::error::Error>> {
    for format in ["human", "json"] {
        let mut cmd = check(&root(), &["examples/hamburg-gymnasium", "--format", format]);
        let out = cmd
            .stdout(std::fs::OpenOptions::new().write(true).open("/dev/full")?)
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{format}: {stderr}");
        assert!(
            stderr.contains("cannot write the report to standard output"),
            "{format}: {stderr}"
        );
    }
    let mut cmd = check(&root(), &["examples/hamburg-gymnasium", "--format", "json"]);
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    // Closed before anything is read.
    drop(child.stdout.take());
    let out = child.wait_with_output()?;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
