"""playbooks/status.yml's parts: the host's report (roles/django/files/django_stack_status.py)
and the table made of the reports (roles/django/filter_plugins/django_status.py)."""

import datetime
import json
import os
import sys
from pathlib import Path

ROLE = Path(__file__).resolve().parents[3] / "roles" / "django"
sys.path.insert(0, str(ROLE / "files"))
sys.path.insert(0, str(ROLE / "filter_plugins"))

import django_stack_status as report  # noqa: E402
from django_status import FilterModule, django_status_row, django_status_table  # noqa: E402

LOG = "\n".join(
    json.dumps(entry)
    for entry in [
        {"time": "2026-12-01T10:00:00Z", "release": "r1", "outcome": "deployed", "by": "ann"},
        {"time": "2026-12-02T10:00:00Z", "release": "r2", "outcome": "deployed", "by": "bob"},
        {"time": "2026-12-03T10:00:00Z", "release": "r3", "outcome": "failed", "switched_back": True},
    ]
) + "\nnot json\n"


def test_the_deploy_that_made_the_release_current_and_the_last_one():
    deployed, last = report.last_entries(LOG, "r2")
    assert deployed["by"] == "bob"
    assert last["release"] == "r3"
    assert report.last_entries("", "r1") == ({}, {})


def test_pending_migrations_are_the_unchecked_lines_of_the_plan():
    plan = "[X]  contenttypes.0001_initial\n[X]  books.0001_initial\n[ ]  books.0002_author_email\n[ ]  books.0003_x\n"
    assert report.pending_from_plan(plan) == ["books.0002_author_email", "books.0003_x"]
    assert report.pending_from_plan("[X]  books.0001_initial\n") == []


def test_a_backup_s_age_in_hours():
    now = datetime.datetime(2026, 12, 3, 15, 30, tzinfo=datetime.timezone.utc)
    assert report.backup_age({"time": "20261203T033000Z", "bytes": 5}, now)["age_hours"] == 12.0
    assert report.backup_age({}, now) == {"age_hours": None}


def test_the_report_of_a_host_never_deployed_to(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "systemd", lambda unit, *properties: {"ActiveState": "inactive"})
    monkeypatch.setattr(report, "health", lambda url, host: {"status": None, "error": "connection refused"})
    result = report.status(str(tmp_path), "shop", "shop-backup", "shop", "http://127.0.0.1:8000/health/", "shop.example")
    assert result["release"] == ""
    assert result["deployed"] == {} and result["last_deploy"] == {}
    assert "pending" not in result
    assert result["backup"] == {"age_hours": None}
    assert result["lock"] == {"record": None, "busy": None, "work": None}


def test_the_report_reads_the_release_the_log_and_the_backup(tmp_path, monkeypatch):
    (tmp_path / "releases" / "r2").mkdir(parents=True)
    os.symlink(tmp_path / "releases" / "r2", tmp_path / "current")
    (tmp_path / "deploy.log").write_text(LOG)
    (tmp_path / "backups" / "scheduled").mkdir(parents=True)
    (tmp_path / "backups" / "scheduled" / "last.json").write_text(
        json.dumps({"time": "20261203T033000Z", "bytes": 123456, "verified": True, "error": ""})
    )
    monkeypatch.setattr(report, "systemd", lambda unit, *properties: {"unit": unit})
    monkeypatch.setattr(report, "health", lambda url, host: {"status": 200})

    class Plan:
        returncode, stdout, stderr = 0, "[X]  books.0001_initial\n[ ]  books.0002_x\n", ""

    calls = []
    monkeypatch.setattr(report.subprocess, "run", lambda argv, **kwargs: calls.append(argv) or Plan())
    result = report.status(str(tmp_path), "shop", "shop-backup", "shop", "http://127.0.0.1:8000/health/", "h")
    assert result["release"] == "r2"
    assert result["deployed"]["by"] == "bob"
    assert result["last_deploy"]["outcome"] == "failed"
    assert result["pending"] == ["books.0002_x"]
    assert result["backup"]["verified"] is True and result["backup"]["age_hours"] is not None
    assert result["timer"] == {"unit": "shop-backup.timer"}
    assert result["service"] == {"unit": "shop.service"}
    assert calls == [["runuser", "-u", "shop", "--", str(tmp_path / "bin" / "manage"), "showmigrations", "--plan"]]
    assert result["health"] == {"status": 200, "path": "/health/"}


STATUS = {
    "release": "r2",
    "deployed": {"time": "2026-12-02T10:00:00Z", "release": "r2", "outcome": "deployed", "by": "bob"},
    "last_deploy": {"time": "2026-12-03T10:00:00Z", "release": "r3", "outcome": "failed"},
    "pending": [],
    "backup": {"time": "20261203T033000Z", "bytes": 123456, "verified": True, "error": "", "age_hours": 12.0},
    "timer": {"UnitFileState": "enabled", "ActiveState": "active", "NextElapseUSecRealtime": "Fri 2026-12-04 03:30:00 UTC"},
    "backup_unit": {"ActiveState": "inactive", "Result": "success"},
    "service": {"ActiveState": "active", "SubState": "running"},
    "health": {"status": 200},
}


def test_a_row_says_everything_the_operator_asks():
    row = django_status_row("app1", STATUS)
    assert row == [
        "app1",
        "r2",
        "2026-12-02T10:00:00Z by bob",
        "none",
        "failed r3 at 2026-12-03T10:00:00Z",
        "12.0 h ago, 123.5 kB, verified, read back completely",
        "next Fri 2026-12-04 03:30:00 UTC",
        "active (running)",
        "200",
        "free",
    ]


def test_the_health_column_says_when_it_asked_the_root_instead_of_a_health_url():
    assert django_status_row("app1", dict(STATUS, health={"status": 200, "path": "/health/"}))[8] == "200"
    assert django_status_row("app1", dict(STATUS, health={"status": 302, "path": "/"}))[8] == "302 (asked /)"
    refused = {"status": None, "error": "connection refused", "path": "/"}
    assert django_status_row("app1", dict(STATUS, health=refused))[8] == "connection refused (asked /)"


def test_a_host_without_a_scheduled_backup_yet_says_so():
    # What the status script reports when last.json does not exist yet.
    assert django_status_row("app1", dict(STATUS, backup={"age_hours": None}))[5] == "none yet"
    assert django_status_row("app1", dict(STATUS, backup={}))[5] == "none yet"


def test_the_lock_column_names_the_holder_and_the_work_on_the_host():
    record = {"run": "ctl:42:7", "user": "ann", "control_host": "ctl", "started": "2026-12-03T10:00:00Z"}
    busy = {"what": "migrate", "pid": 99, "since": "2026-12-03T10:01:00Z"}
    assert django_status_row("app1", dict(STATUS, lock={"record": record}))[-1] == (
        "held by ann@ctl since 2026-12-03T10:00:00Z (run ctl:42:7)"
    )
    cell = django_status_row("app1", dict(STATUS, lock={"record": record, "busy": busy}))[-1]
    assert cell.endswith("; migrate working since 2026-12-03T10:01:00Z (pid 99)")
    interrupted = {"time": "2026-12-03T11:00:00Z", "outcome": "interrupted", "run": "ctl:42:7"}
    assert django_status_row("app1", dict(STATUS, last_deploy=interrupted))[4] == "interrupted ctl:42:7 at 2026-12-03T11:00:00Z"


def test_a_failed_backup_pending_migrations_and_no_timer_show():
    status = dict(
        STATUS,
        pending=["books.0002_x"],
        backup={"time": "20261203T033000Z", "error": "connection refused", "verified": False, "age_hours": 1.0},
        backup_unit={"ActiveState": "failed"},
        timer={"UnitFileState": "disabled"},
        last_deploy=STATUS["deployed"],
    )
    row = django_status_row("app2", status)
    assert row[3] == "books.0002_x"
    assert row[4] == "-"
    assert row[5] == "FAILED 1.0 h ago: connection refused"
    assert row[6] == "off on this host"
    assert django_status_row("app3", dict(STATUS, pending_error="database unavailable"))[3] == "unknown: database unavailable"


def test_the_table_aligns_its_columns_and_survives_a_host_without_a_report():
    lines = django_status_table(["app1", "app2"], [{"stdout": json.dumps(STATUS)}, {"stdout": "", "stderr": "boom"}])
    assert lines[0].startswith("host  release")
    assert len(lines) == 3
    assert lines[1].index("r2") == lines[0].index("release")
    assert "the status script gave no report: boom" in lines[2]
    assert FilterModule().filters()["django_status_table"] is django_status_table


def test_the_health_request_reports_a_redirect_without_following_it():
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.headers["Host"] != "shop.example":
                self.send_response(400)
            elif self.path == "/":
                self.send_response(302)
                self.send_header("Location", "https://shop.example/accounts/login/")
            else:
                self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_port
    try:
        assert report.health(base + "/", "shop.example") == {"status": 302}
        assert report.health(base + "/", "other.example") == {"status": 400}
        assert report.health(base + "/health/", "shop.example") == {"status": 500}
    finally:
        server.shutdown()
        server.server_close()
    assert report.health(base + "/", "shop.example")["status"] is None


def test_a_backup_verified_by_a_restore_says_what_the_copy_held():
    backup = dict(STATUS["backup"], verified_by="restore", tables=14, migrations=31)
    assert django_status_row("app1", dict(STATUS, backup=backup))[5] == (
        "12.0 h ago, 123.5 kB, verified, restored whole into the scratch database (14 tables, 31 migrations applied)"
    )
