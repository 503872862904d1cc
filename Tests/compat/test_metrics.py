"""The Prometheus /metrics endpoint (metricsProvider.className naming
Apache's PrometheusMetricsProvider). Debian's Apache ZooKeeper 3.8.0 package
does not ship that provider's jar, so the names are checked against the
gauges Apache 3.8 registers (ZooKeeperServer and LeaderZooKeeperServer
registerMetrics), and the values against mntr's in the same state."""
import re
import urllib.error
import urllib.request

import pytest
from kazoo.client import KazooClient

import servers
from ensemble import Ensemble
from helpers import _LIVE, watched_tree

pytestmark = pytest.mark.zkswiftd_only("Debian's Apache 3.8.0 has no Prometheus provider to compare with")

PROVIDER = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"

# Apache 3.8.0's gauges, from its source: ZooKeeperServer.registerMetrics and
# LeaderZooKeeperServer.registerMetrics (the quota gauge sets aside).
APACHE_GAUGES = {
    "avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent", "num_alive_connections",
    "outstanding_requests", "uptime", "znode_count", "watch_count", "ephemerals_count", "approximate_data_size",
    "global_sessions", "local_sessions", "open_file_descriptor_count", "max_file_descriptor_count",
    "connection_drop_probability", "last_client_response_size", "max_client_response_size",
    "min_client_response_size", "outstanding_tls_handshake", "auth_failed_count", "non_mtls_remote_conn_count",
    "non_mtls_local_conn_count",
}
LEADER_GAUGES = {"learners", "synced_followers", "synced_non_voting_followers", "synced_observers", "pending_syncs",
                 "leader_uptime", "last_proposal_size", "max_proposal_size", "min_proposal_size"}
# What a Grafana dashboard for ZooKeeper plots first.
CORE = {"znode_count", "watch_count", "ephemerals_count", "approximate_data_size", "num_alive_connections",
        "outstanding_requests", "avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent",
        "open_file_descriptor_count", "max_file_descriptor_count", "global_sessions", "uptime"}


def metrics_props(port):
    return {"metricsProvider.className": PROVIDER, "metricsProvider.httpPort": str(port),
            "metricsProvider.httpHost": "127.0.0.1"}


def scrape(port, path="/metrics"):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, "", ""


def parse(text):
    """{name: (type, value)} from the Prometheus text format."""
    types, values = {}, {}
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            types[m.group(1)] = m.group(2)
        elif line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return {n: (types.get(n), v) for n, v in values.items()}


def mntr(port):
    out = servers.four_letter(port, "mntr")
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def test_standalone_gauges_have_apaches_names_and_mntrs_values():
    mport = servers.free_port()
    srv = servers.ZkSwiftd(props=metrics_props(mport))
    _LIVE.append(srv)
    try:
        srv.start()
        zk = KazooClient(hosts=srv.hosts)
        zk.start(timeout=15)
        watched_tree(zk, "/m", b"12345")
        status, ctype, body = scrape(mport)
        assert status == 200 and ctype.startswith("text/plain"), (status, ctype)
        metrics = parse(body)
        assert set(metrics) <= APACHE_GAUGES, sorted(set(metrics) - APACHE_GAUGES)
        assert CORE <= set(metrics), sorted(CORE - set(metrics))
        assert all(t == "gauge" for t, _ in metrics.values())
        assert f"# HELP znode_count znode_count" in body   # Apache's help text is the name
        m = mntr(srv.port)
        for name in ("znode_count", "watch_count", "ephemerals_count", "approximate_data_size", "global_sessions"):
            assert metrics[name][1] == float(m["zk_" + name]), name
        # mntr's own connection is one more than the scrape saw.
        assert metrics["num_alive_connections"][1] == float(m["zk_num_alive_connections"]) - 1
        assert metrics["ephemerals_count"][1] == 1 and metrics["watch_count"][1] == 1
        zk.create("/m/b")
        assert parse(scrape(mport)[2])["znode_count"][1] == metrics["znode_count"][1] + 1
        assert scrape(mport, "/elsewhere")[0] == 404
        zk.stop()
        zk.close()
    finally:
        _LIVE.remove(srv)
        srv.cleanup()


def test_leader_adds_apaches_leader_gauges():
    ens = Ensemble(3, impl="zkswiftd")
    ports = ens.port_per_member(metrics_props)
    try:
        ens.start()
        leader = ens.leader()
        ens.client(leader).create("/p", b"x")
        lm = parse(scrape(ports[leader])[2])
        assert set(lm) <= APACHE_GAUGES | LEADER_GAUGES, sorted(set(lm) - APACHE_GAUGES - LEADER_GAUGES)
        assert lm["synced_followers"][1] == 2 and lm["learners"][1] == 2
        follower = next(s for s in ens.sids if s != leader)
        fm = parse(scrape(ports[follower])[2])
        assert not set(fm) & LEADER_GAUGES and CORE <= set(fm)
    finally:
        ens.stop()
