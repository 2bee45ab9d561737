//! Times the force-generation Monte Carlo on the example agreement's `[forces]` table:
//! `cargo run --release -p truce-accounts --example bench_projection [RUNS] [MONTHS] [REPEATS]`
//! (defaults 10,000 runs x 60 months, 15 repeats). Prints each size's median, min and
//! max wall time, on all cores and on one.

use std::time::Instant;

use truce_accounts::*;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let runs = args.first().copied().unwrap_or(10_000) as u32;
    let months = args.get(1).copied().unwrap_or(60) as u32;
    let repeats = args.get(2).copied().unwrap_or(15) as usize;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/ukraine-2025.toml"
    );
    let text = std::fs::read_to_string(path).expect("example agreement");
    let p = read_config(path, &text)
        .expect("valid")
        .forces
        .expect("[forces]");
    let o = RunOptions {
        runs,
        months,
        seed: p.seed,
    };
    let threads = rayon::current_num_threads();
    println!(
        "force projection, example agreement: {runs} runs x {months} months, {repeats} repeats"
    );
    println!(
        "{:>8} {:>10} {:>10} {:>10}",
        "threads", "median_ms", "min_ms", "max_ms"
    );
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    for (label, pool) in [(threads, None), (1, Some(&one))] {
        let mut ms: Vec<f64> = (0..repeats)
            .map(|_| {
                let t = Instant::now();
                let r = match pool {
                    Some(pool) => pool.install(|| project(&p, &o)),
                    None => project(&p, &o),
                };
                std::hint::black_box(r.expect("projection"));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!(
            "{label:>8} {:>10.1} {:>10.1} {:>10.1}",
            ms[ms.len() / 2],
            ms[0],
            ms[ms.len() - 1]
        );
    }
    let r = project(&p, &o).expect("projection");
    println!(
        "target {} reached (p10 / median / p90): {} / {} / {}; binding: {}",
        p.target,
        Reach::label(r.reach.p10),
        Reach::label(r.reach.p50),
        Reach::label(r.reach.p90),
        r.binding
    );
}
