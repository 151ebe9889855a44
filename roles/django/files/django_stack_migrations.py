"""The django role's migration safety net: what a release's migrations would do to the
live database, and whether it is safe to let them.

The role runs it on the host with the new release's code and the application's
settings, as the application's user, through bin/manage (which sets both up):

    bin/manage shell -c "import sys; sys.path.insert(0, 'BIN_DIR');
                         import django_stack_migrations; django_stack_migrations.main(['preflight'])"

(with DJANGO_SETTINGS_MODULE set, `python django_stack_migrations.py preflight` does the
same). Importing it does nothing; main() prints ONE JSON document as its last line:

  preflight  read only. {"findings": [...], "pending", "plan", "ledger", "ledger_current",
             "superuser_exists"}: each finding is a reason to stop before anything is
             written, {"rule", "message", "items"}, its message worded for the operator.
  migrate    `migrate --noinput` (its own output first), then the same document for the
             state it left: here a finding means the migrations did not do their job.

Each rule is one function of (context, options) returning a finding or None; the
context computes what Django knows about the database once, on first use. Options come
from the command line or, when it has none (manage.py shell takes no arguments of its
own), from the environment: see parse_options().
"""

import argparse
import hashlib
import inspect
import io
import json
import os
import sys
from functools import cached_property

MODES = ("preflight", "migrate")


# --- Options -------------------------------------------------------------------------


def parse_options(argv, environ):
    """The mode and the escape hatches. Every option defaults to an environment variable,
    so YAML can pass lists of arbitrary strings without quoting them into Python code."""

    def env_list(name):
        return json.loads(environ.get(name) or "[]")

    parser = argparse.ArgumentParser(prog="django_stack_migrations", description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=MODES, default=environ.get("DJANGO_STACK_MODE") or "preflight")
    parser.add_argument(
        "--ledger", default=environ.get("DJANGO_STACK_LEDGER", ""), help="the ledger file, JSON {app.name: sha256}"
    )
    parser.add_argument(
        "--accept-missing",
        action="append",
        default=env_list("DJANGO_STACK_ACCEPT_MISSING"),
        metavar="APP.NAME",
        help="an applied migration without a file to accept (DJANGO_STACK_ACCEPT_MISSING: a JSON list)",
    )
    parser.add_argument(
        "--accept-changed",
        action="append",
        default=env_list("DJANGO_STACK_ACCEPT_CHANGED"),
        metavar="APP.NAME",
        help="an applied migration whose file changed, to accept (DJANGO_STACK_ACCEPT_CHANGED: a JSON list)",
    )
    parser.add_argument(
        "--superuser", default=environ.get("DJANGO_STACK_SUPERUSER", ""), help="report whether this user exists"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        default=environ.get("DJANGO_STACK_CHECK") == "1",
        help="run Django's system checks too (a new release, or new settings)",
    )
    parser.add_argument(
        "--fake-initial",
        action="store_true",
        default=environ.get("DJANGO_STACK_FAKE_INITIAL") == "1",
        help="migrate --fake-initial",
    )
    return parser.parse_args(argv)


# --- What Django knows -----------------------------------------------------------------


def label(app, name):
    return f"{app}.{name}"


def file_hash(migration):
    path = inspect.getsourcefile(sys.modules[type(migration).__module__])
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class Context:
    """The live database as the release's code sees it; each part computed once."""

    def __init__(self, connection, ledger_path=""):
        self.connection = connection
        self.ledger_path = ledger_path

    @cached_property
    def executor(self):
        from django.db.migrations.executor import MigrationExecutor

        return MigrationExecutor(self.connection)

    @property
    def loader(self):
        return self.executor.loader

    @cached_property
    def applied(self):
        return set(self.executor.recorder.applied_migrations())

    @cached_property
    def forwards_plan(self):
        plan = self.executor.migration_plan(self.loader.graph.leaf_nodes())
        return [migration for migration, backwards in plan if not backwards]

    @cached_property
    def recorded_ledger(self):
        if self.ledger_path and os.path.exists(self.ledger_path):
            with open(self.ledger_path) as handle:
                return json.load(handle)
        return {}

    @cached_property
    def ledger(self):
        """The hash of every applied migration's file."""
        return {
            label(app, name): file_hash(migration)
            for (app, name), migration in sorted(self.loader.disk_migrations.items())
            if (app, name) in self.applied
        }

    @cached_property
    def model_changes(self):
        """{app: [operation descriptions]} that `makemigrations` would write."""
        from django.apps import apps
        from django.db.migrations.autodetector import MigrationAutodetector
        from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
        from django.db.migrations.state import ProjectState

        autodetector = MigrationAutodetector(
            self.loader.project_state(),
            ProjectState.from_apps(apps),
            NonInteractiveMigrationQuestioner(specified_apps=None, dry_run=True),
        )
        changes = autodetector.changes(graph=self.loader.graph)
        return {
            app: [op.describe() for migration in migrations for op in migration.operations]
            for app, migrations in changes.items()
        }

    @cached_property
    def schema_missing(self):
        """Model tables and columns that the live database lacks."""
        from django.apps import apps

        missing = []
        introspection = self.connection.introspection
        with self.connection.cursor() as cursor:
            tables = set(introspection.table_names(cursor))
            for model in apps.get_models(include_auto_created=True):
                meta = model._meta
                if not meta.managed or meta.proxy or meta.swapped:
                    continue
                if meta.db_table not in tables:
                    missing.append(f"{meta.label}: table {meta.db_table}")
                    continue
                columns = {c.name for c in introspection.get_table_description(cursor, meta.db_table)}
                missing.extend(
                    f"{meta.label}.{field.name}: column {meta.db_table}.{field.column}"
                    for field in meta.local_concrete_fields
                    if field.column not in columns
                )
        return missing

    @cached_property
    def check_errors(self):
        """Django's system checks at level ERROR, as text ("" when they pass). The report
        goes to a buffer: this process's output must end in one JSON line."""
        from django.core.management import call_command
        from django.core.management.base import SystemCheckError

        try:
            call_command("check", fail_level="ERROR", stdout=io.StringIO(), stderr=io.StringIO())
        except SystemCheckError as error:
            return str(error)
        return ""

    def superuser_exists(self, name):
        """Whether the user exists (false before the user table does)."""
        if not name:
            return False
        from django.apps import apps
        from django.conf import settings

        user_model = apps.get_model(settings.AUTH_USER_MODEL)
        with self.connection.cursor() as cursor:
            if user_model._meta.db_table not in self.connection.introspection.table_names(cursor):
                return False
        return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: name}).exists()


# --- The rules: each a reason to stop, with its message ------------------------------------


def finding(rule, message, items=()):
    return {"rule": rule, "message": message, "items": list(items)}


def system_checks_fail(ctx, options):
    if options.check and ctx.check_errors:
        return finding("check", "The new release fails Django's system checks: " + ctx.check_errors)
    return None


def conflicting_leaves(ctx, options):
    conflicts = {app: sorted(names) for app, names in ctx.loader.detect_conflicts().items()}
    if not conflicts:
        return None
    return finding(
        "conflicts",
        f"Conflicting migrations (more than one leaf) in: {json.dumps(conflicts)}. Merge them with"
        " `manage.py makemigrations --merge` in development and commit the merge migration.",
        sorted(conflicts),
    )


def inconsistent_history(ctx, options):
    from django.db.migrations.exceptions import InconsistentMigrationHistory

    try:
        ctx.loader.check_consistent_history(ctx.connection)
    except InconsistentMigrationHistory as error:
        return finding("inconsistent", f"Inconsistent migration history: {error}")
    return None


def applied_without_file(ctx, options):
    # The regenerated-0001 disaster, which Django itself does not notice. Only apps that
    # still have migrations count (a removed app's records are left alone), and a
    # squashed migration on disk that `replaces` a record covers it.
    loader = ctx.loader
    replaced = {key for migration in loader.disk_migrations.values() for key in migration.replaces}
    missing = sorted(
        label(app, name)
        for app, name in ctx.applied
        if app in loader.migrated_apps and (app, name) not in loader.disk_migrations and (app, name) not in replaced
    )
    missing = [name for name in missing if name not in options.accept_missing]
    if not missing:
        return None
    return finding(
        "missing_files",
        "Migrations recorded as applied in the database have no file in this release: "
        + ", ".join(missing)
        + ". Deploying would leave the database and the models out of step (the regenerated-0001 case:"
        " `migrate` would pass while columns are missing). Safe ways out: restore the deleted migration"
        " files in the code; or squash them with `squashmigrations` so that a migration `replaces` them;"
        " only if the database really matches the code, accept them with django_migrations_accept_missing.",
        missing,
    )


def applied_file_changed(ctx, options):
    # Against the ledger written when migrations were last applied; a migration the
    # ledger does not know (no ledger yet) is not judged.
    recorded = ctx.recorded_ledger
    changed = sorted(
        name
        for name, digest in ctx.ledger.items()
        if recorded.get(name) not in (None, digest) and name not in options.accept_changed
    )
    if not changed:
        return None
    return finding(
        "changed_files",
        "Applied migrations whose file changed since they were applied: "
        + ", ".join(changed)
        + ". An applied migration never runs again, so the change would never reach this database. Put the"
        " original file back and make a new migration for the change, or accept it with"
        " django_migrations_accept_changed.",
        changed,
    )


def models_without_migration(ctx, options):
    changes = ctx.model_changes
    if not changes:
        return None
    return finding(
        "model_changes",
        f"Models changed without a migration, in app(s) {', '.join(changes)}: "
        + "; ".join(op for ops in changes.values() for op in ops)
        + ". Run `manage.py makemigrations` in development and commit the migration.",
        sorted(changes),
    )


def schema_behind_history(ctx, options):
    # Only meaningful with nothing pending (pending migrations are what adds the
    # missing tables) and the models matching the migrations (else that finding says it).
    if ctx.forwards_plan or ctx.model_changes or not ctx.schema_missing:
        return None
    return finding(
        "schema_missing",
        "With no migration pending, the database lacks: "
        + ", ".join(ctx.schema_missing)
        + ". A migration was recorded as applied without being applied (faked, or a regenerated history).",
        ctx.schema_missing,
    )


def still_pending(ctx, options):
    pending = [label(m.app_label, m.name) for m in ctx.forwards_plan]
    if not pending:
        return None
    return finding("still_pending", "After migrating, still pending: " + ", ".join(pending) + ".", pending)


def schema_missing_after(ctx, options):
    if not ctx.schema_missing:
        return None
    return finding(
        "schema_missing_after",
        "After migrating, the database lacks: " + ", ".join(ctx.schema_missing) + ".",
        ctx.schema_missing,
    )


# Before anything is written, in the order the operator reads them...
PREFLIGHT_RULES = (
    system_checks_fail,
    conflicting_leaves,
    inconsistent_history,
    applied_without_file,
    applied_file_changed,
    models_without_migration,
    schema_behind_history,
)
# ...and after `migrate`: did it do its job?
AFTER_MIGRATE_RULES = (still_pending, schema_missing_after)


# --- The modes ---------------------------------------------------------------------------


def report(ctx, options, rules):
    """The one document the role reads."""
    plan = ctx.forwards_plan
    return {
        "findings": [found for found in (rule(ctx, options) for rule in rules) if found],
        "pending": [label(m.app_label, m.name) for m in plan],
        # Like `migrate --plan`.
        "plan": [label(m.app_label, m.name) + ": " + "; ".join(op.describe() for op in m.operations) for m in plan],
        "ledger": ctx.ledger,
        "ledger_current": ctx.recorded_ledger == ctx.ledger,
        "superuser_exists": ctx.superuser_exists(options.superuser),
    }


def preflight(connection, options):
    return report(Context(connection, options.ledger), options, PREFLIGHT_RULES)


def migrate(connection, options):
    # A failing migration raises out of here: no document, a non-zero exit.
    from django.core.management import call_command

    call_command("migrate", interactive=False, fake_initial=options.fake_initial)
    sys.stdout.flush()
    # A new context: the migrations just applied are in a fresh read of the records.
    return report(Context(connection, options.ledger), options, AFTER_MIGRATE_RULES)


def main(argv=None, environ=None):
    """Run one mode with Django set up already (manage.py shell) and print its document."""
    from django.db import connection

    options = parse_options(sys.argv[1:] if argv is None else argv, os.environ if environ is None else environ)
    run = preflight if options.mode == "preflight" else migrate
    print(json.dumps(run(connection, options)))
    return 0


if __name__ == "__main__":
    import django

    django.setup()
    sys.exit(main())
