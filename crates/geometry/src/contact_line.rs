//! The contact line: the part of the occupied area's boundary that is neither the
//! country's border nor its coast.
//!
//! A boundary segment is border (or coast) when both its ends and its midpoint lie
//! within the tolerance of the country's outline; every other segment is front. Runs of
//! consecutive front segments become the parts of the line. Working per segment keeps
//! every vertex of the source polygons: the line is exactly the occupied boundary, cut
//! where it meets the border.

use geo::{Coord, LineString, MultiLineString, MultiPolygon};

use crate::segments::SegmentIndex;

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

fn front_runs(ring: &[Coord], border: &SegmentIndex, tol: f64, out: &mut Vec<Vec<Coord>>) {
    // A closed ring repeats its first vertex at the end.
    let n = ring.len().saturating_sub(1);
    if n < 3 {
        return;
    }
    let near: Vec<bool> = ring[..n].iter().map(|c| border.within_km(c.x, c.y, tol)).collect();
    let is_border = |i: usize| {
        let (a, b) = (ring[i], ring[i + 1]);
        near[i] && near[(i + 1) % n] && border.within_km((a.x + b.x) / 2.0, (a.y + b.y) / 2.0, tol)
    };
    let seg_border: Vec<bool> = (0..n).map(is_border).collect();
    let Some(first_border) = seg_border.iter().position(|&b| b) else {
        // No border at all: the whole ring is front (an enclave, or an area off the border).
        out.push(ring.to_vec());
        return;
    };
    let mut run: Vec<Coord> = Vec::new();
    for k in 1..=n {
        let i = (first_border + k) % n;
        if seg_border[i] {
            if run.len() >= 2 {
                out.push(std::mem::take(&mut run));
            }
            run.clear();
        } else {
            if run.is_empty() {
                run.push(ring[i]);
            }
            run.push(ring[i + 1]);
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
        assert_eq!(line.0[0].0, vec![Coord { x: 1., y: 1. }, Coord { x: 1., y: 0. }]);
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
