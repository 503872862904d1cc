"""kazoo's high-level recipes, which combine sequential/ephemeral nodes,
versions and watches the way real applications do."""
import threading

import pytest
from kazoo.exceptions import LockTimeout

from helpers import wait_for


def test_server_version(zk):
    """kazoo parses zookeeper.version out of `envi`."""
    version = zk.server_version()
    assert version[:2] == (3, 8)


def test_lock_contention(zk_factory, base):
    a, b = zk_factory(), zk_factory()
    la, lb = a.Lock(base + "/lock", "a"), b.Lock(base + "/lock", "b")
    assert la.acquire(timeout=5)
    got = threading.Event()

    def take():
        if lb.acquire(timeout=10):
            got.set()

    t = threading.Thread(target=take)
    t.start()
    assert wait_for(lambda: len(la.contenders()) == 2, 5.0)
    assert la.contenders() == ["a", "b"]
    assert not got.wait(0.3)
    la.release()
    assert got.wait(5.0)
    t.join(5)
    lb.release()
    assert zk_factory().get_children(base + "/lock") == []


def test_lock_released_when_holder_session_closes(zk_factory, base):
    a, b = zk_factory(), zk_factory()
    assert a.Lock(base + "/l2").acquire(timeout=5)
    lb = b.Lock(base + "/l2")
    with pytest.raises(LockTimeout):
        lb.acquire(timeout=0.3)
    a.stop()
    assert lb.acquire(timeout=5)
    lb.release()


def test_counter(zk_factory, base):
    clients = [zk_factory() for _ in range(3)]
    counters = [c.Counter(base + "/count") for c in clients]

    def bump(counter):
        for _ in range(10):
            counter += 1

    threads = [threading.Thread(target=bump, args=(c,)) for c in counters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert counters[0].value == 30
    assert clients[0].get(base + "/count")[1].version == 30


def test_data_watch_and_children_watch(zk, zk2, base):
    seen_data, seen_children = [], []
    zk.DataWatch(base + "/dw", lambda data, stat: seen_data.append(data))
    zk.ChildrenWatch(base, lambda children: seen_children.append(sorted(children)))
    assert wait_for(lambda: seen_data == [None] and seen_children == [[]], 5.0)
    zk2.create(base + "/dw", b"1")
    assert wait_for(lambda: seen_data[-1:] == [b"1"] and seen_children[-1:] == [["dw"]], 5.0)
    zk2.set(base + "/dw", b"2")
    assert wait_for(lambda: seen_data[-1:] == [b"2"], 5.0), seen_data
    zk2.delete(base + "/dw")
    assert wait_for(lambda: seen_data[-1:] == [None] and seen_children[-1:] == [[]], 5.0)
    assert seen_data == [None, b"1", b"2", None]
    assert seen_children == [[], ["dw"], []]


def test_queue(zk_factory, base):
    producer, consumer = zk_factory(), zk_factory()
    q = producer.Queue(base + "/q")
    for item in (b"one", b"two", b"three"):
        q.put(item)
    q.put(b"urgent", priority=1)
    cq = consumer.Queue(base + "/q")
    assert len(cq) == 4
    assert [cq.get() for _ in range(4)] == [b"urgent", b"one", b"two", b"three"]
    assert cq.get() is None


def test_election(zk_factory, base):
    a, b = zk_factory(), zk_factory()
    leaders = []
    ready = threading.Event()
    stop_a = threading.Event()

    def lead_a():
        leaders.append("a")
        ready.set()
        stop_a.wait(10)

    ea = a.Election(base + "/elect", "a")
    eb = b.Election(base + "/elect", "b")
    ta = threading.Thread(target=ea.run, args=(lead_a,))
    ta.start()
    assert ready.wait(5)
    tb = threading.Thread(target=eb.run, args=(lambda: leaders.append("b"),))
    tb.start()
    assert wait_for(lambda: ea.contenders() == ["a", "b"], 5.0)
    stop_a.set()
    ta.join(5)
    tb.join(5)
    assert leaders == ["a", "b"]
