//! Fusion throughput on real data: every FIRMS detection over Ukraine 2000-2023
//! (../shared/data/firms/ukraine-2000-2023-lat-lon-date, 1.26 M points), plus the UCDP
//! GED events, fused in one call. Prints a table with the median of the runs.
//!
//! `cargo run --release -p truce-incidents --example fusion_bench [-- RUNS]`

use std::path::Path;
use std::time::Instant;

use truce_incidents::{fuse, FusionObs, FusionParams};
use truce_ingest::{read, ReadOptions};
use truce_model::observations_from_batch;

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let firms = shared.join("firms/ukraine-2000-2023-lat-lon-date");
    let Ok(dir) = std::fs::read_dir(&firms) else {
        eprintln!("SKIP: {} not found (the shared data is not beside this checkout)", firms.display());
        return;
    };
    let mut files: Vec<_> = dir.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "csv")).collect();
    files.sort();
    files.push(shared.join("ucdp/ged-ukraine-2014-01-22_to_2022-02-23.csv"));
    let t = Instant::now();
    let mut obs = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).expect("read");
        let got = read(&f.display().to_string(), &bytes, &ReadOptions::default()).expect("ingest");
        for b in &got.batches {
            for o in observations_from_batch(b).expect("batch") {
                obs.push(FusionObs {
                    source_key: o.source.as_str().to_string(),
                    kind: o.kind,
                    start_ms: o.time.start.timestamp_millis(),
                    end_ms: o.time.end.timestamp_millis(),
                    lon: o.lon,
                    lat: o.lat,
                    uncertainty_m: o.uncertainty_m,
                    received_ms: o.time.end.timestamp_millis(),
                    war_fire: false,
                    weapon_class: None,
                    restricted: false,
                    id: o.id,
                });
            }
        }
    }
    eprintln!("read {} observations from {} files in {:.1} s", obs.len(), files.len(), t.elapsed().as_secs_f64());
    let p = FusionParams::default();
    let mut times = Vec::new();
    let mut last = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        last = fuse(&obs, &p).expect("fuse");
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let multi = last.iter().filter(|i| i.member_ids.len() > 1).count();
    let corroborated = last.iter().filter(|i| i.corroborated_ms.is_some()).count();
    let largest = last.iter().map(|i| i.member_ids.len()).max().unwrap_or(0);
    let widest = last.iter().map(|i| i.extent_km).fold(0.0, f64::max);
    println!("| observations | incidents | with >1 member | corroborated (2 sources) | largest | widest extent | runs | median | min | max | obs/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {} | {:.1} km | {} | {:.2} s | {:.2} s | {:.2} s | {:.2} M |",
        obs.len(),
        last.len(),
        multi,
        corroborated,
        largest,
        widest,
        runs,
        median,
        times[0],
        times[times.len() - 1],
        obs.len() as f64 / median / 1e6
    );
}
