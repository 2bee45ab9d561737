//! The detector on the real shared data (`../shared/data`), against The Economist's
//! published table: regression values and the comparison figures with a margin. Prints
//! SKIP and passes when the data is absent (a fresh clone).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use rayon::prelude::*;
use truce_geometry::{ControlMap, Country};
use truce_ingest::ReadOptions;
use truce_model::ObservationColumns;
use truce_warfire::*;

fn data() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    d.join("firms/ukraine-2000-2023-lat-lon-date")
        .exists()
        .then_some(d)
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

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

struct Year {
    stats: DetectStats,
    table: Vec<DailyRow>,
    /// The same, with control before 2022-04-03 inferred from the first snapshot's
    /// dated liberated layers (`ControlMap::backcast_earliest`, CLI `--backcast-from`).
    table_backcast: Vec<DailyRow>,
    reference: Vec<DailyRow>,
}

/// The whole pipeline over 2022-02-24..2023-02-18 with default parameters, run once.
fn year() -> Option<&'static Year> {
    static YEAR: OnceLock<Option<Year>> = OnceLock::new();
    YEAR.get_or_init(|| {
        let data = data()?;
        let opts = ReadOptions {
            drop_duplicates: true,
            ..Default::default()
        };
        let ingested: Vec<_> = files(&data.join("firms/ukraine-2000-2023-lat-lon-date"), "csv")
            .par_iter()
            .map(|f| {
                truce_ingest::read(&f.display().to_string(), &std::fs::read(f).unwrap(), &opts)
                    .unwrap()
            })
            .collect();
        let (mut lon, mut lat, mut day) = (Vec::new(), Vec::new(), Vec::new());
        for b in ingested.iter().flat_map(|i| &i.batches) {
            let c = ObservationColumns::new(b).unwrap();
            lon.extend_from_slice(c.lon.values());
            lat.extend_from_slice(c.lat.values());
            day.extend((0..b.num_rows()).map(|i| day_of_ms(c.midpoint_ms(i))));
        }
        let country = Country::from_geojson(
            "oblasts",
            &std::fs::read(data.join("admin/ukraine-oblasts.geojson")).unwrap(),
        )
        .unwrap();
        let p = Params::default();
        let land = LandMask::from_fn(UKRAINE_GRID_BBOX, p.cell_deg, |x, y| {
            country.outline_index.contains(x, y)
        });
        let boxes = parse_boxes(
            "boxes",
            &std::fs::read(data.join("economist/non-war-fire-boxes.csv")).unwrap(),
        )
        .unwrap();
        let (from, to) = (ymd(2022, 2, 24), ymd(2023, 2, 18));
        let r = run(
            &Detections {
                lon: &lon,
                lat: &lat,
                day: &day,
            },
            &land,
            &boxes,
            &p,
            from,
            to,
        );
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
        let map = ControlMap::from_files(control.clone()).unwrap();
        let mut map_backcast = ControlMap::from_files(control).unwrap();
        let from_ms = ymd(2022, 2, 24).and_hms_opt(0, 0, 0).unwrap().and_utc();
        assert!(map_backcast.backcast_earliest(from_ms).unwrap() > 5);
        let pick = |v: &[f64]| -> Vec<f64> { r.target.iter().map(|&i| v[i]).collect() };
        let (t_lon, t_lat) = (pick(&lon), pick(&lat));
        let t_day: Vec<Day> = r.target.iter().map(|&i| day[i]).collect();
        let side = sides(&map, &country, &t_lon, &t_lat, &t_day)
            .unwrap()
            .unwrap();
        let russia: Vec<bool> = side.into_iter().map(russia_held).collect();
        let land_t: Vec<bool> = r.verdicts.iter().map(|v| v.land).collect();
        let war: Vec<bool> = r.verdicts.iter().map(|v| v.war).collect();
        let table = daily_table(&t_day, &land_t, &war, &russia, from, to);
        let russia_bc: Vec<bool> = sides(&map_backcast, &country, &t_lon, &t_lat, &t_day)
            .unwrap()
            .unwrap()
            .into_iter()
            .map(russia_held)
            .collect();
        let table_backcast = daily_table(&t_day, &land_t, &war, &russia_bc, from, to);
        let reference = read_daily_csv(
            "reference",
            &std::fs::read(data.join("economist/war-fires-by-day-2022-02-23_to_2023-04-05.csv"))
                .unwrap(),
        )
        .unwrap();
        Some(Year {
            stats: r.stats,
            table,
            table_backcast,
            reference,
        })
    })
    .as_ref()
}

macro_rules! year_or_skip {
    () => {
        match year() {
            Some(y) => y,
            None => {
                println!("SKIP: ../shared/data not found");
                return;
            }
        }
    };
}

/// Regression values of the default run: any change to a rule, the baseline or the
/// input handling moves at least one of them. Update them only with a reason in
/// docs/warfires.md.
#[test]
fn regression_year_2022_stats() {
    let y = year_or_skip!();
    let s = &y.stats;
    println!("{s:?}");
    assert_eq!(s.detections, 130_801);
    assert_eq!(s.land_detections, 129_307);
    assert_eq!(s.cell_days, 34_357);
    assert_eq!(s.cell_days_excess, 2_182);
    assert_eq!(s.excluded_detections, 4_784);
    assert_eq!(s.median_excess, Some(8.0));
    assert_eq!(s.years, 2);
    assert_eq!((s.cells_sustained_own, s.cells_sustained), (195, 2_935));
    assert_eq!((s.restrictive, s.carried, s.war), (22_854, 16_294, 39_148));
    // The table adds up to the verdicts.
    let war: u64 = y.table.iter().map(|r| r.war_fires as u64).sum();
    assert_eq!(war, s.war as u64);
    assert!(y
        .table
        .iter()
        .all(|r| r.fires == r.fires_held + r.fires_russia
            && r.war_fires == r.war_fires_held + r.war_fires_russia));
}

/// The targets over 2022-02-24..2023-02-18, asserted with a margin below what the
/// default run gives (docs/warfires.md has the figures).
#[test]
fn comparison_with_the_economist() {
    let y = year_or_skip!();
    let c = compare(&y.table, &y.reference, ymd(2022, 2, 24), ymd(2023, 2, 18));
    println!("{c}");
    assert_eq!(c.days, 360);
    assert_eq!((c.war_reference, c.fires_reference), (13_375, 72_893));
    assert!(c.r_daily.unwrap() >= 0.88, "r daily {:?}", c.r_daily);
    assert!(c.r_7day.unwrap() >= 0.90, "r 7-day {:?}", c.r_7day);
    // Our input holds ~1.77x the reference's detections; the war-fire total is ~2.9x.
    assert!(
        (1.70..1.85).contains(&c.fires_ratio().unwrap()),
        "{:?}",
        c.fires_ratio()
    );
    assert!(
        (2.5..3.4).contains(&c.war_ratio().unwrap()),
        "{:?}",
        c.war_ratio()
    );
    // Side split: the full span misses the 10-point target (46 % vs 60 %) because the
    // first DeepState snapshot (2022-04-03) lacks the March 2022 occupation north of
    // Kyiv; from that snapshot on, it is within 5 points.
    let gap = (c.war_russia_share_ours.unwrap() - c.war_russia_share_reference.unwrap()).abs();
    assert!(gap < 0.16, "side share gap {gap}");
    // With control inferred back to 2022-02-24 from the dated liberated layers of the
    // first snapshot (ground retaken on day D was occupied before D), the full span is
    // within the 10 points (51.9 % vs 59.8 % when written).
    let bc = compare(&y.table_backcast, &y.reference, ymd(2022, 2, 24), ymd(2023, 2, 18));
    println!("with backcast: {bc}");
    let gap = (bc.war_russia_share_ours.unwrap() - bc.war_russia_share_reference.unwrap()).abs();
    assert!(gap < 0.10, "side share gap with backcast {gap}");
    let later = compare(&y.table, &y.reference, ymd(2022, 4, 3), ymd(2023, 2, 18));
    println!("{later}");
    let gap =
        (later.war_russia_share_ours.unwrap() - later.war_russia_share_reference.unwrap()).abs();
    assert!(gap < 0.07, "side share gap from 2022-04-03: {gap}");
    let gap_all = (later.fires_russia_share_ours.unwrap()
        - later.fires_russia_share_reference.unwrap())
    .abs();
    assert!(
        gap_all < 0.05,
        "all-fire side share gap from 2022-04-03: {gap_all}"
    );
}

#[test]
fn daily_csv_round_trips() {
    let y = year_or_skip!();
    let back = read_daily_csv("ours.csv", daily_csv(&y.table).as_bytes()).unwrap();
    assert_eq!(back, y.table);
}
