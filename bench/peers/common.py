"""Shared helpers for the peer benchmark scripts (not timed themselves)."""

from __future__ import annotations

import json
import os
import sys
import time

# Lambert conformal conic centred on Ukraine.  Scale factor 0.9986..1.0034 over
# 21-42E / 43.5-53.5N, so a planar distance in it is within 0.14 % of the
# geodesic one for these data (see crosscheck.py), and its nearest point is a
# near-perfect stand-in for the geodesic nearest point (0.06 % worst case once
# the distance is re-measured geodesically).
LCC = "+proj=lcc +lat_1=45 +lat_2=51 +lat_0=48 +lon_0=31 +ellps=WGS84 +units=m +no_defs"

MODES = {
    "geodesic": "nearest point on the line in LCC, then WGS84 geodesic distance to it",
    "lcc": "planar distance in LCC (within 0.14 % of geodesic here)",
}


def load_geojson_geometry(path):
    """The single geometry of a GeoJSON file (FeatureCollection, Feature or bare geometry)."""
    import shapely

    with open(path) as f:
        obj = json.load(f)
    if obj.get("type") == "FeatureCollection":
        geoms = [shapely.geometry.shape(ft["geometry"]) for ft in obj["features"] if ft.get("geometry")]
        g = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
    elif obj.get("type") == "Feature":
        g = shapely.geometry.shape(obj["geometry"])
    else:
        g = shapely.geometry.shape(obj)
    return shapely.force_2d(g)


def lcc_segments(line_lonlat):
    """(n, 4) array ax, ay, bx, by of the line's segments in LCC metres."""
    import numpy as np
    import shapely
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", LCC, always_xy=True)
    out = []
    for part in shapely.get_parts(line_lonlat):
        c = shapely.get_coordinates(part)
        x, y = tr.transform(c[:, 0], c[:, 1])
        p = np.column_stack([x, y])
        out.append(np.hstack([p[:-1], p[1:]]))
    return np.vstack(out)


class Timer:
    def __init__(self):
        self.t0 = time.perf_counter()
        self.marks = {}

    def mark(self, name):
        self.marks[name] = round(time.perf_counter() - self.t0, 3)

    def total(self):
        return round(time.perf_counter() - self.t0, 3)


def report(peer, mode, args, timer, extra=None):
    rec = {"peer": peer, "mode": mode, "points": os.path.abspath(args.points),
           "out": os.path.abspath(args.out), "job_s": timer.total(), "phases_s": timer.marks}
    rec.update(extra or {})
    print("RESULT " + json.dumps(rec), flush=True)


def base_args(description):
    import argparse

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--points", required=True, help="parquet with id, lon, lat")
    ap.add_argument("--occupied", required=True, help="occupied.geojson (one MultiPolygon)")
    ap.add_argument("--line", required=True, help="contact_line.geojson (one MultiLineString)")
    ap.add_argument("--out", required=True, help="output parquet: id, inside, distance_km")
    ap.add_argument("--mode", choices=sorted(MODES), default="geodesic")
    return ap


def log(*a):
    print(*a, file=sys.stderr, flush=True)
