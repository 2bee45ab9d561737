//! OGC API - Features, Part 1 Core, GeoJSON encoding, under `/ogc`: the collections
//! `incidents`, `zones`, `contact-line` (one feature per control-map snapshot, dated),
//! `regions` (the country's first-level regions) and `war-fires` (satellite fires the
//! war-fire detector flags), with `bbox`, `datetime`, `limit` and `offset`, and `next`
//! links for paging.

use std::collections::HashMap;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use geo::{BoundingRect, Simplify};
use serde_json::{json, Value};
use truce_agreement::ZoneShape as AShape;

use super::api::{at_param, caller, incident_json, page, visible};
use super::{ApiError, AppState, Shared};

pub const GEOJSON: &str = "application/geo+json";
/// Tolerance (degrees) the contact line and zone outlines are simplified with.
pub const SIMPLIFY_DEG: f64 = 0.001;

/// Core and GeoJSON. Not `oas30`: the API definition is OpenAPI 3.1.
pub const CONFORMANCE: [&str; 2] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
];

pub const COLLECTIONS: [(&str, &str, &str); 5] = [
    ("incidents", "Incidents", "Fused incidents with their placement against the contact line, confidence and the rules they break. `datetime` filters on the incident's interval; `at` evaluates at another instant."),
    ("zones", "Zones", "The agreement's zones. Fixed areas carry their polygons; bands measured from the contact line carry no geometry (they move with the line) and say their side and distances."),
    ("contact-line", "Contact line by date", "The contact line of each control-map snapshot, valid from its date until the next snapshot. `datetime` picks the snapshots in force during the instant or interval."),
    ("regions", "Regions", "The country's first-level regions (oblasts), as the geometry reads them, simplified: the outline the other collections are drawn against."),
    ("war-fires", "War-related fires", "Satellite fire detections (NASA FIRMS) that the war-fire detector flags as war-related, one point each, dated by the middle of the detection. Empty when the detector could not run (it needs FIRMS data of the baseline years). `datetime` filters on that date; `at` evaluates at another instant."),
];

/// Whether a collection's features come from an assessment (at now or `at`).
fn assessed(id: &str) -> bool {
    id == "incidents" || id == "war-fires"
}

fn base(st: &AppState, h: &HeaderMap) -> String {
    if let Some(b) = &st.base_url {
        return b.trim_end_matches('/').to_string();
    }
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

fn json_response(ct: &'static str, v: Value) -> Response {
    ([(header::CONTENT_TYPE, ct)], v.to_string()).into_response()
}

fn link(href: String, rel: &str, ty: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": ty, "title": title})
}

/// Percent-encodes a path segment or query value.
pub fn enc(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// `GET /ogc`: the landing page.
pub async fn landing(State(st): State<Shared>, h: HeaderMap) -> Result<Response, ApiError> {
    caller(&st, &h)?;
    let b = base(&st, &h);
    Ok(json_response(
        "application/json",
        json!({
            "title": format!("truce: {}", st.agreement.title),
            "description": format!("Incidents, zones and the contact line under {} (version {}), as OGC API - Features.", st.agreement.id, st.agreement.version),
            "links": [
                link(format!("{b}/ogc"), "self", "application/json", "this document"),
                link(format!("{b}/api/v1/openapi.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.1", "the API definition"),
                link(format!("{b}/ogc/conformance"), "conformance", "application/json", "conformance classes"),
                link(format!("{b}/ogc/collections"), "data", "application/json", "collections"),
            ]
        }),
    ))
}

/// `GET /ogc/conformance`.
pub async fn conformance(State(st): State<Shared>, h: HeaderMap) -> Result<Response, ApiError> {
    caller(&st, &h)?;
    Ok(json_response("application/json", json!({"conformsTo": CONFORMANCE})))
}

fn country_bbox(st: &AppState) -> [f64; 4] {
    st.geometry.country.outline.bounding_rect().map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]).unwrap_or([-180.0, -90.0, 180.0, 90.0])
}

fn collection_json(st: &AppState, b: &str, id: &str) -> Option<Value> {
    let (_, title, desc) = COLLECTIONS.iter().find(|c| c.0 == id)?;
    let temporal = match id {
        "contact-line" => {
            let first = st.geometry.map.snapshots().map(|(_, t)| t).min();
            json!([[first, null]])
        }
        _ => json!([[st.agreement.ceasefire_start, null]]),
    };
    Some(json!({
        "id": id,
        "title": title,
        "description": desc,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "extent": {
            "spatial": {"bbox": [country_bbox(st)], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
            "temporal": {"interval": temporal, "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
        },
        "links": [
            link(format!("{b}/ogc/collections/{id}"), "self", "application/json", title),
            link(format!("{b}/ogc/collections/{id}/items"), "items", GEOJSON, "items"),
        ]
    }))
}

/// `GET /ogc/collections`.
pub async fn collections(State(st): State<Shared>, h: HeaderMap) -> Result<Response, ApiError> {
    caller(&st, &h)?;
    let b = base(&st, &h);
    let cs: Vec<Value> = COLLECTIONS.iter().filter_map(|c| collection_json(&st, &b, c.0)).collect();
    Ok(json_response("application/json", json!({"links": [link(format!("{b}/ogc/collections"), "self", "application/json", "collections")], "collections": cs})))
}

fn no_collection(id: &str) -> ApiError {
    let all: Vec<&str> = COLLECTIONS.iter().map(|c| c.0).collect();
    ApiError::not_found(format!("collection `{id}`: none (collections: {})", all.join(", ")))
}

/// `GET /ogc/collections/{collection}`.
pub async fn collection(State(st): State<Shared>, h: HeaderMap, UrlPath(id): UrlPath<String>) -> Result<Response, ApiError> {
    caller(&st, &h)?;
    let b = base(&st, &h);
    let c = collection_json(&st, &b, &id).ok_or_else(|| no_collection(&id))?;
    Ok(json_response("application/json", c))
}

/// `bbox=minx,miny,maxx,maxy` (or six numbers, heights ignored), CRS84.
pub fn parse_bbox(s: &str) -> Result<[f64; 4], ApiError> {
    let v: Vec<f64> = s.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| ApiError::bad_request(format!("bbox: `{s}` is not 4 or 6 numbers")))?;
    let b = match v.len() {
        4 => [v[0], v[1], v[2], v[3]],
        6 => [v[0], v[1], v[3], v[4]],
        _ => return Err(ApiError::bad_request(format!("bbox: `{s}` is not 4 or 6 numbers"))),
    };
    if b.iter().any(|x| !x.is_finite()) || b[1] > b[3] || b[1] < -90.0 || b[3] > 90.0 {
        return Err(ApiError::bad_request(format!("bbox: `{s}`: latitudes out of order or range")));
    }
    Ok(b)
}

fn bbox_hits(b: &[f64; 4], r: &[f64; 4]) -> bool {
    // A bbox whose minx > maxx crosses the antimeridian.
    let x = if b[0] <= b[2] { r[0] <= b[2] && r[2] >= b[0] } else { r[2] >= b[0] || r[0] <= b[2] };
    x && r[1] <= b[3] && r[3] >= b[1]
}

fn instant(s: &str, end: bool) -> Result<Option<i64>, ApiError> {
    if s.is_empty() || s == ".." {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.timestamp_millis()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end { d + chrono::Duration::days(1) } else { d };
        let t = d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis();
        return Ok(Some(if end { t - 1 } else { t }));
    }
    Err(ApiError::bad_request(format!("datetime: `{s}` is neither RFC 3339 nor a date")))
}

/// `datetime`: an instant, a date (the whole day), or an interval `a/b` with `..` or
/// nothing for an open end. Returns inclusive bounds in ms.
pub fn parse_datetime(s: &str) -> Result<(Option<i64>, Option<i64>), ApiError> {
    match s.split_once('/') {
        Some((a, b)) => {
            let (lo, hi) = (instant(a, false)?, instant(b, true)?);
            if lo.is_none() && hi.is_none() {
                return Err(ApiError::bad_request("datetime: both ends open"));
            }
            if let (Some(l), Some(h)) = (lo, hi) {
                if l > h {
                    return Err(ApiError::bad_request(format!("datetime: `{s}` ends before it starts")));
                }
            }
            Ok((lo, hi))
        }
        None if s.is_empty() || s == ".." => Err(ApiError::bad_request("datetime: empty")),
        None => Ok((instant(s, false)?, instant(s, true)?)),
    }
}

fn overlaps(q: (Option<i64>, Option<i64>), start: i64, end: i64) -> bool {
    q.0.is_none_or(|lo| end >= lo) && q.1.is_none_or(|hi| start <= hi)
}

/// The features of a collection, filtered, before paging, with their bboxes.
fn features(st: &AppState, role: super::auth::Role, s: Option<&crate::assess::Assessment>, id: &str, q: &HashMap<String, String>) -> Result<Vec<(Value, Option<[f64; 4]>)>, ApiError> {
    let dt = q.get("datetime").map(|d| parse_datetime(d)).transpose()?;
    let mut out = Vec::new();
    match id {
        "incidents" => {
            let s = s.expect("incidents need an assessment");
            let mut idx: Vec<usize> = (0..s.incidents.len()).filter(|&i| visible(role, s, i)).collect();
            idx.sort_by(|&a, &b| (s.incidents[a].start_ms, &s.incidents[a].id).cmp(&(s.incidents[b].start_ms, &s.incidents[b].id)));
            for i in idx {
                let inc = &s.incidents[i];
                if dt.is_some_and(|d| !overlaps(d, inc.start_ms, inc.end_ms)) {
                    continue;
                }
                let mut props = incident_json(st, role, s, i);
                let o = props.as_object_mut().expect("object");
                o.remove("lon");
                o.remove("lat");
                let v = json!({"type": "Feature", "id": inc.id, "geometry": {"type": "Point", "coordinates": [inc.lon, inc.lat]}, "properties": props});
                out.push((v, Some([inc.lon, inc.lat, inc.lon, inc.lat])));
            }
        }
        "zones" => {
            // The areas were built once with the geometry (parallel to the agreement's zones).
            for (z, area) in st.agreement.zones.iter().zip(&st.geometry.areas) {
                let props = match &z.shape {
                    AShape::Band { side, min_km, max_km } => {
                        json!({"shape": "band", "side": format!("{side:?}").to_lowercase(), "min_km": min_km, "max_km": max_km})
                    }
                    AShape::Regions(codes) => json!({"shape": "regions", "regions": codes}),
                    AShape::BBox(_) => json!({"shape": "bbox"}),
                    AShape::File(_) => json!({"shape": "file"}),
                };
                let geom = area.as_ref();
                let mut props = props;
                props["name"] = json!(z.name);
                let bb = geom.as_ref().and_then(|g| g.bounding_rect()).map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
                let g = geom.map(|g| geojson::Geometry::from(&g.simplify(SIMPLIFY_DEG)));
                out.push((json!({"type": "Feature", "id": z.name, "geometry": g, "properties": props}), bb));
            }
        }
        "contact-line" => {
            let snaps: Vec<(String, DateTime<Utc>)> = st.geometry.map.snapshots().map(|(n, t)| (n.to_string(), t)).collect();
            for (i, (name, t)) in snaps.iter().enumerate() {
                let from = t.timestamp_millis();
                let until = snaps.get(i + 1).map(|n| n.1.timestamp_millis() - 1).unwrap_or(i64::MAX);
                if dt.is_some_and(|d| !overlaps(d, from, until)) {
                    continue;
                }
                let d = st.geometry.map.derived(i, &st.geometry.country).map_err(|e| ApiError::internal(format!("snapshot {name}: {e}")))?;
                let line = d.contact_line.simplify(SIMPLIFY_DEG);
                let bb = line.bounding_rect().map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
                let fid = t.format("%Y%m%dT%H%M%SZ").to_string();
                let props = json!({
                    "date": t.format("%Y-%m-%d").to_string(), "valid_from": t, "valid_until": snaps.get(i + 1).map(|n| n.1),
                    "snapshot": std::path::Path::new(name).file_name().map(|f| f.to_string_lossy().to_string()), "simplified_deg": SIMPLIFY_DEG,
                });
                out.push((json!({"type": "Feature", "id": fid, "geometry": geojson::Geometry::from(&line), "properties": props}), bb));
            }
        }
        "regions" => {
            for r in &st.geometry.country.regions {
                let bb = r.shape.bounding_rect().map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]);
                let g = geojson::Geometry::from(&r.shape.simplify(SIMPLIFY_DEG));
                out.push((json!({"type": "Feature", "id": r.code, "geometry": g, "properties": {"code": r.code, "name": r.name, "simplified_deg": SIMPLIFY_DEG}}), bb));
            }
        }
        "war-fires" => {
            let s = s.expect("war fires need an assessment");
            // FIRMS is public data, but an agreement may still restrict it.
            if role.sees_all() || !st.agreement.restricted_sources.iter().any(|r| r == "firms") {
                let mut fires = s.war_fires.clone();
                fires.sort_by(|a, b| (a.2, a.0, a.1).partial_cmp(&(b.2, b.0, b.1)).unwrap_or(std::cmp::Ordering::Equal));
                let mut last = String::new();
                let mut n = 0;
                for (lon, lat, t) in fires {
                    if dt.is_some_and(|d| !overlaps(d, t, t)) {
                        continue;
                    }
                    let when = DateTime::from_timestamp_millis(t).unwrap_or_default();
                    let base = format!("{}_{lon:.5}_{lat:.5}", when.format("%Y%m%dT%H%M%SZ"));
                    // Two detections can round to the same id: number the repeats.
                    n = if base == last { n + 1 } else { 0 };
                    let fid = if n == 0 { base.clone() } else { format!("{base}#{n}") };
                    last = base;
                    let props = json!({"time": when, "date": when.format("%Y-%m-%d").to_string(), "source": "firms"});
                    out.push((json!({"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}), Some([lon, lat, lon, lat])));
                }
            }
        }
        _ => return Err(no_collection(id)),
    }
    if let Some(b) = q.get("bbox").map(|b| parse_bbox(b)).transpose()? {
        out.retain(|(_, bb)| bb.is_some_and(|r| bbox_hits(&b, &r)));
    }
    Ok(out)
}

fn query_string(q: &HashMap<String, String>, offset: usize) -> String {
    let mut keys: Vec<&String> = q.keys().filter(|k| k.as_str() != "offset").collect();
    keys.sort();
    let mut parts: Vec<String> = keys.iter().map(|k| format!("{}={}", enc(k), enc(&q[*k]))).collect();
    parts.push(format!("offset={offset}"));
    parts.join("&")
}

/// `GET /ogc/collections/{collection}/items?bbox=&datetime=&limit=&offset=` (and `at`
/// for incidents).
pub async fn items(State(st): State<Shared>, h: HeaderMap, UrlPath(id): UrlPath<String>, Query(q): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let c = caller(&st, &h)?;
    if !COLLECTIONS.iter().any(|x| x.0 == id) {
        return Err(no_collection(&id));
    }
    let (limit, offset) = page(&q)?;
    let s = if assessed(&id) { Some(st.assessment(at_param(&q)?).await?) } else { None };
    let all = features(&st, c.role, s.as_deref(), &id, &q)?;
    let matched = all.len();
    let feats: Vec<Value> = all.into_iter().skip(offset).take(limit).map(|f| f.0).collect();
    let returned = feats.len();
    let b = base(&st, &h);
    let here = format!("{b}/ogc/collections/{id}/items");
    let mut qq = q.clone();
    qq.insert("limit".into(), limit.to_string());
    let mut links = vec![
        link(format!("{here}?{}", query_string(&qq, offset)), "self", GEOJSON, "this page"),
        link(format!("{b}/ogc/collections/{id}"), "collection", "application/json", "the collection"),
    ];
    if offset + returned < matched {
        links.push(link(format!("{here}?{}", query_string(&qq, offset + returned)), "next", GEOJSON, "next page"));
    }
    if offset > 0 {
        links.push(link(format!("{here}?{}", query_string(&qq, offset.saturating_sub(limit))), "prev", GEOJSON, "previous page"));
    }
    Ok(json_response(
        GEOJSON,
        json!({
            "type": "FeatureCollection",
            "features": feats,
            "numberMatched": matched,
            "numberReturned": returned,
            "timeStamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "links": links,
        }),
    ))
}

/// `GET /ogc/collections/{collection}/items/{feature}`.
pub async fn item(State(st): State<Shared>, h: HeaderMap, UrlPath((id, fid)): UrlPath<(String, String)>, Query(q): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let c = caller(&st, &h)?;
    if !COLLECTIONS.iter().any(|x| x.0 == id) {
        return Err(no_collection(&id));
    }
    let s = if assessed(&id) { Some(st.assessment(at_param(&q)?).await?) } else { None };
    let mut only = HashMap::new();
    if let Some(a) = q.get("at") {
        only.insert("at".to_string(), a.clone());
    }
    let f = features(&st, c.role, s.as_deref(), &id, &only)?
        .into_iter()
        .map(|f| f.0)
        .find(|f| f["id"].as_str() == Some(fid.as_str()))
        .ok_or_else(|| ApiError::not_found(format!("feature `{fid}`: none in `{id}`")))?;
    let b = base(&st, &h);
    let mut f = f;
    f["links"] = json!([
        link(format!("{b}/ogc/collections/{id}/items/{}", enc(&fid)), "self", GEOJSON, "this feature"),
        link(format!("{b}/ogc/collections/{id}"), "collection", "application/json", "the collection"),
    ]);
    Ok(json_response(GEOJSON, f))
}
