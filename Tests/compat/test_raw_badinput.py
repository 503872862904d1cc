"""Malformed and hostile input on the client port (wire-protocol.md sections
1, 4, 8.2, 10, 12.1). Expected answers are what Apache ZooKeeper 3.8 gives.
After each case the server must still serve other clients."""
import struct

import pytest

import rawzk
import servers
from rawzk import BADARGUMENTS, MARSHALLINGERROR, NONODE, OK, UNIMPLEMENTED, W

MAXBUFFER = 0xFFFFF


@pytest.fixture
def alive(server, zk, base):
    """Returns a checker: the server answers 4lw and serves a fresh session
    as well as the already connected kazoo client."""
    def check(srv=None):
        srv = srv or server
        assert servers.four_letter(srv.port, "ruok") == "imok"
        c = rawzk.RawZK.session(srv.host, srv.port)
        try:
            err, _ = c.create("/alive-check", b"", flags=rawzk.EPHEMERAL)
            assert err == OK
            assert c.get_data("/alive-check")[1][0] == b""
            assert c.delete("/alive-check")[0] == OK
        finally:
            c.close()
        if srv is server:
            assert zk.exists(base) is not None
    return check


# ------------------------------------------------------------------ framing
@pytest.mark.parametrize("length", [MAXBUFFER + 1, 0x7FFFFFFF, -1, -100])
def test_bad_frame_length_after_handshake_closes(raw, alive, length):
    raw.send(struct.pack(">i", length) + b"\x00" * 16)
    assert raw.wait_closed(5.0)
    assert raw.extra_frames == []
    alive()


def test_frame_at_maxbuffer_is_accepted(raw, alive, base):
    hdr = W().int(1).int(rawzk.OP_CREATE).bytes()
    fixed = len(hdr) + len(rawzk.create_body(base + "/big", b""))
    body = rawzk.create_body(base + "/big", b"x" * (MAXBUFFER - fixed))
    assert len(hdr) + len(body) == MAXBUFFER
    raw.send_frame(hdr + body)
    rep = raw.read_reply(1)
    assert rep.err == OK
    assert raw.exists(base + "/big")[1].dataLength == MAXBUFFER - fixed
    alive()


@pytest.mark.parametrize("first", [b"abcd", struct.pack(">i", MAXBUFFER + 1), struct.pack(">i", -5)])
def test_bad_first_frame_closes_without_output(server, alive, first):
    c = rawzk.RawZK(server.host, server.port)
    try:
        c.send(first)
        assert c.wait_closed(5.0) and c.extra_frames == []
    finally:
        c.close()
    alive()


@pytest.mark.parametrize("payload", [b"", b"\x00" * 4, b"\x00" * 10])
def test_short_connect_request_closes(server, alive, payload):
    c = rawzk.RawZK(server.host, server.port)
    try:
        c.send_frame(payload)
        assert c.wait_closed(5.0) and c.extra_frames == []
    finally:
        c.close()
    alive()


@pytest.mark.parametrize("passwd,extra", [(None, b""), (b"abc", b""), (b"\0" * 16, b"\x00trailing")])
def test_lenient_connect_requests_are_accepted(raw_factory, passwd, extra):
    """New sessions ignore the password; bytes after readOnly are ignored."""
    c = raw_factory(session=False)
    body = W().int(0).long(0).int(30000).long(0).buffer(passwd).bytes() + extra
    c.send_frame(body)
    r = rawzk.R(c.recv_frame())
    assert r.int() == 0 and r.int() == 30000
    sid = r.long()
    assert sid != 0 and r.buffer() == rawzk.derive_password(sid)
    assert c.ping().err == OK


@pytest.mark.parametrize("payload", [b"", struct.pack(">i", 7)])
def test_truncated_request_header_closes(raw, alive, payload):
    raw.send_frame(payload)
    assert raw.wait_closed(5.0) and raw.extra_frames == []
    alive()


# ------------------------------------------------------------------ garbled records
GARBLED = [
    ("create, no data/acl/flags", rawzk.OP_CREATE, W().ustring("/g").bytes()),
    ("create, path length past end", rawzk.OP_CREATE, W().int(100).raw(b"/g").bytes()),
    ("create, huge acl count", rawzk.OP_CREATE, W().ustring("/g").buffer(b"").int(0x7FFFFFFF).bytes()),
    ("create, string length -2", rawzk.OP_CREATE, W().int(-2).bytes()),
    ("setData, data length past end", rawzk.OP_SETDATA, W().ustring("/g").int(50).bytes()),
    ("getData, path length past end", rawzk.OP_GETDATA, W().int(100).raw(b"/g").bytes()),
    ("getData, empty body", rawzk.OP_GETDATA, b""),
    ("exists, empty body", rawzk.OP_EXISTS, b""),
    ("sync, empty body", rawzk.OP_SYNC, b""),
    ("multi, truncated sub-op", rawzk.OP_MULTI, W().int(1).bool(False).int(-1).ustring("/g").bytes()),
    ("multi, empty body", rawzk.OP_MULTI, b""),
    ("multiRead, truncated header", rawzk.OP_MULTIREAD, W().int(4).bool(False).bytes()),
    ("addWatch, no mode", rawzk.OP_ADDWATCH, W().ustring("/g").bytes()),
    ("setWatches, truncated", rawzk.OP_SETWATCHES, W().long(0).bytes()),
]


@pytest.mark.parametrize("name,op,body", GARBLED, ids=[g[0] for g in GARBLED])
def test_garbled_record_is_marshalling_error(raw, alive, name, op, body):
    raw.send_request(op, body, xid=5)
    rep = raw.read_reply(5)
    assert (rep.xid, rep.err, rep.body) == (5, MARSHALLINGERROR, b"")
    assert raw.ping().err == OK  # the connection stays usable
    assert raw.exists("/g")[0] == NONODE
    alive()


def test_trailing_bytes_after_record_are_ignored(raw):
    raw.send_request(rawzk.OP_GETCHILDREN, W().ustring("/").bool(False).raw(b"junkjunk").bytes(), xid=5)
    rep = raw.read_reply(5)
    assert rep.err == OK and "zookeeper" in rawzk.R(rep.body).string_vector()


def test_truncated_auth_packet_closes(raw, alive):
    raw.send_request(rawzk.OP_AUTH, W().int(0).bytes(), xid=rawzk.AUTH_XID)
    assert raw.wait_closed(5.0) and raw.extra_frames == []
    alive()


def test_unknown_auth_scheme_fails_and_closes(raw, alive):
    rep = raw.auth("nosuchscheme", b"x")
    assert (rep.xid, rep.zxid, rep.err, rep.body) == (rawzk.AUTH_XID, 0, rawzk.AUTHFAILED, b"")
    assert raw.wait_closed(5.0) and raw.extra_frames == []
    alive()


def test_digest_auth_is_never_rejected(raw):
    rep = raw.auth("digest", b"no-colon-at-all")
    assert (rep.xid, rep.zxid, rep.err) == (rawzk.AUTH_XID, 0, OK)
    assert raw.ping().err == OK


# ------------------------------------------------------------------ opcodes
@pytest.mark.parametrize("op", [10, 200, 999, 0, -1])
def test_unknown_opcode_unimplemented_then_close(raw, alive, op):
    raw.send_request(op, W().ustring("/").bytes(), xid=5)
    data = raw.recv_frame()
    assert data == struct.pack(">iqi", 5, -1, UNIMPLEMENTED)
    assert raw.wait_closed(5.0) and raw.extra_frames == []
    alive()


@pytest.mark.zkswiftd_only("3.8.5+ (ZOOKEEPER-2623) rejects a top-level check like an unknown "
                           "opcode; 3.8.0 logs a CheckVersionTxn and never replies (section 10.5)")
def test_top_level_check_is_unimplemented(raw, alive, base):
    raw.send_request(rawzk.OP_CHECK, rawzk.check_body(base, 0), xid=5)
    data = raw.recv_frame()
    assert data == struct.pack(">iqi", 5, -1, UNIMPLEMENTED)
    assert raw.wait_closed(5.0) and raw.extra_frames == []
    alive()


def test_reconfig_disabled(raw, alive):
    body = W().ustring(None).ustring(None).ustring("server.1=127.0.0.1:2888:3888").long(-1).bytes()
    rep = raw.request(rawzk.OP_RECONFIG, body)
    assert rep.err == -123 and rep.body == b""  # RECONFIGDISABLED
    assert raw.ping().err == OK


def test_client_sent_internal_opcodes(raw, alive, base):
    """createSession (-10) and deleteContainer (20) are server-internal; a
    client sending them gets an error reply and keeps its connection."""
    raw.create(base + "/c", op=rawzk.OP_CREATECONTAINER)
    rep = raw.request(-10, b"")
    assert rep.err == MARSHALLINGERROR and rep.body == b""
    for body in [(base + "/c").encode(), rawzk.W().ustring(base + "/c").bytes(), b"/nope"]:
        rep = raw.request(rawzk.OP_DELETECONTAINER, body)
        assert rep.err == BADARGUMENTS and rep.body == b""
    assert raw.exists(base + "/c")[0] == OK
    assert raw.ping().err == OK
    alive()


def test_sasl_without_sasl_configured(raw):
    rep = raw.request(rawzk.OP_SASL, W().buffer(b"token").bytes())
    assert (rep.err, rep.body) == (OK, b"\xff\xff\xff\xff")  # SetSASLResponse{token=null}
    assert raw.ping().err == OK


# ------------------------------------------------------------------ paths
BAD_EVERYWHERE = ["noslash", "", "/a\x00b"]
# final names that are invalid for create (under an existing parent), setData and setACL
BAD_NAMES = ["", ".", "..", "x\x01", "x\x1f", "x\x7f", "x\x85", "x\x9f",
             "x\ud800", "x\ue000", "x\uf8ff", "x\ufff0", "x\uffff"]


@pytest.mark.parametrize("path", BAD_EVERYWHERE, ids=repr)
def test_path_without_slash_or_with_nul(raw, alive, path):
    assert raw.create(path)[0] == BADARGUMENTS
    assert raw.create(path, flags=rawzk.PERSISTENT_SEQUENTIAL)[0] == BADARGUMENTS
    assert raw.set_data(path, b"")[0] == BADARGUMENTS
    assert raw.set_acl(path, rawzk.OPEN_ACL)[0] == BADARGUMENTS
    assert raw.delete(path)[0] == BADARGUMENTS
    assert raw.ping().err == OK
    alive()


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_invalid_final_name(raw, zk, alive, base, name):
    path = base + "/" + name  # "" gives a trailing slash
    assert raw.create(path)[0] == BADARGUMENTS
    assert raw.set_data(path, b"")[0] == BADARGUMENTS
    assert raw.set_acl(path, rawzk.OPEN_ACL)[0] == BADARGUMENTS
    assert zk.get_children(base) == []
    alive()


@pytest.mark.parametrize("path", ["//x", "/a//b", "/a/./b", "/a/../b", "/a/b/", "/x/"], ids=repr)
def test_invalid_paths_for_set_data(raw, alive, path):
    assert raw.set_data(path, b"")[0] == BADARGUMENTS
    assert raw.set_acl(path, rawzk.OPEN_ACL)[0] == BADARGUMENTS
    alive()


def test_create_checks_parent_before_full_path(raw, base):
    """10.1: the parent lookup comes first, so a malformed path whose parent
    does not exist is NONODE; with an existing parent it is BADARGUMENTS."""
    assert raw.create("//x")[0] == BADARGUMENTS          # parent "/" exists
    assert raw.create(base + "/")[0] == BADARGUMENTS     # parent base exists
    assert raw.create(base + "//x")[0] == NONODE         # parent "base/" does not
    assert raw.create(base + "/./x")[0] == NONODE
    assert raw.create("/nonexistent/")[0] == NONODE


def test_sequential_name_is_validated_after_suffix(raw, base):
    assert raw.create(base + "/.", flags=rawzk.PERSISTENT_SEQUENTIAL) == (0, base + "/.0000000000")
    assert raw.create(base + "/", flags=rawzk.PERSISTENT_SEQUENTIAL) == (0, base + "/0000000001")
    assert raw.create(base + "/x\x01", flags=rawzk.PERSISTENT_SEQUENTIAL)[0] == BADARGUMENTS


def test_lenient_ops_on_malformed_paths(raw):
    """delete only needs a slash and no NUL; exists only refuses NUL; other
    reads do not validate (8.2)."""
    assert raw.delete("/a//b")[0] == NONODE
    assert raw.delete("/a/")[0] == NONODE
    assert raw.exists("/a\x00b")[0] == BADARGUMENTS
    assert raw.get_data("/a\x00b")[0] == NONODE
    assert raw.exists("noslash")[0] == NONODE


def test_empty_path_reads_are_the_root(raw):
    """Apache aliases the root as "" internally; exists/getData of "" answer
    with the root's stat."""
    err, stat = raw.exists("")
    assert err == OK and stat == raw.exists("/")[1]
    err, (data, stat2) = raw.get_data("")
    assert err == OK and stat2 == stat


def test_valid_unusual_names(raw, zk, base):
    for name in ["...", "a.b", "\u00a0", "\ud7ff", "\uf900", "x y", "\u00e9\u4e2d"]:
        path = base + "/" + name
        assert raw.create(path) == (0, path), repr(name)
        assert raw.set_data(path, b"1")[0] == OK
    assert len(zk.get_children(base)) == 7


def test_check_with_invalid_path_in_multi(raw, base):
    rep, results = raw.multi([(rawzk.OP_CHECK, rawzk.check_body(base + "/", 0))])
    assert rep.err == OK
    assert results == [(-1, BADARGUMENTS, BADARGUMENTS)]


# ------------------------------------------------------------------ sessions
def test_wrong_password_is_expired_and_server_survives(raw_factory, alive):
    a = raw_factory()
    c = raw_factory(session=False)
    resp = c.connect(session_id=a.session_id, passwd=b"\x01" * 16)
    assert (resp.timeout, resp.session_id, resp.passwd) == (0, 0, b"\0" * 16)
    assert c.wait_closed(5.0)
    alive()


def test_max_client_cnxns(server_factory, alive):
    srv = server_factory(cfg={"maxClientCnxns": "2"})
    a = rawzk.RawZK.session(srv.host, srv.port)
    b = rawzk.RawZK.session(srv.host, srv.port)
    extra = []
    try:
        for _ in range(2):
            assert _refused(srv, extra)
        # the two admitted sessions are unaffected
        assert a.ping().err == OK and b.ping().err == OK
        assert a.create("/a")[0] == OK and b.get_data("/a")[0] == OK
        # once one goes, there is room again
        b.close_session()
        b.close()
        deadline_ok = rawzk.wait_for(lambda: _try_session(srv), 5.0)
        assert deadline_ok
    finally:
        for c in [a, b] + extra:
            c.close()
    alive()


def _refused(srv, keep):
    """Connect and send a ConnectRequest: True if the server closes the
    connection without answering (it may already fail while connecting)."""
    try:
        c = rawzk.RawZK(srv.host, srv.port)
        keep.append(c)
        c.send_frame(rawzk.connect_request())
    except OSError:
        return True
    return c.wait_closed(5.0) and c.extra_frames == []


def _try_session(srv):
    try:
        c = rawzk.RawZK.session(srv.host, srv.port)
    except (rawzk.ServerClosed, OSError):
        return False
    ok = c.ping().err == OK
    c.close()
    return ok
