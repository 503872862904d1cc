"""A tiny raw-socket ZooKeeper client for the compatibility tests.

It speaks just enough of the jute wire protocol (wire-protocol.md sections
1-12) to send requests kazoo cannot send (addWatch, checkWatches,
removeWatches, whoAmI, getEphemerals, getAllChildrenNumber, multiRead,
createContainer, createTTL, top-level check) and to send deliberately broken
input. It is synchronous: `request()` writes one frame and reads frames until
the reply for that xid arrives; watch notifications (xid -1) seen on the way
are appended to `self.events` as (type, state, path) tuples.
"""
import collections
import socket
import struct
import time

# Opcodes (wire-protocol.md section 10)
OP_NOTIFICATION = 0
OP_CREATE = 1
OP_DELETE = 2
OP_EXISTS = 3
OP_GETDATA = 4
OP_SETDATA = 5
OP_GETACL = 6
OP_SETACL = 7
OP_GETCHILDREN = 8
OP_SYNC = 9
OP_PING = 11
OP_GETCHILDREN2 = 12
OP_CHECK = 13
OP_MULTI = 14
OP_CREATE2 = 15
OP_RECONFIG = 16
OP_CHECKWATCHES = 17
OP_REMOVEWATCHES = 18
OP_CREATECONTAINER = 19
OP_DELETECONTAINER = 20
OP_CREATETTL = 21
OP_MULTIREAD = 22
OP_AUTH = 100
OP_SETWATCHES = 101
OP_SASL = 102
OP_GETEPHEMERALS = 103
OP_GETALLCHILDRENNUMBER = 104
OP_SETWATCHES2 = 105
OP_ADDWATCH = 106
OP_WHOAMI = 107
OP_CLOSE = -11

# Error codes (section 7)
OK = 0
RUNTIMEINCONSISTENCY = -2
MARSHALLINGERROR = -5
UNIMPLEMENTED = -6
BADARGUMENTS = -8
NONODE = -101
NOAUTH = -102
BADVERSION = -103
NOCHILDRENFOREPHEMERALS = -108
NODEEXISTS = -110
NOTEMPTY = -111
SESSIONEXPIRED = -112
INVALIDACL = -114
AUTHFAILED = -115
NOWATCHER = -121

# Event types (section 9.1)
EV_CREATED = 1
EV_DELETED = 2
EV_DATA_CHANGED = 3
EV_CHILDREN_CHANGED = 4
STATE_SYNC_CONNECTED = 3

# Create flags (section 8.1)
PERSISTENT = 0
EPHEMERAL = 1
PERSISTENT_SEQUENTIAL = 2
EPHEMERAL_SEQUENTIAL = 3
CONTAINER = 4
PERSISTENT_WITH_TTL = 5
PERSISTENT_SEQUENTIAL_WITH_TTL = 6

# addWatch modes / watcher types (section 9.6)
ADDWATCH_PERSISTENT = 0
ADDWATCH_PERSISTENT_RECURSIVE = 1
WATCHER_CHILDREN = 1
WATCHER_DATA = 2
WATCHER_ANY = 3

PERM_READ, PERM_WRITE, PERM_CREATE, PERM_DELETE, PERM_ADMIN = 1, 2, 4, 8, 16
PERM_ALL = 31
OPEN_ACL = [(PERM_ALL, "world", "anyone")]

NOTIFICATION_XID = -1
PING_XID = -2
AUTH_XID = -4
SET_WATCHES_XID = -8

Stat = collections.namedtuple(
    "Stat", "czxid mzxid ctime mtime version cversion aversion "
            "ephemeralOwner dataLength numChildren pzxid")
STAT_STRUCT = struct.Struct(">qqqqiiiqiiq")
ConnectResponse = collections.namedtuple(
    "ConnectResponse", "protocol_version timeout session_id passwd read_only length")
Reply = collections.namedtuple("Reply", "xid zxid err body")


class ServerClosed(Exception):
    """The server closed the connection."""


# ---------------------------------------------------------------- jute writer
class W:
    def __init__(self):
        self.b = bytearray()

    def int(self, v):
        self.b += struct.pack(">i", v)
        return self

    def long(self, v):
        self.b += struct.pack(">q", v)
        return self

    def bool(self, v):
        self.b += b"\x01" if v else b"\x00"
        return self

    def ustring(self, s):
        if s is None:
            return self.int(-1)
        # surrogatepass: lone surrogates go out as 3-byte sequences, like Java writes them
        raw = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else bytes(s)
        self.int(len(raw))
        self.b += raw
        return self

    def buffer(self, data):
        if data is None:
            return self.int(-1)
        self.int(len(data))
        self.b += data
        return self

    def acl_vector(self, acls):
        if acls is None:
            return self.int(-1)
        self.int(len(acls))
        for perms, scheme, ident in acls:
            self.int(perms).ustring(scheme).ustring(ident)
        return self

    def string_vector(self, items):
        if items is None:
            return self.int(-1)
        self.int(len(items))
        for s in items:
            self.ustring(s)
        return self

    def raw(self, data):
        self.b += data
        return self

    def bytes(self):
        return bytes(self.b)


# ---------------------------------------------------------------- jute reader
class R:
    def __init__(self, data, off=0):
        self.d = data
        self.o = off

    def _take(self, n):
        if self.o + n > len(self.d):
            raise ValueError(f"short record: need {n} at {self.o}, have {len(self.d)}")
        v = self.d[self.o:self.o + n]
        self.o += n
        return v

    def int(self):
        return struct.unpack(">i", self._take(4))[0]

    def long(self):
        return struct.unpack(">q", self._take(8))[0]

    def bool(self):
        return self._take(1) != b"\x00"

    def buffer(self):
        n = self.int()
        return None if n < 0 else bytes(self._take(n))

    def ustring(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8", errors="replace")

    def stat(self):
        return Stat._make(STAT_STRUCT.unpack(self._take(STAT_STRUCT.size)))

    def string_vector(self):
        n = self.int()
        return None if n < 0 else [self.ustring() for _ in range(n)]

    def acl_vector(self):
        n = self.int()
        out = []
        for _ in range(max(n, 0)):
            perms = self.int()
            out.append((perms, self.ustring(), self.ustring()))
        return out

    def remaining(self):
        return len(self.d) - self.o


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def connect_request(timeout=30000, session_id=0, passwd=b"\0" * 16, last_zxid=0,
                    read_only=False, old_client=False, protocol_version=0):
    w = W().int(protocol_version).long(last_zxid).int(timeout).long(session_id).buffer(passwd)
    if not old_client:
        w.bool(read_only)
    return w.bytes()


# ---------------------------------------------------------------- the client
class RawZK:
    def __init__(self, host, port, sock_timeout=10.0):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=sock_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.events = []
        self.xid = 0
        self.session_id = 0
        self.passwd = None
        self.timeout = None
        self.last_zxid = 0

    @classmethod
    def session(cls, host, port, timeout=30000, **kw):
        """Open a connection and establish a new session."""
        c = cls(host, port)
        resp = c.connect(timeout=timeout, **kw)
        if resp is None or resp.timeout <= 0:
            c.close()
            raise ServerClosed(f"session not established: {resp}")
        return c

    # -- low level
    def send(self, data):
        self.sock.sendall(data)

    def send_frame(self, payload):
        self.send(frame(payload))

    def _recv_exact(self, n, deadline):
        while len(self.buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("timed out waiting for server data")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ServerClosed(f"connection closed by server ({len(self.buf)} bytes pending)")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        n = struct.unpack(">i", self._recv_exact(4, deadline))[0]
        return self._recv_exact(n, deadline)

    def wait_closed(self, timeout=5.0):
        """True if the server closes the connection within `timeout`
        (frames arriving meanwhile are collected into self.extra_frames)."""
        deadline = time.monotonic() + timeout
        self.extra_frames = []
        try:
            while True:
                self.extra_frames.append(self.recv_frame(max(deadline - time.monotonic(), 0.001)))
        except ServerClosed:
            return True
        except (socket.timeout, TimeoutError):
            return False
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- handshake
    def connect(self, timeout=30000, session_id=0, passwd=b"\0" * 16, last_zxid=0,
                read_only=False, old_client=False, recv_timeout=10.0):
        self.send_frame(connect_request(timeout, session_id, passwd, last_zxid, read_only, old_client))
        data = self.recv_frame(recv_timeout)
        r = R(data)
        proto, to, sid, pw = r.int(), r.int(), r.long(), r.buffer()
        ro = r.bool() if r.remaining() else None
        resp = ConnectResponse(proto, to, sid, pw, ro, len(data))
        if to > 0:
            self.session_id, self.passwd, self.timeout = sid, pw, to
        return resp

    # -- requests
    def next_xid(self):
        self.xid += 1
        return self.xid

    def send_request(self, op, body=b"", xid=None):
        xid = self.next_xid() if xid is None else xid
        self.send_frame(W().int(xid).int(op).bytes() + body)
        return xid

    def read_reply(self, xid, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            data = self.recv_frame(max(deadline - time.monotonic(), 0.001))
            r = R(data)
            rxid, zxid, err = r.int(), r.long(), r.int()
            if rxid == NOTIFICATION_XID:
                self.events.append((r.int(), r.int(), r.ustring()))
                continue
            if zxid > 0:
                self.last_zxid = max(self.last_zxid, zxid)
            if rxid != xid:
                raise AssertionError(f"reply for xid {rxid}, expected {xid}")
            return Reply(rxid, zxid, err, data[16:])

    def request(self, op, body=b"", xid=None, timeout=5.0):
        xid = self.send_request(op, body, xid)
        return self.read_reply(xid, timeout)

    def ping(self):
        return self.request(OP_PING, xid=PING_XID)

    def wait_events(self, n, timeout=5.0):
        """Read until at least n notifications are in self.events."""
        deadline = time.monotonic() + timeout
        while len(self.events) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                data = self.recv_frame(remaining)
            except (socket.timeout, TimeoutError):
                break
            r = R(data)
            rxid, _, _ = r.int(), r.long(), r.int()
            if rxid == NOTIFICATION_XID:
                self.events.append((r.int(), r.int(), r.ustring()))
        return list(self.events)

    def no_more_events(self, wait=0.3):
        """Ping and give the server `wait` seconds; True if no event arrived."""
        before = len(self.events)
        time.sleep(wait)
        self.ping()
        return len(self.events) == before

    # -- typed operations; each returns (err, decoded result or None)
    def create(self, path, data=b"", acl=OPEN_ACL, flags=PERSISTENT, op=OP_CREATE, ttl=None):
        w = W().ustring(path).buffer(data).acl_vector(acl).int(flags)
        if ttl is not None:
            w.long(ttl)
        rep = self.request(op, w.bytes())
        if rep.err:
            return rep.err, None
        r = R(rep.body)
        p = r.ustring()
        if op == OP_CREATE:
            return 0, p
        return 0, (p, r.stat())

    def create_container(self, path, data=b"", acl=OPEN_ACL, flags=CONTAINER):
        return self.create(path, data, acl, flags, op=OP_CREATECONTAINER)

    def create_ttl(self, path, ttl, data=b"", acl=OPEN_ACL, flags=PERSISTENT_WITH_TTL):
        return self.create(path, data, acl, flags, op=OP_CREATETTL, ttl=ttl)

    def delete(self, path, version=-1):
        return self.request(OP_DELETE, W().ustring(path).int(version).bytes()).err, None

    def exists(self, path, watch=False):
        rep = self.request(OP_EXISTS, W().ustring(path).bool(watch).bytes())
        return rep.err, (None if rep.err else R(rep.body).stat())

    def get_data(self, path, watch=False):
        rep = self.request(OP_GETDATA, W().ustring(path).bool(watch).bytes())
        if rep.err:
            return rep.err, None
        r = R(rep.body)
        return 0, (r.buffer(), r.stat())

    def set_data(self, path, data, version=-1):
        rep = self.request(OP_SETDATA, W().ustring(path).buffer(data).int(version).bytes())
        return rep.err, (None if rep.err else R(rep.body).stat())

    def get_children(self, path, watch=False):
        rep = self.request(OP_GETCHILDREN, W().ustring(path).bool(watch).bytes())
        return rep.err, (None if rep.err else R(rep.body).string_vector())

    def set_acl(self, path, acl, version=-1):
        rep = self.request(OP_SETACL, W().ustring(path).acl_vector(acl).int(version).bytes())
        return rep.err, (None if rep.err else R(rep.body).stat())

    def get_acl(self, path):
        rep = self.request(OP_GETACL, W().ustring(path).bytes())
        if rep.err:
            return rep.err, None
        r = R(rep.body)
        return 0, (r.acl_vector(), r.stat())

    def sync(self, path):
        rep = self.request(OP_SYNC, W().ustring(path).bytes())
        return rep.err, (None if rep.err else R(rep.body).ustring())

    def add_watch(self, path, mode):
        rep = self.request(OP_ADDWATCH, W().ustring(path).int(mode).bytes())
        return rep.err, rep.body

    def check_watches(self, path, wtype):
        return self.request(OP_CHECKWATCHES, W().ustring(path).int(wtype).bytes()).err, None

    def remove_watches(self, path, wtype):
        return self.request(OP_REMOVEWATCHES, W().ustring(path).int(wtype).bytes()).err, None

    def who_am_i(self):
        rep = self.request(OP_WHOAMI)
        if rep.err:
            return rep.err, None
        r = R(rep.body)
        n = r.int()
        return 0, [(r.ustring(), r.ustring()) for _ in range(max(n, 0))]

    def get_ephemerals(self, prefix):
        rep = self.request(OP_GETEPHEMERALS, W().ustring(prefix).bytes())
        return rep.err, (None if rep.err else R(rep.body).string_vector())

    def get_all_children_number(self, path):
        rep = self.request(OP_GETALLCHILDRENNUMBER, W().ustring(path).bytes())
        return rep.err, (None if rep.err else R(rep.body).int())

    def auth(self, scheme, credential):
        body = W().int(0).ustring(scheme).buffer(credential.encode() if isinstance(credential, str) else credential)
        return self.request(OP_AUTH, body.bytes(), xid=AUTH_XID)

    def set_watches(self, rel_zxid, data=(), exist=(), child=(), persistent=None, recursive=None):
        w = W().long(rel_zxid).string_vector(list(data)).string_vector(list(exist)).string_vector(list(child))
        op = OP_SETWATCHES
        if persistent is not None or recursive is not None:
            op = OP_SETWATCHES2
            w.string_vector(list(persistent or [])).string_vector(list(recursive or []))
        return self.request(op, w.bytes(), xid=SET_WATCHES_XID)

    def close_session(self):
        rep = self.request(OP_CLOSE)
        return rep

    # -- multi / multiRead
    @staticmethod
    def encode_multi(ops):
        """ops: list of (opcode, body bytes)."""
        w = W()
        for op, body in ops:
            w.int(op).bool(False).int(-1).raw(body)
        w.int(-1).bool(True).int(-1)
        return w.bytes()

    @staticmethod
    def decode_multi(body):
        """Returns a list of (type, err, decoded record)."""
        r = R(body)
        out = []
        while True:
            t, done, err = r.int(), r.bool(), r.int()
            if done:
                assert t == -1 and err == -1, (t, done, err)
                break
            if t == -1:
                out.append((t, err, r.int()))
            elif t == OP_CREATE:
                out.append((t, err, r.ustring()))
            elif t in (OP_CREATE2, OP_CREATECONTAINER, OP_CREATETTL):
                out.append((t, err, (r.ustring(), r.stat())))
            elif t in (OP_DELETE, OP_CHECK):
                out.append((t, err, None))
            elif t == OP_SETDATA:
                out.append((t, err, r.stat()))
            elif t == OP_GETDATA:
                out.append((t, err, (r.buffer(), r.stat())))
            elif t == OP_GETCHILDREN:
                out.append((t, err, r.string_vector()))
            else:
                raise AssertionError(f"unexpected multi result type {t}")
        assert r.remaining() == 0, f"{r.remaining()} trailing bytes after multi"
        return out

    def multi(self, ops, op=OP_MULTI):
        rep = self.request(op, self.encode_multi(ops))
        if rep.err:
            return rep, None
        return rep, self.decode_multi(rep.body)

    def multi_read(self, ops):
        return self.multi(ops, op=OP_MULTIREAD)


# Bodies for multi sub-ops
def create_body(path, data=b"", acl=OPEN_ACL, flags=PERSISTENT, ttl=None):
    w = W().ustring(path).buffer(data).acl_vector(acl).int(flags)
    if ttl is not None:
        w.long(ttl)
    return w.bytes()


def delete_body(path, version=-1):
    return W().ustring(path).int(version).bytes()


def setdata_body(path, data, version=-1):
    return W().ustring(path).buffer(data).int(version).bytes()


def check_body(path, version):
    return W().ustring(path).int(version).bytes()


def path_watch_body(path, watch=False):
    return W().ustring(path).bool(watch).bytes()


# ----------------------------------------------------------- password (5.2)
def derive_password(session_id):
    """java.util.Random(sessionId ^ superSecret).nextBytes(16)."""
    mask = (1 << 48) - 1
    seed = (session_id ^ 0xB3415C00) & 0xFFFFFFFFFFFFFFFF
    state = (seed ^ 0x5DEECE66D) & mask
    out = bytearray()
    for _ in range(4):
        state = (state * 0x5DEECE66D + 0xB) & mask
        r = state >> 16
        out += (r & 0xFFFFFFFF).to_bytes(4, "little")
    return bytes(out)


def wait_for(pred, timeout=10.0, interval=0.05):
    """Poll pred() until truthy or timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)
