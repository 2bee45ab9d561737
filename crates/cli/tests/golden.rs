//! End-to-end golden values through the `truce` binary.
//!
//! The shared-data figures were cross-checked once against an independent tool:
//! `bench/peers/crosscheck.py` derives the same contact line with Shapely 2 / GEOS
//! (`boundary(occupied) - buffer(boundary(country), 2 km)`, slivers under 0.1 km2
//! closed) and measures exact WGS 84 geodesic distances with pyproj: 17 parts, 870
//! vertices, 998.7 km; 320,868 of the 1,263,651 detections inside occupied ground;
//! 115,756 within 15 km; mean distance 220.118 km (its `crosscheck.json`). The same
//! script in UTM 37N reproduces the shared data README's planar figures (115,719 and
//! 221.02 km). VIIRS 2026-06-25..29: 5,280 of 6,715 inside Ukraine, 1,909 of them in
//! occupied ground per the 2026-03-30 snapshot.
//!
//! Tests on `../shared/data` print SKIP and return when it is absent; the demo test
//! always runs, on the data bundled in `demo/`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn truce(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_truce")).args(args).output().expect("truce runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = truce(args);
    assert_eq!(code, 0, "truce {args:?} failed:\n{out}\n{err}");
    out
}

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIP: {} is absent", p.display());
        None
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn summary_json(classified: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&["summary", s(classified), "--json"])).unwrap()
}

#[test]
fn all_firms_detections_against_the_2023_06_29_line() {
    let Some(d) = shared() else { return };
    let t = tempfile::tempdir().unwrap();
    let (obs, cls) = (t.path().join("obs.parquet"), t.path().join("cls.parquet"));
    ok(&["ingest", s(&d.join("firms/ukraine-2000-2023-lat-lon-date")), "--out", s(&obs)]);
    ok(&[
        "classify",
        s(&obs),
        "--control",
        s(&d.join("deepstate/raw-layers-monthly-2023-04_to_2025-08")),
        "--admin",
        s(&d.join("admin/ukraine-oblasts.geojson")),
        "--at",
        "2023-06-29",
        "--out",
        s(&cls),
    ]);
    let j = summary_json(&cls);
    assert_eq!(j["rows"], 1_263_651);
    assert_eq!(j["by_side"]["occupied"], 320_868);
    assert_eq!(j["within_15km"], 115_756);
    let mean = j["distance_km_mean_abs"].as_f64().unwrap();
    assert!((mean - 220.118).abs() < 0.01, "mean distance {mean}");
}

#[test]
fn contact_line_of_2023_06_29_matches_shapely() {
    let Some(d) = shared() else { return };
    let out = ok(&[
        "control",
        "list",
        "--control",
        s(&d.join("deepstate/raw-layers-monthly-2023-04_to_2025-08/deepstate_20230629T222605Z_1688077565.geojson")),
        "--admin",
        s(&d.join("admin/ukraine-oblasts.geojson")),
    ]);
    let row = out.lines().find(|l| l.starts_with("deepstate_20230629")).expect(&out);
    let f: Vec<&str> = row.split_whitespace().collect();
    // name, date, time, parts, vertices, km
    assert_eq!((f[3], f[4]), ("17", "870"), "{row}");
    let km: f64 = f[5].parse().unwrap();
    assert!((km - 998.7).abs() < 1.0, "{row}");
}

#[test]
fn viirs_2026_sides() {
    let Some(d) = shared() else { return };
    let t = tempfile::tempdir().unwrap();
    let (obs, cls) = (t.path().join("v.parquet"), t.path().join("vc.parquet"));
    ok(&["ingest", s(&d.join("firms/viirs-nrt-2026-06-25_to_2026-06-29.csv")), "--out", s(&obs)]);
    ok(&[
        "classify",
        s(&obs),
        "--control",
        s(&d.join("deepstate/occupied-weekly-2024-07_to_2026-03")),
        "--admin",
        s(&d.join("admin/ukraine-oblasts.geojson")),
        "--out",
        s(&cls),
    ]);
    let j = summary_json(&cls);
    assert_eq!(j["rows"], 6_715);
    assert_eq!(j["by_side"]["outside"], 6_715 - 5_280);
    assert_eq!(j["by_side"]["occupied"], 1_909);
    assert_eq!(j["by_side"]["held"], 3_371);
}

#[test]
fn demo_runs_on_the_bundled_data() {
    let t = tempfile::tempdir().unwrap();
    let out = ok(&["demo", "--data", s(&repo().join("demo/data")), "--out", s(t.path())]);
    assert!(out.contains("observations over"), "{out}");
    let j = summary_json(&t.path().join("classified.parquet"));
    assert_eq!(j["rows"], 29_792 + 6_715);
    // VIIRS 2026 against the 2026-03-30 snapshot, as in viirs_2026_sides; the 2022
    // detections against the weekly snapshots in force on their dates.
    let sides = &j["by_side"];
    let total: u64 = sides.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total, 29_792 + 6_715);
    assert!(sides["occupied"].as_u64().unwrap() > 1_909, "{sides}");
    assert!(t.path().join("summary.csv").is_file());

    // The monitoring pipeline: the daily report of the day with the most war fires,
    // in every edition, recorded in the evidence log with its own inclusion proof.
    assert!(out.contains("Daily report of the ceasefire monitoring mechanism"), "{out}");
    for f in ["report.json", "report.md", "report.html", "report.pdf", "map.svg", "warfires.svg"] {
        for dir in ["report", "report-public"] {
            let p = t.path().join(dir).join(f);
            assert!(p.is_file() && std::fs::metadata(&p).unwrap().len() > 500, "{}", p.display());
        }
    }
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(t.path().join("report/report.json")).unwrap()).unwrap();
    assert_eq!(r["schema"], "truce-daily-report/1");
    assert!(r["replay"].as_str().unwrap().contains("2022-04-03"), "{}", r["replay"]);
    assert!(r["warfires"]["days"].as_array().unwrap().len() == 14);
    let incidents = r["incidents"].as_array().unwrap();
    assert!(!incidents.is_empty());
    assert!(incidents.iter().all(|i| i["place"].as_str().unwrap().contains("contact line")), "{incidents:?}");
    assert!(r["pledges"]["committed_m"].as_f64().unwrap() > 0.0 && r["forces"]["target"] == 800_000);
    // The report's proof is the log's proof of that entry.
    let log = &r["log"];
    let index = log["index"].as_u64().unwrap();
    let data_log = t.path().join("data/log");
    let (code, proof, err) = truce(&["log", "prove", "--dir", s(&data_log), "--index", &index.to_string(), "--size", &log["tree_size"].to_string()]);
    assert_eq!(code, 0, "{err}");
    let proof: serde_json::Value = serde_json::from_str(&proof).unwrap();
    assert_eq!(proof["hashes"], log["inclusion_proof"]);
    let vkey = std::fs::read_to_string(t.path().join("demo.key.pub")).unwrap();
    let (code, out, err) = truce(&["log", "verify", "--dir", s(&data_log), "--vkey", vkey.trim()]);
    assert_eq!(code, 0, "{out}{err}");
    // The public edition: verified incidents only (the demo has no analyst, so none).
    let p: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(t.path().join("report-public/report.json")).unwrap()).unwrap();
    assert_eq!(p["edition"], "public");
    assert!(p["incidents"].as_array().unwrap().iter().all(|i| i["confidence"] == "verified"));
    let html = std::fs::read_to_string(t.path().join("report/report.html")).unwrap();
    assert!(!html.contains("<script") && !html.contains("src=\"http"), "the HTML must be self-contained");
}

#[test]
fn bad_arguments_and_missing_files_exit_2_with_the_path() {
    let (code, _, err) = truce(&["summary", "/nonexistent/x.parquet"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/x.parquet"), "{err}");
    let (code, _, err) = truce(&["classify", "x.parquet", "--control", "c", "--admin", "a", "--band", "buf:sideways:0:5", "--out", "o"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn ingest_appends_one_custody_entry_per_file() {
    let t = tempfile::tempdir().unwrap();
    let key = t.path().join("k.key");
    let log = t.path().join("log");
    ok(&["keys", "new", "--name", "truce.test/custody", "--out", s(&key)]);
    ok(&["log", "init", "--dir", s(&log), "--key", s(&key)]);
    let firms = repo().join("demo/data/firms/viirs-nrt-2026-06-25_to_2026-06-29.csv");
    let ucdp = repo().join("crates/ingest/tests/fixtures/ucdp_ged.csv");
    let out = ok(&[
        "ingest", s(&firms), s(&ucdp), "--out", s(&t.path().join("o.parquet")),
        "--log", s(&log), "--key", s(&key), "--who", "analyst-7",
    ]);
    assert!(out.contains("entries 0..2 appended"), "{out}");
    ok(&["log", "fsck", "--dir", s(&log)]);
    // The entry names the file by its SHA-256, which every observation of it carries.
    let sha = out.lines().find(|l| l.contains("viirs-nrt")).and_then(|l| l.split("sha256 ").nth(1)).unwrap()[..16].to_string();
    let entry = t.path().join("e0");
    ok(&["log", "prove", "--dir", s(&log), "--index", "0", "--entry-out", s(&entry), "--out", s(&t.path().join("p0"))]);
    let body = std::fs::read_to_string(&entry).unwrap();
    assert!(body.contains(&sha) && body.contains("analyst-7") && body.contains("\"rows_kept\":6715"), "{body}");
    // A log that cannot be opened refuses the ingest, and nothing is written.
    let (code, _, err) = truce(&["ingest", s(&firms), "--out", s(&t.path().join("x.parquet")), "--log", s(&t.path().join("nolog"))]);
    assert_eq!(code, 2, "{err}");
    assert!(!t.path().join("x.parquet").exists());
}
