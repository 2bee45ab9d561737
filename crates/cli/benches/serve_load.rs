//! Load and latency of `truce serve` (the release binary, on a loopback port, over the
//! test fixtures' data directory with an evidence log and a signing key):
//!
//! (a) a bounded load: CLIENTS concurrent clients make REQUESTS requests in all, one in
//!     WRITE_EVERY a write (decisions and observation uploads in turn), the rest reads
//!     (incidents, obligations, OGC items); requests/s, latency percentiles per kind,
//!     errors;
//! (b) alert latency: REPS times, a decision and an upload, each timed from sending the
//!     request to the matching alert on the event stream and on a webhook receiver;
//! (c) the upload-to-alert latency of (b) again, REPS times, while the load of (a) runs
//!     round after round beside it (CLIENTS clients, 50 requests each per round): the
//!     ingest-to-alert latency under a bounded load.
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
        let load::Setup { tmp: _tmp, server, client: _, incident, mut sse, mut hook } = load::setup().await;

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
        let inc_b = incident.clone();
        let lat = tokio::spawn(async move {
            let lat = load::alert_latency(addr, reps, &inc_b, &mut sse, &mut hook, first).await;
            (lat, sse, hook)
        })
        .await;
        let Ok((mut lat, mut sse_c, mut hook_c)) = lat else {
            eprintln!("the server said:\n{}", server.stderr.lock().unwrap().join("\n"));
            std::process::exit(1);
        };
        println!("\n## truce serve: write to alert ({reps} of each, one at a time)\n");
        println!("{}", load::TABLE_HEAD);
        for (name, v) in ["decision → event stream", "decision → webhook", "upload → event stream", "upload → webhook"].iter().zip(lat.iter_mut()) {
            println!("{}", load::row(name, v));
        }

        // (c) Upload to alert while the load runs beside it.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let bg_stop = stop.clone();
        let bg_incident = incident.clone();
        let background = tokio::spawn(async move {
            let mut rounds = Vec::new();
            while !bg_stop.load(std::sync::atomic::Ordering::Relaxed) {
                rounds.push(load::load(addr, clients, 50, write_every, &bg_incident).await);
            }
            rounds
        });
        let c = load::client();
        let within = Duration::from_secs(60);
        let (mut to_sse, mut to_hook) = (Vec::new(), Vec::new());
        let base = first + reps + 1000;
        for k in 0..reps {
            let (body, start) = load::upload_file(base + k);
            let t0 = std::time::Instant::now();
            let (s, b, _) = load::send(&c, addr, hyper::Method::POST, &format!("/api/v1/observations?name=under-load-{k}.geojson"), Some(load::MONITOR), Some(body)).await;
            assert_eq!(s, hyper::StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
            let same = |v: &serde_json::Value| v["incident"]["start"] == start.as_str();
            let a = load::wait_for(&mut sse_c, "incident.created", within, same).await.expect("event stream");
            let w = load::wait_for(&mut hook_c, "incident.created", within, same).await.expect("webhook");
            to_sse.push(a - t0);
            to_hook.push(w - t0);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let rounds = background.await.expect("background load");
        let n: usize = rounds.iter().map(|r| r.latencies.values().map(Vec::len).sum::<usize>()).sum();
        let took: f64 = rounds.iter().map(|r| r.took.as_secs_f64()).sum();
        let errors: usize = rounds.iter().map(|r| r.errors.len()).sum();
        println!("\n## truce serve: upload to alert under load ({reps} uploads; beside them {n} requests in {} rounds of {clients} clients, {:.0} requests/s, {errors} errors)\n", rounds.len(), n as f64 / took);
        println!("{}", load::TABLE_HEAD);
        println!("{}", load::row("upload → event stream, under load", &mut to_sse));
        println!("{}", load::row("upload → webhook, under load", &mut to_hook));
        assert_eq!(errors, 0, "errors under load");
        drop(server);
    });
}
