#!/usr/bin/env bash
# Checks the Debian package: lintian reports no errors, systemd-analyze
# verify accepts the unit, and in a clean Debian 12 root (debootstrap) the
# package installs with the right files, owners, modes, system user and
# conffile, its daemon runs there and answers ruok, and remove then purge
# leave what Debian policy says they leave.
#   scripts/test-deb.sh [PATH.deb]     (default: build it with scripts/build-deb.sh)
# The clean root is cached in .build-deb/bookworm-root.tar after the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_apt lintian debootstrap systemd python3

deb=${1:-$(bash scripts/build-deb.sh | tail -1)}
deb=$(realpath "$deb")
work=$(mktemp -d)
root=$work/root
cleanup() {
  [ -n "${daemon_pid:-}" ] && kill "$daemon_pid" 2>/dev/null || true
  mountpoint -q "$root/proc" && umount "$root/proc" || true
  rm -rf "$work"
}
trap cleanup EXIT
fail=0
check() { if eval "$2"; then echo "PASS $1"; else echo "FAIL $1"; fail=1; fi; }
# Owners as the installed system names them (the host's uids may name others).
mode_of() { chroot "$root" stat -c '%U:%G %a' "$1"; }

echo "== lintian $(basename "$deb")"
lintian --no-tag-display-limit "$deb" | tee "$work/lintian.txt" || true
check "lintian reports no errors" "! grep -q '^E:' '$work/lintian.txt'"

echo "== systemd-analyze verify"
mkdir -p "$work/x"
dpkg-deb -x "$deb" "$work/x"
# The unit as packaged, its ExecStart pointed at the packaged binary (this machine
# has none in /usr/bin); man pages are not looked up (no man-db needed).
mkdir -p "$work/unit"
sed "s|^ExecStart=/usr/bin/zkswiftd|ExecStart=$work/x/usr/bin/zkswiftd|" "$work/x/lib/systemd/system/zkswiftd.service" \
  >"$work/unit/zkswiftd.service"
check "systemd-analyze verify accepts the unit" "systemd-analyze verify --man=no '$work/unit/zkswiftd.service'"

echo "== a clean Debian 12 root"
cache=.build-deb/bookworm-root.tar
if [ ! -f "$cache" ]; then
  mkdir -p .build-deb "$work/fresh"
  debootstrap --variant=minbase --include=adduser bookworm "$work/fresh" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; exit 1; }
  tar -C "$work/fresh" -cf "$cache" .
  rm -rf "$work/fresh"
fi
mkdir -p "$root"
tar -C "$root" -xf "$cache"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
echo "== apt-get install ./$(basename "$deb") (dependencies from the Debian mirror)"
chroot "$root" apt-get update -qq
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "/tmp/$(basename "$deb")" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; exit 1; }

check "zkswiftd and zkswift are root:root 0755" \
  "[ \"\$(mode_of /usr/bin/zkswiftd)\" = 'root:root 755' ] && [ \"\$(mode_of /usr/bin/zkswift)\" = 'root:root 755' ]"
check "/etc/zkswiftd/zoo.cfg is root:root 0644" "[ \"\$(mode_of /etc/zkswiftd/zoo.cfg)\" = 'root:root 644' ]"
check "zoo.cfg is a conffile" "grep -qx /etc/zkswiftd/zoo.cfg '$root/var/lib/dpkg/info/zkswiftd.conffiles'"
check "the unit is installed root:root 0644" "[ \"\$(mode_of /lib/systemd/system/zkswiftd.service)\" = 'root:root 644' ]"
check "man pages zkswiftd(8) and zkswift(1)" \
  "[ -f '$root/usr/share/man/man8/zkswiftd.8.gz' ] && [ -f '$root/usr/share/man/man1/zkswift.1.gz' ]"
check "examples and copyright" \
  "[ -f '$root/usr/share/doc/zkswiftd/examples/zoo-3node.cfg' ] && [ -f '$root/usr/share/doc/zkswiftd/copyright' ]"
pw=$(chroot "$root" getent passwd zkswiftd || true)
echo "   passwd: $pw"
check "zkswiftd is a system user with no login shell, home /var/lib/zkswiftd" \
  "[ -n '$pw' ] && [ \$(echo '$pw' | cut -d: -f3) -lt 1000 ] && echo '$pw' | grep -q ':/var/lib/zkswiftd:/usr/sbin/nologin$'"
check "group zkswiftd exists" "chroot '$root' getent group zkswiftd >/dev/null"
check "/var/lib/zkswiftd is zkswiftd:zkswiftd 0750" "[ \"\$(mode_of /var/lib/zkswiftd)\" = 'zkswiftd:zkswiftd 750' ]"
check "zkswiftd --help runs (no missing libraries) and names its config" \
  "chroot '$root' /usr/bin/zkswiftd --help | grep -q /etc/zkswiftd/zoo.cfg"
check "zkswift --help runs" "chroot '$root' /usr/bin/zkswift --help >/dev/null"

echo "== the installed daemon, as user zkswiftd, on free ports"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
aport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s/^clientPort=.*/clientPort=$port\nclientPortAddress=127.0.0.1/" -e "s/^admin.serverPort=.*/admin.serverPort=$aport/" \
  "$root/etc/zkswiftd/zoo.cfg" >"$root/tmp/test.cfg"
chmod 0644 "$root/tmp/test.cfg"
chroot --userspec=zkswiftd:zkswiftd "$root" /usr/bin/zkswiftd /tmp/test.cfg >"$work/daemon.log" 2>&1 &
daemon_pid=$!
answer=""
for _ in $(seq 1 50); do
  answer=$(python3 -c "
import socket,sys
try:
    s=socket.create_connection(('127.0.0.1',$port),timeout=1); s.sendall(b'ruok'); print(s.recv(16).decode())
except OSError: pass" || true)
  [ "$answer" = imok ] && break
  sleep 0.2
done
check "the daemon answers ruok with imok" "[ '$answer' = imok ]"
check "its snapshot is in /var/lib/zkswiftd, owned by zkswiftd" \
  "[ \"\$(chroot '$root' sh -c 'stat -c %U /var/lib/zkswiftd/version-2/snapshot.*' | head -1)\" = zkswiftd ]"
kill -TERM "$daemon_pid"
wait "$daemon_pid" && rc=0 || rc=$?
daemon_pid=""
check "SIGTERM: the daemon exits 0" "[ $rc = 0 ]"
[ $fail = 0 ] || { echo "-- daemon log:"; cat "$work/daemon.log"; }

echo "== remove, then purge"
echo "# changed by the administrator" >>"$root/etc/zkswiftd/zoo.cfg"
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq zkswiftd >>"$work/install.log" 2>&1
check "remove: the binaries are gone" "[ ! -e '$root/usr/bin/zkswiftd' ] && [ ! -e '$root/usr/bin/zkswift' ]"
check "remove: the changed conffile stays" "grep -q 'changed by the administrator' '$root/etc/zkswiftd/zoo.cfg'"
check "remove: the data stays" "[ -d '$root/var/lib/zkswiftd/version-2' ]"
chroot "$root" dpkg --purge zkswiftd >/dev/null
check "purge: /etc/zkswiftd is gone" "[ ! -e '$root/etc/zkswiftd' ]"
check "purge: /var/lib/zkswiftd is gone" "[ ! -e '$root/var/lib/zkswiftd' ]"
check "purge: dpkg forgets the package" "! chroot '$root' dpkg -s zkswiftd >/dev/null 2>&1"

[ $fail = 0 ] && echo "test-deb: all checks passed" || echo "test-deb: some checks FAILED"
exit $fail
