//! Tests of pack loading against small packs written to temporary folders.
use super::*;

pub(crate) fn write_pack(dir: &Path, manifest: &str, policies: &[(&str, &str)]) {
    let ok = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join("pack.yaml"), manifest))
        .and_then(|()| {
            policies
                .iter()
                .try_for_each(|(name, text)| std::fs::write(dir.join(name), text))
        });
    if let Err(e) = ok {
        panic!("cannot write test pack: {e}");
    }
}

fn load_only(dir: &Path) -> (Option<PackSet>, Vec<Problem>, SourceMap) {
    let mut sources = SourceMap::new();
    let req = PackRequest {
        packs: Some(Vec::new()),
        extra: vec![PackRef::new(
            &dir.display().to_string(),
            Path::new("."),
            None,
        )],
        ..PackRequest::default()
    };
    let (set, problems) = load(&req, &mut sources);
    (set, problems, sources)
}

fn tmp() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

const MANIFEST: &str = "id: mine\ntitle: test\nparameters:\n  cap: { type: long, default: 2 }\n";

#[test]
fn a_valid_pack_loads_with_ids_from_annotations() {
    let dir = tmp();
    write_pack(
        dir.path(),
        MANIFEST,
        &[(
            "a.cedar",
            "@id(\"no-admins\")\n@severity(\"warning\")\n@message(\"`{username}` is an admin\")\nforbid (principal is Account, action, resource)\nwhen { principal.roles.contains(\"admin\") };\n",
        )],
    );
    let (set, problems, _) = load_only(dir.path());
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
    let set = set.map(|s| s.meta.keys().cloned().collect::<Vec<_>>());
    assert_eq!(set, Some(vec!["mine.no-admins".to_owned()]));
}

#[test]
fn a_policy_that_does_not_validate_points_into_its_file() {
    let dir = tmp();
    write_pack(
        dir.path(),
        MANIFEST,
        &[(
            "bad.cedar",
            "@id(\"x\")\n@severity(\"error\")\n@message(\"m\")\nforbid (principal is Account, action, resource)\nwhen { principal.usernme == \"a\" };\n",
        )],
    );
    let (set, problems, sources) = load_only(dir.path());
    assert!(set.is_none());
    let p = problems
        .iter()
        .find(|p| p.code == "konform::policy::invalid");
    let p = match p {
        Some(p) => p,
        None => panic!("no validation problem in {problems:?}"),
    };
    let file = p
        .file
        .map(|f| sources.get(f).name.clone())
        .unwrap_or_default();
    assert!(file.ends_with("bad.cedar"), "{file}");
    let text = p.file.map(|f| {
        sources
            .get(f)
            .slice(p.primary_span().unwrap_or_default())
            .to_owned()
    });
    assert!(text.is_some_and(|t| t.contains("usernme")), "{p:?}");
}

#[test]
fn missing_annotations_and_permits_are_errors() {
    let dir = tmp();
    write_pack(
        dir.path(),
        MANIFEST,
        &[(
            "a.cedar",
            "forbid (principal, action, resource);\n@id(\"p\")\n@severity(\"error\")\n@message(\"m\")\npermit (principal, action, resource);\n@id(\"q\")\n@severity(\"fatal\")\n@message(\"m\")\nforbid (principal, action, resource);\n",
        )],
    );
    let (set, problems, _) = load_only(dir.path());
    assert!(set.is_none());
    let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
    assert!(codes.contains(&"konform::policy::missing-id"), "{codes:?}");
    assert!(codes.contains(&"konform::policy::not-forbid"), "{codes:?}");
    assert!(
        codes.contains(&"konform::policy::bad-severity"),
        "{codes:?}"
    );
}

#[test]
fn syntax_errors_and_duplicate_ids_are_reported() {
    let dir = tmp();
    let policy = "@id(\"p\")\n@severity(\"error\")\n@message(\"m\")\nforbid (principal, action, resource);\n";
    write_pack(
        dir.path(),
        MANIFEST,
        &[
            ("a.cedar", policy),
            ("b.cedar", policy),
            ("c.cedar", "forbid (principal, action resource);"),
        ],
    );
    let (_, problems, _) = load_only(dir.path());
    let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
    assert!(
        codes.contains(&"konform::policy::duplicate-id"),
        "{codes:?}"
    );
    assert!(codes.contains(&"konform::policy::syntax"), "{codes:?}");
}

#[test]
fn limits_with_bad_select_point_into_pack_yaml() {
    let dir = tmp();
    let manifest = format!(
        "{MANIFEST}limits:\n  too-many:\n    select: principal.orign == \"manual\"\n    max: cap\n    message: too many\n"
    );
    write_pack(dir.path(), &manifest, &[]);
    let (set, problems, sources) = load_only(dir.path());
    assert!(set.is_none());
    let p = problems.iter().find(|p| p.is_error());
    let shown = p.and_then(|p| Some(sources.get(p.file?).slice(p.primary_span()?).to_owned()));
    assert!(
        shown.as_deref().is_some_and(|s| s.contains("orign")),
        "{problems:?} {shown:?}"
    );
}

#[test]
fn bad_regex_and_unknown_fact_kind_are_errors() {
    let dir = tmp();
    let manifest =
        "id: mine\nfacts:\n  g:\n    regex: { attributes: [username], pattern: '(unclosed' }\n";
    write_pack(dir.path(), manifest, &[]);
    let (set, problems, _) = load_only(dir.path());
    assert!(set.is_none());
    assert!(
        problems
            .iter()
            .any(|p| p.code == "konform::pack::bad-regex"),
        "{problems:?}"
    );
}

#[test]
fn embedded_packs_load_and_validate() {
    let mut sources = SourceMap::new();
    let all = PackRequest {
        packs: Some(
            embedded_pack_ids()
                .iter()
                .map(|id| PackRef::new(id, Path::new("."), None))
                .collect(),
        ),
        ..PackRequest::default()
    };
    let (set, problems) = load(&all, &mut sources);
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
    let ids: Vec<String> = set
        .map(|s| s.meta.keys().cloned().collect())
        .unwrap_or_default();
    for core in [
        "common.generic-account",
        "eduport.contract-worker-account",
        "eduport.manual-account-cap",
        "iserv.recording-enabled",
        "iserv.videoconference-without-consent",
    ] {
        assert!(ids.iter().any(|i| i == core), "{core} missing from {ids:?}");
    }
}

#[test]
fn schema_declares_every_canonical_attribute() {
    let schema = embedded_files()
        .iter()
        .find(|(p, _)| *p == SCHEMA_PATH)
        .map_or("", |(_, t)| *t);
    for kind in [
        RecordKind::Account,
        RecordKind::Service,
        RecordKind::Consent,
    ] {
        for c in columns::canonical_for(kind) {
            assert!(
                schema.contains(&format!("  {}: ", c.name))
                    || schema.contains(&format!("  {}?: ", c.name)),
                "schema lacks `{}` of {kind}",
                c.name
            );
        }
    }
}

#[test]
fn default_packs_follow_the_school_country_and_state() {
    let defaults = |country: &str, state: &str| {
        let mut sources = SourceMap::new();
        let req = PackRequest {
            country: country.into(),
            state: state.into(),
            ..PackRequest::default()
        };
        let (set, problems) = load(&req, &mut sources);
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
        set.map(|s| {
            s.packs
                .iter()
                .map(|p| p.manifest.id.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    assert_eq!(defaults("", ""), vec!["common", "iserv"]);
    assert_eq!(defaults("DE", "HH"), vec!["common", "eduport", "iserv"]);
    assert_eq!(
        defaults("DE", "NW"),
        vec!["common", "iserv", "it-inventory"]
    );
    assert_eq!(defaults("DK", ""), vec!["aula", "common", "iserv"]);
    assert_eq!(defaults("SE", ""), vec!["common", "iserv", "skolverket"]);
}
