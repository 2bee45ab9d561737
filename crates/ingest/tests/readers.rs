//! Reader tests: field handling per format (data-driven tables), the committed
//! fixtures (exact summaries), strict mode, duplicates, limits and errors.
//! Tests on the full shared data files are in `shared_data.rs`.

use std::collections::BTreeMap;

use truce_ingest::{read, Format, IngestError, Ingested, ReadOptions, FIELDS_MAX, FIELD_BYTES_MAX};
use truce_model::{observation_id, observations_from_batch, Observation};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_ok(name: &str, bytes: &[u8]) -> Ingested {
    read(name, bytes, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn all(got: &Ingested) -> Vec<Observation> {
    got.batches
        .iter()
        .flat_map(|b| observations_from_batch(b).unwrap())
        .collect()
}

/// `start end precision ±radius kind attributes`, times in UTC to the minute.
fn describe(o: &Observation) -> String {
    format!(
        "{} {} {} ±{:.0} {} {}",
        o.time.start.format("%Y-%m-%d %H:%M"),
        o.time.end.format("%Y-%m-%d %H:%M"),
        o.time.precision,
        o.uncertainty_m,
        o.kind,
        o.attributes
    )
}

/// Reads `text` and describes its only observation, or its rejection, or its error.
fn one(text: &str) -> String {
    match read("t.csv", text.as_bytes(), &ReadOptions::default()) {
        Err(e) => format!("error: {e}"),
        Ok(got) if got.summary.rows_kept == 1 => describe(&all(&got)[0]),
        Ok(got) => format!("rejected: {}", got.summary.messages.join(" | ")),
    }
}

fn reasons(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

// ---------------------------------------------------------------- field tables

#[test]
fn firms_fields() {
    let header = "latitude,longitude,scan,track,acq_date,acq_time,instrument,confidence";
    let check = |row: &str, expected: &str| assert_eq!(one(&format!("{header}\n{row}\n")), expected, "row {row:?}");
    let attrs = |scan: &str, track: &str, inst: &str, conf: &str| {
        format!(r#"{{"scan":{scan},"track":{track},"instrument":{inst},"confidence":{conf}}}"#)
    };
    check(
        "47.1,37.6,0.6,0.8,2022-02-24,35,VIIRS,n",
        &format!(
            "2022-02-24 00:35 2022-02-24 00:36 minute ±500 fire {}",
            attrs("0.6", "0.8", r#""VIIRS""#, r#""n""#)
        ),
    );
    check(
        "47.1,37.6,,,2022-02-24,1210,VIIRS,h",
        &format!(
            "2022-02-24 12:10 2022-02-24 12:11 minute ±265 fire {}",
            attrs("null", "null", r#""VIIRS""#, r#""h""#)
        ),
    );
    check(
        "47.1,37.6,,,2022-02-24,1210,MODIS,80",
        &format!(
            "2022-02-24 12:10 2022-02-24 12:11 minute ±707 fire {}",
            attrs("null", "null", r#""MODIS""#, "80")
        ),
    );
    check(
        "47.1,37.6,,,2022-02-24,1210,,80",
        &format!(
            "2022-02-24 12:10 2022-02-24 12:11 minute ±707 fire {}",
            attrs("null", "null", "null", "80")
        ),
    );
    check(
        "47.1,37.6,0.6,0.8,2022-02-24,,VIIRS,n",
        &format!(
            "2022-02-24 00:00 2022-02-25 00:00 day ±500 fire {}",
            attrs("0.6", "0.8", r#""VIIRS""#, r#""n""#)
        ),
    );
    check(
        "47.1,37.6,0.6,0.8,24/02/2022,0000,VIIRS,n",
        &format!(
            "2022-02-24 00:00 2022-02-24 00:01 minute ±500 fire {}",
            attrs("0.6", "0.8", r#""VIIRS""#, r#""n""#)
        ),
    );
    check(
        "47.1,37.6,0.6,0.8,24 Feb 2022,23:59,VIIRS,n",
        &format!(
            "2022-02-24 23:59 2022-02-25 00:00 minute ±500 fire {}",
            attrs("0.6", "0.8", r#""VIIRS""#, r#""n""#)
        ),
    );
    check(
        "47.1,37.6,0,0.8,2022-02-24,35,VIIRS,n",
        "rejected: t.csv:2: scan: `0` is not a pixel size in (0, 10] km",
    );
    check(
        "47.1,37.6,0.6,11,2022-02-24,35,VIIRS,n",
        "rejected: t.csv:2: track: `11` is not a pixel size in (0, 10] km",
    );
    check(
        "47.1,37.6,0.6,0.8,2022-02-24,2400,VIIRS,n",
        "rejected: t.csv:2: acq_time: `2400` is not an HHMM time of day",
    );
    check("47.1,37.6,0.6,0.8,,1200,VIIRS,n", "rejected: t.csv:2: acq_date: empty");
    check(
        "47.1,37.6,0.6,0.8,2022-02-29,1200,VIIRS,n",
        "rejected: t.csv:2: acq_date: `2022-02-29` is not a valid calendar date or time of day",
    );
    check(
        "47.1,181,0.6,0.8,2022-02-24,1200,VIIRS,n",
        "rejected: t.csv:2: longitude: 181 is outside [-180, 180]",
    );
    check(
        "0.0,-0,0.6,0.8,2022-02-24,1200,VIIRS,n",
        "rejected: t.csv:2: latitude,longitude: (0, 0) is the null-island placeholder, not a location",
    );
    check(
        "47.1,37.6,0.6,0.8,2022-02-24,1200,VIIRS",
        "rejected: t.csv:2: record: 7 fields where the header has 8",
    );
    check(
        "47.1,37.6,0.6,0.8,2022-02-24,1200,VIIRS,n,x",
        "rejected: t.csv:2: record: 9 fields where the header has 8",
    );
    check(
        "47.1,37.6,0.6,0.8,2022-02-24,1200,VIIRS,n,,",
        &format!(
            "2022-02-24 12:00 2022-02-24 12:01 minute ±500 fire {}",
            attrs("0.6", "0.8", r#""VIIRS""#, r#""n""#)
        ),
    );
    // Header names in any case; the VIIRS columns imply the instrument.
    assert_eq!(
        one("LATITUDE,LONGITUDE,BRIGHT_TI4,ACQ_DATE\n47.1,37.6,330.5,2022-02-24\n"),
        r#"2022-02-24 00:00 2022-02-25 00:00 day ±265 fire {"BRIGHT_TI4":330.5}"#
    );
    assert_eq!(
        one("latitude,longitude,acq_date\n47.1,37.6,2022-02-24\n"),
        "2022-02-24 00:00 2022-02-25 00:00 day ±707 fire {}"
    );
}

#[test]
fn ucdp_fields() {
    let header = "id,type_of_violence,latitude,longitude,where_prec,date_prec,date_start,date_end,best";
    let check = |row: &str, expected: &str| assert_eq!(one(&format!("{header}\n{row}\n")), expected, "row {row:?}");
    let a = |tov: u8, wp: u8, dp: u8| {
        format!(r#"{{"id":1,"type_of_violence":{tov},"where_prec":{wp},"date_prec":{dp},"best":3}}"#)
    };
    for (row, expected) in [
        ("1,1,48.0,37.8,1,1,2014-07-17,2014-07-17,3", format!("2014-07-17 00:00 2014-07-18 00:00 day ±5000 armed_clash {}", a(1, 1, 1))),
        ("1,2,48.0,37.8,2,2,2014-07-17,2014-07-20,3", format!("2014-07-17 00:00 2014-07-21 00:00 days ±25000 armed_clash {}", a(2, 2, 2))),
        ("1,3,48.0,37.8,3,3,2014-07-14,2014-07-20,3", format!("2014-07-14 00:00 2014-07-21 00:00 week ±50000 violence_against_civilians {}", a(3, 3, 3))),
        ("1,1,48.0,37.8,4,4,2014-07-01,2014-07-31,3", format!("2014-07-01 00:00 2014-08-01 00:00 month ±150000 armed_clash {}", a(1, 4, 4))),
        ("1,1,48.0,37.8,5,5,2014-01-01,2014-12-31,3", format!("2014-01-01 00:00 2015-01-01 00:00 year ±200000 armed_clash {}", a(1, 5, 5))),
        ("1,1,48.0,37.8,6,1,2014-07-17 00:00:00.000,2014-07-17,3", format!("2014-07-17 00:00 2014-07-18 00:00 day ±1000000 armed_clash {}", a(1, 6, 1))),
        ("1,1,48.0,37.8,7,1,2014-07-17,2014-07-17,3", format!("2014-07-17 00:00 2014-07-18 00:00 day ±500000 armed_clash {}", a(1, 7, 1))),
        ("1,1,48.0,37.8,2.0,1,2014-07-17,2014-07-17,3", r#"2014-07-17 00:00 2014-07-18 00:00 day ±25000 armed_clash {"id":1,"type_of_violence":1,"where_prec":2.0,"date_prec":1,"best":3}"#.to_string()),
        ("1,1,48.0,37.8,8,1,2014-07-17,2014-07-17,3", "rejected: t.csv:2: where_prec: `8` is not a code in 1..=7".into()),
        ("1,4,48.0,37.8,1,1,2014-07-17,2014-07-17,3", "rejected: t.csv:2: type_of_violence: `4` is not a code in 1..=3".into()),
        ("1,1,48.0,37.8,1,0,2014-07-17,2014-07-17,3", "rejected: t.csv:2: date_prec: `0` is not a code in 1..=5".into()),
        ("1,1,48.0,37.8,1,,2014-07-17,2014-07-17,3", "rejected: t.csv:2: date_prec: empty".into()),
        ("1,1,48.0,37.8,1,1,2014-07-17,2014-07-16,3", "rejected: t.csv:2: date_end: 2014-07-16 is before date_start 2014-07-17".into()),
        ("1,1,48.0,37.8,1,1,17.07.2014,x,3", "rejected: t.csv:2: date_end: `x` is not a recognised date or time".into()),
    ] {
        check(row, &expected);
    }
}

#[test]
fn acled_fields() {
    let header =
        "event_id_cnty,event_date,time_precision,event_type,sub_event_type,latitude,longitude,geo_precision,fatalities";
    let check = |row: &str, expected: &str| assert_eq!(one(&format!("{header}\n{row}\n")), expected, "row {row:?}");
    let a = |tp: &str, et: &str, st: &str, gp: &str| {
        format!(
            r#"{{"event_id_cnty":"UKR1","time_precision":{tp},"event_type":"{et}","sub_event_type":"{st}","geo_precision":{gp},"fatalities":0}}"#
        )
    };
    let shelling = ("Explosions/Remote violence", "Shelling/artillery/missile attack");
    for (row, expected) in [
        (
            format!("UKR1,2022-02-24,1,{},{},50.0,36.2,1,0", shelling.0, shelling.1),
            format!(
                "2022-02-24 00:00 2022-02-25 00:00 day ±5000 shelling {}",
                a("1", shelling.0, shelling.1, "1")
            ),
        ),
        (
            format!("UKR1,24 February 2022,2,{},{},50.0,36.2,2,0", shelling.0, shelling.1),
            format!(
                "2022-02-21 00:00 2022-02-28 00:00 week ±25000 shelling {}",
                a("2", shelling.0, shelling.1, "2")
            ),
        ),
        (
            format!("UKR1,2/24/2022,3,{},{},50.0,36.2,3,0", shelling.0, shelling.1),
            format!(
                "2022-02-01 00:00 2022-03-01 00:00 month ±150000 shelling {}",
                a("3", shelling.0, shelling.1, "3")
            ),
        ),
        (
            format!("UKR1,2022-02-24,,{},{},50.0,36.2,,0", shelling.0, shelling.1),
            format!(
                "2022-02-01 00:00 2022-03-01 00:00 month ±150000 shelling {}",
                a("null", shelling.0, shelling.1, "null")
            ),
        ),
        (
            "UKR1,2022-02-24,1,Battles,Armed clash,50.0,36.2,1,0".into(),
            format!(
                "2022-02-24 00:00 2022-02-25 00:00 day ±5000 armed_clash {}",
                a("1", "Battles", "Armed clash", "1")
            ),
        ),
        (
            "UKR1,2022-02-24,4,Battles,Armed clash,50.0,36.2,1,0".into(),
            "rejected: t.csv:2: time_precision: `4` is not a code in 1..=3".into(),
        ),
        (
            "UKR1,2022-02-24,1,Battles,Armed clash,50.0,36.2,0,0".into(),
            "rejected: t.csv:2: geo_precision: `0` is not a code in 1..=3".into(),
        ),
        (
            "UKR1,2022-02-24,1,Battles,Armed clash,,36.2,1,0".into(),
            "rejected: t.csv:2: latitude: empty".into(),
        ),
        (
            "UKR1,24 Febtember 2022,1,Battles,Armed clash,50,36.2,1,0".into(),
            "rejected: t.csv:2: event_date: `24 Febtember 2022` is not a recognised date or time".into(),
        ),
    ] {
        check(&row, &expected);
    }
    // Only the codebook's required columns.
    assert_eq!(
        one("EVENT_DATE,EVENT_TYPE,LATITUDE,LONGITUDE\n2022-02-24,Riots,50,36\n"),
        r#"2022-02-01 00:00 2022-03-01 00:00 month ±150000 protest {"EVENT_TYPE":"Riots"}"#
    );
}

#[test]
fn geojson_fields() {
    let check = |feature: &str, expected: &str| {
        let text = format!(r#"{{"type":"FeatureCollection","features":[{feature}]}}"#);
        let got = one(&text).replace("t.csv", "f");
        assert_eq!(got, expected, "feature {feature}");
    };
    let pt = r#""geometry":{"type":"Point","coordinates":[30.5,50.4]}"#;
    for (props, expected) in [
        (r#"{"time":"2022-03-01T04:20Z"}"#, "2022-03-01 04:20 2022-03-01 04:21 minute ±1000 other {}"),
        (r#"{"time":"2022-03-01T04:20:00+01:00"}"#, "2022-03-01 03:20 2022-03-01 03:20 second ±1000 other {}"),
        (r#"{"a":1,"date":"2022-03-01","time":null}"#, r#"2022-03-01 00:00 2022-03-02 00:00 day ±1000 other {"a":1,"time":null}"#),
        (r#"{"acq_date":"2022-03-01","event_date":"2022-04-01"}"#, r#"2022-03-01 00:00 2022-03-02 00:00 day ±1000 other {"event_date":"2022-04-01"}"#),
        (r#"{"timestamp":1646108400}"#, "2022-03-01 04:20 2022-03-01 04:20 second ±1000 other {}"),
        (r#"{"timestamp":1646108400500}"#, "2022-03-01 04:20 2022-03-01 04:20 second ±1000 other {}"),
        (r#"{"time":"2022-03-01","kind":" Armed_Clash ","uncertainty_m":12.25}"#, "2022-03-01 00:00 2022-03-02 00:00 day ±12 armed_clash {}"),
        (r#"{"time":"2022-03-01","uncertainty_m":"40"}"#, "2022-03-01 00:00 2022-03-02 00:00 day ±40 other {}"),
        (r#"{"time":"2022-03-01","uncertainty_m":-1}"#, "rejected: f:1: properties.uncertainty_m: `-1` is not a number of metres >= 0"),
        (r#"{"time":"2022-03-01","kind":"blast"}"#, "rejected: f:1: properties.kind: unknown ObservationKind `blast` (expected one of: fire, explosion, shelling, strike, armed_clash, violence_against_civilians, protest, other, small_arms, flare, weapon_sighting)"),
        (r#"{"time":"2022-03-01","kind":3}"#, "rejected: f:1: properties.kind: `3` is not a string"),
        (r#"{"time":true}"#, "rejected: f:1: properties.time: `true` is not a date string or a Unix time"),
        (r#"{"time":""}"#, "rejected: f:1: properties.time: empty"),
        (r#"{"timestamp":1e300}"#, "rejected: f:1: properties.timestamp: 1e+300 is not a Unix time"),
        (r#"{"other":1}"#, "rejected: f:1: properties.time: none of time, datetime, timestamp, date, acq_date, event_date is present"),
        ("null", "rejected: f:1: properties.time: none of time, datetime, timestamp, date, acq_date, event_date is present"),
    ] {
        check(&format!(r#"{{"type":"Feature",{pt},"properties":{props}}}"#), expected);
    }
    for (geometry, expected) in [
        (
            r#"{"type":"Point","coordinates":[30.5,50.4,99]}"#,
            "2022-03-01 00:00 2022-03-02 00:00 day ±1000 other {}",
        ),
        (
            r#"{"type":"Point","coordinates":[30.5]}"#,
            "rejected: f:1: feature: A position must contain two or more elements, but got `1`",
        ),
        (
            r#"{"type":"Point","coordinates":[0,0]}"#,
            "rejected: f:1: coordinates[1],coordinates[0]: (0, 0) is the null-island placeholder, not a location",
        ),
        (
            r#"{"type":"Point","coordinates":[30.5,95]}"#,
            "rejected: f:1: coordinates[1]: 95 is outside [-90, 90]",
        ),
        (
            r#"{"type":"MultiPoint","coordinates":[[30.5,50.4]]}"#,
            "rejected: f:1: geometry: a MultiPoint (only Point features are observations)",
        ),
        ("null", "rejected: f:1: geometry: null or absent"),
    ] {
        check(
            &format!(r#"{{"type":"Feature","geometry":{geometry},"properties":{{"time":"2022-03-01"}}}}"#),
            expected,
        );
    }
    let got = one(r#"{"type":"FeatureCollection","features":[{"type":"Point","coordinates":[1,2]}]}"#);
    assert!(got.starts_with("rejected: t.csv:1: feature: "), "{got}");
}

// ---------------------------------------------------------------- fixtures

#[test]
fn firms_viirs_fixture() {
    let got = read_ok("firms_viirs.csv", &fixture("firms_viirs.csv"));
    let s = &got.summary;
    assert_eq!(
        (s.format, s.encoding, s.rows_read, s.rows_kept, s.duplicates),
        (Format::Firms, "UTF-8", 9, 9, 0)
    );
    assert!(s.rejected.is_empty());
    let obs = all(&got);
    let o = &obs[0];
    assert_eq!((o.lat, o.lon), (44.07969, 22.10233));
    assert_eq!(o.source, truce_model::SourceKind::Firms);
    assert_eq!(o.provenance.line, 2);
    assert_eq!(o.provenance.file_sha256, s.sha256);
    assert_eq!(o.id, observation_id(&s.sha256, 2));
    assert_eq!(
        describe(o),
        r#"2026-06-25 00:35 2026-06-25 00:36 minute ±265 fire {"bright_ti4":305.97,"scan":0.39,"track":0.36,"satellite":"N21","instrument":"VIIRS","confidence":"n","version":"2.0NRT","bright_ti5":289.59,"frp":1.12,"daynight":"N"}"#
    );
    // Every attribute object is valid JSON with numbers as numbers.
    for o in &obs {
        let a: serde_json::Value = serde_json::from_str(&o.attributes).unwrap();
        assert!(a["frp"].is_f64() && a["confidence"].is_string(), "{a}");
    }
    assert_eq!(obs[5].time.start.to_rfc3339(), "2026-06-25T09:34:00+00:00");
}

#[test]
fn firms_modis_fixture() {
    let got = read_ok("firms_modis.csv", &fixture("firms_modis.csv"));
    assert_eq!((got.summary.rows_read, got.summary.rows_kept), (4, 4));
    let d: Vec<String> = all(&got)
        .iter()
        .map(|o| {
            format!(
                "{} ±{:.0} {}",
                o.time.start.format("%m-%d %H:%M"),
                o.uncertainty_m,
                o.attributes
            )
        })
        .collect();
    assert_eq!(
        d,
        [
            r#"08-14 08:42 ±814 {"brightness":318.4,"scan":1.2,"track":1.1,"satellite":"Terra","instrument":"MODIS","confidence":76,"version":"6.1NRT","bright_t31":296.2,"frp":21.7,"daynight":"D"}"#,
            r#"08-14 10:50 ±1262 {"brightness":331.9,"scan":2.1,"track":1.4,"satellite":"Aqua","instrument":"MODIS","confidence":100,"version":"6.1NRT","bright_t31":299.8,"frp":58.3,"daynight":"D"}"#,
            r#"08-15 00:15 ±707 {"brightness":305.2,"scan":null,"track":null,"satellite":"Aqua","instrument":"MODIS","confidence":42,"version":"6.1NRT","bright_t31":288,"frp":7.9,"daynight":"N"}"#,
            r#"08-15 00:15 ±707 {"brightness":312,"scan":1,"track":1,"satellite":"Terra","instrument":"MODIS","confidence":0,"version":"6.1NRT","bright_t31":290.1,"frp":9,"daynight":"N"}"#,
        ]
    );
}

#[test]
fn firms_lat_lon_date_fixture() {
    let got = read_ok("firms_lat_lon_date.csv", &fixture("firms_lat_lon_date.csv"));
    assert_eq!((got.summary.rows_read, got.summary.rows_kept), (5, 5));
    let obs = all(&got);
    assert_eq!(describe(&obs[0]), "2022-01-01 00:00 2022-01-02 00:00 day ±707 fire {}");
    assert_eq!(
        (obs[4].lat, obs[4].lon, obs[4].provenance.line),
        (47.10255, 37.57839, 6)
    );
}

#[test]
fn ucdp_fixture() {
    let got = read_ok("ucdp_ged.csv", &fixture("ucdp_ged.csv"));
    let s = &got.summary;
    assert_eq!((s.format, s.rows_read, s.rows_kept), (Format::UcdpGed, 6, 6));
    let obs = all(&got);
    let d: Vec<String> = obs
        .iter()
        .map(|o| {
            format!(
                "{} {} {} ±{:.0} {}",
                o.time.start.date_naive(),
                o.time.end.date_naive(),
                o.time.precision,
                o.uncertainty_m,
                o.kind
            )
        })
        .collect();
    assert_eq!(
        d,
        [
            "2014-01-22 2014-01-23 day ±5000 armed_clash",
            "2014-02-18 2014-02-21 days ±5000 armed_clash",
            "2014-04-13 2014-04-14 day ±200000 armed_clash",
            "2014-04-20 2014-04-21 day ±25000 armed_clash",
            "2014-07-08 2014-07-11 days ±150000 armed_clash",
            "2014-05-05 2014-08-01 year ±5000 armed_clash",
        ]
    );
    let a: serde_json::Value = serde_json::from_str(&obs[0].attributes).unwrap();
    assert_eq!(a["id"], 147997);
    assert_eq!(a["relid"], "UKR-2014-1-14085-0");
    assert_eq!(a["side_b"], "Maidan");
    assert_eq!(
        (a["best"].as_i64(), a["low"].as_i64(), a["high"].as_i64()),
        (Some(5), Some(5), Some(5))
    );
    assert_eq!(a["where_coordinates"], "Kiev city");
    assert_eq!(a["adm_2"], serde_json::Value::Null);
    assert_eq!(a.as_object().unwrap().len(), 16);
    assert_eq!((obs[0].lat, obs[0].lon), (50.45, 30.52333));
}

#[test]
fn acled_fixture() {
    let got = read_ok("acled.csv", &fixture("acled.csv"));
    let s = &got.summary;
    assert_eq!(
        (s.format, s.rows_read, s.rows_kept, s.rejected_total()),
        (Format::Acled, 10, 10, 0)
    );
    let d: Vec<String> = all(&got)
        .iter()
        .map(|o| {
            format!(
                "{} {} {} ±{:.0} {}",
                o.time.start.date_naive(),
                o.time.end.date_naive(),
                o.time.precision,
                o.uncertainty_m,
                o.kind
            )
        })
        .collect();
    assert_eq!(
        d,
        [
            "2022-02-24 2022-02-25 day ±5000 shelling",
            "2022-02-24 2022-02-25 day ±25000 strike",
            "2022-02-22 2022-03-01 week ±5000 armed_clash",
            "2022-03-01 2022-04-01 month ±150000 violence_against_civilians",
            "2022-03-02 2022-03-03 day ±5000 explosion",
            "2022-03-03 2022-03-04 day ±25000 explosion",
            "2022-03-04 2022-03-05 day ±5000 protest",
            "2022-03-05 2022-03-06 day ±5000 protest",
            "2022-03-06 2022-03-07 day ±5000 other",
            "2022-03-07 2022-03-08 day ±5000 other",
        ]
    );
    let last: serde_json::Value = serde_json::from_str(&all(&got)[9].attributes).unwrap();
    assert_eq!(
        last["notes"],
        r#"Fictitious test event: a device was defused; "no damage"."#
    );
    assert_eq!(last["timestamp"], 1646000009);
    assert_eq!(last["tags"], serde_json::Value::Null);
}

#[test]
fn geojson_fixture() {
    let got = read_ok("points.geojson", &fixture("points.geojson"));
    let s = &got.summary;
    assert_eq!(
        (s.format, s.rows_read, s.rows_kept, s.duplicates),
        (Format::GeoJson, 10, 5, 1)
    );
    assert_eq!(
        s.rejected,
        reasons(&[
            ("coordinates[1],coordinates[0]: null island", 1),
            ("geometry: missing", 1),
            ("geometry: not a point", 1),
            ("properties.kind: unknown kind", 1),
            ("properties.time: missing", 1),
        ])
    );
    assert_eq!(
        s.messages[0],
        "points.geojson:5: geometry: a LineString (only Point features are observations)"
    );
    let obs = all(&got);
    let d: Vec<String> = obs
        .iter()
        .map(|o| format!("{} {}", o.provenance.line, describe(o)))
        .collect();
    assert_eq!(
        d,
        [
            r#"1 2022-03-01 04:20 2022-03-01 04:20 second ±2000 shelling {"count":4,"observer":"team 3"}"#,
            r#"2 2022-03-01 00:00 2022-03-02 00:00 day ±1000 other {"note":"Fictitious test point"}"#,
            "3 2022-03-01 04:20 2022-03-01 04:20 second ±1000 other {}",
            "4 2022-03-01 04:20 2022-03-01 04:20 second ±150 explosion {}",
            r#"10 2022-03-01 04:20 2022-03-01 04:20 second ±2000 shelling {"count":4,"observer":"team 3"}"#,
        ]
    );
    assert_eq!((obs[3].lon, obs[3].lat), (30.7233, 46.4825));
}

#[test]
fn messy_firms_fixture() {
    let got = read_ok("messy_firms.csv", &fixture("messy_firms.csv"));
    let s = &got.summary;
    assert_eq!(s.encoding, "UTF-8 (BOM)");
    assert_eq!(
        (s.format, s.rows_read, s.rows_kept, s.duplicates, s.duplicates_dropped),
        (Format::Firms, 12, 5, 1, 0)
    );
    assert_eq!(
        s.rejected,
        reasons(&[
            ("ACQ_DATE: not a valid calendar date or time of day", 1),
            ("Latitude: out of range", 1),
            ("Latitude,Longitude: null island", 1),
            ("Longitude: not a number", 1),
            ("acq_time: not a time", 1),
            ("record: too few fields", 1),
            ("scan: not a pixel size", 1),
        ])
    );
    assert_eq!(
        s.messages,
        [
            "messy_firms.csv:7: Latitude: 91.5 is outside [-90, 90]",
            "messy_firms.csv:8: Latitude,Longitude: (0, 0) is the null-island placeholder, not a location",
            "messy_firms.csv:9: ACQ_DATE: `2022-02-30` is not a valid calendar date or time of day",
            "messy_firms.csv:10: acq_time: `2561` is not an HHMM time of day",
            "messy_firms.csv:11: record: 6 fields where the header has 14",
            "messy_firms.csv:13: Longitude: `abc` is not a number",
            "messy_firms.csv:15: scan: `-1` is not a pixel size in (0, 10] km",
        ]
    );
    let d: Vec<String> = all(&got)
        .iter()
        .map(|o| {
            format!(
                "{} {},{} {} {}",
                o.provenance.line,
                o.lat,
                o.lon,
                o.time.start.format("%Y-%m-%d %H:%M"),
                o.time.precision
            )
        })
        .collect();
    assert_eq!(
        d,
        [
            "2 48.1,37.5 2022-03-01 00:35 minute",
            "4 48.2,37.6 2022-03-01 01:05 minute",
            "5 48.3,37.7 2022-03-01 12:10 minute",
            "12 48.1,37.5 2022-03-01 00:35 minute",
            "14 48.8,38.2 2022-03-03 10:15 minute",
        ]
    );
    let a: serde_json::Value = serde_json::from_str(&all(&got)[2].attributes).unwrap();
    assert_eq!(a["Bright_TI4"], 332);
    assert_eq!(a["daynight"], "D");
}

#[test]
fn messy_acled_fixture() {
    let got = read_ok("messy_acled_cp1252.csv", &fixture("messy_acled_cp1252.csv"));
    let s = &got.summary;
    assert_eq!(s.encoding, "windows-1252 (not valid UTF-8)");
    assert_eq!(
        (s.format, s.rows_read, s.rows_kept, s.duplicates),
        (Format::Acled, 10, 6, 1)
    );
    assert_eq!(
        s.rejected,
        reasons(&[
            ("EVENT_DATE: not a valid calendar date or time of day", 1),
            ("GEO_PRECISION: unknown code", 1),
            ("LONGITUDE: missing", 1),
            ("record: too many fields", 1),
        ])
    );
    assert_eq!(
        s.messages,
        [
            "messy_acled_cp1252.csv:8: EVENT_DATE: `31/02/2022` is not a valid calendar date or time of day",
            "messy_acled_cp1252.csv:9: GEO_PRECISION: `9` is not a code in 1..=3",
            "messy_acled_cp1252.csv:10: LONGITUDE: empty",
            "messy_acled_cp1252.csv:11: record: 14 fields where the header has 13",
        ]
    );
    let obs = all(&got);
    let d: Vec<String> = obs
        .iter()
        .map(|o| {
            format!(
                "{} {} {} {}",
                o.provenance.line,
                o.time.start.date_naive(),
                o.time.precision,
                o.kind
            )
        })
        .collect();
    assert_eq!(
        d,
        [
            "2 2022-02-24 day shelling",
            "4 2022-02-22 week armed_clash",
            "6 2022-02-26 day strike",
            "7 2022-02-01 month violence_against_civilians",
            "13 2022-02-26 day strike",
            "14 2022-03-02 day protest",
        ]
    );
    let notes = |i: usize| serde_json::from_str::<serde_json::Value>(&obs[i].attributes).unwrap()["NOTES"].clone();
    assert_eq!(
        notes(0),
        "Fictitious: shelling near the café – windows broken, “no injuries”"
    );
    assert_eq!(notes(1), "Fictitious: clash;\r\nsecond line of notes, with \"quotes\"");
    assert_eq!(notes(2), "Fictitious: strike € 1");
}

// ---------------------------------------------------------------- options and errors

#[test]
fn strict_refuses_a_file_with_one_bad_row() {
    let text = "latitude,longitude,acq_date\n47.1,37.6,2022-02-24\n47.1,37.6,2022-02-31\n47.2,37.6,2022-02-24\n";
    let lenient = read_ok("f.csv", text.as_bytes());
    assert_eq!((lenient.summary.rows_kept, lenient.summary.rejected_total()), (2, 1));
    let strict = ReadOptions {
        strict: true,
        ..ReadOptions::default()
    };
    let err = read("f.csv", text.as_bytes(), &strict).unwrap_err();
    assert_eq!(
        err.to_string(),
        "f.csv:3: acq_date: `2022-02-31` is not a valid calendar date or time of day (strict mode: file refused)"
    );
    assert!(matches!(err, IngestError::Row { line: 3, .. }));
    // The messy fixtures are refused too, at their first bad row.
    let err = read("m.csv", &fixture("messy_acled_cp1252.csv"), &strict).unwrap_err();
    assert!(err.to_string().starts_with("m.csv:8: EVENT_DATE:"), "{err}");
    // A clean file passes strict mode unchanged.
    let got = read("v.csv", &fixture("firms_viirs.csv"), &strict).unwrap();
    assert_eq!(got.summary.rows_kept, 9);
}

#[test]
fn duplicates_are_counted_and_optionally_dropped() {
    let text = "latitude,longitude,acq_date\n47.1,37.6,2022-02-24\n47.1,37.6,2022-02-24\n47.1,37.6, 2022-02-24\n47.1,37.6,2022-02-24\n";
    let kept = read_ok("f.csv", text.as_bytes());
    assert_eq!(
        (kept.summary.rows_read, kept.summary.rows_kept, kept.summary.duplicates),
        (4, 4, 2)
    );
    let opts = ReadOptions {
        drop_duplicates: true,
        ..ReadOptions::default()
    };
    let dropped = read("f.csv", text.as_bytes(), &opts).unwrap();
    let s = &dropped.summary;
    // The third row differs by a space, so it is not an exact duplicate.
    assert_eq!(
        (s.rows_read, s.rows_kept, s.duplicates, s.duplicates_dropped),
        (4, 2, 2, 2)
    );
    let lines: Vec<u64> = all(&dropped).iter().map(|o| o.provenance.line).collect();
    assert_eq!(lines, [2, 4]);
    assert!(
        s.to_string()
            .contains("4 rows read, 2 kept, 0 rejected, 2 duplicates (2 dropped)"),
        "{s}"
    );
}

#[test]
fn forced_format() {
    // Detection alone finds no format here; forcing one reads it.
    let text = "event_date,latitude,longitude,event_type_x\n2022-02-24,50,36,x\n";
    let err = read("a.csv", text.as_bytes(), &ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.csv:1: header: not a known format (columns: event_date, latitude, longitude, event_type_x)"
    );
    let opts = ReadOptions {
        format: Some(Format::Acled),
        ..ReadOptions::default()
    };
    let err = read("a.csv", text.as_bytes(), &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.csv:1: header: missing column `event_type` required by acled"
    );
    let text = "event_date,latitude,longitude,event_type\n2022-02-24,50,36,Battles\n";
    assert_eq!(read("a.csv", text.as_bytes(), &opts).unwrap().summary.rows_kept, 1);
    // Forcing GeoJSON on a CSV is a document error, not a panic.
    let opts = ReadOptions {
        format: Some(Format::GeoJson),
        ..ReadOptions::default()
    };
    let err = read("a.csv", text.as_bytes(), &opts).unwrap_err();
    assert!(err.to_string().starts_with("a.csv: geojson: not JSON: "), "{err}");
}

#[test]
fn file_level_errors() {
    fn check(input: &str, expected: &str) {
        let got = match read("x", input.as_bytes(), &ReadOptions::default()) {
            Ok(g) => format!("ok {}", g.summary.rows_kept),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, expected, "input {input:?}");
    }
    for (input, expected) in [
        ("", "x:1: header: no header row (the file is empty or blank)"),
        (
            "\r\n \r\n,,\n",
            "x:1: header: no header row (the file is empty or blank)",
        ),
        ("latitude,longitude,acq_date\n", "ok 0"),
        ("\n\nlatitude;longitude;acq_date\n47,5;37,5;2022-01-01\n", "ok 0"),
        ("\n\nlatitude;longitude;acq_date\n47.5;37.5;2022-01-01\n", "ok 1"),
        (
            "date_prec,where_prec,date_start\n",
            "x:1: header: missing column `latitude` required by ucdp_ged",
        ),
        (
            "{",
            "x: geojson: not JSON: EOF while parsing an object at line 1 column 1",
        ),
        (
            "{\"type\":\"Polygon\",\"coordinates\":[]}",
            "x: geojson: a `Polygon`, not a Feature or FeatureCollection",
        ),
        (
            "{\"type\":\"FeatureCollection\"}",
            "x: geojson: a FeatureCollection without a `features` array",
        ),
        ("{\"features\":[]}", "x: geojson: no `type` member: not GeoJSON"),
        ("{\"type\":\"FeatureCollection\",\"features\":[]}", "ok 0"),
        (
            &format!("{}{}", "[".repeat(10), "]".repeat(10)),
            "x:1: header: not a known format (columns: [[[[[[[[[[]]]]]]]]]])",
        ),
    ] {
        check(input, expected);
    }
}

#[test]
fn limits_are_named() {
    let wide = format!("latitude,longitude,acq_date{}\n", ",x".repeat(FIELDS_MAX));
    let err = read("wide.csv", wide.as_bytes(), &ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "wide.csv:1: fields in the row: exceeds FIELDS_MAX ({} > {FIELDS_MAX})",
            FIELDS_MAX + 3
        )
    );
    let long = format!(
        "latitude,longitude,acq_date,notes\n47,37,2022-01-01,ok\n47,37,2022-01-01,\"{}\"\n",
        "a".repeat(FIELD_BYTES_MAX + 1)
    );
    let err = read("long.csv", long.as_bytes(), &ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "long.csv:3: field 4: exceeds FIELD_BYTES_MAX ({} > {FIELD_BYTES_MAX})",
            FIELD_BYTES_MAX + 1
        )
    );
    assert!(matches!(
        err,
        IngestError::Limit {
            limit: "FIELD_BYTES_MAX",
            ..
        }
    ));
}

#[test]
fn observation_ids_are_the_models() {
    let got = read_ok("f.csv", &fixture("messy_firms.csv"));
    for o in all(&got) {
        assert_eq!(o.id, observation_id(&got.summary.sha256, o.provenance.line));
    }
    // The hash is of the original bytes, before any decoding.
    let bytes = fixture("messy_acled_cp1252.csv");
    let got = read_ok("a.csv", &bytes);
    use sha2::Digest;
    assert_eq!(got.summary.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
}

#[test]
fn utf16_with_bom_is_read() {
    let text = "latitude,longitude,acq_date\r\n47.1,37.6,2022-02-24\r\n";
    let mut bytes = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let got = read_ok("u16.csv", &bytes);
    assert_eq!((got.summary.encoding, got.summary.rows_kept), ("UTF-16LE (BOM)", 1));
}
