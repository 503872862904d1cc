"""Fixtures for the zkswiftd compatibility suite.

ZK_COMPAT_TARGET selects the server under test: "zkswiftd" (default) or
"apache" (Apache ZooKeeper 3.8.0, used to validate the tests themselves).

Fixtures:
  server          one server per test module (default settings)
  server_factory  start extra servers with special settings, stopped after the test
  zk / zk2        connected kazoo clients on `server` (function scoped)
  zk_factory      more kazoo clients (any server, any KazooClient kwargs)
  raw_factory     rawzk.RawZK sessions/connections, closed after the test
  base            a fresh, empty persistent node unique to the test

When a test fails, the tail of the log of every server started by these
fixtures and still running is attached to the report.
"""
import re

import pytest
from kazoo.client import KazooClient

import rawzk
from helpers import _LIVE, TARGET, start_server, stop_server

if TARGET not in ("zkswiftd", "apache"):
    raise pytest.UsageError(f"ZK_COMPAT_TARGET must be zkswiftd or apache, not {TARGET!r}")

def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "zkswiftd_only(reason): behaviour where zkswiftd follows a later 3.8.x "
        "release than the Apache 3.8.0 used for validation; skipped against apache")


def pytest_collection_modifyitems(config, items):
    if TARGET == "zkswiftd":
        return
    for item in items:
        m = item.get_closest_marker("zkswiftd_only")
        if m:
            why = m.args[0] if m.args else m.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"zkswiftd only: {why}"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for srv in list(_LIVE):
            rep.sections.append((f"{srv.kind} log {srv.log_path}", srv.read_log()[-12000:]))


@pytest.fixture(scope="module")
def server():
    srv = start_server()
    yield srv
    stop_server(srv)


@pytest.fixture
def server_factory():
    started = []

    def make(cfg=None, props=None):
        srv = start_server(cfg, props)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        stop_server(srv)


@pytest.fixture
def zk_factory(server):
    clients = []

    def make(srv=None, start=True, **kw):
        kw.setdefault("timeout", 10.0)
        c = KazooClient(hosts=(srv or server).hosts, **kw)
        clients.append(c)
        if start:
            c.start(timeout=15)
        return c

    yield make
    for c in clients:
        try:
            c.stop()
            c.close()
        except Exception:
            pass


@pytest.fixture
def zk(zk_factory):
    return zk_factory()


@pytest.fixture
def zk2(zk_factory):
    return zk_factory()


@pytest.fixture
def raw_factory(server):
    conns = []

    def make(srv=None, session=True, **kw):
        srv = srv or server
        if session:
            c = rawzk.RawZK.session(srv.host, srv.port, **kw)
        else:
            c = rawzk.RawZK(srv.host, srv.port)
        conns.append(c)
        return c

    yield make
    for c in conns:
        c.close()


@pytest.fixture
def raw(raw_factory):
    return raw_factory()


_counter = [0]


@pytest.fixture
def base(request, zk):
    """A fresh persistent node for this test, e.g. /test_create_basic_3."""
    _counter[0] += 1
    name = re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:60]
    path = f"/{name}_{_counter[0]}"
    zk.create(path)
    return path
