//! OGC API - Features against a real client: GDAL's OAPIF driver (`ogrinfo`, `ogr2ogr`,
//! Debian's gdal-bin, which `.ci/run` installs), reading `truce serve --demo` over
//! loopback. GDAL reads the landing page, the conformance classes and the collections,
//! then pages through the items following `next` links, as QGIS does. The test checks
//! that it finds the three collections, that paging with a small page size returns
//! every incident exactly once, that a bbox returns exactly the incidents inside it, and
//! that the public role sees none of the unverified ones.
//!
//! Without ogrinfo it prints SKIP and passes, except under CI (the `CI` variable set),
//! where a missing client is a failure.

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn gdal(tool: &str, args: &[&str], token: Option<&str>) -> String {
    let mut c = Command::new(tool);
    c.args(args).env("GDAL_HTTP_TIMEOUT", "60").env("CPL_DEBUG", "OFF");
    if let Some(t) = token {
        c.args(["--config", "GDAL_HTTP_HEADERS", &format!("Authorization: Bearer {t}")]);
    }
    let out = c.output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{tool} {args:?} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

/// The incidents GDAL fetched (paging with `page` items a request), as (id, lon, lat).
fn fetch(url: &str, page: usize, token: Option<&str>, spat: Option<[f64; 4]>, out: &Path) -> Vec<(String, f64, f64)> {
    let _ = std::fs::remove_file(out);
    let page = format!("PAGE_SIZE={page}");
    let mut args: Vec<String> = ["-f", "GeoJSON", &out.display().to_string(), url, "incidents", "-oo", &page].map(str::to_string).to_vec();
    if let Some(b) = spat {
        args.push("-spat".into());
        args.extend(b.iter().map(|x| x.to_string()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    gdal("ogr2ogr", &args, token);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            (f["properties"]["id"].as_str().unwrap().to_string(), c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn gdal_reads_the_ogc_api_as_qgis_would() {
    if !have("ogrinfo") || !have("ogr2ogr") {
        assert!(std::env::var_os("CI").is_none(), "CI: ogrinfo/ogr2ogr (gdal-bin) must be installed by .ci/run");
        eprintln!("SKIP gdal_reads_the_ogc_api_as_qgis_would: no ogrinfo/ogr2ogr (apt-get install gdal-bin)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let demo = tmp.path().join("demo");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_truce"))
            .current_dir(&repo)
            .args(["serve", "--demo", &demo.display().to_string(), "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(300), "the server did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    let tokens = std::fs::read_to_string(demo.join("tokens.toml")).unwrap();
    let analyst = tokens.lines().filter_map(|l| l.strip_prefix("token = \"")).map(|l| l.trim_end_matches('"')).find(|t| t.starts_with("demo-analyst-")).unwrap().to_string();
    let url = format!("OAPIF:http://127.0.0.1:{port}/ogc");

    // Landing page, conformance, collections.
    let list = gdal("ogrinfo", &["-ro", "-q", &url], None);
    let names: BTreeSet<&str> = list.lines().filter_map(|l| l.split_once(": ").map(|(_, r)| r.split(' ').next().unwrap())).collect();
    assert_eq!(names, BTreeSet::from(["contact-line", "incidents", "regions", "war-fires", "zones"]), "{list}");
    let regions = gdal("ogrinfo", &["-ro", "-so", &url, "regions"], None);
    assert!(regions.contains("Geometry: Multi Polygon") && regions.contains("Feature Count: 25"), "{regions}");
    let fires = gdal("ogrinfo", &["-ro", "-so", &url, "war-fires"], None);
    assert!(fires.contains("Geometry: Point") && !fires.contains("Feature Count: 0"), "{fires}");
    let line = gdal("ogrinfo", &["-ro", "-so", &url, "contact-line"], None);
    assert!(line.contains("Geometry: Multi Line String") && line.contains("Feature Count: 5"), "{line}");

    // Every incident exactly once, whatever the page size; numberMatched agrees.
    let out = tmp.path().join("incidents.geojson");
    let all = fetch(&url, 1000, Some(&analyst), None, &out);
    assert!(all.len() > 100, "the demo has hundreds of incidents: {}", all.len());
    let paged = fetch(&url, 37, Some(&analyst), None, &out);
    let ids: BTreeSet<&String> = paged.iter().map(|x| &x.0).collect();
    assert_eq!(ids.len(), paged.len(), "an incident came twice while paging");
    assert_eq!(ids, all.iter().map(|x| &x.0).collect(), "paging by 37 lost or added incidents");
    let info = gdal("ogrinfo", &["-ro", "-so", &url, "incidents"], Some(&analyst));
    assert!(info.contains(&format!("Feature Count: {}", all.len())), "{info}");

    // A bbox: exactly the incidents inside it.
    let b = [37.5, 48.0, 38.5, 48.8];
    let inside: BTreeSet<&String> = all.iter().filter(|(_, x, y)| *x >= b[0] && *x <= b[2] && *y >= b[1] && *y <= b[3]).map(|x| &x.0).collect();
    assert!(!inside.is_empty() && inside.len() < all.len(), "a bbox that selects some: {}", inside.len());
    let got = fetch(&url, 50, Some(&analyst), Some(b), &out);
    assert_eq!(got.iter().map(|x| &x.0).collect::<BTreeSet<_>>(), inside);

    // The public sees verified incidents only: none in the demo until an analyst confirms.
    let public = gdal("ogrinfo", &["-ro", "-so", &url, "incidents"], None);
    assert!(public.contains("Feature Count: 0"), "{public}");

    qgis(&format!("http://127.0.0.1:{port}"), &analyst);
}

/// QGIS itself, through PyQGIS (`qgis_layers.py`): an analyst confirms one incident over
/// the API, then QGIS adds the three collections as layers and, as the public, sees
/// that one incident, the zones and the five dated lines.
fn qgis(base: &str, analyst: &str) {
    let python = "/usr/bin/python3";
    let has_qgis = Command::new(python).args(["-c", "import qgis.core"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !has_qgis {
        assert!(std::env::var_os("CI").is_none(), "CI: python3-qgis must be installed by .ci/run");
        eprintln!("SKIP qgis part: no PyQGIS for {python} (apt-get install python3-qgis qgis-providers)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/qgis_layers.py");
    let out = Command::new(python).arg(&script).args([base, analyst]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "qgis_layers.py failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = text.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    let confirmed = lines[0]["confirmed"].as_str().unwrap();
    let layer = |n: &str| lines.iter().find(|l| l["layer"] == n).unwrap_or_else(|| panic!("no layer {n}: {text}")).clone();
    let inc = layer("incidents");
    assert_eq!(inc["valid"], true, "{text}");
    assert_eq!(inc["ids"], serde_json::json!([confirmed]), "the public sees exactly the confirmed incident: {text}");
    assert!(inc["geometry"][0].as_str().unwrap().starts_with("Point"), "{text}");
    assert!(inc["fields"].as_array().unwrap().iter().any(|f| f == "confidence"), "{text}");
    let zones = layer("zones");
    assert!(zones["valid"] == true && zones["features"].as_u64().unwrap() >= 1, "{text}");
    let line = layer("contact-line");
    assert!(line["valid"] == true && line["features"] == 5, "{text}");
    assert!(line["geometry"][0].as_str().unwrap().starts_with("MultiLineString"), "{text}");
}
