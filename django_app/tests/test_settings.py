"""Tests of bookstore/settings.py as a whole, loaded under a chosen environment."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

PROJECT_DIR = Path(__file__).resolve().parent.parent
SETTINGS_FILE = PROJECT_DIR / "bookstore" / "settings.py"
SECRET_KEY = "x7$kQ9!vLm2#pR8@wZ4^nT6&bY1*cF3(hJ5)dG0-sA+eU_iO=qW"


def is_project_variable(name):
    return name.startswith("DJANGO_") or name == "DATABASE_URL"


@pytest.fixture
def load_settings(monkeypatch):
    """Execute settings.py with only the given project variables set."""

    def load(**variables):
        for name in filter(is_project_variable, list(os.environ)):
            if name != "DJANGO_SETTINGS_MODULE":
                monkeypatch.delenv(name)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_no_environment_runs_in_debug_with_a_development_key(load_settings):
    settings = load_settings()

    assert settings["DEBUG"] is True
    assert settings["SECRET_KEY"].startswith("django-insecure-")
    assert settings["DATABASES"]["default"]["NAME"] == str(PROJECT_DIR / "db.sqlite3")
    assert settings["STATIC_URL"] == "/static/"


def test_setting_a_secret_key_turns_debug_off(load_settings):
    settings = load_settings(DJANGO_SECRET_KEY=SECRET_KEY)

    assert settings["DEBUG"] is False
    assert settings["SECRET_KEY"] == SECRET_KEY


def test_debug_off_without_secret_key_is_an_error(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        load_settings(DJANGO_DEBUG="false")


def test_debug_on_without_secret_key_uses_development_key(load_settings):
    settings = load_settings(DJANGO_DEBUG="yes")

    assert settings["DEBUG"] is True
    assert settings["SECRET_KEY"].startswith("django-insecure-")


def test_hosts_origins_and_directories(load_settings):
    settings = load_settings(
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="example.com,www.example.com",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://example.com",
        DJANGO_STATIC_ROOT="/srv/static",
        DJANGO_MEDIA_ROOT="/srv/media",
    )

    assert settings["ALLOWED_HOSTS"] == ["example.com", "www.example.com"]
    assert settings["CSRF_TRUSTED_ORIGINS"] == ["https://example.com"]
    assert settings["STATIC_ROOT"] == "/srv/static"
    assert settings["MEDIA_ROOT"] == "/srv/media"


def test_https_off_sets_no_https_only_settings(load_settings):
    settings = load_settings(DJANGO_SECRET_KEY=SECRET_KEY)

    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
        assert name not in settings
    assert settings["X_FRAME_OPTIONS"] == "DENY"
    assert settings["SECURE_CONTENT_TYPE_NOSNIFF"] is True


def test_https_on_trusts_proxy_header_and_secures_cookies(load_settings):
    settings = load_settings(
        DJANGO_SECRET_KEY=SECRET_KEY, DJANGO_HTTPS="on", DJANGO_HSTS_SECONDS="3600"
    )

    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_HSTS_SECONDS"] == 3600


def test_log_level_applies_to_root_and_django_loggers(load_settings):
    logging = load_settings(DJANGO_LOG_LEVEL="warning")["LOGGING"]

    assert logging["root"]["level"] == "WARNING"
    assert logging["loggers"]["django"]["level"] == "WARNING"


# The commands below run manage.py in a child process with a clean environment.


def run_manage(*args, **variables):
    environ = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": "sqlite://"}
    environ.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_deploy_check_has_no_warnings_with_https():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level=WARNING",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="example.com",
        DJANGO_HTTPS="true",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_without_https_only_warns_about_https():
    result = run_manage(
        "check",
        "--deploy",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="example.com",
    )

    assert result.returncode == 0, result.stderr
    assert set(re.findall(r"\(([\w.]+)\)", result.stderr)) == {
        "security.W004",  # HSTS
        "security.W008",  # SSL redirect
        "security.W012",  # secure session cookie
        "security.W016",  # secure CSRF cookie
    }


def test_bad_boolean_stops_manage_py_with_one_line():
    result = run_manage("check", DJANGO_DEBUG="maybe")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "ImproperlyConfigured: DJANGO_DEBUG must be a boolean "
        "(true/false, 1/0, yes/no, on/off), got 'maybe'."
    ]
