"""library/host_state.py: a service compared with the files it reads (not_older_than)."""

import importlib.util
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("host_state", ROOT / "library" / "host_state.py")
host_state = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(host_state)

STAMP = "Thu 2026-12-03 06:46:24.216568 UTC"
STARTED = 1796280384.216568


def test_start_time_keeps_microseconds():
    assert host_state.start_time(STAMP) == STARTED
    # The weekday's name is not read (it may follow the locale).
    assert host_state.start_time("Do " + STAMP.split(" ", 1)[1]) == STARTED


def test_start_time_of_a_service_that_never_started():
    assert host_state.start_time("") is None
    assert host_state.start_time("n/a") is None


def _service(monkeypatch, tmp_path, file_mtime):
    path = tmp_path / "settings"
    path.write_text("x")
    os.utime(path, (file_mtime, file_mtime))
    props = "ActiveState=active\nUnitFileState=enabled\nActiveEnterTimestamp=%s\n" % STAMP
    monkeypatch.setattr(host_state, "run", lambda argv: props)
    return host_state.service_differences(
        {"name": "app", "active": True, "enabled": True, "not_older_than": [str(path)]})


def test_a_file_written_earlier_in_the_same_second_is_not_newer(monkeypatch, tmp_path):
    assert _service(monkeypatch, tmp_path, STARTED - 0.2) == []


def test_a_file_written_after_the_start_is_newer(monkeypatch, tmp_path):
    assert _service(monkeypatch, tmp_path, STARTED + 0.1) == [
        "service app: started before its settings or code changed"]
