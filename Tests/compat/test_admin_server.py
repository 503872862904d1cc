"""The HTTP AdminServer, compared with Apache ZooKeeper 3.8.0's (Jetty) in
the same state: the /commands list, every command by its primary name and by
an alias, the JSON shape of each answer (keys and value types, recursively),
the values that do not depend on timing, and the HTTP errors. Then the
ensemble commands (leader, voting_view, zabstate, observers) on a leader, a
follower and an observer of each kind.
"""
import json
import re
import urllib.error
import urllib.request

import pytest
from kazoo.client import KazooClient

import servers
from ensemble import Ensemble
from helpers import _LIVE, watched_tree

# Commands whose answer differs by design: monitor lists Apache's JVM and
# ServerMetrics keys too (compared as a subset below); the environment and
# system properties describe a JVM.
SHAPE_EXEMPT = {"monitor", "environment", "system_properties"}


def admin_props(port):
    return {"zookeeper.admin.enableServer": "true", "zookeeper.admin.serverPort": str(port),
            "zookeeper.admin.serverAddress": "127.0.0.1"}


def get(port, path, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def command(port, name, query=""):
    status, ctype, body = get(port, f"/commands/{name}{query}")
    assert status == 200 and ctype.startswith("application/json"), (name, status, ctype, body)
    return json.loads(body)


def shape(v):
    """Keys and value types, recursively; a list by its first element, and a
    map keyed by data (session ids, paths, times) by its first value."""
    if isinstance(v, dict):
        if v and all(k.isdigit() or k.startswith("/") for k in v):
            return {"*": shape(next(iter(v.values())))}
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


@pytest.fixture(scope="module")
def both():
    """One Apache and one zkswiftd server in the same state: two znodes, an
    ephemeral, a data watch, one live session."""
    pair = {}
    for kind in ("apache", "zkswiftd"):
        aport = servers.free_port()
        srv = servers.make_server(kind, props=admin_props(aport))
        srv.admin_port = aport
        _LIVE.append(srv)
        srv.start()
        zk = KazooClient(hosts=srv.hosts)
        zk.start(timeout=15)
        watched_tree(zk, "/app")
        pair[kind] = (srv, zk)
    yield {k: v[0] for k, v in pair.items()}
    for srv, zk in pair.values():
        zk.stop()
        zk.close()
        _LIVE.remove(srv)
        srv.cleanup()


def test_command_list_matches(both):
    lists = {k: get(s.admin_port, "/commands") for k, s in both.items()}
    names = {k: re.findall(r'href="/commands/(\w+)"', body) for k, (_, _, body) in lists.items()}
    assert len(names["apache"]) == 26
    assert names["zkswiftd"] == names["apache"]


@pytest.mark.parametrize("name", [
    "configuration", "connection_stat_reset", "connections", "dirs", "dump", "environment", "get_trace_mask", "hash",
    "initial_configuration", "is_read_only", "last_snapshot", "leader", "monitor", "observer_connection_stat_reset",
    "observers", "ruok", "server_stats", "set_trace_mask", "stat_reset", "stats", "system_properties", "voting_view",
    "watch_summary", "watches", "watches_by_path", "zabstate"])
def test_each_command_has_apaches_shape(both, name):
    ours, theirs = (command(both[k].admin_port, name) for k in ("zkswiftd", "apache"))
    assert ours["command"] == theirs["command"] == name
    assert ours["error"] == theirs["error"]
    if name == "monitor":
        extra = set(ours) - set(theirs)
        assert not extra, f"keys Apache's monitor does not have: {sorted(extra)}"
        for k in ours:
            assert shape(ours[k]) == shape(theirs[k]), k
        core = {"version", "server_state", "avg_latency", "max_latency", "min_latency", "packets_received",
                "packets_sent", "num_alive_connections", "outstanding_requests", "znode_count", "watch_count",
                "ephemerals_count", "approximate_data_size", "open_file_descriptor_count",
                "max_file_descriptor_count", "uptime", "global_sessions", "local_sessions",
                "last_client_response_size", "min_client_response_size", "max_client_response_size"}
        assert core <= set(ours) and core <= set(theirs)
    elif name not in SHAPE_EXEMPT:
        assert shape(ours) == shape(theirs)


@pytest.mark.parametrize("name, fields", [
    ("ruok", []),
    ("is_read_only", ["read_only"]),
    ("watch_summary", ["num_connections", "num_paths", "num_total_watches"]),
    ("leader", ["error"]),
    ("voting_view", ["current_config"]),
    ("zabstate", ["voting", "zabstate"]),
    ("observers", ["synced_observers", "observers"]),
    ("hash", ["digests"]),
    ("last_snapshot", ["zxid"]),
])
def test_values_that_do_not_depend_on_timing(both, name, fields):
    ours, theirs = (command(both[k].admin_port, name) for k in ("zkswiftd", "apache"))
    for f in fields:
        assert ours[f] == theirs[f], f


def test_session_watch_and_ephemeral_answers(both):
    for kind, srv in both.items():
        dump = command(srv.admin_port, "dump")
        assert list(dump["session_id_to_ephemeral_paths"].values()) == [["/app/eph"]], kind
        assert list(command(srv.admin_port, "watches")["session_id_to_watched_paths"].values()) == [["/app/a"]], kind
        by_path = command(srv.admin_port, "watches_by_path")["path_to_session_ids"]
        assert list(by_path) == ["/app/a"], kind
        conf = command(srv.admin_port, "conf")   # an alias answers under the primary name
        assert conf["command"] == "configuration" and conf["client_port"] == srv.port, kind
        assert conf["data_dir"].endswith("/version-2") and conf["tick_time"] == 2000, kind
        stat = command(srv.admin_port, "srvr")
        assert stat["command"] == "server_stats" and stat["server_stats"]["server_state"] == "standalone", kind
        assert stat["node_count"] == 8, kind   # /, /zookeeper(/quota,/config), /app(/a,/eph) and kazoo's none
        icfg = command(srv.admin_port, "initial_configuration")["initial_configuration"]
        assert f"clientPort={srv.port}" in icfg, kind


def test_arguments_and_errors(both):
    for kind, srv in both.items():
        p = srv.admin_port
        assert command(p, "set_trace_mask")["error"] == "setTraceMask requires long traceMask argument", kind
        assert command(p, "set_trace_mask", "?traceMask=abc")["error"] == \
            "setTraceMask requires long traceMask argument, got abc", kind
        assert command(p, "set_trace_mask", "?traceMask=306")["tracemask"] == 306, kind
        assert command(p, "get_trace_mask")["tracemask"] == 306, kind
        unknown = command(p, "nosuch")
        assert unknown == {"command": "nosuch", "error": "Unknown command: nosuch"}, kind
        assert get(p, "/commands/ruok", method="POST")[0] == 405, kind
        assert get(p, "/elsewhere")[0] == 404, kind


# ------------------------------------------------------------------ ensembles

@pytest.mark.parametrize("impl", ["zkswiftd", "apache"])
def test_ensemble_commands(impl):
    ens = Ensemble(3, observers=1, impl=impl)
    ports = ens.port_per_member(admin_props)
    try:
        ens.start()
        leader = ens.leader()
        zk = ens.client(leader)
        zk.create("/x", b"1")
        expected_view = {}
        for sid in (1, 2, 3):
            host, qport, eport = ens.members[sid].cfg[f"server.{sid}"].split(";")[0].split(":")[:3]
            expected_view[str(sid)] = {"server_addresses": [f"{host}:{qport}"],
                                       "election_addresses": [f"{host}:{eport}"],
                                       "client_address": f"127.0.0.1:{ens.members[sid].port}",
                                       "learner_type": "participant"}
        for sid in ens.sids:
            p = ports[sid]
            lead = command(p, "leader")
            assert (lead["is_leader"], lead["leader_id"], lead["leader_ip"]) == (sid == leader, leader, "127.0.0.1"), sid
            assert command(p, "voting_view")["current_config"] == expected_view, sid
            zab = command(p, "zabstate")
            assert (zab["myid"], zab["is_leader"], zab["voting"], zab["zabstate"]) == \
                (sid, sid == leader, sid != 4, "broadcast"), sid
            assert zab["quorum_address"]["one"] == expected_view.get(str(sid), {}).get("server_addresses", [zab["quorum_address"]["one"]])[0]
            assert command(p, "configuration")["server_id"] == sid
            srvr = command(p, "srvr")
            role = "leader" if sid == leader else ("observer" if sid == 4 else "follower")
            assert srvr["server_stats"]["server_state"] == role
            assert ("proposal_stats" in srvr) == (sid == leader)
        obs = command(ports[leader], "observers")
        assert obs["synced_observers"] == 1 and [o["sid"] for o in obs["observers"]] == [4]
    finally:
        ens.stop()
