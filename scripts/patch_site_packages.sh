#!/usr/bin/env bash
# Applies patches/*.patch to the site-packages of the Python given as $1, each exactly once.
# Each patch names the exact version it fits (the lock pins that version); one already applied
# is skipped, and one that does not apply stops the install. Why patches, and what each saves:
# patches/README.md.
set -euo pipefail
site=$("$1" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
for p in patches/*.patch; do
  if patch -d "$site" -p1 -R --dry-run -s -f < "$p" >/dev/null 2>&1; then
    continue  # already applied
  fi
  patch -d "$site" -p1 -s -f --no-backup-if-mismatch < "$p"
  # Their bytecode too: with PYTHONDONTWRITEBYTECODE set, Python would compile them on every run.
  sed -n 's#^+++ b/##p' "$p" | while read -r file; do "$1" -m py_compile "$site/$file"; done
done
