//! Patrol reports through `read()`: the constructed SMM-style fixture (every
//! observation and gap checked), exact messages for bad inputs, strict mode,
//! duplicates, limits, and the coverage gaps as JSON lines.

use truce_ingest::patrol::{PATROL_EVENTS_MAX, POSITION_UNCERTAINTY_M};
use truce_ingest::{
    detect, read, read_gaps, read_patrol, read_with_gaps, write_gaps, Format, IngestError, ReadOptions,
};
use truce_model::{observations_from_batch, GapArea, GapReason, Observation, SourceKind};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/patrol/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn all(b: &[arrow_array::RecordBatch]) -> Vec<Observation> {
    b.iter().flat_map(|b| observations_from_batch(b).unwrap()).collect()
}

fn attrs(o: &Observation) -> serde_json::Value {
    serde_json::from_str(&o.attributes).unwrap()
}

const STRICT: ReadOptions = ReadOptions {
    strict: true,
    drop_duplicates: false,
    format: None,
};

/// `kind class calibre total located precision ±radius`, one line per observation.
fn describe(o: &Observation) -> String {
    let a = attrs(o);
    format!(
        "{} {} {} {} {} {} ±{:.0}",
        o.kind, a["weapon_class"], a["calibre_mm"], a["total"], a["located"], o.time.precision, o.uncertainty_m
    )
}

#[test]
fn smm_style_report() {
    let bytes = fixture("smm_2019-07-12.json");
    assert_eq!(detect(&bytes), Some(Format::Patrol));
    let got = read_patrol("smm.json", &bytes, &ReadOptions::default()).unwrap();
    let s = &got.ingested.summary;
    assert_eq!(
        (s.format, s.rows_read, s.rows_kept, s.rejected_total(), s.duplicates),
        (Format::Patrol, 13, 13, 0, 0)
    );
    let obs = all(&got.ingested.batches);
    let lines: Vec<String> = obs.iter().map(describe).collect();
    assert_eq!(
        lines,
        [
            r#"explosion "other" null 12 "bearing_and_distance" hour ±2021"#,
            r#"shelling "other" null 8 "bearing_and_distance" minute ±1215"#,
            r#"small_arms "small_arms" null 40 "bearing_and_distance" hour ±607"#,
            r#"shelling "artillery_100mm_plus" 122.0 4 "bearing_and_distance" minute ±1975"#,
            r#"explosion "mortar" 82.0 6 "bearing_and_distance" minute ±1186"#,
            r#"explosion "other" null 3 "observer_default_range" hour ±10000"#,
            r#"weapon_sighting "artillery_100mm_plus" 122.0 9 "absolute" minute ±300"#,
            r#"weapon_sighting "mlrs" 122.0 2 "bearing_and_distance" minute ±845"#,
            r#"flare "other" null 4 "bearing_and_distance" minute ±2021"#,
            r#"explosion "mlrs" 122.0 20 "bearing_and_distance" hour ±3853"#,
            r#"weapon_sighting "tank" 125.0 12 "absolute" day ±100"#,
            r#"weapon_sighting "artillery_100mm_plus" 100.0 3 "observer_default_range" day ±2000"#,
            r#"weapon_sighting "artillery_100mm_plus" 152.0 8 "observer_default_range" day ±2000"#,
        ]
    );
    for (i, o) in obs.iter().enumerate() {
        assert_eq!(o.source, SourceKind::Patrol);
        // Provenance: the row index, so ids are unique in any layout.
        assert_eq!(o.provenance.line, i as u64 + 1);
        assert_eq!(o.provenance.file_sha256, s.sha256);
    }

    // "The SMM camera at Shyrokyne recorded 12 undetermined explosions 3-5km east":
    // one observation, 4 km east of the camera, local time read as UTC.
    let e = &obs[0];
    let a = attrs(e);
    assert_eq!(e.time.start.to_rfc3339(), "2019-07-11T18:14:00+00:00");
    assert_eq!(e.time.end.to_rfc3339(), "2019-07-11T18:37:00+00:00");
    assert!(
        (e.lon - 37.8213).abs() < 1e-4 && (e.lat - 47.0947).abs() < 1e-4,
        "{e:?}"
    );
    assert_eq!(
        a["counts"],
        serde_json::json!({"explosions": 12, "projectiles": 0, "muzzle_flashes": 0, "flares": 0, "bursts": 0, "shots": 0})
    );
    assert_eq!(
        (
            &a["report_id"],
            &a["monitor"],
            &a["post_kind"],
            &a["perception"],
            &a["direction"]
        ),
        (
            &serde_json::json!("SMM-DR-2019-07-12/DON"),
            &serde_json::json!("SMM Donetsk hub"),
            &serde_json::json!("camera"),
            &serde_json::json!(["camera"]),
            &serde_json::json!("undetermined")
        )
    );
    assert_eq!(
        (&a["bearing"], &a["bearing_deg"], &a["bearing_uncertainty_deg"]),
        (
            &serde_json::json!("E"),
            &serde_json::json!(90.0),
            &serde_json::json!(22.5)
        )
    );
    // Every event has the same keys, every sighting too.
    let keys = |o: &Observation| -> Vec<String> { attrs(o).as_object().unwrap().keys().cloned().collect() };
    for o in &obs[1..6] {
        assert_eq!(keys(o), keys(&obs[0]));
    }
    for o in &obs[7..8] {
        assert_eq!(keys(o), keys(&obs[6]));
    }
    // The weapons seen: storage and whether that is in storage.
    let storage: Vec<(String, String)> = obs
        .iter()
        .filter(|o| o.kind == truce_model::ObservationKind::WeaponSighting)
        .map(|o| {
            let a = attrs(o);
            (a["storage"].as_str().unwrap().to_string(), a["in_storage"].to_string())
        })
        .collect();
    assert_eq!(
        storage,
        [
            ("in_violation_of_withdrawal_lines".to_string(), "false".to_string()),
            ("in_violation_of_withdrawal_lines".into(), "false".into()),
            ("training_area".into(), "false".into()),
            ("beyond_withdrawal_lines".into(), "false".into()),
            ("permanent_storage_site".into(), "true".into()),
        ]
    );

    // Coverage gaps: two restrictions of movement and one camera outage.
    let g = &got.gaps;
    assert_eq!(g.len(), 3);
    assert_eq!(
        g.iter().map(|g| (g.reason, g.provenance.line)).collect::<Vec<_>>(),
        [
            (GapReason::DeniedAccess, 122),
            (GapReason::SensorOutage, 139),
            (GapReason::DeniedAccess, 181)
        ]
    );
    // A restriction at a time runs to the end of the patrol leg, around the leg's
    // position, with the default radius.
    assert_eq!(g[0].time.start.to_rfc3339(), "2019-07-12T07:12:00+00:00");
    assert_eq!(g[0].time.end.to_rfc3339(), "2019-07-12T12:00:00+00:00");
    assert_eq!(
        g[0].area,
        GapArea::Circle {
            lon: 37.665,
            lat: 47.84,
            radius_km: 10.0
        }
    );
    assert_eq!(
        g[0].note,
        "restriction of movement at a checkpoint near Olenivka by armed formation members: denied the SMM passage, \
         citing orders from superiors [report SMM-DR-2019-07-12/DON, SMM Donetsk hub]"
    );
    assert_eq!(
        g[2].area,
        GapArea::Circle {
            lon: 38.535,
            lat: 48.679,
            radius_km: 3.0
        }
    );
    assert!(g
        .iter()
        .all(|g| g.source == SourceKind::Patrol && g.provenance.file_sha256 == s.sha256));

    // The gaps as JSON lines, and back.
    let jsonl = write_gaps(g);
    assert_eq!(jsonl.lines().count(), 3);
    assert!(jsonl.starts_with(r#"{"source":"patrol","reason":"denied_access","start":"2019-07-12T07:12:00Z","end":"2019-07-12T12:00:00Z","precision":"day","area":{"type":"circle","lon":37.665,"lat":47.84,"radius_km":10.0},"note":"restriction of movement at a checkpoint near Olenivka"#), "{jsonl}");
    assert_eq!(&read_gaps("smm.gaps.jsonl", jsonl.as_bytes()).unwrap(), g);

    // read() detects the format and returns the same observations, without the gaps.
    let plain = read("smm.json", &bytes, &ReadOptions::default()).unwrap();
    assert_eq!(all(&plain.batches), obs);
    assert_eq!(
        read_with_gaps("smm.json", &bytes, &ReadOptions::default())
            .unwrap()
            .gaps,
        *g
    );
}

#[test]
fn same_report_in_other_layouts() {
    let bytes = fixture("smm_2019-07-12.json");
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let pretty = all(&read("a.json", &bytes, &ReadOptions::default()).unwrap().batches);
    // On one line: the same places, kinds and attributes; ids still unique.
    let one_line = serde_json::to_string(&value).unwrap();
    let got = all(&read("b.json", one_line.as_bytes(), &ReadOptions::default())
        .unwrap()
        .batches);
    assert_eq!(got.len(), pretty.len());
    for (a, b) in got.iter().zip(&pretty) {
        assert_eq!(
            (a.lon, a.lat, a.uncertainty_m, a.kind, &a.attributes, a.provenance.line),
            (b.lon, b.lat, b.uncertainty_m, b.kind, &b.attributes, b.provenance.line)
        );
    }
    let ids: std::collections::HashSet<&str> = got.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), got.len());
    // UTF-16 with a byte-order mark, as some Windows tools save JSON.
    let mut utf16 = vec![0xff, 0xfe];
    for u in String::from_utf8(bytes.clone()).unwrap().encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let got = read("c.json", &utf16, &ReadOptions::default()).unwrap();
    assert_eq!(got.summary.encoding, "UTF-16LE (BOM)");
    assert_eq!(got.summary.format, Format::Patrol);
    assert_eq!(got.summary.rows_kept, 13);
}

#[test]
fn bad_events_are_skipped_or_refuse_the_file() {
    let bytes = fixture("bad_events.json");
    let got = read("bad_events.json", &bytes, &ReadOptions::default()).unwrap();
    let s = &got.summary;
    // 13 events and 4 sightings; the last event repeats the first (kept, counted).
    assert_eq!(
        (s.rows_read, s.rows_kept, s.rejected_total(), s.duplicates),
        (17, 2, 15, 1)
    );
    assert_eq!(
        s.messages,
        [
            "bad_events.json:15: reports[0].posts[0].events[1].bearing: 400 is outside [0, 360)",
            "bad_events.json:20: reports[0].posts[0].events[2].counts.bursts: -3 is negative",
            "bad_events.json:21: reports[0].posts[0].events[3].distance_km: min 5 is more than max 3",
            "bad_events.json:22: reports[0].posts[0].events[4].bearnig: unknown field (expected one of `id`, `time`, \
             `start`, `end`, `counts`, `weapon`, `calibre_mm`, `bearing`, `bearing_uncertainty_deg`, `distance_km`, \
             `direction`, `perception`, `note`)",
            "bad_events.json:23: reports[0].posts[0].events[5].perception: unknown variant `smelled`, expected one of \
             `heard`, `seen`, `camera`",
            "bad_events.json:24: reports[0].posts[0].events[6].time: 2019-07-12T08:00:00Z is outside the post's window \
             2019-07-12T04:50:00Z to 2019-07-12T07:20:00Z",
            "bad_events.json:25: reports[0].posts[0].events[7].counts: every count is zero: nothing was perceived",
            "bad_events.json:26: reports[0].posts[0].events[8].perception: `camera` is for posts of kind `camera` (a \
             fixed camera of the mission)",
            "bad_events.json:27: reports[0].posts[0].events[9].calibre_mm: 5000 is outside [1, 1000]",
            "bad_events.json:28: reports[0].posts[0].events[10].direction: unknown variant `sideways`, expected one of \
             `incoming`, `outgoing`, `impact`, `undetermined`",
            "bad_events.json:29: reports[0].posts[0].events[11].perception: missing (heard, seen, or both)",
            "bad_events.json:33: reports[0].posts[0].weapons[0].position.lat: missing (`lon` is given)",
            "bad_events.json:34: reports[0].posts[0].weapons[1].perception: a weapon sighting is seen, not heard",
            "bad_events.json:35: reports[0].posts[0].weapons[2].count: 0: a sighting is of at least one weapon",
            "bad_events.json:36: reports[0].posts[0].weapons[3].storage: unknown variant `in_a_shed`, expected one of \
             `permanent_storage_site`, `holding_area`, `training_area`, `beyond_withdrawal_lines`, \
             `in_violation_of_withdrawal_lines`, `unknown`",
        ]
    );
    let reasons: Vec<String> = s.rejected.iter().map(|(k, v)| format!("{v} {k}")).collect();
    assert_eq!(
        reasons,
        [
            "1 events[].bearing: out of range",
            "1 events[].bearnig: unknown field",
            "1 events[].calibre_mm: out of range",
            "1 events[].counts.bursts: out of range",
            "1 events[].counts: all zero",
            "1 events[].direction: unknown value",
            "1 events[].distance_km: min above max",
            "1 events[].perception: camera without a camera post",
            "1 events[].perception: missing",
            "1 events[].perception: unknown value",
            "1 events[].time: outside the post's window",
            "1 weapons[].count: zero",
            "1 weapons[].perception: heard weapon",
            "1 weapons[].position.lat: missing",
            "1 weapons[].storage: unknown value",
        ]
    );
    // Dropping duplicates leaves the first event only.
    let opts = ReadOptions {
        drop_duplicates: true,
        ..ReadOptions::default()
    };
    let got = read("bad_events.json", &bytes, &opts).unwrap();
    assert_eq!((got.summary.rows_kept, got.summary.duplicates_dropped), (1, 1));
    // Strict: refused at the first bad event.
    let err = read("bad_events.json", &bytes, &STRICT).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad_events.json:15: reports[0].posts[0].events[1].bearing: 400 is outside [0, 360) (strict mode: file refused)"
    );
}

#[test]
fn bad_documents_refuse_the_file_whatever_strict_says() {
    for (file, expected) in [
        ("malformed.json", "malformed.json:7: reports[0]: not JSON: expected `,` or `}` (column 7)"),
        (
            "bad_post.json",
            "bad_post.json:8: reports[0].posts[0].end: 2019-07-12T04:50:00Z is not after start 2019-07-12T07:20:00Z",
        ),
        ("bad_restriction.json", "bad_restriction.json:19: reports[0].posts[0].restrictions[0].radius_km: -1 is outside (0, 500]"),
        (
            "wrong_version.json",
            "wrong_version.json:2: format: `truce-patrol/2` is not a format this reader knows (expected truce-patrol/1)",
        ),
    ] {
        let bytes = fixture(file);
        assert_eq!(detect(&bytes), Some(Format::Patrol), "{file}");
        for opts in [ReadOptions::default(), STRICT] {
            let err = read(file, &bytes, &opts).unwrap_err();
            assert!(matches!(err, IngestError::Invalid { .. }), "{file}: {err:?}");
            assert_eq!(err.to_string(), expected);
        }
    }
}

fn doc(post_fields: &str) -> String {
    format!(
        r#"{{"format":"truce-patrol/1","reports":[{{"id":"R","monitor":"M","posts":[{{"lon":37.7,"lat":48.0,"start":"2019-07-12T08:00:00Z","end":"2019-07-12T10:00:00Z"{post_fields}}}]}}]}}"#
    )
}

fn err(text: &str) -> String {
    read("p.json", text.as_bytes(), &ReadOptions::default())
        .map(|g| g.summary.to_string())
        .unwrap_or_else(|e| e.to_string())
}

#[test]
fn document_errors_name_the_field() {
    for (text, expected) in [
        ("{\"format\":\"truce-patrol/1\"}", "p.json:1: reports: missing"),
        ("{\"format\":\"truce-patrol/1\",\"reports\":[]} x", "p.json:1: document: trailing characters after the document"),
        ("{\"format\":\"truce-patrol/1\",\"reports\":{}}", "p.json:1: reports: invalid type: map, expected an array"),
        ("{\"format\":\"truce-patrol/1\",\"reports\":[{\"id\":\"\",\"monitor\":\"M\",\"posts\":[]}]}", "p.json:1: reports[0].id: empty"),
        ("{\"format\":\"truce-patrol/1\",\"reports\":[{\"id\":\"R\",\"posts\":[]}]}", "p.json:1: reports[0].monitor: missing"),
        ("{\"format\":\"truce-patrol/1\",\"reports\":[{\"id\":\"R\",\"monitor\":\"M\",\"posts\":[{\"lon\":200}]}]}", "p.json:1: reports[0].posts[0].lon: 200 is outside [-180, 180]"),
        (
            "{\"format\":\"truce-patrol/1\",\"reports\":[{\"id\":\"R\",\"monitor\":\"M\",\"posts\":[{\"lon\":1,\"lat\":2,\"start\":\"12.07.2019\"}]}]}",
            "p.json:1: reports[0].posts[0].start: `12.07.2019` is not an RFC 3339 time (such as 2019-07-12T19:30:00Z)",
        ),
        (
            &doc(r#","kind":"tower""#),
            "p.json:1: reports[0].posts[0].kind: unknown variant `tower`, expected one of `observation_post`, `patrol_leg`, `camera`",
        ),
        (
            &doc(r#","gaps":[{"reason":"fog"}]"#),
            "p.json:1: reports[0].posts[0].gaps[0].reason: unknown GapReason `fog` (expected one of: cloud, denied_access, sensor_outage, no_patrol, other)",
        ),
        (
            &doc(r#","gaps":[{"reason":"cloud","area":{"type":"bbox","min_lon":38,"min_lat":47,"max_lon":37,"max_lat":48}}]"#),
            "p.json:1: reports[0].posts[0].gaps[0].area.max_lon: 37 is below min_lon 38",
        ),
        (
            &doc(r#","restrictions":[{"time":"2019-07-12T10:00:00Z"}]"#),
            "p.json:1: reports[0].posts[0].restrictions[0].time: 2019-07-12T10:00:00Z is not before the end of the post's window 2019-07-12T10:00:00Z",
        ),
        (
            &doc(&format!(r#","place":"{}""#, "x".repeat(201))),
            "p.json:1: reports[0].posts[0].place: exceeds PATROL_NAME_CHARS_MAX (201 > 200 characters)",
        ),
        (
            &doc(&format!(r#","events":[{}{{}}]"#, "{},".repeat(PATROL_EVENTS_MAX))),
            "p.json:1: reports[0].posts[0].events: exceeds PATROL_EVENTS_MAX (10001 > 10000)",
        ),
    ] {
        assert_eq!(err(text), expected, "{text:.200}");
    }
    // Any bytes forced through the patrol reader are refused, not a panic.
    let opts = ReadOptions {
        format: Some(Format::Patrol),
        ..ReadOptions::default()
    };
    let e = read("f.csv", b"latitude,longitude,acq_date\n1,2,2022-01-01\n", &opts).unwrap_err();
    assert_eq!(e.to_string(), "f.csv:1: document: not JSON: expected value (column 1)");
    let deep = format!("{{\"format\":\"truce-patrol/1\",\"reports\":[{}", "[".repeat(100_000));
    assert!(read("d.json", deep.as_bytes(), &ReadOptions::default()).is_err());
}

#[test]
fn event_places_and_times() {
    let one = |event: &str| -> Observation {
        let text = doc(&format!(r#","events":[{event}]"#));
        let got = read("p.json", text.as_bytes(), &STRICT).unwrap_or_else(|e| panic!("{e}"));
        all(&got.batches).remove(0)
    };
    // Heard, no bearing, no distance: at the observer, the kind's default range.
    let o = one(r#"{"counts":{"bursts":3},"perception":"heard"}"#);
    assert_eq!((o.lon, o.lat, o.uncertainty_m), (37.7, 48.0, 3000.0));
    assert_eq!(attrs(&o)["weapon_class"], "small_arms");
    assert_eq!(
        (o.time.start.to_rfc3339().as_str(), o.time.precision.as_str()),
        ("2019-07-12T08:00:00+00:00", "day")
    );
    // A band without a bearing: at the observer, radius the band's maximum.
    let o = one(r#"{"counts":{"explosions":3},"distance_km":"5-10","perception":"heard"}"#);
    assert_eq!((o.lon, o.lat, o.uncertainty_m), (37.7, 48.0, 10_000.0));
    assert_eq!(attrs(&o)["located"], "observer_distance");
    // A bearing without a band: 0 to the default range along it.
    let o = one(r#"{"counts":{"explosions":3},"bearing":"S","perception":"heard"}"#);
    assert!(
        (o.lat - (48.0 - 5.0 / 111.2)).abs() < 1e-3 && (o.lon - 37.7).abs() < 1e-9,
        "{o:?}"
    );
    assert_eq!(attrs(&o)["located"], "bearing_default_range");
    // A time with seconds is a second; a whole minute a minute.
    let o = one(r#"{"counts":{"shots":1},"time":"2019-07-12T08:30:15Z","perception":"heard"}"#);
    assert_eq!(
        (o.time.precision.as_str(), (o.time.end - o.time.start).num_seconds()),
        ("second", 1)
    );
    let o = one(r#"{"counts":{"shots":1},"time":"2019-07-12T11:30:00+03:00","perception":"heard"}"#);
    assert_eq!(
        (o.time.start.to_rfc3339().as_str(), o.time.precision.as_str()),
        ("2019-07-12T08:30:00+00:00", "minute")
    );
    // Nothing is placed more precisely than the observer's own position.
    let o = one(
        r#"{"counts":{"explosions":1},"bearing":90,"bearing_uncertainty_deg":0,"distance_km":0,"perception":"seen"}"#,
    );
    assert_eq!(o.uncertainty_m, POSITION_UNCERTAINTY_M);
}

#[test]
fn gaps_files() {
    let err = read_gaps("bad_gaps.jsonl", &fixture("bad_gaps.jsonl")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad_gaps.jsonl:3: area.radius_km: -1 is outside (0, 500]"
    );
    let ok = std::str::from_utf8(&fixture("bad_gaps.jsonl"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let gaps = read_gaps("g.jsonl", ok.as_bytes()).unwrap();
    // No provenance in the line: the gaps file's own hash and line.
    assert_eq!(gaps[0].provenance.line, 1);
    assert_eq!(gaps[0].provenance.file_sha256.len(), 64);
    for (line, expected) in [
        ("{", "g.jsonl:1: document: not JSON: EOF while parsing an object (column 1)"),
        (r#"{"source":"patrol"}"#, "g.jsonl:1: reason: missing"),
        (
            &ok.replace("\"note\"", "\"nota\""),
            "g.jsonl:1: nota: unknown field (expected one of `source`, `reason`, `start`, `end`, `precision`, `area`, `note`, `file_sha256`, `line`)",
        ),
        (&ok.replace("patrol", "drone"), "g.jsonl:1: source: unknown SourceKind `drone` (expected one of: firms, ucdp_ged, acled, geojson, patrol)"),
        (&ok.replace("37.665", "181"), "g.jsonl:1: area.lon: 181 is outside [-180, 180]"),
        (&ok.replace("07:12:00Z", "13:12:00Z"), "g.jsonl:1: end: 2019-07-12T12:00:00Z is not after start 2019-07-12T13:12:00Z"),
        (&format!("{ok} {{}}"), "g.jsonl:1: document: trailing characters after the gap (column 193): one gap per line"),
        (&ok.replace("\"checkpoint\"", "\"checkpoint\",\"file_sha256\":\"xyz\""), "g.jsonl:1: file_sha256: not 64 hexadecimal digits"),
    ] {
        assert_eq!(read_gaps("g.jsonl", line.as_bytes()).unwrap_err().to_string(), expected, "{line}");
    }
    assert_eq!(read_gaps("empty.jsonl", b"\n\n").unwrap(), vec![]);
}
