//! Summaries of classified observations: counts per day x side x distance band, with
//! the totals a reader checks first.
//!
//! ```
//! use truce_report::{DistanceBands, Summary};
//! let bands = DistanceBands::new(vec![0.0, 15.0, 50.0]).unwrap();
//! let mut s = Summary::new(bands);
//! s.add("2022-03-01", "held", Some(4.0));
//! s.add("2022-03-01", "occupied", Some(-20.0));
//! assert_eq!(s.rows, 2);
//! assert_eq!(s.within_km(15.0), 1);
//! assert_eq!(s.bands.label(Some(-20.0)), "occupied 15-50 km");
//! ```

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use chrono::{DateTime, Utc};
use truce_model::col;

/// Distance band edges at most.
pub const BAND_EDGES_MAX: usize = 64;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Band edges must be finite, non-negative, increasing and few.
    #[error("distance bands: {0}")]
    Bands(String),
    /// The batch lacks a column the summary needs, or has it with another type.
    #[error("column `{0}`: missing or not of the classified type (run `truce classify` first)")]
    Column(&'static str),
}

/// Bands of absolute distance to the contact line, e.g. edges `[0, 5, 15]` make
/// `0-5 km`, `5-15 km` and `>15 km` on each side.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceBands {
    edges: Vec<f64>,
}

impl DistanceBands {
    /// Bands from increasing edges in km; the first edge is usually 0.
    pub fn new(edges: Vec<f64>) -> Result<Self, ReportError> {
        if edges.is_empty() || edges.len() > BAND_EDGES_MAX {
            return Err(ReportError::Bands(format!("need 1 to {BAND_EDGES_MAX} edges, got {}", edges.len())));
        }
        if edges.iter().any(|e| !e.is_finite() || *e < 0.0) || edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(ReportError::Bands(format!("edges must be finite, >= 0 and increasing: {edges:?}")));
        }
        Ok(DistanceBands { edges })
    }

    /// The default: 0, 5, 15, 30, 50, 100 km (15 km is the 2014 Memorandum's buffer,
    /// 50 km Minsk II's artillery withdrawal line).
    pub fn standard() -> Self {
        DistanceBands { edges: vec![0.0, 5.0, 15.0, 30.0, 50.0, 100.0] }
    }

    /// Every label [`DistanceBands::label`] can give, in reading order: the held side
    /// from the line outwards, then the occupied side, then `no line`.
    pub fn labels(&self) -> Vec<String> {
        let mut out = Vec::new();
        for side in ["held", "occupied"] {
            if self.edges[0] > 0.0 {
                out.push(self.band_label(side, None));
            }
            for i in 0..self.edges.len() {
                out.push(self.band_label(side, Some(i)));
            }
        }
        out.push("no line".into());
        out
    }

    /// `side` and band `i` (the band starting at edge `i`; `None`: below the first edge).
    fn band_label(&self, side: &str, i: Option<usize>) -> String {
        let fmt = |x: f64| if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x}") };
        match i {
            None => format!("{side} <{} km", fmt(self.edges[0])),
            Some(i) if i + 1 == self.edges.len() => format!("{side} >{} km", fmt(self.edges[i])),
            Some(i) => format!("{side} {}-{} km", fmt(self.edges[i]), fmt(self.edges[i + 1])),
        }
    }

    /// The label of a signed distance: `held 5-15 km`, `occupied >100 km`, `no line`.
    pub fn label(&self, distance_km: Option<f64>) -> String {
        let Some(d) = distance_km else { return "no line".into() };
        let side = if d < 0.0 { "occupied" } else { "held" };
        let a = d.abs();
        self.band_label(side, self.edges.iter().rposition(|e| a >= *e))
    }
}

/// The time unit of a summary's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    /// `YYYY-MM-DD`
    #[default]
    Day,
    /// `YYYY-MM`
    Month,
}

/// Counts per (period, side, band), plus totals.
#[derive(Debug, Clone)]
pub struct Summary {
    pub bands: DistanceBands,
    /// Day (default) or month: the first element of each cell's key.
    pub period: Period,
    pub rows: u64,
    /// (day `YYYY-MM-DD`, side, band label) -> count.
    pub cells: BTreeMap<(String, String, String), u64>,
    pub by_side: BTreeMap<String, u64>,
    pub by_band: BTreeMap<String, u64>,
    abs_sum_km: f64,
    with_distance: u64,
    distances: Vec<f64>,
}

impl Summary {
    /// An empty summary.
    pub fn new(bands: DistanceBands) -> Self {
        Summary {
            bands,
            period: Period::Day,
            rows: 0,
            cells: BTreeMap::new(),
            by_side: BTreeMap::new(),
            by_band: BTreeMap::new(),
            abs_sum_km: 0.0,
            with_distance: 0,
            distances: vec![],
        }
    }

    /// An empty summary by month.
    pub fn monthly(bands: DistanceBands) -> Self {
        Summary { period: Period::Month, ..Summary::new(bands) }
    }

    /// Counts one observation (`day` is `YYYY-MM-DD`; a monthly summary keeps `YYYY-MM`).
    pub fn add(&mut self, day: &str, side: &str, distance_km: Option<f64>) {
        let day = match self.period {
            Period::Month => day.get(..7).unwrap_or(day),
            Period::Day => day,
        };
        let band = self.bands.label(distance_km);
        self.rows += 1;
        *self.by_side.entry(side.to_string()).or_default() += 1;
        *self.by_band.entry(band.clone()).or_default() += 1;
        *self.cells.entry((day.to_string(), side.to_string(), band)).or_default() += 1;
        if let Some(d) = distance_km {
            self.abs_sum_km += d.abs();
            self.with_distance += 1;
            self.distances.push(d.abs());
        }
    }

    /// Counts every row of a classified batch; the day is the UTC date of the middle of
    /// each observation's time interval.
    pub fn add_batch(&mut self, batch: &RecordBatch) -> Result<(), ReportError> {
        let side = batch.column_by_name(col::SIDE).and_then(|c| c.as_string_opt::<i32>()).ok_or(ReportError::Column(col::SIDE))?;
        let dist = batch
            .column_by_name(col::DISTANCE_KM)
            .and_then(|c| c.as_primitive_opt::<Float64Type>())
            .ok_or(ReportError::Column(col::DISTANCE_KM))?;
        let ts = batch
            .column_by_name(col::TIME_START)
            .and_then(|c| c.as_primitive_opt::<TimestampMillisecondType>())
            .ok_or(ReportError::Column(col::TIME_START))?;
        let te = batch
            .column_by_name(col::TIME_END)
            .and_then(|c| c.as_primitive_opt::<TimestampMillisecondType>())
            .ok_or(ReportError::Column(col::TIME_END))?;
        let mut last: (i64, String) = (i64::MIN, String::new());
        for i in 0..batch.num_rows() {
            let mid = ts.value(i) + (te.value(i) - ts.value(i)) / 2;
            let day_ms = mid.div_euclid(86_400_000);
            if day_ms != last.0 {
                let d = DateTime::<Utc>::from_timestamp_millis(day_ms * 86_400_000).map(|t| t.format("%Y-%m-%d").to_string());
                last = (day_ms, d.unwrap_or_else(|| "invalid".into()));
            }
            let d = (!dist.is_null(i)).then(|| dist.value(i));
            let day = last.1.clone();
            self.add(&day, side.value(i), d);
        }
        Ok(())
    }

    /// Mean absolute distance to the contact line over rows that have one, in km.
    pub fn mean_abs_distance_km(&self) -> Option<f64> {
        (self.with_distance > 0).then(|| self.abs_sum_km / self.with_distance as f64)
    }

    /// Rows within `km` of the contact line (either side).
    pub fn within_km(&self, km: f64) -> u64 {
        self.distances.iter().filter(|d| **d <= km).count() as u64
    }

    /// The distinct days, in order.
    pub fn days(&self) -> Vec<&str> {
        let mut d: Vec<&str> = self.cells.keys().map(|(d, _, _)| d.as_str()).collect();
        d.dedup();
        d
    }

    /// Every cell as CSV (`day,side,band,count`, or `month,...`), header first.
    pub fn to_csv(&self) -> String {
        let mut s = String::from(if self.period == Period::Month { "month,side,band,count\n" } else { "day,side,band,count\n" });
        for ((d, side, band), n) in &self.cells {
            s.push_str(&format!("{d},{side},{band},{n}\n"));
        }
        s
    }

    /// The totals as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "rows": self.rows,
            "days": self.days().len(),
            "by_side": self.by_side,
            "by_band": self.by_band,
            "distance_km_mean_abs": self.mean_abs_distance_km(),
            "within_15km": self.within_km(15.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_labels() {
        let b = DistanceBands::standard();
        let check = |d: Option<f64>, want: &str| assert_eq!(b.label(d), want, "{d:?}");
        check(None, "no line");
        check(Some(0.0), "held 0-5 km");
        check(Some(4.99), "held 0-5 km");
        check(Some(5.0), "held 5-15 km");
        check(Some(-14.0), "occupied 5-15 km");
        check(Some(-150.0), "occupied >100 km");
        check(Some(100.0), "held >100 km");
    }

    #[test]
    fn labels_in_reading_order() {
        let b = DistanceBands::new(vec![0.0, 15.0]).unwrap();
        assert_eq!(b.labels(), vec!["held 0-15 km", "held >15 km", "occupied 0-15 km", "occupied >15 km", "no line"]);
        let b = DistanceBands::new(vec![1.0]).unwrap();
        assert_eq!(b.labels(), vec!["held <1 km", "held >1 km", "occupied <1 km", "occupied >1 km", "no line"]);
        // Every label a distance can get is listed.
        let std = DistanceBands::standard();
        for d in [-200.0, -50.0, -0.5, 0.0, 3.0, 15.0, 99.0, 1000.0] {
            assert!(std.labels().contains(&std.label(Some(d))), "{d}");
        }
    }

    #[test]
    fn bad_bands_are_refused() {
        assert!(DistanceBands::new(vec![]).is_err());
        assert!(DistanceBands::new(vec![5.0, 5.0]).is_err());
        assert!(DistanceBands::new(vec![-1.0, 5.0]).is_err());
        assert!(DistanceBands::new(vec![0.0, f64::NAN]).is_err());
    }

    #[test]
    fn totals_and_csv() {
        let mut s = Summary::new(DistanceBands::new(vec![0.0, 15.0]).unwrap());
        s.add("2022-03-01", "held", Some(3.0));
        s.add("2022-03-01", "held", Some(4.0));
        s.add("2022-03-02", "occupied", Some(-30.0));
        s.add("2022-03-02", "unknown", None);
        assert_eq!(s.to_csv(), "day,side,band,count\n2022-03-01,held,held 0-15 km,2\n2022-03-02,occupied,occupied >15 km,1\n2022-03-02,unknown,no line,1\n");
        assert_eq!(s.mean_abs_distance_km(), Some(37.0 / 3.0));
        assert_eq!(s.within_km(15.0), 2);
        assert_eq!(s.days(), vec!["2022-03-01", "2022-03-02"]);
    }
}
