"""create / create2 with every CreateMode (wire-protocol.md 8.1, 8.3, 10.1)."""
import time

import pytest
from kazoo.exceptions import (BadArgumentsError, NoChildrenForEphemeralsError, NodeExistsError,
                              NoNodeError)

import kzext
import rawzk


def test_create_persistent_returns_path_and_fresh_stat(zk, base):
    before = int(time.time() * 1000)
    assert zk.create(base + "/p", b"hello") == base + "/p"
    data, stat = zk.get(base + "/p")
    assert data == b"hello"
    assert stat.version == 0 and stat.cversion == 0 and stat.aversion == 0
    assert stat.ephemeralOwner == 0
    assert stat.dataLength == 5 and stat.numChildren == 0
    assert stat.czxid == stat.mzxid == stat.pzxid > 0
    assert stat.ctime == stat.mtime
    assert before - 5000 <= stat.ctime <= int(time.time() * 1000) + 5000


def test_create_existing_is_nodeexists(zk, base):
    zk.create(base + "/dup")
    with pytest.raises(NodeExistsError):
        zk.create(base + "/dup")


def test_create_without_parent_is_nonode(zk, base):
    with pytest.raises(NoNodeError):
        zk.create(base + "/missing/child")


def test_create_makepath_builds_parents(zk, base):
    assert zk.create(base + "/a/b/c", b"x", makepath=True) == base + "/a/b/c"
    assert zk.get(base + "/a/b/c")[0] == b"x"
    assert zk.get_children(base + "/a") == ["b"]


def test_create2_include_data_returns_stat(zk, base):
    path, stat = zk.create(base + "/c2", b"abc", include_data=True)
    assert path == base + "/c2"
    assert stat == zk.exists(base + "/c2")
    assert stat.dataLength == 3 and stat.version == 0 and stat.czxid == stat.mzxid == stat.pzxid


def test_create2_sequential_ephemeral_stat(zk, base):
    path, stat = zk.create(base + "/e-", b"", ephemeral=True, sequence=True, include_data=True)
    assert path == base + "/e-0000000000"
    assert stat.ephemeralOwner == zk.client_id[0]
    assert stat.dataLength == 0


def test_zxids_increase_across_creates(zk, base):
    s1 = zk.create(base + "/z1", include_data=True)[1]
    s2 = zk.create(base + "/z2", include_data=True)[1]
    assert s2.czxid > s1.czxid
    # the parent's pzxid follows the last child create
    assert zk.exists(base).pzxid == s2.czxid


def test_failed_create_consumes_a_zxid(zk, base):
    """Section 13: a failed write still gets a zxid."""
    s1 = zk.create(base + "/f1", include_data=True)[1]
    with pytest.raises(NodeExistsError):
        zk.create(base + "/f1")
    s2 = zk.create(base + "/f2", include_data=True)[1]
    assert s2.czxid == s1.czxid + 2


def test_null_and_empty_data(raw, zk, base):
    """A null buffer and an empty buffer both round trip (section 2)."""
    assert raw.create(base + "/null", data=None)[0] == 0
    assert raw.create(base + "/empty", data=b"")[0] == 0
    err, (data, stat) = raw.get_data(base + "/null")
    assert err == 0 and data is None and stat.dataLength == 0
    err, (data, stat) = raw.get_data(base + "/empty")
    assert err == 0 and data == b"" and stat.dataLength == 0


def test_ephemeral_owner_and_no_children(zk, base):
    zk.create(base + "/eph", b"e", ephemeral=True)
    stat = zk.exists(base + "/eph")
    assert stat.ephemeralOwner == zk.client_id[0] != 0
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(base + "/eph/child")
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(base + "/eph/seq-", sequence=True)


def test_ephemeral_removed_when_session_closes(zk_factory, zk, base):
    other = zk_factory()
    other.create(base + "/gone", ephemeral=True)
    assert zk.exists(base + "/gone") is not None
    other.stop()
    assert zk.exists(base + "/gone") is None


def test_sequential_counter_counts_all_child_creates(zk, base):
    assert zk.create(base + "/s-", sequence=True) == base + "/s-0000000000"
    assert zk.create(base + "/s-", sequence=True) == base + "/s-0000000001"
    zk.delete(base + "/s-0000000000")
    # a delete does not free a number; a plain create also advances the counter
    zk.create(base + "/plain")
    assert zk.create(base + "/s-", sequence=True) == base + "/s-0000000003"
    assert zk.create(base + "/other", sequence=True) == base + "/other0000000004"
    assert zk.create(base + "/e-", ephemeral=True, sequence=True) == base + "/e-0000000005"
    assert zk.exists(base + "/e-0000000005").ephemeralOwner == zk.client_id[0]


def test_sequential_with_trailing_slash(zk, base):
    zk.create(base + "/d")
    assert zk.create(base + "/d/", sequence=True) == base + "/d/0000000000"
    assert zk.get_children(base + "/d") == ["0000000000"]


def test_sequential_name_existing_is_nodeexists(zk, base):
    zk.create(base + "/x0000000001")  # takes sequence number 0, next is 1
    with pytest.raises(NodeExistsError):
        zk.create(base + "/x", sequence=True)
    # the failed create does not advance the counter
    with pytest.raises(NodeExistsError):
        zk.create(base + "/x", sequence=True)


def test_create_container(zk, base):
    path, stat = kzext.create_container(zk, base + "/cont", b"cd")
    assert path == base + "/cont"
    assert stat.ephemeralOwner == 0  # the container marker is not shown
    assert stat.dataLength == 2 and stat.version == 0
    assert zk.exists(base + "/cont") == stat
    zk.create(base + "/cont/child")
    assert zk.get_children(base + "/cont") == ["child"]
    with pytest.raises(NodeExistsError):
        kzext.create_container(zk, base + "/cont")


def test_create_ttl_and_ttl_sequential(zk, base):
    path, stat = kzext.create_ttl(zk, base + "/ttl", 60000, b"t")
    assert path == base + "/ttl"
    assert stat.ephemeralOwner == 0  # the TTL marker is not shown
    assert zk.get(base + "/ttl")[0] == b"t"
    path, stat = kzext.create_ttl(zk, base + "/ttls-", 60000, sequence=True)
    assert path == base + "/ttls-0000000001"
    assert stat.ephemeralOwner == 0
    assert zk.exists(path) == stat


@pytest.mark.parametrize("ttl", [0, -1, 1 << 40])
def test_create_ttl_out_of_range_is_badarguments(zk, base, ttl):
    with pytest.raises(BadArgumentsError):
        kzext.create_ttl(zk, base + "/bad", ttl)
    assert zk.exists(base + "/bad") is None


def test_create_ttl_max_ttl_accepted(zk, base):
    path, _ = kzext.create_ttl(zk, base + "/maxttl", (1 << 40) - 1)
    assert path == base + "/maxttl"


@pytest.mark.parametrize("op,flags", [
    (rawzk.OP_CREATE, rawzk.PERSISTENT_WITH_TTL),
    (rawzk.OP_CREATE2, rawzk.PERSISTENT_SEQUENTIAL_WITH_TTL),
    (rawzk.OP_CREATECONTAINER, rawzk.PERSISTENT_WITH_TTL),
    (rawzk.OP_CREATE, 7),
    (rawzk.OP_CREATE, -1),
    (rawzk.OP_CREATETTL, rawzk.PERSISTENT),
    (rawzk.OP_CREATETTL, rawzk.EPHEMERAL),
    (rawzk.OP_CREATETTL, rawzk.CONTAINER),
])
def test_create_invalid_flags_for_opcode(raw, zk, base, op, flags):
    ttl = 1000 if op == rawzk.OP_CREATETTL else None
    err, _ = raw.create(base + "/f", flags=flags, op=op, ttl=ttl)
    assert err == rawzk.BADARGUMENTS
    assert zk.exists(base + "/f") is None


def test_container_flags_on_plain_create_make_persistent_node(raw, zk, base):
    """opcode 1 with flags 4 creates a normal persistent node (8.1)."""
    err, path = raw.create(base + "/p4", flags=rawzk.CONTAINER)
    assert (err, path) == (0, base + "/p4")
    assert zk.exists(base + "/p4").ephemeralOwner == 0


def test_create_with_invalid_acl(zk, base):
    from kazoo.exceptions import InvalidACLError
    from kazoo.security import ACL, Id
    with pytest.raises(InvalidACLError):
        zk.create(base + "/acl", acl=[ACL(31, Id("world", "nobody"))])
    with pytest.raises(InvalidACLError):
        zk.create(base + "/acl", acl=[ACL(31, Id("nosuchscheme", "x"))])
    with pytest.raises(InvalidACLError):
        zk.create(base + "/acl", acl=[ACL(31, Id("auth", ""))])  # not authenticated
    assert zk.exists(base + "/acl") is None


def test_create_with_empty_acl_is_invalidacl(raw, zk, base):
    err, _ = raw.create(base + "/acl", acl=[])
    assert err == rawzk.INVALIDACL
    assert zk.exists(base + "/acl") is None


def test_large_value_limit(zk, base):
    """Data just under jute.maxbuffer is fine."""
    big = b"x" * (1024 * 1024 - 1024)
    zk.create(base + "/big", big)
    assert zk.get(base + "/big")[0] == big
