#!/usr/bin/env bash
# A local ZooKeeper ensemble on loopback, zkswiftd or Apache ZooKeeper 3.8.0:
#   scripts/cluster.sh start  N [--observers K] [--impl zkswiftd|apache] [--dir DIR]
#   scripts/cluster.sh status [--dir DIR]
#   scripts/cluster.sh stop   [--dir DIR]
# N voters (3 or 5) with ids 1..N, then K observers with ids N+1..N+K.
# Server i lives in DIR/i (default DIR: ./cluster in the repo root): zoo.cfg,
# data/myid, server.log (stdout and stderr), pid. A later start on the same DIR
# keeps the data (rm -rf DIR for a fresh ensemble). Ports are fixed offsets from
# CLUSTER_BASE_PORT (default 12180), so they are predictable:
#   client BASE+i, quorum BASE+100+i, election BASE+200+i  (server 1: 12181, 12281, 12381),
#   and for zkswiftd the AdminServer on BASE+300+i (http://127.0.0.1:12481/commands)
# CLUSTER_TICK_TIME (default 2000) sets tickTime, e.g. 500 for quick failover;
# CLUSTER_WAIT (default 60) is how many seconds start waits for every server to serve.
# zkswiftd is ${ZKSWIFTD_BIN:-.build/release/zkswiftd}, built in release mode
# only when that binary is missing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}; shift || true
n="" observers=0 impl=zkswiftd dir="$repo/cluster"
while [ $# -gt 0 ]; do
  case "$1" in
    --observers) observers=$2; shift 2 ;;
    --impl) impl=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    [0-9]*) n=$1; shift ;;
    *) usage ;;
  esac
done
case "$impl" in zkswiftd|apache) ;; *) usage ;; esac
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)  # absolute: it goes into zoo.cfg and the servers' command lines
base=${CLUSTER_BASE_PORT:-12180}
tick=${CLUSTER_TICK_TIME:-2000}

# The servers DIR holds (stop and status accept N too, but act on what is there).
ids() {
  local d; for d in "$dir"/[0-9]*/; do [ -f "$d/zoo.cfg" ] && basename "$d"; done | sort -n
}

# alive ID: its pid file names a running process that is this server (a pid
# may have been reused since, so check the command line names its zoo.cfg).
alive() {
  local pid; pid=$(cat "$dir/$1/pid" 2>/dev/null) || return 1
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$dir/$1/zoo.cfg"
}

# srvr ID: the 4lw answer over the client port (bash's /dev/tcp: nc may be missing).
srvr() {
  timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 && printf srvr >&3 && cat <&3' "$((base + $1))" 2>/dev/null || true
}

mode() {
  local out; out=$(srvr "$1")
  case "$out" in
    *"Mode: "*) sed -n 's/^Mode: //p' <<<"$out" ;;
    "") echo "no answer" ;;
    *) echo "not serving" ;;
  esac
}

# One line per server; fails unless every server runs and serves.
status() {
  local i m state ok=0
  for i in $(ids); do
    if alive "$i"; then state="pid $(cat "$dir/$i/pid") alive"; else state="not running"; ok=1; fi
    m=$(mode "$i")
    case "$m" in leader|follower|observer|standalone) ;; *) ok=1 ;; esac
    printf 'server.%s  client 127.0.0.1:%s  %-18s  %s\n' "$i" "$((base + i))" "$state" "$m"
  done
  return $ok
}

connect_string() {
  local i s=""
  for i in $(ids); do s+="${s:+,}127.0.0.1:$((base + i))"; done
  echo "$s"
}

# server_cmd ID: the command line that runs server ID, into the array `cmd`.
server_cmd() {
  local d="$dir/$1"
  if [ "$impl" = zkswiftd ]; then
    cmd=("$bin" "$d/zoo.cfg")
    return
  fi
  # As Tests/compat/servers.py runs Apache: log4j to the console (server.log), admin server off.
  printf '%s\n' "log4j.rootLogger=INFO, CONSOLE" \
    "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender" \
    "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout" \
    "log4j.appender.CONSOLE.layout.ConversionPattern=%d %-5p [%t] %c{1} - %m%n" >"$d/log4j.properties"
  cmd=(java -Xmx512m "-Dlog4j.configuration=file:$d/log4j.properties" -Dzookeeper.admin.enableServer=false
       -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar
       org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg")
}

start() {
  [ -n "$n" ] || usage
  local i total=$((n + observers))
  for i in $(ids); do
    if alive "$i"; then echo "server.$i is already running (pid $(cat "$dir/$i/pid")); stop it first" >&2; exit 1; fi
    if [ "$i" -gt "$total" ]; then rm -rf "${dir:?}/$i"; fi  # left from a bigger ensemble
  done
  if [ "$impl" = zkswiftd ]; then
    bin=${ZKSWIFTD_BIN:-.build/release/zkswiftd}
    case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac
    if [ ! -x "$bin" ]; then
      echo "== $bin is missing: swift build -c release --product zkswiftd"
      (cd "$repo" && swift build -c release --product zkswiftd)
    fi
  fi
  local lines=""
  for i in $(seq 1 "$total"); do
    lines+="server.$i=127.0.0.1:$((base + 100 + i)):$((base + 200 + i))"
    if [ "$i" -gt "$n" ]; then lines+=":observer"; fi
    # The client address in full: with a bare ";port" Apache binds the client
    # port on every interface (and refuses it next to clientPortAddress=127.0.0.1).
    lines+=";127.0.0.1:$((base + i))"$'\n'
  done
  for i in $(seq 1 "$total"); do
    local d="$dir/$i"
    mkdir -p "$d/data"
    echo "$i" >"$d/data/myid"
    printf '%s\n' "tickTime=$tick" "initLimit=10" "syncLimit=5" "dataDir=$d/data" \
      "clientPort=$((base + i))" "clientPortAddress=127.0.0.1" "4lw.commands.whitelist=*" \
      "admin.serverAddress=127.0.0.1" "admin.serverPort=$((base + 300 + i))" >"$d/zoo.cfg"
    printf '%s' "$lines" >>"$d/zoo.cfg"
    if [ "$i" -gt "$n" ]; then echo "peerType=observer" >>"$d/zoo.cfg"; fi  # Apache warns when it disagrees with the server line
    server_cmd "$i"
    # setsid: out of this terminal's session, so a Ctrl-C or hang-up there leaves the
    # ensemble running; the inner bash writes its own pid, which exec hands to the server.
    (cd "$d" && exec setsid bash -c 'echo $$ >pid; exec "$@"' _ "${cmd[@]}" >>"$d/server.log" 2>&1 </dev/null &)
  done
  echo "started $impl: $n voters and $observers observers in $dir"
  local deadline=$((SECONDS + ${CLUSTER_WAIT:-60}))
  until status >/dev/null; do
    if [ $SECONDS -ge "$deadline" ]; then
      status || true
      echo "not every server serves after ${CLUSTER_WAIT:-60}s; logs: $dir/<id>/server.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  status
  echo "connect string: $(connect_string)"
}

stop() {
  local i p pids=()
  for i in $(ids); do
    if alive "$i"; then pids+=("$(cat "$dir/$i/pid")"); kill -TERM "${pids[-1]}" 2>/dev/null || true; fi
  done
  local deadline=$((SECONDS + 5))
  for p in "${pids[@]}"; do
    while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$p" 2>/dev/null; then echo "pid $p ignored SIGTERM for 5s: SIGKILL"; kill -KILL "$p" 2>/dev/null || true; fi
  done
  for i in $(ids); do rm -f "$dir/$i/pid"; done
  echo "stopped ${#pids[@]} server(s) in $dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
