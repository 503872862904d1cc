"""Server-side removal of emptied containers and expired TTL nodes
(wire-protocol.md 8.1, 8.4); the test servers run the container manager
every 1000 ms (znode.container.checkIntervalMs)."""
import time

import pytest
from kazoo.exceptions import UnimplementedError

import kzext
import rawzk
from helpers import Events, wait_for


def test_container_reaped_when_emptied(raw, zk, base):
    # opcode 1 with CONTAINER flags: a plain persistent node, never reaped
    assert raw.create(base + "/p4", flags=rawzk.CONTAINER) == (0, base + "/p4")
    # opcode 19 with flags 0: still a container (the opcode decides)
    err, _ = raw.create_container(base + "/c0", flags=rawzk.PERSISTENT)
    assert err == 0
    kzext.create_container(zk, base + "/never")   # never had a child: kept
    kzext.create_container(zk, base + "/c1")
    for parent in ("p4", "c0", "c1"):
        zk.create(f"{base}/{parent}/kid")
    ev = Events()
    zk.exists(base + "/c1", watch=ev)
    zk.delete(base + "/p4/kid")
    zk.delete(base + "/c0/kid")
    zk.get_children(base, watch=ev)
    zk.delete(base + "/c1/kid")  # c1 is emptied last
    t0 = time.monotonic()
    assert wait_for(lambda: len(ev.events) >= 2, 8.0)
    assert time.monotonic() - t0 < 5.0
    assert wait_for(lambda: zk.exists(base + "/c0") is None and zk.exists(base + "/c1") is None, 5.0)
    ev.wait(3, 0.5)
    assert ("DELETED", base + "/c1") in ev.simple()
    assert ev.simple().count(("CHILD", base)) == 1
    # a check pass ran after c1 was emptied: p4 and never were seen and kept
    assert sorted(zk.get_children(base)) == ["never", "p4"]


def test_container_with_children_is_kept(zk, base):
    kzext.create_container(zk, base + "/c")
    zk.create(base + "/c/a")
    zk.create(base + "/c/b")
    kzext.create_container(zk, base + "/probe")
    zk.create(base + "/probe/x")
    zk.delete(base + "/c/a")
    zk.delete(base + "/probe/x")
    assert wait_for(lambda: zk.exists(base + "/probe") is None, 8.0)
    assert zk.get_children(base + "/c") == ["b"]


def test_ttl_node_removed_after_ttl(zk, base):
    kzext.create_ttl(zk, base + "/busy", 1000)
    zk.create(base + "/busy/kid")
    kzext.create_ttl(zk, base + "/long", 600000)
    _, stat = kzext.create_ttl(zk, base + "/t1", 1000)
    t0 = time.monotonic()
    ev = Events()
    zk.exists(base + "/t1", watch=ev)
    assert ev.wait(1, 8.0) and ev.simple() == [("DELETED", base + "/t1")]
    elapsed = time.monotonic() - t0
    assert 0.9 <= elapsed <= 5.0, elapsed
    # busy's TTL had passed too, but it has a child; long's has not
    assert zk.exists(base + "/busy") is not None
    assert zk.exists(base + "/long") is not None
    zk.delete(base + "/busy/kid")
    assert wait_for(lambda: zk.exists(base + "/busy") is None, 5.0)
    assert zk.exists(base + "/long") is not None


def test_ttl_sequential_node_removed(zk, base):
    path, _ = kzext.create_ttl(zk, base + "/s-", 500, sequence=True)
    assert path == base + "/s-0000000000"
    assert wait_for(lambda: zk.exists(path) is None, 6.0)


def test_ttl_disabled_is_unimplemented(server_factory, zk_factory):
    srv = server_factory(props={"zookeeper.extendedTypesEnabled": "false"})
    zk = zk_factory(srv)
    with pytest.raises(UnimplementedError):
        kzext.create_ttl(zk, "/t", 1000)
    with pytest.raises(UnimplementedError):
        kzext.create_ttl(zk, "/t", 0)  # checked before the TTL range
    assert zk.exists("/t") is None
    assert kzext.create_container(zk, "/c")[0] == "/c"
    assert zk.create("/p") == "/p"
