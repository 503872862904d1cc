"""addWatch (persistent and persistent-recursive), checkWatches,
removeWatches, setWatches2 (wire-protocol.md 9.2-9.6).

kazoo 2.11.0 has no add_watch(), so persistent watches use a raw
connection; check/removeWatches are also sent through kazoo (kzext)."""
import pytest
from kazoo.exceptions import NoWatcherError
from kazoo.security import make_acl

import kzext
import rawzk
from helpers import Events
from rawzk import (ADDWATCH_PERSISTENT, ADDWATCH_PERSISTENT_RECURSIVE, EV_CHILDREN_CHANGED,
                   EV_CREATED, EV_DATA_CHANGED, EV_DELETED, NOWATCHER, WATCHER_ANY,
                   WATCHER_CHILDREN, WATCHER_DATA)

S = 3  # SyncConnected


def test_add_watch_reply(raw, base):
    err, body = raw.add_watch(base + "/p", ADDWATCH_PERSISTENT)
    assert err == 0 and body == b"\x00\x00\x00\x00"
    err, body = raw.add_watch(base + "/r", ADDWATCH_PERSISTENT_RECURSIVE)
    assert err == 0 and body == b"\x00\x00\x00\x00"


def test_persistent_watch_sequence(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    p = base + "/p"
    assert a.add_watch(p, ADDWATCH_PERSISTENT)[0] == 0
    b.create(p)
    b.set_data(p, b"1")
    b.create(p + "/c")
    b.set_data(p + "/c", b"x")      # not reported: a child's data
    b.create(p + "/c/g")            # not reported: a grandchild
    b.delete(p + "/c/g")
    b.set_data(p, b"2")
    b.delete(p + "/c")
    b.delete(p)
    b.create(p)                     # still registered after all that
    expected = [(EV_CREATED, S, p), (EV_DATA_CHANGED, S, p), (EV_CHILDREN_CHANGED, S, p),
                (EV_DATA_CHANGED, S, p), (EV_CHILDREN_CHANGED, S, p), (EV_DELETED, S, p),
                (EV_CREATED, S, p)]
    assert a.wait_events(len(expected)) == expected
    assert a.no_more_events()


def test_persistent_recursive_watch_sequence(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    p = base + "/r"
    assert a.add_watch(p, ADDWATCH_PERSISTENT_RECURSIVE)[0] == 0
    b.create(p)
    b.create(p + "/a")
    b.create(p + "/a/b", b"")
    b.set_data(p + "/a/b", b"x")
    b.set_data(p, b"y")
    b.create(base + "/r2")          # a sibling sharing the name prefix: not below /r
    b.create(base + "/other")
    b.delete(p + "/a/b")
    b.delete(p + "/a")
    expected = [(EV_CREATED, S, p), (EV_CREATED, S, p + "/a"), (EV_CREATED, S, p + "/a/b"),
                (EV_DATA_CHANGED, S, p + "/a/b"), (EV_DATA_CHANGED, S, p),
                (EV_DELETED, S, p + "/a/b"), (EV_DELETED, S, p + "/a")]
    assert a.wait_events(len(expected)) == expected
    assert a.no_more_events()


def test_recursive_watch_on_root(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    assert a.add_watch("/", ADDWATCH_PERSISTENT_RECURSIVE)[0] == 0
    b.create(base + "/x")
    b.set_data(base, b"d")
    assert a.wait_events(2) == [(EV_CREATED, S, base + "/x"), (EV_DATA_CHANGED, S, base)]


def test_persistent_and_one_shot_watchers_on_other_connections(raw_factory, base):
    a, b, c = raw_factory(), raw_factory(), raw_factory()
    p = base + "/n"
    a.add_watch(p, ADDWATCH_PERSISTENT)
    b.exists(p, watch=True)
    c.create(p)
    c.set_data(p, b"1")
    assert a.wait_events(2) == [(EV_CREATED, S, p), (EV_DATA_CHANGED, S, p)]
    assert b.wait_events(1) == [(EV_CREATED, S, p)]
    assert b.no_more_events()


def test_one_shot_watch_replaces_persistent_mode_in_its_table(raw_factory, base):
    """A connection has one mode per (table, path): exists(watch) after
    addWatch(PERSISTENT) makes the data side one-shot, the child side stays."""
    a, b = raw_factory(), raw_factory()
    p = base + "/n"
    b.create(p)
    a.add_watch(p, ADDWATCH_PERSISTENT)
    a.exists(p, watch=True)
    b.set_data(p, b"1")
    b.set_data(p, b"2")
    b.create(p + "/c")
    b.create(p + "/d")
    assert a.wait_events(3) == [(EV_DATA_CHANGED, S, p), (EV_CHILDREN_CHANGED, S, p),
                                (EV_CHILDREN_CHANGED, S, p)]
    assert a.no_more_events()


def test_recursive_watch_acl_filtering(raw_factory, zk, base):
    """Section 9.4 (3.8.4+, and Debian's 3.8.0): no events for nodes the
    watching connection cannot READ."""
    a = raw_factory()
    p = base + "/f"
    zk.create(p)
    a.add_watch(p, ADDWATCH_PERSISTENT_RECURSIVE)
    zk.create(p + "/hidden", acl=[make_acl("world", "anyone", write=True, delete=True)])
    zk.create(p + "/open")
    zk.set(p + "/hidden", b"x")
    zk.set(p + "/open", b"y")
    assert a.wait_events(2) == [(EV_CREATED, S, p + "/open"), (EV_DATA_CHANGED, S, p + "/open")]
    assert a.no_more_events()


# ------------------------------------------------------------------ check/remove
def test_check_and_remove_data_watch(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    p = base + "/n"
    b.create(p)
    assert a.check_watches(p, WATCHER_DATA)[0] == NOWATCHER
    assert a.check_watches(p, WATCHER_ANY)[0] == NOWATCHER
    a.get_data(p, watch=True)
    assert a.check_watches(p, WATCHER_DATA)[0] == 0
    assert a.check_watches(p, WATCHER_ANY)[0] == 0
    assert a.check_watches(p, WATCHER_CHILDREN)[0] == NOWATCHER
    assert a.remove_watches(p, WATCHER_CHILDREN)[0] == NOWATCHER
    assert a.remove_watches(p, WATCHER_DATA)[0] == 0
    assert a.remove_watches(p, WATCHER_DATA)[0] == NOWATCHER
    assert a.check_watches(p, WATCHER_DATA)[0] == NOWATCHER
    b.set_data(p, b"x")
    assert a.no_more_events() and a.events == []  # removal sends no event either


def test_remove_any_removes_both_tables(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    p = base + "/n"
    b.create(p)
    a.exists(p, watch=True)
    a.get_children(p, watch=True)
    assert a.check_watches(p, WATCHER_CHILDREN)[0] == 0
    assert a.remove_watches(p, WATCHER_ANY)[0] == 0
    assert a.remove_watches(p, WATCHER_ANY)[0] == NOWATCHER
    b.create(p + "/c")
    b.set_data(p, b"x")
    assert a.no_more_events() and a.events == []


def test_check_and_remove_persistent_watch(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    p = base + "/p"
    a.add_watch(p, ADDWATCH_PERSISTENT)
    for t in (WATCHER_CHILDREN, WATCHER_DATA, WATCHER_ANY):
        assert a.check_watches(p, t)[0] == 0, t
    assert a.check_watches(p + "/below", WATCHER_ANY)[0] == NOWATCHER
    # remove only the data side: child events keep coming
    assert a.remove_watches(p, WATCHER_DATA)[0] == 0
    b.create(p)
    b.set_data(p, b"1")
    b.create(p + "/c")
    assert a.wait_events(1) == [(EV_CHILDREN_CHANGED, S, p)]
    assert a.no_more_events()
    assert a.remove_watches(p, WATCHER_CHILDREN)[0] == 0
    assert a.remove_watches(p, WATCHER_ANY)[0] == NOWATCHER
    b.create(p + "/d")
    assert a.no_more_events() and len(a.events) == 1


def test_check_and_remove_recursive_watch(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    p = base + "/r"
    a.add_watch(p, ADDWATCH_PERSISTENT_RECURSIVE)
    assert a.check_watches(p, WATCHER_ANY)[0] == 0
    assert a.check_watches(p + "/x", WATCHER_ANY)[0] == NOWATCHER  # exact path only
    assert a.remove_watches(p, WATCHER_ANY)[0] == 0
    b.create(p)
    b.create(p + "/x")
    assert a.no_more_events() and a.events == []


def test_check_and_remove_watches_through_kazoo(zk, zk2, base):
    zk.create(base + "/n")
    ev = Events()
    zk.get(base + "/n", watch=ev)
    assert kzext.call(zk, kzext.CheckWatches(base + "/n", WATCHER_DATA)) is True
    with pytest.raises(NoWatcherError):
        kzext.call(zk, kzext.CheckWatches(base + "/n", WATCHER_CHILDREN))
    assert kzext.call(zk, kzext.RemoveWatches(base + "/n", WATCHER_DATA)) is True
    with pytest.raises(NoWatcherError):
        kzext.call(zk, kzext.RemoveWatches(base + "/n", WATCHER_ANY))
    zk2.set(base + "/n", b"x")
    assert zk.get(base + "/n")[0] == b"x"
    assert ev.events == []


# ------------------------------------------------------------------ setWatches2
def test_set_watches2_registers_persistent_watches(raw_factory, zk, base):
    a = raw_factory()
    p, r = base + "/p", base + "/r"
    rep = a.set_watches(0, persistent=[p], recursive=[r])
    assert rep.xid == rawzk.SET_WATCHES_XID and rep.err == 0 and rep.body == b""
    assert a.events == []
    zk.create(p)
    zk.create(p + "/c")
    zk.create(r)
    zk.create(r + "/c")
    expected = [(EV_CREATED, S, p), (EV_CHILDREN_CHANGED, S, p), (EV_CREATED, S, r),
                (EV_CREATED, S, r + "/c")]
    assert a.wait_events(4) == expected
    assert a.no_more_events()
