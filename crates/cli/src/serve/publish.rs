//! What the server publishes besides assessments: the pledge figures and the force
//! projection (`/api/v1/pledges`), the daily reports (`/api/v1/reports`), and the
//! evidence log's tiles (`/api/v1/log/tile/...`, C2SP tlog-tiles, so that
//! `/api/v1/log` is a tlog-tiles URL prefix any client can verify from).

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use truce_log::tile::{tile_at_size, TileId, TileKind};

use super::api::{caller, log_dir};
use super::auth::Role;
use super::{ApiError, AppState, Shared};

/// Most report folders listed.
pub const REPORTS_MAX: usize = 1000;
/// Largest report edition served (the PDF is the largest).
pub const REPORT_FILE_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Largest tile file served (a full entry bundle of 256 entries of at most 64 KiB).
pub const TILE_BYTES_MAX: u64 = 256 * (65_536 + 2);

/// The pledges figures and the force projection with its levers, computed once per
/// state of the agreement's accounts files.
pub struct AccountsCache {
    key: u64,
    value: Value,
}

fn accounts_key(st: &AppState) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut files = vec![PathBuf::from(&st.agreement.file)];
    if let Some(p) = &st.agreement.pledges {
        for k in ["registry", "gdp"] {
            if let Some(f) = p.get(k).and_then(|v| v.as_str()) {
                files.push(st.agreement.path(f));
            }
        }
    }
    for f in files {
        super::stamp(&mut h, &f);
    }
    h.finish()
}

/// `GET /api/v1/pledges` (any role: pledges are public commitments): `{figures,
/// projection}` as `truce pledges --json` and `truce forces project --json` print them
/// (figures by donor), each null when the agreement has no such table.
pub async fn pledges(State(st): State<Shared>, h: HeaderMap) -> Result<Json<Value>, ApiError> {
    caller(&st, &h)?;
    let key = accounts_key(&st);
    if let Some(c) = st.accounts.lock().expect("accounts lock").as_ref().filter(|c| c.key == key) {
        return Ok(Json(c.value.clone()));
    }
    let me = st.clone();
    let value = tokio::task::spawn_blocking(move || -> anyhow::Result<Value> {
        let (figures, forces) = crate::report_cmd::load_accounts(&me.agreement)?;
        let projection = match forces {
            None => Value::Null,
            Some((p, o, proj)) => {
                let levers = truce_accounts::sensitivity(&p, &o, &proj, 0.10)?;
                json!({"projection": proj, "levers": levers, "target": p.target})
            }
        };
        Ok(json!({"agreement": me.agreement.id, "figures": figures, "projection": projection}))
    })
    .await
    .map_err(|e| ApiError::internal(format!("pledges: {e}")))??;
    *st.accounts.lock().expect("accounts lock") = Some(AccountsCache { key, value: value.clone() });
    Ok(Json(value))
}

/// One published report: its folder and what it says of itself.
struct Published {
    id: String,
    dir: PathBuf,
    report: truce_daily::DailyReport,
}

fn safe_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 200 && !s.starts_with('.') && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// The report folders under `--reports` (each holding a `report.json`), newest period
/// first; the public sees public editions only.
fn published(st: &AppState, role: Role) -> Result<Vec<Published>, ApiError> {
    let Some(root) = &st.reports else {
        return Ok(Vec::new());
    };
    let rd = std::fs::read_dir(root).map_err(|e| ApiError::internal(format!("{}: {e}", root.display())))?;
    let mut out = Vec::new();
    for e in rd.flatten().take(REPORTS_MAX) {
        let id = e.file_name().to_string_lossy().into_owned();
        let json = e.path().join("report.json");
        if !safe_name(&id) || !json.is_file() {
            continue;
        }
        let text = match read_file(&json, REPORT_FILE_BYTES_MAX).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            _ => {
                eprintln!("truce serve: {}: cannot read as UTF-8", json.display());
                continue;
            }
        };
        let report = match truce_daily::from_json(&text) {
            Ok(r) => r,
            Err(err) => {
                eprintln!("truce serve: {}: not a daily report: {err}", json.display());
                continue;
            }
        };
        if role.sees_all() || report.edition == truce_daily::Edition::Public {
            out.push(Published { id, dir: e.path(), report });
        }
    }
    out.sort_by(|a, b| b.report.period.end.cmp(&a.report.period.end).then(a.id.cmp(&b.id)));
    Ok(out)
}

const EDITIONS: [(&str, &str); 4] = [("html", "report.html"), ("pdf", "report.pdf"), ("json", "report.json"), ("md", "report.md")];

/// `GET /api/v1/reports`: the published daily reports (public editions for the public).
pub async fn reports(State(st): State<Shared>, h: HeaderMap) -> Result<Json<Value>, ApiError> {
    let c = caller(&st, &h)?;
    let list: Vec<Value> = published(&st, c.role)?
        .iter()
        .map(|p| {
            let editions: serde_json::Map<String, Value> = EDITIONS
                .iter()
                .filter(|(_, f)| p.dir.join(f).is_file())
                .map(|(k, f)| (k.to_string(), json!(format!("/api/v1/reports/{}/{f}", p.id))))
                .collect();
            json!({
                "id": p.id,
                "title": p.report.title,
                "edition": p.report.edition,
                "period": p.report.period,
                "summary": p.report.summary,
                "log": p.report.log,
                "editions": editions,
            })
        })
        .collect();
    Ok(Json(json!({"reports": list})))
}

/// `GET /api/v1/reports/{id}/{file}`: one edition (report.html, .pdf, .json, .md).
pub async fn report_file(State(st): State<Shared>, h: HeaderMap, UrlPath((id, file)): UrlPath<(String, String)>) -> Result<Response, ApiError> {
    let c = caller(&st, &h)?;
    let Some((_, _)) = EDITIONS.iter().find(|(_, f)| *f == file) else {
        return Err(ApiError::not_found(format!("{file}: not an edition (report.html, report.pdf, report.json, report.md)")));
    };
    let p = published(&st, c.role)?.into_iter().find(|p| p.id == id).ok_or_else(|| ApiError::not_found(format!("report `{id}`: none")))?;
    let path = p.dir.join(&file);
    let bytes = read_file(&path, REPORT_FILE_BYTES_MAX)?;
    let ct = match file.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("pdf") => "application/pdf",
        Some("json") => "application/json",
        _ => "text/markdown; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, ct)], bytes).into_response())
}

fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, ApiError> {
    match std::fs::metadata(path) {
        Err(_) => return Err(ApiError::not_found(format!("{}: none", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()))),
        Ok(m) if m.len() > max => return Err(ApiError::internal(format!("{}: larger than the limit ({max} bytes)", path.display()))),
        Ok(_) => {}
    }
    std::fs::read(path).map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))
}

/// `GET /api/v1/log/tile/{*path}`: a C2SP tlog-tiles tile of the evidence log, as far
/// as the latest signed checkpoint covers it (`tile/<L>/<N>[.p/<W>]`, hashes, for any
/// role; `tile/entries/<N>[.p/<W>]`, the entries' bytes, for roles that see
/// everything). Full tiles never change and are served as immutable.
pub async fn tile(State(st): State<Shared>, h: HeaderMap, UrlPath(rest): UrlPath<String>) -> Result<Response, ApiError> {
    let c = caller(&st, &h)?;
    let dir = log_dir(&st)?;
    let path = format!("tile/{rest}");
    let id = TileId::parse(&path).map_err(|e| ApiError::not_found(format!("{e}")))?;
    if id.kind == TileKind::Entries && !c.role.sees_all() {
        return Err(ApiError::forbidden("entry bundles hold the entries' bytes: not for the public (hash tiles and proofs are)"));
    }
    let vkey = truce_log::Log::read_verifier_key(&dir).map_err(|e| ApiError::internal(format!("log: {e}")))?;
    let cp = truce_log::verify::read_checkpoint(&dir.join("checkpoint"), &vkey).map_err(|e| ApiError::internal(format!("log: {e}")))?;
    let covered = tile_at_size(id.kind, id.index, cp.size).is_some_and(|t| id.width <= t.width);
    if !covered {
        return Err(ApiError::not_found(format!("{path}: beyond the latest signed checkpoint (size {})", cp.size)));
    }
    let bytes = read_file(&dir.join(&path), TILE_BYTES_MAX)?;
    let mut r = ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response();
    if id.is_full() {
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    }
    Ok(r)
}
