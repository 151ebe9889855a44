"""The migration safety net's lock timeouts and lost-history adoption
(roles/django/files/django_stack_migrations.py).

A lost history is made for real on SQLite (test_django_migrations.py's tiny project):
migrated, then its django_migrations rows deleted; the component runs the way the role
runs it. Lock timeouts need a server's locks, so the retry loop, the session setting and
the wording run in-process against fakes of the connection, the context and `migrate`
(the real thing is the migrations scenario's lock test, on both engines).
"""

import contextlib
from types import SimpleNamespace

import pytest

from test_django_migrations import (  # noqa: F401 (base_project: a fixture)
    M0001,
    M0002,
    MODELS_V2,
    base_project,
    net,
    options,
    project,
    rules,
)

# --- A lost history, on SQLite ----------------------------------------------------------------


def lose_history(project):
    project.manage("migrate")
    project.sql("DELETE FROM django_migrations")


def test_a_lost_history_stops_the_deploy_and_names_the_way_out(project):
    lose_history(project)
    document, _ = project.run()
    assert rules(document) == ["lost_history"]
    found = document["findings"][0]
    assert "shop.0001_initial" in found["items"] and "auth.0001_initial" in found["items"]
    assert "shop.0001_initial creates shop_author" in found["message"]
    assert "django_migrate_adopt_existing_schema" in found["message"]
    # The pending operations ran long ago: no risk is judged (contenttypes.0002 would be one).
    assert document["risks"] == []
    assert document["adopt"] == []


def test_a_fresh_database_is_not_a_lost_history(project):
    # auth is migrated in the base project, shop not: shop's table does not exist yet.
    document, _ = project.run()
    assert document["findings"] == []
    assert document["pending"] == ["shop.0001_initial"]


def test_fake_initial_is_the_operators_own_choice(project):
    lose_history(project)
    assert project.run(env={"DJANGO_STACK_FAKE_INITIAL": "1"})[0]["findings"] == []


def test_adopting_a_matching_schema_records_every_pending_migration(project):
    lose_history(project)
    adopt = {"DJANGO_STACK_ADOPT": "1"}
    document, _ = project.run(env=adopt)
    assert document["findings"] == []
    assert document["adopt"] == document["pending"]
    assert "shop.0001_initial" in document["adopt"]

    after, completed = project.run("migrate", env=adopt)
    assert "recording as applied without running them" in completed.stdout
    assert "Applying shop.0001_initial... FAKED" in completed.stdout
    assert after["findings"] == [] and after["pending"] == []
    assert "shop.0001_initial" in after["adopted"]
    # Nothing to adopt any more: a later deploy with the variable still on does nothing special.
    assert project.run(env=adopt)[0]["adopt"] == []


def test_adopting_is_refused_when_a_column_is_missing(project):
    lose_history(project)
    # The release is newer than the database: its 0002 adds a column the database lacks.
    project.write("shop/models.py", MODELS_V2)
    project.migrations(**{"0001_initial": M0001, "0002_author_email": M0002})
    document, _ = project.run(env={"DJANGO_STACK_ADOPT": "1"})
    assert rules(document) == ["adopt_refused"]
    assert document["findings"][0]["items"] == ["shop.Author.email: column shop_author.email"]
    assert "nothing was recorded" in document["findings"][0]["message"]
    assert document["adopt"] == []


def test_adopting_is_refused_when_the_database_has_a_column_the_models_lack(project):
    lose_history(project)
    project.sql("ALTER TABLE shop_author ADD COLUMN legacy varchar(10) NOT NULL DEFAULT ''")
    document, _ = project.run(env={"DJANGO_STACK_ADOPT": "1"})
    assert rules(document) == ["adopt_refused"]
    assert document["findings"][0]["items"] == ["shop.Author: column shop_author.legacy (not in the models)"]
    assert document["adopt"] == []


# --- Lock timeouts, with fakes ---------------------------------------------------------------


class Cursor:
    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params=None):
        self.connection.executed.append(sql.strip())
        if self.connection.fail_on and self.connection.fail_on in sql:
            raise RuntimeError("no PROCESS privilege")

    def fetchall(self):
        return self.connection.rows.pop(0) if self.connection.rows else []


class Connection:
    def __init__(self, vendor, rows=(), fail_on=None):
        self.vendor = vendor
        self.display_name = {"postgresql": "PostgreSQL", "mysql": "MariaDB"}.get(vendor, vendor)
        self.features = SimpleNamespace(can_rollback_ddl=vendor != "mysql")
        self.executed = []
        self.rows = list(rows)
        self.fail_on = fail_on
        self.wrapper = None
        self.introspection = SimpleNamespace(table_names=lambda cursor: ["books_author", "books_book"])

    def cursor(self):
        return Cursor(self)

    @contextlib.contextmanager
    def execute_wrapper(self, wrapper):
        self.wrapper = wrapper
        yield


class LockTimeout(Exception):
    """A driver's error as Django re-raises it: the driver's own as the cause."""


def lock_error(vendor):
    if vendor == "mysql":
        return LockTimeout(1205, "Lock wait timeout exceeded; try restarting transaction")
    cause = Exception("canceling statement due to lock timeout")
    cause.sqlstate = "55P03"
    error = LockTimeout("canceling statement due to lock timeout")
    error.__cause__ = cause
    return error


def lock_options(**values):
    return options(
        **{
            "DJANGO_STACK_LOCK_TIMEOUT": "3",
            "DJANGO_STACK_LOCK_RETRIES": "2",
            "DJANGO_STACK_LOCK_RETRY_DELAY": "4",
            **values,
        }
    )


def test_lock_options_come_from_the_environment():
    parsed = lock_options()
    assert (parsed.lock_timeout, parsed.lock_retries, parsed.lock_retry_delay) == (3, 2, 4.0)
    assert (net.parse_options([], {}).lock_retries, net.parse_options([], {}).adopt) == (0, False)


@pytest.mark.parametrize(
    "vendor, statements",
    [
        ("postgresql", ["SET lock_timeout = '3000ms'"]),
        ("mysql", ["SET SESSION lock_wait_timeout = 3", "SET SESSION innodb_lock_wait_timeout = 3"]),
        ("sqlite", []),
    ],
)
def test_the_migrate_session_sets_its_own_lock_timeout(vendor, statements):
    connection = Connection(vendor)
    net.set_lock_timeout(connection, 3)
    assert connection.executed == statements


@pytest.mark.parametrize("vendor", ["postgresql", "mysql"])
def test_a_lock_timeout_is_told_from_other_errors(vendor):
    assert net.is_lock_timeout(lock_error(vendor))
    assert not net.is_lock_timeout(RuntimeError("this migration fails on purpose"))
    assert not net.is_lock_timeout(LockTimeout(1062, "Duplicate entry"))


class FakeContext:
    """What run_migrate reads back after a failure: the plan and the records."""

    plan = []
    applied = set()

    def __init__(self, connection, ledger_path=""):
        self.forwards_plan = list(FakeContext.plan)
        self.applied = set(FakeContext.applied)


def migration(name, atomic=True):
    return SimpleNamespace(app_label="books", name=name, atomic=atomic)


ALTER = 'ALTER TABLE "books_author" ADD COLUMN "nickname" varchar(30) NULL'


def fake_migrate(connection, outcomes):
    """A `migrate` that runs through the connection's execute wrapper: each outcome is a
    list of statements, the last one failing with a lock timeout when it is 'LOCK:...'."""

    def command():
        outcome = outcomes.pop(0)
        for sql in outcome:
            failing = sql.startswith("LOCK:")

            def execute(sql, params, many, context, failing=failing):
                if failing:
                    raise lock_error(connection.vendor)

            connection.wrapper(execute, sql.removeprefix("LOCK:"), None, False, {})

    return command


@pytest.fixture
def fake_context(monkeypatch):
    monkeypatch.setattr(net, "Context", FakeContext)
    FakeContext.plan, FakeContext.applied = [migration("0003_author_nickname")], {("books", "0002_email")}
    return FakeContext


def test_a_lock_timeout_is_retried_after_a_pause_and_then_passes(fake_context):
    connection = Connection("postgresql")
    pauses = []
    command = fake_migrate(connection, [["LOCK:" + ALTER], ["LOCK:" + ALTER], [ALTER]])
    assert net.run_migrate(connection, lock_options(), command, sleep=pauses.append) is None
    assert pauses == [4.0, 4.0]
    # The session's timeout is set before every try.
    assert connection.executed.count("SET lock_timeout = '3000ms'") == 3


def test_the_document_after_a_lock_timeout_starts_a_line_of_its_own(fake_context, capsys):
    # migrate prints "Applying app.name..." without an end of line, then fails: the role
    # reads the document from the last line (seen in the scenario: a restore followed).
    connection = Connection("postgresql")

    def command():
        print("  Applying books.0003_author_nickname...", end="")
        connection.wrapper(lambda *args: (_ for _ in ()).throw(lock_error("postgresql")), ALTER, None, False, {})

    net.run_migrate(connection, lock_options(DJANGO_STACK_LOCK_RETRIES="1"), command, sleep=lambda seconds: None)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "  Applying books.0003_author_nickname..."
    assert out.splitlines()[1].startswith("  Could not get a lock within 3 s (try 1 of 2)")
    assert out.endswith("  Applying books.0003_author_nickname...\n")


def test_a_lock_that_stays_taken_fails_cleanly_naming_the_blocking_session(fake_context):
    blocker = [
        (
            4242,
            "django",
            "idle in transaction",
            37,
            "SELECT count(*) FROM books_author",
            "books_author (AccessShareLock)",
        )
    ]
    connection = Connection("postgresql", rows=[blocker])
    pauses = []
    command = fake_migrate(connection, [["LOCK:" + ALTER]] * 3)
    found, details = net.run_migrate(connection, lock_options(), command, sleep=pauses.append)
    assert pauses == [4.0, 4.0]
    assert found["rule"] == "lock_timeout" and found["items"] == ["books.0003_author_nickname"]
    message = found["message"]
    assert message.startswith("Migration books.0003_author_nickname could not get its lock within")
    assert "(3 s), in 3 tries, 4 s apart" in message
    assert ALTER in message
    # The tables among the statement's quoted names (not its column).
    assert (
        "Holding locks on books_author: session 4242 (user django, idle in transaction, its transaction open for 37 s"
        in message
    )
    assert "'SELECT count(*) FROM books_author'" in message
    assert "Nothing of books.0003_author_nickname was applied." in message
    assert "not restored" in message
    assert details["stayed"] == [] and details["applied_now"] == [] and details["tries"] == 3
    # The blocking sessions are looked up on the tables of the statement that waited.
    assert "pg_locks" in connection.executed[-1]


def test_on_mariadb_statements_that_stayed_stop_the_retries(fake_context):
    connection = Connection("mysql", fail_on="INNODB_TRX", rows=[[(17, "django", "Sleep", 12, None)]])
    pauses = []
    first = "ALTER TABLE `books_book` ADD COLUMN `isbn` varchar(13) NULL"
    command = fake_migrate(
        connection, [[first, "LOCK:ALTER TABLE `books_author` ADD COLUMN `nickname` varchar(30) NULL"]]
    )
    found, details = net.run_migrate(connection, lock_options(), command, sleep=pauses.append)
    assert pauses == []
    assert details["stayed"] == [first]
    assert "MariaDB cannot roll back DDL" in found["message"]
    assert first in found["message"]
    assert "restore the backup" in found["message"]
    # Without the PROCESS privilege: the sessions this user may see, said as such.
    assert "that may hold the lock on books_author (MariaDB does not say" in found["message"]
    assert "session 17 (user django, Sleep, in its state for 12 s)" in found["message"]


def test_migrations_applied_before_the_lock_are_named(fake_context):
    connection = Connection("postgresql")

    def command():
        # 0003 applied and recorded, then 0004 waits.
        FakeContext.applied = FakeContext.applied | {("books", "0003_author_nickname")}
        FakeContext.plan = [migration("0004_book_isbn")]
        connection.wrapper(lambda *args: None, 'INSERT INTO "django_migrations" ...', None, False, {})
        connection.wrapper(lambda *args: (_ for _ in ()).throw(lock_error("postgresql")), ALTER, None, False, {})

    found, details = net.run_migrate(connection, lock_options(DJANGO_STACK_LOCK_RETRIES="0"), command)
    assert details["applied_now"] == ["books.0003_author_nickname"]
    assert "Nothing of books.0004_book_isbn was applied" in found["message"]
    assert "kept (each is whole and recorded): books.0003_author_nickname" in found["message"]


def test_other_failures_are_not_retried(fake_context):
    connection = Connection("postgresql")

    def command():
        raise RuntimeError("this migration fails on purpose")

    with pytest.raises(RuntimeError):
        net.run_migrate(connection, lock_options(), command, sleep=pytest.fail)


@pytest.mark.parametrize(
    "rows, fail_on, expected",
    [
        # With the PROCESS privilege: the sessions with an open transaction.
        ([[(9, "django", "Sleep", 40, None)]], None, "session 9 (user django, Sleep, its transaction open for 40 s)"),
        # No open transaction seen there, or no privilege: the sessions this user may see.
        ([[], [(17, "django", "Sleep", 12, None)]], None, "session 17 (user django, Sleep, in its state for 12 s)"),
        ([[(17, "django", "Sleep", 12, None)]], "INNODB_TRX", "session 17 (user django, Sleep, in its state for 12 s)"),
    ],
)
def test_mariadb_sessions_that_may_hold_the_lock(rows, fail_on, expected):
    worded = net.blockers(Connection("mysql", rows=rows, fail_on=fail_on), {"books_author"})
    assert worded[0].startswith(expected)
