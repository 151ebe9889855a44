"""The django role's migration safety net: what a release's migrations would do to the
live database, and whether it is safe to let them.

The role runs it on the host with the new release's code and the application's
settings, as the application's user, through bin/manage (which sets both up):

    bin/manage shell -c "import sys; sys.path.insert(0, 'BIN_DIR');
                         import django_stack_migrations; django_stack_migrations.main(['preflight'])"

(with DJANGO_SETTINGS_MODULE set, `python django_stack_migrations.py preflight` does the
same). Importing it does nothing; main() prints ONE JSON document as its last line:

  preflight  read only. {"findings": [...], "risks": [...], "pending", "plan", "ledger",
             "ledger_current", "superuser_exists"}: each finding is a reason to stop before
             anything is written, {"rule", "message", "items"}, its message worded for the
             operator; each risk is a pending operation that would hurt the site the running
             release still serves, {"risk", "migration", "operation", "decision", "message"},
             the decision (refuse, warn or accept) taken by the policy (decide()).
  migrate    `migrate --noinput` (its own output first), then the same document for the
             state it left: here a finding means the migrations did not do their job.
  rollback-plan  read only, with the code of the release being left and
             DJANGO_STACK_TARGET_DIR, the release to go back to: {"unapply", "targets",
             "drops", "irreversible", "findings"}: the migrations the target lacks, what
             unapplying them drops, and findings that refuse it (an operation without a
             reverse, dependencies reaching further).
  rollback   unapplies them (unless refused), then says what is left.

Each rule is one function of (context, options) returning a finding or None; each risk
class one function of (change, options) returning a risk or None (and, where none finds
one, the operation's SQL is read: judge_sql()); the context computes what Django knows about the database once, on first use. Options come
from the command line or, when it has none (manage.py shell takes no arguments of its
own), from the environment: see parse_options().
"""

import argparse
import hashlib
import inspect
import io
import json
import os
import re
import sys
import time
from functools import cached_property

MODES = ("preflight", "migrate", "rollback-plan", "rollback")


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
    parser.add_argument(
        "--risk-policy",
        type=json.loads,
        # A string default goes through `type` too.
        default=environ.get("DJANGO_STACK_RISK_POLICY") or '"auto"',
        metavar="JSON",
        help='"auto", "refuse" or "warn" for every risk class, or {class: one of them}; unnamed classes: auto',
    )
    parser.add_argument(
        "--accept-risks",
        action="append",
        default=env_list("DJANGO_STACK_ACCEPT_RISKS"),
        metavar="APP.NAME",
        help="a pending migration whose risks to accept (DJANGO_STACK_ACCEPT_RISKS: a JSON list)",
    )
    parser.add_argument(
        "--app-hosts",
        type=int,
        default=int(environ.get("DJANGO_STACK_APP_HOSTS") or 1),
        help="application hosts of the site: with more than one, the policy auto refuses",
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        default=environ.get("DJANGO_STACK_ADOPT") == "1",
        help="adopt a database whose history was lost: record the pending migrations as applied when the schema matches",
    )
    parser.add_argument(
        "--lock-timeout",
        type=int,
        default=int(environ.get("DJANGO_STACK_LOCK_TIMEOUT") or 5),
        help="seconds a migration's statement waits for a lock (PostgreSQL lock_timeout, MySQL lock_wait_timeout)",
    )
    parser.add_argument(
        "--lock-retries",
        type=int,
        default=int(environ.get("DJANGO_STACK_LOCK_RETRIES") or 0),
        help="tries after the first when a migration could not get its lock",
    )
    parser.add_argument(
        "--lock-retry-delay",
        type=float,
        default=float(environ.get("DJANGO_STACK_LOCK_RETRY_DELAY") or 0),
        help="seconds between those tries",
    )
    parser.add_argument(
        "--target-dir",
        default=environ.get("DJANGO_STACK_TARGET_DIR", ""),
        help="rollback-plan and rollback: the directory of the release to go back to",
    )
    parser.add_argument(
        "--large-table-rows",
        type=int,
        default=int(environ.get("DJANGO_STACK_LARGE_TABLE_ROWS") or 100000),
        help="a table with at least this many rows (the database's estimate) is large",
    )
    return parser.parse_args(argv)


# --- What Django knows -----------------------------------------------------------------


def label(app, name):
    return f"{app}.{name}"


def file_hash(migration):
    path = inspect.getsourcefile(sys.modules[type(migration).__module__])
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def database_operations(operations):
    """The operations that reach the database, SeparateDatabaseAndState unpacked."""
    from django.db.migrations.operations import SeparateDatabaseAndState

    for operation in operations:
        if isinstance(operation, SeparateDatabaseAndState):
            yield from database_operations(operation.database_operations)
        else:
            yield operation


def created_table(app_label, operation, max_length, truncate_name):
    """The table a CreateModel makes (named as Django names it), else None."""
    from django.db.migrations.operations import CreateModel

    if not isinstance(operation, CreateModel):
        return None
    model_options = operation.options
    if model_options.get("proxy") or model_options.get("managed") is False:
        return None
    return model_options.get("db_table") or truncate_name(f"{app_label}_{operation.name_lower}", max_length)


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
    def schema_scan(self):
        """The models' tables and columns against the live database: (missing, extra),
        extra being columns of a model's table that no field of the model has."""
        from django.apps import apps

        missing, extra = [], []
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
                known = {field.column for field in meta.local_concrete_fields}
                extra.extend(f"{meta.label}: column {meta.db_table}.{column}" for column in sorted(columns - known))
        return missing, extra

    @property
    def schema_missing(self):
        """Model tables and columns that the live database lacks."""
        return self.schema_scan[0]

    @property
    def schema_extra(self):
        """Columns of the models' tables that the models do not have."""
        return self.schema_scan[1]

    @cached_property
    def lost_history(self):
        """{pending migration: [tables it would create that exist already]}: the tables
        are there while the migrations that create them are not recorded (a history
        lost, or a database made by hand or restored from elsewhere)."""
        from django.db.backends.utils import truncate_name

        if not self.live_tables:
            return {}
        max_length = self.connection.ops.max_name_length()
        found = {}
        for migration in self.forwards_plan:
            tables = [
                table
                for operation in database_operations(migration.operations)
                if (table := created_table(migration.app_label, operation, max_length, truncate_name))
                in self.live_tables
            ]
            if tables:
                found[label(migration.app_label, migration.name)] = tables
        return found

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

    @cached_property
    def live_tables(self):
        with self.connection.cursor() as cursor:
            return set(self.connection.introspection.table_names(cursor))

    def row_estimate(self, table, at_least):
        """The table's row count as the database estimates it (PostgreSQL's pg_class,
        MySQL's information_schema), else counted, but never past at_least."""
        connection = self.connection
        queries = {
            "postgresql": "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            "mysql": "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        }
        with connection.cursor() as cursor:
            if connection.vendor in queries:
                name = connection.ops.quote_name(table) if connection.vendor == "postgresql" else table
                cursor.execute(queries[connection.vendor], [name])
                row = cursor.fetchone()
                # PostgreSQL says -1 for a table never analyzed; MySQL NULL for a view.
                if row and row[0] is not None and row[0] >= 0:
                    return int(row[0])
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {quoted} LIMIT %s) AS bounded", [int(at_least)])
            return int(cursor.fetchone()[0])

    def changes(self):
        """Every pending operation, in the order `migrate` runs them, with the state before it."""
        for migration in self.forwards_plan:
            state = self.loader.project_state((migration.app_label, migration.name), at_end=False)
            for change in walk(self, migration, migration.operations, state):
                yield change

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


def history_lost(ctx, options):
    # (django_migrate_fake_initial asks for Django's own, narrower way out: its choice.)
    if not ctx.lost_history or options.adopt or options.fake_initial:
        return None
    created = "; ".join(f"{name} creates {', '.join(tables)}" for name, tables in ctx.lost_history.items())
    return finding(
        "lost_history",
        "The database holds tables that migrations not recorded as applied would create ("
        + created
        + "): its migration history (the django_migrations table) was lost, or the database was made by hand or"
        " restored from elsewhere. `migrate` would fail on a table that already exists, and"
        " django_migrate_fake_initial only fakes initial migrations, so the next one would fail. Ways out: restore"
        " the database together with its django_migrations table; or set django_migrate_adopt_existing_schema:"
        " true for this deploy, which records this release's pending migrations as applied (without running"
        " them) when the live schema has every table and column of its models and no other column, and refuses"
        " otherwise, naming what differs.",
        sorted(ctx.lost_history),
    )


def adoption_refused(ctx, options):
    if not (ctx.lost_history and options.adopt):
        return None
    differs = ctx.schema_missing + [f"{item} (not in the models)" for item in ctx.schema_extra]
    if not differs:
        return None
    return finding(
        "adopt_refused",
        "django_migrate_adopt_existing_schema is on, but the live schema is not what this release's migrations"
        " produce, so nothing was recorded: "
        + ", ".join(differs)
        + ". Adopt the database with the release it came from (whose models match it), then deploy this one;"
        " or make the schema match by hand.",
        differs,
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


# --- The risks: pending operations that hurt the site the running release serves ---------
#
# The migrations run while the running release still serves (on every host that has not
# switched yet): an operation is a risk when that release's queries on a table that
# exists now would fail, or would wait behind a long lock. A table that a pending
# migration creates is nobody's yet, and a database with no migration applied serves no
# one: neither is judged.

POLICY_VALUES = ("auto", "refuse", "warn")


class Change:
    """One pending operation of one migration; `before` is the project state just before
    it (rendered only when a risk function asks for a model)."""

    def __init__(self, ctx, migration, operation, before):
        self.ctx = ctx
        self.migration = migration
        self.operation = operation
        self.before = before

    @property
    def app_label(self):
        return self.migration.app_label

    @property
    def label(self):
        return label(self.migration.app_label, self.migration.name)

    @cached_property
    def after(self):
        after = self.before.clone()
        self.operation.state_forwards(self.app_label, after)
        return after

    @property
    def connection(self):
        return self.ctx.connection

    def model(self, state, name):
        return state.apps.get_model(self.app_label, name)

    def live_table(self, model_name):
        """The model's table, if the running release uses it now; else None."""
        if (self.app_label, model_name.lower()) not in self.before.models:
            return None
        meta = self.model(self.before, model_name)._meta
        if not meta.managed or meta.proxy or meta.db_table not in self.ctx.live_tables:
            return None
        return meta.db_table

    def fields(self):
        """The AlterField's field before and after it."""
        name, field = self.operation.model_name, self.operation.name
        return self.model(self.before, name)._meta.get_field(field), self.model(self.after, name)._meta.get_field(field)


def walk(ctx, migration, operations, state):
    from django.db.migrations.operations import SeparateDatabaseAndState

    for operation in operations:
        if isinstance(operation, SeparateDatabaseAndState):
            # Only what reaches the database counts, from a copy of the state as Django
            # runs it; state_operations alone change nothing the running release sees.
            yield from walk(ctx, migration, operation.database_operations, state.clone())
            state = state.clone()
            operation.state_forwards(migration.app_label, state)
            continue
        change = Change(ctx, migration, operation, state)
        yield change
        state = change.after


def risk(risk_class, change, why, safe):
    return {
        "risk": risk_class,
        "migration": change.label,
        "operation": change.operation.describe(),
        "why": why,
        "safe": safe,
    }


def op_is(change, *names):
    from django.db.migrations import operations

    return isinstance(change.operation, tuple(getattr(operations, name) for name in names))


def removes_a_field(change, options):
    if not op_is(change, "RemoveField") or not (table := change.live_table(change.operation.model_name)):
        return None
    return risk(
        "remove_field",
        change,
        f"the running release still reads and writes this column: its queries on {table} fail from the moment it is dropped.",
        "deploy the code that stops using the column first (a release whose migration removes the field from"
        " Django's state only, with SeparateDatabaseAndState, the column nullable or with a db_default), and"
        " remove the column in a later release.",
    )


def deletes_a_model(change, options):
    if not op_is(change, "DeleteModel") or not (table := change.live_table(change.operation.name)):
        return None
    return risk(
        "delete_model",
        change,
        f"the running release still queries the table {table}: those requests fail from the moment it is dropped.",
        "deploy the code that stops using the model first, and drop the table in a later release.",
    )


def renames_a_field(change, options):
    if not op_is(change, "RenameField") or not (table := change.live_table(change.operation.model_name)):
        return None
    old = change.model(change.before, change.operation.model_name)._meta.get_field(change.operation.old_name)
    new = change.model(change.after, change.operation.model_name)._meta.get_field(change.operation.new_name)
    if old.column == new.column:
        return None
    return risk(
        "rename_field",
        change,
        f"the running release still uses the column {table}.{old.column}: its queries fail once it is {new.column}.",
        "keep the column's name with db_column (a rename in Python only); or add the new column, write both and"
        " copy the data in one release, then drop the old one in a later release.",
    )


def renames_a_model(change, options):
    if not op_is(change, "RenameModel") or not (table := change.live_table(change.operation.old_name)):
        return None
    new_table = change.model(change.after, change.operation.new_name)._meta.db_table
    if new_table == table:
        return None
    return risk(
        "rename_model",
        change,
        f"the table {table} becomes {new_table}: the running release's queries on it fail until it is replaced.",
        "keep the table's name with Meta.db_table (then the rename touches no table), and rename the table in"
        " a later release if at all.",
    )


def renames_a_table(change, options):
    if not op_is(change, "AlterModelTable") or not (table := change.live_table(change.operation.name)):
        return None
    new_table = change.model(change.after, change.operation.name)._meta.db_table
    if new_table == table:
        return None
    return risk(
        "rename_table",
        change,
        f"the table {table} becomes {new_table}: the running release's queries on it fail until it is replaced.",
        "keep Meta.db_table as it is, or create the new table, write both and copy the data in one release and"
        " drop the old table in a later release.",
    )


def widens_a_varchar(old_type, new_type, vendor):
    # PostgreSQL makes a varchar longer without rewriting the table or breaking a reader.
    import re

    old, new = (re.fullmatch(r"varchar\((\d+)\)", kind or "") for kind in (old_type, new_type))
    return vendor == "postgresql" and old and new and int(new[1]) >= int(old[1])


def changes_a_column_type(change, options):
    if not op_is(change, "AlterField") or not (table := change.live_table(change.operation.model_name)):
        return None
    old, new = change.fields()
    old_type, new_type = old.db_type(change.connection), new.db_type(change.connection)
    if old_type == new_type or widens_a_varchar(old_type, new_type, change.connection.vendor):
        return None
    return risk(
        "alter_type",
        change,
        f"the column {table}.{old.column} changes from {old_type} to {new_type}: the table is rewritten under a lock"
        " that stops every query on it, and the running release still reads and writes the old type.",
        "add a column of the new type, write both and copy the data in one release, switch the reads, and drop"
        " the old column in a later release.",
    )


def makes_a_column_not_null(change, options):
    if not op_is(change, "AlterField") or not (table := change.live_table(change.operation.model_name)):
        return None
    old, new = change.fields()
    if not (old.null and not new.null) or old.column is None:
        return None
    return risk(
        "set_not_null",
        change,
        f"the running release may still write NULL into {table}.{old.column}: those writes fail once it is NOT NULL"
        " (and the database checks every row under a lock).",
        "deploy the code that always sets the value first, fill the NULL rows, and make the column NOT NULL in a"
        " later release.",
    )


def adds_a_not_null_column(change, options):
    from django.db.models import NOT_PROVIDED

    if not op_is(change, "AddField") or not (table := change.live_table(change.operation.model_name)):
        return None
    field = change.operation.field
    if field.null or field.many_to_many or getattr(field, "generated", False):
        return None
    if getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
        return None
    return risk(
        "add_not_null",
        change,
        f"the new column {table}.{change.operation.name} is NOT NULL without a default in the database (Django fills"
        " the existing rows with the field's default, then drops it): the running release's inserts, which do"
        " not name the column, fail until it is replaced.",
        "give the field a db_default, which the database keeps; or add it with null=True and make it NOT NULL in"
        " a later release.",
    )


def large_table(change, model_name, options):
    """The live table and its row estimate, if it has at least options.large_table_rows."""
    table = change.live_table(model_name)
    if not table:
        return None, 0
    rows = change.ctx.row_estimate(table, options.large_table_rows)
    return (table, rows) if rows >= options.large_table_rows else (None, rows)


def adds_a_unique_constraint_to_a_large_table(change, options):
    from django.db.models import UniqueConstraint

    operation = change.operation
    if op_is(change, "AddConstraint") and isinstance(operation.constraint, UniqueConstraint):
        model_name = operation.model_name
    elif op_is(change, "AlterUniqueTogether"):
        model_name = operation.name
        old = change.before.models[change.app_label, model_name.lower()].options.get("unique_together") or set()
        if not set(operation.unique_together or ()) - set(old):
            return None
    else:
        return None
    table, rows = large_table(change, model_name, options)
    if not table:
        return None
    return risk(
        "unique_large_table",
        change,
        f"{table} holds {rows} rows or more (a large table): building the unique index reads them all while writes to the table"
        " wait, and fails on the first duplicate.",
        "on PostgreSQL, build a unique index with CREATE UNIQUE INDEX CONCURRENTLY in a non-atomic migration"
        " first and add the constraint with it; elsewhere, deploy it at a quiet time.",
    )


def adds_an_index_to_a_large_table(change, options):
    # AddIndexConcurrently (django.contrib.postgres) is the safe way, and a subclass.
    if not op_is(change, "AddIndex") or type(change.operation).__name__ == "AddIndexConcurrently":
        return None
    table, rows = large_table(change, change.operation.model_name, options)
    if not table:
        return None
    return risk(
        "index_large_table",
        change,
        f"{table} holds {rows} rows or more (a large table): CREATE INDEX without CONCURRENTLY blocks writes to it while it builds.",
        "on PostgreSQL, use AddIndexConcurrently (django.contrib.postgres.operations) in a migration with"
        " atomic = False; on MySQL/MariaDB, deploy it at a quiet time.",
    )


def runs_unknown_code(change, options):
    from django.db.migrations.operations import RunPython, RunSQL

    operation = change.operation
    if not op_is(change, "RunPython", "RunSQL") or not change.ctx.applied:
        return None
    if getattr(operation, "code", None) is RunPython.noop or getattr(operation, "sql", None) == RunSQL.noop:
        return None
    return risk(
        "unknown",
        change,
        "what it does to the tables cannot be told from the migration (unknown, not guessed), and it runs while"
        " the running release serves.",
        "read it: it must leave the schema usable by the running release and change large tables in batches;"
        " then accept it for this deploy.",
    )


# --- The SQL an operation produces, where the operation alone does not say ------------------
#
# An AlterField that only adds db_index or unique, or an AddField of a ForeignKey (its
# index), builds an index on a live table; nothing in the operation's class says so. For
# the operations that no rule above judged, the SQL that Django would run is collected
# (as `sqlmigrate` does: nothing is executed) and read statement by statement. Only
# PostgreSQL and MySQL/MariaDB: SQLite rebuilds a table for most changes.

# (risk class, statement pattern, judged on a large table only, why, safe pattern)
SQL_RISKS = (
    (
        "unique_large_table",
        re.compile(r"\bCREATE\s+UNIQUE\s+INDEX\s+(?!CONCURRENTLY\b)|\bADD\s+(CONSTRAINT\s+\S+\s+)?UNIQUE\b", re.I),
        True,
        "builds a unique index: it reads every row while writes to the table wait, and fails on the first duplicate.",
        "on PostgreSQL, build the unique index with CREATE UNIQUE INDEX CONCURRENTLY in a non-atomic migration"
        " first; elsewhere, deploy it at a quiet time.",
    ),
    (
        "index_large_table",
        re.compile(r"\bCREATE\s+INDEX\s+(?!CONCURRENTLY\b)|\bADD\s+INDEX\b", re.I),
        True,
        "builds an index without CONCURRENTLY: writes to the table wait while it builds.",
        "on PostgreSQL, use AddIndexConcurrently (django.contrib.postgres.operations) in a migration with"
        " atomic = False (db_index=False on the field, the index in Meta.indexes); on MySQL/MariaDB, deploy it"
        " at a quiet time.",
    ),
    (
        "remove_field",
        re.compile(r"\bDROP\s+COLUMN\b", re.I),
        False,
        "drops a column that the running release may still read and write.",
        "deploy the code that stops using the column first, and drop it in a later release.",
    ),
    (
        "rename_field",
        re.compile(r"\bRENAME\s+COLUMN\b|\bCHANGE\s+(COLUMN\s+)?\S+\s+\S+\s", re.I),
        False,
        "renames a column that the running release still uses by its old name.",
        "keep the column's name with db_column; or add the new column and drop the old one in a later release.",
    ),
    (
        "alter_type",
        re.compile(r"\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b|\bMODIFY\s+(COLUMN\s+)?\S+\s+\w", re.I),
        False,
        "changes a column's definition: the table may be rewritten under a lock that stops every query on it.",
        "add a column of the new type, copy the data, switch the reads, and drop the old column in a later release.",
    ),
    (
        "set_not_null",
        re.compile(r"\bSET\s+NOT\s+NULL\b", re.I),
        False,
        "makes a column NOT NULL: the running release's writes of NULL fail, and every row is checked under a lock.",
        "deploy the code that always sets the value first, fill the NULL rows, and add NOT NULL in a later release.",
    ),
)
SQL_TABLE = re.compile(r"\b(?:ALTER\s+TABLE|ON)\s+[`\"]?([\w$]+)[`\"]?", re.I)


def judge_sql(statements, live_tables, row_estimate):
    """[(risk class, statement, why, safe)] for the statements that would hurt the running
    release: each on a live table, the index classes only on a large one (row_estimate(table)
    is its estimate against the threshold, or None when it is below)."""
    found = []
    for statement in statements:
        table = SQL_TABLE.search(statement)
        if not table or table[1] not in live_tables:
            continue
        for risk_class, pattern, large_only, why, safe in SQL_RISKS:
            if not pattern.search(statement):
                continue
            if large_only:
                rows = row_estimate(table[1])
                if rows is None:
                    break
                why = f"{table[1]} holds {rows} rows or more (a large table): its SQL {why}"
            else:
                why = f"its SQL on {table[1]} {why}"
            found.append((risk_class, statement.strip(), why, safe))
            break
    return found


def collected_sql(change):
    """The SQL the operation would run, collected without running it."""
    with change.connection.schema_editor(collect_sql=True, atomic=False) as editor:
        change.operation.database_forwards(change.app_label, editor, change.before, change.after)
    return editor.collected_sql


def sql_risks(change, options):
    """The risks in an operation's SQL (called for the operations no other rule judged)."""
    # RunPython would run its code; RunSQL is judged as unknown already.
    if change.connection.vendor not in ("postgresql", "mysql") or op_is(change, "RunPython", "RunSQL"):
        return []

    def row_estimate(table):
        rows = change.ctx.row_estimate(table, options.large_table_rows)
        return rows if rows >= options.large_table_rows else None

    return [
        risk(risk_class, change, f"{why} ({statement})", safe)
        for risk_class, statement, why, safe in judge_sql(collected_sql(change), change.ctx.live_tables, row_estimate)
    ]


RISKS = (
    removes_a_field,
    deletes_a_model,
    renames_a_field,
    renames_a_model,
    renames_a_table,
    changes_a_column_type,
    makes_a_column_not_null,
    adds_a_not_null_column,
    adds_a_unique_constraint_to_a_large_table,
    adds_an_index_to_a_large_table,
    runs_unknown_code,
)
RISK_CLASSES = (
    "remove_field",
    "delete_model",
    "rename_field",
    "rename_model",
    "rename_table",
    "alter_type",
    "set_not_null",
    "add_not_null",
    "unique_large_table",
    "index_large_table",
    "unknown",
)


def policy_error(policy):
    """Why the policy cannot be read, or None."""
    values = policy.values() if isinstance(policy, dict) else [policy]
    unknown = sorted(set(policy) - set(RISK_CLASSES)) if isinstance(policy, dict) else []
    if unknown or not all(value in POLICY_VALUES for value in values):
        return finding(
            "risk_policy",
            f"django_migration_risk_policy must be one of {', '.join(POLICY_VALUES)}, or a dict from risk class"
            f" ({', '.join(RISK_CLASSES)}) to one of them; got {json.dumps(policy)}.",
            unknown,
        )
    return None


def decide(found, options):
    """refuse, warn or accept: the accept list first, then the policy, whose `auto`
    refuses where the running release keeps serving on other hosts while it migrates."""
    if found["migration"] in options.accept_risks:
        return "accept"
    policy = options.risk_policy
    value = policy.get(found["risk"], "auto") if isinstance(policy, dict) else policy
    if value == "auto":
        return "refuse" if options.app_hosts > 1 else "warn"
    return value


def worded(found):
    """The operator's message for a risk and its decision."""
    head = {
        "refuse": "Refused",
        "warn": "Warning",
        "accept": "Accepted (django_migration_risks_accept)",
    }[found["decision"]]
    message = (
        f"{head}: migration {found['migration']}, operation '{found['operation']}' ({found['risk']}): "
        f"{found['why']} Safe pattern: {found['safe']}"
    )
    if found["decision"] == "refuse":
        message += (
            f" To deploy it anyway, knowingly: add {found['migration']} to django_migration_risks_accept,"
            f" or set django_migration_risk_policy's {found['risk']} to warn."
        )
    return message


def risks(ctx, options):
    """The pending operations' risks, each with its decision and message: the rules on the
    operation first, its SQL where they found nothing."""
    found = []
    for change in ctx.changes():
        results = [judged(check, change, options) for check in RISKS]
        results = [result for result in results if result] or judged(sql_risks, change, options, many=True)
        for result in results:
            result["decision"] = decide(result, options)
            result["message"] = worded(result)
            found.append(result)
    return found


def judged(check, change, options, many=False):
    """check(change, options); a check that fails to judge is a risk of its own."""
    try:
        return check(change, options)
    except Exception as error:  # noqa: BLE001 - a risk not told is still a risk
        result = risk(
            "unknown",
            change,
            f"the check {check.__name__} could not judge it ({type(error).__name__}: {error}).",
            "read the migration; then accept it for this deploy.",
        )
        return [result] if many else result


# Before anything is written, in the order the operator reads them...
PREFLIGHT_RULES = (
    system_checks_fail,
    conflicting_leaves,
    inconsistent_history,
    applied_without_file,
    applied_file_changed,
    models_without_migration,
    schema_behind_history,
    history_lost,
    adoption_refused,
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


def adoptable(ctx, options):
    """The pending migrations to record as applied without running them: all of them,
    when adoption is asked for, the history was lost and the schema matches."""
    if options.adopt and ctx.lost_history and not ctx.schema_missing and not ctx.schema_extra:
        return [label(m.app_label, m.name) for m in ctx.forwards_plan]
    return []


def preflight(connection, options):
    ctx = Context(connection, options.ledger)
    document = report(ctx, options, PREFLIGHT_RULES)
    document["adopt"] = adoptable(ctx, options)
    bad_policy = policy_error(options.risk_policy)
    if bad_policy:
        document["findings"].append(bad_policy)
    # With the history lost, the pending operations ran long ago: nothing to judge.
    document["risks"] = [] if bad_policy or ctx.lost_history else risks(ctx, options)
    return document


# --- Locks: a migration waits for its lock a bounded time, then tries again ---------------
#
# The statement of a migration that waits for a lock (an ALTER behind a long transaction)
# makes every later query on that table wait behind it: the site stalls. So the migrate
# process sets its own session's lock timeout (this session only: the site's sessions
# keep theirs), and a statement that could not get its lock within it fails, and
# `migrate` is run again after a pause, a bounded number of times. PostgreSQL rolls back
# the whole migration (each migration is one transaction); MySQL/MariaDB cannot roll back
# DDL, so statements of the migration that ran before the wait stay: then there is no
# retry (the migration would fail on what stayed) and the message names them.

LOCK_TIMEOUT_SQL = {
    "postgresql": ["SET lock_timeout = '{ms}ms'"],
    # Metadata locks (DDL) and InnoDB row locks (data migrations); whole seconds.
    "mysql": ["SET SESSION lock_wait_timeout = {s}", "SET SESSION innodb_lock_wait_timeout = {s}"],
}
# PostgreSQL's lock_not_available; MySQL/MariaDB's ER_LOCK_WAIT_TIMEOUT.
LOCK_TIMEOUT_CODES = {"55P03", 1205}
WRITES = re.compile(r"\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
RECORDED = re.compile(r"\s*INSERT\s+INTO\s+[`\"]?django_migrations\b", re.IGNORECASE)


def set_lock_timeout(connection, seconds):
    """Bound this session's lock waits (no-op on databases without such a setting)."""
    with connection.cursor() as cursor:
        for statement in LOCK_TIMEOUT_SQL.get(connection.vendor, []):
            cursor.execute(statement.format(ms=int(seconds * 1000), s=max(1, int(seconds))))


def is_lock_timeout(error):
    """Whether the error, or one it was raised from, is the database's lock timeout."""
    while error is not None:
        codes = {getattr(error, "pgcode", None), getattr(error, "sqlstate", None)}
        args = getattr(error, "args", ())
        if args and isinstance(args[0], int):
            codes.add(args[0])
        if codes & LOCK_TIMEOUT_CODES:
            return True
        error = error.__cause__ or error.__context__
    return False


class StatementLog:
    """An execute wrapper: the writing statements run since the last migration was
    recorded (those of the migration under way), and the statement that failed."""

    def __init__(self):
        self.since_recorded = []
        self.failed = ""

    def __call__(self, execute, sql, params, many, context):
        try:
            result = execute(sql, params, many, context)
        except Exception:
            self.failed = sql
            raise
        if RECORDED.match(sql):
            self.since_recorded = []
        elif WRITES.match(sql):
            self.since_recorded.append(sql)
        return result


def quoted_names(sql):
    return set(re.findall(r'[`"]([^`"]+)[`"]', sql or ""))


BLOCKERS_SQL = {
    "postgresql": """
        SELECT a.pid, a.usename, a.state,
               EXTRACT(EPOCH FROM now() - COALESCE(a.xact_start, a.query_start))::int,
               a.query, string_agg(DISTINCT c.relname || ' (' || l.mode || ')', ', ')
        FROM pg_locks l
        JOIN pg_class c ON c.oid = l.relation
        JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.granted AND l.pid <> pg_backend_pid() AND c.relname = ANY(%s)
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        GROUP BY a.pid, a.usename, a.state, a.xact_start, a.query_start, a.query
        ORDER BY 4 DESC LIMIT 5""",
    # MariaDB has no table of who holds a metadata lock without a plugin: the sessions on
    # this database with an open transaction (INNODB_TRX, with the PROCESS privilege),
    # else every other session of the database that this user may see.
    "mysql": """
        SELECT p.ID, p.USER, p.COMMAND, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), COALESCE(p.INFO, t.trx_query)
        FROM information_schema.PROCESSLIST p JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
        WHERE p.ID <> CONNECTION_ID() AND p.DB = DATABASE() ORDER BY 4 DESC LIMIT 5""",
    "mysql_sessions": """
        SELECT ID, USER, COMMAND, TIME, INFO FROM information_schema.PROCESSLIST
        WHERE ID <> CONNECTION_ID() AND DB = DATABASE() ORDER BY TIME DESC LIMIT 5""",
}


def blockers(connection, tables):
    """The sessions that hold locks on these tables, worded (best effort: [] if unknown)."""
    vendor = connection.vendor
    worded = []
    try:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute(BLOCKERS_SQL["postgresql"], [sorted(tables)])
                for pid, user, state, age, query, locks in cursor.fetchall():
                    worded.append(
                        f"session {pid} (user {user}, {state}, its transaction open for {age} s, holding {locks}),"
                        f" its query: {query!r}"
                    )
            elif vendor == "mysql":
                try:
                    cursor.execute(BLOCKERS_SQL["mysql"])
                    rows, what = cursor.fetchall(), "its transaction open for"
                except Exception:  # noqa: BLE001 - INNODB_TRX needs the PROCESS privilege
                    rows = []
                if not rows:
                    cursor.execute(BLOCKERS_SQL["mysql_sessions"])
                    rows, what = cursor.fetchall(), "in its state for"
                for thread, user, command, age, query in rows:
                    text = repr(query) if query else "none now (MariaDB keeps no text of an idle session's last query)"
                    worded.append(f"session {thread} (user {user}, {command}, {what} {age} s), its query: {text}")
    except Exception as error:  # noqa: BLE001 - the message must still come out
        worded.append(f"(the sessions holding locks could not be read: {type(error).__name__}: {error})")
    return worded


def rolls_back(connection, migration):
    """Whether a failed migration leaves nothing behind: one transaction, DDL included."""
    return bool(getattr(migration, "atomic", True)) and connection.features.can_rollback_ddl


def heading(connection, tables):
    """What the list of sessions is: PostgreSQL says who holds locks on the tables;
    MySQL/MariaDB only which sessions could."""
    names = ", ".join(sorted(tables)) or "its tables"
    if connection.vendor == "postgresql":
        return f"Holding locks on {names}"
    return (
        f"The sessions of this database that may hold the lock on {names} ({connection.display_name} does not say"
        " which session holds a metadata lock)"
    )


def lock_failure(connection, options, log, migration, tries, applied_now):
    """The finding for a migration that could not get its lock, and what it left behind."""
    rolled_back = rolls_back(connection, migration)
    stayed = [] if rolled_back else list(log.since_recorded)
    name = label(migration.app_label, migration.name) if migration else "(unknown)"
    # The quoted names of the statement that waited, those that are tables (not columns).
    with connection.cursor() as cursor:
        live = set(connection.introspection.table_names(cursor))
    tables = (
        quoted_names(log.failed) or {t for statement in log.since_recorded for t in quoted_names(statement)}
    ) & live
    holders = blockers(connection, tables)
    message = (
        f"Migration {name} could not get its lock within django_migrate_lock_timeout ({options.lock_timeout} s),"
        f" in {tries} tr{'y' if tries == 1 else 'ies'}, {options.lock_retry_delay:g} s apart. It waited to run: {log.failed.strip()!r}."
        + (
            f" {heading(connection, tables)}: " + "; ".join(holders) + "."
            if holders
            else " No other session holds a lock on " + (", ".join(sorted(tables)) or "its tables") + " any more."
        )
    )
    if stayed:
        message += (
            f" {connection.display_name} cannot roll back DDL: these statements of {name} ran before the wait and"
            " stayed, while the migration is not recorded as applied: " + "; ".join(s.strip() for s in stayed) + "."
            " Undo them, or restore the backup taken before migrating, once that session has ended (not now: it"
            " would wait for the same locks), then deploy again."
        )
    else:
        message += f" Nothing of {name} was applied" + (
            f" ({connection.display_name} rolled the migration back)." if rolled_back and log.since_recorded else "."
        )
        message += (
            " Applied before it in this run, and kept (each is whole and recorded): " + ", ".join(applied_now) + "."
            if applied_now
            else " No migration was applied in this run."
        ) + (
            " The database was not restored: it needs no restore, and a restore would wait for the same locks."
            " End that session or let it finish, then deploy again (or raise django_migrate_lock_timeout)."
        )
    return finding("lock_timeout", message, [name]), {
        "migration": name,
        "tries": tries,
        "statement": log.failed,
        "stayed": stayed,
        "applied_now": applied_now,
        "blockers": holders,
    }


def run_migrate(connection, options, command, sleep=time.sleep):
    """`migrate`, run again after a lock timeout while that leaves nothing behind. Returns
    None when it passed, else (finding, details) for the lock it could not get; any
    other failure raises."""
    applied_before = set(Context(connection).applied)
    tries = 0
    while True:
        tries += 1
        log = StatementLog()
        set_lock_timeout(connection, options.lock_timeout)
        try:
            with connection.execute_wrapper(log):
                command()
            return None
        except Exception as error:
            if not is_lock_timeout(error):
                raise
            # Ends migrate's unfinished "Applying app.name..." line: what follows (the
            # retry's note, or the document) must start a line of its own.
            print(flush=True)
            ctx = Context(connection)
            migration = ctx.forwards_plan[0] if ctx.forwards_plan else None
            if tries > options.lock_retries or (log.since_recorded and not rolls_back(connection, migration)):
                applied_now = sorted(label(*key) for key in set(ctx.applied) - applied_before)
                return lock_failure(connection, options, log, migration, tries, applied_now)
            print(
                f"  Could not get a lock within {options.lock_timeout} s (try {tries} of {options.lock_retries + 1});"
                f" trying again in {options.lock_retry_delay:g} s.",
                flush=True,
            )
            sleep(options.lock_retry_delay)


def migrate(connection, options, call_command=None, sleep=time.sleep):
    # A failing migration raises out of here (no document, a non-zero exit); one that
    # could not get its lock ends in a document with the lock_timeout finding.
    if call_command is None:
        from django.core.management import call_command

    ctx = Context(connection, options.ledger)
    adopt = adoptable(ctx, options)
    if adopt:
        unrun = [
            label(m.app_label, m.name)
            for m in ctx.forwards_plan
            if any(type(op).__name__ in ("RunPython", "RunSQL") for op in database_operations(m.operations))
        ]
        print(
            "Adopting the existing schema (django_migrate_adopt_existing_schema): recording as applied without"
            f" running them: {', '.join(adopt)}."
            + (f" Their RunPython/RunSQL steps did not run: {', '.join(unrun)}." if unrun else ""),
            flush=True,
        )
        call_command("migrate", interactive=False, fake=True)
    else:
        failed = run_migrate(
            connection,
            options,
            lambda: call_command("migrate", interactive=False, fake_initial=options.fake_initial),
            sleep,
        )
        if failed:
            document = report(Context(connection, options.ledger), options, ())
            document["findings"], document["lock_timeout"] = [failed[0]], failed[1]
            return document
    sys.stdout.flush()
    # A new context: the migrations just applied are in a fresh read of the records.
    document = report(Context(connection, options.ledger), options, AFTER_MIGRATE_RULES)
    document["adopted"] = adopt
    return document


# --- Rollback: the migrations that the release being left applied and the target lacks -----
#
# Run with the code of the release being left (the one that has those migrations), and
# the target release's directory. Only the project's own apps (their code inside this
# release's directory) are compared, by their migration files: the installed packages'
# migrations are the same on both sides, or not the project's to undo.

# Operations whose reverse drops what was written since: said before anything runs.
DROPPING = {"AddField": "column", "CreateModel": "table", "AddIndex": None, "AddConstraint": None}


def release_root():
    """The directory of the release whose code runs (manage.py's, the working directory)."""
    return os.path.realpath(os.getcwd())


def target_names(app_configs, root, target_dir):
    """{app label: the migration names the target release has} for the project's own apps."""
    found = {}
    for config in app_configs:
        path = os.path.realpath(config.path)
        if not path.startswith(root + os.sep):
            continue
        directory = os.path.join(target_dir, os.path.relpath(path, root), "migrations")
        names = os.listdir(directory) if os.path.isdir(directory) else []
        found[config.label] = {name[:-3] for name in names if name.endswith(".py") and name != "__init__.py"}
    return found


def rollback_plan(ctx, target_dir, app_configs=None, root=None):
    """What going back to the release in target_dir does to the database: the migrations
    to unapply, Django's targets for them, and findings that refuse it."""
    from django.apps import apps

    if not target_dir or not os.path.isdir(target_dir):
        return {"unapply": [], "targets": [], "drops": [], "irreversible": [],
                "findings": [finding("rollback_target", f"The release to go back to is not on this host: {target_dir!r}.")]}
    has = target_names(app_configs if app_configs is not None else apps.get_app_configs(), root or release_root(), target_dir)
    leaving = {key for key in ctx.applied if key[0] in has and key[1] not in has[key[0]]}
    graph = ctx.loader.graph
    targets = []
    for app in sorted({app for app, _ in leaving}):
        kept = [key for key in ctx.applied if key[0] == app and key[1] in has[app] and key in graph.nodes]
        # The newest migration the target keeps: the one with the most ancestors.
        targets.append([app, max(kept, key=lambda key: len(graph.forwards_plan(key)))[1] if kept else None])
    plan = ctx.executor.migration_plan([tuple(target) for target in targets]) if targets else []
    backwards = [migration for migration, back in plan if back]
    document = {
        "unapply": [label(m.app_label, m.name) for m in backwards],
        "targets": targets,
        "drops": [],
        "irreversible": [],
        "findings": [],
    }
    if {(m.app_label, m.name) for m in backwards} != leaving or len(backwards) != len(plan):
        document["findings"].append(finding(
            "rollback_plan",
            "Going back to the target release's migrations would unapply "
            f"{', '.join(document['unapply']) or 'nothing'}, while it lacks exactly "
            f"{', '.join(sorted(label(*key) for key in leaving))}: their dependencies reach further."
            " Unapply them by hand (manage.py migrate APP MIGRATION), or restore the backup taken before the deploy.",
        ))
    for migration in backwards:
        for operation in database_operations(migration.operations):
            name = type(operation).__name__
            if not operation.reversible:
                document["irreversible"].append({"migration": label(migration.app_label, migration.name),
                                                 "operation": operation.describe()})
            elif DROPPING.get(name):
                document["drops"].append(f"{label(migration.app_label, migration.name)}: {operation.describe()}"
                                         f" (the {DROPPING[name]} and what was written to it since)")
    if document["irreversible"]:
        document["findings"].append(finding(
            "rollback_irreversible",
            "The database cannot go back with Django: "
            + "; ".join(f"{item['migration']} ('{item['operation']}') has no reverse" for item in document["irreversible"])
            + ". Nothing was changed. Give those operations a reverse (RunPython's reverse_code, RunSQL's"
            " reverse_sql) in a new release, or restore the backup taken before the deploy that applied them"
            " (playbooks/restore.yml), which loses what was written since.",
            [item["migration"] for item in document["irreversible"]],
        ))
    return document


def rollback(connection, options, call_command=None):
    """Unapply what rollback_plan() names, unless it refuses; then the plan again (empty)."""
    ctx = Context(connection, options.ledger)
    document = rollback_plan(ctx, options.target_dir)
    if document["findings"] or not document["targets"]:
        return document
    set_lock_timeout(connection, options.lock_timeout)
    targets = [tuple(target) for target in document["targets"]]
    ctx.executor.migrate(targets, plan=ctx.executor.migration_plan(targets))
    sys.stdout.flush()
    after = rollback_plan(Context(connection, options.ledger), options.target_dir)
    document["left"] = after["unapply"]
    if after["unapply"]:
        document["findings"].append(finding("rollback_left", "Still applied after unapplying: " + ", ".join(after["unapply"])))
    return document


def main(argv=None, environ=None):
    """Run one mode with Django set up already (manage.py shell) and print its document."""
    from django.db import connection

    options = parse_options(sys.argv[1:] if argv is None else argv, os.environ if environ is None else environ)
    if options.mode == "rollback-plan":
        document = rollback_plan(Context(connection, options.ledger), options.target_dir)
    else:
        document = {"preflight": preflight, "migrate": migrate, "rollback": rollback}[options.mode](connection, options)
    print(json.dumps(document))
    return 0


if __name__ == "__main__":
    import django

    django.setup()
    sys.exit(main())
