//! End to end through the built binary, on the bundled example agreement and demo
//! geometry (no shared data needed): two independent reports of one strike in Kyiv are
//! ingested into a data directory with an evidence log; the incident is corroborated,
//! then confirmed by an analyst; the clauses raise obligations; a guarantor records an
//! action; every decision and obligation event lands in the log, which verifies.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs truce, asserts the exit code, returns (stdout, stderr).
#[track_caller]
fn run2(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let o: Output = Command::new(env!("CARGO_BIN_EXE_truce")).current_dir(dir).args(args).output().expect("run truce");
    let (out, err) = (String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string());
    assert_eq!(o.status.code(), Some(code), "truce {args:?}\nstdout:\n{out}\nstderr:\n{err}");
    (out, err)
}

/// Runs truce, asserts the exit code, returns stdout and stderr together.
#[track_caller]
fn run(dir: &Path, args: &[&str], code: i32) -> String {
    let (out, err) = run2(dir, args, code);
    format!("{out}{err}")
}

/// One strike in Kyiv as a media report (GeoJSON point), shared with the server's tests.
const STRIKE_GEOJSON: &str = include_str!("fixtures/kyiv-strike.geojson");

/// The same strike seen by a monitoring team's camera (a patrol report).
const PATROL: &str = include_str!("fixtures/kyiv-patrol.json");

#[test]
fn corroborate_confirm_oblige_act_and_log() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let agreement = repo().join("examples/ukraine-2025.toml");
    let ag = agreement.to_str().unwrap();
    std::fs::write(d.join("strike.geojson"), STRIKE_GEOJSON).unwrap();
    std::fs::write(d.join("patrol.json"), PATROL).unwrap();
    run(d, &["keys", "new", "--name", "truce.example/test", "--out", "k.key"], 0);
    std::fs::create_dir_all(d.join("data")).unwrap();
    run(d, &["log", "init", "--dir", "data/log", "--key", "k.key"], 0);
    let day0 = chrono::Utc::now().date_naive();
    run(d, &["ingest", "strike.geojson", "--out", "data/observations/media.parquet", "--log", "data/log"], 0);
    run(d, &["ingest", "patrol.json", "--out", "data/observations/patrol.parquet", "--log", "data/log"], 0);
    let common = ["--agreement", ag, "--data", "data"];

    // One corroborated incident in Kyiv, deep beyond the line: two rules broken.
    let out = run(d, &[&["incidents"][..], &common].concat(), 0);
    assert!(out.contains("1 incidents at"), "{out}");
    assert!(out.contains("corroborated   1"), "{out}");
    let line = out.lines().find(|l| l.contains(" I-")).expect("an incident line").to_string();
    assert!(line.contains("attack-on-deterrent-area") && line.contains("strike-beyond-line"), "{line}");
    assert!(line.contains("Kyiv") || line.contains("UA-32"), "{line}");
    let id = line.split_whitespace().find(|w| w.starts_with("I-")).unwrap().to_string();

    // Corroborated only: the monitor reports and the deterrent force responds; the
    // armed-attack clauses wait for an analyst's confirmation.
    let (out, _) = run2(d, &[&["obligations", "--json"][..], &common].concat(), 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let obs = v["obligations"].as_array().unwrap();
    let clauses: std::collections::BTreeSet<&str> = obs.iter().map(|o| o["clause"].as_str().unwrap()).collect();
    assert_eq!(clauses.into_iter().collect::<Vec<_>>(), ["deterrent-force-response", "monitor-report"]);
    assert_eq!(obs.len(), 1 + 10);
    assert!(obs.iter().all(|o| o["status"] == "pending"));

    // Bad decisions are refused and leave nothing behind.
    let out = run(d, &[&["decide", "--incident", "I-nope", "--confirm", "--reason", "x", "--analyst", "a1"][..], &common].concat(), 2);
    assert!(out.contains("no such incident"), "{out}");
    assert!(!d.join("data/decisions.jsonl").exists());

    let out = run(d, &[&["decide", "--incident", &id, "--confirm", "--reason", "video geolocated", "--analyst", "an-7", "--key", "k.key"][..], &common].concat(), 0);
    assert!(out.contains("confirmed") && out.contains("was corroborated"), "{out}");
    let out = run(d, &[&["obligations"][..], &common].concat(), 0);
    assert!(out.contains("33 pending"), "{out}");
    let consult = out
        .lines()
        .find(|l| l.trim_start().starts_with("id armed-attack-consultations/GB/"))
        .expect("GB's consultation duty")
        .trim()
        .trim_start_matches("id ")
        .to_string();

    // The wrong party cannot act on GB's duty; GB can.
    let out = run(d, &[&["act", "--obligation", &consult, "--party", "FR", "--note", "x", "--by", "l"][..], &common].concat(), 2);
    assert!(out.contains("is GB's, not FR's"), "{out}");
    run(d, &[&["act", "--obligation", &consult, "--party", "GB", "--note", "NSC convened", "--by", "liaison-gb"][..], &common].concat(), 0);
    let out = run(d, &[&["obligations", "--party", "GB"][..], &common].concat(), 0);
    assert!(out.contains("FULFILLED GB"), "{out}");
    assert!(out.contains("1 fulfilled") && out.contains("2 pending"), "{out}");
    let out = run(d, &[&["act", "--obligation", &consult, "--party", "GB", "--note", "again", "--by", "l"][..], &common].concat(), 2);
    assert!(out.contains("already fulfilled"), "{out}");

    // Obligation events into the log, once.
    let out = run(d, &[&["obligations", "--record", "--key", "k.key"][..], &common].concat(), 0);
    assert!(out.contains("34 new obligation event(s)"), "{out}");
    let out = run(d, &[&["obligations", "--record"][..], &common].concat(), 0);
    assert!(out.contains("0 new obligation event(s)"), "{out}");
    // 2 ingested batches + 1 decision + 1 action + 34 events.
    let out = run(d, &["log", "fsck", "--dir", "data/log"], 0);
    assert!(out.starts_with("ok: 38 entries"), "{out}");

    // The strike of 14 April reached truce only today: today's report lists it as
    // reported late (no earlier report could), recorded in the log with its proof.
    let mut found = None;
    for day in [day0, day0.succ_opt().unwrap()] {
        let dir = format!("rep-{day}");
        run(d, &[&["report", "--day", &day.to_string(), "--out", &dir, "--key", "k.key"][..], &common].concat(), 0);
        let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join(&dir).join("report.json")).unwrap()).unwrap();
        if !r["late"].as_array().unwrap().is_empty() {
            found = Some((r, dir));
            break;
        }
    }
    let (r, dir) = found.expect("a report lists the late incident");
    assert_eq!(r["late"][0]["id"], id.as_str());
    assert_eq!(r["late"][0]["confidence"], "verified");
    assert!(r["incidents"].as_array().unwrap().is_empty(), "it happened in April, not in the period");
    assert!(r["obligations"].as_array().unwrap().len() >= 33);
    assert!(std::fs::read_to_string(d.join(&dir).join("report.md")).unwrap().contains("## Reported late"));
    assert!(r["log"]["index"].as_u64().unwrap() >= 38);
}

#[test]
fn agreement_errors_name_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let text = std::fs::read_to_string(repo().join("examples/ukraine-2025.toml")).unwrap();
    std::fs::write(d.join("bad.toml"), text.replace("within = \"12h\"", "within = \"twelve hours\"")).unwrap();
    let out = run(d, &["agreement", "check", "bad.toml"], 2);
    let line = text.lines().position(|l| l.contains("within = \"12h\"")).unwrap() + 1;
    assert!(out.contains(&format!("bad.toml:{line}: clauses[2].then[0].within: `twelve hours` is not a duration")), "{out}");
    for ex in ["examples/ukraine-2025.toml", "examples/minsk-2015.toml"] {
        let out = run(&repo(), &["agreement", "check", ex], 0);
        assert!(out.contains("geometry: "), "{out}");
    }
    // The Minsk line, straight from the agreement (the figures of crates/cli/tests/minsk.rs).
    let out = run(&repo(), &["control", "list", "--agreement", "examples/minsk-2015.toml"], 0);
    let row = out.lines().find(|l| l.contains("ordlo-pre-2022-occupied-area")).expect("the ORDLO snapshot");
    assert!(row.contains("2015-02-14 22:00:00") && row.split_whitespace().rev().nth(1) == Some("510"), "{row}");
    run(d, &["control", "export", "--agreement", repo().join("examples/minsk-2015.toml").to_str().unwrap(), "--at", "2020-01-01", "--out", "minsk-line"], 0);
    assert!(d.join("minsk-line/contact_line.geojson").is_file());
}
