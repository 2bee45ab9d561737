//! The expected-fire baseline: how many detections a cell sees on a normal day of that
//! season.
//!
//! The reference fits 100 boosted-tree models on 2015..2022-02-23 cell-days and takes,
//! per cell-day, the 95th of their 100 predictions, rounded up. truce replaces that with
//! an empirical seasonal quantile, learnt in one pass over pre-war years:
//!
//! * the sample of a cell and a day of the year is every cell-day of that cell within
//!   `window_days` of that day of the year, in every baseline year that has data (a
//!   missing year, such as 2014, 2015 and 2017 in the shared files, is not counted as a
//!   year of zeros);
//! * its `quantile` (type 1, the inverse of the empirical distribution, zeros included)
//!   is the cell's figure;
//! * the same quantile over the 0.5 degree block (all land cells of the block, same
//!   window and years) is the block's figure: this pools neighbours, so that a cell
//!   that happened to burn little in the baseline years but lies in a burning landscape
//!   (crop stubble, peat, forest) is not read as anomalous;
//! * a recent-activity floor, because the reference's features include the cell's
//!   30-day moving average of fires *including the day itself* (`fire_30da`, a
//!   `stats::filter(..., sides = 1)`) and 5-year day-of-year averages that include the
//!   current year: its expected count rises where a cell has been burning. truce learns,
//!   from the same baseline years, the `quantile` of a cell-day's count given the cell's
//!   trailing 30-day sum (today included), and takes that as a floor;
//! * expected = max(cell figure, block figure, recent floor).
//!
//! All figures are integers already, so there is no rounding step. The choice of window,
//! quantile and pooling is measured in `docs/warfires.md`.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::grid::{doy_year, Cell, Day, LandMask};
use crate::Detections;

/// How the baseline is learnt.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineParams {
    /// First baseline year (inclusive); the CLI feeds the learner detections of
    /// `year_from..=year_to` only.
    pub year_from: i32,
    /// Last baseline year (inclusive).
    pub year_to: i32,
    /// Half-width of the day-of-year window, in days (15: a 31-day season).
    pub window_days: u16,
    /// The quantile of the cell-day count distribution taken as expected.
    pub quantile: f64,
    /// Pool the 0.5 degree block (expected = max(cell, block)).
    pub block_pool: bool,
    /// The block's size in degrees (the reference's `id_5x5`).
    pub block_deg: f64,
    /// Recent activity: the number of days of the cell's trailing fire sum (today
    /// included, as the reference's `fire_30da` feature: a 30-day moving average with
    /// `sides = 1`). The expected count is at least the `quantile` of the counts that
    /// baseline cell-days with the same trailing sum showed. 0 turns it off.
    pub recent_days: u16,
}

impl Default for BaselineParams {
    fn default() -> Self {
        BaselineParams {
            year_from: 2012,
            year_to: 2021,
            window_days: 15,
            quantile: 0.98,
            block_pool: true,
            block_deg: 0.5,
            recent_days: 30,
        }
    }
}

/// Per-cell and per-block counts of the baseline years, ready for quantile queries.
#[derive(Debug, Clone)]
pub struct Baseline {
    params: BaselineParams,
    cell_deg: f64,
    /// Years with at least one baseline detection.
    years: Vec<i32>,
    /// Non-zero cell-day counts of each cell as (day of year, count), sorted by day of year.
    cells: HashMap<Cell, Vec<(u16, u32)>>,
    /// The same for each block, every land cell of the block together.
    blocks: HashMap<Cell, Vec<(u16, u32)>>,
    /// Land cells per block.
    block_cells: HashMap<Cell, u32>,
    /// Per trailing-sum bucket ([`recent_bucket`]), a histogram of the day's count over
    /// baseline cell-days.
    recent: Vec<Vec<u64>>,
    /// Detections the learner kept (land cells only).
    pub detections_used: usize,
}

/// Buckets of the trailing sum: exact up to 32, then 8 per doubling.
pub fn recent_bucket(sum: u32) -> usize {
    if sum <= 32 {
        return sum as usize;
    }
    let l = 31 - sum.leading_zeros(); // floor(log2), >= 5
    let frac = (sum >> (l - 3)) & 7; // next three bits
    (33 + (l - 5) * 8 + frac) as usize
}

fn hist_quantile(hist: &[u64], q: f64) -> Option<u32> {
    let n: u64 = hist.iter().sum();
    if n == 0 {
        return None;
    }
    let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
    let mut seen = 0;
    for (k, &h) in hist.iter().enumerate() {
        seen += h;
        if seen >= rank {
            return Some(k as u32);
        }
    }
    None
}

impl Baseline {
    /// Learns the baseline from pre-war detections. Detections outside the land mask are
    /// ignored, as they are when classifying.
    pub fn learn(
        det: &Detections,
        land: &LandMask,
        cell_deg: f64,
        params: &BaselineParams,
    ) -> Baseline {
        let mut counts: HashMap<(Cell, Day), u32> = HashMap::new();
        let mut years = Vec::new();
        let mut used = 0;
        for i in 0..det.len() {
            let c = Cell::of(det.lon[i], det.lat[i], cell_deg);
            if !land.contains(c) {
                continue;
            }
            used += 1;
            *counts.entry((c, det.day[i])).or_insert(0) += 1;
        }
        let mut cells: HashMap<Cell, Vec<(u16, u32)>> = HashMap::new();
        let mut blocks: HashMap<Cell, Vec<(u16, u32)>> = HashMap::new();
        for (&(c, d), &n) in &counts {
            let (doy, year) = doy_year(d);
            if !years.contains(&year) {
                years.push(year);
            }
            cells.entry(c).or_default().push((doy, n));
            blocks
                .entry(c.block(cell_deg, params.block_deg))
                .or_default()
                .push((doy, n));
        }
        years.sort_unstable();
        for v in cells.values_mut().chain(blocks.values_mut()) {
            v.sort_unstable();
        }
        let mut block_cells: HashMap<Cell, u32> = HashMap::new();
        if let LandMask::Cells(s) = land {
            for c in s {
                *block_cells
                    .entry(c.block(cell_deg, params.block_deg))
                    .or_insert(0) += 1;
            }
        }
        let recent = if params.recent_days > 0 {
            learn_recent(&counts, params.recent_days)
        } else {
            Vec::new()
        };
        Baseline {
            params: params.clone(),
            cell_deg,
            years,
            cells,
            blocks,
            block_cells,
            recent,
            detections_used: used,
        }
    }

    /// The recent-activity floor: the `quantile` of the day's count among baseline
    /// cell-days whose trailing `recent_days` sum (today included) was `sum`. Buckets seen
    /// fewer than 20 times borrow the nearest lower bucket with enough data.
    pub fn recent_expected(&self, sum: u32) -> u32 {
        if self.recent.is_empty() || sum == 0 {
            return 0;
        }
        let mut b = recent_bucket(sum).min(self.recent.len() - 1);
        loop {
            let h = &self.recent[b];
            if h.iter().sum::<u64>() >= 20 || b == 0 {
                return hist_quantile(h, self.params.quantile).unwrap_or(0);
            }
            b -= 1;
        }
    }

    /// The years that had data.
    pub fn years(&self) -> &[i32] {
        &self.years
    }

    /// The parameters it was learnt with.
    pub fn params(&self) -> &BaselineParams {
        &self.params
    }

    /// Expected detections (the upper bound of a normal day) of `cell` on `day`.
    pub fn expected(&self, cell: Cell, day: Day) -> u32 {
        let (doy, _) = doy_year(day);
        let w = self.params.window_days;
        let per_cell = self.years.len() as u64 * (2 * w as u64 + 1);
        if per_cell == 0 {
            return 0;
        }
        let own = self.cells.get(&cell).map_or(0, |v| {
            window_quantile(v, doy, w, per_cell, self.params.quantile)
        });
        if !self.params.block_pool {
            return own;
        }
        let block = cell.block(self.cell_deg, self.params.block_deg);
        let full = ((self.params.block_deg / self.cell_deg).round() as u32).pow(2);
        let n_cells = self.block_cells.get(&block).copied().unwrap_or(full).max(1) as u64;
        let pooled = self.blocks.get(&block).map_or(0, |v| {
            window_quantile(v, doy, w, per_cell * n_cells, self.params.quantile)
        });
        own.max(pooled)
    }

    /// [`Baseline::expected`] for many cell-days at once, on every core.
    pub fn expected_many(&self, keys: &[(Cell, Day)]) -> Vec<u32> {
        keys.par_iter().map(|&(c, d)| self.expected(c, d)).collect()
    }
}

/// Histograms of the day's count by trailing-sum bucket, over every baseline cell-day
/// whose trailing sum is positive.
fn learn_recent(counts: &HashMap<(Cell, Day), u32>, days: u16) -> Vec<Vec<u64>> {
    let mut by_cell: HashMap<Cell, Vec<(Day, u32)>> = HashMap::new();
    for (&(c, d), &n) in counts {
        by_cell.entry(c).or_default().push((d, n));
    }
    let per_cell: Vec<Vec<Vec<u64>>> = by_cell
        .into_par_iter()
        .map(|(_, mut v)| {
            v.sort_unstable();
            let mut hist: Vec<Vec<u64>> = Vec::new();
            let mut add = |sum: u32, today: u32| {
                let b = recent_bucket(sum);
                if hist.len() <= b {
                    hist.resize(b + 1, Vec::new());
                }
                let h = &mut hist[b];
                if h.len() <= today as usize {
                    h.resize(today as usize + 1, 0);
                }
                h[today as usize] += 1;
            };
            // Walk every day from the first fire to `days - 1` after the last one, with
            // a sliding window over the sparse counts.
            let w = days as Day;
            let (mut lo, mut hi) = (0usize, 0usize);
            let mut sum = 0u32;
            let mut d = v[0].0;
            let last = v[v.len() - 1].0 + w - 1;
            while d <= last {
                while hi < v.len() && v[hi].0 <= d {
                    sum += v[hi].1;
                    hi += 1;
                }
                while lo < hi && v[lo].0 <= d - w {
                    sum -= v[lo].1;
                    lo += 1;
                }
                if sum == 0 {
                    // Jump to the next fire day.
                    if hi >= v.len() {
                        break;
                    }
                    d = v[hi].0;
                    continue;
                }
                let today = if hi > 0 && v[hi - 1].0 == d {
                    v[hi - 1].1
                } else {
                    0
                };
                add(sum, today);
                d += 1;
            }
            hist
        })
        .collect();
    let mut out: Vec<Vec<u64>> = Vec::new();
    for hist in per_cell {
        if out.len() < hist.len() {
            out.resize(hist.len(), Vec::new());
        }
        for (b, h) in hist.into_iter().enumerate() {
            if out[b].len() < h.len() {
                out[b].resize(h.len(), 0);
            }
            for (k, n) in h.into_iter().enumerate() {
                out[b][k] += n;
            }
        }
    }
    out
}

/// The type-1 `q` quantile of a sample of `n` values, of which the entries of `v` whose
/// day of year is within `w` of `doy` are the non-zero ones and the rest are zeros.
fn window_quantile(v: &[(u16, u32)], doy: u16, w: u16, n: u64, q: f64) -> u32 {
    // Histogram of the non-zero counts in the window; counts are small.
    let mut hist: Vec<u64> = Vec::new();
    let mut take = |count: u32| {
        let k = count as usize;
        if hist.len() <= k {
            hist.resize(k + 1, 0);
        }
        hist[k] += 1;
    };
    let mut nonzero = 0u64;
    // Windows wider than half a year would count a day twice.
    let w = w.min(182);
    let lo = doy as i32 - w as i32;
    let hi = doy as i32 + w as i32;
    // The window may wrap around the year: visit [lo, hi] and its images one year away.
    for shift in [-366i32, 0, 366] {
        let (a, b) = (lo + shift, hi + shift);
        if b < 1 || a > 366 {
            continue;
        }
        let start = v.partition_point(|e| (e.0 as i32) < a);
        for e in &v[start..] {
            if e.0 as i32 > b {
                break;
            }
            take(e.1);
            nonzero += 1;
        }
    }
    let n = n.max(nonzero);
    // Type 1: the smallest x with F(x) >= q, i.e. the ceil(q n)-th smallest value.
    let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
    let zeros = n - nonzero;
    if rank <= zeros {
        return 0;
    }
    let mut seen = zeros;
    for (k, &h) in hist.iter().enumerate() {
        seen += h;
        if seen >= rank {
            return k as u32;
        }
    }
    (hist.len().saturating_sub(1)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_counts_zeros_and_wraps_the_year() {
        // Window of 4 days around day 2 reaches day 364 across new year (366-day
        // period): 10 samples, eight zeros, 3 and 5.
        let v = vec![(1u16, 3u32), (364, 5)];
        assert_eq!(window_quantile(&v, 2, 4, 10, 0.5), 0);
        assert_eq!(window_quantile(&v, 2, 4, 10, 0.9), 3);
        assert_eq!(window_quantile(&v, 2, 4, 10, 0.95), 5);
        // A 2-day window misses day 364: nine zeros and a 3.
        assert_eq!(window_quantile(&v, 2, 2, 10, 0.9), 0);
        assert_eq!(window_quantile(&v, 2, 2, 10, 1.0), 3);
        assert_eq!(window_quantile(&v, 2, 4, 10, 1.0), 5);
        // Recent-sum buckets are monotone and exact up to 32.
        assert_eq!((recent_bucket(0), recent_bucket(32)), (0, 32));
        let b: Vec<usize> = (1..5000).map(recent_bucket).collect();
        assert!(b.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(recent_bucket(33), 33);
    }
}
