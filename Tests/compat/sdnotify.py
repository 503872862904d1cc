"""The service manager's side of systemd's notify protocol, for tests: a
datagram socket the test owns, handed to a server as NOTIFY_SOCKET, that
records every message with its arrival time.

    sock = NotifySocket()
    srv.extra_env.update(sock.env())
    ...
    sock.wait_for("READY=1", timeout=30)
    sock.times("WATCHDOG=1")

`on_message` (optional) runs in the receiving thread as each message arrives,
before anything else can happen: a test uses it to check what the server
does at the very moment it says READY=1.
"""
import os
import socket
import tempfile
import threading
import time


class NotifySocket:
    def __init__(self, on_message=None):
        self.dir = tempfile.mkdtemp(prefix="zk-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.on_message = on_message
        self.messages = []  # (monotonic time, {field: value}), in arrival order
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def env(self, watchdog_usec=None):
        e = {"NOTIFY_SOCKET": self.path}
        if watchdog_usec is not None:
            e["WATCHDOG_USEC"] = str(watchdog_usec)
        return e

    def _receive(self):
        while not self.closed:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            now = time.monotonic()
            if self.on_message:
                self.on_message(fields)
            with self.cond:
                self.messages.append((now, fields))
                self.cond.notify_all()

    def times(self, assignment):
        """Arrival times of the messages carrying `assignment` (e.g. "READY=1")."""
        k, v = assignment.split("=", 1)
        with self.cond:
            return [t for t, f in self.messages if f.get(k) == v]

    def values(self, key):
        with self.cond:
            return [f[key] for _, f in self.messages if key in f]

    def wait_for(self, assignment, timeout=30.0, after=0.0):
        """Time of the first message carrying `assignment` that arrived after
        `after` (a time.monotonic() value), waiting up to `timeout` seconds."""
        k, v = assignment.split("=", 1)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, f in self.messages:
                    if t > after and f.get(k) == v:
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {assignment} within {timeout}s; got {[f for _, f in self.messages]}")
                self.cond.wait(left)

    def wait_status(self, predicate, timeout=30.0):
        """The first STATUS= value for which predicate(value) holds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for _, f in self.messages:
                    if "STATUS" in f and predicate(f["STATUS"]):
                        return f["STATUS"]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching STATUS within {timeout}s; got {self.values('STATUS')}")
                self.cond.wait(left)

    def close(self):
        self.closed = True
        self.sock.close()
        self.thread.join(2)
        try:
            os.unlink(self.path)
            os.rmdir(self.dir)
        except OSError:
            pass
