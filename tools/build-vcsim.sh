#!/usr/bin/env bash
# Build lab/bin/vcsim from lab/vcsim/main.go offline, in GOPATH mode, against Debian's
# golang-github-vmware-govmomi-dev (/usr/share/gocode). Caches go under .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ ! -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ]; then
  echo "build-vcsim: golang-github-vmware-govmomi-dev is not installed; run make setup" >&2
  exit 1
fi
mkdir -p lab/bin "$ROOT/.cache/gopath"
echo "setup: building lab/bin/vcsim"
GOPATH="$ROOT/.cache/gopath:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS='' GOTOOLCHAIN=local \
  GOCACHE="$ROOT/.cache/go-build" go build -o lab/bin/vcsim.tmp lab/vcsim/main.go
mv lab/bin/vcsim.tmp lab/bin/vcsim
