//! The JSON API under `/api/v1/`.

use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::auth::{Caller, Role};
use super::{ApiError, AppState, Shared};
use crate::agreement_cmd::{check_action, check_decision, parse_instant, write_action, write_decision};
use crate::assess::Assessment;

/// Default page size of list endpoints.
pub const PAGE_DEFAULT: usize = 100;
/// Largest page size of list endpoints.
pub const PAGE_MAX: usize = 10_000;

pub type Params = Query<HashMap<String, String>>;

/// `?at=`: RFC 3339, or a date for the end of that day UTC.
pub fn at_param(q: &HashMap<String, String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    q.get("at").map(|s| parse_instant(s).map_err(|e| ApiError::bad_request(format!("at: {e}")))).transpose()
}

fn usize_param(q: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| ApiError::bad_request(format!("{name}: `{s}` is not a non-negative integer"))),
    }
}

/// `limit` (default [`PAGE_DEFAULT`], at most [`PAGE_MAX`]) and `offset`.
pub fn page(q: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    let limit = usize_param(q, "limit", PAGE_DEFAULT)?;
    if limit == 0 {
        return Err(ApiError::bad_request("limit: at least 1"));
    }
    Ok((limit.min(PAGE_MAX), usize_param(q, "offset", 0)?))
}

pub fn caller(st: &AppState, h: &HeaderMap) -> Result<Caller, ApiError> {
    st.tokens.caller(h)
}

fn confidence(s: &Assessment, i: usize) -> &'static str {
    s.standings[i].confidence().map_or("rejected", |c| c.as_str())
}

/// Whether incident `i` may be shown to the caller: the public sees only verified
/// incidents that do not rest on restricted sources alone.
pub fn visible(role: Role, s: &Assessment, i: usize) -> bool {
    role.sees_all() || (confidence(s, i) == "verified" && !s.incidents[i].restricted)
}

fn ms(t: i64) -> String {
    DateTime::from_timestamp_millis(t).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One incident as JSON, trimmed for the public (no member ids, no restricted source).
pub fn incident_json(st: &AppState, role: Role, s: &Assessment, i: usize) -> Value {
    let inc = &s.incidents[i];
    let restricted = &st.agreement.restricted_sources;
    let sources: Vec<&String> = inc.sources.iter().filter(|x| role.sees_all() || !restricted.iter().any(|r| r == *x || x.starts_with(&format!("{r}:")))).collect();
    let violations: Vec<Value> = s
        .violations
        .iter()
        .filter(|v| v.incident == i)
        .map(|v| json!({"rule": v.rule, "zones": v.zones, "severity": v.severity, "min_confidence": v.min_confidence}))
        .collect();
    let mut v = json!({
        "id": inc.id,
        "start": ms(inc.start_ms),
        "end": ms(inc.end_ms),
        "lon": inc.lon,
        "lat": inc.lat,
        "uncertainty_m": inc.uncertainty_m,
        "extent_km": inc.extent_km,
        "kinds": inc.kinds,
        "sources": sources,
        "war_fire": inc.war_fire,
        "weapon_classes": inc.weapon_classes,
        "confidence": confidence(s, i),
        "placement": s.placements[i],
        "where": s.wheres[i].text,
        "violations": violations,
    });
    if role.sees_all() {
        v["member_ids"] = json!(inc.member_ids);
        v["restricted"] = json!(inc.restricted);
        v["received"] = json!(ms(inc.received_ms));
    }
    v
}

fn head(st: &AppState, caller: &Caller, s: &Assessment) -> Value {
    json!({"agreement": st.agreement.id, "agreement_sha256": st.agreement.sha256, "at": s.at, "role": caller.role})
}

/// `GET /api/v1/whoami`.
pub async fn whoami(State(st): State<Shared>, h: HeaderMap) -> Result<Json<Value>, ApiError> {
    let c = caller(&st, &h)?;
    Ok(Json(json!({"role": c.role, "name": c.name, "party": c.party})))
}

/// `GET /api/v1/incidents?at=&violating=&limit=&offset=`.
pub async fn incidents(State(st): State<Shared>, h: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let c = caller(&st, &h)?;
    let at = at_param(&q)?;
    let (limit, offset) = page(&q)?;
    let violating = match q.get("violating").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(o) => return Err(ApiError::bad_request(format!("violating: `{o}` is not true or false"))),
    };
    let s = st.assessment(at).await?;
    let flagged: BTreeSet<usize> = s.violations.iter().map(|v| v.incident).collect();
    let idx: Vec<usize> = (0..s.incidents.len()).filter(|&i| visible(c.role, &s, i) && (!violating || flagged.contains(&i))).collect();
    let items: Vec<Value> = idx.iter().skip(offset).take(limit).map(|&i| incident_json(&st, c.role, &s, i)).collect();
    let mut v = head(&st, &c, &s);
    v["total"] = json!(idx.len());
    v["offset"] = json!(offset);
    v["limit"] = json!(limit);
    v["incidents"] = json!(items);
    Ok(Json(v))
}

/// `GET /api/v1/incidents/{id}?at=`.
pub async fn incident(State(st): State<Shared>, h: HeaderMap, UrlPath(id): UrlPath<String>, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let c = caller(&st, &h)?;
    let s = st.assessment(at_param(&q)?).await?;
    let i = s
        .incidents
        .iter()
        .position(|inc| truce_incidents::names(&id, inc))
        .filter(|&i| visible(c.role, &s, i))
        .ok_or_else(|| ApiError::not_found(format!("incident `{id}`: none at {}", s.at.format("%Y-%m-%d %H:%M UTC"))))?;
    let mut v = head(&st, &c, &s);
    v["incident"] = incident_json(&st, c.role, &s, i);
    Ok(Json(v))
}

/// An obligation as JSON; for the public, the incidents it rests on that are not public
/// are counted, not named.
pub fn obligation_json(role: Role, s: &Assessment, o: &truce_obligations::Obligation) -> Value {
    let mut v = json!(o);
    if !role.sees_all() {
        let public: BTreeSet<&str> = (0..s.incidents.len()).filter(|&i| visible(role, s, i)).map(|i| s.incidents[i].id.as_str()).collect();
        let kept: Vec<&(String, Vec<String>)> = o.because.incidents.iter().filter(|(id, _)| public.contains(id.as_str())).collect();
        v["because"]["not_public"] = json!(o.because.incidents.len() - kept.len());
        v["because"]["incidents"] = json!(kept);
    }
    v
}

/// `GET /api/v1/obligations?at=&party=`.
pub async fn obligations(State(st): State<Shared>, h: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let c = caller(&st, &h)?;
    let party = q.get("party");
    if let Some(p) = party {
        if st.agreement.party(p).is_none() {
            return Err(ApiError::bad_request(format!("party: `{p}` is not a party of the agreement")));
        }
    }
    let s = st.assessment(at_param(&q)?).await?;
    let obs: Vec<Value> = s.evaluation.obligations.iter().filter(|o| party.is_none_or(|p| &o.party == p)).map(|o| obligation_json(c.role, &s, o)).collect();
    let mut v = head(&st, &c, &s);
    v["obligations"] = json!(obs);
    Ok(Json(v))
}

pub(super) fn body<T: serde::de::DeserializeOwned>(b: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(b).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("body: {e}")))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionIn {
    incident: String,
    verdict: String,
    reason: String,
}

pub(super) fn require(c: &Caller, role: Role, what: &str) -> Result<(), ApiError> {
    if c.role == role {
        return Ok(());
    }
    if c.role == Role::Public {
        return Err(ApiError::unauthorized(format!("{what}: needs a token ({} role)", role.as_str())));
    }
    Err(ApiError::forbidden(format!("{what}: only the {} role may (this token is {})", role.as_str(), c.role.as_str())))
}

pub(super) fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

/// `POST /api/v1/decisions` (analyst): `{"incident", "verdict": "confirm"|"reject",
/// "reason"}`; checked and written as `truce decide` does, the log first.
pub async fn decide(State(st): State<Shared>, h: HeaderMap, b: Bytes) -> Result<Response, ApiError> {
    let c = caller(&st, &h)?;
    require(&c, Role::Analyst, "decisions")?;
    let d: DecisionIn = body(&b)?;
    let confirm = match d.verdict.as_str() {
        "confirm" => true,
        "reject" => false,
        o => return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("verdict: `{o}` is not confirm or reject"))),
    };
    let analyst = c.name.clone();
    let v = st
        .write(move |st, s| {
            let cd = check_decision(&st.agreement, s, &d.incident, confirm, &d.reason, &analyst)?;
            let r = write_decision(&st.data, &cd, st.key.as_deref())?;
            Ok(json!({"decision": cd.decision, "before": cd.before, "log_index": r.map(|r| r.start)}))
        })
        .await?;
    st.after_write().await;
    Ok(created(v))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionIn {
    obligation: String,
    note: String,
}

/// `POST /api/v1/actions` (guarantor, for its own party): `{"obligation", "note"}`;
/// checked and written as `truce act` does, the log first.
pub async fn act(State(st): State<Shared>, h: HeaderMap, b: Bytes) -> Result<Response, ApiError> {
    let c = caller(&st, &h)?;
    require(&c, Role::Guarantor, "actions")?;
    let a: ActionIn = body(&b)?;
    let party = c.party.clone().ok_or_else(|| ApiError::forbidden("actions: this token names no party"))?;
    let by = c.name.clone();
    let v = st
        .write(move |st, s| {
            let ca = check_action(&st.agreement, s, &a.obligation, &party, &a.note, &by)?;
            let r = write_action(&st.data, &ca, st.key.as_deref())?;
            Ok(json!({"action": ca.action, "late": ca.late, "deadline": ca.deadline, "log_index": r.map(|r| r.start)}))
        })
        .await?;
    st.after_write().await;
    Ok(created(v))
}

pub(super) fn log_dir(st: &AppState) -> Result<std::path::PathBuf, ApiError> {
    st.log_if_any().ok_or_else(|| ApiError::not_found("the data directory has no evidence log with a checkpoint"))
}

/// `GET /api/v1/log/checkpoint`: the latest signed checkpoint (C2SP signed note).
pub async fn checkpoint(State(st): State<Shared>, h: HeaderMap) -> Result<Response, ApiError> {
    caller(&st, &h)?;
    let p = log_dir(&st)?.join("checkpoint");
    let meta = std::fs::metadata(&p).map_err(|e| ApiError::internal(format!("checkpoint: {e}")))?;
    if meta.len() > truce_log::note::MAX_NOTE_BYTES as u64 {
        return Err(ApiError::internal("checkpoint: larger than MAX_NOTE_BYTES"));
    }
    let text = std::fs::read_to_string(&p).map_err(|e| ApiError::internal(format!("checkpoint: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// `GET /api/v1/log/proof?index=&size=`: an inclusion proof against the latest signed
/// checkpoint (or an earlier size), with that checkpoint; the entry's bytes too for
/// roles that see everything.
pub async fn proof(State(st): State<Shared>, h: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let c = caller(&st, &h)?;
    let dir = log_dir(&st)?;
    let index: u64 = q
        .get("index")
        .ok_or_else(|| ApiError::bad_request("index: required"))?
        .parse()
        .map_err(|_| ApiError::bad_request("index: not a non-negative integer"))?;
    let vkey = truce_log::Log::read_verifier_key(&dir).map_err(|e| ApiError::internal(format!("log: {e}")))?;
    let (tiles, cp) = truce_log::verify::TileDir::open_checkpoint(&dir, &vkey).map_err(|e| ApiError::internal(format!("log: {e}")))?;
    let size: u64 = match q.get("size") {
        None => cp.size,
        Some(s) => s.parse().map_err(|_| ApiError::bad_request("size: not a non-negative integer"))?,
    };
    if size > cp.size {
        return Err(ApiError::bad_request(format!("size: {size} is beyond the latest signed checkpoint ({})", cp.size)));
    }
    if index >= size {
        return Err(ApiError::bad_request(format!("index: {index} is not below size {size}")));
    }
    let p = tiles.inclusion_proof(index, size).map_err(|e| ApiError::internal(format!("log: {e}")))?;
    let note = if size == cp.size {
        std::fs::read_to_string(dir.join("checkpoint")).ok()
    } else {
        std::fs::read_to_string(dir.join("checkpoints").join(format!("{size:020}"))).ok()
    };
    let mut v = json!({"proof": p, "checkpoint": note});
    if c.role.sees_all() {
        let bytes = tiles.entry_bytes(index).map_err(|e| ApiError::internal(format!("log: {e}")))?;
        v["entry"] = json!(String::from_utf8_lossy(&bytes));
    }
    Ok(Json(v))
}

/// `GET /api/v1/events?types=`: server-sent events, one per alert (`event:` the alert's
/// type, `id:` its id, `data:` its JSON as this role sees it; see `alerts`), of the types
/// asked for (default all). The public hears only of what it may see. A subscriber that
/// falls more than `EVENTS_BUFFER` alerts behind is sent `lagged` with the number missed.
pub async fn events(State(st): State<Shared>, h: HeaderMap, Query(q): Params) -> Result<Response, ApiError> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let c = caller(&st, &h)?;
    let types = super::alerts::types_param(&q)?;
    let rx = st.events.subscribe();
    let stream = futures_util::stream::unfold(rx, move |mut rx| {
        let types = types.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(a) => {
                        let Some(p) = a.payload(c.role).filter(|_| types.contains(&a.kind)) else { continue };
                        let ev = Event::default().event(a.kind.as_str()).id(a.id.as_str()).json_data(p).unwrap_or_default();
                        return Some((Ok::<Event, std::convert::Infallible>(ev), rx));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        return Some((Ok(Event::default().event("lagged").data(n.to_string())), rx));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}
