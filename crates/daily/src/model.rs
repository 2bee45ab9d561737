//! The daily report's data: everything an edition shows, and nothing it has to compute.
//! Serialised as JSON (`schema` = [`SCHEMA`]); `docs/report.md` documents every field.
//! Times are RFC 3339 UTC strings; coordinates WGS 84 lon/lat degrees.

use serde::{Deserialize, Serialize};

/// The schema name and version written in every report.
pub const SCHEMA: &str = "truce-daily-report/1";

/// Which audience an edition is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edition {
    /// Everything: restricted sources and unverified incidents included.
    Internal,
    /// For the public: no restricted source, no unverified incident.
    Public,
}

/// The daily report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub edition: Edition,
    /// "Daily report of the ceasefire monitoring mechanism, 12 June 2022".
    pub title: String,
    pub agreement: AgreementRef,
    /// The 24 hours reported on, ending at the cut-off.
    pub period: Period,
    /// The 24 hours before, for comparison.
    pub previous: Period,
    /// The program and version that made it (`truce 0.1.0`).
    pub generated_by: String,
    /// Set when the agreement was replayed over past data ("ceasefire taken to start ...").
    pub replay: Option<String>,
    /// Headline sentences, most important first.
    pub summary: Vec<String>,
    /// Violations per region and type, this period against the previous one.
    pub by_region: Vec<RegionRow>,
    /// Violations per rule, this period against the previous one.
    pub by_rule: Vec<RuleRow>,
    /// The incidents of the period that broke a rule, latest first.
    pub incidents: Vec<IncidentRow>,
    /// Incidents that broke a rule before the period but first became known during it
    /// (a late report, a feed that caught up), latest first: no daily report listed them.
    #[serde(default)]
    pub late: Vec<IncidentRow>,
    /// The war-fire series by side, up to the period's end (None: not available; `notes` says why).
    pub warfires: Option<WarfireSeries>,
    /// What the map shows.
    pub map: MapData,
    /// Periods and areas in which a source could not see, overlapping the period.
    pub gaps: Vec<GapRow>,
    /// The obligations board at the cut-off.
    pub obligations: Vec<ObligationRow>,
    /// Pledges against deliveries (None: the agreement has no registry).
    pub pledges: Option<PledgesSummary>,
    /// Force generation toward the target (None: the agreement has no `[forces]`).
    pub forces: Option<ForcesStatus>,
    /// The evidence-log record of this report (None: no log, or not yet appended).
    pub log: Option<LogRef>,
    /// Anything the reader should know: data missing, detectors not run, limits hit.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementRef {
    pub id: String,
    pub title: String,
    pub version: String,
    pub sha256: String,
    pub ceasefire_start: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Period {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionRow {
    /// "Donetsk Oblast", or "outside the country" / "unknown".
    pub region: String,
    /// ISO 3166-2 code, when known.
    pub code: Option<String>,
    /// Violating incidents per kind (`shelling`, `fire`, ...) this period.
    pub by_kind: Vec<(String, u32)>,
    pub total: u32,
    pub previous_total: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRow {
    pub rule: String,
    pub title: String,
    pub severity: u8,
    pub count: u32,
    pub previous: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRow {
    pub id: String,
    pub start: String,
    pub end: String,
    pub kinds: Vec<String>,
    /// Distinct independent sources.
    pub sources: Vec<String>,
    /// `single_source`, `corroborated` or `verified`.
    pub confidence: String,
    pub lon: f64,
    pub lat: f64,
    pub uncertainty_m: f64,
    /// "4.2 km W of the contact line, on held ground, Donetsk Oblast (UA-14)".
    pub place: String,
    pub side: String,
    pub distance_km: Option<f64>,
    pub region: Option<String>,
    /// The rules it broke.
    pub rules: Vec<String>,
    /// Members observed.
    pub observations: u32,
    /// At least one member came from a restricted source: the public edition leaves the
    /// incident out (absent in older files: not restricted).
    #[serde(default)]
    pub restricted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarfireSeries {
    /// One row per day, oldest first.
    pub days: Vec<WarfireDay>,
    /// How the series was made (method, baseline years).
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarfireDay {
    /// `YYYY-MM-DD`
    pub date: String,
    /// War-related fires on ground held by the defended party / occupied.
    pub held: u32,
    pub occupied: u32,
}

/// Geometry for the map, already simplified for drawing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapData {
    /// [min_lon, min_lat, max_lon, max_lat] to show.
    pub bbox: [f64; 4],
    /// The country's outline: rings of [lon, lat].
    pub outline: Vec<Vec<[f64; 2]>>,
    /// Occupied ground at the period's end: polygons as rings (first ring exterior).
    pub occupied: Vec<Vec<Vec<[f64; 2]>>>,
    /// The contact line: polylines.
    pub contact_line: Vec<Vec<[f64; 2]>>,
    /// Fixed-area zones (deterrent areas ...) by name: polygons as rings.
    pub zones: Vec<MapZone>,
    /// The date of the control map drawn.
    pub line_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapZone {
    pub name: String,
    pub polygons: Vec<Vec<Vec<[f64; 2]>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapRow {
    pub source: String,
    pub reason: String,
    pub start: String,
    pub end: String,
    /// "everywhere", "within 10 km of 48.10 N 37.80 E", "box ...".
    pub area: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObligationRow {
    pub id: String,
    pub clause: String,
    pub title: String,
    pub party: String,
    pub action: String,
    pub triggered: String,
    pub deadline: String,
    /// `pending`, `fulfilled`, `breached` or `withdrawn`.
    pub status: String,
    /// The condition in words and the incidents it rested on.
    pub because: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PledgesSummary {
    /// The currency of the figures, e.g. "EUR", in millions.
    pub currency: String,
    pub committed_m: f64,
    pub allocated_m: f64,
    pub delivered_m: f64,
    /// Per donor, largest commitment first.
    pub donors: Vec<DonorRow>,
    pub anomalies: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DonorRow {
    pub donor: String,
    pub committed_m: f64,
    pub delivered_m: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForcesStatus {
    pub target: u64,
    /// Month (`YYYY-MM`) the median run reaches the target, or None: not within the horizon.
    pub median_month: Option<String>,
    pub p10_month: Option<String>,
    pub p90_month: Option<String>,
    /// `recruitment`, `training_capacity` or `attrition`.
    pub binding: String,
    pub runs: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRef {
    /// The log's origin line.
    pub origin: String,
    /// Index of the report's entry.
    pub index: u64,
    /// The signed checkpoint (note text) the proof is against.
    pub checkpoint: String,
    pub tree_size: u64,
    /// Base64 hashes of the inclusion proof, leaf to root.
    pub inclusion_proof: Vec<String>,
    /// SHA-256 (hex) of the report's JSON with `log` set to null: what the entry records.
    pub report_sha256: String,
}
