"""The migration safety net's rollback (roles/django/files/django_stack_migrations.py,
rollback_plan and rollback): the migrations that the release being left applied and the
target release lacks, found from the target's files, refused when one cannot be
reversed, and unapplied on SQLite, as playbooks/rollback.yml runs it."""

import shutil
import sqlite3

from test_django_migrations import (  # noqa: F401 (base_project: a fixture)
    HEADER,
    M0002,
    MODELS_V2,
    Project,
    base_project,
    migration,
)

M0003_NOTE = migration(
    'migrations.AddField(model_name="author", name="note", field=models.TextField(null=True))', depends_on="0002_shop"
)
M0003_ONE_WAY = HEADER + """
def forward(apps, schema_editor):
    pass

class Migration(migrations.Migration):
    dependencies = [("shop", "0002_shop")]
    operations = [migrations.RunPython(forward)]
"""
MODELS_V3 = MODELS_V2 + """
        note = models.TextField(null=True)
"""


def at_v3(base_project, tmp_path, third=M0003_NOTE, models=MODELS_V3):
    """The live project at v3 (0001-0003 applied), and the v2 release beside it."""
    root = tmp_path / "v3"
    shutil.copytree(base_project, root)
    project = Project(root)
    project.write("shop/models.py", models)
    project.migrations(**{"0001_initial": (root / "shop/migrations/0001_initial.py").read_text(),
                          "0002_shop": M0002, "0003_shop": third})
    project.manage("migrate")
    target = tmp_path / "v2"
    shutil.copytree(root, target, ignore=shutil.ignore_patterns("db.sqlite3"))
    (target / "shop" / "migrations" / "0003_shop.py").unlink()
    return project, target


def columns(project):
    with sqlite3.connect(project.root / "db.sqlite3") as db:
        return [row[1] for row in db.execute("PRAGMA table_info(shop_author)")]


def applied(project):
    with sqlite3.connect(project.root / "db.sqlite3") as db:
        return [name for (name,) in db.execute("SELECT name FROM django_migrations WHERE app = 'shop' ORDER BY id")]


def test_the_plan_names_what_the_target_lacks_and_what_unapplying_drops(base_project, tmp_path):
    project, target = at_v3(base_project, tmp_path)
    document, _ = project.run("rollback-plan", env={"DJANGO_STACK_TARGET_DIR": str(target)})
    assert document["unapply"] == ["shop.0003_shop"]
    assert document["targets"] == [["shop", "0002_shop"]]
    assert document["findings"] == [] and document["irreversible"] == []
    assert document["drops"] == ["shop.0003_shop: Add field note to author (the column and what was written to it since)"]
    # Read only.
    assert applied(project) == ["0001_initial", "0002_shop", "0003_shop"]


def test_rollback_unapplies_them(base_project, tmp_path):
    project, target = at_v3(base_project, tmp_path)
    document, _ = project.run("rollback", env={"DJANGO_STACK_TARGET_DIR": str(target)})
    assert document["findings"] == []
    assert document["left"] == []
    assert applied(project) == ["0001_initial", "0002_shop"]
    assert "note" not in columns(project)
    # Nothing more to do the second time.
    again, _ = project.run("rollback-plan", env={"DJANGO_STACK_TARGET_DIR": str(target)})
    assert again["unapply"] == [] and again["targets"] == []


def test_an_operation_without_a_reverse_refuses_it_before_anything_changes(base_project, tmp_path):
    project, target = at_v3(base_project, tmp_path, third=M0003_ONE_WAY, models=MODELS_V2)
    document, _ = project.run("rollback", env={"DJANGO_STACK_TARGET_DIR": str(target)})
    assert [found["rule"] for found in document["findings"]] == ["rollback_irreversible"]
    message = document["findings"][0]["message"]
    assert "shop.0003_shop ('Raw Python operation') has no reverse" in message
    assert "Nothing was changed" in message and "playbooks/restore.yml" in message
    assert applied(project) == ["0001_initial", "0002_shop", "0003_shop"]


def test_an_app_the_target_does_not_have_goes_back_to_zero(base_project, tmp_path):
    project, target = at_v3(base_project, tmp_path)
    shutil.rmtree(target / "shop" / "migrations")
    document, _ = project.run("rollback-plan", env={"DJANGO_STACK_TARGET_DIR": str(target)})
    assert document["targets"] == [["shop", None]]
    assert document["unapply"] == ["shop.0003_shop", "shop.0002_shop", "shop.0001_initial"]
    assert "shop.0001_initial: Create model Author (the table and what was written to it since)" in document["drops"]


def test_a_target_that_is_not_there_is_refused(base_project, tmp_path):
    project, _ = at_v3(base_project, tmp_path)
    document, _ = project.run("rollback", env={"DJANGO_STACK_TARGET_DIR": str(tmp_path / "gone")})
    assert [found["rule"] for found in document["findings"]] == ["rollback_target"]
    assert applied(project) == ["0001_initial", "0002_shop", "0003_shop"]


def test_the_same_migrations_unapply_nothing(base_project, tmp_path):
    project, target = at_v3(base_project, tmp_path)
    shutil.copy(project.root / "shop" / "migrations" / "0003_shop.py", target / "shop" / "migrations")
    document, _ = project.run("rollback", env={"DJANGO_STACK_TARGET_DIR": str(target)})
    assert document["unapply"] == [] and document["findings"] == []
    assert applied(project) == ["0001_initial", "0002_shop", "0003_shop"]
