#!/usr/bin/env bash
# The whole test suite: unit, in-process and end-to-end tiers.
# Run as root on Debian 12, it first installs any missing system packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(wireguard-tools wireguard-go nftables iproute2 bind9-dnsutils dnsperf knot iperf3 openssl iputils-ping procps python3 systemd)
need=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing missing packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing packages (run as root to install them): ${need[*]}" >&2
    exit 1
  fi
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
exec npx mocha --config .mocharc.json "$@"
