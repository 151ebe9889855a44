"""The django role's migration safety net (roles/django/files/django_stack_migrations.py).

Each rule is triggered for real: a tiny Django project in tmp_path, on SQLite, run the way
the role runs it on the host (`manage.py shell -c` with the role's own entry point from
vars/main.yml), one Django process per call. The rules' finer points (accept-lists, when
a rule stays quiet) are checked in-process with a fake context.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "django"
FILES = ROLE / "files"
sys.path.insert(0, str(FILES))

import django_stack_migrations as net  # noqa: E402

# --- The tiny project ----------------------------------------------------------------------

SETTINGS = """
    import os
    BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    SECRET_KEY = "unit-test"
    USE_TZ = True
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
    INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shop"]
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(BASE_DIR, "db.sqlite3")}}
"""

# A system check that fails on demand (the checkfails case).
APPS = """
    import os
    from django.apps import AppConfig
    from django.core import checks

    def fail_on_demand(app_configs, **kwargs):
        if os.environ.get("SHOP_FAIL_CHECK") == "1":
            return [checks.Error("shop fails its check on purpose", id="shop.E001")]
        return []

    class ShopConfig(AppConfig):
        name = "shop"

        def ready(self):
            checks.register(fail_on_demand)
"""

MODELS_V1 = """
    from django.db import models

    class Author(models.Model):
        name = models.CharField(max_length=50)
"""

MODELS_V2 = MODELS_V1 + """
        email = models.CharField(max_length=80, default="")
"""

HEADER = "from django.db import migrations, models\n\n"

M0001 = HEADER + """
class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Author",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=50)),
            ],
        ),
    ]
"""

# 0001 regenerated with 0002's field folded in: the story's drift.
M0001_REGENERATED = M0001.replace(
    '("name", models.CharField(max_length=50)),',
    '("name", models.CharField(max_length=50)), ("email", models.CharField(max_length=80, default="")),',
)

ADD_EMAIL = 'migrations.AddField(model_name="author", name="email", field=models.CharField(max_length=80, default=""))'


def migration(operations, depends_on="0001_initial", extra=""):
    return HEADER + textwrap.dedent(f"""
        class Migration(migrations.Migration):
            dependencies = [("shop", "{depends_on}")]
            {extra}
            operations = [{operations}]
    """)


M0002 = migration(ADD_EMAIL)
# Adds the field to Django's idea of the models only: the column never reaches the database.
M0002_STATE_ONLY = migration(f"migrations.SeparateDatabaseAndState(state_operations=[{ADD_EMAIL}])")
M0002_FAILS = HEADER + textwrap.dedent("""
    def fail(apps, schema_editor):
        raise RuntimeError("this migration fails on purpose")

    class Migration(migrations.Migration):
        dependencies = [("shop", "0001_initial")]
        operations = [migrations.RunPython(fail)]
""")


def entry_point():
    """The role's own `manage.py shell -c` prefix, pointed at the files directory."""
    value = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["__django_migrations_main"]
    return value.replace("{{ django_root }}/bin", str(FILES))


class Project:
    def __init__(self, root):
        self.root = root

    def write(self, relative, text):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if not text.startswith(HEADER) else text)
        return path

    def migrations(self, **files):
        """Make shop/migrations/ hold exactly these files (name without .py: text)."""
        directory = self.root / "shop" / "migrations"
        for old in directory.glob("0*.py"):
            old.unlink()
        for name, text in files.items():
            self.write(f"shop/migrations/{name}.py", text)

    def manage(self, *args, env=None, check=True):
        completed = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.root,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tinysite.settings", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert completed.returncode == 0, completed.stderr
        return completed

    def run(self, mode="preflight", env=None, check=True):
        """The component as the role runs it; its document (the last line) and the process."""
        completed = self.manage("shell", "-c", f"{entry_point()}(['{mode}'])", env=env, check=check)
        lines = completed.stdout.strip().splitlines()
        document = json.loads(lines[-1]) if completed.returncode == 0 else None
        return document, completed

    def sql(self, statement, *params):
        with sqlite3.connect(self.root / "db.sqlite3") as db:
            db.execute(statement, params)


@pytest.fixture(scope="session")
def base_project(tmp_path_factory):
    """The project with Django's own apps migrated once; each test gets a copy."""
    root = tmp_path_factory.mktemp("base") / "project"
    project = Project(root)
    project.write("manage.py", """
        import sys
        from django.core.management import execute_from_command_line
        execute_from_command_line(sys.argv)
    """)
    project.write("tinysite/__init__.py", "")
    project.write("tinysite/settings.py", SETTINGS)
    project.write("shop/__init__.py", "")
    project.write("shop/apps.py", APPS)
    project.write("shop/models.py", MODELS_V1)
    project.write("shop/migrations/__init__.py", "")
    project.write("shop/migrations/0001_initial.py", M0001)
    project.manage("migrate", "auth")
    return root


@pytest.fixture
def project(base_project, tmp_path):
    root = tmp_path / "project"
    shutil.copytree(base_project, root)
    return Project(root)


def rules(document):
    return [found["rule"] for found in document["findings"]]


# --- The whole component on SQLite -------------------------------------------------------------


def test_importing_does_no_work(capsys):
    # Imported above with no Django settings at all: nothing printed, nothing connected.
    assert capsys.readouterr().out == ""
    assert callable(net.main)


def test_a_clean_database_has_no_findings(project):
    project.manage("migrate")
    document, _ = project.run()
    assert document["findings"] == []
    assert document["pending"] == []
    assert "shop.0001_initial" in document["ledger"]
    # No ledger file was given, so the ledger is not current yet.
    assert document["ledger_current"] is False


def test_pending_migrations_are_the_plan_not_a_finding(project):
    project.manage("migrate")
    project.write("shop/models.py", MODELS_V2)
    project.migrations(**{"0001_initial": M0001, "0002_author_email": M0002})
    document, _ = project.run()
    assert document["findings"] == []
    assert document["pending"] == ["shop.0002_author_email"]
    assert document["plan"] == ["shop.0002_author_email: Add field email to author"]


def test_conflicting_leaves(project):
    project.migrations(**{"0001_initial": M0001, "0002_a": migration(""), "0002_b": migration("")})
    document, _ = project.run()
    assert rules(document) == ["conflicts"]
    assert document["findings"][0]["items"] == ["shop"]
    assert '{"shop": ["0002_a", "0002_b"]}' in document["findings"][0]["message"]
    assert "makemigrations --merge" in document["findings"][0]["message"]


def test_inconsistent_history(project):
    # 0002 recorded as applied, its dependency 0001 not.
    project.migrations(**{"0001_initial": M0001, "0002_author_email": M0002})
    project.write("shop/models.py", MODELS_V2)
    project.sql("INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0002_author_email', '2026-01-01')")
    document, _ = project.run()
    # Nothing pending (the leaf is recorded), and its table missing: said too.
    assert rules(document) == ["inconsistent", "schema_missing"]
    assert document["findings"][0]["message"].startswith("Inconsistent migration history: Migration shop.0002_author_email")


def migrated_to_v2_then_regenerated(project):
    project.write("shop/models.py", MODELS_V2)
    project.migrations(**{"0001_initial": M0001, "0002_author_email": M0002})
    project.manage("migrate")
    project.migrations(**{"0001_initial": M0001_REGENERATED})


def test_an_applied_migration_without_its_file_stops_the_deploy(project):
    migrated_to_v2_then_regenerated(project)
    document, _ = project.run()
    assert rules(document) == ["missing_files"]
    assert document["findings"][0]["items"] == ["shop.0002_author_email"]
    assert "have no file in this release: shop.0002_author_email." in document["findings"][0]["message"]
    assert "django_migrations_accept_missing" in document["findings"][0]["message"]


def test_an_accepted_missing_file_does_not(project):
    migrated_to_v2_then_regenerated(project)
    document, _ = project.run(env={"DJANGO_STACK_ACCEPT_MISSING": '["shop.0002_author_email"]'})
    assert document["findings"] == []


def test_a_squashed_migration_that_replaces_them_covers_them(project):
    project.write("shop/models.py", MODELS_V2)
    project.migrations(**{"0001_initial": M0001, "0002_author_email": M0002})
    project.manage("migrate")
    squashed = M0001_REGENERATED.replace(
        "initial = True", 'initial = True\n    replaces = [("shop", "0001_initial"), ("shop", "0002_author_email")]'
    )
    project.migrations(**{"0001_squashed_0002": squashed})
    document, _ = project.run()
    assert document["findings"] == []
    assert document["pending"] == []


def test_an_applied_migration_edited_since_the_ledger_stops_the_deploy(project):
    ledger = project.root / "ledger.json"
    env = {"DJANGO_STACK_LEDGER": str(ledger)}
    project.manage("migrate")
    document, _ = project.run(env=env)
    ledger.write_text(json.dumps(document["ledger"]))
    assert project.run(env=env)[0]["ledger_current"] is True

    project.write("shop/migrations/0001_initial.py", M0001 + "# edited after it was applied\n")
    document, _ = project.run(env=env)
    assert rules(document) == ["changed_files"]
    assert document["findings"][0]["items"] == ["shop.0001_initial"]
    assert document["ledger_current"] is False

    accepted, _ = project.run(env={**env, "DJANGO_STACK_ACCEPT_CHANGED": '["shop.0001_initial"]'})
    assert accepted["findings"] == []
    # Without a ledger there is nothing to compare with.
    assert project.run()[0]["findings"] == []


def test_a_model_change_without_its_migration_stops_the_deploy(project):
    project.manage("migrate")
    project.write("shop/models.py", MODELS_V2)
    document, _ = project.run()
    assert rules(document) == ["model_changes"]
    assert document["findings"][0]["message"].startswith(
        "Models changed without a migration, in app(s) shop: Add field email to author."
    )


def test_a_faked_migration_leaves_the_schema_behind(project):
    project.manage("migrate")
    project.write("shop/models.py", MODELS_V2)
    project.migrations(**{"0001_initial": M0001, "0002_author_email": M0002})
    project.manage("migrate", "shop", "0002", "--fake")
    document, _ = project.run()
    assert rules(document) == ["schema_missing"]
    assert document["findings"][0]["items"] == ["shop.Author.email: column shop_author.email"]


def test_the_system_checks_run_only_when_asked(project):
    project.manage("migrate")
    failing = {"SHOP_FAIL_CHECK": "1"}
    assert project.run(env=failing)[0]["findings"] == []
    document, _ = project.run(env={**failing, "DJANGO_STACK_CHECK": "1"})
    assert rules(document) == ["check"]
    assert "shop.E001" in document["findings"][0]["message"]
    assert project.run(env={"DJANGO_STACK_CHECK": "1"})[0]["findings"] == []


def test_whether_the_superuser_exists(project):
    env = {"DJANGO_STACK_SUPERUSER": "admin"}
    assert project.run(env=env)[0]["superuser_exists"] is False
    project.manage("shell", "-c", "from django.contrib.auth.models import User; User.objects.create_superuser('admin')")
    assert project.run(env=env)[0]["superuser_exists"] is True
    assert project.run()[0]["superuser_exists"] is False


def test_migrate_applies_and_reports_the_state_it_left(project):
    project.write("shop/models.py", MODELS_V2)
    project.migrations(**{"0001_initial": M0001, "0002_author_email": M0002})
    document, completed = project.run("migrate")
    assert "Applying shop.0002_author_email... OK" in completed.stdout
    assert document["findings"] == []
    assert document["pending"] == []
    assert "shop.0002_author_email" in document["ledger"]


def test_migrate_that_leaves_a_column_missing_is_a_finding(project):
    project.write("shop/models.py", MODELS_V2)
    project.migrations(**{"0001_initial": M0001, "0002_author_email": M0002_STATE_ONLY})
    document, completed = project.run("migrate")
    assert completed.returncode == 0
    assert rules(document) == ["schema_missing_after"]
    assert document["findings"][0]["message"] == (
        "After migrating, the database lacks: shop.Author.email: column shop_author.email."
    )


def test_a_failing_migration_exits_non_zero(project):
    project.migrations(**{"0001_initial": M0001, "0002_fails": M0002_FAILS})
    document, completed = project.run("migrate", check=False)
    assert completed.returncode != 0
    assert "Applying shop.0002_fails..." in completed.stdout
    assert "this migration fails on purpose" in completed.stderr


def test_fake_initial_adopts_existing_tables(project):
    project.sql("CREATE TABLE shop_author (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, name varchar(50) NOT NULL)")
    _, without = project.run("migrate", check=False)
    assert without.returncode != 0
    assert "already exists" in without.stderr
    document, completed = project.run("migrate", env={"DJANGO_STACK_FAKE_INITIAL": "1"})
    assert "Applying shop.0001_initial... FAKED" in completed.stdout
    assert document["findings"] == []


def test_it_also_runs_as_a_script(project):
    project.manage("migrate")
    completed = subprocess.run(
        [sys.executable, str(FILES / "django_stack_migrations.py"), "preflight"],
        cwd=project.root,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tinysite.settings", "PYTHONPATH": str(project.root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.splitlines()[-1])["findings"] == []


# --- The rules in-process, with a fake context ---------------------------------------------------


def options(**values):
    return net.parse_options([], {**values})


def test_options_come_from_the_environment_or_the_command_line():
    parsed = net.parse_options(
        ["migrate", "--accept-missing", "b.0002"],
        {"DJANGO_STACK_ACCEPT_MISSING": '["a.0001"]', "DJANGO_STACK_FAKE_INITIAL": "1", "DJANGO_STACK_LEDGER": "/l"},
    )
    assert parsed.mode == "migrate"
    assert parsed.accept_missing == ["a.0001", "b.0002"]
    assert parsed.accept_changed == []
    assert parsed.fake_initial is True
    assert parsed.check is False
    assert parsed.ledger == "/l"
    assert net.parse_options([], {}).mode == "preflight"
    with pytest.raises(SystemExit):
        net.parse_options(["drop-everything"], {})


def test_changed_files_only_against_a_recorded_hash():
    ctx = SimpleNamespace(
        ledger={"a.0001": "new", "a.0002": "same", "a.0003": "unknown"},
        recorded_ledger={"a.0001": "old", "a.0002": "same"},
    )
    assert net.applied_file_changed(ctx, options())["items"] == ["a.0001"]
    accepted = options(DJANGO_STACK_ACCEPT_CHANGED='["a.0001"]')
    assert net.applied_file_changed(ctx, accepted) is None


@pytest.mark.parametrize(
    "plan, model_changes, missing, expected",
    [
        ([], {}, ["a.B.c: column a_b.c"], ["a.B.c: column a_b.c"]),
        (["a.0002"], {}, ["a.B.c: column a_b.c"], None),  # a pending migration adds it
        ([], {"a": ["Add field c to b"]}, ["a.B.c: column a_b.c"], None),  # said by model_changes
        ([], {}, [], None),
    ],
)
def test_schema_behind_history_only_with_nothing_pending(plan, model_changes, missing, expected):
    ctx = SimpleNamespace(forwards_plan=plan, model_changes=model_changes, schema_missing=missing)
    found = net.schema_behind_history(ctx, options())
    assert (found and found["items"]) == expected


def test_system_checks_are_not_run_unless_asked():
    class Ctx:
        @property
        def check_errors(self):
            raise AssertionError("the checks ran although not asked for")

    assert net.system_checks_fail(Ctx(), options()) is None
