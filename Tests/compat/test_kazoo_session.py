"""Sessions: handshake, expiry, reconnect, timeout negotiation, close
(wire-protocol.md sections 4, 5, 6.2, 10.3)."""
import struct
import time

import pytest

import kzext
import rawzk
from helpers import Events


# ------------------------------------------------------------------ handshake
def test_connect_response_layout(server):
    c = rawzk.RawZK(server.host, server.port)
    try:
        resp = c.connect(timeout=30000)
        assert resp.length == 37
        assert resp.protocol_version == 0 and resp.timeout == 30000
        assert resp.read_only is False
        assert resp.session_id >> 56 == 1  # standalone servers use server id 1
        assert resp.passwd == rawzk.derive_password(resp.session_id)
    finally:
        c.close()


def test_old_client_without_readonly_byte(server):
    c = rawzk.RawZK(server.host, server.port)
    try:
        resp = c.connect(timeout=30000, old_client=True)
        assert resp.length == 36 and resp.read_only is None
        assert resp.timeout == 30000 and resp.session_id != 0
        assert c.ping().err == 0
    finally:
        c.close()


def test_session_ids_are_consecutive(raw_factory):
    a, b = raw_factory(), raw_factory()
    assert b.session_id == a.session_id + 1


def test_requests_pipelined_after_connect(server, zk, base):
    """Requests sent right behind the ConnectRequest are processed after the
    session is established, in order (4.2 step 7)."""
    c = rawzk.RawZK(server.host, server.port)
    try:
        payload = rawzk.frame(rawzk.connect_request(30000))
        payload += rawzk.frame(rawzk.W().int(1).int(rawzk.OP_CREATE).bytes()
                               + rawzk.create_body(base + "/pipe", b"p", flags=rawzk.EPHEMERAL))
        payload += rawzk.frame(rawzk.W().int(2).int(rawzk.OP_GETDATA).bytes()
                               + rawzk.path_watch_body(base + "/pipe"))
        c.send(payload)
        r = rawzk.R(c.recv_frame())
        r.int(); r.int()
        sid = r.long()
        rep1 = c.read_reply(1)
        assert rep1.err == 0 and rawzk.R(rep1.body).ustring() == base + "/pipe"
        rep2 = c.read_reply(2)
        assert rep2.err == 0
        r = rawzk.R(rep2.body)
        data, stat = r.buffer(), r.stat()
        assert data == b"p" and stat.ephemeralOwner == sid
    finally:
        c.close()


def test_ping_reply_always_uses_xid_minus_2(raw, zk, base):
    zxid = zk.create(base + "/z", include_data=True)[1].czxid
    raw.send_request(rawzk.OP_PING, xid=77)
    data = raw.recv_frame()
    xid, rzxid, err = struct.unpack(">iqi", data)
    assert (xid, err) == (-2, 0) and rzxid >= zxid


def test_last_zxid_ahead_of_server_is_refused(server, zk):
    c = rawzk.RawZK(server.host, server.port)
    try:
        c.send_frame(rawzk.connect_request(30000, last_zxid=1 << 40))
        assert c.wait_closed(5.0)
        assert c.extra_frames == []
    finally:
        c.close()
    assert zk.exists("/") is not None


def test_first_frame_not_a_connect_request_is_closed(server, zk):
    c = rawzk.RawZK(server.host, server.port)
    try:
        c.send_frame(b"\x00\x00\x00\x01")
        assert c.wait_closed(5.0) and c.extra_frames == []
    finally:
        c.close()
    assert zk.exists("/") is not None


# ------------------------------------------------------------------ negotiation
@pytest.mark.parametrize("requested,negotiated", [(1000, 4000), (4000, 4000), (15000, 15000),
                                                  (40000, 40000), (999999, 40000)])
def test_timeout_clamped_to_default_bounds(raw_factory, requested, negotiated):
    """Defaults: [2*tickTime, 20*tickTime] with tickTime 2000."""
    c = raw_factory(session=False)
    assert c.connect(timeout=requested).timeout == negotiated


def test_timeout_clamped_to_configured_bounds(server_factory, raw_factory, zk_factory):
    srv = server_factory(cfg={"minSessionTimeout": "3000", "maxSessionTimeout": "7000"})
    for requested, negotiated in [(1, 3000), (2999, 3000), (5000, 5000), (7000, 7000), (60000, 7000)]:
        c = raw_factory(srv, session=False)
        assert c.connect(timeout=requested).timeout == negotiated, requested
    conf = dict(line.split("=", 1) for line in
                __import__("servers").four_letter(srv.port, "conf").splitlines() if "=" in line)
    assert (conf["minSessionTimeout"], conf["maxSessionTimeout"]) == ("3000", "7000")
    kz = zk_factory(srv, timeout=100.0)
    assert kz.exists("/") is not None


# ------------------------------------------------------------------ reconnect
def test_reconnect_with_session_id_and_password(raw_factory, zk, base):
    a = raw_factory()
    assert a.create(base + "/eph", flags=rawzk.EPHEMERAL)[0] == 0
    b = raw_factory(session=False)
    resp = b.connect(timeout=20000, session_id=a.session_id, passwd=a.passwd)
    assert resp.session_id == a.session_id and resp.passwd == a.passwd
    assert resp.timeout == 20000 and resp.length == 37
    # the old connection of the session is closed by the server
    assert a.wait_closed(5.0)
    assert b.ping().err == 0
    assert zk.exists(base + "/eph").ephemeralOwner == a.session_id
    assert b.get_ephemerals("/") == (0, [base + "/eph"])
    b.close_session()
    assert zk.exists(base + "/eph") is None


def test_kazoo_client_id_reconnect(zk_factory, base):
    a = zk_factory()
    a.create(base + "/e", ephemeral=True)
    sid, pw = a.client_id
    b = zk_factory(client_id=(sid, pw))
    assert b.client_id[0] == sid
    assert kzext.get_ephemerals(b, "/") == [base + "/e"]
    b.delete(base + "/e")


def test_wrong_password_gets_expired_answer(raw_factory, zk, base):
    a = raw_factory()
    a.create(base + "/eph", flags=rawzk.EPHEMERAL)
    bad = bytes(x ^ 0xFF for x in a.passwd)
    c = raw_factory(session=False)
    resp = c.connect(session_id=a.session_id, passwd=bad)
    assert resp == rawzk.ConnectResponse(0, 0, 0, b"\0" * 16, False, 37)
    assert c.wait_closed(5.0) and c.extra_frames == []
    # the session itself is intact and can be resumed with the right password
    assert zk.exists(base + "/eph").ephemeralOwner == a.session_id
    d = raw_factory(session=False)
    assert d.connect(session_id=a.session_id, passwd=a.passwd).session_id == a.session_id
    assert d.ping().err == 0


def test_unknown_session_gets_expired_answer(raw_factory, zk):
    sid = (1 << 56) | 0x1234
    c = raw_factory(session=False)
    resp = c.connect(session_id=sid, passwd=rawzk.derive_password(sid))
    assert resp == rawzk.ConnectResponse(0, 0, 0, b"\0" * 16, False, 37)
    assert c.wait_closed(5.0)
    assert zk.exists("/") is not None


# ------------------------------------------------------------------ close
def test_close_session(raw_factory, zk, base):
    ev = Events()
    a = raw_factory()
    a.create(base + "/e1", flags=rawzk.EPHEMERAL)
    a.create(base + "/e2-", flags=rawzk.EPHEMERAL_SEQUENTIAL)
    zk.exists(base + "/e1", watch=ev)
    zk.get_children(base, watch=ev)
    rep = a.close_session()
    assert rep.err == 0 and rep.body == b"" and rep.zxid > 0
    assert a.wait_closed(5.0)
    assert zk.get_children(base) == []
    ev.wait(2)
    assert sorted(ev.simple()) == [("CHILD", base), ("DELETED", base + "/e1")]
    # a closed session cannot be resumed
    c = raw_factory(session=False)
    assert c.connect(session_id=a.session_id, passwd=a.passwd).timeout == 0


# ------------------------------------------------------------------ expiry
def test_session_expiry_removes_ephemerals(raw_factory, zk_factory, zk, base):
    """A session that stops pinging expires between timeout and
    timeout + tickTime after its last request (5.3); its ephemerals go and
    other clients' watches fire. A session that keeps pinging survives."""
    silent = raw_factory(timeout=4000)
    alive = raw_factory(timeout=4000)
    assert silent.timeout == 4000 and alive.timeout == 4000
    ev = Events()
    assert alive.create(base + "/alive", flags=rawzk.EPHEMERAL)[0] == 0
    assert silent.create(base + "/silent", flags=rawzk.EPHEMERAL)[0] == 0
    t0 = time.monotonic()  # the silent session's last touch
    assert zk.exists(base + "/silent", watch=ev) is not None
    assert zk.get_children(base, watch=ev) != []
    deadline = t0 + 12.0
    while len(ev.events) < 2 and time.monotonic() < deadline:
        alive.ping()
        ev.wait(2, timeout=0.5)
    elapsed = time.monotonic() - t0
    assert sorted(ev.simple()) == [("CHILD", base), ("DELETED", base + "/silent")]
    assert 3.9 <= elapsed <= 8.5, elapsed
    assert zk.get_children(base) == ["alive"]
    # the expired session's connection is closed by the server
    assert silent.wait_closed(3.0)
    # keep the other session alive for another tickTime and more: still there
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        alive.ping()
        time.sleep(0.5)
    assert zk.exists(base + "/alive").ephemeralOwner == alive.session_id
    # resuming the expired session is refused
    c = raw_factory(session=False)
    resp = c.connect(session_id=silent.session_id, passwd=silent.passwd)
    assert (resp.timeout, resp.session_id, resp.passwd) == (0, 0, b"\0" * 16)
    assert c.wait_closed(3.0)
    # kazoo resuming the expired session is told so, and starts a new one
    kz = zk_factory(client_id=(silent.session_id, silent.passwd))
    assert kz.client_id[0] not in (0, silent.session_id)
    assert kz.exists(base) is not None
