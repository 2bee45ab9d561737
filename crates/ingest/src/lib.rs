//! Readers that turn real monitoring feeds into observation records.
//!
//! [`read`] takes a file's name and bytes and returns its observations as Arrow batches
//! (in [`truce_model::observations_schema`]) with a [`FileSummary`] of what was read,
//! kept and refused. The formats are NASA FIRMS CSV (full VIIRS/MODIS and the
//! `LATITUDE,LONGITUDE,ACQ_DATE` variant), UCDP GED CSV, ACLED CSV, GeoJSON points and
//! monitors' patrol reports (`truce-patrol/1` JSON, [`patrol`]); the header (or a
//! leading `{`, and for patrol reports their `"format"` member) tells them apart, or the
//! caller forces one with [`ReadOptions::format`].
//!
//! Patrol reports also state coverage gaps (restrictions of movement, cameras offline):
//! [`read_with_gaps`] and [`read_patrol`] return them beside the observations, and
//! [`gaps`] reads and writes them as JSON lines ([`read_gaps`], [`write_gaps`]).
//!
//! Real feeds are messy, and that is normal here: mixed date notations in one file (see
//! [`time`]), UTF-8 or Windows-1252 text, byte-order marks, CRLF, blank lines, stray
//! spaces, semicolon delimiters. A bad row is reported as `file:line: field: why` and
//! skipped and counted, or, with [`ReadOptions::strict`], the whole file is refused and
//! nothing is returned. No input makes a reader panic, and every input is bounded by a
//! named limit ([`FILE_BYTES_MAX`], [`ROWS_MAX`], [`FIELD_BYTES_MAX`], [`FIELDS_MAX`],
//! [`GEOJSON_BYTES_MAX`], [`GEOJSON_FEATURES_MAX`], [`PATROL_BYTES_MAX`] and the other
//! `PATROL_*` limits in [`patrol`], [`GAPS_BYTES_MAX`], [`GAPS_MAX`]).
//!
//! The core is pure: it never touches the disk or the clock. Each observation's
//! provenance is the SHA-256 of the original bytes and its line (1-based, counting the
//! header; for GeoJSON the 1-based feature index; for patrol reports the 1-based row
//! index of the event or sighting), and its id is
//! [`truce_model::observation_id`] of the two.
//!
//! How each source's fields become an observation's time, place and kind is documented
//! with its reader: [`firms`], [`ucdp`], [`acled`], [`points`], [`patrol`].
//!
//! ```
//! use truce_ingest::{read, Format, ReadOptions};
//! use truce_model::{observations_from_batch, ObservationKind, TimePrecision};
//!
//! let csv = "LATITUDE,LONGITUDE,ACQ_DATE\r\n\
//!            47.1005,37.6171,2022-01-01\r\n\
//!            \r\n\
//!            91.0,37.5,2022-01-01\r\n\
//!            47.16526,37.557426,01.02.2022\r\n";
//! let got = read("fires.csv", csv.as_bytes(), &ReadOptions::default()).unwrap();
//! let s = &got.summary;
//! assert_eq!((s.format, s.rows_read, s.rows_kept), (Format::Firms, 3, 2));
//! assert_eq!(s.messages, ["fires.csv:4: LATITUDE: 91 is outside [-90, 90]"]);
//!
//! let obs = observations_from_batch(&got.batches[0]).unwrap();
//! assert_eq!(obs[1].kind, ObservationKind::Fire);
//! assert_eq!(obs[1].time.precision, TimePrecision::Day);
//! assert_eq!(obs[1].time.start.to_rfc3339(), "2022-02-01T00:00:00+00:00");
//! assert_eq!(obs[1].provenance.line, 5);
//!
//! // The same file with `strict`: refused as a whole.
//! let strict = ReadOptions { strict: true, ..ReadOptions::default() };
//! let err = read("fires.csv", csv.as_bytes(), &strict).unwrap_err();
//! assert!(err.to_string().starts_with("fires.csv:4: LATITUDE: 91 is outside"));
//! ```

pub mod acled;
mod error;
mod fields;
pub mod firms;
pub mod gaps;
pub mod patrol;
pub mod points;
mod table;
pub mod time;
pub mod ucdp;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::str::FromStr;

use arrow_array::RecordBatch;
use chrono::{TimeZone, Utc};
use sha2::{Digest, Sha256};
use truce_model::{
    Observation, ObservationBatchBuilder, ObservationKind, Provenance, SourceKind, TimePrecision, TimeSpan,
};

pub use error::IngestError;
use error::RowError;
pub use gaps::{read_gaps, write_gaps, GAPS_BYTES_MAX, GAPS_MAX};
pub use patrol::{PatrolIngested, PATROL_BYTES_MAX};
pub use time::{parse_time, ParsedTime};

/// Largest input file, in bytes (4 GiB).
pub const FILE_BYTES_MAX: u64 = 4 << 30;
/// Largest GeoJSON document, in bytes (512 MiB): GeoJSON is parsed whole, and its tree
/// takes several times the text in memory.
pub const GEOJSON_BYTES_MAX: u64 = 512 << 20;
/// Most data rows (or GeoJSON features) in one file.
pub const ROWS_MAX: u64 = 50_000_000;
/// Longest CSV field, in bytes (64 KiB; the longest in the shared UCDP file is 1,001).
pub const FIELD_BYTES_MAX: usize = 64 << 10;
/// Most fields in one CSV row (the widest real format, UCDP GED, has 49).
pub const FIELDS_MAX: usize = 512;
/// Most features in one GeoJSON document.
pub const GEOJSON_FEATURES_MAX: usize = 5_000_000;
/// How many rejection messages a summary keeps (the counts cover all of them).
pub const MESSAGES_MAX: usize = 20;
/// Most rows in one returned batch.
pub const BATCH_ROWS_MAX: usize = 1 << 20;
/// A batch is closed once its attribute text reaches this many bytes (256 MiB), so the
/// 32-bit offsets of Arrow string columns can never overflow.
pub const BATCH_BYTES_MAX: usize = 256 << 20;

/// The formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// NASA FIRMS CSV: the full VIIRS/MODIS format or the lat/lon/date variant.
    Firms,
    /// UCDP Georeferenced Event Dataset CSV.
    UcdpGed,
    /// ACLED CSV with its codebook columns.
    Acled,
    /// A GeoJSON FeatureCollection of Point features with a time property.
    GeoJson,
    /// Monitors' patrol reports (`truce-patrol/1` JSON; see [`patrol`]).
    Patrol,
}

impl Format {
    /// Every format, in declaration order.
    pub const ALL: &'static [Format] = &[
        Format::Firms,
        Format::UcdpGed,
        Format::Acled,
        Format::GeoJson,
        Format::Patrol,
    ];

    /// The stable name used on the command line and in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Firms => "firms",
            Format::UcdpGed => "ucdp_ged",
            Format::Acled => "acled",
            Format::GeoJson => "geojson",
            Format::Patrol => "patrol",
        }
    }

    /// The source kind of the observations this format yields.
    pub fn source(self) -> SourceKind {
        match self {
            Format::Firms => SourceKind::Firms,
            Format::UcdpGed => SourceKind::UcdpGed,
            Format::Acled => SourceKind::Acled,
            Format::GeoJson => SourceKind::GeoJson,
            Format::Patrol => SourceKind::Patrol,
        }
    }

    /// The format a CSV header names, if any: FIRMS has `latitude`, `longitude` and
    /// `acq_date`; UCDP GED has `date_prec`, `where_prec` and `date_start`; ACLED has
    /// `event_id_cnty`, or `event_date` and `event_type`. Names are compared ignoring
    /// case and surrounding spaces.
    pub fn from_header<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<Format> {
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_ascii_lowercase()).collect();
        let has = |n: &str| names.iter().any(|x| x == n);
        if has("latitude") && has("longitude") && has("acq_date") {
            Some(Format::Firms)
        } else if has("date_prec") && has("where_prec") && has("date_start") {
            Some(Format::UcdpGed)
        } else if has("event_id_cnty") || (has("event_date") && has("event_type")) {
            Some(Format::Acled)
        } else {
            None
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL.iter().copied().find(|f| f.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
            format!("unknown format `{s}` (expected one of: {})", names.join(", "))
        })
    }
}

/// How to read a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Refuse the whole file at its first bad row, instead of skipping bad rows.
    pub strict: bool,
    /// Leave out rows identical to an earlier row (they are counted either way).
    pub drop_duplicates: bool,
    /// Read as this format instead of detecting it.
    pub format: Option<Format>,
}

/// What reading one file did. Always `rows_read = rows_kept + rejected (all reasons) +
/// duplicates_dropped`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// The file name as given to [`read`].
    pub name: String,
    /// SHA-256 of the original bytes, lower-case hex.
    pub sha256: String,
    pub format: Format,
    /// How the bytes were decoded: `UTF-8`, `UTF-8 (BOM)`, `UTF-16LE (BOM)`,
    /// `UTF-16BE (BOM)` or `windows-1252 (not valid UTF-8)`.
    pub encoding: &'static str,
    /// Data rows (GeoJSON: features; patrol reports: events and weapon sightings) seen.
    /// Blank lines, and rows whose fields are all blank, are not rows.
    pub rows_read: u64,
    /// Rows that became observations.
    pub rows_kept: u64,
    /// Rows identical to an earlier row of the file (same fields, byte for byte; GeoJSON:
    /// the same feature).
    pub duplicates: u64,
    /// Of those, how many were left out ([`ReadOptions::drop_duplicates`]).
    pub duplicates_dropped: u64,
    /// Rejected rows by reason, `field: reason`.
    pub rejected: BTreeMap<String, u64>,
    /// The first [`MESSAGES_MAX`] rejections, as `file:line: field: why`.
    pub messages: Vec<String>,
}

impl FileSummary {
    /// All rejected rows, whatever the reason.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

impl fmt::Display for FileSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({}), sha256 {}: {} rows read, {} kept, {} rejected, {} duplicates",
            self.name,
            self.format,
            self.encoding,
            &self.sha256[..16.min(self.sha256.len())],
            self.rows_read,
            self.rows_kept,
            self.rejected_total(),
            self.duplicates
        )?;
        if self.duplicates_dropped > 0 {
            write!(f, " ({} dropped)", self.duplicates_dropped)?;
        }
        for (reason, n) in &self.rejected {
            write!(f, "\n  rejected {n}: {reason}")?;
        }
        for m in &self.messages {
            write!(f, "\n  {m}")?;
        }
        Ok(())
    }
}

/// A file's observations and its summary.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// The observations in file order, in batches of at most [`BATCH_ROWS_MAX`] rows;
    /// empty when no row was kept.
    pub batches: Vec<RecordBatch>,
    pub summary: FileSummary,
}

impl Ingested {
    /// How many observations the batches hold.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// Reads one file: `name` is used in messages only, `bytes` are its whole content.
/// A patrol-report file's coverage gaps are left out; [`read_with_gaps`] keeps them.
pub fn read(name: &str, bytes: &[u8], opts: &ReadOptions) -> Result<Ingested, IngestError> {
    read_with_gaps(name, bytes, opts).map(|p| p.ingested)
}

/// Reads one file as [`read`] does, and also returns the coverage gaps that a
/// patrol-report file states (restrictions of movement, explicit gaps); other formats
/// have none.
pub fn read_with_gaps(name: &str, bytes: &[u8], opts: &ReadOptions) -> Result<PatrolIngested, IngestError> {
    if bytes.len() as u64 > FILE_BYTES_MAX {
        return Err(IngestError::Limit {
            file: name.to_string(),
            line: None,
            what: "file size".into(),
            limit: "FILE_BYTES_MAX",
            max: FILE_BYTES_MAX,
            found: bytes.len() as u64,
        });
    }
    let sha256 = hex::encode(Sha256::digest(bytes));
    let (text, encoding) = decode(bytes);
    let format = opts.format.or_else(|| json_format(&text));
    // The CSV driver sets the format once it has read the header.
    // A GeoJSON feature takes several times the bytes of a CSV row, a patrol event more.
    let size = match format {
        Some(Format::GeoJson) => text.len() / 8,
        Some(Format::Patrol) => text.len() / 16,
        _ => text.len(),
    };
    let sink = Sink::with_size(name, sha256, format.unwrap_or(Format::Firms), encoding, opts, size);
    let no_gaps = |ingested| PatrolIngested { ingested, gaps: Vec::new() };
    match format {
        Some(Format::GeoJson) => points::read(&text, sink).map(no_gaps),
        Some(Format::Patrol) => patrol::read(&text, sink),
        _ => table::read(&text, format, sink).map(no_gaps),
    }
}

/// Reads a patrol-report file (whatever [`ReadOptions::format`] says): its observations
/// and its coverage gaps. See [`patrol`] for the format.
pub fn read_patrol(name: &str, bytes: &[u8], opts: &ReadOptions) -> Result<PatrolIngested, IngestError> {
    let opts = ReadOptions { format: Some(Format::Patrol), ..*opts };
    read_with_gaps(name, bytes, &opts)
}

/// The format [`read`] would detect for `bytes`, if any.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let (text, _) = decode(bytes);
    if let Some(f) = json_format(&text) {
        return Some(f);
    }
    table::header_format(&text)
}

/// For a JSON object: patrol reports when it names their format
/// ([`patrol::PATROL_DETECT_BYTES`]), GeoJSON otherwise.
fn json_format(text: &str) -> Option<Format> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    Some(if patrol::looks_like_patrol(text) {
        Format::Patrol
    } else {
        Format::GeoJson
    })
}

/// Decodes the input: a byte-order mark decides; otherwise UTF-8 when the bytes are valid
/// UTF-8, and Windows-1252 (the usual encoding of CSVs saved by Excel on Windows) when
/// they are not. Windows-1252 decoding cannot fail, so no input is refused for its
/// encoding; the summary says which was used.
fn decode(bytes: &[u8]) -> (Cow<'_, str>, &'static str) {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let rest = &bytes[bom..];
        if enc == encoding_rs::UTF_8 {
            if let Ok(s) = std::str::from_utf8(rest) {
                return (Cow::Borrowed(s), "UTF-8 (BOM)");
            }
            let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(rest);
            return (s, "windows-1252 (not valid UTF-8)");
        }
        let (s, _) = enc.decode_without_bom_handling(rest);
        let name = if enc == encoding_rs::UTF_16LE {
            "UTF-16LE (BOM)"
        } else {
            "UTF-16BE (BOM)"
        };
        return (s, name);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), "UTF-8"),
        Err(_) => (
            encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
            "windows-1252 (not valid UTF-8)",
        ),
    }
}

/// A set of 128-bit row hashes; the hashes are already uniform, so the set's own
/// hasher just folds them.
type RowHashes = HashSet<u128, BuildHasherDefault<FoldHasher>>;

#[derive(Default)]
struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}

/// Hashes a row's raw content into 128 bits: two 64-bit multiply-rotate lanes with
/// different constants, each step a bijection of the state, finished with MurmurHash3's
/// avalanche. Rows are not adversarial here (a collision would only make two distinct
/// rows count as duplicates), so a fast non-cryptographic hash is enough; with 128
/// bits an accidental collision among a file's rows (about n²/2¹²⁹) does not happen in
/// practice. The constants are fixed, so results never vary between runs.
pub(crate) struct RowHasher {
    a: u64,
    b: u64,
    len: u64,
}

impl RowHasher {
    const K1: u64 = 0x9e37_79b9_7f4a_7c15;
    const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;

    pub fn new() -> Self {
        RowHasher {
            a: 0x243f_6a88_85a3_08d3,
            b: 0x1319_8a2e_0370_7344,
            len: 0,
        }
    }

    fn word(&mut self, w: u64) {
        self.a = (self.a ^ w).wrapping_mul(Self::K1).rotate_left(29);
        self.b = (self.b ^ w).wrapping_mul(Self::K2).rotate_left(31);
    }

    pub fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            // The length in the top byte keeps "a" and "a\0" apart.
            last[7] ^= rest.len() as u8;
            self.word(u64::from_le_bytes(last));
        }
        self.len = self.len.wrapping_add(bytes.len() as u64);
    }

    pub fn finish(&self) -> u128 {
        fn fmix(mut k: u64) -> u64 {
            k ^= k >> 33;
            k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
            k ^= k >> 33;
            k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
            k ^ (k >> 33)
        }
        let a = fmix(self.a ^ self.len);
        let b = fmix(self.b.wrapping_add(self.len.rotate_left(32)));
        (u128::from(a) << 64) | u128::from(b)
    }
}

impl std::io::Write for RowHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        RowHasher::write(self, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where the readers put rows: counts them, keeps or rejects them, and builds batches.
/// The readers fill `obs` (time, place, kind, attributes); the sink sets its id and
/// provenance. One `Observation` is reused for every row, so its strings are not
/// reallocated per row.
pub(crate) struct Sink<'o> {
    opts: &'o ReadOptions,
    pub obs: Observation,
    builder: ObservationBatchBuilder,
    batch_bytes: usize,
    batches: Vec<RecordBatch>,
    seen: RowHashes,
    summary: FileSummary,
}

impl<'o> Sink<'o> {
    /// A sink for a file of `bytes` bytes: room for its likely rows is reserved up front
    /// (a FIRMS lat/lon/date row is about 30 bytes), up to a million.
    fn with_size(
        name: &str,
        sha256: String,
        format: Format,
        encoding: &'static str,
        opts: &'o ReadOptions,
        bytes: usize,
    ) -> Self {
        let expected_rows = (bytes / 32).min(1 << 20);
        let epoch = Utc.timestamp_opt(0, 0).single().expect("the epoch exists");
        let obs = Observation {
            id: String::new(),
            source: format.source(),
            time: TimeSpan {
                start: epoch,
                end: epoch,
                precision: TimePrecision::Day,
            },
            lon: 0.0,
            lat: 0.0,
            uncertainty_m: 0.0,
            kind: ObservationKind::Other,
            attributes: String::new(),
            provenance: Provenance {
                file_sha256: sha256.clone(),
                line: 0,
            },
        };
        Sink {
            opts,
            obs,
            builder: ObservationBatchBuilder::default(),
            batch_bytes: 0,
            batches: Vec::new(),
            seen: RowHashes::with_capacity_and_hasher(expected_rows, Default::default()),
            summary: FileSummary {
                name: name.to_string(),
                sha256,
                format,
                encoding,
                rows_read: 0,
                rows_kept: 0,
                duplicates: 0,
                duplicates_dropped: 0,
                rejected: BTreeMap::new(),
                messages: Vec::new(),
            },
        }
    }

    pub fn file(&self) -> &str {
        &self.summary.name
    }

    pub fn set_format(&mut self, format: Format) {
        self.summary.format = format;
        self.obs.source = format.source();
    }

    /// Counts one more row, refusing the file past [`ROWS_MAX`].
    pub fn row(&mut self, line: u64) -> Result<(), IngestError> {
        self.summary.rows_read += 1;
        if self.summary.rows_read > ROWS_MAX {
            return Err(IngestError::Limit {
                file: self.summary.name.clone(),
                line: Some(line),
                what: "rows".into(),
                limit: "ROWS_MAX",
                max: ROWS_MAX,
                found: self.summary.rows_read,
            });
        }
        Ok(())
    }

    /// Records a row's content hash; true when the row repeats an earlier one and is to
    /// be dropped.
    pub fn duplicate(&mut self, hash: u128) -> bool {
        if self.seen.insert(hash) {
            return false;
        }
        self.summary.duplicates += 1;
        if self.opts.drop_duplicates {
            self.summary.duplicates_dropped += 1;
            return true;
        }
        false
    }

    /// Keeps `obs` as the observation of `line`.
    pub fn keep(&mut self, line: u64) {
        use std::fmt::Write;
        let sha = &self.obs.provenance.file_sha256;
        self.obs.id.clear();
        // Same text as `truce_model::observation_id`, written without a new allocation.
        let _ = write!(self.obs.id, "{}:{}", &sha[..16.min(sha.len())], line);
        self.obs.provenance.line = line;
        self.builder.push(&self.obs);
        self.summary.rows_kept += 1;
        self.batch_bytes += self.obs.attributes.len() + self.obs.id.len() + 128;
        if self.builder.len() >= BATCH_ROWS_MAX || self.batch_bytes >= BATCH_BYTES_MAX {
            self.batches.push(self.builder.finish());
            self.batch_bytes = 0;
        }
    }

    /// Rejects the row at `line`: counted and skipped, or, when strict, the file's error.
    pub fn reject(&mut self, line: u64, e: RowError) -> Result<(), IngestError> {
        if self.opts.strict {
            return Err(IngestError::Row {
                file: self.summary.name.clone(),
                line,
                field: e.field,
                why: e.detail,
            });
        }
        *self
            .summary
            .rejected
            .entry(format!("{}: {}", e.key.as_deref().unwrap_or(&e.field), e.reason))
            .or_insert(0) += 1;
        if self.summary.messages.len() < MESSAGES_MAX {
            self.summary
                .messages
                .push(format!("{}:{}: {}: {}", self.summary.name, line, e.field, e.detail));
        }
        Ok(())
    }

    fn finish(mut self) -> Ingested {
        if !self.builder.is_empty() {
            self.batches.push(self.builder.finish());
        }
        Ingested {
            batches: self.batches,
            summary: self.summary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>().unwrap(), *f);
        }
        assert!("csv"
            .parse::<Format>()
            .unwrap_err()
            .contains("firms, ucdp_ged, acled, geojson, patrol"));
    }

    #[test]
    fn detection() {
        fn check(input: &str, expected: Option<Format>) {
            assert_eq!(detect(input.as_bytes()), expected, "input {input:?}");
        }
        for (input, expected) in [
            ("latitude,longitude,bright_ti4,acq_date,acq_time\n", Some(Format::Firms)),
            (
                "\u{feff}LATITUDE,LONGITUDE,ACQ_DATE\r\n1,2,2022-01-01",
                Some(Format::Firms),
            ),
            ("\n\n Latitude ; Longitude ; Acq_Date \n", Some(Format::Firms)),
            (
                "id,date_prec,where_prec,date_start,date_end,latitude,longitude\n",
                Some(Format::UcdpGed),
            ),
            ("event_id_cnty,latitude\n", Some(Format::Acled)),
            ("EVENT_DATE,EVENT_TYPE\n", Some(Format::Acled)),
            ("event_date,latitude,longitude\n", None),
            ("  {\"type\":\"FeatureCollection\"}", Some(Format::GeoJson)),
            ("{\"format\": \"truce-patrol/1\", \"reports\": []}", Some(Format::Patrol)),
            ("\u{feff}{\n  \"format\":\"truce-patrol/2\"}", Some(Format::Patrol)),
            ("", None),
            ("\u{1}\u{2}", None),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn decoding() {
        fn check(input: &[u8], expected: (&str, &str)) {
            let (text, enc) = decode(input);
            assert_eq!((text.as_ref(), enc), expected, "input {input:?}");
        }
        check(b"abc", ("abc", "UTF-8"));
        check(b"\xef\xbb\xbfabc", ("abc", "UTF-8 (BOM)"));
        check(b"Mari\xe9 \x80", ("Marié €", "windows-1252 (not valid UTF-8)"));
        check(b"\xef\xbb\xbfMari\xe9", ("Marié", "windows-1252 (not valid UTF-8)"));
        check(b"\xff\xfea\x00b\x00", ("ab", "UTF-16LE (BOM)"));
        check(b"\xfe\xff\x00a", ("a", "UTF-16BE (BOM)"));
    }

    #[test]
    fn row_hashes_tell_rows_apart() {
        let hash = |parts: &[&[u8]]| {
            let mut h = RowHasher::new();
            for p in parts {
                h.write(p);
            }
            h.finish()
        };
        let inputs: Vec<Vec<&[u8]>> = vec![
            vec![],
            vec![b"a"],
            vec![b"a\0"],
            vec![b"\0a"],
            vec![b"abcdefgh"],
            vec![b"abcdefgh\0"],
            vec![b"abcd", b"efgh"],
            vec![b"47.1", b"\xff", b"37.6", b"\xff"],
            vec![b"47.13", b"\xff", b"7.6", b"\xff"],
        ];
        let mut seen = std::collections::HashSet::new();
        for i in &inputs {
            assert!(seen.insert(hash(i)), "collision for {i:?}");
        }
        // Every 2-byte input is distinct: 65,536 hashes, no collision.
        let mut all = std::collections::HashSet::new();
        for x in 0..=u16::MAX {
            assert!(all.insert(hash(&[&x.to_le_bytes()])));
        }
        assert_eq!(hash(&[b"same"]), hash(&[b"same"]));
    }

    #[test]
    fn id_matches_the_model() {
        let opts = ReadOptions::default();
        let sha = "ab".repeat(32);
        let mut sink = Sink::with_size("f", sha.clone(), Format::Firms, "UTF-8", &opts, 0);
        sink.keep(42);
        assert_eq!(sink.obs.id, truce_model::observation_id(&sha, 42));
    }
}
