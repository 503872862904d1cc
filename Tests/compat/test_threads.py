"""The standalone pipeline runs as named OS threads (architecture doc), so an
operator sees ProcessThread, SyncThread and SessionTracker in `top -H`."""
import glob

import pytest

pytestmark = pytest.mark.zkswiftd_only("inspects zkswiftd's own threads")


def test_pipeline_threads_are_named(server, zk):
    zk.create("/threads-check")   # the chain has carried a request
    names = []
    for path in glob.glob(f"/proc/{server.proc.pid}/task/*/comm"):
        with open(path) as f:
            names.append(f.read().strip())
    for expected in ["ProcessThread", "SyncThread", "SessionTracker", "ContainerManage"]:
        assert names.count(expected) == 1, (expected, names)
    assert any(n.startswith("NIO-ELT") for n in names), names
