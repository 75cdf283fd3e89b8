#!/usr/bin/env bash
# The collection's unit tests on the newest ansible-core, beside the oldest one it supports: .venv holds the
# requires_ansible floor (requirements-dev.txt), every other suite runs on it. The newest core needs a newer
# Python than .venv's, so it gets a venv of its own, .venv-core-newest, with the runtime requirements only
# (requirements.txt), the lab package (some unit tests start its Samba) and the test runner, installed by .venv's
# uv (tools/setup-venv.sh) from its cache; the install runs again only when the pins, requirements.txt or the
# lab's pyproject change.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NEWEST_CORE="ansible-core>=2.21,<2.22"
NEWEST_PYTHON=3.12
VENV=$ROOT/.venv-core-newest

find_python() { # python$1 from PATH, or from pyenv when its shim has no such version selected
  local v=$1 p
  if p=$(command -v "python$v") && "$p" --version >/dev/null 2>&1; then echo "$p"; return 0; fi
  if command -v pyenv >/dev/null 2>&1; then
    p=$(pyenv root)/versions/$(pyenv versions --bare | grep -E "^$v\.[0-9]+$" | sort -V | tail -n 1)/bin/python$v
    if [ -x "$p" ]; then echo "$p"; return 0; fi
  fi
  echo "core-matrix: python$v is needed for $NEWEST_CORE and was not found (PATH, pyenv)" >&2
  return 1
}

want=$(printf '%s\n' "$NEWEST_CORE" "$NEWEST_PYTHON" | cat - requirements.txt lab/pyproject.toml tools/uv-version | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/pytest" ] || [ "$(cat "$VENV/.ips-stamp" 2>/dev/null)" != "$want" ]; then
  python=$(find_python "$NEWEST_PYTHON")
  rm -rf "$VENV"
  "$python" -m venv --without-pip "$VENV"
  echo "core-matrix: uv pip install $NEWEST_CORE -r requirements.txt into $(basename "$VENV") ($("$python" --version))"
  UV_LINK_MODE=copy UV_NO_PROGRESS=1 "$ROOT/.venv/bin/uv" pip install -q --python "$VENV/bin/python" --compile-bytecode \
    "$NEWEST_CORE" -r requirements.txt -e lab pytest pytest-timeout
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  mkdir -p "$site/ansible_collections/citrix_community"
  ln -sfn "$ROOT" "$site/ansible_collections/citrix_community/ips"
  echo "$want" >"$VENV/.ips-stamp"
fi
"$VENV/bin/python" -c "import ansible.release, sys; print(\"core-matrix: ansible-core %s on Python %s\" % (ansible.release.__version__, sys.version.split()[0]))"
"$VENV/bin/pytest" -q -p no:cacheprovider tests/unit/plugins
