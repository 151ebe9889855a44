"""What the release's migrations would do to the live database, in one process.

Run by the django role through `manage.py shell -c`, with the release's code and the
application's settings; only the migrate mode writes to the database. The mode comes
from the environment (manage.py shell takes no arguments of its own):

  DJANGO_STACK_MODE=preflight  (default) print the state as one JSON line:
      pending          migrations that `migrate` would apply, in order ("app.name")
      plan             the same with each migration's operations (like `migrate --plan`)
      conflicts        apps with more than one leaf migration {app: [names]}
      inconsistent     Django's explanation of an inconsistent history, or ""
      missing_files    applied in the database, but no file on disk and not replaced by
                       a squashed migration on disk (Django itself does not notice)
      changed_files    applied migrations whose file differs from the hash recorded in
                       the ledger when they were applied
      model_changes    {app: [operation descriptions]} that `makemigrations` would write
      schema_missing   as in the schema mode below (expected while migrations are pending)
      ledger           as in the ledger mode below
      ledger_current   whether the ledger file already holds exactly that ledger
      superuser_exists whether the user named by DJANGO_STACK_SUPERUSER exists (false
                       when it is unset or the user table does not exist yet)
      check_errors     with DJANGO_STACK_CHECK=1, the errors of Django's system checks
                       (`manage.py check --fail-level ERROR`) as text, "" when none; so a
                       new release's code and settings are checked in the same process
  DJANGO_STACK_MODE=schema     print {"missing": [...]}: model tables and columns that the
                               live database lacks
  DJANGO_STACK_MODE=ledger     print the hashes of every applied migration's file as JSON
                               (the caller stores them as the new ledger)
  DJANGO_STACK_MODE=migrate    run `migrate --noinput` (with DJANGO_STACK_FAKE_INITIAL=1,
                               --fake-initial), its output as migrate prints it, then the
                               preflight state it left as the last line: one Django
                               start-up for migrating and checking the result

DJANGO_STACK_LEDGER names the ledger file (JSON {"app.name": sha256}).
"""

import hashlib
import inspect
import io
import json
import os
import sys

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.exceptions import InconsistentMigrationHistory
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ProjectState


def file_hash(migration):
    path = inspect.getsourcefile(sys.modules[type(migration).__module__])
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def applied_keys(executor):
    return set(executor.recorder.applied_migrations())


def preflight():
    executor = MigrationExecutor(connection)
    loader = executor.loader
    state = {}

    plan = executor.migration_plan(loader.graph.leaf_nodes())
    state["pending"] = [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]
    state["plan"] = [
        f"{m.app_label}.{m.name}: " + "; ".join(op.describe() for op in m.operations)
        for m, backwards in plan
        if not backwards
    ]
    state["conflicts"] = {app: sorted(names) for app, names in loader.detect_conflicts().items()}
    try:
        loader.check_consistent_history(connection)
        state["inconsistent"] = ""
    except InconsistentMigrationHistory as error:
        state["inconsistent"] = str(error)

    # Applied in the database, gone from disk: the regenerated-0001 disaster. Only apps
    # that still have migrations count; a removed app's records are left alone.
    replaced = {key for migration in loader.disk_migrations.values() for key in migration.replaces}
    applied = applied_keys(executor)
    state["missing_files"] = sorted(
        f"{app}.{name}"
        for app, name in applied
        if app in loader.migrated_apps and (app, name) not in loader.disk_migrations and (app, name) not in replaced
    )

    ledger_path = os.environ.get("DJANGO_STACK_LEDGER", "")
    recorded = {}
    if ledger_path and os.path.exists(ledger_path):
        with open(ledger_path) as handle:
            recorded = json.load(handle)
    state["changed_files"] = sorted(
        f"{app}.{name}"
        for (app, name), migration in loader.disk_migrations.items()
        if (app, name) in applied and recorded.get(f"{app}.{name}") not in (None, file_hash(migration))
    )

    autodetector = MigrationAutodetector(
        loader.project_state(),
        ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(specified_apps=None, dry_run=True),
    )
    changes = autodetector.changes(graph=loader.graph)
    state["model_changes"] = {
        app: [op.describe() for migration in migrations for op in migration.operations]
        for app, migrations in changes.items()
    }
    state["schema_missing"] = schema()["missing"]
    state["ledger"] = ledger(executor)
    state["ledger_current"] = recorded == state["ledger"]
    state["superuser_exists"] = superuser_exists(os.environ.get("DJANGO_STACK_SUPERUSER", ""))
    state["check_errors"] = system_check() if os.environ.get("DJANGO_STACK_CHECK") == "1" else ""
    return state


def system_check():
    # Its report goes to a buffer: this process's output must stay one JSON line.
    try:
        call_command("check", fail_level="ERROR", stdout=io.StringIO(), stderr=io.StringIO())
    except SystemCheckError as error:
        return str(error)
    return ""


def superuser_exists(name):
    if not name:
        return False
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    with connection.cursor() as cursor:
        if user_model._meta.db_table not in connection.introspection.table_names(cursor):
            return False
    return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: name}).exists()


def schema():
    missing = []
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if not meta.managed or meta.proxy or meta.swapped:
                continue
            if meta.db_table not in tables:
                missing.append(f"{meta.label}: table {meta.db_table}")
                continue
            columns = {c.name for c in connection.introspection.get_table_description(cursor, meta.db_table)}
            for field in meta.local_concrete_fields:
                if field.column not in columns:
                    missing.append(f"{meta.label}.{field.name}: column {meta.db_table}.{field.column}")
    return {"missing": missing}


def ledger(executor=None):
    executor = executor or MigrationExecutor(connection)
    applied = applied_keys(executor)
    return {
        f"{app}.{name}": file_hash(migration)
        for (app, name), migration in sorted(executor.loader.disk_migrations.items())
        if (app, name) in applied
    }


def migrate():
    # A failing migration raises out of here: no state line, a non-zero exit.
    fake_initial = os.environ.get("DJANGO_STACK_FAKE_INITIAL") == "1"
    call_command("migrate", interactive=False, fake_initial=fake_initial)
    sys.stdout.flush()
    return preflight()


MODES = {"preflight": preflight, "schema": schema, "ledger": ledger, "migrate": migrate}
print(json.dumps(MODES[os.environ.get("DJANGO_STACK_MODE", "preflight")]()))
