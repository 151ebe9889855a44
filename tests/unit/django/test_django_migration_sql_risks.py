"""The migration safety net's reading of SQL (roles/django/files/django_stack_migrations.py,
judge_sql): the statements Django produces on PostgreSQL and MySQL/MariaDB for operations
whose class does not tell the risk (an AlterField that adds db_index or unique, an AddField
of a ForeignKey). The statements are the ones `sqlmigrate` prints on each engine."""

import pytest

from test_django_migrations import net

LIVE = {"books_author", "books_book"}
LARGE = {"books_author": 500}


def estimate(table):
    return LARGE.get(table)


def classes(statements, live=LIVE, row_estimate=estimate):
    return [found[0] for found in net.judge_sql(statements, live, row_estimate)]


@pytest.mark.parametrize(
    "statement, expected",
    [
        # PostgreSQL: AlterField(db_index=True) on a CharField: the index and its LIKE twin.
        ('CREATE INDEX "books_author_last_name_4a2a1b2c" ON "books_author" ("last_name");', "index_large_table"),
        (
            'CREATE INDEX "books_author_last_name_4a2a1b2c_like" ON "books_author" ("last_name" varchar_pattern_ops);',
            "index_large_table",
        ),
        # PostgreSQL: AlterField(unique=True).
        (
            'ALTER TABLE "books_author" ADD CONSTRAINT "books_author_last_name_4a2a1b2c_uniq" UNIQUE ("last_name");',
            "unique_large_table",
        ),
        ('CREATE UNIQUE INDEX "books_author_code" ON "books_author" ("code");', "unique_large_table"),
        # MySQL/MariaDB: the same two.
        ("CREATE INDEX `books_author_last_name_4a2a1b2c` ON `books_author` (`last_name`);", "index_large_table"),
        (
            "ALTER TABLE `books_author` ADD CONSTRAINT `books_author_last_name_4a2a1b2c_uniq` UNIQUE (`last_name`);",
            "unique_large_table",
        ),
        # Changes that the operation's rules judge first, recognised in SQL too.
        ('ALTER TABLE "books_book" DROP COLUMN "title" CASCADE;', "remove_field"),
        ('ALTER TABLE "books_book" RENAME COLUMN "title" TO "name";', "rename_field"),
        ("ALTER TABLE `books_book` CHANGE `title` `name` varchar(100) NOT NULL;", "rename_field"),
        ('ALTER TABLE "books_book" ALTER COLUMN "title" TYPE text USING "title"::text;', "alter_type"),
        ("ALTER TABLE `books_book` MODIFY `title` longtext NOT NULL;", "alter_type"),
        ('ALTER TABLE "books_book" ALTER COLUMN "title" SET NOT NULL;', "set_not_null"),
    ],
)
def test_a_statement_that_hurts_the_running_release_is_named_with_its_class(statement, expected):
    assert classes([statement]) == [expected]


@pytest.mark.parametrize(
    "statement",
    [
        # Concurrent builds are the safe pattern.
        'CREATE INDEX CONCURRENTLY "books_author_rank" ON "books_author" ("rank");',
        'CREATE UNIQUE INDEX CONCURRENTLY "books_author_code" ON "books_author" ("code");',
        # A nullable column, a default dropped, a comment: nothing that waits or breaks.
        'ALTER TABLE "books_author" ADD COLUMN "nickname" varchar(30) NULL;',
        'ALTER TABLE "books_author" ALTER COLUMN "rank" DROP DEFAULT;',
        'SET CONSTRAINTS "books_book_shelf_id_fk" IMMEDIATE;',
        "-- Raw Python operation",
    ],
)
def test_a_harmless_statement_is_not_a_risk(statement):
    assert classes([statement]) == []


def test_an_index_on_a_small_table_is_not_a_risk():
    # books_book is live but below the threshold (the estimate says None).
    assert classes(['CREATE INDEX "books_book_title_1" ON "books_book" ("title");']) == []


def test_a_table_the_running_release_does_not_use_is_not_a_risk():
    statements = [
        'ALTER TABLE "books_shelf" DROP COLUMN "label" CASCADE;',
        'CREATE INDEX "books_shelf_label" ON "books_shelf" ("label");',
    ]
    assert classes(statements) == []


def test_each_statement_is_judged_and_the_message_names_the_table_and_its_size():
    found = net.judge_sql(
        [
            'ALTER TABLE "books_book" ADD COLUMN "shelf_id" bigint NULL CONSTRAINT "books_book_shelf_id_fk"'
            ' REFERENCES "books_shelf"("id") DEFERRABLE INITIALLY DEFERRED;',
            'CREATE INDEX "books_author_shelf_id_1" ON "books_author" ("shelf_id");',
            'ALTER TABLE "books_author" ALTER COLUMN "rank" SET NOT NULL;',
        ],
        LIVE,
        estimate,
    )
    assert [f[0] for f in found] == ["index_large_table", "set_not_null"]
    assert found[0][1].startswith('CREATE INDEX "books_author_shelf_id_1"')
    assert "books_author holds 500 rows or more" in found[0][2]
    assert "AddIndexConcurrently" in found[0][3]
    assert "books_author" in found[1][2]


def fake_change(vendor, operation, live=LIVE):
    from types import SimpleNamespace

    ctx = SimpleNamespace(live_tables=live, row_estimate=lambda table, at_least: LARGE.get(table, 0))
    migration = SimpleNamespace(app_label="books", name="0015_author_last_name_index")
    return SimpleNamespace(ctx=ctx, connection=SimpleNamespace(vendor=vendor), operation=operation,
                           migration=migration, label="books.0015_author_last_name_index")


def test_sql_risks_reads_the_collected_sql_on_postgresql_and_mysql_only(monkeypatch):
    from types import SimpleNamespace

    from django.db import migrations, models

    collected = []
    monkeypatch.setattr(net, "collected_sql", lambda change: collected.append(change) or [
        'CREATE INDEX "books_author_last_name_1" ON "books_author" ("last_name");'
    ])
    operation = migrations.AlterField("author", "last_name", models.CharField(max_length=40, db_index=True))
    options = SimpleNamespace(large_table_rows=100)
    for vendor in ("postgresql", "mysql"):
        found = net.sql_risks(fake_change(vendor, operation), options)
        assert [(f["risk"], f["migration"]) for f in found] == [("index_large_table", "books.0015_author_last_name_index")]
        assert "books_author holds 500 rows or more" in found[0]["why"]
        assert found[0]["why"].endswith('(CREATE INDEX "books_author_last_name_1" ON "books_author" ("last_name");)')
    assert len(collected) == 2
    # SQLite rebuilds tables: not read. RunPython would run its code, RunSQL is unknown already.
    assert net.sql_risks(fake_change("sqlite", operation), options) == []
    code = migrations.RunPython(lambda apps, editor: None)
    assert net.sql_risks(fake_change("postgresql", code), options) == []
    assert net.sql_risks(fake_change("postgresql", migrations.RunSQL("SELECT 1")), options) == []
    assert len(collected) == 2
    # Below the threshold: nothing.
    assert net.sql_risks(fake_change("postgresql", operation), SimpleNamespace(large_table_rows=1000)) == []
