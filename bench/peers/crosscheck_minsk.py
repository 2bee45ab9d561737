#!/usr/bin/env python3
"""Independent Shapely 2 / pyproj cross-check of the Minsk-era UCDP figures (issue #5).

The 3,077 UCDP GED events of ../shared/data/ucdp/ged-ukraine-2014-01-22_to_2022-02-23.csv
placed against the ORDLO line of examples/minsk-2015.toml: events per month by side and
distance band, and the events in the Minsk security zone after the ceasefire.

Written without looking at truce's Rust code, from the semantics stated in issue #5 and
the method of crosscheck.py (whose geometry and distance helpers it imports: same
country mask, same 2 km border cut, same exact geodesic point-to-line distance).
Shapely 2 (GEOS), pyproj (PROJ + GeographicLib) and numpy only.

How each figure is computed
===========================

Country mask ("country")
    demo/data/admin/ukraine-oblasts.geojson (the agreement's `admin`), each of the 25
    oblasts make_valid'ed, then union_all (crosscheck.load_country): a MultiPolygon
    of 4 parts.

Occupied area ("occupied")
    demo/data/ordlo/ordlo-pre-2022-occupied-area.geojson (the agreement's only
    `occupied` file, in force from 2015-02-15T00:00+02:00 = 2015-02-14T22:00Z): one
    Polygon of 709 coordinates, no holes.  force_2d, make_valid, interior rings under
    0.1 km2 closed (there are none), intersected with the country, polygonal parts
    kept.

Contact line
    boundary(occupied) minus everything within 2 km of boundary(country) (the Russian
    border and the Azov coast), the 2 km zone a planar buffer in the Lambert conformal
    conic of crosscheck.py, densified to 200 m and taken back to lon/lat; then
    line_merge (crosscheck.contact_line).
    parts    = LineStrings after line_merge
    vertices = coordinates summed over the parts
    length   = sum of WGS84 geodesic lengths of the segments (Geod.geometry_length).

Time, snapshot and month of an event
    Each row's time is the interval [date_start 00:00Z, date_end + 1 day 00:00Z).
    Its MIDPOINT picks the snapshot: in force when midpoint >= 2015-02-14T22:00Z,
    otherwise there is no line.  The month of a row is the UTC month of that
    midpoint (a 2-day event of 31 Jan..1 Feb has its midpoint at 1 Feb 00:00Z and
    counts in February).

Side
    outside  : not shapely.contains_xy(country, lon, lat), whatever the date (the
               country outline does not depend on a snapshot; truce does the same);
    unknown  : inside the country, no line in force;
    occupied : inside the country and contains_xy(occupied, lon, lat);
    held     : otherwise.  (There is no contested area in this agreement.)

Distance (km)
    Only when a line is in force (also for `outside` points): the exact WGS84
    geodesic distance from the point to the nearest point of the contact line, each
    segment taken as the geodesic between its vertices (crosscheck.exact_distances,
    verified against a golden-section search), negative inside occupied.

Band
    By |distance|, edges 0,5,15,30,50,100 km, a band [lo, hi) closed below, open
    above ("held 5-15 km" holds 5 <= |d| < 15), prefixed by the sign: "occupied" for
    d < 0, "held" otherwise (so an `outside` point after the ceasefire gets a "held
    ..." band, as truce labels it); "held >100 km" beyond; "no line" without a
    line.  `band_edge_events` lists every event within 50 m of an edge (|d| to an
    edge < 0.05 km) or within 50 m of the occupied polygon's edge, where a tiny
    difference in geometry or distance method could move it: the tolerance a
    comparison would need.

Security zone after the ceasefire (events, not fused incidents)
    midpoint >= 2015-02-14T22:00Z, inside the country, |d| <= 15 km:
    `security_zone_after_ceasefire.events`.  Also by date_start >= the ceasefire
    (`by_start`), and the number of distinct (lon, lat, day) triples among them, a
    lower bound on what any fusion of same-place same-day events would leave.

Output
    bench/peers/crosscheck_minsk.json (--json): contact line, per month x side x
    band counts (`monthly`, as [month, side, band, count] rows sorted like truce's
    CSV), totals per side and per band, the security-zone counts, the near-edge
    events.  --per-event PATH also writes one CSV row per event (row, month, side,
    distance_km, band).

Usage: crosscheck_minsk.py [--data ../shared/data] [--json PATH] [--per-event CSV]
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import json
import os
import sys
import time

import numpy as np
import shapely

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import crosscheck as cc  # noqa: E402  (geometry and distance helpers, no side effects)

ROOT = cc.ROOT
UCDP = "ucdp/ged-ukraine-2014-01-22_to_2022-02-23.csv"
ORDLO = os.path.join(ROOT, "demo/data/ordlo/ordlo-pre-2022-occupied-area.geojson")
ADMIN_DIR = os.path.join(ROOT, "demo/data")  # holds admin/ukraine-oblasts.geojson
LINE_FROM = dt.datetime(2015, 2, 14, 22, 0, tzinfo=dt.timezone.utc)  # 2015-02-15T00:00+02:00
EDGES = [0.0, 5.0, 15.0, 30.0, 50.0, 100.0]
ZONE_KM = 15.0
NEAR_EDGE_KM = 0.05


def band_label(d):
    if d is None:
        return "no line"
    side = "occupied" if d < 0 else "held"
    a = abs(d)
    for lo, hi in zip(EDGES[:-1], EDGES[1:]):
        if lo <= a < hi:
            return f"{side} {lo:g}-{hi:g} km"
    return f"{side} >{EDGES[-1]:g} km"


def read_events(path):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            s = dt.datetime.fromisoformat(r["date_start"]).replace(tzinfo=dt.timezone.utc)
            e = dt.datetime.fromisoformat(r["date_end"]).replace(tzinfo=dt.timezone.utc) + dt.timedelta(days=1)
            rows.append({"id": r["id"], "start": s, "end": e, "mid": s + (e - s) / 2,
                         "lon": float(r["longitude"]), "lat": float(r["latitude"])})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "data"))
    ap.add_argument("--json", default=os.path.join(HERE, "crosscheck_minsk.json"))
    ap.add_argument("--per-event", help="also write one CSV row per event here")
    args = ap.parse_args()
    T0 = time.time()
    R: dict = {"issue": 5, "agreement": "examples/minsk-2015.toml", "tools": {
        "shapely": shapely.__version__, "geos": shapely.geos_version_string,
        "pyproj": __import__("pyproj").__version__, "numpy": np.__version__}}

    # ---- geometry
    country, n_obl, invalid = cc.load_country(ADMIN_DIR)
    fc = json.load(open(ORDLO))
    src = [shapely.force_2d(shapely.geometry.shape(f["geometry"])) for f in fc["features"]]
    union = shapely.union_all([shapely.make_valid(g) for g in src])
    closed_mp, closed, kept = cc.close_small_holes(union, cc.HOLE_MAX_KM2)
    occupied = cc.as_multipolygon(shapely.intersection(closed_mp, country))
    line = cc.contact_line(occupied, country)
    parts, nv, km = cc.line_stats(line)
    R["country"] = {"oblasts": n_obl, "invalid_repaired": invalid, "parts": len(country.geoms)}
    R["occupied"] = {
        "file": os.path.relpath(ORDLO, ROOT), "in_force_from": LINE_FROM.isoformat(),
        "source_coordinates": int(sum(shapely.get_num_coordinates(g) for g in src)),
        "holes_closed": len(closed), "parts": len(occupied.geoms),
        "area_km2": round(sum(cc.geodesic_area_km2(p) for p in occupied.geoms), 1),
        "source_area_outside_country_km2": round(
            sum(cc.geodesic_area_km2(p) for p in cc.polygons_of(shapely.difference(closed_mp, country))), 2),
    }
    R["contact_line"] = {"border_tolerance_m": cc.BORDER_TOL_M, "parts": parts, "vertices": nv,
                         "length_km": round(km, 3)}
    cc.log(f"geometry ({time.time() - T0:.1f}s): contact line {parts} parts, {nv} vertices, {km:.2f} km")

    # ---- events
    ev = read_events(os.path.join(args.data, UCDP))
    n = len(ev)
    lon = np.array([e["lon"] for e in ev])
    lat = np.array([e["lat"] for e in ev])
    shapely.prepare(country)
    shapely.prepare(occupied)
    in_country = shapely.contains_xy(country, lon, lat)
    in_occ = shapely.contains_xy(occupied, lon, lat)
    on_edge = shapely.intersects_xy(occupied, lon, lat) & ~in_occ
    in_force = np.array([e["mid"] >= LINE_FROM for e in ev])
    dist = np.full(n, np.nan)
    idx = np.nonzero(in_force)[0]
    d, _, _, _, verify, nverify = cc.exact_distances(lon[idx], lat[idx], line, chunk=2000,
                                                     verify_n=2000, quiet=True)
    dist[idx] = np.where(in_occ[idx], -d, d)
    # exact distance of every in-force point to the occupied polygon's whole outline
    outline = shapely.MultiLineString([r for p in occupied.geoms for r in [p.exterior, *p.interiors]])
    to_poly_km = np.full(n, np.nan)
    to_poly_km[idx] = cc.exact_distances(lon[idx], lat[idx], outline, chunk=2000, verify_n=0, quiet=True)[0]

    side, band, month = [], [], []
    for i, e in enumerate(ev):
        if not in_country[i]:
            s = "outside"
        elif not in_force[i]:
            s = "unknown"
        else:
            s = "occupied" if in_occ[i] else "held"
        side.append(s)
        band.append(band_label(float(dist[i]) if in_force[i] else None))
        month.append(e["mid"].strftime("%Y-%m"))

    monthly = collections.Counter(zip(month, side, band))
    R["events"] = {
        "file": UCDP, "rows": n,
        "in_force_rows": int(in_force.sum()),
        "on_polygon_boundary": int(on_edge.sum()),
        "multi_day_rows": int(sum(1 for e in ev if e["end"] - e["start"] > dt.timedelta(days=1))),
        "distance_method": "exact geodesic (WGS84) to the contact line's geodesic segments (crosscheck.exact_distances)",
        "verify_pairs": int(nverify), "verify_max_abs_diff_km": verify,
        "by_side": dict(sorted(collections.Counter(side).items())),
        "by_band": dict(sorted(collections.Counter(band).items())),
        "within_15km": int(np.sum(np.abs(dist[in_force]) <= ZONE_KM)),
        "distance_km_mean_abs": float(np.nanmean(np.abs(dist))),
    }
    R["monthly"] = [[m, s, b, c] for (m, s, b), c in sorted(monthly.items())]

    # ---- security zone after the ceasefire (events, not incidents)
    zone = in_force & in_country & (np.abs(np.nan_to_num(dist, nan=np.inf)) <= ZONE_KM)
    by_start = np.array([e["start"] >= LINE_FROM for e in ev]) & in_country & \
        (np.abs(np.nan_to_num(dist, nan=np.inf)) <= ZONE_KM)
    triples = {(lon[i], lat[i], ev[i]["start"], ev[i]["end"]) for i in np.nonzero(zone)[0]}
    R["security_zone_after_ceasefire"] = {
        "rule": "midpoint >= 2015-02-14T22:00Z, inside the country, |d| <= 15 km",
        "events": int(zone.sum()),
        "held": int((zone & ~in_occ).sum()), "occupied": int((zone & in_occ).sum()),
        "by_start": int(by_start.sum()),
        "distinct_place_and_interval": len(triples),
        "in_force_events_inside_country": int((in_force & in_country).sum()),
        "in_force_events_outside_zone": int((in_force & in_country & ~zone).sum()),
    }

    # ---- events a small geometric difference could move
    near = []
    for i in idx:
        a = abs(dist[i])
        edge = min(abs(a - x) for x in EDGES[1:])
        to_poly = float(to_poly_km[i])
        if edge < NEAR_EDGE_KM or to_poly < NEAR_EDGE_KM:
            near.append({"id": ev[i]["id"], "lon": lon[i], "lat": lat[i], "distance_km": round(float(dist[i]), 5),
                         "band": band[i], "km_to_band_edge": round(edge, 5),
                         "km_to_polygon_edge": round(to_poly, 5)})
    R["band_edge_events"] = near
    R["seconds"] = round(time.time() - T0, 1)

    if args.per_event:
        with open(args.per_event, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "month", "side", "distance_km", "band"])
            for i, e in enumerate(ev):
                w.writerow([e["id"], month[i], side[i], "" if np.isnan(dist[i]) else f"{dist[i]:.6f}", band[i]])
    with open(args.json, "w") as f:
        json.dump(R, f, indent=1)
        f.write("\n")
    out = {k: v for k, v in R.items() if k != "monthly"}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
