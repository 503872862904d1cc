"""Ensemble configuration at start-up (issue 4 item 1): a bad server line, a
missing or unknown myid, duplicate ports each stop zkswiftd with one clear
line on stderr and exit status 2, before anything is bound or written."""
import os
import subprocess

import pytest

import servers

pytestmark = pytest.mark.zkswiftd_only("zkswiftd's own start-up errors")

BASE = "tickTime=2000\ninitLimit=5\nsyncLimit=2\nclientPort=21810\n"
THREE = ("server.1=127.0.0.1:28881:38881\nserver.2=127.0.0.1:28882:38882\n"
         "server.3=127.0.0.1:28883:38883\n")


def _run(tmp_path, text, myid="1"):
    data = tmp_path / "data"
    data.mkdir()
    if myid is not None:
        (data / "myid").write_text(myid)
    cfg = tmp_path / "zoo.cfg"
    cfg.write_text(f"dataDir={data}\n" + text)
    p = subprocess.run([servers.zkswiftd_binary(), str(cfg)], capture_output=True, text=True, timeout=30)
    return p, data


@pytest.mark.parametrize("text,myid,expect", [
    (BASE + THREE + "server.4=127.0.0.1:28884\n", "1", "does not have the form"),
    (BASE + THREE + "server.4=127.0.0.1:28884:38884:voter\n", "1", "Unrecognised peertype: voter"),
    (BASE + THREE, None, "myid file is missing"),
    (BASE + THREE, "one", "serverid one is not a number"),
    (BASE + THREE, "9", "My id 9 not in the peer list"),
    (BASE + THREE + "server.4=127.0.0.1:28884:38881\n", "1", "is already the election port of server.1"),
    (THREE + "clientPort=21810\n", "1", "initLimit is not set"),
])
def test_bad_ensemble_config_is_one_line_and_exit_2(tmp_path, text, myid, expect):
    p, data = _run(tmp_path, text, myid)
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and expect in lines[0], p.stderr
    assert lines[0].startswith("zkswiftd: invalid configuration: ")
    assert not os.path.exists(data / "version-2"), "nothing may be written for a bad configuration"
