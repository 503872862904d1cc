"""One-shot watches through kazoo, and the exact notification frames seen on
a raw connection (wire-protocol.md 9.1-9.3, 9.5)."""
import struct

from kazoo.security import make_acl

import rawzk
from helpers import Events, settle
from rawzk import EV_CHILDREN_CHANGED, EV_CREATED, EV_DATA_CHANGED, EV_DELETED


# ------------------------------------------------------------------ kazoo one-shot
def test_exists_watch_on_missing_node_fires_created_once(zk, zk2, base):
    ev = Events()
    assert zk.exists(base + "/n", watch=ev) is None
    zk2.create(base + "/n")
    assert [(e.type, e.path, e.state) for e in ev.wait(1)] == [("CREATED", base + "/n", "CONNECTED")]
    zk2.set(base + "/n", b"x")
    zk2.delete(base + "/n")
    settle(zk)
    assert len(ev.events) == 1


def test_exists_watch_on_existing_node(zk, zk2, base):
    zk.create(base + "/n")
    ev = Events()
    assert zk.exists(base + "/n", watch=ev) is not None
    zk2.set(base + "/n", b"1")
    assert ev.wait(1) and ev.simple() == [("CHANGED", base + "/n")]
    ev2 = Events()
    zk.exists(base + "/n", watch=ev2)
    zk2.delete(base + "/n")
    assert ev2.wait(1) and ev2.simple() == [("DELETED", base + "/n")]
    settle(zk)
    assert len(ev.events) == 1


def test_get_watch_data_changed_then_one_shot(zk, zk2, base):
    zk.create(base + "/n", b"a")
    ev = Events()
    zk.get(base + "/n", watch=ev)
    zk2.set(base + "/n", b"b")
    zk2.set(base + "/n", b"c")
    assert ev.wait(1) and ev.simple() == [("CHANGED", base + "/n")]
    settle(zk)
    assert len(ev.events) == 1


def test_get_watch_deleted(zk, zk2, base):
    zk.create(base + "/n", b"a")
    ev = Events()
    zk.get(base + "/n", watch=ev)
    zk2.delete(base + "/n")
    assert ev.wait(1) and ev.simple() == [("DELETED", base + "/n")]


def test_get_watch_not_left_on_missing_node(zk, zk2, base):
    from kazoo.exceptions import NoNodeError
    ev = Events()
    try:
        zk.get(base + "/n", watch=ev)
    except NoNodeError:
        pass
    else:
        raise AssertionError("expected NoNodeError")
    zk2.create(base + "/n")
    settle(zk)
    assert ev.events == []


def test_child_watch_fires_on_create_and_delete_of_children(zk, zk2, base):
    ev = Events()
    assert zk.get_children(base, watch=ev) == []
    zk2.create(base + "/c1")
    assert ev.wait(1) and ev.simple() == [("CHILD", base)]
    zk2.create(base + "/c2")  # one-shot: no second event
    settle(zk)
    assert len(ev.events) == 1
    ev2 = Events()
    zk.get_children(base, watch=ev2, include_data=True)
    zk2.delete(base + "/c1")
    assert ev2.wait(1) and ev2.simple() == [("CHILD", base)]


def test_child_watch_ignores_data_changes(zk, zk2, base):
    zk.create(base + "/c", b"")
    ev = Events()
    zk.get_children(base, watch=ev)
    zk2.set(base, b"parent data")
    zk2.set(base + "/c", b"child data")
    zk2.create(base + "/c/grandchild")
    settle(zk)
    assert ev.events == []
    zk2.delete(base + "/c/grandchild")
    zk2.delete(base + "/c")
    assert ev.wait(1) and ev.simple() == [("CHILD", base)]


def test_child_watch_fires_deleted_when_node_deleted(zk, zk2, base):
    zk.create(base + "/p")
    ev = Events()
    zk.get_children(base + "/p", watch=ev)
    zk2.delete(base + "/p")
    assert ev.wait(1) and ev.simple() == [("DELETED", base + "/p")]


def test_every_client_gets_its_own_event(zk_factory, zk, base):
    clients = [zk_factory() for _ in range(3)]
    evs = [Events() for _ in clients]
    for c, e in zip(clients, evs):
        c.exists(base + "/n", watch=e)
    zk.create(base + "/n")
    for e in evs:
        assert e.wait(1) and e.simple() == [("CREATED", base + "/n")]


def test_own_write_triggers_own_watch(zk, base):
    ev = Events()
    zk.exists(base + "/n", watch=ev)
    zk.create(base + "/n")
    assert ev.wait(1) and ev.simple() == [("CREATED", base + "/n")]


def test_set_acl_and_failed_ops_trigger_nothing(zk, zk2, base):
    zk.create(base + "/n")
    ev = Events()
    zk.get(base + "/n", watch=ev)
    zk.get_children(base + "/n", watch=ev)
    zk2.set_acls(base + "/n", [make_acl("world", "anyone", all=True)])
    t = zk2.transaction()
    t.set_data(base + "/n", b"x")
    t.check(base + "/n", 99)
    t.commit()
    try:
        zk2.set(base + "/n", b"x", version=42)
    except Exception:
        pass
    settle(zk)
    assert ev.events == []


# ------------------------------------------------------------------ raw frames
def test_notification_frame_bytes(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    assert a.exists(base + "/nope", watch=True)[0] == rawzk.NONODE
    assert b.create(base + "/nope")[0] == 0
    data = a.recv_frame(5.0)
    path = (base + "/nope").encode()
    expected = (struct.pack(">iqi", -1, -1, 0) + struct.pack(">ii", 1, 3)
                + struct.pack(">i", len(path)) + path)
    assert data == expected


def test_event_precedes_reply_of_triggering_write(raw, base):
    assert raw.exists(base + "/n", watch=True)[0] == rawzk.NONODE
    xid = raw.send_request(rawzk.OP_CREATE, rawzk.create_body(base + "/n"))
    # read_reply collects notifications that arrive before the reply
    rep = raw.read_reply(xid)
    assert rep.err == 0
    assert raw.events == [(EV_CREATED, 3, base + "/n")]


def test_exists_and_get_watch_same_connection_one_event(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    b.create(base + "/n")
    a.exists(base + "/n", watch=True)
    a.get_data(base + "/n", watch=True)
    b.set_data(base + "/n", b"x")
    assert a.wait_events(1) == [(EV_DATA_CHANGED, 3, base + "/n")]
    assert a.no_more_events()


def test_delete_with_data_and_child_watch_one_event(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    b.create(base + "/n")
    a.get_data(base + "/n", watch=True)
    a.get_children(base + "/n", watch=True)
    a.get_children(base, watch=True)
    b.delete(base + "/n")
    a.wait_events(2)
    assert a.no_more_events()
    assert sorted(a.events) == [(EV_DELETED, 3, base + "/n"), (EV_CHILDREN_CHANGED, 3, base)]


def test_create_fires_created_and_parent_child_event(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    a.exists(base + "/n", watch=True)
    a.get_children(base, watch=True)
    b.create(base + "/n")
    a.wait_events(2)
    assert a.no_more_events()
    assert sorted(a.events) == [(EV_CREATED, 3, base + "/n"), (EV_CHILDREN_CHANGED, 3, base)]


def test_root_child_watch(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    a.get_children("/", watch=True)
    b.create(base + "x")  # a sibling of base, child of /
    assert a.wait_events(1) == [(EV_CHILDREN_CHANGED, 3, "/")]


def test_watches_dropped_when_connection_closes(raw_factory, zk, base):
    a = raw_factory()
    a.exists(base + "/n", watch=True)
    a.get_children(base, watch=True)
    a.close_session()
    zk.create(base + "/n")
    assert zk.exists(base + "/n") is not None  # server still fine
    # the closed connection's watches are gone: a fresh connection sees none of them
    b = raw_factory()
    assert b.check_watches(base + "/n", rawzk.WATCHER_ANY)[0] == rawzk.NOWATCHER


# ------------------------------------------------------------------ setWatches
def test_set_watches_after_reconnect(raw_factory, zk, base):
    """Section 9.5 example: events for changes missed since relativeZxid."""
    zk.create(base + "/stay", b"")
    rel = zk.exists(base + "/stay").mzxid
    zk.create(base + "/m1", b"1")  # also moves the pzxid of base past rel
    zk.set(base + "/m1", b"2")
    a = raw_factory()
    rep = a.set_watches(rel,
                        data=[base + "/m1", base + "/gone", base + "/stay"],
                        exist=[base + "/m1", base + "/absent"],
                        child=[base, base + "/gone2"])
    assert rep.xid == rawzk.SET_WATCHES_XID and rep.err == 0 and rep.body == b""
    assert a.events == [(EV_DATA_CHANGED, 3, base + "/m1"), (EV_DELETED, 3, base + "/gone"),
                        (EV_CREATED, 3, base + "/m1"), (EV_CHILDREN_CHANGED, 3, base),
                        (EV_DELETED, 3, base + "/gone2")]
    # the registered ones: data watch on /stay, exist watch on /absent
    zk.set(base + "/stay", b"x")
    zk.create(base + "/absent")
    a.wait_events(7)
    assert a.events[5:] == [(EV_DATA_CHANGED, 3, base + "/stay"), (EV_CREATED, 3, base + "/absent")]


# ------------------------------------------------------------------ ACL filtering
def test_one_shot_events_filtered_without_read(raw_factory, zk_factory, base):
    """3.8.4+ / Debian 3.8.0 (CVE-2024-23944): a connection lacking READ on the
    node does not receive its data events (section 9.4)."""
    owner = zk_factory(auth_data=[("digest", "o:p")])
    from kazoo.security import make_digest_acl
    acl = [make_digest_acl("o", "p", all=True), make_acl("world", "anyone", create=True)]
    owner.create(base + "/p", acl=acl)
    a = raw_factory()
    # child watch registered while the parent is still readable
    owner.set_acls(base + "/p", [make_acl("world", "anyone", all=True)])
    assert a.get_children(base + "/p", watch=True)[0] == 0
    owner.set_acls(base + "/p", acl)
    assert a.create(base + "/p/kid")[0] == 0  # allowed by world CREATE
    assert a.no_more_events() and a.events == []
