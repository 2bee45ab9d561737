//! The daily monitoring report, in the manner of the OSCE Special Monitoring Mission's
//! daily reports: the period, violations by region and type against the previous period,
//! each incident placed relative to the line and a named region, the war-fire series, a
//! map, coverage gaps, the obligations board, the pledges summary, the force-generation
//! status and the evidence-log record of the report itself.
//!
//! [`DailyReport`] is the data (JSON, schema [`SCHEMA`], described by
//! `docs/report.schema.json`); the editions render it, each a pure function of the
//! report (no disk, no clock):
//!
//! - [`to_json`] / [`from_json`]: the data itself; [`report_sha256`] is what the
//!   evidence log records for it.
//! - [`to_markdown`]: prose and tables, with `map.svg` and `warfires.svg` beside it.
//! - [`to_html`]: one self-contained file (inline CSS and SVG, no script, no URL).
//! - [`to_pdf`]: A4, standard Helvetica, selectable text, vector map.
//! - [`map_svg`], [`warfire_svg`]: the two figures.
//! - [`public_edition`]: the report without unverified incidents or restricted sources.
//!
//! ```
//! use truce_daily::{from_json, public_edition, to_html, to_json, to_markdown, to_pdf};
//! let text = include_str!("../tests/fixtures/report.json");
//! let report = from_json(text).unwrap();
//! let public = public_edition(&report);
//! assert!(public.incidents.iter().all(|i| i.confidence == "verified" && !i.restricted));
//! assert!(to_markdown(&public).starts_with("# "));
//! assert!(to_html(&report).starts_with("<!DOCTYPE html>"));
//! assert!(to_pdf(&report).starts_with(b"%PDF-"));
//! assert_eq!(from_json(&to_json(&report)).unwrap(), report);
//! ```
//!
//! The editions say the same things in the same order because they are written from
//! one list of blocks (headings, paragraphs, tables, figures) made from the report; the
//! map and chart are one drawing ([`scene::Scene`]) written as SVG or as PDF paths.

mod chart;
mod doc;
mod html;
mod json;
mod map;
mod markdown;
pub mod model;
mod pdf;
mod public;
pub mod scene;
mod text;

pub use chart::{warfire_scene, warfire_svg};
pub use html::to_html;
pub use json::{from_json, report_sha256, to_json, Error};
pub use map::{confidence_colour, incident_label, map_scene, map_svg, INCIDENT_RADIUS_PX_MIN, MAP_HEIGHT_PX_MAX, MAP_WIDTH_PX};
pub use markdown::to_markdown;
pub use model::*;
pub use pdf::{to_pdf, PDF_INCIDENTS_MAX};
pub use public::public_edition;
