//! The whole year from the CSV files, baseline learning included, timed step by step,
//! and compared with The Economist's table.
//!
//! `cargo bench -p truce-warfire` (release profile). Needs `../shared/data`; prints SKIP
//! without it. Knobs for measurement sweeps come from the environment:
//! `WARFIRE_QUANTILE`, `WARFIRE_WINDOW`, `WARFIRE_BLOCK` (0/1), `WARFIRE_YEAR_FROM`,
//! `WARFIRE_YEAR_TO`, `WARFIRE_TO` (last day classified), `WARFIRE_SIDES` (0 skips the
//! control map).

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use rayon::prelude::*;
use truce_geometry::{ControlMap, Country};
use truce_ingest::ReadOptions;
use truce_model::ObservationColumns;
use truce_warfire::*;

fn env<T: std::str::FromStr>(k: &str) -> Option<T> {
    std::env::var(k).ok().and_then(|v| v.parse().ok())
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if !data.exists() {
        println!("SKIP: {} not found", data.display());
        return;
    }
    let mut p = Params::default();
    if let Some(q) = env("WARFIRE_QUANTILE") {
        p.baseline.quantile = q;
    }
    if let Some(w) = env("WARFIRE_WINDOW") {
        p.baseline.window_days = w;
    }
    if let Some(b) = env::<u8>("WARFIRE_BLOCK") {
        p.baseline.block_pool = b == 1;
    }
    if let Some(y) = env("WARFIRE_YEAR_FROM") {
        p.baseline.year_from = y;
    }
    if let Some(y) = env("WARFIRE_YEAR_TO") {
        p.baseline.year_to = y;
    }
    if let Some(r) = env("WARFIRE_RECENT") {
        p.baseline.recent_days = r;
    }
    if let Some(m) = env("WARFIRE_MIN_LEN") {
        p.min_len_days = m;
    }
    if let Some(o) = env("WARFIRE_OFFSET") {
        p.offset = o;
    }
    let from = NaiveDate::from_ymd_opt(2022, 2, 24).unwrap();
    let to: NaiveDate = env("WARFIRE_TO").unwrap_or(NaiveDate::from_ymd_opt(2023, 2, 18).unwrap());
    let mut rows: Vec<(&str, f64)> = Vec::new();
    let t_all = Instant::now();

    let t = Instant::now();
    let firms = files(&data.join("firms/ukraine-2000-2023-lat-lon-date"), "csv");
    let opts = ReadOptions {
        drop_duplicates: true,
        ..Default::default()
    };
    let ingested: Vec<_> = firms
        .par_iter()
        .map(|f| {
            truce_ingest::read(&f.display().to_string(), &std::fs::read(f).unwrap(), &opts).unwrap()
        })
        .collect();
    let (mut lon, mut lat, mut day) = (Vec::new(), Vec::new(), Vec::new());
    for b in ingested.iter().flat_map(|i| &i.batches) {
        let c = ObservationColumns::new(b).unwrap();
        lon.extend_from_slice(c.lon.values());
        lat.extend_from_slice(c.lat.values());
        day.extend((0..b.num_rows()).map(|i| day_of_ms(c.midpoint_ms(i))));
    }
    rows.push((
        "read FIRMS CSVs (truce-ingest, 21 files)",
        t.elapsed().as_secs_f64(),
    ));

    let t = Instant::now();
    let admin = data.join("admin/ukraine-oblasts.geojson");
    let country = Country::from_geojson("oblasts", &std::fs::read(&admin).unwrap()).unwrap();
    let land = LandMask::from_fn(UKRAINE_GRID_BBOX, p.cell_deg, |x, y| {
        country.outline_index.contains(x, y)
    });
    let boxes = parse_boxes(
        "boxes",
        &std::fs::read(data.join("economist/non-war-fire-boxes.csv")).unwrap(),
    )
    .unwrap();
    rows.push((
        "country outline, land mask, boxes",
        t.elapsed().as_secs_f64(),
    ));

    let t = Instant::now();
    let all = Detections {
        lon: &lon,
        lat: &lat,
        day: &day,
    };
    let r = run(&all, &land, &boxes, &p, from, to);
    let run_s = t.elapsed().as_secs_f64();
    rows.push(("baseline + detect (run)", run_s));

    let t_lon: Vec<f64> = r.target.iter().map(|&i| lon[i]).collect();
    let t_lat: Vec<f64> = r.target.iter().map(|&i| lat[i]).collect();
    let t_day: Vec<Day> = r.target.iter().map(|&i| day[i]).collect();
    let russia: Vec<bool> = if env::<u8>("WARFIRE_SIDES") == Some(0) {
        vec![false; t_day.len()]
    } else {
        let t = Instant::now();
        let mut control = Vec::new();
        for d in [
            "deepstate/raw-layers-weekly-2022-04_to_2023-03",
            "deepstate/raw-layers-monthly-2023-04_to_2025-08",
        ] {
            for f in files(&data.join(d), "geojson") {
                control.push((
                    f.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&f).unwrap(),
                ));
            }
        }
        let map = ControlMap::from_files(control).unwrap();
        rows.push(("read control map (files)", t.elapsed().as_secs_f64()));
        let t = Instant::now();
        let s = sides(&map, &country, &t_lon, &t_lat, &t_day)
            .unwrap()
            .unwrap();
        rows.push((
            "sides (derive snapshots in force + points)",
            t.elapsed().as_secs_f64(),
        ));
        s.into_iter().map(russia_held).collect()
    };
    let t = Instant::now();
    let land_t: Vec<bool> = r.verdicts.iter().map(|v| v.land).collect();
    let war: Vec<bool> = r.verdicts.iter().map(|v| v.war).collect();
    let table = daily_table(&t_day, &land_t, &war, &russia, from, to);
    let reference = read_daily_csv(
        "reference",
        &std::fs::read(data.join("economist/war-fires-by-day-2022-02-23_to_2023-04-05.csv"))
            .unwrap(),
    )
    .unwrap();
    let cmp = compare(&table, &reference, from, to);
    rows.push(("daily table + comparison", t.elapsed().as_secs_f64()));
    let total = t_all.elapsed().as_secs_f64();

    println!(
        "\nwar-fire detector, {} .. {}, {} detections read, {} classified",
        from,
        to,
        lon.len(),
        r.target.len()
    );
    println!(
        "baseline: years {:?}, {} detections, params {:?}",
        r.baseline.years(),
        r.baseline.detections_used,
        r.baseline.params()
    );
    println!("{:?}\n", r.stats);
    println!("| step | seconds |\n|---|---:|");
    for (k, s) in &rows {
        println!("| {k} | {s:.2} |");
    }
    println!("| **total** | **{total:.2}** |\n");
    println!("{cmp}");
    if let Ok(out) = std::env::var("WARFIRE_CSV") {
        std::fs::write(out, daily_csv(&table)).unwrap();
    }
}
