//! Coverage gaps as JSON lines (`.gaps.jsonl`): one [`CoverageGap`] per line, as
//! [`truce_model::CoverageGap`]'s serde form writes it:
//!
//! ```text
//! {"source":"patrol","reason":"denied_access","start":"2019-07-12T08:10:00Z","end":"2019-07-12T16:00:00Z","precision":"day","area":{"type":"circle","lon":37.9,"lat":47.1,"radius_km":10.0},"note":"...","file_sha256":"...","line":57}
//! ```
//!
//! [`read_gaps`] checks every line as the patrol reader checks its gaps (start before
//! end, a window of at most [`PATROL_WINDOW_DAYS_MAX`] days, coordinates in range, a
//! circle's radius in (0, [`GAP_RADIUS_KM_MAX`](crate::patrol::GAP_RADIUS_KM_MAX)], a box ordered, a note of at most
//! [`PATROL_NOTE_CHARS_MAX`] characters, `file_sha256` empty or 64 hex digits) and
//! refuses the whole file at the first bad line, `gaps.jsonl:3: area.radius_km: -1 is
//! outside (0, 500]`: a gap is never dropped, since a dropped gap would read as calm.
//! A gap without provenance (`file_sha256` and `line` left out) gets the gaps file's
//! own hash and line. Blank lines are skipped.
//!
//! ```
//! use truce_ingest::{read_gaps, write_gaps};
//! let text = r#"{"source":"patrol","reason":"sensor_outage","start":"2019-07-12T00:00:00Z","end":"2019-07-13T00:00:00Z","area":{"type":"everywhere"}}"#;
//! let gaps = read_gaps("gaps.jsonl", text.as_bytes()).unwrap();
//! assert_eq!(gaps[0].provenance.line, 1);
//! assert_eq!(read_gaps("again.jsonl", write_gaps(&gaps).as_bytes()).unwrap(), gaps);
//!
//! let bad = text.replace("2019-07-13", "2019-07-11");
//! let err = read_gaps("gaps.jsonl", bad.as_bytes()).unwrap_err().to_string();
//! assert_eq!(err, "gaps.jsonl:1: end: 2019-07-11T00:00:00Z is not after start 2019-07-12T00:00:00Z");
//! ```

use sha2::{Digest, Sha256};
use truce_model::CoverageGap;

use crate::patrol::{check_area, PATROL_NOTE_CHARS_MAX, PATROL_WINDOW_DAYS_MAX};
use crate::IngestError;

/// Largest gaps file, in bytes (64 MiB).
pub const GAPS_BYTES_MAX: u64 = 64 << 20;
/// Most gaps (non-blank lines) in one gaps file.
pub const GAPS_MAX: u64 = 1_000_000;

/// Reads a JSON-lines file of coverage gaps, checking every line; the first bad line
/// refuses the file.
pub fn read_gaps(name: &str, bytes: &[u8]) -> Result<Vec<CoverageGap>, IngestError> {
    if bytes.len() as u64 > GAPS_BYTES_MAX {
        return Err(IngestError::Limit {
            file: name.to_string(),
            line: None,
            what: "gaps file size".into(),
            limit: "GAPS_BYTES_MAX",
            max: GAPS_BYTES_MAX,
            found: bytes.len() as u64,
        });
    }
    let sha = hex::encode(Sha256::digest(bytes));
    let (text, _) = crate::decode(bytes);
    let invalid = |line: u64, field: String, why: String| IngestError::Invalid {
        file: name.to_string(),
        line,
        field,
        why,
    };
    let mut gaps = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if l.trim().is_empty() {
            continue;
        }
        if gaps.len() as u64 >= GAPS_MAX {
            return Err(IngestError::Limit {
                file: name.to_string(),
                line: Some(line),
                what: "gaps".into(),
                limit: "GAPS_MAX",
                max: GAPS_MAX,
                found: gaps.len() as u64 + 1,
            });
        }
        let mut de = serde_json::Deserializer::from_str(l);
        let mut gap: CoverageGap = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let f = crate::patrol::fault(e, "", line);
            invalid(line, f.field, f.detail)
        })?;
        de.end().map_err(|e| {
            invalid(
                line,
                "document".into(),
                format!(
                    "trailing characters after the gap (column {}): one gap per line",
                    e.column()
                ),
            )
        })?;
        check(&gap).map_err(|(field, why)| invalid(line, field, why))?;
        if gap.provenance.file_sha256.is_empty() {
            gap.provenance.file_sha256 = sha.clone();
            gap.provenance.line = line;
        }
        gaps.push(gap);
    }
    Ok(gaps)
}

/// Checks one gap's values; on error the field and why.
fn check(g: &CoverageGap) -> Result<(), (String, String)> {
    let (s, e) = (g.time.start, g.time.end);
    let rfc = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    if e <= s {
        return Err(("end".into(), format!("{} is not after start {}", rfc(e), rfc(s))));
    }
    if e - s > chrono::Duration::days(PATROL_WINDOW_DAYS_MAX) {
        return Err((
            "end".into(),
            format!(
                "the window from {} to {} is longer than PATROL_WINDOW_DAYS_MAX ({PATROL_WINDOW_DAYS_MAX} days)",
                rfc(s),
                rfc(e)
            ),
        ));
    }
    check_area(&g.area).map_err(|(f, _, why)| (format!("area.{f}"), why))?;
    let n = g.note.chars().count();
    if n > PATROL_NOTE_CHARS_MAX {
        return Err((
            "note".into(),
            format!("exceeds PATROL_NOTE_CHARS_MAX ({n} > {PATROL_NOTE_CHARS_MAX} characters)"),
        ));
    }
    let sha = &g.provenance.file_sha256;
    let hex64 = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
    if !sha.is_empty() && !hex64 {
        return Err(("file_sha256".into(), "not 64 hexadecimal digits".into()));
    }
    Ok(())
}

/// Writes gaps as JSON lines (each line ends with `\n`), as [`read_gaps`] reads them.
pub fn write_gaps(gaps: &[CoverageGap]) -> String {
    let mut out = String::new();
    for g in gaps {
        // Enums, strings and numbers: serializing cannot fail (serde_json writes
        // non-finite numbers as null, which read_gaps then refuses).
        if let Ok(s) = serde_json::to_string(g) {
            out.push_str(&s);
            out.push('\n');
        }
    }
    out
}
