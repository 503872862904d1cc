"""Debian's zkCli.sh (the Java client and its command shell) against the server
chosen by ZK_COMPAT_TARGET ("zkswiftd", the default, or "apache" to validate
the expectations). One JVM per command, except the digest-auth test, which
feeds several commands to one shell on stdin so that `addauth` applies.
"""
import os
import re
import subprocess
from datetime import datetime

import pytest

import differential as d
import servers

TARGET = os.environ.get("ZK_COMPAT_TARGET", "zkswiftd")
STAT_FIELDS = ["cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion",
               "aclVersion", "ephemeralOwner", "dataLength", "numChildren"]


@pytest.fixture(scope="module")
def server():
    srv = servers.make_server(TARGET, cfg=dict(d.SERVER_CFG), props=dict(d.SERVER_PROPS))
    srv.start()
    yield srv
    srv.cleanup()


def zkcli(server, *args, stdin=None):
    """Run zkCli.sh; return (exit code, stdout+stderr without JVM logging noise)."""
    p = subprocess.run([servers.ZKCLI, "-server", server.hosts, *args], input=stdin,
                       capture_output=True, text=True, timeout=60)
    lines = [ln for ln in (p.stdout + "\n" + p.stderr).splitlines()
             if not ln.startswith("SLF4J:")]
    return p.returncode, "\n".join(lines)


def ok(server, *args):
    rc, out = zkcli(server, *args)
    assert rc == 0, f"zkCli {' '.join(args)} exited {rc}:\n{out}"
    assert "SyncConnected" in out, out
    return out


def fails(server, *args):
    rc, out = zkcli(server, *args)
    assert rc != 0, f"zkCli {' '.join(args)} should have failed:\n{out}"
    return out


def lines_of(out):
    return [ln.rstrip() for ln in out.splitlines()]


def children_listed(out):
    """The `[a, b, c]` line of ls output as a set."""
    for ln in lines_of(out):
        if ln.startswith("[") and ln.endswith("]"):
            inner = ln[1:-1].strip()
            return set(x.strip() for x in inner.split(",")) if inner else set()
    raise AssertionError(f"no children list in:\n{out}")


def parse_stat(out):
    """The 11 `name = value` lines, checked to appear in zkCli's order."""
    found = []
    for ln in lines_of(out):
        m = re.fullmatch(r"(\w+) = (.*)", ln)
        if m and m.group(1) in STAT_FIELDS:
            found.append((m.group(1), m.group(2)))
    assert [k for k, _ in found] == STAT_FIELDS, f"stat fields wrong in:\n{out}"
    st = dict(found)
    for k in ("cZxid", "mZxid", "pZxid", "ephemeralOwner"):
        assert re.fullmatch(r"0x[0-9a-f]+", st[k]), (k, st[k])
    for k in ("ctime", "mtime"):
        # java.util.Date.toString(): "Sun Nov 22 04:08:54 UTC 2026"
        assert re.fullmatch(r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}", st[k]), (k, st[k])
        year = int(st[k][-4:])
        assert abs(year - datetime.now().year) <= 1, st[k]
    for k in ("cversion", "dataVersion", "aclVersion", "dataLength", "numChildren"):
        assert re.fullmatch(r"-?\d+", st[k]), (k, st[k])
    return st


def test_create_ls_get(server):
    out = ok(server, "create", "/cli-a", "hello")
    assert "Created /cli-a" in lines_of(out)
    assert {"cli-a", "zookeeper"} <= children_listed(ok(server, "ls", "/"))
    assert "hello" in lines_of(ok(server, "get", "/cli-a"))
    assert "Node already exists: /cli-a" in fails(server, "create", "/cli-a", "again")
    assert "Node does not exist: /cli-nope" in fails(server, "get", "/cli-nope")
    assert "Node does not exist: /cli-nope" in fails(server, "stat", "/cli-nope")


def test_stat_prints_every_field(server):
    ok(server, "create", "/cli-stat", "12345")
    st = parse_stat(ok(server, "stat", "/cli-stat"))
    assert st["cZxid"] == st["mZxid"] == st["pZxid"]
    assert int(st["cZxid"], 16) > 0
    assert st["ctime"] == st["mtime"]
    assert (st["cversion"], st["dataVersion"], st["aclVersion"]) == ("0", "0", "0")
    assert (st["ephemeralOwner"], st["dataLength"], st["numChildren"]) == ("0x0", "5", "0")


def test_set_updates_data_and_version(server):
    ok(server, "create", "/cli-set", "one")
    before = parse_stat(ok(server, "stat", "/cli-set"))
    ok(server, "set", "/cli-set", "second")
    out = ok(server, "get", "-s", "/cli-set")
    assert "second" in lines_of(out)
    st = parse_stat(out)
    assert st["dataVersion"] == "1" and st["dataLength"] == "6"
    assert st["cZxid"] == before["cZxid"] and st["ctime"] == before["ctime"]
    assert int(st["mZxid"], 16) > int(st["cZxid"], 16)
    assert st["pZxid"] == before["pZxid"]
    assert "version No is not valid : /cli-set" in fails(server, "set", "-v", "5", "/cli-set", "x")
    ok(server, "set", "-v", "1", "/cli-set", "third")
    assert parse_stat(ok(server, "stat", "/cli-set"))["dataVersion"] == "2"


def test_sequential_children_and_delete(server):
    ok(server, "create", "/cli-p", "parent")
    assert "Created /cli-p/seq-0000000000" in lines_of(ok(server, "create", "-s", "/cli-p/seq-", "a"))
    assert "Created /cli-p/seq-0000000001" in lines_of(ok(server, "create", "-s", "/cli-p/seq-", "b"))
    out = ok(server, "ls", "-s", "/cli-p")
    assert children_listed(out) == {"seq-0000000000", "seq-0000000001"}
    st = parse_stat(out)
    assert (st["numChildren"], st["cversion"]) == ("2", "2")
    assert "Node not empty: /cli-p" in fails(server, "delete", "/cli-p")
    ok(server, "delete", "/cli-p/seq-0000000000")
    st = parse_stat(ok(server, "stat", "/cli-p"))
    assert (st["numChildren"], st["cversion"]) == ("1", "3")
    ok(server, "deleteall", "/cli-p")
    assert "cli-p" not in children_listed(ok(server, "ls", "/"))
    assert "Node does not exist: /cli-p" in fails(server, "delete", "/cli-p")


def test_container_and_ttl_nodes(server):
    assert "Created /cli-ct" in lines_of(ok(server, "create", "-c", "/cli-ct"))
    assert "Created /cli-ttl" in lines_of(ok(server, "create", "-t", "600000", "/cli-ttl", "t"))
    for p in ("/cli-ct", "/cli-ttl"):
        assert parse_stat(ok(server, "stat", p))["ephemeralOwner"] == "0x0"


def test_getacl_setacl(server):
    ok(server, "create", "/cli-acl", "x")
    out = lines_of(ok(server, "getAcl", "/cli-acl"))
    i = out.index("'world,'anyone")
    assert out[i + 1] == ": cdrwa"
    ok(server, "setAcl", "/cli-acl", "world:anyone:r")
    out = lines_of(ok(server, "getAcl", "/cli-acl"))
    i = out.index("'world,'anyone")
    assert out[i + 1] == ": r"
    assert parse_stat(ok(server, "stat", "/cli-acl"))["aclVersion"] == "1"
    assert "Insufficient permission : /cli-acl" in fails(server, "set", "/cli-acl", "y")
    assert "x" in lines_of(ok(server, "get", "/cli-acl"))
    assert "Insufficient permission : /cli-acl" in fails(server, "setAcl", "/cli-acl", "world:anyone:cdrwa")


def test_digest_auth_session(server):
    """addauth, create with the `auth` ACL, read it back; another session is refused."""
    script = "\n".join([
        "addauth digest carol:pw",
        "create /cli-sec secret auth::cdrwa",
        "getAcl /cli-sec",
        "get /cli-sec",
        "whoami",
        "quit",
    ]) + "\n"
    rc, out = zkcli(server, stdin=script)
    assert rc == 0, out
    lines = lines_of(out)
    assert "Created /cli-sec" in lines
    i = lines.index("'digest,'" + d.digest_id("carol", "pw"))
    assert lines[i + 1] == ": cdrwa"
    assert "secret" in lines
    assert "digest: carol" in lines and "ip: 127.0.0.1" in lines
    assert "Insufficient permission : /cli-sec" in fails(server, "get", "/cli-sec")
    # the node is still visible to others
    assert "cli-sec" in children_listed(ok(server, "ls", "/"))


def test_whoami_sync_and_count(server):
    out = lines_of(ok(server, "whoami"))
    i = out.index("Auth scheme: User")
    assert out[i + 1] == "ip: 127.0.0.1"
    assert "Sync is OK" in lines_of(ok(server, "sync", "/"))
    ok(server, "create", "/cli-count", "")
    ok(server, "create", "/cli-count/a", "")
    ok(server, "create", "/cli-count/a/b", "")
    assert "2" in lines_of(ok(server, "getAllChildrenNumber", "/cli-count"))
