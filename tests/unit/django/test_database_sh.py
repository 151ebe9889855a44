"""roles/django/files/database.sh's dump, its read-back check and its pruning, with
stand-ins for pg_dump, pg_restore and mysqldump on PATH (the Molecule scenarios run it
against the real servers, restore included)."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "django" / "files" / "database.sh"

# Each stand-in records its arguments and the password variable it was given.
TOOLS = {
    "pg_dump": """#!/bin/sh
echo "pg_dump $* PGPASSWORD=$PGPASSWORD" >> "$CALLS"
for arg; do case $arg in --file=*) file=${arg#--file=} ;; esac; done
printf 'PGDMP custom dump' > "$file"
""",
    "pg_restore": """#!/bin/sh
echo "pg_restore $*" >> "$CALLS"
[ "$BROKEN" != 1 ] || exit 1
# --list: a table of contents with two tables (and their data), like a real custom dump's.
case "$*" in --list*) printf '%s\\n' '; Archive created' '215; 1259 16390 TABLE public books_author shop' \\
  '216; 1259 16391 TABLE public django_migrations shop' '3380; 0 16390 TABLE DATA public books_author shop' ;; esac
""",
    # The scratch database: SQL on standard input is a restore (failing with BROKEN_RESTORE);
    # the counts answer RESTORED tables and 7 migrations.
    "psql": """#!/bin/sh
echo "psql $*" >> "$CALLS"
case "$*" in
  *pg_tables*) echo "${RESTORED:-2}" ;;
  *django_migrations*) echo 7 ;;
  *) cat > /dev/null; [ "$BROKEN_RESTORE" != 1 ] || { echo 'ERROR: permission denied for schema public' >&2; exit 3; } ;;
esac
""",
    "mysqldump": """#!/bin/sh
echo "mysqldump $* MYSQL_PWD=$MYSQL_PWD" >> "$CALLS"
echo 'CREATE TABLE t (id int);'
[ "$BROKEN" = 1 ] || echo '-- Dump completed on 2026-12-03 10:00:00'
""",
}


@pytest.fixture
def env(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in TOOLS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(tmp_path / "calls"),
        "DB_ENGINE": "postgresql",
        "DB_NAME": "shop",
        "DB_USER": "shop",
        "DB_HOST": "127.0.0.1",
        "DB_PORT": "5432",
    }


def run(env, *args, password="s3cret pass"):
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, input=password + "\n", capture_output=True, text=True)


def test_a_postgresql_dump_reads_back_and_gets_its_note(env, tmp_path):
    target = tmp_path / "backups" / "one.dump"
    target.parent.mkdir()
    done = run(dict(env, BACKUP_NOTE=json.dumps({"release": "r1"})), "dump", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_text() == "PGDMP custom dump"
    assert json.loads(Path(str(target) + ".json").read_text()) == {"release": "r1"}
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    calls = Path(env["CALLS"]).read_text().splitlines()
    # The password from standard input reaches pg_dump in its environment, never its arguments.
    assert calls[0].startswith("pg_dump --format=custom --no-owner --file=")
    assert calls[0].endswith("shop -h 127.0.0.1 -p 5432 -U shop PGPASSWORD=s3cret pass")
    assert "s3cret" not in calls[0].split("PGPASSWORD=")[0]
    assert calls[1].startswith("pg_restore --list ")


def test_a_dump_that_does_not_read_back_is_not_kept(env, tmp_path):
    target = tmp_path / "one.dump"
    done = run(dict(env, BROKEN="1"), "dump", str(target))
    assert done.returncode != 0
    assert "the dump does not read back" in done.stderr
    assert not target.exists()


def test_a_mysql_dump_must_end_with_its_completion_line(env, tmp_path):
    env = dict(env, DB_ENGINE="mysql", DB_PORT="3306")
    good = tmp_path / "good.sql"
    assert run(env, "dump", str(good)).returncode == 0
    assert good.read_text().endswith("-- Dump completed on 2026-12-03 10:00:00\n")
    assert "MYSQL_PWD=s3cret pass" in Path(env["CALLS"]).read_text()
    cut = tmp_path / "cut.sql"
    done = run(dict(env, BROKEN="1"), "dump", str(cut))
    assert done.returncode != 0 and "the dump is incomplete" in done.stderr
    assert not cut.exists()


def test_only_the_newest_dumps_stay_with_their_notes(env, tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir()
    now = time.time()
    for age, name in enumerate(["c.dump", "b.sql", "a.dump"], start=1):
        path = directory / name
        path.write_text("old")
        Path(str(path) + ".json").write_text("{}")
        os.utime(path, (now - 100 * age, now - 100 * age))
    (directory / "notes.txt").write_text("not a dump")
    done = run(dict(env, BACKUPS_KEEP="2"), "dump", str(directory / "new.dump"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in directory.iterdir()) == ["c.dump", "c.dump.json", "new.dump", "notes.txt"]


@pytest.mark.parametrize("keep", ["0", "two", "-1"])
def test_a_bad_keep_count_is_refused(env, tmp_path, keep):
    done = run(dict(env, BACKUPS_KEEP=keep), "dump", str(tmp_path / "x.dump"))
    assert done.returncode != 0
    assert f"BACKUPS_KEEP must be a whole number of at least 1, not '{keep}'" in done.stderr


def test_usage_and_an_unknown_engine(env, tmp_path):
    assert "usage: database.sh dump|restore|verify FILE" in run(env, "copy", "x").stderr
    done = run(dict(env, DB_ENGINE="oracle"), "dump", str(tmp_path / "x"))
    assert done.returncode != 0 and "unknown DB_ENGINE 'oracle'" in done.stderr
    assert "no backup at" in run(env, "restore", str(tmp_path / "missing.dump")).stderr


# --- verify: a restore into the scratch database ------------------------------------------


def test_verify_restores_into_the_scratch_database_counts_and_empties_it(env, tmp_path):
    dump = tmp_path / "one.dump"
    dump.write_text("PGDMP custom dump")
    done = run(dict(env, DB_SCRATCH_NAME="shop_scratch"), "verify", str(dump))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"tables": 2, "dump_tables": 2, "migrations": 7}
    psql = [line for line in Path(env["CALLS"]).read_text().splitlines() if line.startswith("psql ")]
    # Every statement goes to the scratch database, never the application's: the restore,
    # the two counts, and emptying it again.
    assert len(psql) == 4
    assert all("-d shop_scratch" in line and "-d shop " not in line for line in psql)
    assert "--single-transaction" in psql[0]


def test_verify_reports_a_restore_that_fails(env, tmp_path):
    dump = tmp_path / "one.dump"
    dump.write_text("PGDMP custom dump")
    done = run(dict(env, DB_SCRATCH_NAME="shop_scratch", BROKEN_RESTORE="1"), "verify", str(dump))
    assert done.returncode != 0
    assert "permission denied for schema public" in done.stderr
    assert "the dump does not restore into the scratch database shop_scratch" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    "scratch, words",
    [("", "DB_SCRATCH_NAME is not set"), ("shop", "the scratch database must not be the application's (shop)")],
)
def test_verify_needs_a_scratch_database_of_its_own(env, tmp_path, scratch, words):
    dump = tmp_path / "one.dump"
    dump.write_text("PGDMP custom dump")
    done = run(dict(env, DB_SCRATCH_NAME=scratch), "verify", str(dump))
    assert done.returncode != 0 and words in done.stderr
    assert not Path(env["CALLS"]).exists()
