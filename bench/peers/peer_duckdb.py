#!/usr/bin/env python3
"""Peer: DuckDB 1.5.5 + spatial extension (PyPI duckdb-extension-spatial 1.5.5).

The extension file ships inside the wheel at
duckdb_extension_spatial/extensions/v1.5.5/spatial.duckdb_extension; DuckDB
cannot download extensions here, so it is LOADed from that path with
allow_unsigned_extensions=true.  All threads (default = cores),
preserve_insertion_order=false (rows carry an id).

One SQL statement, COPY ... TO parquet:
(a) inside: ST_Contains(occupied, ST_Point(lon, lat)) against a one-row
    table (DuckDB spatial prepares the constant polygon: 0.3 s per 1.26 M).
(b) mode "geodesic": ST_ClosestPoint(line_in_LCC, ST_Transform(point)),
    back to WGS84 with ST_Transform, then ST_Distance_Spheroid (GeographicLib;
    it wants lat/lon axis order, hence ST_FlipCoordinates / ST_Point(lat, lon)).
    mode "lcc": ST_Distance(line_in_LCC, point_in_LCC) (native, not GEOS).
DuckDB spatial has no KNN/nearest join and ST_ClosestPoint is GEOS-backed
and unprepared, which dominates the geodesic mode.
"""

from __future__ import annotations

import glob
import json
import os

import duckdb
import duckdb_extension_spatial

from common import LCC, Timer, base_args, report


def extension_path():
    base = os.path.dirname(duckdb_extension_spatial.__file__)
    hits = glob.glob(os.path.join(base, "extensions", "v" + duckdb.__version__, "spatial.duckdb_extension")) \
        or glob.glob(os.path.join(base, "extensions", "*", "spatial.duckdb_extension"))
    if not hits:
        raise SystemExit(f"no spatial.duckdb_extension under {base}")
    return hits[0]


def geojson_geometry_text(path):
    obj = json.load(open(path))
    if obj.get("type") == "FeatureCollection":
        obj = obj["features"][0]
    if obj.get("type") == "Feature":
        obj = obj["geometry"]
    return json.dumps(obj)


def main():
    ap = base_args(__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=0, help="0 = DuckDB default (all cores)")
    args = ap.parse_args()
    tm = Timer()
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    con.execute(f"LOAD '{extension_path()}'")
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("CREATE TEMP TABLE occ AS SELECT ST_Force2D(ST_GeomFromGeoJSON(?)) AS g",
                [geojson_geometry_text(args.occupied)])
    con.execute(f"CREATE TEMP TABLE line AS SELECT ST_Transform(ST_Force2D(ST_GeomFromGeoJSON(?)), "
                f"'EPSG:4326', '{LCC}', always_xy := true) AS g", [geojson_geometry_text(args.line)])
    tm.mark("setup")
    if args.mode == "geodesic":
        dist = (f"ST_Distance_Spheroid(ST_Point(p.lat, p.lon), ST_FlipCoordinates(ST_Transform("
                f"ST_ClosestPoint(line.g, p.pp), '{LCC}', 'EPSG:4326', always_xy := true))) / 1000.0")
    else:
        dist = "ST_Distance(line.g, p.pp) / 1000.0"
    sql = f"""
    COPY (
      SELECT p.id,
             ST_Contains(occ.g, ST_Point(p.lon, p.lat)) AS inside,
             {dist} AS distance_km
      FROM (SELECT id, lon, lat,
                   ST_Transform(ST_Point(lon, lat), 'EPSG:4326', '{LCC}', always_xy := true) AS pp
            FROM read_parquet(?)) AS p, occ, line
    ) TO '{args.out.replace("'", "''")}' (FORMAT parquet)
    """
    con.execute(sql, [args.points])
    tm.mark("query+write")
    report("duckdb", args.mode, args, tm, {"duckdb": duckdb.__version__,
                                           "threads": con.execute("SELECT current_setting('threads')").fetchone()[0]})


if __name__ == "__main__":
    main()
