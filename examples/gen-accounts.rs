//! Writes a deterministic synthetic school account list for benchmarks.
//!
//! ```sh
//! cargo run --release --example gen-accounts -- 1000000 /tmp/bench-1m
//! ```
//!
//! OUT_DIR gets `konform.yaml` (a Hamburg school, packs common/eduport/iserv),
//! `accounts.csv` (N accounts, DiViS/IServ style, `;`-separated, German headers),
//! `consents.csv` (a video-conference consent for most accounts) and `iserv.yaml` (the
//! video-conference module). About one row in 100 violates a rule (generic usernames,
//! contract workers, missing consents, manual accounts, accounts never used or inactive for
//! over a year), so findings stay few and grow with N. Dates are spread as in a real export:
//! birth dates over the whole year, accounts created over seven school years, last logins
//! mostly in the last four months, consents signed over five years on numbered forms (the
//! checks run with `--today 2026-11-22`). Names are made
//! of invented syllables; the same N always gives the same bytes.

use std::io::{BufWriter, Write as _};
use std::path::PathBuf;

use chrono::{Days, NaiveDate};

/// A small deterministic generator (SplitMix64), so that the files need no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

const SYLLABLES: &[&str] = &[
    "an", "be", "ca", "do", "el", "fi", "ga", "ho", "is", "jo", "ka", "lu", "ma", "ne", "ol", "pe",
];

fn name(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    let mut s: String = (0..n)
        .map(|_| {
            SYLLABLES
                .get(rng.below(SYLLABLES.len()))
                .copied()
                .unwrap_or("a")
        })
        .collect();
    if let Some(first) = s.get(..1) {
        s = first.to_uppercase() + s.get(1..).unwrap_or_default();
    }
    s
}

/// `date` less `days` days, as a German export writes it (`DD.MM.YYYY`).
fn before(date: NaiveDate, days: usize) -> String {
    date.checked_sub_days(Days::new(days as u64))
        .unwrap_or(date)
        .format("%d.%m.%Y")
        .to_string()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The day the benchmarks check on (`--today 2026-11-22`); never fails.
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).ok_or("bad date")?;
    let mut args = std::env::args().skip(1);
    let rows: usize = args
        .next()
        .ok_or("usage: gen-accounts ROWS OUT_DIR")?
        .parse()
        .map_err(|_| "ROWS must be a number")?;
    let out = PathBuf::from(args.next().ok_or("usage: gen-accounts ROWS OUT_DIR")?);
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("konform.yaml"),
        "school: { id: \"5012\", country: DE, state: HH }\npacks: [common, eduport, iserv]\n\
         parameters:\n  eduport: { manual_account_cap: 1000000 }\n\
         inputs:\n  - path: accounts.csv\n    kind: accounts\n  - path: consents.csv\n    kind: consents\n  - path: iserv.yaml\n",
    )?;
    std::fs::write(
        out.join("iserv.yaml"),
        "platform: iserv\nmodules:\n  videoconference: { enabled: true, recording: false, allowed_roles: [Lehrer, Schüler], retention_days: 7 }\n",
    )?;
    let mut a = BufWriter::new(std::fs::File::create(out.join("accounts.csv"))?);
    let mut c = BufWriter::new(std::fs::File::create(out.join("consents.csv"))?);
    a.write_all(b"Kennung;Benutzername;Vorname;Nachname;E-Mail;Rolle;Personalgruppe;Herkunft;Status;Klasse;Geburtsdatum;Erstellt am;Letzte Anmeldung\r\n")?;
    c.write_all(b"Person;Zweck;Erteilt von;Datum;Formular\r\n")?;
    let mut rng = Rng(20_261_122);
    for i in 0..rows {
        let (given, family) = (name(&mut rng), name(&mut rng));
        let teacher = i % 12 == 0;
        let mut user = format!("{}.{}{i}", given.to_lowercase(), family.to_lowercase());
        if i % 997 == 0 {
            user = format!("lehrer{i}");
        }
        let role = if teacher { "Lehrkraft" } else { "Schüler" };
        let mut category = if teacher { "Lehrkraft" } else { "" };
        if i % 1499 == 0 {
            category = "Honorarkraft";
        }
        let origin = if i % 2000 == 0 { "manuell" } else { "DiViS" };
        let year = if teacher {
            1970 + i % 30
        } else {
            2008 + i % 10
        };
        let born = NaiveDate::from_yo_opt(i32::try_from(year)?, 1)
            .ok_or("bad year")?
            .checked_add_days(Days::new(rng.below(365) as u64))
            .ok_or("bad birth date")?;
        // Created over seven school years, at least three weeks ago.
        let age = 21 + rng.below(7 * 365);
        // Mostly used in the last four months (not before it was created); one account in
        // 500 never used, one in 400 not for over a year.
        let login = if i % 500 == 7 {
            String::new()
        } else if i % 400 == 3 && age > 400 {
            before(today, 366 + rng.below(age - 366))
        } else {
            before(today, rng.below(120.min(age)))
        };
        writeln!(
            a,
            "P{i};{user};{given};{family};{user}@schule.example;{role};{category};{origin};aktiv;{}a;{};{};{login}\r",
            5 + i % 8,
            born.format("%d.%m.%Y"),
            before(today, age),
        )?;
        if i % 211 != 0 {
            let by = if teacher {
                "selbst"
            } else {
                "Erziehungsberechtigte"
            };
            // Signed on a day of the last five years, on a form of its own.
            let signed = before(today, 1 + rng.below(5 * 365));
            writeln!(c, "P{i};videokonferenz;{by};{signed};VK-{i:07}\r")?;
        }
    }
    a.flush()?;
    c.flush()?;
    Ok(())
}
