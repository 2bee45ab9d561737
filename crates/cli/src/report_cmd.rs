//! `truce report`: the daily monitoring report for one day, assembled from the
//! assessment (incidents, violations, gaps, obligations), the war-fire detector, the
//! control map, the accounts and the evidence log, and written in its editions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use clap::Args;
use geo::Simplify;
use truce_agreement::Agreement;
use truce_daily::{
    AgreementRef, DailyReport, DonorRow, Edition, ForcesStatus, GapRow, IncidentRow, LogRef, MapData, MapZone, ObligationRow, Period,
    PledgesSummary, RegionRow, RuleRow, WarfireDay, WarfireSeries,
};
use truce_geometry::Classifier;
use truce_model::{GapArea, Side};

use crate::agreement_cmd::Common;
use crate::assess::{assess, load_agreement, load_geometry, Assessment, Geometry};
use crate::commands::Outcome;

/// Days of war-fire series shown.
const WARFIRE_DAYS: i64 = 14;

#[derive(Args)]
pub struct ReportArgs {
    /// The agreement file (TOML).
    #[arg(long)]
    pub agreement: PathBuf,
    /// The data directory (observations/, decisions.jsonl, actions.jsonl, log/).
    #[arg(long)]
    pub data: PathBuf,
    /// The day reported on (YYYY-MM-DD): the 24 hours ending at the cut-off that day.
    #[arg(long)]
    pub day: NaiveDate,
    /// The cut-off, UTC (HH:MM); 24:00 (the default) reports on the whole UTC day.
    #[arg(long, default_value = "24:00")]
    pub cutoff: String,
    /// Replay: as if the ceasefire had started then (see `truce obligations --help`).
    #[arg(long, value_parser = crate::agreement_cmd::parse_start)]
    pub ceasefire_from: Option<DateTime<Utc>>,
    /// Write the public edition: no restricted source, no unverified incident.
    #[arg(long)]
    pub public: bool,
    /// The folder to write report.json (and the other editions) into.
    #[arg(long, default_value = "truce-report")]
    pub out: PathBuf,
    /// Record the report in the data directory's evidence log and sign a checkpoint
    /// with this key; the report then carries its own inclusion proof.
    #[arg(long)]
    pub key: Option<PathBuf>,
}

/// The end of the period: `day` at `cutoff` (24:00 is the end of the day).
pub fn period_end(day: NaiveDate, cutoff: &str) -> Result<DateTime<Utc>> {
    if cutoff == "24:00" {
        return Ok((day + Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    let t = NaiveTime::parse_from_str(cutoff, "%H:%M").with_context(|| format!("--cutoff {cutoff}: expected HH:MM (00:00 to 24:00)"))?;
    Ok(day.and_time(t).and_utc())
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn ms(t: i64) -> String {
    rfc(DateTime::from_timestamp_millis(t).unwrap_or_default())
}

fn rings(p: &geo::Polygon) -> Vec<Vec<[f64; 2]>> {
    std::iter::once(p.exterior()).chain(p.interiors()).map(|r| r.0.iter().map(|c| [round5(c.x), round5(c.y)]).collect()).collect()
}

fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

fn area_text(a: &GapArea) -> String {
    match a {
        GapArea::Everywhere => "everywhere the source sees".into(),
        GapArea::Circle { lon, lat, radius_km } => format!("within {radius_km:.0} km of {lat:.3} N {lon:.3} E"),
        GapArea::BBox { min_lon, min_lat, max_lon, max_lat } => format!("box {min_lon:.2}-{max_lon:.2} E, {min_lat:.2}-{max_lat:.2} N"),
    }
}

/// Builds the report (internal edition, no log record yet).
pub fn build(a: &Agreement, geo: &Geometry, s: &Assessment, start: DateTime<Utc>, end: DateTime<Utc>, replay: Option<String>) -> Result<DailyReport> {
    let (t0, t1) = (start.timestamp_millis(), end.timestamp_millis());
    let prev0 = t0 - 86_400_000;
    let region_name = |code: &Option<String>| -> String {
        match code {
            Some(c) => geo.country.regions.iter().find(|r| &r.code == c).map_or(c.clone(), |r| r.name.clone()),
            None => "outside the country or unknown".into(),
        }
    };
    // Violating incidents per period (rejected ones do not count).
    let mut rules_of: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for v in &s.violations {
        rules_of.entry(v.incident).or_default().push(v.rule.clone());
    }
    let in_window = |i: usize, lo: i64, hi: i64| {
        let m = s.incidents[i].mid_ms();
        m >= lo && m < hi && s.standings[i].confidence().is_some()
    };
    let now: Vec<usize> = rules_of.keys().copied().filter(|&i| in_window(i, t0, t1)).collect();
    let before: Vec<usize> = rules_of.keys().copied().filter(|&i| in_window(i, prev0, t0)).collect();

    let mut regions: BTreeMap<String, (Option<String>, BTreeMap<String, u32>, u32, u32)> = BTreeMap::new();
    for &i in &now {
        let code = s.placements[i].region.clone();
        let e = regions.entry(region_name(&code)).or_insert((code, BTreeMap::new(), 0, 0));
        // Counted once under each of its kinds (and once in the total).
        for k in &s.incidents[i].kinds {
            *e.1.entry(k.as_str().to_string()).or_default() += 1;
        }
        e.2 += 1;
    }
    for &i in &before {
        let code = s.placements[i].region.clone();
        regions.entry(region_name(&code)).or_insert((code, BTreeMap::new(), 0, 0)).3 += 1;
    }
    let mut by_region: Vec<RegionRow> = regions
        .into_iter()
        .map(|(region, (code, kinds, total, previous_total))| RegionRow { region, code, by_kind: kinds.into_iter().collect(), total, previous_total })
        .collect();
    by_region.sort_by(|x, y| y.total.cmp(&x.total).then(y.previous_total.cmp(&x.previous_total)).then(x.region.cmp(&y.region)));

    let by_rule: Vec<RuleRow> = a
        .rules
        .iter()
        .map(|r| {
            let count = |set: &[usize]| set.iter().filter(|i| rules_of[i].contains(&r.id)).count() as u32;
            RuleRow { rule: r.id.clone(), title: r.title.clone(), severity: r.severity, count: count(&now), previous: count(&before) }
        })
        .collect();

    let row = |&i: &usize| {
            let inc = &s.incidents[i];
            let pl = &s.placements[i];
            IncidentRow {
                id: inc.id.clone(),
                start: ms(inc.start_ms),
                end: ms(inc.end_ms),
                kinds: inc.kinds.iter().map(|k| k.as_str().to_string()).collect(),
                sources: inc.sources.clone(),
                confidence: s.standings[i].confidence().map_or("rejected", |c| c.as_str()).to_string(),
                lon: round5(inc.lon),
                lat: round5(inc.lat),
                uncertainty_m: inc.uncertainty_m.round(),
                place: s.wheres[i].text.clone(),
                side: pl.side.map_or("unknown", |x| x.as_str()).to_string(),
                distance_km: pl.distance_km.map(|d| (d * 10.0).round() / 10.0),
                region: pl.region.clone(),
                rules: rules_of[&i].clone(),
                observations: inc.member_ids.len() as u32,
                restricted: inc.restricted,
            }
    };
    let mut incidents: Vec<IncidentRow> = now.iter().map(row).collect();
    incidents.sort_by(|x, y| y.start.cmp(&x.start).then(x.id.cmp(&y.id)));
    // Earlier incidents first known in this period: no earlier report could list them.
    let mut late: Vec<IncidentRow> = rules_of
        .keys()
        .filter(|&&i| {
            let known = s.standings[i].known_ms;
            s.incidents[i].mid_ms() < t0 && known >= t0 && known < t1 && s.standings[i].confidence().is_some()
        })
        .map(row)
        .collect();
    late.sort_by(|x, y| y.start.cmp(&x.start).then(x.id.cmp(&y.id)));

    // War fires per day and side over the last days.
    let mut notes: Vec<String> = s.notes.clone();
    let warfires = match &s.war_fire_detector {
        None => {
            notes.push("No war-fire series: the detector needs FIRMS data of the baseline years (2012-2021), which the data directory lacks.".into());
            None
        }
        Some(method) => {
            let lo = t1 - WARFIRE_DAYS * 86_400_000;
            let pts: Vec<&(f64, f64, i64)> = s.war_fires.iter().filter(|w| w.2 >= lo && w.2 < t1).collect();
            let lon: Vec<f64> = pts.iter().map(|w| w.0).collect();
            let lat: Vec<f64> = pts.iter().map(|w| w.1).collect();
            let tm: Vec<i64> = pts.iter().map(|w| w.2).collect();
            let cl = Classifier { map: &geo.map, country: &geo.country, zones: &[], fixed_snapshot: None };
            let classes = cl.classify(&lon, &lat, &tm, &|_| {})?;
            let mut days: BTreeMap<String, (u32, u32)> = BTreeMap::new();
            for d in 0..WARFIRE_DAYS {
                days.insert(ms(lo + d * 86_400_000)[..10].to_string(), (0, 0));
            }
            for (w, c) in pts.iter().zip(&classes) {
                let e = days.entry(ms(w.2)[..10].to_string()).or_default();
                match c.side {
                    Side::Occupied => e.1 += 1,
                    Side::Held | Side::Contested => e.0 += 1,
                    _ => {}
                }
            }
            Some(WarfireSeries {
                days: days.into_iter().map(|(date, (held, occupied))| WarfireDay { date, held, occupied }).collect(),
                note: format!("{method}; side by the control map in force on each day (contested ground counted as held)"),
            })
        }
    };

    // The map: the line in force at the end of the period.
    let snap = geo.map.in_force_ms(t1 - 1).map(|i| geo.map.derived(i, &geo.country)).transpose()?;
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    let (occupied, contact_line, line_date) = match &snap {
        Some(d) => {
            let occ = d.occupied.simplify(0.01);
            let line = d.contact_line.simplify(0.004);
            // Without incidents the map shows the whole line; with them, their area.
            if incidents.is_empty() {
                for l in &line.0 {
                    xs.extend(l.0.iter().map(|c| c.x));
                    ys.extend(l.0.iter().map(|c| c.y));
                }
            }
            (
                occ.0.iter().map(rings).collect(),
                line.0.iter().map(|l| l.0.iter().map(|c| [round5(c.x), round5(c.y)]).collect()).collect(),
                Some(d.taken_at.format("%Y-%m-%d").to_string()),
            )
        }
        None => (vec![], vec![], None),
    };
    for r in &incidents {
        xs.push(r.lon);
        ys.push(r.lat);
    }
    let bbox = if xs.is_empty() {
        let r = geo::BoundingRect::bounding_rect(&geo.country.outline).map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
        r.unwrap_or([22.0, 44.0, 41.0, 53.0])
    } else {
        let f = |v: &[f64], g: fn(f64, f64) -> f64, init: f64| v.iter().copied().fold(init, g);
        let pad = if incidents.is_empty() { (0.6, 0.4) } else { (1.2, 0.8) };
        [f(&xs, f64::min, 180.0) - pad.0, f(&ys, f64::min, 90.0) - pad.1, f(&xs, f64::max, -180.0) + pad.0, f(&ys, f64::max, -90.0) + pad.1]
    };
    let outline: Vec<Vec<[f64; 2]>> = geo.country.outline.simplify(0.02).0.iter().flat_map(|p| rings(p)).collect();
    let zones: Vec<MapZone> = geo
        .zones
        .iter()
        .zip(&geo.areas)
        .filter_map(|(z, area)| area.as_ref().map(|mp| MapZone { name: z.name.clone(), polygons: mp.simplify(0.01).0.iter().map(rings).collect() }))
        .collect();
    let map = MapData { bbox: bbox.map(round5), outline, occupied, contact_line, zones, line_date };

    let gaps: Vec<GapRow> = s
        .gaps
        .iter()
        .filter(|g| g.time.start.timestamp_millis() < t1 && g.time.end.timestamp_millis() > t0)
        .map(|g| GapRow {
            source: g.source.as_str().into(),
            reason: g.reason.as_str().into(),
            start: rfc(g.time.start),
            end: rfc(g.time.end),
            area: area_text(&g.area),
            note: g.note.clone(),
        })
        .collect();

    let obligations: Vec<ObligationRow> = s
        .evaluation
        .obligations
        .iter()
        .map(|o| {
            let mut because = o.because.condition.clone();
            let ids: Vec<&str> = o.because.incidents.iter().map(|(i, _)| i.as_str()).collect();
            if !ids.is_empty() {
                because.push_str(&format!(": {}", ids.iter().take(5).copied().collect::<Vec<_>>().join(", ")));
                if ids.len() > 5 {
                    because.push_str(&format!(" and {} more", ids.len() - 5));
                }
            }
            for b in &o.because.breached {
                because.push_str(&format!("; breach of {b}"));
            }
            ObligationRow {
                id: o.id.clone(),
                clause: o.clause.clone(),
                title: o.title.clone(),
                party: o.party.clone(),
                action: o.action.clone(),
                triggered: rfc(o.triggered),
                deadline: rfc(o.deadline),
                status: o.status.as_str().into(),
                because,
            }
        })
        .collect();

    let (pledges, forces) = accounts(a, &mut notes)?;

    let mut summary = Vec::new();
    let total_now: u32 = by_region.iter().map(|r| r.total).sum();
    let total_before: u32 = by_region.iter().map(|r| r.previous_total).sum();
    summary.push(format!(
        "{total_now} incident(s) broke the agreement's rules in the period ({total_before} in the previous 24 hours), {} of them verified by an analyst.",
        incidents.iter().filter(|r| r.confidence == "verified").count()
    ));
    if let Some(r) = by_region.first().filter(|r| r.total > 0) {
        summary.push(format!("Most were in {} ({}).", r.region, r.total));
    }
    let count = |st: &str| obligations.iter().filter(|o| o.status == st).count();
    summary.push(format!(
        "Obligations: {} pending, {} fulfilled, {} breached, {} withdrawn.",
        count("pending"),
        count("fulfilled"),
        count("breached"),
        count("withdrawn")
    ));
    if !gaps.is_empty() {
        summary.push(format!("{} coverage gap(s) in the period: where a source could not see, no report of calm is made.", gaps.len()));
    }
    if let Some(w) = &warfires {
        if let Some(d) = w.days.last() {
            summary.push(format!("War-related fires on {}: {} on held ground, {} on occupied ground.", d.date, d.held, d.occupied));
        }
    }

    let date = (end - Duration::milliseconds(1)).format("%-d %B %Y");
    Ok(DailyReport {
        schema: truce_daily::SCHEMA.into(),
        edition: Edition::Internal,
        title: format!("Daily report of the ceasefire monitoring mechanism, {date}"),
        agreement: AgreementRef {
            id: a.id.clone(),
            title: a.title.clone(),
            version: a.version.clone(),
            sha256: a.sha256.clone(),
            ceasefire_start: rfc(a.ceasefire_start),
        },
        period: Period { start: rfc(start), end: rfc(end) },
        previous: Period { start: ms(prev0), end: rfc(start) },
        generated_by: format!("truce {}", env!("CARGO_PKG_VERSION")),
        replay,
        summary,
        by_region,
        by_rule,
        incidents,
        late,
        warfires,
        map,
        gaps,
        obligations,
        pledges,
        forces,
        log: None,
        notes,
    })
}

/// The agreement's pledge figures (by donor) and force projection (parameters, run
/// options and result), for the tables it has. Shared by the report and the server.
pub fn load_accounts(a: &Agreement) -> Result<(Option<truce_accounts::Figures>, Option<(truce_accounts::ForceParams, truce_accounts::RunOptions, truce_accounts::Projection)>)> {
    if a.pledges.is_none() && a.forces.is_none() {
        return Ok((None, None));
    }
    let text = std::fs::read_to_string(&a.file).with_context(|| format!("{}: cannot read", a.file))?;
    let cfg = truce_accounts::read_config(&a.file, &text)?;
    let figures = match &cfg.pledges {
        None => None,
        Some(p) => {
            let reg_path = a.path(&p.registry);
            let reg = truce_accounts::Registry::from_csv(&reg_path.display().to_string(), &crate::files::read(&reg_path)?)?;
            let gdp = match &p.gdp {
                Some(g) => {
                    let path = a.path(g);
                    truce_accounts::GdpTable::from_csv(&path.display().to_string(), &crate::files::read(&path)?)?
                }
                None => truce_accounts::GdpTable::default(),
            };
            Some(truce_accounts::figures(&reg, &p.rates(), &gdp, &truce_accounts::FigureOptions::default())?)
        }
    };
    let forces = match cfg.forces {
        None => None,
        Some(p) => {
            let o = truce_accounts::RunOptions::from_params(&p);
            let proj = truce_accounts::project(&p, &o)?;
            Some((p, o, proj))
        }
    };
    Ok((figures, forces))
}

/// The pledges summary and the force projection, when the agreement has their tables.
fn accounts(a: &Agreement, notes: &mut Vec<String>) -> Result<(Option<PledgesSummary>, Option<ForcesStatus>)> {
    let (figures, forces) = load_accounts(a)?;
    let pledges = figures.map(|f| PledgesSummary {
        currency: f.currency.clone(),
        committed_m: f.total.committed_m.round(),
        allocated_m: f.total.allocated_m.round(),
        delivered_m: f.total.delivered_m.round(),
        donors: f
            .groups
            .iter()
            .take(8)
            .map(|g| DonorRow {
                donor: g.name.clone().or_else(|| g.donor.clone()).unwrap_or_default(),
                committed_m: g.totals.committed_m.round(),
                delivered_m: g.totals.delivered_m.round(),
            })
            .collect(),
        anomalies: f.anomalies.len() as u32,
    });
    let forces = forces.map(|(p, o, proj)| {
        let m = |x: Option<truce_accounts::YearMonth>| x.map(|y| y.to_string());
        if proj.reach.p50.is_none() {
            notes.push("The force projection does not reach the target within its horizon in the median run.".into());
        }
        ForcesStatus {
            target: p.target as u64,
            median_month: m(proj.reach.p50),
            p10_month: m(proj.reach.p10),
            p90_month: m(proj.reach.p90),
            binding: proj.binding.as_str().replace(' ', "_"),
            runs: o.runs,
        }
    });
    Ok((pledges, forces))
}

fn record_in_log(r: &mut DailyReport, data: &Path, key: &Path) -> Result<()> {
    let dir = data.join("log");
    if !dir.exists() {
        bail!("--key given but {} has no log/ (create one with `truce log init --dir {}/log --key KEY`)", data.display(), data.display());
    }
    let mut log = truce_log::Log::open(&dir).with_context(|| format!("{}: cannot open the evidence log", dir.display()))?;
    log.set_signer(truce_log::keys::load_signer(key)?)?;
    let sha = truce_daily::report_sha256(r);
    let body = serde_json::json!({
        "report_sha256": sha, "schema": r.schema, "edition": if r.edition == Edition::Public { "public" } else { "internal" },
        "period_start": r.period.start, "period_end": r.period.end, "agreement": r.agreement.id, "agreement_sha256": r.agreement.sha256,
        "incidents": r.incidents.len(), "obligations": r.obligations.len(),
    });
    let range = log.append_batch(&[truce_log::Entry::new(truce_log::EntryKind::Report, body)?])?;
    let checkpoint = log.checkpoint()?;
    let size = log.size();
    let proof = log.inclusion_proof(range.start, size)?;
    let hashes = serde_json::to_value(&proof)?["hashes"].as_array().cloned().unwrap_or_default();
    r.log = Some(LogRef {
        origin: log.origin().to_string(),
        index: range.start,
        checkpoint,
        tree_size: size,
        inclusion_proof: hashes.iter().filter_map(|h| h.as_str().map(String::from)).collect(),
        report_sha256: sha,
    });
    Ok(())
}

pub fn report(a: ReportArgs) -> Result<Outcome> {
    let end = period_end(a.day, &a.cutoff)?;
    let start = end - Duration::hours(24);
    let common = Common { agreement: a.agreement.clone(), data: a.data.clone(), at: Some(end), ceasefire_from: a.ceasefire_from };
    let mut agr = load_agreement(&common.agreement)?;
    let mut replay = None;
    if let Some(t) = a.ceasefire_from {
        let note = format!(
            "the agreement is applied as if its ceasefire had started {} (it says {})",
            t.format("%Y-%m-%d %H:%M UTC"),
            agr.ceasefire_start.format("%Y-%m-%d %H:%M UTC")
        );
        eprintln!("REPLAY: {note}");
        replay = Some(note);
        agr = agr.with_ceasefire_start(t);
    }
    if !a.data.is_dir() {
        bail!("{}: no such data directory", a.data.display());
    }
    let geo = load_geometry(&agr)?;
    let s = assess(&agr, &geo, &a.data, end, a.ceasefire_from.is_some())?;
    for n in &s.notes {
        eprintln!("{n}");
    }
    let mut r = build(&agr, &geo, &s, start, end, replay)?;
    if a.public {
        r = truce_daily::public_edition(&r);
    }
    match &a.key {
        Some(k) => record_in_log(&mut r, &a.data, k)?,
        None if a.data.join("log").exists() => {
            r.notes.push("Not recorded in the evidence log: no signing key was given (--key).".into());
        }
        None => {}
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("{}: cannot create", a.out.display()))?;
    let written = write_editions(&r, &a.out)?;
    println!("{}", r.title);
    for line in &r.summary {
        println!("  {line}");
    }
    if let Some(l) = &r.log {
        println!("  recorded in the evidence log as entry {} of {} (report SHA-256 {})", l.index, l.tree_size, &l.report_sha256[..16]);
    }
    println!("\nwrote {}", written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    println!("open {}", a.out.join("report.html").display());
    Ok(Outcome::Done)
}

/// Writes every edition of `r` into `dir`; returns the paths.
pub fn write_editions(r: &DailyReport, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut put = |name: &str, bytes: &[u8]| -> Result<()> {
        let p = dir.join(name);
        crate::files::write_atomic(&p, bytes)?;
        out.push(p);
        Ok(())
    };
    put("report.json", truce_daily::to_json(r).as_bytes())?;
    put("report.md", truce_daily::to_markdown(r).as_bytes())?;
    put("report.html", truce_daily::to_html(r).as_bytes())?;
    put("report.pdf", &truce_daily::to_pdf(r))?;
    put("map.svg", truce_daily::map_svg(r).as_bytes())?;
    if let Some(w) = r.warfires.as_ref().and_then(truce_daily::warfire_svg) {
        put("warfires.svg", w.as_bytes())?;
    }
    Ok(out)
}

/// The example agreement bundled with truce (`examples/ukraine-2025.toml`).
fn default_agreement() -> Result<PathBuf> {
    let candidates =
        [PathBuf::from("examples/ukraine-2025.toml"), PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/ukraine-2025.toml")];
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .context("examples/ukraine-2025.toml was not found: run from the repository root")
}

/// The agreement the demo applies: the Ukraine example with its line taken from the data
/// folder's 2022 control maps, replayed as if its ceasefire had started on the first of
/// them. Returns it with its geometry, that start, and the sentence saying so.
pub fn demo_agreement(data: &Path) -> Result<(Agreement, Geometry, DateTime<Utc>, String)> {
    let mut agr = load_agreement(&default_agreement()?)?;
    let control: Vec<String> = ["deepstate/raw-layers-weekly-2022-04_to_2023-03"]
        .iter()
        .map(|c| data.join(c))
        .filter(|p| p.is_dir())
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p).display().to_string())
        .collect();
    if control.is_empty() {
        bail!("{}: no deepstate/raw-layers-weekly-2022-04_to_2023-03 folder", data.display());
    }
    agr.geometry.control = control;
    agr.geometry.occupied.clear();
    let admin = data.join("admin/ukraine-oblasts.geojson");
    agr.geometry.admin = Some(std::fs::canonicalize(&admin).unwrap_or(admin).display().to_string());
    let geo = load_geometry(&agr)?;
    let first = geo.map.snapshots().next().map(|(_, t)| t).context("no control snapshot")?;
    let ceasefire = first.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let replay = format!(
        "the agreement is applied as if its ceasefire had started {} (the first control map of the data); it says {}",
        ceasefire.format("%Y-%m-%d %H:%M UTC"),
        agr.ceasefire_start.format("%Y-%m-%d %H:%M UTC")
    );
    Ok((agr.with_ceasefire_start(ceasefire), geo, ceasefire, replay))
}

/// `truce demo`'s monitoring part: FIRMS detections (with the baseline years the
/// war-fire detector needs) into a data directory with an evidence log, the Ukraine
/// example agreement replayed over 2022 from the first control map on, and the daily
/// report for `day` (default: the day with the most war-related fires).
pub fn demo_pipeline(data: &Path, out: &Path, day: Option<NaiveDate>) -> Result<PathBuf> {
    let t = std::time::Instant::now();
    // The feeds: the bundled Donbas cut, or every lat/lon/date file of a full data folder.
    let feeds: Vec<PathBuf> = [data.join("firms-donbas"), data.join("firms/ukraine-2000-2023-lat-lon-date")]
        .into_iter()
        .find(|p| p.is_dir())
        .map(|d| crate::files::list_files(&[d], &["csv"]))
        .transpose()?
        .unwrap_or_default();
    if feeds.is_empty() {
        bail!("{}: no FIRMS folder (firms-donbas/ or firms/ukraine-2000-2023-lat-lon-date/)", data.display());
    }
    let dir = out.join("data");
    let key = out.join("demo.key");
    let log = dir.join("log");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("{}: cannot clear", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    if !key.exists() {
        // A demo key (mode 0600), and its public half for anyone verifying the log.
        let vkey = truce_log::keys::generate_to_file(&key, "truce.demo/log")?;
        crate::files::write_atomic(&out.join("demo.key.pub"), format!("{vkey}\n").as_bytes())?;
    }
    let signer = truce_log::keys::load_signer(&key)?;
    truce_log::Log::create(&log, &signer)?;
    println!("\n== the monitoring pipeline: {} FIRMS file(s) into {} (evidence log {})", feeds.len(), dir.display(), log.display());
    crate::commands::ingest(crate::commands::IngestArgs {
        files: feeds,
        out: dir.join("observations/firms.parquet"),
        strict: false,
        drop_duplicates: true,
        format: None,
        log: Some(log.clone()),
        key: Some(key.clone()),
        who: Some("truce demo".into()),
    })?;

    let (agr, geo, ceasefire, replay) = demo_agreement(data)?;

    // The day: the one with the most war-related fires, unless given.
    let day = match day {
        Some(d) => d,
        None => {
            let end = (ceasefire + Duration::days(120)).min(Utc::now());
            let s = assess(&agr, &geo, &dir, end, true)?;
            let mut per_day: BTreeMap<NaiveDate, usize> = BTreeMap::new();
            for w in &s.war_fires {
                if w.2 >= ceasefire.timestamp_millis() {
                    *per_day.entry(DateTime::from_timestamp_millis(w.2).unwrap_or_default().date_naive()).or_default() += 1;
                }
            }
            let best = per_day.iter().max_by_key(|(d, n)| (**n, std::cmp::Reverse(**d))).map(|(d, _)| *d);
            best.context("no war-related fire after the ceasefire: pass --day")?
        }
    };
    let end = period_end(day, "24:00")?;
    let s = assess(&agr, &geo, &dir, end, true)?;
    for n in &s.notes {
        println!("  {n}");
    }
    let mut r = build(&agr, &geo, &s, end - Duration::hours(24), end, Some(replay))?;
    record_in_log(&mut r, &dir, &key)?;
    let report_dir = out.join("report");
    std::fs::create_dir_all(&report_dir)?;
    write_editions(&r, &report_dir)?;
    let public_dir = out.join("report-public");
    std::fs::create_dir_all(&public_dir)?;
    write_editions(&truce_daily::public_edition(&r), &public_dir)?;
    println!("\n== {}", r.title);
    for line in &r.summary {
        println!("  {line}");
    }
    if let Some(l) = &r.log {
        println!("  recorded in the evidence log as entry {} (report SHA-256 {}), with its inclusion proof", l.index, &l.report_sha256[..16]);
    }
    let html = report_dir.join("report.html");
    println!("\nthe pipeline took {:.1} s", t.elapsed().as_secs_f64());
    println!("open {}  (also report.pdf, report.md, report.json; the public edition is in {})", html.display(), public_dir.display());
    println!("\nsee it all in the browser (map, review queue, obligations, pledges, reports): truce serve --demo {}, then open http://127.0.0.1:8080/", out.display());
    println!(
        "or, from the command line, review an incident and see the clauses act (an analyst's confirmation is what the armed-attack clauses wait for):\n  truce incidents   --agreement {a} --data {d} --ceasefire-from {c} --at {at}\n  truce decide      --agreement {a} --data {d} --ceasefire-from {c} --at {at} --incident I-... --confirm --reason \"...\" --analyst you\n  truce obligations --agreement {a} --data {d} --ceasefire-from {c} --at {at}",
        a = "examples/ukraine-2025.toml",
        d = dir.display(),
        c = ceasefire.format("%Y-%m-%d"),
        at = rfc(end),
    );
    Ok(html)
}
