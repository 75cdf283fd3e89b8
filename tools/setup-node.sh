#!/usr/bin/env bash
# lab/node_modules: Azurite, pinned in lab/package.json and lab/package-lock.json; bench/node_modules: AzCopy.
# npm ci runs only when a lock file changed or the package is missing.
set -euo pipefail
cd "$(dirname "$0")/../lab"
stamp=node_modules/.ips-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if ! { [ -x node_modules/.bin/azurite-blob ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }; then
  echo "setup: npm ci in lab/ (Azurite)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

# bench/node_modules: AzCopy, pinned in bench/package.json and bench/package-lock.json: the baseline of `make bench`
# and the reference client of the lab's own tests (tests/lab_clouds/test_azcopy.py). The package ships the binary
# without its run bit.
cd ../bench
azcopy=node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if ! { [ -f "$azcopy" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }; then
  echo "setup: npm ci in bench/ (AzCopy)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
chmod +x "$azcopy"
