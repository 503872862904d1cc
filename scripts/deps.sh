# Sourced by the scripts in this directory: installs what a fresh Debian 12
# lacks, once, through apt and pip.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# C libraries the build links.
BUILD_DEPS=(zlib1g-dev libsnappy-dev libsystemd-dev)

# ensure_apt PKG...: installs the Debian packages not installed yet.
ensure_apt() {
  local need=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  [ ${#need[@]} -eq 0 ] && return 0
  echo "== installing ${need[*]} (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

# ensure_apache: Apache ZooKeeper 3.8.0 (Debian's zookeeper package), Java,
# snappy-java for its .snappy snapshots (zookeeper.jar's Class-Path names it), and
# the servlet API its AdminServer needs.
ensure_apache() {
  local pkgs=(zookeeper libsnappy-java libservlet-api-java)
  command -v java >/dev/null 2>&1 || pkgs+=(default-jre-headless)
  ensure_apt "${pkgs[@]}"
}

# ensure_kazoo: kazoo 2.11.0 and pytest from PyPI, unless already there.
ensure_kazoo() {
  python3 -c 'import kazoo, pytest; assert kazoo.version.__version__ == "2.11.0"' 2>/dev/null && return 0
  echo "== installing kazoo 2.11.0 and pytest (pip)"
  python3 -m pip install -q --disable-pip-version-check "kazoo==2.11.0" pytest
}
