"""The C client (cli_mt from Debian's zookeeper-bin, built on libzookeeper_mt)
runs the same script against Apache ZooKeeper 3.8.0 and zkswiftd and prints
the same results."""
import re
import subprocess
import time

import servers

CLI = "/usr/lib/zookeeper/bin/cli_mt"
SCRIPT = ["create /c", "set /c world", "get /c", "create +e /c/e", "create +s /c/s",
          "ls /c", "create /c", "delete /c", "delete /c/e", "get /missing", "delete /c/s0000000001",
          "delete /c", "ls /", "quit"]

def run_cli(kind):
    with servers.make_server(kind) as srv:
        p = subprocess.Popen([CLI, srv.hosts], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)
        for cmd in SCRIPT:
            p.stdin.write(cmd + "\n")
            p.stdin.flush()
            time.sleep(0.3)  # the C shell is asynchronous: one answer at a time keeps output ordered
        out, _ = p.communicate(timeout=20)
    return out


def normalise(out):
    """Drops what differs by run (session id, times, dates); sorted, since the
    two servers list children in different (unspecified) orders."""
    lines = []
    for line in out.splitlines():
        line = re.sub(r"session id: 0x[0-9a-f]+", "session id: SID", line)
        line = re.sub(r"time = \d+ msec", "time = T msec", line)
        line = re.sub(r"(ctime|mtime) ?= ?.*", r"\1 = DATE", line)
        if line.strip():
            lines.append(line)
    return sorted(lines)


def test_c_client_sees_the_same_as_on_apache():
    ours = run_cli("zkswiftd")
    for expected in ["[/c]: rc = 0", "world", "name = /c/s0000000001", "[/c]: rc = -110",
                     "/c: rc = -111", "/missing: rc = -101", "mzxid=3", "version=1\taversion=0"]:
        assert expected in ours, (expected, ours)
    assert normalise(ours) == normalise(run_cli("apache")), ours
