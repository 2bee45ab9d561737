#!/usr/bin/env python3
"""Independent Shapely 2 / pyproj cross-check of truce's front-line figures.

Written without looking at truce's Rust code: every figure below is derived
from the raw public data in ../shared/data with Shapely 2 (GEOS), pyproj
(PROJ + GeographicLib's geodesic algorithms) and numpy only.

How each figure is computed
===========================

Country mask ("country")
    The 25 polygons of admin/ukraine-oblasts.geojson, each repaired with
    shapely.make_valid (Kherson, Mykolaiv and Odesa are invalid as shipped:
    "hole lies outside shell"), then shapely.union_all.  Result: a
    MultiPolygon of 4 parts (the mainland and 3 small coastal pieces that
    the repair turns from misplaced holes into polygons).

Occupied territory on 2023-06-29 ("occupied")
    Snapshot deepstate/raw-layers-monthly-.../deepstate_20230629T222605Z_*.geojson.
    Features whose `fill` is #A52714 (occupied since 2022) or #880E4F (the
    pre-2022 areas: Crimea, Tuzla, ORDLO), case-insensitive; the #ff5252
    layers outside Ukraine are ignored.  Each polygon: Z dropped
    (force_2d), make_valid; then union_all.  Interior rings (holes) whose
    geodesic area is below HOLE_MAX_KM2 = 0.1 km2 are removed (the union
    has 43 holes, all slivers of 0.00000..0.0107 km2 where the 2014 and 2022
    polygons meet; no hole is larger, so any threshold above 0.0107 km2
    gives the same result on this date; 0.01 km2 would leave the 0.0107 km2
    one and add one ring, i.e. 18 parts / 877 vertices).  Finally intersected with
    the country mask, keeping polygonal parts.  Areas are geodesic
    (pyproj.Geod(ellps="WGS84").geometry_area_perimeter).

Contact line
    boundary(occupied) minus everything within BORDER_TOL_M = 2000 m of
    boundary(country) (the international border plus the coast).  The 2 km
    zone is built as a planar buffer (quad_segs=16) of the country outline
    in a Lambert conformal conic projection centred on Ukraine
    (LCC: lat_1=45, lat_2=51, lat_0=48, lon_0=31, WGS84; scale factor
    0.9986..1.0034 over 21-42E, 43.5-53.5N, so "2 km" is 1993..2003 m on the
    ground), densified to 200 m and projected back to lon/lat; the
    difference is taken in lon/lat so every kept vertex is an original
    DeepState vertex (only the cut points are new).  Then line_merge.
    parts    = number of LineStrings after line_merge
    vertices = total number of coordinates over all parts (a vertex shared
               by two parts is counted in both)
    length   = sum of geodesic (WGS84, Karney) lengths of the segments
               between consecutive vertices, pyproj.Geod.geometry_length.

Points inside occupied territory
    The 1,263,651 rows of firms/ukraine-2000-2023-lat-lon-date/*.csv,
    shapely.contains_xy(prepared occupied, lon, lat): planar point-in-polygon
    in lon/lat (edges are straight lines in lon/lat, as in GeoJSON/GEOS).
    Points exactly on the boundary count as outside (we also report how many
    points `intersects` but not `contains`; it is 0 here).

Distance to the contact line (exact geodesic)
    Each segment of the contact line is taken as the WGS84 geodesic between
    its two vertices.  For each point P:
    1. candidate segments: all segments whose planar LCC distance to P is
       at most d_min * kmax/kmin + 50 m, where d_min is P's planar LCC
       distance to the whole line and kmax/kmin = 1.0057 is the ratio of
       the projection's extreme scale factors over 20-43E, 43-54N.  Since
       planar <= kmax * geodesic and the geodesic distance of the
       planar-nearest segment <= d_min / kmin, no segment outside this set
       can be the geodesic nearest one (the 50 m covers the gap between a
       geodesic segment, median 0.8 km and at most 14.4 km long, and its
       straight LCC chord: about a metre at most).
    2. for each (P, segment AB) pair: map A and B into P's azimuthal
       equidistant frame with two Geod.inv calls (exact distances and
       azimuths from P), take the foot t in [0,1] of the perpendicular from
       P onto the chord A'B', go the fraction t along the geodesic A->B
       (Geod.fwd) to Q, and take the exact geodesic distance |PQ|
       (Geod.inv).  Distance is stationary at the optimum, so the error of
       t only enters at second order; a golden-section search on a random
       subsample (VERIFY_N pairs, 60 iterations) confirms it
       (`verify_max_abs_diff_km` in the JSON, ~1e-9 km).
    3. distance = min over candidates.
    within_15km = count(distance <= 15 km); mean = arithmetic mean over
    all 1,263,651 points (inside and outside alike), in km.
    For comparison we also report the cheap method the peer benchmark uses
    (nearest point on the line in LCC, projected back, then Geod.inv from P
    to it) and its worst relative error against the exact figure.

VIIRS 2026-06-25..29
    firms/viirs-nrt-2026-06-25_to_2026-06-29.csv (6,715 rows): inside
    Ukraine = shapely.contains_xy(country, lon, lat).  Occupied: the
    deepstate/occupied-weekly-* snapshot with the latest date <= 2026-06-25
    (a date between two snapshots takes the earlier one); the files end on
    2026-03-30, so that one applies (87 days old); if none were <= the date,
    the latest would be used and flagged.  Its MultiPolygon is make_valid'ed
    and intersected with the country; count = in-Ukraine detections inside
    it (contains_xy).

Comparison with ../shared/data/README.md (reference figures for 2023-06-29)
    contact line 17 parts, 870 vertices: reproduced exactly.  Length: 998.70
    km geodesic here against the README's "999 km" (999.26 km planar in UTM
    37N, see below).  Inside occupied: 320,868, exactly the README's figure
    (no point lies on the boundary).  Within 15 km: 115,756 here against
    115,719; mean distance 220.118 km against 221.02 km (-0.41 %).  The
    README's distance figures are *planar distances in UTM zone 37N*
    (EPSG:32637), not geodesic ones: doing everything planar in EPSG:32637
    (2 km buffer with GEOS' default quad_segs=8, shapely.distance) gives
    17 parts, 870 vertices, 999.26 km, 115,719 within 15 km and a mean of
    221.021 km, i.e. all of the README's figures to the digit (reported
    under `readme_method_utm37n`).  UTM 37N's scale factor grows to 1.0185
    at Ukraine's western border (17 degrees west of its central meridian,
    39E), so it overstates the long distances by up to 0.99 % per point and
    the mean by 0.41 %; within 30 km of the front it is off by at most
    0.34 %, hence only 37 of the 115,756 points cross the 15 km threshold.  The geodesic
    figures above are the ones a classifier with a "< 0.5 % error" claim
    should be compared to; the README's also pass a 0.5 % test on the mean.
    With a 1 km tolerance we get 63 parts / 1,211.9 km (README: 63 parts,
    1,212 km).

Output
    Prints every figure, writes them to bench/peers/crosscheck.json
    (--json) and, in --out-dir (default bench/out/crosscheck, git-ignored):
    occupied.geojson (one MultiPolygon feature), contested.geojson (BCAAA4
    union clipped to the country, minus occupied), contact_line.geojson
    (one MultiLineString feature), country.geojson, and reference.parquet
    (lon, lat, inside, distance_km per point, input order) that the peer
    benchmark uses for per-point agreement checks.

Usage: crosscheck.py [--data ../shared/data] [--out-dir DIR] [--json PATH]
                     [--geometry-only]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely
from pyproj import Geod, Proj, Transformer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))  # /work/main

DATE = "2023-06-29"
SNAPSHOT_GLOB = "deepstate/raw-layers-monthly-2023-04_to_2025-08/deepstate_20230629T*.geojson"
OCCUPIED_FILLS = {"#a52714", "#880e4f"}
CONTESTED_FILLS = {"#bcaaa4"}
HOLE_MAX_KM2 = 0.1
BORDER_TOL_M = 2000.0
NEAR_KM = 15.0
LCC = "+proj=lcc +lat_1=45 +lat_2=51 +lat_0=48 +lon_0=31 +ellps=WGS84 +units=m +no_defs"
VIIRS_FROM = "2026-06-25"
VERIFY_N = 20000

GEOD = Geod(ellps="WGS84")
TO_LCC = Transformer.from_crs("EPSG:4326", LCC, always_xy=True)
FROM_LCC = Transformer.from_crs(LCC, "EPSG:4326", always_xy=True)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def to_lcc(g):
    return shapely.transform(g, lambda c: np.column_stack(TO_LCC.transform(c[:, 0], c[:, 1])))


def from_lcc(g):
    return shapely.transform(g, lambda c: np.column_stack(FROM_LCC.transform(c[:, 0], c[:, 1])))


def polygons_of(g):
    """All Polygon parts of a geometry (recursing into collections)."""
    if g is None or g.is_empty:
        return []
    if g.geom_type == "Polygon":
        return [g]
    if hasattr(g, "geoms"):
        out = []
        for p in g.geoms:
            out.extend(polygons_of(p))
        return out
    return []


def as_multipolygon(g):
    return shapely.MultiPolygon(polygons_of(g))


def geodesic_area_km2(poly):
    return abs(GEOD.geometry_area_perimeter(poly)[0]) / 1e6


def close_small_holes(g, max_km2):
    out, closed, kept = [], [], []
    for p in polygons_of(g):
        keep = []
        for r in p.interiors:
            a = geodesic_area_km2(shapely.Polygon(r))
            if a >= max_km2:
                keep.append(r)
                kept.append(a)
            else:
                closed.append(a)
        out.append(shapely.Polygon(p.exterior, keep))
    return shapely.MultiPolygon(out), closed, kept


def load_country(data):
    fc = json.load(open(os.path.join(data, "admin/ukraine-oblasts.geojson")))
    polys, invalid = [], []
    for f in fc["features"]:
        g = shapely.geometry.shape(f["geometry"])
        if not g.is_valid:
            invalid.append(f["properties"].get("name:en") or f["properties"].get("name"))
        polys.append(shapely.make_valid(g))
    return as_multipolygon(shapely.union_all(polys)), len(fc["features"]), invalid


def load_fill_union(path, fills):
    fc = json.load(open(path))
    polys = []
    for f in fc["features"]:
        fill = (f["properties"].get("fill") or "").lower()
        if fill in fills and f.get("geometry"):
            g = shapely.force_2d(shapely.geometry.shape(f["geometry"]))
            polys.extend(polygons_of(shapely.make_valid(g)))
    return shapely.union_all(polys), len(polys)


def contact_line(occupied, country):
    outline_lcc = to_lcc(shapely.boundary(country))
    zone = shapely.buffer(outline_lcc, BORDER_TOL_M, quad_segs=16)
    zone_ll = from_lcc(shapely.segmentize(zone, 200.0))
    line = shapely.difference(shapely.boundary(occupied), zone_ll)
    line = shapely.line_merge(line)
    parts = [p for p in getattr(line, "geoms", [line]) if not p.is_empty]
    return shapely.MultiLineString(parts)


def line_stats(ml):
    parts = list(ml.geoms)
    nv = sum(len(p.coords) for p in parts)
    km = sum(GEOD.geometry_length(p) for p in parts) / 1e3
    return len(parts), nv, km


def write_feature(path, geom, props=None):
    fc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": props or {},
                      "geometry": json.loads(shapely.to_geojson(geom))}],
    }
    with open(path, "w") as f:
        json.dump(fc, f)


def read_points(data):
    files = sorted(glob.glob(os.path.join(data, "firms/ukraine-2000-2023-lat-lon-date/ukr_fire_data_*.csv")))
    tabs = [pacsv.read_csv(f, convert_options=pacsv.ConvertOptions(
        column_types={"LATITUDE": pa.float64(), "LONGITUDE": pa.float64(), "ACQ_DATE": pa.string()}))
        for f in files]
    t = pa.concat_tables(tabs)
    return (t.column("LONGITUDE").to_numpy(), t.column("LATITUDE").to_numpy(), len(files))


# ---------------------------------------------------------------- distances

def segments_of(ml):
    a, b = [], []
    for p in ml.geoms:
        c = np.asarray(p.coords)
        a.append(c[:-1])
        b.append(c[1:])
    return np.vstack(a), np.vstack(b)


def scale_ratio():
    """kmax/kmin of the LCC over a box around Ukraine (generous)."""
    lon, lat = np.meshgrid(np.linspace(20, 43, 93), np.linspace(43, 54, 221))
    k = np.asarray(Proj(LCC).get_factors(lon.ravel(), lat.ravel()).parallel_scale)
    return float(k.max() / k.min())


def planar_seg_dist(px, py, ax, ay, bx, by):
    """(npts, nseg) planar distances, plus the foot parameter t."""
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = ((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / np.where(L2 > 0, L2, 1.0)
    np.clip(t, 0.0, 1.0, out=t)
    ex = ax + t * dx - px[:, None]
    ey = ay + t * dy - py[:, None]
    return np.sqrt(ex * ex + ey * ey), t


def geodesic_point_segment(plon, plat, alon, alat, blon, blat, az_ab, s_ab):
    """Geodesic distance (m) from P to geodesic segment AB, all arrays."""
    azA, _, dA = GEOD.inv(plon, plat, alon, alat)
    azB, _, dB = GEOD.inv(plon, plat, blon, blat)
    ra, rb = np.radians(azA), np.radians(azB)
    ax, ay = dA * np.sin(ra), dA * np.cos(ra)
    bx, by = dB * np.sin(rb), dB * np.cos(rb)
    vx, vy = bx - ax, by - ay
    L2 = vx * vx + vy * vy
    t = np.clip(-(ax * vx + ay * vy) / np.where(L2 > 0, L2, 1.0), 0.0, 1.0)
    qlon, qlat, _ = GEOD.fwd(alon, alat, az_ab, t * s_ab)
    _, _, d = GEOD.inv(plon, plat, qlon, qlat)
    return d, t


def golden_point_segment(plon, plat, alon, alat, az_ab, s_ab, iters=60):
    g = (np.sqrt(5) - 1) / 2
    lo = np.zeros_like(plon)
    hi = np.ones_like(plon)

    def f(t):
        qlon, qlat, _ = GEOD.fwd(alon, alat, az_ab, t * s_ab)
        return GEOD.inv(plon, plat, qlon, qlat)[2]

    c = hi - g * (hi - lo)
    d = lo + g * (hi - lo)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        m = fc < fd
        hi = np.where(m, d, hi)
        lo = np.where(m, lo, c)
        nc = hi - g * (hi - lo)
        nd = lo + g * (hi - lo)
        # recompute both (simple, robust)
        c, d = nc, nd
        fc, fd = f(c), f(d)
    return np.minimum.reduce([fc, fd, f(np.zeros_like(plon)), f(np.ones_like(plon))])


def exact_distances(lon, lat, line, chunk=4000, verify_n=VERIFY_N, quiet=False):
    A, B = segments_of(line)
    az_ab, _, s_ab = GEOD.inv(A[:, 0], A[:, 1], B[:, 0], B[:, 1])
    ax, ay = TO_LCC.transform(A[:, 0], A[:, 1])
    bx, by = TO_LCC.transform(B[:, 0], B[:, 1])
    px, py = TO_LCC.transform(lon, lat)
    ratio = scale_ratio()
    n = len(lon)
    exact = np.empty(n)
    fast = np.empty(n)
    npairs = 0
    vp, vs = [], []
    rng = np.random.default_rng(1)
    per_chunk = -(-verify_n // -(-n // chunk))  # ceil(verify_n / number of chunks)
    t0 = time.time()
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        D, T = planar_seg_dist(px[s:e], py[s:e], ax, ay, bx, by)
        j = np.argmin(D, axis=1)
        dmin = D[np.arange(e - s), j]
        # cheap method: planar-nearest point, back to lon/lat, geodesic to it
        tj = T[np.arange(e - s), j]
        qx = ax[j] + tj * (bx[j] - ax[j])
        qy = ay[j] + tj * (by[j] - ay[j])
        qlon, qlat = FROM_LCC.transform(qx, qy)
        fast[s:e] = GEOD.inv(lon[s:e], lat[s:e], qlon, qlat)[2]
        # exact: all candidate segments
        ii, kk = np.nonzero(D <= (dmin * ratio + 50.0)[:, None])
        pi = ii + s
        d, _ = geodesic_point_segment(lon[pi], lat[pi], A[kk, 0], A[kk, 1], B[kk, 0], B[kk, 1],
                                      az_ab[kk], s_ab[kk])
        best = np.full(e - s, np.inf)
        np.minimum.at(best, ii, d)
        exact[s:e] = best
        npairs += len(ii)
        if len(ii) and verify_n:
            pick = rng.choice(len(ii), size=min(len(ii), per_chunk), replace=False)
            vp.append(pi[pick])
            vs.append(kk[pick])
        if (s // chunk) % 50 == 0 and not quiet:
            log(f"  distances {e:,}/{n:,} ({time.time() - t0:.0f}s, {npairs:,} candidate pairs)")
    if not verify_n:
        return exact / 1e3, fast / 1e3, npairs, ratio, None, 0
    # verify the stationary-foot method against golden-section search
    vp = np.concatenate(vp)[:verify_n]
    vs = np.concatenate(vs)[:verify_n]
    d1, _ = geodesic_point_segment(lon[vp], lat[vp], A[vs, 0], A[vs, 1], B[vs, 0], B[vs, 1], az_ab[vs], s_ab[vs])
    d2 = golden_point_segment(lon[vp], lat[vp], A[vs, 0], A[vs, 1], az_ab[vs], s_ab[vs])
    verify = float(np.max(np.abs(d1 - d2)) / 1e3)
    return exact / 1e3, fast / 1e3, npairs, ratio, verify, len(vp)


def readme_method(occupied, country, lon, lat):
    """The README's reference figures, reproduced: everything planar in UTM 37N."""
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32637", always_xy=True)
    P = lambda g: shapely.transform(g, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    zone = shapely.buffer(shapely.boundary(P(country)), BORDER_TOL_M)  # quad_segs=8 (default)
    line = shapely.line_merge(shapely.difference(shapely.boundary(P(occupied)), zone))
    parts = list(getattr(line, "geoms", [line]))
    shapely.prepare(line)
    x, y = tr.transform(lon, lat)
    d = shapely.distance(shapely.points(x, y), line) / 1e3
    return {"crs": "EPSG:32637 (UTM 37N), planar buffer, length and distance",
            "parts": len(parts), "vertices": sum(len(p.coords) for p in parts),
            "length_km": round(line.length / 1e3, 3),
            "within_15km": int((d <= NEAR_KM).sum()), "distance_km_mean": float(d.mean())}


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "data"))
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "bench", "out", "crosscheck"))
    ap.add_argument("--json", default=os.path.join(HERE, "crosscheck.json"))
    ap.add_argument("--geometry-only", action="store_true",
                    help="only derive and write the geometry files (for the benchmark)")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    T0 = time.time()
    R: dict = {"date": DATE, "tools": {
        "shapely": shapely.__version__, "geos": shapely.geos_version_string,
        "pyproj": __import__("pyproj").__version__, "proj": __import__("pyproj").proj_version_str,
        "numpy": np.__version__}}

    country, n_obl, invalid = load_country(args.data)
    R["country"] = {"oblasts": n_obl, "invalid_repaired": invalid, "parts": len(country.geoms),
                    "area_km2": round(sum(geodesic_area_km2(p) for p in country.geoms), 1)}

    snap = glob.glob(os.path.join(args.data, SNAPSHOT_GLOB))
    assert len(snap) == 1, snap
    union, n_src = load_fill_union(snap[0], OCCUPIED_FILLS)
    closed_mp, closed, kept = close_small_holes(union, HOLE_MAX_KM2)
    occupied = as_multipolygon(shapely.intersection(closed_mp, country))
    contested_u, _ = load_fill_union(snap[0], CONTESTED_FILLS)
    contested = as_multipolygon(shapely.difference(shapely.intersection(contested_u, country), occupied))
    line = contact_line(occupied, country)
    parts, nv, km = line_stats(line)
    R["occupied"] = {
        "snapshot": os.path.relpath(snap[0], args.data), "source_polygons": n_src,
        "fills": sorted(OCCUPIED_FILLS), "hole_max_km2": HOLE_MAX_KM2,
        "holes_closed": len(closed), "largest_hole_closed_km2": round(max(closed), 5) if closed else None,
        "holes_kept": len(kept),
        "parts": len(occupied.geoms),
        "area_km2": round(sum(geodesic_area_km2(p) for p in occupied.geoms), 1),
        "contested_area_km2": round(sum(geodesic_area_km2(p) for p in contested.geoms), 1),
    }
    R["contact_line"] = {"border_tolerance_m": BORDER_TOL_M, "parts": parts, "vertices": nv,
                         "length_km": round(km, 3)}
    # the README's 1 km variant, for the record
    z1 = from_lcc(shapely.segmentize(shapely.buffer(to_lcc(shapely.boundary(country)), 1000.0, quad_segs=16), 200.0))
    l1 = shapely.line_merge(shapely.difference(shapely.boundary(occupied), z1))
    p1 = shapely.MultiLineString([p for p in getattr(l1, "geoms", [l1])])
    a, b, c = line_stats(p1)
    R["contact_line_1km_variant"] = {"parts": a, "vertices": b, "length_km": round(c, 3)}

    write_feature(os.path.join(args.out_dir, "occupied.geojson"), occupied, {"side": "occupied", "at": DATE})
    write_feature(os.path.join(args.out_dir, "contested.geojson"), contested, {"side": "contested", "at": DATE})
    write_feature(os.path.join(args.out_dir, "contact_line.geojson"), line, {"kind": "contact_line", "at": DATE})
    write_feature(os.path.join(args.out_dir, "country.geojson"), country, {"kind": "country"})
    log(f"geometry done ({time.time() - T0:.1f}s): contact line {parts} parts, {nv} vertices, {km:.2f} km")
    if args.geometry_only:
        print(json.dumps({"contact_line": R["contact_line"], "out_dir": args.out_dir}))
        return

    lon, lat, nfiles = read_points(args.data)
    n = len(lon)
    shapely.prepare(occupied)
    inside = shapely.contains_xy(occupied, lon, lat)
    touching = shapely.intersects_xy(occupied, lon, lat)
    shapely.prepare(country)
    in_country = shapely.contains_xy(country, lon, lat)
    log(f"point-in-polygon done ({time.time() - T0:.1f}s)")
    dist, fast, npairs, ratio, verify, nverify = exact_distances(lon, lat, line)
    rel = np.abs(fast - dist) / np.maximum(dist, 1e-9)
    R["points"] = {
        "files": nfiles, "rows": int(n),
        "inside_occupied": int(inside.sum()),
        "on_boundary": int((touching & ~inside).sum()),
        "inside_country": int(in_country.sum()),
        "within_15km": int((dist <= NEAR_KM).sum()),
        "within_15km_strict_lt": int((dist < NEAR_KM).sum()),
        "distance_km_mean": float(dist.mean()),
        "distance_km_min": float(dist.min()),
        "distance_km_max": float(dist.max()),
        "distance_method": "exact geodesic (WGS84) to geodesic segments; see header",
        "candidate_pairs": int(npairs), "lcc_scale_ratio": ratio,
        "verify_pairs": int(nverify), "verify_max_abs_diff_km": verify,
        "lcc_nearest_then_geodesic": {
            "distance_km_mean": float(fast.mean()),
            "within_15km": int((fast <= NEAR_KM).sum()),
            "max_abs_err_km": float(np.max(np.abs(fast - dist))),
            "max_rel_err_beyond_1km": float(np.max(rel[dist > 1.0])),
        },
    }
    R["readme_method_utm37n"] = readme_method(occupied, country, lon, lat)
    pq.write_table(pa.table({"lon": lon, "lat": lat, "inside": inside, "distance_km": dist}),
                   os.path.join(args.out_dir, "reference.parquet"))

    # ---- VIIRS 2026-06-25..29
    vt = pacsv.read_csv(os.path.join(args.data, "firms/viirs-nrt-2026-06-25_to_2026-06-29.csv"),
                        convert_options=pacsv.ConvertOptions(column_types={"acq_date": pa.string(), "acq_time": pa.string()}))
    vlon = vt.column("longitude").to_numpy()
    vlat = vt.column("latitude").to_numpy()
    vin = shapely.contains_xy(country, vlon, vlat)
    files = sorted(glob.glob(os.path.join(args.data, "deepstate/occupied-weekly-*/deepstatemap_data_*.geojson")))
    dated = [(re.search(r"(\d{8})", os.path.basename(f)).group(1), f) for f in files]
    want = VIIRS_FROM.replace("-", "")
    before = [x for x in dated if x[0] <= want]
    chosen = (before or dated)[-1]
    note = ("latest snapshot at or before %s" % VIIRS_FROM) if before else \
           ("no snapshot at or before %s; used the latest" % VIIRS_FROM)
    w = shapely.make_valid(shapely.geometry.shape(json.load(open(chosen[1]))["features"][0]["geometry"]))
    w_occ = as_multipolygon(shapely.intersection(shapely.force_2d(w), country))
    shapely.prepare(w_occ)
    vocc = shapely.contains_xy(w_occ, vlon[vin], vlat[vin])
    R["viirs"] = {
        "rows": vt.num_rows, "dates": sorted(set(vt.column("acq_date").to_pylist())),
        "inside_ukraine": int(vin.sum()),
        "snapshot": os.path.relpath(chosen[1], args.data), "snapshot_date": chosen[0],
        "snapshot_note": note + f"; snapshots span {dated[0][0]}..{dated[-1][0]}, so the one in force is {chosen[0]}",
        "inside_ukraine_and_occupied": int(vocc.sum()),
        "inside_ukraine_held_or_other": int(vin.sum() - vocc.sum()),
    }
    R["seconds"] = round(time.time() - T0, 1)
    R["readme_reference"] = {"contact_line_parts": 17, "contact_line_vertices": 870,
                             "contact_line_km": 999, "inside_occupied": 320868,
                             "within_15km": 115719, "distance_km_mean": 221.02}
    with open(args.json, "w") as f:
        json.dump(R, f, indent=2)
        f.write("\n")
    print(json.dumps(R, indent=2))


if __name__ == "__main__":
    main()
