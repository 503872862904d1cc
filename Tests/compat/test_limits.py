"""Limits and bad input, as zkswiftd reports them (issue item 7).

- Past globalOutstandingLimit the server stops reading from clients: the
  number of requests in flight, sampled with `mntr` while one connection
  floods the server, never goes above the limit plus one per connection, and
  every request is still answered, in order.
- Each kind of bad input leaves exactly one WARN line in the log naming the
  peer (address and port of the offending connection), and the server keeps
  serving other sessions.

The log checks read zkswiftd's own log format, so this module runs against
zkswiftd only.
"""
import re
import socket
import struct
import threading
import time

import pytest

import rawzk
from rawzk import W
from servers import four_letter

pytestmark = pytest.mark.zkswiftd_only("checks zkswiftd's log lines and its throttling bound")


def outstanding(port):
    out = four_letter(port, "mntr")
    m = re.search(r"^zk_outstanding_requests\t(\d+)$", out, re.M)
    assert m, out
    return int(m.group(1))


def flood_and_sample(srv, n):
    """Pipelines n exists requests on one session without reading, samples the
    server's in-flight count meanwhile, then reads every reply."""
    c = rawzk.RawZK.session(srv.host, srv.port)
    body = W().ustring("/").bool(False).bytes()
    payload = b"".join(rawzk.frame(W().int(xid).int(rawzk.OP_EXISTS).bytes() + body) for xid in range(1, n + 1))
    samples = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                samples.append(outstanding(srv.port))
            except OSError:
                pass

    t = threading.Thread(target=sample)
    t.start()
    sender = threading.Thread(target=c.send, args=(payload,))
    sender.start()
    xids = []
    deadline = time.monotonic() + 60
    while len(xids) < n and time.monotonic() < deadline:
        data = c.recv_frame(timeout=30)
        xid = struct.unpack(">i", data[:4])[0]
        if xid != -1:
            xids.append(xid)
    done.set()
    t.join()
    sender.join()
    c.close()
    return xids, samples


def test_throttling_bounds_requests_in_flight(server_factory):
    limit = 20
    srv = server_factory(cfg={"globalOutstandingLimit": str(limit)})
    n = 30000
    xids, samples = flood_and_sample(srv, n)
    assert xids == list(range(1, n + 1)), "every request answered, in order"
    assert samples, "mntr answered while the flood was processed"
    # One connection floods: at most the limit plus the one request that tipped it.
    assert max(samples) <= limit + 1, f"in flight peaked at {max(samples)} with limit {limit}"
    assert outstanding(srv.port) == 0


def warn_lines(srv):
    return [l for l in srv.read_log().splitlines() if " warning " in l]


def new_warnings(srv, before):
    """WARN lines added since `before`, waiting briefly for them to appear."""
    deadline = time.monotonic() + 3
    while True:
        lines = warn_lines(srv)[len(before):]
        if lines or time.monotonic() > deadline:
            time.sleep(0.2)
            return warn_lines(srv)[len(before):]
        time.sleep(0.05)


def peer(c):
    host, port = c.sock.getsockname()[:2]
    return f"/{host}:{port}"


def assert_one_warning_naming(srv, before, c):
    lines = new_warnings(srv, before)
    assert len(lines) == 1, lines
    assert peer(c) in lines[0], (peer(c), lines[0])


def alive(srv):
    other = rawzk.RawZK.session(srv.host, srv.port)
    assert other.create(f"/alive-{time.monotonic_ns()}")[0] == rawzk.OK
    other.close()


def test_oversized_frame(server):
    c = rawzk.RawZK.session(server.host, server.port)
    before = warn_lines(server)
    c.send(struct.pack(">i", 0xfffff + 1) + b"x" * 16)
    assert c.wait_closed()
    assert_one_warning_naming(server, before, c)
    alive(server)


def test_garbled_request_header(server):
    c = rawzk.RawZK.session(server.host, server.port)
    before = warn_lines(server)
    c.send_frame(b"\x00\x01\x02")
    assert c.wait_closed()
    assert_one_warning_naming(server, before, c)
    alive(server)


def test_truncated_connect_request(server):
    c = rawzk.RawZK(server.host, server.port)
    before = warn_lines(server)
    c.send_frame(b"\x00\x00\x00\x00")
    assert c.wait_closed()
    assert_one_warning_naming(server, before, c)
    alive(server)


def test_unknown_opcode(server):
    c = rawzk.RawZK.session(server.host, server.port)
    before = warn_lines(server)
    c.send_request(200, b"")
    assert c.wait_closed()
    assert_one_warning_naming(server, before, c)
    alive(server)


@pytest.mark.parametrize("path", ["noslash", "/trailing/", "/a//b", "/.", "/a/..", "/ctl\x01"], ids=repr)
def test_invalid_path(server, path):
    c = rawzk.RawZK.session(server.host, server.port)
    before = warn_lines(server)
    # setData validates the path before looking anything up (create would
    # report a missing parent first).
    assert c.set_data(path, b"x")[0] == rawzk.BADARGUMENTS
    assert_one_warning_naming(server, before, c)
    assert c.ping().err == rawzk.OK
    c.close()


def test_garbled_request_body(server):
    c = rawzk.RawZK.session(server.host, server.port)
    before = warn_lines(server)
    rep = c.request(rawzk.OP_CREATE, b"\x00\x00\x00\x05/a")
    assert rep.err == rawzk.MARSHALLINGERROR
    assert_one_warning_naming(server, before, c)
    assert c.ping().err == rawzk.OK
    c.close()


def test_wrong_session_password(server):
    a = rawzk.RawZK.session(server.host, server.port)
    b = rawzk.RawZK(server.host, server.port)
    before = warn_lines(server)
    resp = b.connect(session_id=a.session_id, passwd=b"\x01" * 16)
    assert resp.timeout == 0 and resp.session_id == 0
    assert b.wait_closed()
    assert_one_warning_naming(server, before, b)
    alive(server)


def test_too_many_connections_from_one_address(server_factory):
    srv = server_factory(cfg={"maxClientCnxns": "2"})
    keep = [rawzk.RawZK.session(srv.host, srv.port) for _ in range(2)]
    before = warn_lines(srv)
    extra = rawzk.RawZK(srv.host, srv.port)
    assert extra.wait_closed()
    assert_one_warning_naming(srv, before, extra)
    for k in keep:
        assert k.ping().err == rawzk.OK
