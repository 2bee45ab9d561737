//! Cells, days, distances and the deterministic random numbers the method needs.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};

/// A day as a count of days since 1970-01-01 (UTC). Whole-day arithmetic is all the
/// method needs, and an `i32` keeps the per-detection arrays small.
pub type Day = i32;

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");

/// The [`Day`] of a calendar date.
pub fn day_of(d: NaiveDate) -> Day {
    (d - EPOCH).num_days() as Day
}

/// The calendar date of a [`Day`].
pub fn date_of(d: Day) -> NaiveDate {
    EPOCH + chrono::Duration::days(d as i64)
}

/// The [`Day`] that contains `ms` milliseconds since the epoch.
pub fn day_of_ms(ms: i64) -> Day {
    ms.div_euclid(86_400_000) as Day
}

/// Day of the year, 1..=366, and the year.
pub fn doy_year(d: Day) -> (u16, i32) {
    let date = date_of(d);
    (date.ordinal() as u16, date.year())
}

/// A grid cell: `ix = round(lon / cell_deg)`, `iy = round(lat / cell_deg)`, so its centre
/// is `(ix * cell_deg, iy * cell_deg)`, as the reference's `x = round(lon/0.1)*0.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    pub ix: i32,
    pub iy: i32,
}

impl Cell {
    /// The cell of a point. Ties are rounded to even, as R's `round` does.
    pub fn of(lon: f64, lat: f64, cell_deg: f64) -> Cell {
        Cell {
            ix: (lon / cell_deg).round_ties_even() as i32,
            iy: (lat / cell_deg).round_ties_even() as i32,
        }
    }

    /// The cell's centre (lon, lat).
    pub fn centre(self, cell_deg: f64) -> (f64, f64) {
        (self.ix as f64 * cell_deg, self.iy as f64 * cell_deg)
    }

    /// The block (the reference's `id_5x5` for a 0.5 degree block) that holds the cell:
    /// `round(centre / block_deg)` on each axis.
    pub fn block(self, cell_deg: f64, block_deg: f64) -> Cell {
        let (x, y) = self.centre(cell_deg);
        Cell {
            ix: (x / block_deg).round_ties_even() as i32,
            iy: (y / block_deg).round_ties_even() as i32,
        }
    }
}

/// Which cells count as land. The reference keeps cells that have WorldPop population
/// data; truce keeps cells whose centre lies inside the country outline
/// ([`LandMask::from_fn`] over `Country::outline_index`), which also removes the sea and
/// most of the large reservoirs' open water, but not every lake.
#[derive(Debug, Clone)]
pub enum LandMask {
    /// Every cell is land (tests and synthetic cases).
    All,
    /// Only these cells are land.
    Cells(HashSet<Cell>),
}

/// The reference grid's extent (lon min, lat min, lon max, lat max).
pub const UKRAINE_GRID_BBOX: [f64; 4] = [21.9, 44.4, 40.3, 52.4];

impl LandMask {
    /// The cells of `bbox` (lon min, lat min, lon max, lat max) whose centre satisfies
    /// `inside(lon, lat)`.
    pub fn from_fn(bbox: [f64; 4], cell_deg: f64, inside: impl Fn(f64, f64) -> bool) -> LandMask {
        let lo = Cell::of(bbox[0], bbox[1], cell_deg);
        let hi = Cell::of(bbox[2], bbox[3], cell_deg);
        let mut cells = HashSet::new();
        for ix in lo.ix..=hi.ix {
            for iy in lo.iy..=hi.iy {
                let c = Cell { ix, iy };
                let (x, y) = c.centre(cell_deg);
                if inside(x, y) {
                    cells.insert(c);
                }
            }
        }
        LandMask::Cells(cells)
    }

    /// True when the cell is land.
    pub fn contains(&self, c: Cell) -> bool {
        match self {
            LandMask::All => true,
            LandMask::Cells(s) => s.contains(&c),
        }
    }

    /// Number of land cells in each block, for the block baseline (`None` for
    /// [`LandMask::All`]: every block is full).
    pub fn len(&self) -> Option<usize> {
        match self {
            LandMask::All => None,
            LandMask::Cells(s) => Some(s.len()),
        }
    }

    /// True when the mask is an explicit empty set.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

/// Earth radius used by R's `geosphere::distHaversine`, in km.
pub const HAVERSINE_RADIUS_KM: f64 = 6378.137;

/// Great-circle distance in km by the haversine formula on a sphere of
/// [`HAVERSINE_RADIUS_KM`], as the reference's `distHaversine`.
pub fn haversine_km(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * HAVERSINE_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, well-mixed, fully deterministic
/// generator. The reference calls `set.seed(112358)` before every cell-day's draw; truce
/// does the same with this generator, so a cell-day's choice depends only on its own
/// detections, never on the order cell-days are visited.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), without modulo bias (Lemire's multiply-shift with
    /// rejection).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Picks `e` of `0..k` (e <= k) uniformly at random: a partial Fisher-Yates shuffle.
    /// Returns a mask of length `k`.
    pub fn choose(&mut self, k: usize, e: usize) -> Vec<bool> {
        assert!(e <= k, "choose {e} of {k}");
        let mut idx: Vec<usize> = (0..k).collect();
        for i in 0..e {
            let j = i + self.below((k - i) as u64) as usize;
            idx.swap(i, j);
        }
        let mut mask = vec![false; k];
        for &i in &idx[..e] {
            mask[i] = true;
        }
        mask
    }
}
