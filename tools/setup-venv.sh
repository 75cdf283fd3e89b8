#!/usr/bin/env bash
# The project's .venv: requirements-dev.txt (installed again only when that file changed), the lab
# installed editable, the collection importable as ansible_collections.citrix_community.ips, and
# ansible-test's get-pip bootstrap replaced by an offline shim.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PY=$VENV/bin/python

if [ ! -x "$PY" ]; then
  base=$(command -v python3.11 || command -v python3)
  echo "setup: creating .venv with $("$base" --version 2>&1)"
  "$base" -m venv "$VENV"
fi

stamp_ok() { # stamp-file input-files...
  local stamp=$1
  shift
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(cat "$@" | sha256sum | cut -d' ' -f1)" ]
}
stamp_write() {
  local stamp=$1
  shift
  cat "$@" | sha256sum | cut -d' ' -f1 >"$stamp"
}

# Installs go through uv (pinned in tools/uv-version), bootstrapped into .venv with pip: on a fresh machine it
# fetches the ~150 wheels in parallel where pip fetches one at a time, and installs from its cache in seconds
# afterwards (the core-matrix venv and the artifact test's venv reuse that cache).
# --compile-bytecode, never without: where PYTHONDONTWRITEBYTECODE is set (as on these machines) nothing compiled
# later is cached, so every process would compile the SDKs it imports again (measured: the integration step took
# 1,321 CPU-s instead of 808 without the install-time compile).
UV=$VENV/bin/uv
export UV_LINK_MODE=copy UV_NO_PROGRESS=1
if ! stamp_ok "$VENV/.ips-uv.sha256" tools/uv-version || [ ! -x "$UV" ]; then
  echo "setup: pip install uv ($(cat tools/uv-version))"
  "$PY" -m pip install -q --disable-pip-version-check "uv==$(cat tools/uv-version)" 2>&1 | grep -v "^WARNING: Location" || true
  [ -x "$UV" ] || { echo "setup: uv was not installed into .venv" >&2; exit 1; }
  stamp_write "$VENV/.ips-uv.sha256" tools/uv-version
fi

if ! stamp_ok "$VENV/.ips-requirements-dev.sha256" requirements-dev.txt; then
  echo "setup: uv pip install -r requirements-dev.txt"
  "$UV" pip install -q --python "$PY" --compile-bytecode -r requirements-dev.txt
  stamp_write "$VENV/.ips-requirements-dev.sha256" requirements-dev.txt
fi

if ! stamp_ok "$VENV/.ips-lab.sha256" lab/pyproject.toml || [ ! -x "$VENV/bin/ips-lab" ]; then
  echo "setup: uv pip install -e lab"
  "$UV" pip install -q --python "$PY" --compile-bytecode -e lab
  stamp_write "$VENV/.ips-lab.sha256" lab/pyproject.toml
fi

# aws-cli, for the lab's real-client tests, in a venv of its own (lab/requirements-awscli.txt says why).
AWSCLI=$ROOT/lab/.venv-awscli
if ! stamp_ok "$AWSCLI/.ips-awscli.sha256" lab/requirements-awscli.txt || [ ! -x "$AWSCLI/bin/aws" ]; then
  echo "setup: aws-cli into lab/.venv-awscli"
  rm -rf "$AWSCLI"
  "$(command -v python3.11 || command -v python3)" -m venv --without-pip "$AWSCLI"
  "$UV" pip install -q --python "$AWSCLI/bin/python" --compile-bytecode -r lab/requirements-awscli.txt
  stamp_write "$AWSCLI/.ips-awscli.sha256" lab/requirements-awscli.txt
fi

# The collection, importable from the venv (and found by ansible through its sys.path scan).
site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
link=$site/ansible_collections/citrix_community/ips
if [ "$(readlink "$link" 2>/dev/null || true)" != "$ROOT" ]; then
  if [ -e "$link" ] && [ ! -L "$link" ]; then
    echo "setup: $link exists and is not a symlink; remove it first" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$link")"
  ln -sfn "$ROOT" "$link"
  echo "setup: linked ansible_collections.citrix_community.ips -> $ROOT"
fi

# The compile cache for AnsiballZ payloads (tools/zipimport_cache.py says why), in this venv only.
if ! cmp -s tools/zipimport_cache.py "$site/ips_dev_zipimport_cache.py"; then
  install -m 0644 tools/zipimport_cache.py "$site/ips_dev_zipimport_cache.py"
  echo "import ips_dev_zipimport_cache" >"$site/ips-dev-zipimport-cache.pth"
  echo "setup: installed the zipimport compile cache (tools/zipimport_cache.py) into the venv"
fi

# ansible-test sanity/units --venv: the offline get-pip shim, under the name this ansible-test wants.
at=$("$PY" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
pipv=$(grep -oP "pip='\K[0-9.]+" "$at/_internal/python_requirements.py" | head -n1)
if [ -z "$pipv" ]; then
  echo "setup: cannot find the pip version ansible-test bootstraps in $at" >&2
  exit 1
fi
shim=$HOME/.ansible/test/cache/get_pip_${pipv//./_}.py
if ! cmp -s tools/get_pip_shim.py "$shim"; then
  install -D -m 0644 tools/get_pip_shim.py "$shim"
  echo "setup: installed the get-pip shim as ~/.ansible/test/cache/$(basename "$shim")"
fi
