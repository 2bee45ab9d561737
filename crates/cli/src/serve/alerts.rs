//! Alerts: what changed between two "now" assessments, typed for the people who act on
//! it (`incident.created`, `incident.verified`, `obligation.triggered`, ...). They are
//! sent to `GET /api/v1/events` (server-sent events) and to the webhooks
//! (`super::webhooks`); each role hears of them as the API shows that role the object.
//! See `docs/alerts.md`.
//!
//! [`diff`] compares an assessment with the [`Snapshot`] of the previous one: a new
//! incident is `incident.created`; an incident whose confidence became verified or
//! rejected is `incident.verified` / `incident.rejected`; a new obligation (a clause
//! fired) is `obligation.triggered`; an obligation whose status became fulfilled,
//! breached or withdrawn is `obligation.fulfilled` / `.breached` / `.withdrawn`. A new
//! incident that is already verified gives both `incident.created` and `incident.verified`
//! (likewise a new obligation already breached).
//!
//! The public hears of an incident only when the public may see it now (verified, not
//! resting on restricted sources alone), with one exception: `incident.rejected` for an
//! incident the public could see in the previous assessment (a retraction of something
//! it was shown). Obligations are public, with the incidents they rest on that are not
//! public counted, not named ([`super::api::obligation_json`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use truce_obligations::Status;

use super::api::{incident_json, obligation_json, visible};
use super::auth::Role;
use super::{ApiError, AppState};
use crate::assess::Assessment;

/// The type of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    IncidentCreated,
    IncidentVerified,
    IncidentRejected,
    ObligationTriggered,
    ObligationFulfilled,
    ObligationBreached,
    ObligationWithdrawn,
}

impl Kind {
    pub const ALL: [Kind; 7] =
        [Kind::IncidentCreated, Kind::IncidentVerified, Kind::IncidentRejected, Kind::ObligationTriggered, Kind::ObligationFulfilled, Kind::ObligationBreached, Kind::ObligationWithdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::IncidentCreated => "incident.created",
            Kind::IncidentVerified => "incident.verified",
            Kind::IncidentRejected => "incident.rejected",
            Kind::ObligationTriggered => "obligation.triggered",
            Kind::ObligationFulfilled => "obligation.fulfilled",
            Kind::ObligationBreached => "obligation.breached",
            Kind::ObligationWithdrawn => "obligation.withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn is_incident(self) -> bool {
        matches!(self, Kind::IncidentCreated | Kind::IncidentVerified | Kind::IncidentRejected)
    }
}

/// A list of alert types (`incident.verified,obligation.triggered`), as in `?types=` and
/// a webhook's `events`. None: every type.
pub fn parse_kinds<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<BTreeSet<Kind>, String> {
    let mut out = BTreeSet::new();
    for s in items {
        let s = s.trim();
        match Kind::parse(s) {
            Some(k) => {
                out.insert(k);
            }
            None => return Err(format!("`{s}` is not an alert type ({})", Kind::ALL.map(Kind::as_str).join(", "))),
        }
    }
    Ok(out)
}

/// `?types=` of `GET /api/v1/events`: a comma-separated list of alert types (default:
/// all).
pub fn types_param(q: &std::collections::HashMap<String, String>) -> Result<BTreeSet<Kind>, ApiError> {
    match q.get("types") {
        None => Ok(Kind::ALL.into_iter().collect()),
        Some(s) => parse_kinds(s.split(',').filter(|x| !x.trim().is_empty())).map_err(|e| ApiError::bad_request(format!("types: {e}"))),
    }
}

/// What one "now" assessment said, kept to compare the next one with.
pub struct Snapshot {
    /// The data directory's fingerprint when it was made (`super::fingerprint`).
    pub fingerprint: u64,
    pub made: Instant,
    /// Incident id → (confidence, visible to the public).
    incidents: BTreeMap<String, (&'static str, bool)>,
    /// Obligation id → status.
    obligations: BTreeMap<String, Status>,
    /// The earliest deadline after `at` of a pending obligation: the clock alone may
    /// breach it then.
    pub next_deadline: Option<DateTime<Utc>>,
}

/// One alert.
#[derive(Debug)]
pub struct Alert {
    /// Unique: `al-` and 32 hex digits (random).
    pub id: String,
    pub kind: Kind,
    /// The payload for the roles that see everything.
    full: Value,
    /// The payload for the public; None when the public may not hear of it.
    public: Option<Value>,
}

impl Alert {
    /// The alert as `role` receives it (JSON of an SSE event or a webhook's body), or
    /// None when that role may not hear of it.
    pub fn payload(&self, role: Role) -> Option<&Value> {
        if role.sees_all() {
            Some(&self.full)
        } else {
            self.public.as_ref()
        }
    }
}

fn new_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::getrandom(&mut b).is_err() {
        // No randomness: a clock and a counter are unique within this process.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        b[..8].copy_from_slice(&Utc::now().timestamp_nanos_opt().unwrap_or_default().to_be_bytes());
        b[8..].copy_from_slice(&n.to_be_bytes());
    }
    format!("al-{}", hex::encode(b))
}

fn confidence(s: &Assessment, i: usize) -> &'static str {
    s.standings[i].confidence().map_or("rejected", |c| c.as_str())
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// One line in words about an incident, from the JSON the role sees.
fn incident_summary(kind: Kind, v: &Value, before: Option<&str>) -> String {
    let id = v["id"].as_str().unwrap_or("?");
    let kinds: Vec<&str> = v["kinds"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let what = if kinds.is_empty() { "incident".to_string() } else { kinds.join(", ") };
    let place = v["where"].as_str().unwrap_or("");
    let conf = v["confidence"].as_str().unwrap_or("?");
    let rules: Vec<&str> = v["violations"].as_array().map(|a| a.iter().filter_map(|x| x["rule"].as_str()).collect()).unwrap_or_default();
    let broke = if rules.is_empty() { String::new() } else { format!("; breaks {}", rules.join(", ")) };
    let was = before.map(|b| format!(" (was {b})")).unwrap_or_default();
    match kind {
        Kind::IncidentCreated => format!("new incident {id}: {what}, {place}, {conf}{broke}"),
        Kind::IncidentVerified => format!("incident {id} verified{was}: {what}, {place}{broke}"),
        _ => format!("incident {id} rejected{was}: {what}, {place}"),
    }
}

/// One line in words about an obligation, from the JSON the role sees (so the public's
/// names only public incidents).
fn obligation_summary(kind: Kind, v: &Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("?").to_string();
    let deadline = v["deadline"].as_str().and_then(|d| DateTime::parse_from_rfc3339(d).ok()).map(|d| utc(d.with_timezone(&Utc))).unwrap_or_else(|| s("deadline"));
    let head = format!("{} must {} by {} (clause {}: {})", s("party"), s("action"), deadline, s("clause"), s("title"));
    match kind {
        Kind::ObligationTriggered => {
            let b = &v["because"];
            let mut why = format!("because {}", b["condition"].as_str().unwrap_or("the clause's condition held"));
            let named: Vec<String> = b["incidents"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            let rules: Vec<&str> = x[1].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                            if rules.is_empty() {
                                x[0].as_str().unwrap_or("?").to_string()
                            } else {
                                format!("{} ({})", x[0].as_str().unwrap_or("?"), rules.join(", "))
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let hidden = b["not_public"].as_u64().unwrap_or(0);
            if !named.is_empty() || hidden > 0 {
                let mut parts = named;
                if hidden > 0 {
                    parts.push(format!("{hidden} not public"));
                }
                why.push_str(&format!("; incidents: {}", parts.join(", ")));
            }
            if let Some(br) = b["breached"].as_array().filter(|a| !a.is_empty()) {
                why.push_str(&format!("; breached: {}", br.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")));
            }
            if let Some(l) = v["lest"].as_str() {
                why.push_str(&format!("; lest {l}"));
            }
            format!("{head}, {why}")
        }
        Kind::ObligationFulfilled => format!("fulfilled: {head}"),
        Kind::ObligationBreached => format!("breached: {head}"),
        _ => format!("withdrawn: {head}"),
    }
}

fn payload(st: &AppState, a: (&str, DateTime<Utc>, Kind, Option<&str>), object: Value) -> Value {
    let (id, at, kind, before) = a;
    let summary = if kind.is_incident() { incident_summary(kind, &object, before) } else { obligation_summary(kind, &object) };
    let key = if kind.is_incident() { "incident" } else { "obligation" };
    json!({
        "id": id,
        "type": kind.as_str(),
        "at": at,
        "agreement": st.agreement.id,
        "before": before,
        "summary": summary,
        key: object,
    })
}

/// Compares assessment `s` (at now, of data whose fingerprint is `fingerprint`) with the
/// previous snapshot and returns the new snapshot and the alerts, incidents first, each
/// in the assessment's order. Without a previous snapshot there are no alerts (the first
/// assessment is the baseline).
pub fn diff(st: &AppState, before: Option<&Snapshot>, s: &Assessment, fingerprint: u64) -> (Snapshot, Vec<Alert>) {
    let mut snap = Snapshot { fingerprint, made: Instant::now(), incidents: BTreeMap::new(), obligations: BTreeMap::new(), next_deadline: None };
    let mut out = Vec::new();
    let mut alert = |kind: Kind, before: Option<&str>, full: Value, public: Option<Value>| {
        let id = new_id();
        let meta = (id.as_str(), s.at, kind, before);
        out.push(Alert { id: id.clone(), kind, full: payload(st, meta, full), public: public.map(|p| payload(st, meta, p)) });
    };
    for (i, inc) in s.incidents.iter().enumerate() {
        let conf = confidence(s, i);
        let public_now = visible(Role::Public, s, i);
        snap.incidents.insert(inc.id.clone(), (conf, public_now));
        let Some(prev) = before else { continue };
        let was = prev.incidents.get(&inc.id);
        if was.map(|w| w.0) == Some(conf) {
            continue;
        }
        let full = || incident_json(st, Role::Analyst, s, i);
        let public = |shown: bool| shown.then(|| incident_json(st, Role::Public, s, i));
        if was.is_none() {
            alert(Kind::IncidentCreated, None, full(), public(public_now));
        }
        let before = was.map(|w| w.0);
        match conf {
            "verified" => alert(Kind::IncidentVerified, before, full(), public(public_now)),
            // A retraction reaches the public when it was shown the incident before.
            "rejected" => alert(Kind::IncidentRejected, before, full(), public(was.is_some_and(|w| w.1) && !inc.restricted)),
            _ => {}
        }
    }
    for o in &s.evaluation.obligations {
        snap.obligations.insert(o.id.clone(), o.status);
        if o.status == Status::Pending && o.deadline > s.at {
            snap.next_deadline = Some(snap.next_deadline.map_or(o.deadline, |d| d.min(o.deadline)));
        }
        let Some(prev) = before else { continue };
        let was = prev.obligations.get(&o.id).copied();
        if was == Some(o.status) {
            continue;
        }
        let full = || obligation_json(Role::Analyst, s, o);
        let public = || Some(obligation_json(Role::Public, s, o));
        if was.is_none() {
            alert(Kind::ObligationTriggered, None, full(), public());
        }
        let before = was.map(Status::as_str);
        let kind = match o.status {
            Status::Pending => None,
            Status::Fulfilled => Some(Kind::ObligationFulfilled),
            Status::Breached => Some(Kind::ObligationBreached),
            Status::Withdrawn => Some(Kind::ObligationWithdrawn),
        };
        if let Some(k) = kind {
            alert(k, before, full(), public());
        }
    }
    (snap, out)
}
