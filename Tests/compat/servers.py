"""Start and stop real ZooKeeper servers for the compatibility tests.

Two kinds: our `zkswiftd` binary and Apache ZooKeeper 3.8.0 from Debian's
package, both standalone on loopback, each in its own temporary data directory
and on a free port. Settings that Apache reads as JVM system properties are
passed to it with -D and to zkswiftd as zoo.cfg keys of the same name.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APACHE_CP = ":".join([
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/slf4j-log4j12.jar",
    "/usr/share/java/log4j-1.2.jar",
    # The AdminServer's Jetty needs the servlet API, which zookeeper.jar's Class-Path leaves out.
    "/usr/share/java/servlet-api.jar",
])
ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"

# Settings every test server gets unless a test overrides them.
DEFAULT_CFG = {
    "tickTime": "2000",
    "4lw.commands.whitelist": "*",
    "maxClientCnxns": "60",
}
DEFAULT_PROPS = {
    "zookeeper.extendedTypesEnabled": "true",
    "znode.container.checkIntervalMs": "1000",
    "zookeeper.admin.enableServer": "false",
}


def zkswiftd_binary():
    path = os.environ.get("ZKSWIFTD_BIN") or os.path.join(ROOT, ".build", "debug", "zkswiftd")
    if not os.path.exists(path):
        raise RuntimeError(f"zkswiftd binary not found at {path}; build it or set ZKSWIFTD_BIN")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter(port, cmd, host="127.0.0.1", timeout=5.0):
    """Send a four-letter word and return the whole answer as text."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd.encode())
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode()


class Server:
    kind = "?"

    def __init__(self, cfg=None, props=None, workdir=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix=f"zk-{self.kind}-")
        self.port = free_port()
        self.host = "127.0.0.1"
        self.cfg = dict(DEFAULT_CFG)
        self.cfg.update(cfg or {})
        self.props = dict(DEFAULT_PROPS)
        self.props.update(props or {})
        self.cfg.setdefault("dataDir", os.path.join(self.workdir, "data"))
        self.cfg["clientPort"] = str(self.port)
        self.cfg.setdefault("clientPortAddress", "127.0.0.1")
        os.makedirs(self.cfg["dataDir"], exist_ok=True)
        self.cfg_path = os.path.join(self.workdir, "zoo.cfg")
        # Added to the process environment (e.g. a NOTIFY_SOCKET the test owns).
        self.extra_env = {}
        self.log_path = os.path.join(self.workdir, "server.log")
        self.proc = None

    @property
    def hosts(self):
        return f"{self.host}:{self.port}"

    def write_cfg(self, cfg):
        with open(self.cfg_path, "w") as f:
            for k, v in cfg.items():
                f.write(f"{k}={v}\n")

    def command(self):
        raise NotImplementedError

    def launch(self):
        """Start the process without waiting for it to serve: an ensemble
        member serves only once a quorum of its peers is up too."""
        cmd = self.command()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.workdir, env=self.env())

    def start(self, timeout=60.0):
        self.launch()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                # Not ruok: it answers before the server serves requests (new
                # sessions are refused until then) and may be left out of the
                # 4lw whitelist. srvr is always allowed and says when it serves.
                if four_letter(self.port, "srvr", timeout=1.0).startswith("Zookeeper version"):
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer srvr within {timeout}s:\n{self.read_log()}")

    def env(self):
        env = dict(os.environ)
        # A test runner started by systemd must not hand its own sockets down.
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"):
            env.pop(k, None)
        env.update(self.extra_env)
        return env

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-20000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


class ZkSwiftd(Server):
    kind = "zkswiftd"

    def command(self):
        cfg = dict(self.cfg)
        cfg.update(self.props)  # zkswiftd takes JVM-property settings as zoo.cfg keys
        self.write_cfg(cfg)
        return [zkswiftd_binary(), self.cfg_path]


class Apache(Server):
    kind = "apache"

    def command(self):
        self.write_cfg(self.cfg)
        log4j = os.path.join(self.workdir, "log4j.properties")
        with open(log4j, "w") as f:
            f.write("log4j.rootLogger=INFO, CONSOLE\n"
                    "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
                    "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
                    "log4j.appender.CONSOLE.layout.ConversionPattern=%d %-5p [%t] %c{1} - %m%n\n")
        props = [f"-D{k}={v}" for k, v in self.props.items()]
        return ["java", "-Xmx512m", f"-Dlog4j.configuration=file:{log4j}", *props,
                "-cp", APACHE_CP, "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.cfg_path]


def make_server(kind, cfg=None, props=None):
    return {"zkswiftd": ZkSwiftd, "apache": Apache}[kind](cfg=cfg, props=props)
