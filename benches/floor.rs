//! The floor for `konform check` on a large account list: read the same file with the same CSV
//! reader and apply one compiled regex (the generic-name pattern) to the username column.
//! Nothing can check the file faster than it can be read; `benches/run.sh` reports konform's
//! time as a multiple of this one.
//!
//! ```sh
//! cargo run --release --example floor -- /tmp/bench-1m/accounts.csv
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: floor ACCOUNTS.csv")?;
    let started = std::time::Instant::now();
    let pattern = regex::RegexBuilder::new(
        "^(lehrer|lehrerin|teacher|schueler|student|klasse|ipad|test|admin|gast|user)([-_.]?[0-9]+[a-z]?)?$",
    )
    .case_insensitive(true)
    .build()?;
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_path(&path)?;
    let column = reader
        .headers()?
        .iter()
        .position(|h| h == "Benutzername")
        .ok_or("no Benutzername column")?;
    let (mut rows, mut hits) = (0usize, 0usize);
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record)? {
        rows += 1;
        if let Some(user) = record.get(column).and_then(|u| std::str::from_utf8(u).ok())
            && pattern.is_match(user)
        {
            hits += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let stdout = std::io::stdout();
    std::io::Write::write_all(
        &mut stdout.lock(),
        format!("{rows} rows, {hits} generic usernames in {secs:.3}s\n").as_bytes(),
    )?;
    Ok(())
}
