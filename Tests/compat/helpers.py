"""Helpers shared by the compatibility tests: server start/stop bookkeeping
(used by conftest.py), a kazoo watch recorder and polling."""
import os
import threading
import time

import servers

TARGET = os.environ.get("ZK_COMPAT_TARGET", "zkswiftd")
_LIVE = []  # servers started by the fixtures and not yet cleaned up; their logs go into failure reports


def start_server(cfg=None, props=None):
    srv = servers.make_server(TARGET, cfg=cfg, props=props)
    _LIVE.append(srv)
    try:
        srv.start()
    except Exception:
        _LIVE.remove(srv)
        srv.cleanup()
        raise
    return srv


def stop_server(srv):
    if srv in _LIVE:
        _LIVE.remove(srv)
    srv.cleanup()


class Events:
    """A kazoo watch callback that records events, thread-safe."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait(self, n, timeout=5.0):
        """Wait until at least n events were recorded; returns the list."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.events) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.cond.wait(remaining)
            return list(self.events)

    def simple(self):
        with self.cond:
            return [(e.type, e.path) for e in self.events]


def settle(client, wait=0.3):
    """Give the server time to deliver any (unexpected) event to `client`,
    then round-trip a request so everything sent before it has arrived."""
    time.sleep(wait)
    client.sync("/")


def wait_for(pred, timeout=10.0, interval=0.05):
    """Poll pred() until it returns something truthy or `timeout` passes;
    returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def watched_tree(zk, root, data=b"x"):
    """The state the admin and metrics tests read back: ROOT/a with a data
    watch on it, and an ephemeral ROOT/eph holding `data`."""
    zk.ensure_path(f"{root}/a")
    zk.create(f"{root}/eph", data, ephemeral=True)
    zk.get(f"{root}/a", watch=lambda e: None)
