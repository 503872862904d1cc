#!/usr/bin/env bash
# Boots the Debian package in a real Debian 12 virtual machine (systemd as
# PID 1, its own kernel) and checks the service as an operator meets it:
# dpkg -i installs it (the postinst starts and enables it), `systemctl start`
# returns once the daemon sent READY=1 (timed), the unit is active, ruok
# answers imok at once, it is still up past the watchdog interval, `systemctl
# stop` leaves it inactive with Result=success and a main process that exited
# with status 0, and the journal holds the daemon's lines with their
# priorities. For developers and operators, not CI: it needs qemu, debootstrap
# and root for the image, and takes minutes (much longer without KVM).
#
#   scripts/vm-test.sh [PATH.deb]      (default: build it with scripts/build-deb.sh)
#
# The VM image (Debian 12 from deb.debian.org: kernel, systemd, udev, nc and
# the package's dependencies, so the guest needs no network) is built once with
# debootstrap and kept in .build-vm/; the kernel boots directly (-kernel/-initrd,
# no bootloader). Each run boots it with its writes thrown away (snapshot=on),
# the package and the test script on a second, read-only disk. Each check
# prints "@@ZKVM PASS|FAIL <name>" on the serial console; the console log of
# the last run is kept in .build-vm/last-console.log. Exits 0 only if every
# check passed.
#
# Environment:
#   ZKSWIFTD_VM_TIMEOUT=1200   seconds before the VM is killed (boot + tests)
#   ZKSWIFTD_VM_STEP_TIMEOUT   seconds each install/start/stop may take in the
#                              guest (default 120 with KVM, 300 without)
#   ZKSWIFTD_VM_WATCHDOG_WAIT  seconds the service must stay up after start
#                              without a restart (default: its WatchdogSec + 5;
#                              0 skips the check)
#   ZKSWIFTD_VM_ACCEL=auto     kvm, tcg or auto (kvm when a kernel boots with
#                              /dev/kvm, else software emulation)
#   ZKSWIFTD_VM_MEMORY=1024    guest memory in MiB;  ZKSWIFTD_VM_CPUS=2
#   ZKSWIFTD_VM_MIRROR=http://deb.debian.org/debian   for debootstrap
#   ZKSWIFTD_VM_REBUILD=1      rebuild the cached image
#   ZKSWIFTD_VM_VERBOSE=1      stream the whole serial console, not only results
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

T_START=$(date +%s)
VM_DIR=.build-vm
TIMEOUT=${ZKSWIFTD_VM_TIMEOUT:-1200}
MEMORY=${ZKSWIFTD_VM_MEMORY:-1024}
CPUS=${ZKSWIFTD_VM_CPUS:-2}
MIRROR=${ZKSWIFTD_VM_MIRROR:-http://deb.debian.org/debian}
ACCEL=${ZKSWIFTD_VM_ACCEL:-auto}
MARK=@@ZKVM

die() { echo "vm-test: $*" >&2; exit 2; }
secs() { echo $(($(date +%s) - $1)); }

# Tools: installed through apt when missing (as deps.sh does for the build).
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v dpkg-deb >/dev/null || need+=(dpkg)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] || command -v sudo >/dev/null; then
    ensure_apt "${need[@]}"
  else
    die "missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root"
  fi
fi

deb=${1:-}
if [ -z "$deb" ]; then
  echo "== no package given: building it with scripts/build-deb.sh"
  [ -f scripts/build-deb.sh ] || die "scripts/build-deb.sh not found; pass a .deb"
  deb=$(bash scripts/build-deb.sh | tail -1)
fi
[ -f "$deb" ] || die "no such package: $deb"
deb=$(realpath "$deb")
pkg_name=$(dpkg-deb -f "$deb" Package) || die "$deb is not a Debian package"
[ "$pkg_name" = zkswiftd ] || die "$deb is package '$pkg_name', not zkswiftd"
echo "== package $deb ($(dpkg-deb -f "$deb" Version), $(du -h "$deb" | cut -f1))"

work=$(mktemp -d "${TMPDIR:-/tmp}/zkswiftd-vm.XXXXXX")
# qemu runs in a background { } group (so that bash's notes on how it died go
# to its log, not the terminal); -pidfile names qemu itself.
qemu_pid=""
kill_qemu() { # kill_qemu GROUP_PID PIDFILE: qemu, whose group then ends too
  if [ -s "$2" ] && kill "$(cat "$2")" 2>/dev/null; then return 0; fi
  kill "$1" 2>/dev/null
  return 0
}
cleanup() {
  [ -n "$qemu_pid" ] && kill_qemu "$qemu_pid" "$work/qemu.pid"
  # debootstrap may leave /proc, /sys... mounted in the root it was building.
  if [ -d "$work" ]; then
    { findmnt -rn -o TARGET | grep -F "$work/" | sort -r | while read -r m; do as_root umount -l "$m"; done; } || true
    as_root rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the image
# Packages in the image: what boots, what the checks use, the package's usual
# dependencies, and any other dependency of this package (versions and
# alternatives dropped), so dpkg -i needs no network. The image is rebuilt
# when a package's dependency is not in it.
base_pkgs=(systemd-sysv udev linux-image-amd64 initramfs-tools kmod netcat-openbsd procps
  libsnappy1v5 zlib1g libsystemd0 adduser)
mapfile -t dep_pkgs < <({ dpkg-deb -f "$deb" Depends; dpkg-deb -f "$deb" Pre-Depends; } | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' | grep -v '^$')

# Runs once in the freshly bootstrapped root (chroot): the test unit, fstab,
# and nothing that would start on its own and get in the way.
guest_setup=$(cat <<'SETUP'
set -e
echo zkvm >/etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 zkvm\n::1 localhost ip6-localhost ip6-loopback\n' >/etc/hosts
printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' >/etc/fstab
: >/etc/machine-id
cat >/etc/systemd/system/zkvm-test.service <<'UNIT'
# vm-test.sh: runs the test script of the disk /dev/vdb, then powers off.
[Unit]
Description=zkswiftd VM test
Requires=dev-vdb.device
After=dev-vdb.device multi-user.target
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'mkdir -p /run/zkvm && mount -o ro /dev/vdb /run/zkvm && exec /bin/sh /run/zkvm/run.sh'
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
TimeoutStartSec=1h

[Install]
WantedBy=multi-user.target
UNIT
systemctl enable zkvm-test.service
systemctl mask serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer fstrim.timer 2>/dev/null || true
ls /boot/vmlinuz-* /boot/initrd.img-* >/dev/null 2>&1 || update-initramfs -c -k all
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
SETUP
)
recipe_version=1
key=$(printf '%s\n' "$recipe_version" "${base_pkgs[@]}" "$MIRROR" "$guest_setup" | sha256sum | cut -c1-12)
image_dir=$VM_DIR/bookworm-$key
missing=()
if [ -f "$image_dir/packages.txt" ]; then
  for p in "${dep_pkgs[@]}"; do grep -q "^$p " "$image_dir/packages.txt" || missing+=("$p"); done
fi
# What the image has now stays in it.
extra=$([ -f "$image_dir/extra.txt" ] && cat "$image_dir/extra.txt" || true)
pkgs=$(printf '%s\n' "${base_pkgs[@]}" "${dep_pkgs[@]}" $extra | sort -u | paste -sd, -)

t_image=$(date +%s)
if [ -n "${ZKSWIFTD_VM_REBUILD:-}" ] && [ -d "$image_dir" ]; then as_root rm -rf "$image_dir"; fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "== VM image: rebuilding, the package depends on ${missing[*]}"
fi
if [ -f "$image_dir/root.img" ] && [ ${#missing[@]} = 0 ]; then
  echo "== VM image: cached $image_dir"
  image_how=cached
else
  [ "$(id -u)" = 0 ] || command -v sudo >/dev/null || die "building the VM image needs root (debootstrap, chroot)"
  echo "== VM image: debootstrap bookworm ($pkgs)"
  mkdir -p "$VM_DIR"
  root=$work/root
  if ! as_root debootstrap --variant=minbase --include="$pkgs" bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
    tail -30 "$work/debootstrap.log" >&2
    die "debootstrap failed (full log above); is $MIRROR reachable?"
  fi
  printf '%s\n' "$guest_setup" | as_root chroot "$root" /bin/sh -s >>"$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log" >&2; die "configuring the image failed"; }
  kernel=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
  initrd=$(ls "$root"/boot/initrd.img-* 2>/dev/null | sort -V | tail -1)
  [ -n "$kernel" ] && [ -n "$initrd" ] || die "no kernel or initrd in the image's /boot"
  new=$work/image
  mkdir -p "$new"
  as_root cp "$kernel" "$new/vmlinuz"
  as_root cp "$initrd" "$new/initrd.img"
  as_root chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$new/packages.txt"
  tr ',' '\n' <<<"$pkgs" | grep -vxF -f <(printf '%s\n' "${base_pkgs[@]}") >"$new/extra.txt" || true
  # An ext4 filesystem without a partition table (/dev/vda), filled from the
  # directory: no loop device or mount needed; half as much free space again.
  used_mb=$(as_root du -sm --one-file-system "$root" | cut -f1)
  size_mb=$((used_mb * 3 / 2 + 512))
  truncate -s "${size_mb}M" "$new/root.img"
  as_root mkfs.ext4 -q -F -L zkvm-root -d "$root" "$new/root.img" >>"$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log" >&2; die "mkfs.ext4 -d failed"; }
  as_root chmod 0644 "$new/vmlinuz" "$new/initrd.img" "$new/root.img"
  [ "$(id -u)" = 0 ] || as_root chown -R "$(id -u):$(id -g)" "$new"
  rm -rf "$image_dir"
  mv "$new" "$image_dir"
  # Older images built from another recipe are no longer used.
  for old in "$VM_DIR"/bookworm-*; do [ "$old" = "$image_dir" ] || as_root rm -rf "$old"; done
  image_how="built in $(secs "$t_image") s"
  echo "== VM image: $image_how ($image_dir, ${used_mb} MiB used)"
fi
image_secs=$(secs "$t_image")

# ---------------------------------------------------------------- the run
# auto: KVM if a stock kernel boots under it. /dev/kvm may be there and still
# not run one (nested setups such as PVM, which runs only PVM-built guest
# kernels; a CPU model the host refuses): the kernel must print its banner on
# the serial port within 20 s. The verdict is kept per host kernel.
kvm_boots() {
  local probe=$VM_DIR/kvm-probe verdict log pid i
  if [ -f "$probe" ] && [ "$(head -1 "$probe")" = "$(uname -r) $image_dir" ]; then
    verdict=$(sed -n 2p "$probe")
  else
    log=$work/kvm-probe.log
    : >"$log"
    { qemu-system-x86_64 -accel kvm -cpu host -m 256 -display none -monitor none -serial "file:$log" -pidfile "$work/probe.pid" \
        -no-reboot -nic none -kernel "$image_dir/vmlinuz" -append "console=ttyS0 earlyprintk=serial panic=-1"; } \
      >"$work/kvm-probe.qemu.log" 2>&1 &
    pid=$!
    verdict=no
    for i in $(seq 1 40); do
      grep -aq 'Linux version' "$log" && { verdict=yes; break; }
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill_qemu "$pid" "$work/probe.pid"
    wait "$pid" 2>/dev/null || true
    printf '%s\n%s\n' "$(uname -r) $image_dir" "$verdict" >"$probe"
    if [ $verdict = no ]; then
      echo "== /dev/kvm is there but a Debian kernel does not boot under it ($(grep -m2 '^qemu' "$work/kvm-probe.qemu.log" | tr '\n' ' ')): TCG"
    fi
  fi
  [ "$verdict" = yes ]
}
if [ "$ACCEL" = auto ]; then
  if [ -r /dev/kvm ] && [ -w /dev/kvm ] && kvm_boots; then ACCEL=kvm; else ACCEL=tcg; fi
fi
case $ACCEL in
  kvm) accel_args=(-accel kvm -cpu host); default_step=120 ;;
  tcg) accel_args=(-accel tcg,thread=multi -cpu max); default_step=300 ;;
  *) die "ZKSWIFTD_VM_ACCEL must be kvm, tcg or auto" ;;
esac
STEP_TIMEOUT=${ZKSWIFTD_VM_STEP_TIMEOUT:-$default_step}

# The second disk: the package, the settings and the script the guest runs.
payload=$work/payload
mkdir -p "$payload"
cp "$deb" "$payload/zkswiftd.deb"
cat >"$payload/config.sh" <<EOF
DEB=/run/zkvm/zkswiftd.deb
STEP_TIMEOUT=$STEP_TIMEOUT
WATCHDOG_WAIT=${ZKSWIFTD_VM_WATCHDOG_WAIT:-}
EOF
cat >"$payload/run.sh" <<'GUEST'
#!/bin/sh
# Runs in the VM as zkvm-test.service, output on the serial console. Every
# check prints one "@@ZKVM PASS|FAIL <name> -- <detail>" line.
. /run/zkvm/config.sh
M=@@ZKVM
pass=0 fail=0
export SYSTEMD_PAGER= SYSTEMD_COLORS=0
now_ms() { echo $(($(date +%s%N) / 1000000)); }
ms_since() { echo $(($(now_ms) - $1)); }
result() { # result PASS|FAIL NAME [DETAIL]
  echo "$M $1 $2${3:+ -- $3}"
  if [ "$1" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
ok() { if [ "$1" = 0 ]; then result PASS "$2" "$3"; else result FAIL "$2" "$3"; fi; }
prop() { systemctl show -p "$1" --value zkswiftd; }
ruok() { printf ruok | timeout 10 nc -q 2 -w 5 127.0.0.1 2181 2>/dev/null; }
indent() { sed 's/^/    | /'; }

echo "$M BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)s virt=$(systemd-detect-virt) kernel=$(uname -r) $(systemctl --version | head -1)"
echo "$M INFO boot: multi-user.target reached $(($(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target) / 1000)) ms after the kernel started"

# 1. dpkg -i: the postinst creates the user, enables the unit and starts it
#    (deb-systemd-invoke start waits for READY=1 like systemctl start).
t=$(now_ms)
timeout "$STEP_TIMEOUT" env DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" >/tmp/dpkg.log 2>&1
rc=$?
ok $rc install "dpkg -i exit $rc in $(ms_since $t) ms$([ $rc = 124 ] && echo ", killed after ${STEP_TIMEOUT}s: did the postinst's start wait for READY=1?")"
[ $rc = 0 ] || indent </tmp/dpkg.log
[ "$(systemctl is-enabled zkswiftd 2>&1)" = enabled ]; ok $? enabled "is-enabled: $(systemctl is-enabled zkswiftd 2>&1)"
st=$(systemctl is-active zkswiftd)
[ "$st" = active ]; ok $? active-after-install "is-active after dpkg -i: $st"

# 2. A stop, then a timed start: systemctl start returns once READY=1 came.
timeout "$STEP_TIMEOUT" systemctl stop zkswiftd >/dev/null 2>&1
systemctl reset-failed zkswiftd 2>/dev/null
t=$(now_ms)
timeout "$STEP_TIMEOUT" systemctl start zkswiftd 2>/tmp/start.err
rc=$?
start_ms=$(ms_since $t)
ok $rc start "systemctl start exit $rc in $start_ms ms$([ $rc = 124 ] && echo " (no READY=1 within ${STEP_TIMEOUT}s)") $(cat /tmp/start.err)"
echo "$M TIME start_ms=$start_ms"
answer=$(ruok)
if [ "$answer" = imok ]; then
  result PASS ruok "imok at once after start returned"
else
  # Not serving yet when READY came (or never): how long until it does?
  t=$(now_ms) n=0
  while [ $n -lt 20 ] && [ "$answer" != imok ]; do sleep 0.5; answer=$(ruok); n=$((n + 1)); done
  result FAIL ruok "no imok right after start returned ('$answer' after another $(ms_since $t) ms)"
fi
st=$(systemctl is-active zkswiftd)
[ "$st" = active ]; ok $? active "is-active: $st, SubState=$(prop SubState), MainPID=$(prop MainPID), StatusText=$(prop StatusText)"
user=$(ps -o user= -p "$(prop MainPID)")
[ "$user" = zkswiftd ]; ok $? runs-as-zkswiftd "main process user: ${user:-none}"

# 3. Still up past the watchdog interval, without a restart.
wd_us=$(prop WatchdogUSec)
wait_s=$WATCHDOG_WAIT
if [ -z "$wait_s" ]; then
  case $wd_us in
    ''|0|infinity) wait_s=0 ;;
    *) wait_s=$(($(systemd-analyze timespan "$wd_us" | sed -n 's/.*μs: *//p') / 1000000 + 5)) ;;
  esac
fi
if [ "$wait_s" -gt 0 ]; then
  pid0=$(prop MainPID)
  sleep "$wait_s"
  st=$(systemctl is-active zkswiftd) restarts=$(prop NRestarts) pid1=$(prop MainPID) answer=$(ruok)
  [ "$st" = active ] && [ "$restarts" = 0 ] && [ "$pid0" = "$pid1" ] && [ "$answer" = imok ]
  ok $? watchdog "after ${wait_s}s (WatchdogSec=$wd_us): $st, NRestarts=$restarts, MainPID $pid0 -> $pid1, ruok '$answer'"
fi

# 4. systemctl stop: inactive, not failed; the main process exited 0 by itself.
pid=$(prop MainPID)
t=$(now_ms)
timeout "$STEP_TIMEOUT" systemctl stop zkswiftd 2>/tmp/stop.err
rc=$?
stop_ms=$(ms_since $t)
ok $rc stop "systemctl stop exit $rc in $stop_ms ms $(cat /tmp/stop.err)"
echo "$M TIME stop_ms=$stop_ms"
st=$(systemctl is-active zkswiftd)
[ "$st" = inactive ]; ok $? inactive-after-stop "is-active: $st"
res=$(prop Result)
[ "$res" = success ]; ok $? result-success "Result=$res"
code=$(prop ExecMainCode) status=$(prop ExecMainStatus)
# ExecMainCode 1 is CLD_EXITED; 2 (CLD_KILLED) with status 15 means SIGTERM
# killed it, which systemd also counts as success.
[ "$code" = 1 ] && [ "$status" = 0 ]
ok $? exit-status-0 "main process $pid: ExecMainCode=$code (1=exited, 2=killed) ExecMainStatus=$status"

# 5. The journal: the daemon's own lines (not systemd's about the unit), at
#    their priorities, with no unparsed "<N>" prefixes.
J="journalctl -b --no-pager -u zkswiftd SYSLOG_IDENTIFIER=zkswiftd"
all=$($J -o cat | wc -l)
info=$($J -p info..info -o cat | wc -l)
warn=$($J -p warning -o cat | wc -l)
raw=$($J -o cat | grep -c '^<[0-7]>')
prios=$($J -o export | sed -n 's/^PRIORITY=//p' | sort | uniq -c | awk '{printf "%s%s=%s", s, $2, $1; s=" "}')
[ "$all" -gt 0 ] && [ "$info" -gt 0 ] && [ "$warn" -lt "$all" ] && [ "$raw" = 0 ]
ok $? journal-priorities "$all daemon lines, by PRIORITY: ${prios:-none}; -p info..info: $info, -p warning: $warn, raw <N> prefixes: $raw"
echo "$M INFO journal of zkswiftd (last 60 lines):"
journalctl -b --no-pager -u zkswiftd -o short-monotonic | tail -60 | indent

echo "$M END pass=$pass fail=$fail"
GUEST
payload_mb=$(( $(du -sm "$payload" | cut -f1) + 16 ))
truncate -s "${payload_mb}M" "$work/payload.img"
mkfs.ext4 -q -F -L zkvm-test -d "$payload" "$work/payload.img"

console=$work/console.log
: >"$console"
echo "== booting the VM ($ACCEL, ${MEMORY} MiB, $CPUS CPUs, timeout ${TIMEOUT}s; console log: $VM_DIR/last-console.log)"
t_boot=$(date +%s)
{ qemu-system-x86_64 -name zkswiftd-vm-test "${accel_args[@]}" -machine q35 -m "$MEMORY" -smp "$CPUS" \
    -display none -monitor none -serial "file:$console" -no-reboot -nic none -pidfile "$work/qemu.pid" \
    -kernel "$image_dir/vmlinuz" -initrd "$image_dir/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 panic=-1 net.ifnames=0 systemd.show_status=1" \
    -drive "file=$image_dir/root.img,format=raw,if=virtio,snapshot=on" \
    -drive "file=$work/payload.img,format=raw,if=virtio,readonly=on"; } >"$work/qemu.log" 2>&1 &
qemu_pid=$!
# Progress: the result lines as they come (the whole console when verbose).
shown=0
show_new() {
  if [ -n "${ZKSWIFTD_VM_VERBOSE:-}" ]; then
    local size; size=$(stat -c %s "$console")
    [ "$size" -gt "$shown" ] && tail -c +$((shown + 1)) "$console" | head -c $((size - shown)) | tr -d '\r'
    shown=$size
  else
    local lines n
    lines=$(grep -a -E "^$MARK (PASS|FAIL|BEGIN|END|TIME|INFO boot)" "$console" | tr -d '\r' || true)
    n=$(grep -c . <<<"$lines" || true)
    [ "$n" -gt "$shown" ] && tail -n +$((shown + 1)) <<<"$lines" | sed 's/^/  /'
    shown=$n
  fi
  return 0
}
# The guest powers off after its END line; one that does not within
# $poweroff_grace s is killed (its results stand).
poweroff_grace=$([ "$ACCEL" = kvm ] && echo 60 || echo 180)
t_begin="" t_done="" timed_out="" no_poweroff=""
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ -z "$t_begin" ] && grep -aq "^$MARK BEGIN" "$console"; then t_begin=$(date +%s); fi
  if [ -z "$t_done" ] && grep -aq "^$MARK END" "$console"; then t_done=$(date +%s); fi
  show_new
  if [ "$(secs "$t_boot")" -ge "$TIMEOUT" ]; then
    timed_out=1
  elif [ -n "$t_done" ] && [ "$(secs "$t_done")" -ge "$poweroff_grace" ]; then
    no_poweroff=1
  fi
  if [ -n "$timed_out$no_poweroff" ]; then
    kill_qemu "$qemu_pid" "$work/qemu.pid"
    break
  fi
  sleep 1
done
wait "$qemu_pid" 2>/dev/null && qemu_rc=0 || qemu_rc=$?
qemu_pid=""
show_new
t_end=$(date +%s)
tr -d '\r' <"$console" >"$VM_DIR/last-console.log"

# ---------------------------------------------------------------- results
results=$(grep -a "^$MARK " "$VM_DIR/last-console.log" || true)
npass=$(grep -c "^$MARK PASS " <<<"$results" || true)
nfail=$(grep -c "^$MARK FAIL " <<<"$results" || true)
if [ -n "${ZKSWIFTD_VM_VERBOSE:-}" ]; then
  echo; echo "== results"
  grep -E "^$MARK (PASS|FAIL|TIME|INFO boot)" <<<"$results" | sed "s/^$MARK /  /" || true
fi
if [ "$nfail" != 0 ]; then
  echo "== failed checks"
  grep "^$MARK FAIL " <<<"$results" | sed "s/^$MARK /  /"
fi
ok=1
if [ -n "$timed_out" ]; then
  echo "  FAIL the VM did not finish within ${TIMEOUT}s (killed)"; ok=0
elif [ -n "$no_poweroff" ]; then
  echo "  (warning: the guest did not power off within ${poweroff_grace}s of its last check; killed)"
elif [ "$qemu_rc" != 0 ]; then
  echo "  FAIL qemu exited with status $qemu_rc:"; sed 's/^/    /' "$work/qemu.log"; ok=0
fi
if ! grep -q "^$MARK END " <<<"$results"; then
  echo "  FAIL the guest's test did not run to its end (see $VM_DIR/last-console.log)"; ok=0
fi
[ "$nfail" = 0 ] || ok=0
[ "$npass" -gt 0 ] || ok=0
boot_s=$([ -n "$t_begin" ] && echo $((t_begin - t_boot)) || echo "?")
test_s=$([ -n "$t_begin" ] && [ -n "$t_done" ] && echo $((t_done - t_begin)) || echo "?")
off_s=$([ -n "$t_done" ] && echo $((t_end - t_done)) || echo "?")
echo "== timings: image ${image_secs}s ($image_how), boot ${boot_s}s, tests ${test_s}s, poweroff ${off_s}s, VM $((t_end - t_boot))s, total $(secs "$T_START")s ($ACCEL)"
if [ $ok = 1 ]; then
  echo "vm-test: all $npass checks passed"
  exit 0
fi
echo "vm-test: FAILED ($npass passed, $nfail failed; serial console log: $VM_DIR/last-console.log)"
exit 1
