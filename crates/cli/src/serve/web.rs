//! The web page: `GET /` and its assets under `/web/...`, embedded in the binary (see
//! `docs/web.md`). Plain HTML, CSS and JavaScript without a build step, and MapLibre GL
//! JS vendored from its npm release (`crates/cli/web/vendor/maplibre-gl/`), so the page
//! needs nothing but this server: no CDN, no remote tiles or fonts.
//!
//! Assets are looked up by exact name in [`ASSETS`]; nothing is read from the file
//! system, so no request path can reach a file outside the table. The page reads
//! everything else from the JSON API and OGC API - Features with the caller's token.
//! The routes stay outside `/api/v1` and out of the OpenAPI document.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use super::{ApiError, Shared};

/// One embedded file.
pub struct Asset {
    /// The path under `/web/`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// Every file the page uses, by its path under `/web/`.
pub const ASSETS: [Asset; 7] = [
    Asset { name: "app.js", content_type: "text/javascript; charset=utf-8", bytes: include_bytes!("../../web/app.js") },
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", bytes: include_bytes!("../../web/app.css") },
    Asset { name: "icon.svg", content_type: "image/svg+xml", bytes: include_bytes!("../../web/icon.svg") },
    Asset { name: "vendor/maplibre-gl/maplibre-gl.js", content_type: "text/javascript; charset=utf-8", bytes: include_bytes!("../../web/vendor/maplibre-gl/maplibre-gl.js") },
    Asset { name: "vendor/maplibre-gl/maplibre-gl.css", content_type: "text/css; charset=utf-8", bytes: include_bytes!("../../web/vendor/maplibre-gl/maplibre-gl.css") },
    Asset { name: "vendor/maplibre-gl/LICENSE.txt", content_type: "text/plain; charset=utf-8", bytes: include_bytes!("../../web/vendor/maplibre-gl/LICENSE.txt") },
    Asset { name: "vendor/maplibre-gl/README.md", content_type: "text/plain; charset=utf-8", bytes: include_bytes!("../../web/vendor/maplibre-gl/README.md") },
];

/// The page; `{{SERVER_JSON}}` becomes what the server tells the page (agreement, replay,
/// clock).
const INDEX_HTML: &str = include_str!("../../web/index.html");

/// The page's Content-Security-Policy: its own scripts, styles and API only. MapLibre
/// runs its worker from a `blob:` URL and sets inline styles on its elements.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src blob:; child-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /` and `GET /web/{*path}`.
pub fn routes() -> Router<Shared> {
    Router::new().route("/", get(index)).route("/web/{*path}", get(asset))
}

fn etags() -> &'static Vec<String> {
    static E: OnceLock<Vec<String>> = OnceLock::new();
    E.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                a.bytes.hash(&mut h);
                format!("\"{:016x}-{}\"", h.finish(), a.bytes.len())
            })
            .collect()
    })
}

fn common(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// `GET /web/{*path}`: an embedded asset, revalidated on every use (`no-cache` with an
/// ETag, so a new binary's files are picked up at once and an unchanged file costs a 304).
pub async fn asset(UrlPath(path): UrlPath<String>, h: HeaderMap) -> Result<Response, ApiError> {
    let i = ASSETS.iter().position(|a| a.name == path).ok_or_else(|| ApiError::not_found(format!("/web/{path}: no such file of the web page")))?;
    let (a, etag) = (&ASSETS[i], &etags()[i]);
    let fresh = h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut r = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { ([(header::CONTENT_TYPE, a.content_type)], a.bytes).into_response() };
    common(&mut r);
    let hs = r.headers_mut();
    hs.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        hs.insert(header::ETAG, v);
    }
    Ok(r)
}

/// What the page is told before it asks the API anything: the agreement, whether the
/// server replays past data, and its clock. Public facts only.
pub fn server_json(st: &super::AppState) -> String {
    let v = json!({
        "agreement": {"id": st.agreement.id, "title": st.agreement.title, "version": st.agreement.version, "ceasefire_start": st.agreement.ceasefire_start},
        "replay": st.replay,
        "clock": st.now(),
        "replay_clock": matches!(st.clock, super::Clock::Replay { .. }),
    });
    // Inside <script>: no `<` at all, so no `</script>` can close it early.
    v.to_string().replace('<', "\\u003c")
}

/// `GET /`: the page, with the server's facts in a JSON script element.
pub async fn index(State(st): State<Shared>) -> Response {
    let html = INDEX_HTML.replace("{{SERVER_JSON}}", &server_json(&st));
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    common(&mut r);
    let hs = r.headers_mut();
    hs.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    hs.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    hs.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_only_embedded_assets() {
        // Every /web/ path the page and its script use is in the table.
        let mut text = INDEX_HTML.to_string();
        text.push_str(std::str::from_utf8(ASSETS[0].bytes).unwrap());
        let mut named = 0;
        // URLs in attributes and string literals: a quote, then /web/.
        for quote in ['"', '\''] {
            for part in text.split(&format!("{quote}/web/")).skip(1) {
                let name = &part[..part.find(quote).unwrap_or(part.len())];
                assert!(ASSETS.iter().any(|a| a.name == name), "/web/{name} is not embedded");
                named += 1;
            }
        }
        assert!(named >= 4, "{named}");
        assert!(INDEX_HTML.contains("{{SERVER_JSON}}"));
        // No remote resource: no absolute URL in what the page loads.
        for needle in ["src=\"http", "href=\"http", "url(http", "fetch('http", "fetch(\"http"] {
            assert!(!text.contains(needle), "{needle}");
        }
    }

    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    struct Got {
        status: StatusCode,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    async fn get(st: &Shared, uri: &str, headers: &[(header::HeaderName, &str)]) -> Got {
        let mut b = Request::builder().uri(uri).header(header::HOST, "truce.test");
        for (k, v) in headers {
            b = b.header(k, *v);
        }
        let r = super::super::router(st.clone()).oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        Got { status, headers, body: r.into_body().collect().await.unwrap().to_bytes().to_vec() }
    }

    fn state(data: &std::path::Path) -> Shared {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ukraine-2025.toml");
        let agreement = crate::assess::load_agreement(&p).unwrap();
        let geometry = crate::assess::load_geometry(&agreement).unwrap();
        Arc::new(super::super::AppState::new(agreement, geometry, data.to_path_buf(), super::super::auth::Tokens::default(), None, None))
    }

    /// The page, its assets by exact name only, their content types and revalidation; the
    /// new OGC collections the map draws.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn page_assets_and_map_collections() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("data/observations")).unwrap();
        let st = state(&tmp.path().join("data"));

        let page = get(&st, "/", &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(page.headers[header::CONTENT_SECURITY_POLICY], CSP);
        let html = String::from_utf8(page.body).unwrap();
        let facts = html.split("id=\"truce-server\">").nth(1).and_then(|s| s.split("</script>").next()).unwrap();
        let v: serde_json::Value = serde_json::from_str(facts).unwrap();
        assert_eq!(v["agreement"]["id"], "ukraine-2025");
        assert_eq!(v["replay"], false);

        for a in &ASSETS {
            let r = get(&st, &format!("/web/{}", a.name), &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", a.name);
            assert_eq!(r.headers[header::CONTENT_TYPE], a.content_type, "{}", a.name);
            assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(r.body, a.bytes, "{}", a.name);
            let etag = r.headers[header::ETAG].to_str().unwrap().to_string();
            let again = get(&st, &format!("/web/{}", a.name), &[(header::IF_NONE_MATCH, &etag)]).await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{}", a.name);
            assert!(again.body.is_empty());
        }
        // Only the table's names: nothing reaches the file system.
        for bad in ["/web/", "/web/../Cargo.toml", "/web/%2e%2e/Cargo.toml", "/web/..%2fsrc%2fmain.rs", "/web/vendor/maplibre-gl", "/web/app.js/", "/web/APP.JS", "/web/index.html", "/web/e2e/package.json"] {
            let r = get(&st, bad, &[]).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
            assert!(r.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"), "{bad}");
        }

        let regions = get(&st, "/ogc/collections/regions/items?limit=10000", &[]).await;
        assert_eq!(regions.status, StatusCode::OK);
        let fc: serde_json::Value = serde_json::from_slice(&regions.body).unwrap();
        assert_eq!(fc["numberMatched"].as_u64().unwrap() as usize, st.geometry.country.regions.len());
        assert!(fc["features"].as_array().unwrap().iter().any(|f| f["id"] == "UA-32" && f["geometry"]["type"] == "MultiPolygon"), "Kyiv Oblast");
        let kyiv = get(&st, "/ogc/collections/regions/items?bbox=30.4,50.4,30.6,50.5", &[]).await;
        let fc: serde_json::Value = serde_json::from_slice(&kyiv.body).unwrap();
        assert!(fc["numberMatched"].as_u64().unwrap() >= 1);
        // No FIRMS data here: no war-related fire, and no error.
        let fires = get(&st, "/ogc/collections/war-fires/items", &[]).await;
        assert_eq!(fires.status, StatusCode::OK, "{}", String::from_utf8_lossy(&fires.body));
        let fc: serde_json::Value = serde_json::from_slice(&fires.body).unwrap();
        assert_eq!(fc["numberMatched"], 0);
        assert_eq!(get(&st, "/ogc/collections/war-fires/items?datetime=yesterday", &[]).await.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn server_json_cannot_close_the_script() {
        let v = json!({"t": "</script><script>alert(1)</script>"}).to_string().replace('<', "\\u003c");
        assert!(!v.contains("</"));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&v).unwrap()["t"], "</script><script>alert(1)</script>");
    }
}
