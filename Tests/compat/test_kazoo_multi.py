"""multi (transactions) and multiRead (wire-protocol.md section 11)."""
import pytest
from kazoo.exceptions import (BadVersionError, NodeExistsError, NoNodeError, NoAuthError,
                              NotEmptyError, RolledBackError, RuntimeInconsistency)
from kazoo.security import make_acl

import rawzk
from rawzk import (OP_CHECK, OP_CREATE, OP_CREATE2, OP_CREATECONTAINER, OP_CREATETTL, OP_DELETE,
                   OP_GETCHILDREN, OP_GETDATA, OP_SETDATA, check_body, create_body, delete_body,
                   path_watch_body, setdata_body)


def test_transaction_success_results(zk, base):
    zk.create(base + "/old", b"o")
    zk.create(base + "/chk")
    t = zk.transaction()
    t.create(base + "/new", b"n")
    t.create(base + "/seq-", b"", sequence=True)
    t.set_data(base + "/old", b"o2", version=0)
    t.check(base + "/chk", 0)
    t.delete(base + "/chk", version=0)
    results = t.commit()
    assert results[0] == base + "/new"
    assert results[1] == base + "/seq-0000000003"
    assert results[2].version == 1 and results[2].dataLength == 2
    assert results[3] is True and results[4] is True
    assert zk.get(base + "/old")[0] == b"o2"
    assert zk.exists(base + "/chk") is None
    # every sub-op of a multi shares one zxid
    assert zk.exists(base + "/new").czxid == results[2].mzxid == zk.exists(base + "/seq-0000000003").czxid


def test_transaction_atomic_rollback(zk, base):
    zk.create(base + "/keep", b"k")
    t = zk.transaction()
    t.create(base + "/a", b"a")
    t.set_data(base + "/keep", b"changed")
    t.check(base + "/keep", 7)  # fails: version is 0 (and would be 1 after the set)
    t.create(base + "/b")
    t.delete(base + "/keep")
    results = t.commit()
    assert [type(r) for r in results] == [RolledBackError, RolledBackError, BadVersionError,
                                          RuntimeInconsistency, RuntimeInconsistency]
    assert zk.exists(base + "/a") is None and zk.exists(base + "/b") is None
    assert zk.get(base + "/keep")[0] == b"k"
    assert zk.exists(base + "/keep").version == 0


@pytest.mark.parametrize("build,exc_index,exc", [
    (lambda t, b: (t.create(b + "/x"), t.create(b + "/x")), 1, NodeExistsError),
    (lambda t, b: (t.create(b + "/x"), t.delete(b + "/nothere")), 1, NoNodeError),
    (lambda t, b: (t.create(b + "/p"), t.create(b + "/p/c"), t.delete(b + "/p")), 2, NotEmptyError),
    (lambda t, b: (t.check(b + "/missing", 0), t.create(b + "/x")), 0, NoNodeError),
    (lambda t, b: (t.create(b + "/x"), t.set_data(b + "/x", b"", version=3)), 1, BadVersionError),
])
def test_transaction_failures(zk, base, build, exc_index, exc):
    t = zk.transaction()
    build(t, base)
    results = t.commit()
    assert isinstance(results[exc_index], exc)
    assert all(isinstance(r, RolledBackError) for r in results[:exc_index])
    assert all(isinstance(r, RuntimeInconsistency) for r in results[exc_index + 1:])
    assert zk.get_children(base) == []


def test_transaction_sees_its_own_earlier_ops(zk, base):
    t = zk.transaction()
    t.create(base + "/p")
    t.create(base + "/p/c", b"1")
    t.set_data(base + "/p/c", b"2", version=0)
    t.check(base + "/p/c", 1)
    t.delete(base + "/p/c", version=1)
    t.delete(base + "/p")
    results = t.commit()
    assert results[0] == base + "/p" and results[1] == base + "/p/c"
    assert results[2].version == 1
    assert results[3:] == [True, True, True]
    assert zk.exists(base + "/p") is None


def test_transaction_noauth(zk, base):
    zk.create(base + "/ro", acl=[make_acl("world", "anyone", read=True)])
    t = zk.transaction()
    t.create(base + "/ok")
    t.create(base + "/ro/kid")
    results = t.commit()
    assert isinstance(results[0], RolledBackError) and isinstance(results[1], NoAuthError)
    assert zk.exists(base + "/ok") is None


def test_failed_multi_consumes_one_zxid(zk, base):
    before = zk.create(base + "/z1", include_data=True)[1].czxid
    t = zk.transaction()
    t.create(base + "/q1")
    t.create(base + "/q2")
    t.check(base + "/nothere", 0)
    t.commit()
    after = zk.create(base + "/z2", include_data=True)[1].czxid
    assert after == before + 2


def test_multi_raw_success_encoding(raw, base):
    ops = [(OP_CREATE, create_body(base + "/m1", b"x")),
           (OP_CHECK, check_body(base + "/m1", 0)),
           (OP_SETDATA, setdata_body(base + "/m1", b"y", 0)),
           (OP_CREATECONTAINER, create_body(base + "/mc", flags=rawzk.CONTAINER)),
           (OP_CREATETTL, create_body(base + "/mt", flags=rawzk.PERSISTENT_WITH_TTL, ttl=60000)),
           (OP_DELETE, delete_body(base + "/m1"))]
    rep, results = raw.multi(ops)
    assert rep.err == 0
    assert [(t, e) for t, e, _ in results] == [(OP_CREATE, 0), (OP_CHECK, 0), (OP_SETDATA, 0),
                                              (OP_CREATE2, 0), (OP_CREATE2, 0), (OP_DELETE, 0)]
    assert results[0][2] == base + "/m1"
    assert results[2][2].version == 1 and results[2][2].mzxid == rep.zxid
    path, stat = results[3][2]
    assert path == base + "/mc" and stat.czxid == rep.zxid and stat.ephemeralOwner == 0
    path, stat = results[4][2]
    assert path == base + "/mt" and stat.czxid == rep.zxid and stat.ephemeralOwner == 0


def test_multi_raw_create2_result(raw, base):
    """3.8.0-3.8.1 report a create2 sub-op as a plain create (type 1, path
    only); 3.8.2+ report type 15 with path and Stat (ZOOKEEPER-4026). Either is
    accepted, but the record must match its type."""
    rep, results = raw.multi([(OP_CREATE2, create_body(base + "/c2", b"abc"))])
    assert rep.err == 0 and len(results) == 1
    t, e, rec = results[0]
    assert e == 0
    if t == OP_CREATE:
        assert rec == base + "/c2"
    else:
        assert t == OP_CREATE2
        path, stat = rec
        assert path == base + "/c2"
        assert stat.czxid == rep.zxid and stat.dataLength == 3


def test_multi_raw_failure_encoding(raw, base):
    raw.create(base + "/m1")
    raw.create(base + "/m2")
    ops = [(OP_DELETE, delete_body(base + "/m2")),
           (OP_CHECK, check_body(base + "/m1", 7)),
           (OP_CREATE, create_body(base + "/m3"))]
    rep, results = raw.multi(ops)
    assert rep.err == 0 and rep.zxid > 0
    assert results == [(-1, 0, 0), (-1, rawzk.BADVERSION, rawzk.BADVERSION),
                       (-1, rawzk.RUNTIMEINCONSISTENCY, rawzk.RUNTIMEINCONSISTENCY)]
    assert raw.exists(base + "/m2")[0] == 0


def test_multi_raw_empty(raw, base):
    _, stat0 = raw.create(base + "/e0", op=OP_CREATE2)[1]
    rep, results = raw.multi([])
    assert rep.err == 0 and results == []
    assert rep.zxid == stat0.czxid + 1  # an empty multi still consumes a zxid


def test_multi_with_read_op_is_marshalling_error(raw, base):
    rep, results = raw.multi([(OP_CREATE, create_body(base + "/r1")),
                              (OP_GETDATA, path_watch_body(base))])
    assert rep.err == rawzk.MARSHALLINGERROR and results is None
    assert rep.body == b""
    assert raw.exists(base + "/r1")[0] == rawzk.NONODE


def test_multi_fires_watches_per_subop(raw, zk, base):
    from helpers import Events
    ev = Events()
    zk.exists(base + "/w", watch=ev)
    zk.get_children(base, watch=ev)
    t = zk.transaction()
    t.create(base + "/w")
    t.create(base + "/w2")
    t.commit()
    got = ev.wait(2)
    assert sorted((e.type, e.path) for e in got) == [("CHILD", base), ("CREATED", base + "/w")]


# ------------------------------------------------------------------ multiRead
def test_multi_read(raw, zk, base):
    zk.create(base + "/a", b"A")
    zk.create(base + "/a/k1")
    zk.create(base + "/a/k2")
    rep, results = raw.multi_read([
        (OP_GETDATA, path_watch_body(base + "/a")),
        (OP_GETCHILDREN, path_watch_body(base + "/a")),
        (OP_GETDATA, path_watch_body(base + "/missing")),
        (OP_GETCHILDREN, path_watch_body(base + "/a/k1")),
    ])
    assert rep.err == 0
    assert results[0][:2] == (OP_GETDATA, 0)
    data, stat = results[0][2]
    assert data == b"A" and stat == zk.exists(base + "/a")
    assert results[1][:2] == (OP_GETCHILDREN, 0) and sorted(results[1][2]) == ["k1", "k2"]
    assert results[2] == (-1, rawzk.NONODE, rawzk.NONODE)
    assert results[3] == (OP_GETCHILDREN, 0, [])


def test_multi_read_noauth_is_per_op(raw, zk, base):
    zk.create(base + "/open", b"o")
    zk.create(base + "/closed", b"c", acl=[make_acl("world", "anyone", write=True)])
    rep, results = raw.multi_read([(OP_GETDATA, path_watch_body(base + "/closed")),
                                   (OP_GETDATA, path_watch_body(base + "/open"))])
    assert rep.err == 0
    assert results[0] == (-1, rawzk.NOAUTH, rawzk.NOAUTH)
    assert results[1][0] == OP_GETDATA and results[1][2][0] == b"o"


def test_multi_read_ignores_watch_flag(raw, zk, base):
    zk.create(base + "/w")
    rep, results = raw.multi_read([(OP_GETDATA, path_watch_body(base + "/w", True)),
                                   (OP_GETCHILDREN, path_watch_body(base + "/w", True))])
    assert rep.err == 0 and [r[1] for r in results] == [0, 0]
    zk.set(base + "/w", b"x")
    zk.create(base + "/w/c")
    assert raw.no_more_events() and raw.events == []


def test_multi_read_with_write_op_is_marshalling_error(raw, base):
    rep, results = raw.multi_read([(OP_GETDATA, path_watch_body(base)),
                                   (OP_CREATE, create_body(base + "/nope"))])
    assert rep.err == rawzk.MARSHALLINGERROR and results is None
    assert raw.exists(base + "/nope")[0] == rawzk.NONODE


def test_multi_read_empty(raw):
    rep, results = raw.multi_read([])
    assert rep.err == 0 and results == []
