#!/usr/bin/env bash
# Install the Debian packages sixpn needs at run time, when any is missing (root only);
# with --test also the test tools (scripts/debian-test-packages.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
lists=(scripts/debian-packages.txt)
[ "${1:-}" = --test ] && lists+=(scripts/debian-test-packages.txt)
mapfile -t PKGS < <(cat "${lists[@]}" | grep -v '^\s*#' | grep -v '^\s*$')
need=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p"); done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages (run as root to install them): ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
