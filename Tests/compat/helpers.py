"""Small helpers shared by the kazoo tests."""
import threading
import time


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
