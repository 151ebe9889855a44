"""library/stack_service.py: what it decides to do with a service, from systemd's answer and the files."""

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("stack_service", ROOT / "library" / "stack_service.py")
stack_service = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(stack_service)

STAMP = "Thu 2026-12-03 06:46:24.216568 UTC"
STARTED = 1796280384.216568
RUNNING = {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled",
           "ActiveEnterTimestamp": STAMP, "NeedDaemonReload": "no"}


def params(**overrides):
    return {"name": "apache2", "state": "started", "enabled": True, "config": [], "apply": "reload", **overrides}


def verbs(steps):
    return [verb for verb, _why in steps]


def test_timestamp_keeps_microseconds_and_ignores_the_weekday():
    assert stack_service.timestamp(STAMP) == pytest.approx(STARTED, abs=1e-6)
    assert stack_service.timestamp("Do " + STAMP.split(" ", 1)[1]) == pytest.approx(STARTED, abs=1e-6)
    assert stack_service.timestamp("") is None
    assert stack_service.timestamp("n/a") is None


def test_a_running_service_with_older_files_is_left_alone(tmp_path):
    conf = tmp_path / "site.conf"
    conf.write_text("x")
    os.utime(conf, ns=(int((STARTED - 1) * 1e9),) * 2)
    assert stack_service.plan(params(config=[str(conf)]), RUNNING, STARTED) == []


def test_a_file_changed_after_the_last_apply_reapplies_it_the_configured_way(tmp_path):
    conf = tmp_path / "site.conf"
    conf.write_text("x")
    # Written 10 microseconds after the start: whole seconds would miss it.
    os.utime(conf, ns=(int(STARTED * 1e9) + 10_000,) * 2)
    steps = stack_service.plan(params(config=[str(conf)]), RUNNING, STARTED)
    assert verbs(steps) == ["reload"]
    assert str(conf) in steps[0][1]
    assert verbs(stack_service.plan(params(config=[str(conf)], apply="restart"), RUNNING, STARTED)) == ["restart"]


def test_glob_patterns_and_missing_paths(tmp_path):
    (tmp_path / "a.conf").write_text("a")
    newer = tmp_path / "b.conf"
    newer.write_text("b")
    os.utime(tmp_path / "a.conf", ns=(int((STARTED - 5) * 1e9),) * 2)
    os.utime(newer, ns=(int((STARTED + 5) * 1e9),) * 2)
    assert stack_service.newer_config([str(tmp_path / "gone"), str(tmp_path / "*.conf")], STARTED) == str(newer)
    assert stack_service.newer_config([str(tmp_path / "gone")], STARTED) is None
    # Unknown last apply: any existing path counts as newer.
    assert stack_service.newer_config([str(newer)], None) == str(newer)


def test_a_link_counts_with_its_own_time_so_switching_back_to_an_old_release_restarts(tmp_path):
    old_release = tmp_path / "r1"
    old_release.mkdir()
    os.utime(old_release, ns=(int((STARTED - 100) * 1e9),) * 2)
    current = tmp_path / "current"
    current.symlink_to(old_release)
    os.utime(current, ns=(int((STARTED + 1) * 1e9),) * 2, follow_symlinks=False)
    assert stack_service.newer_config([str(current)], STARTED) == str(current)


def test_stopped_disabled_and_changed_units():
    assert verbs(stack_service.plan(params(), dict(RUNNING, ActiveState="inactive"), STARTED)) == ["start"]
    assert verbs(stack_service.plan(params(), dict(RUNNING, UnitFileState="disabled"), STARTED)) == ["enable"]
    assert verbs(stack_service.plan(params(), dict(RUNNING, NeedDaemonReload="yes"), STARTED)) == ["daemon-reload"]
    assert verbs(stack_service.plan(params(enabled=False), RUNNING, STARTED)) == ["disable"]
    assert verbs(stack_service.plan(params(enabled=None), dict(RUNNING, UnitFileState="disabled"), STARTED)) == []


def test_a_unit_not_installed_yet_is_to_be_loaded_enabled_and_started():
    props = {"LoadState": "not-found", "ActiveState": "inactive", "UnitFileState": ""}
    assert verbs(stack_service.plan(params(), props, None)) == ["daemon-reload", "enable", "start"]


def test_handlers_always_act_and_start_a_stopped_service():
    assert verbs(stack_service.plan(params(state="reloaded"), RUNNING, STARTED)) == ["reload"]
    assert verbs(stack_service.plan(params(state="restarted"), RUNNING, STARTED)) == ["restart"]
    assert verbs(stack_service.plan(params(state="reloaded"), dict(RUNNING, ActiveState="failed"), STARTED)) == ["start"]
    assert verbs(stack_service.plan(params(state="stopped"), RUNNING, STARTED)) == ["stop"]


def test_the_last_apply_is_the_later_of_the_start_and_the_modules_record(tmp_path, monkeypatch):
    monkeypatch.setattr(stack_service, "RECORD_DIR", str(tmp_path))
    assert stack_service.last_applied(RUNNING, "apache2") == pytest.approx(STARTED, abs=1e-6)
    stack_service.record("apache2")
    later = stack_service.last_applied(RUNNING, "apache2")
    assert later > STARTED
    # A reload recorded after a file changed covers it: nothing more to do.
    conf = tmp_path / "site.conf"
    conf.write_text("x")
    os.utime(conf, ns=(int((later - 1e-3) * 1e9),) * 2)
    assert stack_service.plan(params(config=[str(conf)]), RUNNING, later) == []
    assert stack_service.last_applied({"ActiveEnterTimestamp": ""}, "unknown-unit") is None


def test_properties_reads_systemctls_answer():
    def fake(*args):
        assert args[:2] == ("show", "--timestamp=us+utc")
        return 0, "ActiveState=active\nUnitFileState=enabled\nActiveEnterTimestamp=" + STAMP + "\n", ""

    assert stack_service.properties("apache2", run=fake)["ActiveEnterTimestamp"] == STAMP
