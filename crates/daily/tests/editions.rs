//! The editions of the fixture report: snapshots of the Markdown and JSON, the
//! properties of the HTML, SVG and PDF, and the public edition.

mod common;

use std::collections::HashSet;

use common::{fixture, snapshot, updating, with_incidents};
use truce_daily::*;

#[test]
fn fixture_log_records_its_own_hash() {
    let r = fixture();
    let log = r.log.as_ref().expect("the fixture has a log record");
    let sha = report_sha256(&r);
    if updating() && log.report_sha256 != sha {
        let mut fixed = r.clone();
        fixed.log.as_mut().unwrap().report_sha256 = sha.clone();
        // Atomically: the other tests read the fixture meanwhile.
        let path = common::dir().join("fixtures/report.json");
        std::fs::write(path.with_extension("json.tmp"), to_json(&fixed)).unwrap();
        std::fs::rename(path.with_extension("json.tmp"), path).unwrap();
        return;
    }
    assert_eq!(log.report_sha256, sha, "run with UPDATE_SNAPSHOTS=1 to fix the fixture");
    // The hash does not depend on the log record itself.
    let mut other = r.clone();
    other.log.as_mut().unwrap().index += 1;
    assert_eq!(report_sha256(&other), sha);
    other.notes.push("changed".into());
    assert_ne!(report_sha256(&other), sha);
}

#[test]
fn json_snapshot() {
    snapshot("report.json", &to_json(&fixture()));
}

#[test]
fn markdown_snapshot() {
    snapshot("report.md", &to_markdown(&fixture()));
}

#[test]
fn public_markdown_snapshot() {
    snapshot("report.public.md", &to_markdown(&public_edition(&fixture())));
}

#[test]
fn json_round_trips_and_refuses_other_schemas() {
    let r = fixture();
    assert_eq!(from_json(&to_json(&r)).unwrap(), r);
    let p = public_edition(&r);
    assert_eq!(from_json(&to_json(&p)).unwrap(), p);
    let other = to_json(&r).replace("truce-daily-report/1", "truce-daily-report/9");
    let e = from_json(&other).unwrap_err().to_string();
    assert!(e.contains("truce-daily-report/9"), "{e}");
    let e = from_json("{\"schema\": 3}").unwrap_err().to_string();
    assert!(e.contains("line 1"), "{e}");
    // A file from before `restricted` existed still reads, as not restricted.
    let mut v: serde_json::Value = serde_json::from_str(&to_json(&r)).unwrap();
    for inc in v["incidents"].as_array_mut().unwrap() {
        inc.as_object_mut().unwrap().remove("restricted");
    }
    let old = from_json(&v.to_string()).unwrap();
    assert!(old.incidents.iter().all(|i| !i.restricted));
}

#[test]
fn markdown_has_every_section() {
    let md = to_markdown(&fixture());
    for h in [
        "# Daily report of the ceasefire monitoring mechanism, 12 June 2022",
        "## Summary",
        "## Violations by region",
        "## Violations by rule",
        "## Incidents",
        "## War-related fires",
        "## Coverage gaps",
        "## Obligations",
        "### Breached (5)",
        "### Pending (5)",
        "### Fulfilled (5)",
        "### Withdrawn (5)",
        "## Pledges",
        "## Force generation",
        "## Evidence log",
        "## Notes",
        "![",
        "(map.svg)",
        "(warfires.svg)",
        "truce log verify-inclusion",
        "Not calm",
        "Replay:",
    ] {
        assert!(md.contains(h), "missing {h:?}");
    }
    // The checkpoint is verbatim in a code block.
    let cp = fixture().log.unwrap().checkpoint;
    assert!(md.contains(cp.trim_end()));
}

#[test]
fn hostile_text_is_escaped_everywhere() {
    let evil = "<script>alert(1)</script>";
    let mut r = fixture();
    r.notes.push(evil.into());
    r.incidents[0].place = format!("near {evil} | & \"x\"");
    r.by_region[0].region = evil.into();
    r.obligations[0].party = evil.into();
    r.map.zones[0].name = evil.into();
    let html = to_html(&r);
    assert!(!html.contains("<script"), "raw script tag in HTML");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let svg = map_svg(&r);
    assert!(!svg.contains("<script"));
    let md = to_markdown(&r);
    assert!(!md.contains("<script"));
    assert!(md.contains("near &lt;script&gt;alert(1)&lt;/script&gt; \\| &amp; \"x\""), "table cell escaped");
}

#[test]
fn html_is_self_contained() {
    let mut r = fixture();
    // Text the report carries may hold a URL; it is shown, never fetched.
    r.notes.push("Source list: https://example.org/sources".into());
    let html = to_html(&r);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg ").count(), 2, "map and chart inline");
    for bad in ["<script", "<link", "<img", "<iframe", "@import", "url(http", "src=\""] {
        assert!(!html.contains(bad), "found {bad}");
    }
    let mut rest = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    rest = rest.replace("https://example.org/sources", "");
    assert!(!rest.contains("http://") && !rest.contains("https://"), "an external URL");
    assert!(html.contains("@media print"));
    assert!(html.contains("name=\"viewport\""));
}

#[test]
fn map_svg_is_standalone_and_labels_every_incident() {
    let r = fixture();
    let svg = map_svg(&r);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_balanced(&svg);
    assert_eq!(svg.matches("<circle").count(), r.incidents.len() + 3, "one per incident, three in the legend");
    for i in 0..r.incidents.len() {
        assert!(svg.contains(&format!(">{}</text>", incident_label(i))));
    }
    for s in ["Svitlodarsk disengagement area", "contact line", " km</text>", ">N</text>", "2022-06-12"] {
        assert!(svg.contains(s), "missing {s:?}");
    }
    // A degenerate box still draws.
    let mut d = r.clone();
    d.map.bbox = [37.0, 48.0, 37.0, 48.0];
    assert_balanced(&map_svg(&d));
}

#[test]
fn warfire_chart() {
    let r = fixture();
    let w = r.warfires.as_ref().unwrap();
    let svg = warfire_svg(w).unwrap();
    assert_balanced(&svg);
    for s in ["held ground", "occupied ground", "30 May", "12 Jun", "fires/day"] {
        assert!(svg.contains(s), "missing {s:?}");
    }
    assert!(warfire_svg(&WarfireSeries { days: vec![], note: String::new() }).is_none());
    let one = WarfireSeries { days: w.days[..1].to_vec(), note: String::new() };
    assert_balanced(&warfire_svg(&one).unwrap());
}

fn pages(pdf: &[u8]) -> usize {
    let s = String::from_utf8_lossy(pdf);
    s.matches("/Type /Page").count() - s.matches("/Type /Pages").count()
}

#[test]
fn pdf_has_pages_and_text() {
    let r = fixture();
    let pdf = to_pdf(&r);
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(pages(&pdf) >= 2, "{} pages", pages(&pdf));
    assert!(text.contains("(Daily report of the ceasefire monitoring mechanism, 12 June 2022)"));
    assert!(text.contains("Bakhmut"));
    assert!(text.contains("/BaseFont /Helvetica"));
    assert!(!text.contains("/FlateDecode"), "streams are written uncompressed");
    // The map is vector: curves for the incident circles, no image.
    assert!(text.contains(" c\n"));
    assert!(!text.contains("/Image"));
}

#[test]
fn pdf_grows_with_incidents_and_stops_at_its_limit() {
    let few = pages(&to_pdf(&with_incidents(12)));
    let many = pages(&to_pdf(&with_incidents(120)));
    assert!(many > few, "{few} pages with 12 incidents, {many} with 120");
    let n = PDF_INCIDENTS_MAX + 37;
    let capped = to_pdf(&with_incidents(n));
    let text = String::from_utf8_lossy(&capped);
    assert!(text.contains("(... and 37 more: this edition lists at most"), "the cut is said");
    assert!(text.contains("PDF_INCIDENTS_MAX"));
    // The table header repeats on each page it continues to.
    assert!(text.matches("(Confidence)").count() >= 2);
}

#[test]
fn public_edition_leaves_out_what_may_not_leave() {
    let r = fixture();
    let p = public_edition(&r);
    assert_eq!(p.edition, Edition::Public);
    assert!(p.log.is_none());
    let verified: Vec<&IncidentRow> =
        r.incidents.iter().filter(|i| i.confidence == "verified" && !i.restricted).collect();
    assert_eq!(p.incidents.len(), verified.len());
    assert!(verified.len() < r.incidents.iter().filter(|i| i.confidence == "verified").count(), "the fixture has a restricted verified incident");
    // Counts recomputed from what remains.
    let total: u32 = p.by_region.iter().map(|x| x.total).sum();
    assert_eq!(total as usize, p.incidents.len());
    for row in &p.by_rule {
        assert_eq!(row.count as usize, p.incidents.iter().filter(|i| i.rules.contains(&row.rule)).count());
        assert_eq!(row.previous, 0);
    }
    assert!(p.by_region.iter().all(|x| x.previous_total == 0));
    // Obligations stay, but cite no incident left out.
    assert_eq!(p.obligations.len(), r.obligations.len());
    let kept: HashSet<&str> = p.incidents.iter().map(|i| i.id.as_str()).collect();
    let gone: Vec<&str> = r.incidents.iter().map(|i| i.id.as_str()).filter(|id| !kept.contains(id)).collect();
    for o in &p.obligations {
        for id in &gone {
            assert!(!o.because.contains(id), "{} cites {id}: {}", o.id, o.because);
        }
    }
    assert!(p.obligations.iter().any(|o| o.because.contains("not public")));
    // Nothing of a left-out incident in any public edition.
    let md = to_markdown(&p);
    let html = to_html(&p);
    let json = to_json(&p);
    for inc in r.incidents.iter().filter(|i| !kept.contains(i.id.as_str())) {
        for text in [&md, &html, &json] {
            assert!(!text.contains(&inc.id), "{} leaked", inc.id);
            assert!(!text.contains(&inc.place), "{} leaked", inc.place);
        }
    }
    assert!(!md.contains("| Previous |"), "no comparison with counts of every incident");
    // Idempotent.
    assert_eq!(public_edition(&p), p);
}

/// Every start tag is closed in order (enough to catch a broken writer; the browser
/// test renders the whole HTML).
fn assert_balanced(xml: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("unclosed tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| !c.is_whitespace()).collect();
        if tag.starts_with('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "mismatched </{name}>");
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
}

#[test]
fn incidents_reported_late_get_their_own_section() {
    let mut r = fixture();
    // Two earlier incidents first known in this period: one verified, one not.
    let mut a = r.incidents[0].clone();
    a.id = "I-late-verified".into();
    a.confidence = "verified".into();
    a.restricted = false;
    let mut b = r.incidents[1].clone();
    b.id = "I-late-single".into();
    b.confidence = "single_source".into();
    r.late = vec![a, b];
    let md = to_markdown(&r);
    let at = md.find("## Reported late").expect("a section for them");
    assert!(md[at..].contains("I-late-verified") && md[at..].contains("I-late-single"));
    assert!(md[at..].contains("2 incidents broke a rule before this period"), "{}", &md[at..at + 200]);
    assert!(to_html(&r).contains("Reported late"));
    let public = public_edition(&r);
    assert_eq!(public.late.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["I-late-verified"]);
    // None late: no section.
    assert!(!to_markdown(&fixture()).contains("## Reported late"));
    // The PDF still renders.
    assert!(to_pdf(&r).starts_with(b"%PDF"));
}
