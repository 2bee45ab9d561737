//! The crate's one error type.

/// Why a file was refused as a whole. Every message starts with `file:line: field:` (or
/// `file:` where no line applies), so a user can go straight to the fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The input is larger than one of the named limits (`FILE_BYTES_MAX`, `ROWS_MAX`, ...).
    #[error("{file}{}: {what}: exceeds {limit} ({found} > {max})", at(.line))]
    Limit {
        file: String,
        line: Option<u64>,
        what: String,
        limit: &'static str,
        max: u64,
        found: u64,
    },
    /// The file is empty or holds only blank lines, so there is no header to read.
    #[error("{file}:1: header: no header row (the file is empty or blank)")]
    Empty { file: String },
    /// No format was forced and the header matches none of the known formats.
    #[error("{file}:{line}: header: not a known format ({why})")]
    UnknownFormat { file: String, line: u64, why: String },
    /// The header lacks a column that the format cannot do without.
    #[error("{file}:{line}: header: missing column `{column}` required by {format}")]
    MissingColumn {
        file: String,
        line: u64,
        column: &'static str,
        format: &'static str,
    },
    /// A GeoJSON document that is not JSON, or not a Feature or FeatureCollection.
    #[error("{file}: geojson: {why}")]
    Document { file: String, why: String },
    /// A JSON document (patrol reports, coverage gaps) that cannot be read: not JSON, a
    /// bad report or post header, a bad restriction or gap, or a limit exceeded inside
    /// it. `field` is the path to the value at fault, such as
    /// `reports[0].posts[1].start`.
    #[error("{file}:{line}: {field}: {why}")]
    Invalid {
        file: String,
        line: u64,
        field: String,
        why: String,
    },
    /// A bad row with `strict` set: the whole file is refused and nothing is returned.
    #[error("{file}:{line}: {field}: {why} (strict mode: file refused)")]
    Row {
        file: String,
        line: u64,
        field: String,
        why: String,
    },
}

fn at(line: &Option<u64>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

/// A bad row: the field at fault, a short fixed reason (the key of the summary's
/// rejection counts) and the detail shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowError {
    pub field: String,
    pub reason: &'static str,
    pub detail: String,
    /// The field's name in the summary's rejection counts, when it differs from
    /// `field` (a patrol event's `reports[0].posts[1].events[2].bearing` is counted as
    /// `events[].bearing`).
    pub key: Option<String>,
}

impl RowError {
    pub fn new(field: &str, reason: &'static str, detail: impl Into<String>) -> Self {
        RowError {
            field: field.to_string(),
            reason,
            detail: detail.into(),
            key: None,
        }
    }
}
