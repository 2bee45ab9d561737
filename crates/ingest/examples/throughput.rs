//! Measures how fast [`truce_ingest::read`] turns files into observation batches.
//!
//! ```text
//! cargo run --release -p truce-ingest --example throughput -- FILE...
//! ```
//!
//! With no arguments it reads the shared FIRMS lat/lon/date files
//! (`../shared/data/firms/ukraine-2000-2023-lat-lon-date/*.csv`). The files are loaded
//! into memory first, so the figure is the reader's own speed (decoding, parsing,
//! validation, duplicate detection and Arrow building), not the disk's; the best of
//! three passes is reported, in wall-clock time and, on Linux, in CPU time of this
//! (single-threaded) process, which other load on the machine does not inflate.

use std::path::PathBuf;
use std::time::Instant;

use truce_ingest::{read, ReadOptions};

fn main() {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        let dir =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/firms/ukraine-2000-2023-lat-lon-date");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        paths = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        paths.sort();
    }
    let files: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
            )
        })
        .collect();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut rows = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let cpu = cpu_s();
        rows = 0;
        for (name, b) in &files {
            let got = read(name, b, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
            rows += got.summary.rows_kept;
        }
        best = best.min(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu, cpu_s()) {
            best_cpu = best_cpu.min(b - a);
        }
    }
    println!(
        "{} files, {:.1} MB, {rows} rows kept in {:.3} s: {:.2} M rows/s, {:.0} MB/s",
        files.len(),
        bytes as f64 / 1e6,
        best,
        rows as f64 / best / 1e6,
        bytes as f64 / best / 1e6
    );
    if best_cpu < f64::MAX {
        println!("CPU time {best_cpu:.3} s: {:.2} M rows/s", rows as f64 / best_cpu / 1e6);
    }
}

/// CPU time of this thread so far, in seconds (Linux: first field of schedstat, in ns).
fn cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}
