//! Point-in-polygon in O(1) for most points: a uniform grid over the polygon's
//! bounding box, each cell knowing whether its centre is inside and which edges cross
//! it.
//!
//! A query finds its cell; if no edge crosses the cell the answer is the centre's;
//! otherwise it counts the crossings of the short segment from the cell's centre to the
//! point with the cell's few edges, and flips the centre's answer on odd counts. Rings
//! are taken under the even-odd rule, so holes need no special case. Coordinates are
//! lon/lat degrees and edges are straight in them, as GeoJSON, Shapely and DuckDB take
//! them.

use geo::{Coord, MultiPolygon};

/// Upper bound on grid cells (memory: about 5 bytes per cell).
pub const GRID_CELLS_MAX: usize = 4 << 20;

/// A polygon prepared for fast containment tests.
#[derive(Debug, Clone)]
pub struct GridPolygon {
    min: Coord,
    max: Coord,
    nx: usize,
    ny: usize,
    inv_w: f64,
    inv_h: f64,
    cell_w: f64,
    cell_h: f64,
    centre_inside: Vec<bool>,
    cell_start: Vec<u32>,
    cell_edges: Vec<u32>,
    edges: Vec<[f64; 4]>,
}

#[inline]
fn orient(ax: f64, ay: f64, bx: f64, by: f64, cx: f64, cy: f64) -> f64 {
    (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
}

impl GridPolygon {
    /// Prepares `mp`. An empty multipolygon contains nothing.
    pub fn new(mp: &MultiPolygon) -> Self {
        let mut edges = Vec::new();
        for poly in &mp.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for l in ring.lines() {
                    if l.start != l.end {
                        edges.push([l.start.x, l.start.y, l.end.x, l.end.y]);
                    }
                }
            }
        }
        Self::from_edges(edges)
    }

    fn from_edges(edges: Vec<[f64; 4]>) -> Self {
        let (mut min, mut max) = (Coord { x: f64::MAX, y: f64::MAX }, Coord { x: f64::MIN, y: f64::MIN });
        for e in &edges {
            min.x = min.x.min(e[0]).min(e[2]);
            min.y = min.y.min(e[1]).min(e[3]);
            max.x = max.x.max(e[0]).max(e[2]);
            max.y = max.y.max(e[1]).max(e[3]);
        }
        if edges.is_empty() {
            return GridPolygon {
                min: Coord { x: 0.0, y: 0.0 },
                max: Coord { x: -1.0, y: -1.0 },
                nx: 0,
                ny: 0,
                inv_w: 0.0,
                inv_h: 0.0,
                cell_w: 0.0,
                cell_h: 0.0,
                centre_inside: vec![],
                cell_start: vec![0],
                cell_edges: vec![],
                edges,
            };
        }
        let (w, h) = ((max.x - min.x).max(1e-9), (max.y - min.y).max(1e-9));
        // About two cells per edge keeps the edges per boundary cell small.
        let cells = (edges.len() * 2).clamp(64, GRID_CELLS_MAX) as f64;
        let nx = ((cells * w / h).sqrt().ceil() as usize).clamp(1, 8192);
        let ny = ((cells / nx as f64).ceil() as usize).clamp(1, 8192);
        let (cell_w, cell_h) = (w / nx as f64, h / ny as f64);
        let mut g = GridPolygon {
            min,
            max,
            nx,
            ny,
            inv_w: 1.0 / cell_w,
            inv_h: 1.0 / cell_h,
            cell_w,
            cell_h,
            centre_inside: vec![false; nx * ny],
            cell_start: vec![],
            cell_edges: vec![],
            edges,
        };
        g.rasterise_edges();
        g.mark_centres();
        g
    }

    fn col(&self, x: f64) -> usize {
        (((x - self.min.x) * self.inv_w) as isize).clamp(0, self.nx as isize - 1) as usize
    }
    fn row(&self, y: f64) -> usize {
        (((y - self.min.y) * self.inv_h) as isize).clamp(0, self.ny as isize - 1) as usize
    }

    /// Lists, for each cell, the edges that may cross it (a superset, never missing one).
    fn rasterise_edges(&mut self) {
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(self.edges.len() * 3);
        let eps_x = self.cell_w * 1e-6;
        let eps_y = self.cell_h * 1e-6;
        for (ei, e) in self.edges.iter().enumerate() {
            let (x0, y0, x1, y1) = (e[0], e[1], e[2], e[3]);
            let (c0, c1) = (self.col(x0.min(x1) - eps_x), self.col(x0.max(x1) + eps_x));
            for c in c0..=c1 {
                // The part of the edge inside this column's x-range gives its rows.
                let cx0 = self.min.x + c as f64 * self.cell_w - eps_x;
                let cx1 = cx0 + self.cell_w + 2.0 * eps_x;
                let (ya, yb) = if (x1 - x0).abs() < 1e-15 {
                    (y0, y1)
                } else {
                    let t0 = ((cx0 - x0) / (x1 - x0)).clamp(0.0, 1.0);
                    let t1 = ((cx1 - x0) / (x1 - x0)).clamp(0.0, 1.0);
                    (y0 + (y1 - y0) * t0, y0 + (y1 - y0) * t1)
                };
                let (r0, r1) = (self.row(ya.min(yb) - eps_y), self.row(ya.max(yb) + eps_y));
                for r in r0..=r1 {
                    pairs.push(((r * self.nx + c) as u32, ei as u32));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut start = vec![0u32; self.nx * self.ny + 1];
        for &(cell, _) in &pairs {
            start[cell as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        self.cell_edges = pairs.into_iter().map(|(_, e)| e).collect();
        self.cell_start = start;
    }

    /// Scanline through each row of cell centres: even-odd crossings give each centre's
    /// state (half-open rule on the edges' y-range, so vertices are counted once).
    fn mark_centres(&mut self) {
        let mut rows: Vec<Vec<u32>> = vec![Vec::new(); self.ny];
        for (ei, e) in self.edges.iter().enumerate() {
            let (lo, hi) = (e[1].min(e[3]), e[1].max(e[3]));
            let r0 = ((lo - self.min.y) * self.inv_h - 0.5).ceil().max(0.0) as usize;
            let mut r = r0;
            while r < self.ny {
                let y = self.min.y + (r as f64 + 0.5) * self.cell_h;
                if y >= hi {
                    break;
                }
                if y >= lo {
                    rows[r].push(ei as u32);
                }
                r += 1;
            }
        }
        let mut xs = Vec::new();
        for (r, row_edges) in rows.iter().enumerate() {
            let y = self.min.y + (r as f64 + 0.5) * self.cell_h;
            xs.clear();
            for &ei in row_edges {
                let e = self.edges[ei as usize];
                xs.push(e[0] + (y - e[1]) * (e[2] - e[0]) / (e[3] - e[1]));
            }
            xs.sort_unstable_by(f64::total_cmp);
            let mut k = 0;
            for c in 0..self.nx {
                let x = self.min.x + (c as f64 + 0.5) * self.cell_w;
                while k < xs.len() && xs[k] < x {
                    k += 1;
                }
                self.centre_inside[r * self.nx + c] = k % 2 == 1;
            }
        }
    }

    /// True when (x, y) lies inside the polygon (points exactly on the boundary may go
    /// either way).
    #[inline]
    pub fn contains(&self, x: f64, y: f64) -> bool {
        if !(x >= self.min.x && x <= self.max.x && y >= self.min.y && y <= self.max.y) {
            return false;
        }
        let (c, r) = (self.col(x), self.row(y));
        let cell = r * self.nx + c;
        let mut inside = self.centre_inside[cell];
        let (s, e) = (self.cell_start[cell] as usize, self.cell_start[cell + 1] as usize);
        if s == e {
            return inside;
        }
        let cx = self.min.x + (c as f64 + 0.5) * self.cell_w;
        let cy = self.min.y + (r as f64 + 0.5) * self.cell_h;
        for &ei in &self.cell_edges[s..e] {
            let [ax, ay, bx, by] = self.edges[ei as usize];
            // Which side of the centre-to-point line each end lies on; zero counts as
            // positive so a vertex on that line is counted by exactly one of its edges.
            let sa = orient(cx, cy, x, y, ax, ay) >= 0.0;
            let sb = orient(cx, cy, x, y, bx, by) >= 0.0;
            if sa == sb {
                continue;
            }
            let oc = orient(ax, ay, bx, by, cx, cy);
            let op = orient(ax, ay, bx, by, x, y);
            if (oc > 0.0 && op < 0.0) || (oc < 0.0 && op > 0.0) {
                inside = !inside;
            }
        }
        inside
    }

    /// The bounding box (min, max); min > max when empty.
    pub fn bbox(&self) -> (Coord, Coord) {
        (self.min, self.max)
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains, Point};

    #[test]
    fn square_with_hole() {
        let p = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.), (x: 0., y: 0.)],
            interiors: [[(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 6.), (x: 4., y: 4.)]],
        );
        let g = GridPolygon::new(&MultiPolygon(vec![p]));
        assert!(g.contains(1.0, 1.0));
        assert!(!g.contains(5.0, 5.0));
        assert!(g.contains(3.9, 5.0));
        assert!(!g.contains(11.0, 5.0));
        assert!(!g.contains(-0.1, 5.0));
    }

    #[test]
    fn agrees_with_geo_on_a_star() {
        // A 40-point star: many concave vertices and cells with several edges.
        let n = 40;
        let ring: Vec<(f64, f64)> = (0..=n)
            .map(|i| {
                let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                let r = if i % 2 == 0 { 5.0 } else { 2.0 };
                (30.0 + r * a.cos(), 48.0 + r * a.sin())
            })
            .collect();
        let poly = geo::Polygon::new(ring.into(), vec![]);
        let g = GridPolygon::new(&MultiPolygon(vec![poly.clone()]));
        let mut k = 0u64;
        for i in 0..200 {
            for j in 0..200 {
                let (x, y) = (24.0 + i as f64 * 0.0613, 42.0 + j as f64 * 0.0597);
                assert_eq!(g.contains(x, y), poly.contains(&Point::new(x, y)), "({x}, {y})");
                k += 1;
            }
        }
        assert_eq!(k, 40_000);
    }

    #[test]
    fn empty_contains_nothing() {
        let g = GridPolygon::new(&MultiPolygon(vec![]));
        assert!(!g.contains(0.0, 0.0));
    }
}
