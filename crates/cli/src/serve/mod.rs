//! `truce serve`: the HTTP API (`/api/v1/...`, JSON, described by a hand-written OpenAPI
//! 3.1 document) and OGC API - Features (`/ogc/...`, GeoJSON) over one agreement and one
//! data directory. See `docs/server.md`.
//!
//! The agreement and its geometry are loaded once. Every read that needs incidents or
//! obligations runs [`crate::assess::assess`] at `now` (or `?at=`); the last few
//! assessments are kept, keyed by the data directory's state (names, sizes and
//! modification times of what `assess` reads) and the instant, so repeated reads are
//! cheap. Assessments and writes run one at a time (the evidence log takes a writer lock
//! to be read, and a decision must be checked against the state it changes).

pub mod alerts;
pub mod api;
pub mod auth;
pub mod limits;
pub mod ogc;
pub mod openapi;
pub mod publish;
pub mod submit;
pub mod web;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod alert_tests;
pub mod webhooks;

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use chrono::{DateTime, Utc};
use clap::Args;
use tower_http::timeout::TimeoutLayer;
use truce_agreement::Agreement;

use crate::agreement_cmd::Refusal;
use crate::assess::{assess, load_agreement, load_geometry, Assessment, Geometry};
use crate::commands::Outcome;
use auth::Tokens;

/// Largest request body accepted (a decision or an action is well under this).
pub const BODY_BYTES_MAX: usize = 64 * 1024;
/// Longest a request may take, assessment included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an assessment made "now" is reused for another "now" read of the same data.
pub const NOW_REUSE: Duration = Duration::from_secs(5);
/// How many assessments are kept.
pub const CACHE_ENTRIES: usize = 8;
/// Alerts kept for a slow event subscriber before it misses some (it is sent `lagged`).
pub const EVENTS_BUFFER: usize = 1024;
/// While someone listens (an event stream or a webhook), how often the server checks the
/// data directory's fingerprint for changes made by other processes (`truce ingest`,
/// `decide`, `act`); a check that finds nothing new costs a few `stat`s.
pub const ALERTS_POLL: Duration = Duration::from_secs(2);
/// While someone listens, the longest the server goes without reassessing "now" even
/// when the data did not change (the clock alone changes standings; a pending deadline
/// passing is caught at the next `ALERTS_POLL`).
pub const EVENTS_POLL: Duration = Duration::from_secs(30);
/// How often the rate limiters forget idle clients.
pub const RATE_SWEEP: Duration = Duration::from_secs(60);

#[derive(Args)]
pub struct ServeArgs {
    /// The agreement file (TOML).
    #[arg(long, required_unless_present = "demo")]
    pub agreement: Option<PathBuf>,
    /// The data directory (observations/, decisions.jsonl, actions.jsonl, log/).
    #[arg(long, required_unless_present = "demo")]
    pub data: Option<PathBuf>,
    /// Serve what `truce demo` made in this folder (its data/, the agreement as the demo
    /// applies it, its signing key, the report), running the demo first when the folder
    /// has no data yet. The clock starts at the end of the demo report's day.
    #[arg(long, value_name = "DEMO_OUT", num_args = 0..=1, default_missing_value = "truce-data", conflicts_with_all = ["agreement", "data"])]
    pub demo: Option<PathBuf>,
    /// Replay: take the agreement's ceasefire to start at this date or instant.
    #[arg(long, value_parser = crate::agreement_cmd::parse_start)]
    pub ceasefire_from: Option<DateTime<Utc>>,
    /// Replay: the server's clock starts at this date (midnight UTC) or instant and runs
    /// from there, instead of the wall clock. Decisions, actions and uploads are dated
    /// by it.
    #[arg(long, value_parser = crate::agreement_cmd::parse_start)]
    pub clock: Option<DateTime<Utc>>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// API tokens (TOML: `[[token]]` with token, role, name, and party for a
    /// guarantor). Without it every request is public.
    #[arg(long)]
    pub tokens: Option<PathBuf>,
    /// Sign a new log checkpoint with this key after every decision or action.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// A folder of published daily reports, one subfolder per report as `truce report
    /// --out` writes it (report.json, .html, .pdf, .md); served under /api/v1/reports.
    /// With --demo: the demo's report/ and report-public/.
    #[arg(long)]
    pub reports: Option<PathBuf>,
    /// The server's public base URL for links in OGC responses (default: from the
    /// request's Host header, over http).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Send alerts to the webhooks of this file (TOML: `[[webhook]]` with url, secret,
    /// role, party for a guarantor, events; see docs/alerts.md).
    #[arg(long)]
    pub webhooks: Option<PathBuf>,
    /// Requests allowed per token and per client address without a token: `off`, or
    /// PER_MINUTE/BURST for both (default: RATE_PER_MINUTE/RATE_BURST (600/120) per token,
    /// PUBLIC_RATE_PER_MINUTE/PUBLIC_RATE_BURST (300/120) per address).
    #[arg(long, value_name = "off|PER_MINUTE/BURST", value_parser = limits::parse_rate)]
    pub rate_limit: Option<limits::RateSetting>,
}

/// What every handler shares.
pub struct AppState {
    pub agreement: Agreement,
    pub geometry: Geometry,
    pub data: PathBuf,
    pub tokens: Tokens,
    pub key: Option<PathBuf>,
    pub base_url: Option<String>,
    /// The server's clock: the wall clock, or a replay clock started at an instant.
    pub clock: Clock,
    /// The folder of published reports (each in its own subfolder), if any.
    pub reports: Option<PathBuf>,
    /// The agreement is replayed over past data (`--demo`, `--ceasefire-from`).
    pub replay: bool,
    /// `GET /api/v1/pledges`'s last answer.
    accounts: Mutex<Option<publish::AccountsCache>>,
    cache: Mutex<Vec<Cached>>,
    /// Alerts found between successive "now" assessments, for `GET /api/v1/events`.
    pub events: tokio::sync::broadcast::Sender<Arc<alerts::Alert>>,
    /// The webhooks alerts are sent to (none by default).
    pub webhooks: webhooks::Webhooks,
    /// Per-token and per-address rate limits (the named limits by default).
    pub rate: limits::RateLimits,
    /// What the last "now" assessment said, to find the next one's alerts.
    last: Mutex<Option<alerts::Snapshot>>,
    /// One assessment or write at a time.
    work: tokio::sync::Mutex<()>,
}

struct Cached {
    fingerprint: u64,
    /// The instant asked for (ms), or None for "now".
    at: Option<i64>,
    made: Instant,
    assessment: Arc<Assessment>,
}

impl AppState {
    pub fn new(agreement: Agreement, geometry: Geometry, data: PathBuf, tokens: Tokens, key: Option<PathBuf>, base_url: Option<String>) -> AppState {
        AppState { agreement, geometry, data, tokens, key, base_url, clock: Clock::Wall, reports: None, replay: false, accounts: Mutex::new(None), cache: Mutex::new(Vec::new()), events: tokio::sync::broadcast::channel(EVENTS_BUFFER).0, webhooks: webhooks::Webhooks::default(), rate: limits::RateLimits::default(), last: Mutex::new(None), work: tokio::sync::Mutex::new(()) }
    }

    /// Now, by the server's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn cached(&self, fp: u64, at: Option<i64>) -> Option<Arc<Assessment>> {
        let c = self.cache.lock().expect("cache lock");
        c.iter()
            .rev()
            .find(|e| e.fingerprint == fp && e.at == at && (at.is_some() || e.made.elapsed() < NOW_REUSE))
            .map(|e| e.assessment.clone())
    }

    /// The assessment at `at` (None: now), from the cache when the data has not changed.
    pub async fn assessment(self: &Arc<Self>, at: Option<DateTime<Utc>>) -> Result<Arc<Assessment>, ApiError> {
        let key = at.map(|t| t.timestamp_millis());
        let fp = fingerprint(&self.data);
        if let Some(a) = self.cached(fp, key) {
            return Ok(a);
        }
        let _g = self.work.lock().await;
        let fp = fingerprint(&self.data);
        if let Some(a) = self.cached(fp, key) {
            return Ok(a);
        }
        let me = self.clone();
        let a = tokio::task::spawn_blocking(move || assess(&me.agreement, &me.geometry, &me.data, at.unwrap_or_else(|| me.now()), me.replay))
            .await
            .map_err(|e| ApiError::internal(format!("assessment: {e}")))?
            .map_err(ApiError::from)?;
        let a = Arc::new(a);
        if key.is_none() {
            self.announce(&a, fp);
        }
        self.remember(fp, key, a.clone());
        Ok(a)
    }

    fn remember(&self, fp: u64, at: Option<i64>, a: Arc<Assessment>) {
        let mut c = self.cache.lock().expect("cache lock");
        c.push(Cached { fingerprint: fp, at, made: Instant::now(), assessment: a });
        if c.len() > CACHE_ENTRIES {
            c.remove(0);
        }
    }

    /// Compares a "now" assessment (of data with fingerprint `fp`) with the previous one
    /// and sends the alerts (`alerts::diff`) to the event streams and the webhooks; the
    /// first assessment is the baseline and announces nothing. Called under the work lock,
    /// so alerts go out in the order of the assessments.
    fn announce(&self, s: &Assessment, fp: u64) {
        let found = {
            let mut last = self.last.lock().expect("last lock");
            let (snap, found) = alerts::diff(self, last.as_ref(), s, fp);
            *last = Some(snap);
            found
        };
        for a in found {
            let a = Arc::new(a);
            self.webhooks.send(&a);
            let _ = self.events.send(a);
        }
    }

    /// After a write made by this server (a decision, an action, an upload): make sure
    /// its alerts have gone out, without waiting for the poll. [`AppState::write`]
    /// already reassesses and announces before it lets go of the work lock, so that every
    /// write's alerts are found even when writes follow each other closely; for those
    /// writes this costs nothing (the fresh assessment is cached). A handler that writes
    /// to the data directory some other way calls it too. Errors are printed, not
    /// returned: the write itself has succeeded.
    pub async fn after_write(self: &Arc<Self>) {
        if let Err(e) = self.assessment(None).await {
            eprintln!("truce serve: alerts after a write: {}", e.message);
        }
    }

    /// One round of the poll for alerts: reassess "now" when the data directory changed
    /// (another process wrote), a pending deadline has passed, or `EVENTS_POLL` has
    /// elapsed since the last "now" assessment; otherwise only the fingerprint is taken.
    pub async fn poll_alerts(self: &Arc<Self>) {
        let due = match &*self.last.lock().expect("last lock") {
            None => true,
            Some(l) => l.made.elapsed() >= EVENTS_POLL || l.next_deadline.is_some_and(|d| self.now() >= d) || l.fingerprint != fingerprint(&self.data),
        };
        if due {
            if let Err(e) = self.assessment(None).await {
                eprintln!("truce serve: alerts: {}", e.message);
            }
        }
    }

    /// Whether anyone hears alerts (an event stream or a webhook).
    pub fn listened(&self) -> bool {
        self.events.receiver_count() > 0 || !self.webhooks.is_empty()
    }

    /// Runs `f` with a fresh assessment at now, under the work lock: a write is checked
    /// against the very state it changes.
    ///
    /// Then, still under the lock, the state after the write is assessed and its alerts
    /// announced (the state before serves as the baseline if there was none), so that
    /// each write's alerts are found even when writes follow each other closely.
    pub async fn write<T: Send + 'static>(self: &Arc<Self>, f: impl FnOnce(&AppState, &Assessment) -> Result<T> + Send + 'static) -> Result<T, ApiError> {
        let _g = self.work.lock().await;
        let me = self.clone();
        let fp = fingerprint(&self.data);
        let (s, r) = tokio::task::spawn_blocking(move || {
            let s = assess(&me.agreement, &me.geometry, &me.data, me.now(), me.replay)?;
            let r = f(&me, &s);
            Ok::<_, anyhow::Error>((s, r))
        })
        .await
        .map_err(|e| ApiError::internal(format!("write: {e}")))?
        .map_err(ApiError::from)?;
        let r = r.map_err(ApiError::from)?;
        if self.last.lock().expect("last lock").is_none() {
            self.announce(&s, fp);
        }
        let fp = fingerprint(&self.data);
        let me = self.clone();
        match tokio::task::spawn_blocking(move || assess(&me.agreement, &me.geometry, &me.data, me.now(), me.replay)).await {
            Ok(Ok(after)) => {
                let after = Arc::new(after);
                self.announce(&after, fp);
                self.remember(fp, None, after);
            }
            Ok(Err(e)) => eprintln!("truce serve: assessing after a write: {e:#}"),
            Err(e) => eprintln!("truce serve: assessing after a write: {e}"),
        }
        Ok(r)
    }
}

/// The server's clock.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    Wall,
    /// Started at `at` when the wall clock read `started`; runs at the wall clock's rate.
    Replay { at: DateTime<Utc>, started: DateTime<Utc> },
}

impl Clock {
    pub fn replay(at: DateTime<Utc>) -> Clock {
        Clock::Replay { at, started: Utc::now() }
    }
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::Wall => Utc::now(),
            Clock::Replay { at, started } => *at + (Utc::now() - *started),
        }
    }
}

/// A digest of what `assess` reads: names, sizes and modification times of the data
/// directory's observation files, decisions, actions and the log's top-level files, but
/// for the log's `state` and `lock`, which every opening of the log rewrites or touches
/// (with them, every assessment changed the fingerprint, and nothing was ever reused).
pub fn fingerprint(data: &Path) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut add = |p: &Path| stamp(&mut h, p);
    for dir in [data.join("observations"), data.join("log")] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| !(dir.ends_with("log") && p.file_name().is_some_and(|n| n == "state" || n == "lock"))).collect();
            names.sort();
            for p in &names {
                add(p);
            }
        }
    }
    add(&data.join("decisions.jsonl"));
    add(&data.join("actions.jsonl"));
    h.finish()
}

/// Adds a file's path, size and modification time to a digest (nothing when it is absent):
/// what says that a file the server read may have changed.
pub fn stamp(h: &mut impl Hasher, p: &Path) {
    if let Ok(m) = std::fs::metadata(p) {
        p.hash(h);
        m.len().hash(h);
        m.modified().ok().hash(h);
    }
}

/// Every error the server returns: `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }
    pub fn bad_request(m: impl Into<String>) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", m)
    }
    pub fn unauthorized(m: impl Into<String>) -> ApiError {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", m)
    }
    pub fn forbidden(m: impl Into<String>) -> ApiError {
        Self::new(StatusCode::FORBIDDEN, "forbidden", m)
    }
    pub fn not_found(m: impl Into<String>) -> ApiError {
        Self::new(StatusCode::NOT_FOUND, "not_found", m)
    }
    pub fn internal(m: impl Into<String>) -> ApiError {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", m)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        if let Some(r) = e.downcast_ref::<Refusal>() {
            let m = r.to_string();
            return match r {
                Refusal::NotFound(_) => ApiError::not_found(m),
                Refusal::Invalid(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
                Refusal::NotYours(_) => ApiError::forbidden(m),
                Refusal::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            };
        }
        if let Some(truce_log::Error::Locked { .. }) = e.downcast_ref::<truce_log::Error>() {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "log_locked", format!("{e:#}; try again"));
        }
        eprintln!("truce serve: error: {e:#}");
        ApiError::internal(format!("{e:#}"))
    }
}

pub fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({"error": {"code": code, "message": message}}).to_string()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, [(header::CONTENT_TYPE, "application/json")], error_body(self.code, &self.message)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// Gives every error response the error shape, including those made by layers and by
/// axum itself (method not allowed, timeout, body too large).
async fn fill_error_body(r: Response) -> Response {
    let s = r.status();
    if !(s.is_client_error() || s.is_server_error()) {
        return r;
    }
    let json = r.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if json {
        return r;
    }
    let (code, message) = match s {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed on this path".to_string()),
        StatusCode::SERVICE_UNAVAILABLE => ("timeout", format!("the request took longer than REQUEST_TIMEOUT ({} s)", REQUEST_TIMEOUT.as_secs())),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            format!("the body exceeds this path's limit (BODY_BYTES_MAX, {BODY_BYTES_MAX} bytes; observation uploads UPLOAD_BYTES_MAX, {} bytes)", submit::UPLOAD_BYTES_MAX),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "expected Content-Type: application/json".to_string()),
        _ => ("error", s.canonical_reason().unwrap_or("error").to_string()),
    };
    let (mut parts, _) = r.into_parts();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(error_body(code, &message)))
}

async fn no_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such path (see /api/v1/openapi.json)")
}

pub type Shared = Arc<AppState>;

/// A router that remembers which (method, path) pairs it serves, so that the OpenAPI
/// document can be checked against it.
pub struct Routes {
    router: Router<Shared>,
    pub list: Vec<(Method, &'static str)>,
}

impl Routes {
    fn new() -> Routes {
        Routes { router: Router::new(), list: Vec::new() }
    }
    fn add<H, T>(mut self, method: Method, path: &'static str, h: H) -> Routes
    where
        H: Handler<T, Shared>,
        T: 'static,
    {
        let filter = if method == Method::POST { MethodFilter::POST } else { MethodFilter::GET };
        self.router = self.router.route(path, on(filter, h));
        self.list.push((method, path));
        self
    }
    fn get<H: Handler<T, Shared>, T: 'static>(self, path: &'static str, h: H) -> Routes {
        self.add(Method::GET, path, h)
    }
    fn post<H: Handler<T, Shared>, T: 'static>(self, path: &'static str, h: H) -> Routes {
        self.add(Method::POST, path, h)
    }
    /// A POST route whose body may be larger than [`BODY_BYTES_MAX`], up to `limit`.
    fn post_large<H: Handler<T, Shared>, T: 'static>(mut self, path: &'static str, h: H, limit: usize) -> Routes {
        self.router = self.router.route(path, on(MethodFilter::POST, h).layer(DefaultBodyLimit::max(limit)));
        self.list.push((Method::POST, path));
        self
    }
    /// Routes outside the API and its description (the web page).
    fn unlisted(mut self, r: Router<Shared>) -> Routes {
        self.router = self.router.merge(r);
        self
    }
}

/// Every route, unlayered.
pub fn routes() -> Routes {
    Routes::new()
        .unlisted(web::routes())
        .get("/api/v1/openapi.json", openapi::serve)
        .get("/api/v1/whoami", api::whoami)
        .get("/api/v1/incidents", api::incidents)
        .get("/api/v1/incidents/{id}", api::incident)
        .get("/api/v1/obligations", api::obligations)
        .get("/api/v1/events", api::events)
        .post("/api/v1/decisions", api::decide)
        .post("/api/v1/actions", api::act)
        .get("/api/v1/log/checkpoint", api::checkpoint)
        .get("/api/v1/log/proof", api::proof)
        .get("/api/v1/log/tile/{*path}", publish::tile)
        .post_large("/api/v1/observations", submit::upload, submit::UPLOAD_BYTES_MAX)
        .post("/api/v1/patrol-reports", submit::patrol)
        .get("/api/v1/pledges", publish::pledges)
        .get("/api/v1/reports", publish::reports)
        .get("/api/v1/reports/{id}/{file}", publish::report_file)
        .get("/ogc", ogc::landing)
        .get("/ogc/conformance", ogc::conformance)
        .get("/ogc/collections", ogc::collections)
        .get("/ogc/collections/{collection}", ogc::collection)
        .get("/ogc/collections/{collection}/items", ogc::items)
        .get("/ogc/collections/{collection}/items/{feature}", ogc::item)
}

/// The whole service: routes, the error shape, the body limit and the timeout.
pub fn router(state: Shared) -> Router {
    routes()
        .router
        .fallback(no_route)
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::rate_limit))
        .layer(axum::middleware::map_response(fill_error_body))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .with_state(state)
}

/// Loads everything the server holds.
pub fn load_state(a: &ServeArgs) -> Result<AppState> {
    let (mut agreement, geometry, data, mut key, mut clock, reports) = match &a.demo {
        Some(out) => {
            let demo_data = crate::commands::default_demo_data()?;
            let data = out.join("data");
            if !data.join("log").join("checkpoint").is_file() {
                eprintln!("truce serve --demo: {} holds no demo yet; running the demo pipeline first", out.display());
                crate::report_cmd::demo_pipeline(&demo_data, out, None)?;
            }
            let (agr, geo, _, replay) = crate::report_cmd::demo_agreement(&demo_data)?;
            eprintln!("REPLAY: {replay}");
            let report = out.join("report/report.json");
            let r = truce_daily::from_json(&std::fs::read_to_string(&report).with_context(|| format!("{}: cannot read (run `truce demo` again)", report.display()))?)
                .with_context(|| format!("{}", report.display()))?;
            let end = crate::agreement_cmd::parse_instant(&r.period.end).map_err(|e| anyhow::anyhow!("{}: period.end: {e}", report.display()))?;
            (agr, geo, data, Some(out.join("demo.key")), Some(end), Some(out.to_path_buf()))
        }
        None => {
            let path = a.agreement.as_ref().context("--agreement is required without --demo")?;
            let agr = load_agreement(path)?;
            let geo = load_geometry(&agr)?;
            (agr, geo, a.data.clone().context("--data is required without --demo")?, None, None, None)
        }
    };
    if let Some(t) = a.ceasefire_from {
        eprintln!("REPLAY: ceasefire taken to start {} (the agreement says {})", t.format("%Y-%m-%d %H:%M UTC"), agreement.ceasefire_start.format("%Y-%m-%d %H:%M UTC"));
        agreement = agreement.with_ceasefire_start(t);
    }
    if a.clock.is_some() {
        clock = a.clock;
    }
    if a.key.is_some() {
        key = a.key.clone();
    }
    if !data.is_dir() {
        bail!("{}: no such data directory (ingest into {}/observations first)", data.display(), data.display());
    }
    let tokens_file = match (&a.tokens, &a.demo) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(out)) => Some(demo_tokens(out)?),
        (None, None) => None,
    };
    let tokens = match &tokens_file {
        Some(p) => Tokens::load(p, &agreement)?,
        None => Tokens::default(),
    };
    if let Some(k) = &key {
        truce_log::keys::load_signer(k).with_context(|| format!("key {}", k.display()))?;
    }
    let mut st = AppState::new(agreement, geometry, data, tokens, key, a.base_url.clone());
    if let Some(t) = clock {
        eprintln!("REPLAY: the server's clock starts at {}", t.format("%Y-%m-%d %H:%M:%S UTC"));
        st.clock = Clock::replay(t);
    }
    st.reports = a.reports.clone().or(reports);
    st.replay = a.demo.is_some() || a.ceasefire_from.is_some();
    if let Some(limits::RateSetting(r)) = a.rate_limit {
        st.rate = limits::RateLimits::new(r, r);
    }
    Ok(st)
}

/// `--demo`'s tokens: `tokens.toml` in the demo folder, made once (mode 0600) with a
/// random token for a monitor (with a patrol-signing key, `monitor.key`), an analyst and
/// GB's liaison, and printed so that whoever runs the demo can use them.
fn demo_tokens(out: &Path) -> Result<PathBuf> {
    let path = out.join("tokens.toml");
    if !path.exists() {
        let key = out.join("monitor.key");
        let vkey = if key.exists() {
            truce_log::keys::load_signer(&key)?.verifier()
        } else {
            let v = truce_log::keys::generate_to_file(&key, "demo-monitor")?;
            crate::files::write_atomic(&out.join("monitor.key.pub"), format!("{v}\n").as_bytes())?;
            v
        };
        let mut text = String::from("# Demo tokens made by `truce serve --demo`. Anyone who can read this file can act as these roles.\n");
        for (role, name, party) in [("monitor", "demo-monitor", None), ("analyst", "demo-analyst", None), ("guarantor", "demo-gb", Some("GB"))] {
            let mut b = [0u8; 24];
            getrandom::getrandom(&mut b).map_err(|e| anyhow::anyhow!("random token: {e}"))?;
            let hex = hex::encode(b);
            text.push_str(&format!("\n[[token]]\ntoken = \"{name}-{hex}\"\nrole = \"{role}\"\nname = \"{name}\"\n"));
            if let Some(p) = party {
                text.push_str(&format!("party = \"{p}\"\n"));
            }
            if role == "monitor" {
                text.push_str(&format!("keys = [\"{vkey}\"]\n"));
            }
        }
        truce_log::create_private_file(&path, text.as_bytes())?;
    }
    eprintln!("truce serve --demo: tokens in {} (monitor: patrol reports signed with {})", path.display(), out.join("monitor.key").display());
    Ok(path)
}

pub fn serve(a: ServeArgs) -> Result<Outcome> {
    let mut state = load_state(&a)?;
    let hooks = match &a.webhooks {
        Some(p) => webhooks::load(p, &state.agreement)?,
        None => Vec::new(),
    };
    eprintln!(
        "truce serve: {} ({}), data {}, {} token(s), {} webhook(s); listening on http://{}/ (API /api/v1/, OGC API - Features /ogc)",
        state.agreement.title,
        state.agreement.id,
        state.data.display(),
        state.tokens.len(),
        hooks.len(),
        a.listen
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    rt.block_on(async move {
        state.webhooks = webhooks::Webhooks::start(hooks);
        let state = Arc::new(state);
        let listener = tokio::net::TcpListener::bind(a.listen).await.with_context(|| format!("--listen {}: cannot bind", a.listen))?;
        if let Ok(addr) = listener.local_addr() {
            eprintln!("truce serve: listening on {addr}");
        }
        let poll = state.clone();
        tokio::spawn(async move {
            // The baseline: changes from now on are alerts (also for an event stream
            // opened before the first write).
            poll.poll_alerts().await;
            let mut swept = Instant::now();
            loop {
                tokio::time::sleep(ALERTS_POLL).await;
                if poll.listened() {
                    poll.poll_alerts().await;
                }
                if swept.elapsed() >= RATE_SWEEP {
                    poll.rate.sweep();
                    swept = Instant::now();
                }
            }
        });
        axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving")
    })?;
    Ok(Outcome::Done)
}
