"""The migration safety net's risk checks (roles/django/files/django_stack_migrations.py):
pending operations that would hurt the site that the running release still serves, and
the policy that refuses or warns about them.

A tiny project on SQLite (test_django_migrations.py's) gets a live database with five
rows, then a pending migration that holds every risk (or none), run the way the role runs
it: one Django process per preflight. Its models.py is not kept in step with the
migrations: only the document's risks are read here. The policy is also checked in-process.
"""

import shutil
import textwrap
from types import SimpleNamespace

import pytest

from test_django_migrations import HEADER, Project, base_project, net  # noqa: F401 (base_project: a fixture)

M0001 = HEADER + """
class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Author",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=50)),
                ("nickname", models.CharField(max_length=30, null=True)),
                ("code", models.CharField(max_length=10, default="")),
                ("age", models.IntegerField(null=True)),
                ("bio", models.TextField(null=True)),
                ("rank", models.IntegerField(default=0)),
                ("legacy", models.CharField(max_length=10, db_column="legacy_col", default="")),
                ("tagline", models.CharField(max_length=20, default="")),
            ],
        ),
        migrations.CreateModel("Shelf", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))]),
        migrations.CreateModel("Tag", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))]),
        migrations.CreateModel(
            "Genre", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))], options={"db_table": "genres"}
        ),
        migrations.CreateModel("Note", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))]),
    ]
"""


def pending(operations, extra=""):
    return HEADER + extra + textwrap.dedent("""
        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [
        """) + textwrap.indent(textwrap.dedent(operations).strip(), " " * 8) + "\n    ]\n"


# Every risk class, on the tables the running release uses (with a threshold of 3 rows
# for the large-table classes: the table holds 5).
RISKY = pending(
    """
    migrations.RemoveField("author", "nickname"),
    migrations.DeleteModel("Shelf"),
    migrations.RenameField("author", "code", "ref"),
    migrations.RenameModel("Tag", "Label"),
    migrations.AlterModelTable("note", "shop_notes"),
    migrations.AlterField("author", "age", models.CharField(max_length=10, null=True)),
    migrations.AlterField("author", "bio", models.TextField(default="")),
    migrations.AddField("author", "email", models.CharField(max_length=80, default="")),
    migrations.AddConstraint("author", models.UniqueConstraint(fields=["name"], name="shop_author_name_unique")),
    migrations.AlterUniqueTogether("author", {("name", "rank")}),
    migrations.AddIndex("author", models.Index(fields=["rank"], name="shop_author_rank_idx")),
    migrations.RunPython(forward, migrations.RunPython.noop),
    migrations.RunSQL("UPDATE shop_author SET rank = rank + 1", migrations.RunSQL.noop),
    migrations.SeparateDatabaseAndState(database_operations=[migrations.RemoveField("author", "tagline")]),
    """,
    extra="def forward(apps, schema_editor):\n    pass\n\n",
)
RISKY_CLASSES = [
    "remove_field",
    "delete_model",
    "rename_field",
    "rename_model",
    "rename_table",
    "alter_type",
    "set_not_null",
    "add_not_null",
    "unique_large_table",
    "unique_large_table",
    "index_large_table",
    "unknown",
    "unknown",
    "remove_field",
]

# The same kinds of operation, done the safe way (or on tables nobody uses yet, or on a
# table smaller than the default threshold): no risk at all.
SAFE = pending("""
    migrations.AddField("author", "phone", models.CharField(max_length=20, null=True)),
    migrations.AddField("author", "country", models.CharField(max_length=2, db_default="fr")),
    migrations.AddField("author", "friends", models.ManyToManyField("shop.Author")),
    migrations.CreateModel("Fresh", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))]),
    migrations.AddField("fresh", "size", models.IntegerField(default=0)),
    migrations.AddIndex("fresh", models.Index(fields=["size"], name="shop_fresh_size_idx")),
    migrations.AlterField("fresh", "size", models.CharField(max_length=5, default="")),
    migrations.RemoveField("fresh", "size"),
    migrations.DeleteModel("Fresh"),
    migrations.RenameField("author", "legacy", "modern"),
    migrations.RenameModel("Genre", "Style"),
    migrations.AlterModelTable("note", "shop_note"),
    migrations.AlterField("author", "tagline", models.CharField(max_length=20, default="", help_text="under the name")),
    migrations.AlterField("author", "rank", models.IntegerField(default=0, null=True)),
    migrations.AddConstraint("author", models.UniqueConstraint(fields=["name"], name="shop_author_name_unique")),
    migrations.AlterUniqueTogether("author", {("name", "rank")}),
    migrations.AddIndex("author", models.Index(fields=["rank"], name="shop_author_rank_idx")),
    migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
    migrations.RunSQL(migrations.RunSQL.noop),
    migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("author", "nickname")]),
    """)

ADD_EMAIL = pending('migrations.AddField("author", "email", models.CharField(max_length=80, default="")),')

SMALL_THRESHOLD = {"DJANGO_STACK_LARGE_TABLE_ROWS": "3"}


@pytest.fixture(scope="session")
def live_project(base_project, tmp_path_factory):  # noqa: F811 (the fixture, imported)
    """0001 applied and five authors in the table: the running release's database."""
    root = tmp_path_factory.mktemp("live") / "project"
    shutil.copytree(base_project, root)
    project = Project(root)
    project.migrations(**{"0001_initial": M0001})
    project.manage("migrate", "shop")
    for n in range(5):
        project.sql(
            "INSERT INTO shop_author (name, code, rank, legacy_col, tagline) VALUES (?, '', 0, '', '')", f"a{n}"
        )
    return root


def with_pending(live_project, tmp_path, text, name="0002_risky"):
    root = tmp_path / "project"
    shutil.copytree(live_project, root)
    project = Project(root)
    project.migrations(**{"0001_initial": M0001, name: text})
    return project


def by_class(document):
    return [found["risk"] for found in document["risks"]]


@pytest.fixture(scope="module")
def risky_document(live_project, tmp_path_factory):
    project = with_pending(live_project, tmp_path_factory.mktemp("risky"), RISKY)
    document, _ = project.run(env=SMALL_THRESHOLD)
    return document


def test_every_risk_class_is_found_in_operation_order(risky_document):
    assert by_class(risky_document) == RISKY_CLASSES
    assert set(RISKY_CLASSES) == set(net.RISK_CLASSES)
    assert {found["migration"] for found in risky_document["risks"]} == {"shop.0002_risky"}
    # Risks are not drift: they never land among the findings.
    assert "risk_policy" not in [found["rule"] for found in risky_document["findings"]]


@pytest.mark.parametrize(
    "index, operation, words",
    [
        (0, "Remove field nickname from author", ["shop_author", "remove the column in a later release"]),
        (1, "Delete model Shelf", ["shop_shelf", "drop the table in a later release"]),
        (2, "Rename field code on author to ref", ["shop_author.code", "db_column"]),
        (3, "Rename model Tag to Label", ["shop_tag becomes shop_label", "Meta.db_table"]),
        (4, "Rename table for note to shop_notes", ["shop_note becomes shop_notes"]),
        (5, "Alter field age on author", ["from integer to varchar(10)", "add a column of the new type"]),
        (6, "Alter field bio on author", ["NOT NULL", "always sets the value first"]),
        (7, "Add field email to author", ["inserts", "db_default", "null=True"]),
        (
            8,
            "Create constraint shop_author_name_unique on model author",
            ["shop_author holds 3 rows or more", "CONCURRENTLY"],
        ),
        (10, "Create index shop_author_rank_idx on field(s) rank of model author", ["AddIndexConcurrently"]),
        (11, "Raw Python operation", ["cannot be told", "not guessed"]),
        (12, "Raw SQL operation", ["cannot be told"]),
        (13, "Remove field tagline from author", ["shop_author"]),
    ],
)
def test_each_risk_names_the_migration_the_operation_why_and_the_safe_pattern(risky_document, index, operation, words):
    found = risky_document["risks"][index]
    assert found["operation"] == operation
    # One application host (the default): warned, not refused.
    assert found["decision"] == "warn"
    assert found["message"].startswith(
        f"Warning: migration shop.0002_risky, operation '{operation}' ({found['risk']}): "
    )
    assert " Safe pattern: " in found["message"]
    for word in words:
        assert word in found["message"]


def test_the_safe_ways_are_no_risk(live_project, tmp_path):
    project = with_pending(live_project, tmp_path, SAFE)
    document, _ = project.run()
    assert document["pending"] == ["shop.0002_risky"]
    assert document["risks"] == []


def test_a_small_table_is_not_large(live_project, tmp_path):
    # RISKY's unique constraints and index on the five-row table, with the default threshold.
    project = with_pending(live_project, tmp_path, RISKY)
    document, _ = project.run()
    assert by_class(document) == [name for name in RISKY_CLASSES if not name.endswith("_large_table")]


def test_a_fresh_database_serves_no_one(base_project, tmp_path):  # noqa: F811
    # Nothing applied yet, so no release runs on it: even RISKY's operations (and Django's
    # own data migrations) hurt no one.
    root = tmp_path / "project"
    shutil.copytree(base_project, root)
    (root / "db.sqlite3").unlink()
    project = Project(root)
    project.migrations(**{"0001_initial": M0001, "0002_risky": RISKY})
    document, _ = project.run(env=SMALL_THRESHOLD)
    assert "shop.0002_risky" in document["pending"] and "auth.0001_initial" in document["pending"]
    assert document["risks"] == []


# --- The policy, as the role passes it ------------------------------------------------------


@pytest.mark.parametrize(
    "env, decision, words",
    [
        ({}, "warn", ["Warning: migration shop.0002_add_email"]),
        # Two application hosts: the other one keeps serving the old code while this migrates.
        (
            {"DJANGO_STACK_APP_HOSTS": "2"},
            "refuse",
            ["Refused: migration shop.0002_add_email", "django_migration_risks_accept"],
        ),
        (
            {"DJANGO_STACK_APP_HOSTS": "2", "DJANGO_STACK_ACCEPT_RISKS": '["shop.0002_add_email"]'},
            "accept",
            ["Accepted (django_migration_risks_accept): migration shop.0002_add_email"],
        ),
        ({"DJANGO_STACK_APP_HOSTS": "2", "DJANGO_STACK_RISK_POLICY": '{"add_not_null": "warn"}'}, "warn", ["Warning"]),
        ({"DJANGO_STACK_RISK_POLICY": '"refuse"'}, "refuse", ["Refused"]),
    ],
)
def test_the_policy_decides(live_project, tmp_path, env, decision, words):
    project = with_pending(live_project, tmp_path, ADD_EMAIL, name="0002_add_email")
    document, _ = project.run(env=env)
    assert [(found["risk"], found["decision"]) for found in document["risks"]] == [("add_not_null", decision)]
    assert document["findings"] == [] or [found["rule"] for found in document["findings"]] == ["model_changes"]
    for word in words:
        assert word in document["risks"][0]["message"]


def test_a_policy_that_cannot_be_read_stops_the_preflight(live_project, tmp_path):
    project = with_pending(live_project, tmp_path, ADD_EMAIL, name="0002_add_email")
    document, _ = project.run(env={"DJANGO_STACK_RISK_POLICY": '{"add_not_nul": "refuse", "unknown": "maybe"}'})
    found = [found for found in document["findings"] if found["rule"] == "risk_policy"]
    assert len(found) == 1
    assert found[0]["items"] == ["add_not_nul"]
    assert "django_migration_risk_policy must be one of auto, refuse, warn" in found[0]["message"]
    assert document["risks"] == []


def options(**values):
    return net.parse_options([], values)


def a_risk(risk_class="remove_field", migration="shop.0002_x"):
    return {"risk": risk_class, "migration": migration}


@pytest.mark.parametrize(
    "policy, hosts, risk_class, decision",
    [
        ('"auto"', "1", "remove_field", "warn"),
        ('"auto"', "2", "remove_field", "refuse"),
        ('"auto"', "3", "unknown", "refuse"),
        ("", "1", "remove_field", "warn"),  # unset: auto
        ("", "2", "remove_field", "refuse"),
        ('"warn"', "2", "remove_field", "warn"),
        ('"refuse"', "1", "remove_field", "refuse"),
        ('{"remove_field": "warn"}', "2", "remove_field", "warn"),
        ('{"remove_field": "warn"}', "2", "rename_field", "refuse"),  # unnamed class: auto
        ('{"remove_field": "refuse"}', "1", "remove_field", "refuse"),
        ('{"remove_field": "refuse"}', "1", "unknown", "warn"),
        ('{"unknown": "auto"}', "1", "unknown", "warn"),
    ],
)
def test_decide(policy, hosts, risk_class, decision):
    parsed = options(DJANGO_STACK_RISK_POLICY=policy, DJANGO_STACK_APP_HOSTS=hosts)
    assert net.decide(a_risk(risk_class), parsed) == decision


def test_the_accept_list_is_per_migration():
    parsed = options(DJANGO_STACK_ACCEPT_RISKS='["shop.0002_x"]', DJANGO_STACK_RISK_POLICY='"refuse"')
    assert net.decide(a_risk(migration="shop.0002_x"), parsed) == "accept"
    assert net.decide(a_risk(migration="shop.0003_y"), parsed) == "refuse"


@pytest.mark.parametrize(
    "policy, error",
    [
        ("auto", False),
        ("warn", False),
        ({"remove_field": "refuse", "unknown": "auto"}, False),
        ({}, False),
        ("sometimes", True),
        ({"remove_field": "never"}, True),
        ({"drop_everything": "warn"}, True),
    ],
)
def test_policy_error(policy, error):
    assert (net.policy_error(policy) is not None) == error


def test_the_refused_message_says_how_to_let_it_through():
    message = net.worded(
        {**a_risk(), "operation": "Remove field x from y", "why": "Why.", "safe": "Later.", "decision": "refuse"}
    )
    assert message == (
        "Refused: migration shop.0002_x, operation 'Remove field x from y' (remove_field): Why. Safe pattern: Later."
        " To deploy it anyway, knowingly: add shop.0002_x to django_migration_risks_accept, or set"
        " django_migration_risk_policy's remove_field to warn."
    )


@pytest.mark.parametrize(
    "old, new, vendor, widens",
    [
        ("varchar(50)", "varchar(80)", "postgresql", True),
        ("varchar(80)", "varchar(50)", "postgresql", False),
        ("varchar(50)", "varchar(80)", "mysql", False),
        ("integer", "bigint", "postgresql", False),
        ("varchar(50)", "text", "postgresql", False),
    ],
)
def test_only_postgresql_widens_a_varchar_in_place(old, new, vendor, widens):
    assert bool(net.widens_a_varchar(old, new, vendor)) == widens


# --- The row estimate, per engine, with a fake connection ----------------------------------------


class FakeCursor:
    def __init__(self, rows):
        self.rows, self.queries = rows, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, query, params):
        self.queries.append((query, params))

    def fetchone(self):
        return self.rows.pop(0)


def fake_connection(vendor, rows):
    cursor = FakeCursor(rows)
    ops = SimpleNamespace(quote_name=lambda name: f'"{name}"')
    return SimpleNamespace(vendor=vendor, ops=ops, cursor=lambda: cursor), cursor


@pytest.mark.parametrize(
    "vendor, rows, expected, source",
    [
        ("postgresql", [(250000,)], 250000, "pg_class"),
        ("mysql", [(250000,)], 250000, "information_schema.TABLES"),
        # Never analyzed (PostgreSQL says -1): counted, but no further than the threshold.
        ("postgresql", [(-1,), (7,)], 7, "LIMIT"),
        ("mysql", [(None,), (7,)], 7, "LIMIT"),
        ("sqlite", [(7,)], 7, "LIMIT"),
    ],
)
def test_row_estimate(vendor, rows, expected, source):
    connection, cursor = fake_connection(vendor, rows)
    assert net.Context(connection).row_estimate("shop_author", 100000) == expected
    assert source in cursor.queries[0][0] or source in cursor.queries[-1][0]
    if source == "LIMIT":
        assert cursor.queries[-1][1] == [100000]
