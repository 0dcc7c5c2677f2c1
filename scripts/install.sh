#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs: system packages, npm dependencies, the build,
# and `sixpn` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "sixpn needs Node.js 20 or newer" >&2; exit 1; }
bash scripts/install-packages.sh
npm ci --no-audit --no-fund
npm run build --silent
if [ "$(id -u)" = 0 ]; then npm link --silent >/dev/null 2>&1 && echo "sixpn is on PATH ($(command -v sixpn))"; fi
