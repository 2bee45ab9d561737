//! Tests on the full shared data files in `../shared/data` (next to the repository).
//! Where that directory is absent, as on a fresh clone, each test prints a SKIP line
//! and passes.

use std::path::PathBuf;

use truce_ingest::{read, Format, Ingested, ReadOptions};
use truce_model::{observations_from_batch, ObservationKind, TimePrecision};

/// The shared file `rel`, or `None` (after a SKIP line) when the shared data is absent.
fn shared(rel: &str) -> Option<(String, Vec<u8>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => Some((rel.to_string(), bytes)),
        Err(e) => {
            println!("SKIP: shared data file {} not readable ({e})", path.display());
            None
        }
    }
}

fn read_all(name: &str, bytes: &[u8]) -> Ingested {
    read(name, bytes, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn viirs_nrt_file() {
    let Some((name, bytes)) = shared("firms/viirs-nrt-2026-06-25_to_2026-06-29.csv") else {
        return;
    };
    let got = read_all(&name, &bytes);
    let s = &got.summary;
    println!("{s}");
    assert_eq!((s.format, s.encoding), (Format::Firms, "UTF-8"));
    assert_eq!((s.rows_read, s.rows_kept, s.rejected_total()), (6_715, 6_715, 0));
    let obs: Vec<_> = got
        .batches
        .iter()
        .flat_map(|b| observations_from_batch(b).unwrap())
        .collect();
    assert_eq!(obs.len(), 6_715);
    assert!(obs
        .iter()
        .all(|o| o.kind == ObservationKind::Fire && o.time.precision == TimePrecision::Minute));
    // Pixel radii stay within what VIIRS pixels allow (scan and track up to 0.8 km).
    let (lo, hi) = obs.iter().fold((f64::MAX, 0f64), |(lo, hi), o| {
        (lo.min(o.uncertainty_m), hi.max(o.uncertainty_m))
    });
    assert!(lo > 250.0 && hi < 566.0, "radii {lo}..{hi}");
    // Inside the file's stated bounding box and dates.
    assert!(obs
        .iter()
        .all(|o| (22.0..=41.0).contains(&o.lon) && (44.0..=53.0).contains(&o.lat)));
    let first = &obs[0];
    assert_eq!((first.lat, first.lon), (44.07969, 22.10233));
    assert_eq!(first.time.start.to_rfc3339(), "2026-06-25T00:35:00+00:00");
    assert!(obs
        .iter()
        .all(|o| o.time.start.date_naive().to_string().as_str() >= "2026-06-25"
            && o.time.start.date_naive().to_string().as_str() <= "2026-06-29"));
}

#[test]
fn lat_lon_date_files() {
    let years = [
        2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010, 2011, 2012, 2013, 2016, 2018, 2019, 2020,
        2021, 2022, 2023,
    ];
    let (mut read_n, mut kept, mut rejected, mut dups) = (0, 0, 0, 0);
    for year in years {
        let Some((name, bytes)) = shared(&format!(
            "firms/ukraine-2000-2023-lat-lon-date/ukr_fire_data_{year}.csv"
        )) else {
            return;
        };
        let got = read_all(&name, &bytes);
        let s = &got.summary;
        println!("{s}");
        assert_eq!(s.format, Format::Firms);
        read_n += s.rows_read;
        kept += s.rows_kept;
        rejected += s.rejected_total();
        dups += s.duplicates;
        if year == 2022 {
            let obs = observations_from_batch(&got.batches[0]).unwrap();
            assert_eq!((obs[0].lat, obs[0].lon), (47.1005, 37.6171));
            assert_eq!(obs[0].time.start.to_rfc3339(), "2022-01-01T00:00:00+00:00");
            assert_eq!(obs[0].time.precision, TimePrecision::Day);
            assert_eq!(obs[0].attributes, "{}");
            assert_eq!(obs[0].uncertainty_m.round(), 707.0);
        }
    }
    println!("lat/lon/date files: {read_n} rows read, {kept} kept, {rejected} rejected, {dups} duplicates");
    assert_eq!((read_n, kept, rejected), (1_263_651, 1_263_651, 0));
}

#[test]
fn ucdp_ged_file() {
    let Some((name, bytes)) = shared("ucdp/ged-ukraine-2014-01-22_to_2022-02-23.csv") else {
        return;
    };
    let got = read_all(&name, &bytes);
    let s = &got.summary;
    println!("{s}");
    assert_eq!(s.format, Format::UcdpGed);
    assert_eq!((s.rows_read, s.rows_kept, s.rejected_total()), (3_077, 3_077, 0));
    let obs: Vec<_> = got
        .batches
        .iter()
        .flat_map(|b| observations_from_batch(b).unwrap())
        .collect();
    // Every event in this file is state-based violence.
    assert!(obs.iter().all(|o| o.kind == ObservationKind::ArmedClash));
    let count = |p: TimePrecision| obs.iter().filter(|o| o.time.precision == p).count();
    assert_eq!(
        [
            count(TimePrecision::Day),
            count(TimePrecision::Days),
            count(TimePrecision::Week),
            count(TimePrecision::Month),
            count(TimePrecision::Year)
        ],
        [2_406, 445, 77, 113, 36]
    );
    let radius = |m: f64| obs.iter().filter(|o| o.uncertainty_m == m).count();
    assert_eq!(
        [
            radius(5e3),
            radius(25e3),
            radius(50e3),
            radius(150e3),
            radius(200e3),
            radius(1e6),
            radius(5e5)
        ],
        [751, 1_606, 17, 469, 231, 2, 1]
    );
    let first: serde_json::Value = serde_json::from_str(&obs[0].attributes).unwrap();
    assert_eq!(first["id"], 147997);
    assert_eq!(first["conflict_name"], "Ukraine: Government");
    assert_eq!(obs[0].time.start.to_rfc3339(), "2014-01-22T00:00:00+00:00");
    assert!(obs.iter().all(|o| o.time.end > o.time.start));
}

#[test]
fn oblast_polygons_are_not_points() {
    let Some((name, bytes)) = shared("admin/ukraine-oblasts.geojson") else {
        return;
    };
    let got = read_all(&name, &bytes);
    let s = &got.summary;
    println!("{s}");
    assert_eq!((s.format, s.rows_read, s.rows_kept), (Format::GeoJson, 25, 0));
    assert_eq!(s.rejected.get("geometry: not a point"), Some(&25));
    assert!(got.batches.is_empty());
}
