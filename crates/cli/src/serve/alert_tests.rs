//! Alerts on the event stream and on webhooks (a loopback receiver checks signatures and
//! payloads), the poll that finds other processes' writes, the webhooks file, the rate
//! limit and the error shape of bad bodies. The data directory is the one of `tests.rs`.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, Method, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tower::ServiceExt;

use super::alerts::Kind;
use super::auth::Role;
use super::limits::{Rate, RateLimits};
use super::tests::{assert_error, call, data_dir, get, next_alert, open_stream, read_events, state, truce, ANALYST, GB, MONITOR};
use super::webhooks::{self, Hook, Webhooks};
use super::{Shared, BODY_BYTES_MAX};
use crate::assess::load_agreement;

const SECRET: &str = "0123456789abcdef0123456789abcdef-secret";

/// One delivery the receiver got: (hook name, headers, body).
type Delivery = (String, HeaderMap, Bytes);

/// A webhook receiver on a loopback port: every POST to `/{name}` is passed on.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Delivery>) {
    let (tx, rx) = mpsc::unbounded_channel::<Delivery>();
    async fn take(State(tx): State<mpsc::UnboundedSender<Delivery>>, UrlPath(name): UrlPath<String>, h: HeaderMap, b: Bytes) -> StatusCode {
        let _ = tx.send((name, h, b));
        StatusCode::NO_CONTENT
    }
    let app = axum::Router::new().route("/{name}", axum::routing::post(take)).with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, rx)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// Checks a delivery's headers and signature (as a receiver would, with the hmac crate
/// directly) and returns its JSON.
#[track_caller]
fn checked(d: &Delivery) -> Value {
    let (name, h, body) = d;
    let hv = |k: &str| h.get(k).unwrap_or_else(|| panic!("{name}: no {k}")).to_str().unwrap().to_string();
    assert_eq!(hv("content-type"), "application/json");
    let ts = hv("x-truce-timestamp");
    let age = chrono::Utc::now().timestamp() - ts.parse::<i64>().unwrap();
    assert!((0..300).contains(&age), "{name}: timestamp {ts} is {age} s old");
    let sig = hv("x-truce-signature");
    let hex = sig.strip_prefix("sha256=").unwrap_or_else(|| panic!("{name}: {sig}"));
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(format!("{ts}.").as_bytes());
    m.update(body);
    m.verify_slice(&unhex(hex)).unwrap_or_else(|_| panic!("{name}: bad signature {sig}"));
    let v: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["type"], hv("x-truce-event"), "{name}: {v}");
    assert_eq!(v["id"], hv("x-truce-delivery"), "{name}: {v}");
    v
}

/// Deliveries for one hook until (and with) the first of type `kind`, waiting at most
/// 10 s; deliveries to other hooks are kept in `other`.
async fn deliveries_until(rx: &mut mpsc::UnboundedReceiver<Delivery>, other: &mut Vec<Delivery>, hook: &str, kind: &str) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(p) = other.iter().position(|d| d.0 == hook) {
        let d = other.remove(p);
        let v = checked(&d);
        let done = v["type"] == kind;
        out.push(v);
        if done {
            return out;
        }
        out.extend(Box::pin(deliveries_until(rx, other, hook, kind)).await);
        return out;
    }
    loop {
        let d = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await.unwrap_or_else(|_| panic!("{hook}: no {kind} delivery in 10 s: {out:?}")).expect("receiver open");
        if d.0 != hook {
            other.push(d);
            continue;
        }
        let v = checked(&d);
        let done = v["type"] == kind;
        out.push(v);
        if done {
            return out;
        }
    }
}

fn with_hooks(mut st: Shared, hooks: Vec<Hook>) -> Shared {
    Arc::get_mut(&mut st).expect("not shared yet").webhooks = Webhooks::start(hooks);
    st
}

async fn confirm(st: &Shared, id: &str) {
    let r = call(st, Method::POST, "/api/v1/decisions", Some(ANALYST), Some(json!({"incident": id, "verdict": "confirm", "reason": "video geolocated"}).to_string())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// A decision that verifies the incident: `incident.verified`, then the clauses it fires
/// (`obligation.triggered`), on the analyst's and the public's streams and webhooks, each
/// signed; a guarantor's hook asks for triggers only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_alerts_reach_streams_and_webhooks() {
    let tmp = data_dir();
    let (base, mut rx) = receiver().await;
    let hook = |name: &str, role, events: Option<BTreeSet<Kind>>| Hook::new(&format!("{base}/{name}"), SECRET, role, events).unwrap();
    let st = with_hooks(
        state(tmp.path(), false),
        vec![hook("analyst", Role::Analyst, None), hook("public", Role::Public, None), hook("gb", Role::Guarantor, Some([Kind::ObligationTriggered].into()))],
    );
    let list = get(&st, "/api/v1/incidents", Some(MONITOR)).await.json();
    let inc = list["incidents"][0]["id"].as_str().unwrap().to_string();
    let (_, mut analyst_events) = open_stream(&st, "/api/v1/events", Some(ANALYST)).await;
    let (_, mut public_events) = open_stream(&st, "/api/v1/events?types=incident.verified", None).await;
    assert_error(&get(&st, "/api/v1/events?types=incident.nothing", None).await, StatusCode::BAD_REQUEST, "bad_request");

    confirm(&st, &inc).await;

    // The event stream: `event: incident.verified`, then the clauses that fired.
    let seen = read_events(&mut analyst_events, "obligation.triggered", 1).await;
    let types: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(types.first(), Some(&"incident.verified"), "{seen:?}");
    let v = &seen[0].1;
    assert_eq!((v["incident"]["id"].as_str(), v["before"].as_str(), v["incident"]["confidence"].as_str()), (Some(inc.as_str()), Some("corroborated"), Some("verified")), "{v}");
    assert!(v["id"].as_str().unwrap().starts_with("al-") && v["at"].is_string(), "{v}");
    assert!(v["incident"]["member_ids"].is_array(), "the analyst sees everything: {v}");
    let public = next_alert(&mut public_events, "incident.verified").await;
    assert_eq!(public["incident"]["id"], inc.as_str());
    assert!(public["incident"].get("member_ids").is_none(), "{public}");

    // The analyst's hook: the same, signed.
    let mut other = Vec::new();
    let got = deliveries_until(&mut rx, &mut other, "analyst", "obligation.triggered").await;
    assert_eq!(got[0]["type"], "incident.verified", "{got:?}");
    assert_eq!(got[0]["incident"]["id"], inc.as_str());
    let t = got.last().unwrap();
    let o = &t["obligation"];
    for k in ["id", "clause", "party", "action", "deadline", "status"] {
        assert!(o[k].is_string(), "{k}: {t}");
    }
    assert_eq!(o["status"], "pending");
    assert!(o["because"]["condition"].as_str().is_some_and(|c| !c.is_empty()), "{t}");
    assert!(o["because"]["incidents"].as_array().unwrap().iter().any(|x| x[0] == inc.as_str()), "{t}");
    let summary = t["summary"].as_str().unwrap();
    assert!(summary.contains(o["party"].as_str().unwrap()) && summary.contains("because") && summary.contains(&inc), "{summary}");
    // The public's hook: the incident is public now, so it hears of both.
    let got = deliveries_until(&mut rx, &mut other, "public", "obligation.triggered").await;
    assert_eq!(got[0]["type"], "incident.verified", "{got:?}");
    assert!(got[0]["incident"].get("member_ids").is_none());
    // The guarantor's hook asked for triggers only.
    let got = deliveries_until(&mut rx, &mut other, "gb", "obligation.triggered").await;
    assert_eq!(got.len(), 1, "{got:?}");
    // A guarantor acts: `obligation.fulfilled`.
    let obs = get(&st, "/api/v1/obligations?party=GB", Some(GB)).await.json();
    let gb = obs["obligations"].as_array().unwrap().iter().find(|o| o["status"] == "pending").expect("a pending GB obligation")["id"].as_str().unwrap().to_string();
    let r = call(&st, Method::POST, "/api/v1/actions", Some(GB), Some(json!({"obligation": gb, "note": "NSC convened"}).to_string())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = next_alert(&mut analyst_events, "obligation.fulfilled").await;
    assert_eq!((v["obligation"]["id"].as_str(), v["before"].as_str()), (Some(gb.as_str()), Some("pending")), "{v}");
    // The analyst rejects it after all: the public, which was shown the incident, hears
    // the retraction; the obligations it triggered are withdrawn.
    let (_, mut retractions) = open_stream(&st, "/api/v1/events?types=incident.rejected", None).await;
    let r = call(&st, Method::POST, "/api/v1/decisions", Some(ANALYST), Some(json!({"incident": inc, "verdict": "reject", "reason": "staged video"}).to_string())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = next_alert(&mut retractions, "incident.rejected").await;
    assert_eq!((v["incident"]["id"].as_str(), v["before"].as_str()), (Some(inc.as_str()), Some("verified")), "{v}");
    assert!(v["incident"].get("member_ids").is_none(), "{v}");
    let v = next_alert(&mut analyst_events, "obligation.withdrawn").await;
    assert_eq!(v["obligation"]["status"], "withdrawn", "{v}");

    // Every alert has its own id (a hook gets each alert once; two hooks, the same id).
    let ids: BTreeSet<(String, String)> = other.iter().map(|d| (d.0.clone(), checked(d)["id"].as_str().unwrap().to_string())).collect();
    assert_eq!(ids.len(), other.len());
}

/// Restricted sources: the public hears of the clause's trigger, with the incident
/// counted, not named, and never of the incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_alerts_do_not_name_hidden_incidents() {
    let tmp = data_dir();
    let (base, mut rx) = receiver().await;
    let st = with_hooks(state(tmp.path(), true), vec![Hook::new(&format!("{base}/public"), SECRET, Role::Public, None).unwrap()]);
    let inc = get(&st, "/api/v1/incidents", Some(MONITOR)).await.json()["incidents"][0]["id"].as_str().unwrap().to_string();
    let (_, mut public_events) = open_stream(&st, "/api/v1/events", None).await;
    let (_, mut analyst_events) = open_stream(&st, "/api/v1/events", Some(ANALYST)).await;
    confirm(&st, &inc).await;
    assert_eq!(next_alert(&mut analyst_events, "incident.verified").await["incident"]["id"], inc.as_str());
    // The public's stream: obligations first (alerts come incidents first, so any
    // incident alert would have come before).
    let seen = read_events(&mut public_events, "obligation.triggered", 1).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let o = &seen[0].1;
    assert_eq!(o["obligation"]["because"]["incidents"], json!([]), "{o}");
    assert!(o["obligation"]["because"]["not_public"].as_u64().unwrap() >= 1, "{o}");
    assert!(!o.to_string().contains(&inc), "{o}");
    assert!(o["summary"].as_str().unwrap().contains("not public"), "{o}");
    let got = deliveries_until(&mut rx, &mut Vec::new(), "public", "obligation.triggered").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(!got[0].to_string().contains(&inc), "{}", got[0]);
}

/// Another process's write (`truce decide`) is found by the poll; a poll that finds the
/// data unchanged does not reassess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_finds_other_writers() {
    let tmp = data_dir();
    let st = state(tmp.path(), false);
    let inc = get(&st, "/api/v1/incidents", Some(MONITOR)).await.json()["incidents"][0]["id"].as_str().unwrap().to_string();
    let (_, mut events) = open_stream(&st, "/api/v1/events", Some(GB)).await;
    st.poll_alerts().await;
    let made = st.last.lock().unwrap().as_ref().expect("a baseline").made;
    st.poll_alerts().await;
    assert_eq!(st.last.lock().unwrap().as_ref().unwrap().made, made, "nothing changed: no reassessment");
    let a = super::tests::agreement_path().display().to_string();
    let data = tmp.path().join("data").display().to_string();
    truce(&["decide", "--agreement", &a, "--data", &data, "--incident", &inc, "--confirm", "--reason", "seen", "--analyst", "an-9"]);
    st.poll_alerts().await;
    let v = next_alert(&mut events, "incident.verified").await;
    assert_eq!(v["incident"]["id"], inc.as_str());
}

#[test]
fn signature_is_hmac_sha256_of_timestamp_dot_body() {
    // Python: hmac.new(secret, b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert_eq!(webhooks::sign(SECRET.as_bytes(), 1_700_000_000, br#"{"a":1}"#), "sha256=b1f037d8404de82aa850a557513a389a57d01d9f9d443d89970ca9aea1e4478d");
}

#[test]
fn webhooks_file_is_checked() {
    let a = load_agreement(&super::tests::agreement_path()).unwrap();
    let ok = format!(
        "[[webhook]]\nurl = \"http://127.0.0.1:9/x\"\nsecret = \"{SECRET}\"\nrole = \"public\"\n\n[[webhook]]\nurl = \"http://hooks.example:8080/truce\"\nsecret = \"{SECRET}\"\nrole = \"guarantor\"\nparty = \"GB\"\nevents = [\"obligation.triggered\"]\n"
    );
    let hooks = webhooks::parse("h.toml", &ok, &a).unwrap();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[1].events.as_ref().unwrap().len(), 1);
    assert!(!format!("{:?}", hooks[0]).contains(SECRET), "the secret is not printed");
    let bad = |row: &str, want: &str| {
        let text = format!("{ok}\n[[webhook]]\n{row}\n");
        let e = webhooks::parse("h.toml", &text, &a).err().expect("refused").to_string();
        assert!(e.contains("h.toml: webhook[2]: ") && e.contains(want), "{e}");
    };
    let base = format!("secret = \"{SECRET}\"\nrole = \"public\"");
    bad(&format!("url = \"https://hooks.example/x\"\n{base}"), "url: `https://hooks.example/x`: https is not supported");
    bad(&format!("url = \"ftp://hooks.example/x\"\n{base}"), "url: ");
    bad(&format!("url = \"not a url\"\n{base}"), "url: ");
    bad("url = \"http://h/x\"\nsecret = \"short\"\nrole = \"public\"", "secret: shorter than WEBHOOK_SECRET_CHARS_MIN");
    bad(&format!("url = \"http://h/x\"\nsecret = \"{SECRET}\"\nrole = \"admin\""), "role: `admin`");
    bad(&format!("url = \"http://h/x\"\nsecret = \"{SECRET}\"\nrole = \"guarantor\""), "party: a guarantor's webhook names its party");
    bad(&format!("url = \"http://h/x\"\nsecret = \"{SECRET}\"\nrole = \"guarantor\"\nparty = \"XX\""), "party: `XX` is not a party");
    bad(&format!("url = \"http://h/x\"\n{base}\nparty = \"GB\""), "party: only a guarantor's");
    bad(&format!("url = \"http://h/x\"\n{base}\nevents = [\"incident.lost\"]"), "events: `incident.lost` is not an alert type");
    bad(&format!("url = \"http://h/x\"\n{base}\nevents = []"), "events: empty");
    let e = webhooks::parse("h.toml", &format!("[[webhook]]\nurl = \"http://h/x\"\n{base}\nretries = 3\n"), &a).err().unwrap().to_string();
    assert!(e.contains("h.toml") && e.contains("retries"), "{e}");
    let many = format!("[[webhook]]\nurl = \"http://h/x\"\n{base}\n").repeat(webhooks::WEBHOOKS_MAX + 1);
    assert!(webhooks::parse("h.toml", &many, &a).err().unwrap().to_string().contains("WEBHOOKS_MAX"));
}

/// Over its limit a token, or an address without one, is answered 429 in the error shape
/// with Retry-After; other tokens are not affected. (1 a minute: no test is that slow.)
#[tokio::test]
async fn rate_limit_answers_429() {
    let tmp = tempfile::tempdir().unwrap();
    let mut st = state(tmp.path(), false);
    Arc::get_mut(&mut st).unwrap().rate = RateLimits::new(Some(Rate { per_minute: 1, burst: 2 }), Some(Rate { per_minute: 1, burst: 3 }));
    for _ in 0..3 {
        assert_eq!(get(&st, "/api/v1/whoami", None).await.status, StatusCode::OK);
    }
    let r = super::router(st.clone()).oneshot(axum::http::Request::get("/api/v1/whoami").body(axum::body::Body::empty()).unwrap()).await.unwrap();
    let retry: u64 = r.headers().get(axum::http::header::RETRY_AFTER).expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let r = get(&st, "/api/v1/whoami", None).await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(r.text.contains("PUBLIC_RATE_PER_MINUTE"), "{}", r.text);
    // An unknown token counts against the address.
    assert_error(&get(&st, "/api/v1/whoami", Some("not-a-token-0123456789abcdef")).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    for _ in 0..2 {
        assert_eq!(get(&st, "/api/v1/whoami", Some(ANALYST)).await.status, StatusCode::OK);
    }
    let r = get(&st, "/api/v1/whoami", Some(ANALYST)).await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(r.text.contains("RATE_PER_MINUTE"), "{}", r.text);
    assert_eq!(get(&st, "/api/v1/whoami", Some(GB)).await.status, StatusCode::OK, "another token has its own bucket");
    assert!(super::limits::parse_rate("off").unwrap().0.is_none());
    assert_eq!(super::limits::parse_rate("60/10").unwrap().0, Some(Rate { per_minute: 60, burst: 10 }));
    assert!(super::limits::parse_rate("60").is_err() && super::limits::parse_rate("0/10").is_err());
}

/// Bad JSON, an unknown field, a wrong type and an over-size body: the error shape, for
/// both writes; nothing written.
#[tokio::test]
async fn bad_bodies_answer_the_error_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let st = state(tmp.path(), false);
    let post = |path: &'static str, tok: &'static str, body: String| call(&st, Method::POST, path, Some(tok), Some(body));
    for (path, tok, good) in [
        ("/api/v1/decisions", ANALYST, json!({"incident": "I-x", "verdict": "confirm", "reason": "r"})),
        ("/api/v1/actions", GB, json!({"obligation": "c/GB/x", "note": "n"})),
    ] {
        assert_error(&post(path, tok, "{not json".into()).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_error(&post(path, tok, String::new()).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        let mut extra = good.clone();
        extra["admin"] = json!(true);
        let r = post(path, tok, extra.to_string()).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert!(r.text.contains("unknown field"), "{}", r.text);
        let mut wrong = good.clone();
        let first = good.as_object().unwrap().keys().next().unwrap().clone();
        wrong[&first] = json!(7);
        assert_error(&post(path, tok, wrong.to_string()).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        let mut big = good.clone();
        let last = good.as_object().unwrap().keys().last().unwrap().clone();
        big[&last] = json!("x".repeat(BODY_BYTES_MAX));
        assert_error(&post(path, tok, big.to_string()).await, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    }
    assert!(!tmp.path().join("data/decisions.jsonl").exists() && !tmp.path().join("data/actions.jsonl").exists());
}
