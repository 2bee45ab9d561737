//! The OpenAPI 3.1 description of every route, written by hand. A test checks that the
//! router serves exactly the paths and methods described here.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

fn q(name: &str, desc: &str, schema: Value, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": desc, "schema": schema})
}

fn p(name: &str, desc: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": desc, "schema": {"type": "string"}})
}

fn at() -> Value {
    q("at", "Instant to evaluate at: RFC 3339, or YYYY-MM-DD for the end of that day UTC. Default: now.", json!({"type": "string"}), false)
}

fn limit() -> Value {
    q("limit", "Page size (default 100, at most 10000).", json!({"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}), false)
}

fn offset() -> Value {
    q("offset", "How many items to skip.", json!({"type": "integer", "minimum": 0, "default": 0}), false)
}

fn ok(desc: &str, ct: &str, schema: Value) -> Value {
    json!({"description": desc, "content": {ct: {"schema": schema}}})
}

fn err(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn responses(success: (&str, Value), errors: &[(&str, &str)]) -> Value {
    let mut r = serde_json::Map::new();
    r.insert(success.0.to_string(), success.1);
    for (code, d) in errors {
        r.insert(code.to_string(), err(d));
    }
    Value::Object(r)
}

fn obj() -> Value {
    json!({"type": "object"})
}

/// The document.
pub fn document() -> Value {
    let mut doc = base();
    submissions_and_publications(&mut doc);
    // Every operation may be rate limited.
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for op in item.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
                op["responses"]["429"] = json!({"description": "over the rate limit of the token or address (RATE_PER_MINUTE, PUBLIC_RATE_PER_MINUTE)",
                    "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
            }
        }
    }
    doc["webhooks"] = json!({"alert": {"post": {
        "summary": "Each alert the hook's role may see, POSTed to the URL of a `[[webhook]]` of the --webhooks file (docs/alerts.md)",
        "parameters": [
            {"name": "X-Truce-Event", "in": "header", "required": true, "schema": {"type": "string"}, "description": "the alert's type"},
            {"name": "X-Truce-Delivery", "in": "header", "required": true, "schema": {"type": "string"}, "description": "the alert's id (the same on retries)"},
            {"name": "X-Truce-Timestamp", "in": "header", "required": true, "schema": {"type": "integer"}, "description": "unix seconds when signed"},
            {"name": "X-Truce-Signature", "in": "header", "required": true, "schema": {"type": "string"}, "description": "sha256=<hex HMAC-SHA256(secret, timestamp + \".\" + body)>"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Alert"}}}},
        "responses": {"2XX": {"description": "received; anything else is retried (WEBHOOK_ATTEMPTS) with backoff"}}}}});
    doc
}

/// Monitors' submissions, pledges, reports and the log's tiles.
fn submissions_and_publications(doc: &mut Value) {
    let json_ct = "application/json";
    let paths = doc["paths"].as_object_mut().expect("paths");
    paths.insert("/api/v1/observations".into(), json!({"post": {
        "summary": "Upload one observation file (monitor): FIRMS, UCDP GED or ACLED CSV, GeoJSON points, or a patrol report, read as `truce ingest` reads it, stored in observations/ and recorded in the evidence log. The same bytes again answer 200 with duplicate: true and store nothing.",
        "parameters": [
            q("name", "The file's name: 1 to 100 of A-Z a-z 0-9 . _ -, ending in .csv, .geojson or .json.", json!({"type": "string"}), true),
            q("format", "Read as this format instead of detecting it.", json!({"type": "string", "enum": ["firms", "ucdp_ged", "acled", "geojson", "patrol"]}), false),
            q("strict", "Refuse the whole file at its first bad row (default: skip bad rows and count them).", json!({"type": "boolean", "default": false}), false),
            json!({"name": "X-Truce-Signature", "in": "header", "required": false, "schema": {"type": "string", "maxLength": super::submit::SIGNATURE_HEADER_BYTES_MAX},
                "description": "base64 of a signed note (`truce patrol sign-upload`) whose text is `truce-upload/1`, the name and the body's SHA-256, one per line, signed by a key registered to the token. Required when the token has registered keys."})],
        "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary", "maxLength": super::submit::UPLOAD_BYTES_MAX}}}},
        "responses": responses(("201", ok("stored: file, sha256, rows read, kept, rejected (by reason, first messages), gaps, log_index", json_ct, obj())),
            &[("200", "the same bytes were stored before (duplicate: true)"), ("400", "bad name or format"), ("401", "no token"), ("403", "not a monitor; unsigned, or not signed for this name and content by a registered key (bad_signature)"), ("413", "body over UPLOAD_BYTES_MAX"), ("422", "unreadable file: file, line and field named")])}}));
    paths.insert("/api/v1/patrol-reports".into(), json!({"post": {
        "summary": "Submit a signed patrol report (monitor): a C2SP signed note (`truce patrol sign`) whose text is a truce-patrol/1 report, signed by a key registered to the caller's token. Read strictly; the note is kept in submissions/ and the report stored and logged as an upload is. The same report again answers 200 with duplicate: true.",
        "requestBody": {"required": true, "content": {"text/plain": {"schema": {"type": "string", "maxLength": super::submit::PATROL_NOTE_BYTES_MAX}}}},
        "responses": responses(("201", ok("stored, with signed_by and the kept note's path", json_ct, obj())),
            &[("200", "stored before (duplicate: true)"), ("401", "no token"), ("403", "not a monitor, no key registered, or no valid signature by a registered key (bad_signature)"), ("413", "body over PATROL_NOTE_BYTES_MAX"), ("422", "not a signed note, or not a valid report: file, line and field named")])}}));
    paths.insert("/api/v1/pledges".into(), json!({"get": {
        "summary": "Pledges, allocations and deliveries by donor (as `truce pledges --json`) and the force-generation projection with its levers (as `truce forces project --json`); null where the agreement has no such table",
        "responses": responses(("200", ok("figures and projection", json_ct, obj())), &[("401", "unknown token")])}}));
    paths.insert("/api/v1/reports".into(), json!({"get": {
        "summary": "The published daily reports, newest first, with links to their editions (public: public editions only)",
        "responses": responses(("200", ok("reports", json_ct, obj())), &[("401", "unknown token")])}}));
    paths.insert("/api/v1/reports/{id}/{file}".into(), json!({"get": {
        "summary": "One edition of a published report",
        "parameters": [p("id", "the report's id as listed"), p("file", "report.html, report.pdf, report.json or report.md")],
        "responses": {"200": {"description": "the edition", "content": {"text/html": {}, "application/pdf": {}, "application/json": {}, "text/markdown": {}}}, "401": err("unknown token"), "404": err("no such report or edition for this role")}}}));
    paths.insert("/api/v1/log/tile/{path}".into(), json!({"get": {
        "summary": "A tile of the evidence log (C2SP tlog-tiles: /api/v1/log is the URL prefix): hash tiles tile/<L>/<N>[.p/<W>] for any role, entry bundles tile/entries/<N>[.p/<W>] for roles that see everything; only what the latest signed checkpoint covers",
        "parameters": [p("path", "the tile's path after tile/, e.g. 0/000.p/12 or entries/000")],
        "responses": {"200": {"description": "the tile's bytes", "content": {"application/octet-stream": {}}}, "401": err("unknown token"), "403": err("entry bundle for the public"), "404": err("no such tile, or beyond the signed checkpoint")}}}));
}

fn base() -> Value {
    let any = [("400", "bad parameter"), ("401", "unknown or malformed token")];
    let json_ct = "application/json";
    let geo = super::ogc::GEOJSON;
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "truce",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Ceasefire monitoring: incidents, obligations, analysts' decisions, parties' actions, the evidence log (JSON, /api/v1), and OGC API - Features (GeoJSON, /ogc). Send `Authorization: Bearer <token>`; without one the caller is public and sees only verified incidents from unrestricted sources. Every error is {\"error\": {\"code\", \"message\"}}."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
                "Decision": {"type": "object", "required": ["incident", "verdict", "reason"], "additionalProperties": false, "properties": {
                    "incident": {"type": "string", "description": "I-... as listed"},
                    "verdict": {"type": "string", "enum": ["confirm", "reject"]},
                    "reason": {"type": "string", "maxLength": 4096}}},
                "Action": {"type": "object", "required": ["obligation", "note"], "additionalProperties": false, "properties": {
                    "obligation": {"type": "string", "description": "the obligation's id"},
                    "note": {"type": "string", "maxLength": 4096}}},
                "Alert": {"type": "object", "required": ["id", "type", "at", "agreement", "summary"], "properties": {
                    "id": {"type": "string", "description": "al- and 32 hex digits"},
                    "type": {"type": "string", "enum": ["incident.created", "incident.verified", "incident.rejected", "obligation.triggered", "obligation.fulfilled", "obligation.breached", "obligation.withdrawn"]},
                    "at": {"type": "string", "format": "date-time", "description": "the instant of the assessment that found it"},
                    "agreement": {"type": "string"},
                    "before": {"type": ["string", "null"], "description": "confidence or status before (null: new)"},
                    "summary": {"type": "string", "description": "one line in words"},
                    "incident": {"type": "object", "description": "as GET /api/v1/incidents/{id} shows it to this role"},
                    "obligation": {"type": "object", "description": "as GET /api/v1/obligations shows it to this role, with its explanation (because)"}}},
                "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
                    "type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": {"type": "object"}},
                    "numberMatched": {"type": "integer"}, "numberReturned": {"type": "integer"}, "links": {"type": "array"}}}
            }
        },
        "security": [{}, {"bearer": []}],
        "paths": {
            "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": responses(("200", ok("OpenAPI 3.1", json_ct, obj())), &[])}},
            "/api/v1/whoami": {"get": {"summary": "The caller's role, name and party", "responses": responses(("200", ok("who", json_ct, obj())), &any)}},
            "/api/v1/incidents": {"get": {
                "summary": "Incidents with placement, confidence and violations (public: verified and unrestricted only)",
                "parameters": [at(), q("violating", "Only incidents that break a rule.", json!({"type": "boolean"}), false), limit(), offset()],
                "responses": responses(("200", ok("a page of incidents", json_ct, obj())), &any)}},
            "/api/v1/incidents/{id}": {"get": {
                "summary": "One incident (by its id or a member's)", "parameters": [p("id", "I-..."), at()],
                "responses": responses(("200", ok("the incident", json_ct, obj())), &[("400", "bad parameter"), ("401", "unknown token"), ("404", "no such incident, or not public")])}},
            "/api/v1/obligations": {"get": {
                "summary": "Obligations raised by the clauses, every party's (public: incidents not public are counted, not named)",
                "parameters": [at(), q("party", "Only this party's.", json!({"type": "string"}), false)],
                "responses": responses(("200", ok("obligations", json_ct, obj())), &any)}},
            "/api/v1/events": {"get": {"summary": "Server-sent events: one event per alert (`event:` its type, `id:` its id, `data:` the Alert JSON), plus `lagged` when a slow reader missed some. The public hears only of public incidents. See docs/alerts.md.",
                "parameters": [q("types", "Only these alert types, comma-separated.", json!({"type": "string", "example": "incident.verified,obligation.triggered"}), false)],
                "responses": responses(("200", ok("event stream of Alert", "text/event-stream", json!({"type": "string"}))), &[("400", "unknown alert type"), ("401", "unknown token")])}},
            "/api/v1/decisions": {"post": {
                "summary": "Confirm or reject an incident (analyst). Written to the evidence log first, then decisions.jsonl.",
                "requestBody": {"required": true, "content": {json_ct: {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                "responses": responses(("201", ok("recorded", json_ct, obj())), &[("401", "no token"), ("403", "not an analyst"), ("404", "no such incident now"), ("413", "body over BODY_BYTES_MAX"), ("422", "invalid body")])}},
            "/api/v1/actions": {"post": {
                "summary": "Record that the caller's party did what an obligation asked (guarantor, own party only). Written to the evidence log first, then actions.jsonl.",
                "requestBody": {"required": true, "content": {json_ct: {"schema": {"$ref": "#/components/schemas/Action"}}}},
                "responses": responses(("201", ok("recorded", json_ct, obj())), &[("401", "no token"), ("403", "not a guarantor, or another party's obligation"), ("404", "no such obligation now"), ("409", "already fulfilled or withdrawn"), ("413", "body over BODY_BYTES_MAX"), ("422", "invalid body")])}},
            "/api/v1/log/checkpoint": {"get": {"summary": "The evidence log's latest signed checkpoint (C2SP signed note)",
                "responses": responses(("200", ok("the note", "text/plain", json!({"type": "string"}))), &[("401", "unknown token"), ("404", "no log")])}},
            "/api/v1/log/proof": {"get": {"summary": "Inclusion proof of an entry against a signed checkpoint (the entry's bytes for non-public roles)",
                "parameters": [q("index", "Entry index.", json!({"type": "integer", "minimum": 0}), true), q("size", "Tree size (default: the latest checkpoint's).", json!({"type": "integer", "minimum": 1}), false)],
                "responses": responses(("200", ok("proof and checkpoint", json_ct, obj())), &[("400", "bad index or size"), ("401", "unknown token"), ("404", "no log")])}},
            "/ogc": {"get": {"summary": "OGC API - Features landing page", "responses": responses(("200", ok("links", json_ct, obj())), &any)}},
            "/ogc/conformance": {"get": {"summary": "Conformance classes (core, geojson)", "responses": responses(("200", ok("conformsTo", json_ct, obj())), &any)}},
            "/ogc/collections": {"get": {"summary": "The collections: incidents, zones, contact-line, regions, war-fires", "responses": responses(("200", ok("collections", json_ct, obj())), &any)}},
            "/ogc/collections/{collection}": {"get": {"summary": "One collection", "parameters": [p("collection", "incidents, zones, contact-line, regions or war-fires")],
                "responses": responses(("200", ok("collection", json_ct, obj())), &[("401", "unknown token"), ("404", "no such collection")])}},
            "/ogc/collections/{collection}/items": {"get": {"summary": "Features, filtered and paged",
                "parameters": [p("collection", "incidents, zones, contact-line, regions or war-fires"),
                    q("bbox", "minx,miny,maxx,maxy in CRS84 (or six numbers).", json!({"type": "string"}), false),
                    q("datetime", "Instant, date, or interval a/b with .. for an open end: incidents by their interval, the contact line by its validity.", json!({"type": "string"}), false),
                    limit(), offset(), at()],
                "responses": responses(("200", ok("features", geo, json!({"$ref": "#/components/schemas/FeatureCollection"}))), &[("400", "bad parameter"), ("401", "unknown token"), ("404", "no such collection")])}},
            "/ogc/collections/{collection}/items/{feature}": {"get": {"summary": "One feature",
                "parameters": [p("collection", "incidents, zones, contact-line, regions or war-fires"), p("feature", "the feature's id"), at()],
                "responses": responses(("200", ok("feature", geo, obj())), &[("401", "unknown token"), ("404", "no such feature")])}}
        }
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document().to_string()).into_response()
}

/// (method, path) of every operation in the document, upper-case methods.
#[cfg(test)]
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            if let Some(ops) = item.as_object() {
                for m in ops.keys() {
                    out.push((m.to_uppercase(), path.clone()));
                }
            }
        }
    }
    out.sort();
    out
}
