//! The HTML edition opened in headless Chromium: it renders (a screenshot of a
//! reasonable size) and logs nothing to the console (no script error, no blocked
//! resource). `.ci/run` installs Debian's `chromium` when it is missing; without it
//! the test prints `SKIP: chromium not installed` and passes (under CI, with `CI` set, it
//! fails: `.ci/run` installs chromium).
//!
//! The fixture's screenshot is left at `$TMPDIR/truce-daily-fixture.png` to look at.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use truce_daily::{public_edition, to_html};

/// Longest a browser run may take before the test fails.
const BROWSER_SECONDS_MAX: u64 = 60;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c).arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
    })
}

/// Opens `html` and returns the console lines Chromium logged, and the PNG's bytes.
fn open(bin: &str, dir: &Path, name: &str, html: &str) -> (Vec<String>, Vec<u8>) {
    let page = dir.join(format!("{name}.html"));
    let png = dir.join(format!("{name}.png"));
    std::fs::write(&page, html).unwrap();
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,2400",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", dir.join(format!("{name}-profile")).display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start chromium");
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(BROWSER_SECONDS_MAX) {
            let _ = child.kill();
            panic!("chromium took over {BROWSER_SECONDS_MAX} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let console: Vec<String> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught") || l.contains("Refused to"))
        .map(String::from)
        .collect();
    let bytes = std::fs::read(&png).unwrap_or_default();
    (console, bytes)
}

fn assert_png(bytes: &[u8], what: &str) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{what}: no PNG written");
    assert!(bytes.len() > 20_000, "{what}: PNG of {} bytes, too small for the report", bytes.len());
}

#[test]
fn html_renders_in_chromium_without_console_errors() {
    let Some(bin) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "CI: chromium must be installed by .ci/run");
        println!("SKIP: chromium not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();

    // The check can fail: a page with a script error is caught.
    let (console, _) = open(bin, dir.path(), "control", "<!DOCTYPE html><p>x</p><script>missing();</script>");
    assert!(!console.is_empty(), "the console log is not being read");

    let report = common::fixture();
    let (console, png) = open(bin, dir.path(), "fixture", &to_html(&report));
    assert!(console.is_empty(), "console messages:\n{}", console.join("\n"));
    assert_png(&png, "fixture");
    let keep = std::env::temp_dir().join("truce-daily-fixture.png");
    std::fs::write(&keep, &png).unwrap();
    println!("screenshot: {}", keep.display());

    let (console, png) = open(bin, dir.path(), "public", &to_html(&public_edition(&report)));
    assert!(console.is_empty(), "console messages:\n{}", console.join("\n"));
    assert_png(&png, "public");
}
