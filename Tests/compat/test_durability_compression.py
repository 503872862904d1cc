"""Compressed snapshots (snapshot.compression.method, disk-format.md §5.1)
move between zkswiftd and Apache ZooKeeper 3.8.0 both ways.

For gz and snappy, a writer server configured with the method builds a tree,
is stopped and started once more (so the snapshot written at that start holds
the whole tree) and stopped again. Its snapshots must all be named
snapshot.<zxid>.<method>, decode (gzip / snappy-java framing, decoded here
independently) to a stream whose seals check out, and be read by Apache's
SnapshotFormatter. A reader server with the same setting, started on a copy
of the data directory from which the logs were removed (so the tree can only
come from the compressed snapshot), must serve the same tree. Readers pick
the decoder by file name: a server configured otherwise reads them too.

The setting goes into zoo.cfg for both servers: Apache turns the unknown key
into the system property zookeeper.snapshot.compression.method.
"""
import gzip
import os
import random

import pytest
from kazoo.client import KazooClient
from kazoo.security import ACL, Id, make_digest_acl, Permissions

import durability as d
import kzext
import servers
from helpers import TARGET

KEY = "snapshot.compression.method"
METHODS = ["gz", "snappy"]
AUTH = [("digest", "u1:p1")]
# snappy-java's stream header: magic, format version 1, compatible version 1.
SNAPPY_HEADER = b"\x82SNAPPY\x00" + (1).to_bytes(4, "big") + (1).to_bytes(4, "big")


# ------------------------------------------------------------ decoding here
def _snappy_block(b):
    """One raw snappy block (the format libsnappy and snappy-java share)."""
    size = shift = i = 0
    while True:
        c = b[i]
        i += 1
        size |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            break
    out = bytearray()
    while i < len(b):
        tag = b[i]
        i += 1
        kind = tag & 3
        if kind == 0:   # literal
            n = tag >> 2
            if n >= 60:
                extra = n - 59
                n = int.from_bytes(b[i:i + extra], "little")
                i += extra
            n += 1
            out += b[i:i + n]
            i += n
            continue
        if kind == 1:
            n, off = ((tag >> 2) & 7) + 4, ((tag >> 5) << 8) | b[i]
            i += 1
        elif kind == 2:
            n, off = (tag >> 2) + 1, int.from_bytes(b[i:i + 2], "little")
            i += 2
        else:
            n, off = (tag >> 2) + 1, int.from_bytes(b[i:i + 4], "little")
            i += 4
        assert 0 < off <= len(out), f"copy offset {off} with {len(out)} bytes out"
        for _ in range(n):   # copies may overlap their own output
            out.append(out[-off])
    assert len(out) == size, f"block says {size} bytes, decoded {len(out)}"
    return bytes(out)


def snappy_java_decompress(data):
    assert data[:16] == SNAPPY_HEADER, f"header {data[:16].hex()}"
    i, out = 16, bytearray()
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        i += 4
        assert 0 < n <= len(data) - i, f"chunk of {n} bytes at {i - 4}"
        out += _snappy_block(data[i:i + n])
        i += n
    return bytes(out)


def decompress(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz"):
        assert data[:2] == b"\x1f\x8b"
        return gzip.decompress(data)
    if path.endswith(".snappy"):
        return snappy_java_decompress(data)
    return data


def read_compressed_snapshot(path, tmp_path):
    """durability.read_snapshot (which checks both seals) on the decoded stream."""
    plain = tmp_path / (os.path.basename(path) + ".plain")
    plain.write_bytes(decompress(path))
    return d.read_snapshot(str(plain))


# ------------------------------------------------------------ servers, trees
def _kazoo(srv):
    c = KazooClient(hosts=srv.hosts, timeout=15.0, auth_data=AUTH)
    c.start(timeout=15)
    return c


def _build(srv):
    """A tree bigger than a few 32 KiB snappy blocks, half of it random bytes
    that do not compress, with ACLs, sequential, container and TTL nodes."""
    rng = random.Random(7)
    zk = _kazoo(srv)
    try:
        zk.create("/cz", b"root")
        for i in range(30):
            zk.create(f"/cz/text-{i:02d}", (b"zookeeper snapshot %d " % i) * (i * 40))
        zk.create("/cz/noise", bytes(rng.getrandbits(8) for _ in range(300_000)))
        zk.create("/cz/acl-read", b"r", acl=[ACL(Permissions.READ, Id("world", "anyone"))])
        zk.create("/cz/acl-digest", b"d", acl=[make_digest_acl("u1", "p1", all=True)])
        zk.create("/cz/seq")
        made = [zk.create("/cz/seq/s-", b"%d" % i, sequence=True) for i in range(6)]
        zk.delete(made[2])
        kzext.create_container(zk, "/cz/cont", b"c")
        zk.create("/cz/cont/child", b"x")
        kzext.create_ttl(zk, "/cz/ttl", 3600000, b"ttl")
        for i in range(5):
            zk.set("/cz/text-01", b"v%d" % i)
        return d.dump_tree(zk)
    finally:
        zk.stop()
        zk.close()


def _dump(srv):
    zk = _kazoo(srv)
    try:
        return d.dump_tree(zk)
    finally:
        zk.stop()
        zk.close()


def _max_logged_zxid(data_dir):
    return max((r.zxid for _, p in d.log_files(data_dir) for r in d.read_log(p).records), default=0)


def _write(kind, method, root):
    """A `kind` server with `method` builds the tree; stopped, started once
    more (its start-up snapshot then holds everything) and stopped. Returns
    (data dir, dump)."""
    data_dir = os.path.join(root, f"{kind}-{method}")
    srv = d.make_server(kind, data_dir=data_dir, cfg={KEY: method})
    try:
        d.start(srv)
        dump = _build(srv)
        srv.stop()
        d.start(srv)
        srv.stop()
        return data_dir, dump
    finally:
        d.dispose(srv)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """written(kind, method) -> (data dir, dump), built once per module."""
    root = str(tmp_path_factory.mktemp("compressed"))
    return d.build_once(lambda kind, method: _write(kind, method, root),
                        lambda kind, method: f"writing with {kind} ({KEY}={method})")


def _snapshot_only_copy(src, dst):
    """A copy of data dir `src` without its logs: only snapshots to load from."""
    d.copy_datadir(src, dst)
    for _, p in d.log_files(dst):
        os.remove(p)
    return dst


# ------------------------------------------------------------------- tests
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("writer", sorted({TARGET, "apache"}))
def test_writer_names_and_encodes_its_snapshots(written, writer, method, tmp_path):
    """Every snapshot is snapshot.<zxid>.<method>; the stream inside decodes
    here, its seals check out, Apache's SnapshotFormatter (which picks the
    decoder by name) lists the same nodes, and the newest snapshot holds
    every logged transaction."""
    src, dump = written(writer, method)
    snaps = d.snapshot_files(src)
    assert snaps, "no snapshot written"
    names = [os.path.basename(p) for _, p in snaps]
    assert all(n.endswith("." + method) for n in names), names
    for z, path in snaps:
        name = os.path.basename(path)
        assert name == f"snapshot.{z:x}.{method}"
        mine = read_compressed_snapshot(path, tmp_path)
        p, nodes, _, count, _ = d.apache_snapshot_formatter(path)
        assert p.returncode == 0, f"{name}: exit {p.returncode}\n{p.stderr[-2000:]}"
        assert count == len(mine.nodes) + 1, name   # Apache counts the root twice
        assert set(nodes) == set(mine.node_paths()), name
    newest = read_compressed_snapshot(snaps[-1][1], tmp_path)
    assert snaps[-1][0] >= _max_logged_zxid(src)
    assert set(dump) <= set(newest.node_paths())
    big = next(n for n in newest.nodes if n.path == "/cz/noise")
    assert big.data == dump["/cz/noise"][0]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("writer,reader", d.WRITER_READER, ids=d.WRITER_READER_IDS)
def test_reader_serves_the_tree_from_the_compressed_snapshot(written, writer, reader, method, tmp_path):
    src, before = written(writer, method)
    copy = _snapshot_only_copy(src, str(tmp_path / "data"))
    newest = d.snapshot_files(copy)[-1][1]
    srv = d.make_server(reader, data_dir=copy, cfg={KEY: method})
    try:
        d.start(srv)
        after = _dump(srv)
        diff = d.diff_dumps(before, after)
        assert not diff, f"{writer} -> {reader} ({method}): tree differs:\n" + "\n".join(diff)
        log = srv.read_log()
        # FileSnap logs "Reading snapshot <file>", zkswiftd "Loaded snapshot <file>: ..."
        assert f"snapshot {newest}" in log, f"{reader} did not say it read {newest}"
        # The reader's own start-up snapshot is written with the method too.
        names = [os.path.basename(p) for _, p in d.snapshot_files(copy)]
        assert all(n.endswith("." + method) for n in names), names
        last = max(max(v[1][0], v[1][1], v[1][10]) for v in before.values())
        zk = _kazoo(srv)
        try:
            zk.create("/cz/next")
            assert zk.exists("/cz/next").czxid > last
        finally:
            zk.stop()
            zk.close()
    finally:
        d.dispose(srv)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("writer,reader", d.WRITER_READER, ids=d.WRITER_READER_IDS)
def test_reader_configured_otherwise_still_reads(written, writer, reader, method, tmp_path):
    """The decoder comes from the file name: a reader without the setting (or
    with the other method) loads the compressed snapshot and writes its own
    the way it is configured."""
    other = {"gz": "snappy", "snappy": ""}[method]
    src, before = written(writer, method)
    copy = _snapshot_only_copy(src, str(tmp_path / "data"))
    srv = d.make_server(reader, data_dir=copy, cfg={KEY: other} if other else None)
    try:
        d.start(srv)
        after = _dump(srv)
        diff = d.diff_dumps(before, after)
        assert not diff, f"{writer} -> {reader} ({method} read with {other!r}): tree differs:\n" + "\n".join(diff)
        zk = _kazoo(srv)
        try:
            zk.create("/cz/next")
        finally:
            zk.stop()
            zk.close()
    finally:
        d.dispose(srv)
    # A restart of the reader writes a snapshot of its own kind for the new zxid.
    srv = d.make_server(reader, data_dir=copy, cfg={KEY: other} if other else None)
    try:
        d.start(srv)
    finally:
        d.dispose(srv)
    newest = os.path.basename(d.snapshot_files(copy)[-1][1])
    assert newest.endswith("." + other) if other else newest.count(".") == 1, newest


@pytest.mark.parametrize("method", METHODS)
def test_zkswift_verifies_apaches_compressed_snapshots(written, method):
    src, _ = written("apache", method)
    for _, path in d.snapshot_files(src):
        p = d.run_zkswift("snapshot", "verify", path)
        assert p.returncode == 0, p.stderr
        assert "seals ok" in p.stdout, p.stdout


@pytest.mark.zkswiftd_only("Apache writes plain snapshots for a method name it does not know")
def test_unknown_method_stops_the_start():
    srv = d.make_server("zkswiftd", cfg={KEY: "lz4"})
    try:
        with pytest.raises(RuntimeError) as e:
            d.start(srv)
        assert f"{KEY}=lz4" in str(e.value)
    finally:
        d.dispose(srv)
