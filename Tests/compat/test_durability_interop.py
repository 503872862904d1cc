"""Data directories move between zkswiftd and Apache ZooKeeper 3.8.0 in both
directions (disk-format.md §8), and Apache's own file readers accept the files
the server under test writes.

A writer server builds a varied tree (ACLs incl. digest/auth/ip, null and empty
data, sequential, ephemeral nodes of live sessions, containers, TTL nodes,
multi, failed writes, deletes, setACL), a full kazoo dump (data, Stat, ACL of
every node) is taken, the writer is SIGKILLed while the ephemeral owners'
sessions are still open, and a reader server started on (a copy of) its data
directory must serve exactly the same dump right after it starts.

Pairs: writer -> reader for (target, target), (target, apache) and
(apache, target); with ZK_COMPAT_TARGET=apache they collapse to apache ->
apache, which is how these tests were validated. Modes: "log" (the reader
replays the log after snapshot.0) and "snapshot" (snapCount=20 and a clean
restart half way, so the reader loads a snapshot holding part of the tree,
sessions and ephemerals, then replays the rest).
"""
import os
import shutil
import tempfile

import pytest
from kazoo.client import KazooClient
from kazoo.security import ACL, Id, make_digest_acl, make_digest_acl_credential, Permissions

import durability as d
import kzext
import rawzk
import servers
from helpers import TARGET

U1, U2 = ("u1", "p1"), ("u2", "p2")
AUTH = [("digest", f"{U1[0]}:{U1[1]}"), ("digest", f"{U2[0]}:{U2[1]}")]


def _kazoo(srv, **kw):
    c = KazooClient(hosts=srv.hosts, timeout=15.0, **kw)
    c.start(timeout=15)
    return c


def _phase1(srv, live):
    """First half of the tree. `live` collects clients whose sessions must
    still be open when the writer dies."""
    zk = _kazoo(srv, auth_data=[AUTH[0]])
    live.append(zk)
    e1 = rawzk.RawZK.session(srv.host, srv.port, timeout=30000)
    live.append(e1)
    zk.create("/it", b"root")
    assert e1.create("/it/null", None)[0] == 0
    zk.create("/it/empty", b"")
    zk.create("/it/big", bytes(range(256)) * 400)
    zk.create("/it/utf-\u00fcn\u00efc\u00f8d\u00e9-\u540d\u524d", b"\xff\x00bin")
    zk.create("/it/acl")
    zk.create("/it/acl/world-read", b"wr", acl=[ACL(Permissions.READ, Id("world", "anyone"))])
    zk.create("/it/acl/digest", b"dg", acl=[make_digest_acl(*U1, all=True)])
    zk.create("/it/acl/auth", b"au", acl=[ACL(Permissions.ALL, Id("auth", ""))])
    zk.create("/it/acl/ip", b"ip", acl=[ACL(Permissions.ALL, Id("ip", "127.0.0.1")),
                                        ACL(Permissions.READ, Id("world", "anyone"))])
    zk.create("/it/acl/mixed", b"mx", acl=[
        ACL(Permissions.READ | Permissions.WRITE, Id("digest", make_digest_acl_credential(*U2))),
        ACL(Permissions.CREATE | Permissions.DELETE, Id("world", "anyone"))])
    zk.create("/it/acl/setacl", b"sa")
    zk.set_acls("/it/acl/setacl", [make_digest_acl(*U1, read=True, write=True, admin=True)])
    zk.create("/it/seq")
    made = [zk.create("/it/seq/p-", b"%d" % i, sequence=True) for i in range(5)]
    zk.delete(made[1])
    zk.delete(made[3])
    assert e1.create("/it/seq/e-", b"es", flags=rawzk.EPHEMERAL_SEQUENTIAL)[0] == 0
    assert e1.create("/it/eph1", b"eph1", flags=rawzk.EPHEMERAL)[0] == 0
    kzext.create_container(zk, "/it/cont", b"c")
    zk.create("/it/cont/c1", b"child")
    kzext.create_ttl(zk, "/it/ttl", 3600000, b"ttl")
    zk.create("/it/ttlseq")
    kzext.create_ttl(zk, "/it/ttlseq/t-", 3600000, b"ts", sequence=True)
    zk.create("/it/ver", b"0")
    for i in range(1, 4):
        zk.set("/it/ver", b"%d" % i)
    zk.create("/it/dc")
    zk.create("/it/dc/x")
    zk.delete("/it/dc/x")
    # a session closed with an ephemeral: closeSession record with its path list
    gone = rawzk.RawZK.session(srv.host, srv.port)
    assert gone.create("/it/closed", b"", flags=rawzk.EPHEMERAL)[0] == 0
    assert gone.close_session().err == 0
    gone.close()


def _phase2(srv, live):
    zk = _kazoo(srv, auth_data=[AUTH[0]])
    live.append(zk)
    e2 = rawzk.RawZK.session(srv.host, srv.port, timeout=30000)
    live.append(e2)
    assert e2.create("/it/eph2", b"eph2", flags=rawzk.EPHEMERAL)[0] == 0
    t = zk.transaction()
    t.create("/it/multi", b"m")
    t.create("/it/multi/a", b"a")
    t.create("/it/multi/b", b"")
    t.set_data("/it", b"root2")
    t.delete("/it/empty")
    t.check("/it/ver", 3)
    assert not any(isinstance(r, Exception) for r in t.commit())
    zk.create("/it/empty", b"")
    rep, res = e2.multi([(rawzk.OP_CREATE, rawzk.create_body("/it/multi/null", None)),
                         (rawzk.OP_SETDATA, rawzk.setdata_body("/it/multi/a", None))])
    assert rep.err == 0 and all(r[1] == 0 for r in res), res
    # failed writes are logged as error records and change nothing
    t = zk.transaction()
    t.create("/it/multi/x")
    t.create("/it")
    assert any(isinstance(r, Exception) for r in t.commit())
    assert e2.create("/it/ver", b"dup")[0] == rawzk.NODEEXISTS
    assert e2.set_data("/it/ver", b"bad", version=99)[0] == rawzk.BADVERSION
    zk.set_acls("/it/ver", [ACL(Permissions.ALL, Id("world", "anyone"))], version=0)
    zk.create("/it/seq/p-", b"late", sequence=True)


def full_dump(srv):
    c = _kazoo(srv, auth_data=AUTH)
    try:
        return d.dump_tree(c)
    finally:
        c.stop()
        c.close()


def build(kind, mode, workroot):
    """Have a `kind` server build the tree in a fresh data directory and die
    by SIGKILL with the ephemeral owners connected. Returns (data dir, dump,
    names of the snapshots written at the clean restart, with nothing being
    written meanwhile)."""
    props = {"zookeeper.snapCount": "20"} if mode == "snapshot" else {}
    data_dir = os.path.join(workroot, f"{kind}-{mode}")
    srv = d.make_server(kind, data_dir=data_dir, props=props)
    live = []
    try:
        d.start(srv)
        _phase1(srv, live)
        quiet = set()
        if mode == "snapshot":
            srv.stop()   # SIGTERM; the sessions of phase 1 outlive it
            old = {p for _, p in d.snapshot_files(data_dir)}
            d.start(srv)
            quiet = {os.path.basename(p) for _, p in d.snapshot_files(data_dir) if p not in old}
        _phase2(srv, live)
        dump = full_dump(srv)
        d.crash(srv)     # ephemeral owners still connected
        return data_dir, dump, quiet
    finally:
        for c in live:
            if isinstance(c, KazooClient):
                c.stop()
                c.close()
            else:
                c.close()
        d.dispose(srv)   # the data directory lives outside srv.workdir


@pytest.fixture(scope="module")
def written():
    """written(kind, mode) -> (data dir, dump), built once per module."""
    workroot = tempfile.mkdtemp(prefix="zk-interop-")
    yield d.build_once(lambda kind, mode: build(kind, mode, workroot),
                       lambda kind, mode: f"building the tree on {kind} ({mode})")
    shutil.rmtree(workroot, ignore_errors=True)


@pytest.mark.parametrize("mode", ["log", "snapshot"])
@pytest.mark.parametrize("writer,reader", d.WRITER_READER, ids=d.WRITER_READER_IDS)
def test_reader_serves_the_writers_tree(written, writer, reader, mode, tmp_path):
    src, before, _ = written(writer, mode)
    assert any(v[1][7] > 0 for v in before.values()), "no ephemeral in the tree"
    copy = d.copy_datadir(src, str(tmp_path / "data"))
    srv = d.make_server(reader, data_dir=copy)
    try:
        d.start(srv)
        after = full_dump(srv)
        diff = d.diff_dumps(before, after)
        assert not diff, f"{writer} -> {reader} ({mode}): tree differs:\n" + "\n".join(diff)
        # The reader compared every TxnDigest it replayed (and the snapshot's
        # digest section) with its own tree: the writer's digests must agree.
        mntr = dict(l.split("\t", 1) for l in servers.four_letter(srv.port, "mntr").splitlines() if "\t" in l)
        assert mntr.get("zk_digest_mismatches_count") == "0", \
            f"{writer} -> {reader} ({mode}): digest mismatches {mntr.get('zk_digest_mismatches_count')}"
        # the reader carries on from the writer's zxid
        last = max(max(v[1][0], v[1][1], v[1][10]) for v in before.values())
        c = rawzk.RawZK.session(srv.host, srv.port)
        err, res = c.create("/it/next", b"", op=rawzk.OP_CREATE2)
        c.close()
        assert err == 0, err
        assert res[1].czxid > last, f"new write got zxid {res[1].czxid:#x}, the tree already has {last:#x}"
    finally:
        d.dispose(srv)


@pytest.mark.parametrize("mode", ["log", "snapshot"])
def test_apache_txnlog_toolkit_reads_the_logs(written, mode):
    """Apache's TxnLogToolkit reads every log file the server under test wrote
    without error and lists the same records (zxid, type) as durability.py."""
    src, _, _ = written(TARGET, mode)
    logs = d.log_files(src)
    assert logs
    seen = set()
    for _, path in logs:
        mine = d.read_log(path)
        assert mine.error is None, mine.error
        p, txns, count, crc = d.apache_txnlog_toolkit(path)
        name = os.path.basename(path)
        assert p.returncode == 0, f"{name}: exit {p.returncode}\n{p.stderr[-2000:]}"
        assert not crc, f"{name}: {crc[:3]}"
        assert count == len(mine.records), f"{name}: Apache read {count} txns, durability.py {len(mine.records)}"
        assert txns == [(r.zxid, r.type_name) for r in mine.records], name
        if mine.records:
            assert d.zxid_of(name, "log") == mine.records[0].zxid, f"{name} does not start with its zxid"
        seen.update(t for _, t in txns)
    want = {"createSession", "closeSession", "create", "setData", "setACL", "delete", "multi",
            "error", "createContainer", "createTtl"}
    if mode == "log":
        assert want <= seen, f"record types missing from the logs: {want - seen}"


@pytest.mark.parametrize("mode", ["log", "snapshot"])
def test_apache_snapshot_formatter_reads_the_snapshots(written, mode):
    """Apache's SnapshotFormatter reads every snapshot the server under test
    wrote (its seals included) and shows the same nodes, stats and sessions as
    durability.py; the newest snapshot holds the live sessions and their
    ephemerals."""
    src, _, _ = written(TARGET, mode)
    snaps = d.snapshot_files(src)
    assert snaps
    for _, path in snaps:
        name = os.path.basename(path)
        mine = d.read_snapshot(path)
        p, nodes, sessions, count, last = d.apache_snapshot_formatter(path)
        assert p.returncode == 0, f"{name}: exit {p.returncode}\n{p.stderr[-2000:]}"
        # Apache's node count includes the root twice (it is mapped as "" and "/")
        assert count == len(mine.nodes) + 1, name
        assert set(nodes) == set(mine.node_paths()), name
        for n in mine.nodes:
            a = nodes["/" if n.path == "" else n.path]
            assert (a["cZxid"], a["mZxid"], a["pZxid"], a["cversion"], a["dataVersion"], a["aclVersion"],
                    a["ephemeralOwner"] & 0xFFFFFFFFFFFFFFFF, a["dataLength"]) == \
                (n.czxid, n.mzxid, n.pzxid, n.cversion, n.version, n.aversion,
                 n.ephemeral_owner & 0xFFFFFFFFFFFFFFFF, len(n.data or b"")), (name, n.path)
        assert sorted((s, t) for s, t, _ in sessions) == sorted(mine.sessions.items()), name
        assert mine.dbid == -1 and mine.digest is not None, name
    if mode == "snapshot":
        # the snapshot written at the clean restart holds phase 1, its
        # sessions (the ephemeral owner among them) and ephemerals
        paths = set()
        for _, path in snaps:
            paths |= set(d.read_snapshot(path).node_paths())
        assert {"/it/acl/digest", "/it/eph1", "/it/ttl", "/it/cont/c1"} <= paths
    newest = d.read_snapshot(snaps[-1][1])
    owners = {n.ephemeral_owner for n in newest.nodes if n.ephemeral_owner > 0}
    assert owners <= set(newest.sessions), "ephemeral owner missing from the session table"


def test_snapshot_digest_matches_its_tree(written):
    """The snapshot written at the clean restart (nothing being written
    meanwhile, so not fuzzy) holds the tree as of its zxid: the tree digest of
    its nodes (disk-format.md §4.5) equals the TxnDigest the log recorded for
    that zxid, and its digest section is either empty (zxid 0, allowed by §5.2)
    or names that zxid and the same digest."""
    src, _, quiet = written(TARGET, "snapshot")
    assert quiet, "no snapshot was written at the restart"
    digests = {r.zxid: r.digest for _, p in d.log_files(src) for r in d.read_log(p).records}
    for name in sorted(quiet):
        s = d.read_snapshot(os.path.join(d.version2(src), name))
        z = d.zxid_of(name, "snapshot")
        mine = d.tree_digest(s.nodes)
        logged = digests.get(z)
        assert logged is not None, f"record {z:#x} has no TxnDigest"
        assert logged == (2, mine), f"{name}: nodes give {mine:#x}, the log recorded {logged} for {z:#x}"
        assert s.digest is not None, f"{name}: no digest section"
        assert s.digest in ((0, 2, 0), (z, 2, mine)), f"{name}: digest section {s.digest}, tree {mine:#x}"


@pytest.mark.parametrize("mode", ["log", "snapshot"])
def test_txn_records_carry_digests(written, mode):
    """With zookeeper.digest.enabled (the default) every record except a
    top-level error record ends with a version-2 TxnDigest, as Apache writes
    them (disk-format.md §4.3; a failed multi has one too). Apache readers
    compare them with their tree (checked by the reader test's mntr
    zk_digest_mismatches_count when Apache reads these files)."""
    src, _, _ = written(TARGET, mode)
    missing = []
    for _, path in d.log_files(src):
        for r in d.read_log(path).records:
            if r.type != -1 and (r.digest is None or r.digest[0] != 2):
                missing.append(f"{os.path.basename(path)} zxid {r.zxid:#x} {r.type_name}: {r.digest}")
            if r.type == -1 and r.digest is not None:
                missing.append(f"{os.path.basename(path)} zxid {r.zxid:#x} error record with a digest")
    assert not missing, f"{len(missing)} records without the expected digest:\n" + "\n".join(missing[:10])
