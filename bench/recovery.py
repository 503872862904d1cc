#!/usr/bin/env python3
"""Recovery benchmark: how long zkswiftd and Apache ZooKeeper 3.8.0 take to
come back serving on a data directory holding 1,000,000 znodes of 100 bytes,
and their peak memory. A benchmark, not a test: it asserts only that the
servers recovered everything, and reports numbers. Usually run through
scripts/bench-recovery.sh, which installs the servers and builds zkswiftd.

1. Generate: a zkswiftd (release binary, $ZKSWIFTD_BIN) on an empty data
   directory, snapCount far above the number of writes, gets
   /bench/<k>/<n> (--parents parents, --nodes leaves of --size bytes)
   from kazoo with create_async pipelining, then SIGTERM. That directory is
   the "log" case: an empty snapshot.0 and every create in the txn log.
   A copy of it started once more (clean restart: the server writes a
   snapshot at every start) and stopped is the "snapshot" case; that copy
   less its txn log is the "snapshot-only" case (see CASES).
2. Trials: for each case, --trials rounds, each round starting zkswiftd and
   Apache (alternating which goes first) on a fresh copy of the case's data
   directory with the same zoo.cfg. Measured: wall time from process start
   until `srvr` answers with a Zxid line (polled every 20 ms), and VmHWM from
   /proc/PID/status just before SIGTERM (for Apache the whole JVM). Each
   recovered server must report the generated zxid and zk_znode_count.
   Before each trial the script waits for the CPUs to be idle, and a trial
   during which other processes took more than --max-other-cpu of the CPUs
   is run again (a shared 2-core machine otherwise gives noise, not numbers).
3. Report: medians, zkswiftd/Apache ratios, the servers' own timings from
   their logs; printed and written as markdown (--markdown) next to a JSON
   file of every trial.

The Apache JVM gets what Debian's zkServer.sh and /etc/zookeeper/conf/environment
give it: no -Xmx, so the JVM's default heap (a quarter of RAM). SERVER_JVMFLAGS,
as zkServer.sh reads it, adds flags (upstream's zkEnv.sh would give -Xmx1000m).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The compatibility suite's server launchers (servers.py) and its sparse-aware
# data-directory copy (durability.py) are reused, so the benchmark starts the
# servers exactly as the tests do.
sys.path.insert(0, os.path.join(ROOT, "Tests", "compat"))
import durability  # noqa: E402
import servers  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402

KINDS = ("zkswiftd", "apache")
# snapshot:      the data directory after a clean restart: the snapshot of the
#                whole tree, and the txn log before it that recovery reads
#                through to the snapshot's zxid (both servers do).
# snapshot-only: the same without that log: recovery is the snapshot alone.
#                (A server that has been running a while snapshots every
#                ~snapCount txns and starts a new log each time, so the log
#                before its newest snapshot is short, not the whole history.)
# log:           the data directory as written: an empty snapshot, then every
#                txn replayed from the log.
CASES = ("snapshot", "snapshot-only", "log")
POLL = 0.02


# ----------------------------------------------------------------- servers
def bench_cfg(data_dir):
    """The zoo.cfg both servers get (clientPort and clientPortAddress are
    added by servers.Server)."""
    return {
        "tickTime": "2000",
        "dataDir": data_dir,
        "4lw.commands.whitelist": "*",
        # Far above the generated writes, even after Apache's randomisation
        # (snapCount/2 + rand(snapCount/2)), so they all stay in one txn log.
        "snapCount": "10000000",
        # Apache's Jetty admin server is no part of recovery and zkswiftd has
        # none; Apache turns unknown zoo.cfg keys into zookeeper.* system
        # properties, so this line disables it there (zkswiftd logs it as ignored).
        "admin.enableServer": "false",
    }


def jvm_flags():
    return shlex.split(os.environ.get("SERVER_JVMFLAGS", ""))


def make(kind, data_dir, workdir):
    cls = {"zkswiftd": servers.ZkSwiftd, "apache": servers.Apache}[kind]
    srv = cls(cfg=bench_cfg(data_dir), workdir=workdir)
    # Exactly bench_cfg (plus the port) for both servers: no test-suite
    # defaults, no JVM -D settings beyond the launcher's logging.
    srv.cfg.pop("maxClientCnxns", None)
    srv.props = {}
    return srv


def command(srv):
    cmd = srv.command()
    if srv.kind == "apache":
        # servers.Apache caps the heap at 512 MiB for the test suite's small
        # trees; here the JVM keeps Debian's default unless SERVER_JVMFLAGS says otherwise.
        cmd = [cmd[0], *jvm_flags(), *[a for a in cmd[1:] if not a.startswith("-Xmx")]]
    return cmd


def srvr_zxid(port):
    """The Zxid from `srvr`, or None while the server is not serving."""
    text = servers.four_letter(port, "srvr", timeout=2.0)
    m = re.search(r"^Zxid: (0x[0-9a-fA-F]+)", text, re.M)
    return int(m.group(1), 16) if m else None


def mntr(port):
    out = {}
    for line in servers.four_letter(port, "mntr", timeout=10.0).splitlines():
        k, _, v = line.partition("\t")
        out[k] = v
    return out


def vm_kib(pid):
    """(VmHWM, VmRSS) of a process in KiB: peak and current resident memory."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                out[k] = int(v.split()[0])
    return out["VmHWM"], out["VmRSS"]


HZ = os.sysconf("SC_CLK_TCK")


def cpu_busy_s():
    """Seconds of CPU time the whole machine has spent busy (all CPUs)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / HZ  # less idle and iowait


def proc_cpu_s(pid):
    """User + system CPU seconds of a process so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def wait_idle(limit, busy_max=0.10):
    """Wait (up to `limit` s) for a second in which the machine's CPUs are at
    most `busy_max` busy: on a shared machine another job's build skews the
    times. Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        b0 = cpu_busy_s()
        time.sleep(1.0)
        if (cpu_busy_s() - b0) / (os.cpu_count() or 1) <= busy_max:
            break
    return time.monotonic() - t0


def start_timed(srv, timeout):
    """Start srv; return seconds from process start until srvr shows a Zxid,
    and that Zxid. srv.slowest_probe: the longest a single srvr took (a
    stalled probe would add to the time measured)."""
    cmd = command(srv)
    srv.log = open(srv.log_path, "ab")
    t0 = time.monotonic()
    srv.proc = subprocess.Popen(cmd, stdout=srv.log, stderr=subprocess.STDOUT,
                                cwd=srv.workdir, env=srv.env())
    srv.slowest_probe = 0.0
    while True:
        elapsed = time.monotonic() - t0
        if srv.proc.poll() is not None:
            raise RuntimeError(f"{srv.kind} exited with {srv.proc.returncode}:\n{srv.read_log()[-3000:]}")
        if elapsed > timeout:
            stop(srv)
            raise RuntimeError(f"{srv.kind} not serving after {timeout}s:\n{srv.read_log()[-3000:]}")
        p0 = time.monotonic()
        try:
            zxid = srvr_zxid(srv.port)
            if zxid is not None:
                return time.monotonic() - t0, zxid
        except OSError:
            pass
        finally:
            srv.slowest_probe = max(srv.slowest_probe, time.monotonic() - p0)
        time.sleep(POLL)


def stop(srv, timeout=120):
    """SIGTERM and wait; SIGKILL only if it hangs (then say so)."""
    if srv.proc and srv.proc.poll() is None:
        srv.proc.send_signal(signal.SIGTERM)
        try:
            srv.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            print(f"  {srv.kind} ignored SIGTERM for {timeout}s; killing it", flush=True)
            srv.proc.kill()
            srv.proc.wait()
    if srv.proc:
        srv.log.close()
    srv.proc = None


# ---------------------------------------------------------------- generate
def generate(args, gen_dir):
    """Write the "log" and "snapshot" data directories; returns their zxid."""
    log_dir = os.path.join(gen_dir, "log")
    os.makedirs(log_dir)
    work = os.path.join(gen_dir, "writer")
    os.makedirs(work)
    srv = make("zkswiftd", log_dir, work)
    try:
        start_timed(srv, 60)
        per_parent = args.nodes // args.parents
        payload = bytes((i * 7 + 13) % 251 for i in range(args.size))
        zk = KazooClient(hosts=srv.hosts, timeout=30)
        zk.start(timeout=30)
        window = threading.BoundedSemaphore(args.inflight)
        failures = []

        def done(result):
            if not result.successful():
                failures.append(result.exception)
            window.release()

        def create(path, data):
            window.acquire()
            zk.create_async(path, data).rawlink(done)

        def drain():
            for _ in range(args.inflight):
                window.acquire()
            for _ in range(args.inflight):
                window.release()
            if failures:
                raise RuntimeError(f"{len(failures)} creates failed, first: {failures[0]!r}")

        t0 = time.monotonic()
        zk.create("/bench", b"")
        for k in range(args.parents):
            create(f"/bench/{k}", b"")
        drain()
        for k in range(args.parents):
            for n in range(per_parent):
                create(f"/bench/{k}/{n}", payload)
            if (k + 1) % (args.parents // 10 or 1) == 0:
                done_n = (k + 1) * per_parent
                print(f"  {done_n:,} nodes, {done_n / (time.monotonic() - t0):,.0f}/s", flush=True)
        drain()
        zk.stop()  # closes the session: one more txn
        zk.close()
        zxid = srvr_zxid(srv.port)
    finally:
        stop(srv)  # SIGTERM: the data directory is left as a server leaves it
    print(f"  generated in {time.monotonic() - t0:.0f} s, last zxid 0x{zxid:x}", flush=True)

    # The "snapshot" case: the same directory after one clean restart, which
    # leaves a snapshot of the whole tree at the last zxid.
    snap_dir = os.path.join(gen_dir, "snapshot")
    durability.copy_datadir(log_dir, snap_dir)
    work = os.path.join(gen_dir, "restart")
    os.makedirs(work)
    srv = make("zkswiftd", snap_dir, work)
    _, z = start_timed(srv, 600)
    stop(srv)
    if z != zxid or f"snapshot.{zxid:x}" not in os.listdir(os.path.join(snap_dir, "version-2")):
        raise RuntimeError(f"clean restart left no snapshot at 0x{zxid:x}: {os.listdir(os.path.join(snap_dir, 'version-2'))}")
    snapshot_only(gen_dir)
    with open(os.path.join(gen_dir, "done.json"), "w") as f:
        json.dump({"zxid": zxid, "nodes": args.nodes, "parents": args.parents, "size": args.size}, f)
    return zxid


def snapshot_only(gen_dir):
    """The "snapshot-only" case: the "snapshot" directory less its logs."""
    dst = os.path.join(gen_dir, "snapshot-only")
    if not os.path.exists(dst):
        durability.copy_datadir(os.path.join(gen_dir, "snapshot"), dst)
        v2 = os.path.join(dst, "version-2")
        for name in os.listdir(v2):
            if name.startswith("log."):
                os.remove(os.path.join(v2, name))


def listing(d):
    v2 = os.path.join(d, "version-2")
    out = []
    for name in sorted(os.listdir(v2)):
        st = os.stat(os.path.join(v2, name))
        out.append(f"{name} ({st.st_size / 2**20:.1f} MiB, {st.st_blocks * 512 / 2**20:.1f} MiB on disk)")
    return out


# ------------------------------------------------------------------ trials
# Recovery timings the servers log themselves (medians go into the report).
# "restore" is the same span in both: newest snapshot loaded plus the log
# after it replayed (Apache's "Snapshot loaded in" covers both). Apache also
# logs the replay alone and the snapshot every start writes; zkswiftd logs
# neither, so its share of the rest is time to serving minus restore.
LOG_TIMINGS = {
    "zkswiftd": [
        ("restore ms", re.compile(r"Recovered \d+ nodes .* in (\d+) ms")),
    ],
    "apache": [
        ("restore ms", re.compile(r"Snapshot loaded in (\d+) ms")),
        ("of which log replay ms", re.compile(r"\d+ txns loaded in (\d+) ms")),
        ("startup snapshot ms", re.compile(r"Snapshot taken in (\d+) ms")),
    ],
}


def trial(kind, case, master, zxid, min_nodes, run_dir, args):
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    data = durability.copy_datadir(master, os.path.join(run_dir, "data"))
    # The copy stays in the page cache (recovery reads warm files, for both
    # servers alike) but is written back now, not while the server runs: its
    # writeback would compete with the server's own writes and fsyncs.
    os.sync()
    srv = make(kind, data, run_dir)
    waited = wait_idle(args.wait_idle)
    if waited > 2:
        print(f"  waited {waited:.0f} s for the machine to be idle", flush=True)
    # Recorded because anything else running on the machine skews the times.
    load = os.getloadavg()[0]
    busy0, t0 = cpu_busy_s(), time.monotonic()
    try:
        secs, got = start_timed(srv, args.timeout)
        m = mntr(srv.port)
        hwm, rss = vm_kib(srv.proc.pid)
        cpu = proc_cpu_s(srv.proc.pid)
        # CPU the rest of the machine used meanwhile (this script's polling included)
        other = (cpu_busy_s() - busy0 - cpu) / (time.monotonic() - t0) / (os.cpu_count() or 1)
        count = int(m.get("zk_znode_count", "0"))
    finally:
        stop(srv)
    with open(srv.log_path, errors="replace") as f:
        text = f.read()
    if got != zxid or count < min_nodes:
        raise RuntimeError(f"{kind} on {case}: zxid 0x{got:x} (want 0x{zxid:x}), "
                           f"zk_znode_count {count} (want >= {min_nodes})\n{text[-3000:]}")
    timings = {}
    for label, rx in LOG_TIMINGS[kind]:
        ms = rx.findall(text)
        if ms:
            timings[label] = int(ms[-1])
    if "restore ms" in timings:
        # process start, the startup snapshot and opening the port
        timings["serving - restore ms"] = round(secs * 1000) - timings["restore ms"]
    lines = [ln for ln in text.splitlines()
             if re.search(r"Recovered|Snapshot loaded|txns loaded|Snapshot taken|Reading snapshot", ln)]
    shutil.rmtree(run_dir, ignore_errors=True)
    return {"kind": kind, "case": case, "serving_s": secs, "vmhwm_kib": hwm, "vmrss_kib": rss,
            "znode_count": count, "zxid": got, "loadavg1_before": load,
            "server_cpu_s": cpu, "slowest_probe_s": srv.slowest_probe, "other_cpu_frac": max(other, 0.0), "log_timings_ms": timings, "log_lines": lines}


# ------------------------------------------------------------------ report
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as e:  # noqa: BLE001 - machine facts are best effort
        return f"({e})"


def machine(workdir):
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    mem = sh("grep MemTotal /proc/meminfo | awk '{printf \"%.1f GiB\", $2/1048576}'")
    return {
        "cpus": os.cpu_count(), "cpu": cpu, "memory": mem,
        "kernel": platform.release(),
        "filesystem": sh(f"df -T {shlex.quote(workdir)} | tail -1 | awk '{{print $1\" \"$2}}'"),
        "block devices": sh("lsblk -d -n -o NAME,ROTA,SIZE,MODEL 2>/dev/null | tr '\\n' ';'"),
        "java": sh("java -version 2>&1 | head -1"),
        "java default max heap": sh("java -XX:+PrintFlagsFinal -version 2>/dev/null | awk '/ MaxHeapSize /{printf \"%.0f MiB\", $4/1048576}'"),
        "SERVER_JVMFLAGS": os.environ.get("SERVER_JVMFLAGS", "(unset: JVM default heap)"),
        "zkswiftd": servers.zkswiftd_binary(),
    }


def med(xs):
    return statistics.median(xs) if xs else None


def summarize(results):
    rows = []
    for case in CASES:
        by = {k: [r for r in results if r["case"] == case and r["kind"] == k] for k in KINDS}
        if not all(by.values()):
            continue
        t = {k: med([r["serving_s"] for r in by[k]]) for k in KINDS}
        m = {k: med([r["vmhwm_kib"] for r in by[k]]) / 1024 for k in KINDS}
        rows.append({
            "case": case, "trials": min(len(v) for v in by.values()),
            "time": t, "rss": m,
            "time_all": {k: [r["serving_s"] for r in by[k]] for k in KINDS},
            "rss_all": {k: [r["vmhwm_kib"] / 1024 for r in by[k]] for k in KINDS},
            "now_all": {k: [r["vmrss_kib"] / 1024 for r in by[k]] for k in KINDS},
            "cpu_all": {k: [r["server_cpu_s"] for r in by[k]] for k in KINDS},
            "logged": {k: {lab: med([r["log_timings_ms"][lab] for r in by[k] if lab in r["log_timings_ms"]])
                           for lab in dict.fromkeys(x for r in by[k] for x in r["log_timings_ms"])}
                       for k in KINDS},
        })
    return rows


def markdown(rows, meta):
    out = []
    out.append(f"{meta['nodes']:,} znodes of {meta['size']} bytes under {meta['parents']:,} parents "
               f"(last zxid 0x{meta['zxid']:x}); medians of {rows[0]['trials'] if rows else 0} trials.\n")
    out.append("| case | zkswiftd: time to serving | Apache 3.8.0: time to serving | ratio | "
               "zkswiftd: peak RSS | Apache 3.8.0: peak RSS | ratio |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        t, m = r["time"], r["rss"]
        out.append(f"| {r['case']} | {t['zkswiftd']:.2f} s | {t['apache']:.2f} s | {t['zkswiftd'] / t['apache']:.2f} | "
                   f"{m['zkswiftd']:.0f} MiB | {m['apache']:.0f} MiB | {m['zkswiftd'] / m['apache']:.2f} |")
    out.append("\nEvery trial (time to serving / peak RSS / RSS once serving / the server's CPU time until then):\n")
    out.append("| case | server | trials |")
    out.append("|---|---|---|")
    for r in rows:
        for k in KINDS:
            cells = ", ".join(f"{s:.2f} s / {m:.0f} MiB / {n:.0f} MiB / {c:.1f} s"
                              for s, m, n, c in zip(r["time_all"][k], r["rss_all"][k], r["now_all"][k], r["cpu_all"][k]))
            out.append(f"| {r['case']} | {k} | {cells} |")
    out.append("\nThe servers' own timings (medians, from their logs):\n")
    out.append("| case | server | logged |")
    out.append("|---|---|---|")
    for r in rows:
        for k in KINDS:
            cells = ", ".join(f"{lab} {v:.0f}" for lab, v in r["logged"][k].items() if v is not None) or "-"
            out.append(f"| {r['case']} | {k} | {cells} |")
    out.append("\nData directories:\n")
    for case in CASES:
        out.append(f"- {case}: " + "; ".join(meta["listing"][case]))
    out.append("\nMachine:\n")
    out.append(f"- CPU used by other processes during a trial (of all CPUs): "
               f"{100 * min(meta['others']):.0f}% to {100 * max(meta['others']):.0f}% "
               f"({meta['disturbed']} disturbed trials run again)")
    for k, v in meta["machine"].items():
        out.append(f"- {k}: {v}")
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=1_000_000, help="leaf znodes (default 1,000,000)")
    ap.add_argument("--parents", type=int, default=1000, help="parents they are spread over (default 1000)")
    ap.add_argument("--size", type=int, default=100, help="bytes of data per leaf (default 100)")
    ap.add_argument("--inflight", type=int, default=2000, help="outstanding creates while generating")
    ap.add_argument("--trials", type=int, default=3, help="trials per case and server (default 3)")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    ap.add_argument("--wait-idle", type=float, default=300,
                    help="before each trial, wait up to this many seconds for the CPUs to be idle (default 300)")
    ap.add_argument("--max-other-cpu", type=float, default=0.10,
                    help="run a trial again if other processes used more than this share of the CPUs meanwhile (default 0.10)")
    ap.add_argument("--redo", type=int, default=3, help="how many times at most (default 3)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds a server may take to serve")
    ap.add_argument("--workdir", help="where data directories go (default: a new temp dir, removed "
                    "afterwards); an existing one with generated data is reused")
    ap.add_argument("--markdown", help="write the report here too (default: WORKDIR/recovery.md, kept)")
    args = ap.parse_args()
    if args.nodes % args.parents:
        ap.error("--nodes must be a multiple of --parents")
    cases = [c for c in args.cases.split(",") if c]
    if any(c not in CASES for c in cases):
        ap.error(f"--cases: choose from {','.join(CASES)}")

    own_workdir = args.workdir is None
    workdir = args.workdir or tempfile.mkdtemp(prefix="zk-recovery-bench-")
    os.makedirs(workdir, exist_ok=True)
    gen_dir = os.path.join(workdir, "gen")
    done = os.path.join(gen_dir, "done.json")
    prev = json.load(open(done)) if os.path.exists(done) else None
    want = {"nodes": args.nodes, "parents": args.parents, "size": args.size}
    if prev and all(prev[k] == v for k, v in want.items()):
        zxid = prev["zxid"]
        print(f"== reusing the data directories in {gen_dir}", flush=True)
    else:
        shutil.rmtree(gen_dir, ignore_errors=True)
        print(f"== generating {args.nodes:,} znodes of {args.size} bytes in {gen_dir}", flush=True)
        zxid = generate(args, gen_dir)
    snapshot_only(gen_dir)  # directories generated before that case existed
    masters = {c: os.path.join(gen_dir, c) for c in CASES}
    # Leaves + their parents + /bench; both servers count / and /zookeeper... too.
    min_nodes = args.nodes + args.parents + 1

    results = []
    disturbed = []  # trials run again because something else took CPU meanwhile
    try:
        for i in range(args.trials):
            for case in cases:
                order = KINDS if i % 2 == 0 else tuple(reversed(KINDS))
                for kind in order:
                    for attempt in range(1 + args.redo):
                        r = trial(kind, case, masters[case], zxid, min_nodes, os.path.join(workdir, "run"), args)
                        if r["other_cpu_frac"] <= args.max_other_cpu:
                            break
                        disturbed.append(r)
                        print(f"  disturbed: other processes used {100 * r['other_cpu_frac']:.0f}% of the CPUs "
                              f"({kind} {case}: {r['serving_s']:.2f} s)" + (", once more" if attempt < args.redo else ""),
                              flush=True)
                    results.append(r)
                    print(f"== trial {i + 1} {case:13} {kind:8}: serving after {r['serving_s']:6.2f} s, "
                          f"peak RSS {r['vmhwm_kib'] / 1024:6.0f} MiB (now {r['vmrss_kib'] / 1024:.0f}), {r['znode_count']:,} znodes, "
                          f"CPU {r['server_cpu_s']:.1f} s, others {100 * r['other_cpu_frac']:.0f}%, "
                          f"slowest probe {r['slowest_probe_s'] * 1000:.0f} ms, "
                          f"logged {r['log_timings_ms']}", flush=True)
        meta = dict(want, zxid=zxid, machine=machine(workdir),
                    listing={c: listing(masters[c]) for c in CASES},
                    others=[r["other_cpu_frac"] for r in results], disturbed=len(disturbed))
        rows = summarize(results)
        md = markdown(rows, meta)
        print()
        print(md)
        md_path = args.markdown or os.path.join(workdir, "recovery.md")
        with open(md_path, "w") as f:
            f.write(f"<!-- bench/recovery.py, {datetime.datetime.now().isoformat(timespec='seconds')} -->\n" + md)
        with open(os.path.splitext(md_path)[0] + ".json", "w") as f:
            json.dump({"meta": meta, "trials": results, "disturbed": disturbed}, f, indent=1)
        print(f"written: {md_path} (and .json with every trial)")
    finally:
        if own_workdir:  # keep only the report, if it was written there
            shutil.rmtree(gen_dir, ignore_errors=True)
            shutil.rmtree(os.path.join(workdir, "run"), ignore_errors=True)
            if not os.listdir(workdir):
                os.rmdir(workdir)


if __name__ == "__main__":
    main()
