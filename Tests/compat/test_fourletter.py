"""Four-letter words (wire-protocol.md section 15): output formats and the
whitelist."""
import getpass
import os
import re

import pytest

import kzext
import rawzk
from servers import four_letter

VERSION_RE = r"Zookeeper version: 3\.8\.\S.*"
SRVR_TAIL = [
    r"Latency min/avg/max: \d+/\d+(\.\d+)?/\d+",
    r"Received: \d+",
    r"Sent: \d+",
    r"Connections: \d+",
    r"Outstanding: \d+",
    r"Zxid: 0x[0-9a-f]+",
    r"Mode: standalone",
    r"Node count: \d+",
]
BRIEF_CNXN_RE = r" /127\.0\.0\.1:\d+\[[0-9a-f]+\]\(queued=\d+,recved=\d+,sent=\d+\)"


def lines_of(text):
    assert text.endswith("\n"), repr(text[-50:])
    return text[:-1].split("\n")


def match_lines(lines, patterns):
    assert len(lines) == len(patterns), lines
    for line, pat in zip(lines, patterns):
        assert re.fullmatch(pat, line), (line, pat)


def field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ": "):
            return line[len(name) + 2:]
    raise AssertionError(f"{name} not in {text!r}")


def node_count(zk):
    # "Node count" counts every node plus one internal alias of the root
    return kzext.get_all_children_number(zk, "/") + 2


def test_ruok(server):
    assert four_letter(server.port, "ruok") == "imok"


def test_isro(server):
    assert four_letter(server.port, "isro") == "rw"


def test_srvr(server, zk, base):
    _, stat = zk.create(base + "/x", include_data=True)
    out = four_letter(server.port, "srvr")
    match_lines(lines_of(out), [VERSION_RE] + SRVR_TAIL)
    assert field(out, "Zxid") == hex(stat.czxid)
    assert int(field(out, "Node count")) == node_count(zk)
    assert int(field(out, "Connections")) >= 2  # kazoo + this probe
    mn, avg, mx = field(out, "Latency min/avg/max").split("/")
    assert int(mn) <= float(avg) <= int(mx)


def test_stat(server, zk, raw_factory, base):
    raw_factory()
    out = four_letter(server.port, "stat")
    lines = lines_of(out)
    assert re.fullmatch(VERSION_RE, lines[0])
    assert lines[1] == "Clients:"
    blank = lines.index("")
    clients = lines[2:blank]
    for line in clients:
        assert re.fullmatch(BRIEF_CNXN_RE, line), line
    match_lines(lines[blank + 1:], SRVR_TAIL)
    assert len(clients) == int(field(out, "Connections")) >= 3


def test_srst_resets_server_stats(server, zk, base):
    assert four_letter(server.port, "srst") == "Server stats reset.\n"
    out = four_letter(server.port, "srvr")
    assert field(out, "Latency min/avg/max") == "0/0.0/0"
    received = int(field(out, "Received"))
    assert received <= 2
    for _ in range(5):
        zk.get(base)
    assert int(field(four_letter(server.port, "srvr"), "Received")) >= received + 5


def test_cons_and_crst(server, zk, base):
    zk.get(base)
    sid, _ = zk.client_id
    out = four_letter(server.port, "cons")
    lines = lines_of(out)
    assert lines[-1] == ""
    mine = [line for line in lines if f"sid={hex(sid)}," in line]
    assert len(mine) == 1, lines
    assert re.fullmatch(
        r" /127\.0\.0\.1:\d+\[[0-9a-f]+\]\(queued=\d+,recved=\d+,sent=\d+,sid=0x[0-9a-f]+,"
        r"lop=[A-Z]+,est=\d+,to=10000,lcxid=0x[0-9a-f]+,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,"
        r"minlat=\d+,avglat=\d+,maxlat=\d+\)", mine[0]), mine[0]
    assert "lop=GETD," in mine[0]
    # the probe's own connection has no session: brief form
    assert any(re.fullmatch(BRIEF_CNXN_RE, line) for line in lines[:-1])
    assert four_letter(server.port, "crst") == "Connection stats reset.\n"
    after = [line for line in lines_of(four_letter(server.port, "cons")) if f"sid={hex(sid)}," in line]
    assert len(after) == 1
    assert "recved=0,sent=0," in after[0] and "lop=NA," in after[0]


def test_conf(server):
    out = four_letter(server.port, "conf")
    lines = lines_of(out)
    keys = [line.split("=", 1)[0] for line in lines]
    assert keys == ["clientPort", "secureClientPort", "dataDir", "dataDirSize", "dataLogDir",
                    "dataLogSize", "tickTime", "maxClientCnxns", "minSessionTimeout",
                    "maxSessionTimeout", "clientPortListenBacklog", "serverId"]
    conf = dict(line.split("=", 1) for line in lines)
    data_dir = os.path.join(server.cfg["dataDir"], "version-2")
    assert conf["clientPort"] == str(server.port)
    assert conf["secureClientPort"] == "-1"
    assert conf["dataDir"] == data_dir and conf["dataLogDir"] == data_dir
    assert conf["dataDirSize"].isdigit() and conf["dataLogSize"].isdigit()
    assert conf["tickTime"] == "2000"
    assert conf["maxClientCnxns"] == "60"
    assert (conf["minSessionTimeout"], conf["maxSessionTimeout"]) == ("4000", "40000")
    assert conf["clientPortListenBacklog"] == "-1"
    assert conf["serverId"] == "0"


def test_envi(server):
    out = four_letter(server.port, "envi")
    lines = lines_of(out)
    assert lines[0] == "Environment:"
    pairs = [line.split("=", 1) for line in lines[1:]]
    assert [k for k, _ in pairs] == [
        "zookeeper.version", "host.name", "java.version", "java.vendor", "java.home",
        "java.class.path", "java.library.path", "java.io.tmpdir", "java.compiler", "os.name",
        "os.arch", "os.version", "user.name", "user.home", "user.dir", "os.memory.free",
        "os.memory.max", "os.memory.total"]
    env = dict(pairs)
    assert env["zookeeper.version"].startswith("3.8.")
    assert env["os.name"] == "Linux"
    assert env["user.name"] == getpass.getuser()
    assert os.path.realpath(env["user.dir"]) == os.path.realpath(server.workdir)
    for k in ("os.memory.free", "os.memory.max", "os.memory.total"):
        assert re.fullmatch(r"\d+MB", env[k]), (k, env[k])


def test_dirs(server, zk, base):
    zk.create(base + "/d", b"x" * 1000)
    out = four_letter(server.port, "dirs")
    m = re.fullmatch(r"datadir_size: (\d+)\nlogdir_size: (\d+)\n", out)
    assert m, out
    # Both figures are the bytes of the files in the data directory's version-2
    # folder (dataLogDir is dataDir here), measured the same moment on disk.
    vdir = os.path.join(server.cfg["dataDir"], "version-2")
    on_disk = sum(os.path.getsize(os.path.join(vdir, f)) for f in os.listdir(vdir)) if os.path.isdir(vdir) else 0
    assert int(m.group(1)) == on_disk
    assert int(m.group(2)) == on_disk


def test_mntr(server, zk, base):
    zk.create(base + "/m")
    out = four_letter(server.port, "mntr")
    lines = lines_of(out)
    pairs = [line.split("\t") for line in lines]
    assert all(len(p) == 2 for p in pairs), [p for p in pairs if len(p) != 2][:3]
    assert pairs[0][0] == "zk_version" and pairs[0][1].startswith("3.8.")
    assert pairs[1] == ["zk_server_state", "standalone"]
    m = dict(pairs)
    assert len(m) == len(pairs)  # no duplicate keys
    for key in ["zk_avg_latency", "zk_max_latency", "zk_min_latency", "zk_packets_received",
                "zk_packets_sent", "zk_num_alive_connections", "zk_outstanding_requests",
                "zk_uptime", "zk_znode_count", "zk_watch_count", "zk_ephemerals_count",
                "zk_approximate_data_size", "zk_global_sessions", "zk_local_sessions",
                "zk_open_file_descriptor_count", "zk_max_file_descriptor_count",
                "zk_connection_drop_probability"]:
        assert key in m, key
        assert re.fullmatch(r"-?\d+(\.\d+(E-?\d+)?)?", m[key]), (key, m[key])
    assert int(m["zk_znode_count"]) == node_count(zk)
    assert int(m["zk_num_alive_connections"]) >= 2
    assert int(m["zk_global_sessions"]) >= 1
    assert m["zk_local_sessions"] == "0"


# ------------------------------------------------------------------ exact counts on a quiet server
@pytest.fixture
def quiet(server_factory, raw_factory):
    """A dedicated server with two sessions holding known watches/ephemerals:
    A: exists(/a), getData(/b), getChildren(/c), addWatch(/p, persistent), ephemeral /e
    B: exists(/a)"""
    srv = server_factory()
    a, b = raw_factory(srv), raw_factory(srv)
    for p in ("/b", "/c"):
        assert a.create(p)[0] == 0
    a.create("/e", flags=rawzk.EPHEMERAL)
    a.exists("/a", watch=True)
    a.get_data("/b", watch=True)
    a.get_children("/c", watch=True)
    a.add_watch("/p", rawzk.ADDWATCH_PERSISTENT)
    b.exists("/a", watch=True)
    return srv, a, b


def parse_groups(text):
    """'k1\\n\\tv1\\n\\tv2\\nk2\\n\\tv3\\n\\n' -> {k1: {v1, v2}, k2: {v3}}"""
    assert text.endswith("\n\n"), repr(text)
    groups, key = {}, None
    for line in text[:-2].split("\n"):
        if line.startswith("\t"):
            groups[key].add(line[1:])
        else:
            key = line
            assert key not in groups
            groups[key] = set()
    return groups


def test_wchs_wchc_wchp(quiet):
    srv, a, b = quiet
    # data-table watches only: /a (A, B), /b (A), /p (A); the child watch on /c is not counted
    assert four_letter(srv.port, "wchs") == "2 connections watching 3 paths\nTotal watches:4\n"
    sa, sb = hex(a.session_id), hex(b.session_id)
    assert parse_groups(four_letter(srv.port, "wchc")) == {sa: {"/a", "/b", "/p"}, sb: {"/a"}}
    assert parse_groups(four_letter(srv.port, "wchp")) == {"/a": {sa, sb}, "/b": {sa}, "/p": {sa}}


def test_mntr_counts(quiet):
    srv, a, b = quiet
    m = dict(line.split("\t") for line in four_letter(srv.port, "mntr").splitlines())
    assert m["zk_ephemerals_count"] == "1"
    assert m["zk_global_sessions"] == "2"
    assert m["zk_num_alive_connections"] == "3"  # A, B and this probe
    assert m["zk_znode_count"] == "8"  # / /zookeeper{,/quota,/config} /b /c /e + root alias
    assert m["zk_watch_count"] == "6"  # both tables: /a x2, /b, /c, /p x2


def test_dump(quiet):
    srv, a, b = quiet
    out = four_letter(srv.port, "dump")
    lines = lines_of(out)
    assert lines[0] == "SessionTracker dump:"
    m = re.fullmatch(r"Session Sets \((\d+)\)/\((\d+)\):", lines[1])
    assert m and int(m.group(2)) == 2, lines[1]
    i = lines.index("ephemeral nodes dump:")
    sessions = [line[1:] for line in lines[2:i] if line.startswith("\t")]
    assert sorted(sessions) == sorted([hex(a.session_id), hex(b.session_id)])
    for line in lines[2:i]:
        assert line.startswith("\t0x") or re.fullmatch(r"\d+ expire at .+:", line), line
    assert lines[i + 1:i + 4] == ["Sessions with Ephemerals (1):", hex(a.session_id) + ":", "\t/e"]
    assert lines[i + 4] == "Connections dump:"
    assert re.fullmatch(r"Connections Sets \(\d+\)/\(3\):", lines[i + 5]), lines[i + 5]
    cnx = [line for line in lines[i + 6:] if line.startswith("\t")]
    assert len(cnx) == 3
    for line in cnx:
        assert re.fullmatch(r"\tip: /127\.0\.0\.1:\d+ sessionId: 0x[0-9a-f]+", line), line
    assert sorted(line.rsplit(" ", 1)[1] for line in cnx) == sorted(
        ["0x0", hex(a.session_id), hex(b.session_id)])


# ------------------------------------------------------------------ whitelist
def test_whitelist(server_factory):
    srv = server_factory(cfg={"4lw.commands.whitelist": "ruok, stat"})
    assert four_letter(srv.port, "ruok") == "imok"
    assert four_letter(srv.port, "stat").startswith("Zookeeper version: 3.8.")
    assert four_letter(srv.port, "srvr").startswith("Zookeeper version: 3.8.")  # always allowed
    for cmd in ("mntr", "conf", "cons", "envi", "isro", "wchs", "dump", "crst", "srst", "dirs"):
        assert four_letter(srv.port, cmd) == f"{cmd} is not executed because it is not in the whitelist.\n"


def test_whitelist_srvr_only(server_factory):
    srv = server_factory(cfg={"4lw.commands.whitelist": "srvr"})
    assert four_letter(srv.port, "ruok") == "ruok is not executed because it is not in the whitelist.\n"
    assert four_letter(srv.port, "srvr").startswith("Zookeeper version: 3.8.")
