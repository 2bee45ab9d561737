//! Conformance against transparency-dev/merkle's RFC 6962 proof vectors:
//! every happy path must verify and every `wantErr` case must be rejected.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;
use truce_log::proof::raw::{
    verify_consistency, verify_inclusion, verify_subtree_consistency, verify_subtree_inclusion,
};
use truce_log::Error;

/// The full vector set beside the checkout; TRUCE_TLOG_VECTORS_DIR
/// overrides it (pointing it at a missing path exercises the fallback).
fn full_dir() -> PathBuf {
    match std::env::var_os("TRUCE_TLOG_VECTORS_DIR") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/tlog-vectors/transparency-dev-merkle/testdata"),
    }
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transparency-dev-merkle/testdata")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn num(v: &Value, k: &str) -> Result<u64, Error> {
    v[k].as_u64()
        .ok_or_else(|| Error::BadProof(format!("{k} is not a u64")))
}

/// Hashes are decoded to bytes of whatever length the vector holds; the
/// library's byte-slice verifiers decide which lengths are acceptable, as
/// transparency-dev's own verifier does.
fn bytes(v: &Value, k: &str) -> Result<Vec<u8>, Error> {
    B64.decode(v[k].as_str().unwrap_or(""))
        .map_err(|e| Error::BadHash(e.to_string()))
}

fn proof(v: &Value) -> Result<Vec<Vec<u8>>, Error> {
    match &v["proof"] {
        Value::Null => Ok(vec![]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                B64.decode(x.as_str().unwrap_or(""))
                    .map_err(|e| Error::BadHash(e.to_string()))
            })
            .collect(),
        _ => Err(Error::BadProof("proof is not an array".into())),
    }
}

/// Runs one case through the verifier for its category.
fn run_case(category: &str, v: &Value) -> Result<(), Error> {
    match category {
        "inclusion" => verify_inclusion(
            &bytes(v, "leafHash")?,
            num(v, "leafIdx")?,
            num(v, "treeSize")?,
            &proof(v)?,
            &bytes(v, "root")?,
        ),
        "consistency" => verify_consistency(
            num(v, "size1")?,
            num(v, "size2")?,
            &proof(v)?,
            &bytes(v, "root1")?,
            &bytes(v, "root2")?,
        ),
        "subtreeinclusion" => verify_subtree_inclusion(
            &bytes(v, "leafHash")?,
            num(v, "leafIdx")?,
            num(v, "start")?,
            num(v, "end")?,
            &proof(v)?,
            &bytes(v, "root")?,
        ),
        "subtreeconsistency" => verify_subtree_consistency(
            num(v, "start")?,
            num(v, "end")?,
            num(v, "size")?,
            &proof(v)?,
            &bytes(v, "root1")?,
            &bytes(v, "root2")?,
        ),
        other => panic!("unknown vector category {other}"),
    }
}

#[derive(Default, Debug)]
struct Tally {
    happy: usize,
    rejected: usize,
    failures: Vec<String>,
}

fn run_dir(dir: &Path) -> std::collections::BTreeMap<String, Tally> {
    let mut files = Vec::new();
    json_files(dir, &mut files);
    files.sort();
    let mut out: std::collections::BTreeMap<String, Tally> = Default::default();
    for f in files {
        let rel = f.strip_prefix(dir).unwrap();
        let category = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string();
        let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().expect("every vector has wantErr");
        let got = run_case(&category, &v);
        let t = out.entry(category).or_default();
        match (want_err, got) {
            (false, Ok(())) => t.happy += 1,
            (true, Err(_)) => t.rejected += 1,
            (false, Err(e)) => t
                .failures
                .push(format!("{}: happy path rejected: {e}", rel.display())),
            (true, Ok(())) => t
                .failures
                .push(format!("{}: wantErr case accepted", rel.display())),
        }
    }
    out
}

fn report(name: &str, tallies: &std::collections::BTreeMap<String, Tally>) -> (usize, usize) {
    let (mut h, mut r) = (0, 0);
    for (cat, t) in tallies {
        println!(
            "{name}: {cat:20} {:4} happy verified, {:4} wantErr rejected, {} failures",
            t.happy,
            t.rejected,
            t.failures.len()
        );
        for f in &t.failures {
            println!("  FAIL {f}");
        }
        h += t.happy;
        r += t.rejected;
    }
    let failures: usize = tallies.values().map(|t| t.failures.len()).sum();
    assert_eq!(
        failures, 0,
        "{name}: {failures} vector failures (listed above)"
    );
    println!(
        "{name}: total {h} happy verified + {r} wantErr rejected = {}",
        h + r
    );
    (h, r)
}

#[test]
fn fixture_subset_vectors() {
    let t = run_dir(&fixture_dir());
    let (h, r) = report("fixtures", &t);
    assert_eq!(
        (h, r),
        (7, 8),
        "the committed subset has 7 happy and 8 wantErr cases"
    );
}

#[test]
fn full_transparency_dev_vectors() {
    let dir = full_dir();
    if !dir.is_dir() {
        println!(
            "SKIPPING the full transparency-dev vector set: {} does not exist; asserting on the committed fixture subset instead",
            dir.display()
        );
        let (h, r) = report("fixtures (fallback)", &run_dir(&fixture_dir()));
        assert_eq!(h + r, 15);
        return;
    }
    let t = run_dir(&dir);
    let (h, r) = report("full", &t);
    // The set at transparency-dev/merkle@417fb0c: 98 + 98 + 204 + 118 files.
    assert_eq!(h + r, 518, "expected all 518 vector files");
    assert_eq!(h, 36);
    for cat in [
        "inclusion",
        "consistency",
        "subtreeinclusion",
        "subtreeconsistency",
    ] {
        assert!(
            t[cat].happy > 0 && t[cat].rejected > 0,
            "{cat} must contribute both kinds of case"
        );
    }
}
