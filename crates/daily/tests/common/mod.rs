//! Shared by the integration tests: the fixture and the snapshot helper.
#![allow(dead_code)]

use std::path::PathBuf;

use truce_daily::{from_json, DailyReport};

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The hand-built report: 12 June 2022, Donetsk and Luhansk oblasts.
pub fn fixture() -> DailyReport {
    let text = std::fs::read_to_string(dir().join("fixtures/report.json")).expect("fixture");
    from_json(&text).expect("the fixture parses")
}

pub fn updating() -> bool {
    std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1")
}

/// Compares `actual` with `tests/snapshots/<name>` byte for byte; with
/// `UPDATE_SNAPSHOTS=1` in the environment, rewrites the file instead.
pub fn snapshot(name: &str, actual: &str) {
    let path = dir().join("snapshots").join(name);
    if updating() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with UPDATE_SNAPSHOTS=1 to create it", path.display()));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output, first at line {}:\n  expected: {:?}\n  actual:   {:?}\nIf the change is intended, rerun with UPDATE_SNAPSHOTS=1 and review the diff.",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end>"),
            actual.lines().nth(line).unwrap_or("<end>")
        );
    }
}

/// The fixture with `n` incidents (copies of its own, with new ids).
pub fn with_incidents(n: usize) -> DailyReport {
    let mut r = fixture();
    let base = r.incidents.clone();
    r.incidents = (0..n)
        .map(|i| {
            let mut inc = base[i % base.len()].clone();
            inc.id = format!("{}-{i}", inc.id);
            inc
        })
        .collect();
    r
}
