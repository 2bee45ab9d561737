//! `truce ingest` on patrol reports: observations to GeoParquet as for any feed, and the
//! coverage gaps beside them as `<out stem>.gaps.jsonl`.

use std::process::Command;

fn fixture(name: &str) -> String {
    format!("{}/../ingest/tests/fixtures/patrol/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn ingest_writes_observations_and_gaps() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("day.parquet");
    let o = Command::new(env!("CARGO_BIN_EXE_truce"))
        .args(["ingest", &fixture("smm_2019-07-12.json"), "-o"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("patrol (UTF-8)") && stdout.contains("13 kept"),
        "{stdout}"
    );
    assert!(out.exists());
    let gaps_path = tmp.path().join("day.gaps.jsonl");
    let gaps = truce_ingest::read_gaps("day.gaps.jsonl", &std::fs::read(&gaps_path).unwrap()).unwrap();
    assert_eq!(gaps.len(), 3);
    assert!(
        stdout.contains(&format!("3 coverage gaps -> {}", gaps_path.display())),
        "{stdout}"
    );
    // Nothing is left half-written beside them.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A bad restriction refuses the file: nothing written.
    let out2 = tmp.path().join("bad.parquet");
    let o = Command::new(env!("CARGO_BIN_EXE_truce"))
        .args(["ingest", &fixture("bad_restriction.json"), "-o"])
        .arg(&out2)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("restrictions[0].radius_km: -1 is outside (0, 500]"));
    assert!(!out2.exists() && !tmp.path().join("bad.gaps.jsonl").exists());
}
