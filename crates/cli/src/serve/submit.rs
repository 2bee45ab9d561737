//! Monitors' submissions: observation files (`POST /api/v1/observations`) and signed
//! patrol reports (`POST /api/v1/patrol-reports`).
//!
//! Both are read by the same readers as `truce ingest` and stored by the same function
//! ([`crate::commands::store_ingested`]): a GeoParquet file in `observations/`, coverage
//! gaps beside it, one `ingested_batch` entry in the evidence log (received at the
//! server's clock). A submission is named by the SHA-256 of its bytes, so sending the
//! same bytes again (a client retrying after a lost answer) stores nothing twice and
//! answers `200` with `"duplicate": true`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use truce_ingest::{Format, ReadOptions};
use truce_log::note::{Note, VerifierKey};

use super::api::{caller, created, require};
use super::auth::{Caller, Role};
use super::{ApiError, AppState, Shared};
use crate::commands::{gaps_path, store_ingested, Stored};

/// Largest observation file accepted in one upload.
pub const UPLOAD_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Longest upload name (`?name=`).
pub const UPLOAD_NAME_CHARS_MAX: usize = 100;
/// Largest signed patrol report: a signed note's limit.
pub const PATROL_NOTE_BYTES_MAX: usize = truce_log::note::MAX_NOTE_BYTES;
/// The header carrying a monitor's signature of an upload: the base64 of a signed note
/// whose text is [`upload_statement`].
pub const SIGNATURE_HEADER: &str = "x-truce-signature";
/// Longest [`SIGNATURE_HEADER`] accepted.
pub const SIGNATURE_HEADER_BYTES_MAX: usize = 4096;

/// What a monitor signs to vouch for an upload: the format, the file's name and the
/// SHA-256 of its bytes, one per line.
pub fn upload_statement(name: &str, sha256: &str) -> String {
    format!("truce-upload/1\n{name}\n{sha256}\n")
}

fn invalid(m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m)
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

impl AppState {
    /// Runs `f` under the work lock without an assessment first (a submission does not
    /// depend on the state it adds to).
    pub async fn write_only<T: Send + 'static>(self: &std::sync::Arc<Self>, f: impl FnOnce(&AppState) -> anyhow::Result<T> + Send + 'static) -> Result<T, ApiError> {
        let _g = self.work.lock().await;
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&me)).await.map_err(|e| ApiError::internal(format!("write: {e}")))?.map_err(ApiError::from)
    }

    /// The evidence log's directory, when the data directory has one.
    pub(super) fn log_if_any(&self) -> Option<PathBuf> {
        let d = self.data.join("log");
        d.join("checkpoint").is_file().then_some(d)
    }
}

/// The stem of a stored submission: `<prefix>-<first 16 hex of its SHA-256>`.
fn stored_path(data: &Path, prefix: &str, sha: &str) -> PathBuf {
    data.join("observations").join(format!("{prefix}-{}.parquet", &sha[..16]))
}

fn already(out: &Path) -> bool {
    out.exists() || gaps_path(out).exists()
}

fn stored_json(out: &Path, sha: &str, st: &Stored, duplicate: bool) -> Value {
    let f = st.files.first();
    json!({
        "file": out.file_name().map(|n| n.to_string_lossy().into_owned()),
        "sha256": sha,
        "duplicate": duplicate,
        "format": f.map(|f| f.format.as_str()),
        "rows_read": st.read,
        "rows_kept": st.kept,
        "rows_rejected": st.rejected,
        "rejected": f.map(|f| f.rejected.clone()),
        "messages": f.map(|f| f.messages.clone()),
        "gaps": st.gaps,
        "log_index": st.log_range.as_ref().map(|r| r.start),
    })
}

/// Reads `bytes` as `name` and stores the result at `out`; a reading error is the
/// client's (422), naming the file, line and field.
fn read_and_store(st: &AppState, name: &str, bytes: &[u8], opts: &ReadOptions, out: &Path, who: &str) -> anyhow::Result<Result<Stored, ApiError>> {
    let read = match truce_ingest::read_with_gaps(name, bytes, opts) {
        Ok(r) => r,
        Err(e) => return Ok(Err(invalid(e.to_string()))),
    };
    let key = st.key.as_deref();
    let log = st.log_if_any();
    let stored = store_ingested(vec![read.ingested], &read.gaps, out, log.as_deref(), key, who, st.now())?;
    Ok(Ok(stored))
}

/// `POST /api/v1/observations?name=&format=&strict=` (monitor): the body is one feed
/// file (FIRMS, UCDP GED or ACLED CSV, GeoJSON points, or a patrol report, detected
/// from its content unless `format` says) of at most [`UPLOAD_BYTES_MAX`] bytes.
pub async fn upload(State(st): State<Shared>, h: HeaderMap, Query(q): Query<HashMap<String, String>>, b: Bytes) -> Result<Response, ApiError> {
    let c = caller(&st, &h)?;
    require(&c, Role::Monitor, "observations")?;
    let name = q.get("name").ok_or_else(|| ApiError::bad_request("name: required (the file's name, e.g. fires-2026-03-01.csv)"))?.clone();
    if name.is_empty() || name.chars().count() > UPLOAD_NAME_CHARS_MAX || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) || name.starts_with('.') {
        return Err(ApiError::bad_request(format!("name: 1 to {UPLOAD_NAME_CHARS_MAX} of A-Z a-z 0-9 . _ -, not starting with a dot")));
    }
    if !(name.ends_with(".csv") || name.ends_with(".geojson") || name.ends_with(".json")) {
        return Err(ApiError::bad_request("name: must end in .csv, .geojson or .json"));
    }
    let format = match q.get("format") {
        None => None,
        Some(f) => Some(Format::ALL.iter().copied().find(|x| x.as_str() == f).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|x| x.as_str()).collect();
            ApiError::bad_request(format!("format: `{f}` is not one of {}", names.join(", ")))
        })?),
    };
    let strict = match q.get("strict").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(o) => return Err(ApiError::bad_request(format!("strict: `{o}` is not true or false"))),
    };
    if b.is_empty() {
        return Err(invalid("body: empty (send the file's bytes)"));
    }
    let sha = sha256_hex(&b);
    // A monitor with registered keys signs every upload; a signature from anyone else is
    // checked all the same (and refused: no key of theirs is registered).
    let signed = match h.get(SIGNATURE_HEADER) {
        None if c.keys.is_empty() => None,
        None => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "bad_signature",
                format!("{SIGNATURE_HEADER}: required, `{}` has registered keys and signs every upload (`truce patrol sign-upload`)", c.name),
            ))
        }
        Some(v) => {
            use base64::Engine as _;
            let v = v.as_bytes();
            if v.len() > SIGNATURE_HEADER_BYTES_MAX {
                return Err(ApiError::bad_request(format!("{SIGNATURE_HEADER}: over SIGNATURE_HEADER_BYTES_MAX ({SIGNATURE_HEADER_BYTES_MAX} bytes)")));
            }
            let note = base64::engine::general_purpose::STANDARD
                .decode(v)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::bad_request(format!("{SIGNATURE_HEADER}: not the base64 of a signed note")))?;
            let (key, text) = signed_by(&c, &note)?;
            if text != upload_statement(&name, &sha) {
                return Err(ApiError::new(StatusCode::FORBIDDEN, "bad_signature", format!("{SIGNATURE_HEADER}: signs another file or name, not `{name}` with SHA-256 {sha}")));
            }
            Some((format!("{}+{:08x}", key.name(), key.id()), note))
        }
    };
    let who = match &signed {
        Some((k, _)) => format!("{} (signed by {k})", c.name),
        None => c.name.clone(),
    };
    let (status, v) = st
        .write_only(move |st| {
            let out = stored_path(&st.data, "upload", &sha);
            if already(&out) {
                return Ok(Ok((StatusCode::OK, json!({"file": out.file_name().map(|n| n.to_string_lossy().into_owned()), "sha256": sha, "duplicate": true}))));
            }
            let opts = ReadOptions { strict, drop_duplicates: false, format };
            let note_path = match &signed {
                Some((_, note)) => Some(keep_note(st, &sha, note)?),
                None => None,
            };
            let r = read_and_store(st, &name, &b, &opts, &out, &who);
            if !matches!(r, Ok(Ok(_))) {
                if let Some(p) = &note_path {
                    let _ = std::fs::remove_file(p);
                }
            }
            Ok(r?.map(|s| {
                let mut v = stored_json(&out, &sha, &s, false);
                if let Some((k, _)) = &signed {
                    v["signed_by"] = json!(k);
                    v["note"] = json!(format!("submissions/{sha}.note"));
                }
                (StatusCode::CREATED, v)
            }))
        })
        .await??;
    if status == StatusCode::CREATED {
        st.after_write().await;
    }
    Ok((status, Json(v)).into_response())
}

/// Keeps a signed note as `submissions/<sha256>.note`, the evidence of who vouched for
/// the submission; written before the submission is stored.
fn keep_note(st: &AppState, sha: &str, note: &str) -> anyhow::Result<PathBuf> {
    let dir = st.data.join("submissions");
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let p = dir.join(format!("{sha}.note"));
    crate::files::write_atomic(&p, note.as_bytes())?;
    Ok(p)
}

/// Which registered key signed the note, verified; or why none did.
fn signed_by<'a>(c: &'a Caller, note: &str) -> Result<(&'a VerifierKey, String), ApiError> {
    let parsed = Note::parse(note).map_err(|e| invalid(format!("body: not a signed note (the report, a blank line, signature lines; see `truce patrol sign`): {e}")))?;
    if c.keys.is_empty() {
        return Err(ApiError::forbidden(format!("patrol-reports: no signing key is registered for `{}` (keys = [...] in the tokens file)", c.name)));
    }
    for k in &c.keys {
        if parsed.signatures.iter().any(|s| s.name == k.name() && s.key_id == k.id()) {
            let text = truce_log::note::open_note(note, k).map_err(|e| ApiError::new(StatusCode::FORBIDDEN, "bad_signature", format!("signature: {e}")))?;
            return Ok((k, text));
        }
    }
    let names: Vec<String> = parsed.signatures.iter().map(|s| format!("{}+{:08x}", s.name, s.key_id)).collect();
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "bad_signature",
        format!("signature: none by a key registered to `{}` (the note is signed by {})", c.name, if names.is_empty() { "nobody".into() } else { names.join(", ") }),
    ))
}

/// `POST /api/v1/patrol-reports` (monitor): the body is a signed note (`truce patrol
/// sign`) whose text is a `truce-patrol/1` report, signed by one of the keys registered
/// to the caller's token. Read strictly: a signed report is taken whole or not at all.
/// The note itself is kept in `submissions/` as the evidence of who signed what.
pub async fn patrol(State(st): State<Shared>, h: HeaderMap, b: Bytes) -> Result<Response, ApiError> {
    let c = caller(&st, &h)?;
    require(&c, Role::Monitor, "patrol-reports")?;
    if b.len() > PATROL_NOTE_BYTES_MAX {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("body: over PATROL_NOTE_BYTES_MAX ({PATROL_NOTE_BYTES_MAX} bytes)")));
    }
    let note = std::str::from_utf8(&b).map_err(|_| invalid("body: not UTF-8"))?.to_string();
    let (key, text) = signed_by(&c, &note)?;
    let signer = format!("{}+{:08x}", key.name(), key.id());
    let sha = sha256_hex(text.as_bytes());
    let who = format!("{} (signed by {signer})", c.name);
    let (status, v) = st
        .write_only(move |st| {
            let out = stored_path(&st.data, "patrol", &sha);
            if already(&out) {
                return Ok(Ok((StatusCode::OK, json!({"file": out.file_name().map(|n| n.to_string_lossy().into_owned()), "sha256": sha, "duplicate": true, "signed_by": signer}))));
            }
            let name = format!("patrol-{}.json", &sha[..16]);
            let opts = ReadOptions { strict: true, drop_duplicates: false, format: Some(Format::Patrol) };
            let read = match truce_ingest::read_with_gaps(&name, text.as_bytes(), &opts) {
                Ok(r) => r,
                Err(e) => return Ok(Err(invalid(e.to_string()))),
            };
            if read.ingested.summary.rows_kept == 0 && read.gaps.is_empty() {
                return Ok(Err(invalid(format!("{name}: no event, weapon sighting or restriction of movement to record"))));
            }
            // The signed note first: an observation file never lacks its evidence.
            let note_path = keep_note(st, &sha, &note)?;
            let log = st.log_if_any();
            let stored = match store_ingested(vec![read.ingested], &read.gaps, &out, log.as_deref(), st.key.as_deref(), &who, st.now()) {
                Ok(s) => s,
                Err(e) => {
                    let _ = std::fs::remove_file(&note_path);
                    return Err(e);
                }
            };
            let mut v = stored_json(&out, &sha, &stored, false);
            v["signed_by"] = json!(signer);
            v["note"] = json!(format!("submissions/{sha}.note"));
            Ok(Ok((StatusCode::CREATED, v)))
        })
        .await??;
    if status == StatusCode::CREATED {
        st.after_write().await;
        return Ok(created(v));
    }
    Ok((status, Json(v)).into_response())
}
