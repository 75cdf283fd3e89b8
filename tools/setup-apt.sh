#!/usr/bin/env bash
# Install the Debian packages the lab and the tests need; runs apt-get only for missing ones.
#   tools/setup-apt.sh [--update] [EXTRA_PACKAGE...]
# --update runs `apt-get update` first (CI on a fresh machine); otherwise update runs only when an
# install fails. Needs root, or passwordless sudo.
set -euo pipefail

PACKAGES=(samba smbclient qemu-utils golang-go golang-github-vmware-govmomi-dev libsecret-1-0 shellcheck)
update=false
if [ "${1:-}" = "--update" ]; then
  update=true
  shift
fi
PACKAGES+=("$@")

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -eq 0 ] && [ "$update" = false ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "setup-apt: missing Debian packages: ${missing[*]}" >&2
  echo "setup-apt: install them as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ "$update" = true ]; then
  "${SUDO[@]}" apt-get update -qq
fi
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "setup-apt: installing ${missing[*]}"
if ! "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null; then
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
