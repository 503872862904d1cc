"""The daemon's log: swift-log lines on stderr. Under systemd (JOURNAL_STREAM
naming the process's stderr) each line carries the sd-daemon priority
prefix journald reads, so `journalctl -p warning` filters by level; the log
level comes from zoo.cfg's zkswiftd.logLevel or ZKSWIFTD_LOG_LEVEL."""
import os
import re

import pytest

import servers
from helpers import _LIVE

pytestmark = pytest.mark.zkswiftd_only("zkswiftd's own log format and settings")


def run_once(cfg=None, env=None, journal=False):
    """Starts a server, makes it log a warning (a bad frame), stops it, and
    returns its log lines."""
    srv = servers.ZkSwiftd(cfg=cfg or {})
    srv.extra_env.update(env or {})
    if journal:
        # The daemon checks JOURNAL_STREAM against its own stderr: the log file.
        open(srv.log_path, "ab").close()
        st = os.stat(srv.log_path)
        srv.extra_env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
    _LIVE.append(srv)
    try:
        srv.start()
        # A frame declaring 2^31-1 bytes: one WARN ("Len error"), as in test_limits.
        import socket
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(b"\x7f\xff\xff\xff")
            s.recv(16)
        srv.stop()
        with open(srv.log_path, "rb") as f:
            return f.read().decode(errors="replace").splitlines()
    finally:
        _LIVE.remove(srv)
        srv.cleanup()


def test_journal_lines_carry_priority_prefixes():
    lines = [l for l in run_once(journal=True) if l]
    assert lines, "no log"
    assert all(re.match(r"<[0-7]>\S+: ", l) for l in lines), lines[:5]
    assert any(l.startswith("<6>zkswiftd: zkswiftd ") and "serving clients" in l for l in lines), lines[:5]
    warn = [l for l in lines if "Len error" in l]
    assert len(warn) == 1 and warn[0].startswith("<4>"), warn


def test_without_the_journal_lines_have_time_and_level():
    # JOURNAL_STREAM inherited from elsewhere (not this stderr) is ignored.
    lines = [l for l in run_once(env={"JOURNAL_STREAM": "1:1"}) if l]
    assert not any(l.startswith("<") for l in lines), lines[:5]
    assert any(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info zkswiftd: ", l) for l in lines), lines[:5]
    assert any(" warning " in l and "Len error" in l for l in lines)


def test_level_from_zoo_cfg_and_environment():
    quiet = run_once(cfg={"zkswiftd.logLevel": "warning"})
    assert not any(" info " in l for l in quiet), quiet[:5]
    assert any(" warning " in l and "Len error" in l for l in quiet)
    # The environment wins over zoo.cfg.
    quieter = run_once(cfg={"zkswiftd.logLevel": "info"}, env={"ZKSWIFTD_LOG_LEVEL": "error"})
    assert not any(" info " in l or " warning " in l for l in quieter), quieter[:5]
    louder = run_once(cfg={"zkswiftd.logLevel": "error"}, env={"ZKSWIFTD_LOG_LEVEL": "info"})
    assert any(" info " in l for l in louder) and any("Len error" in l for l in louder), louder[:5]


def test_bad_level_in_zoo_cfg_is_a_config_error():
    srv = servers.ZkSwiftd(cfg={"zkswiftd.logLevel": "loud"})
    try:
        with pytest.raises(RuntimeError, match="zkswiftd.logLevel"):
            srv.start(timeout=10)
        assert srv.proc is None or srv.proc.returncode == 2
    finally:
        srv.cleanup()
