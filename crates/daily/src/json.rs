//! The JSON edition: the report as data, in the schema `docs/report.schema.json`.

use sha2::{Digest, Sha256};

use crate::model::{DailyReport, SCHEMA};

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not JSON of the report's shape (line and column from serde_json).
    #[error("report JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The `schema` field names another schema or version.
    #[error("report JSON: schema is {found:?}, expected {SCHEMA:?}")]
    Schema {
        /// What the file says.
        found: String,
    },
}

/// The report as pretty JSON (two-space indent, fields in the model's order, a final
/// newline). The same report always gives the same bytes, which is what
/// [`report_sha256`] relies on.
pub fn to_json(report: &DailyReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a DailyReport always serialises");
    s.push('\n');
    s
}

/// Reads a report written by [`to_json`] (or any JSON of the same shape), refusing
/// another schema.
pub fn from_json(text: &str) -> Result<DailyReport, Error> {
    let report: DailyReport = serde_json::from_str(text)?;
    if report.schema != SCHEMA {
        return Err(Error::Schema { found: report.schema });
    }
    Ok(report)
}

/// SHA-256 (hex) of the report's [`to_json`] text with `log` set to null: what the
/// evidence-log entry of the report records. A reader verifies a report by reading it
/// with [`from_json`], computing this, and checking the inclusion proof in `log` for
/// the entry against the checkpoint (`docs/report.md`).
pub fn report_sha256(report: &DailyReport) -> String {
    let mut r = report.clone();
    r.log = None;
    hex::encode(Sha256::digest(to_json(&r).as_bytes()))
}
