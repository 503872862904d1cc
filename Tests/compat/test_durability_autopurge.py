"""autopurge.snapRetainCount / autopurge.purgeInterval (disk-format.md §7): a
server started with a purge interval purges once right away, keeping the
newest snapRetainCount snapshots and the logs they need, and the tree it then
serves (and serves again after a restart without autopurge) is whole.

Apache schedules its first purge at start-up too, but in parallel with loading
the data, so whether the snapshot written at start-up counts is a race there;
zkswiftd purges after loading, so the result is exact. Hence zkswiftd only.
"""
import os
import time

import pytest
from kazoo.client import KazooClient

import durability as d
from helpers import TARGET

pytestmark = pytest.mark.zkswiftd_only("exact purge result: zkswiftd purges after loading the data")


def _names(srv):
    return {os.path.basename(p) for _, p in d.snapshot_files(srv) + d.log_files(srv)}


def _grow(srv, restarts):
    """Writes between clean restarts; every start writes a snapshot, and the
    small snapCount rolls logs along the way."""
    for i in range(restarts):
        d.start(srv)
        zk = KazooClient(hosts=srv.hosts, timeout=15.0)
        zk.start(timeout=15)
        zk.ensure_path("/p")
        for k in range(15):
            zk.create(f"/p/n{i}-{k}", b"x" * k)
        zk.stop()
        zk.close()
        srv.stop()


def _wait_for(srv, want, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _names(srv) == want:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("retain,asked", [(3, "3"), (4, "4"), (3, "1")])
def test_autopurge_keeps_the_newest_snapshots_and_their_logs(retain, asked):
    srv = d.make_server(TARGET, props={"zookeeper.snapCount": "10"})
    try:
        _grow(srv, 6)
        before = _names(srv)
        assert len([n for n in before if n.startswith("snapshot.")]) >= 6
        srv.cfg.update({"autopurge.purgeInterval": "1", "autopurge.snapRetainCount": asked})
        d.start(srv)
        # the snapshot written at this start counts among those kept
        now = before | {n for n in _names(srv) if n.startswith("snapshot.")}
        want = d.expected_after_purge(now, retain)
        assert want != now, "nothing to purge: the test set-up is too small"
        assert _wait_for(srv, want), f"left {sorted(_names(srv))}, expected {sorted(want)}"
        log = srv.read_log()
        assert "Purge task completed" in log
        if asked == "1":
            assert "Invalid autopurge.snapRetainCount: 1. Defaulting to 3" in log
        zk = KazooClient(hosts=srv.hosts, timeout=15.0)
        zk.start(timeout=15)
        served = len(zk.get_children("/p"))
        zk.stop()
        zk.close()
        assert served == 6 * 15
        # recovery from what is left gives the same tree
        srv.stop()
        del srv.cfg["autopurge.purgeInterval"]
        d.start(srv)
        zk = KazooClient(hosts=srv.hosts, timeout=15.0)
        zk.start(timeout=15)
        assert len(zk.get_children("/p")) == 6 * 15
        zk.stop()
        zk.close()
    finally:
        d.dispose(srv)


def test_no_purge_without_an_interval():
    srv = d.make_server(TARGET, props={"zookeeper.snapCount": "10"}, cfg={"autopurge.snapRetainCount": "3"})
    try:
        _grow(srv, 5)
        before = _names(srv)
        d.start(srv)
        time.sleep(1.0)
        assert before <= _names(srv), f"files removed without autopurge.purgeInterval: {sorted(before - _names(srv))}"
        assert "Purge task is not scheduled." in srv.read_log()
    finally:
        d.dispose(srv)
