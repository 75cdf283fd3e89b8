#!/usr/bin/env bash
# make bench: build the benchmark image on the lab's Samba share and measure, in one run, the SMB
# read limit, the target ingest limit, our uploads (Azure plane, EBS front, GCS+GCE) and the naive
# baseline and AzCopy; the last line printed is the summary (docs/performance.md explains every figure).
#   BENCH_SIZE=quick (default, 2 GiB virtual) | large (16 GiB virtual); BENCH_ROUNDS (Azure rounds: 3 quick, 2 large)
#   BENCH_PIN=1 (default): the cloud stand-ins on the last core, Samba, the bench and the module on the others; 0: unpinned
#   BENCH_CONNECTIONS=N: our Azure upload's SMB connections (default: the read limit's best lane count)
#   BENCH_KEEP_IMAGE=1 keeps the image on the share for the next run (everything else the bench makes is deleted)
#   BENCH_CAPS=1 (default): uploads against the Azure plane's per-disk cap (bench/caps.py; 0 skips them);
#   BENCH_CAP_MIB_S=N the cap per disk (default 8, the 60 MB/s tier scaled down; 0: the tier's own); the capped fan-out
#   (bench.py step 3c) scales every cloud's cap by the same factor
#   BENCH_MIGRATIONS=N: migrations started at once from this controller after the uploads (default 20; 0 skips them)
#   BENCH_TARGETS=azure,aws,gcp (default: all for quick, azure,aws for large - the GCS emulator keeps the
#   whole archive and the GCE plane re-reads it, which measures the emulator, not the uploader)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ ! -x .venv/bin/ips-lab ]; then
  echo "bench: .venv/bin/ips-lab is missing: run make setup, then make lab-up" >&2
  exit 1
fi
# `ips-lab env` fails with a sentence when the lab is not running, a stale env file included
if ! ENV_FILE=$(.venv/bin/ips-lab env); then
  echo "bench: the lab is not running: run make lab-up first" >&2
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
"$PY" bench/bench.py --env "$ENV_FILE" --size "${BENCH_SIZE:-quick}" --pin "${BENCH_PIN:-1}" ${BENCH_CAP_MIB_S:+--cap-mib-s "$BENCH_CAP_MIB_S"} ${BENCH_TARGETS:+--targets "$BENCH_TARGETS"} ${BENCH_ROUNDS:+--rounds "$BENCH_ROUNDS"} ${BENCH_CONNECTIONS:+--connections "$BENCH_CONNECTIONS"} | tee "$out"
summary=$(tail -n 1 "$out")
# Then the large sparse image against the disk tier's cap, one disk and four at once (bench/caps.py), unless BENCH_CAPS=0.
if [ "${BENCH_CAPS:-1}" != 0 ]; then
  "$PY" bench/caps.py --env "$ENV_FILE" --pin "${BENCH_PIN:-1}" ${BENCH_CAP_MIB_S:+--cap-mib-s "$BENCH_CAP_MIB_S"} | tee "$out"
  summary="$summary $(tail -n 1 "$out")"
fi
# Then many migrations at once from this controller (bench/migrations.py), unless BENCH_MIGRATIONS=0.
if [ "${BENCH_MIGRATIONS:-20}" -gt 0 ]; then
  "$PY" bench/migrations.py --env "$ENV_FILE" --count "${BENCH_MIGRATIONS:-20}" | tee "$out"
  summary="$summary $(tail -n 1 "$out")"
fi
echo "$summary"
