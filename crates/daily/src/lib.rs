//! The daily monitoring report, in the manner of the OSCE Special Monitoring Mission's
//! daily reports: the period, violations by region and type against the previous period,
//! each incident placed relative to the line and a named region, the war-fire series, a
//! map, coverage gaps, the obligations board, the pledges summary, the force-generation
//! status and the evidence-log record of the report itself.
//!
//! [`DailyReport`] is the data (JSON, schema [`SCHEMA`]); the editions render it.

pub mod model;

pub use model::*;
