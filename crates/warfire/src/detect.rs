//! The classifier: the reference's `war_fire_classifier`, rule by rule.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;

use crate::grid::{date_of, day_of, haversine_km, Cell, Day, LandMask, SplitMix64};
use crate::{Detections, Params, WarfireError};

/// A hand-checked box of non-war fires (forest, marsh, crops, cement plants): cell-days
/// whose cell centre lies in the box on a date of its window count no fires, and no
/// detection in it is a war fire. Bounds are inclusive, as in the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct ExclusionBox {
    pub lon_min: f64,
    pub lon_max: f64,
    pub lat_min: f64,
    pub lat_max: f64,
    pub start: Day,
    pub end: Day,
    pub note: String,
}

impl ExclusionBox {
    /// True when the point (a cell centre) on `day` is excluded.
    pub fn contains(&self, lon: f64, lat: f64, day: Day) -> bool {
        lon >= self.lon_min
            && lon <= self.lon_max
            && lat >= self.lat_min
            && lat <= self.lat_max
            && day >= self.start
            && day <= self.end
    }
}

/// At most this many exclusion boxes are read.
pub const BOXES_MAX: usize = 10_000;

/// Reads the reference's `forest_fire_locations` table: `lng1,lng2,lat1,lat2,
/// start_date,end_date,note`, dates `dd/mm/yyyy`. Corners may come in either order
/// (several rows have lat1 > lat2): each box is normalised to min/max.
pub fn parse_boxes(name: &str, bytes: &[u8]) -> Result<Vec<ExclusionBox>, WarfireError> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let bad = |line: u64, field: &str, why: String| WarfireError::Input {
        file: name.into(),
        line,
        field: field.into(),
        why,
    };
    let headers = r
        .headers()
        .map_err(|e| bad(1, "header", e.to_string()))?
        .clone();
    let col = |h: &str| {
        headers
            .iter()
            .position(|x| x.eq_ignore_ascii_case(h))
            .ok_or_else(|| bad(1, h, "missing column".into()))
    };
    let (lng1, lng2, lat1, lat2, start, end) = (
        col("lng1")?,
        col("lng2")?,
        col("lat1")?,
        col("lat2")?,
        col("start_date")?,
        col("end_date")?,
    );
    let note = headers.iter().position(|x| x.eq_ignore_ascii_case("note"));
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| bad(line, "row", e.to_string()))?;
        let num = |k: usize, f: &str| -> Result<f64, WarfireError> {
            let s = rec.get(k).unwrap_or("");
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(line, f, format!("`{s}` is not a number")))
        };
        let date = |k: usize, f: &str| -> Result<Day, WarfireError> {
            let s = rec.get(k).unwrap_or("");
            NaiveDate::parse_from_str(s, "%d/%m/%Y")
                .map(day_of)
                .map_err(|_| bad(line, f, format!("`{s}` is not a dd/mm/yyyy date")))
        };
        let (x1, x2, y1, y2) = (
            num(lng1, "lng1")?,
            num(lng2, "lng2")?,
            num(lat1, "lat1")?,
            num(lat2, "lat2")?,
        );
        let (s, e) = (date(start, "start_date")?, date(end, "end_date")?);
        if e < s {
            return Err(bad(
                line,
                "end_date",
                format!("{} is before start_date {}", date_of(e), date_of(s)),
            ));
        }
        out.push(ExclusionBox {
            lon_min: x1.min(x2),
            lon_max: x1.max(x2),
            lat_min: y1.min(y2),
            lat_max: y1.max(y2),
            start: s,
            end: e,
            note: note.and_then(|k| rec.get(k)).unwrap_or("").to_string(),
        });
        if out.len() > BOXES_MAX {
            return Err(bad(
                line,
                "row",
                format!("more than BOXES_MAX ({BOXES_MAX}) boxes"),
            ));
        }
    }
    Ok(out)
}

/// Rule 2: `ceil(max(0, fire - expected - offset))`.
pub fn excess(fire: u32, expected: u32, offset: f64) -> u32 {
    (fire as f64 - expected as f64 - offset).max(0.0).ceil() as u32
}

/// Rule 3: which of a cell-day's `k` detections carry its excess `e`: all of them when
/// `e >= k`, otherwise `e` of them drawn by a generator freshly seeded with `seed` (the
/// reference calls `set.seed(112358)` before each cell-day).
pub fn assign(k: usize, e: u32, seed: u64) -> Vec<bool> {
    if e as usize >= k {
        return vec![true; k];
    }
    SplitMix64::new(seed).choose(k, e as usize)
}

/// Rule 4's threshold: the median (R's: mean of the middle two for an even count) of
/// the excess over detections whose excess is positive; `None` when none is.
pub fn median_positive(excess: impl IntoIterator<Item = u32>) -> Option<f64> {
    let mut v: Vec<u32> = excess.into_iter().filter(|&e| e > 0).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    })
}

/// Rule 5: does a cell with war-flagged fires on these dates (any order, repeats
/// allowed) show sustained excess? Yes when it has more than `(1 + n_years) *
/// min_len_days` distinct dates (the reference's shortcut), or two distinct dates
/// `min_len_days - 1 ..= max_gap_days` days apart.
pub fn sustained(days: &[Day], n_years: usize, p: &Params) -> bool {
    let mut d: Vec<Day> = days.to_vec();
    d.sort_unstable();
    d.dedup();
    if d.len() <= 1 {
        return false;
    }
    if p.sustained_shortcut && d.len() > (1 + n_years) * p.min_len_days as usize {
        return true;
    }
    let (lo, hi) = (p.min_len_days - 1, p.max_gap_days);
    d.iter().any(|&a| {
        let j = d.partition_point(|&x| x < a + lo);
        j < d.len() && d[j] <= a + hi
    })
}

/// Rule 6: the cells of `cells` whose centre is less than `spread_km` (haversine) from
/// the centre of a cell of `seeds`. Seeds themselves are included. There is no chaining:
/// a cell reached by spreading does not spread further.
pub fn spread(
    cells: &[Cell],
    seeds: &HashSet<Cell>,
    spread_km: f64,
    cell_deg: f64,
) -> HashSet<Cell> {
    let seed_pts: Vec<(f64, f64)> = seeds.iter().map(|c| c.centre(cell_deg)).collect();
    // A latitude band prefilter: spread_km is at most this many degrees of latitude.
    let dlat = spread_km / (crate::grid::HAVERSINE_RADIUS_KM * std::f64::consts::PI / 180.0) + 1e-9;
    let mut by_lat = seed_pts.clone();
    by_lat.sort_by(|a, b| a.1.total_cmp(&b.1));
    cells
        .par_iter()
        .filter(|c| {
            if seeds.contains(c) {
                return true;
            }
            let (x, y) = c.centre(cell_deg);
            let start = by_lat.partition_point(|p| p.1 < y - dlat);
            by_lat[start..]
                .iter()
                .take_while(|p| p.1 <= y + dlat)
                .any(|p| haversine_km(x, y, p.0, p.1) < spread_km)
        })
        .copied()
        .collect()
}

/// The baseline as the detector sees it: expected counts for a list of cell-days.
pub type ExpectedFn<'a> = dyn Fn(&[(Cell, Day)]) -> Vec<u32> + Sync + 'a;

/// What the classifier decided about one detection, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The detection's cell is land (others are dropped, as the reference drops cells
    /// without population data; every other field is then default).
    pub land: bool,
    /// In an exclusion box on its date.
    pub excluded: bool,
    /// Detections in its cell-day (0 when excluded: the reference's `fire_in_window`).
    pub fire_in_window: u32,
    /// The baseline's expected count for its cell-day.
    pub expected: u32,
    /// The cell-day's excess (rule 2).
    pub excess: u32,
    /// Drawn to carry the excess (rule 3).
    pub assigned: bool,
    /// In a cell-day at or above the median excess (rule 4).
    pub mass: bool,
    /// Its cell passes the sustained test itself or lies within the spread distance of
    /// one that does (rules 5-6).
    pub sustained: bool,
    /// War fire before carry-forward (the reference's `war_fire_restrictive`).
    pub restrictive: bool,
    /// Made a war fire by carry-forward (rule 7) only.
    pub carried: bool,
    /// The final verdict.
    pub war: bool,
}

/// Counts of what each rule did, for reports and benchmarks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetectStats {
    pub detections: usize,
    pub land_detections: usize,
    pub cell_days: usize,
    pub cell_days_excess: usize,
    pub excluded_detections: usize,
    pub assigned: usize,
    pub median_excess: Option<f64>,
    pub mass: usize,
    pub years: usize,
    pub cells_with_fire: usize,
    pub cells_sustained_own: usize,
    pub cells_sustained: usize,
    pub restrictive: usize,
    pub carried: usize,
    pub war: usize,
}

/// Runs rules 1-7 over the detections of the classification span. `expected(cell, day)`
/// is the baseline (see [`crate::Baseline`]); `boxes` the exclusions. Pure: same input,
/// same verdicts, whatever the order cell-days are visited in.
pub fn detect(
    det: &Detections,
    expected: &ExpectedFn,
    land: &LandMask,
    boxes: &[ExclusionBox],
    p: &Params,
) -> (Vec<Verdict>, DetectStats) {
    let n = det.len();
    let mut v = vec![Verdict::default(); n];
    let mut st = DetectStats {
        detections: n,
        ..Default::default()
    };
    let cells: Vec<Cell> = (0..n)
        .map(|i| Cell::of(det.lon[i], det.lat[i], p.cell_deg))
        .collect();
    let excluded_at = |c: Cell, d: Day| {
        let (x, y) = c.centre(p.cell_deg);
        boxes.iter().any(|b| b.contains(x, y, d))
    };

    // Cell-days: land detections sorted by (cell, day, input order).
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&i| land.contains(cells[i as usize]))
        .collect();
    order.sort_unstable_by_key(|&i| (cells[i as usize], det.day[i as usize], i));
    st.land_detections = order.len();
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut s = 0;
    for k in 1..=order.len() {
        let key = |j: usize| (cells[order[j] as usize], det.day[order[j] as usize]);
        if k == order.len() || key(k) != key(s) {
            groups.push(s..k);
            s = k;
        }
    }
    st.cell_days = groups.len();
    let keys: Vec<(Cell, Day)> = groups
        .iter()
        .map(|g| {
            let i = order[g.start] as usize;
            (cells[i], det.day[i])
        })
        .collect();
    let exp = expected(&keys);

    // Rules 1-3: exclusions, excess, assignment.
    for (g, (&(c, d), &e_exp)) in groups.iter().zip(keys.iter().zip(&exp)) {
        let excl = excluded_at(c, d);
        let fire = if excl { 0 } else { g.len() as u32 };
        let ex = excess(fire, e_exp, p.offset);
        let picks = if ex > 0 {
            assign(g.len(), ex, p.seed)
        } else {
            vec![false; g.len()]
        };
        if ex > 0 {
            st.cell_days_excess += 1;
        }
        for (k, &i) in order[g.clone()].iter().enumerate() {
            let x = &mut v[i as usize];
            *x = Verdict {
                land: true,
                excluded: excl,
                fire_in_window: fire,
                expected: e_exp,
                excess: ex,
                assigned: picks[k],
                ..Default::default()
            };
        }
    }
    st.excluded_detections = v.iter().filter(|x| x.excluded).count();
    st.assigned = v.iter().filter(|x| x.assigned).count();

    // Rule 4: mass excess.
    st.median_excess = median_positive(v.iter().filter(|x| x.land).map(|x| x.excess));
    if p.mass_excess {
        if let Some(m) = st.median_excess {
            for x in v
                .iter_mut()
                .filter(|x| x.excess > 0 && x.excess as f64 >= m)
            {
                x.mass = true;
            }
        }
    }
    st.mass = v.iter().filter(|x| x.mass).count();
    let mut war: Vec<bool> = v.iter().map(|x| x.assigned || x.mass).collect();

    // Rule 5: sustained excess, per cell, over distinct dates of war-flagged fires.
    let years: HashSet<i32> = order
        .iter()
        .map(|&i| date_of(det.day[i as usize]).year())
        .collect();
    st.years = years.len();
    let mut flagged: HashMap<Cell, Vec<Day>> = HashMap::new();
    let mut all_cells: Vec<Cell> = Vec::new();
    for g in &groups {
        let c = cells[order[g.start] as usize];
        if all_cells.last() != Some(&c) {
            all_cells.push(c);
        }
        for &i in &order[g.clone()] {
            if war[i as usize] {
                flagged.entry(c).or_default().push(det.day[i as usize]);
            }
        }
    }
    st.cells_with_fire = all_cells.len();
    let own: HashSet<Cell> = flagged
        .par_iter()
        .filter(|(_, days)| sustained(days, years.len(), p))
        .map(|(c, _)| *c)
        .collect();
    st.cells_sustained_own = own.len();

    // Rule 6: spread to every cell with fires within spread_km.
    let ok = spread(&all_cells, &own, p.spread_km, p.cell_deg);
    st.cells_sustained = ok.len();
    for &i in &order {
        let i = i as usize;
        v[i].sustained = ok.contains(&cells[i]);
        if !v[i].sustained {
            war[i] = false;
        }
        v[i].restrictive = war[i];
    }
    st.restrictive = war.iter().filter(|&&w| w).count();

    // Rule 7: carry-forward within the cell for `carry_days` days after a war fire with
    // excess, not chained; then the exclusions again.
    if p.carry_days > 0 {
        let sources: HashSet<(Cell, Day)> = order
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| war[i] && v[i].excess >= 1)
            .map(|i| (cells[i], det.day[i]))
            .collect();
        for &i in &order {
            let i = i as usize;
            if war[i] {
                continue;
            }
            let (c, d) = (cells[i], det.day[i]);
            if (1..=p.carry_days).any(|k| sources.contains(&(c, d - k))) {
                war[i] = true;
                v[i].carried = true;
            }
        }
        for &i in &order {
            let i = i as usize;
            if war[i] && excluded_at(cells[i], det.day[i]) {
                war[i] = false;
                v[i].carried = false;
            }
        }
    }
    for (x, w) in v.iter_mut().zip(&war) {
        x.war = *w;
    }
    st.carried = v.iter().filter(|x| x.carried).count();
    st.war = v.iter().filter(|x| x.war).count();
    (v, st)
}
