//! The server, driven through `tower::ServiceExt::oneshot` (no network): the OpenAPI
//! document against the router, every endpoint for every role, the OGC request sequence
//! of a client like QGIS, the error shape and the body limit, and decisions and actions
//! landing in the data directory and the evidence log.
//!
//! The data directory is the one of `tests/obligations_cli.rs`: a strike in Kyiv seen by
//! a GeoJSON report and a patrol's camera, fused into one corroborated incident.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use clap::Parser;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::auth::Tokens;
use super::{openapi, router, routes, AppState, Shared, BODY_BYTES_MAX};
use crate::assess::{load_agreement, load_geometry};

const STRIKE_GEOJSON: &str = include_str!("../../tests/fixtures/kyiv-strike.geojson");

const PATROL: &str = include_str!("../../tests/fixtures/kyiv-patrol.json");

pub(super) const MONITOR: &str = "monitor-token-0123456789abcdef";
pub(super) const ANALYST: &str = "analyst-token-0123456789abcdef";
pub(super) const GB: &str = "guarantor-gb-token-0123456789abcdef";
pub(super) const FR: &str = "guarantor-fr-token-0123456789abcdef";

const TOKENS: &str = r#"
[[token]]
token = "monitor-token-0123456789abcdef"
role = "monitor"
name = "mon-1"

[[token]]
token = "analyst-token-0123456789abcdef"
role = "analyst"
name = "an-7"

[[token]]
token = "guarantor-gb-token-0123456789abcdef"
role = "guarantor"
name = "liaison-gb"
party = "GB"

[[token]]
token = "guarantor-fr-token-0123456789abcdef"
role = "guarantor"
name = "liaison-fr"
party = "FR"
"#;

pub(super) fn agreement_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ukraine-2025.toml")
}

pub(super) fn truce(args: &[&str]) {
    let cli = crate::Cli::try_parse_from(std::iter::once("truce").chain(args.iter().copied())).expect("arguments");
    crate::dispatch(cli).unwrap_or_else(|e| panic!("truce {args:?}: {e:#}"));
}

/// A data directory with an evidence log and the two reports of the strike.
pub(super) fn data_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let s = |p: &str| d.join(p).display().to_string();
    std::fs::write(d.join("strike.geojson"), STRIKE_GEOJSON).unwrap();
    std::fs::write(d.join("patrol.json"), PATROL).unwrap();
    std::fs::create_dir_all(d.join("data")).unwrap();
    truce(&["keys", "new", "--name", "truce.example/test", "--out", &s("k.key")]);
    truce(&["log", "init", "--dir", &s("data/log"), "--key", &s("k.key")]);
    truce(&["ingest", &s("strike.geojson"), "--out", &s("data/observations/media.parquet"), "--log", &s("data/log")]);
    truce(&["ingest", &s("patrol.json"), "--out", &s("data/observations/patrol.parquet"), "--log", &s("data/log"), "--key", &s("k.key")]);
    tmp
}

/// The server over a data directory; `restricted` marks both sources restricted.
pub(super) fn state(tmp: &Path, restricted: bool) -> Shared {
    let p = agreement_path();
    let mut agreement = load_agreement(&p).unwrap();
    if restricted {
        let text = std::fs::read_to_string(&p).unwrap() + "\n[publication]\nrestricted_sources = [\"geojson\", \"patrol\"]\n";
        agreement = truce_agreement::Agreement::parse(&p.display().to_string(), &text).unwrap();
    }
    let geometry = load_geometry(&agreement).unwrap();
    let tokens = Tokens::parse("tokens.toml", TOKENS, &agreement).unwrap();
    Arc::new(AppState::new(agreement, geometry, tmp.join("data"), tokens, Some(tmp.join("k.key")), Some("http://truce.test".into())))
}

pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) content_type: String,
    pub(super) text: String,
    /// The body's length in bytes (`text` is lossy for binary bodies).
    len: usize,
}

impl Reply {
    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

pub(super) async fn call(st: &Shared, method: Method, uri: &str, token: Option<&str>, body: Option<String>) -> Reply {
    call_with(st, method, uri, token, body, &[]).await
}

async fn call_with(st: &Shared, method: Method, uri: &str, token: Option<&str>, body: Option<String>, headers: &[(&str, &str)]) -> Reply {
    let mut b = Request::builder().method(method).uri(uri).header(header::HOST, "truce.test");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(s) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(s)).unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    let r = router(st.clone()).oneshot(req).await.unwrap();
    let status = r.status();
    let content_type = r.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    Reply { status, content_type, text: String::from_utf8_lossy(&bytes).to_string(), len: bytes.len() }
}

pub(super) async fn get(st: &Shared, uri: &str, token: Option<&str>) -> Reply {
    call(st, Method::GET, uri, token, None).await
}

#[track_caller]
pub(super) fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(r.content_type.starts_with("application/json"), "{}", r.content_type);
    let v = r.json();
    assert_eq!(v["error"]["code"], code, "{}", r.text);
    assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text);
}

#[test]
fn openapi_describes_exactly_the_routes_served() {
    let doc = openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    let described = openapi::operations(&doc);
    let mut served: Vec<(String, String)> = routes().list.iter().map(|(m, p)| (m.as_str().to_string(), p.replace("{*", "{"))).collect();
    served.sort();
    assert_eq!(served, described);
    // Every $ref resolves.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(doc["components"]["schemas"].get(name).is_some(), "dangling $ref {name}");
    }
}

#[test]
fn tokens_file_is_checked() {
    let a = load_agreement(&agreement_path()).unwrap();
    let t = Tokens::parse("t.toml", TOKENS, &a).unwrap();
    assert_eq!(t.len(), 4);
    let bad = |text: &str, want: &str| {
        let e = Tokens::parse("t.toml", text, &a).err().expect("refused").to_string();
        assert!(e.contains(want), "{e}");
    };
    bad("[[token]]\ntoken = \"short\"\nrole = \"analyst\"\nname = \"a\"\n", "TOKEN_CHARS_MIN");
    bad("[[token]]\ntoken = \"0123456789abcdef0123456789\"\nrole = \"admin\"\nname = \"a\"\n", "role: `admin`");
    bad("[[token]]\ntoken = \"0123456789abcdef0123456789\"\nrole = \"guarantor\"\nname = \"a\"\n", "names its party");
    bad("[[token]]\ntoken = \"0123456789abcdef0123456789\"\nrole = \"guarantor\"\nname = \"a\"\nparty = \"XX\"\n", "`XX` is not a party");
    bad("[[token]]\ntoken = \"0123456789abcdef0123456789\"\nrole = \"analyst\"\nname = \"a\"\nparty = \"GB\"\n", "only a guarantor");
    bad("[[token]]\ntoken = \"0123456789abcdef0123456789\"\nrole = \"analyst\"\nname = \"a\"\nextra = 1\n", "extra");
}

#[test]
fn ogc_parameters() {
    use super::ogc::{parse_bbox, parse_datetime};
    assert_eq!(parse_bbox("30,50,31,51").unwrap(), [30.0, 50.0, 31.0, 51.0]);
    assert_eq!(parse_bbox("30,50,0,31,51,100").unwrap(), [30.0, 50.0, 31.0, 51.0]);
    assert!(parse_bbox("30,50,31").is_err());
    assert!(parse_bbox("30,52,31,51").is_err());
    assert!(parse_bbox("a,b,c,d").is_err());
    let day = parse_datetime("2026-04-14").unwrap();
    assert_eq!(day.1.unwrap() - day.0.unwrap(), 86_400_000 - 1);
    assert_eq!(parse_datetime("2026-04-14T03:00:00Z/..").unwrap().1, None);
    assert_eq!(parse_datetime("/2026-04-14T03:00:00Z").unwrap().0, None);
    assert!(parse_datetime("../..").is_err());
    assert!(parse_datetime("2026-04-15/2026-04-14").is_err());
    assert!(parse_datetime("yesterday").is_err());
}

/// Every endpoint for every role, then the round trips, the OGC sequence and the public
/// view before and after confirmation. One test, because the steps build on each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_ogc_and_round_trips() {
    let tmp = data_dir();
    let st = state(tmp.path(), false);

    // --- Every endpoint for every role. POSTs name nothing that exists, so that the
    // authorised role gets 404 (checked after the role) and nothing is written.
    let roles: [(&str, Option<&str>); 6] =
        [("public", None), ("monitor", Some(MONITOR)), ("analyst", Some(ANALYST)), ("guarantor GB", Some(GB)), ("guarantor FR", Some(FR)), ("bad token", Some("not-a-token-0123456789abcdef"))];
    let list = get(&st, "/api/v1/incidents", Some(ANALYST)).await.json();
    let inc_id = list["incidents"][0]["id"].as_str().expect("an incident").to_string();
    let zone = super::ogc::enc(&st.agreement.zones[0].name);
    let log_now = log_size(&st).await;
    for (name, token) in roles {
        let bad = token == Some("not-a-token-0123456789abcdef");
        for (method, path) in routes().list {
            let uri = path
                .replace("/api/v1/reports/{id}/{file}", "/api/v1/reports/none/report.html")
                .replace("{id}", &inc_id)
                .replace("{collection}", "zones")
                .replace("{feature}", &zone)
                .replace("{*path}", &format!("0/000.p/{log_now}"))
                .replace("/api/v1/log/proof", "/api/v1/log/proof?index=0")
                .replace("/api/v1/observations", "/api/v1/observations?name=walk.geojson");
            // Bodies the authorised role is refused for (422) after its role is checked.
            let body = match path {
                "/api/v1/decisions" => Some(json!({"incident": "I-none", "verdict": "confirm", "reason": "x"}).to_string()),
                "/api/v1/actions" => Some(json!({"obligation": "none/GB/x", "note": "x"}).to_string()),
                "/api/v1/observations" => Some(String::new()),
                "/api/v1/patrol-reports" => Some("not a signed note\n".into()),
                _ => None,
            };
            if path == "/api/v1/events" {
                let (status, _) = open_stream(&st, &uri, token).await;
                assert_eq!(status, if bad { StatusCode::UNAUTHORIZED } else { StatusCode::OK }, "{name} {uri}");
                continue;
            }
            let r = call(&st, method.clone(), &uri, token, body).await;
            let want = if bad && path != "/api/v1/openapi.json" {
                StatusCode::UNAUTHORIZED
            } else {
                match (path, name) {
                    ("/api/v1/incidents/{id}", "public") => StatusCode::NOT_FOUND, // corroborated only: not public
                    ("/api/v1/decisions", "analyst") => StatusCode::NOT_FOUND,
                    ("/api/v1/decisions", "public") => StatusCode::UNAUTHORIZED,
                    ("/api/v1/decisions", _) => StatusCode::FORBIDDEN,
                    ("/api/v1/actions", "guarantor GB" | "guarantor FR") => StatusCode::NOT_FOUND,
                    ("/api/v1/actions", "public") => StatusCode::UNAUTHORIZED,
                    ("/api/v1/actions", _) => StatusCode::FORBIDDEN,
                    ("/api/v1/observations" | "/api/v1/patrol-reports", "monitor") => StatusCode::UNPROCESSABLE_ENTITY,
                    ("/api/v1/observations" | "/api/v1/patrol-reports", "public") => StatusCode::UNAUTHORIZED,
                    ("/api/v1/observations" | "/api/v1/patrol-reports", _) => StatusCode::FORBIDDEN,
                    ("/api/v1/reports/{id}/{file}", _) => StatusCode::NOT_FOUND,
                    _ => StatusCode::OK,
                }
            };
            assert_eq!(r.status, want, "{name} {method} {uri}: {}", r.text);
            if !r.status.is_success() {
                assert!(r.json()["error"]["code"].is_string(), "{name} {method} {uri}: {}", r.text);
            }
        }
    }
    assert!(!tmp.path().join("data/decisions.jsonl").exists());
    assert!(!tmp.path().join("data/actions.jsonl").exists());
    assert_eq!(log_size(&st).await, log_now, "the walk wrote nothing");

    // --- What each role sees: the incident is corroborated, so the public sees none.
    let public = get(&st, "/api/v1/incidents", None).await.json();
    assert_eq!(public["role"], "public");
    assert_eq!(public["total"], 0, "{public}");
    let inc = &list["incidents"][0];
    assert_eq!(inc["confidence"], "corroborated");
    assert!(inc["violations"].as_array().unwrap().iter().any(|v| v["rule"] == "strike-beyond-line"), "{inc}");
    assert_eq!(inc["member_ids"].as_array().unwrap().len(), 2);
    let who = get(&st, "/api/v1/whoami", Some(GB)).await.json();
    assert_eq!(who, json!({"role": "guarantor", "name": "liaison-gb", "party": "GB"}));
    let obs = get(&st, "/api/v1/obligations", None).await.json();
    let first = &obs["obligations"][0];
    assert_eq!(first["because"]["incidents"].as_array().unwrap().len(), 0, "{first}");
    assert!(first["because"]["not_public"].as_u64().unwrap() >= 1, "{first}");
    let obs = get(&st, "/api/v1/obligations", Some(MONITOR)).await.json();
    assert!(obs["obligations"][0]["because"]["incidents"][0][0] == inc_id.as_str(), "{obs}");
    assert_eq!(obs["obligations"].as_array().unwrap().len(), 11);

    // --- Errors: one shape, proper statuses.
    assert_error(&get(&st, "/nowhere", None).await, StatusCode::NOT_FOUND, "no_route");
    assert_error(&get(&st, "/api/v1/incidents?at=yesterday", None).await, StatusCode::BAD_REQUEST, "bad_request");
    assert_error(&get(&st, "/api/v1/incidents?limit=0", None).await, StatusCode::BAD_REQUEST, "bad_request");
    assert_error(&get(&st, "/api/v1/obligations?party=XX", None).await, StatusCode::BAD_REQUEST, "bad_request");
    assert_error(&call(&st, Method::DELETE, "/api/v1/incidents", None, None).await, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let r = call(&st, Method::POST, "/api/v1/decisions", Some(ANALYST), Some("x".repeat(BODY_BYTES_MAX + 1))).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let r = call(&st, Method::POST, "/api/v1/decisions", Some(ANALYST), Some("{not json".into())).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let r = call(&st, Method::POST, "/api/v1/decisions", Some(ANALYST), Some(json!({"incident": inc_id, "verdict": "maybe", "reason": "x"}).to_string())).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let r = call(&st, Method::POST, "/api/v1/decisions", Some(ANALYST), Some(json!({"incident": inc_id, "verdict": "confirm", "reason": " "}).to_string())).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let r = call(&st, Method::GET, "/api/v1/incidents", Some("x"), None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_error(&get(&st, "/api/v1/log/proof?index=99", None).await, StatusCode::BAD_REQUEST, "bad_request");
    assert_error(&get(&st, "/api/v1/log/proof", None).await, StatusCode::BAD_REQUEST, "bad_request");
    assert!(!tmp.path().join("data/decisions.jsonl").exists());

    // Event streams opened before the decision.
    let (_, mut public_events) = open_stream(&st, "/api/v1/events", None).await;
    let (_, mut analyst_events) = open_stream(&st, "/api/v1/events", Some(ANALYST)).await;

    // --- An analyst confirms: the log first, then decisions.jsonl; a new checkpoint.
    let size_before = log_size(&st).await;
    let r = call(&st, Method::POST, "/api/v1/decisions", Some(ANALYST), Some(json!({"incident": inc_id, "verdict": "confirm", "reason": "video geolocated"}).to_string())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = r.json();
    assert_eq!(v["before"], "corroborated");
    assert_eq!(v["decision"]["analyst"], "an-7");
    assert_eq!(v["log_index"], size_before);
    let lines = std::fs::read_to_string(tmp.path().join("data/decisions.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 1);
    assert!(lines.contains("video geolocated"));
    assert_eq!(log_size(&st).await, size_before + 1);
    let p = get(&st, &format!("/api/v1/log/proof?index={size_before}"), Some(ANALYST)).await.json();
    assert!(p["entry"].as_str().unwrap().contains("video geolocated"), "{p}");
    assert_eq!(p["proof"]["size"], size_before + 1);
    let p = get(&st, &format!("/api/v1/log/proof?index={size_before}"), None).await.json();
    assert!(p.get("entry").is_none(), "the public gets the proof, not the entry: {p}");

    // Verified now: the public sees it (the next read reassesses: the data changed).
    let public = get(&st, "/api/v1/incidents", None).await.json();
    assert_eq!(public["total"], 1, "{public}");
    let pi = &public["incidents"][0];
    assert_eq!(pi["confidence"], "verified");
    assert!(pi.get("member_ids").is_none() && pi.get("restricted").is_none(), "{pi}");
    assert_eq!(get(&st, &format!("/api/v1/incidents/{inc_id}"), None).await.status, StatusCode::OK);

    // Both streams hear of it: the incident is public now.
    let seen = next_alert(&mut analyst_events, "incident.verified").await;
    assert_eq!((seen["incident"]["id"].as_str(), seen["before"].as_str()), (Some(inc_id.as_str()), Some("corroborated")), "{seen}");
    let seen = next_alert(&mut public_events, "incident.verified").await;
    assert_eq!(seen["incident"]["confidence"], "verified", "{seen}");
    let seen = next_alert(&mut analyst_events, "obligation.triggered").await;
    assert_eq!(seen["obligation"]["status"], "pending", "{seen}");

    // --- A guarantor acts, only on its own party's obligation.
    let obs = get(&st, "/api/v1/obligations?party=GB", Some(GB)).await.json();
    let consult = obs["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"].as_str().unwrap().starts_with("armed-attack-consultations/GB/"))
        .expect("GB's consultation duty")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let act = |tok| call(&st, Method::POST, "/api/v1/actions", Some(tok), Some(json!({"obligation": consult, "note": "NSC convened"}).to_string()));
    assert_error(&act(FR).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&act(ANALYST).await, StatusCode::FORBIDDEN, "forbidden");
    let r = act(GB).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["action"]["by"], "liaison-gb");
    assert_error(&act(GB).await, StatusCode::CONFLICT, "conflict");
    let lines = std::fs::read_to_string(tmp.path().join("data/actions.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 1);
    assert_eq!(log_size(&st).await, size_before + 2);
    let obs = get(&st, "/api/v1/obligations?party=GB", None).await.json();
    let o = obs["obligations"].as_array().unwrap().iter().find(|o| o["id"] == consult.as_str()).unwrap();
    assert_eq!(o["status"], "fulfilled");
    // And the CLI reads what the server wrote.
    let a = agreement_path().display().to_string();
    let data = tmp.path().join("data").display().to_string();
    truce(&["log", "fsck", "--dir", &format!("{data}/log")]);
    truce(&["obligations", "--agreement", &a, "--data", &data, "--party", "GB"]);

    // --- The OGC sequence of a client like QGIS: landing page, conformance,
    // collections, then items with bbox and limit, following `next` links.
    let landing = get(&st, "/ogc", None).await;
    assert_eq!(landing.status, StatusCode::OK);
    let links = landing.json()["links"].as_array().unwrap().clone();
    let href = |rel: &str| links.iter().find(|l| l["rel"] == rel).unwrap_or_else(|| panic!("no {rel} link"))["href"].as_str().unwrap().to_string();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(href(rel).starts_with("http://truce.test/"), "{rel}");
    }
    let local = |u: String| u.strip_prefix("http://truce.test").unwrap().to_string();
    let conf = get(&st, &local(href("conformance")), None).await.json();
    let classes: Vec<&str> = conf["conformsTo"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"));
    assert_eq!(get(&st, &local(href("service-desc")), None).await.json()["openapi"], "3.1.0");
    let cols = get(&st, &local(href("data")), None).await.json();
    let ids: Vec<&str> = cols["collections"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["incidents", "zones", "contact-line", "regions", "war-fires"]);
    for c in cols["collections"].as_array().unwrap() {
        assert_eq!(c["extent"]["spatial"]["bbox"][0].as_array().unwrap().len(), 4);
        let items = c["links"].as_array().unwrap().iter().find(|l| l["rel"] == "items").unwrap();
        assert_eq!(items["type"], "application/geo+json");
        let one = get(&st, &local(c["links"][0]["href"].as_str().unwrap().to_string()), None).await;
        assert_eq!(one.json()["id"], c["id"]);
    }
    // Incidents: QGIS asks with a bbox around what it shows.
    let r = get(&st, "/ogc/collections/incidents/items?bbox=29,49,32,52&limit=10", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/geo+json");
    let fc = r.json();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!((fc["numberMatched"].as_u64(), fc["numberReturned"].as_u64()), (Some(1), Some(1)));
    let f = &fc["features"][0];
    assert_eq!(f["geometry"]["type"], "Point");
    assert_eq!(f["id"], inc_id.as_str());
    assert_eq!(f["properties"]["confidence"], "verified");
    let none = get(&st, "/ogc/collections/incidents/items?bbox=36,46,38,48", None).await.json();
    assert_eq!(none["numberMatched"], 0);
    let by_day = get(&st, "/ogc/collections/incidents/items?datetime=2026-04-14", None).await.json();
    assert_eq!(by_day["numberMatched"], 1);
    let other_day = get(&st, "/ogc/collections/incidents/items?datetime=2026-04-15T00:00:00Z/..", None).await.json();
    assert_eq!(other_day["numberMatched"], 0);
    let fid = super::ogc::enc(&inc_id);
    let one = get(&st, &format!("/ogc/collections/incidents/items/{fid}"), None).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.json()["id"], inc_id.as_str());
    // The contact line by date, paged one feature at a time through `next` links.
    let all = get(&st, "/ogc/collections/contact-line/items", None).await.json();
    let n = all["numberMatched"].as_u64().unwrap();
    assert!(n >= 1, "{all}");
    let mut uri = "/ogc/collections/contact-line/items?limit=1".to_string();
    let mut seen = Vec::new();
    loop {
        let page = get(&st, &uri, None).await.json();
        assert_eq!(page["numberReturned"], 1, "{uri}");
        let f = &page["features"][0];
        assert_eq!(f["geometry"]["type"], "MultiLineString");
        seen.push(f["id"].as_str().unwrap().to_string());
        match page["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next") {
            Some(l) => uri = local(l["href"].as_str().unwrap().to_string()),
            None => break,
        }
        assert!(seen.len() as u64 <= n, "next links loop");
    }
    assert_eq!(seen.len() as u64, n);
    let from = all["features"][1]["properties"]["valid_from"].as_str().unwrap().to_string();
    let at_from = get(&st, &format!("/ogc/collections/contact-line/items?datetime={from}"), None).await.json();
    assert_eq!(at_from["numberMatched"], 1, "one line in force at an instant");
    assert_eq!(at_from["features"][0]["id"], all["features"][1]["id"]);
    assert!(!at_from["features"][0]["properties"]["snapshot"].as_str().unwrap().contains('/'), "no server path");
    let zones = get(&st, "/ogc/collections/zones/items", None).await.json();
    assert!(zones["numberMatched"].as_u64().unwrap() >= 1);
    assert_error(&get(&st, "/ogc/collections/nothing/items", None).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&get(&st, "/ogc/collections/zones/items?bbox=1,2", None).await, StatusCode::BAD_REQUEST, "bad_request");

    // --- Restricted sources never reach the public, verified or not.
    let rst = state(tmp.path(), true);
    assert_eq!(get(&rst, "/api/v1/incidents", None).await.json()["total"], 0);
    assert_eq!(get(&rst, "/ogc/collections/incidents/items", None).await.json()["numberMatched"], 0);
    assert_eq!(get(&rst, &format!("/api/v1/incidents/{inc_id}"), None).await.status, StatusCode::NOT_FOUND);
    let seen = get(&rst, "/api/v1/incidents", Some(MONITOR)).await.json();
    assert_eq!(seen["incidents"][0]["restricted"], true, "{seen}");
}

async fn log_size(st: &Shared) -> u64 {
    let cp = get(st, "/api/v1/log/checkpoint", None).await;
    assert_eq!(cp.status, StatusCode::OK, "{}", cp.text);
    assert!(cp.content_type.starts_with("text/plain"));
    cp.text.lines().nth(1).unwrap().parse().unwrap()
}

/// Opens a response whose body is a stream (server-sent events).
pub(super) async fn open_stream(st: &Shared, uri: &str, token: Option<&str>) -> (StatusCode, Body) {
    let mut b = Request::builder().uri(uri).header(header::HOST, "truce.test");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let r = router(st.clone()).oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
    (r.status(), r.into_body())
}

/// The next event of a type (`incident.verified`, ...) from an event stream, as JSON
/// (waiting at most 10 s).
pub(super) async fn next_alert(body: &mut Body, kind: &str) -> Value {
    next_events(body, kind, 1).await.remove(0)
}

/// Reads an event stream until `n` events of type `kind` have come (waiting at most
/// 10 s); returns every event read, as (type, JSON), in order, up to the `n`th.
pub(super) async fn read_events(body: &mut Body, kind: &str, n: usize) -> Vec<(String, Value)> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut text = String::new();
    loop {
        let mut seen = Vec::new();
        let complete = text.rfind("\n\n").map_or("", |e| &text[..e]);
        for block in complete.split("\n\n") {
            let ev = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("message");
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                let Ok(v) = serde_json::from_str::<Value>(data) else { continue };
                seen.push((ev.to_string(), v));
                if seen.iter().filter(|(k, _)| k == kind).count() == n {
                    return seen;
                }
            }
        }
        let frame = tokio::time::timeout_at(deadline, body.frame()).await.unwrap_or_else(|_| panic!("not {n} {kind} events in 10 s: {text}"));
        let frame = frame.expect("stream open").unwrap();
        if let Ok(d) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&d));
        }
    }
}

/// The first `n` events of type `kind` from an event stream.
pub(super) async fn next_events(body: &mut Body, kind: &str, n: usize) -> Vec<Value> {
    read_events(body, kind, n).await.into_iter().filter(|(k, _)| k == kind).map(|(_, v)| v).collect()
}

/// Monitors' submissions and what the server publishes: an observation upload (stored,
/// logged, retried without a second copy, refused with file, line and field when bad);
/// signed patrol reports (a registered key accepted, an unregistered or tampered one
/// refused, nothing written); log tiles within the signed checkpoint; pledges; reports
/// by edition and role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_and_publications() {
    let tmp = data_dir();
    let d = tmp.path();
    let s = |p: &str| d.join(p).display().to_string();
    truce(&["keys", "new", "--name", "mon-1", "--out", &s("mon.key")]);
    truce(&["keys", "new", "--name", "intruder", "--out", &s("other.key")]);
    let vkey = std::fs::read_to_string(d.join("mon.key.pub")).unwrap();
    let tokens = TOKENS.replace("name = \"mon-1\"\n", &format!("name = \"mon-1\"\nkeys = [\"{}\"]\n", vkey.trim()));
    let mut st = state(d, false);
    Arc::get_mut(&mut st).unwrap().tokens = Tokens::parse("tokens.toml", &tokens, &st.agreement).unwrap();
    let log0 = log_size(&st).await;

    // --- An observation upload: signed (the monitor has a registered key), stored,
    // logged once, received by the server's clock.
    let strike2 = STRIKE_GEOJSON.replace("2026-04-14T03:12:00Z", "2026-04-15T21:40:00Z").replace("30.5234, 50.4501", "30.6111, 50.4012");
    let sign = |key: &str, name: &str, body: &str| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let sha = hex::encode(sha2::Sha256::digest(body.as_bytes()));
        let note = truce_log::keys::load_signer(&d.join(key)).unwrap().sign_note(&super::submit::upload_statement(name, &sha)).unwrap();
        base64::engine::general_purpose::STANDARD.encode(note)
    };
    let upload = "/api/v1/observations?name=second-strike.geojson";
    let h = super::submit::SIGNATURE_HEADER;
    assert_error(&call(&st, Method::POST, upload, Some(MONITOR), Some(strike2.clone())).await, StatusCode::FORBIDDEN, "bad_signature");
    for bad in [sign("other.key", "second-strike.geojson", &strike2), sign("mon.key", "renamed.geojson", &strike2), sign("mon.key", "second-strike.geojson", STRIKE_GEOJSON)] {
        let r = call_with(&st, Method::POST, upload, Some(MONITOR), Some(strike2.clone()), &[(h, &bad)]).await;
        assert_error(&r, StatusCode::FORBIDDEN, "bad_signature");
    }
    assert_error(&call_with(&st, Method::POST, upload, Some(MONITOR), Some(strike2.clone()), &[(h, "%%%")]).await, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(log_size(&st).await, log0, "refused uploads write nothing");
    assert!(!d.join("data/submissions").exists());
    let sig = sign("mon.key", "second-strike.geojson", &strike2);
    let r = call_with(&st, Method::POST, upload, Some(MONITOR), Some(strike2.clone()), &[(h, &sig)]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = r.json();
    assert!(v["signed_by"].as_str().unwrap().starts_with("mon-1+"), "{v}");
    assert!(d.join("data").join(v["note"].as_str().unwrap()).is_file());
    assert_eq!((v["rows_kept"].as_u64(), v["duplicate"].as_bool(), v["log_index"].as_u64()), (Some(1), Some(false), Some(log0)), "{v}");
    let file = v["file"].as_str().unwrap();
    assert!(d.join("data/observations").join(file).is_file());
    let entry = get(&st, &format!("/api/v1/log/proof?index={log0}"), Some(ANALYST)).await.json();
    assert!(entry["entry"].as_str().unwrap().contains("second-strike.geojson") && entry["entry"].as_str().unwrap().contains("mon-1"), "{entry}");
    let incidents = get(&st, "/api/v1/incidents", Some(ANALYST)).await.json();
    assert_eq!(incidents["total"], 2, "the upload is a second incident: {incidents}");
    // The same bytes again (a retry): nothing written twice.
    let r = call_with(&st, Method::POST, upload, Some(MONITOR), Some(strike2), &[(h, &sig)]).await;
    assert_eq!((r.status, r.json()["duplicate"].as_bool()), (StatusCode::OK, Some(true)), "{}", r.text);
    assert_eq!(log_size(&st).await, log0 + 1);
    // A bad file: strict refuses it naming the file, the feature and the field.
    let bad = STRIKE_GEOJSON.replace("2026-04-14T03:12:00Z", "the fourteenth");
    let bad_sig = sign("mon.key", "bad.geojson", &bad);
    let r = call_with(&st, Method::POST, "/api/v1/observations?name=bad.geojson&strict=true", Some(MONITOR), Some(bad), &[(h, &bad_sig)]).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("bad.geojson"), "{}", r.text);
    assert_eq!(std::fs::read_dir(d.join("data/submissions")).unwrap().count(), 1, "the refused file's note is not kept");
    assert_error(&call(&st, Method::POST, "/api/v1/observations", Some(MONITOR), Some("x".into())).await, StatusCode::BAD_REQUEST, "bad_request");
    assert_error(&call(&st, Method::POST, "/api/v1/observations?name=../x.csv", Some(MONITOR), Some("x".into())).await, StatusCode::BAD_REQUEST, "bad_request");
    assert_error(&call(&st, Method::POST, "/api/v1/observations?name=a.csv&format=nope", Some(MONITOR), Some("x".into())).await, StatusCode::BAD_REQUEST, "bad_request");
    let r = call(&st, Method::POST, "/api/v1/observations?name=big.csv", Some(ANALYST), Some("x".repeat(super::submit::UPLOAD_BYTES_MAX + 1))).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    assert_eq!(log_size(&st).await, log0 + 1, "refused uploads write nothing");

    // --- Signed patrol reports.
    let report = PATROL.replace("2026-04-14", "2026-04-16");
    std::fs::write(d.join("p2.json"), &report).unwrap();
    truce(&["patrol", "sign", &s("p2.json"), "--key", &s("mon.key"), "--out", &s("p2.note")]);
    truce(&["patrol", "sign", &s("p2.json"), "--key", &s("other.key"), "--out", &s("p2-other.note")]);
    let note = std::fs::read_to_string(d.join("p2.note")).unwrap();
    let tampered = note.replacen("2026-04-16", "2026-04-17", 1);
    for (body, token, status, code) in [
        (std::fs::read_to_string(d.join("p2-other.note")).unwrap(), MONITOR, StatusCode::FORBIDDEN, "bad_signature"),
        (tampered, MONITOR, StatusCode::FORBIDDEN, "bad_signature"),
        (report.clone(), MONITOR, StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        (note.clone(), ANALYST, StatusCode::FORBIDDEN, "forbidden"),
    ] {
        let r = call(&st, Method::POST, "/api/v1/patrol-reports", Some(token), Some(body)).await;
        assert_error(&r, status, code);
    }
    assert_eq!(log_size(&st).await, log0 + 1, "refused reports write nothing");
    let r = call(&st, Method::POST, "/api/v1/patrol-reports", Some(MONITOR), Some(note.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = r.json();
    assert_eq!(v["signed_by"].as_str().map(|x| x.starts_with("mon-1+")), Some(true), "{v}");
    assert_eq!(v["log_index"].as_u64(), Some(log0 + 1));
    let kept = std::fs::read_to_string(d.join("data").join(v["note"].as_str().unwrap())).unwrap();
    assert_eq!(kept, note, "the signed note is kept as evidence");
    let r = call(&st, Method::POST, "/api/v1/patrol-reports", Some(MONITOR), Some(note)).await;
    assert_eq!((r.status, r.json()["duplicate"].as_bool()), (StatusCode::OK, Some(true)));
    let size = log_size(&st).await;
    assert_eq!(size, log0 + 2);

    // --- Log tiles: hash tiles for everyone, entry bundles for roles that see all,
    // nothing beyond the signed checkpoint.
    let t = get(&st, &format!("/api/v1/log/tile/0/000.p/{size}"), None).await;
    assert_eq!((t.status, t.len), (StatusCode::OK, 32 * size as usize), "hash tile of {size}");
    assert_error(&get(&st, &format!("/api/v1/log/tile/0/000.p/{}", size + 1), None).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&get(&st, &format!("/api/v1/log/tile/entries/000.p/{size}"), None).await, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(get(&st, &format!("/api/v1/log/tile/entries/000.p/{size}"), Some(ANALYST)).await.status, StatusCode::OK);
    assert_error(&get(&st, "/api/v1/log/tile/../../k.key", None).await, StatusCode::NOT_FOUND, "not_found");
    // /api/v1/log is a tlog-tiles prefix: a mirror of the checkpoint and the tiles it
    // names, fetched over the API, verifies with nothing but the log's verifier key.
    let mirror = d.join("mirror");
    let cp = get(&st, "/api/v1/log/checkpoint", None).await.text;
    std::fs::create_dir_all(&mirror).unwrap();
    std::fs::write(mirror.join("checkpoint"), &cp).unwrap();
    for t in truce_log::tile::tiles_for_size(size) {
        let path = t.path();
        let mut b = Request::builder().uri(format!("/api/v1/log/{path}")).header(header::HOST, "truce.test");
        b = b.header(header::AUTHORIZATION, format!("Bearer {ANALYST}"));
        let r = router(st.clone()).oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        let file = mirror.join(&path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    let vkey = truce_log::Log::read_verifier_key(d.join("data/log")).unwrap();
    let verified = truce_log::verify::verify_log_dir(&mirror, &vkey).expect("the served tiles verify");
    assert_eq!(verified.checkpoint.size, size);

    // --- Pledges: the agreement's figures and the projection.
    let p = get(&st, "/api/v1/pledges", None).await.json();
    assert!(p["figures"]["total"]["committed_m"].as_f64().unwrap() > 100_000.0, "{}", p["figures"]["total"]);
    assert!(p["projection"]["projection"]["months"].as_array().is_some_and(|m| !m.is_empty()));
    assert_eq!(p["projection"]["target"], 800_000.0);

    // --- Reports: the internal edition for tokens, the public one for everyone.
    let common = ["--agreement", &agreement_path().display().to_string(), "--data", &s("data")].map(str::to_string);
    let run = |extra: &[&str]| {
        let args: Vec<&str> = ["report", "--day", "2026-04-16"].into_iter().chain(common.iter().map(String::as_str)).chain(extra.iter().copied()).collect();
        truce(&args);
    };
    run(&["--out", &s("reports/2026-04-16")]);
    run(&["--out", &s("reports/2026-04-16-public"), "--public"]);
    Arc::get_mut(&mut st).unwrap().reports = Some(d.join("reports"));
    let all = get(&st, "/api/v1/reports", Some(ANALYST)).await.json();
    assert_eq!(all["reports"].as_array().unwrap().len(), 2, "{all}");
    let public = get(&st, "/api/v1/reports", None).await.json();
    assert_eq!(public["reports"].as_array().unwrap().len(), 1, "{public}");
    assert_eq!(public["reports"][0]["edition"], "public");
    let html = public["reports"][0]["editions"]["html"].as_str().unwrap().to_string();
    let r = get(&st, &html, None).await;
    assert_eq!((r.status, r.content_type.as_str()), (StatusCode::OK, "text/html; charset=utf-8"));
    assert!(r.text.contains("<html"));
    assert_error(&get(&st, "/api/v1/reports/2026-04-16/report.html", None).await, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(get(&st, "/api/v1/reports/2026-04-16/report.pdf", Some(GB)).await.status, StatusCode::OK);
    assert_error(&get(&st, "/api/v1/reports/2026-04-16/secret.txt", Some(GB)).await, StatusCode::NOT_FOUND, "not_found");
}

/// The OpenAPI document is valid OpenAPI 3.1 by an independent validator
/// (`openapi-spec-validator`, from PyPI; `.ci/run` installs it). Without it: SKIP,
/// except under CI.
#[test]
fn openapi_document_validates() {
    let ok = std::process::Command::new("python3").args(["-c", "import openapi_spec_validator"]).stderr(std::process::Stdio::null()).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "CI: openapi-spec-validator must be installed by .ci/run");
        eprintln!("SKIP openapi_document_validates: no python3 module openapi_spec_validator (pip install openapi-spec-validator)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("openapi.json");
    std::fs::write(&p, openapi::document().to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))\nprint('valid')", &p.display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
