//! The agreement file: who the parties are, when the ceasefire starts, where the line
//! is, which zones derive from it, which rules make an incident a violation, and which
//! clauses turn violations into obligations ("when CONDITION then PARTY must ACTION
//! within DURATION lest CONSEQUENCE").
//!
//! The file is TOML (see `docs/agreement.md` for every key and `examples/` for the
//! Berlin 2025 framework and Minsk II). [`Agreement::parse`] reads and validates it
//! whole: unknown keys, wrong types, bad durations, unknown party, zone, rule or clause
//! names, and cycles between clauses are refused with the file, line and key at fault.
//! Parsing is pure: paths in the file stay as written ([`Agreement::path`] resolves
//! them against the file's folder) and nothing reads the disk or the clock.
//!
//! ```
//! let text = r#"
//! [agreement]
//! id = "tiny"
//! title = "A tiny agreement"
//! version = "1"
//! ceasefire_start = 2026-01-20T00:00:00+02:00
//!
//! [[parties]]
//! id = "A"
//! roles = ["defended"]
//! [[parties]]
//! id = "G"
//! roles = ["guarantor"]
//!
//! [[zones]]
//! name = "buffer"
//! band = { side = "either", max_km = 15 }
//!
//! [[rules]]
//! id = "fire-in-buffer"
//! kinds = ["shelling", "explosion"]
//! zones = ["buffer"]
//! severity = 2
//!
//! [[clauses]]
//! id = "consult"
//! when = { violations = { count = 3, window = "24h" } }
//! then = [{ party = "guarantors", action = "consult", within = "24h" }]
//! "#;
//! let a = truce_agreement::Agreement::parse("tiny.toml", text).unwrap();
//! assert_eq!(a.ceasefire_start.to_rfc3339(), "2026-01-19T22:00:00+00:00");
//! assert_eq!(a.clauses[0].duties[0].parties, ["G"]);
//!
//! let err = truce_agreement::Agreement::parse("tiny.toml", &text.replace("\"guarantors\"", "\"guarantorz\"")).unwrap_err();
//! assert!(err.to_string().starts_with("tiny.toml:28: clauses[0].then[0].party: unknown party or group `guarantorz`"), "{err}");
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;
pub use truce_model::{Confidence, ObservationKind, Side};

/// Largest agreement file, in bytes.
pub const AGREEMENT_BYTES_MAX: usize = 1 << 20;
/// Most parties in one agreement.
pub const PARTIES_MAX: usize = 64;
/// Most zones (the classifier keeps zone membership in a 64-bit mask).
pub const ZONES_MAX: usize = 64;
/// Most violation rules.
pub const RULES_MAX: usize = 256;
/// Most clauses.
pub const CLAUSES_MAX: usize = 256;
/// Deepest nesting of `any` / `all` in a clause's condition.
pub const CONDITION_DEPTH_MAX: usize = 8;
/// Longest duration anywhere in the file (a window or a deadline): ten years.
pub const DURATION_MAX: chrono::Duration = chrono::Duration::days(3653);
/// Longest identifier (party, zone, rule, clause).
pub const ID_BYTES_MAX: usize = 128;

/// Why an agreement file was refused.
#[derive(Debug, thiserror::Error)]
pub enum AgreementError {
    /// The TOML does not parse or does not have the agreement's shape.
    #[error("{file}:{line}: {why}")]
    Syntax { file: String, line: usize, why: String },
    /// A value is well-formed but wrong (an unknown name, a bad range, a cycle).
    #[error("{file}:{line}: {key}: {why}")]
    Invalid { file: String, line: usize, key: String, why: String },
    /// The file is larger than [`AGREEMENT_BYTES_MAX`] or holds more items than a limit.
    #[error("{file}: {why}")]
    Limit { file: String, why: String },
}

/// A party's role in the agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The state whose security is guaranteed.
    Defended,
    /// A state committed to act if the defended state is attacked.
    Guarantor,
    /// The party the ceasefire restrains.
    Adversary,
    /// The monitoring mechanism.
    Monitor,
}

impl Role {
    /// The name of the group of all parties with this role (`guarantors`, ...).
    pub fn group(self) -> &'static str {
        match self {
            Role::Defended => "defended",
            Role::Guarantor => "guarantors",
            Role::Adversary => "adversaries",
            Role::Monitor => "monitors",
        }
    }
}

/// One party.
#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    pub id: String,
    pub name: String,
    pub roles: Vec<Role>,
}

/// Where the line comes from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GeometrySpec {
    /// Folders or files of dated control snapshots (DeepState layers, occupied-only
    /// files, or GeoJSON with a `status`), as written in the file.
    pub control: Vec<String>,
    /// Occupied-area files with the instant each is in force from (a fixed line).
    pub occupied: Vec<(String, DateTime<Utc>)>,
    /// The country's first-level regions (GeoJSON), for outline, border and region names.
    pub admin: Option<String>,
    /// Extend the earliest snapshot back to this date from its dated liberated layers.
    pub backcast_from: Option<NaiveDate>,
}

/// Which side of the line a band zone lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandSide {
    Held,
    Occupied,
    Either,
}

/// A zone's shape.
#[derive(Debug, Clone, PartialEq)]
pub enum ZoneShape {
    /// Distance to the line within `[min_km, max_km]` on `side`.
    Band { side: BandSide, min_km: f64, max_km: f64 },
    /// Polygons in a GeoJSON file (path as written).
    File(String),
    /// A longitude/latitude box.
    BBox([f64; 4]),
    /// The union of the country's first-level regions with these ISO 3166-2 codes.
    Regions(Vec<String>),
}

/// A named zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneSpec {
    pub name: String,
    pub shape: ZoneShape,
    /// The weapon class this zone is a withdrawal zone of (from `[[withdrawal]]`).
    pub weapon_class: Option<String>,
    pub note: String,
}

/// A violation rule: which incidents, where and when, break the ceasefire.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub title: String,
    /// Kinds that count (any member observation of one of these kinds).
    pub kinds: Vec<ObservationKind>,
    /// The incident must lie in at least one of these zones (empty: anywhere).
    pub zones: Vec<String>,
    /// The incident must lie on one of these sides (empty: any).
    pub sides: Vec<Side>,
    /// Signed distance to the line, km (positive on held ground), at least / at most.
    pub min_distance_km: Option<f64>,
    pub max_distance_km: Option<f64>,
    /// A weapon sighting inside the withdrawal zone of its own weapon class.
    pub weapon_in_withdrawal_zone: bool,
    /// Only these weapon classes (empty: any).
    pub weapon_classes: Vec<String>,
    /// Satellite fires count only when the war-fire detector flagged them.
    pub war_fires_only: bool,
    /// 1 (minor) to 5 (gravest).
    pub severity: u8,
    /// The least confidence at which an incident counts.
    pub min_confidence: Confidence,
    /// In force from (default: the ceasefire start) until (default: forever).
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

/// What to count in a clause condition.
#[derive(Debug, Clone, PartialEq)]
pub struct CountSpec {
    /// At least this many...
    pub count: u32,
    /// ...within a window of this length (of occurrence time); `None`: ever.
    pub window: Option<chrono::Duration>,
    /// Only violations of these rules (violations only; empty: any).
    pub rules: Vec<String>,
    pub kinds: Vec<ObservationKind>,
    pub zones: Vec<String>,
    pub sides: Vec<Side>,
    pub min_distance_km: Option<f64>,
    pub max_distance_km: Option<f64>,
    /// Violations only: the least severity.
    pub min_severity: u8,
    /// The least confidence (default: verified by an analyst).
    pub min_confidence: Confidence,
}

/// A clause's condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Enough violations (incidents that broke a rule).
    Violations(CountSpec),
    /// Enough incidents, whatever the rules say (e.g. a strike far beyond the line).
    Incidents(CountSpec),
    /// An obligation of another clause was breached.
    Breached { clause: String },
    Any(Vec<Condition>),
    All(Vec<Condition>),
}

/// Who must do what, by when, once a clause triggers.
#[derive(Debug, Clone, PartialEq)]
pub struct Duty {
    /// The party, group or role as written.
    pub party: String,
    /// The parties it names, resolved.
    pub parties: Vec<String>,
    pub action: String,
    pub within: chrono::Duration,
}

/// A clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub id: String,
    pub title: String,
    /// The clause's words, for the explanation.
    pub text: String,
    pub when: Condition,
    pub duties: Vec<Duty>,
    pub lest: Option<String>,
    /// In force from (default: the ceasefire start).
    pub from: DateTime<Utc>,
}

/// A validated agreement.
#[derive(Debug, Clone)]
pub struct Agreement {
    /// The name it was read under (a path for files).
    pub file: String,
    /// SHA-256 of the file's bytes, hex: which version of the text was applied.
    pub sha256: String,
    pub id: String,
    pub title: String,
    pub version: String,
    pub adopted: Option<NaiveDate>,
    pub ceasefire_start: DateTime<Utc>,
    pub parties: Vec<Party>,
    /// Named groups of party ids (role groups such as `guarantors` included).
    pub groups: BTreeMap<String, Vec<String>>,
    pub geometry: GeometrySpec,
    pub zones: Vec<ZoneSpec>,
    pub rules: Vec<Rule>,
    pub clauses: Vec<Clause>,
    /// Clause indices in an order where every `breached` condition's clause comes first.
    pub clause_order: Vec<usize>,
    /// The `[fusion]` table, if any (read by `truce-incidents`).
    pub fusion: Option<toml::Table>,
    /// Sources whose observations never reach a public output (`[publication]
    /// restricted_sources`): source kinds (`acled`, `patrol`) or `patrol:TEAM`.
    pub restricted_sources: Vec<String>,
    /// The `[pledges]` and `[forces]` tables, if any (read by the accounts).
    pub pledges: Option<toml::Table>,
    pub forces: Option<toml::Table>,
}

// ---------------------------------------------------------------- raw shape

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    agreement: RawHead,
    #[serde(default)]
    parties: Vec<RawParty>,
    #[serde(default)]
    groups: BTreeMap<String, Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    geometry: Option<RawGeometry>,
    #[serde(default)]
    zones: Vec<RawZone>,
    #[serde(default)]
    withdrawal: Vec<RawWithdrawal>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    clauses: Vec<RawClause>,
    #[serde(default)]
    fusion: Option<toml::Table>,
    #[serde(default)]
    publication: Option<RawPublication>,
    #[serde(default)]
    pledges: Option<toml::Table>,
    #[serde(default)]
    forces: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHead {
    id: Spanned<String>,
    title: String,
    version: String,
    #[serde(default)]
    adopted: Option<Spanned<toml::value::Datetime>>,
    ceasefire_start: Spanned<toml::value::Datetime>,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPublication {
    #[serde(default)]
    restricted_sources: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParty {
    id: Spanned<String>,
    #[serde(default)]
    name: Option<String>,
    roles: Vec<Role>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeometry {
    #[serde(default)]
    control: Vec<String>,
    #[serde(default)]
    occupied: Vec<RawOccupied>,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    backcast_from: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOccupied {
    file: String,
    from: Spanned<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    name: Spanned<String>,
    #[serde(default)]
    band: Option<Spanned<RawBand>>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    bbox: Option<Spanned<Vec<f64>>>,
    #[serde(default)]
    regions: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    side: BandSide,
    #[serde(default)]
    min_km: f64,
    max_km: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWithdrawal {
    weapon_class: Spanned<String>,
    #[serde(default)]
    km: Option<Spanned<f64>>,
    #[serde(default)]
    held_km: Option<Spanned<f64>>,
    #[serde(default)]
    occupied_km: Option<Spanned<f64>>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    kinds: Vec<Spanned<String>>,
    #[serde(default)]
    zones: Vec<Spanned<String>>,
    #[serde(default)]
    sides: Vec<Spanned<String>>,
    #[serde(default)]
    min_distance_km: Option<f64>,
    #[serde(default)]
    max_distance_km: Option<f64>,
    #[serde(default)]
    weapon_in_withdrawal_zone: bool,
    #[serde(default)]
    weapon_classes: Vec<String>,
    #[serde(default)]
    war_fires_only: Option<bool>,
    severity: Spanned<i64>,
    #[serde(default)]
    min_confidence: Option<Spanned<String>>,
    #[serde(default)]
    from: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    until: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCount {
    #[serde(default)]
    count: Option<Spanned<i64>>,
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    rules: Vec<Spanned<String>>,
    #[serde(default)]
    kinds: Vec<Spanned<String>>,
    #[serde(default)]
    zones: Vec<Spanned<String>>,
    #[serde(default)]
    sides: Vec<Spanned<String>>,
    #[serde(default)]
    min_distance_km: Option<f64>,
    #[serde(default)]
    max_distance_km: Option<f64>,
    #[serde(default)]
    min_severity: Option<Spanned<i64>>,
    #[serde(default)]
    min_confidence: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RawCondition {
    Violations(RawCount),
    Incidents(RawCount),
    Breached { clause: Spanned<String> },
    Any(Vec<Spanned<RawCondition>>),
    All(Vec<Spanned<RawCondition>>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuty {
    party: Spanned<String>,
    action: String,
    within: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClause {
    id: Spanned<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    text: Option<String>,
    when: Spanned<RawCondition>,
    then: Vec<RawDuty>,
    #[serde(default)]
    lest: Option<String>,
    #[serde(default)]
    from: Option<Spanned<toml::value::Datetime>>,
}

// ---------------------------------------------------------------- validation

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn line(&self, span: std::ops::Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
    }
    fn bad<T>(&self, span: std::ops::Range<usize>, key: impl Into<String>, why: impl Into<String>) -> Result<T, AgreementError> {
        Err(AgreementError::Invalid { file: self.file.into(), line: self.line(span), key: key.into(), why: why.into() })
    }
    fn id(&self, s: &Spanned<String>, key: &str) -> Result<String, AgreementError> {
        let v = s.get_ref();
        if v.is_empty() || v.len() > ID_BYTES_MAX || !v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)) {
            return self.bad(s.span(), key, format!("`{v}` is not an identifier (1 to {ID_BYTES_MAX} letters, digits, `-`, `_`, `.`, `:`)"));
        }
        Ok(v.clone())
    }
    fn instant(&self, d: &Spanned<toml::value::Datetime>, key: &str) -> Result<DateTime<Utc>, AgreementError> {
        let v = d.get_ref();
        if v.offset.is_none() || v.time.is_none() {
            return self.bad(d.span(), key, format!("{v} has no UTC offset: write the local time with its offset, e.g. 2015-02-15T00:00:00+02:00"));
        }
        match DateTime::parse_from_rfc3339(&v.to_string()) {
            Ok(t) => Ok(t.with_timezone(&Utc)),
            Err(e) => self.bad(d.span(), key, format!("{v}: {e}")),
        }
    }
    fn date(&self, d: &Spanned<toml::value::Datetime>, key: &str) -> Result<NaiveDate, AgreementError> {
        let v = d.get_ref();
        match (v.date, v.time) {
            (Some(date), None) => NaiveDate::from_ymd_opt(date.year as i32, date.month as u32, date.day as u32)
                .map_or_else(|| self.bad(d.span(), key, format!("{v} is not a date")), Ok),
            _ => self.bad(d.span(), key, format!("{v}: expected a plain date like 2025-12-15")),
        }
    }
    fn duration(&self, s: &Spanned<String>, key: &str) -> Result<chrono::Duration, AgreementError> {
        let d = match humantime::parse_duration(s.get_ref()) {
            Ok(d) => d,
            Err(e) => return self.bad(s.span(), key, format!("`{}` is not a duration like 24h, 72h, 7days: {e}", s.get_ref())),
        };
        match chrono::Duration::from_std(d) {
            Ok(d) if d > chrono::Duration::zero() && d <= DURATION_MAX => Ok(d),
            _ => self.bad(s.span(), key, format!("`{}` must be positive and at most ten years", s.get_ref())),
        }
    }
    fn kinds(&self, v: &[Spanned<String>], key: &str) -> Result<Vec<ObservationKind>, AgreementError> {
        v.iter()
            .map(|s| s.get_ref().parse::<ObservationKind>().or_else(|e| self.bad(s.span(), key, e)))
            .collect()
    }
    fn sides(&self, v: &[Spanned<String>], key: &str) -> Result<Vec<Side>, AgreementError> {
        v.iter().map(|s| s.get_ref().parse::<Side>().or_else(|e| self.bad(s.span(), key, e))).collect()
    }
    fn confidence(&self, v: &Option<Spanned<String>>, key: &str, default: Confidence) -> Result<Confidence, AgreementError> {
        match v {
            None => Ok(default),
            Some(s) => s.get_ref().parse::<Confidence>().or_else(|e| self.bad(s.span(), key, e)),
        }
    }
    fn names(&self, v: &[Spanned<String>], known: &BTreeSet<String>, what: &str, key: &str) -> Result<Vec<String>, AgreementError> {
        v.iter()
            .map(|s| {
                if known.contains(s.get_ref()) {
                    Ok(s.get_ref().clone())
                } else {
                    self.bad(s.span(), key, format!("unknown {what} `{}`", s.get_ref()))
                }
            })
            .collect()
    }
    fn severity(&self, v: &Spanned<i64>, key: &str) -> Result<u8, AgreementError> {
        match *v.get_ref() {
            s @ 1..=5 => Ok(s as u8),
            s => self.bad(v.span(), key, format!("{s} is outside 1..=5")),
        }
    }
}

fn check_km(ctx: &Ctx, span: std::ops::Range<usize>, key: &str, v: f64) -> Result<(), AgreementError> {
    if !v.is_finite() || !(0.0..=5000.0).contains(&v) {
        return ctx.bad(span, key, format!("{v} km is outside [0, 5000]"));
    }
    Ok(())
}

impl Agreement {
    /// Reads and validates an agreement from its text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Agreement, AgreementError> {
        if text.len() > AGREEMENT_BYTES_MAX {
            return Err(AgreementError::Limit {
                file: file.into(),
                why: format!("{} bytes exceeds AGREEMENT_BYTES_MAX ({AGREEMENT_BYTES_MAX})", text.len()),
            });
        }
        let ctx = Ctx { file, text };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| ctx.line(s));
            AgreementError::Syntax { file: file.into(), line, why: e.message().trim().to_string() }
        })?;
        let limit = |n: usize, max: usize, what: &str| {
            if n > max {
                Err(AgreementError::Limit { file: file.into(), why: format!("{n} {what} exceeds the limit of {max}") })
            } else {
                Ok(())
            }
        };
        limit(raw.parties.len(), PARTIES_MAX, "parties")?;
        limit(raw.zones.len() + 2 * raw.withdrawal.len(), ZONES_MAX, "zones (withdrawal entries make two each)")?;
        limit(raw.rules.len(), RULES_MAX, "rules")?;
        limit(raw.clauses.len(), CLAUSES_MAX, "clauses")?;

        let head = &raw.agreement;
        let id = ctx.id(&head.id, "agreement.id")?;
        let ceasefire_start = ctx.instant(&head.ceasefire_start, "agreement.ceasefire_start")?;
        let adopted = head.adopted.as_ref().map(|d| ctx.date(d, "agreement.adopted")).transpose()?;

        // Parties and groups.
        let mut parties = Vec::new();
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (i, p) in raw.parties.iter().enumerate() {
            let key = format!("parties[{i}].id");
            let pid = ctx.id(&p.id, &key)?;
            if parties.iter().any(|q: &Party| q.id == pid) {
                return ctx.bad(p.id.span(), key, format!("party `{pid}` is defined twice"));
            }
            if p.roles.is_empty() {
                return ctx.bad(p.id.span(), format!("parties[{i}].roles"), "a party needs at least one role");
            }
            for r in &p.roles {
                groups.entry(r.group().to_string()).or_default().push(pid.clone());
            }
            parties.push(Party { id: pid.clone(), name: p.name.clone().unwrap_or(pid), roles: p.roles.clone() });
        }
        if !parties.iter().any(|p| p.roles.contains(&Role::Defended)) {
            return ctx.bad(head.id.span(), "parties", "no party has the role `defended`");
        }
        let party_ids: BTreeSet<String> = parties.iter().map(|p| p.id.clone()).collect();
        for (name, members) in &raw.groups {
            if party_ids.contains(name) || groups.contains_key(name) {
                return ctx.bad(members.span(), format!("groups.{name}"), "a group may not reuse a party or role-group name");
            }
            let key = format!("groups.{name}");
            let ids = ctx.names(members.get_ref(), &party_ids, "party", &key)?;
            groups.insert(name.clone(), ids);
        }

        // Geometry.
        let geometry = match &raw.geometry {
            None => GeometrySpec::default(),
            Some(g) => GeometrySpec {
                control: g.control.clone(),
                occupied: g
                    .occupied
                    .iter()
                    .enumerate()
                    .map(|(i, o)| Ok((o.file.clone(), ctx.instant(&o.from, &format!("geometry.occupied[{i}].from"))?)))
                    .collect::<Result<_, AgreementError>>()?,
                admin: g.admin.clone(),
                backcast_from: g.backcast_from.as_ref().map(|d| ctx.date(d, "geometry.backcast_from")).transpose()?,
            },
        };

        // Zones, then the withdrawal zones they imply.
        let mut zones: Vec<ZoneSpec> = Vec::new();
        let mut zone_names = BTreeSet::new();
        for (i, z) in raw.zones.iter().enumerate() {
            let name = ctx.id(&z.name, &format!("zones[{i}].name"))?;
            let shape = match (&z.band, &z.file, &z.bbox, &z.regions) {
                (None, None, None, Some(r)) => {
                    if r.get_ref().is_empty() || r.get_ref().iter().any(|c| c.is_empty() || c.len() > ID_BYTES_MAX) {
                        return ctx.bad(r.span(), format!("zones[{i}].regions"), "expected a list of region codes like \"UA-46\"");
                    }
                    ZoneShape::Regions(r.get_ref().clone())
                }
                (Some(b), None, None, None) => {
                    let key = format!("zones[{i}].band");
                    let r = b.get_ref();
                    check_km(&ctx, b.span(), &key, r.min_km)?;
                    check_km(&ctx, b.span(), &key, r.max_km)?;
                    if r.min_km > r.max_km {
                        return ctx.bad(b.span(), key, format!("min_km {} exceeds max_km {}", r.min_km, r.max_km));
                    }
                    ZoneShape::Band { side: r.side, min_km: r.min_km, max_km: r.max_km }
                }
                (None, Some(f), None, None) => ZoneShape::File(f.clone()),
                (None, None, Some(b), None) => {
                    let v = b.get_ref();
                    let ok = v.len() == 4
                        && v.iter().all(|x| x.is_finite())
                        && (-180.0..=180.0).contains(&v[0])
                        && (-180.0..=180.0).contains(&v[2])
                        && (-90.0..=90.0).contains(&v[1])
                        && (-90.0..=90.0).contains(&v[3])
                        && v[0] < v[2]
                        && v[1] < v[3];
                    if !ok {
                        return ctx.bad(b.span(), format!("zones[{i}].bbox"), "expected [min_lon, min_lat, max_lon, max_lat] in degrees, min < max");
                    }
                    ZoneShape::BBox([v[0], v[1], v[2], v[3]])
                }
                _ => return ctx.bad(z.name.span(), format!("zones[{i}]"), "give exactly one of `band`, `file`, `bbox`, `regions`"),
            };
            if !zone_names.insert(name.clone()) {
                return ctx.bad(z.name.span(), format!("zones[{i}].name"), format!("zone `{name}` is defined twice"));
            }
            zones.push(ZoneSpec { name, shape, weapon_class: None, note: z.note.clone().unwrap_or_default() });
        }
        for (i, w) in raw.withdrawal.iter().enumerate() {
            let class = ctx.id(&w.weapon_class, &format!("withdrawal[{i}].weapon_class"))?;
            let both = w.km.as_ref();
            let pick = |own: &Option<Spanned<f64>>, which: &str| -> Result<f64, AgreementError> {
                let key = format!("withdrawal[{i}].{which}_km");
                match own.as_ref().or(both) {
                    Some(v) => {
                        check_km(&ctx, v.span(), &key, *v.get_ref())?;
                        Ok(*v.get_ref())
                    }
                    None => ctx.bad(w.weapon_class.span(), key, "give `km` (both sides) or this side's distance"),
                }
            };
            for (side, which) in [(BandSide::Held, "held"), (BandSide::Occupied, "occupied")] {
                let km = pick(if which == "held" { &w.held_km } else { &w.occupied_km }, which)?;
                let name = format!("withdrawal:{class}:{which}");
                if !zone_names.insert(name.clone()) {
                    return ctx.bad(w.weapon_class.span(), format!("withdrawal[{i}]"), format!("zone `{name}` is defined twice"));
                }
                zones.push(ZoneSpec {
                    name,
                    shape: ZoneShape::Band { side, min_km: 0.0, max_km: km },
                    weapon_class: Some(class.clone()),
                    note: w.note.clone().unwrap_or_default(),
                });
            }
        }

        // Rules.
        let mut rules = Vec::new();
        let mut rule_ids = BTreeSet::new();
        for (i, r) in raw.rules.iter().enumerate() {
            let p = |k: &str| format!("rules[{i}].{k}");
            let rid = ctx.id(&r.id, &p("id"))?;
            if !rule_ids.insert(rid.clone()) {
                return ctx.bad(r.id.span(), p("id"), format!("rule `{rid}` is defined twice"));
            }
            let kinds = ctx.kinds(&r.kinds, &p("kinds"))?;
            if let (Some(a), Some(b)) = (r.min_distance_km, r.max_distance_km) {
                if a > b {
                    return ctx.bad(r.id.span(), p("min_distance_km"), format!("{a} exceeds max_distance_km {b}"));
                }
            }
            let from = match &r.from {
                Some(d) => ctx.instant(d, &p("from"))?,
                None => ceasefire_start,
            };
            let until = r.until.as_ref().map(|d| ctx.instant(d, &p("until"))).transpose()?;
            rules.push(Rule {
                id: rid,
                title: r.title.clone().unwrap_or_default(),
                kinds,
                zones: ctx.names(&r.zones, &zone_names, "zone", &p("zones"))?,
                sides: ctx.sides(&r.sides, &p("sides"))?,
                min_distance_km: r.min_distance_km,
                max_distance_km: r.max_distance_km,
                weapon_in_withdrawal_zone: r.weapon_in_withdrawal_zone,
                weapon_classes: r.weapon_classes.clone(),
                war_fires_only: r.war_fires_only.unwrap_or(true),
                severity: ctx.severity(&r.severity, &p("severity"))?,
                min_confidence: ctx.confidence(&r.min_confidence, &p("min_confidence"), Confidence::SingleSource)?,
                from,
                until,
            });
        }

        // Clauses.
        let clause_ids: BTreeSet<String> = raw.clauses.iter().map(|c| c.id.get_ref().clone()).collect();
        let mut clauses: Vec<Clause> = Vec::new();
        for (i, c) in raw.clauses.iter().enumerate() {
            let p = |k: &str| format!("clauses[{i}].{k}");
            let cid = ctx.id(&c.id, &p("id"))?;
            if clauses.iter().any(|d| d.id == cid) {
                return ctx.bad(c.id.span(), p("id"), format!("clause `{cid}` is defined twice"));
            }
            let names = Names { zones: &zone_names, rules: &rule_ids, clauses: &clause_ids };
            let when = condition(&ctx, &c.when, &p("when"), &names, 0)?;
            if c.then.is_empty() {
                return ctx.bad(c.id.span(), p("then"), "a clause needs at least one duty");
            }
            let mut duties = Vec::new();
            for (j, d) in c.then.iter().enumerate() {
                let key = format!("clauses[{i}].then[{j}]");
                let name = d.party.get_ref();
                let parties = if party_ids.contains(name) {
                    vec![name.clone()]
                } else if let Some(g) = groups.get(name) {
                    g.clone()
                } else {
                    return ctx.bad(d.party.span(), format!("{key}.party"), format!("unknown party or group `{name}`"));
                };
                if parties.is_empty() {
                    return ctx.bad(d.party.span(), format!("{key}.party"), format!("group `{name}` has no members"));
                }
                duties.push(Duty {
                    party: name.clone(),
                    parties,
                    action: d.action.clone(),
                    within: ctx.duration(&d.within, &format!("{key}.within"))?,
                });
            }
            let from = match &c.from {
                Some(d) => ctx.instant(d, &p("from"))?,
                None => ceasefire_start,
            };
            clauses.push(Clause {
                id: cid,
                title: c.title.clone().unwrap_or_default(),
                text: c.text.clone().unwrap_or_default(),
                when,
                duties,
                lest: c.lest.clone(),
                from,
            });
        }
        let clause_order = order_clauses(&clauses).map_err(|cycle| {
            let i = clauses.iter().position(|c| c.id == cycle).unwrap_or(0);
            AgreementError::Invalid {
                file: file.into(),
                line: ctx.line(raw.clauses[i].id.span()),
                key: format!("clauses[{i}].when"),
                why: format!("clause `{cycle}` depends on its own breach through `breached` conditions"),
            }
        })?;

        let mut restricted_sources = Vec::new();
        for (i, s) in raw.publication.iter().flat_map(|p| p.restricted_sources.iter()).enumerate() {
            let v = s.get_ref();
            let kind = v.split(':').next().unwrap_or("");
            if let Err(e) = kind.parse::<truce_model::SourceKind>() {
                return ctx.bad(s.span(), format!("publication.restricted_sources[{i}]"), e);
            }
            restricted_sources.push(v.clone());
        }

        Ok(Agreement {
            file: file.into(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
            id,
            title: head.title.clone(),
            version: head.version.clone(),
            adopted,
            ceasefire_start,
            parties,
            groups,
            geometry,
            zones,
            rules,
            clauses,
            clause_order,
            fusion: raw.fusion,
            restricted_sources,
            pledges: raw.pledges,
            forces: raw.forces,
        })
    }

    /// A path written in the file, resolved against the file's folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        let p = Path::new(rel);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        Path::new(&self.file).parent().map_or_else(|| p.to_path_buf(), |d| d.join(p))
    }

    /// The same agreement with the ceasefire starting at `t` instead: for replaying past
    /// data as if the agreement had been in force ("what would it have flagged?"). Rules
    /// and clauses that start with the ceasefire move with it; explicit `from` dates stay.
    pub fn with_ceasefire_start(mut self, t: DateTime<Utc>) -> Agreement {
        let old = self.ceasefire_start;
        for r in &mut self.rules {
            if r.from == old {
                r.from = t;
            }
        }
        for c in &mut self.clauses {
            if c.from == old {
                c.from = t;
            }
        }
        self.ceasefire_start = t;
        self
    }

    /// The party with this id.
    pub fn party(&self, id: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.id == id)
    }

    /// Index of the zone with this name.
    pub fn zone_index(&self, name: &str) -> Option<usize> {
        self.zones.iter().position(|z| z.name == name)
    }
}

struct Names<'a> {
    zones: &'a BTreeSet<String>,
    rules: &'a BTreeSet<String>,
    clauses: &'a BTreeSet<String>,
}

fn condition(ctx: &Ctx, c: &Spanned<RawCondition>, key: &str, names: &Names, depth: usize) -> Result<Condition, AgreementError> {
    if depth > CONDITION_DEPTH_MAX {
        return ctx.bad(c.span(), key, format!("conditions nest deeper than CONDITION_DEPTH_MAX ({CONDITION_DEPTH_MAX})"));
    }
    let count = |r: &RawCount, key: &str, violations: bool| -> Result<CountSpec, AgreementError> {
        let p = |k: &str| format!("{key}.{k}");
        let n = match &r.count {
            None => 1,
            Some(v) if (1..=1_000_000).contains(v.get_ref()) => *v.get_ref() as u32,
            Some(v) => return ctx.bad(v.span(), p("count"), format!("{} is outside 1..=1000000", v.get_ref())),
        };
        if !violations && (!r.rules.is_empty() || r.min_severity.is_some()) {
            return ctx.bad(c.span(), key, "`rules` and `min_severity` apply to `violations`, not `incidents`");
        }
        Ok(CountSpec {
            count: n,
            window: r.window.as_ref().map(|w| ctx.duration(w, &p("window"))).transpose()?,
            rules: ctx.names(&r.rules, names.rules, "rule", &p("rules"))?,
            kinds: ctx.kinds(&r.kinds, &p("kinds"))?,
            zones: ctx.names(&r.zones, names.zones, "zone", &p("zones"))?,
            sides: ctx.sides(&r.sides, &p("sides"))?,
            min_distance_km: r.min_distance_km,
            max_distance_km: r.max_distance_km,
            min_severity: match &r.min_severity {
                None => 1,
                Some(s) => ctx.severity(s, &p("min_severity"))?,
            },
            min_confidence: ctx.confidence(&r.min_confidence, &p("min_confidence"), Confidence::Verified)?,
        })
    };
    Ok(match c.get_ref() {
        RawCondition::Violations(r) => Condition::Violations(count(r, &format!("{key}.violations"), true)?),
        RawCondition::Incidents(r) => Condition::Incidents(count(r, &format!("{key}.incidents"), false)?),
        RawCondition::Breached { clause } => {
            if !names.clauses.contains(clause.get_ref()) {
                return ctx.bad(clause.span(), format!("{key}.breached.clause"), format!("unknown clause `{}`", clause.get_ref()));
            }
            Condition::Breached { clause: clause.get_ref().clone() }
        }
        RawCondition::Any(v) | RawCondition::All(v) => {
            let any = matches!(c.get_ref(), RawCondition::Any(_));
            let word = if any { "any" } else { "all" };
            if v.is_empty() {
                return ctx.bad(c.span(), format!("{key}.{word}"), "needs at least one condition");
            }
            let subs = v
                .iter()
                .enumerate()
                .map(|(i, s)| condition(ctx, s, &format!("{key}.{word}[{i}]"), names, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            if any {
                Condition::Any(subs)
            } else {
                Condition::All(subs)
            }
        }
    })
}

/// The clauses a condition's `breached` entries name.
pub fn breached_clauses(c: &Condition, out: &mut Vec<String>) {
    match c {
        Condition::Breached { clause } => out.push(clause.clone()),
        Condition::Any(v) | Condition::All(v) => v.iter().for_each(|s| breached_clauses(s, out)),
        _ => {}
    }
}

/// A topological order of the clauses by their `breached` dependencies, or the id of
/// a clause on a cycle.
fn order_clauses(clauses: &[Clause]) -> Result<Vec<usize>, String> {
    let idx: BTreeMap<&str, usize> = clauses.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut state = vec![0u8; clauses.len()]; // 0 new, 1 on stack, 2 done
    let mut order = Vec::new();
    fn visit(i: usize, clauses: &[Clause], idx: &BTreeMap<&str, usize>, state: &mut [u8], order: &mut Vec<usize>) -> Result<(), String> {
        match state[i] {
            2 => return Ok(()),
            1 => return Err(clauses[i].id.clone()),
            _ => {}
        }
        state[i] = 1;
        let mut deps = Vec::new();
        breached_clauses(&clauses[i].when, &mut deps);
        for d in deps {
            if let Some(&j) = idx.get(d.as_str()) {
                visit(j, clauses, idx, state, order)?;
            }
        }
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..clauses.len() {
        visit(i, clauses, &idx, &mut state, &mut order)?;
    }
    Ok(order)
}

impl std::fmt::Display for Condition {
    /// The condition in words, for explanations.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let spec = |f: &mut std::fmt::Formatter<'_>, what: &str, s: &CountSpec| {
            write!(f, "at least {} {} {what}", s.count, s.min_confidence)?;
            if !s.rules.is_empty() {
                write!(f, " of rule {}", s.rules.join("/"))?;
            }
            if s.min_severity > 1 {
                write!(f, " of severity >= {}", s.min_severity)?;
            }
            if !s.kinds.is_empty() {
                let k: Vec<&str> = s.kinds.iter().map(|k| k.as_str()).collect();
                write!(f, " ({})", k.join("/"))?;
            }
            if !s.sides.is_empty() {
                let k: Vec<&str> = s.sides.iter().map(|k| k.as_str()).collect();
                write!(f, " on {} ground", k.join("/"))?;
            }
            if let Some(d) = s.min_distance_km {
                write!(f, " at least {d} km from the line")?;
            }
            if let Some(d) = s.max_distance_km {
                write!(f, " at most {d} km from the line")?;
            }
            if !s.zones.is_empty() {
                write!(f, " in {}", s.zones.join("/"))?;
            }
            if let Some(w) = s.window {
                write!(f, " within {}", duration_words(w))?;
            }
            Ok(())
        };
        match self {
            Condition::Violations(s) => spec(f, "violation(s)", s),
            Condition::Incidents(s) => spec(f, "incident(s)", s),
            Condition::Breached { clause } => write!(f, "an obligation of clause {clause} breached"),
            Condition::Any(v) | Condition::All(v) => {
                let word = if matches!(self, Condition::Any(_)) { " or " } else { " and " };
                write!(f, "(")?;
                for (i, c) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(word)?;
                    }
                    write!(f, "{c}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// A duration in words: `12 h`, `3 days`, `90 min`.
pub fn duration_words(d: chrono::Duration) -> String {
    let h = d.num_hours();
    if d.num_minutes() % 60 != 0 {
        format!("{} min", d.num_minutes())
    } else if h % 24 == 0 && h >= 48 {
        format!("{} days", h / 24)
    } else {
        format!("{h} h")
    }
}

#[cfg(test)]
mod tests;
