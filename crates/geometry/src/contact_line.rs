//! The contact line: the part of the occupied area's boundary that is neither the
//! country's border nor its coast.
//!
//! The boundary is cut where it enters the band within the tolerance of the country's
//! outline, as `boundary(occupied) - buffer(outline boundary, tolerance)` would cut it:
//! each boundary segment is sampled every [`SAMPLE_KM`], and where the samples change
//! between near and far the crossing is found by bisection (to under a metre). The
//! line keeps every original vertex outside the band, plus one vertex at each cut.

use geo::{Coord, LineString, MultiLineString, MultiPolygon};

use crate::segments::{ellipsoid_km, SegmentIndex};

/// Spacing of the samples that find where a boundary segment enters or leaves the
/// border band, in km. A stretch of front shorter than this between two parts of the
/// band can be missed.
pub const SAMPLE_KM: f64 = 0.2;

/// Derives the contact line of `occupied` against the country's `border` (its outline's
/// rings), with `tolerance_km`.
pub fn derive_contact_line(occupied: &MultiPolygon, border: &SegmentIndex, tolerance_km: f64) -> MultiLineString {
    let mut parts = Vec::new();
    for poly in occupied {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            front_runs(&ring.0, border, tolerance_km, &mut parts);
        }
    }
    MultiLineString(parts.into_iter().map(LineString::new).collect())
}

fn lerp(a: Coord, b: Coord, t: f64) -> Coord {
    Coord { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t }
}

/// The parts of segment a->b that lie outside the band, as parameter intervals.
fn far_intervals(a: Coord, b: Coord, near_a: bool, near_b: bool, border: &SegmentIndex, tol: f64) -> Vec<(f64, f64)> {
    let near = |t: f64| {
        let c = lerp(a, b, t);
        border.within_km(c.x, c.y, tol)
    };
    let k = ((ellipsoid_km(a.x, a.y, b.x, b.y) / SAMPLE_KM).ceil() as usize).max(1);
    let mut out = Vec::new();
    let mut start: Option<f64> = (!near_a).then_some(0.0);
    let (mut t_prev, mut n_prev) = (0.0, near_a);
    for j in 1..=k {
        let t = j as f64 / k as f64;
        let n = if j == k { near_b } else { near(t) };
        if n != n_prev {
            // Bisect for the crossing between t_prev and t.
            let (mut lo, mut hi) = (t_prev, t);
            for _ in 0..24 {
                let mid = (lo + hi) / 2.0;
                if near(mid) == n_prev {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let cut = (lo + hi) / 2.0;
            match start.take() {
                Some(s0) => out.push((s0, cut)),
                None => start = Some(cut),
            }
        }
        t_prev = t;
        n_prev = n;
    }
    if let Some(s0) = start {
        out.push((s0, 1.0));
    }
    out
}

fn front_runs(ring: &[Coord], border: &SegmentIndex, tol: f64, out: &mut Vec<Vec<Coord>>) {
    // A closed ring repeats its first vertex at the end.
    let n = ring.len().saturating_sub(1);
    if n < 3 {
        return;
    }
    let near: Vec<bool> = ring[..n].iter().map(|c| border.within_km(c.x, c.y, tol)).collect();
    let segs: Vec<Vec<(f64, f64)>> =
        (0..n).map(|i| far_intervals(ring[i], ring[i + 1], near[i], near[(i + 1) % n], border, tol)).collect();
    // Start at a segment that begins inside the band, so no run wraps around.
    let Some(first) = (0..n).find(|&i| segs[i].first().is_none_or(|iv| iv.0 > 0.0)) else {
        // Every vertex is far: the whole ring is front (an enclave, or an area off the border).
        out.push(ring.to_vec());
        return;
    };
    let mut run: Vec<Coord> = Vec::new();
    for k in 0..n {
        let i = (first + k) % n;
        let (a, b) = (ring[i], ring[i + 1]);
        for &(t0, t1) in &segs[i] {
            if t0 > 0.0 || run.is_empty() {
                if run.len() >= 2 {
                    out.push(std::mem::take(&mut run));
                }
                run.clear();
                run.push(lerp(a, b, t0));
            }
            run.push(if t1 >= 1.0 { b } else { lerp(a, b, t1) });
            if t1 < 1.0 {
                if run.len() >= 2 {
                    out.push(std::mem::take(&mut run));
                }
                run.clear();
            }
        }
        if segs[i].is_empty() && !run.is_empty() {
            if run.len() >= 2 {
                out.push(std::mem::take(&mut run));
            }
            run.clear();
        }
    }
    if run.len() >= 2 {
        out.push(run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn border_segments_are_cut_out() {
        // Country: the square 0..2 x 0..1 (degrees). Occupied: its east half, x >= 1.
        let country = polygon![(x: 0., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 0., y: 1.), (x: 0., y: 0.)];
        let border = SegmentIndex::new(vec![country.exterior().0.clone()]);
        let occ = polygon![(x: 1., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.), (x: 1., y: 0.)];
        let line = derive_contact_line(&MultiPolygon(vec![occ]), &border, 2.0);
        assert_eq!(line.0.len(), 1);
        // The cut is 2 km inside the country's north and south edges.
        let l = &line.0[0].0;
        assert_eq!(l.len(), 2);
        assert!((l[0].x - 1.0).abs() < 1e-12 && (l[1].x - 1.0).abs() < 1e-12);
        assert!((ellipsoid_km(1.0, 1.0, l[0].x, l[0].y) - 2.0).abs() < 0.01, "{l:?}");
        assert!((ellipsoid_km(1.0, 0.0, l[1].x, l[1].y) - 2.0).abs() < 0.01, "{l:?}");
    }

    #[test]
    fn an_enclave_is_all_front() {
        let country = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.), (x: 0., y: 0.)];
        let border = SegmentIndex::new(vec![country.exterior().0.clone()]);
        let occ = polygon![(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.), (x: 1., y: 1.)];
        let line = derive_contact_line(&MultiPolygon(vec![occ.clone()]), &border, 2.0);
        assert_eq!(line.0.len(), 1);
        assert_eq!(line.0[0].0.len(), 5);
    }
}
