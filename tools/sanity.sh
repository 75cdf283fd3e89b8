#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection: ansible-test wants the path
# .../ansible_collections/<namespace>/<name>, so the tracked and untracked-but-not-ignored files
# (git ls-files -co --exclude-standard) are copied to .cache/ansible_collections/citrix_community/ips.
# ansible-test walks up from the collection to the nearest .git and asks git for the file list;
# without a .git of its own the copy would be found inside this repo's ignored .cache/ and every
# target skipped. So the copy gets an empty git repo: ansible-test then lists its untracked,
# not-ignored files (its .gitignore is the repo's): exactly the files copied.
#   tools/sanity.sh [ansible-test sanity options...]    e.g. --test pep8
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEST=$ROOT/.cache/ansible_collections/citrix_community/ips

mkdir -p "$ROOT/.cache"
exec 9>"$ROOT/.cache/sanity.lock"
flock 9   # one sanity run at a time shares the copy

# A fresh copy each run, but ansible-test's output dir (its delegation venv, reused across runs)
# is kept aside and put back.
KEEP=$ROOT/.cache/sanity-output.keep
rm -rf "$KEEP"
if [ -d "$DEST/tests/output" ]; then mv "$DEST/tests/output" "$KEEP"; fi
rm -rf "$DEST"
mkdir -p "$DEST"
git ls-files -z -co --exclude-standard |
  while IFS= read -r -d '' f; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
  done |
  tar --null -T - -cf - | tar -xf - -C "$DEST"

echo "sanity: $(find "$DEST" -type f | wc -l) files copied to ${DEST#"$ROOT"/}"
if [ -d "$KEEP" ]; then
  mkdir -p "$DEST/tests"
  mv "$KEEP" "$DEST/tests/output"
fi

cd "$DEST"
git init -q .
"$ROOT/.venv/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
