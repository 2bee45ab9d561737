use super::*;
use truce_incidents::{Decision, Verdict};

const H: i64 = 3_600_000;
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

const AGREEMENT: &str = r#"
[agreement]
id = "unit"
title = "Unit"
version = "1"
ceasefire_start = 2026-01-01T00:00:00Z
[[parties]]
id = "D"
roles = ["defended"]
[[parties]]
id = "G"
roles = ["guarantor"]
[[zones]]
name = "buffer"
band = { side = "either", max_km = 15 }
[[withdrawal]]
weapon_class = "mlrs"
km = 70
[[rules]]
id = "fire"
kinds = ["shelling", "fire"]
zones = ["buffer"]
severity = 2
[[rules]]
id = "mlrs"
kinds = ["weapon_sighting"]
weapon_in_withdrawal_zone = true
severity = 3
[[clauses]]
id = "c"
when = { violations = { count = 2, window = "24h", min_confidence = "single_source" } }
then = [{ party = "guarantors", action = "consult", within = "24h" }]
"#;

fn inc(id: &str, h: i64, kinds: Vec<ObservationKind>) -> Incident {
    Incident {
        id: id.into(),
        members: vec![],
        member_ids: vec![id.trim_start_matches("I-").into()],
        sources: vec!["x".into()],
        kinds,
        start_ms: T0 + h * H,
        end_ms: T0 + h * H,
        lon: 37.0,
        lat: 48.0,
        uncertainty_m: 100.0,
        extent_km: 0.0,
        war_fire: false,
        weapon_classes: vec![],
        restricted: false,
        received_ms: T0 + h * H,
        corroborated_ms: None,
    }
}

fn buffer() -> Placement {
    Placement { side: Some(Side::Held), distance_km: Some(3.0), zones: vec!["buffer".into()], region: None }
}

#[test]
fn rules_cite_zones_and_respect_war_fires() {
    let a = Agreement::parse("a.toml", AGREEMENT).unwrap();
    let mut fire = inc("I-f", 1, vec![ObservationKind::Fire]);
    let shell = inc("I-s", 2, vec![ObservationKind::Shelling]);
    let before = inc("I-b", -5, vec![ObservationKind::Shelling]);
    let mut w = inc("I-w", 3, vec![ObservationKind::WeaponSighting]);
    w.weapon_classes = vec!["mlrs".into()];
    let wpl = Placement { side: Some(Side::Occupied), distance_km: Some(-40.0), zones: vec!["withdrawal:mlrs:occupied".into()], region: None };
    let far = Placement { side: Some(Side::Occupied), distance_km: Some(-90.0), zones: vec![], region: None };
    let incs = vec![fire.clone(), shell.clone(), before, w.clone(), w];
    let pls = vec![buffer(), buffer(), buffer(), wpl, far];
    let v = violations(&a, &incs, &pls);
    let got: Vec<(&str, &str, Vec<String>)> = v.iter().map(|v| (v.rule.as_str(), v.incident_id.as_str(), v.zones.clone())).collect();
    // The unflagged fire, the pre-ceasefire shelling and the far launcher are not violations.
    assert_eq!(got, [("fire", "I-s", vec!["buffer".to_string()]), ("mlrs", "I-w", vec!["withdrawal:mlrs:occupied".to_string()])]);
    fire.war_fire = true;
    let v = violations(&a, &[fire], &[buffer()]);
    assert_eq!(v.len(), 1);
}

#[test]
fn two_violations_in_a_day_raise_a_duty_per_guarantor() {
    let a = Agreement::parse("a.toml", AGREEMENT).unwrap();
    let incs = vec![inc("I-a", 1, vec![ObservationKind::Shelling]), inc("I-b", 20, vec![ObservationKind::Shelling]), inc("I-c", 60, vec![ObservationKind::Shelling])];
    let pls = vec![buffer(); 3];
    let vs = violations(&a, &incs, &pls);
    let at = DateTime::from_timestamp_millis(T0 + 100 * H).unwrap();
    let decisions: Vec<Decision> = vec![];
    let st: Vec<Standing> = incs.iter().map(|i| Standing::of(i, &decisions, at.timestamp_millis())).collect();
    let ev = Evidence { incidents: &incs, placements: &pls, standings: &st, violations: &vs };
    let e = evaluate(&a, &ev, &[], at);
    assert_eq!(e.obligations.len(), 1);
    let o = &e.obligations[0];
    assert_eq!(o.id, "c/G/20260101T200000Z");
    assert_eq!(o.status, Status::Breached);
    assert_eq!(o.because.incidents.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["I-a", "I-b"]);
    // Rejecting I-b withdraws it (the third is 40 h later: no new pair).
    let d = vec![Decision { incident: "I-b".into(), verdict: Verdict::Reject, reason: "r".into(), analyst: "x".into(), at: DateTime::from_timestamp_millis(T0 + 30 * H).unwrap() }];
    let st: Vec<Standing> = incs.iter().map(|i| Standing::of(i, &d, at.timestamp_millis())).collect();
    let ev = Evidence { incidents: &incs, placements: &pls, standings: &st, violations: &vs };
    let e = evaluate(&a, &ev, &[], at);
    // Its deadline (44 h) had not passed at the rejection (30 h): withdrawn.
    assert_eq!(e.obligations.len(), 1);
    assert_eq!(e.obligations[0].status, Status::Withdrawn);
    let evs = events(&e);
    assert_eq!(evs.iter().map(|e| e.event).collect::<Vec<_>>(), ["raised", "withdrawn"]);
}

#[test]
fn actions_file_errors_name_the_line() {
    let good = r#"{"obligation":"c/G/20260101T200000Z","party":"G","at":"2026-01-02T00:00:00Z","note":"met","by":"liaison-g"}"#;
    assert_eq!(read_actions("a.jsonl", good.as_bytes()).unwrap().len(), 1);
    let e = read_actions("a.jsonl", format!("{good}\n{}", good.replace("\"G\"", "\"\"")).as_bytes()).unwrap_err();
    assert_eq!(e.to_string(), "a.jsonl:2: party: empty or longer than 4096 bytes");
    let e = read_actions("a.jsonl", b"{\"obligation\":1}").unwrap_err();
    assert!(e.to_string().starts_with("a.jsonl:1: invalid type"), "{e}");
}
