"""systemd's notify protocol (sd_notify), with a NOTIFY_SOCKET the test owns
in place of the service manager:

- READY=1 only once the client port answers: standalone, and for an
  ensemble member only once a quorum has formed (STATUS before that);
- STATUS= on each change of role, with the leader's follower count;
- WATCHDOG=1 about every half WATCHDOG_USEC, withheld while a pipeline
  thread is stalled (the test stops one thread with ptrace), and again once
  it runs;
- STOPPING=1 on SIGTERM, and exit status 0 within the daemon's 10 s bound.
"""
import ctypes
import os
import signal
import statistics
import time

import pytest

import servers
from ensemble import Ensemble
from helpers import _LIVE
from sdnotify import NotifySocket

pytestmark = pytest.mark.zkswiftd_only("systemd's notify protocol: Apache ZooKeeper does not speak it")

STOP_BOUND = 10.0  # seconds: the daemon's own limit for a graceful stop


def ruok(port):
    try:
        return servers.four_letter(port, "ruok", timeout=1.0)
    except OSError as e:
        return f"<{e.__class__.__name__}>"


@pytest.fixture
def standalone():
    """A zkswiftd server, not yet launched, with a NotifySocket; the socket's
    callback records what ruok answered at the moment READY=1 arrived."""
    srv = servers.ZkSwiftd(cfg={"tickTime": "500"})
    at_ready = []

    def on_message(fields):
        if fields.get("READY") == "1":
            at_ready.append(ruok(srv.port))

    sock = NotifySocket(on_message=on_message)
    srv.extra_env.update(sock.env())
    srv.at_ready = at_ready
    _LIVE.append(srv)
    yield srv, sock
    _LIVE.remove(srv)
    srv.cleanup()
    sock.close()


def test_standalone_ready_only_once_serving(standalone):
    srv, sock = standalone
    srv.launch()
    t_ready = sock.wait_for("READY=1", timeout=30)
    assert srv.at_ready == ["imok"], f"ruok answered {srv.at_ready} when READY=1 arrived"
    assert servers.four_letter(srv.port, "srvr").startswith("Zookeeper version")
    assert len(sock.times("READY=1")) == 1
    status = sock.values("STATUS")
    assert status and status[0].startswith("STANDALONE"), status
    # The status arrived with READY=1 or before it, never a state change after it.
    assert all(t <= t_ready for t, f in sock.messages if "STATUS" in f)


def test_ensemble_member_ready_only_with_a_quorum():
    ens = Ensemble(3, impl="zkswiftd")
    socks, at_ready = {}, {}
    for sid in ens.sids:
        m = ens.members[sid]
        at_ready[sid] = []

        def on_message(fields, m=m, sid=sid):
            if fields.get("READY") == "1":
                at_ready[sid].append(ruok(m.port))

        socks[sid] = NotifySocket(on_message=on_message)
        m.extra_env.update(socks[sid].env())
    try:
        # Alone, server 1 looks for a leader: STATUS says so, READY=1 never comes.
        ens._launch(1)
        assert socks[1].wait_status(lambda s: s == "LOOKING", timeout=20)
        time.sleep(3)
        assert socks[1].times("READY=1") == [], socks[1].messages
        assert "not currently serving" in servers.four_letter(ens.members[1].port, "srvr")

        # A second server makes a quorum: both become ready, serving.
        ens._launch(2)
        for sid in (1, 2):
            socks[sid].wait_for("READY=1", timeout=30)
            assert at_ready[sid] == ["imok"], at_ready
            assert ens.mode(sid) in ("leader", "follower")
        leader = ens.leader()
        follower = 1 if leader == 2 else 2
        assert socks[leader].wait_status(lambda s: s.startswith("LEADING epoch=") and s.endswith("followers=1/2"))
        fstatus = socks[follower].wait_status(lambda s: s.startswith("FOLLOWING"))
        assert fstatus.startswith(f"FOLLOWING leader={leader} zxid=0x"), fstatus

        # The third server joining changes the leader's STATUS, not its readiness.
        ens._launch(3)
        socks[3].wait_for("READY=1", timeout=30)
        assert socks[leader].wait_status(lambda s: s.startswith("LEADING") and s.endswith("followers=2/2"))
        assert len(socks[leader].times("READY=1")) == 1
    finally:
        ens.stop()
        for s in socks.values():
            s.close()


# ---------------------------------------------------------------- watchdog

PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def thread_id(pid, name):
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().strip() == name:
                return int(tid)
    raise AssertionError(f"no thread {name} in process {pid}")


class StalledThread:
    """Stops one thread of a process (ptrace group-stop of a single tid);
    the rest of the process, the watchdog's own thread included, runs on."""

    def __init__(self, tid):
        self.tid = tid

    def __enter__(self):
        for req in (PTRACE_SEIZE, PTRACE_INTERRUPT):
            if _libc.ptrace(req, self.tid, None, None) != 0:
                raise OSError(ctypes.get_errno(), f"ptrace({req:#x}) of thread {self.tid}")
        os.waitpid(self.tid, 0x40000000)  # __WALL: until the thread has stopped
        return self

    def __exit__(self, *exc):
        _libc.ptrace(PTRACE_DETACH, self.tid, None, None)


def test_watchdog_follows_pipeline_progress(standalone):
    srv, sock = standalone
    srv.extra_env.update(sock.env(watchdog_usec=2_000_000))
    srv.launch()
    sock.wait_for("READY=1", timeout=30)
    time.sleep(4.5)
    beats = sock.times("WATCHDOG=1")
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    assert len(beats) >= 3, beats
    # About every half WATCHDOG_USEC (1 s here).
    assert 0.7 <= statistics.median(gaps) <= 1.3, gaps

    # SyncThread stalled: the probe sent down the pipeline never comes out,
    # so the keep-alives stop (the one already earned may still go out).
    with StalledThread(thread_id(srv.proc.pid, "SyncThread")):
        stalled_at = time.monotonic()
        time.sleep(4.0)
        during = [t for t in sock.times("WATCHDOG=1") if t > stalled_at]
        assert len(during) <= 1, f"{len(during)} keep-alives while SyncThread was stopped"
        assert all(t < stalled_at + 1.6 for t in during), during
    assert srv.proc.poll() is None
    resumed_at = time.monotonic()
    sock.wait_for("WATCHDOG=1", timeout=3.0, after=resumed_at)
    assert "made no progress" in srv.read_log()


# ------------------------------------------------------------------ stopping

def test_sigterm_sends_stopping_and_exits_zero(standalone, zk_factory):
    srv, sock = standalone
    srv.launch()
    sock.wait_for("READY=1", timeout=30)
    zk = zk_factory(srv)
    zk.create("/before-stop", b"kept")
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    sock.wait_for("STOPPING=1", timeout=STOP_BOUND)
    rc = srv.proc.wait(STOP_BOUND + 1)
    took = time.monotonic() - t0
    assert rc == 0, srv.read_log()
    assert took < STOP_BOUND, took
    zk.stop()
    # What was acknowledged before the stop is there after a restart.
    srv.stop()
    srv.start()
    zk2 = zk_factory(srv)
    assert zk2.get("/before-stop")[0] == b"kept"


def test_sigterm_of_ensemble_leader_exits_zero_and_quorum_carries_on():
    ens = Ensemble(3, impl="zkswiftd")
    socks = {sid: NotifySocket() for sid in ens.sids}
    for sid in ens.sids:
        ens.members[sid].extra_env.update(socks[sid].env())
    try:
        ens.start()
        leader = ens.leader()
        zk = ens.client(leader)
        zk.create("/acked", b"1")
        proc = ens.members[leader].proc
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        socks[leader].wait_for("STOPPING=1", timeout=STOP_BOUND)
        rc = proc.wait(STOP_BOUND + 1)
        assert rc == 0, ens.members[leader].read_log()
        assert time.monotonic() - t0 < STOP_BOUND
        rest = [s for s in ens.sids if s != leader]
        ens.members[leader].stop()
        new_leader = ens.leader()
        assert new_leader in rest
        zk2 = ens.client(rest[0])
        zk2.sync("/acked")
        assert zk2.get("/acked")[0] == b"1"
        # Followers report their new leader.
        other = rest[1] if rest[0] == new_leader else rest[0]
        socks[other].wait_status(lambda s: s.startswith(f"FOLLOWING leader={new_leader}"))
    finally:
        ens.stop()
        for s in socks.values():
            s.close()
