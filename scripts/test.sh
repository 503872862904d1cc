#!/usr/bin/env bash
# Runs every test: Swift unit and integration tests, then the kazoo
# compatibility and differential tests against zkswiftd and Apache ZooKeeper
# 3.8.0, a ThreadSanitizer pass, and the Debian package's checks. Installs
# what a fresh Debian 12 lacks (Apache ZooKeeper and its C client from apt,
# kazoo and pytest from PyPI; lintian and debootstrap for the package) first.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/deps.sh
ensure_apache
ensure_apt zookeeper-bin "${BUILD_DEPS[@]}"   # zookeeper-bin: the C client's cli_mt
ensure_kazoo

echo "== swift build"
swift build --build-tests
export ZKSWIFTD_BIN="$PWD/.build/debug/zkswiftd"
export ZKSWIFT_BIN="$PWD/.build/debug/zkswift"

echo "== swift test (unit and integration)"
swift test --skip-build

echo "== pytest Tests/compat (kazoo, differential against Apache ZooKeeper 3.8.0, zkCli.sh)"
python3 -m pytest -q -p no:cacheprovider Tests/compat

# The quorum tests, and the same suite (less the slow durability tests) once more against a
# ThreadSanitizer build of the daemon: any data race it reports fails the run.
echo "== ThreadSanitizer: swift build --sanitize=thread, the ZKQuorum tests, then Tests/compat again"
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
tsan_dir=$(mktemp -d)
# The quorum code's threads (election port, FLE, learner handlers) run in the ZKQuorum tests.
TSAN_OPTIONS="log_path=$tsan_dir/report halt_on_error=0" \
  swift test --skip-build --sanitize=thread --scratch-path .build-tsan --filter ZKQuorumTests
# Sanitized servers are slower: a longer tick keeps the ensembles' syncLimit honest.
ZKSWIFTD_BIN="$PWD/.build-tsan/debug/zkswiftd" ZK_ENSEMBLE_TICK_MS=1000 TSAN_OPTIONS="log_path=$tsan_dir/report halt_on_error=0" \
  python3 -m pytest -q -p no:cacheprovider Tests/compat --ignore=Tests/compat/test_zkcli.py \
  --ignore-glob='Tests/compat/test_durability_*'
if compgen -G "$tsan_dir/report*" >/dev/null; then
  echo "ThreadSanitizer reported data races:"
  cat "$tsan_dir"/report*
  exit 1
fi
echo "ThreadSanitizer: no data races reported"

# The Debian package: release binaries with the Swift runtime linked in, lintian,
# systemd-analyze verify, then an install, run, remove and purge in a clean Debian 12 root.
echo "== Debian package: scripts/test-deb.sh"
bash scripts/test-deb.sh
