"""roles/django/filter_plugins/django_serve.py: the health request's Host, the verdict on
gunicorn's answer, and gunicorn's WSGI application."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "roles" / "django" / "filter_plugins"))

from django_serve import (  # noqa: E402
    FilterModule,
    django_health_host,
    django_health_ok,
    django_health_result,
    django_wsgi_app,
)


def test_the_filters_are_registered():
    filters = FilterModule().filters()
    assert filters["django_health_host"] is django_health_host
    assert filters["django_health_ok"] is django_health_ok
    assert filters["django_health_result"] is django_health_result
    assert filters["django_wsgi_app"] is django_wsgi_app


@pytest.mark.parametrize("allowed,host", [
    (["www.example.com", "localhost"], "www.example.com"),
    (["*", "shop.example"], "shop.example"),
    ([".example.com"], "example.com"),
    (["*", ".example.org", "x"], "example.org"),
    (["example.com:8080"], "example.com:8080"),
    (["[2001:db8::1]"], "[2001:db8::1]"),
    (["127.0.0.1"], "127.0.0.1"),
    (["*"], "localhost"),
    ([], "localhost"),
    (["", "."], "localhost"),
])
def test_the_health_host_is_a_name_the_project_accepts(allowed, host):
    assert django_health_host(allowed) == host


@pytest.mark.parametrize("status,with_path,without_path", [
    (200, True, True),
    (204, False, True),
    (301, False, True),
    (302, False, True),
    (400, False, True),
    (404, False, True),
    (499, False, True),
    (500, False, False),
    (502, False, False),
    (503, False, False),
    (-1, False, False),  # uri's "no answer": connection refused, gunicorn still starting
    (None, False, False),
    ("200", True, True),
])
def test_a_health_url_needs_200_and_the_root_anything_but_a_server_error(status, with_path, without_path):
    assert django_health_ok({"status": status}, "/health/") is with_path
    assert django_health_ok({"status": status}, "") is without_path


def test_an_answer_that_is_not_there_is_not_healthy():
    assert django_health_ok(None, "") is False
    assert django_health_ok({"skipped": True}, "/health/") is False


SKIPPED = {"skipped": True, "changed": False}
CHECKED = {"rc": 0, "stdout": "System check identified no issues (0 silenced).", "stderr": ""}


def test_a_healthy_release_s_verdict():
    verdict = django_health_result({"status": 200, "content": '{"status": "ok"}'}, SKIPPED, "/health/")
    assert verdict == {"healthy": True, "status": 200, "content": '{"status": "ok"}', "msg": "", "why": ""}
    assert django_health_result({"status": 302, "content": ""}, CHECKED, "")["healthy"] is True


def test_a_health_url_that_does_not_answer_200_says_what_it_answered():
    answer = {"status": 503, "content": '{"status": "error",\n"pending_migrations": []}\n', "failed": True, "attempts": 150}
    verdict = django_health_result(answer, SKIPPED, "/health/")
    assert verdict["healthy"] is False
    assert verdict["why"] == 'health check did not answer 200 in time: 503 {"status": "error", "pending_migrations": []}'


def test_without_a_health_url_a_server_error_or_no_answer_is_not_healthy():
    verdict = django_health_result({"status": 500, "content": "<h1>Server Error (500)</h1>"}, CHECKED, "")
    assert verdict["healthy"] is False
    assert verdict["why"] == "request to / (no health URL) answered a server error or nothing in time: 500 <h1>Server Error (500)</h1>"
    refused = {"status": -1, "msg": "Status code was -1 and not [200]: Request failed: <urlopen error [Errno 111] Connection refused>"}
    assert "in time: -1 Status code was -1" in django_health_result(refused, CHECKED, "")["why"]


def test_a_failed_check_is_the_verdict_and_the_request_did_not_run():
    check = {"rc": 1, "stdout": "", "stderr": "Traceback (most recent call last):\n  File x\n"
             "django.db.utils.OperationalError: connection to server at \"10.0.0.5\" failed\n"}
    verdict = django_health_result(SKIPPED, check, "")
    assert verdict["healthy"] is False
    assert verdict["why"].startswith("check (manage.py check --database default) failed: Traceback")
    assert verdict["why"].endswith('django.db.utils.OperationalError: connection to server at "10.0.0.5" failed')
    issues = {"rc": 1, "stderr": "SystemCheckError: System check identified some issues:\n\nERRORS:\n"
              "?: (admin.E403) A DjangoTemplates instance must be configured.\n\n"
              "System check identified 1 issue (0 silenced).\n"}
    assert "(admin.E403) A DjangoTemplates instance must be configured." in django_health_result(SKIPPED, issues, "")["why"]
    assert django_health_result(SKIPPED, {"rc": 1}, "")["why"].endswith("failed: no output")


def test_a_wait_that_did_not_run_is_not_healthy():
    assert django_health_result(None, None, "/health/")["healthy"] is False
    assert django_health_result(SKIPPED, SKIPPED, "/health/")["why"] == "health check did not run"


@pytest.mark.parametrize("value,app", [
    ("bookstore.wsgi", "bookstore.wsgi:application"),
    ("bookstore.wsgi:application", "bookstore.wsgi:application"),
    ("site.wsgi:app", "site.wsgi:app"),
    ("wsgi", "wsgi:application"),
])
def test_the_wsgi_application_in_gunicorn_s_full_form(value, app):
    assert django_wsgi_app(value) == app
