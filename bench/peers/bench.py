#!/usr/bin/env python3
"""Driver of the peer benchmark: runs every tool on the same inputs, measures,
checks agreement, prints a markdown table and writes bench/out/peers.{md,json}.

Each timed job runs in its own process.  Measured per job:
  wall      time of the whole process (start to exit), via time.perf_counter
            around subprocess; the peers also report their in-process job time
            (read -> compute -> write parquet, no interpreter start or imports)
  peak mem  max over (a) the job's peak RSS from GNU time -f %M (exact, main
            process) and (b) the summed PSS of its whole process tree
            sampled every 20 ms from /proc/*/smaps_rollup (so forked workers
            count, shared pages once)
Summaries (rows, inside, mean distance, within 15 km) are computed by this
driver from each tool's output parquet, untimed; for truce they are taken
from `truce summary --json` (by_side.occupied, distance_km_mean_abs,
within_15km) and checked against its classified.parquet.  At 1x every output
is also compared point by point (peers joined on id, truce by input order
when its lon/lat columns match the input) with exact values on the geometry
the tools were given: inside flags for all points, and geodesic distances
(crosscheck.py's exact method) for a seeded 100,000-point sample.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

import numpy as np
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = ["shapely", "duckdb", "sedonadb"]
NEAR_KM = 15.0


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------ measurement

def _tree_pss_kb(root):
    """Summed proportional set size (kB) of root and all its descendants.

    PSS splits pages shared between processes (forked workers) among them, so
    the sum is the tree's real footprint, not a multiple of it."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            children.setdefault(int(st[st.rfind(")") + 2:].split()[1]), []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    total, stack = 0, [root]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


GNU_TIME = "/usr/bin/time"


def run_measured(cmd, cwd=None, env=None):
    """Runs cmd; returns dict(rc, wall_s, peak_rss_mb, stdout, stderr).

    The command runs under GNU time when present: a child forked straight from
    this (large) driver would inherit the driver's RSS high-water mark in its
    ru_maxrss (Linux keeps it across exec), a child of the small `time`
    process does not."""
    import tempfile

    hwm_file = None
    if os.path.exists(GNU_TIME):
        fd, hwm_file = tempfile.mkstemp(prefix="maxrss.")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", hwm_file, *cmd]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sampler():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_pss_kb(p.pid))
            done.wait(0.02)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    out_chunks, err_chunks = [], []
    t_out = threading.Thread(target=lambda: out_chunks.append(p.stdout.read()), daemon=True)
    t_err = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()), daemon=True)
    t_out.start()
    t_err.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    t_out.join()
    t_err.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    maxrss_kb = 0
    if hwm_file:
        try:
            with open(hwm_file) as f:
                maxrss_kb = int(f.read().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            pass
        os.remove(hwm_file)
    return {"rc": p.returncode, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
            "peak_rss_mb": max(maxrss_kb, peak[0]) / 1024.0, "maxrss_mb": maxrss_kb / 1024.0,
            "tree_pss_mb": peak[0] / 1024.0,
            "stdout": "".join(out_chunks), "stderr": "".join(err_chunks)}


def result_line(stdout):
    for line in stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {}


# ------------------------------------------------------------ summaries

def per_point(s, inside, dist, ref):
    """inside (all points) and |distance| (the sample) against the exact values
    on the geometry the tools used; arrays in input order."""
    s["inside_mismatch"] = int((inside != ref["inside_used"]).sum())
    ex = ref["sample_exact"]
    diff = np.abs(np.abs(dist[ref["sample"]]) - ex)
    far = ex > 1.0
    s["sample_max_abs_diff_km"] = float(diff.max())
    s["sample_max_rel_diff"] = float((diff[far] / ex[far]).max())


def summarise_peer_output(path, ref=None):
    t = pq.read_table(path, columns=["id", "inside", "distance_km"])
    ids = t.column("id").to_numpy()
    inside = t.column("inside").to_numpy(zero_copy_only=False)
    d = t.column("distance_km").to_numpy()
    s = {"rows": int(len(ids)), "inside": int(inside.sum()), "distance_km_mean": float(d.mean()),
         "within_15km": int((np.abs(d) <= NEAR_KM).sum())}
    if ref is not None and len(ids) == len(ref["lon"]):
        o = np.argsort(ids, kind="stable")
        if np.array_equal(ids[o], np.arange(len(ids))):
            per_point(s, inside[o], d[o], ref)
    return s


def summarise_truce_output(path, ref=None):
    """From classified.parquet (side, distance_km; lon/lat if present)."""
    try:
        schema = pq.read_schema(path)
    except Exception as e:  # noqa: BLE001
        return {"error": f"cannot read {path}: {e}"}
    cols = [c for c in ("side", "distance_km", "lon", "lat") if c in schema.names]
    if "side" not in cols or "distance_km" not in cols:
        return {"error": f"classified.parquet lacks side/distance_km (has {schema.names})"}
    t = pq.read_table(path, columns=cols)
    side = t.column("side").cast("string").to_numpy(zero_copy_only=False).astype(object)
    d = t.column("distance_km").to_numpy(zero_copy_only=False).astype(float)
    vals, counts = np.unique(side.astype(str), return_counts=True)
    s = {"rows": int(t.num_rows), "by_side": {str(v): int(c) for v, c in zip(vals, counts)},
         "inside": int((side == "occupied").sum()),
         "distance_km_mean": float(np.nanmean(np.abs(d))),
         "within_15km": int((np.abs(d) <= NEAR_KM).sum()),
         "distance_nan": int(np.isnan(d).sum())}
    if ref is not None and "lon" in cols and "lat" in cols and t.num_rows == len(ref["lon"]):
        lon = t.column("lon").to_numpy()
        lat = t.column("lat").to_numpy()
        if np.array_equal(lon, ref["lon"]) and np.array_equal(lat, ref["lat"]):
            per_point(s, side == "occupied", d, ref)
            s["negative_distance_iff_occupied"] = float(((d < 0) == (side == "occupied")).mean())
        else:
            s["note"] = "row order differs from the input; no per-point comparison"
    return s


# ------------------------------------------------------------ jobs

class Job:
    """One timed command (a peer in one mode, or truce classify) at one size."""

    def __init__(self, args, tool, mode, size, rows, points):
        self.args, self.tool, self.mode, self.size, self.rows, self.points = args, tool, mode, size, rows, points
        self.runs, self.note, self.scale = [], "", 1.0
        tag = f"{tool}_{mode}_{size}"
        if tool == "truce":
            self.out = os.path.join(args.tmp, f"classified_{size}.parquet")
            self.cmd = [args.truce, "classify", points, "--control", args.control, "--admin", args.admin,
                        "--at", args.at, "--out", self.out]
            self.cwd = args.root
        else:
            self.out = os.path.join(args.tmp, f"out_{tag}.parquet")
            self.cmd = [sys.executable, os.path.join(HERE, f"peer_{tool}.py"), "--points", points,
                        "--occupied", args.occupied, "--line", args.line, "--out", self.out, "--mode", mode]
            self.cwd = HERE

    def run(self, label):
        m = run_measured(self.cmd, cwd=self.cwd)
        if m["rc"] != 0:
            raise RuntimeError(f"{self.tool} {self.mode} {self.size} failed (rc {m['rc']}):\n{m['stderr'][-3000:]}")
        m["result"] = result_line(m["stdout"])
        job = f" (job {m['result']['job_s']:.2f}s)" if "job_s" in m["result"] else ""
        log(f"  {self.tool:9s} {self.mode:8s} {self.size:>3s} {label}: wall {m['wall_s']:.2f}s{job}, "
            f"cpu {m['cpu_s']:.1f}s, peak {m['peak_rss_mb']:,.0f} MB, load {os.getloadavg()[0]:.1f}")
        del m["stdout"]
        self.runs.append(m)

    def record(self, ref):
        walls = [r["wall_s"] for r in self.runs]
        wall = statistics.median(walls) * self.scale
        use_ref = ref if (self.size == "1x" and self.scale == 1.0) else None
        if self.tool == "truce":
            summary = truce_summary(self.args, self.out, use_ref)
        else:
            summary = summarise_peer_output(self.out, use_ref)
        if self.scale != 1.0:
            for key in ("rows", "inside", "within_15km"):
                if isinstance(summary.get(key), int):
                    summary[key] = int(round(summary[key] * self.scale))
        rec = {"tool": self.tool, "mode": self.mode, "size": self.size, "rows": self.rows,
               "runs": len(self.runs), "wall_s": wall, "walls_s": walls, "wall_min_s": min(walls) * self.scale,
               "cpu_s": statistics.median([r["cpu_s"] for r in self.runs]) * self.scale,
               "points_per_s": self.rows / wall, "peak_rss_mb": max(r["peak_rss_mb"] for r in self.runs),
               "summary": summary, "note": self.note}
        if self.runs[-1]["result"]:
            rec["job_s"] = statistics.median([r["result"].get("job_s", float("nan")) for r in self.runs]) * self.scale
            rec["phases_s"] = self.runs[-1]["result"].get("phases_s")
        if not self.args.keep and os.path.exists(self.out):
            os.remove(self.out)
        return rec


def truce_summary(args, out, ref):
    sm = subprocess.run([args.truce, "summary", out, "--json"], cwd=args.root, capture_output=True, text=True)
    ts = None
    if sm.returncode == 0:
        txt = sm.stdout.strip()
        for cand in (txt.splitlines()[-1] if txt else "null", txt):
            try:
                ts = json.loads(cand)
                break
            except json.JSONDecodeError:
                ts = {"unparsed": txt[-2000:]}
    else:
        ts = {"error": sm.stderr[-2000:]}
    summary = summarise_truce_output(out, ref)
    summary["truce_summary"] = ts
    if isinstance(ts, dict) and "by_side" in ts:
        summary["inside"] = int(ts["by_side"].get("occupied", 0))
        if "distance_km_mean_abs" in ts:
            summary["distance_km_mean"] = float(ts["distance_km_mean_abs"])
        if "within_15km" in ts:
            summary["within_15km"] = int(ts["within_15km"])
        if "rows" in ts:
            summary["rows"] = int(ts["rows"])
    return summary


def truce_ingest(args, files, out):
    m = run_measured([args.truce, "ingest", *files, "--out", out], cwd=args.root)
    if m["rc"] != 0:
        raise RuntimeError(f"truce ingest failed (rc {m['rc']}):\n{m['stderr'][-3000:]}")
    log(f"  truce ingest -> {os.path.basename(out)}: wall {m['wall_s']:.2f}s, peak {m['peak_rss_mb']:,.0f} MB")
    return {"wall_s": m["wall_s"], "cpu_s": m["cpu_s"], "peak_rss_mb": m["peak_rss_mb"]}


# ------------------------------------------------------------ report

def fmt_int(x):
    return f"{x:,}" if isinstance(x, int) else "-"


def agreement(recs, ref_stats, tol_inside, tol_mean, tol_point):
    """Every record against the exact figures (and so against each other):
    inside count vs the exact count on the geometry used, mean distance vs the
    cross-check's exact mean, and at 1x the worst per-point distance error
    (beyond 1 km) on the sample."""
    lines, ok_all = [], True
    for r in recs:
        s = r["summary"]
        k = r["rows"] // ref_stats["rows"]
        d_in = s.get("inside", -10**9) - ref_stats["inside_used"] * k
        rel_mean = s.get("distance_km_mean", float("nan")) / ref_stats["distance_km_mean"] - 1
        ok = abs(d_in) <= tol_inside * k and abs(rel_mean) <= tol_mean and s.get("rows") == r["rows"]
        if "sample_max_rel_diff" in s:
            ok = ok and s["sample_max_rel_diff"] <= tol_point and s["inside_mismatch"] <= tol_inside
        ok_all &= ok
        lines.append((r, d_in, rel_mean, ok))
    return ok_all, lines


def render(res, args):
    ref = res["reference"]
    g = res["geometry"]
    out = []
    out.append("# Peer benchmark: classify (inside occupied territory + distance to the contact line)\n")
    out.append(f"Date {args.at}; {ref['rows']:,} FIRMS points (1x) and the same stacked 10 times (10x).  "
               f"Geometry: `{res['geometry_source']}` (contact line {g['used']['parts']} parts, "
               f"{g['used']['vertices']} vertices, {g['used']['length_km']:.2f} km geodesic; crosscheck.py's: "
               f"{g['crosscheck']['parts']} / {g['crosscheck']['vertices']} / {g['crosscheck']['length_km']:.2f} km).  "
               f"Machine: {res['machine']}.  Load average (1/5/15 min) at start: {res['loadavg_start']}, "
               f"at end: {res.get('loadavg_end', '?')}.\n")
    out.append("1x jobs run round-robin (every tool's run 1, then every tool's run 2, ...), so that other "
               "load on the machine falls on all tools alike; 10x jobs run once each.  "
               "wall = whole process (start to exit), median of the runs; pts/s = rows / wall; "
               "cpu s = user + system CPU time of the process and its children (median; less sensitive to "
               "other load than wall); "
               "peak MB = max of the main process's peak RSS (GNU time) and its process tree's summed PSS "
               "(sampled every 20 ms); `x best` = this tool's figure / the best peer's for the same size and "
               "distance method (truce is compared with the geodesic peers; below 1 = better than every peer).  "
               "inside, mean and <=15 km are read from each tool's output file.  Exact figures "
               f"(crosscheck.py, geodesic): inside {ref['inside']:,}, mean {ref['distance_km_mean']:.4f} km, "
               f"<=15 km {ref['within_15km']:,}; on the geometry used: inside {ref['inside_used']:,}.  "
               f"max err = worst |distance - exact| over a sample of {ref['sample_n']:,} points, exact "
               "geodesic distances computed on the geometry used (1x only).\n")
    for fam, title in (("geodesic", "Geodesic distance (peers: nearest point in LCC, then WGS84 geodesic)"),
                       ("lcc", "Planar LCC distance (peers only): the cheapest method within the 0.5 % bound")):
        rows = [r for r in res["records"] if r["mode"] == fam or (r["tool"] == "truce" and fam == "geodesic")]
        if not any(r["tool"] != "truce" for r in rows) and fam != "geodesic":
            continue
        out.append(f"\n## {title}\n")
        out.append("| tool | size | runs | wall s | pts/s | cpu s | peak MB | x best wall | x best cpu | x best mem | "
                   "inside | mean km | <=15 km | max err km | max err % (>1 km) | note |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for size in ("1x", "10x"):
            sel = [r for r in rows if r["size"] == size]
            peers = [r for r in sel if r["tool"] != "truce"]
            best_t = min((r["wall_s"] for r in peers), default=float("nan"))
            best_m = min((r["peak_rss_mb"] for r in peers), default=float("nan"))
            best_c = min((r["cpu_s"] for r in peers), default=float("nan"))
            for r in sorted(sel, key=lambda r: (r["tool"] != "truce", r["wall_s"])):
                s = r["summary"]
                me = s.get("sample_max_abs_diff_km")
                mr = s.get("sample_max_rel_diff")
                out.append(
                    f"| {r['tool']} | {size} | {r['runs']} | {r['wall_s']:.2f} | "
                    f"{r['points_per_s']:,.0f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:,.0f} | "
                    f"{r['wall_s'] / best_t:.2f} | {r['cpu_s'] / best_c:.2f} | "
                    f"{r['peak_rss_mb'] / best_m:.2f} | {fmt_int(s.get('inside'))} | "
                    f"{s.get('distance_km_mean', float('nan')):.4f} | {fmt_int(s.get('within_15km'))} | "
                    f"{'-' if me is None else f'{me:.4f}'} | {'-' if mr is None else f'{mr * 100:.3f}'} | "
                    f"{r.get('note', '')} |")
    if res.get("truce_ingest"):
        out.append("\ntruce ingest (untimed in the table above): " + ", ".join(
            f"{k} {v['wall_s']:.2f} s, peak {v['peak_rss_mb']:,.0f} MB" for k, v in res["truce_ingest"].items()))
    t1 = [r for r in res["records"] if r["tool"] == "truce" and r["size"] == "1x"]
    if t1 and "by_side" in t1[0]["summary"]:
        out.append(f"\ntruce sides at 1x: {t1[0]['summary']['by_side']}")
    if res.get("truce_skipped"):
        out.append(f"\ntruce: skipped ({res['truce_skipped']}).")
    if res.get("failed"):
        out.append(f"\nFAILED jobs: {', '.join(res['failed'])} (see stderr).")
    out.append("\n## Agreement\n")
    out.append(f"Every tool: inside count equal to the exact count on the geometry used (tolerance "
               f"{res['tol_inside']} points; no point lies on the boundary), mean distance within "
               f"{res['tol_mean'] * 100:.1f} % of the exact mean, and at 1x every sampled distance beyond 1 km within "
               f"{res['tol_point'] * 100:.1f} % of the exact one.\n")
    for r, d_in, rel, ok in res["agreement_lines"]:
        s = r["summary"]
        extra = ""
        if "sample_max_rel_diff" in s:
            extra = (f"; per point: {s['inside_mismatch']} inside mismatches, worst distance error "
                     f"{s['sample_max_abs_diff_km']:.4f} km / {s['sample_max_rel_diff'] * 100:.3f} %")
        out.append(f"- {'OK  ' if ok else 'FAIL'} {r['tool']} {r['mode']} {r['size']}: inside {d_in:+d}, "
                   f"mean {rel * 100:+.4f} %{extra}")
    out.append(f"\nAll agree: **{'yes' if res['all_agree'] else 'NO'}**\n")
    return "\n".join(out)


def line_stats(path):
    import shapely
    from pyproj import Geod

    from common import load_geojson_geometry

    g = load_geojson_geometry(path)
    parts = list(shapely.get_parts(g))
    geod = Geod(ellps="WGS84")
    return {"parts": len(parts), "vertices": int(sum(len(p.coords) for p in parts)),
            "length_km": sum(geod.geometry_length(p) for p in parts) / 1e3}


def exact_on_used_geometry(args, lon, lat, sample_n):
    """Inside flags (all points) and exact geodesic distances (a seeded sample)
    on the geometry the tools are given, with crosscheck.py's method."""
    import shapely

    import crosscheck
    from common import load_geojson_geometry

    occ = load_geojson_geometry(args.occupied)
    shapely.prepare(occ)
    inside = shapely.contains_xy(occ, lon, lat)
    line = load_geojson_geometry(args.line)
    if line.geom_type == "LineString":
        line = shapely.MultiLineString([line])
    sample = np.sort(np.random.default_rng(0).choice(len(lon), size=min(sample_n, len(lon)), replace=False))
    exact = crosscheck.exact_distances(lon[sample], lat[sample], line, verify_n=0, quiet=True)[0]
    return inside, sample, exact


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, help="repository root (truce runs there)")
    ap.add_argument("--occupied", required=True)
    ap.add_argument("--line", required=True)
    ap.add_argument("--geometry-source", default="?")
    ap.add_argument("--points1", required=True)
    ap.add_argument("--points10", required=True)
    ap.add_argument("--reference", required=True, help="reference.parquet from crosscheck.py")
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--modes", default="geodesic,lcc")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lcc-sizes", default="1x", help="sizes run in the lcc mode (1x or 1x,10x)")
    ap.add_argument("--sizes", default="1x,10x", help="sizes run in the geodesic mode and for truce")
    ap.add_argument("--lcc-repeats", type=int, default=1, help="runs per 1x job in the lcc mode")
    ap.add_argument("--max-10x-s", type=float, default=240.0,
                    help="if 10 x a peer's 1x wall exceeds this, run 10x on a 1/10 subsample and extrapolate")
    ap.add_argument("--truce", default="", help="truce binary ('' = skip)")
    ap.add_argument("--truce-skip-reason", default="")
    ap.add_argument("--control", default="")
    ap.add_argument("--admin", default="")
    ap.add_argument("--at", default="2023-06-29")
    ap.add_argument("--csv", nargs="*", default=[])
    ap.add_argument("--csv10", default="")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--sample", type=int, default=100_000, help="points with exact distances for per-point checks")
    args = ap.parse_args()
    os.makedirs(args.tmp, exist_ok=True)
    os.makedirs(args.out_dir, exist_ok=True)

    rt = pq.read_table(args.reference)
    ref = {"lon": rt.column("lon").to_numpy(), "lat": rt.column("lat").to_numpy()}
    ref_inside = rt.column("inside").to_numpy(zero_copy_only=False)
    ref_dist = rt.column("distance_km").to_numpy()
    n1 = pq.read_metadata(args.points1).num_rows
    n10 = pq.read_metadata(args.points10).num_rows
    assert n1 == rt.num_rows, (n1, rt.num_rows)
    log(f"exact figures on the geometry used ({args.sample:,}-point sample) ...")
    ref["inside_used"], ref["sample"], ref["sample_exact"] = exact_on_used_geometry(
        args, ref["lon"], ref["lat"], args.sample)
    ref_stats = {"rows": rt.num_rows, "inside": int(ref_inside.sum()),
                 "distance_km_mean": float(ref_dist.mean()),
                 "within_15km": int((ref_dist <= NEAR_KM).sum()),
                 "inside_used": int(ref["inside_used"].sum()), "sample_n": int(len(ref["sample"]))}
    del rt, ref_inside, ref_dist
    cpu = "?"
    try:
        cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
    except (OSError, IndexError):
        pass
    res = {"at": args.at, "reference": ref_stats, "geometry_source": args.geometry_source,
           "machine": f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}",
           "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
           "geometry": {"used": line_stats(args.line),
                        "crosscheck": line_stats(os.path.join(os.path.dirname(args.reference), "contact_line.geojson"))},
           "records": [], "tol_inside": 0, "tol_mean": 0.005, "tol_point": 0.005}
    T0 = time.perf_counter()

    # ---- build the job list (truce first: its ingest is timed separately)
    sizes = args.sizes.split(",")
    jobs1, jobs10 = [], []
    if args.truce:
        log("truce ingest:")
        try:
            obs1 = os.path.join(args.tmp, "obs_1x.parquet")
            res["truce_ingest"] = {"1x": truce_ingest(args, args.csv, obs1)}
            if "1x" in sizes:
                jobs1.append(Job(args, "truce", "truce", "1x", n1, obs1))
            if args.csv10 and "10x" in sizes:
                obs10 = os.path.join(args.tmp, "obs_10x.parquet")
                res["truce_ingest"]["10x"] = truce_ingest(args, [args.csv10], obs10)
                jobs10.append(Job(args, "truce", "truce", "10x", n10, obs10))
        except Exception as e:  # noqa: BLE001
            log(f"truce failed: {e}")
            res["truce_skipped"] = f"failed: {str(e)[:500]}"
    else:
        res["truce_skipped"] = args.truce_skip_reason or "no binary"
        log(f"truce: skipped ({res['truce_skipped']})")
    for mode in args.modes.split(","):
        msizes = sizes if mode == "geodesic" else args.lcc_sizes.split(",")
        for peer in args.peers.split(","):
            if "1x" in msizes:
                jobs1.append(Job(args, peer, mode, "1x", n1, args.points1))
            if "10x" in msizes:
                jobs10.append(Job(args, peer, mode, "10x", n10, args.points10))

    # ---- 1x: round robin, so that other load on the machine hits every tool alike
    failed = set()
    for i in range(args.repeats):
        log(f"1x round {i + 1}/{args.repeats}:")
        for j in jobs1:
            if j in failed or (j.mode == "lcc" and i >= args.lcc_repeats):
                continue
            try:
                j.run(f"run {i + 1}")
            except Exception as e:  # noqa: BLE001
                log(f"  FAILED: {e}")
                failed.add(j)
    # ---- 10x: one run each; a peer far too slow runs the 1/10 subsample and is extrapolated
    log("10x:")
    for j in jobs10:
        one = next((x for x in jobs1 if (x.tool, x.mode) == (j.tool, j.mode) and x.runs), None)
        if one and j.tool != "truce" and statistics.median(r["wall_s"] for r in one.runs) * (n10 / n1) > args.max_10x_s:
            j.cmd[j.cmd.index(args.points10)] = args.points1
            j.scale = n10 / n1
            j.note = f"extrapolated x{j.scale:.0f} from one run on the 1/10 subsample (the 1x file)"
        try:
            j.run("run 1")
        except Exception as e:  # noqa: BLE001
            log(f"  FAILED: {e}")
            failed.add(j)
    for j in jobs1 + jobs10:
        if j not in failed and j.runs:
            res["records"].append(j.record(ref))
        elif j in failed:
            res.setdefault("failed", []).append(f"{j.tool} {j.mode} {j.size}")
    res["seconds"] = round(time.perf_counter() - T0, 1)

    res["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    ok, lines = agreement(res["records"], ref_stats, res["tol_inside"], res["tol_mean"], res["tol_point"])
    res["all_agree"] = ok and not res.get("failed")
    res["agreement_lines"] = lines
    md = render(res, args)
    res["agreement"] = [{"tool": r["tool"], "mode": r["mode"], "size": r["size"], "inside_diff": d,
                         "mean_rel_diff": rel, "ok": o} for r, d, rel, o in lines]
    del res["agreement_lines"]
    with open(os.path.join(args.out_dir, "peers.md"), "w") as f:
        f.write(md + "\n")
    with open(os.path.join(args.out_dir, "peers.json"), "w") as f:
        json.dump(res, f, indent=2, default=float)
        f.write("\n")
    print(md)
    log(f"benchmark took {res['seconds']:.0f} s; wrote {args.out_dir}/peers.md and peers.json")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
