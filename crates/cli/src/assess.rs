//! The assessment pipeline behind `truce incidents`, `obligations`, `decide` and `act`:
//! agreement + data directory + instant -> incidents, violations, coverage gaps and
//! obligations.
//!
//! The data directory holds what the other commands wrote:
//! - `observations/*.parquet`: observations (`truce ingest --out DATA/observations/x.parquet`);
//! - `observations/*.gaps.jsonl`: coverage gaps (patrol reports' restrictions, outages);
//! - `decisions.jsonl`: analysts' decisions (`truce decide`);
//! - `actions.jsonl`: parties' recorded actions (`truce act`);
//! - `log/`: the evidence log, if one was made (`truce log init DATA/log`).
//!
//! Steps: read the observations known at the instant; flag war-related fires with the
//! war-fire detector when a rule needs it and the data holds baseline years; fuse into
//! incidents; place each incident against the line in force at its time; apply the
//! rules; read decisions and actions; evaluate the clauses.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use truce_agreement::{Agreement, BandSide as ABand, ZoneShape as AShape};
use truce_geometry::{BandSide, Classifier, ControlMap, Country, GridPolygon, Zone, ZoneShape};
use truce_incidents::{fuse, inferred_gaps, CoverageGap, Decision, FusionObs, FusionParams, Incident, Standing};
use truce_model::{Observation, ObservationKind, Side, SourceKind};
use truce_obligations::{evaluate, violations, Action, Evaluation, Evidence, Placement, Violation};

use crate::files::{list_files, load_country, read};

/// Largest agreement file read.
const AGREEMENT_FILE_MAX: u64 = truce_agreement::AGREEMENT_BYTES_MAX as u64;

/// Reads and validates an agreement file.
pub fn load_agreement(path: &Path) -> Result<Agreement> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.len() > AGREEMENT_FILE_MAX {
        bail!("{}: {} bytes exceeds AGREEMENT_BYTES_MAX ({AGREEMENT_FILE_MAX})", path.display(), meta.len());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read as UTF-8", path.display()))?;
    Ok(Agreement::parse(&path.display().to_string(), &text)?)
}

/// The agreement's geometry, loaded: control map, country, and zones in the agreement's
/// order (zone i of the classifier is zone i of the agreement).
pub struct Geometry {
    pub map: ControlMap,
    pub country: Country,
    pub zones: Vec<Zone>,
    /// The polygons of each fixed-area zone (None for bands along the line), parallel to
    /// `zones`: what the report's map draws.
    pub areas: Vec<Option<geo::MultiPolygon>>,
}

fn polygons_of_file(path: &Path) -> Result<geo::MultiPolygon> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let gj: geojson::GeoJson = text.parse().with_context(|| format!("{}: not GeoJSON", path.display()))?;
    let geoms: Vec<geojson::Geometry> = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc.features.into_iter().filter_map(|f| f.geometry).collect(),
        geojson::GeoJson::Feature(f) => f.geometry.into_iter().collect(),
        geojson::GeoJson::Geometry(g) => vec![g],
    };
    let mut polys = Vec::new();
    for (i, g) in geoms.into_iter().enumerate() {
        let g: geo::Geometry = g.try_into().with_context(|| format!("{}: feature {}: geometry", path.display(), i + 1))?;
        match g {
            geo::Geometry::Polygon(p) => polys.push(p),
            geo::Geometry::MultiPolygon(mp) => polys.extend(mp.0),
            _ => bail!("{}: feature {}: not a polygon", path.display(), i + 1),
        }
    }
    if polys.is_empty() {
        bail!("{}: no polygon", path.display());
    }
    Ok(geo::MultiPolygon(polys))
}

/// Loads the agreement's control map, country and zones.
pub fn load_geometry(a: &Agreement) -> Result<Geometry> {
    let admin = a.geometry.admin.as_ref().with_context(|| format!("{}: [geometry] admin: missing (the country's regions GeoJSON)", a.file))?;
    let country = load_country(&a.path(admin))?;
    let mut files: Vec<(String, Option<DateTime<Utc>>, Vec<u8>)> = Vec::new();
    let control: Vec<PathBuf> = a.geometry.control.iter().map(|c| a.path(c)).collect();
    for f in list_files(&control, &["geojson", "json"])? {
        files.push((f.display().to_string(), None, read(&f)?));
    }
    for (f, from) in &a.geometry.occupied {
        let p = a.path(f);
        files.push((p.display().to_string(), Some(*from), read(&p)?));
    }
    let mut map = ControlMap::from_dated_files(files)?;
    if let Some(d) = a.geometry.backcast_from {
        map.backcast_earliest(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())?;
    }
    let mut zones = Vec::new();
    let mut areas = Vec::new();
    for z in &a.zones {
        let area = match &z.shape {
            AShape::Band { .. } => None,
            AShape::File(f) => Some(polygons_of_file(&a.path(f))?),
            AShape::Regions(codes) => {
                let mut polys = Vec::new();
                for c in codes {
                    let r = country.regions.iter().find(|r| &r.code == c).with_context(|| {
                        let known: Vec<&str> = country.regions.iter().map(|r| r.code.as_str()).collect();
                        format!("{}: zone `{}`: no region `{c}` in the admin file (known: {})", a.file, z.name, known.join(", "))
                    })?;
                    polys.extend(r.shape.0.iter().cloned());
                }
                Some(geo::MultiPolygon(polys))
            }
            AShape::BBox([x0, y0, x1, y1]) => {
                let r = geo::Rect::new(geo::coord! { x: *x0, y: *y0 }, geo::coord! { x: *x1, y: *y1 });
                Some(geo::MultiPolygon(vec![r.to_polygon()]))
            }
        };
        let shape = match (&z.shape, &area) {
            (_, Some(mp)) => ZoneShape::Area(GridPolygon::new(mp)),
            (AShape::Band { side, min_km, max_km }, None) => ZoneShape::Band {
                side: match side {
                    ABand::Held => BandSide::Held,
                    ABand::Occupied => BandSide::Occupied,
                    ABand::Either => BandSide::Either,
                },
                min_km: *min_km,
                max_km: *max_km,
            },
            (_, None) => unreachable!("every shape but a band has an area"),
        };
        zones.push(Zone { name: z.name.clone(), shape });
        areas.push(area);
    }
    Ok(Geometry { map, country, zones, areas })
}

/// Where an incident is, in words and numbers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Where {
    /// "4.2 km W of the contact line, Donetsk Oblast (UA-14)".
    pub text: String,
    pub region_name: Option<String>,
}

/// What the pipeline found.
pub struct Assessment {
    pub at: DateTime<Utc>,
    pub observations: usize,
    pub incidents: Vec<Incident>,
    pub placements: Vec<Placement>,
    pub wheres: Vec<Where>,
    pub standings: Vec<Standing>,
    pub violations: Vec<Violation>,
    pub gaps: Vec<CoverageGap>,
    pub evaluation: Evaluation,
    /// War-related fires flagged by the detector: (lon, lat, middle of the interval, ms).
    pub war_fires: Vec<(f64, f64, i64)>,
    /// Whether the war-fire detector ran (it needs the baseline years).
    pub war_fire_detector: Option<String>,
    /// What was done, in order, for the user (war-fire detector used or not, timings).
    pub notes: Vec<String>,
}

fn compass(deg: f64) -> &'static str {
    const P: [&str; 8] = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];
    P[(((deg.rem_euclid(360.0)) + 22.5) / 45.0) as usize % 8]
}

fn bearing(from: geo::Coord, lon: f64, lat: f64) -> f64 {
    let (p1, p2) = (from.y.to_radians(), lat.to_radians());
    let dl = (lon - from.x).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    y.atan2(x).to_degrees()
}

/// The attribute an observation's source gives its monitoring team, for independence.
fn team(attributes: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(attributes).ok()?;
    ["team", "monitor_team", "team_id", "monitor", "monitor_id"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_str()).map(str::to_string))
}

fn weapon_class(attributes: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(attributes).ok()?;
    v.get("weapon_class").and_then(|x| x.as_str()).map(str::to_string)
}

/// When each ingested file (by SHA-256) entered the log, from its `ingested_batch` entries.
fn received_times(data: &Path) -> Result<HashMap<String, i64>> {
    let dir = data.join("log");
    let mut out = HashMap::new();
    if !dir.join("checkpoint").exists() && !dir.exists() {
        return Ok(out);
    }
    let log = truce_log::Log::open(&dir).with_context(|| {
        format!("{}: cannot open the evidence log to read when each file was received (is another truce writing to it?)", dir.display())
    })?;
    for i in 0..log.size() {
        let e = log.entry(i).with_context(|| format!("{}: entry {i}", dir.display()))?;
        if let Some(Ok(b)) = e.as_ingested_batch() {
            if let Ok(t) = DateTime::parse_from_rfc3339(&b.when) {
                out.entry(b.file_sha256).or_insert(t.timestamp_millis());
            }
        }
    }
    Ok(out)
}

/// Every observation in `DATA/observations/*.parquet`.
pub fn read_observations(data: &Path) -> Result<Vec<Observation>> {
    let dir = data.join("observations");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for f in list_files(&[dir], &["parquet"])? {
        for b in truce_store::open_geoparquet(&f)? {
            let b = b.with_context(|| format!("{}: cannot read", f.display()))?;
            out.extend(truce_model::observations_from_batch(&b).with_context(|| format!("{}", f.display()))?);
        }
    }
    Ok(out)
}

/// Coverage gaps in `DATA/observations/*.gaps.jsonl`.
fn read_gap_files(data: &Path) -> Result<Vec<CoverageGap>> {
    let dir = data.join("observations");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for f in list_files(&[dir], &["jsonl"])? {
        if f.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".gaps.jsonl")) {
            out.extend(truce_ingest::read_gaps(&f.display().to_string(), &read(&f)?)?);
        }
    }
    Ok(out)
}

/// Reads `DATA/decisions.jsonl` (none if absent).
pub fn read_decisions(data: &Path) -> Result<Vec<Decision>> {
    let p = data.join("decisions.jsonl");
    if !p.exists() {
        return Ok(Vec::new());
    }
    Ok(truce_incidents::read_decisions(&p.display().to_string(), &read(&p)?)?)
}

/// Reads `DATA/actions.jsonl` (none if absent).
pub fn read_actions(data: &Path) -> Result<Vec<Action>> {
    let p = data.join("actions.jsonl");
    if !p.exists() {
        return Ok(Vec::new());
    }
    Ok(truce_obligations::read_actions(&p.display().to_string(), &read(&p)?)?)
}

fn needs_war_fires(a: &Agreement) -> bool {
    a.rules.iter().any(|r| r.war_fires_only && (r.kinds.is_empty() || r.kinds.contains(&ObservationKind::Fire)))
}

/// Runs the pipeline.
/// With `replay`, every observation counts as received when it ended (as if the feeds
/// had arrived in real time); otherwise an observation is received when its file entered
/// the evidence log (or, without a log, when it ended).
pub fn assess(a: &Agreement, geo: &Geometry, data: &Path, at: DateTime<Utc>, replay: bool) -> Result<Assessment> {
    let at_ms = at.timestamp_millis();
    let mut notes = Vec::new();
    let t = Instant::now();
    let all = read_observations(data)?;
    let received = if replay { HashMap::new() } else { received_times(data)? };
    let recv = |o: &Observation| received.get(&o.provenance.file_sha256).copied().unwrap_or(o.time.end.timestamp_millis());
    // Known at the instant: happened and received by then.
    let known: Vec<&Observation> = all.iter().filter(|o| o.time.start.timestamp_millis() <= at_ms && recv(o) <= at_ms).collect();
    notes.push(format!(
        "{} observations read, {} known at {} ({:.1} s)",
        all.len(),
        known.len(),
        at.format("%Y-%m-%d %H:%M UTC"),
        t.elapsed().as_secs_f64()
    ));

    // War-fire flags for FIRMS detections (the detector needs the baseline years).
    let mut war: BTreeSet<usize> = BTreeSet::new();
    let mut war_fire_detector = None;
    let firms: Vec<usize> = (0..known.len()).filter(|&i| known[i].source == SourceKind::Firms).collect();
    if needs_war_fires(a) && !firms.is_empty() {
        let t = Instant::now();
        let p = truce_warfire::Params::default();
        let lon: Vec<f64> = firms.iter().map(|&i| known[i].lon).collect();
        let lat: Vec<f64> = firms.iter().map(|&i| known[i].lat).collect();
        let day: Vec<truce_warfire::Day> = firms.iter().map(|&i| truce_warfire::day_of_ms(known[i].time.midpoint().timestamp_millis())).collect();
        let land = truce_warfire::LandMask::from_fn(truce_warfire::UKRAINE_GRID_BBOX, p.cell_deg, |x, y| geo.country.outline_index.contains(x, y));
        let from = a.ceasefire_start.date_naive() - chrono::Duration::days(p.carry_days as i64 + 1);
        let to = at.date_naive();
        let r = truce_warfire::run(&truce_warfire::Detections { lon: &lon, lat: &lat, day: &day }, &land, &[], &p, from, to);
        if r.baseline.years().is_empty() {
            notes.push(format!(
                "war-fire detector not run: no FIRMS data in the baseline years {}..={}, so no satellite fire counts as war-related",
                p.baseline.year_from, p.baseline.year_to
            ));
        } else {
            for (k, v) in r.target.iter().zip(&r.verdicts) {
                if v.war {
                    war.insert(firms[*k]);
                }
            }
            war_fire_detector = Some(format!(
                "The Economist's war-fire method over NASA FIRMS detections, baseline of {} pre-war years ({}..={})",
                r.baseline.years().len(),
                p.baseline.year_from,
                p.baseline.year_to
            ));
            notes.push(format!(
                "war-fire detector: {} of {} detections since {from} war-related (baseline {} years; {:.1} s)",
                war.len(),
                r.target.len(),
                r.baseline.years().len(),
                t.elapsed().as_secs_f64()
            ));
        }
    }

    // Fusion, over what can matter: from two days before the earliest rule or clause.
    let t = Instant::now();
    let start = a
        .rules
        .iter()
        .map(|r| r.from)
        .chain(a.clauses.iter().map(|c| c.from))
        .min()
        .unwrap_or(a.ceasefire_start)
        .timestamp_millis()
        - 2 * 86_400_000;
    let mut fobs = Vec::new();
    for (i, o) in known.iter().enumerate() {
        if o.time.end.timestamp_millis() < start {
            continue;
        }
        let key = match (o.source, team(&o.attributes)) {
            (SourceKind::Patrol, Some(t)) => format!("patrol:{t}"),
            (s, _) => s.as_str().to_string(),
        };
        fobs.push(FusionObs {
            id: o.id.clone(),
            source_key: key.clone(),
            kind: o.kind,
            start_ms: o.time.start.timestamp_millis(),
            end_ms: o.time.end.timestamp_millis(),
            lon: o.lon,
            lat: o.lat,
            uncertainty_m: o.uncertainty_m,
            received_ms: recv(o),
            war_fire: war.contains(&i),
            weapon_class: if o.kind == ObservationKind::WeaponSighting { weapon_class(&o.attributes) } else { None },
            restricted: a.restricted_sources.iter().any(|r| r == key.as_str() || r == o.source.as_str()),
        });
    }
    let params: FusionParams = match &a.fusion {
        Some(t) => toml::Value::Table(t.clone()).try_into().with_context(|| format!("{}: [fusion]", a.file))?,
        None => FusionParams::default(),
    };
    let incidents = fuse(&fobs, &params)?;
    notes.push(format!("{} observations from {} on fused into {} incidents ({:.1} s)", fobs.len(), DateTime::from_timestamp_millis(start + 2 * 86_400_000).unwrap_or_default().format("%Y-%m-%d"), incidents.len(), t.elapsed().as_secs_f64()));

    // Placement of each incident against the line in force at its time.
    let t = Instant::now();
    let lon: Vec<f64> = incidents.iter().map(|i| i.lon).collect();
    let lat: Vec<f64> = incidents.iter().map(|i| i.lat).collect();
    let tm: Vec<i64> = incidents.iter().map(|i| i.mid_ms()).collect();
    let cl = Classifier { map: &geo.map, country: &geo.country, zones: &geo.zones, fixed_snapshot: None };
    let classes = cl.classify(&lon, &lat, &tm, &|_| {})?;
    let mut placements = Vec::with_capacity(incidents.len());
    for c in &classes {
        let zones = (0..geo.zones.len()).filter(|z| c.zones & (1u64 << z) != 0).map(|z| geo.zones[z].name.clone()).collect();
        placements.push(Placement {
            side: Some(c.side),
            distance_km: c.distance_km,
            zones,
            region: c.region.map(|r| geo.country.regions[r as usize].code.clone()),
        });
    }
    let vs = violations(a, &incidents, &placements);
    // Words for the incidents that matter (violations): side of the line and region.
    let mut wheres: Vec<Where> = vec![Where { text: String::new(), region_name: None }; incidents.len()];
    let flagged: BTreeSet<usize> = vs.iter().map(|v| v.incident).collect();
    for &i in &flagged {
        wheres[i] = describe(geo, &incidents[i], &classes[i]);
    }
    notes.push(format!("incidents placed, {} violations of {} rules ({:.1} s)", vs.len(), a.rules.len(), t.elapsed().as_secs_f64()));

    // Decisions, actions, gaps, clauses.
    let decisions = read_decisions(data)?;
    let actions = read_actions(data)?;
    let standings: Vec<Standing> = incidents.iter().map(|i| Standing::of(i, &decisions, at_ms)).collect();
    let unmatched = truce_incidents::unmatched_decisions(&decisions, &incidents);
    if !unmatched.is_empty() {
        notes.push(format!("{} decision(s) name no incident known now (first: {})", unmatched.len(), unmatched[0].incident));
    }
    let mut gaps = read_gap_files(data)?;
    let mut days: BTreeMap<SourceKind, BTreeSet<NaiveDate>> = BTreeMap::new();
    // Only the satellite feed reports every day when it works; event data may be silent.
    for o in known.iter().filter(|o| o.source == SourceKind::Firms) {
        if o.time.precision <= truce_model::TimePrecision::Day {
            days.entry(o.source).or_default().insert(o.time.midpoint().date_naive());
        }
    }
    gaps.extend(inferred_gaps(&days, a.ceasefire_start.date_naive(), at.date_naive()));
    gaps.retain(|g| g.time.start.timestamp_millis() <= at_ms);
    let ev = Evidence { incidents: &incidents, placements: &placements, standings: &standings, violations: &vs };
    let evaluation = evaluate(a, &ev, &actions, at);
    let war_fires = war.iter().map(|&i| (known[i].lon, known[i].lat, known[i].time.midpoint().timestamp_millis())).collect();
    Ok(Assessment {
        war_fires,
        war_fire_detector,
        at,
        observations: known.len(),
        incidents,
        placements,
        wheres,
        standings,
        violations: vs,
        gaps,
        evaluation,
        notes,
    })
}

fn describe(geo: &Geometry, inc: &Incident, c: &truce_geometry::PointClass) -> Where {
    let region = c.region.map(|r| &geo.country.regions[r as usize]);
    let mut text = match (c.side, c.distance_km, c.snapshot) {
        (Side::Outside, _, _) => "outside the country".to_string(),
        (_, Some(d), Some(s)) => {
            let dir = geo
                .map
                .derived(s as usize, &geo.country)
                .ok()
                .and_then(|snap| snap.line_index.nearest(inc.lon, inc.lat))
                .map(|n| compass(bearing(n.closest, inc.lon, inc.lat)))
                .unwrap_or("");
            let side = if d < 0.0 { "on occupied ground" } else { "on held ground" };
            format!("{:.1} km {dir} of the contact line, {side}", d.abs())
        }
        _ => "no contact line in force".to_string(),
    };
    if let Some(r) = region {
        text.push_str(&format!(", {} ({})", r.name, r.code));
    }
    Where { text, region_name: region.map(|r| r.name.clone()) }
}

/// Appends one JSON line to a file through a temporary copy and a rename, so the file is
/// never seen half-written.
pub fn append_line(path: &Path, line: &str) -> Result<()> {
    let mut bytes = if path.exists() { read(path)? } else { Vec::new() };
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).with_context(|| format!("{}: cannot create", d.display()))?;
    }
    crate::files::write_atomic(path, &bytes)
}
