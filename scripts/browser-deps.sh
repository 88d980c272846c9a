#!/usr/bin/env bash
# Installs what the browser tests (tests/browser) run with, from the package-lock.json that
# the repository pins: `npm ci` in tests/browser when node_modules is missing or older than
# the lock file. puppeteer-core downloads no browser; the tests drive Debian's chromium,
# which scripts/install-deps.sh installs (as it does Node.js and npm when they are missing).
# Quiet and quick when node_modules is current. Works from any directory.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/browser" && pwd)"
modules="$dir/node_modules"
# npm ci writes node_modules/.package-lock.json last: its age is the installation's.
stamp="$modules/.package-lock.json"

if [ -f "$stamp" ] && [ ! "$dir/package-lock.json" -nt "$stamp" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "browser-deps: npm is not on PATH (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
echo "browser-deps: npm ci in $dir" >&2
# PUPPETEER_SKIP_DOWNLOAD: belt and braces; puppeteer-core has no download step anyway.
(cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2)
