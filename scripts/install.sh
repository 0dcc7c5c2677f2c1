#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs to run sixpn: the runtime Debian packages (test
# tools come with `npm test`), npm dependencies, the build, and `sixpn` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' || { echo "sixpn needs Node.js 20.19 or newer" >&2; exit 1; }
bash scripts/install-packages.sh
npm ci --no-audit --no-fund
npm run build --silent
if [ "$(id -u)" = 0 ]; then npm link --silent >/dev/null 2>&1 && echo "sixpn is on PATH ($(command -v sixpn))"; fi
