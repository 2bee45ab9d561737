#!/usr/bin/env python3
"""Peer: GeoPandas / Shapely 2 (GEOS) + pyproj, vectorised.

(a) inside: shapely.prepare(occupied) + shapely.contains_xy(occupied, lon, lat)
    (prepared point-in-polygon straight on the coordinate arrays, no Point
    objects).
(b) distance: points projected to LCC (pyproj, vectorised), nearest segment
    of the contact line via shapely.STRtree.query_nearest over its ~870
    segments (node_capacity=2: 2.5x faster than the default 10 on this
    query), foot of the perpendicular in numpy; mode "geodesic": foot
    projected back and pyproj.Geod.inv (Karney) from the point to it;
    mode "lcc": planar distance to the foot.

GeoPandas' GeoSeries.within / .sindex.nearest are thin wrappers over these
same Shapely calls; calling Shapely directly skips the pandas overhead.
STRtree.query_nearest holds the GIL, so the distance part is split over
`--workers` forked processes (default: all cores) in chunks of --chunk points;
point-in-polygon runs in the parent meanwhile.
"""

from __future__ import annotations

import multiprocessing as mp
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import Geod, Transformer

from common import LCC, Timer, base_args, lcc_segments, load_geojson_geometry, report

G = {}


def _init_globals(lon, lat, segs, mode):
    G["lon"], G["lat"], G["segs"], G["mode"] = lon, lat, segs, mode


def _distance_chunk(bounds):
    s, e = bounds
    lon, lat, S = G["lon"][s:e], G["lat"][s:e], G["segs"]
    if "tree" not in G:
        G["tree"] = shapely.STRtree(shapely.linestrings(S.reshape(-1, 2, 2)), node_capacity=2)
        G["fwd"] = Transformer.from_crs("EPSG:4326", LCC, always_xy=True)
        G["inv"] = Transformer.from_crs(LCC, "EPSG:4326", always_xy=True)
        G["geod"] = Geod(ellps="WGS84")
    x, y = G["fwd"].transform(lon, lat)
    pts = shapely.points(x, y)
    ii, jj = G["tree"].query_nearest(pts, all_matches=False)
    j = np.empty(len(pts), dtype=np.int64)
    j[ii] = jj
    del pts
    ax, ay, bx, by = S[j, 0], S[j, 1], S[j, 2], S[j, 3]
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / np.where(L2 > 0, L2, 1.0), 0.0, 1.0)
    qx, qy = ax + t * dx, ay + t * dy
    if G["mode"] == "lcc":
        return np.hypot(x - qx, y - qy) / 1000.0
    qlon, qlat = G["inv"].transform(qx, qy)
    return G["geod"].inv(lon, lat, qlon, qlat)[2] / 1000.0


def main():
    ap = base_args(__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--chunk", type=int, default=500_000)
    args = ap.parse_args()
    tm = Timer()
    occ = load_geojson_geometry(args.occupied)
    line = load_geojson_geometry(args.line)
    segs = lcc_segments(line)
    t = pq.read_table(args.points, columns=["id", "lon", "lat"])
    ids = t.column("id").to_numpy()
    lon = t.column("lon").to_numpy()
    lat = t.column("lat").to_numpy()
    del t
    tm.mark("read")
    n = len(lon)
    w = max(1, args.workers)
    nchunks = w * -(-n // (w * args.chunk))  # a multiple of the workers, each <= --chunk
    bounds = [(i * n // nchunks, (i + 1) * n // nchunks) for i in range(nchunks)]
    _init_globals(lon, lat, segs, args.mode)
    if args.workers > 1:
        pool = mp.get_context("fork").Pool(args.workers)
        pending = pool.map_async(_distance_chunk, bounds, chunksize=1)
    shapely.prepare(occ)
    inside = shapely.contains_xy(occ, lon, lat)
    tm.mark("inside")
    if args.workers > 1:
        parts = pending.get()
        pool.close()
        pool.join()
    else:
        parts = [_distance_chunk(b) for b in bounds]
    dist = np.concatenate(parts)
    tm.mark("distance")
    pq.write_table(pa.table({"id": ids, "inside": inside, "distance_km": dist}), args.out)
    tm.mark("write")
    report("shapely", args.mode, args, tm, {"workers": args.workers, "rows": n})


if __name__ == "__main__":
    main()
