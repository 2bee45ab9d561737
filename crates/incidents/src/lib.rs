//! From observations to incidents: one real event seen by several sources becomes one
//! incident, graded by how sure we are that it happened.
//!
//! **Fusion** ([`fuse`]). Two observations are of the same event when
//! - their kinds are of one family (both use of force, [`ObservationKind::is_kinetic`];
//!   or both weapon sightings; or the same kind otherwise),
//! - their time intervals, each widened by half of [`FusionParams::time_slack_min`],
//!   overlap, and
//! - their places are within the sum of their uncertainty radii plus
//!   [`FusionParams::link_km`] (great-circle distance on the 6371 km sphere).
//!
//! Incidents are the connected groups of that relation (single linkage, by union-find
//! over the candidate pairs an R-tree of space-time boxes finds); a group wider than
//! [`FusionParams::max_extent_km`] (a burning front chained pixel by pixel) is cut into
//! tiles of that size, one incident each. The result depends on
//! the set of observations only, never on their order. An observation too vague to place
//! an event (radius above [`FusionParams::max_uncertainty_km`] or an interval longer than
//! [`FusionParams::max_duration_h`], e.g. a UCDP event known to the month) links with
//! nothing and stays an incident of its own: it can still be a violation, but it never
//! merges distinct events.
//!
//! An incident's place is the inverse-variance mean of its members' places; its radius
//! is the smallest circle around that place that holds every member's own circle's
//! centre plus that member's radius, i.e. the tightest radius any member vouches for.
//! Its id is `I-` followed by the id of its earliest member (by start, then id), so it
//! stays put when a later report corroborates it.
//!
//! **Confidence** ([`Confidence`]): single source; corroborated once members from two
//! independent sources ([`FusionObs::source_key`]) have been received; verified once an
//! analyst confirmed it ([`Decision`]). A rejection takes it out of every count from the
//! rejection on; a later confirmation brings it back. [`Standing`] holds the instants.
//!
//! **Coverage** ([`inferred_gaps`]): days on which a source that reported before and
//! after sent nothing are gaps, shown beside the counts and never read as calm.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rstar::{RTree, RTreeObject, AABB};
use serde::{Deserialize, Serialize};
pub use truce_model::{Confidence, CoverageGap, GapArea, GapReason, ObservationKind, Provenance, SourceKind, TimePrecision, TimeSpan};

/// Most observations fused in one call.
pub const FUSION_OBSERVATIONS_MAX: usize = 50_000_000;
/// Largest decisions file, in bytes.
pub const DECISIONS_BYTES_MAX: usize = 64 << 20;
/// Longest reason, analyst id or incident id in a decision.
pub const DECISION_FIELD_BYTES_MAX: usize = 4096;

/// Mean Earth radius (IUGG), km.
const EARTH_KM: f64 = 6371.0088;

/// Great-circle distance in km between two WGS 84 points on the mean sphere (within
/// 0.5 % of the ellipsoid: ample against the kilometres of slack fusion allows).
pub fn sphere_km(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let a = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * EARTH_KM * a.sqrt().min(1.0).asin()
}

/// One observation as fusion sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FusionObs {
    pub id: String,
    /// What counts as one independent source: two satellites of one programme, or two
    /// reports of one monitoring team, are not independent. E.g. `firms`, `ucdp_ged`,
    /// `patrol:team-3`.
    pub source_key: String,
    pub kind: ObservationKind,
    /// The half-open interval in which it happened, ms since the epoch.
    pub start_ms: i64,
    pub end_ms: i64,
    pub lon: f64,
    pub lat: f64,
    pub uncertainty_m: f64,
    /// When truce received it (ms since the epoch); corroboration dates from here.
    pub received_ms: i64,
    /// A fire the war-fire detector flagged as war-related.
    pub war_fire: bool,
    /// For weapon sightings: the weapon class (`artillery_100mm_plus`, `mlrs`, ...).
    pub weapon_class: Option<String>,
    /// From a restricted source: never shown in public outputs.
    pub restricted: bool,
}

/// Fusion's tolerances (the agreement's `[fusion]` table; all optional).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FusionParams {
    /// Extra distance allowed beyond the two uncertainty radii, km.
    pub link_km: f64,
    /// Extra time allowed between two intervals, minutes.
    pub time_slack_min: f64,
    /// Observations vaguer than this (radius, km) link with nothing.
    pub max_uncertainty_km: f64,
    /// Observations whose interval is longer than this (hours) link with nothing.
    pub max_duration_h: f64,
    /// A linked group wider than this (km, the diagonal of its members' extent) is a
    /// front of many events, not one: it is cut into tiles of this size, one incident
    /// per tile. Single linkage chains day-precision fire pixels over a burning front;
    /// this keeps an incident's place meaningful.
    pub max_extent_km: f64,
}

impl Default for FusionParams {
    fn default() -> Self {
        FusionParams { link_km: 1.0, time_slack_min: 60.0, max_uncertainty_km: 25.0, max_duration_h: 48.0, max_extent_km: 15.0 }
    }
}

impl FusionParams {
    /// Checks the values are usable.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |v: f64, max: f64| v.is_finite() && (0.0..=max).contains(&v);
        if !ok(self.link_km, 100.0) {
            return Err(format!("link_km {} is outside [0, 100]", self.link_km));
        }
        if !ok(self.time_slack_min, 7.0 * 24.0 * 60.0) {
            return Err(format!("time_slack_min {} is outside [0, 10080]", self.time_slack_min));
        }
        if !ok(self.max_uncertainty_km, 500.0) {
            return Err(format!("max_uncertainty_km {} is outside [0, 500]", self.max_uncertainty_km));
        }
        if !ok(self.max_duration_h, 24.0 * 366.0) {
            return Err(format!("max_duration_h {} is outside [0, 8784]", self.max_duration_h));
        }
        if !(self.max_extent_km.is_finite() && (1.0..=20_000.0).contains(&self.max_extent_km)) {
            return Err(format!("max_extent_km {} is outside [1, 20000]", self.max_extent_km));
        }
        Ok(())
    }
}

/// One incident: a group of observations of one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// `I-` and the id of the earliest member.
    pub id: String,
    /// Indices into the fused slice, earliest first.
    #[serde(skip)]
    pub members: Vec<usize>,
    /// Member observation ids, earliest first.
    pub member_ids: Vec<String>,
    /// Distinct independent sources, sorted.
    pub sources: Vec<String>,
    /// Distinct kinds, sorted.
    pub kinds: Vec<ObservationKind>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub lon: f64,
    pub lat: f64,
    pub uncertainty_m: f64,
    /// Largest distance from the incident's place to a member's place, km.
    pub extent_km: f64,
    /// Some member is a fire the war-fire detector flagged.
    pub war_fire: bool,
    /// Weapon classes of member sightings, sorted.
    pub weapon_classes: Vec<String>,
    /// Every member comes from a restricted source.
    pub restricted: bool,
    /// When the first member was received.
    pub received_ms: i64,
    /// When members from two independent sources had been received, if they have.
    pub corroborated_ms: Option<i64>,
}

impl Incident {
    /// The middle of the incident's interval.
    pub fn mid_ms(&self) -> i64 {
        self.start_ms + (self.end_ms - self.start_ms) / 2
    }
}

fn family(k: ObservationKind) -> u8 {
    if k.is_kinetic() {
        0
    } else if k == ObservationKind::WeaponSighting {
        1
    } else {
        2 + k as u8
    }
}

struct Boxed {
    i: usize,
    env: AABB<[f64; 3]>,
}

impl RTreeObject for Boxed {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[i as usize];
        parent[i as usize] = parent[p as usize];
        i = p;
    }
    i
}

/// Why fusion refused its input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FusionError {
    #[error("{0} observations exceeds FUSION_OBSERVATIONS_MAX ({FUSION_OBSERVATIONS_MAX})")]
    TooMany(usize),
    #[error("observation {id}: {why}")]
    Bad { id: String, why: String },
    #[error("fusion parameters: {0}")]
    Params(String),
}

/// Fuses observations into incidents, sorted by (start, id). Pure and deterministic:
/// the same set of observations, in any order, gives the same incidents.
pub fn fuse(obs: &[FusionObs], p: &FusionParams) -> Result<Vec<Incident>, FusionError> {
    p.validate().map_err(FusionError::Params)?;
    if obs.len() > FUSION_OBSERVATIONS_MAX {
        return Err(FusionError::TooMany(obs.len()));
    }
    for o in obs {
        let bad = |why: &str| Err(FusionError::Bad { id: o.id.clone(), why: why.into() });
        if !(o.lon.is_finite() && o.lat.is_finite() && (-180.0..=180.0).contains(&o.lon) && (-90.0..=90.0).contains(&o.lat)) {
            return bad("place outside WGS 84 range");
        }
        if !(o.uncertainty_m.is_finite() && o.uncertainty_m >= 0.0) {
            return bad("uncertainty is not a non-negative number");
        }
        if o.end_ms < o.start_ms {
            return bad("interval ends before it starts");
        }
    }
    let half_slack_h = p.time_slack_min / 120.0;
    let linkable = |o: &FusionObs| {
        o.uncertainty_m / 1000.0 <= p.max_uncertainty_km && ((o.end_ms - o.start_ms) as f64) / 3.6e6 <= p.max_duration_h
    };
    // Space-time boxes: if two observations may link, their boxes intersect.
    let boxes: Vec<Boxed> = obs
        .iter()
        .enumerate()
        .filter(|(_, o)| linkable(o))
        .map(|(i, o)| {
            let r = o.uncertainty_m / 1000.0 + p.link_km / 2.0;
            let dlat = r / 110.574 * 1.01;
            let lat_far = (o.lat.abs() + dlat).min(89.9);
            let dlon = (r / (111.320 * lat_far.to_radians().cos()) * 1.01).min(360.0);
            let (t0, t1) = (o.start_ms as f64 / 3.6e6 - half_slack_h, o.end_ms as f64 / 3.6e6 + half_slack_h);
            Boxed { i, env: AABB::from_corners([o.lon - dlon, o.lat - dlat, t0], [o.lon + dlon, o.lat + dlat, t1]) }
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    let mut parent: Vec<u32> = (0..obs.len() as u32).collect();
    let slack_ms = (p.time_slack_min * 60_000.0) as i64;
    for (a, b) in tree.intersection_candidates_with_other_tree(&tree) {
        if a.i >= b.i {
            continue;
        }
        let (x, y) = (&obs[a.i], &obs[b.i]);
        if family(x.kind) != family(y.kind) {
            continue;
        }
        if x.start_ms > y.end_ms + slack_ms || y.start_ms > x.end_ms + slack_ms {
            continue;
        }
        let reach = (x.uncertainty_m + y.uncertainty_m) / 1000.0 + p.link_km;
        if sphere_km(x.lon, x.lat, y.lon, y.lat) > reach {
            continue;
        }
        let (ra, rb) = (find(&mut parent, a.i as u32), find(&mut parent, b.i as u32));
        if ra != rb {
            // The smaller root wins, so the forest does not depend on the pair order.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent[hi as usize] = lo;
        }
    }
    let mut groups: HashMap<u32, Vec<usize>> = HashMap::new();
    for i in 0..obs.len() {
        groups.entry(find(&mut parent, i as u32)).or_default().push(i);
    }
    let mut out: Vec<Incident> = groups.into_values().flat_map(|m| split_wide(obs, m, p.max_extent_km)).map(|m| incident(obs, m)).collect();
    out.sort_by(|a, b| (a.start_ms, &a.id).cmp(&(b.start_ms, &b.id)));
    Ok(out)
}

/// A group wider than `max_km` cut into tiles of `max_km` (on a plane around the group's
/// first member by index; the cut depends only on the set of members).
fn split_wide(obs: &[FusionObs], members: Vec<usize>, max_km: f64) -> Vec<Vec<usize>> {
    if members.len() < 2 {
        return vec![members];
    }
    let lat0 = members.iter().map(|&i| obs[i].lat).fold(f64::INFINITY, f64::min);
    let kx = 111.320 * lat0.to_radians().cos().max(0.01);
    let ky = 110.574;
    let (mut x0, mut y0, mut x1, mut y1) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &i in &members {
        let (x, y) = (obs[i].lon * kx, obs[i].lat * ky);
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    if ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt() <= max_km {
        return vec![members];
    }
    let mut tiles: std::collections::BTreeMap<(i64, i64), Vec<usize>> = std::collections::BTreeMap::new();
    for i in members {
        let key = (((obs[i].lon * kx - x0) / max_km).floor() as i64, ((obs[i].lat * ky - y0) / max_km).floor() as i64);
        tiles.entry(key).or_default().push(i);
    }
    tiles.into_values().collect()
}

fn incident(obs: &[FusionObs], mut members: Vec<usize>) -> Incident {
    members.sort_by(|&a, &b| (obs[a].start_ms, &obs[a].id).cmp(&(obs[b].start_ms, &obs[b].id)));
    let ms: Vec<&FusionObs> = members.iter().map(|&i| &obs[i]).collect();
    // Inverse-variance mean on a local plane (members are within kilometres).
    let (mut wsum, mut x, mut y) = (0.0, 0.0, 0.0);
    let lat0 = ms[0].lat;
    for o in &ms {
        let s = (o.uncertainty_m / 1000.0).max(0.05);
        let w = 1.0 / (s * s);
        wsum += w;
        x += w * (o.lon - ms[0].lon);
        y += w * (o.lat - lat0);
    }
    let (lon, lat) = (ms[0].lon + x / wsum, lat0 + y / wsum);
    let mut radius = f64::INFINITY;
    let mut extent: f64 = 0.0;
    for o in &ms {
        let d = sphere_km(lon, lat, o.lon, o.lat);
        extent = extent.max(d);
        radius = radius.min(d + o.uncertainty_m / 1000.0);
    }
    let sources: BTreeSet<&str> = ms.iter().map(|o| o.source_key.as_str()).collect();
    let kinds: BTreeSet<ObservationKind> = ms.iter().map(|o| o.kind).collect();
    let classes: BTreeSet<&str> = ms.iter().filter_map(|o| o.weapon_class.as_deref()).collect();
    // Corroboration: the first instant two independent sources had been received.
    let mut by_received: Vec<&&FusionObs> = ms.iter().collect();
    by_received.sort_by(|a, b| (a.received_ms, &a.id).cmp(&(b.received_ms, &b.id)));
    let first = by_received[0];
    let corroborated_ms = by_received.iter().find(|o| o.source_key != first.source_key).map(|o| o.received_ms);
    Incident {
        id: format!("I-{}", ms[0].id),
        member_ids: ms.iter().map(|o| o.id.clone()).collect(),
        sources: sources.into_iter().map(String::from).collect(),
        kinds: kinds.into_iter().collect(),
        start_ms: ms.iter().map(|o| o.start_ms).min().unwrap_or(0),
        end_ms: ms.iter().map(|o| o.end_ms).max().unwrap_or(0),
        lon,
        lat,
        uncertainty_m: radius * 1000.0,
        extent_km: extent,
        war_fire: ms.iter().any(|o| o.war_fire),
        weapon_classes: classes.into_iter().map(String::from).collect(),
        restricted: ms.iter().all(|o| o.restricted),
        received_ms: first.received_ms,
        corroborated_ms,
        members,
    }
}

// ---------------------------------------------------------------- decisions

/// An analyst's verdict on an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Confirm,
    Reject,
}

/// One analyst decision (a line of `decisions.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The incident's id (`I-...`) as the analyst saw it.
    pub incident: String,
    pub verdict: Verdict,
    pub reason: String,
    pub analyst: String,
    pub at: DateTime<Utc>,
}

/// Why a decisions file was refused.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {why}")]
pub struct DecisionError {
    pub file: String,
    pub line: usize,
    pub why: String,
}

/// Reads decisions from JSON lines (blank lines skipped); any bad line refuses the file.
pub fn read_decisions(file: &str, bytes: &[u8]) -> Result<Vec<Decision>, DecisionError> {
    let err = |line: usize, why: String| DecisionError { file: file.into(), line, why };
    if bytes.len() > DECISIONS_BYTES_MAX {
        return Err(err(0, format!("{} bytes exceeds DECISIONS_BYTES_MAX ({DECISIONS_BYTES_MAX})", bytes.len())));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| err(0, format!("not UTF-8: {e}")))?;
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let d: Decision = serde_json::from_str(l).map_err(|e| err(i + 1, e.to_string()))?;
        d.validate().map_err(|why| err(i + 1, why))?;
        out.push(d);
    }
    Ok(out)
}

impl Decision {
    /// Checks the fields' sizes and that there is a reason.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [("incident", &self.incident), ("reason", &self.reason), ("analyst", &self.analyst)] {
            if v.trim().is_empty() {
                return Err(format!("{name}: empty"));
            }
            if v.len() > DECISION_FIELD_BYTES_MAX {
                return Err(format!("{name}: longer than DECISION_FIELD_BYTES_MAX ({DECISION_FIELD_BYTES_MAX})"));
            }
        }
        Ok(())
    }
}

/// Where an incident stands at an instant.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Standing {
    /// When it was first known (its first member received).
    pub known_ms: i64,
    pub corroborated_ms: Option<i64>,
    /// When the analysts' current confirmation began (the confirmation in force).
    pub verified_ms: Option<i64>,
    /// When it was first confirmed, even if rejected since.
    pub first_verified_ms: Option<i64>,
    /// When it was rejected, if the latest decision is a rejection.
    pub rejected_ms: Option<i64>,
    /// The first rejection after its first confirmation (it was retracted then, even if
    /// confirmed again since).
    pub retracted_ms: Option<i64>,
    /// The decisions taken into account, oldest first (indices into the decisions given).
    pub decisions: Vec<usize>,
    /// Those decisions' instants and verdicts, oldest first.
    pub history: Vec<(i64, Verdict)>,
}

impl Standing {
    /// From an incident and all decisions (only those naming it, at or before `at_ms`,
    /// count).
    pub fn of(inc: &Incident, decisions: &[Decision], at_ms: i64) -> Standing {
        let mut mine: Vec<usize> = (0..decisions.len())
            .filter(|&i| decisions[i].at.timestamp_millis() <= at_ms && names(&decisions[i].incident, inc))
            .collect();
        mine.sort_by_key(|&i| (decisions[i].at, i));
        let mut s = Standing { known_ms: inc.received_ms, corroborated_ms: inc.corroborated_ms, ..Default::default() };
        for &i in &mine {
            let t = decisions[i].at.timestamp_millis();
            match decisions[i].verdict {
                Verdict::Confirm => {
                    s.first_verified_ms.get_or_insert(t);
                    if s.verified_ms.is_none() {
                        s.verified_ms = Some(t);
                    }
                    s.rejected_ms = None;
                }
                Verdict::Reject => {
                    if s.first_verified_ms.is_some() && s.retracted_ms.is_none() {
                        s.retracted_ms = Some(t);
                    }
                    s.verified_ms = None;
                    s.rejected_ms = Some(t);
                }
            }
        }
        s.history = mine.iter().map(|&i| (decisions[i].at.timestamp_millis(), decisions[i].verdict)).collect();
        s.decisions = mine;
        s
    }

    /// Its grade at instant `t` (None before it was known, or while rejected).
    pub fn grade_at(&self, t: i64) -> Option<Confidence> {
        match self.history.iter().rev().find(|(d, _)| *d <= t) {
            Some((_, Verdict::Reject)) => None,
            Some((_, Verdict::Confirm)) => Some(Confidence::Verified),
            None if self.corroborated_ms.is_some_and(|c| c <= t) && self.known_ms <= t => Some(Confidence::Corroborated),
            None if self.known_ms <= t => Some(Confidence::SingleSource),
            None => None,
        }
    }

    /// The intervals `[from, until)` in which its grade was at least `c` (`until` None:
    /// still is), oldest first.
    pub fn intervals(&self, c: Confidence) -> Vec<(i64, Option<i64>)> {
        let mut pts: Vec<i64> = std::iter::once(self.known_ms)
            .chain(self.corroborated_ms)
            .chain(self.history.iter().map(|h| h.0))
            .collect();
        pts.sort_unstable();
        pts.dedup();
        let mut out: Vec<(i64, Option<i64>)> = Vec::new();
        let mut open: Option<i64> = None;
        for t in pts {
            let ok = self.grade_at(t).is_some_and(|g| g >= c);
            match (open, ok) {
                (None, true) => open = Some(t),
                (Some(o), false) => {
                    out.push((o, Some(t)));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(o) = open {
            out.push((o, None));
        }
        out
    }

    /// Its grade now (None when rejected).
    pub fn confidence(&self) -> Option<Confidence> {
        if self.rejected_ms.is_some() {
            None
        } else if self.verified_ms.is_some() {
            Some(Confidence::Verified)
        } else if self.corroborated_ms.is_some() {
            Some(Confidence::Corroborated)
        } else {
            Some(Confidence::SingleSource)
        }
    }

    /// The first instant it reached grade `c` as things stand now (None: it has not, or
    /// it is rejected).
    pub fn reached(&self, c: Confidence) -> Option<i64> {
        if self.rejected_ms.is_some() {
            return None;
        }
        match c {
            Confidence::SingleSource => Some(self.known_ms),
            Confidence::Corroborated => {
                [self.corroborated_ms, self.verified_ms].into_iter().flatten().min().map(|t| t.max(self.known_ms))
            }
            Confidence::Verified => self.verified_ms,
        }
    }

    /// The first instant it reached grade `c`, counting confirmations later withdrawn.
    pub fn reached_ever(&self, c: Confidence) -> Option<i64> {
        let v = self.first_verified_ms;
        match c {
            Confidence::SingleSource => Some(self.known_ms),
            Confidence::Corroborated => [self.corroborated_ms, v].into_iter().flatten().min().map(|t| t.max(self.known_ms)),
            Confidence::Verified => v,
        }
    }
}

/// Whether a decision's incident id names this incident: its own id, or (after a later
/// observation became the earliest member) the id it had then.
pub fn names(decision_incident: &str, inc: &Incident) -> bool {
    decision_incident == inc.id || decision_incident.strip_prefix("I-").is_some_and(|m| inc.member_ids.iter().any(|x| x == m))
}

/// Decisions that name no incident (reported, not silently dropped).
pub fn unmatched_decisions<'a>(decisions: &'a [Decision], incidents: &[Incident]) -> Vec<&'a Decision> {
    let mut ids: BTreeSet<&str> = BTreeSet::new();
    for inc in incidents {
        ids.insert(&inc.id);
        for m in &inc.member_ids {
            ids.insert(m);
        }
    }
    decisions
        .iter()
        .filter(|d| !ids.contains(d.incident.as_str()) && !d.incident.strip_prefix("I-").is_some_and(|m| ids.contains(m)))
        .collect()
}

// ---------------------------------------------------------------- coverage

/// Days, within `[from, to]`, on which a source that reported both before and after
/// sent nothing at all: a sensor or feed outage, or a gap in the data, to be shown.
/// `days` maps each source to the days it has observations on. Only call it for sources
/// that report every day when they work (a satellite fire feed over a country at war);
/// for event data, a day without events is just that.
pub fn inferred_gaps(days: &BTreeMap<SourceKind, BTreeSet<NaiveDate>>, from: NaiveDate, to: NaiveDate) -> Vec<CoverageGap> {
    let mut out = Vec::new();
    for (source, set) in days {
        let (Some(first), Some(last)) = (set.first(), set.last()) else { continue };
        let (lo, hi) = ((*first).max(from), (*last).min(to));
        let mut d = lo;
        while d <= hi {
            if !set.contains(&d) {
                let start = d;
                while d <= hi && !set.contains(&d) {
                    d = d.succ_opt().expect("date in range");
                }
                let mut span = TimeSpan::day(start);
                span.end = TimeSpan::day(d).start;
                out.push(CoverageGap {
                    source: *source,
                    reason: GapReason::SensorOutage,
                    time: span,
                    area: GapArea::Everywhere,
                    note: format!("inferred: no {source} data for {} day(s), though the source reported before and after", (d - start).num_days()),
                    provenance: Provenance { file_sha256: String::new(), line: 0 },
                });
            }
            d = d.succ_opt().expect("date in range");
        }
    }
    out
}

/// The gaps that cover a place at an instant.
pub fn gaps_at<'a>(gaps: &'a [CoverageGap], lon: f64, lat: f64, t_ms: i64) -> impl Iterator<Item = &'a CoverageGap> {
    gaps.iter()
        .filter(move |g| g.time.start.timestamp_millis() <= t_ms && t_ms < g.time.end.timestamp_millis() && g.area.contains(lon, lat))
}

#[cfg(test)]
mod tests;
