//! `truce pledges` and `truce forces project` through the built binary, on the bundled
//! example (`examples/ukraine-2025.toml`) and on broken copies of it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn agreement() -> String {
    root()
        .join("examples/ukraine-2025.toml")
        .display()
        .to_string()
}

fn truce(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_truce"))
        .args(args)
        .output()
        .expect("run truce")
}

/// Runs truce, asserts its exit code, returns (stdout, stderr).
#[track_caller]
fn run(args: &[&str], code: i32) -> (String, String) {
    let o = truce(args);
    let (out, err) = (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    );
    assert_eq!(
        o.status.code(),
        Some(code),
        "truce {args:?}\nstdout:\n{out}\nstderr:\n{err}"
    );
    (out, err)
}

#[test]
fn pledges_tables_csv_json_and_diff() {
    let a = agreement();
    let (out, _) = run(&["pledges", "--agreement", &a], 0);
    for want in [
        "By donor",
        "United States",
        "Heavy weapons (units)",
        "Largest",
        "Anomalies: none",
        "Total",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    // CSV: the groups add up to the JSON total, and the identity holds on every row.
    let (csv, _) = run(
        &["pledges", "--agreement", &a, "--by", "category", "--csv"],
        0,
    );
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("donor,name,category,committed_m,allocated_m,delivered_m"));
    let mut committed = 0.0;
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 3, "military, financial, humanitarian");
    for r in &rows {
        let (c, al, d): (f64, f64, f64) = (
            r[3].parse().unwrap(),
            r[4].parse().unwrap(),
            r[5].parse().unwrap(),
        );
        assert!(d <= al + 1e-6 && al <= c + 1e-6, "{r:?}");
        committed += c;
    }
    let (json, _) = run(&["pledges", "--agreement", &a, "--json"], 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let total = v["figures"]["total"]["committed_m"].as_f64().unwrap();
    assert!((total - committed).abs() < 1e-6, "{total} vs {committed}");
    assert_eq!(v["figures"]["currency"], "EUR");
    assert!(v["diff"].is_null());

    let old = root()
        .join("examples/pledges/registry-2025-06.csv")
        .display()
        .to_string();
    let (out, _) = run(
        &[
            "pledges",
            "--agreement",
            &a,
            "--diff",
            &old,
            "--table",
            "diff",
        ],
        0,
    );
    assert!(out.contains("NL-F16/d") && out.contains("SILENT"), "{out}");
    assert!(out.contains("BACK-DATED"), "{out}");
    let (csv, _) = run(&["pledges", "--agreement", &a, "--diff", &old, "--csv"], 0);
    assert!(csv.starts_with("change,id,kind,donor,field,old,new,silent\n"));
    assert!(
        csv.contains("revised,NL-F16/d,delivery,NL,quantity,18,24,true"),
        "{csv}"
    );

    // --since keeps only later records.
    let (json, _) = run(
        &[
            "pledges",
            "--agreement",
            &a,
            "--since",
            "2025-01-01",
            "--json",
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["figures"]["total"]["committed_m"].as_f64().unwrap() < total);
}

#[test]
fn forces_project_table_csv_svg_and_seed() {
    let a = agreement();
    let tmp = tempfile::tempdir().unwrap();
    let svg = tmp.path().join("forces.svg");
    let svg_s = svg.display().to_string();
    let args = [
        "forces",
        "project",
        "--agreement",
        &a,
        "--runs",
        "2000",
        "--svg",
        &svg_s,
    ];
    let (out, err) = run(&args, 0);
    assert!(out.contains("Target reached: median "), "{out}");
    assert!(out.contains("Binding constraint: "), "{out}");
    assert!(out.contains("training capacity +10 %"), "{out}");
    assert!(err.contains("chart -> "), "{err}");
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains("target 800k"));
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");

    // The same seed gives the same table; another seed another one.
    let csv_args = |seed: &'static str| {
        vec![
            "forces",
            "project",
            "--agreement",
            &a,
            "--runs",
            "1000",
            "--months",
            "36",
            "--seed",
            seed,
            "--csv",
        ]
    };
    let (one, _) = run(&csv_args("5"), 0);
    let (two, _) = run(&csv_args("5"), 0);
    let (three, _) = run(&csv_args("6"), 0);
    assert_eq!(one, two);
    assert_ne!(one, three);
    assert_eq!(one.lines().count(), 37, "header and 36 months");
    assert!(one.lines().nth(1).unwrap().starts_with("2026-01,"));
    for l in one.lines().skip(1) {
        let f: Vec<f64> = l.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
        assert!(f[0] <= f[1] && f[1] <= f[2], "p10 <= median <= p90: {l}");
    }

    let (json, _) = run(
        &[
            "forces",
            "project",
            "--agreement",
            &a,
            "--runs",
            "500",
            "--json",
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["projection"]["months"].as_array().unwrap().len(), 60);
    assert_eq!(v["levers"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_input_names_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("pledges")).unwrap();
    let text = std::fs::read_to_string(agreement()).unwrap();
    // A bad [forces] value.
    let bad = text.replace("course_weeks = 8", "course_weeks = -8");
    std::fs::write(d.join("a.toml"), &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l.starts_with("course_weeks = -8"))
        .unwrap()
        + 1;
    let a = d.join("a.toml").display().to_string();
    let (_, err) = run(&["forces", "project", "--agreement", &a], 2);
    assert!(
        err.contains(&format!(
            "a.toml:{line}: forces.programmes[0].course_weeks: -8 is not in (0, 520]"
        )),
        "{err}"
    );
    // A bad registry row.
    std::fs::write(d.join("a.toml"), &text).unwrap();
    let reg = std::fs::read_to_string(root().join("examples/pledges/registry.csv")).unwrap();
    let reg = reg.replace(
        "US-ABRAMS/d,delivery,US-ABRAMS,,,,,,31,",
        "US-ABRAMS/d,delivery,US-ABRAMS,,,,,,-31,",
    );
    let line = reg
        .lines()
        .position(|l| l.starts_with("US-ABRAMS/d"))
        .unwrap()
        + 1;
    std::fs::write(d.join("pledges/registry.csv"), reg).unwrap();
    std::fs::copy(
        root().join("examples/pledges/gdp.csv"),
        d.join("pledges/gdp.csv"),
    )
    .unwrap();
    let (_, err) = run(&["pledges", "--agreement", &a], 2);
    assert!(
        err.contains(&format!("registry.csv:{line}: quantity: -31 is negative")),
        "{err}"
    );
    // No [forces] table at all.
    std::fs::write(
        d.join("b.toml"),
        "[pledges]\nregistry = \"pledges/registry.csv\"\n",
    )
    .unwrap();
    let b = d.join("b.toml").display().to_string();
    let (_, err) = run(&["forces", "project", "--agreement", &b], 2);
    assert!(err.contains("no [forces] table"), "{err}");
}
