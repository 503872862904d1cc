"""The operator CLI `zkswift` (binary .build/debug/zkswift, or $ZKSWIFT_BIN) on
files Apache ZooKeeper 3.8.0 wrote:

  zkswift txnlog verify FILE     exit 0 on a valid log; non-zero naming the
  zkswift snapshot verify FILE   byte offset of the damage otherwise
  zkswift txnlog dump FILE       one line per txn ("... zxid 0x<hex> <type> ...",
                                 type as Apache's TxnLogToolkit spells it)
  zkswift snapshot dump FILE     one line per znode, starting with its path
  zkswift purge DIR -n N         DIR = the dataDir holding version-2; keeps what
                                 disk-format.md §7 (Apache's PurgeTxnLog) keeps

The data directory comes from Apache run with zookeeper.snapCount=20 and
about 200 transactions of every kind, so it holds a dozen snapshots and logs.
The expectations on it are first checked with Apache's own tools
(TxnLogToolkit, SnapshotFormatter, PurgeTxnLog), which also run when
ZK_COMPAT_TARGET=apache; the zkswift tests are zkswiftd only.
"""
import os
import shutil
import time

import pytest
from kazoo.client import KazooClient
from kazoo.security import ACL, Id, Permissions, make_digest_acl

import durability as d
import kzext

zkswift_only = pytest.mark.zkswiftd_only("exercises zkswiftd's zkswift CLI")


@pytest.fixture(scope="module")
def apache_dir(tmp_path_factory):
    """An Apache-written data directory with many snapshots and logs (stopped
    with SIGTERM after its snapshots finished)."""
    data_dir = str(tmp_path_factory.mktemp("apache-cli") / "data")
    srv = d.make_server("apache", data_dir=data_dir, props={"zookeeper.snapCount": "20"})
    try:
        d.start(srv)
        zk = KazooClient(hosts=srv.hosts, timeout=15.0, auth_data=[("digest", "u1:p1")])
        zk.start(timeout=15)
        try:
            zk.create("/cli", b"top")
            kzext.create_container(zk, "/cli/cont")
            for i in range(40):
                p = f"/cli/n{i}"
                zk.create(p, b"v%d" % i, acl=[make_digest_acl("u1", "p1", all=True)] if i % 7 == 0 else None)
                zk.set(p, b"w%d" % i)
                if i % 3 == 0:
                    zk.delete(p)
                if i % 5 == 0:
                    t = zk.transaction()
                    t.create(f"/cli/m{i}", b"")
                    t.set_data("/cli", b"m%d" % i)
                    t.commit()
                if i % 8 == 0:
                    kzext.create_ttl(zk, f"/cli/ttl{i}", 3600000, b"t")
                    zk.create(f"/cli/cont/c{i}", b"")
                    zk.set_acls(f"/cli/m{i - i % 5}" if i % 5 == 0 else "/cli",
                                [ACL(Permissions.ALL, Id("world", "anyone"))])
                    try:
                        zk.create("/cli")        # logged as an error record
                    except Exception:  # noqa: BLE001
                        pass
                zk.create("/cli/s-", b"", sequence=True, ephemeral=(i % 4 == 0))
        finally:
            zk.stop()
            zk.close()
        time.sleep(1.0)  # let the last background snapshot finish
        srv.stop()
        yield data_dir
    finally:
        d.dispose(srv)


def _logs(dir_):
    return [p for _, p in d.log_files(dir_)]


def _snaps(dir_):
    return [p for _, p in d.snapshot_files(dir_)]


def test_apache_dir_is_varied(apache_dir):
    """Preconditions of the other tests (checked with Apache's readers)."""
    assert len(_snaps(apache_dir)) >= 6 and len(_logs(apache_dir)) >= 6, os.listdir(d.version2(apache_dir))
    types = set()
    for path in _logs(apache_dir):
        p, txns, count, crc = d.apache_txnlog_toolkit(path)
        assert p.returncode == 0 and not crc and count == len(txns), p.stdout[-1000:]
        types |= {t for _, t in txns}
        assert [(r.zxid, r.type_name) for r in d.read_log(path).records] == txns
    assert {"createSession", "closeSession", "create", "setData", "delete", "multi", "setACL",
            "error", "createContainer", "createTtl"} <= types, types
    for path in _snaps(apache_dir):
        p, nodes, _, _, _ = d.apache_snapshot_formatter(path)
        assert p.returncode == 0
        assert set(nodes) == set(d.read_snapshot(path).node_paths())


# ------------------------------------------------------------------- verify
@zkswift_only
def test_txnlog_verify_accepts_apache_logs(apache_dir):
    for path in _logs(apache_dir):
        p = d.run_zkswift("txnlog", "verify", path)
        assert p.returncode == 0, f"{os.path.basename(path)}: exit {p.returncode}\n{p.stdout}{p.stderr}"


@zkswift_only
def test_snapshot_verify_accepts_apache_snapshots(apache_dir):
    for path in _snaps(apache_dir):
        p = d.run_zkswift("snapshot", "verify", path)
        assert p.returncode == 0, f"{os.path.basename(path)}: exit {p.returncode}\n{p.stdout}{p.stderr}"


def _log_with_records(apache_dir, n):
    for path in _logs(apache_dir):
        log = d.read_log(path)
        if len(log.records) >= n:
            return log
    pytest.fail(f"no log with {n} records")


@zkswift_only
@pytest.mark.parametrize("where", ["payload", "checksum", "length"])
def test_txnlog_verify_rejects_a_damaged_record(apache_dir, tmp_path, where):
    """A damaged record followed by valid ones: verify exits non-zero and
    names the byte offset of the damaged record (decimal or 0x-hex)."""
    rng, seed = d.seeded_rng(f"txnlog verify {where}")
    log = _log_with_records(apache_dir, 5)
    rec = log.records[rng.randrange(1, len(log.records) - 2)]
    path = str(tmp_path / os.path.basename(log.path))
    d.sparse_copy(log.path, path)
    with open(path, "r+b") as f:
        if where == "payload":
            pos = rec.offset + 12 + rng.randrange(rec.length)
        elif where == "checksum":
            pos = rec.offset + 4 + rng.randrange(4)
        else:  # length grows by 256: the record swallows the next one's bytes
            pos = rec.offset + 10
        f.seek(pos)
        b = f.read(1)[0]
        f.seek(pos)
        f.write(bytes([b ^ (1 if where != "payload" else 1 << rng.randrange(8))]))
    assert d.read_log(path).error or d.read_log(path).stop != "zero-length"
    p = d.run_zkswift("txnlog", "verify", path)
    out = p.stdout + p.stderr
    assert p.returncode != 0, f"seed {seed}: byte {pos} of the record at {rec.offset} flipped, exit 0:\n{out}"
    assert d.mentions_offset(out, rec.offset), \
        f"seed {seed}: output does not name offset {rec.offset} (byte {pos} flipped):\n{out}"


@zkswift_only
@pytest.mark.parametrize("where", ["data", "stat", "seal"])
def test_snapshot_verify_rejects_damage(apache_dir, tmp_path, where):
    """A flipped byte in a node's data or stat, or in seal1: the Adler-32 seal
    no longer matches; verify exits non-zero and names an offset: the seal's,
    the node's or the flipped byte's."""
    rng, seed = d.seeded_rng(f"snapshot verify {where}")
    src = _snaps(apache_dir)[-1]
    snap = d.read_snapshot(src)
    path = str(tmp_path / os.path.basename(src))
    shutil.copy(src, path)
    node = None
    if where == "data":
        node = rng.choice([n for n in snap.nodes if n.data])
        pos = node.data_offset + rng.randrange(len(node.data))
    elif where == "stat":
        node = rng.choice(snap.nodes)
        pos = node.data_offset + len(node.data or b"") + 8 + rng.randrange(60)  # after aclIndex
    else:
        pos = snap.seal1_offset + 4 + rng.randrange(4)
    with open(path, "r+b") as f:
        f.seek(pos)
        b = f.read(1)[0]
        f.seek(pos)
        f.write(bytes([b ^ (1 << rng.randrange(8))]))
    with pytest.raises(d.FormatError):
        d.read_snapshot(path)
    p = d.run_zkswift("snapshot", "verify", path)
    out = p.stdout + p.stderr
    assert p.returncode != 0, f"seed {seed}: byte {pos} flipped, exit 0:\n{out}"
    allowed = {snap.seal1_offset, pos} | ({node.offset} if node else set())
    assert any(d.mentions_offset(out, o) for o in allowed), \
        f"seed {seed}: byte {pos} flipped; output names none of offsets {sorted(allowed)}:\n{out}"


@zkswift_only
def test_verify_rejects_truncated_snapshot(apache_dir, tmp_path):
    src = _snaps(apache_dir)[-1]
    path = str(tmp_path / os.path.basename(src))
    shutil.copy(src, path)
    os.truncate(path, os.path.getsize(path) // 2)
    p = d.run_zkswift("snapshot", "verify", path)
    assert p.returncode != 0, p.stdout + p.stderr


# --------------------------------------------------------------------- dump
@zkswift_only
def test_txnlog_dump_lists_what_apache_lists(apache_dir):
    """One line per txn carrying "zxid 0x<hex> <type>" with Apache's type
    names; the same txns in the same order as TxnLogToolkit."""
    for path in _logs(apache_dir):
        _, apache, _, _ = d.apache_txnlog_toolkit(path)
        p = d.run_zkswift("txnlog", "dump", path)
        assert p.returncode == 0, f"{os.path.basename(path)}: exit {p.returncode}\n{p.stderr}"
        mine = [(int(m.group(3), 16), m.group(4)) for m in map(d.TXNLOG_LINE.search, p.stdout.splitlines()) if m]
        assert mine == apache, f"{os.path.basename(path)}:\nzkswift {mine[:8]}\napache  {apache[:8]}"
        assert sum(1 for ln in p.stdout.splitlines() if d.TXNLOG_LINE.search(ln)) == len(apache)


@zkswift_only
def test_snapshot_dump_lists_what_apache_lists(apache_dir):
    """One line per znode, starting with the path; the same paths as
    SnapshotFormatter."""
    for path in _snaps(apache_dir):
        _, apache, _, _, _ = d.apache_snapshot_formatter(path)
        p = d.run_zkswift("snapshot", "dump", path)
        assert p.returncode == 0, f"{os.path.basename(path)}: exit {p.returncode}\n{p.stderr}"
        firsts = [ln.split()[0] for ln in p.stdout.splitlines() if ln.startswith("/")]
        assert sorted(firsts) == sorted(apache), \
            f"{os.path.basename(path)}: {sorted(set(firsts) ^ set(apache))[:10]}"


# -------------------------------------------------------------------- purge
def _purge_copy(apache_dir, dst):
    d.copy_datadir(apache_dir, dst)
    return sorted(os.listdir(d.version2(dst)))


@pytest.mark.parametrize("n", [3, 5])
def test_purge_rule_is_apaches(apache_dir, tmp_path, n):
    """durability.expected_after_purge (the §7 rule) predicts what Apache's
    PurgeTxnLog leaves, and the rule has work to do on this directory
    (snapshots and logs to delete, and an older log kept for the oldest
    retained snapshot)."""
    dst = str(tmp_path / "data")
    names = _purge_copy(apache_dir, dst)
    expected = d.expected_after_purge(names, n)
    assert len(expected) < len(names)
    s = min(z for z in (d.zxid_of(x, "snapshot") for x in expected) if z is not None)
    assert any(d.zxid_of(x, "log") is not None and d.zxid_of(x, "log") < s for x in expected), \
        "no log older than the oldest kept snapshot is kept: the exception of §7 is not exercised"
    p = d.apache_purge(dst, n)
    assert p.returncode == 0, p.stderr
    assert set(os.listdir(d.version2(dst))) == expected


@zkswift_only
@pytest.mark.parametrize("n", [3, 5])
def test_zkswift_purge(apache_dir, tmp_path, n):
    dst = str(tmp_path / "data")
    names = _purge_copy(apache_dir, dst)
    expected = d.expected_after_purge(names, n)
    p = d.run_zkswift("purge", dst, "-n", str(n))
    assert p.returncode == 0, p.stdout + p.stderr
    left = set(os.listdir(d.version2(dst)))
    assert left == expected, (f"removed too much: {sorted(expected - left)}; "
                              f"left behind: {sorted(left - expected)}")
    # what is left still loads: Apache starts on it and sees the newest data
    srv = d.make_server("apache", data_dir=dst)
    try:
        d.start(srv)
    finally:
        d.dispose(srv)


@zkswift_only
def test_zkswift_purge_refuses_fewer_than_three(apache_dir, tmp_path):
    dst = str(tmp_path / "data")
    names = _purge_copy(apache_dir, dst)
    p = d.run_zkswift("purge", dst, "-n", "2")
    assert p.returncode != 0, p.stdout + p.stderr
    assert sorted(os.listdir(d.version2(dst))) == names
