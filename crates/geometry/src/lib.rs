//! The geometry engine: for each observation at its own time, which side controls the
//! place, the signed geodesic distance to that date's contact line, the zones it falls
//! in, and its region.
//!
//! * [`ControlMap`] holds dated control snapshots (DeepState layers or any dated
//!   GeoJSON polygons) and derives each one once: repaired, merged, clipped to the
//!   [`Country`], slivers closed, contact line extracted ([`derive_contact_line`]).
//! * [`GridPolygon`] answers point-in-polygon in O(1) for most points.
//! * [`SegmentIndex`] answers nearest-segment queries with an R-tree over Earth-centred
//!   coordinates and measures the distance on the WGS 84 ellipsoid.
//! * [`Classifier`] runs all of it over Arrow columns on every core.
//!
//! The engine never reads the disk or the clock: files come in as bytes, times as
//! values.
//!
//! ```
//! use truce_geometry::*;
//! let country = Country::from_geojson("c.geojson", br#"{"type":"FeatureCollection","features":[
//!   {"type":"Feature","properties":{"iso3166-2":"XX-1","name:en":"West"},
//!    "geometry":{"type":"Polygon","coordinates":[[[30,48],[32,48],[32,50],[30,50],[30,48]]]}}]}"#).unwrap();
//! let map = ControlMap::from_files(vec![("s_20230101.geojson".into(), br#"{"type":"FeatureCollection","features":[
//!   {"type":"Feature","properties":{"status":"occupied"},
//!    "geometry":{"type":"Polygon","coordinates":[[[31,48],[32,48],[32,50],[31,50],[31,48]]]}}]}"#.to_vec())]).unwrap();
//! let c = Classifier { map: &map, country: &country, zones: &[], fixed_snapshot: Some(0) };
//! let snap = map.derived(0, &country).unwrap();
//! let p = c.classify_point(Some((0, &snap)), 30.5, 49.0);
//! assert_eq!(p.side, truce_model::Side::Held);
//! // 0.5 degrees of longitude at 49 N is about 36.6 km.
//! assert!((p.distance_km.unwrap() - 36.6).abs() < 0.2);
//! ```

mod classify;
mod contact_line;
mod control;
mod grid;
mod segments;

pub use classify::{BandSide, Classifier, PointClass, Zone, ZoneShape, NEAR_GRID_POINTS_MIN, ZONES_MAX};
pub use contact_line::derive_contact_line;
pub use control::{
    backcast, close_slivers, date_from_name, liberation_date, deepstate_status, read_snapshot, read_snapshot_dated, repair_all, ControlMap, Country, DerivedSnapshot,
    RawSnapshot, Region, Repair, Status, BORDER_TOLERANCE_KM, SLIVER_AREA_KM2_MAX, SNAPSHOTS_MAX, SNAPSHOT_BYTES_MAX,
    SNAPSHOT_VERTICES_MAX,
};
pub use grid::{GridPolygon, GRID_CELLS_MAX};
pub use segments::{ecef_km, ellipsoid_km, Nearest, SegmentIndex, NEAR_GRID_CELLS_MAX, NEAR_GRID_CELL_DEG, SEGMENT_KM_MAX};

/// Errors of the geometry engine.
#[derive(Debug, thiserror::Error)]
pub enum GeometryError {
    /// A control-map or region file could not be used; names the file and why.
    #[error("{file}: {why}")]
    ControlFile { file: String, why: String },
    /// A polygon could not be repaired.
    #[error("{what}: repair failed: {why}")]
    Repair { what: String, why: String },
    /// A named limit was exceeded.
    #[error("limit exceeded: {0}")]
    Limit(String),
}
