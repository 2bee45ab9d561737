//! Webhooks: alerts POSTed as JSON to the URLs of a webhooks file (`--webhooks`), signed
//! with HMAC-SHA256. See `docs/alerts.md`.
//!
//! ```toml
//! [[webhook]]
//! url = "http://127.0.0.1:9000/truce"   # http:// only: the server has no TLS client
//! secret = "…at least WEBHOOK_SECRET_CHARS_MIN (32) characters…"
//! role = "public"                       # public | monitor | analyst | guarantor
//! # party = "GB"                        # a guarantor's party
//! events = ["obligation.triggered", "incident.verified"]   # optional: default all
//! ```
//!
//! Each hook has its own bounded queue ([`WEBHOOK_QUEUE`]) and one worker that delivers
//! in order: POST with `X-Truce-Event`, `X-Truce-Delivery` (the alert id),
//! `X-Truce-Timestamp` (unix seconds, wall clock) and
//! `X-Truce-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`; a
//! request times out after [`WEBHOOK_TIMEOUT`]; a network error, a timeout, a 5xx, 408 or
//! 429 is retried up to [`WEBHOOK_ATTEMPTS`] attempts in all, waiting
//! [`WEBHOOK_BACKOFF_FIRST`] and doubling. Alerts never wait for delivery: when a hook's
//! queue is full the alert is dropped for that hook. Every failure is printed on stderr.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use axum::body::Bytes;
use axum::http::{header, Request, StatusCode, Uri};
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sha2::Sha256;
use tokio::sync::mpsc;
use truce_agreement::Agreement;

use super::alerts::{parse_kinds, Alert, Kind};
use super::auth::Role;

/// Largest webhooks file read.
pub const WEBHOOKS_FILE_BYTES_MAX: u64 = 1 << 20;
/// Most webhooks in the file.
pub const WEBHOOKS_MAX: usize = 64;
/// Longest webhook URL.
pub const WEBHOOK_URL_BYTES_MAX: usize = 2048;
/// Shortest secret accepted.
pub const WEBHOOK_SECRET_CHARS_MIN: usize = 32;
/// Alerts waiting for delivery to one hook; beyond it new alerts are dropped for it.
pub const WEBHOOK_QUEUE: usize = 256;
/// How long one delivery attempt may take (connect, send, answer).
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per alert and hook, the first included.
pub const WEBHOOK_ATTEMPTS: u32 = 5;
/// Wait before the second attempt; doubled before each further one (1, 2, 4, 8 s).
pub const WEBHOOK_BACKOFF_FIRST: Duration = Duration::from_secs(1);

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HookRow {
    url: String,
    secret: String,
    role: String,
    party: Option<String>,
    events: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HooksFile {
    #[serde(default)]
    webhook: Vec<HookRow>,
}

/// One webhook of the file.
pub struct Hook {
    pub url: Uri,
    secret: Vec<u8>,
    /// What it may hear of: the alerts as this role sees them.
    pub role: Role,
    pub party: Option<String>,
    /// The alert types it wants (None: all).
    pub events: Option<BTreeSet<Kind>>,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook").field("url", &self.url).field("role", &self.role).field("party", &self.party).field("events", &self.events).finish_non_exhaustive()
    }
}

impl Hook {
    /// A hook (for tests); `secret` is checked as in the file.
    #[cfg(test)]
    pub fn new(url: &str, secret: &str, role: Role, events: Option<BTreeSet<Kind>>) -> Result<Hook> {
        Ok(Hook { url: check_url(url)?, secret: check_secret(secret)?, role, party: None, events })
    }

    /// Whether this hook hears of the alert.
    pub fn wants(&self, a: &Alert) -> bool {
        self.events.as_ref().is_none_or(|e| e.contains(&a.kind)) && a.payload(self.role).is_some()
    }
}

fn check_url(url: &str) -> Result<Uri> {
    if url.len() > WEBHOOK_URL_BYTES_MAX {
        bail!("longer than WEBHOOK_URL_BYTES_MAX ({WEBHOOK_URL_BYTES_MAX})");
    }
    let u: Uri = url.parse().map_err(|e| anyhow::anyhow!("`{url}` is not a URL: {e}"))?;
    match u.scheme_str() {
        Some("http") => {}
        Some("https") => bail!("`{url}`: https is not supported (truce has no TLS client, to keep its dependencies small); send to http:// on a trusted network, or to a local relay that forwards over TLS"),
        _ => bail!("`{url}`: expected http://host[:port]/path"),
    }
    if u.host().is_none_or(str::is_empty) {
        bail!("`{url}`: no host");
    }
    Ok(u)
}

fn check_secret(s: &str) -> Result<Vec<u8>> {
    if s.chars().count() < WEBHOOK_SECRET_CHARS_MIN {
        bail!("shorter than WEBHOOK_SECRET_CHARS_MIN ({WEBHOOK_SECRET_CHARS_MIN})");
    }
    if !s.chars().all(|c| c.is_ascii_graphic()) {
        bail!("only printable ASCII without spaces");
    }
    Ok(s.as_bytes().to_vec())
}

/// Reads and checks a webhooks file (size, every field; a guarantor's party must be a
/// party of the agreement). Every refusal names the file, the hook's index and the field.
pub fn load(path: &Path, agreement: &Agreement) -> Result<Vec<Hook>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.len() > WEBHOOKS_FILE_BYTES_MAX {
        bail!("{}: {} bytes exceeds WEBHOOKS_FILE_BYTES_MAX ({WEBHOOKS_FILE_BYTES_MAX})", path.display(), meta.len());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read as UTF-8", path.display()))?;
    parse(&path.display().to_string(), &text, agreement)
}

pub fn parse(file: &str, text: &str, agreement: &Agreement) -> Result<Vec<Hook>> {
    let f: HooksFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    if f.webhook.len() > WEBHOOKS_MAX {
        bail!("{file}: {} webhooks, more than WEBHOOKS_MAX ({WEBHOOKS_MAX})", f.webhook.len());
    }
    let mut out = Vec::new();
    for (i, r) in f.webhook.into_iter().enumerate() {
        let at = format!("{file}: webhook[{i}]");
        let url = check_url(&r.url).map_err(|e| anyhow::anyhow!("{at}: url: {e}"))?;
        let secret = check_secret(&r.secret).map_err(|e| anyhow::anyhow!("{at}: secret: {e}"))?;
        let role = match r.role.as_str() {
            "public" => Role::Public,
            "monitor" => Role::Monitor,
            "analyst" => Role::Analyst,
            "guarantor" => Role::Guarantor,
            other => bail!("{at}: role: `{other}` is not public, monitor, analyst or guarantor"),
        };
        match (role, &r.party) {
            (Role::Guarantor, None) => bail!("{at}: party: a guarantor's webhook names its party"),
            (Role::Guarantor, Some(p)) if agreement.party(p).is_none() => {
                bail!("{at}: party: `{p}` is not a party of {} (parties: {})", agreement.file, agreement.parties.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", "))
            }
            (Role::Guarantor, _) | (_, None) => {}
            (_, Some(_)) => bail!("{at}: party: only a guarantor's webhook names a party"),
        }
        let events = match &r.events {
            None => None,
            Some(list) if list.is_empty() => bail!("{at}: events: empty (leave it out for every alert type)"),
            Some(list) => Some(parse_kinds(list.iter().map(String::as_str)).map_err(|e| anyhow::anyhow!("{at}: events: {e}"))?),
        };
        out.push(Hook { url, secret, role, party: r.party, events });
    }
    Ok(out)
}

/// `sha256=` and the hex HMAC-SHA256 of `timestamp.body` under `secret`: the value of
/// `X-Truce-Signature`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    let hex = hex::encode(m.finalize().into_bytes());
    format!("sha256={hex}")
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The running webhooks: one queue and one delivery task per hook.
#[derive(Default)]
pub struct Webhooks {
    hooks: Vec<(Arc<Hook>, mpsc::Sender<Arc<Alert>>)>,
}

impl Webhooks {
    /// Starts one delivery task per hook (call within a tokio runtime).
    pub fn start(hooks: Vec<Hook>) -> Webhooks {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(WEBHOOK_TIMEOUT));
        let client: HttpClient = Client::builder(TokioExecutor::new()).build(connector);
        let hooks = hooks
            .into_iter()
            .map(|h| {
                let h = Arc::new(h);
                let (tx, rx) = mpsc::channel(WEBHOOK_QUEUE);
                tokio::spawn(worker(h.clone(), rx, client.clone()));
                (h, tx)
            })
            .collect();
        Webhooks { hooks }
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// Queues the alert for every hook that wants it; never waits.
    pub fn send(&self, a: &Arc<Alert>) {
        for (h, tx) in &self.hooks {
            if !h.wants(a) {
                continue;
            }
            match tx.try_send(a.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    eprintln!("truce serve: webhook {}: queue full (WEBHOOK_QUEUE {WEBHOOK_QUEUE}); alert {} ({}) dropped for it", h.url, a.id, a.kind.as_str());
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    eprintln!("truce serve: webhook {}: delivery task stopped; alert {} ({}) dropped for it", h.url, a.id, a.kind.as_str());
                }
            }
        }
    }
}

async fn worker(h: Arc<Hook>, mut rx: mpsc::Receiver<Arc<Alert>>, client: HttpClient) {
    while let Some(a) = rx.recv().await {
        let Some(p) = a.payload(h.role) else { continue };
        let body = Bytes::from(p.to_string());
        deliver(&client, &h, &a, body).await;
    }
}

/// Whether a refusal by the receiver may pass if tried again.
fn retryable(s: StatusCode) -> bool {
    s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT || s == StatusCode::TOO_MANY_REQUESTS
}

async fn deliver(client: &HttpClient, h: &Hook, a: &Alert, body: Bytes) {
    let mut wait = WEBHOOK_BACKOFF_FIRST;
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        let ts = chrono::Utc::now().timestamp();
        let req = Request::post(h.url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, concat!("truce/", env!("CARGO_PKG_VERSION")))
            .header("X-Truce-Event", a.kind.as_str())
            .header("X-Truce-Delivery", a.id.as_str())
            .header("X-Truce-Timestamp", ts.to_string())
            .header("X-Truce-Signature", sign(&h.secret, ts, &body))
            .body(Full::new(body.clone()));
        let req = match req {
            Ok(r) => r,
            Err(e) => {
                eprintln!("truce serve: webhook {}: alert {}: cannot make the request: {e}", h.url, a.id);
                return;
            }
        };
        let why = match tokio::time::timeout(WEBHOOK_TIMEOUT, client.request(req)).await {
            Ok(Ok(r)) if r.status().is_success() => return,
            Ok(Ok(r)) if !retryable(r.status()) => {
                eprintln!("truce serve: webhook {}: alert {} ({}): refused with {} (not retried)", h.url, a.id, a.kind.as_str(), r.status());
                return;
            }
            Ok(Ok(r)) => format!("answered {}", r.status()),
            Ok(Err(e)) => format!("{e}"),
            Err(_) => format!("no answer within WEBHOOK_TIMEOUT ({} s)", WEBHOOK_TIMEOUT.as_secs()),
        };
        if attempt == WEBHOOK_ATTEMPTS {
            eprintln!("truce serve: webhook {}: alert {} ({}): attempt {attempt}/{WEBHOOK_ATTEMPTS}: {why}; given up", h.url, a.id, a.kind.as_str());
            return;
        }
        eprintln!("truce serve: webhook {}: alert {} ({}): attempt {attempt}/{WEBHOOK_ATTEMPTS}: {why}; retrying in {} s", h.url, a.id, a.kind.as_str(), wait.as_secs());
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}
