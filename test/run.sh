#!/usr/bin/env bash
# The whole test suite: the linter, then the unit, in-process and end-to-end tiers.
# As root on Debian 12 it first installs any missing system packages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-packages.sh --test
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run lint --silent
npm run build --silent
exec npx mocha --config .mocharc.json "$@"
