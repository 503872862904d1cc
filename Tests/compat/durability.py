"""Helpers for the durability tests (test_durability_*.py).

* Readers for Apache ZooKeeper 3.8's on-disk files, written from
  disk-format.md alone: transaction logs (§4: 16-byte header, records
  {long checksum, int length, payload, byte 0x42}, zero padding) and
  snapshots (§5), with the tree digest of §4.5. They follow Apache's reading
  rules so that "what Apache would load" can be computed in Python.
* Data directory handling: file lists sorted by zxid, sparse-aware copies
  (logs are 64 MiB preallocated files), the purge rule of §7.
* Tree dumps through kazoo (data, full Stat and ACL of every node) and their
  comparison.
* Runners for Apache's own readers (TxnLogToolkit, SnapshotFormatter,
  PurgeTxnLog) and for zkswiftd's operator CLI `zkswift`.
* Server bookkeeping for tests that stop and restart servers on the same data
  directory (registered in helpers._LIVE so failure reports carry the logs).
"""
import dataclasses
import os
import random
import re
import shutil
import struct
import subprocess
import time
import zlib

import helpers
import servers
from rawzk import R, Stat

LOG_MAGIC = 0x5A4B4C47   # "ZKLG"
SNAP_MAGIC = 0x5A4B534E  # "ZKSN"
LOG_HEADER_BYTES = 16
EOR = 0x42               # 'B'
MAX_RECORD = 0xFFFFF + 1024  # jute.maxbuffer default + extrasize (§4.1)

# Txn types (disk-format.md §4.3) and the names Apache's Request.op2String uses
TXN_NAMES = {
    -10: "createSession", -11: "closeSession", -1: "error", 1: "create", 2: "delete",
    5: "setData", 7: "setACL", 13: "check", 14: "multi", 15: "create2", 16: "reconfig",
    19: "createContainer", 20: "deleteContainer", 21: "createTtl",
}
CONTAINER_OWNER = -0x8000000000000000  # stored ephemeralOwner of a container node
TTL_MASK = -0x0100000000000000         # 0xFF00... : stored ephemeralOwner of a TTL node

ROOT = servers.ROOT
APACHE_TOOLS_CP = servers.APACHE_CP  # zookeeper.jar's manifest pulls in jute, slf4j-api, commons-cli, ...


class FormatError(Exception):
    """A file violates the format in a way Apache's reader would reject."""

    def __init__(self, path, offset, msg):
        super().__init__(f"{path}: offset {offset}: {msg}")
        self.path, self.offset, self.msg = path, offset, msg


# ------------------------------------------------------------------ txn records
def _read_acl_list(r):
    n = r.int()
    return None if n < 0 else [(r.int(), r.ustring(), r.ustring()) for _ in range(n)]


def decode_txn_body(ttype, r, top_level=True):
    """Decode the record of `ttype` from reader r (at the byte after the
    TxnHeader, or at the start of a multi sub-record). Returns a dict."""
    if ttype == -10:
        return {"timeout": r.int()}
    if ttype == -11:
        # The path list is absent with closeSessionTxn.enabled=false; take it
        # only if it fits exactly, alone or followed by a 12-byte TxnDigest.
        probe = R(r.d, r.o)
        try:
            n = probe.int()
            paths = [probe.ustring() for _ in range(max(n, 0))]
            if probe.remaining() in (0, 12):
                r.o = probe.o
                return {"paths": paths}
        except ValueError:
            pass
        return {"paths": None}
    if ttype == -1:
        return {"err": r.int()}
    if ttype in (1, 15):
        d = {"path": r.ustring(), "data": r.buffer(), "acl": _read_acl_list(r), "ephemeral": r.bool()}
        # CreateTxnV0 (no parentCVersion) is accepted when the record is short
        d["parentCVersion"] = r.int() if r.remaining() >= 4 else None
        return d
    if ttype == 19:
        return {"path": r.ustring(), "data": r.buffer(), "acl": _read_acl_list(r), "parentCVersion": r.int()}
    if ttype == 21:
        return {"path": r.ustring(), "data": r.buffer(), "acl": _read_acl_list(r),
                "parentCVersion": r.int(), "ttl": r.long()}
    if ttype in (2, 20):
        return {"path": r.ustring()}
    if ttype in (5, 16):
        return {"path": r.ustring(), "data": r.buffer(), "version": r.int()}
    if ttype == 7:
        return {"path": r.ustring(), "acl": _read_acl_list(r), "version": r.int()}
    if ttype == 13:
        return {"path": r.ustring(), "version": r.int()}
    if ttype == 14 and top_level:
        n = r.int()
        subs = []
        for _ in range(max(n, 0)):
            st, data = r.int(), r.buffer()
            sr = R(data or b"")
            body = decode_txn_body(st, sr, top_level=False)
            if sr.remaining():
                raise ValueError(f"{sr.remaining()} trailing bytes in multi sub-record type {st}")
            subs.append((st, body))
        return {"txns": subs}
    raise ValueError(f"unknown txn type {ttype}")


@dataclasses.dataclass
class LogRecord:
    offset: int         # file offset of the checksum field
    end: int            # file offset just after the 0x42 marker
    checksum: int
    length: int
    payload: bytes
    client_id: int = 0
    cxid: int = 0
    zxid: int = 0
    time: int = 0
    type: int = 0
    body: dict = None
    digest: tuple = None  # (version, treeDigest) or None

    @property
    def type_name(self):
        return TXN_NAMES.get(self.type, f"unknown {self.type}")


def decode_payload(rec):
    r = R(rec.payload)
    rec.client_id, rec.cxid, rec.zxid, rec.time, rec.type = r.long(), r.int(), r.long(), r.long(), r.int()
    rec.body = decode_txn_body(rec.type, r)
    if r.remaining() >= 12:
        rec.digest = (r.int(), r.long())
    if r.remaining():
        raise ValueError(f"{r.remaining()} trailing bytes after txn type {rec.type}")
    return rec


@dataclasses.dataclass
class TxnLogFile:
    path: str
    size: int
    magic: int
    version: int
    dbid: int
    records: list        # records Apache would apply, in file order
    end: int             # offset where reading stopped (end of the last good record)
    stop: str            # why reading stopped: eof | zero-length | partial | crc | bad-length | bad-payload
    error: str = None    # set when Apache's reader would fail (crc, bad-length, bad-payload)

    @property
    def last(self):
        return self.records[-1] if self.records else None


def read_log(path):
    """Read a transaction log with Apache's rules (disk-format.md §4.1,
    FileTxnIterator + Util.readTxnBytes): EOF inside a record, a zero (or -1)
    length, or a missing 0x42 end the file quietly; a checksum mismatch, an
    unreasonable length or an undecodable payload is an error (`error` set)."""
    size = os.path.getsize(path)
    recs = []
    with open(path, "rb") as f:
        hdr = f.read(LOG_HEADER_BYTES)
        if len(hdr) < LOG_HEADER_BYTES:
            raise FormatError(path, 0, f"short file header ({len(hdr)} bytes)")
        magic, version, dbid = struct.unpack(">iiq", hdr)
        if magic != LOG_MAGIC:
            raise FormatError(path, 0, f"bad magic 0x{magic & 0xffffffff:08x}")
        log = TxnLogFile(path, size, magic, version, dbid, recs, LOG_HEADER_BYTES, "eof")
        off = LOG_HEADER_BYTES
        while True:
            head = f.read(12)
            if len(head) < 12:
                log.stop = "eof"
                break
            checksum, length = struct.unpack(">qi", head)
            if length == 0 or length == -1:
                log.stop = "zero-length"
                break
            if length < 0 or length > MAX_RECORD:
                log.stop, log.error = "bad-length", f"unreasonable length {length} at offset {off}"
                break
            payload = f.read(length)
            if len(payload) < length:
                log.stop = "eof"
                break
            marker = f.read(1)
            if len(marker) < 1:
                log.stop = "eof"
                break
            if marker[0] != EOR:
                log.stop = "partial"
                break
            if zlib.adler32(payload) != checksum:
                log.stop, log.error = "crc", f"CRC check failed for the record at offset {off}"
                break
            rec = LogRecord(off, off + 12 + length + 1, checksum, length, payload)
            try:
                decode_payload(rec)
            except ValueError as e:
                log.stop, log.error = "bad-payload", f"record at offset {off}: {e}"
                break
            recs.append(rec)
            off = rec.end
            log.end = off
    return log


def scan_records(path, start=LOG_HEADER_BYTES):
    """Frame boundaries of every structurally complete record from `start`
    on, ignoring checksums (for locating records to damage)."""
    out = []
    with open(path, "rb") as f:
        f.seek(start)
        off = start
        while True:
            head = f.read(12)
            if len(head) < 12:
                break
            checksum, length = struct.unpack(">qi", head)
            if length <= 0 or length > MAX_RECORD:
                break
            payload = f.read(length)
            marker = f.read(1)
            if len(payload) < length or marker != b"B":
                break
            out.append((off, off + 13 + length))
            off += 13 + length
    return out


# -------------------------------------------------------------------- snapshots
@dataclasses.dataclass
class SnapNode:
    path: str            # "" for the root, as stored
    data: bytes
    acl_index: int
    czxid: int
    mzxid: int
    ctime: int
    mtime: int
    version: int
    cversion: int
    aversion: int
    ephemeral_owner: int
    pzxid: int
    offset: int = 0      # file offset of the node's path field
    data_offset: int = 0  # file offset of the node's data bytes (after the length)


@dataclasses.dataclass
class Snapshot:
    path: str
    size: int
    dbid: int
    sessions: dict       # sessionId -> timeout
    acls: dict           # index -> [(perms, scheme, id)]
    nodes: list          # [SnapNode] in file order
    seal1_offset: int
    digest: tuple        # (zxid, version, digest) or None
    seal2_offset: int = None

    def node_paths(self):
        return ["/" if n.path == "" else n.path for n in self.nodes]


def read_snapshot(path):
    """Parse a plain (uncompressed) snapshot (disk-format.md §5.2) and check
    its seals; raises FormatError like Apache's FileSnap.deserialize fails."""
    with open(path, "rb") as f:
        data = f.read()
    r = R(data)
    try:
        magic, version, dbid = r.int(), r.int(), r.long()
        if magic != SNAP_MAGIC:
            raise FormatError(path, 0, f"bad magic 0x{magic & 0xffffffff:08x}")
        sessions = {}
        for _ in range(r.int()):
            sid = r.long()
            sessions[sid] = r.int()
        acls = {}
        for _ in range(r.int()):
            idx = r.long()
            acls[idx] = _read_acl_list(r)
        nodes = []
        while True:
            node_off = r.o
            p = r.ustring()
            if p == "/":
                break
            data_off = r.o + 4
            d = r.buffer()
            acl_index = r.long()
            czxid, mzxid, ctime, mtime = r.long(), r.long(), r.long(), r.long()
            ver, cver, aver = r.int(), r.int(), r.int()
            owner, pzxid = r.long(), r.long()
            nodes.append(SnapNode(p, d, acl_index, czxid, mzxid, ctime, mtime, ver, cver, aver, owner, pzxid,
                                  node_off, data_off))
        seal1_off = r.o
        seal1 = r.long()
        if seal1 != zlib.adler32(data[:seal1_off]):
            raise FormatError(path, seal1_off, "seal1 does not match the Adler-32 of the bytes before it")
        if r.ustring() != "/":
            raise FormatError(path, r.o, "no \"/\" after seal1")
        snap = Snapshot(path, len(data), dbid, sessions, acls, nodes, seal1_off, None)
        if r.remaining() == 0:
            return snap
        dz, dv = r.long(), r.int()
        dg = r.long() if dv >= 2 else r.ustring()
        seal2_off = r.o
        seal2 = r.long()
        if seal2 != zlib.adler32(data[:seal2_off]):
            raise FormatError(path, seal2_off, "seal2 does not match the Adler-32 of the bytes before it")
        if r.ustring() != "/":
            raise FormatError(path, r.o, "no \"/\" after seal2")
        if r.remaining():
            raise FormatError(path, r.o, f"{r.remaining()} bytes after the end")
        snap.digest, snap.seal2_offset = (dz, dv, dg), seal2_off
        return snap
    except ValueError as e:
        raise FormatError(path, r.o, str(e))


def node_digest(path, data, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, owner):
    """Per-node digest value (disk-format.md §4.5)."""
    b = (path.encode() + (data or b"")
         + struct.pack(">qqqqqiiiq", czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, owner))
    return zlib.crc32(b)


def tree_digest(nodes):
    """Tree digest over snapshot nodes (SnapNode list), §4.5."""
    total = 0
    for n in nodes:
        if n.path.startswith("/zookeeper/"):
            continue
        total += node_digest(n.path, n.data, n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime,
                             n.version, n.cversion, n.aversion, n.ephemeral_owner)
    return total & 0xFFFFFFFFFFFFFFFF


# ---------------------------------------------------------------- data dirs
def version2(d):
    return os.path.join(d, "version-2")


def zxid_of(name, prefix):
    """Zxid from a file name "<prefix>.<hex>[.suffix]", or None (Util.getZxidFromName)."""
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != prefix:
        return None
    try:
        return int(parts[1], 16)
    except ValueError:
        return None


def list_files(d, prefix):
    """[(zxid, path)] of `prefix`.* files in directory d (a version-2 dir), ascending."""
    out = []
    if not os.path.isdir(d):
        return out
    for name in os.listdir(d):
        z = zxid_of(name, prefix)
        if z is not None and not name.endswith(".tmp"):
            out.append((z, os.path.join(d, name)))
    return sorted(out)


def log_files(srv_or_dir):
    return list_files(version2(_log_dir(srv_or_dir)), "log")


def snapshot_files(srv_or_dir):
    return list_files(version2(_data_dir(srv_or_dir)), "snapshot")


def _data_dir(x):
    return x.cfg["dataDir"] if isinstance(x, servers.Server) else x


def _log_dir(x):
    return x.cfg.get("dataLogDir", x.cfg["dataDir"]) if isinstance(x, servers.Server) else x


def sparse_copy(src, dst):
    """Copy a file, reading and writing only its data extents (SEEK_DATA /
    SEEK_HOLE), so a 64 MiB preallocated log copies in milliseconds; holes
    stay holes and read back as zeros."""
    size = os.path.getsize(src)
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        fd = fi.fileno()
        pos = 0
        try:
            while pos < size:
                try:
                    start = os.lseek(fd, pos, os.SEEK_DATA)
                except OSError:  # ENXIO: no more data
                    break
                end = os.lseek(fd, start, os.SEEK_HOLE)
                fi.seek(start)
                fo.seek(start)
                left = end - start
                while left > 0:
                    chunk = fi.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    fo.write(chunk)
                    left -= len(chunk)
                pos = end
        except (AttributeError, OSError):
            fi.seek(0)
            fo.seek(0)
            shutil.copyfileobj(fi, fo, 1 << 20)
        fo.truncate(size)
    shutil.copystat(src, dst)


def copy_datadir(src, dst):
    """Copy a data directory tree (sparse-aware); dst must not exist."""
    os.makedirs(dst)
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        target = dst if rel == "." else os.path.join(dst, rel)
        os.makedirs(target, exist_ok=True)
        for name in filenames:
            sparse_copy(os.path.join(dirpath, name), os.path.join(target, name))
    return dst


def expected_after_purge(names, n):
    """File names left in a version-2 directory (dataDir == dataLogDir) after
    purging with retain count n (disk-format.md §7). `names` are file names;
    other files are kept. Snapshot validity (§5.3) is assumed."""
    snaps = sorted(z for z in (zxid_of(x, "snapshot") for x in names) if z is not None)
    if not snaps:
        return set(names)
    keep_snaps = snaps[-n:]
    s = keep_snaps[0]
    logs = sorted(z for z in (zxid_of(x, "log") for x in names) if z is not None)
    older_or_equal = [z for z in logs if z <= s]
    keep_log = older_or_equal[-1] if older_or_equal else None
    out = set()
    for x in names:
        zs, zl = zxid_of(x, "snapshot"), zxid_of(x, "log")
        if zs is not None:
            if zs >= s:
                out.add(x)
        elif zl is not None:
            if zl >= s or zl == keep_log:
                out.add(x)
        else:
            out.add(x)
    return out


# ------------------------------------------------------------ tree dumps (kazoo)
STAT_FIELDS = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
               "ephemeralOwner", "dataLength", "numChildren", "pzxid")


def _stat_tuple(st):
    return tuple(getattr(st, f) for f in STAT_FIELDS)


def dump_tree(client, root="/"):
    """{path: (data, stat tuple, acl list)} for every node under (and
    including) `root`, read with kazoo: data (None for a null buffer), the full
    Stat, and the ACL as [(perms, scheme, id)] in server order."""
    out = {}
    stack = [root]
    while stack:
        path = stack.pop()
        data, st = client.get(path)
        acls, st2 = client.get_acls(path)
        if _stat_tuple(st) != _stat_tuple(st2):
            raise AssertionError(f"{path} changed during the dump: {st} / {st2}")
        out[path] = (data, _stat_tuple(st), [(a.perms, a.id.scheme, a.id.id) for a in acls])
        for child in client.get_children(path):
            stack.append(("" if path == "/" else path) + "/" + child)
    return out


def diff_dumps(before, after, limit=30):
    """Human-readable differences between two dumps (empty list = equal)."""
    out = []
    for p in sorted(set(before) - set(after)):
        out.append(f"missing after: {p}")
    for p in sorted(set(after) - set(before)):
        out.append(f"extra after: {p} {after[p]}")
    for p in sorted(set(before) & set(after)):
        b, a = before[p], after[p]
        if b[0] != a[0]:
            out.append(f"{p}: data {b[0]!r:.80} != {a[0]!r:.80}")
        for f, x, y in zip(STAT_FIELDS, b[1], a[1]):
            if x != y:
                out.append(f"{p}: stat.{f} {x} != {y}")
        if b[2] != a[2]:
            out.append(f"{p}: acl {b[2]} != {a[2]}")
    if len(out) > limit:
        out = out[:limit] + [f"... and {len(out) - limit} more"]
    return out


# ------------------------------------------------------------ Apache's readers
def run_java(main_class, *args, timeout=60):
    cmd = ["java", "-Xmx256m", "-Dlog4j.configuration=file:/dev/null",
           "-cp", APACHE_TOOLS_CP, main_class, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


TXNLOG_LINE = re.compile(r"session 0x([0-9a-f]+) cxid 0x([0-9a-f]+) zxid 0x([0-9a-f]+) (\S+)")


def apache_txnlog_toolkit(path):
    """Run TxnLogToolkit on a log file: (completed process, [(zxid, type name)],
    count from its "EOF reached after N txns." line or None, CRC ERROR lines)."""
    p = run_java("org.apache.zookeeper.server.persistence.TxnLogToolkit", path)
    txns, crc_errors = [], []
    for line in p.stdout.splitlines():
        if line.startswith("CRC ERROR"):
            crc_errors.append(line)
            continue
        m = TXNLOG_LINE.search(line)
        if m:
            txns.append((int(m.group(3), 16), m.group(4)))
    m = re.search(r"EOF reached after (\d+) txns\.", p.stdout)
    return p, txns, (int(m.group(1)) if m else None), crc_errors


def apache_snapshot_formatter(path):
    """Run SnapshotFormatter on a snapshot: (completed process, {path: stat
    dict}, [(session id, timeout, ephemeral count)], node count, last zxid)."""
    p = run_java("org.apache.zookeeper.server.SnapshotFormatter", path)
    nodes, sessions = {}, []
    cur = None
    in_sessions = False
    count = last = None
    for line in p.stdout.splitlines():
        m = re.match(r"ZNode Details \(count=(\d+)\):", line)
        if m:
            count = int(m.group(1))
            continue
        if line.startswith("Session Details"):
            in_sessions, cur = True, None
            continue
        m = re.match(r"Last zxid: 0x([0-9a-f]+)", line)
        if m:
            last = int(m.group(1), 16)
            continue
        if in_sessions:
            m = re.match(r"0x([0-9a-f]+), (-?\d+), (\d+)$", line)
            if m:
                sessions.append((int(m.group(1), 16), int(m.group(2)), int(m.group(3))))
            continue
        if line.startswith("/"):
            cur = nodes.setdefault(line, {})
            continue
        m = re.match(r"  (\w+) = (.*)$", line)
        if m and cur is not None:
            k, v = m.group(1), m.group(2)
            if k in ("cZxid", "mZxid", "pZxid", "ephemeralOwner"):
                cur[k] = int(v, 16)
            elif k in ("cversion", "dataVersion", "aclVersion", "dataLength"):
                cur[k] = int(v)
    return p, nodes, sessions, count, last


def apache_purge(data_dir, n):
    """Apache's PurgeTxnLog on a data directory (dataDir == dataLogDir)."""
    return run_java("org.apache.zookeeper.server.PurgeTxnLog", data_dir, "-n", str(n))


# -------------------------------------------------------------- zkswift CLI
def zkswift_binary():
    path = os.environ.get("ZKSWIFT_BIN") or os.path.join(ROOT, ".build", "debug", "zkswift")
    if not os.path.exists(path):
        raise AssertionError(f"zkswift CLI not found at {path}; build it or set ZKSWIFT_BIN")
    return path


def run_zkswift(*args, timeout=60):
    return subprocess.run([zkswift_binary(), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def mentions_offset(text, offset):
    """True if `text` names `offset` in decimal or as 0x-hex, as a whole number."""
    return bool(re.search(rf"(?<![0-9A-Za-z]){offset}(?![0-9])", text)
                or re.search(rf"0x0*{offset:x}(?![0-9a-fA-F])", text, re.I))


# ------------------------------------------------------------ shared fixtures
# Who writes a data directory and who reads it: the server under test both
# ways, and across to Apache and back (one pair when the target is Apache).
WRITER_READER = list(dict.fromkeys([(helpers.TARGET, helpers.TARGET), (helpers.TARGET, "apache"), ("apache", helpers.TARGET)]))
WRITER_READER_IDS = [f"{w}-to-{r}" for w, r in WRITER_READER]


def build_once(build, what):
    """get(*key) -> build(*key), each built once; a failed build fails every
    test that asks for it the same way. `what(*key)` names it in the error."""
    cache = {}

    def get(*key):
        if key not in cache:
            try:
                cache[key] = build(*key)
            except Exception as e:  # noqa: BLE001 - every test using it fails the same way
                cache[key] = e
        got = cache[key]
        if isinstance(got, Exception):
            raise AssertionError(f"{what(*key)} failed: {got!r}") from got
        return got

    return get


# ------------------------------------------------------------ server handling
def make_server(kind, data_dir=None, cfg=None, props=None):
    """A server of `kind`, optionally on an existing data directory, registered
    so its log is attached to failure reports. Not started."""
    c = dict(cfg or {})
    if data_dir:
        c["dataDir"] = data_dir
    srv = servers.make_server(kind, cfg=c, props=props)
    helpers._LIVE.append(srv)
    return srv


def dispose(srv):
    """Stop (SIGTERM) a server from make_server and delete its work directory
    (the data directory too when it lies inside it)."""
    if srv in helpers._LIVE:
        helpers._LIVE.remove(srv)
    srv.cleanup()


def start(srv, timeout=30.0, poll=0.02):
    """Like Server.start, polling `srv` every `poll` seconds (the torn-tail
    test starts a server a few hundred times)."""
    srv.log = open(srv.log_path, "ab")
    srv.proc = subprocess.Popen(srv.command(), stdout=srv.log, stderr=subprocess.STDOUT,
                                cwd=srv.workdir, env=srv.env())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            raise RuntimeError(f"{srv.kind} exited with {srv.proc.returncode}:\n{srv.read_log()[-3000:]}")
        try:
            if servers.four_letter(srv.port, "srvr", timeout=1.0).startswith("Zookeeper version"):
                return srv
        except OSError:
            pass
        time.sleep(poll)
    srv.stop()
    raise RuntimeError(f"{srv.kind} did not answer srvr within {timeout}s:\n{srv.read_log()[-3000:]}")


def crash(srv):
    """SIGKILL the server and release its log handle; the data stay."""
    srv.kill()
    srv.stop()


def seeded_rng(name):
    """random.Random seeded from $DURABILITY_SEED or fresh; returns (rng, seed)."""
    env = os.environ.get("DURABILITY_SEED")
    seed = int(env) if env else random.SystemRandom().randrange(1 << 32)
    print(f"{name}: seed {seed} (rerun with DURABILITY_SEED={seed})")
    return random.Random(seed), seed


def to_stat(t):
    """A dump's stat tuple as a rawzk.Stat (for readable assertions)."""
    return Stat(*t)
