#!/usr/bin/env bash
# Peer benchmark: `truce classify` against GeoPandas/Shapely 2, DuckDB spatial
# and Apache SedonaDB on the 1,263,651 FIRMS points (1x) and a 10x stack.
#
#   bench/peers/run.sh            # everything (about 10-12 min on 2 cores)
#   SKIP_TRUCE=1 bench/peers/run.sh          # peers only
#   TRUCE_BIN=path/to/truce bench/peers/run.sh   # use that binary, no cargo build
#   PEERS=shapely,duckdb MODES=geodesic REPEATS=1 SIZES=1x bench/peers/run.sh   # quick
#
# Needs ../shared/data (override with DATA=...) and python3 >= 3.10; installs
# its Python packages from PyPI into bench/peers/.venv (git-ignored).  Writes
# bench/out/peers.md and bench/out/peers.json (git-ignored); temporary inputs
# (points parquet, a 365 MB stacked CSV) go to bench/out/tmp.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=${DATA:-$ROOT/../shared/data}
OUT=${OUT:-$ROOT/bench/out}
TMP=$OUT/tmp
VENV=$HERE/.venv
PY=$VENV/bin/python
AT=2023-06-29
CONTROL=$DATA/deepstate/raw-layers-monthly-2023-04_to_2025-08
ADMIN=$DATA/admin/ukraine-oblasts.geojson
CSV_DIR=$DATA/firms/ukraine-2000-2023-lat-lon-date
PEERS=${PEERS:-shapely,duckdb,sedonadb}
MODES=${MODES:-geodesic,lcc}
REPEATS=${REPEATS:-3}
SIZES=${SIZES:-1x,10x}

say() { printf '\n== %s\n' "$*" >&2; }

[ -d "$DATA" ] || { echo "no data at $DATA (set DATA=...)" >&2; exit 2; }
mkdir -p "$OUT" "$TMP"

# ---- 1. Python environment (PyPI only; reinstalled when requirements.txt changes)
if [ ! -x "$PY" ] || ! cmp -s "$HERE/requirements.txt" "$VENV/.requirements.txt"; then
  say "creating $VENV"
  python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/.requirements.txt"
fi

# ---- 2. truce (optional: skipped with a message when it does not build or run)
TRUCE=""
SKIP_REASON=""
if [ "${SKIP_TRUCE:-0}" = 1 ]; then
  SKIP_REASON="SKIP_TRUCE=1"
elif [ -n "${TRUCE_BIN:-}" ]; then   # a prebuilt binary: no cargo build
  if [ -x "$TRUCE_BIN" ]; then TRUCE=$TRUCE_BIN; else SKIP_REASON="TRUCE_BIN=$TRUCE_BIN is not executable"; fi
else
  say "cargo build --release -p truce-cli"
  if (cd "$ROOT" && cargo build --release -p truce-cli) >&2; then
    if [ -x "$ROOT/target/release/truce" ]; then TRUCE=$ROOT/target/release/truce
    else SKIP_REASON="built, but target/release/truce is missing"; fi
  else
    SKIP_REASON="cargo build --release -p truce-cli failed"
  fi
fi
[ -n "$TRUCE" ] || echo "NOTE: truce is skipped: $SKIP_REASON" >&2

# ---- 3. reference figures and fallback geometry (independent Shapely cross-check)
CC=$OUT/crosscheck
if [ ! -s "$CC/reference.parquet" ] || [ "$HERE/crosscheck.py" -nt "$CC/reference.parquet" ]; then
  say "crosscheck.py (exact geodesic reference, ~1 min)"
  "$PY" "$HERE/crosscheck.py" --data "$DATA" --out-dir "$CC" --json "$CC/crosscheck.json" > /dev/null
fi

# ---- 4. geometry the peers use: truce's export when available, else the cross-check's
GEOM=$CC
GEOM_SOURCE="crosscheck.py (truce not available)"
if [ -n "$TRUCE" ]; then
  say "truce control export"
  rm -rf "$OUT/truce-export"
  if (cd "$ROOT" && "$TRUCE" control export --control "$CONTROL" --at "$AT" --admin "$ADMIN" \
        --out "$OUT/truce-export") >&2 \
     && [ -s "$OUT/truce-export/occupied.geojson" ] && [ -s "$OUT/truce-export/contact_line.geojson" ]; then
    GEOM=$OUT/truce-export
    GEOM_SOURCE="truce control export"
  else
    echo "NOTE: truce control export failed; peers use the cross-check geometry" >&2
    GEOM_SOURCE="crosscheck.py (truce control export failed)"
  fi
fi

# ---- 5. inputs: points parquet (1x, 10x) and the stacked CSV for truce ingest
if [ ! -s "$TMP/points_10x.parquet" ] || [ ! -s "$TMP/stacked10.csv" ] \
   || [ "$HERE/prep_points.py" -nt "$TMP/points_10x.parquet" ]; then
  say "preparing inputs"
  "$PY" "$HERE/prep_points.py" --csv-dir "$CSV_DIR" --out-dir "$TMP" --csv10 "$TMP/stacked10.csv" >&2
fi

# ---- 6. the timed runs
say "benchmark (load average now: $(cut -d' ' -f1-3 /proc/loadavg); other CPU load skews the figures)"
set +e
"$PY" "$HERE/bench.py" --root "$ROOT" \
  --occupied "$GEOM/occupied.geojson" --line "$GEOM/contact_line.geojson" --geometry-source "$GEOM_SOURCE" \
  --points1 "$TMP/points_1x.parquet" --points10 "$TMP/points_10x.parquet" \
  --reference "$CC/reference.parquet" --tmp "$TMP" --out-dir "$OUT" \
  --peers "$PEERS" --modes "$MODES" --repeats "$REPEATS" --sizes "$SIZES" \
  --truce "$TRUCE" --truce-skip-reason "$SKIP_REASON" \
  --control "$CONTROL" --admin "$ADMIN" --at "$AT" \
  --csv "$CSV_DIR"/ukr_fire_data_*.csv --csv10 "$TMP/stacked10.csv"
rc=$?
set -e
[ "${KEEP_TMP:-0}" = 1 ] || rm -f "$TMP"/obs_*.parquet "$TMP"/classified_*.parquet
exit $rc
