"""The message of a failed migration run (roles/django/filter_plugins/django_migrations.py),
from the registered results of the backup, migrate and restore steps."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "roles" / "django" / "filter_plugins"))

from django_migrations import FilterModule, migrate_failure_message  # noqa: E402

BACKUP_OK = {"rc": 0, "changed": True}
MIGRATE_FAILED = {
    "rc": 1,
    "failed": True,
    "stdout": "Operations to perform:\n  Applying books.0002_a... OK\n  Applying books.0003_b...",
    "stderr": "Traceback (most recent call last):\n  ...\nRuntimeError: this data migration fails on purpose\n",
}
RESTORED = {"rc": 0, "changed": True}
WHERE = {"backup_file": "/srv/b/backups/x.dump", "previous_release": "r1", "root": "/srv/b"}


def message(failed, **results):
    return migrate_failure_message(failed, **{**WHERE, **results})


def test_the_filter_is_registered():
    assert FilterModule().filters()["django_migrate_failure_message"] is migrate_failure_message


def test_a_failed_backup_means_nothing_was_migrated():
    backup = {"rc": 1, "failed": True, "stderr": "database.sh: the dump does not read back", "msg": "non-zero return code"}
    text = message(backup, backup=backup, restore={"skipped": True})
    assert text == (
        "The backup before migrating failed, so nothing was migrated and the database is untouched:"
        " database.sh: the dump does not read back"
    )


def test_a_backup_that_never_ran_counts_as_failed():
    text = message({"msg": "template error"}, backup=None, restore={"skipped": True})
    assert text.startswith("The backup before migrating failed")
    assert text.endswith("template error")


def test_a_failed_migration_restored():
    text = message(MIGRATE_FAILED, backup=BACKUP_OK, migrate=MIGRATE_FAILED, restore=RESTORED)
    assert text == (
        "Migration books.0003_b failed: RuntimeError: this data migration fails on purpose."
        " Backup taken before migrating: /srv/b/backups/x.dump."
        " The database was restored from it, and release r1 still serves."
    )


def test_a_first_deploy_names_no_release():
    text = message(MIGRATE_FAILED, backup=BACKUP_OK, migrate=MIGRATE_FAILED, restore=RESTORED, previous_release="")
    assert text.endswith("and release none still serves.")


def test_a_failed_restore_says_how_to_restore_by_hand():
    restore = {"rc": 1, "changed": False, "stderr": "pg_restore: error: connection refused\n"}
    text = message(MIGRATE_FAILED, backup=BACKUP_OK, migrate=MIGRATE_FAILED, restore=restore)
    assert "NOT restored (restoring failed: pg_restore: error: connection refused)" in text
    assert text.endswith("restore it by hand with /srv/b/bin/database.sh restore /srv/b/backups/x.dump.")


def test_restore_turned_off():
    text = message(MIGRATE_FAILED, backup=BACKUP_OK, migrate=MIGRATE_FAILED, restore={"skipped": True})
    assert "NOT restored (django_migrate_restore_on_failure is off)" in text


def test_migrate_passed_but_the_check_after_it_did_not():
    document = {"findings": [{"rule": "still_pending", "message": "After migrating, still pending: books.0003_b."}]}
    migrate = {"rc": 0, "failed": True, "stdout": "  Applying books.0003_b... OK\n" + json.dumps(document), "stderr": ""}
    text = message(migrate, backup=BACKUP_OK, migrate=migrate, restore=RESTORED)
    assert text.startswith(
        "The migrations ran, but the check after them failed: After migrating, still pending: books.0003_b."
        " Backup taken before migrating: /srv/b/backups/x.dump. The database was restored"
    )
    # A migrate that failed by itself has no such part.
    assert "check after them" not in message(MIGRATE_FAILED, backup=BACKUP_OK, migrate=MIGRATE_FAILED, restore=RESTORED)


LOCK_DOCUMENT = {
    "findings": [{"rule": "lock_timeout", "message": "Migration books.0003_x could not get its lock ... not restored."}],
    "lock_timeout": {"migration": "books.0003_x", "tries": 3, "stayed": [], "applied_now": [], "blockers": []},
}
MIGRATE_LOCKED = {"rc": 0, "failed": True, "stdout": "  Applying books.0003_x...\n" + json.dumps(LOCK_DOCUMENT)}


def test_a_lock_timeout_is_told_apart_from_other_failures():
    lock_failure = FilterModule().filters()["django_migrate_lock_failure"]
    assert lock_failure(MIGRATE_LOCKED)["migration"] == "books.0003_x"
    assert lock_failure(MIGRATE_FAILED) == {}
    assert lock_failure({}) == {} and lock_failure(None) == {}
    assert lock_failure({"rc": 0, "stdout": json.dumps({"findings": []})}) == {}


def test_a_lock_timeout_says_its_finding_and_the_backup_without_a_restore():
    text = message(MIGRATE_LOCKED, backup=BACKUP_OK, migrate=MIGRATE_LOCKED, restore={"skipped": True})
    assert text == (
        "Migration books.0003_x could not get its lock ... not restored."
        " Backup taken before migrating: /srv/b/backups/x.dump."
    )
