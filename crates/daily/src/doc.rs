//! The report as a sequence of blocks (headings, paragraphs, tables, figures), built
//! once from the [`DailyReport`] and written by each edition: Markdown, HTML and PDF
//! say the same things in the same order.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::json::report_sha256;
use crate::map::incident_label;
use crate::model::{DailyReport, Edition, ObligationRow};
use crate::text::{change, money, plural, span, thousands, time};

/// A figure the edition draws in its own way (a file beside the Markdown, inline SVG in
/// the HTML, vector graphics in the PDF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Figure {
    Map,
    Warfires,
}

/// A table; `right[i]` right-aligns column i (numbers), `widths` are relative column
/// widths for the PDF.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub right: Vec<bool>,
    pub widths: Vec<f64>,
    /// Rows that are totals (bold).
    pub total_rows: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    Title(String),
    /// Label and value lines under the title.
    Meta(Vec<(String, String)>),
    H2(String),
    H3(String),
    Para(String),
    /// A paragraph the reader must not miss.
    Alert(String),
    Bullets(Vec<String>),
    Table(Table),
    Figure(Figure, String),
    /// Verbatim text.
    Code(String),
}

/// The Markdown and HTML editions list every incident; the PDF stops at its limit.
pub(crate) struct Options {
    pub incidents_max: Option<usize>,
    /// The name of the limit, said in the "... and N more" line.
    pub limit_name: &'static str,
}

fn table(head: &[&str], right: &[bool], widths: &[f64]) -> Table {
    Table {
        head: head.iter().map(|s| s.to_string()).collect(),
        rows: Vec::new(),
        right: right.to_vec(),
        widths: widths.to_vec(),
        total_rows: 0,
    }
}

pub(crate) fn blocks(r: &DailyReport, opt: &Options) -> Vec<Block> {
    let public = r.edition == Edition::Public;
    let mut b = Vec::new();
    b.push(Block::Title(r.title.clone()));
    let a = &r.agreement;
    b.push(Block::Meta(vec![
        (
            "Period".into(),
            format!("{} to {} (compared with {} to {})", time(&r.period.start), time(&r.period.end), time(&r.previous.start), time(&r.previous.end)),
        ),
        (
            "Edition".into(),
            match r.edition {
                Edition::Internal => "internal: all sources and confidence grades; not for publication".into(),
                Edition::Public => "public: verified incidents only, no restricted source".into(),
            },
        ),
        ("Agreement".into(), format!("{} ({} version {}, SHA-256 {})", a.title, a.id, a.version, a.sha256)),
        ("Ceasefire in force from".into(), time(&a.ceasefire_start)),
        ("Made by".into(), r.generated_by.clone()),
    ]));
    if let Some(replay) = &r.replay {
        b.push(Block::Alert(format!("Replay: {replay}. The figures below come from applying the agreement to past data; no such agreement was in force then.")));
    }

    b.push(Block::H2("Summary".into()));
    if r.summary.is_empty() {
        b.push(Block::Para("No summary was given.".into()));
    } else {
        b.push(Block::Bullets(r.summary.clone()));
    }
    if public {
        b.push(Block::Para(
            "This public edition counts only incidents the mission verified, and none with a restricted source; the internal edition counts more. The previous period's counts are not shown because they were made from every incident.".into(),
        ));
    }

    b.push(Block::H2("Map".into()));
    b.push(Block::Figure(
        Figure::Map,
        format!(
            "The contact line ({}), occupied ground, the agreement's fixed zones and the period's incidents; numbers are the rows of the incident table.",
            r.map.line_date.as_deref().unwrap_or("date unknown")
        ),
    ));

    // Violations by region, per kind.
    b.push(Block::H2("Violations by region".into()));
    let kinds: BTreeSet<&str> = r.by_region.iter().flat_map(|row| row.by_kind.iter().map(|(k, _)| k.as_str())).collect();
    if r.by_region.is_empty() {
        b.push(Block::Para(none_broke(r).into()));
    } else {
        let mut head: Vec<String> = vec!["Region".into()];
        head.extend(kinds.iter().map(|k| k.replace('_', " ")));
        head.push("Total".into());
        if !public {
            head.extend(["Previous".into(), "Change".into()]);
        }
        let n = head.len();
        let mut t = Table {
            head,
            rows: Vec::new(),
            right: (0..n).map(|i| i > 0).collect(),
            widths: (0..n).map(|i| if i == 0 { 3.0 } else { 1.0 }).collect(),
            total_rows: 1,
        };
        let (mut tot, mut prev) = (0u32, 0u32);
        let mut per_kind = vec![0u32; kinds.len()];
        for row in &r.by_region {
            let mut cells = vec![match &row.code {
                Some(c) => format!("{} ({c})", row.region),
                None => row.region.clone(),
            }];
            for (j, k) in kinds.iter().enumerate() {
                let v: u32 = row.by_kind.iter().filter(|(kk, _)| kk == k).map(|(_, v)| v).sum();
                per_kind[j] += v;
                cells.push(v.to_string());
            }
            cells.push(row.total.to_string());
            if !public {
                cells.push(row.previous_total.to_string());
                cells.push(change(row.total, row.previous_total));
            }
            tot += row.total;
            prev += row.previous_total;
            t.rows.push(cells);
        }
        let mut cells = vec!["All regions".to_string()];
        cells.extend(per_kind.iter().map(|v| v.to_string()));
        cells.push(tot.to_string());
        if !public {
            cells.push(prev.to_string());
            cells.push(change(tot, prev));
        }
        t.rows.push(cells);
        b.push(Block::Table(t));
        b.push(Block::Para("An incident of several kinds counts once under each kind and once in the total.".into()));
    }

    b.push(Block::H2("Violations by rule".into()));
    if r.by_rule.is_empty() {
        b.push(Block::Para(if r.edition == Edition::Public { "No rule was broken by a verified incident in the period." } else { "No rule was broken in the period." }.into()));
    } else {
        let mut t = if public {
            table(&["Rule", "Title", "Severity", "This period"], &[false, false, true, true], &[1.2, 4.0, 1.0, 1.2])
        } else {
            table(
                &["Rule", "Title", "Severity", "This period", "Previous", "Change"],
                &[false, false, true, true, true, true],
                &[1.2, 4.0, 1.0, 1.2, 1.2, 1.0],
            )
        };
        for row in &r.by_rule {
            let mut cells = vec![row.rule.clone(), row.title.clone(), row.severity.to_string(), row.count.to_string()];
            if !public {
                cells.push(row.previous.to_string());
                cells.push(change(row.count, row.previous));
            }
            t.rows.push(cells);
        }
        b.push(Block::Table(t));
    }

    b.push(Block::H2("Incidents".into()));
    if r.incidents.is_empty() {
        b.push(Block::Para(none_broke(r).into()));
    } else {
        b.push(Block::Para(format!(
            "{} broke a rule in the period, latest first. The number (#) is the incident's label on the map; the place is relative to the contact line of the day.",
            plural(r.incidents.len(), "incident", "incidents")
        )));
        let mut t = table(
            &["#", "Time", "Kinds", "Where", "Confidence", "Rules", "Incident"],
            &[true, false, false, false, false, false, false],
            &[0.5, 2.3, 1.5, 4.2, 1.9, 1.2, 1.6],
        );
        let shown = opt.incidents_max.unwrap_or(usize::MAX).min(r.incidents.len());
        for (i, inc) in r.incidents.iter().enumerate().take(shown) {
            t.rows.push(vec![
                incident_label(i),
                span(&inc.start, &inc.end),
                inc.kinds.join(", ").replace('_', " "),
                inc.place.clone(),
                format!(
                    "{} ({}, {})",
                    inc.confidence.replace('_', " "),
                    plural(inc.sources.len(), "source", "sources"),
                    plural(inc.observations as usize, "observation", "observations")
                ),
                inc.rules.join(", "),
                inc.id.clone(),
            ]);
        }
        b.push(Block::Table(t));
        if shown < r.incidents.len() {
            b.push(Block::Alert(format!(
                "... and {} more: this edition lists at most {} incidents ({}); the HTML, Markdown and JSON editions list all {}.",
                r.incidents.len() - shown,
                shown,
                opt.limit_name,
                r.incidents.len()
            )));
        }
    }

    if !r.late.is_empty() {
        b.push(Block::H2("Reported late".into()));
        b.push(Block::Para(format!(
            "{} broke a rule before this period but first became known during it (a late report, a feed that caught up); no earlier daily report listed them.",
            plural(r.late.len(), "incident", "incidents")
        )));
        let mut t = table(&["Time", "Kinds", "Where", "Confidence", "Rules", "Incident"], &[false; 6], &[2.3, 1.5, 4.2, 1.9, 1.2, 1.6]);
        for inc in r.late.iter().take(opt.incidents_max.unwrap_or(usize::MAX)) {
            t.rows.push(vec![
                span(&inc.start, &inc.end),
                inc.kinds.join(", ").replace('_', " "),
                inc.place.clone(),
                inc.confidence.replace('_', " "),
                inc.rules.join(", "),
                inc.id.clone(),
            ]);
        }
        b.push(Block::Table(t));
    }

    b.push(Block::H2("War-related fires".into()));
    match &r.warfires {
        Some(w) if !w.days.is_empty() => {
            b.push(Block::Figure(Figure::Warfires, format!("War-related fires per day on held and occupied ground. {}", w.note)));
            let mut t = table(&["Date", "Held", "Occupied", "Total"], &[false, true, true, true], &[2.0, 1.0, 1.0, 1.0]);
            for d in w.days.iter().rev().take(7).collect::<Vec<_>>().into_iter().rev() {
                t.rows.push(vec![d.date.clone(), d.held.to_string(), d.occupied.to_string(), (d.held + d.occupied).to_string()]);
            }
            b.push(Block::Para("The last seven days:".into()));
            b.push(Block::Table(t));
        }
        _ => b.push(Block::Para("The war-fire series is not available for this period (see the notes).".into())),
    }

    b.push(Block::H2("Coverage gaps".into()));
    if r.gaps.is_empty() {
        b.push(Block::Para("No coverage gap was recorded for the period. Even so, a violation that no source saw is not in this report: the absence of reports is not evidence of calm.".into()));
    } else {
        b.push(Block::Alert(format!(
            "{} in the period: in these times and areas a source could not see. Not calm: no report from them means nothing was seen, not that nothing happened.",
            plural(r.gaps.len(), "coverage gap", "coverage gaps")
        )));
        let mut t = table(&["Source", "Reason", "When", "Area", "Note"], &[false; 5], &[1.6, 1.6, 2.6, 2.4, 3.0]);
        for g in &r.gaps {
            t.rows.push(vec![g.source.clone(), g.reason.replace('_', " "), span(&g.start, &g.end), g.area.clone(), g.note.clone()]);
        }
        b.push(Block::Table(t));
    }

    b.push(Block::H2("Obligations".into()));
    obligations(&mut b, r);

    b.push(Block::H2("Pledges".into()));
    match &r.pledges {
        None => b.push(Block::Para("The agreement has no pledge registry.".into())),
        Some(p) => {
            let share = |d: f64, c: f64| if c > 0.0 { format!("{:.0} %", 100.0 * d / c) } else { "-".into() };
            b.push(Block::Para(format!(
                "Committed {}, allocated {}, delivered {} (millions {}): {} of the committed value delivered.{}",
                money(p.committed_m),
                money(p.allocated_m),
                money(p.delivered_m),
                p.currency,
                share(p.delivered_m, p.committed_m),
                if p.anomalies > 0 {
                    format!(" {} in the registry (a delivery over its allocation, or an allocation over its pledge): see `truce pledges`.", plural(p.anomalies as usize, "anomaly", "anomalies"))
                } else {
                    String::new()
                }
            )));
            let mut t = table(
                &["Donor", &format!("Committed (m {})", p.currency), &format!("Delivered (m {})", p.currency), "Delivered share"],
                &[false, true, true, true],
                &[3.0, 1.6, 1.6, 1.4],
            );
            for d in &p.donors {
                t.rows.push(vec![d.donor.clone(), money(d.committed_m), money(d.delivered_m), share(d.delivered_m, d.committed_m)]);
            }
            b.push(Block::Table(t));
        }
    }

    b.push(Block::H2("Force generation".into()));
    match &r.forces {
        None => b.push(Block::Para("The agreement has no force-generation target.".into())),
        Some(f) => {
            let m = |o: &Option<String>| o.clone().unwrap_or_else(|| "not within the horizon".into());
            b.push(Block::Para(format!(
                "Target: {} well-trained. In the median of {} runs it is reached in {} (10th to 90th percentile: {} to {}). Binding constraint: {}.",
                thousands(&f.target.to_string()),
                f.runs,
                m(&f.median_month),
                m(&f.p10_month),
                m(&f.p90_month),
                f.binding.replace('_', " ")
            )));
        }
    }

    b.push(Block::H2("Evidence log".into()));
    let sha = report_sha256(r);
    match &r.log {
        None => {
            b.push(Block::Para(format!(
                "This report is not (yet) in an evidence log. Its SHA-256 (of its JSON with `log` null) is {sha}."
            )));
        }
        Some(l) => {
            b.push(Block::Para(format!(
                "This report is entry {} of the log {}, proved against the signed checkpoint of size {} below. The entry records the SHA-256 of the report's JSON with `log` set to null: {}.",
                l.index, l.origin, l.tree_size, l.report_sha256
            )));
            if l.report_sha256 != sha {
                b.push(Block::Alert(format!(
                    "The report's own hash is {sha}, not the one the log records: this copy differs from the one logged."
                )));
            }
            b.push(Block::H3("Checkpoint".into()));
            b.push(Block::Code(l.checkpoint.trim_end().to_string()));
            b.push(Block::H3("Inclusion proof".into()));
            let hashes = l.inclusion_proof.iter().map(|h| format!("    \"{h}\"")).collect::<Vec<_>>().join(",\n");
            b.push(Block::Code(format!(
                "{{\n  \"index\": {},\n  \"size\": {},\n  \"hashes\": [\n{}\n  ]\n}}",
                l.index, l.tree_size, hashes
            )));
            b.push(Block::Para(format!(
                "To verify: save the checkpoint above as checkpoint.txt and the proof as proof.json. Set `log` to null in the report's JSON and hash it as `truce-daily`'s `report_sha256` does; it must equal the hash above. Fetch the entry's bytes (`truce log prove --dir LOG_DIR --index {} --entry-out entry.bin`, or from the served tiles) and check that the entry records that hash. Then `truce log verify-inclusion --vkey VERIFIER_KEY --checkpoint checkpoint.txt --entry entry.bin --proof proof.json` checks the proof against the signed checkpoint.",
                l.index
            )));
        }
    }

    b.push(Block::H2("Notes".into()));
    if r.notes.is_empty() {
        b.push(Block::Para("None.".into()));
    } else {
        b.push(Block::Bullets(r.notes.clone()));
    }
    b
}

fn obligations(b: &mut Vec<Block>, r: &DailyReport) {
    if r.obligations.is_empty() {
        b.push(Block::Para("No obligation was raised.".into()));
        return;
    }
    let mut statuses: Vec<&str> = vec!["breached", "pending", "fulfilled", "withdrawn"];
    for o in &r.obligations {
        if !statuses.contains(&o.status.as_str()) {
            statuses.push(&o.status);
        }
    }
    let counts: Vec<String> = statuses
        .iter()
        .map(|s| format!("{} {s}", r.obligations.iter().filter(|o| o.status == *s).count()))
        .collect();
    b.push(Block::Para(format!(
        "{} at the cut-off: {}. Deadlines are in UTC; a pending obligation's time left is counted from the cut-off.",
        plural(r.obligations.len(), "obligation", "obligations"),
        counts.join(", ")
    )));
    let cutoff = DateTime::parse_from_rfc3339(&r.period.end).ok().map(|d| d.with_timezone(&Utc));
    for status in statuses {
        let mut group: Vec<&ObligationRow> = r.obligations.iter().filter(|o| o.status == status).collect();
        if group.is_empty() {
            continue;
        }
        group.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
        let mut title = status.to_string();
        title[..1].make_ascii_uppercase();
        b.push(Block::H3(format!("{title} ({})", group.len())));
        let mut t = table(
            &["Clause", "Party", "Must", "Triggered", "Deadline", "Because"],
            &[false; 6],
            &[2.2, 1.3, 2.2, 1.6, 1.9, 3.6],
        );
        for o in group {
            let mut deadline = time(&o.deadline);
            if status == "pending" {
                if let (Some(c), Ok(d)) = (cutoff, DateTime::parse_from_rfc3339(&o.deadline)) {
                    let h = (d.with_timezone(&Utc) - c).num_minutes() as f64 / 60.0;
                    deadline += &if h >= 0.0 { format!(" (in {h:.0} h)") } else { format!(" ({:.0} h ago)", -h) };
                }
            }
            t.rows.push(vec![
                format!("{}: {}", o.clause, o.title),
                o.party.clone(),
                o.action.clone(),
                time(&o.triggered),
                deadline,
                o.because.clone(),
            ]);
        }
        b.push(Block::Table(t));
    }
}

/// "No incident broke a rule", said precisely for the edition: the public one counts
/// verified incidents only.
fn none_broke(r: &DailyReport) -> &'static str {
    if r.edition == Edition::Public {
        "No verified incident in the period broke a rule (unverified ones are left out of this edition)."
    } else {
        "No incident in the period broke a rule."
    }
}
