use super::*;

const BASE: &str = r#"[agreement]
id = "t"
title = "Test"
version = "1"
ceasefire_start = 2015-02-15T00:00:00+02:00

[[parties]]
id = "UA"
roles = ["defended"]
[[parties]]
id = "US"
roles = ["guarantor", "monitor"]
[[parties]]
id = "GB"
roles = ["guarantor"]
[[parties]]
id = "RU"
roles = ["adversary"]

[groups]
europeans = ["GB"]

[geometry]
occupied = [{ file = "ordlo.geojson", from = 2015-02-15T00:00:00+02:00 }]
admin = "admin.geojson"

[[zones]]
name = "security"
band = { side = "either", max_km = 15 }

[[withdrawal]]
weapon_class = "mlrs"
km = 70

[[rules]]
id = "shelling"
kinds = ["shelling"]
zones = ["security"]
severity = 2

[[clauses]]
id = "consult"
when = { any = [{ violations = { count = 3, window = "24h" } }, { breached = { clause = "report" } }] }
then = [{ party = "guarantors", action = "consult", within = "24h" }]

[[clauses]]
id = "report"
when = { incidents = { kinds = ["strike"], sides = ["held"], min_distance_km = 30 } }
then = [{ party = "monitors", action = "report", within = "12h" }]
lest = "the guarantors meet without the report"
"#;

fn parse(t: &str) -> Result<Agreement, AgreementError> {
    Agreement::parse("a.toml", t)
}

fn err(t: &str) -> String {
    parse(t).unwrap_err().to_string()
}

#[test]
fn base_parses_with_everything_resolved() {
    let a = parse(BASE).unwrap();
    assert_eq!(a.ceasefire_start.to_rfc3339(), "2015-02-14T22:00:00+00:00");
    assert_eq!(a.groups["guarantors"], ["US", "GB"]);
    assert_eq!(a.groups["monitors"], ["US"]);
    assert_eq!(a.groups["europeans"], ["GB"]);
    let names: Vec<&str> = a.zones.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(names, ["security", "withdrawal:mlrs:held", "withdrawal:mlrs:occupied"]);
    assert_eq!(a.zones[2].shape, ZoneShape::Band { side: BandSide::Occupied, min_km: 0.0, max_km: 70.0 });
    assert_eq!(a.rules[0].from, a.ceasefire_start);
    assert!(a.rules[0].war_fires_only);
    assert_eq!(a.clauses[0].duties[0].within, chrono::Duration::hours(24));
    // `report` must be evaluated before `consult`, which depends on its breach.
    assert_eq!(a.clause_order, [1, 0]);
    assert_eq!(a.geometry.occupied[0].1.to_rfc3339(), "2015-02-14T22:00:00+00:00");
    assert_eq!(a.path("ordlo.geojson"), Path::new("ordlo.geojson"));
    let b = Agreement::parse("examples/a.toml", BASE).unwrap();
    assert_eq!(b.path("x/ordlo.geojson"), Path::new("examples/x/ordlo.geojson"));
    assert_eq!(a.sha256.len(), 64);
    let text = a.clauses[0].when.to_string();
    assert_eq!(text, "(at least 3 verified violation(s) within 24 h or an obligation of clause report breached)");
}

#[test]
fn errors_name_line_and_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("ceasefire_start = 2015-02-15T00:00:00+02:00", "ceasefire_start = 2015-02-15T00:00:00",
         "a.toml:5: agreement.ceasefire_start: 2015-02-15T00:00:00 has no UTC offset"),
        ("roles = [\"adversary\"]", "roles = [\"aggressor\"]", "a.toml:18: unknown variant `aggressor`"),
        ("kinds = [\"shelling\"]", "kinds = [\"shellin\"]", "a.toml:37: rules[0].kinds: unknown ObservationKind `shellin`"),
        ("zones = [\"security\"]", "zones = [\"securty\"]", "a.toml:38: rules[0].zones: unknown zone `securty`"),
        ("severity = 2", "severity = 9", "a.toml:39: rules[0].severity: 9 is outside 1..=5"),
        ("window = \"24h\"", "window = \"a day\"", "a.toml:43: clauses[0].when.any[0].violations.window: `a day` is not a duration"),
        ("clause = \"report\"", "clause = \"reprot\"", "a.toml:43: clauses[0].when.any[1].breached.clause: unknown clause `reprot`"),
        ("party = \"monitors\"", "party = \"monitor\"", "a.toml:49: clauses[1].then[0].party: unknown party or group `monitor`"),
        ("within = \"12h\"", "within = \"0s\"", "a.toml:49: clauses[1].then[0].within: `0s` must be positive"),
        ("max_km = 15", "max_km = -15", "a.toml:29: zones[0].band: -15 km is outside [0, 5000]"),
        ("km = 70", "kms = 70", "a.toml:33: unknown field `kms`"),
        ("[groups]", "[publication]\nrestricted_sources = [\"acled\", \"twitter\"]\n[groups]", "a.toml:21: publication.restricted_sources[1]: unknown SourceKind `twitter`"),
        ("europeans = [\"GB\"]", "europeans = [\"FR\"]", "a.toml:21: groups.europeans: unknown party `FR`"),
        ("min_distance_km = 30 }", "min_distance_km = 30, rules = [\"shelling\"] }", "a.toml:48: clauses[1].when.incidents: `rules` and `min_severity` apply to `violations`"),
    ];
    for (from, to, want) in cases {
        assert!(BASE.contains(from), "{from}");
        let got = err(&BASE.replacen(from, to, 1));
        assert!(got.starts_with(want), "\nwant {want}\n got {got}");
    }
}

#[test]
fn cycles_and_duplicates_are_refused() {
    let t = BASE.replace(
        "when = { incidents = { kinds = [\"strike\"], sides = [\"held\"], min_distance_km = 30 } }",
        "when = { breached = { clause = \"consult\" } }",
    );
    let e = err(&t);
    assert!(e.contains("depends on its own breach"), "{e}");
    let t = BASE.replace("id = \"GB\"", "id = \"US\"");
    assert!(err(&t).starts_with("a.toml:14: parties[2].id: party `US` is defined twice"), "{}", err(&t));
    let t = BASE.replace("roles = [\"defended\"]", "roles = [\"guarantor\"]");
    assert!(err(&t).contains("no party has the role `defended`"));
    let t = BASE.replace("id = \"report\"", "id = \"consult\"").replace("clause = \"report\"", "clause = \"consult\"");
    assert!(err(&t).contains("clause `consult` is defined twice"), "{}", err(&t));
}

#[test]
fn limits_and_garbage_never_panic() {
    let big = "#".repeat(AGREEMENT_BYTES_MAX + 1);
    assert!(matches!(parse(&big), Err(AgreementError::Limit { .. })));
    for t in ["", "[agreement", "\u{0}", "agreement = 3", "[[clauses]]\nid=1"] {
        assert!(parse(t).is_err());
    }
    let e = err("[agreement\nid = 3");
    assert!(e.starts_with("a.toml:1: "), "{e}");
    // Every prefix of a valid file either parses or fails cleanly.
    for cut in (0..BASE.len()).step_by(7) {
        if BASE.is_char_boundary(cut) {
            let _ = parse(&BASE[..cut]);
        }
    }
}
