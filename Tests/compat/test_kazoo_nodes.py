"""delete, exists, get, set, get_children, stat bookkeeping, sync,
getAllChildrenNumber, getEphemerals (wire-protocol.md 8.2, 8.3, 10)."""
import pytest
from kazoo.exceptions import (BadArgumentsError, BadVersionError, NoNodeError, NotEmptyError)

import kzext
import rawzk


# ------------------------------------------------------------------ delete
def test_delete_any_version(zk, base):
    zk.create(base + "/d")
    zk.set(base + "/d", b"1")
    zk.delete(base + "/d")
    assert zk.exists(base + "/d") is None


def test_delete_with_version(zk, base):
    zk.create(base + "/d")
    zk.set(base + "/d", b"1")  # version 1
    with pytest.raises(BadVersionError):
        zk.delete(base + "/d", version=0)
    with pytest.raises(BadVersionError):
        zk.delete(base + "/d", version=2)
    assert zk.exists(base + "/d") is not None
    zk.delete(base + "/d", version=1)
    assert zk.exists(base + "/d") is None


def test_delete_missing_is_nonode(zk, base):
    with pytest.raises(NoNodeError):
        zk.delete(base + "/nothere")
    with pytest.raises(NoNodeError):
        zk.delete(base + "/no/parent")


def test_delete_notempty(zk, base):
    zk.create(base + "/n/c", makepath=True)
    with pytest.raises(NotEmptyError):
        zk.delete(base + "/n")
    assert zk.get_children(base + "/n") == ["c"]


def test_delete_badversion_checked_before_notempty(zk, base):
    """Validation order (10.1): version before children."""
    zk.create(base + "/n/c", makepath=True)
    with pytest.raises(BadVersionError):
        zk.delete(base + "/n", version=5)
    with pytest.raises(NotEmptyError):
        zk.delete(base + "/n", version=0)


@pytest.mark.parametrize("path", ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"])
def test_delete_reserved_nodes_is_badarguments(zk, path):
    with pytest.raises(BadArgumentsError):
        zk.delete(path)
    assert zk.exists(path) is not None


def test_delete_recursive(zk, base):
    zk.create(base + "/r/a/b", makepath=True)
    zk.create(base + "/r/c")
    zk.delete(base + "/r", recursive=True)
    assert zk.exists(base + "/r") is None


# ------------------------------------------------------------------ exists / get
def test_exists_missing_returns_none(zk, base):
    assert zk.exists(base + "/none") is None


def test_exists_matches_get_stat(zk, base):
    zk.create(base + "/e", b"data")
    data, stat = zk.get(base + "/e")
    assert zk.exists(base + "/e") == stat
    assert data == b"data"


def test_get_missing_is_nonode(zk, base):
    with pytest.raises(NoNodeError):
        zk.get(base + "/none")


def test_reads_of_malformed_paths_are_nonode(raw):
    """Reads do not validate paths (8.2): a malformed path is just not found."""
    for path in ["t", "/a//b", "/a/", "/a/./b"]:
        assert raw.get_data(path)[0] == rawzk.NONODE, path
        assert raw.get_children(path)[0] == rawzk.NONODE, path
        assert raw.exists(path)[0] == rawzk.NONODE, path


def test_initial_tree(zk):
    assert {"zookeeper"} <= set(zk.get_children("/"))
    assert sorted(zk.get_children("/zookeeper")) == ["config", "quota"]
    stat = zk.exists("/zookeeper")
    assert stat.czxid == 0 and stat.numChildren == 2 and stat.cversion == -2
    acls, stat = zk.get_acls("/zookeeper/config")
    assert [(a.perms, a.id.scheme, a.id.id) for a in acls] == [(1, "world", "anyone")]
    assert stat.aversion == -1
    acls, _ = zk.get_acls("/zookeeper")
    assert [(a.perms, a.id.scheme, a.id.id) for a in acls] == [(31, "world", "anyone")]


# ------------------------------------------------------------------ set
def test_set_updates_version_and_mzxid(zk, base):
    zk.create(base + "/s", b"a")
    before = zk.exists(base + "/s")
    stat = zk.set(base + "/s", b"bb")
    assert stat.version == 1
    assert stat.mzxid > before.mzxid and stat.czxid == before.czxid
    assert stat.mtime >= before.mtime and stat.ctime == before.ctime
    assert stat.dataLength == 2
    assert stat.pzxid == before.pzxid and stat.cversion == 0
    assert zk.get(base + "/s") == (b"bb", stat)


def test_set_with_version(zk, base):
    zk.create(base + "/s")
    assert zk.set(base + "/s", b"1", version=0).version == 1
    with pytest.raises(BadVersionError):
        zk.set(base + "/s", b"2", version=0)
    assert zk.get(base + "/s")[0] == b"1"
    assert zk.set(base + "/s", b"2", version=1).version == 2
    assert zk.set(base + "/s", b"3", version=-1).version == 3


def test_set_missing_is_nonode(zk, base):
    with pytest.raises(NoNodeError):
        zk.set(base + "/none", b"x")


def test_set_null_data(raw, base):
    assert raw.create(base + "/n", b"abc")[0] == 0
    err, stat = raw.set_data(base + "/n", None)
    assert err == 0 and stat.dataLength == 0 and stat.version == 1
    err, (data, stat2) = raw.get_data(base + "/n")
    assert data is None and stat2 == stat


def test_set_root_and_zookeeper_nodes(zk):
    stat = zk.set("/zookeeper/quota", b"q")
    assert stat.version == 1
    assert zk.get("/zookeeper/quota")[0] == b"q"
    zk.set("/zookeeper/quota", b"")


# ------------------------------------------------------------------ children
def test_get_children_and_include_data(zk, base):
    zk.create(base + "/p")
    for name in ["c1", "c2", "c3"]:
        zk.create(base + "/p/" + name, name.encode())
    assert sorted(zk.get_children(base + "/p")) == ["c1", "c2", "c3"]
    children, stat = zk.get_children(base + "/p", include_data=True)
    assert sorted(children) == ["c1", "c2", "c3"]
    assert stat == zk.exists(base + "/p")
    assert stat.numChildren == 3 and stat.cversion == 3
    assert zk.get_children(base + "/p/c1") == []


def test_get_children_missing_is_nonode(zk, base):
    with pytest.raises(NoNodeError):
        zk.get_children(base + "/none")
    with pytest.raises(NoNodeError):
        zk.get_children(base + "/none", include_data=True)


def test_cversion_and_pzxid_rules(zk, base):
    """cversion = creates + deletes of children; pzxid follows child changes (8.3)."""
    zk.create(base + "/t")
    s = [zk.create(base + f"/t/{i}", include_data=True)[1] for i in range(3)]
    stat = zk.exists(base + "/t")
    assert stat.cversion == 3 and stat.pzxid == s[2].czxid
    zk.delete(base + "/t/1")
    stat = zk.exists(base + "/t")
    assert stat.cversion == 4 and stat.numChildren == 2
    assert stat.pzxid > s[2].czxid
    pz = stat.pzxid
    zk.set(base + "/t/0", b"x")  # data change of a child: no effect on the parent
    stat2 = zk.exists(base + "/t")
    assert (stat2.cversion, stat2.pzxid, stat2.mzxid) == (4, pz, stat.mzxid)


def test_root_cversion(zk):
    stat = zk.exists("/")
    children = zk.get_children("/")
    assert stat.numChildren == len(children)
    assert stat.czxid == 0


# ------------------------------------------------------------------ sync
def test_sync_returns_path(zk, base):
    assert zk.sync(base) == base
    assert zk.sync("/") == "/"


def test_sync_raw_echoes_path(raw):
    assert raw.sync("/whatever/not/there") == (0, "/whatever/not/there")


# ------------------------------------------------------------------ getAllChildrenNumber
def test_get_all_children_number(zk, base):
    zk.create(base + "/g/a/b/c", makepath=True)
    zk.create(base + "/g/d")
    zk.create(base + "/gx")  # shares the prefix "/g" but is not below "/g/"
    assert kzext.get_all_children_number(zk, base + "/g") == 4
    assert kzext.get_all_children_number(zk, base + "/g/a") == 2
    assert kzext.get_all_children_number(zk, base + "/g/d") == 0
    assert kzext.get_all_children_number(zk, "/zookeeper") == 2


def test_get_all_children_number_root_counts_zookeeper_nodes(zk, base, raw):
    zk.create(base + "/q")
    total = kzext.get_all_children_number(zk, "/")
    # count every node below / by walking the tree
    def walk(p):
        n = 0
        for c in zk.get_children(p):
            child = (p.rstrip("/") + "/" + c)
            n += 1 + walk(child)
        return n
    assert total == walk("/")
    assert raw.get_all_children_number("/") == (0, total)


def test_get_all_children_number_missing_is_nonode(zk, base):
    with pytest.raises(NoNodeError):
        kzext.get_all_children_number(zk, base + "/none")


# ------------------------------------------------------------------ getEphemerals
def test_get_ephemerals(zk_factory, zk, base):
    zk.create(base + "/e1", ephemeral=True)
    zk.create(base + "/sub")
    zk.create(base + "/sub/e2", ephemeral=True)
    zk.create(base + "/persistent")
    other = zk_factory()
    other.create(base + "/theirs", ephemeral=True)
    mine = {base + "/e1", base + "/sub/e2"}
    assert set(kzext.get_ephemerals(zk, "/")) == mine
    assert set(kzext.get_ephemerals(zk, base + "/sub")) == {base + "/sub/e2"}
    # a plain string prefix match, not a path match
    assert set(kzext.get_ephemerals(zk, base + "/e")) == {base + "/e1"}
    assert kzext.get_ephemerals(zk, base + "/zzz") == []
    assert kzext.get_ephemerals(other, "/") == [base + "/theirs"]


def test_get_ephemerals_null_prefix_means_all(raw, base):
    raw.create(base + "/re", flags=rawzk.EPHEMERAL)
    assert raw.get_ephemerals(None) == (0, [base + "/re"])
    assert raw.get_ephemerals("") == (0, [base + "/re"])
