//! A bounded load on the real `truce serve` (a few clients, a few dozen requests, reads
//! and writes mixed, with an event stream and a webhook listening): every response is 2xx
//! or an expected 4xx, and nothing is lost: every accepted decision is in
//! `decisions.jsonl`, every accepted upload is an incident afterwards, and each is an
//! alert on the event stream and on the webhook. The measuring version is
//! `benches/serve_load.rs`.

mod load;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::Method;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_load_loses_nothing() {
    let load::Setup { tmp, server, client: c, incident, mut sse, mut hook } = load::setup().await;

    // 3 clients, 12 requests each, one in three a write: 12 writes, 24 reads.
    let r = load::load(server.addr, 3, 12, 3, &incident).await;
    assert!(r.errors.is_empty(), "{:?}\n{}", r.errors, server.stderr.lock().unwrap().join("\n"));
    assert_eq!(r.decisions + r.uploads.len(), 12, "every write accepted");

    // Every accepted decision is recorded, every accepted upload is an incident.
    let lines = std::fs::read_to_string(tmp.path().join("data/decisions.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), r.decisions);
    let (_, b, _) = load::send(&c, server.addr, Method::GET, "/api/v1/incidents?limit=10000", Some(load::ANALYST), None).await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    let starts: BTreeSet<&str> = v["incidents"].as_array().unwrap().iter().filter_map(|i| i["start"].as_str()).collect();
    for s in &r.uploads {
        assert!(starts.contains(s.as_str()), "upload starting {s} is no incident: {starts:?}");
    }
    // And each upload was announced as `incident.created`, on both channels.
    for (name, rx) in [("event stream", &mut sse), ("webhook", &mut hook)] {
        let mut want: BTreeSet<String> = r.uploads.iter().cloned().collect();
        while !want.is_empty() {
            let Ok(Some((kind, v, _))) = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await else {
                panic!("{name}: no incident.created for {want:?}");
            };
            assert_ne!(kind, "bad-signature", "{v}");
            if kind == "incident.created" {
                want.remove(v["incident"]["start"].as_str().unwrap_or(""));
            }
        }
    }

    // One write after another: each decision and each upload is an alert on both.
    let lat = load::alert_latency(server.addr, 2, &incident, &mut sse, &mut hook, 1000).await;
    assert!(lat.iter().all(|v| v.len() == 2));
    let lines = std::fs::read_to_string(tmp.path().join("data/decisions.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), r.decisions + 2);
}
