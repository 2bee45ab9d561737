//! From incidents to violations, and from violations to obligations.
//!
//! [`violations`] applies the agreement's rules to placed incidents: each violation
//! cites its rule, its incident and the zones that made it one. [`evaluate`] applies the
//! clauses: it is a pure function of (agreement, incidents with their standing,
//! violations, recorded actions, instant) and returns every obligation the clauses
//! raised up to that instant, each with its party, deadline, status and explanation.
//!
//! **When a clause triggers.** A counting condition (`violations` or `incidents`) holds
//! at the first instant at which at least `count` matching incidents, not used by an
//! earlier trigger of the same clause, are known at the required confidence and their
//! occurrence times fit in `window` (end minus start at most the window). The instant
//! is when the last of them reached that confidence: an obligation never starts before
//! truce could know. A violation of two rules is one incident: counts are of incidents.
//! `any` holds when its earliest child does; `all` when its last child does;
//! `breached` holds from the first millisecond after a deadline of the named clause
//! passed unmet. After a trigger, the incidents it used are spent for that clause (they
//! can trigger other clauses: clauses overlap freely), and the clause can trigger again
//! on fresh incidents.
//!
//! **Status at the instant** of each duty's obligation: *fulfilled* when an action for it
//! was recorded at or before the deadline (an action exactly on the deadline is in
//! time); *breached* when the instant is past the deadline without one (a late action is
//! recorded on the breached obligation); *pending* otherwise; *withdrawn* when an
//! analyst rejected an incident it rested on before it was met or missed (an incident
//! counts for a condition only while its grade is at least the condition's confidence:
//! from when that grade was reached until a rejection; a later confirmation makes it
//! count again, from then).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use truce_agreement::{Agreement, Clause, Condition, CountSpec, Rule};
use truce_incidents::{Incident, Standing};
pub use truce_model::{Confidence, ObservationKind, Side};

/// Most actions read in one evaluation.
pub const ACTIONS_MAX: usize = 1_000_000;
/// Most triggers of one clause in one evaluation (a guard against a runaway clause).
pub const TRIGGERS_PER_CLAUSE_MAX: usize = 100_000;
/// Largest actions file, in bytes.
pub const ACTIONS_BYTES_MAX: usize = 64 << 20;

/// Where an incident lies, from the geometry engine.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Placement {
    pub side: Option<Side>,
    /// Signed distance to the line, km (positive on held ground).
    pub distance_km: Option<f64>,
    /// Names of the zones it lies in.
    pub zones: Vec<String>,
    /// Region (ISO 3166-2 code or name).
    pub region: Option<String>,
}

/// An incident that broke a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub rule: String,
    /// Index into the incidents.
    #[serde(skip)]
    pub incident: usize,
    pub incident_id: String,
    /// The zones that made it a violation (empty when the rule names none).
    pub zones: Vec<String>,
    pub severity: u8,
    /// The least confidence at which the rule counts it.
    pub min_confidence: Confidence,
    /// When it happened (middle of the incident's interval), ms since the epoch.
    pub at_ms: i64,
}

fn place_ok(kinds: &[ObservationKind], sides: &[Side], zones: &[String], min_d: Option<f64>, max_d: Option<f64>, inc: &Incident, war_fires_only: bool, pl: &Placement) -> Option<Vec<String>> {
    let kind_ok = |k: &ObservationKind| {
        (kinds.is_empty() && (k.is_kinetic() || *k == ObservationKind::WeaponSighting) || kinds.contains(k))
            && !(war_fires_only && *k == ObservationKind::Fire && !inc.war_fire)
    };
    if !inc.kinds.iter().any(kind_ok) {
        return None;
    }
    if !sides.is_empty() && !pl.side.is_some_and(|s| sides.contains(&s)) {
        return None;
    }
    if let Some(m) = min_d {
        if !pl.distance_km.is_some_and(|d| d >= m) {
            return None;
        }
    }
    if let Some(m) = max_d {
        if !pl.distance_km.is_some_and(|d| d <= m) {
            return None;
        }
    }
    let matched: Vec<String> = pl.zones.iter().filter(|z| zones.contains(z)).cloned().collect();
    if !zones.is_empty() && matched.is_empty() {
        return None;
    }
    Some(matched)
}

fn rule_matches(a: &Agreement, r: &Rule, inc: &Incident, pl: &Placement) -> Option<Vec<String>> {
    let mid = inc.mid_ms();
    if mid < r.from.timestamp_millis() || r.until.is_some_and(|u| mid >= u.timestamp_millis()) {
        return None;
    }
    let mut zones = place_ok(&r.kinds, &r.sides, &r.zones, r.min_distance_km, r.max_distance_km, inc, r.war_fires_only, pl)?;
    if r.weapon_in_withdrawal_zone {
        let classes: Vec<&String> =
            inc.weapon_classes.iter().filter(|c| r.weapon_classes.is_empty() || r.weapon_classes.contains(c)).collect();
        let inside: Vec<String> = pl
            .zones
            .iter()
            .filter(|z| a.zones.iter().any(|s| &s.name == *z && s.weapon_class.as_ref().is_some_and(|c| classes.contains(&c))))
            .cloned()
            .collect();
        if inside.is_empty() {
            return None;
        }
        zones.extend(inside);
        zones.sort();
        zones.dedup();
    } else if !r.weapon_classes.is_empty() && !inc.weapon_classes.iter().any(|c| r.weapon_classes.contains(c)) {
        return None;
    }
    Some(zones)
}

/// Every (rule, incident) violation, ordered by time, then incident, then rule.
/// `placements` is parallel to `incidents`.
pub fn violations(a: &Agreement, incidents: &[Incident], placements: &[Placement]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (i, (inc, pl)) in incidents.iter().zip(placements).enumerate() {
        for r in &a.rules {
            if let Some(zones) = rule_matches(a, r, inc, pl) {
                out.push(Violation {
                    rule: r.id.clone(),
                    incident: i,
                    incident_id: inc.id.clone(),
                    zones,
                    severity: r.severity,
                    min_confidence: r.min_confidence,
                    at_ms: inc.mid_ms(),
                });
            }
        }
    }
    out.sort_by(|x, y| (x.at_ms, x.incident, &x.rule).cmp(&(y.at_ms, y.incident, &y.rule)));
    out
}

// ---------------------------------------------------------------- actions

/// A party's recorded action on an obligation (a line of `actions.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub obligation: String,
    pub party: String,
    pub at: DateTime<Utc>,
    pub note: String,
    /// Who recorded it.
    pub by: String,
}

/// Why an actions file was refused.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {why}")]
pub struct ActionError {
    pub file: String,
    pub line: usize,
    pub why: String,
}

/// Reads actions from JSON lines; any bad line refuses the file.
pub fn read_actions(file: &str, bytes: &[u8]) -> Result<Vec<Action>, ActionError> {
    let err = |line: usize, why: String| ActionError { file: file.into(), line, why };
    if bytes.len() > ACTIONS_BYTES_MAX {
        return Err(err(0, format!("{} bytes exceeds ACTIONS_BYTES_MAX ({ACTIONS_BYTES_MAX})", bytes.len())));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| err(0, format!("not UTF-8: {e}")))?;
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let a: Action = serde_json::from_str(l).map_err(|e| err(i + 1, e.to_string()))?;
        for (name, v) in [("obligation", &a.obligation), ("party", &a.party), ("by", &a.by)] {
            if v.trim().is_empty() || v.len() > 4096 {
                return Err(err(i + 1, format!("{name}: empty or longer than 4096 bytes")));
            }
        }
        if out.len() == ACTIONS_MAX {
            return Err(err(i + 1, format!("more than ACTIONS_MAX ({ACTIONS_MAX}) actions")));
        }
        out.push(a);
    }
    Ok(out)
}

// ---------------------------------------------------------------- evaluation

/// An obligation's status at the instant of evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Fulfilled,
    Breached,
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Fulfilled => "fulfilled",
            Status::Breached => "breached",
            Status::Withdrawn => "withdrawn",
        }
    }
}

/// Why a clause triggered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The condition, in words.
    pub condition: String,
    /// The incidents it rested on, with the rules each broke.
    pub incidents: Vec<(String, Vec<String>)>,
    /// Breached obligations it rested on.
    pub breached: Vec<String>,
}

/// One party's duty under one trigger of one clause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Obligation {
    /// `clause/party/YYYYMMDDTHHMMSSZ` of the trigger (`#n` added for a second trigger in
    /// the same second).
    pub id: String,
    pub clause: String,
    pub title: String,
    pub party: String,
    pub action: String,
    pub triggered: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub status: Status,
    /// When an action was recorded (possibly after the deadline).
    pub fulfilled: Option<DateTime<Utc>>,
    /// When it was withdrawn (the rejection that undid its trigger).
    pub withdrawn: Option<DateTime<Utc>>,
    pub lest: Option<String>,
    pub because: Explanation,
}

/// What [`evaluate`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub at: DateTime<Utc>,
    /// Ordered by trigger time, clause, party.
    pub obligations: Vec<Obligation>,
    /// Actions that name no obligation (a typo, or one withdrawn since).
    pub unmatched_actions: Vec<usize>,
}

/// Incidents, their placements and standings (parallel slices), and their violations.
pub struct Evidence<'a> {
    pub incidents: &'a [Incident],
    pub placements: &'a [Placement],
    pub standings: &'a [Standing],
    pub violations: &'a [Violation],
}

struct Trigger {
    t_ms: i64,
    /// (incident, start of the availability interval used).
    used: BTreeSet<(usize, i64)>,
    breached: Vec<String>,
    /// The earliest instant (at or before the evaluation) at which a used incident
    /// stopped counting (an analyst rejected it).
    retracted_ms: Option<i64>,
}

/// A breach event of an earlier clause's obligation.
struct Breach {
    id: String,
    at_ms: i64,
}

/// One incident's availability to a counting condition: it counts from `start` until
/// `end` (None: still counts).
#[derive(Clone, Copy)]
struct Item {
    occ: i64,
    start: i64,
    end: Option<i64>,
    inc: usize,
}

struct Scan<'a> {
    a: &'a Agreement,
    ev: &'a Evidence<'a>,
    /// Violations by incident.
    by_incident: BTreeMap<usize, Vec<&'a crate::Violation>>,
    at_ms: i64,
}

impl Scan<'_> {
    /// The matching items of a counting condition, by start.
    fn items(&self, clause: &Clause, spec: &CountSpec, violations: bool) -> Vec<Item> {
        let from = clause.from.timestamp_millis();
        let mut out = Vec::new();
        for (i, inc) in self.ev.incidents.iter().enumerate() {
            let occ = inc.mid_ms();
            if occ < from {
                continue;
            }
            let pl = &self.ev.placements[i];
            let mut need = spec.min_confidence;
            if violations {
                let Some(vs) = self.by_incident.get(&i) else { continue };
                let ok: Vec<&&Violation> = vs
                    .iter()
                    .filter(|v| {
                        v.severity >= spec.min_severity
                            && (spec.rules.is_empty() || spec.rules.contains(&v.rule))
                            && (spec.zones.is_empty() || spec.zones.iter().any(|z| pl.zones.contains(z)))
                    })
                    .collect();
                if ok.is_empty() {
                    continue;
                }
                // The laxest of the rules that flag it, but never below the clause's need.
                let rule_need = ok.iter().map(|v| v.min_confidence).min().unwrap_or(Confidence::SingleSource);
                need = need.max(rule_need);
                if place_ok(&spec.kinds, &spec.sides, &[], spec.min_distance_km, spec.max_distance_km, inc, false, pl).is_none() {
                    continue;
                }
            } else if place_ok(&spec.kinds, &spec.sides, &spec.zones, spec.min_distance_km, spec.max_distance_km, inc, true, pl).is_none() {
                continue;
            }
            for (start, end) in self.ev.standings[i].intervals(need) {
                if start <= self.at_ms {
                    out.push(Item { occ, start, end: end.filter(|e| *e <= self.at_ms), inc: i });
                }
            }
        }
        out.sort_by_key(|x| (x.start, x.occ, x.inc));
        out
    }

    fn first_count(&self, clause: &Clause, spec: &CountSpec, violations: bool, spent: &BTreeSet<(usize, i64)>) -> Option<Trigger> {
        let items: Vec<Item> = self.items(clause, spec, violations).into_iter().filter(|x| !spent.contains(&(x.inc, x.start))).collect();
        let n = spec.count as usize;
        // Items that have started, by (occurrence, incident); each incident's current end.
        let mut seen: BTreeSet<(i64, usize)> = BTreeSet::new();
        let mut end_of: BTreeMap<usize, (i64, Option<i64>)> = BTreeMap::new();
        let trigger = |t: i64, used: Vec<usize>, end_of: &BTreeMap<usize, (i64, Option<i64>)>| Trigger {
            t_ms: t,
            retracted_ms: used.iter().filter_map(|i| end_of[i].1).min(),
            used: used.into_iter().map(|i| (i, end_of[&i].0)).collect(),
            breached: vec![],
        };
        let mut k = 0;
        while k < items.len() {
            let t = items[k].start;
            let group_start = k;
            while k < items.len() && items[k].start == t {
                seen.insert((items[k].occ, items[k].inc));
                end_of.insert(items[k].inc, (items[k].start, items[k].end));
                k += 1;
            }
            let live = |x: &(i64, usize)| end_of[&x.1].1.is_none_or(|e| e > t);
            match spec.window {
                None => {
                    let live_now: Vec<usize> = seen.iter().filter(|x| live(x)).map(|x| x.1).take(n).collect();
                    if live_now.len() >= n {
                        return Some(trigger(t, live_now, &end_of));
                    }
                }
                Some(w) => {
                    let w = w.num_milliseconds();
                    // A new window must hold one of the items just added (else it held before).
                    for it in &items[group_start..k] {
                        let occ = it.occ;
                        let near: Vec<(i64, usize)> = seen.range((occ - w, 0)..=(occ + w, usize::MAX)).filter(|x| live(x)).copied().collect();
                        let mut lo = 0;
                        for hi in 0..near.len() {
                            while near[hi].0 - near[lo].0 > w {
                                lo += 1;
                            }
                            if hi + 1 - lo >= n && near[lo].0 <= occ && occ <= near[hi].0 {
                                return Some(trigger(t, near[lo..=hi].iter().map(|x| x.1).collect(), &end_of));
                            }
                        }
                    }
                }
            }
        }
        None
    }

    fn first(&self, clause: &Clause, c: &Condition, spent: &BTreeSet<(usize, i64)>, spent_breaches: &BTreeSet<String>, breaches: &BTreeMap<String, Vec<Breach>>) -> Option<Trigger> {
        match c {
            Condition::Violations(s) => self.first_count(clause, s, true, spent),
            Condition::Incidents(s) => self.first_count(clause, s, false, spent),
            Condition::Breached { clause: other } => {
                let open: Vec<&Breach> = breaches
                    .get(other)?
                    .iter()
                    .filter(|b| !spent_breaches.contains(&b.id) && b.at_ms <= self.at_ms && b.at_ms >= clause.from.timestamp_millis())
                    .collect();
                let t = open.iter().map(|b| b.at_ms).min()?;
                // Breaches at the same instant trigger once, together.
                let ids: Vec<String> = open.iter().filter(|b| b.at_ms == t).map(|b| b.id.clone()).collect();
                Some(Trigger { t_ms: t, used: BTreeSet::new(), breached: ids, retracted_ms: None })
            }
            Condition::Any(v) => v
                .iter()
                .filter_map(|s| self.first(clause, s, spent, spent_breaches, breaches))
                .min_by_key(|t| t.t_ms),
            Condition::All(v) => {
                let mut out = Trigger { t_ms: i64::MIN, used: BTreeSet::new(), breached: vec![], retracted_ms: None };
                for s in v {
                    let t = self.first(clause, s, spent, spent_breaches, breaches)?;
                    out.t_ms = out.t_ms.max(t.t_ms);
                    out.used.extend(t.used);
                    out.breached.extend(t.breached);
                    out.retracted_ms = [out.retracted_ms, t.retracted_ms].into_iter().flatten().min();
                }
                Some(out)
            }
        }
    }

    /// Every obligation, in clause order; breaches of earlier clauses feed later ones.
    fn run(&self, actions: &[Action]) -> Vec<Obligation> {
        let mut breaches: BTreeMap<String, Vec<Breach>> = BTreeMap::new();
        let mut out = Vec::new();
        for &ci in &self.a.clause_order {
            let clause = &self.a.clauses[ci];
            let mut spent = BTreeSet::new();
            let mut spent_breaches = BTreeSet::new();
            let mut ids_seen: BTreeMap<String, usize> = BTreeMap::new();
            // A party named by several duties of the clause gets the duty's number in its ids.
            let mut duties_of: BTreeMap<&str, usize> = BTreeMap::new();
            for d in &clause.duties {
                for p in &d.parties {
                    *duties_of.entry(p).or_default() += 1;
                }
            }
            for _ in 0..TRIGGERS_PER_CLAUSE_MAX {
                let Some(tr) = self.first(clause, &clause.when, &spent, &spent_breaches, &breaches) else { break };
                spent.extend(tr.used.iter().copied());
                spent_breaches.extend(tr.breached.iter().cloned());
                let triggered = DateTime::from_timestamp_millis(tr.t_ms).unwrap_or_default();
                let incidents = tr
                    .used
                    .iter()
                    .map(|&(i, _)| i)
                    .collect::<BTreeSet<usize>>()
                    .into_iter()
                    .map(|i| {
                        let mut rules: Vec<String> = self.by_incident.get(&i).map_or(vec![], |v| v.iter().map(|v| v.rule.clone()).collect());
                        rules.dedup();
                        (self.ev.incidents[i].id.clone(), rules)
                    })
                    .collect::<Vec<_>>();
                let retracted = tr.retracted_ms.and_then(DateTime::from_timestamp_millis);
                for (j, duty) in clause.duties.iter().enumerate() {
                    for party in &duty.parties {
                        let mut base = format!("{}/{}/{}", clause.id, party, triggered.format("%Y%m%dT%H%M%S%.fZ"));
                        if duties_of[party.as_str()] > 1 {
                            base = format!("{base}/{}", j + 1);
                        }
                        let n = ids_seen.entry(base.clone()).or_insert(0);
                        *n += 1;
                        let id = if *n == 1 { base } else { format!("{base}#{n}") };
                        let deadline = triggered + duty.within;
                        let done = actions
                            .iter()
                            .filter(|x| x.obligation == id && &x.party == party && x.at.timestamp_millis() <= self.at_ms && x.at >= triggered)
                            .map(|x| x.at)
                            .min();
                        let mut status = match done {
                            Some(t) if t <= deadline => Status::Fulfilled,
                            Some(_) => Status::Breached,
                            None if self.at_ms > deadline.timestamp_millis() => Status::Breached,
                            None => Status::Pending,
                        };
                        // A rejection of an incident it rested on withdraws it, unless it was
                        // met or missed before that.
                        let mut withdrawn = None;
                        if let Some(r) = retracted {
                            let settled = done.is_some_and(|f| f <= r && f <= deadline) || deadline < r;
                            if !settled {
                                status = Status::Withdrawn;
                                withdrawn = Some(r);
                            }
                        }
                        if status == Status::Breached {
                            breaches.entry(clause.id.clone()).or_default().push(Breach { id: id.clone(), at_ms: deadline.timestamp_millis() + 1 });
                        }
                        out.push(Obligation {
                            id,
                            clause: clause.id.clone(),
                            title: clause.title.clone(),
                            party: party.clone(),
                            action: duty.action.clone(),
                            triggered,
                            deadline,
                            status,
                            fulfilled: done.filter(|_| status != Status::Withdrawn),
                            withdrawn,
                            lest: clause.lest.clone(),
                            because: Explanation {
                                condition: clause.when.to_string(),
                                incidents: incidents.clone(),
                                breached: tr.breached.clone(),
                            },
                        });
                    }
                }
            }
        }
        out
    }
}

/// Evaluates every clause at `at`. Pure: the same inputs give the same obligations.
pub fn evaluate(a: &Agreement, ev: &Evidence, actions: &[Action], at: DateTime<Utc>) -> Evaluation {
    let mut by_incident: BTreeMap<usize, Vec<&Violation>> = BTreeMap::new();
    for v in ev.violations {
        by_incident.entry(v.incident).or_default().push(v);
    }
    let mut obligations = Scan { a, ev, by_incident, at_ms: at.timestamp_millis() }.run(actions);
    obligations.sort_by(|x, y| (x.triggered, &x.clause, &x.party, &x.id).cmp(&(y.triggered, &y.clause, &y.party, &y.id)));
    let ids: BTreeSet<&str> = obligations.iter().map(|o| o.id.as_str()).collect();
    let unmatched_actions = actions.iter().enumerate().filter(|(_, x)| !ids.contains(x.obligation.as_str())).map(|(i, _)| i).collect();
    Evaluation { at, obligations, unmatched_actions }
}

/// One event in an obligation's life, as written to the evidence log.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObligationEvent {
    pub at: DateTime<Utc>,
    pub obligation: String,
    /// `raised`, `fulfilled`, `breached` or `withdrawn`.
    pub event: &'static str,
    pub party: String,
    pub clause: String,
    pub deadline: DateTime<Utc>,
}

/// The events of an evaluation's obligations up to its instant, oldest first.
pub fn events(e: &Evaluation) -> Vec<ObligationEvent> {
    let mut out = Vec::new();
    for o in &e.obligations {
        let ev = |at: DateTime<Utc>, event: &'static str| ObligationEvent {
            at,
            obligation: o.id.clone(),
            event,
            party: o.party.clone(),
            clause: o.clause.clone(),
            deadline: o.deadline,
        };
        out.push(ev(o.triggered, "raised"));
        if let Some(f) = o.fulfilled {
            out.push(ev(f, "fulfilled"));
        }
        if o.status == Status::Breached {
            out.push(ev(o.deadline, "breached"));
        }
        if let Some(w) = o.withdrawn {
            out.push(ev(w, "withdrawn"));
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests;
