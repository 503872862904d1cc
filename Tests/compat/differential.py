"""Differential test of zkswiftd against Apache ZooKeeper 3.8.0.

One scripted, deterministic sequence of client requests is sent, byte by byte,
to a fresh server by a small raw jute client (so every opcode, xid and flag is
under our control). Every step's reply and every watch event each session
received is recorded in a transcript. Two transcripts (Apache and zkswiftd, or
Apache twice as a self-check) are normalised and compared step by step.

Events: after every step each open session sends a ping and reads up to its
reply; whatever notifications (xid -1) arrive first are recorded, in arrival
order, as that session's events of this step (the concatenation over steps is
the full ordered list each session received). Because the step's own reply has
already arrived, every event the step triggered is queued ahead of that ping
reply, so the assignment of events to steps is deterministic. Events that
reach the acting session before its reply are recorded in the reply
("events_before"). Timer-driven server work (container and TTL removal) is
kept inside single steps (`await_gone`, `settle`).

Normalisation (see `normalize`):
* zxids (reply zxid, czxid, mzxid, pzxid) -> "Z<n>", n = rank of first
  appearance in the run; values <= 0 stay literal.
* session ids / ephemeralOwner -> "S<n>", n = order of first appearance.
* ctime/mtime -> "T(<zxid token>)" when the time lies inside the wall-clock
  window of the step that produced that zxid, otherwise "T!outside(...)".
  (Ranking raw times instead would not be deterministic: two writes often
  share a millisecond in one run and not in the other.)
* passwords -> "derived" if equal to ZooKeeper's java.util.Random derivation
  from the session id, "zeros", or "other".
* children, getEphemerals and whoAmI lists are sorted (Apache returns them in
  Java hash-set order, which clients must not rely on); events of steps whose
  server action works on a set (session close with several ephemerals,
  container manager) are compared sorted; everything else keeps its order.

Version-dependent steps: where Apache 3.8.0 has a bug fixed in a later 3.8.x
release, zkswiftd follows the fixed behaviour. Those operations (multi create
sub-ops, ZOOKEEPER-4026, fixed in 3.8.2) are confined to the /v38x subtree
(`v38x`), which no other step reads and tree snapshots skip, so their effects
cannot reach other steps. Each step where 3.8.0 differs carries `fixed_in`,
`why` and an expectation (`EXPECTATIONS`) that turns Apache 3.8.0's recorded
reply into the fixed release's; zkswiftd is compared with that
(`expected_transcript`, `comparable`). Apache against Apache compares raw.

Usage as a program:
    python3 differential.py [--a apache] [--b zkswiftd|apache] [--out DIR]
"""
import argparse
import base64
import copy
import hashlib
import json
import os
import socket
import struct
import sys
import time

import rawzk

# ---------------------------------------------------------------- constants

OP = {
    "notification": 0, "create": 1, "delete": 2, "exists": 3, "getData": 4,
    "setData": 5, "getACL": 6, "setACL": 7, "getChildren": 8, "sync": 9,
    "ping": 11, "getChildren2": 12, "check": 13, "multi": 14, "create2": 15,
    "reconfig": 16, "checkWatches": 17, "removeWatches": 18,
    "createContainer": 19, "deleteContainer": 20, "createTTL": 21,
    "multiRead": 22, "auth": 100, "setWatches": 101, "sasl": 102,
    "getEphemerals": 103, "getAllChildrenNumber": 104, "setWatches2": 105,
    "addWatch": 106, "whoAmI": 107, "createSession": -10, "closeSession": -11,
    "error": -1,
}
OPNAME = {v: k for k, v in OP.items()}

ERR = {
    0: "OK", -2: "RUNTIMEINCONSISTENCY", -5: "MARSHALLINGERROR",
    -6: "UNIMPLEMENTED", -8: "BADARGUMENTS", -101: "NONODE", -102: "NOAUTH",
    -103: "BADVERSION", -108: "NOCHILDRENFOREPHEMERALS", -110: "NODEEXISTS",
    -111: "NOTEMPTY", -112: "SESSIONEXPIRED", -114: "INVALIDACL",
    -115: "AUTHFAILED", -121: "NOWATCHER", -123: "RECONFIGDISABLED",
}

PERSISTENT, EPHEMERAL, PERSISTENT_SEQ, EPHEMERAL_SEQ = 0, 1, 2, 3
CONTAINER, PERSISTENT_TTL, PERSISTENT_SEQ_TTL = 4, 5, 6

SUPER_USER, SUPER_PASS = "super", "superpw"

# Subtree of the version-dependent steps (see `v38x`, called from `script`).
# Nothing outside that part of the script reads below it; tree snapshots skip it.
V38X = "/v38x"


def digest_id(user, password):
    """The digest ACL id `user:BASE64(SHA1("user:password"))`."""
    h = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(h).decode()}"


def super_digest_prop():
    """Value for the zookeeper.DigestAuthenticationProvider.superDigest property."""
    return digest_id(SUPER_USER, SUPER_PASS)


SERVER_PROPS = {
    "zookeeper.extendedTypesEnabled": "true",
    "zookeeper.DigestAuthenticationProvider.superDigest": super_digest_prop(),
    "znode.container.checkIntervalMs": "1000",
}
SERVER_CFG = {"tickTime": "2000"}

OPEN = [(31, "world", "anyone")]
READ_ONLY = [(1, "world", "anyone")]
ALICE = digest_id("alice", "alicepw")
BOB = digest_id("bob", "bobpw")
ALICE_ALL = [(31, "digest", ALICE)]
ALICE_PLUS_READ = [(1, "world", "anyone"), (31, "digest", ALICE)]
AUTH_ALL = [(31, "auth", "")]
IP_LOCAL = [(31, "ip", "127.0.0.1")]
IP_OTHER = [(31, "ip", "10.0.0.0/8")]


# ZooKeeper's session password: java.util.Random(id ^ 0xB3415C00).nextBytes(16).
java_password = rawzk.derive_password


# ---------------------------------------------------------------- jute

class W(rawzk.W):
    """rawzk's jute writer, under the short names this script uses."""
    ustr = rawzk.W.ustring
    strs = rawzk.W.string_vector
    acls = rawzk.W.acl_vector

    def buf(self, d):
        return self.buffer(d.encode() if isinstance(d, str) else d)


class Short(Exception):
    pass


def _s(b):
    return b.decode("utf-8", "backslashreplace")


def data_repr(d):
    if d is None:
        return None
    if len(d) <= 64:
        return {"hex": d.hex()}
    return {"len": len(d), "sha1": hashlib.sha1(d).hexdigest()}


class R:
    """Jute BinaryInputArchive over one frame."""

    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, n):
        if n < 0 or self.p + n > len(self.d):
            raise Short(f"need {n} bytes at {self.p} of {len(self.d)}")
        v = self.d[self.p:self.p + n]
        self.p += n
        return v

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def bool(self):
        return self.take(1)[0] != 0

    def ustr(self):
        n = self.int()
        return None if n == -1 else _s(self.take(n))

    def buf(self):
        n = self.int()
        return None if n == -1 else self.take(n)

    def strs(self):
        n = self.int()
        return None if n == -1 else [self.ustr() for _ in range(n)]

    def acls(self):
        n = self.int()
        if n == -1:
            return None
        return [[self.int(), self.ustr(), self.ustr()] for _ in range(n)]

    def stat(self):
        return {
            "czxid": self.long(), "mzxid": self.long(), "ctime": self.long(),
            "mtime": self.long(), "version": self.int(), "cversion": self.int(),
            "aversion": self.int(), "ephemeralOwner": self.long(),
            "dataLength": self.int(), "numChildren": self.int(), "pzxid": self.long(),
        }

    def left(self):
        return len(self.d) - self.p

    def rest(self):
        return self.take(self.left())


def sorted_or_none(lst):
    return None if lst is None else sorted(lst)


def decode_multi(r):
    results = []
    while True:
        typ, done, err = r.int(), r.bool(), r.int()
        if done:
            results.append({"end": [typ, done, err]})
            return results
        res = {"type": typ, "err": err}
        if typ == 1:
            res["path"] = r.ustr()
        elif typ == 15:
            res["path"] = r.ustr()
            res["stat"] = r.stat()
        elif typ in (2, 13):
            pass
        elif typ == 5:
            res["stat"] = r.stat()
        elif typ == 4:
            res["data"] = data_repr(r.buf())
            res["stat"] = r.stat()
        elif typ == 8:
            res["children"] = sorted_or_none(r.strs())
        elif typ == -1:
            res["errBody"] = r.int()
        else:
            res["unknown"] = r.rest().hex()
            results.append(res)
            return results
        results.append(res)


def decode_body(opcode, r):
    """Decode a successful reply's record for `opcode`."""
    if opcode == 1 or opcode == 9:
        return {"path": r.ustr()}
    if opcode in (15, 19, 21):
        return {"path": r.ustr(), "stat": r.stat()}
    if opcode in (3, 5, 7):
        return {"stat": r.stat()}
    if opcode in (4, 16):
        return {"data": data_repr(r.buf()), "stat": r.stat()}
    if opcode == 6:
        return {"acl": r.acls(), "stat": r.stat()}
    if opcode == 8:
        return {"children": sorted_or_none(r.strs())}
    if opcode == 12:
        return {"children": sorted_or_none(r.strs()), "stat": r.stat()}
    if opcode in (14, 22):
        return {"results": decode_multi(r)}
    if opcode == 103:
        return {"ephemerals": sorted_or_none(r.strs())}
    if opcode == 104:
        return {"total": r.int()}
    if opcode == 106:
        return {"errorResponse": r.int()}
    if opcode == 107:
        # Apache keeps a connection's auth ids in a hash set, so the order is
        # Java's set iteration order: unspecified, compared sorted.
        n = r.int()
        return {"clientInfo": None if n == -1 else sorted([r.ustr(), r.ustr()] for _ in range(n))}
    return {}


# ---------------------------------------------------------------- connection

class Closed(Exception):
    pass


class Timeout(Exception):
    pass


class Conn:
    """One TCP connection speaking the client protocol, read synchronously."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=5.0)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.closed = False
        self.xid = 0
        self.session_id = None
        self.passwd = None

    def next_xid(self):
        self.xid += 1
        return self.xid

    def send(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise Timeout()
            except OSError:
                chunk = b""
            if not chunk:
                raise Closed()
            self.buf += chunk

    def frame(self, timeout):
        deadline = time.monotonic() + timeout
        self._fill(4, deadline)
        n = struct.unpack(">i", self.buf[:4])[0]
        self._fill(4 + n, deadline)
        payload = self.buf[4:4 + n]
        self.buf = self.buf[4 + n:]
        return payload

    def wait_closed(self, timeout=3.0):
        """'EOF' if the server closes the socket within timeout, else what came."""
        try:
            extra = self.frame(timeout)
        except Closed:
            return "EOF"
        except Timeout:
            return "open"
        return "frame:" + extra.hex()

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


def decode_event(payload):
    try:
        return _decode_event(payload)
    except Short:
        return ["bad-event", payload.hex()]


def _decode_event(payload):
    r = R(payload)
    xid, zxid, err = r.int(), r.long(), r.int()
    ev = [r.int(), r.int(), r.ustr()]
    if zxid != -1 or err != 0 or r.left():
        ev.append({"zxid": zxid, "err": err, "trailing": r.rest().hex()})
    return ev


def now_ms():
    return time.time() * 1000.0


# ---------------------------------------------------------------- runner

class Runner:
    """Executes the script against one server and records the raw transcript."""

    REPLY_TIMEOUT = 3.0

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.clients = {}      # name -> Conn (open or closed)
        self.steps = []
        self.cur = None
        self.ops_sent = set()
        self.last_zxid = 0     # raw reply zxid of the latest successful reply

    # -- bookkeeping

    def _begin(self, name, client, kind, write=False, op=None, unordered=False):
        """`unordered`: the server produces this step's events from a set
        (several ephemerals of a closing session, several containers removed
        by the timer), so their relative order is unspecified and the events
        are compared sorted."""
        self.cur = {"step": len(self.steps), "name": name, "client": client,
                    "kind": kind, "op": op, "write": write, "t0": now_ms()}
        if unordered:
            self.cur["unordered_events"] = True

    @property
    def last_step(self):
        """Index of the step recorded last."""
        return len(self.steps) - 1

    def expect(self, k, fixed_in, why, kind, **args):
        """Annotate step k as version dependent: Apache 3.8.0 has a bug there
        that a later 3.8.x release fixed, and zkswiftd follows the fix.
        `fixed_in` names the release and issue, `why` says what changed, and
        `kind` + `args` name the expectation (see EXPECTATIONS) that turns
        Apache 3.8.0's recorded reply into what the fixed release returns."""
        assert kind in EXPECTATIONS, kind
        st = self.steps[k]
        st["fixed_in"], st["why"] = fixed_in, why
        st["expect"] = dict(args, kind=kind)

    def _end(self, result):
        st = self.cur
        st["t1"] = now_ms()
        st["result"] = result
        st["events"] = self._drain()
        self.steps.append(st)
        self.cur = None
        return result

    def _drain(self):
        """Ping every open client; events that arrive before the ping reply
        belong to this step. Since the step's reply was already received, any
        event the step's writes triggered is queued ahead of that ping reply."""
        out = {}
        for name in sorted(self.clients):
            c = self.clients[name]
            if c.closed:
                continue
            evs = []
            try:
                c.send(W().int(-2).int(OP["ping"]).bytes())
                while True:
                    f = c.frame(self.REPLY_TIMEOUT)
                    xid = struct.unpack(">i", f[:4])[0]
                    if xid == -1:
                        evs.append(decode_event(f))
                    elif xid == -2:
                        break
                    else:
                        evs.append(["unexpected-frame", f.hex()])
            except Closed:
                evs.append("EOF")
                c.close()
            except Timeout:
                evs.append("TIMEOUT")
                c.close()
            if evs:
                out[name] = evs
        return out

    # -- connections

    def connect(self, name, timeout=30000, session_id=0, passwd=b"\0" * 16,
                last_zxid=0, read_only_byte=True, expect_close=False, extra=b"",
                pipelined=(), label=None, displace=()):
        """New connection `name`. `pipelined` = [(opcode, body, xid)] sent in the
        same write as the ConnectRequest."""
        self._begin(label or f"{name} connect timeout={timeout}" +
                    (" resume" if session_id else ""), name, "connect")
        try:
            conn = Conn(self.host, self.port)
        except OSError as e:
            return self._end({"status": "connect-failed", "error": type(e).__name__})
        w = W().int(0).long(last_zxid).int(timeout).long(session_id).buf(passwd)
        if read_only_byte:
            w.bool(False)
        w.raw(extra)
        data = struct.pack(">i", len(w.b)) + w.bytes()
        for opcode, body, xid in pipelined:
            p = W().int(xid).int(opcode).raw(body).bytes()
            data += struct.pack(">i", len(p)) + p
            self.ops_sent.add(opcode)
        conn.sock.sendall(data)
        res = {}
        try:
            f = conn.frame(self.REPLY_TIMEOUT)
        except Closed:
            conn.close()
            return self._end({"status": "EOF"})
        except Timeout:
            conn.close()
            return self._end({"status": "TIMEOUT"})
        r = R(f)
        res["length"] = len(f)
        try:
            res["protocolVersion"] = r.int()
            res["timeOut"] = r.int()
            res["sessionId"] = r.long()
            pw = r.buf()
        except Short:
            conn.close()
            return self._end({"status": "bad-connect-response", "hex": f.hex()})
        res["passwd"] = None if pw is None else pw.hex()
        if r.left():
            res["readOnly"] = r.bool()
        if r.left():
            res["trailing"] = r.rest().hex()
        conn.session_id, conn.passwd = res["sessionId"], pw
        old = self.clients.get(name)
        if old is not None and not old.closed:
            old.close()
        self.clients[name] = conn
        if displace:
            # clients whose session this connection names: the server closes them
            res["displaced"] = {}
            for other in displace:
                oc = self.clients[other]
                res["displaced"][other] = "client-closed" if oc.closed else oc.wait_closed()
                oc.close()
        replies = []
        for opcode, body, xid in pipelined:
            replies.append(self._read_reply(conn, opcode, xid))
        if pipelined:
            res["pipelined"] = replies
        if expect_close or res["timeOut"] <= 0:
            res["closed"] = conn.wait_closed()
            conn.close()
        elif not conn.closed:
            # observe the zxid of the createSession transaction
            p = self._call(conn, OP["ping"], b"", -2)
            res["ping"] = p
        return self._end(res)

    def _read_reply(self, conn, opcode, xid, timeout=None):
        events = []
        try:
            while True:
                f = conn.frame(timeout or self.REPLY_TIMEOUT)
                r = R(f)
                rxid = r.int()
                if rxid == -1:
                    events.append(decode_event(f))
                    continue
                break
        except Closed:
            conn.close()
            return {"status": "EOF", "events_before": events}
        except Timeout:
            conn.close()
            return {"status": "TIMEOUT", "events_before": events}
        res = {"xid": rxid}
        try:
            res["zxid"], res["err"] = r.long(), r.int()
        except Short:
            res["short"] = f.hex()
            return res
        if rxid == xid or (opcode == OP["ping"] and rxid == -2):
            pass
        else:
            res["expected_xid"] = xid
        if res["err"] == 0 or (opcode == OP["multi"] and r.left()):
            try:
                res["body"] = decode_body(opcode, r)
            except Short as e:
                res["undecodable"] = f.hex()
                res["why"] = str(e)
        if r.left():
            res["trailing"] = r.rest().hex()
        if events:
            res["events_before"] = events
        if res["err"] == 0 and res["zxid"] > 0:
            self.last_zxid = max(self.last_zxid, res["zxid"])
        return res

    def _call(self, conn, opcode, body, xid, timeout=None):
        try:
            conn.send(W().int(xid).int(opcode).raw(body).bytes())
        except OSError:
            conn.close()
            return {"status": "send-failed"}
        self.ops_sent.add(opcode)
        return self._read_reply(conn, opcode, xid, timeout)

    def req(self, client, opcode, body=b"", name=None, write=False, xid=None,
            expect_close=False, timeout=None, unordered=False):
        self._begin(name or f"{client} {OPNAME.get(opcode, opcode)}", client,
                    "op", write=write, op=opcode, unordered=unordered)
        conn = self.clients[client]
        if conn.closed:
            return self._end({"status": "client-closed"})
        if xid is None:
            xid = -4 if opcode == OP["auth"] else conn.next_xid()
        res = self._call(conn, opcode, body, xid, timeout)
        if expect_close and not conn.closed:
            res["closed"] = conn.wait_closed()
            conn.close()
        return self._end(res)

    # -- operations

    def create(self, c, path, data=b"", acl=OPEN, flags=0, op="create", ttl=None):
        w = W().ustr(path).buf(data).acls(acl).int(flags)
        if op == "createTTL":
            w.long(ttl)
        return self.req(c, OP[op], w.bytes(), f"{c} {op} {path!r} flags={flags}" +
                        (f" ttl={ttl}" if ttl is not None else ""), write=True)

    def delete(self, c, path, version=-1):
        return self.req(c, OP["delete"], W().ustr(path).int(version).bytes(),
                        f"{c} delete {path!r} v={version}", write=True)

    def exists(self, c, path, watch=False):
        return self.req(c, OP["exists"], W().ustr(path).bool(watch).bytes(),
                        f"{c} exists {path!r}" + (" watch" if watch else ""))

    def get(self, c, path, watch=False):
        return self.req(c, OP["getData"], W().ustr(path).bool(watch).bytes(),
                        f"{c} getData {path!r}" + (" watch" if watch else ""))

    def set(self, c, path, data, version=-1):
        return self.req(c, OP["setData"], W().ustr(path).buf(data).int(version).bytes(),
                        f"{c} setData {path!r} v={version}", write=True)

    def get_acl(self, c, path):
        return self.req(c, OP["getACL"], W().ustr(path).bytes(), f"{c} getACL {path!r}")

    def set_acl(self, c, path, acl, version=-1):
        return self.req(c, OP["setACL"], W().ustr(path).acls(acl).int(version).bytes(),
                        f"{c} setACL {path!r} {acl} v={version}", write=True)

    def children(self, c, path, watch=False):
        return self.req(c, OP["getChildren"], W().ustr(path).bool(watch).bytes(),
                        f"{c} getChildren {path!r}" + (" watch" if watch else ""))

    def children2(self, c, path, watch=False):
        return self.req(c, OP["getChildren2"], W().ustr(path).bool(watch).bytes(),
                        f"{c} getChildren2 {path!r}" + (" watch" if watch else ""))

    def all_children(self, c, path):
        return self.req(c, OP["getAllChildrenNumber"], W().ustr(path).bytes(),
                        f"{c} getAllChildrenNumber {path!r}")

    def ephemerals(self, c, prefix):
        return self.req(c, OP["getEphemerals"], W().ustr(prefix).bytes(),
                        f"{c} getEphemerals {prefix!r}")

    def sync(self, c, path):
        return self.req(c, OP["sync"], W().ustr(path).bytes(), f"{c} sync {path!r}")

    def ping(self, c, xid=-2):
        return self.req(c, OP["ping"], b"", f"{c} ping xid={xid}", xid=xid)

    def whoami(self, c):
        return self.req(c, OP["whoAmI"], b"", f"{c} whoAmI")

    def auth(self, c, scheme, cred, expect_close=False):
        body = W().int(0).ustr(scheme).buf(cred).bytes()
        return self.req(c, OP["auth"], body, f"{c} auth {scheme} {cred!r}",
                        expect_close=expect_close)

    def add_watch(self, c, path, mode):
        return self.req(c, OP["addWatch"], W().ustr(path).int(mode).bytes(),
                        f"{c} addWatch {path!r} mode={mode}")

    def check_watches(self, c, path, typ):
        return self.req(c, OP["checkWatches"], W().ustr(path).int(typ).bytes(),
                        f"{c} checkWatches {path!r} type={typ}")

    def remove_watches(self, c, path, typ):
        return self.req(c, OP["removeWatches"], W().ustr(path).int(typ).bytes(),
                        f"{c} removeWatches {path!r} type={typ}")

    def set_watches(self, c, rel, data, exist, child, xid=-8):
        body = W().long(rel).strs(data).strs(exist).strs(child).bytes()
        return self.req(c, OP["setWatches"], body,
                        f"{c} setWatches data={data} exist={exist} child={child}", xid=xid)

    def set_watches2(self, c, rel, data, exist, child, pers, rec, xid=-8):
        body = W().long(rel).strs(data).strs(exist).strs(child).strs(pers).strs(rec).bytes()
        return self.req(c, OP["setWatches2"], body,
                        f"{c} setWatches2 data={data} exist={exist} child={child} "
                        f"persistent={pers} recursive={rec}", xid=xid)

    def close_session(self, c):
        return self.req(c, OP["closeSession"], b"", f"{c} closeSession",
                        write=True, expect_close=True, unordered=True)

    @staticmethod
    def multi_body(ops):
        w = W()
        for op in ops:
            kind = op[0]
            w.int(OP[kind]).bool(False).int(-1)
            if kind in ("create", "create2", "createContainer"):
                _, path, data, acl, flags = op
                w.ustr(path).buf(data).acls(acl).int(flags)
            elif kind == "createTTL":
                _, path, data, acl, flags, ttl = op
                w.ustr(path).buf(data).acls(acl).int(flags).long(ttl)
            elif kind in ("delete", "check"):
                _, path, version = op
                w.ustr(path).int(version)
            elif kind == "setData":
                _, path, data, version = op
                w.ustr(path).buf(data).int(version)
            elif kind in ("getData", "getChildren", "exists"):
                w.ustr(op[1]).bool(False)
            else:
                raise ValueError(kind)
        w.int(-1).bool(True).int(-1)
        return w.bytes()

    def multi(self, c, ops, read=False):
        opcode = OP["multiRead" if read else "multi"]
        desc = ", ".join(f"{o[0]} {o[1]!r}" for o in ops)
        return self.req(c, opcode, self.multi_body(ops),
                        f"{c} {'multiRead' if read else 'multi'} [{desc}]", write=not read)

    # Helper requests inside `await_gone` and `tree` use this fixed xid, so
    # the number of polls (timing) or a differing tree size never shifts the
    # xids of later steps.
    AUX_XID = 0x7ffffff0
    MAX_TREE_NODES = 500

    def await_gone(self, c, path, trigger, limit=10.0):
        """One step: send the `trigger` request (opcode, body) whose effect lets
        the server's ContainerManager remove `path` (a container or TTL node),
        then poll exists until `path` is gone. Doing both in one step keeps the
        (timer driven) deletion and its watch events inside this step."""
        opcode, body = trigger
        self._begin(f"{c} {OPNAME[opcode]} then await removal of {path!r}", c, "await",
                    write=True, op=opcode, unordered=True)
        conn = self.clients[c]
        if conn.closed:
            return self._end({"status": "client-closed"})
        res = self._call(conn, opcode, body, conn.next_xid())
        events = list(res.pop("events_before", []))
        deadline = time.monotonic() + limit
        while not conn.closed:
            r = self._call(conn, OP["exists"], W().ustr(path).bool(False).bytes(), self.AUX_XID)
            events += r.pop("events_before", [])
            if r.get("err") != 0 or time.monotonic() > deadline:
                res["await"] = {"err": r.get("err"), "status": r.get("status")}
                break
            time.sleep(0.05)
        if events:
            res["events_before"] = events
        return self._end(res)

    def settle(self, c, triggers, seconds, why):
        """One step: send the `triggers` [(opcode, body)] from c, then wait so
        that timer-driven server work (container/TTL cleanup) happens inside
        this step whatever the server decides."""
        self._begin(f"{c} {len(triggers)} requests then wait {seconds}s: {why}", c, "settle",
                    write=True, unordered=True)
        conn = self.clients[c]
        if conn.closed:
            return self._end({"status": "client-closed"})
        replies = [self._call(conn, opcode, body, conn.next_xid()) for opcode, body in triggers]
        time.sleep(seconds)
        return self._end({"replies": replies})

    def tree(self, c, label, exclude=(V38X,)):
        """Snapshot of the whole tree as seen by client c: one step. Subtrees
        in `exclude` are not visited (their names still appear in their
        parent's children list)."""
        self._begin(f"{c} tree snapshot: {label}", c, "tree")
        conn = self.clients[c]
        if conn.closed:
            return self._end({"status": "client-closed"})
        nodes = {}
        events = []
        todo = ["/"]
        while todo and not conn.closed and len(nodes) < self.MAX_TREE_NODES:
            p = todo.pop(0)
            if p in exclude:
                continue
            g = self._call(conn, OP["getData"], W().ustr(p).bool(False).bytes(), self.AUX_XID)
            a = self._call(conn, OP["getACL"], W().ustr(p).bytes(), self.AUX_XID)
            k = self._call(conn, OP["getChildren2"], W().ustr(p).bool(False).bytes(), self.AUX_XID)
            for x in (g, a, k):
                events += x.pop("events_before", [])
                x.pop("zxid", None)   # last processed zxid; not a property of the node
            nodes[p] = {"getData": g, "getACL": a, "getChildren2": k}
            kids = (k.get("body") or {}).get("children") or []
            base = "" if p == "/" else p
            todo.extend(base + "/" + ch for ch in sorted(kids))
        res = {"nodes": nodes, "excluded": sorted(exclude)}
        if events:
            res["events_before"] = events
        return self._end(res)

    def close_all(self):
        for c in self.clients.values():
            c.close()


# ---------------------------------------------------------------- the script

ZK4026 = "3.8.2 (ZOOKEEPER-4026)"


def _sub_path(res, prefix):
    """The path a multi's create sub-op reported, found by its prefix (for
    sequential names as this server assigned them)."""
    return next((r.get("path") for r in (res.get("body") or {}).get("results", [])
                 if (r.get("path") or "").startswith(prefix)), prefix + "?")


def v38x(run):
    """Multi create sub-ops whose handling changed after 3.8.0: ZOOKEEPER-4026
    (3.8.2) made MultiOperationRecord.deserialize keep a sub-op's opcode
    (Op.create(path, data, CreateOptions, defaultOpCode)) instead of deriving
    it from the flags alone, and reject flags that name no CreateMode.

    zkswiftd follows the fixed behaviour, so each step where 3.8.0 differs is
    annotated (`run.expect`) with an expectation that turns Apache 3.8.0's
    reply into the fixed release's. Everything happens below V38X, which only
    this part of the script reads: the root sees one plain create of /v38x in
    both runs, the containers that only the fixed release creates are reaped
    inside /v38x, and the end of this part deletes on Apache 3.8.0 what the
    fixed release has reaped, so /v38x holds the same nodes in both runs."""
    R_ = run
    V = V38X
    R_.create("alice", V)
    # sub-op opcode 1/15 with the container flag: a container in both versions
    # (type 15 + Stat); createContainer (19) with flags 0 / PERSISTENT_SEQ:
    # 3.8.0 makes a persistent node (type 1, path only), 3.8.2+ a container
    res = R_.multi("alice", [("create", V + "/mc1", b"", OPEN, CONTAINER),
                             ("createContainer", V + "/mc2", b"", OPEN, PERSISTENT),
                             ("create2", V + "/mc3", b"", OPEN, CONTAINER),
                             ("createContainer", V + "/mc4-", b"", OPEN, PERSISTENT_SEQ)])
    k_mc = run.last_step
    mc1, mc2, mc3, mc4 = V + "/mc1", V + "/mc2", V + "/mc3", _sub_path(res, V + "/mc4-")
    # (a container's client-visible ephemeralOwner is 0: these reads are the
    # same in both versions)
    R_.exists("anon", mc2)
    R_.exists("anon", mc4)
    run.expect(k_mc, ZK4026,
               "a createContainer (19) sub-op with flags 0 or PERSISTENT_SEQUENTIAL: 3.8.0 "
               "decays it to opcode 1 (a persistent node, result type 1, path only); the "
               "fixed release keeps opcode 19, creates a CONTAINER and reports type 15 "
               "with the Stat",
               "create_reports_stat", subs=[[1, k_mc + 1], [3, k_mc + 2]])
    # TTL flags on a sub-op without a TTL: the whole multi fails with
    # MARSHALLINGERROR in both versions
    R_.multi("alice", [("create", V + "/mc5", b"", OPEN, PERSISTENT_TTL)])
    R_.multi("alice", [("create2", V + "/mc5", b"", OPEN, PERSISTENT_SEQ_TTL)])
    R_.multi("alice", [("createContainer", V + "/mc5", b"", OPEN, PERSISTENT_TTL)])
    # createTTL (21) with non-TTL flags: a plain create (type 1) in both
    R_.multi("alice", [("createTTL", V + "/mc6", b"", OPEN, PERSISTENT, 1000)])
    # create2 (15) sub-ops: 3.8.0 reports type 1 and the path only
    R_.multi("alice", [("create2", V + "/mc7", b"", OPEN, EPHEMERAL)])
    k_mc7 = run.last_step
    R_.exists("anon", V + "/mc7")
    run.expect(k_mc7, ZK4026,
               "a create2 (15) sub-op: 3.8.0 decays it to opcode 1 and reports type 1 with "
               "the path only; the fixed release reports type 15 with the path and the Stat",
               "create_reports_stat", subs=[[0, k_mc7 + 1]])
    res = R_.multi("alice", [("create2", V + "/c2", b"c2", OPEN, PERSISTENT),
                             ("check", V + "/mc6", 0),
                             ("setData", V + "/mc6", b"x", 0),
                             ("create2", V + "/c2s-", b"s", OPEN, PERSISTENT_SEQ),
                             ("create", V + "/c1", b"", OPEN, PERSISTENT),
                             ("delete", V + "/c1", -1)])
    k_c2 = run.last_step
    c2s = _sub_path(res, V + "/c2s-")
    R_.exists("anon", V + "/c2")
    R_.get("anon", c2s)
    run.expect(k_c2, ZK4026,
               "create2 (15) sub-ops among other kinds: 3.8.0 reports type 1 with the path "
               "only; the fixed release reports type 15 with the path and the Stat",
               "create_reports_stat", subs=[[0, k_c2 + 1], [3, k_c2 + 2]])
    # flags that name no CreateMode
    R_.multi("alice", [("create", V + "/m8", b"", OPEN, 7)])
    run.expect(run.last_step, ZK4026,
               "create flags that name no CreateMode (7) in a sub-op: 3.8.0 answers a "
               "per-op BADARGUMENTS result (header err 0); the fixed release rejects the "
               "request while deserialising it: MARSHALLINGERROR, header only",
               "multi_rejected", err=-5)
    R_.exists("anon", V + "/m8")
    # container reaping: mc1 and mc3 are containers in both versions, mc2 and
    # mc4 only in the fixed release. One watching session per node: the order
    # in which the container manager removes several nodes is unspecified
    # (Apache: hash-set order)
    for p, watcher in ((mc1, "su"), (mc2, "su"), (mc3, "bob"), (mc4, "eph")):
        R_.create("alice", p + "/a")
        R_.exists(watcher, p, watch=True)
    R_.settle("alice", [(OP["delete"], W().ustr(p + "/a").int(-1).bytes())
                        for p in (mc1, mc2, mc3, mc4)],
              2.2, f"container-manager passes over {V}")
    k_reap = run.last_step
    run.expect(k_reap, ZK4026,
               f"{mc2} and {mc4} are containers only in the fixed release: it reaps them "
               "too once their last child is gone, and their watchers see NodeDeleted",
               "reaped", add_events=[["su", [2, 3, mc2]], ["eph", [2, 3, mc4]]])
    for p in (mc1, mc2, mc3, mc4):
        R_.exists("anon", p)
        if p in (mc2, mc4):
            run.expect(run.last_step, ZK4026,
                       f"{p} is a container in the fixed release, reaped in step {k_reap}",
                       "node_gone")
    # what the fixed release reaped, deleted by hand on 3.8.0 (on the fixed
    # release: NONODE, and the watches already fired when the node was reaped)
    for p, watcher in ((mc2, "su"), (mc4, "eph")):
        R_.delete("alice", p)
        run.expect(run.last_step, ZK4026,
                   f"{p} is a container in the fixed release, reaped in step {k_reap}",
                   "node_gone", drop_events=[[watcher, [2, 3, p]]])
    # (children only: /v38x's pzxid is the zxid of its last child change,
    # which differs between the versions from here on)
    R_.children("alice", V)
    R_.all_children("anon", V)


def script(run):
    """The scripted sequence. Deterministic: only the server's answers vary."""
    R_ = run
    b = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731

    # ---- sessions and authentication
    R_.connect("su")
    R_.connect("alice")
    R_.connect("bob")
    R_.connect("anon")
    R_.connect("eph")
    R_.auth("su", "digest", b(f"{SUPER_USER}:{SUPER_PASS}"))
    R_.auth("alice", "digest", b"alice:alicepw")
    R_.auth("bob", "digest", b"bob:bobpw")
    for c in ("su", "alice", "bob", "anon", "eph"):
        R_.whoami(c)
    R_.auth("eph", "ip", b"127.0.0.1")
    R_.whoami("eph")
    R_.ping("anon")
    R_.ping("anon", xid=77)
    R_.connect("t1", timeout=1000, label="t1 connect timeout 1000 (clamped up)")
    R_.close_session("t1")
    R_.connect("t2", timeout=999999, label="t2 connect timeout 999999 (clamped down)")
    R_.close_session("t2")
    R_.connect("t3", read_only_byte=False, label="t3 connect as old client (no readOnly byte)")
    R_.whoami("t3")
    R_.close_session("t3")
    R_.connect("t4", last_zxid=1 << 40, label="t4 connect lastZxidSeen ahead of server")
    R_.connect("t5", label="t5 connect with pipelined auth+whoAmI+getData",
               pipelined=[(OP["auth"], W().int(0).ustr("digest").buf(b"carol:c").bytes(), -4),
                          (OP["whoAmI"], b"", 1),
                          (OP["getData"], W().ustr("/").bool(False).bytes(), 2)])
    R_.auth("t5", "nosuchscheme", b"x", expect_close=True)
    R_.connect("t6")
    R_.auth("t6", "digest", b"nocolon")
    R_.whoami("t6")
    R_.auth("t6", "digest", b"second:pw")
    R_.whoami("t6")
    R_.req("t6", 10, b"", "t6 unknown opcode 10", expect_close=True)
    R_.connect("t7")
    R_.req("t7", 200, b"", "t7 unknown opcode 200", expect_close=True)
    R_.connect("t8")
    R_.req("t8", OP["notification"], b"", "t8 opcode 0 (notification) as a request",
           expect_close=True)

    # ---- basic create / read / write
    R_.create("su", "/d", b"data")
    R_.create("su", "/d", b"again")
    R_.create("su", "/d2", b"", op="create2")
    R_.create("su", "/nulldata", None, op="create2")
    R_.get("anon", "/nulldata")
    R_.exists("anon", "/d")
    R_.exists("anon", "/nope")
    R_.get("anon", "/d")
    R_.get("anon", "/nope")
    R_.children("anon", "/")
    R_.children2("anon", "/")
    R_.set("alice", "/d", b"v1", 0)
    R_.set("alice", "/d", b"v1 again", 0)
    R_.set("alice", "/d", b"v2", -1)
    R_.set("alice", "/d", b"v3", 2)
    R_.set("alice", "/nope", b"x", -1)
    R_.set("alice", "/nulldata", None, -1)
    R_.get("alice", "/nulldata")
    R_.set("alice", "/nulldata", b"", -1)
    R_.get("alice", "/nulldata")
    R_.get("anon", "/d")
    R_.create("su", "/big", b"x" * 100000)
    R_.get("anon", "/big")
    R_.create("su", "/\u00fc\u65e5\u672c", "unicode".encode())
    R_.children("anon", "/")
    R_.get("anon", "/zookeeper")
    R_.children2("anon", "/zookeeper")
    R_.get("anon", "/zookeeper/config")
    R_.get_acl("anon", "/zookeeper/config")
    R_.get_acl("anon", "/zookeeper")
    R_.get_acl("anon", "/")
    R_.exists("anon", "/zookeeper/quota")
    R_.get("anon", "")
    R_.children("anon", "")
    R_.get("anon", "t")
    R_.children("anon", "/d/")
    R_.exists("anon", "/a\x00b")
    R_.exists("anon", "/d/")
    R_.get("su", "/")
    R_.set("su", "/", b"root-data")
    R_.get("anon", "/")
    R_.create("su", "/zookeeper/mine", b"m")
    R_.delete("su", "/zookeeper/mine")

    # ---- path validation (BADARGUMENTS) and reserved nodes
    for p in ["noslash", "", "/d/", "//d", "/d//x", "/d/./x", "/d/../x", "/d/.",
              "/d/..", "/a\x00b", "/a\x01b", "/a\x7fb", "/a\u0085b", "/a\ue000b",
              "/a\ufff0b", "/a\ud800b", "/"]:
        R_.create("su", p, b"")
    R_.set("su", "bad/", b"x")
    R_.set("su", "/d/.", b"x")
    R_.set_acl("su", "/d//", OPEN)
    for p in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "noslash",
              "/nope", "/nope/x", "/d/", "/a\x00b"]:
        R_.delete("su", p)

    # ---- create modes and flags
    R_.create("su", "/modes")
    for flags in (7, -1, 100):
        R_.create("su", "/modes/badflags", flags=flags)
    R_.create("su", "/modes/ttlflag", flags=PERSISTENT_TTL)
    R_.create("su", "/modes/ttlflag2", flags=PERSISTENT_SEQ_TTL, op="create2")
    R_.create("su", "/modes/ttl", b"t", flags=PERSISTENT_TTL, op="createTTL", ttl=3600000)
    R_.create("su", "/modes/ttlseq-", b"t", flags=PERSISTENT_SEQ_TTL, op="createTTL", ttl=3600000)
    R_.create("su", "/modes/ttl0", flags=PERSISTENT_TTL, op="createTTL", ttl=0)
    R_.create("su", "/modes/ttlneg", flags=PERSISTENT_TTL, op="createTTL", ttl=-5)
    R_.create("su", "/modes/ttlmax", flags=PERSISTENT_TTL, op="createTTL", ttl=(1 << 40) - 1)
    R_.create("su", "/modes/ttlhuge", flags=PERSISTENT_TTL, op="createTTL", ttl=1 << 40)
    R_.create("su", "/modes/ttlpers", flags=PERSISTENT, op="createTTL", ttl=1000)
    R_.create("su", "/modes/ttleph", flags=EPHEMERAL, op="createTTL", ttl=1000)
    R_.create("su", "/modes/ttl", flags=PERSISTENT_TTL, op="createTTL", ttl=1000)
    R_.exists("anon", "/modes/ttl")
    R_.exists("anon", "/modes/ttlmax")
    R_.create("su", "/modes/ct", b"c", flags=CONTAINER, op="createContainer")
    R_.create("su", "/modes/ct0", flags=PERSISTENT, op="createContainer")
    R_.create("su", "/modes/ctflag", flags=CONTAINER, op="create")
    R_.create("su", "/modes/ctflag2", flags=CONTAINER, op="create2")
    R_.create("su", "/modes/ctseq", flags=PERSISTENT_SEQ, op="createContainer")
    R_.exists("anon", "/modes/ct")
    R_.exists("anon", "/modes/ctflag")
    R_.get("anon", "/modes/ct0")
    R_.children2("anon", "/modes")
    R_.create("su", "/modes/ct/a", b"child")
    R_.exists("su", "/modes/ct", watch=True)
    R_.add_watch("anon", "/modes", 1)
    R_.await_gone("su", "/modes/ct",
                  (OP["delete"], W().ustr("/modes/ct/a").int(-1).bytes()))
    R_.children2("anon", "/modes")
    R_.await_gone("su", "/modes/shortttl",
                  (OP["createTTL"], W().ustr("/modes/shortttl").buf(b"").acls(OPEN)
                   .int(PERSISTENT_TTL).long(1).bytes()))
    R_.remove_watches("anon", "/modes", 3)
    # opcode 1/15 with the container flag make ordinary persistent nodes: they
    # survive the container check after losing their last child
    R_.create("su", "/modes/ctflag/a", b"")
    R_.create("su", "/modes/ctflag2/a", b"")
    R_.exists("su", "/modes/ctflag", watch=True)
    R_.settle("su", [(OP["delete"], W().ustr(p).int(-1).bytes())
                     for p in ("/modes/ctflag/a", "/modes/ctflag2/a")],
              2.2, "two container-manager passes (checkIntervalMs=1000)")
    R_.exists("su", "/modes/ctflag")
    R_.exists("su", "/modes/ctflag2")

    # ---- sequential and ephemeral
    R_.create("su", "/seq")
    for _ in range(3):
        R_.create("su", "/seq/p-", b"p", flags=PERSISTENT_SEQ)
    R_.delete("su", "/seq/p-0000000000")
    R_.create("su", "/seq/p-", b"p", flags=PERSISTENT_SEQ, op="create2")
    R_.create("su", "/seq/", b"slash", flags=PERSISTENT_SEQ)
    R_.create("su", "/seq/p-0000000009", b"manual")
    R_.create("su", "/seq/p-", b"p", flags=PERSISTENT_SEQ)
    R_.children2("anon", "/seq")
    R_.create("eph", "/seq/e-", b"e", flags=EPHEMERAL_SEQ)
    R_.create("eph", "/seq/e-", b"e", flags=EPHEMERAL_SEQ, op="create2")
    R_.create("eph", "/eph1", b"e", flags=EPHEMERAL)
    R_.create("eph", "/eph1", b"e", flags=EPHEMERAL)
    R_.create("eph", "/eph1/child", b"")
    R_.create("eph", "/eph1/child", b"", flags=EPHEMERAL_SEQ)
    R_.create("su", "/eph2", b"e2", flags=EPHEMERAL, op="create2")
    R_.exists("anon", "/eph1")
    R_.get("anon", "/eph2")
    R_.children2("anon", "/seq")
    R_.ephemerals("eph", None)
    R_.ephemerals("eph", "/")
    R_.ephemerals("eph", "")
    R_.ephemerals("eph", "   ")
    R_.ephemerals("eph", "/seq")
    R_.ephemerals("eph", "/seq/e-0000000006")
    R_.ephemerals("eph", "/nomatch")
    R_.ephemerals("su", None)
    R_.ephemerals("anon", None)
    R_.all_children("anon", "/")
    R_.all_children("anon", "/seq")
    R_.all_children("anon", "/seq/p-0000000001")
    R_.all_children("anon", "/nope")
    R_.delete("su", "/seq", -1)
    R_.delete("su", "/seq/p-0000000001", 5)
    R_.delete("su", "/seq/p-0000000001", 0)
    R_.delete("su", "/seq/p-0000000001", 0)

    # ---- ACLs
    R_.create("su", "/acl", b"acl-root")
    R_.create("alice", "/acl/alice", b"secret", ALICE_ALL)
    R_.create("alice", "/acl/readable", b"r", ALICE_PLUS_READ)
    R_.create("alice", "/acl/authnode", b"a", AUTH_ALL)
    R_.create("anon", "/acl/authanon", b"a", AUTH_ALL)
    R_.create("alice", "/acl/readonly", b"ro", READ_ONLY)
    R_.create("su", "/acl/ip127", b"ip", IP_LOCAL)
    R_.create("su", "/acl/ip10", b"ip", IP_OTHER)
    R_.create("su", "/acl/empty", b"", [])
    R_.create("su", "/acl/nobody", b"", [(31, "world", "nobody")])
    R_.create("su", "/acl/unknownscheme", b"", [(31, "foo", "bar")])
    R_.create("su", "/acl/badip", b"", [(31, "ip", "1.2.3")])
    R_.create("su", "/acl/badip2", b"", [(31, "ip", "10.0.0.0/40")])
    R_.create("su", "/acl/digestnocolon", b"", [(31, "digest", "nocolon")])
    R_.create("su", "/acl/superacl", b"", [(31, "super", "")])
    R_.create("su", "/acl/perms0", b"", [(0, "world", "anyone")])
    R_.create("su", "/acl/perms99", b"", [(99, "world", "anyone")])
    R_.create("su", "/acl/dups", b"", [(31, "world", "anyone"), (31, "world", "anyone"),
                                        (1, "digest", BOB), (1, "digest", BOB)])
    R_.create("su", "/acl/multi", b"", [(1, "world", "anyone"), (2, "digest", BOB),
                                         (8, "ip", "127.0.0.1"), (4, "digest", ALICE)])
    R_.get_acl("anon", "/acl/dups")
    R_.get_acl("anon", "/acl/perms99")
    R_.get("anon", "/acl/perms0")
    R_.get_acl("anon", "/acl/perms0")
    R_.get_acl("anon", "/acl/multi")
    R_.get_acl("bob", "/acl/multi")
    R_.get_acl("alice", "/acl/authnode")
    for c in ("alice", "bob", "anon", "su"):
        R_.get(c, "/acl/alice")
    R_.exists("bob", "/acl/alice")
    R_.expect(R_.last_step, "3.8.4 (ZOOKEEPER-2590)",
              "exists needs READ permission on a node that exists", "no_auth")
    R_.children2("bob", "/acl/alice")
    R_.children("anon", "/acl/alice")
    R_.all_children("bob", "/acl/alice")
    for c in ("alice", "bob", "anon", "su"):
        R_.get_acl(c, "/acl/alice")
    for c in ("alice", "bob", "su"):
        R_.get_acl(c, "/acl/readable")
    R_.get("bob", "/acl/readable")
    R_.set("bob", "/acl/readable", b"hacked")
    R_.set("alice", "/acl/readable", b"r2")
    R_.create("bob", "/acl/readable/x")
    R_.create("alice", "/acl/readable/x")
    R_.delete("bob", "/acl/readable/x")
    R_.set_acl("bob", "/acl/readable", OPEN)
    R_.create("alice", "/acl/readonly/kid")
    R_.set("alice", "/acl/readonly", b"nope")
    R_.set_acl("alice", "/acl/readonly", OPEN)
    R_.get("anon", "/acl/ip127")
    R_.get("anon", "/acl/ip10")
    R_.get("su", "/acl/ip10")
    R_.set_acl("anon", "/acl/ip10", OPEN)
    R_.set("anon", "/acl/ip127", b"ip-write")
    R_.set("alice", "/acl/multi", b"x")
    R_.set("bob", "/acl/multi", b"x")
    R_.create("bob", "/acl/multi/k")
    R_.create("alice", "/acl/multi/k")
    R_.delete("alice", "/acl/multi/k")
    R_.delete("anon", "/acl/multi/k")
    R_.set_acl("alice", "/acl/alice", ALICE_PLUS_READ, 1)
    R_.set_acl("alice", "/acl/alice", ALICE_PLUS_READ, 0)
    R_.set_acl("alice", "/acl/alice", ALICE_ALL, 1)
    R_.set_acl("alice", "/acl/alice", [], -1)
    R_.set_acl("alice", "/acl/alice", [(31, "world", "nobody")], -1)
    R_.set_acl("alice", "/acl/alice", AUTH_ALL, -1)
    R_.set_acl("anon", "/acl/readonly", AUTH_ALL, -1)
    R_.set_acl("alice", "/acl/nope", OPEN, -1)
    R_.get_acl("alice", "/acl/alice")
    R_.set_acl("su", "/acl/ip10", READ_ONLY, -1)
    R_.get("anon", "/acl/ip10")
    R_.set("su", "/acl/alice", b"super-wrote")
    R_.get("alice", "/acl/alice")
    R_.auth("bob", "digest", b"alice:alicepw")
    R_.whoami("bob")
    R_.get("bob", "/acl/alice")
    R_.auth("anon", "digest", b"alice:wrongpw")
    R_.get("anon", "/acl/alice")
    R_.whoami("anon")
    R_.multi("bob", [("getData", "/acl/alice"), ("getData", "/d"),
                     ("getChildren", "/acl"), ("getChildren", "/nope"),
                     ("getData", "/acl/ip10")], read=True)
    R_.multi("anon", [("getData", "/acl/alice"), ("getChildren", "/acl/alice")], read=True)

    # ---- watch delivery and ACL filtering of events
    R_.add_watch("anon", "/acl", 1)
    R_.children("anon", "/acl", watch=True)
    R_.create("alice", "/acl/hidden", b"h", ALICE_ALL)
    R_.set("alice", "/acl/hidden", b"h2")
    R_.create("alice", "/acl/visible", b"v", OPEN)
    R_.set("alice", "/acl/visible", b"v2")
    R_.delete("alice", "/acl/hidden")
    R_.delete("alice", "/acl/visible")
    R_.remove_watches("anon", "/acl", 3)

    R_.create("su", "/w")
    R_.exists("su", "/w/a", watch=True)
    R_.exists("bob", "/w/a", watch=True)
    R_.check_watches("su", "/w/a", 2)
    R_.check_watches("su", "/w/a", 1)
    R_.check_watches("su", "/w/a", 3)
    R_.create("alice", "/w/a", b"1")
    R_.check_watches("su", "/w/a", 2)
    R_.get("su", "/w/a", watch=True)
    R_.get("bob", "/w/a", watch=True)
    R_.get("anon", "/w/nope", watch=True)
    R_.check_watches("anon", "/w/nope", 3)
    R_.set("alice", "/w/a", b"2")
    R_.set("alice", "/w/a", b"3")
    R_.children("su", "/w", watch=True)
    R_.children2("bob", "/w", watch=True)
    R_.create("alice", "/w/b", b"")
    R_.create("alice", "/w/c", b"")
    R_.get("su", "/w/b", watch=True)
    R_.children("su", "/w/b", watch=True)
    R_.children("su", "/w", watch=True)
    R_.delete("alice", "/w/b")
    R_.get("alice", "/w/c", watch=True)
    R_.set("alice", "/w/c", b"own")
    R_.exists("alice", "/w/c", watch=True)
    R_.delete("alice", "/w/c")
    R_.get("su", "/w/a", watch=True)
    R_.check_watches("su", "/w/a", 2)
    R_.remove_watches("su", "/w/a", 1)
    R_.remove_watches("su", "/w/a", 2)
    R_.remove_watches("su", "/w/a", 2)
    R_.check_watches("su", "/w/a", 3)
    R_.children("su", "/w", watch=True)
    R_.remove_watches("su", "/w", 3)
    R_.remove_watches("su", "/w", 1)
    R_.remove_watches("su", "/never", 3)
    R_.set("alice", "/w/a", b"4")
    R_.create("alice", "/w/d", b"")
    # checkWatches looks at the watch table of the path, not only this
    # connection's entry (Apache WatchManager.containsWatcher): another
    # session's watch makes it succeed; removeWatches is per connection.
    R_.exists("bob", "/cw", watch=True)
    R_.check_watches("anon", "/cw", 2)
    R_.check_watches("anon", "/cw", 1)
    R_.check_watches("anon", "/cw", 3)
    R_.remove_watches("anon", "/cw", 2)
    R_.check_watches("bob", "/cw", 2)
    R_.remove_watches("bob", "/cw", 2)
    R_.check_watches("anon", "/cw", 2)
    R_.check_watches("bob", "/cw", 2)
    R_.add_watch("anon", "/cwr", 1)
    R_.check_watches("anon", "/cwr", 1)
    R_.check_watches("anon", "/cwr/below", 3)
    R_.check_watches("bob", "/cwr", 2)
    R_.remove_watches("bob", "/cwr", 3)
    R_.remove_watches("anon", "/cwr/below", 3)
    R_.remove_watches("anon", "/cwr", 1)
    R_.check_watches("anon", "/cwr", 2)
    R_.remove_watches("anon", "/cwr", 2)
    R_.check_watches("anon", "/cwr", 3)

    # persistent watch
    R_.add_watch("bob", "/pw", 0)
    R_.check_watches("bob", "/pw", 3)
    R_.check_watches("bob", "/pw", 2)
    R_.check_watches("bob", "/pw", 1)
    R_.create("alice", "/pw", b"")
    R_.set("alice", "/pw", b"1")
    R_.create("alice", "/pw/c", b"")
    R_.set("alice", "/pw/c", b"1")
    R_.delete("alice", "/pw/c")
    R_.delete("alice", "/pw")
    R_.create("alice", "/pw", b"again")
    R_.get("bob", "/pw", watch=True)
    R_.set("alice", "/pw", b"2")
    R_.set("alice", "/pw", b"3")
    R_.remove_watches("bob", "/pw", 1)
    R_.create("alice", "/pw/c2", b"")
    R_.set("alice", "/pw", b"4")
    R_.remove_watches("bob", "/pw", 3)
    R_.set("alice", "/pw", b"5")
    R_.check_watches("bob", "/pw", 3)
    R_.add_watch("bob", "/pw", 7)

    # persistent recursive watch
    R_.add_watch("anon", "/rw", 1)
    R_.add_watch("su", "/rw/a", 0)
    R_.create("alice", "/rw", b"")
    R_.create("alice", "/rw/a", b"")
    R_.create("alice", "/rw/a/b", b"")
    R_.create("alice", "/rw/a/b/c", b"", flags=PERSISTENT_SEQ)
    R_.set("alice", "/rw/a/b", b"x")
    R_.set("alice", "/rw", b"x")
    R_.check_watches("anon", "/rw", 3)
    R_.check_watches("anon", "/rw", 1)
    R_.check_watches("anon", "/rw/a", 3)
    R_.delete("alice", "/rw/a/b/c0000000000")
    R_.delete("alice", "/rw/a/b")
    R_.remove_watches("anon", "/rw", 2)
    R_.set("alice", "/rw/a", b"y")
    R_.remove_watches("su", "/rw/a", 3)
    R_.set("alice", "/rw/a", b"z")

    # ---- multi
    # (/m2 is made by a plain `create` sub-op: how a create2 sub-op is reported
    # changed after 3.8.0; that is covered under /v38x below)
    R_.multi("alice", [("create", "/m1", b"x", OPEN, 0),
                       ("create", "/m2", b"", OPEN, 0),
                       ("createContainer", "/mct", b"", OPEN, CONTAINER),
                       ("createTTL", "/mttl", b"", OPEN, PERSISTENT_TTL, 3600000),
                       ("check", "/m1", 0),
                       ("setData", "/m1", b"y", 0),
                       ("create", "/m1/s-", b"", OPEN, PERSISTENT_SEQ),
                       ("delete", "/d2", -1)])
    v38x(run)
    R_.get("anon", "/m1")
    R_.children2("anon", "/m1")
    R_.exists("anon", "/mct")
    R_.exists("anon", "/mttl")
    R_.multi("alice", [("delete", "/m2", -1), ("check", "/m1", 7), ("create", "/m3", b"", OPEN, 0)])
    R_.exists("anon", "/m2")
    R_.multi("alice", [("create", "/m3", b"", OPEN, 0), ("create", "/m1", b"", OPEN, 0),
                       ("setData", "/m3", b"z", -1)])
    R_.multi("alice", [("check", "/nope", -1), ("create", "/m4", b"", OPEN, 0)])
    R_.multi("alice", [("create", "/m4", b"", OPEN, 0), ("create", "bad", b"", OPEN, 0)])
    R_.multi("alice", [("create", "/m4", b"", OPEN, 0), ("create", "/m5", b"", [], 0)])
    R_.multi("bob", [("setData", "/acl/readable", b"x", -1), ("create", "/m4", b"", OPEN, 0)])
    R_.multi("anon", [("check", "/acl/alice", -1)])
    R_.multi("alice", [("delete", "/m1", -1)])
    R_.multi("alice", [("setData", "/m1", b"q", 5)])
    R_.multi("alice", [])
    R_.multi("alice", [("create", "/m6", b"", OPEN, 0), ("getData", "/m1")])
    R_.multi("alice", [("create", "/m7", b"", OPEN, 0), ("exists", "/m1")])
    R_.multi("alice", [("create", "/m9", b"", OPEN, 0), ("create", "/m9/a", b"", OPEN, 0),
                       ("create", "/m9/a/b", b"", OPEN, 0), ("delete", "/m9/a/b", 0),
                       ("setData", "/m9/a", b"1", 0), ("setData", "/m9/a", b"2", 1)])
    R_.multi("eph", [("create", "/m9/e", b"", OPEN, EPHEMERAL),
                     ("create", "/m9/e/x", b"", OPEN, 0)])
    R_.multi("eph", [("create", "/m9/e", b"", OPEN, EPHEMERAL)])
    R_.children2("anon", "/m9")
    R_.get("su", "/m1", watch=True)
    R_.children("bob", "/m9", watch=True)
    R_.multi("alice", [("setData", "/m1", b"w", -1), ("create", "/m9/n", b"", OPEN, 0),
                       ("delete", "/m9/n", -1)])
    R_.multi("alice", [("setData", "/nope", b"", -1), ("check", "/m1", -1)])
    R_.multi("anon", [("getData", "/m1"), ("getChildren", "/m9"), ("getData", "/nope"),
                      ("getChildren", "/")], read=True)
    R_.multi("anon", [], read=True)
    R_.multi("anon", [("getData", "/m1"), ("setData", "/m1", b"", -1)], read=True)
    R_.req("anon", OP["multi"], W().int(1).bool(False).int(-1).bytes(),
           "anon multi truncated body", write=True)

    # ---- misc ops
    R_.sync("anon", "/")
    R_.sync("anon", "/m1")
    R_.sync("anon", "/nope")
    R_.req("alice", OP["reconfig"], W().ustr(None).ustr(None).ustr(None).long(-1).bytes(),
           "alice reconfig (standalone)", write=True)
    R_.req("anon", OP["getData"], b"\x00\x00", "anon getData truncated body")
    R_.req("alice", OP["create"], W().ustr("/trunc").bytes(), "alice create truncated body",
           write=True)
    R_.req("anon", OP["exists"], W().ustr("/d").bool(False).int(0).bytes(),
           "anon exists with trailing bytes")
    R_.all_children("anon", "/")
    R_.all_children("anon", "/m9")
    R_.tree("su", "mid-run")

    # ---- setWatches / setWatches2 (as after a reconnect)
    rel = run.last_zxid
    R_.set("alice", "/m1", b"after-rel")
    R_.create("alice", "/m9/after", b"")
    R_.delete("alice", "/m3")
    R_.connect("alice2", session_id=run.clients["alice"].session_id,
               passwd=run.clients["alice"].passwd,
               label="alice2 reconnect to alice's session", displace=["alice"])
    R_.set_watches("alice2", rel, ["/m1", "/m4", "/gone"], ["/m4", "/absent", "/m1"],
                   ["/", "/m9", "/gone2", "/w"])
    R_.check_watches("alice2", "/m4", 2)
    R_.check_watches("alice2", "/absent", 2)
    R_.check_watches("alice2", "/w", 1)
    R_.create("bob", "/absent", b"")
    R_.create("bob", "/w/e", b"")
    R_.auth("alice2", "digest", b"alice:alicepw")
    R_.get("alice2", "/acl/alice")
    R_.connect("victim")
    R_.create("victim", "/victim-eph", b"", flags=EPHEMERAL)
    R_.connect("bad", session_id=run.clients["victim"].session_id, passwd=b"\x01" * 16,
               label="bad connect to victim's session with wrong password",
               displace=["victim"])
    R_.exists("anon", "/victim-eph")
    R_.exists("anon", "/victim-eph", watch=True)
    # sessions whose connection the server closed are still alive: resume, close
    for t in ("victim", "t5", "t6", "t7", "t8"):
        R_.connect(t + "b", session_id=run.clients[t].session_id,
                   passwd=run.clients[t].passwd, label=f"{t}b resume {t}'s session")
        R_.whoami(t + "b")
        R_.close_session(t + "b")
    R_.connect("closedsess", session_id=run.clients["t1"].session_id,
               passwd=run.clients["t1"].passwd or b"",
               label="closedsess connect to a closed session")
    R_.ping("bob")
    R_.connect("sw2")
    R_.set_watches2("sw2", rel, ["/m1"], ["/nothere"], ["/m9"], ["/pw", "/pwmissing"],
                    ["/rw"], xid=5)
    R_.check_watches("sw2", "/pw", 3)
    R_.check_watches("sw2", "/rw", 3)
    R_.check_watches("sw2", "/pwmissing", 1)
    R_.set("alice2", "/pw", b"6")
    R_.create("alice2", "/pwmissing", b"")
    R_.create("alice2", "/rw/z", b"")
    R_.create("alice2", "/nothere", b"")
    R_.set_watches("sw2", 0, [], [], [], xid=6)
    R_.set_watches("sw2", 0, None, None, None, xid=7)

    # ---- session close: ephemerals go away, watchers see it
    R_.exists("su", "/eph1", watch=True)
    R_.children("bob", "/seq", watch=True)
    R_.add_watch("anon", "/seq", 1)
    R_.get("alice2", "/eph2", watch=True)
    R_.whoami("eph")
    R_.close_session("eph")
    R_.exists("anon", "/eph1")
    R_.children2("anon", "/seq")
    R_.ephemerals("su", "/")
    R_.delete("su", "/eph2")
    R_.ephemerals("su", "/")
    R_.all_children("anon", "/")

    # ---- deletions, NOTEMPTY
    R_.delete("su", "/m9")
    R_.delete("su", "/m9/a", 5)
    R_.delete("su", "/m9/a", 2)
    R_.delete("su", "/m9/a", 2)
    R_.delete("su", "/m9/after")
    R_.delete("su", "/m9")
    R_.children2("su", "/")
    R_.set_acl("su", "/acl/alice", OPEN, -1)
    R_.get_acl("bob", "/acl/alice")
    R_.ephemerals("alice2", None)
    R_.close_session("sw2")
    R_.close_session("bob")
    R_.close_session("bob")
    R_.whoami("anon")
    R_.tree("su", "final")
    R_.close_session("anon")
    R_.close_session("alice2")
    R_.close_session("su")


REQUIRED_OPS = {"create", "create2", "createContainer", "createTTL", "delete",
                "exists", "getData", "setData", "getACL", "setACL", "getChildren",
                "getChildren2", "getAllChildrenNumber", "getEphemerals", "sync",
                "multi", "multiRead", "addWatch", "removeWatches", "checkWatches",
                "setWatches", "setWatches2", "auth", "whoAmI", "ping", "closeSession"}


def record(host, port):
    """Run the script against one server; return the raw transcript."""
    run = Runner(host, port)
    try:
        script(run)
    finally:
        run.close_all()
    return {"steps": run.steps, "ops_sent": sorted(run.ops_sent)}


# ---------------------------------------------------------------- normalisation

ZXID_KEYS = {"zxid", "czxid", "mzxid", "pzxid"}
SESSION_KEYS = {"sessionId", "ephemeralOwner"}
TIME_SLACK_MS = 5.0


class Normalizer:
    def __init__(self, steps):
        self.zx = {}
        self.sess = {}
        self.windows = {}
        for st in steps:
            res = st.get("result") or {}
            z = res.get("zxid")
            if st.get("write") and isinstance(z, int) and z > 0:
                self.windows.setdefault(z, (st["t0"], st["t1"]))

    def zxid(self, v):
        if not isinstance(v, int) or v <= 0:
            return v
        if v not in self.zx:
            self.zx[v] = len(self.zx) + 1
        return f"Z{self.zx[v]}"

    def session(self, v):
        if not isinstance(v, int) or v == 0:
            return v
        if v not in self.sess:
            self.sess[v] = len(self.sess)
        return f"S{self.sess[v]}"

    def time(self, t, z):
        if z == 0 and t == 0:
            return 0
        tok = self.zxid(z)
        w = self.windows.get(z)
        if w is None:
            return f"T?({tok})"
        if w[0] - TIME_SLACK_MS <= t <= w[1] + TIME_SLACK_MS:
            return f"T({tok})"
        return f"T!outside({tok})"

    def stat(self, s):
        out = {}
        for k, v in s.items():
            if k in ZXID_KEYS:
                out[k] = self.zxid(v)
            elif k == "ctime":
                out[k] = self.time(v, s["czxid"])
            elif k == "mtime":
                out[k] = self.time(v, s["mzxid"])
            elif k in SESSION_KEYS:
                out[k] = self.session(v)
            else:
                out[k] = v
        return out

    def walk(self, v):
        if isinstance(v, list):
            return [self.walk(x) for x in v]
        if not isinstance(v, dict):
            return v
        if "czxid" in v and "ctime" in v:
            return self.stat(v)
        out = {}
        raw_sid = v.get("sessionId")
        for k, x in v.items():
            if k in ZXID_KEYS:
                out[k] = self.zxid(x)
            elif k in SESSION_KEYS:
                out[k] = self.session(x)
            elif k == "passwd":
                out[k] = self.passwd(x, raw_sid)
            else:
                out[k] = self.walk(x)
        return out

    @staticmethod
    def passwd(hexpw, sid):
        if hexpw is None:
            return None
        pw = bytes.fromhex(hexpw)
        if pw and pw == b"\0" * len(pw):
            return f"zeros({len(pw)})"
        if isinstance(sid, int) and sid and pw == java_password(sid):
            return "derived"
        return f"other({len(pw)})"


def normalize(transcript):
    steps = transcript["steps"] if isinstance(transcript, dict) else transcript
    n = Normalizer(steps)
    out = []
    for st in steps:
        result, events = n.walk(st.get("result")), n.walk(st.get("events"))
        if st.get("unordered_events"):
            key = lambda e: json.dumps(e, sort_keys=True)  # noqa: E731
            events = {c: sorted(evs, key=key) for c, evs in (events or {}).items()}
            if isinstance(result, dict) and result.get("events_before"):
                result["events_before"] = sorted(result["events_before"], key=key)
        n_st = {"step": st["step"], "name": st["name"], "client": st["client"],
                "result": result, "events": events}
        if st.get("fixed_in"):
            n_st["fixed_in"] = st["fixed_in"]
        out.append(n_st)
    return out


# ---------------------------------------------------------------- version-dependent steps
#
# Where Apache 3.8.0 has a bug that a later 3.8.x release fixed, zkswiftd
# follows the fixed behaviour. Such steps carry `fixed_in` (release and issue),
# `why`, and `expect`: the name of a function below plus its arguments. The
# function checks that Apache 3.8.0's recorded reply is what the 3.8.0 bug
# gives (otherwise the expectation yields an "expectation-failed" reply that
# matches nothing) and returns (result, events) as the fixed release answers.
# When zkswiftd is compared with Apache, the Apache transcript is replaced by
# `expected_transcript(...)`; Apache against Apache compares raw.

def fixed_release(st):
    """The release named by a step's annotation, e.g. "3.8.4 (ZOOKEEPER-2590)"."""
    return f"Apache ZooKeeper {st['fixed_in'].split()[0]}+ (checked against the release-3.8.6 sources)"


class ExpectationError(Exception):
    pass


def _need(cond, msg):
    if not cond:
        raise ExpectationError(msg)


def _exp_create_reports_stat(steps, st, args):
    """Create sub-ops reported by 3.8.0 as type 1 with the path only: the fixed
    release reports type 15 with the path and the node's Stat. The Stat is the
    one the read step right after the multi got (same request on both servers;
    the multi changes the node no further)."""
    res = copy.deepcopy(st["result"])
    results = (res.get("body") or {}).get("results")
    _need(res.get("err") == 0 and results, f"3.8.0 multi did not succeed: {res}")
    for i, k in args["subs"]:
        sub = results[i]
        _need(sub.get("type") == 1 and sub.get("err") == 0 and "stat" not in sub,
              f"sub-op {i}: 3.8.0 should report type 1, path only; got {sub}")
        src = steps[k]
        stat = (src["result"].get("body") or {}).get("stat")
        _need(k > st["step"] and repr(sub["path"]) in src["name"] and stat is not None
              and src["result"].get("err") == 0,
              f"step {k} is no successful read of {sub['path']!r}")
        _need(stat["czxid"] == stat["mzxid"] == stat["pzxid"] == res["zxid"],
              f"{sub['path']!r} changed after the multi: {stat}")
        results[i] = {"type": 15, "err": 0, "path": sub["path"], "stat": copy.deepcopy(stat)}
    return res, copy.deepcopy(st["events"])


def _exp_multi_rejected(steps, st, args):
    """3.8.0 answers a per-op error result (header err 0): the fixed release
    fails the whole multi with args["err"], header only. The request still
    consumes a zxid (PrepRequestProcessor sets the header before failing)."""
    res = st["result"]
    results = (res.get("body") or {}).get("results") or []
    _need(res.get("err") == 0 and any(r.get("err") == -8 for r in results),
          f"3.8.0 should answer a per-op BADARGUMENTS result; got {res}")
    out = {"xid": res["xid"], "zxid": res["zxid"], "err": args["err"]}
    if res.get("events_before"):
        out["events_before"] = copy.deepcopy(res["events_before"])
    return out, copy.deepcopy(st["events"])


def _exp_node_gone(steps, st, args):
    """A read or delete of a node the fixed release has already removed:
    NONODE (a failed delete still consumes its zxid), no body; watch events
    in args["drop_events"] already fired when the node was removed."""
    res = st["result"]
    _need(res.get("err") == 0, f"3.8.0 should find the node; got {res}")
    out = {"xid": res["xid"], "zxid": res["zxid"], "err": -101}
    if res.get("events_before"):
        out["events_before"] = copy.deepcopy(res["events_before"])
    events = copy.deepcopy(st["events"])
    for client, ev in args.get("drop_events", []):
        _need(ev in events.get(client, []), f"3.8.0 should deliver {ev} to {client}")
        events[client].remove(ev)
        if not events[client]:
            del events[client]
    return out, events


def _exp_reaped(steps, st, args):
    """The fixed release removes more nodes in this step: their watchers get
    the events in args["add_events"] as well."""
    events = copy.deepcopy(st["events"])
    for client, ev in args["add_events"]:
        _need(ev not in events.get(client, []), f"3.8.0 should not deliver {ev} to {client}")
        events.setdefault(client, []).append(ev)
    return copy.deepcopy(st["result"]), events


def _exp_no_auth(steps, st, args):
    """3.8.0 answers exists on a node the caller may not read: the fixed
    release (ZOOKEEPER-2590) answers NOAUTH, header only, same zxid."""
    res = st["result"]
    _need(res.get("err") == 0 and (res.get("body") or {}).get("stat"),
          f"3.8.0 should answer exists with a Stat; got {res}")
    out = {"xid": res["xid"], "zxid": res["zxid"], "err": -102}
    if res.get("events_before"):
        out["events_before"] = copy.deepcopy(res["events_before"])
    return out, copy.deepcopy(st["events"])


EXPECTATIONS = {
    "no_auth": (
        _exp_no_auth,
        lambda a: "NOAUTH (-102), no body, same zxid"),
    "create_reports_stat": (
        _exp_create_reports_stat,
        lambda a: "Apache 3.8.0's reply with sub-result(s) " +
        ", ".join(f"#{i} type 1 -> 15 + the Stat read in step {k}" for i, k in a["subs"])),
    "multi_rejected": (
        _exp_multi_rejected,
        lambda a: f"whole multi fails: header err {a['err']} ({ERR.get(a['err'])}), "
                  "no results; same zxid"),
    "node_gone": (
        _exp_node_gone,
        lambda a: "NONODE (-101), no body, same zxid" +
        (f"; without the events {a['drop_events']}" if a.get("drop_events") else "")),
    "reaped": (
        _exp_reaped,
        lambda a: f"Apache 3.8.0's reply, plus the events {a['add_events']}"),
}


def describe_expectation(st):
    exp = st["expect"]
    return EXPECTATIONS[exp["kind"]][1](exp)


def annotated_steps(transcript):
    steps = transcript["steps"] if isinstance(transcript, dict) else transcript
    return [st for st in steps if st.get("fixed_in")]


def expected_transcript(transcript):
    """Copy of an Apache 3.8.0 transcript in which each annotated step's reply
    and events are what the fixed release returns. The 3.8.0 originals are
    kept as "apache_3_8_0" in the step."""
    steps = transcript["steps"]
    out = copy.deepcopy(transcript)
    for st in out["steps"]:
        exp = st.get("expect")
        if not exp:
            continue
        try:
            result, events = EXPECTATIONS[exp["kind"]][0](steps, steps[st["step"]], exp)
        except (ExpectationError, KeyError, IndexError, TypeError) as e:
            result = {"expectation-failed": f"{type(e).__name__}: {e}"}
            events = copy.deepcopy(st["events"])
        st["apache_3_8_0"] = {"result": st["result"], "events": st["events"]}
        st["result"], st["events"] = result, events
        st["expected_from"] = "apache-3.8.0 + expectation"
    return out


def comparable(ta, kind_a, tb, kind_b):
    """The two transcripts as compared: an Apache transcript compared with a
    non-Apache server gets the annotated expectations applied (the other
    server follows the fixed release there); Apache against Apache is raw."""
    if kind_a == "apache" and kind_b != "apache":
        ta = expected_transcript(ta)
    if kind_b == "apache" and kind_a != "apache":
        tb = expected_transcript(tb)
    return ta, tb


def format_fixed(transcript, diffs, label_a, label_b, applied):
    """One paragraph per annotated step: what changed, what was expected,
    and whether the other server follows the fixed behaviour."""
    bad = set(diff_steps(diffs))
    other = label_b if label_a == "apache" else label_a
    lines = []
    for st in annotated_steps(transcript):
        lines.append(f"step {st['step']} [{st['name']}]\n"
                     f"    fixed in {st['fixed_in']}: {st['why']}")
        if not applied:
            lines.append("    compared raw (Apache against Apache): "
                         + ("same" if st["step"] not in bad else "DIFFERENT"))
            continue
        lines.append(f"    expected: {describe_expectation(st)}")
        if st["step"] in bad:
            lines.append(f"    {other} DIFFERS from the fixed behaviour of {fixed_release(st)}")
        else:
            lines.append(f"    {other} follows the fixed behaviour of {fixed_release(st)}")
    return "\n".join(lines)


# ---------------------------------------------------------------- comparison

def _diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a.keys()) + [k for k in b.keys() if k not in a]:
            _diff(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}" if path else k, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append((path, a, b))


def compare(norm_a, norm_b):
    """Every difference as (step, step name, field path, value A, value B)."""
    diffs = []
    for i in range(max(len(norm_a), len(norm_b))):
        if i >= len(norm_a) or i >= len(norm_b):
            sa = norm_a[i] if i < len(norm_a) else "<missing>"
            sb = norm_b[i] if i < len(norm_b) else "<missing>"
            diffs.append((i, (sa if sa != "<missing>" else sb)["name"], "<step>", sa, sb))
            continue
        a, b = norm_a[i], norm_b[i]
        if a["name"] != b["name"]:
            diffs.append((i, a["name"], "name", a["name"], b["name"]))
            continue
        out = []
        _diff({"result": a["result"], "events": a["events"]},
              {"result": b["result"], "events": b["events"]}, "", out)
        for p, x, y in out:
            diffs.append((i, a["name"], p, x, y))
    return diffs


def format_diffs(diffs, label_a="A", label_b="B", limit=200):
    lines = []
    for step, name, path, x, y in diffs[:limit]:
        lines.append(f"step {step} [{name}] {path}:\n    {label_a}: {json.dumps(x, ensure_ascii=False)[:600]}"
                     f"\n    {label_b}: {json.dumps(y, ensure_ascii=False)[:600]}")
    if len(diffs) > limit:
        lines.append(f"... and {len(diffs) - limit} more differences")
    return "\n".join(lines)


def diff_steps(diffs):
    return sorted({d[0] for d in diffs})


# ---------------------------------------------------------------- driving servers

def record_server(kind, after=None):
    """Start a fresh standalone server of `kind`, run the script, call
    `after(srv)` if given while the server still runs, stop it."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import servers
    srv = servers.make_server(kind, cfg=dict(SERVER_CFG), props=dict(SERVER_PROPS))
    try:
        srv.start()
        transcript = record(srv.host, srv.port)
        if after:
            after(srv)
        return transcript
    finally:
        srv.cleanup()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", default="apache")
    ap.add_argument("--b", default=os.environ.get("ZK_DIFF_B", "zkswiftd"))
    ap.add_argument("--out", help="directory to write raw and normalised transcripts to")
    args = ap.parse_args(argv)
    t = time.time()
    ta = record_server(args.a)
    tb = record_server(args.b)
    ca, cb = comparable(ta, args.a, tb, args.b)
    applied = ca is not ta or cb is not tb
    na, nb = normalize(ca), normalize(cb)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        files = [("a.raw", ta), ("b.raw", tb), ("a.norm", na), ("b.norm", nb)]
        if ca is not ta:
            files.append(("a.expected", ca))
        if cb is not tb:
            files.append(("b.expected", cb))
        for name, obj in files:
            with open(os.path.join(args.out, name + ".json"), "w") as f:
                json.dump(obj, f, indent=1, ensure_ascii=False)
    diffs = compare(na, nb)
    fixed = annotated_steps(ca)
    print(f"{len(na)} steps ({args.a}) vs {len(nb)} steps ({args.b}), "
          f"{len(diffs)} differences, {time.time() - t:.1f}s")
    print(f"{len(fixed)} version-dependent steps (Apache 3.8.0 bug fixed in a later 3.8.x), "
          + ("compared with the fixed release's behaviour, derived from Apache 3.8.0's reply:"
             if applied else "compared raw:"))
    print(format_fixed(ca, diffs, args.a, args.b, applied))
    if diffs:
        print(format_diffs(diffs, args.a, args.b))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
