#!/usr/bin/env bash
# make bench: build the benchmark image on the lab's Samba share and measure, in one run, the SMB
# read limit, the target ingest limit, our uploads (Azure plane, EBS front, GCS+GCE) and the naive
# baseline and AzCopy; the last line printed is the summary (docs/performance.md explains every figure).
#   BENCH_SIZE=quick (default, 2 GiB virtual) | large (16 GiB virtual); BENCH_ROUNDS (Azure rounds: 3 quick, 2 large)
#   BENCH_PIN=1 (default): the cloud stand-ins on the last core, Samba, the bench and the module on the others; 0: unpinned
#   BENCH_CONNECTIONS=N: our Azure upload's SMB connections (default: the read limit's best lane count)
#   BENCH_KEEP_IMAGE=1 keeps the image on the share for the next run (everything else the bench makes is deleted)
#   BENCH_MIGRATIONS=N: migrations started at once from this controller after the uploads (default 20; 0 skips them)
#   BENCH_TARGETS=azure,aws,gcp (default: all for quick, azure,aws for large - the GCS emulator keeps the
#   whole archive and the GCE plane re-reads it, which measures the emulator, not the uploader)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
RUN_DIR=${IPS_LAB_RUN_DIR:-$PWD/lab/run}
if [ ! -f "$RUN_DIR/env" ]; then
  echo "bench: the lab is not running ($RUN_DIR/env is missing): run make lab-up first" >&2
  exit 1
fi
# AzCopy, the reference tool (npm only; pinned in bench/package.json); the package ships the binary without its run bit
AZCOPY=bench/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64
if [ ! -f "$AZCOPY" ] && command -v npm >/dev/null 2>&1; then
  (cd bench && npm install --no-audit --no-fund --loglevel=error >/dev/null) || echo "bench: npm could not install AzCopy; its baseline is skipped" >&2
fi
if [ -f "$AZCOPY" ]; then chmod +x "$AZCOPY"; fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$PY" bench/bench.py --env "$RUN_DIR/env" --size "${BENCH_SIZE:-quick}" --pin "${BENCH_PIN:-1}" ${BENCH_TARGETS:+--targets "$BENCH_TARGETS"} ${BENCH_ROUNDS:+--rounds "$BENCH_ROUNDS"} ${BENCH_CONNECTIONS:+--connections "$BENCH_CONNECTIONS"} | tee "$out"
summary=$(tail -n 1 "$out")
# Then many migrations at once from this controller (bench/migrations.py), unless BENCH_MIGRATIONS=0.
if [ "${BENCH_MIGRATIONS:-20}" -gt 0 ]; then
  "$PY" bench/migrations.py --env "$RUN_DIR/env" --count "${BENCH_MIGRATIONS:-20}" | tee "$out"
  summary="$summary $(tail -n 1 "$out")"
fi
echo "$summary"
