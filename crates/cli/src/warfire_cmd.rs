//! `truce warfires`: run the war-fire detector over FIRMS files into the reference's
//! daily table (and optionally per-detection GeoParquet), or compare such a table with
//! The Economist's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use arrow_array::builder::{BinaryBuilder, BooleanBuilder, StringBuilder, UInt32Builder};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use truce_ingest::ReadOptions;
use truce_model::ObservationColumns;
use truce_warfire::{day_of_ms, Day, Detections, LandMask, Params, UKRAINE_GRID_BBOX};

use crate::commands::Outcome;
use crate::files::{list_files, load_control_backcast, load_country, read, write_atomic};

/// `truce warfires [run options]` or `truce warfires compare ...`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct WarfiresArgs {
    #[command(subcommand)]
    pub command: Option<WarfiresCommand>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand)]
pub enum WarfiresCommand {
    /// Compare a daily table (from `truce warfires`) with The Economist's published one:
    /// correlations, totals, side split.
    Compare(CompareArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// FIRMS CSV files, or folders of them; they must hold the baseline years as well as
    /// the span to classify.
    #[arg(long, num_args = 1.., required = true)]
    pub firms: Vec<PathBuf>,
    /// Control-map snapshots (GeoJSON files or folders; DeepState raw layers).
    #[arg(long, num_args = 1.., required = true)]
    pub control: Vec<PathBuf>,
    /// Before the earliest snapshot, infer control back to this date (YYYY-MM-DD) from
    /// that snapshot's dated "liberated" layers: ground retaken on day D was occupied
    /// before D (DeepState's first raw layers are of 2022-04-03; try 2022-02-24).
    #[arg(long)]
    pub backcast_from: Option<NaiveDate>,
    /// The country's regions (ukraine-oblasts.geojson): the land mask and the outline.
    #[arg(long, required = true)]
    pub admin: Option<PathBuf>,
    /// First day classified (YYYY-MM-DD).
    #[arg(long, default_value = "2022-02-24")]
    pub from: NaiveDate,
    /// Last day classified.
    #[arg(long, default_value = "2023-02-18")]
    pub to: NaiveDate,
    /// The daily table to write (CSV, the reference's columns).
    #[arg(long, short, required = true)]
    pub out: Option<PathBuf>,
    /// Also write every classified detection, with the verdict and its reasons, as
    /// GeoParquet.
    #[arg(long)]
    pub detections: Option<PathBuf>,
    /// Hand-checked non-war boxes (non-war-fire-boxes.csv); none when absent.
    #[arg(long)]
    pub exclude: Option<PathBuf>,
    /// First baseline year [default: 2012].
    #[arg(long)]
    pub baseline_from: Option<i32>,
    /// Last baseline year [default: 2021].
    #[arg(long)]
    pub baseline_to: Option<i32>,
    /// The baseline quantile [default: 0.98].
    #[arg(long)]
    pub quantile: Option<f64>,
    /// The recent-activity window in days, 0 for none [default: 30].
    #[arg(long)]
    pub recent_days: Option<u16>,
    /// min_length_of_fire_in_area [default: 10].
    #[arg(long)]
    pub min_len_days: Option<i32>,
}

#[derive(Args)]
pub struct CompareArgs {
    /// Our daily table.
    pub daily: PathBuf,
    /// The reference table (war-fires-by-day-2022-02-23_to_2023-04-05.csv).
    #[arg(long)]
    pub reference: PathBuf,
    #[arg(long, default_value = "2022-02-24")]
    pub from: NaiveDate,
    #[arg(long, default_value = "2023-02-18")]
    pub to: NaiveDate,
    /// Also draw both series (centred 7-day means) into this SVG file.
    #[arg(long)]
    pub chart: Option<PathBuf>,
}

pub fn warfires(a: WarfiresArgs) -> Result<Outcome> {
    match a.command {
        Some(WarfiresCommand::Compare(c)) => compare(c),
        None => run(a.run),
    }
}

fn run(a: RunArgs) -> Result<Outcome> {
    let started = Instant::now();
    let (admin, out) = (
        a.admin.context("--admin is required")?,
        a.out.context("--out is required")?,
    );
    if a.to < a.from {
        bail!("--to {} is before --from {}", a.to, a.from);
    }
    let mut p = Params::default();
    if let Some(y) = a.baseline_from {
        p.baseline.year_from = y;
    }
    if let Some(y) = a.baseline_to {
        p.baseline.year_to = y;
    }
    if let Some(q) = a.quantile {
        if !(0.0..=1.0).contains(&q) {
            bail!("--quantile {q}: expected 0..=1");
        }
        p.baseline.quantile = q;
    }
    if let Some(r) = a.recent_days {
        p.baseline.recent_days = r;
    }
    if let Some(m) = a.min_len_days {
        if m < 1 {
            bail!("--min-len-days {m}: expected at least 1");
        }
        p.min_len_days = m;
    }

    // FIRMS files, read in parallel.
    let t = Instant::now();
    let files = list_files(&a.firms, &["csv"])?;
    if files.is_empty() {
        return Ok(Outcome::NothingFound("no FIRMS .csv file to read".into()));
    }
    let opts = ReadOptions {
        drop_duplicates: true,
        ..Default::default()
    };
    let ingested: Vec<truce_ingest::Ingested> = files
        .par_iter()
        .map(|f| {
            Ok(truce_ingest::read(
                &f.display().to_string(),
                &read(f)?,
                &opts,
            )?)
        })
        .collect::<Result<_>>()?;
    let batches: Vec<RecordBatch> = ingested
        .iter()
        .flat_map(|i| i.batches.iter().cloned())
        .collect();
    let (mut lon, mut lat, mut day) = (Vec::new(), Vec::new(), Vec::new());
    for b in &batches {
        let c = ObservationColumns::new(b)?;
        lon.extend_from_slice(c.lon.values());
        lat.extend_from_slice(c.lat.values());
        day.extend((0..b.num_rows()).map(|i| day_of_ms(c.midpoint_ms(i))));
    }
    let rejected: u64 = ingested.iter().map(|i| i.summary.rejected_total()).sum();
    let dups: u64 = ingested.iter().map(|i| i.summary.duplicates_dropped).sum();
    eprintln!(
        "read {} files: {} detections ({rejected} rejected, {dups} duplicates dropped) in {:.2} s",
        files.len(),
        lon.len(),
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let country = load_country(&admin)?;
    let land = LandMask::from_fn(UKRAINE_GRID_BBOX, p.cell_deg, |x, y| {
        country.outline_index.contains(x, y)
    });
    let boxes = match &a.exclude {
        Some(f) => truce_warfire::parse_boxes(&f.display().to_string(), &read(f)?)?,
        None => Vec::new(),
    };
    let map = load_control_backcast(&a.control, a.backcast_from)?;
    if map.is_empty() {
        bail!("no control snapshot found in {:?}", a.control);
    }
    let setup_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let all = Detections {
        lon: &lon,
        lat: &lat,
        day: &day,
    };
    let r = truce_warfire::run(&all, &land, &boxes, &p, a.from, a.to);
    let detect_s = t.elapsed().as_secs_f64();
    if r.target.is_empty() {
        return Ok(Outcome::NothingFound(format!(
            "no detection between {} and {}",
            a.from, a.to
        )));
    }
    if r.baseline.years().is_empty() {
        bail!(
            "no detection in the baseline years {}..={}: nothing to learn from",
            p.baseline.year_from,
            p.baseline.year_to
        );
    }

    let t = Instant::now();
    let t_lon: Vec<f64> = r.target.iter().map(|&i| lon[i]).collect();
    let t_lat: Vec<f64> = r.target.iter().map(|&i| lat[i]).collect();
    let t_day: Vec<Day> = r.target.iter().map(|&i| day[i]).collect();
    let side =
        truce_warfire::sides(&map, &country, &t_lon, &t_lat, &t_day)?.expect("map is not empty");
    let sides_s = t.elapsed().as_secs_f64();
    let land_t: Vec<bool> = r.verdicts.iter().map(|v| v.land).collect();
    let war: Vec<bool> = r.verdicts.iter().map(|v| v.war).collect();
    let russia: Vec<bool> = side
        .iter()
        .map(|s| truce_warfire::russia_held(*s))
        .collect();
    let table = truce_warfire::daily_table(&t_day, &land_t, &war, &russia, a.from, a.to);
    write_atomic(&out, truce_warfire::daily_csv(&table).as_bytes())?;

    if let Some(path) = &a.detections {
        // Ids and times of the classified detections, from the batches they came from.
        let mut ids = StringBuilder::new();
        let (mut ts, mut te) = (
            Vec::with_capacity(r.target.len()),
            Vec::with_capacity(r.target.len()),
        );
        let mut offsets = Vec::with_capacity(batches.len());
        let mut n = 0;
        for b in &batches {
            offsets.push(n);
            n += b.num_rows();
        }
        for &i in &r.target {
            let k = offsets.partition_point(|&o| o <= i) - 1;
            let (b, row) = (&batches[k], i - offsets[k]);
            let c = ObservationColumns::new(b)?;
            let id = b
                .column_by_name(truce_model::col::ID)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>());
            ids.append_value(id.map_or("", |a| a.value(row)));
            ts.push(c.time_start.value(row));
            te.push(c.time_end.value(row));
        }
        let (mut geom, mut side_b) = (BinaryBuilder::new(), StringBuilder::new());
        for (k, s) in side.iter().enumerate() {
            geom.append_value(truce_model::wkb_point(t_lon[k], t_lat[k]));
            side_b.append_value(s.as_str());
        }
        let bools = |f: &dyn Fn(&truce_warfire::Verdict) -> bool| -> ArrayRef {
            let mut b = BooleanBuilder::new();
            r.verdicts.iter().for_each(|v| b.append_value(f(v)));
            Arc::new(b.finish())
        };
        let u32s = |f: &dyn Fn(&truce_warfire::Verdict) -> u32| -> ArrayRef {
            let mut b = UInt32Builder::new();
            r.verdicts.iter().for_each(|v| b.append_value(f(v)));
            Arc::new(b.finish())
        };
        let batch = RecordBatch::try_from_iter(vec![
            ("id", Arc::new(ids.finish()) as ArrayRef),
            (
                truce_model::col::TIME_START,
                Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")) as ArrayRef,
            ),
            (
                truce_model::col::TIME_END,
                Arc::new(TimestampMillisecondArray::from(te).with_timezone("UTC")) as ArrayRef,
            ),
            (
                truce_model::col::LON,
                Arc::new(Float64Array::from(t_lon.clone())) as ArrayRef,
            ),
            (
                truce_model::col::LAT,
                Arc::new(Float64Array::from(t_lat.clone())) as ArrayRef,
            ),
            ("land", bools(&|v| v.land)),
            ("war_fire", bools(&|v| v.war)),
            ("war_fire_restrictive", bools(&|v| v.restrictive)),
            ("excess_fire", u32s(&|v| v.excess)),
            ("predicted_fire", u32s(&|v| v.expected)),
            ("fire_in_window", u32s(&|v| v.fire_in_window)),
            ("assigned", bools(&|v| v.assigned)),
            ("mass_excess", bools(&|v| v.mass)),
            ("sustained_excess", bools(&|v| v.sustained)),
            ("carried", bools(&|v| v.carried)),
            ("excluded", bools(&|v| v.excluded)),
            (
                truce_model::col::SIDE,
                Arc::new(side_b.finish()) as ArrayRef,
            ),
            (
                truce_model::col::GEOMETRY,
                Arc::new(geom.finish()) as ArrayRef,
            ),
        ])?;
        truce_store::write_geoparquet(path, &batch.schema(), &[batch])?;
    }

    let s = &r.stats;
    let (fires, wars): (u64, u64) = table.iter().fold((0, 0), |(f, w), d| {
        (f + d.fires as u64, w + d.war_fires as u64)
    });
    let war_ru: u64 = table.iter().map(|d| d.war_fires_russia as u64).sum();
    println!(
        "baseline: years {:?} ({} detections), quantile {}, block pooling {}, recent window {} days",
        r.baseline.years(),
        r.baseline.detections_used,
        p.baseline.quantile,
        p.baseline.block_pool,
        p.baseline.recent_days
    );
    println!(
        "{} .. {}: {} detections on land, {} cell-days ({} with excess), median excess {}, {} cells sustained ({} by their own dates)",
        a.from,
        a.to,
        s.land_detections,
        s.cell_days,
        s.cell_days_excess,
        s.median_excess.map_or("n/a".into(), |m| m.to_string()),
        s.cells_sustained,
        s.cells_sustained_own
    );
    println!(
        "war fires: {wars} of {fires} ({} restrictive, {} carried forward, {} in exclusion boxes); {:.1} % on the Russia-held side",
        s.restrictive,
        s.carried,
        s.excluded_detections,
        100.0 * war_ru as f64 / wars.max(1) as f64
    );
    println!(
        "-> {}{} in {:.1} s (setup {:.1} s, baseline + detect {:.1} s, sides {:.1} s)",
        out.display(),
        a.detections
            .as_ref()
            .map_or(String::new(), |d| format!(", {}", d.display())),
        started.elapsed().as_secs_f64(),
        setup_s,
        detect_s,
        sides_s
    );
    Ok(Outcome::Done)
}

fn compare(a: CompareArgs) -> Result<Outcome> {
    let ours = truce_warfire::read_daily_csv(&a.daily.display().to_string(), &read(&a.daily)?)?;
    let reference =
        truce_warfire::read_daily_csv(&a.reference.display().to_string(), &read(&a.reference)?)?;
    let c = truce_warfire::compare(&ours, &reference, a.from, a.to);
    if c.days == 0 {
        return Ok(Outcome::NothingFound(format!(
            "no day of {} .. {} in both tables",
            a.from, a.to
        )));
    }
    println!("{c}");
    if let Some(path) = &a.chart {
        let svg = truce_warfire::svg_chart(
            &ours,
            &reference,
            a.from,
            a.to,
            c.fires_ratio(),
            "War-related fires in Ukraine: truce vs The Economist",
        );
        write_atomic(path, svg.as_bytes())?;
        println!("chart -> {}", path.display());
    }
    Ok(Outcome::Done)
}
