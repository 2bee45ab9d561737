//! Load and latency of `truce serve` (the release binary, on a loopback port, over the
//! test fixtures' data directory with an evidence log and a signing key):
//!
//! (a) a bounded load: CLIENTS concurrent clients make REQUESTS requests in all, one in
//!     WRITE_EVERY a write (decisions and observation uploads in turn), the rest reads
//!     (incidents, obligations, OGC items); requests/s, latency percentiles per kind,
//!     errors;
//! (b) alert latency: REPS times, a decision and an upload, each timed from sending the
//!     request to the matching alert on the event stream and on a webhook receiver.
//!
//! ```sh
//! cargo bench -p truce-cli --bench serve_load
//! TRUCE_LOAD_CLIENTS=16 TRUCE_LOAD_REQUESTS=2000 TRUCE_LOAD_WRITE_EVERY=10 TRUCE_LOAD_REPS=50 cargo bench -p truce-cli --bench serve_load
//! ```
//! The server runs with `--rate-limit off` (the load is one client address and two
//! tokens).

#[path = "../tests/load/mod.rs"]
mod load;

use std::time::Duration;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let clients = env("TRUCE_LOAD_CLIENTS", 16).max(1);
    let requests = env("TRUCE_LOAD_REQUESTS", 2000);
    let write_every = env("TRUCE_LOAD_WRITE_EVERY", 10);
    let reps = env("TRUCE_LOAD_REPS", 50);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let tmp = tempfile::tempdir().unwrap();
        let (hook_url, mut hook) = load::receiver().await;
        load::data_dir(tmp.path(), &hook_url);
        let server = load::Server::start(tmp.path(), &["--rate-limit", "off"]);
        let c = load::client();
        let incident = load::first_incident(&c, server.addr).await;
        let mut sse = load::events(&c, server.addr, load::ANALYST).await;

        let per_client = requests.div_ceil(clients);
        let mut r = load::load(server.addr, clients, per_client, write_every, &incident).await;
        let n: usize = r.latencies.values().map(Vec::len).sum();
        println!("\n## truce serve: load ({clients} clients, {n} requests, one in {write_every} a write)\n");
        println!("{:.0} requests/s over {:.2} s; {} errors; {} decisions and {} uploads accepted\n", n as f64 / r.took.as_secs_f64(), r.took.as_secs_f64(), r.errors.len(), r.decisions, r.uploads.len());
        for (op, s, text) in r.errors.iter().take(5) {
            println!("error: {} {s}: {text}", op.name());
        }
        println!("{}", load::TABLE_HEAD);
        let mut all: Vec<Duration> = r.latencies.values().flatten().copied().collect();
        println!("{}", load::row("all requests", &mut all));
        for (op, v) in r.latencies.iter_mut() {
            println!("{}", load::row(op.name(), v));
        }

        let addr = server.addr;
        let first = per_client * clients + 10;
        let lat = tokio::spawn(async move { load::alert_latency(addr, reps, &incident, &mut sse, &mut hook, first).await }).await;
        let Ok(mut lat) = lat else {
            eprintln!("the server said:\n{}", server.stderr.lock().unwrap().join("\n"));
            std::process::exit(1);
        };
        println!("\n## truce serve: write to alert ({reps} of each, one at a time)\n");
        println!("{}", load::TABLE_HEAD);
        for (name, v) in ["decision → event stream", "decision → webhook", "upload → event stream", "upload → webhook"].iter().zip(lat.iter_mut()) {
            println!("{}", load::row(name, v));
        }
        drop(server);
    });
}
