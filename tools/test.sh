#!/usr/bin/env bash
# `make test` after `make setup`: start the lab, run every suite in order, stop the lab whatever
# happened, and exit non-zero if any step failed. Every step runs even after an earlier failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
# The tests run against a lab of their own, fresh each time and purged at the end, so a lab that
# `make demo` or `make lab-up` started in lab/run keeps running untouched.
export IPS_LAB_RUN_DIR="${IPS_LAB_RUN_DIR:-$ROOT/lab/run-test}"

failed=()
lab_stopped=false

stop_lab() {
  if [ "$lab_stopped" = false ]; then
    lab_stopped=true
    echo "=== lab-down"
    "$VENV/bin/ips-lab" down --purge || failed+=("lab-down")
  fi
}
trap 'stop_lab' EXIT
trap 'echo "test: interrupted" >&2; exit 130' INT TERM

step() { # name command...
  local name=$1 rc=0 start=$SECONDS
  shift
  echo "=== $name"
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    echo "=== $name: FAILED rc $rc ($((SECONDS - start)) s)"
    failed+=("$name")
  fi
}

pytest_dirs() { # run pytest on the given dirs that exist; "no tests collected" (rc 5) is not a failure
  local dirs=() d rc=0
  for d in "$@"; do
    if [ -d "$d" ]; then dirs+=("$d"); else echo "($d does not exist yet)"; fi
  done
  if [ "${#dirs[@]}" -eq 0 ]; then return 0; fi
  "$VENV/bin/pytest" -q "${dirs[@]}" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "(no tests collected in ${dirs[*]})"
    return 0
  fi
  return "$rc"
}

with_lab_env() { # run a command with lab/run/env exported
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

run_molecule() {
  # molecule keeps scenario state (e.g. "prepared") under ~/.ansible/tmp, shared by every checkout of
  # the project on the machine: reset it so each run prepares its scenarios afresh.
  (cd extensions && PATH="$VENV/bin:$PATH" "$VENV/bin/molecule" reset --all >/dev/null &&
    PATH="$VENV/bin:$PATH" "$VENV/bin/molecule" test --all)
}

"$VENV/bin/ips-lab" down --purge >/dev/null 2>&1 || true  # leftovers of an interrupted run
step "lab-up" "$VENV/bin/ips-lab" up
step "pytest tests/unit tests/lab tests/lab_clouds tests/lab_lifecycle" pytest_dirs tests/unit tests/lab tests/lab_clouds tests/lab_lifecycle
step "pytest tests/integration" with_lab_env pytest_dirs tests/integration
if [ -d extensions/molecule ] && [ -n "$(ls -A extensions/molecule 2>/dev/null)" ]; then
  step "molecule" with_lab_env run_molecule
fi
step "sanity" tools/sanity.sh
step "lint" env PATH="$VENV/bin:$PATH" "$VENV/bin/ansible-lint" --offline --profile production
stop_lab

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test: FAILED: ${failed[*]}"
  exit 1
fi
echo "test: all steps passed"
