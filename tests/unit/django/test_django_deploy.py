"""The django role's deploy rules (roles/django/filter_plugins/django_deploy.py): the
application's environment, the virtualenv's name, what pruning removes, and why a
switch failed."""

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "roles" / "django" / "filter_plugins"))

from django_deploy import (  # noqa: E402
    FilterModule,
    django_env,
    django_env_unsafe,
    django_prune,
    django_restore_choice,
    django_restore_failure,
    django_restore_verdict,
    django_rollback_failure,
    django_rollback_restore,
    django_rollback_target,
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
# The health wait's verdicts (django_health_result) and the failed task of health.yml.
UNHEALTHY = {"healthy": False, "status": 503, "content": '{"status": "error", "pending_migrations": []}\n',
             "why": 'health check did not answer 200 in time: 503 {"status": "error", "pending_migrations": []}'}
HEALTHY = {"healthy": True, "status": 200, "content": '{"status": "ok"}', "why": ""}
STOPPED = {"failed": True, "msg": "The application on app1 is not healthy: its health check did not answer 200 in time"}


def test_an_unhealthy_release_that_the_host_left_names_both_releases_and_the_answer():
    result = django_switch_failure("20261203-new", "20261202-old", STOPPED, RESTARTED, UNHEALTHY, RESTARTED, HEALTHY)
    assert result["serving_again"] is True
    message = result["message"]
    # molecule/migrations/verify.yml matches this beginning.
    assert message.startswith("Release 20261203-new failed after the switch: its health check did not answer 200 in time: 503 ")
    assert '503 {"status": "error", "pending_migrations": []}' in message
    assert "went back to release 20261202-old, which serves again" in message
    assert "The rollout stops here." in message


def test_without_a_health_url_the_check_or_the_root_request_is_named():
    check_failed = {"healthy": False, "status": None, "why": "check (manage.py check --database default) failed: "
                    "django.db.utils.OperationalError: connection refused"}
    result = django_switch_failure("new", "old", STOPPED, RESTARTED, check_failed, RESTARTED, HEALTHY)
    assert "failed after the switch: its check (manage.py check --database default) failed: django.db.utils" in result["message"]
    server_error = {"healthy": False, "status": 500, "why": "request to / (no health URL) answered a server error"}
    result = django_switch_failure("new", "old", STOPPED, RESTARTED, server_error, RESTARTED, HEALTHY)
    assert "its request to / (no health URL) answered a server error." in result["message"]


def test_a_service_that_does_not_start_is_said_so():
    failed_service = {"failed": True, "msg": "Unable to start service bookstore.service"}
    result = django_switch_failure("new", "old", failed_service, failed_service, None, RESTARTED, HEALTHY)
    assert "its service did not start: Unable to start service bookstore.service" in result["message"]
    assert result["serving_again"] is True


def test_the_release_it_went_back_to_not_serving_either_is_not_serving_again():
    back = dict(UNHEALTHY, status=502, why="health check did not answer 200 in time: 502 Bad Gateway")
    result = django_switch_failure("new", "old", STOPPED, RESTARTED, UNHEALTHY, RESTARTED, back)
    assert result["serving_again"] is False
    assert "went back to release old, but it does not serve either: health check did not answer 200 in time: 502" in (
        result["message"])
    # Its restart failing: the health wait did not run, the restart's message says why.
    result = django_switch_failure("new", "old", STOPPED, RESTARTED, UNHEALTHY, {"failed": True, "msg": "unit failed"}, None)
    assert result["serving_again"] is False
    assert "does not serve either: unit failed" in result["message"]


def test_a_first_deploy_or_a_re_run_has_nothing_to_go_back_to():
    for previous in ("", "same"):
        result = django_switch_failure("same", previous, STOPPED, RESTARTED, UNHEALTHY, None, None)
        assert result["serving_again"] is False
        assert "no earlier release on this host to go back to" in result["message"]


def test_a_failure_before_the_restart_gives_the_failed_task_s_message():
    result = django_switch_failure("new", "old", {"failed": True, "msg": "link failed"}, None, None, RESTARTED, HEALTHY)
    assert "failed after the switch: link failed." in result["message"]


# --- playbooks/restore.yml -----------------------------------------------------------------

FOUND = {
    "files": [
        {"path": "/srv/shop/backups/20261201T100000Z_a_to_b_12-applied.dump", "mtime": 100},
        {"path": "/srv/shop/backups/scheduled/20261203T033000Z.dump", "mtime": 300},
        {"path": "/srv/shop/backups/scheduled/20261202T033000Z.dump", "mtime": 200},
    ]
}


def test_the_newest_backup_by_default_or_the_one_named_by_name_or_path():
    assert django_restore_choice(FOUND) == {"file": "/srv/shop/backups/scheduled/20261203T033000Z.dump", "error": ""}
    named = django_restore_choice(FOUND, "20261201T100000Z_a_to_b_12-applied.dump")
    assert named["file"] == "/srv/shop/backups/20261201T100000Z_a_to_b_12-applied.dump"
    assert django_restore_choice(FOUND, "/srv/shop/backups/scheduled/20261202T033000Z.dump")["file"].endswith("20261202T033000Z.dump")


def test_a_backup_that_is_not_there_is_refused_with_the_newest_named():
    result = django_restore_choice(FOUND, "nope.dump")
    assert result["file"] == ""
    assert result["error"] == (
        "django_restore_file 'nope.dump' is not one of this host's backups (the newest: 20261203T033000Z.dump,"
        " 20261202T033000Z.dump, 20261201T100000Z_a_to_b_12-applied.dump)."
    )
    assert django_restore_choice({"files": []})["error"] == "There is no backup on this host to restore."


def test_a_restored_database_that_fits_the_release_serves():
    verdict = django_restore_verdict({"findings": [], "pending": []}, {"release": "r2"}, "r2", "/b/safety.dump")
    assert verdict == {"ok": True, "message": "The restored database matches release r2, which serves again."}


def test_an_older_database_says_which_release_it_holds_and_the_ways_out():
    note = {"release_before": "r1", "release": "r2", "applied": [], "pending": ["books.0002_x"]}
    verdict = django_restore_verdict({"findings": [], "pending": ["books.0002_x"]}, note, "r2", "/b/safety.dump")
    assert verdict["ok"] is False
    message = verdict["message"]
    assert message.startswith("The restored database does not match release r2, so the application stays stopped (503): ")
    assert "1 migration(s) of release r2 are not applied to it: books.0002_x." in message
    assert "The backup holds release r1's schema." in message
    assert "run playbooks/deploy.yml, which backs it up and migrates it" in message
    assert message.endswith("To undo the restore: playbooks/restore.yml -e django_restore_file=/b/safety.dump.")


def test_a_newer_database_gives_the_preflight_s_findings_and_no_deploy_advice():
    document = {"findings": [{"rule": "applied_without_file", "message": "books.0003_y is applied but has no file."}],
                "pending": []}
    verdict = django_restore_verdict(document, {}, "r1")
    assert verdict["ok"] is False
    assert "books.0003_y is applied but has no file." in verdict["message"]
    assert "deploy.yml" not in verdict["message"]
    assert "holds release" not in verdict["message"]


def test_a_failed_restore_keeps_the_site_stopped_and_names_the_safety_backup():
    failed = {"failed": True, "stderr": "database.sh: no backup at /x\n"}
    before = django_restore_failure(failed, None, "/b/safety.dump")
    assert before == "The restore stopped before touching the database (database.sh: no backup at /x); the application runs again."
    after = django_restore_failure(failed, {"failed": True, "rc": 1}, "/b/safety.dump")
    assert "stays stopped (503)" in after
    assert after.endswith("playbooks/restore.yml -e django_restore_file=/b/safety.dump.")
    assert django_restore_failure(failed, {"skipped": True}, "/b/s")[:40] == before[:40]


# --- playbooks/rollback.yml -----------------------------------------------------------------

ROLLBACK_LOG = "\n".join(json.dumps(entry) for entry in [
    {"release": "r1", "previous_release": "", "outcome": "deployed"},
    {"release": "r2", "previous_release": "r1", "outcome": "deployed", "backup": "/b/r1_to_r2.dump"},
    {"release": "r3", "previous_release": "r2", "outcome": "failed"},
    {"release": "r3", "previous_release": "r2", "outcome": "deployed", "backup": ""},
]) + "\n"


def test_rollback_goes_back_to_the_release_the_current_one_was_deployed_over():
    assert django_rollback_target(ROLLBACK_LOG, "r3", "", ["r1", "r2", "r3"]) == {
        "target": "r2", "departed": "r3", "backup": "", "error": ""}
    assert django_rollback_target(ROLLBACK_LOG, "r2", "", ["r1", "r2"])["backup"] == "/b/r1_to_r2.dump"
    # Named, it wins.
    assert django_rollback_target(ROLLBACK_LOG, "r3", "r1", ["r1", "r3"])["target"] == "r1"


def test_rollback_refuses_what_it_cannot_do_with_the_way_out():
    assert "nothing to roll back" in django_rollback_target("", "", "", [])["error"]
    assert django_rollback_target(ROLLBACK_LOG, "r1", "", ["r1"])["error"] == (
        "The deploy log names no release before r1: name one with -e django_rollback_to=RELEASE (on this host: r1).")
    assert django_rollback_target(ROLLBACK_LOG, "r3", "r3", ["r3"])["error"] == "Release r3 is the current one already."
    gone = django_rollback_target(ROLLBACK_LOG, "r3", "", ["r3"])["error"]
    assert gone.startswith("Release r2 is not on this host any more (kept: r3;") and "deploy it again" in gone


def test_a_failed_unapply_says_whether_the_database_was_restored():
    failed = {"failed": True, "rc": 0, "stdout": "Unapplying...\n" + json.dumps(
        {"findings": [{"rule": "rollback_left", "message": "Still applied after unapplying: books.0004_x"}]})}
    restored = django_rollback_failure(failed, {"rc": 0, "changed": True}, "r2", ["books.0004_x"], "/b/before.dump")
    assert restored == (
        "The hosts run release r2, but unapplying books.0004_x failed: Still applied after unapplying: books.0004_x"
        " The database was restored from /b/before.dump, as it was before unapplying.")
    crashed = {"failed": True, "rc": 1, "stdout": "Unapplying...", "stderr": "Traceback\nOperationalError: locked\n"}
    message = django_rollback_failure(crashed, {"rc": 1}, "r2", ["books.0004_x"], "/b/before.dump")
    assert "failed: OperationalError: locked" in message
    assert message.endswith("restore it with playbooks/restore.yml -e django_restore_file=/b/before.dump.")
    assert django_rollback_failure({"msg": "x"}, {"skipped": True}, "r2", [], "/b").endswith("the backup before it failed.")


def test_a_rollback_by_restore_says_what_is_lost_and_needs_the_confirmation():
    import datetime

    now = datetime.datetime(2026, 12, 3, 15, 0, tzinfo=datetime.timezone.utc)
    rollback = {"target": "r1", "departed": "r2", "backup": "/srv/shop/backups/20261203T120000Z_r1_to_r2_5-applied.dump"}
    refused = django_rollback_restore(rollback, False, now)
    assert refused["file"] == rollback["backup"]
    assert "taken at 2026-12-03 12:00 UTC, 3.0 hours ago just before release r2 was deployed" in refused["note"]
    assert "everything written to it since is lost" in refused["note"]
    assert refused["error"].startswith(refused["note"])
    assert refused["error"].endswith("run again with -e django_rollback_restore_confirm=true.")
    assert django_rollback_restore(rollback, True, now)["error"] == ""
    # A deploy that applied no migration took no backup: nothing to restore.
    none = django_rollback_restore(dict(rollback, backup=""), True, now)
    assert none["file"] == "" and "took no backup" in none["error"]
    assert FilterModule().filters()["django_rollback_restore"] is django_rollback_restore


def test_the_copy_hosts_by_their_published_address_and_their_host_keys():
    import base64

    from django_deploy import django_backup_copy_targets, django_known_hosts

    hostvars = {"backup1": {"stack_host_address": "10.0.0.9"}, "backup2": {"ansible_host": "b2.example"}}
    # Another single-server site publishes its loopback address, which names it only to
    # itself: its inventory name (or ansible_host) is used instead.
    looped = {"site2": {"stack_host_address": "127.0.0.1"}, "site3": {"stack_host_address": "127.0.0.1", "ansible_host": "::1"}}
    assert django_backup_copy_targets(["site2", "site3"], looped, "shop-backup") == "shop-backup@site2 shop-backup@site3"
    assert django_backup_copy_targets(["backup1", "backup2", "backup3"], hostvars, "shop-backup") == (
        "shop-backup@10.0.0.9 shop-backup@b2.example shop-backup@backup3"
    )
    slurped = [{"item": "backup1", "content": base64.b64encode(b"ssh-ed25519 AAAAC3Nz root@backup1\n").decode()}]
    assert django_known_hosts(slurped, hostvars) == "10.0.0.9 ssh-ed25519 AAAAC3Nz\n"
    assert FilterModule().filters()["django_known_hosts"] is django_known_hosts
