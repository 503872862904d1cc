"""Recovery from the data directory (disk-format.md §4.1, §6.1): a torn last
log record, a damaged record in the middle of a log, and sessions across
restarts (clean SIGTERM and SIGKILL).

Torn tails: Apache 3.8.0 checks a record's 0x42 end marker before its
checksum, so a last record cut short, or zeroed from some offset to its end,
reads as a partial record, i.e. the end of the log (truncate and zeros
variants: validated against Apache). A last record that is framed correctly
but fails its checksum (garbage variant: bytes garbled up to, not including,
the end marker) stops Apache ("CRC check failed"), as does a garbage length
("Unreasonable length"); zkswiftd treats both as a torn write because no
valid record follows, so the garbage variant is zkswiftd only. A damaged
record followed by valid records is corruption for both.
"""
import concurrent.futures
import os
import shutil
import tempfile
import time

import pytest

import durability as d
import rawzk
from helpers import TARGET


def raw_dump(c, root):
    """{path: (data, Stat)} of `root` and everything below it, via rawzk."""
    out, stack = {}, [root]
    while stack:
        p = stack.pop()
        err, res = c.get_data(p)
        assert err == 0, (p, err)
        out[p] = res
        err, kids = c.get_children(p)
        assert err == 0, (p, err)
        stack.extend(f"{p}/{k}" for k in kids)
    return out


def ok(res):
    err, val = res
    assert err == 0, f"error {err}"
    return val


# ---------------------------------------------------------------- the history
@pytest.fixture(scope="module")
def history():
    """A data directory written by the server under test and left by SIGKILL:
    snapshot.0 plus one log whose last record is a small setData of /t (the
    record the torn-tail test tears). Returns a dict with the directory, the
    parsed last log and the /t subtree as it was before that last write."""
    # 64 KiB preallocation instead of 64 MiB: the zero tail after the torn
    # record is still there, but a server that scans the rest of the file for
    # valid records does it in no time (the test starts a server ~400 times)
    srv = d.make_server(TARGET, props={"zookeeper.preAllocSize": "64"})
    d.start(srv)
    try:
        c = rawzk.RawZK.session(srv.host, srv.port, timeout=30000)
        ok(c.create("/t", b"a", op=rawzk.OP_CREATE2))
        ok(c.create("/t/k1", b"k1", op=rawzk.OP_CREATE2))
        ok(c.create("/t/k2", None, op=rawzk.OP_CREATE2))
        ok(c.create("/t/q-", b"s", flags=rawzk.PERSISTENT_SEQUENTIAL, op=rawzk.OP_CREATE2))
        ok(c.set_data("/t", b"b"))
        rep, res = c.multi([(rawzk.OP_CREATE, rawzk.create_body("/t/m1", b"m")),
                            (rawzk.OP_SETDATA, rawzk.setdata_body("/t/k1", b"k1b"))])
        assert rep.err == 0 and all(r[1] == 0 for r in res), res
        ok(c.create("/t/gone", b""))
        ok(c.delete("/t/gone"))
        ok(c.set_data("/t", b"y"))
        before = raw_dump(c, "/t")
        last_stat = ok(c.set_data("/t", b"Z"))  # the record to tear
        d.crash(srv)
        c.close()
        logs = d.log_files(srv)
        assert logs, f"no log.* file in {d.version2(srv.cfg['dataDir'])}: {os.listdir(d.version2(srv.cfg['dataDir']))}"
        last_path = logs[-1][1]
        log = d.read_log(last_path)
        assert log.error is None, log.error
        last = log.last
        assert last is not None and last.type == 5 and last.body["path"] == "/t" and last.body["data"] == b"Z", \
            f"last record of {last_path} is not the final setData: {last}"
        assert last.zxid == last_stat.mzxid
        yield {"dir": srv.cfg["dataDir"], "log": log, "before": before, "last": last,
               "log_rel": os.path.relpath(last_path, srv.cfg["dataDir"])}
    finally:
        d.dispose(srv)


def _damage(path, variant, offset, end, rng):
    if variant == "truncate":
        os.truncate(path, offset)
        return
    with open(path, "r+b") as f:
        f.seek(offset)
        old = f.read(end - offset)
        if variant == "zeros":
            new = bytes(len(old))
        else:
            # garbage: every byte changed (XOR with a non-zero value) except the
            # 0x42 end marker, so that the record is framed as before and fails
            # on its checksum (when the damage starts in the checksum or the
            # payload); from the marker's own offset only the marker changes
            keep = 1 if offset < end - 1 else 0
            new = bytes(b ^ rng.randrange(1, 256) for b in old[:len(old) - keep]) + old[len(old) - keep:]
        f.seek(offset)
        f.write(new)


def _torn_case(hist, variant, offset, seed, workroot):
    """One damaged copy: start, check, write, SIGKILL, restart, check.
    Returns None or a failure description."""
    rng = __import__("random").Random(seed * 1000003 + offset)
    copy = os.path.join(workroot, f"{variant}-{offset}")
    d.copy_datadir(hist["dir"], copy)
    logpath = os.path.join(copy, hist["log_rel"])
    _damage(logpath, variant, offset, hist["last"].end, rng)
    srv = d.make_server(TARGET, data_dir=copy)
    step = "first start"
    try:
        d.start(srv, timeout=15)
        step = "check after first start"
        c = rawzk.RawZK.session(srv.host, srv.port, timeout=30000)
        got = raw_dump(c, "/t")
        if got != hist["before"]:
            return (f"{step}: /t subtree differs: {_dump_diff(hist['before'], got)}"
                    f"\n    server log: {srv.read_log()[-1500:]}")
        err, res = c.create("/after", b"new", op=rawzk.OP_CREATE2)
        if err:
            return f"create /after failed with {err}"
        after_stat = res[1]
        if after_stat.czxid <= hist["last"].zxid - 1:
            return f"/after got czxid {after_stat.czxid}, not above the last good zxid {hist['last'].zxid - 1}"
        d.crash(srv)
        c.close()
        step = "restart"
        d.start(srv, timeout=15)
        step = "check after restart"
        c = rawzk.RawZK.session(srv.host, srv.port, timeout=30000)
        got = raw_dump(c, "/t")
        if got != hist["before"]:
            return (f"{step}: /t subtree differs: {_dump_diff(hist['before'], got)}"
                    f"\n    server log: {srv.read_log()[-1500:]}")
        err, res = c.get_data("/after")
        if err or res[0] != b"new" or res[1].czxid != after_stat.czxid:
            return f"{step}: /after is {err} {res}, expected czxid {after_stat.czxid}"
        c.close()
        d.crash(srv)
        for _, p in d.log_files(copy):
            log = d.read_log(p)
            if log.error:
                return f"after recovery {os.path.basename(p)} does not read cleanly (tail not cut off): {log.error}"
        return None
    except Exception as e:  # noqa: BLE001 - reported per case
        tail = "" if isinstance(e, RuntimeError) else "\n    server log: " + srv.read_log()[-1500:]
        return f"{step}: {type(e).__name__}: {str(e)[-1500:]}{tail}"
    finally:
        d.dispose(srv)
        shutil.rmtree(copy, ignore_errors=True)


def _dump_diff(a, b):
    out = []
    for p in sorted(set(a) | set(b)):
        if a.get(p) != b.get(p):
            out.append(f"{p}: expected {a.get(p)} got {b.get(p)}")
    return "; ".join(out[:5])


@pytest.mark.parametrize("variant", [
    "truncate",
    "zeros",
    pytest.param("garbage", marks=pytest.mark.zkswiftd_only(
        "a checksum-failing (or garbage-length) last record stops Apache 3.8.0; zkswiftd cuts it off")),
])
def test_torn_last_record(history, variant):
    """For every byte offset inside the last record of the last log: cut the
    file there (truncate), zero the record from there to its end (zeros), or
    garble it from there up to its end marker (garbage: the checksum fails).
    The server starts, serves every earlier record and not the torn one,
    accepts writes, and after a SIGKILL restart still does; the logs then read
    cleanly under Apache's rules (the torn tail was cut off, not left in front
    of new records)."""
    rng, seed = d.seeded_rng(f"torn tail {variant}")
    last = history["last"]
    size = last.end - last.offset
    stride = 1 if size < 100 else max(1, size // 100)
    offsets = list(range(last.offset, last.end, stride))
    if offsets[-1] != last.end - 1:
        offsets.append(last.end - 1)
    print(f"last record: {history['log_rel']} offset {last.offset}..{last.end} ({size} bytes), "
          f"{len(offsets)} offsets")
    workroot = tempfile.mkdtemp(prefix="zk-torn-")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            futs = {o: ex.submit(_torn_case, history, variant, o, seed, workroot) for o in offsets}
            failures = [(o, f.result()) for o, f in sorted(futs.items()) if f.result()]
    finally:
        shutil.rmtree(workroot, ignore_errors=True)
    assert not failures, (
        f"seed {seed}: {len(failures)}/{len(offsets)} offsets failed "
        f"(record at {last.offset}..{last.end}):\n"
        + "\n".join(f"  offset {o} (+{o - last.offset}): {msg}" for o, msg in failures[:12]))


# -------------------------------------------------------------- corrupt middle
@pytest.mark.parametrize("where", [
    "payload", "checksum",
    pytest.param("length", marks=pytest.mark.zkswiftd_only(
        "Apache 3.8.0 reads a record whose end marker is missing as the end of the file and "
        "silently drops the valid records after it")),
])
def test_corrupt_record_in_the_middle_stops_startup(history, where):
    """A damaged record followed by valid records is corruption, not a torn
    write: the server exits non-zero within a few seconds instead of serving a
    tree with a hole. Damage: a flipped payload bit or checksum bit (checksum
    mismatch), or a length 256 too large (no end marker where the record should
    end). zkswiftd also logs one line naming the log file and the byte offset
    of the bad record (not checked against Apache, whose message names
    neither)."""
    log = history["log"]
    assert len(log.records) >= 6, [r.type_name for r in log.records]
    rec = log.records[len(log.records) // 2]
    rng, seed = d.seeded_rng(f"corrupt middle {where}")
    workroot = tempfile.mkdtemp(prefix="zk-corrupt-")
    copy = d.copy_datadir(history["dir"], os.path.join(workroot, "data"))
    logpath = os.path.join(copy, history["log_rel"])
    if where == "payload":
        pos, bit = rec.offset + 12 + rng.randrange(rec.length), 1 << rng.randrange(8)
    elif where == "checksum":
        pos, bit = rec.offset + 4 + rng.randrange(4), 1 << rng.randrange(8)  # low half of the checksum long
    else:
        pos, bit = rec.offset + 10, 1  # length + 256
    with open(logpath, "r+b") as f:
        f.seek(pos)
        b = f.read(1)[0]
        f.seek(pos)
        f.write(bytes([b ^ bit]))
    damaged = d.read_log(logpath)
    assert damaged.stop in ("crc", "partial") and damaged.records[-1].end == rec.offset, \
        (damaged.stop, damaged.error)
    assert len(d.scan_records(logpath, rec.end)) >= 1, "no valid record follows the damaged one"
    srv = d.make_server(TARGET, data_dir=copy)
    try:
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match="exited with"):
            d.start(srv, timeout=10)
        took = time.monotonic() - t0
        assert srv.proc.returncode != 0
        assert took < 10
        if TARGET == "zkswiftd":
            name = os.path.basename(logpath)
            lines = [ln for ln in srv.read_log().splitlines()
                     if name in ln and d.mentions_offset(ln, rec.offset)]
            assert lines, (f"seed {seed}: no log line names {name} and offset {rec.offset} "
                           f"(byte {pos} flipped):\n{srv.read_log()[-3000:]}")
    finally:
        d.dispose(srv)
        shutil.rmtree(workroot, ignore_errors=True)


# ---------------------------------------------------------- restart semantics
def _restart(srv, how):
    if how == "sigterm":
        srv.stop()
    else:
        d.crash(srv)
    d.start(srv)


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_session_and_ephemerals_survive_restart(how):
    """A session (and its ephemerals) outlives a restart: its client reconnects
    with session id and password, still owns its ephemeral, can create more,
    and closing the session removes them all."""
    srv = d.make_server(TARGET)
    try:
        d.start(srv)
        a = rawzk.RawZK.session(srv.host, srv.port, timeout=10000)
        ok(a.create("/own", b""))
        _, st = ok(a.create("/own/e1", b"mine", flags=rawzk.EPHEMERAL, op=rawzk.OP_CREATE2))
        assert st.ephemeralOwner == a.session_id
        sid, pw, last = a.session_id, a.passwd, a.last_zxid
        a.close()
        _restart(srv, how)
        a2 = rawzk.RawZK(srv.host, srv.port)
        resp = a2.connect(timeout=10000, session_id=sid, passwd=pw, last_zxid=last)
        assert resp.session_id == sid and resp.timeout == 10000, resp
        data, st2 = ok(a2.get_data("/own/e1"))
        assert data == b"mine" and st2 == st
        _, st3 = ok(a2.create("/own/e2", b"", flags=rawzk.EPHEMERAL, op=rawzk.OP_CREATE2))
        assert st3.ephemeralOwner == sid and st3.czxid > last
        assert sorted(ok(a2.get_ephemerals("/own"))) == ["/own/e1", "/own/e2"]
        assert a2.close_session().err == 0
        a2.close()
        b = rawzk.RawZK.session(srv.host, srv.port)
        assert ok(b.get_children("/own")) == []
        b.close()
    finally:
        d.dispose(srv)


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_session_expired_while_down(how):
    """A session whose timeout (4000 ms, tickTime 2000) passes while the server
    is down is expired once the server is back: its ephemerals are deleted, a
    client that watches them gets NodeDeleted and NodeChildrenChanged, and the
    expired session cannot be resumed.

    The watcher is a second session (timeout 30 s) that survives the restart
    and re-registers its watches with setWatches on reconnect, as the Java
    client does (kazoo drops its watches on a disconnect). Data watches on the
    ephemerals and a child watch on the parent give the same events whether
    the expiry happens before or after the re-registration (wire-protocol.md
    setWatches: deleted node -> NodeDeleted, pzxid > relZxid ->
    NodeChildrenChanged)."""
    srv = d.make_server(TARGET)
    conns = []
    try:
        d.start(srv)
        a = rawzk.RawZK.session(srv.host, srv.port, timeout=4000)
        conns.append(a)
        assert a.timeout == 4000
        ok(a.create("/x", b""))
        ok(a.create("/x/e1", b"1", flags=rawzk.EPHEMERAL))
        ok(a.create("/x/e2", b"2", flags=rawzk.EPHEMERAL))
        ok(a.create("/x/keep", b"k"))
        sid, pw = a.session_id, a.passwd
        w = rawzk.RawZK.session(srv.host, srv.port, timeout=30000)
        conns.append(w)
        ok(w.get_data("/x/e1", watch=True))
        ok(w.get_data("/x/e2", watch=True))
        assert sorted(ok(w.get_children("/x", watch=True))) == ["e1", "e2", "keep"]
        wsid, wpw, wzxid = w.session_id, w.passwd, w.last_zxid
        if how == "sigterm":
            srv.stop()
        else:
            d.crash(srv)
        a.close()
        w.close()
        time.sleep(5.0)  # longer than the 4000 ms session timeout
        d.start(srv)
        w = rawzk.RawZK(srv.host, srv.port)
        conns.append(w)
        resp = w.connect(timeout=30000, session_id=wsid, passwd=wpw, last_zxid=wzxid)
        assert resp.session_id == wsid and resp.timeout == 30000, f"watcher session lost: {resp}"
        assert w.set_watches(wzxid, data=["/x/e1", "/x/e2"], child=["/x"]).err == 0
        w.wait_events(3, timeout=20.0)
        got = sorted((t, p) for t, _, p in w.events)
        assert got == sorted([(rawzk.EV_DELETED, "/x/e1"), (rawzk.EV_DELETED, "/x/e2"),
                              (rawzk.EV_CHILDREN_CHANGED, "/x")]), w.events
        assert ok(w.get_children("/x")) == ["keep"]
        assert ok(w.get_data("/x/keep"))[0] == b"k"
        c = rawzk.RawZK(srv.host, srv.port)
        conns.append(c)
        try:
            resp = c.connect(timeout=4000, session_id=sid, passwd=pw)
            assert resp.timeout <= 0, f"expired session resumed: {resp}"
        except rawzk.ServerClosed:
            pass
    finally:
        for c in conns:
            c.close()
        d.dispose(srv)
