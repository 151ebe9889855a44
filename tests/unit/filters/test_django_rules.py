"""roles/django/filter_plugins/django_rules.py: the django role's input rules."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("django_rules", ROOT / "roles/django/filter_plugins/django_rules.py")
rules = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(rules)

KEY = "Zq8w!Lk3#Vb7@Nm2$Xc5%Hj9^Ty4&Ru6*Io1(Pa0)Sd8-Fg3_Gh7+Jk2="
SETTINGS = {
    "django_app_name": "bookstore",
    "django_allowed_hosts": ["www.example.com", ".example.org", "192.0.2.7", "[2001:db8::1]", "localhost"],
    "django_csrf_trusted_origins": ["https://www.example.com", "http://localhost:8080"],
    "django_settings_module": "bookstore.settings",
    "django_wsgi_module": "bookstore.wsgi:application",
    "django_source": "bundled",
    "django_source_dir": "",
    "django_source_git_repo": "",
    "django_source_git_version": "",
    "django_releases_keep": 5,
    "django_backups_keep": 5,
    "django_backup_keep_daily": 7,
    "django_backup_keep_weekly": 4,
    "django_backup_schedule": "*-*-* 03:30:00",
    "django_superuser_email": "",
    "django_secret_key": KEY,
    "django_root": "/srv/bookstore",
    "django_backup_copy_dir": "/var/backups/bookstore",
    "django_health_path": "/health/",
    "django_health_host": "",
    "django_health_retries": 80,
    "django_gunicorn_port": 8000,
    "django_db_port": "5432",
    "django_gunicorn_workers": 0,
    "django_rolling_batch": 1,
    "django_migrate_lock_timeout": 5,
    "django_migrate_lock_retries": 3,
    "django_migrate_lock_retry_delay": 10,
    "django_source_inline_max_kb": 1024,
}
FOUND = {"local_source_dir": "/src/django_app", "has_manage_py": True, "env_unsafe_names": [], "calendar_error": ""}


def errors(found=None, **change):
    return rules.django_input_errors(dict(SETTINGS, **change), dict(FOUND, **(found or {})))


def test_the_defaults_and_a_good_key_pass():
    assert errors() == []
    assert errors(django_secret_key="") == []  # generated
    assert errors(django_health_path="") == []  # no health URL
    assert errors(django_wsgi_module="bookstore.wsgi") == []  # gunicorn's bookstore.wsgi:application
    for host in ("www.example.com", "localhost:8000", "192.0.2.7", "[2001:db8::1]:443"):
        assert errors(django_health_host=host) == []


@pytest.mark.parametrize("change,expected", [
    ({"django_app_name": "Book Store"}, "django_app_name must be a short lower-case name"),
    ({"django_allowed_hosts": []}, "django_allowed_hosts must list the host names the site answers to"),
    ({"django_allowed_hosts": ["http://example.com"]}, "these are not: 'http://example.com'"),
    ({"django_csrf_trusted_origins": ["example.com"]}, "django_csrf_trusted_origins entries must be origins"),
    ({"django_settings_module": "my-site/settings.py"}, "django_settings_module must be a dotted module path"),
    ({"django_wsgi_module": "bookstore/wsgi.py"},
     "django_wsgi_module must look like package.module or package.module:callable"),
    ({"django_wsgi_module": "bookstore.wsgi:"}, "(got 'bookstore.wsgi:')"),
    ({"django_health_host": "a host"}, "django_health_host must be a host name or address"),
    ({"django_health_host": "http://example.com/"}, "django_health_host must be a host name or address"),
    ({"django_source": "local"}, "django_source_dir must name the project's directory"),
    ({"django_source": "git", "django_source_git_repo": "https://example.com/x.git"},
     "django_source_git_version must not be empty when django_source is 'git'"),
    ({"django_releases_keep": 0}, "django_releases_keep must be at least 1 (got 0)"),
    ({"django_backup_keep_weekly": -1}, "django_backup_keep_weekly must be at least 0 (got -1)"),
    ({"django_backup_schedule": "daily'; rm"}, "django_backup_schedule must be a systemd calendar expression"),
    ({"django_superuser_email": "admin"}, "django_superuser_email must be an email address (got 'admin')"),
    ({"django_root": "srv/app"}, "django_root must be an absolute path without quotes (got 'srv/app')"),
    ({"django_backup_copy_dir": "/var/it's"}, "django_backup_copy_dir must be an absolute path without quotes"),
    ({"django_health_path": "health"}, "django_health_path must be a URL path starting with /"),
    ({"django_gunicorn_port": 70000}, "django_gunicorn_port must be a port from 1 to 65535 (got 70000)"),
    ({"django_db_port": "db"}, "django_db_port must be a port from 1 to 65535 (got db)"),
    ({"django_rolling_batch": 0}, "django_rolling_batch must be a whole number of at least 1 (got 0)"),
    ({"django_health_retries": 0}, "django_health_retries must be a whole number of at least 1 (got 0)"),
    ({"django_migrate_lock_timeout": 0}, "django_migrate_lock_timeout must be a whole number of at least 1"),
])
def test_each_rule_names_its_variable(change, expected):
    found = errors(**change)
    assert len(found) == 1 and expected in found[0], found


def test_a_missing_source_directory_is_named():
    found = errors(found={"has_manage_py": False, "local_source_dir": "/nope"}, django_source="local", django_source_dir="/nope")
    assert found == ["django_source_dir '/nope' does not exist or has no manage.py (django_source is 'local')"]


def test_what_systemd_and_the_environment_check_said():
    assert "systemd reads: bad calendar" in errors(found={"calendar_error": "bad calendar"})[0]
    assert "offending names: DJANGO_DB_PASSWORD" in errors(found={"env_unsafe_names": ["DJANGO_DB_PASSWORD"]})[0]


@pytest.mark.parametrize("key,reason", [
    ("abcde", "it has 5 characters, Django wants at least 50"),
    ("ab" * 30, "it has 2 distinct characters, Django wants at least 5"),
    ("django-insecure-" + KEY, "it starts with 'django-insecure-'"),
])
def test_a_key_django_would_refuse_is_refused_without_showing_it(key, reason):
    found = errors(django_secret_key=key)
    assert len(found) == 1 and reason in found[0] and key not in found[0]
    assert found[0].startswith("django_secret_key would fail Django's deployment check")


def test_the_key_rule_matches_django():
    # Django's own check (django.core.checks.security.base._check_secret_key) on the same keys.
    from django.core.checks.security import base

    for key in ("abcde", "ab" * 30, "django-insecure-" + KEY, KEY):
        assert bool(rules.django_secret_key_errors(key)) == (not base._check_secret_key(key))
