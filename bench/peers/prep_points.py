#!/usr/bin/env python3
"""Builds the benchmark inputs (untimed): points_1x.parquet and points_10x.parquet
(columns id, lon, lat, acq_date; 10x = the 1,263,651 rows stacked ten times,
ids 0..N-1 running on), and, with --csv10, one stacked CSV (LATITUDE,LONGITUDE,
ACQ_DATE, ten copies, rows byte-identical to the source files) for
`truce ingest`."""

from __future__ import annotations

import argparse
import glob
import os

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--csv-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--csv10", help="also write this stacked 10x CSV")
    ap.add_argument("--copies", type=int, default=10)
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.csv_dir, "ukr_fire_data_*.csv")))
    types = {"LATITUDE": pa.float64(), "LONGITUDE": pa.float64(), "ACQ_DATE": pa.date32()}
    t = pa.concat_tables([pacsv.read_csv(f, convert_options=pacsv.ConvertOptions(column_types=types))
                          for f in files])
    n = t.num_rows
    base = pa.table({"lon": t.column("LONGITUDE"), "lat": t.column("LATITUDE"), "acq_date": t.column("ACQ_DATE")})
    os.makedirs(args.out_dir, exist_ok=True)
    one = base.add_column(0, "id", pa.array(np.arange(n, dtype=np.int64)))
    pq.write_table(one, os.path.join(args.out_dir, "points_1x.parquet"), row_group_size=1 << 20)
    many = pa.concat_tables([base] * args.copies)
    many = many.add_column(0, "id", pa.array(np.arange(n * args.copies, dtype=np.int64)))
    pq.write_table(many, os.path.join(args.out_dir, f"points_{args.copies}x.parquet"), row_group_size=1 << 20)
    if args.csv10:  # byte-exact concatenation: one header, then every file's rows, ten times
        bodies = []
        for f in files:
            with open(f, "rb") as fh:
                header = fh.readline()
                body = fh.read()
            bodies.append(body if body.endswith(b"\n") or not body else body + b"\n")
        with open(args.csv10, "wb") as out:
            out.write(header)
            for _ in range(args.copies):
                for body in bodies:
                    out.write(body)
    print(f"{len(files)} files, {n:,} rows; {n * args.copies:,} rows stacked")


if __name__ == "__main__":
    main()
