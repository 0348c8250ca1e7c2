//! Reader throughput: records per second of each input reader on generated data.
//!
//! `cargo bench --bench readers` (release build). Generates 100,000 accounts in each format in a
//! temporary folder and times reading them (decode, parse, map onto canonical attributes, with
//! spans), without evaluating policies. Prints the median of three runs per format.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on the terminal"
)]

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use konform::source::SourceMap;
use konform::source::load::{self, InputLimits, InputSpec};

const ROWS: usize = 100_000;

fn csv(rows: usize) -> String {
    let mut s = String::from(
        "Kennung;Benutzername;Vorname;Nachname;E-Mail;Rolle;Herkunft;Erstellt am;Letzte Anmeldung\n",
    );
    for i in 0..rows {
        let _ = writeln!(
            s,
            "P{i};user{i};Vor{i};Nach{i};user{i}@schule.example;Schüler;DiViS;01.08.2023;{:02}.10.2026",
            i % 28 + 1
        );
    }
    s
}

fn yaml(rows: usize) -> String {
    let mut s = String::from("accounts:\n");
    for i in 0..rows {
        let _ = writeln!(
            s,
            "  - {{ id: P{i}, username: user{i}, given_name: Vor{i}, family_name: Nach{i}, roles: [student], created: 2023-08-01 }}"
        );
    }
    s
}

fn json(rows: usize) -> String {
    let items: Vec<String> = (0..rows)
        .map(|i| format!("{{\"id\": \"P{i}\", \"username\": \"user{i}\", \"given_name\": \"Vor{i}\", \"roles\": [\"student\"]}}"))
        .collect();
    format!("{{\"accounts\": [{}]}}", items.join(",\n"))
}

fn scim(rows: usize) -> String {
    let items: Vec<String> = (0..rows)
        .map(|i| format!("{{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"id\": \"u{i}\", \"userName\": \"user{i}\", \"name\": {{\"givenName\": \"Vor{i}\", \"familyName\": \"Nach{i}\"}}, \"active\": true}}"))
        .collect();
    format!(
        "{{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"], \"totalResults\": {rows}, \"Resources\": [{}]}}",
        items.join(",\n")
    )
}

fn ldif(rows: usize) -> String {
    let mut s = String::from("version: 1\n\n");
    for i in 0..rows {
        let _ = write!(
            s,
            "dn: uid=user{i},cn=users,dc=schule,dc=example\nobjectClass: inetOrgPerson\nuid: user{i}\ngivenName: Vor{i}\nsn: Nach{i}\nmail: user{i}@schule.example\nemployeeType: student\n\n"
        );
    }
    s
}

fn time(path: &Path) -> (f64, usize) {
    let mut runs = Vec::new();
    let mut records = 0;
    for _ in 0..3 {
        let mut sources = SourceMap::new();
        let spec = InputSpec {
            path: path.to_path_buf(),
            ..InputSpec::default()
        };
        let start = Instant::now();
        let loaded = load::load(&spec, &mut sources, InputLimits::default());
        runs.push(start.elapsed().as_secs_f64());
        records = loaded.records.len();
        if !loaded.is_complete() {
            eprintln!("{}: {:?}", path.display(), loaded.problems.first());
        }
    }
    runs.sort_by(f64::total_cmp);
    (runs.get(1).copied().unwrap_or(0.0), records)
}

fn main() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    type Format = (&'static str, &'static str, fn(usize) -> String);
    let formats: [Format; 5] = [
        ("csv", "accounts.csv", csv),
        ("yaml", "accounts.yaml", yaml),
        ("json", "accounts.json", json),
        ("scim", "users.scim.json", scim),
        ("ldif", "directory.ldif", ldif),
    ];
    println!(
        "{:>6} {:>10} {:>10} {:>14} {:>10}",
        "format", "records", "seconds", "records_per_s", "MB/s"
    );
    for (name, file, make) in formats {
        let path = dir.path().join(file);
        let text = make(ROWS);
        std::fs::write(&path, &text)?;
        let (secs, records) = time(&path);
        let rate = records as f64 / secs.max(1e-9);
        let mbs = text.len() as f64 / 1e6 / secs.max(1e-9);
        println!("{name:>6} {records:>10} {secs:>10.3} {rate:>14.0} {mbs:>10.1}");
    }
    Ok(())
}
