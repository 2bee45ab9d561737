//! Data-driven clause scenarios: each `tests/scenarios/*.toml` gives incidents (already
//! placed), analysts' decisions, recorded actions and an instant, and lists exactly the
//! obligations the clause engine must return then. Format: see `scenarios/README.md`.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use truce_agreement::Agreement;
use truce_incidents::{Decision, Incident, Standing, Verdict};
use truce_model::{ObservationKind, Side};
use truce_obligations::{evaluate, events, violations, Action, Evidence, Placement, Status};

/// A TOML datetime with an offset, as a UTC instant.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ts(DateTime<Utc>);

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::value::Datetime::deserialize(d)?;
        DateTime::parse_from_rfc3339(&v.to_string()).map(|t| Ts(t.with_timezone(&Utc))).map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    #[serde(default)]
    agreement: Option<String>,
    at: Ts,
    #[serde(default)]
    incidents: Vec<Inc>,
    #[serde(default)]
    decisions: Vec<Dec>,
    #[serde(default)]
    actions: Vec<Act>,
    #[serde(default)]
    expect: Vec<Expect>,
    /// Expected violations as "rule incident" strings (optional check).
    #[serde(default)]
    expect_violations: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Inc {
    id: String,
    kinds: Vec<ObservationKind>,
    start: Ts,
    #[serde(default)]
    end: Option<Ts>,
    side: Side,
    distance_km: f64,
    #[serde(default)]
    zones: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    received: Option<Ts>,
    #[serde(default)]
    corroborated: Option<Ts>,
    #[serde(default)]
    war_fire: bool,
    #[serde(default)]
    weapon_classes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Dec {
    incident: String,
    verdict: Verdict,
    at: Ts,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Act {
    obligation: String,
    party: String,
    at: Ts,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expect {
    clause: String,
    party: String,
    status: Status,
    triggered: Ts,
    #[serde(default)]
    deadline: Option<Ts>,
    /// The incidents the explanation must cite (in order), when given.
    #[serde(default)]
    incidents: Option<Vec<String>>,
}

fn run(path: &Path, agreements: &mut BTreeMap<String, Agreement>) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let s: Scenario = toml::from_str(&text).map_err(|e| format!("{e}"))?;
    let dir = path.parent().unwrap();
    let name = s.agreement.clone().unwrap_or_else(|| "agreement.toml".into());
    if !agreements.contains_key(&name) {
        let p = dir.join(&name);
        let t = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        agreements.insert(name.clone(), Agreement::parse(&p.display().to_string(), &t).map_err(|e| e.to_string())?);
    }
    let a = &agreements[&name];
    let mut incidents = Vec::new();
    let mut placements = Vec::new();
    for i in &s.incidents {
        let start = i.start.0.timestamp_millis();
        incidents.push(Incident {
            id: i.id.clone(),
            members: vec![],
            member_ids: vec![i.id.trim_start_matches("I-").to_string()],
            sources: i.sources.clone(),
            kinds: i.kinds.clone(),
            start_ms: start,
            end_ms: i.end.map_or(start, |e| e.0.timestamp_millis()),
            lon: 0.0,
            lat: 0.0,
            uncertainty_m: 100.0,
            extent_km: 0.0,
            war_fire: i.war_fire,
            weapon_classes: i.weapon_classes.clone(),
            restricted: false,
            received_ms: i.received.map_or(start, |r| r.0.timestamp_millis()),
            corroborated_ms: i.corroborated.map(|c| c.0.timestamp_millis()),
        });
        for z in &i.zones {
            if a.zone_index(z).is_none() {
                return Err(format!("incident {}: unknown zone {z}", i.id));
            }
        }
        placements.push(Placement { side: Some(i.side), distance_km: Some(i.distance_km), zones: i.zones.clone(), region: None });
    }
    let decisions: Vec<Decision> = s
        .decisions
        .iter()
        .map(|d| Decision { incident: d.incident.clone(), verdict: d.verdict, reason: "scenario".into(), analyst: "analyst-1".into(), at: d.at.0 })
        .collect();
    let actions: Vec<Action> = s
        .actions
        .iter()
        .map(|x| Action { obligation: x.obligation.clone(), party: x.party.clone(), at: x.at.0, note: "done".into(), by: "liaison".into() })
        .collect();
    let at = s.at.0;
    let at_ms = at.timestamp_millis();
    let standings: Vec<Standing> = incidents.iter().map(|i| Standing::of(i, &decisions, at_ms)).collect();
    let vs = violations(a, &incidents, &placements);
    if let Some(want) = &s.expect_violations {
        let got: Vec<String> = vs.iter().map(|v| format!("{} {}", v.rule, v.incident_id)).collect();
        if &got != want {
            return Err(format!("violations: want {want:?}\n got {got:?}"));
        }
    }
    let ev = Evidence { incidents: &incidents, placements: &placements, standings: &standings, violations: &vs };
    let e = evaluate(a, &ev, &actions, at);
    // Determinism: the same inputs, the same answer.
    if evaluate(a, &ev, &actions, at) != e {
        return Err("two evaluations differ".into());
    }
    let mut got: Vec<String> = e
        .obligations
        .iter()
        .map(|o| format!("{} {} {} triggered {} deadline {}", o.clause, o.party, o.status.as_str(), o.triggered.to_rfc3339(), o.deadline.to_rfc3339()))
        .collect();
    let mut want: Vec<String> = Vec::new();
    for x in &s.expect {
        let o = e
            .obligations
            .iter()
            .find(|o| o.clause == x.clause && o.party == x.party && o.triggered == x.triggered.0 && x.deadline.is_none_or(|d| d.0 == o.deadline))
            .ok_or_else(|| format!("expected {} {} triggered {:?} not raised;\n got:\n  {}", x.clause, x.party, x.triggered, got.join("\n  ")))?;
        want.push(format!("{} {} {} triggered {} deadline {}", x.clause, x.party, x.status.as_str(), x.triggered.0.to_rfc3339(), x.deadline.map_or(o.deadline, |d| d.0).to_rfc3339()));
        if let Some(ids) = &x.incidents {
            let cited: Vec<&String> = o.because.incidents.iter().map(|(i, _)| i).collect();
            if cited.iter().map(|s| s.as_str()).ne(ids.iter().map(|s| s.as_str())) {
                return Err(format!("{}: cites {cited:?}, expected {ids:?}", o.id));
            }
        }
    }
    got.sort();
    want.sort();
    if got != want {
        return Err(format!("{}\nwant:\n  {}\n got:\n  {}", s.description, want.join("\n  "), got.join("\n  ")));
    }
    // Every obligation's life is in its events, oldest first.
    let evs = events(&e);
    if evs.windows(2).any(|w| w[0].at > w[1].at) || evs.iter().filter(|x| x.event == "raised").count() != e.obligations.len() {
        return Err("events out of order or missing".into());
    }
    Ok(e.obligations.len())
}

#[test]
fn clause_scenarios() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.file_name().is_some_and(|n| n != "agreement.toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "only {} scenarios", files.len());
    let mut agreements = BTreeMap::new();
    let mut failures = Vec::new();
    let mut raised = 0;
    for f in &files {
        match run(f, &mut agreements) {
            Ok(n) => raised += n,
            Err(e) => failures.push(format!("{}: {e}", f.file_name().unwrap().to_string_lossy())),
        }
    }
    println!("{} scenarios, {raised} obligations checked", files.len());
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
