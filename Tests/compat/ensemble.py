"""A local ensemble of zkswiftd or Apache ZooKeeper 3.8.0 servers for the
ensemble tests: voters 1..n, then observers n+1..n+observers, on loopback and
free ports, each member a servers.Server (same command line, default settings
and log as the standalone tests) in <tmp>/<sid>/.

    ens = Ensemble(3)            # impl defaults to ZK_COMPAT_TARGET
    ens.start()                  # returns once every member serves
    zk = ens.client(ens.leader())
    ens.kill9(sid); ens.restart(sid); ens.wait_serving()
    ens.stop()

Members are in helpers._LIVE while they run, so a failing test's report
carries the tail of every member's log.
"""
import os
import shutil
import signal
import tempfile
import time

from kazoo.client import KazooClient

import servers
from helpers import _LIVE, TARGET

SERVING = ("leader", "follower", "observer")


class Ensemble:
    def __init__(self, n, observers=0, impl=TARGET, tick_time=500, extra_cfg=None, props=None):
        self.n, self.impl = n, impl
        self.root = tempfile.mkdtemp(prefix=f"zk-ens-{impl}-")
        self.sids = list(range(1, n + observers + 1))
        self.members = {}
        self.paused = set()
        self.clients = []
        kind = {"zkswiftd": servers.ZkSwiftd, "apache": servers.Apache}[impl]
        cfg = {"tickTime": str(tick_time), "initLimit": "10", "syncLimit": "5"}
        cfg.update(extra_cfg or {})
        for sid in self.sids:
            # Server.__init__ picks the client port and sets clientPort/clientPortAddress.
            m = kind(cfg=cfg, props=props, workdir=os.path.join(self.root, str(sid)))
            if self.is_observer(sid):
                m.cfg["peerType"] = "observer"
            with open(os.path.join(m.cfg["dataDir"], "myid"), "w") as f:
                f.write(f"{sid}\n")
            self.members[sid] = m
        lines = {}
        for sid, m in self.members.items():
            role = ":observer" if self.is_observer(sid) else ""
            # The client address in full: Apache refuses a bare ";port" (0.0.0.0:port)
            # next to the clientPortAddress=127.0.0.1 servers.Server sets.
            lines[f"server.{sid}"] = (f"127.0.0.1:{servers.free_port()}:{servers.free_port()}{role}"
                                      f";127.0.0.1:{m.port}")
        for m in self.members.values():
            m.cfg.update(lines)

    def port_per_member(self, props_for):
        """Gives each member a free port for an HTTP endpoint, with the
        settings props_for(port) returns; returns {sid: port}."""
        ports = {}
        for sid, m in self.members.items():
            ports[sid] = servers.free_port()
            m.props.update(props_for(ports[sid]))
        return ports

    def is_observer(self, sid):
        return sid > self.n

    # ------------------------------------------------------------ processes
    def start(self, timeout=60.0):
        for sid in self.sids:
            self._launch(sid)
        return self.wait_serving(timeout)

    def _launch(self, sid):
        m = self.members[sid]
        if m not in _LIVE:
            _LIVE.append(m)
        m.launch()
        self.paused.discard(sid)

    def stop(self):
        """Stop everything and delete the data directories."""
        for c in self.clients:
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001 - a client of a dead server may fail to close
                pass
        self.clients = []
        for sid, m in self.members.items():
            self.sigcont(sid)  # a stopped process would not act on SIGTERM
            if self.running(sid):
                m.proc.terminate()  # all at once; cleanup() below waits for each
        for m in self.members.values():
            if m in _LIVE:
                _LIVE.remove(m)
            m.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)

    def running(self, sid):
        p = self.members[sid].proc
        return p is not None and p.poll() is None

    def pid(self, sid):
        return self.members[sid].proc.pid

    def kill9(self, sid):
        self.sigcont(sid)
        self.members[sid].kill()
        self.members[sid].stop()  # forget the process (closes its log): its death was wanted

    def sigstop(self, sid):
        os.kill(self.pid(sid), signal.SIGSTOP)
        self.paused.add(sid)

    def sigcont(self, sid):
        if sid in self.paused and self.running(sid):
            os.kill(self.pid(sid), signal.SIGCONT)
        self.paused.discard(sid)

    def restart(self, sid):
        """Stop sid (SIGTERM, or already killed) and start it again on the same
        data; does not wait: follow with wait_serving()."""
        self.sigcont(sid)
        self.members[sid].stop()  # also closes the log a kill9 left open
        self._launch(sid)

    # ------------------------------------------------------------ state
    def mode(self, sid):
        """srvr's Mode (leader, follower, observer, standalone), or "not serving"
        (answers without a Mode), or "down" (no answer within a second)."""
        try:
            out = servers.four_letter(self.members[sid].port, "srvr", timeout=1.0)
        except OSError:
            return "down"
        for line in out.splitlines():
            if line.startswith("Mode: "):
                return line[len("Mode: "):].strip()
        return "not serving"

    def live(self):
        """The members expected to serve: running and not SIGSTOPped."""
        return [s for s in self.sids if self.running(s) and s not in self.paused]

    def roles(self):
        return {s: self.mode(s) for s in self.live()}

    def _settled(self):
        roles = self.roles()
        leaders = [s for s, r in roles.items() if r == "leader"]
        ok = len(leaders) == 1 and all(
            r == ("observer" if self.is_observer(s) else "follower") for s, r in roles.items() if r != "leader")
        return (leaders[0] if ok else None), roles

    def leader(self, timeout=60.0):
        """Wait until exactly one live member leads and every other live one
        follows (voters) or observes (observers); returns the leader's sid."""
        deadline = time.monotonic() + timeout
        while True:
            sid, roles = self._settled()
            if sid is not None:
                return sid
            for s in self.sids:  # killed members have no proc; this one died by itself
                if self.members[s].proc is not None and not self.running(s):
                    raise RuntimeError(f"server {s} exited with {self.members[s].proc.returncode}")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no settled ensemble after {timeout}s: {roles}")
            time.sleep(0.1)

    wait_serving = leader  # every live member serves exactly when the roles settle

    # ------------------------------------------------------------ clients and files
    def connect_string(self, sids=None):
        return ",".join(self.members[s].hosts for s in (sids or self.sids))

    def client(self, sid=None, timeout=10.0, **kw):
        """A started kazoo client on server sid (None: on all of them),
        closed by stop()."""
        c = KazooClient(hosts=self.connect_string([sid] if sid else None), timeout=timeout, **kw)
        self.clients.append(c)
        c.start(timeout=15)
        return c

    def log(self, sid):
        with open(self.members[sid].log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def data_dir(self, sid):
        return self.members[sid].cfg["dataDir"]

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
