"""roles/pgadmin/files/ensure_login.py up to where pgAdmin itself is needed: the
arguments, the environment, and check mode before pgAdmin's database exists (a fake
config.py stands in for pgAdmin's)."""

import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("ensure_login", ROOT / "roles/pgadmin/files/ensure_login.py")
ensure_login = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(ensure_login)

SERVERS = {"Servers": {"1": {"Name": "local", "Host": "localhost", "Port": 5432},
                       "2": {"Name": "replica", "Host": "10.0.0.9", "Port": 5432}}}


@pytest.fixture
def pgadmin_dir(tmp_path, monkeypatch):
    """pgAdmin's package directory as the script sees it: config.py, no database yet."""
    (tmp_path / "config.py").write_text("APP_NAME = 'pgAdmin 4'\nSQLITE_PATH = %r\n" % str(tmp_path / "pgadmin4.db"))
    (tmp_path / "servers.json").write_text(json.dumps(SERVERS))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "config", raising=False)
    monkeypatch.setenv("PGADMIN_LOGIN_EMAIL", "admin@example.com")
    monkeypatch.setenv("PGADMIN_LOGIN_PASSWORD", "secret-pw")
    return tmp_path


def test_without_the_servers_file_it_prints_usage(capsys):
    assert ensure_login.main(["ensure_login.py"]) == 2
    assert "SERVERS.json" in capsys.readouterr().err
    assert ensure_login.main(["ensure_login.py", "a.json", "b.json", "--check"]) == 2


@pytest.mark.parametrize("email,password", [("", "secret-pw"), ("admin@example.com", "12345")])
def test_the_login_must_come_from_the_environment(pgadmin_dir, monkeypatch, capsys, email, password):
    monkeypatch.setenv("PGADMIN_LOGIN_EMAIL", email)
    monkeypatch.setenv("PGADMIN_LOGIN_PASSWORD", password)
    assert ensure_login.main(["ensure_login.py", "servers.json"]) == 2
    err = capsys.readouterr().err
    assert "PGADMIN_LOGIN_EMAIL and a password of 6+ characters" in err
    assert password not in err or password == ""


def test_check_mode_without_a_database_reports_everything_and_writes_nothing(pgadmin_dir, capsys):
    assert ensure_login.main(["ensure_login.py", "servers.json", "--check"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report == {"changed": True, "database": "created", "login": "created",
                      "servers_added": ["local", "replica"], "check_mode": True}
    assert not (pgadmin_dir / "pgadmin4.db").exists()
    assert sorted(p.name for p in pgadmin_dir.iterdir() if p.suffix != ".pyc" and p.name != "__pycache__") == [
        "config.py", "servers.json"]


def test_the_password_from_standard_input(pgadmin_dir, monkeypatch, capsys):
    monkeypatch.delenv("PGADMIN_LOGIN_PASSWORD")
    monkeypatch.setattr(sys, "stdin", io.StringIO("secret-pw\n"))
    assert ensure_login.main(["ensure_login.py", "servers.json", "--password-stdin", "--check"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["login"] == "created"


def test_a_short_password_from_standard_input_is_refused(pgadmin_dir, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("12345\n"))
    # The environment's password does not count when standard input is asked for.
    assert ensure_login.main(["ensure_login.py", "servers.json", "--password-stdin", "--check"]) == 2
    assert "12345" not in capsys.readouterr().err
