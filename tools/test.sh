#!/usr/bin/env bash
# `make test` after `make setup`: start the lab, run every suite, stop the lab whatever happened, and
# exit non-zero if any step failed. Every step runs even after another failed.
#
# The suites share nothing, so they run side by side, each into its own log, printed whole as it ends:
#   integration   pytest-xdist workers, each with a lab of its own (tests/integration/conftest.py)
#   molecule      the workflow scenarios and the --check one, in two halves side by side: one against the lab
#                 started here, the other against a second lab it starts
#   unit + lab    module_utils, the dev tools and the lab's own tests (in-process servers, private labs)
#   newest core   the unit tests again on the newest ansible-core (tools/core-matrix.sh; .venv has the oldest)
#   sanity, lint  ansible-test sanity and ansible-lint on the tracked files
# IPS_TEST_WORKERS sets the integration workers (default 3: the tests wait on jobs and uploads more than they compute,
# so three keep two cores busy; four made every test cost about 40 % more CPU-seconds on a 2-core machine, so the
# whole run took longer); IPS_TEST_SERIAL=1 runs the steps one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
# The tests run against labs of their own, fresh each time and purged at the end, so a lab that
# `make demo` or `make lab-up` started in lab/run keeps running untouched.
export IPS_LAB_RUN_DIR="${IPS_LAB_RUN_DIR:-$ROOT/lab/run-test}"
WORKERS=${IPS_TEST_WORKERS:-3}
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/ips-test.XXXXXX")

failed=()
FINISHED=  # the step finish_one reported last
lab_stopped=false
declare -A STEP_PID=() STEP_START=()
STEPS=()

stop_lab() {
  if [ "$lab_stopped" = false ]; then
    lab_stopped=true
    echo "=== lab-down"
    "$VENV/bin/ips-lab" down --purge || failed+=("lab-down")
    # the second molecule lab, when its step was stopped before it could stop it
    if [ -f "$IPS_LAB_RUN_DIR-mol/env" ]; then IPS_LAB_RUN_DIR="$IPS_LAB_RUN_DIR-mol" "$VENV/bin/ips-lab" down --purge >/dev/null || true; fi
  fi
}
# on an early exit, stop the steps still running (their labs are stopped by their own fixtures or below)
trap 'if [ "${#STEP_PID[@]}" -gt 0 ]; then kill "${STEP_PID[@]}" 2>/dev/null || true; fi; stop_lab; rm -rf "$LOGS"' EXIT
trap 'echo "test: interrupted" >&2; exit 130' INT TERM

# step [--nice] NAME COMMAND...: run it in the background into its own log (at a lower CPU priority with --nice);
# `finish_one` reports it.
log_of() { echo "$LOGS/${1//[^A-Za-z0-9]/_}"; }
step() {
  local nice=false name log
  if [ "$1" = --nice ]; then nice=true; shift; fi
  name=$1
  shift
  STEPS+=("$name")
  STEP_START[$name]=$SECONDS
  log=$(log_of "$name")
  (
    rc=0
    if [ "$nice" = true ]; then renice -n 10 -p "$BASHPID" >/dev/null; fi
    "$@" >"$log.log" 2>&1 </dev/null || rc=$?
    # CPU-seconds of everything the step ran (user + system of its children)
    times >"$log.times"
    tail -n 1 "$log.times" | awk '{ u = $1; s = $2; sub(/m/, " ", u); sub(/s/, "", u); sub(/m/, " ", s); sub(/s/, "", s);
                              split(u, a, " "); split(s, b, " "); printf "%.0f\n", a[1] * 60 + a[2] + b[1] * 60 + b[2] }' \
      >"$log.cpu"
    exit "$rc"
  ) &
  STEP_PID[$name]=$!
  if [ "${IPS_TEST_SERIAL:-0}" = 1 ]; then finish_one; fi
}

# Wait for the next step to end, print its log and its result.
finish_one() {
  local pid rc=0 name log
  wait -n -p pid "${STEP_PID[@]}" || rc=$?
  for name in "${!STEP_PID[@]}"; do
    if [ "${STEP_PID[$name]}" = "$pid" ]; then
      unset "STEP_PID[$name]"
      log=$(log_of "$name")
      echo "=== $name"
      cat "$log.log" || true
      local took=$((SECONDS - STEP_START[$name])) cpu
      cpu=$(cat "$log.cpu" 2>/dev/null || echo "?")
      if [ "$rc" -eq 0 ]; then
        echo "=== $name: ok ($took s, $cpu CPU-s)"
      else
        echo "=== $name: FAILED rc $rc ($took s, $cpu CPU-s)"
        failed+=("$name")
      fi
      FINISHED=$name
      return 0
    fi
  done
}

pytest_dirs() { # run pytest on the given dirs that exist; "no tests collected" (rc 5) is not a failure
  local dirs=() args=() d rc=0
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  if [ "$#" -gt 0 ]; then shift; fi
  for d in "$@"; do
    if [ -d "$d" ]; then dirs+=("$d"); else echo "($d does not exist yet)"; fi
  done
  if [ "${#dirs[@]}" -eq 0 ]; then return 0; fi
  "$VENV/bin/pytest" -q -p no:cacheprovider "${args[@]}" "${dirs[@]}" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "(no tests collected in ${dirs[*]})"
    return 0
  fi
  return "$rc"
}

with_lab_env() { # run a command with the lab's env file exported
  local env_file
  env_file=$("$VENV/bin/ips-lab" env) || return 1
  (
    set -a
    # shellcheck disable=SC1090
    . "$env_file"
    set +a
    "$@"
  )
}

run_molecule() { # SCENARIO...: those scenarios, one after another, against the lab of $IPS_LAB_RUN_DIR
  local args=() scenario
  for scenario in "$@"; do args+=(-s "$scenario"); done
  # molecule keeps scenario state (e.g. "prepared") under ~/.ansible/tmp, shared by every checkout of
  # the project on the machine: reset it so each run prepares its scenarios afresh.
  (cd extensions && PATH="$VENV/bin:$PATH" "$VENV/bin/molecule" reset "${args[@]}" >/dev/null &&
    PATH="$VENV/bin:$PATH" "$VENV/bin/molecule" test "${args[@]}")
}

run_molecule_own_lab() { # SCENARIO...: run_molecule against a second lab of its own, started and stopped here
  local dir="$IPS_LAB_RUN_DIR-mol" rc=0
  IPS_LAB_RUN_DIR=$dir "$VENV/bin/ips-lab" up || return 1
  IPS_LAB_RUN_DIR=$dir with_lab_env run_molecule "$@" || rc=$?
  IPS_LAB_RUN_DIR=$dir "$VENV/bin/ips-lab" down --purge || rc=1
  return "$rc"
}

integration() { # each xdist worker starts its own lab beside $IPS_LAB_RUN_DIR (tests/integration/conftest.py);
  # tests/reliability (the fault matrix) shares those labs; its long variants run with `make test-long`
  # worksteal: a worker that runs out takes tests queued for another, so no worker ends long after the others
  IPS_LAB_PER_WORKER=1 pytest_dirs -n "$WORKERS" --dist worksteal --durations=10 -- tests/integration tests/reliability
}

started=$SECONDS
"$VENV/bin/ips-lab" down --purge >/dev/null 2>&1 || true  # leftovers of an interrupted run
for d in "$IPS_LAB_RUN_DIR"-gw* "$IPS_LAB_RUN_DIR"-mol; do
  if [ -d "$d" ]; then IPS_LAB_RUN_DIR=$d "$VENV/bin/ips-lab" down --purge >/dev/null 2>&1 || true; fi
done
echo "=== lab-up"
if "$VENV/bin/ips-lab" up; then
  # the longest first, so it starts with the machine to itself
  step "pytest tests/integration" integration
  # The scenarios wait on the lab's jobs far more than they compute: two halves side by side, each on a lab of
  # its own (a scenario's verify reads every call its lab recorded, so two scenarios never share a lab at once).
  mapfile -t scenarios < <(find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -rn1 basename | sort)
  if [ "${#scenarios[@]}" -gt 0 ]; then
    half_a=() half_b=()
    for i in "${!scenarios[@]}"; do
      if [ $((i % 2)) -eq 0 ]; then half_a+=("${scenarios[$i]}"); else half_b+=("${scenarios[$i]}"); fi
    done
    # at a lower priority (--nice): they end minutes before integration, the longest step, and nothing in them waits on
    # a tight clock, so integration takes the CPU when both want it
    step --nice "molecule ${half_a[*]}" with_lab_env run_molecule "${half_a[@]}"
    if [ "${#half_b[@]}" -gt 0 ]; then step --nice "molecule ${half_b[*]}" run_molecule_own_lab "${half_b[@]}"; fi
  fi
else
  failed+=("lab-up")
fi
UNIT="pytest tests/unit tests/badinput tests/tools tests/lab tests/lab_clouds tests/lab_lifecycle"
step "$UNIT" pytest_dirs -- tests/unit tests/badinput tests/tools tests/lab tests/lab_clouds tests/lab_lifecycle
# The rest waits for the unit step to end (about half-way): until then every core is busy, and afterwards integration,
# the longest step, leaves some idle while its last tests wait on their labs. Sanity and lint then run at a lower
# priority (--nice): nothing in them waits on a clock, so integration takes the CPU when both want it. (Not the unit
# tests: some of their deadlines, which catch hangs, are seconds.)
later() {
  step "unit tests on the newest ansible-core" tools/core-matrix.sh
  step --nice "sanity" tools/sanity.sh
  step --nice "lint" env PATH="$VENV/bin:$PATH" "$VENV/bin/ansible-lint" --offline --profile production
}
if [ "${IPS_TEST_SERIAL:-0}" = 1 ]; then later; fi
while [ "${#STEP_PID[@]}" -gt 0 ]; do
  finish_one
  if [ "$FINISHED" = "$UNIT" ] && [ "${IPS_TEST_SERIAL:-0}" != 1 ]; then later; fi
done
stop_lab
echo "test: every step done in $((SECONDS - started)) s"

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test: FAILED: ${failed[*]}"
  exit 1
fi
echo "test: all steps passed"
