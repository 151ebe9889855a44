"""The django role's deploy rules (roles/django/filter_plugins/django_deploy.py): the
application's environment, the virtualenv's name, what pruning removes, and why a
switch failed."""

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "roles" / "django" / "filter_plugins"))

from django_deploy import (  # noqa: E402
    FilterModule,
    django_env,
    django_env_unsafe,
    django_prune,
    django_switch_failure,
    django_venv_name,
)

BASE = {"DJANGO_SETTINGS_MODULE": "shop.settings", "DJANGO_DEBUG": "false"}
DB = {"engine": "postgresql", "name": "shop", "user": "shop", "password": "p@ss:w/rd", "host": "10.0.0.5", "port": 5432}
DISCRETE = {"engine": "E", "name": "N", "user": "U", "password": "P", "host": "H", "port": "PORT"}


def test_the_filters_are_registered():
    filters = FilterModule().filters()
    assert filters["django_env"] is django_env
    assert filters["django_env_unsafe"] is django_env_unsafe
    assert filters["django_venv_name"] is django_venv_name
    assert filters["django_prune"] is django_prune
    assert filters["django_switch_failure"] is django_switch_failure


def test_a_database_url_quotes_user_and_password_as_before():
    env = django_env(BASE, DB, "url", "DATABASE_URL", DISCRETE, {})
    # "/" stays as it is, as Jinja's urlencode left it: the same settings, the same file.
    assert env["DATABASE_URL"] == "postgres://shop:p%40ss%3Aw/rd@10.0.0.5:5432/shop"
    assert env["DJANGO_SETTINGS_MODULE"] == "shop.settings"
    assert "P" not in env


def test_mysql_gets_its_scheme():
    env = django_env(BASE, {**DB, "engine": "mysql", "port": 3306}, "url", "DB", DISCRETE, {})
    assert env["DB"].startswith("mysql://") and ":3306/" in env["DB"]


def test_discrete_settings_are_strings_under_their_names():
    env = django_env(BASE, DB, "discrete", "DATABASE_URL", DISCRETE, None)
    assert env["PORT"] == "5432"
    assert env["P"] == "p@ss:w/rd"
    assert env["E"] == "postgresql"
    assert "DATABASE_URL" not in env


def test_extra_env_comes_last_and_wins():
    env = django_env(BASE, DB, "url", "DATABASE_URL", DISCRETE, {"DJANGO_DEBUG": "true", "X": 1})
    assert env["DJANGO_DEBUG"] == "true"
    assert env["X"] == 1
    # The input is not changed.
    assert BASE["DJANGO_DEBUG"] == "false"


def test_unsafe_values_and_names_are_named_once_each():
    env = {"GOOD": "x", "QUOTE": "it's", "NEWLINE": "a\nb", "bad-name": "x", "9LIVES": "it's"}
    assert django_env_unsafe(env) == ["QUOTE", "NEWLINE", "9LIVES", "bad-name"]
    assert django_env_unsafe({"A": 1, "_B": "ok"}) == []


def test_the_venv_name_is_the_same_hash_as_before():
    name = django_venv_name(["abc", "def"], ["gunicorn>=22,<28", "psycopg>=3.1,<4"])
    expected = hashlib.sha256(b"abc\ndef\ngunicorn>=22,<28\npsycopg>=3.1,<4").hexdigest()[:12]
    assert name == expected
    assert django_venv_name(["abc"], []) != django_venv_name(["abd"], [])


LISTING = [
    "release\t20260101120000.0000000000\t/srv/a/releases/r1",
    "release\t20260102120000.0000000000\t/srv/a/releases/r2",
    "release\t20260103120000.0000000000\t/srv/a/releases/r3",
    "link\t/srv/a/releases/r1\t/srv/a/venvs/v1",
    "link\t/srv/a/releases/r2\t/srv/a/venvs/v2",
    "link\t/srv/a/releases/r3\t/srv/a/venvs/v2",
    "venv\t/srv/a/venvs/v1",
    "venv\t/srv/a/venvs/v2",
    "venv\t/srv/a/venvs/v0",
]


def test_prune_keeps_the_newest_and_the_venvs_they_use():
    assert django_prune(LISTING, 2, "/srv/a/releases/r3") == {
        "releases": ["/srv/a/releases/r1"],
        "venvs": ["/srv/a/venvs/v1", "/srv/a/venvs/v0"],
    }


def test_prune_never_removes_the_release_being_deployed():
    # r1 unpacked first but deployed now (a switch back to it).
    result = django_prune(LISTING, 1, "/srv/a/releases/r1")
    assert result["releases"] == ["/srv/a/releases/r2"]
    assert "/srv/a/venvs/v1" not in result["venvs"]
    assert "/srv/a/venvs/v2" not in result["venvs"]


def test_prune_keeps_everything_within_the_limit():
    assert django_prune(LISTING, "5", "/srv/a/releases/r3") == {"releases": [], "venvs": ["/srv/a/venvs/v0"]}
    assert django_prune([], 5, "/x") == {"releases": [], "venvs": []}


# --- A release that fails after the switch (serve.yml's rescue) -------------------------

RESTARTED = {"changed": True, "failed": False}
UNHEALTHY = {"failed": True, "status": 503, "content": '{"status": "error", "pending_migrations": []}\n', "attempts": 150}
HEALTHY = {"failed": False, "status": 200, "content": '{"status": "ok"}'}


def test_an_unhealthy_release_that_the_host_left_names_both_releases_and_the_answer():
    result = django_switch_failure("20261203-new", "20261202-old", UNHEALTHY, RESTARTED, UNHEALTHY, RESTARTED, HEALTHY)
    assert result["serving_again"] is True
    message = result["message"]
    assert message.startswith("Release 20261203-new failed after the switch: its health check did not answer 200")
    assert '503 {"status": "error", "pending_migrations": []}' in message
    assert "went back to release 20261202-old, which serves again" in message
    assert "The rollout stops here." in message


def test_a_service_that_does_not_start_is_said_so():
    failed_service = {"failed": True, "msg": "Unable to start service bookstore.service"}
    skipped = {"skipped": True, "changed": False}
    result = django_switch_failure("new", "old", failed_service, failed_service, skipped, RESTARTED, HEALTHY)
    assert "its service did not start: Unable to start service bookstore.service" in result["message"]
    assert result["serving_again"] is True


def test_the_release_it_went_back_to_not_serving_either_is_not_serving_again():
    result = django_switch_failure("new", "old", UNHEALTHY, RESTARTED, UNHEALTHY, RESTARTED, dict(UNHEALTHY, status=502))
    assert result["serving_again"] is False
    assert "went back to release old, but it does not serve either: 502" in result["message"]
    # Its restart failing: the health check was skipped, the restart's message says why.
    result = django_switch_failure(
        "new", "old", UNHEALTHY, RESTARTED, UNHEALTHY, {"failed": True, "msg": "unit failed"}, {"skipped": True}
    )
    assert result["serving_again"] is False
    assert "does not serve either: unit failed" in result["message"]


def test_a_first_deploy_or_a_re_run_has_nothing_to_go_back_to():
    for previous in ("", "same"):
        result = django_switch_failure("same", previous, UNHEALTHY, RESTARTED, UNHEALTHY, None, None)
        assert result["serving_again"] is False
        assert "no earlier release on this host to go back to" in result["message"]


def test_a_failure_before_the_restart_gives_the_failed_task_s_message():
    result = django_switch_failure("new", "old", {"failed": True, "msg": "link failed"}, None, None, RESTARTED, HEALTHY)
    assert "failed after the switch: link failed." in result["message"]
