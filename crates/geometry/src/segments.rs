//! Nearest-segment queries on the ellipsoid: the distance from a point to a contact
//! line (or to the country's border) in kilometres.
//!
//! Segments are indexed in an R-tree ([`rstar`]) over their endpoints mapped to the unit
//! sphere in 3D. On the sphere the straight chord between two points is monotone in
//! their great-circle distance, so the nearest chord segment is the nearest segment on
//! the sphere, for every point of the country alike; no planar projection (whose scale
//! error across Ukraine reaches about 9 % east-west) is involved. The sphere only ranks
//! candidates: the distance reported is the WGS 84 geodesic distance (Karney's
//! algorithm, through `geo`'s `Geodesic`) from the point to the closest point of the
//! chosen segment. Candidates whose chord distance is within [`TIE_RATIO`] of the best
//! are all measured on the ellipsoid, so the sphere/ellipsoid difference (under 0.6 %)
//! can never pick a segment that is farther on the ellipsoid.

use geo::{Coord, Distance, Geodesic, Point};
use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;

type P3 = [f64; 3];

/// Candidates whose chord distance is within this ratio of the nearest one are
/// measured on the ellipsoid too (the sphere and the ellipsoid disagree by < 0.6 %).
pub const TIE_RATIO: f64 = 1.01;

/// Segments longer than this are split (in lon/lat, where edges are straight) before
/// indexing, so that the sphere's chord and the lon/lat edge never part by more than a
/// metre and the chord's closest point is the edge's.
pub const SEGMENT_KM_MAX: f64 = 5.0;

/// Mean Earth radius in km, used only to turn a kilometre bound into a chord bound.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Maps a lon/lat in degrees to the unit sphere.
pub fn unit_vector(lon: f64, lat: f64) -> P3 {
    let (sl, cl) = lat.to_radians().sin_cos();
    let (so, co) = lon.to_radians().sin_cos();
    [cl * co, cl * so, sl]
}

fn densify(part: Vec<Coord>) -> Vec<Coord> {
    let mut out = Vec::with_capacity(part.len());
    for (i, &c) in part.iter().enumerate() {
        if i > 0 {
            let a = part[i - 1];
            let (ua, uc) = (unit_vector(a.x, a.y), unit_vector(c.x, c.y));
            let chord = ((ua[0] - uc[0]).powi(2) + (ua[1] - uc[1]).powi(2) + (ua[2] - uc[2]).powi(2)).sqrt();
            let pieces = (chord * EARTH_RADIUS_KM / SEGMENT_KM_MAX).ceil() as usize;
            for k in 1..pieces {
                let t = k as f64 / pieces as f64;
                out.push(Coord { x: a.x + (c.x - a.x) * t, y: a.y + (c.y - a.y) * t });
            }
        }
        out.push(c);
    }
    out
}

/// The result of a nearest-segment query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// Geodesic distance on WGS 84, in km.
    pub distance_km: f64,
    /// Index of the polyline (part) and of the segment within it.
    pub part: usize,
    pub segment: usize,
    /// The closest point of that segment (lon/lat).
    pub closest: Coord,
}

/// An index of polyline segments for nearest-distance queries.
pub struct SegmentIndex {
    parts: Vec<Vec<Coord>>,
    tree: RTree<GeomWithData<Line<P3>, (u32, u32)>>,
}

impl SegmentIndex {
    /// Indexes every segment of the given polylines (lon/lat coordinates), split so that
    /// none is longer than [`SEGMENT_KM_MAX`].
    pub fn new(parts: Vec<Vec<Coord>>) -> Self {
        let parts: Vec<Vec<Coord>> = parts.into_iter().map(densify).collect();
        let mut items = Vec::new();
        for (pi, part) in parts.iter().enumerate() {
            for (si, w) in part.windows(2).enumerate() {
                let a = unit_vector(w[0].x, w[0].y);
                let b = unit_vector(w[1].x, w[1].y);
                items.push(GeomWithData::new(Line::new(a, b), (pi as u32, si as u32)));
            }
        }
        SegmentIndex { parts, tree: RTree::bulk_load(items) }
    }

    /// The polylines this index was built from, after splitting long segments.
    pub fn parts(&self) -> &[Vec<Coord>] {
        &self.parts
    }

    /// Number of indexed segments.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// True when there is no segment at all.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// The closest point of segment (part, seg) to `q`, by the chord parameter.
    fn closest_on(&self, part: u32, seg: u32, q: &P3, line: &Line<P3>) -> Coord {
        let (a, b) = (line.from, line.to);
        let ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let aq = [q[0] - a[0], q[1] - a[1], q[2] - a[2]];
        let len2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
        let t = if len2 > 0.0 { ((aq[0] * ab[0] + aq[1] * ab[1] + aq[2] * ab[2]) / len2).clamp(0.0, 1.0) } else { 0.0 };
        let p = &self.parts[part as usize];
        let (c0, c1) = (p[seg as usize], p[seg as usize + 1]);
        Coord { x: c0.x + (c1.x - c0.x) * t, y: c0.y + (c1.y - c0.y) * t }
    }

    /// The nearest segment to (lon, lat) and the geodesic distance to it; `None` when
    /// the index is empty.
    pub fn nearest(&self, lon: f64, lat: f64) -> Option<Nearest> {
        let q = unit_vector(lon, lat);
        let mut best: Option<Nearest> = None;
        let mut bound2 = f64::INFINITY;
        for (item, d2) in self.tree.nearest_neighbor_iter_with_distance_2(q) {
            if d2 > bound2 {
                break;
            }
            if best.is_none() {
                bound2 = d2 * TIE_RATIO * TIE_RATIO;
            }
            let (part, seg) = item.data;
            let closest = self.closest_on(part, seg, &q, item.geom());
            let distance_km = Geodesic.distance(Point::new(lon, lat), Point::from(closest)) / 1000.0;
            if best.is_none_or(|b| distance_km < b.distance_km) {
                best = Some(Nearest { distance_km, part: part as usize, segment: seg as usize, closest });
            }
        }
        best
    }

    /// True when some segment lies within `km` of (lon, lat) (geodesic).
    pub fn within_km(&self, lon: f64, lat: f64, km: f64) -> bool {
        // A chord bound a little larger than the sphere's, to be safe on the ellipsoid.
        let chord = 2.0 * (km * 1.01 / (2.0 * EARTH_RADIUS_KM)).sin();
        let q = unit_vector(lon, lat);
        self.tree.locate_within_distance(q, chord * chord).any(|item| {
            let (part, seg) = item.data;
            let closest = self.closest_on(part, seg, &q, item.geom());
            Geodesic.distance(Point::new(lon, lat), Point::from(closest)) / 1000.0 <= km
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> Coord {
        Coord { x, y }
    }

    #[test]
    fn distance_to_a_meridian_segment_is_the_geodesic_to_its_foot() {
        // A north-south segment along 36 E; a point 1 degree east at 49 N.
        let idx = SegmentIndex::new(vec![vec![c(36.0, 48.0), c(36.0, 50.0)]]);
        let n = idx.nearest(37.0, 49.0).unwrap();
        let reference = Geodesic.distance(Point::new(37.0, 49.0), Point::new(36.0, 49.0)) / 1000.0;
        // The foot of the perpendicular on the ellipsoid is a hair north of 49 N; the
        // geodesic to (36, 49) is an upper bound within 0.01 %.
        assert!(n.distance_km <= reference + 1e-9, "{} vs {}", n.distance_km, reference);
        assert!((n.distance_km - reference).abs() / reference < 1e-4);
        assert!((n.distance_km - 73.1).abs() < 0.5, "{}", n.distance_km);
    }

    #[test]
    fn endpoint_is_nearest_beyond_the_segment() {
        let idx = SegmentIndex::new(vec![vec![c(30.0, 50.0), c(31.0, 50.0)]]);
        let n = idx.nearest(32.0, 50.0).unwrap();
        assert_eq!(n.closest, c(31.0, 50.0));
    }

    #[test]
    fn within_km_agrees_with_nearest() {
        let idx = SegmentIndex::new(vec![vec![c(30.0, 50.0), c(31.0, 50.0)]]);
        let d = idx.nearest(30.5, 50.1).unwrap().distance_km;
        assert!(idx.within_km(30.5, 50.1, d + 0.01));
        assert!(!idx.within_km(30.5, 50.1, d - 0.01));
    }
}
