//! The load harness shared by `tests/serve_load.rs` (small, asserting) and
//! `benches/serve_load.rs` (measuring): the real `truce` binary serving a data directory
//! on a loopback port, an HTTP client (hyper-util's), an event-stream reader, a webhook
//! receiver, a bounded mixed load and the write-to-alert latency.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio::sync::mpsc;

pub const MONITOR: &str = "load-monitor-0123456789abcdef";
pub const ANALYST: &str = "load-analyst-0123456789abcdef";
pub const SECRET: &str = "load-webhook-secret-0123456789abcdef";

/// A started server with everything the load and the latency need: its data directory
/// (with a webhook to the receiver), the receiver, an HTTP client, the first incident and
/// the analyst's event stream. Fields drop in order: the server stops before its
/// directory is removed.
pub struct Setup {
    pub server: Server,
    pub client: HttpClient,
    pub incident: String,
    pub sse: mpsc::UnboundedReceiver<Heard>,
    pub hook: mpsc::UnboundedReceiver<Heard>,
    pub tmp: tempfile::TempDir,
}

/// Starts `truce serve --rate-limit off` on the fixtures' data directory.
pub async fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let (hook_url, hook) = receiver().await;
    data_dir(tmp.path(), &hook_url);
    let server = Server::start(tmp.path(), &["--rate-limit", "off"]);
    let client = client();
    let incident = first_incident(&client, server.addr).await;
    let sse = events(&client, server.addr, ANALYST).await;
    Setup { server, client, incident, sse, hook, tmp }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn agreement() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ukraine-2025.toml")
}

fn truce(dir: &Path, args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_truce")).current_dir(dir).args(args).output().expect("run truce");
    assert!(o.status.success(), "truce {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A data directory with an evidence log and the Kyiv strike (two reports, one
/// corroborated incident), a tokens file and a webhooks file for `hook_url`.
pub fn data_dir(dir: &Path, hook_url: &str) {
    for f in ["kyiv-strike.geojson", "kyiv-patrol.json"] {
        std::fs::copy(fixtures().join(f), dir.join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.join("data")).unwrap();
    truce(dir, &["keys", "new", "--name", "truce.example/load", "--out", "k.key"]);
    truce(dir, &["log", "init", "--dir", "data/log", "--key", "k.key"]);
    truce(dir, &["ingest", "kyiv-strike.geojson", "--out", "data/observations/media.parquet", "--log", "data/log"]);
    truce(dir, &["ingest", "kyiv-patrol.json", "--out", "data/observations/patrol.parquet", "--log", "data/log", "--key", "k.key"]);
    std::fs::write(
        dir.join("tokens.toml"),
        format!("[[token]]\ntoken = \"{MONITOR}\"\nrole = \"monitor\"\nname = \"mon-load\"\n\n[[token]]\ntoken = \"{ANALYST}\"\nrole = \"analyst\"\nname = \"an-load\"\n"),
    )
    .unwrap();
    std::fs::write(dir.join("hooks.toml"), format!("[[webhook]]\nurl = \"{hook_url}\"\nsecret = \"{SECRET}\"\nrole = \"analyst\"\n")).unwrap();
}

/// `truce serve` on a loopback port; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the server over `dir` (as made by [`data_dir`]) with `extra` arguments and
    /// waits until it listens.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_truce"))
            .current_dir(dir)
            .args(["serve", "--agreement", &agreement().display().to_string(), "--data", "data", "--tokens", "tokens.toml", "--key", "k.key", "--webhooks", "hooks.toml", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start truce serve");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        let keep = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("truce serve: listening on ") {
                    let _ = tx.send(a.trim().to_string());
                }
                keep.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a.parse().expect("address"),
            Err(_) => {
                let _ = child.kill();
                panic!("truce serve did not listen within 60 s: {:?}", stderr.lock().unwrap());
            }
        };
        Server { child, addr, stderr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).pool_max_idle_per_host(64).build(HttpConnector::new())
}

/// One request: status, body, time taken.
pub async fn send(c: &HttpClient, addr: SocketAddr, method: Method, path: &str, token: Option<&str>, body: Option<Vec<u8>>) -> (StatusCode, Bytes, Duration) {
    let mut b = Request::builder().method(method).uri(format!("http://{addr}{path}"));
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let req = b.body(Full::new(Bytes::from(body.unwrap_or_default()))).unwrap();
    let t0 = Instant::now();
    match c.request(req).await {
        Ok(r) => {
            let s = r.status();
            let bytes = r.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            (s, bytes, t0.elapsed())
        }
        Err(e) => (StatusCode::from_u16(599).unwrap(), Bytes::from(e.to_string()), t0.elapsed()),
    }
}

/// An alert as heard: (type, JSON, when it arrived).
pub type Heard = (String, Value, Instant);

/// Opens `GET /api/v1/events` and passes each event on as it arrives.
pub async fn events(c: &HttpClient, addr: SocketAddr, token: &str) -> mpsc::UnboundedReceiver<Heard> {
    let req = Request::get(format!("http://{addr}/api/v1/events")).header("authorization", format!("Bearer {token}")).body(Full::new(Bytes::new())).unwrap();
    let r = c.request(req).await.expect("event stream");
    assert_eq!(r.status(), StatusCode::OK);
    let (tx, rx) = mpsc::unbounded_channel();
    let mut body = r.into_body();
    tokio::spawn(async move {
        let mut text = String::new();
        while let Some(Ok(f)) = body.frame().await {
            let Ok(d) = f.into_data() else { continue };
            text.push_str(&String::from_utf8_lossy(&d));
            while let Some(end) = text.find("\n\n") {
                let block: String = text.drain(..end + 2).collect();
                let ev = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("message").to_string();
                if let Some(v) = block.lines().find_map(|l| l.strip_prefix("data: ")).and_then(|d| serde_json::from_str(d).ok()) {
                    if tx.send((ev, v, Instant::now())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// A webhook receiver on a loopback port: checks each delivery's signature and passes it
/// on (a bad signature is passed on as type `bad-signature`).
pub async fn receiver() -> (String, mpsc::UnboundedReceiver<Heard>) {
    use hmac::{Hmac, Mac};
    let (tx, rx) = mpsc::unbounded_channel::<Heard>();
    async fn take(axum::extract::State(tx): axum::extract::State<mpsc::UnboundedSender<Heard>>, h: HeaderMap, b: Bytes) -> StatusCode {
        let at = Instant::now();
        let hv = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
        m.update(format!("{}.", hv("x-truce-timestamp")).as_bytes());
        m.update(&b);
        let want: String = m.finalize().into_bytes().iter().map(|x| format!("{x:02x}")).collect();
        let ok = hv("x-truce-signature") == format!("sha256={want}");
        let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
        let _ = tx.send((if ok { hv("x-truce-event") } else { "bad-signature".into() }, v, at));
        StatusCode::NO_CONTENT
    }
    let app = axum::Router::new().route("/hook", axum::routing::post(take)).with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// A GeoJSON file with one strike, unique by `k` in time (a minute apart from 2026-02-01,
/// after the example agreement's ceasefire start, so keep `k` under 90,000) and place (on
/// land, 9 km or more apart, the same place again only 3000 minutes later: beyond fusion's
/// reach), so that it makes an incident of its own: the bytes and the incident's start as
/// the API writes it.
pub fn upload_file(k: usize) -> (Vec<u8>, String) {
    let t = chrono::DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z").unwrap() + chrono::Duration::minutes(k as i64);
    let (lon, lat) = (25.0 + (k % 100) as f64 * 0.12, 48.0 + (k / 100 % 30) as f64 * 0.1);
    let when = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"time": when, "kind": "strike", "uncertainty_m": 100, "note": format!("load test {k}")}}]});
    (body.to_string().into_bytes(), t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// What one request of the load was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Incidents,
    Obligations,
    OgcItems,
    Decision,
    Upload,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Incidents => "GET incidents",
            Op::Obligations => "GET obligations",
            Op::OgcItems => "GET OGC items",
            Op::Decision => "POST decision",
            Op::Upload => "POST observations",
        }
    }
}

/// What the load did.
#[derive(Default)]
pub struct LoadResult {
    pub took: Duration,
    pub latencies: BTreeMap<Op, Vec<Duration>>,
    /// Responses neither 2xx nor an expected 4xx, with their body.
    pub errors: Vec<(Op, StatusCode, String)>,
    /// Accepted uploads: the incident start each made.
    pub uploads: Vec<String>,
    /// Accepted decisions.
    pub decisions: usize,
}

/// `clients` concurrent clients make `per_client` requests each: of every `write_every`
/// requests one is a write (decisions and uploads in turn), the rest reads (incidents,
/// obligations, OGC items in turn). Decisions confirm or reject `incident`.
pub async fn load(addr: SocketAddr, clients: usize, per_client: usize, write_every: usize, incident: &str) -> LoadResult {
    let c = client();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for ci in 0..clients {
        let c = c.clone();
        let incident = incident.to_string();
        tasks.push(tokio::spawn(async move {
            let mut out: Vec<(Op, StatusCode, Duration, String, Option<String>)> = Vec::new();
            for i in 0..per_client {
                let n = ci * per_client + i;
                let (op, method, path, token, body, start) = if write_every > 0 && i % write_every == write_every - 1 {
                    if (n / write_every) % 2 == 0 {
                        let verdict = if n % 4 < 2 { "confirm" } else { "reject" };
                        let b = json!({"incident": incident, "verdict": verdict, "reason": format!("load {n}")}).to_string().into_bytes();
                        (Op::Decision, Method::POST, "/api/v1/decisions".to_string(), ANALYST, Some(b), None)
                    } else {
                        let (b, start) = upload_file(n);
                        (Op::Upload, Method::POST, format!("/api/v1/observations?name=load-{n}.geojson"), MONITOR, Some(b), Some(start))
                    }
                } else {
                    match n % 3 {
                        0 => (Op::Incidents, Method::GET, "/api/v1/incidents?limit=50".to_string(), ANALYST, None, None),
                        1 => (Op::Obligations, Method::GET, "/api/v1/obligations".to_string(), MONITOR, None, None),
                        _ => (Op::OgcItems, Method::GET, "/ogc/collections/incidents/items?limit=50".to_string(), ANALYST, None, None),
                    }
                };
                let (s, b, d) = send(&c, addr, method, &path, Some(token), body).await;
                out.push((op, s, d, String::from_utf8_lossy(&b).chars().take(300).collect(), start));
            }
            out
        }));
    }
    let mut r = LoadResult::default();
    for t in tasks {
        for (op, s, d, text, start) in t.await.expect("client") {
            r.latencies.entry(op).or_default().push(d);
            if s.is_success() {
                match op {
                    Op::Decision => r.decisions += 1,
                    Op::Upload => r.uploads.extend(start),
                    _ => {}
                }
            } else if !(s == StatusCode::CONFLICT || s == StatusCode::SERVICE_UNAVAILABLE && text.contains("log_locked")) {
                r.errors.push((op, s, text));
            }
        }
    }
    r.took = started.elapsed();
    r
}

/// Waits for the first alert of `kind` that `matches`, at most `within`.
/// Err: what came instead.
pub async fn wait_for(rx: &mut mpsc::UnboundedReceiver<Heard>, kind: &str, within: Duration, matches: impl Fn(&Value) -> bool) -> Result<Instant, String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut other = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((k, v, at))) if k == kind && matches(&v) => return Ok(at),
            Ok(Some((k, v, _))) => other.push(format!("{k} {}", v["summary"])),
            _ => return Err(format!("no {kind} within {} s; came instead: {other:?}", within.as_secs())),
        }
    }
}

/// Nearest-rank percentile (q in 0..=1) of sorted durations, in ms.
pub fn pct(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// A table row: name, n, p50, p90, p99, max (ms).
pub fn row(name: &str, v: &mut [Duration]) -> String {
    v.sort();
    format!("| {name:<34} | {:>6} | {:>8.1} | {:>8.1} | {:>8.1} | {:>8.1} |", v.len(), pct(v, 0.5), pct(v, 0.9), pct(v, 0.99), pct(v, 1.0))
}

pub const TABLE_HEAD: &str = "| what                               |      n |  p50 ms |  p90 ms |  p99 ms |  max ms |\n|---|---:|---:|---:|---:|---:|";

/// The analyst's view of the one incident of the fixtures.
pub async fn first_incident(c: &HttpClient, addr: SocketAddr) -> String {
    let (s, b, _) = send(c, addr, Method::GET, "/api/v1/incidents", Some(ANALYST), None).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let v: Value = serde_json::from_slice(&b).unwrap();
    v["incidents"][0]["id"].as_str().expect("an incident").to_string()
}

/// Write-to-alert latency, `reps` times in turn: a decision (confirm and reject in turn)
/// and an upload, each timed from sending the request to the matching alert on the event
/// stream and on the webhook. Returns (decision→SSE, decision→webhook, upload→SSE,
/// upload→webhook); panics when a write is refused or its alert does not come in 30 s.
pub async fn alert_latency(addr: SocketAddr, reps: usize, incident: &str, sse: &mut mpsc::UnboundedReceiver<Heard>, hook: &mut mpsc::UnboundedReceiver<Heard>, first_upload: usize) -> [Vec<Duration>; 4] {
    let c = client();
    let mut out: [Vec<Duration>; 4] = Default::default();
    // Whatever came before.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while sse.try_recv().is_ok() {}
    while hook.try_recv().is_ok() {}
    // The incident's state now, so that each decision changes it.
    let (_, b, _) = send(&c, addr, Method::GET, &format!("/api/v1/incidents/{incident}"), Some(ANALYST), None).await;
    let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    let mut verified = v["incident"]["confidence"] == "verified";
    let within = Duration::from_secs(30);
    for k in 0..reps {
        let verdict = if verified { "reject" } else { "confirm" };
        let kind = if verified { "incident.rejected" } else { "incident.verified" };
        let body = json!({"incident": incident, "verdict": verdict, "reason": format!("latency {k}")}).to_string().into_bytes();
        let t0 = Instant::now();
        let (s, b, _) = send(&c, addr, Method::POST, "/api/v1/decisions", Some(ANALYST), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        verified = !verified;
        let same = |v: &Value| v["incident"]["id"] == incident;
        let a = wait_for(sse, kind, within, same).await.unwrap_or_else(|e| panic!("decision {k}, event stream: {e}"));
        let w = wait_for(hook, kind, within, same).await.unwrap_or_else(|e| panic!("decision {k}, webhook: {e}"));
        out[0].push(a - t0);
        out[1].push(w - t0);

        let (body, start) = upload_file(first_upload + k);
        let t0 = Instant::now();
        let (s, b, _) = send(&c, addr, Method::POST, &format!("/api/v1/observations?name=latency-{k}.geojson"), Some(MONITOR), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        let stored: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
        assert_eq!(stored["rows_kept"], 1, "{stored}");
        let same = |v: &Value| v["incident"]["start"] == start.as_str();
        let a = match wait_for(sse, "incident.created", within, same).await {
            Ok(a) => a,
            Err(e) => {
                let (_, b, _) = send(&c, addr, Method::GET, "/api/v1/incidents?limit=10000", Some(ANALYST), None).await;
                let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
                let near: Vec<String> = v["incidents"].as_array().map(|a| a.iter().map(|i| format!("{} {} {} {}", i["id"], i["start"], i["lon"], i["lat"])).collect()).unwrap_or_default();
                panic!("upload {k} (start {start}), event stream: {e}; incidents that day: {near:?}; stored: {stored}")
            }
        };
        let w = wait_for(hook, "incident.created", within, same).await.unwrap_or_else(|e| panic!("upload {k} (start {start}), webhook: {e}"));
        out[2].push(a - t0);
        out[3].push(w - t0);
    }
    out
}
