#!/usr/bin/env bash
# Recovery benchmark (docs/recovery-benchmark.md): time to serving and peak
# memory of zkswiftd and Apache ZooKeeper 3.8.0 recovering 1,000,000 znodes of
# 100 bytes, from a snapshot and from the txn log. Takes 10-20 minutes.
#   scripts/bench-recovery.sh [bench/recovery.py options]    (--help lists them)
# Installs what a fresh Debian 12 lacks, as scripts/test.sh does (Apache
# ZooKeeper and Java from apt, kazoo from PyPI), and builds zkswiftd in
# release mode unless ZKSWIFTD_BIN names a binary to measure.
# SERVER_JVMFLAGS (as in zkServer.sh) adds JVM flags for Apache, e.g. -Xmx1g;
# unset, Apache gets Debian's default: no -Xmx.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/deps.sh
ensure_apache
ensure_apt "${BUILD_DEPS[@]}"
ensure_kazoo

if [ -z "${ZKSWIFTD_BIN:-}" ]; then
  echo "== swift build -c release"
  swift build -c release --product zkswiftd
  ZKSWIFTD_BIN="$PWD/.build/release/zkswiftd"
fi
export ZKSWIFTD_BIN

exec python3 bench/recovery.py "$@"
