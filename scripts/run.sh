#!/usr/bin/env bash
# Builds zkswiftd (release) and runs it in the foreground on a zoo.cfg:
#   scripts/run.sh [PATH/zoo.cfg]     (default: conf/zoo.cfg, data under ./data)
set -euo pipefail
cd "$(dirname "$0")/.."
cfg="${1:-conf/zoo.cfg}"
# C libraries the build links (zlib comes with Swift's own prerequisites).
missing=()
for lib in zlib1g-dev libsnappy-dev; do dpkg -s "$lib" >/dev/null 2>&1 || missing+=("$lib"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]} (apt)"
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq && $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build -c release --product zkswiftd
exec .build/release/zkswiftd "$cfg"
