#!/usr/bin/env bash
# lab/node_modules: Azurite, pinned in lab/package.json and lab/package-lock.json. npm ci runs only
# when the lock file changed or Azurite is missing.
set -euo pipefail
cd "$(dirname "$0")/../lab"
stamp=node_modules/.ips-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -x node_modules/.bin/azurite-blob ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "setup: npm ci in lab/ (Azurite)"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
