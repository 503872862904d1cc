#!/usr/bin/env bash
# Builds zkswiftd (release) and runs it in the foreground on a zoo.cfg:
#   scripts/run.sh [PATH/zoo.cfg]     (default: conf/zoo.cfg, data under ./data)
set -euo pipefail
cd "$(dirname "$0")/.."
cfg="${1:-conf/zoo.cfg}"
. scripts/deps.sh
ensure_apt "${BUILD_DEPS[@]}"
swift build -c release --product zkswiftd
exec .build/release/zkswiftd "$cfg"
