"""roles/loadbalancer/files/haproxy_server.py against a fake stats socket and a local
HTTP server (no HAProxy runs)."""

import http.server
import importlib.util
import json
import socket
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("haproxy_server", ROOT / "roles/loadbalancer/files/haproxy_server.py")
haproxy = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(haproxy)  # must not run main()

STAT = (
    "# pxname,svname,qcur,scur,status,addr,\n"
    "django,FRONTEND,,3,OPEN,,\n"
    "django,app1,0,2,UP,10.0.0.1:80,\n"
    "django,app2,0,,DRAIN,10.0.0.2:8000,\n"
    "django,BACKEND,0,2,UP,,\n"
)


def test_parse_stat_finds_one_server():
    assert haproxy.parse_stat(STAT, "django", "app1") == {
        "found": True, "status": "UP", "sessions": 2, "address": "10.0.0.1:80"}
    assert haproxy.parse_stat(STAT, "django", "app2")["sessions"] == 0
    assert haproxy.parse_stat(STAT, "other", "app1") == {"found": False, "status": "", "sessions": 0, "address": ""}


@pytest.fixture
def stats_socket(tmp_path):
    """A Unix socket answering "show stat" the way HAProxy does: the CSV, then close."""
    path = str(tmp_path / "admin.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(5)
    asked = []

    def serve():
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            asked.append(client.recv(1024))
            client.sendall(STAT.encode())
            client.close()

    threading.Thread(target=serve, daemon=True).start()
    yield path, asked
    server.close()


def test_server_state_reads_the_socket(stats_socket):
    path, asked = stats_socket
    assert haproxy.server_state(path, "django", "app2")["status"] == "DRAIN"
    assert asked == [b"show stat\n"]


def test_server_state_exits_with_a_message_when_the_socket_is_missing(tmp_path):
    with pytest.raises(SystemExit) as exited:
        haproxy.server_state(str(tmp_path / "none.sock"), "django", "app1")
    assert "cannot read HAProxy's stats socket" in str(exited.value.code)


@pytest.fixture
def web():
    """A local HTTP server: 200 for /health/ with Host: site.example, else 404."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the base class's name)
            ok = self.path == "/health/" and self.headers["Host"] == "site.example"
            self.send_response(200 if ok else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "127.0.0.1:%d" % server.server_port
    server.shutdown()
    server.server_close()


def test_health_sends_the_path_and_host(web):
    assert haproxy.health(web, "/health/", "site.example") == 200
    assert haproxy.health(web, "/health/", "other.example") == 404
    assert haproxy.health(web, "/", "site.example") == 404


def test_health_reports_why_there_is_no_answer():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    answer = haproxy.health("127.0.0.1:%d" % port, "/", "h")
    assert isinstance(answer, str) and answer
    assert isinstance(haproxy.health("no-port", "/", "h"), str)


def test_main_prints_the_state(stats_socket, monkeypatch, capsys):
    path, _ = stats_socket
    monkeypatch.setattr(sys, "argv", ["haproxy_server.py", path, "django", "app1"])
    haproxy.main()
    assert json.loads(capsys.readouterr().out) == {"found": True, "status": "UP", "sessions": 2, "address": "10.0.0.1:80"}


def test_main_until_up_gives_up_at_the_deadline(stats_socket, monkeypatch, capsys):
    path, asked = stats_socket
    monkeypatch.setattr(haproxy.time, "sleep", lambda seconds: None)
    clock = iter(range(100))
    monkeypatch.setattr(haproxy.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(sys, "argv", ["haproxy_server.py", path, "django", "app2", "--until-up", "3"])
    haproxy.main()
    assert json.loads(capsys.readouterr().out)["status"] == "DRAIN"
    assert 2 <= len(asked) <= 4
