//! One function per subcommand: read files, call the libraries, write files, print.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use arrow_array::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use rayon::prelude::*;
use truce_geometry::{BandSide, Classifier, Zone, ZoneShape};
use truce_ingest::{Format, ReadOptions};
use truce_model::ObservationColumns;
use truce_report::{DistanceBands, Summary};

use crate::files::{list_files, load_control, load_control_backcast, load_country, read, write_atomic};
use crate::progress;

/// What a command found.
pub enum Outcome {
    Done,
    /// The command ran but had nothing to work on; exit code 1.
    NothingFound(String),
}

#[derive(Args)]
pub struct IngestArgs {
    /// Feed files, or folders whose .csv, .geojson and .json files are all read. The
    /// coverage gaps of patrol-report files are written beside --out as
    /// `<out stem>.gaps.jsonl`.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The GeoParquet file to write.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Refuse everything at the first bad row (default: skip bad rows and count them).
    #[arg(long)]
    pub strict: bool,
    /// Leave out rows identical to an earlier row of the same file.
    #[arg(long)]
    pub drop_duplicates: bool,
    /// Read every file as this format instead of detecting it: firms, ucdp_ged, acled,
    /// geojson, patrol.
    #[arg(long)]
    pub format: Option<String>,
    /// Chain of custody: append one `ingested_batch` entry per file (its SHA-256, reader,
    /// row counts, who, when) to this evidence log (made by `truce log init`). The
    /// observations' `file_sha256` column names the entry of their file.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// With --log: sign a new checkpoint with this key file after appending.
    #[arg(long, requires = "log")]
    pub key: Option<PathBuf>,
    /// With --log: who ran the ingestion (default: $USER).
    #[arg(long, requires = "log")]
    pub who: Option<String>,
}

#[derive(Args)]
pub struct ClassifyArgs {
    /// A GeoParquet file of observations (from `truce ingest`).
    pub input: PathBuf,
    /// Take the control map, the country and the zones from this agreement file instead
    /// of --control, --admin, --band and --zones.
    #[arg(long, conflicts_with_all = ["control", "admin", "bands", "zones", "backcast_from"])]
    pub agreement: Option<PathBuf>,
    /// Control-map snapshots: GeoJSON files, or folders of them (DeepState layers,
    /// occupied-only files, or polygons with a `status` and a date in the file name).
    #[arg(long, required_unless_present = "agreement")]
    pub control: Vec<PathBuf>,
    /// The country's regions (GeoJSON; e.g. ukraine-oblasts.geojson): outline and regions.
    #[arg(long, required_unless_present = "agreement")]
    pub admin: Option<PathBuf>,
    /// Before the earliest snapshot, infer control back to this date (YYYY-MM-DD) from
    /// that snapshot's dated "liberated" layers: ground retaken on day D was occupied
    /// before D (DeepState's first raw layers are of 2022-04-03; try 2022-02-24).
    #[arg(long)]
    pub backcast_from: Option<NaiveDate>,
    /// Use the snapshot in force at the end of this date (YYYY-MM-DD) for every point,
    /// instead of the one in force at each observation's own time.
    #[arg(long)]
    pub at: Option<NaiveDate>,
    /// A band zone NAME:SIDE:MIN_KM:MAX_KM with SIDE held, occupied or either (repeatable).
    /// Default: buffer:either:0:15 (the 2014 Memorandum's 15 km).
    #[arg(long = "band")]
    pub bands: Vec<String>,
    /// Polygon zones from a GeoJSON file (each feature's `name` names its zone).
    #[arg(long)]
    pub zones: Option<PathBuf>,
    /// The GeoParquet file to write (the input's columns plus side, distance_km, zones,
    /// region, snapshot).
    #[arg(long, short)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct SummaryArgs {
    /// A classified GeoParquet file (from `truce classify`).
    pub input: PathBuf,
    /// Also write every day x side x band count to this CSV file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Print the totals as one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Distance band edges in km, comma-separated.
    #[arg(long, default_value = "0,5,15,30,50,100")]
    pub bands: String,
    /// Count per day or per month.
    #[arg(long, default_value = "day", value_parser = ["day", "month"])]
    pub by: String,
}

#[derive(Subcommand)]
pub enum ControlCommand {
    /// List the snapshots of a control map; with --admin, derive each and show its
    /// contact line (parts, vertices, length).
    List {
        #[arg(long, required_unless_present = "agreement")]
        control: Vec<PathBuf>,
        #[arg(long)]
        admin: Option<PathBuf>,
        /// Take the control map and the country from this agreement file instead.
        #[arg(long, conflicts_with_all = ["control", "admin"])]
        agreement: Option<PathBuf>,
    },
    /// Write the occupied area, contested area, contact line and country outline of the
    /// snapshot in force at the end of a date, as GeoJSON files in a folder.
    Export {
        #[arg(long, required_unless_present = "agreement")]
        control: Vec<PathBuf>,
        #[arg(long, required_unless_present = "agreement")]
        admin: Option<PathBuf>,
        /// Take the control map and the country from this agreement file instead.
        #[arg(long, conflicts_with_all = ["control", "admin"])]
        agreement: Option<PathBuf>,
        #[arg(long)]
        at: NaiveDate,
        #[arg(long, short)]
        out: PathBuf,
    },
}

#[derive(Args)]
pub struct DemoArgs {
    /// A data folder laid out as `../shared/data` (firms/, deepstate/, admin/). Default:
    /// the demo data bundled with truce (`demo/data`).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Years of the lat/lon/date FIRMS files to read from a full data folder.
    #[arg(long, default_value = "2022")]
    pub years: String,
    /// Where to write everything: observations.parquet, classified.parquet, summary.csv,
    /// the data directory (data/, with its evidence log), the report (report/,
    /// report-public/) and the demo's signing key.
    #[arg(long, short, default_value = "truce-data")]
    pub out: PathBuf,
    /// The day of the daily report (YYYY-MM-DD); default: the day with the most
    /// war-related fires.
    #[arg(long)]
    pub day: Option<NaiveDate>,
}

fn name_of(p: &Path) -> String {
    p.display().to_string()
}

pub fn ingest(a: IngestArgs) -> Result<Outcome> {
    let format = match &a.format {
        None => None,
        Some(f) => Some(
            Format::ALL
                .iter()
                .copied()
                .find(|x| x.as_str() == f)
                .with_context(|| {
                    let names: Vec<&str> = Format::ALL.iter().map(|x| x.as_str()).collect();
                    format!("--format {f}: expected one of {}", names.join(", "))
                })?,
        ),
    };
    let opts = ReadOptions { strict: a.strict, drop_duplicates: a.drop_duplicates, format };
    let files = list_files(&a.files, &["csv", "geojson", "json"])?;
    if files.is_empty() {
        return Ok(Outcome::NothingFound("no .csv, .geojson or .json file to read".into()));
    }
    let total_bytes: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let pb = progress::bar(total_bytes, "ingest");
    // Files are read in parallel; any file-level error (or any bad row under --strict)
    // stops everything before a byte is written.
    let results: Vec<Result<truce_ingest::PatrolIngested>> = files
        .par_iter()
        .map(|f| {
            let bytes = read(f)?;
            let r = truce_ingest::read_with_gaps(&name_of(f), &bytes, &opts).map_err(anyhow::Error::from);
            pb.inc(bytes.len() as u64);
            r
        })
        .collect();
    pb.finish_and_clear();
    let (ingested, gaps): (Vec<truce_ingest::Ingested>, Vec<Vec<truce_model::CoverageGap>>) =
        results.into_iter().collect::<Result<Vec<_>>>()?.into_iter().map(|p| (p.ingested, p.gaps)).unzip();
    let gaps: Vec<truce_model::CoverageGap> = gaps.into_iter().flatten().collect();
    for i in &ingested {
        println!("{}", i.summary);
    }
    let who = a.who.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into());
    let n_files = files.len();
    let st = store_ingested(ingested, &gaps, &a.out, a.log.as_deref(), a.key.as_deref(), &who, Utc::now())?;
    if st.gaps > 0 {
        println!("{} coverage gaps -> {}", st.gaps, gaps_path(&a.out).display());
    }
    if st.kept > 0 {
        println!(
            "{n_files} files: {} rows read, {} kept, {} rejected -> {} ({:.1} MB)",
            st.read,
            st.kept,
            st.rejected,
            a.out.display(),
            st.bytes as f64 / 1e6
        );
    }
    if let Some(r) = &st.log_range {
        println!("evidence log: entries {}..{} appended (one per file), durable", r.start, r.end);
    }
    if let Some(cp) = &st.checkpoint {
        print!("{cp}");
    }
    if st.kept == 0 {
        return Ok(Outcome::NothingFound(format!("{} rows read, none kept: no observations written", st.read)));
    }
    Ok(Outcome::Done)
}

/// Where the coverage gaps of an observation file go: `<stem>.gaps.jsonl` beside it.
pub fn gaps_path(out: &Path) -> PathBuf {
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    out.with_file_name(format!("{stem}.gaps.jsonl"))
}

/// What [`store_ingested`] wrote.
#[derive(Debug, Clone)]
pub struct Stored {
    pub read: u64,
    pub kept: u64,
    pub rejected: u64,
    /// Bytes of the GeoParquet file (0: none written, nothing was kept).
    pub bytes: u64,
    /// Coverage gaps written beside it.
    pub gaps: usize,
    /// The `ingested_batch` entries appended, one per file.
    pub log_range: Option<std::ops::Range<u64>>,
    /// The checkpoint signed afterwards, with a key.
    pub checkpoint: Option<String>,
    pub files: Vec<truce_ingest::FileSummary>,
}

/// Writes what was read: the observations as one GeoParquet file `out`, the coverage
/// gaps beside it (written even when no observation was kept: a place nobody could see
/// must not read as calm), and with a log, one `ingested_batch` entry per file (also for
/// a file that gave only gaps), and a signed checkpoint with a key. The log is opened before anything is written, and if
/// the append fails the files just written are removed again: the log never lacks the
/// entry of an observation file that exists. `truce ingest` and the server's uploads
/// both store through here.
pub fn store_ingested(ingested: Vec<truce_ingest::Ingested>, gaps: &[truce_model::CoverageGap], out: &Path, log_dir: Option<&Path>, key: Option<&Path>, who: &str, when: DateTime<Utc>) -> Result<Stored> {
    let files: Vec<truce_ingest::FileSummary> = ingested.iter().map(|i| i.summary.clone()).collect();
    let (mut read, mut kept, mut rejected) = (0u64, 0u64, 0u64);
    for s in &files {
        read += s.rows_read;
        kept += s.rows_kept;
        rejected += s.rejected_total();
    }
    let gp = gaps_path(out);
    let write_gaps = || -> Result<()> {
        if !gaps.is_empty() {
            if let Some(dir) = gp.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
            }
            write_atomic(&gp, truce_ingest::write_gaps(gaps).as_bytes())?;
        }
        Ok(())
    };
    let batches: Vec<RecordBatch> = ingested.into_iter().flat_map(|i| i.batches).collect();
    let mut stored = Stored { read, kept, rejected, bytes: 0, gaps: gaps.len(), log_range: None, checkpoint: None, files };
    if kept == 0 && gaps.is_empty() {
        return Ok(stored);
    }
    // Open the log before writing anything, so a bad log path refuses the whole ingest.
    let mut log = match log_dir {
        Some(dir) => Some(truce_log::Log::open(dir).with_context(|| format!("{}: cannot open the evidence log", dir.display()))?),
        None => None,
    };
    if kept > 0 {
        let schema = batches[0].schema();
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        stored.bytes = truce_store::write_geoparquet(out, &schema, &batches)?;
    }
    write_gaps()?;
    if let Some(log) = log.as_mut() {
        let when = when.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let entries = stored
            .files
            .iter()
            .map(|s| {
                truce_log::Entry::ingested_batch(&truce_log::IngestedBatch {
                    file_sha256: s.sha256.clone(),
                    file_name: s.name.clone(),
                    reader: format!("truce-ingest/{}", s.format),
                    reader_version: env!("CARGO_PKG_VERSION").to_string(),
                    rows_read: s.rows_read,
                    rows_kept: s.rows_kept,
                    rows_rejected: s.rejected_total(),
                    who: who.to_string(),
                    when: when.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let range = match log.append_batch(&entries) {
            Ok(r) => r,
            Err(e) => {
                if kept > 0 {
                    let _ = std::fs::remove_file(out);
                }
                if !gaps.is_empty() {
                    let _ = std::fs::remove_file(&gp);
                }
                return Err(anyhow::Error::from(e).context(format!("evidence log: append failed; {} removed", out.display())));
            }
        };
        stored.log_range = Some(range);
        if let Some(key) = key {
            log.set_signer(truce_log::keys::load_signer(key)?)?;
            stored.checkpoint = Some(log.checkpoint()?);
        }
    }
    Ok(stored)
}

fn end_of_day_ms(d: NaiveDate) -> i64 {
    d.and_hms_milli_opt(23, 59, 59, 999).expect("valid time").and_utc().timestamp_millis()
}

fn parse_band(s: &str) -> Result<Zone> {
    let parts: Vec<&str> = s.split(':').collect();
    let [name, side, min, max] = parts[..] else {
        bail!("--band {s}: expected NAME:SIDE:MIN_KM:MAX_KM");
    };
    let side = match side {
        "held" => BandSide::Held,
        "occupied" => BandSide::Occupied,
        "either" => BandSide::Either,
        _ => bail!("--band {s}: SIDE must be held, occupied or either"),
    };
    let min_km: f64 = min.parse().with_context(|| format!("--band {s}: MIN_KM `{min}` is not a number"))?;
    let max_km: f64 = max.parse().with_context(|| format!("--band {s}: MAX_KM `{max}` is not a number"))?;
    if !(min_km >= 0.0 && max_km >= min_km) {
        bail!("--band {s}: need 0 <= MIN_KM <= MAX_KM");
    }
    Ok(Zone { name: name.to_string(), shape: ZoneShape::Band { side, min_km, max_km } })
}

fn load_zone_file(path: &Path) -> Result<Vec<Zone>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let gj: geojson::GeoJson = text.parse().with_context(|| format!("{}: not GeoJSON", path.display()))?;
    let geojson::GeoJson::FeatureCollection(fc) = gj else {
        bail!("{}: expected a FeatureCollection of zone polygons", path.display());
    };
    let mut zones = Vec::new();
    for (i, f) in fc.features.into_iter().enumerate() {
        let name = f
            .property("name")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .with_context(|| format!("{}: feature {}: field `name`: missing", path.display(), i + 1))?;
        let geom = f.geometry.with_context(|| format!("{}: feature {}: no geometry", path.display(), i + 1))?;
        let g: geo::Geometry = geom.try_into().with_context(|| format!("{}: feature {}: geometry", path.display(), i + 1))?;
        let mp = match g {
            geo::Geometry::Polygon(p) => geo::MultiPolygon(vec![p]),
            geo::Geometry::MultiPolygon(mp) => mp,
            _ => bail!("{}: feature {} ({name}): not a polygon", path.display(), i + 1),
        };
        zones.push(Zone { name, shape: ZoneShape::Area(truce_geometry::GridPolygon::new(&mp)) });
    }
    Ok(zones)
}

pub fn classify(a: ClassifyArgs) -> Result<Outcome> {
    let t0 = std::time::Instant::now();
    let (country, map, zones) = match &a.agreement {
        Some(path) => {
            let agr = crate::assess::load_agreement(path)?;
            let g = crate::assess::load_geometry(&agr)?;
            eprintln!("geometry and {} zones of {} ({}) loaded in {:.2} s", g.zones.len(), agr.id, path.display(), t0.elapsed().as_secs_f64());
            (g.country, g.map, g.zones)
        }
        None => {
            let admin = a.admin.as_ref().context("--admin is required without --agreement")?;
            let country = load_country(admin)?;
            let t1 = std::time::Instant::now();
            let map = load_control_backcast(&a.control, a.backcast_from)?;
            eprintln!(
                "country loaded in {:.2} s; control map ({} snapshots) listed in {:.2} s",
                (t1 - t0).as_secs_f64(),
                map.len(),
                t1.elapsed().as_secs_f64()
            );
            let mut zones: Vec<Zone> = a.bands.iter().map(|s| parse_band(s)).collect::<Result<_>>()?;
            if a.bands.is_empty() {
                zones.push(Zone { name: "buffer".into(), shape: ZoneShape::Band { side: BandSide::Either, min_km: 0.0, max_km: 15.0 } });
            }
            if let Some(z) = &a.zones {
                zones.extend(load_zone_file(z)?);
            }
            (country, map, zones)
        }
    };
    if map.is_empty() {
        bail!("no control snapshot found in {:?}", a.control);
    }
    let fixed_snapshot = match a.at {
        None => None,
        Some(d) => Some(map.in_force_ms(end_of_day_ms(d)).with_context(|| format!("--at {d}: no snapshot at or before it"))?),
    };
    if let Some(i) = fixed_snapshot {
        // Derived here only to time it apart from the points; classify reuses it.
        let t0 = std::time::Instant::now();
        let d = map.derived(i, &country)?;
        eprintln!("snapshot {} derived in {:.2} s", d.name, t0.elapsed().as_secs_f64());
    }
    // Batches stream through three stages at once: a thread decodes the input, the
    // classifier works on all cores, a thread encodes the output. Memory stays at a
    // few batches whatever the file's size.
    let reader = truce_store::open_geoparquet(&a.input)?;
    let rows = reader.rows;
    let classifier = Classifier { map: &map, country: &country, zones: &zones, fixed_snapshot };
    let out_schema = classifier.append_columns(&RecordBatch::new_empty(reader.schema.clone()), &[])?.schema();
    let mut writer = truce_store::GeoParquetWriter::create(&a.out, &out_schema)?;
    let pb = progress::bar(rows, "classify");
    let started = std::time::Instant::now();
    let (mut classify_s, mut read_s, mut write_s) = (0.0, 0.0, 0.0);
    std::thread::scope(|scope| -> Result<()> {
        let (in_tx, in_rx) = std::sync::mpsc::sync_channel::<Result<RecordBatch, truce_store::StoreError>>(2);
        let (out_tx, out_rx) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
        let read_thread = scope.spawn(move || {
            let mut busy = 0.0;
            let mut reader = reader;
            loop {
                let t = std::time::Instant::now();
                let next = reader.next();
                busy += t.elapsed().as_secs_f64();
                match next {
                    Some(b) => {
                        if in_tx.send(b).is_err() {
                            break;
                        }
                    }
                    None => break,
                }
            }
            busy
        });
        let writer_ref = &mut writer;
        let write_thread = scope.spawn(move || -> Result<f64, truce_store::StoreError> {
            let mut busy = 0.0;
            for b in out_rx {
                let t = std::time::Instant::now();
                writer_ref.write(&b)?;
                busy += t.elapsed().as_secs_f64();
            }
            Ok(busy)
        });
        let (mut lon, mut lat, mut t) = (Vec::new(), Vec::new(), Vec::new());
        let mut result = Ok(());
        for b in in_rx {
            let step = (|| -> Result<()> {
                let b = b?;
                let t0 = std::time::Instant::now();
                let c = ObservationColumns::new(&b).with_context(|| a.input.display().to_string())?;
                lon.clear();
                lat.clear();
                t.clear();
                lon.extend_from_slice(c.lon.values());
                lat.extend_from_slice(c.lat.values());
                t.extend((0..b.num_rows()).map(|i| c.midpoint_ms(i)));
                let classes = classifier.classify(&lon, &lat, &t, &|n| pb.inc(n as u64))?;
                let out = classifier.append_columns(&b, &classes)?;
                classify_s += t0.elapsed().as_secs_f64();
                // A closed channel means the writer failed; its error is reported below.
                let _ = out_tx.send(out);
                Ok(())
            })();
            if step.is_err() {
                result = step;
                break;
            }
        }
        drop(out_tx);
        read_s = read_thread.join().expect("reader thread does not panic");
        write_s = write_thread.join().expect("writer thread does not panic")?;
        result
    })?;
    pb.finish_and_clear();
    let elapsed = started.elapsed();
    writer.finish()?;
    println!(
        "{rows} observations classified in {:.2} s ({:.2} M/s) against {} snapshot(s) -> {} (overlapped: read {:.2} s, classify {:.2} s, write {:.2} s)",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64().max(1e-9) / 1e6,
        map.len(),
        a.out.display(),
        read_s,
        classify_s,
        write_s
    );
    if rows == 0 {
        return Ok(Outcome::NothingFound("the input holds no observation".into()));
    }
    Ok(Outcome::Done)
}

fn summarise(input: &Path, bands: DistanceBands, monthly: bool) -> Result<Summary> {
    let (_, batches) = truce_store::read_geoparquet(input)?;
    let mut s = if monthly { Summary::monthly(bands) } else { Summary::new(bands) };
    for b in &batches {
        s.add_batch(b).with_context(|| input.display().to_string())?;
    }
    Ok(s)
}

fn print_summary(s: &Summary) {
    let unit = if s.period == truce_report::Period::Month { "month(s)" } else { "day(s)" };
    println!("{} observations over {} {unit}", s.rows, s.days().len());
    println!("\nby side:");
    for (side, n) in &s.by_side {
        println!("  {side:<10} {n:>10}  {:>5.1} %", 100.0 * *n as f64 / s.rows.max(1) as f64);
    }
    println!("\nby distance to the contact line (signed: held side / occupied side):");
    for band in s.bands.labels() {
        if let Some(n) = s.by_band.get(&band) {
            println!("  {band:<22} {n:>10}");
        }
    }
    if let Some(m) = s.mean_abs_distance_km() {
        println!("\nmean distance to the contact line: {m:.2} km; within 15 km: {}", s.within_km(15.0));
    }
    let days = s.days();
    if !days.is_empty() && days.len() <= 62 {
        let sides: Vec<&String> = s.by_side.keys().collect();
        print!("\n{:<10}", "day");
        for side in &sides {
            print!(" {side:>10}");
        }
        println!(" {:>10}", "<=15 km");
        for d in days {
            print!("{d:<10}");
            for side in &sides {
                let n: u64 = s.cells.iter().filter(|((dd, ss, _), _)| dd == d && ss == *side).map(|(_, n)| n).sum();
                print!(" {n:>10}");
            }
            let near: u64 = s
                .cells
                .iter()
                .filter(|((dd, _, b), _)| dd == d && (b.ends_with(" 0-5 km") || b.ends_with(" 5-15 km")))
                .map(|(_, n)| n)
                .sum();
            println!(" {near:>10}");
        }
    }
}

pub fn summary(a: SummaryArgs) -> Result<Outcome> {
    let edges: Vec<f64> = a
        .bands
        .split(',')
        .map(|x| x.trim().parse::<f64>().with_context(|| format!("--bands: `{x}` is not a number")))
        .collect::<Result<_>>()?;
    let s = summarise(&a.input, DistanceBands::new(edges)?, a.by == "month")?;
    if let Some(csv) = &a.csv {
        write_atomic(csv, s.to_csv().as_bytes())?;
    }
    if a.json {
        println!("{}", s.to_json());
    } else {
        print_summary(&s);
    }
    if s.rows == 0 {
        return Ok(Outcome::NothingFound("no observation in the file".into()));
    }
    Ok(Outcome::Done)
}

fn feature_collection(geom: geo::Geometry, props: serde_json::Map<String, serde_json::Value>) -> String {
    let f = geojson::Feature { geometry: Some(geojson::Geometry::from(&geom)), properties: Some(props), ..Default::default() };
    geojson::FeatureCollection { bbox: None, features: vec![f], foreign_members: None }.to_string()
}

fn line_km(l: &geo::MultiLineString) -> f64 {
    use geo::{Distance, Geodesic, Point};
    l.0.iter().flat_map(|ls| ls.0.windows(2)).map(|w| Geodesic.distance(Point::from(w[0]), Point::from(w[1])) / 1000.0).sum()
}

pub fn control(c: ControlCommand) -> Result<Outcome> {
    match c {
        ControlCommand::List { control, admin, agreement } => {
            let (map, country) = match &agreement {
                Some(a) => {
                    let g = crate::assess::load_geometry(&crate::assess::load_agreement(a)?)?;
                    (g.map, Some(g.country))
                }
                None => (load_control(&control)?, admin.as_deref().map(load_country).transpose()?),
            };
            println!("{:<52} {:<20} {:>6} {:>9} {:>9}", "snapshot", "taken at (UTC)", "parts", "vertices", "km");
            let names: Vec<(String, DateTime<Utc>)> = map.snapshots().map(|(n, t)| (n.to_string(), t)).collect();
            for (i, (name, t)) in names.iter().enumerate() {
                let t = t.format("%Y-%m-%d %H:%M:%S");
                match &country {
                    None => println!("{name:<52} {t:<20}"),
                    Some(c) => {
                        let d = map.derived(i, c)?;
                        let v: usize = d.contact_line.0.iter().map(|l| l.0.len()).sum();
                        println!("{name:<52} {t:<20} {:>6} {v:>9} {:>9.1}", d.contact_line.0.len(), line_km(&d.contact_line));
                    }
                }
            }
            if map.is_empty() {
                return Ok(Outcome::NothingFound("no snapshot".into()));
            }
            Ok(Outcome::Done)
        }
        ControlCommand::Export { control, admin, agreement, at, out } => {
            let (map, country) = match &agreement {
                Some(a) => {
                    let g = crate::assess::load_geometry(&crate::assess::load_agreement(a)?)?;
                    (g.map, g.country)
                }
                None => (load_control(&control)?, load_country(admin.as_deref().context("--admin is required without --agreement")?)?),
            };
            let Some(i) = map.in_force_ms(end_of_day_ms(at)) else {
                return Ok(Outcome::NothingFound(format!("no snapshot at or before {at}")));
            };
            let d = map.derived(i, &country)?;
            std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
            let mut props = serde_json::Map::new();
            props.insert("snapshot".into(), d.name.clone().into());
            props.insert("taken_at".into(), d.taken_at.to_rfc3339().into());
            let files = [
                ("occupied.geojson", geo::Geometry::MultiPolygon(d.occupied.clone())),
                ("contested.geojson", geo::Geometry::MultiPolygon(d.contested.clone())),
                ("contact_line.geojson", geo::Geometry::MultiLineString(d.contact_line.clone())),
                ("country.geojson", geo::Geometry::MultiPolygon(country.outline.clone())),
            ];
            for (name, g) in files {
                write_atomic(&out.join(name), feature_collection(g, props.clone()).as_bytes())?;
            }
            let v: usize = d.contact_line.0.iter().map(|l| l.0.len()).sum();
            println!(
                "snapshot {} ({}): contact line {} parts, {v} vertices, {:.1} km; {} sliver(s) closed; {} polygon(s) repaired -> {}",
                d.name,
                d.taken_at.format("%Y-%m-%d %H:%M UTC"),
                d.contact_line.0.len(),
                line_km(&d.contact_line),
                d.slivers_closed,
                d.repairs.len(),
                out.display()
            );
            Ok(Outcome::Done)
        }
    }
}

/// The bundled demo data, found beside the binary's source tree or the working folder.
pub fn default_demo_data() -> Result<PathBuf> {
    let candidates = [PathBuf::from("demo/data"), PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../demo/data")];
    candidates
        .into_iter()
        .find(|p| p.join("admin").is_dir())
        .context("the demo data (demo/data) was not found: run from the repository root, or pass --data")
}

pub fn demo(a: DemoArgs) -> Result<Outcome> {
    let data = match a.data {
        Some(d) => d,
        None => default_demo_data()?,
    };
    let firms_dir = data.join("firms");
    let mut feeds = Vec::new();
    let latlon = firms_dir.join("ukraine-2000-2023-lat-lon-date");
    if latlon.is_dir() {
        for y in a.years.split(',') {
            let f = latlon.join(format!("ukr_fire_data_{}.csv", y.trim()));
            if f.is_file() {
                feeds.push(f);
            } else {
                bail!("{}: no such file (years come from --years)", f.display());
            }
        }
    }
    for f in list_files(std::slice::from_ref(&firms_dir), &["csv"])? {
        feeds.push(f);
    }
    let control: Vec<PathBuf> = std::fs::read_dir(data.join("deepstate"))
        .with_context(|| format!("{}: cannot list", data.join("deepstate").display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    std::fs::create_dir_all(&a.out).with_context(|| format!("{}: cannot create", a.out.display()))?;
    let obs = a.out.join("observations.parquet");
    let classified = a.out.join("classified.parquet");
    println!("== ingest {} feed file(s) from {}", feeds.len(), data.display());
    if let Outcome::NothingFound(w) =
        ingest(IngestArgs { files: feeds, out: obs.clone(), strict: false, drop_duplicates: false, format: None, log: None, key: None, who: None })?
    {
        return Ok(Outcome::NothingFound(w));
    }
    println!("\n== classify against {} control folder(s)", control.len());
    let classify_outcome = classify(ClassifyArgs {
        input: obs,
        control,
        agreement: None,
        admin: Some(data.join("admin/ukraine-oblasts.geojson")),
        at: None,
        backcast_from: None,
        bands: vec![],
        zones: None,
        out: classified.clone(),
    })?;
    if let Outcome::NothingFound(w) = classify_outcome {
        return Ok(Outcome::NothingFound(w));
    }
    println!("\n== summary");
    let csv = a.out.join("summary.csv");
    let s = summarise(&classified, DistanceBands::standard(), false)?;
    write_atomic(&csv, s.to_csv().as_bytes())?;
    print_summary(&s);
    println!("\nwritten: {}, {}, {}", a.out.join("observations.parquet").display(), classified.display(), csv.display());
    crate::report_cmd::demo_pipeline(&data, &a.out, a.day)?;
    Ok(Outcome::Done)
}
