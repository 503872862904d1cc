"""Ensembles (3 and 5 voters, an observer) of the server under test
(ZK_COMPAT_TARGET; passes against Apache ZooKeeper 3.8.0): writes through any
member reach every member, a SIGKILLed leader is replaced without losing an
acknowledged write, an observer serves reads and forwards writes, and a
minority cannot write until the quorum is back.

tickTime is 500 ms (ZK_ENSEMBLE_TICK_MS overrides it, e.g. for slow
sanitizer builds): a follower gives up on a silent leader, and a leader on
its followers, after syncLimit (5) ticks.
"""
import os
import threading
import time

import pytest
from kazoo.exceptions import ConnectionLoss, NodeExistsError, SessionExpiredError
from kazoo.handlers.threading import KazooTimeoutError

from ensemble import Ensemble

TICK = int(os.environ.get("ZK_ENSEMBLE_TICK_MS", "500"))
# What a write the ensemble cannot commit ends in, from kazoo's side: no reply
# in time, the server dropping the connection, or the session being gone.
NO_QUORUM = (KazooTimeoutError, ConnectionLoss, SessionExpiredError)


@pytest.fixture
def ensemble():
    made = []

    def make(n, **kw):
        ens = Ensemble(n, tick_time=TICK, **kw)
        made.append(ens)
        ens.start()
        return ens

    yield make
    for ens in made:
        ens.stop()


def synced_get(zk, path):
    zk.sync(path)
    return zk.get(path)


def retry_write(zk, path, data=b"", timeout=30.0):
    """Create path, retrying through elections; an earlier attempt that went
    through after all (NodeExists) counts as done."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return zk.create_async(path, data).get(timeout=5)
        except NodeExistsError:
            return path
        except NO_QUORUM:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize("n", [3, 5])
def test_write_through_each_server_is_read_identically_on_all(ensemble, n):
    ens = ensemble(n)
    zks = {s: ens.client(s) for s in ens.sids}
    zks[1].create("/rw")
    for s, zk in zks.items():
        data = f"written via server {s}".encode()
        path, stat = zk.create(f"/rw/via{s}", data, include_data=True)
        for t, other in zks.items():
            assert synced_get(other, path) == (data, stat), f"server {t} after a write via {s}"
    # The parent, changed by every create, agrees too (cversion, pzxid, children).
    views = {s: (synced_get(zk, "/rw"), sorted(zk.get_children("/rw"))) for s, zk in zks.items()}
    assert all(v == views[1] for v in views.values()), views


def test_leader_kill9_new_leader_and_no_acknowledged_write_lost(ensemble):
    ens = ensemble(3)
    old = ens.leader()
    zk = ens.client()  # on every server: it fails over when its server drops out
    zk.create("/w")
    acked, unexpected, stop = [], [], threading.Event()  # acked: (name, sent at, replied at)

    def writer():
        i = 0
        while not stop.is_set():
            i += 1
            try:
                sent = time.monotonic()
                zk.create_async(f"/w/n{i:06d}").get(timeout=5)
                acked.append((f"n{i:06d}", sent, time.monotonic()))
            except NO_QUORUM:
                time.sleep(0.05)  # no leader yet: kazoo reconnects meanwhile
            except Exception as e:  # noqa: BLE001 - anything else fails the test
                unexpected.append(repr(e))
                time.sleep(0.05)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        assert _wait(lambda: len(acked) >= 50, 20), "no writes before the kill"
        before = len(acked)
        killed_at = time.monotonic()
        ens.kill9(old)
        new = ens.leader()
        elected_at = time.monotonic()
        assert new != old
        # Sent after the kill: a reply the old leader sent just before it died proves nothing.
        assert _wait(lambda: sum(sent > killed_at for _, sent, _ in acked) >= 50, 60), "writes did not resume"
        first = min(a for _, sent, a in acked if sent > killed_at)
        print(f"leader {old} killed: server {new} leads after {elected_at - killed_at:.2f}s, "
              f"first acknowledged write after {first - killed_at:.2f}s "
              f"({before} writes before the kill, {len(acked) - before} after so far)")
    finally:
        stop.set()
        t.join(10)
    assert not unexpected, unexpected[:5]
    zk.stop()  # its close is ordered after every request it sent: nothing lands later

    ens.restart(old)
    ens.wait_serving()
    want = {name for name, _, _ in acked}
    views = {}
    for s in ens.sids:
        c = ens.client(s)
        stat = synced_get(c, "/w")[1]
        views[s] = (stat, set(c.get_children("/w")))
        assert not want - views[s][1], f"server {s} lacks acknowledged writes {sorted(want - views[s][1])[:10]}"
    assert all(v == views[new] for v in views.values()), "the servers disagree on /w"


def test_observer_serves_reads_and_forwards_writes(ensemble):
    ens = ensemble(3, observers=1)
    obs = 4
    assert ens.mode(obs) == "observer"
    lead = ens.leader()
    zl, zo = ens.client(lead), ens.client(obs)
    path, stat = zl.create("/from-leader", b"L", include_data=True)
    assert synced_get(zo, path) == (b"L", stat)
    path, stat = zo.create("/from-observer", b"O", include_data=True)
    for s in ens.sids:
        assert synced_get(ens.client(s), path) == (b"O", stat), f"server {s}"
    assert ens.mode(obs) == "observer" and ens.leader() == lead


@pytest.mark.parametrize("keep", ["leader", "follower"])
def test_minority_cannot_write_until_quorum_is_back(ensemble, keep):
    ens = ensemble(3)
    lead = ens.leader()
    kept = lead if keep == "leader" else min(s for s in ens.sids if s != lead)
    zk = ens.client(kept)
    zk.create("/m")
    for s in ens.sids:
        if s != kept:
            ens.sigstop(s)
    # Longer than syncLimit ticks: covers the time the kept server still
    # thinks it is in a quorum (the leader proposes, nobody acks; the follower
    # forwards to a silent leader) and the time after it gives up.
    window = 10 * TICK / 1000
    start, attempt = time.monotonic(), 0
    while (left := window - (time.monotonic() - start)) > 0.1:
        attempt += 1
        with pytest.raises(NO_QUORUM):
            zk.create_async(f"/m/minority{attempt}").get(timeout=left)
            pytest.fail(f"a write succeeded {time.monotonic() - start:.1f}s into the minority")
        time.sleep(0.1)
    for s in ens.sids:
        ens.sigcont(s)
    ens.leader()
    retry_write(zk, "/m/after", b"back")
    for s in ens.sids:
        assert synced_get(ens.client(s), "/m/after")[0] == b"back", f"server {s}"


def _wait(pred, timeout):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
