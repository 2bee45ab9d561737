//! Benchmark of the evidence log (a `harness = false` bench binary that
//! prints a table). Run with `cargo bench -p truce-log`.
//!
//! * Durable appends per second for batches of 1,000 and 10,000 entries of
//!   about 200 serialised bytes (each batch: write-ahead fsync, tile fsyncs,
//!   directory fsyncs).
//! * Proof generation and verification at 1 M entries on disk (tiles read
//!   through the log's tile cache, cold and warm), and at 10 M entries from an
//!   in-memory tree of hashes (building 10 M entries on disk would take
//!   minutes of this machine's disk time per run).
//! * Disk use per million entries.
//!
//! Environment: TRUCE_LOG_BENCH_DIR (default: the system temp dir),
//! TRUCE_LOG_BENCH_QUICK=1 for a smoke run with small sizes.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use serde_json::json;
use truce_log::proof::{self, leaf_hash, MemoryTree};
use truce_log::{Entry, EntryKind, Log, Signer};

fn entry(i: u64) -> Entry {
    // About 200 bytes serialised: {"body":{"i":N,"pad":"..."},"kind":"report","v":1}
    Entry::new(EntryKind::Report, json!({"i": i, "pad": "x".repeat(150)})).unwrap()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn dir_usage(p: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let (mut apparent, mut allocated) = (0u64, 0u64);
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            allocated += m.blocks() * 512;
            if m.is_dir() {
                stack.push(e.path());
            } else {
                apparent += m.len();
            }
        }
    }
    (apparent, allocated)
}

fn row(name: &str, value: String) {
    println!("| {name:<62} | {value:>26} |");
}

fn main() {
    let quick = std::env::var("TRUCE_LOG_BENCH_QUICK").is_ok();
    let base = std::env::var("TRUCE_LOG_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let tmp = tempfile::tempdir_in(&base).unwrap();
    let signer = Signer::from_seed("bench.example/log", &[1; 32]).unwrap();
    let leaf_len = entry(123_456).to_leaf_bytes().unwrap().len();

    println!(
        "truce-log benchmark (medians; {} cores; dir {})",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        base.display()
    );
    println!("| {:<62} | {:>26} |", "measurement", "median");
    println!("|{}|{}|", "-".repeat(64), "-".repeat(28));
    row("serialised entry size", format!("{leaf_len} B"));

    // 1. Durable append throughput.
    for (batch, batches, runs) in [(1_000u64, 20usize, 3usize), (10_000, 6, 3)] {
        let (batches, runs) = if quick { (3, 1) } else { (batches, runs) };
        let mut per_batch = Vec::new();
        let mut per_run = Vec::new();
        for run in 0..runs {
            let mut log =
                Log::create(tmp.path().join(format!("append-{batch}-{run}")), &signer).unwrap();
            let prepared: Vec<Vec<Entry>> = (0..batches as u64)
                .map(|b| (b * batch..(b + 1) * batch).map(entry).collect())
                .collect();
            let t0 = Instant::now();
            for b in &prepared {
                let t = Instant::now();
                log.append_batch(b).unwrap();
                per_batch.push(batch as f64 / t.elapsed().as_secs_f64());
            }
            per_run.push((batches as u64 * batch) as f64 / t0.elapsed().as_secs_f64());
        }
        row(
            &format!("durable appends/s, batches of {batch} (per batch)"),
            format!("{:.0}/s", median(&mut per_batch)),
        );
        row(
            &format!("durable appends/s, batches of {batch} (whole runs)"),
            format!("{:.0}/s", median(&mut per_run)),
        );
    }

    // 2. A 1 M entry log on disk.
    let n1: u64 = if quick { 20_000 } else { 1_000_000 };
    let dir1 = tmp.path().join("big");
    let build = Instant::now();
    {
        let mut log = Log::create(&dir1, &signer).unwrap();
        let mut i = 0u64;
        while i < n1 {
            let end = (i + 10_000).min(n1);
            log.append_batch(&(i..end).map(entry).collect::<Vec<_>>())
                .unwrap();
            i = end;
        }
        log.checkpoint().unwrap();
    }
    let build_s = build.elapsed().as_secs_f64();
    row(
        &format!("build {n1} entries on disk (batches of 10000)"),
        format!("{:.1} s ({:.0}/s)", build_s, n1 as f64 / build_s),
    );
    let t = Instant::now();
    let mut log = Log::open(&dir1).unwrap();
    row(
        &format!("open log of {n1} entries"),
        format!("{:.2} ms", t.elapsed().as_secs_f64() * 1e3),
    );
    let root = log.root().unwrap();
    let mut rng = Rng(7);
    let samples = if quick { 200 } else { 2_000 };

    let mut proof_times = |log: &mut Log, label: &str, cold: bool| {
        let mut gen = Vec::new();
        let mut ver = Vec::new();
        for _ in 0..samples {
            let i = rng.next() % n1;
            if cold {
                // Empty the tile cache (shrinking it evicts everything but
                // one tile), then give the proof room for all its tiles.
                log.set_tile_cache_capacity(1);
                log.set_tile_cache_capacity(64);
            }
            let t = Instant::now();
            let p = black_box(log.inclusion_proof(i, n1).unwrap());
            gen.push(t.elapsed().as_secs_f64() * 1e6);
            let leaf = leaf_hash(&entry(i).to_leaf_bytes().unwrap());
            let t = Instant::now();
            proof::verify_inclusion(&leaf, i, n1, &p.hashes, &root).unwrap();
            ver.push(t.elapsed().as_secs_f64() * 1e6);
        }
        row(
            &format!("inclusion proof generate @{n1} on disk, {label}"),
            format!("{:.1} µs", median(&mut gen)),
        );
        row(
            &format!("inclusion proof verify @{n1}"),
            format!("{:.1} µs", median(&mut ver)),
        );
    };
    // Cold: every proof reads and expands its tiles from the files (which
    // are in the OS page cache); warm: every tile is already expanded.
    proof_times(&mut log, "cold tile cache", true);
    log.set_tile_cache_capacity(1 << 20);
    for i in 0..n1.div_ceil(256) {
        let _ = log.inclusion_proof(i * 256, n1);
    }
    proof_times(&mut log, "warm tile cache", false);

    let mut gen = Vec::new();
    let mut ver = Vec::new();
    for _ in 0..samples {
        let old = 1 + rng.next() % (n1 - 1);
        let old_root = log.root_at(old).unwrap();
        let t = Instant::now();
        let p = black_box(log.consistency_proof(old, n1).unwrap());
        gen.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        proof::verify_consistency(old, n1, &p.hashes, &old_root, &root).unwrap();
        ver.push(t.elapsed().as_secs_f64() * 1e6);
    }
    row(
        &format!("consistency proof generate @{n1} on disk, warm"),
        format!("{:.1} µs", median(&mut gen)),
    );
    row(
        &format!("consistency proof verify @{n1}"),
        format!("{:.1} µs", median(&mut ver)),
    );

    let t = Instant::now();
    let rep = log.fsck().unwrap();
    row(
        &format!("fsck of {n1} entries ({} tiles)", rep.tiles_checked),
        format!("{:.1} s", t.elapsed().as_secs_f64()),
    );
    drop(log);

    let (apparent, allocated) = dir_usage(&dir1);
    let (wal_a, _) = (std::fs::metadata(dir1.join("wal")).unwrap().len(), 0);
    let (bundles_a, _) = dir_usage(&dir1.join("tile/entries"));
    let per_m = |b: u64| b as f64 * 1e6 / n1 as f64 / (1 << 20) as f64;
    row(
        "disk use per 1 M entries, apparent",
        format!("{:.1} MiB", per_m(apparent)),
    );
    row(
        "disk use per 1 M entries, allocated blocks",
        format!("{:.1} MiB", per_m(allocated)),
    );
    row(
        "  of which write-ahead log",
        format!("{:.1} MiB", per_m(wal_a)),
    );
    row(
        "  of which entry bundles",
        format!("{:.1} MiB", per_m(bundles_a)),
    );
    row(
        "  of which hash tiles + checkpoints",
        format!("{:.1} MiB", per_m(apparent - wal_a - bundles_a)),
    );

    // 3. 10 M entries: an in-memory tree of hashes.
    let n10: u64 = if quick { 100_000 } else { 10_000_000 };
    let t = Instant::now();
    let mut tree = MemoryTree::new();
    let template = entry(0).to_leaf_bytes().unwrap();
    for i in 0..n10 {
        // Leaves of the same length as real entries, made distinct by index.
        let mut leaf = template.clone();
        leaf[..8].copy_from_slice(&i.to_be_bytes());
        tree.push(leaf_hash(&leaf));
    }
    row(
        &format!("build in-memory tree of {n10} leaves"),
        format!("{:.1} s", t.elapsed().as_secs_f64()),
    );
    let root10 = tree.root_at(n10).unwrap();
    let mut gen = Vec::new();
    let mut ver = Vec::new();
    let mut cgen = Vec::new();
    let mut cver = Vec::new();
    for _ in 0..samples {
        let i = rng.next() % n10;
        let t = Instant::now();
        let p = black_box(proof::inclusion_proof(&tree, i, n10).unwrap());
        gen.push(t.elapsed().as_secs_f64() * 1e6);
        let leaf = tree.node(0, i);
        let t = Instant::now();
        proof::verify_inclusion(&leaf, i, n10, &p, &root10).unwrap();
        ver.push(t.elapsed().as_secs_f64() * 1e6);
        let old = 1 + rng.next() % (n10 - 1);
        let old_root = tree.root_at(old).unwrap();
        let t = Instant::now();
        let c = black_box(proof::consistency_proof(&tree, old, n10).unwrap());
        cgen.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        proof::verify_consistency(old, n10, &c, &old_root, &root10).unwrap();
        cver.push(t.elapsed().as_secs_f64() * 1e6);
    }
    row(
        &format!("inclusion proof generate @{n10} in memory"),
        format!("{:.1} µs", median(&mut gen)),
    );
    row(
        &format!("inclusion proof verify @{n10}"),
        format!("{:.1} µs", median(&mut ver)),
    );
    row(
        &format!("consistency proof generate @{n10} in memory"),
        format!("{:.1} µs", median(&mut cgen)),
    );
    row(
        &format!("consistency proof verify @{n10}"),
        format!("{:.1} µs", median(&mut cver)),
    );
}

trait NodeExt {
    fn node(&self, level: u8, index: u64) -> [u8; 32];
}
impl NodeExt for MemoryTree {
    fn node(&self, level: u8, index: u64) -> [u8; 32] {
        truce_log::proof::NodeSource::node(self, level, index).unwrap()
    }
}
