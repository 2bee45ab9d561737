//! The war-fire detector: which satellite fire detections are likely war-related, after
//! The Economist's war-fire model (github.com/TheEconomist/the-economist-war-fire-model,
//! `scripts/aux_war_fire_classifier_function.R`), over NASA FIRMS detections.
//!
//! The method, with every number a field of [`Params`] whose default is the
//! reference's:
//!
//! 1. **Grid.** Detections fall in 0.1 degree cells (`x = round(lon/0.1)*0.1`); the unit
//!    is the cell-day and its count. Only land cells count ([`LandMask`]: truce keeps
//!    cells whose centre is inside the country outline, where the reference keeps cells
//!    with WorldPop population data).
//! 2. **Baseline.** [`Baseline`] learns, from pre-war years, the count a cell sees on a
//!    normal day of that season (a seasonal 0.98 quantile pooled with the 0.5 degree
//!    block, floored by what baseline cell-days with the same trailing 30-day activity
//!    showed; the reference uses a 100-model boosted-tree ensemble).
//! 3. **Excess** `= ceil(max(0, fire - expected - 2))`, after setting cell-days in the
//!    hand-checked non-war boxes ([`ExclusionBox`]) to zero.
//! 4. **Assignment.** Excess `e` of `k` detections: all when `e >= k`, else `e` drawn by a
//!    generator seeded with 112358 for each cell-day.
//! 5. **Mass excess.** Every detection whose cell-day excess is at least the median
//!    positive excess is a war fire.
//! 6. **Sustained excess.** A cell keeps its war fires only if two distinct flagged dates
//!    are 9..=89 days apart (`min_len_days` 10), or it has more than `(1 + years) * 10`
//!    flagged dates; cells within 50 km (haversine between centres) of such a cell pass
//!    too.
//! 7. **Carry-forward.** A detection in the same cell within 10 days after a war fire with
//!    excess becomes one; the exclusion boxes are applied again.
//!
//! Then [`sides`] places each detection on the Ukraine-held or Russia-held side by the
//! dated control map, and [`daily_table`] counts per day in the reference's columns;
//! [`compare`] measures the result against the published table.
//!
//! The crate is pure: detections arrive as slices, dates as values; nothing reads the
//! disk or the clock.
//!
//! ```
//! use truce_warfire::*;
//! // 30 detections in one cell on one day, and a few more there 20 days later; the
//! // baseline says a normal day has none.
//! let mut day = vec![day_of(chrono::NaiveDate::from_ymd_opt(2022, 3, 1).unwrap()); 30];
//! day.extend([day[0] + 20; 5]);
//! let (lon, lat) = (vec![37.5; day.len()], vec![48.0; day.len()]);
//! let det = Detections { lon: &lon, lat: &lat, day: &day };
//! let (v, stats) = detect(&det, &|keys| vec![0; keys.len()], &LandMask::All, &[], &Params::default());
//! // Day 1: excess 30 - 0 - 2 = 28, and 28 is also the median excess, so all 30 are
//! // war fires (mass excess). Day 21: excess 3, drawn among 5, below the median, and
//! // 20 days is beyond the 10-day carry-forward: 3 war fires. The two dates are 20 days
//! // apart (within 9..=89), so the cell shows sustained excess.
//! assert_eq!(v[..30].iter().filter(|x| x.war).count(), 30);
//! assert_eq!(v[30..].iter().filter(|x| x.war).count(), 3);
//! assert_eq!(stats.cells_sustained_own, 1);
//! ```

mod baseline;
mod daily;
mod detect;
mod grid;
mod side;

pub use baseline::{Baseline, BaselineParams};
pub use daily::{
    centred_mean_7, compare, daily_csv, daily_table, pearson, read_daily_csv, svg_chart,
    Comparison, DailyRow, DAILY_COLUMNS,
};
pub use detect::{
    assign, detect, excess, median_positive, parse_boxes, spread, sustained, DetectStats,
    ExclusionBox, ExpectedFn, Verdict, BOXES_MAX,
};
pub use grid::{
    date_of, day_of, day_of_ms, doy_year, haversine_km, Cell, Day, LandMask, SplitMix64,
    HAVERSINE_RADIUS_KM, UKRAINE_GRID_BBOX,
};
pub use side::{russia_held, sides};

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

/// Errors of the detector's readers; each names the file, line and field.
#[derive(Debug, thiserror::Error)]
pub enum WarfireError {
    /// A row or field of an input table could not be used.
    #[error("{file}:{line}: {field}: {why}")]
    Input {
        file: String,
        line: u64,
        field: String,
        why: String,
    },
}

/// Detections as parallel columns: longitude and latitude in degrees, and the UTC
/// [`Day`] of acquisition.
#[derive(Debug, Clone, Copy)]
pub struct Detections<'a> {
    pub lon: &'a [f64],
    pub lat: &'a [f64],
    pub day: &'a [Day],
}

impl Detections<'_> {
    /// Number of detections.
    pub fn len(&self) -> usize {
        assert!(
            self.lon.len() == self.lat.len() && self.lat.len() == self.day.len(),
            "columns of different lengths"
        );
        self.day.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every knob of the method. Defaults are the reference's values (the live model's
/// where its scripts differ), except the baseline, which is truce's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Cell size in degrees (0.1).
    pub cell_deg: f64,
    /// Fires must exceed the expected count by more than this (2, in every month).
    pub offset: f64,
    /// Seed of each cell-day's draw (112358).
    pub seed: u64,
    /// Apply the mass-excess rule (yes).
    pub mass_excess: bool,
    /// `min_length_of_fire_in_area`: flagged dates at least `min_len_days - 1` apart
    /// (10, as the live model and script 05; the function's own default is 7).
    pub min_len_days: i32,
    /// ... and at most this many days apart (89: the code's `(min-1):(90-1)`).
    pub max_gap_days: i32,
    /// The shortcut: more than `(1 + years) * min_len_days` flagged dates passes (yes).
    pub sustained_shortcut: bool,
    /// Cells within this distance of a sustained cell count as sustained (50 km).
    pub spread_km: f64,
    /// Days after a war fire with excess during which the cell's detections are war
    /// fires (10).
    pub carry_days: i32,
    /// The baseline's own knobs.
    pub baseline: BaselineParams,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            cell_deg: 0.1,
            offset: 2.0,
            seed: 112_358,
            mass_excess: true,
            min_len_days: 10,
            max_gap_days: 89,
            sustained_shortcut: true,
            spread_km: 50.0,
            carry_days: 10,
            baseline: BaselineParams::default(),
        }
    }
}

/// The result of [`run`]: the baseline learnt, which detections were classified, and
/// their verdicts.
pub struct Run {
    pub baseline: Baseline,
    /// Indices (into the input) of the detections in the classification span, in input
    /// order; `verdicts[k]` belongs to detection `target[k]`.
    pub target: Vec<usize>,
    pub verdicts: Vec<Verdict>,
    pub stats: DetectStats,
}

/// The whole detector over one input that holds both baseline years and the span to
/// classify: learns the baseline from detections of `params.baseline.year_from ..=
/// year_to`, then classifies the detections of `from..=to`.
pub fn run(
    all: &Detections,
    land: &LandMask,
    boxes: &[ExclusionBox],
    params: &Params,
    from: NaiveDate,
    to: NaiveDate,
) -> Run {
    let (y0, y1) = (params.baseline.year_from, params.baseline.year_to);
    let (d0, d1) = (day_of(from), day_of(to));
    let (mut b_lon, mut b_lat, mut b_day) = (Vec::new(), Vec::new(), Vec::new());
    let (mut t_lon, mut t_lat, mut t_day, mut target) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..all.len() {
        let d = all.day[i];
        let y = date_of(d).year();
        if y >= y0 && y <= y1 {
            b_lon.push(all.lon[i]);
            b_lat.push(all.lat[i]);
            b_day.push(d);
        }
        if d >= d0 && d <= d1 {
            t_lon.push(all.lon[i]);
            t_lat.push(all.lat[i]);
            t_day.push(d);
            target.push(i);
        }
    }
    let baseline = Baseline::learn(
        &Detections {
            lon: &b_lon,
            lat: &b_lat,
            day: &b_day,
        },
        land,
        params.cell_deg,
        &params.baseline,
    );
    // Trailing sums for the recent-activity floor come from every detection, including
    // the days just before `from`.
    let w = params.baseline.recent_days as Day;
    let mut recent: HashMap<(Cell, Day), u32> = HashMap::new();
    if w > 0 {
        for i in 0..all.len() {
            let d = all.day[i];
            if d > d0 - w && d <= d1 {
                let c = Cell::of(all.lon[i], all.lat[i], params.cell_deg);
                if land.contains(c) {
                    *recent.entry((c, d)).or_insert(0) += 1;
                }
            }
        }
    }
    let t = Detections {
        lon: &t_lon,
        lat: &t_lat,
        day: &t_day,
    };
    let expected = |keys: &[(Cell, Day)]| -> Vec<u32> {
        let seasonal = baseline.expected_many(keys);
        if w == 0 {
            return seasonal;
        }
        keys.iter()
            .zip(seasonal)
            .map(|(&(c, d), e)| {
                let sum: u32 = (d - w + 1..=d)
                    .map(|k| recent.get(&(c, k)).copied().unwrap_or(0))
                    .sum();
                e.max(baseline.recent_expected(sum))
            })
            .collect()
    };
    let (verdicts, stats) = detect(&t, &expected, land, boxes, params);
    Run {
        baseline,
        target,
        verdicts,
        stats,
    }
}
