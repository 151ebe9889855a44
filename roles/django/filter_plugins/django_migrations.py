"""Why a migration run failed, worded for the play's error message (migrate_apply.yml).

It reads the registered results of the rescued block's steps, never the failed task's
name: which step failed is what its own result says.
"""

import json
import re


def _failed(result):
    return bool(result) and bool(result.get("failed"))


def _last_line(text):
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


def _after_check(stdout):
    """The findings of the check after migrating (the last line of migrate's output)."""
    try:
        document = json.loads(_last_line(stdout))
    except ValueError:
        return _last_line(stdout)
    return " ".join(found["message"] for found in document.get("findings", []))


def _document(stdout):
    try:
        document = json.loads(_last_line(stdout))
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def migrate_lock_failure(migrate):
    """What the migrate step says about a lock it could not get ({} when that is not why
    it failed): a registered result, or nothing when migrate did not run."""
    if not isinstance(migrate, dict):
        return {}
    return _document(migrate.get("stdout", "")).get("lock_timeout") or {}


def migrate_failure_message(
    failed, backup=None, migrate=None, restore=None, backup_file="", previous_release="", root=""
):
    """failed: ansible_failed_result; backup, migrate, restore: the registered results of
    the backup, migrate and restore steps (None or undefined when they did not run)."""
    if not backup or _failed(backup):
        result = backup or failed or {}
        reason = result.get("stderr") or result.get("msg", "")
        return "The backup before migrating failed, so nothing was migrated and the database is untouched: " + reason

    result = migrate or failed or {}
    if migrate_lock_failure(migrate):
        # Its finding says what was applied, what stayed and why nothing was restored.
        return _after_check(migrate.get("stdout", "")) + f" Backup taken before migrating: {backup_file}."
    if _failed(migrate) and migrate.get("rc", 1) == 0:
        # migrate itself passed; the check of the state it left did not.
        message = "The migrations ran, but the check after them failed: " + _after_check(migrate.get("stdout", ""))
    else:
        applying = re.findall(r"Applying ([\w.]+)\.\.\.", result.get("stdout", ""))
        message = f"Migration {applying[-1] if applying else '(none)'} failed: {_last_line(result.get('stderr', ''))}"
    message = message.rstrip(".")
    message += f". Backup taken before migrating: {backup_file}. "

    if restore and restore.get("changed"):
        return message + f"The database was restored from it, and release {previous_release or 'none'} still serves."
    if restore and not restore.get("skipped"):
        why = "restoring failed: " + (restore.get("stderr") or "").strip()
    else:
        why = "django_migrate_restore_on_failure is off"
    return (
        message + f"The database was NOT restored ({why}): restore it by hand with"
        f" {root}/bin/database.sh restore {backup_file}."
    )


class FilterModule:
    def filters(self):
        return {
            "django_migrate_failure_message": migrate_failure_message,
            "django_migrate_lock_failure": migrate_lock_failure,
        }
