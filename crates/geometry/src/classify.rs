//! Classification of observations at their own time: side, signed distance to the
//! contact line, zones and region, over Arrow columns, on all cores.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use rayon::prelude::*;
use truce_model::{col, Side};

use crate::control::{ControlMap, Country, DerivedSnapshot};
use crate::grid::GridPolygon;
use crate::GeometryError;

/// A snapshot used by at least this many points of one call gets the nearest-segment
/// grid ([`crate::SegmentIndex::prepare_grid`]); below it, the R-tree alone is cheaper.
pub const NEAR_GRID_POINTS_MIN: usize = 20_000;

/// Zones one classification can test (membership is a 64-bit mask).
pub const ZONES_MAX: usize = 64;

/// Which side of the contact line a band zone lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandSide {
    /// The defended party's side (positive distances).
    Held,
    /// The adversary's side (negative distances).
    Occupied,
    /// Both sides.
    Either,
}

/// The shape of a zone.
pub enum ZoneShape {
    /// Everything whose distance to the contact line lies in `[min_km, max_km]` on `side`.
    Band { side: BandSide, min_km: f64, max_km: f64 },
    /// A fixed area (e.g. a deterrent force's area).
    Area(GridPolygon),
}

/// A named zone of the agreement.
pub struct Zone {
    pub name: String,
    pub shape: ZoneShape,
}

impl Zone {
    /// True when the point at signed distance `distance_km` (if known) lies in the zone.
    pub fn contains(&self, lon: f64, lat: f64, distance_km: Option<f64>) -> bool {
        match &self.shape {
            ZoneShape::Area(a) => a.contains(lon, lat),
            ZoneShape::Band { side, min_km, max_km } => match distance_km {
                None => false,
                Some(d) => {
                    let v = match side {
                        BandSide::Held if d >= 0.0 => d,
                        BandSide::Occupied if d <= 0.0 => -d,
                        BandSide::Either => d.abs(),
                        _ => return false,
                    };
                    v >= *min_km && v <= *max_km
                }
            },
        }
    }
}

/// What classification says about one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointClass {
    pub side: Side,
    /// Signed geodesic distance to the contact line in km: positive off the occupied
    /// area, negative inside it. `None` when no snapshot is in force or it has no line.
    pub distance_km: Option<f64>,
    /// Index into the country's regions.
    pub region: Option<u16>,
    /// Bit i set when the point is in zone i.
    pub zones: u64,
    /// Index of the snapshot used.
    pub snapshot: Option<u32>,
}

/// Classifies points against a control map, a country and zones.
pub struct Classifier<'a> {
    pub map: &'a ControlMap,
    pub country: &'a Country,
    pub zones: &'a [Zone],
    /// Use this snapshot for every point instead of the one in force at its time.
    pub fixed_snapshot: Option<usize>,
}

impl Classifier<'_> {
    /// One point, against an already derived snapshot (or none).
    pub fn classify_point(&self, snap: Option<(u32, &DerivedSnapshot)>, lon: f64, lat: f64) -> PointClass {
        let in_country = self.country.outline_index.contains(lon, lat);
        let region = if in_country { self.country.region_of(lon, lat).map(|r| r as u16) } else { None };
        let Some((si, s)) = snap else {
            let side = if in_country { Side::Unknown } else { Side::Outside };
            return PointClass { side, distance_km: None, region, zones: self.zone_mask(lon, lat, None), snapshot: None };
        };
        let occupied = s.occupied_index.contains(lon, lat);
        let side = if !in_country {
            Side::Outside
        } else if occupied {
            Side::Occupied
        } else if s.contested_index.contains(lon, lat) {
            Side::Contested
        } else {
            Side::Held
        };
        let distance_km = s.line_index.nearest(lon, lat).map(|n| if occupied { -n.distance_km } else { n.distance_km });
        PointClass { side, distance_km, region, zones: self.zone_mask(lon, lat, distance_km), snapshot: Some(si) }
    }

    fn zone_mask(&self, lon: f64, lat: f64, d: Option<f64>) -> u64 {
        let mut m = 0u64;
        for (i, z) in self.zones.iter().enumerate().take(ZONES_MAX) {
            if z.contains(lon, lat, d) {
                m |= 1 << i;
            }
        }
        m
    }

    /// Classifies every point (lon, lat, time in ms since the epoch). Snapshots needed are
    /// derived first, in parallel; then points are classified in parallel chunks, and
    /// `progress` is told how many points each finished chunk held.
    pub fn classify(
        &self,
        lon: &[f64],
        lat: &[f64],
        t_ms: &[i64],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<PointClass>, GeometryError> {
        if self.zones.len() > ZONES_MAX {
            return Err(GeometryError::Limit(format!("{} zones exceeds ZONES_MAX ({ZONES_MAX})", self.zones.len())));
        }
        assert!(lon.len() == lat.len() && lat.len() == t_ms.len(), "columns of one batch have one length");
        let snap_of: Vec<Option<u32>> = match self.fixed_snapshot {
            Some(i) => vec![Some(i as u32); lon.len()],
            None => t_ms.par_iter().map(|&t| self.map.in_force_ms(t).map(|i| i as u32)).collect(),
        };
        let mut needed: Vec<u32> = snap_of.iter().flatten().copied().collect();
        needed.sort_unstable();
        needed.dedup();
        let derived: Vec<(u32, Arc<DerivedSnapshot>)> = needed
            .par_iter()
            .map(|&i| self.map.derived(i as usize, self.country).map(|d| (i, d)))
            .collect::<Result<_, _>>()?;
        // Snapshots that many points use get the nearest-segment grid over the country.
        let (cmin, cmax) = self.country.outline_index.bbox();
        let mut uses = vec![0usize; self.map.len()];
        snap_of.iter().flatten().for_each(|&i| uses[i as usize] += 1);
        derived.par_iter().for_each(|(i, d)| {
            if uses[*i as usize] >= NEAR_GRID_POINTS_MIN {
                d.line_index.prepare_grid(cmin, cmax);
            }
        });
        let lookup = |i: u32| derived.binary_search_by_key(&i, |(k, _)| *k).ok().map(|p| (i, derived[p].1.as_ref()));
        const CHUNK: usize = 16 * 1024;
        let out: Vec<PointClass> = (0..lon.len())
            .into_par_iter()
            .with_min_len(CHUNK)
            .chunks(CHUNK)
            .flat_map_iter(|idx| {
                let n = idx.len();
                let v: Vec<PointClass> =
                    idx.into_iter().map(|i| self.classify_point(snap_of[i].and_then(lookup), lon[i], lat[i])).collect();
                progress(n);
                v
            })
            .collect();
        Ok(out)
    }

    /// Appends the classification columns (`side`, `distance_km`, `zones`, `region`,
    /// `snapshot`) to `batch`.
    pub fn append_columns(&self, batch: &RecordBatch, classes: &[PointClass]) -> Result<RecordBatch, GeometryError> {
        let n = classes.len();
        let mut side = StringBuilder::with_capacity(n, n * 5);
        let mut dist = Float64Builder::with_capacity(n);
        let mut zones = StringBuilder::with_capacity(n, n);
        let mut region = StringBuilder::with_capacity(n, n * 5);
        let mut snapshot = StringBuilder::with_capacity(n, n * 8);
        let names: Vec<_> = self.map.snapshots().map(|(name, _)| name.to_string()).collect();
        let mut buf = String::new();
        for c in classes {
            side.append_value(c.side.as_str());
            dist.append_option(c.distance_km);
            buf.clear();
            for (i, z) in self.zones.iter().enumerate() {
                if c.zones & (1 << i) != 0 {
                    if !buf.is_empty() {
                        buf.push(',');
                    }
                    buf.push_str(&z.name);
                }
            }
            zones.append_value(&buf);
            region.append_option(c.region.map(|r| self.country.regions[r as usize].code.as_str()));
            snapshot.append_option(c.snapshot.map(|s| names[s as usize].as_str()));
        }
        let mut fields: Vec<Arc<arrow_schema::Field>> = batch.schema().fields().iter().cloned().collect();
        let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
        use arrow_schema::{DataType, Field};
        for (name, ty, arr) in [
            (col::SIDE, DataType::Utf8, Arc::new(side.finish()) as ArrayRef),
            (col::DISTANCE_KM, DataType::Float64, Arc::new(dist.finish()) as ArrayRef),
            (col::ZONES, DataType::Utf8, Arc::new(zones.finish()) as ArrayRef),
            (col::REGION, DataType::Utf8, Arc::new(region.finish()) as ArrayRef),
            (col::SNAPSHOT, DataType::Utf8, Arc::new(snapshot.finish()) as ArrayRef),
        ] {
            if let Some(i) = fields.iter().position(|f| f.name() == name) {
                fields.remove(i);
                cols.remove(i);
            }
            fields.push(Arc::new(Field::new(name, ty, true)));
            cols.push(arr);
        }
        let schema = Arc::new(arrow_schema::Schema::new_with_metadata(fields, batch.schema().metadata().clone()));
        RecordBatch::try_new(schema, cols).map_err(|e| GeometryError::Limit(e.to_string()))
    }
}
