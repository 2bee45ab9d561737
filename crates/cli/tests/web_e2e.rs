//! The web page end to end, in headless Chromium: `crates/cli/web/e2e/web.test.mjs`
//! (playwright-core) starts `truce serve --demo` on a free loopback port, opens the page,
//! checks the map, moves the date slider, confirms an incident as the demo analyst and
//! checks the API agrees, and fails on any console error or failed request.
//!
//! Needs `node`, the e2e folder's npm packages (`npm ci` in `crates/cli/web/e2e`) and
//! `/usr/bin/chromium`. Without one of them the test prints SKIP and passes, unless the
//! environment variable `CI` is set, where it fails.

use std::path::Path;
use std::process::Command;

fn missing() -> Option<String> {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/e2e");
    let chromium = std::env::var("TRUCE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    for p in ["playwright-core", "maplibre-gl"] {
        if !e2e.join("node_modules").join(p).join("package.json").is_file() {
            return Some(format!("{} has no node_modules/{p} (run `npm ci` there)", e2e.display()));
        }
    }
    if !Path::new(&chromium).is_file() {
        return Some(format!("{chromium} is not installed"));
    }
    None
}

#[test]
fn web_page_in_headless_chromium() {
    if let Some(why) = missing() {
        if std::env::var_os("CI").is_some() {
            panic!("web_e2e: {why}; CI is set, so the browser test may not be skipped");
        }
        eprintln!("\n*** SKIP web_e2e: {why} ***\n");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/e2e/web.test.mjs");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-e2e.png");
    let out = Command::new("node").arg(&script).arg(env!("CARGO_BIN_EXE_truce")).arg(&shot).output().expect("running node");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // The page's checks, and where the screenshot is.
    for line in text.lines().filter(|l| l.starts_with('[') || l.starts_with("FAIL") || l.starts_with("  ")) {
        println!("{line}");
    }
    assert!(out.status.success(), "the browser test failed:\n{text}");
    assert!(text.contains("PASS"), "{text}");
    println!("screenshot: {}", shot.display());
}
