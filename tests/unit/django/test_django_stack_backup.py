"""The scheduled backup (roles/django/files/django_stack_backup.py): the retention, the
settings, one run with database.sh replaced by a stand-in script, and its record."""

import datetime
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "roles" / "django" / "files"))

import django_stack_backup as backup  # noqa: E402

UTC = datetime.timezone.utc


def names(*stamps, suffix="dump"):
    return [f"{stamp}.{suffix}" for stamp in stamps]


def daily(first, count, hour=3):
    """A dump a day for count days from first (a date), at hour o'clock."""
    return [
        (datetime.datetime.combine(first, datetime.time(hour), UTC) + datetime.timedelta(days=i)).strftime(backup.STAMP)
        for i in range(count)
    ]


def test_importing_does_no_work(capsys):
    assert callable(backup.main)
    assert capsys.readouterr() == ("", "")


def test_only_the_scheduled_dumps_count_newest_first():
    found = backup.dumps(
        ["20261201T031500Z.dump", "last.json", "20261203T031500Z.sql", "20261202T031500Z.dump.json",
         "20261202T031500Z.dump.partial", "notes.txt", "20261202T031500Z.dump"]
    )
    assert [name for _, name in found] == ["20261203T031500Z.sql", "20261202T031500Z.dump", "20261201T031500Z.dump"]


def test_the_newest_days_stay():
    stamps = daily(datetime.date(2026, 11, 1), 10)  # 1 to 10 November
    removed = backup.to_remove(names(*stamps), keep_daily=7, keep_weekly=0)
    assert removed == names(*reversed(stamps[:3]))


def test_the_newest_of_each_older_week_stays_too():
    # 1 October (a Thursday) to 30 November: 61 days, 10 ISO weeks.
    stamps = daily(datetime.date(2026, 10, 1), 61)
    kept = set(names(*stamps)) - set(backup.to_remove(names(*stamps), keep_daily=7, keep_weekly=4))
    dates = sorted(datetime.datetime.strptime(name[:16], backup.STAMP).date() for name in kept)
    # The 7 newest days (24-30 November); the newest of each of the 4 newest ISO weeks:
    # Monday 30 November (a week of its own so far), Sundays 29, 22 and 15 November (the
    # first two are among the days already).
    assert dates == [datetime.date(2026, 11, 15), datetime.date(2026, 11, 22)] + [
        datetime.date(2026, 11, day) for day in range(24, 31)
    ]


def test_two_dumps_a_day_keep_only_the_newest_of_the_day():
    stamps = ["20261130T031500Z", "20261130T150000Z", "20261129T031500Z"]
    assert backup.to_remove(names(*stamps), keep_daily=2, keep_weekly=0) == ["20261130T031500Z.dump"]


def test_a_backup_by_hand_keeps_the_night_s_dump_of_the_same_day():
    # The nightly dump at 03:30, then one by hand at 10:00 after something went wrong: the
    # night's dump, from before it, stays for a day; a day later the day keeps its newest.
    stamps = ["20261203T100000Z", "20261203T033000Z", "20261202T033000Z"]
    at_ten = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert backup.to_remove(names(*stamps), keep_daily=7, keep_weekly=0, now=at_ten) == []
    next_day = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert backup.to_remove(names(*stamps), keep_daily=7, keep_weekly=0, now=next_day) == ["20261203T033000Z.dump"]


def test_a_gap_counts_days_with_a_dump_not_calendar_days():
    stamps = ["20261130T031500Z", "20261101T031500Z", "20261001T031500Z"]
    assert backup.to_remove(names(*stamps), keep_daily=2, keep_weekly=0) == ["20261001T031500Z.dump"]


@pytest.mark.parametrize(
    "change, words",
    [
        ({"KEEP_DAILY": "0"}, "KEEP_DAILY must be 1 or more"),
        ({"KEEP_WEEKLY": "-1"}, "KEEP_WEEKLY 0 or more"),
        ({"KEEP_DAILY": "seven"}, "must be whole numbers"),
        ({"BACKUP_DIR": ""}, "BACKUP_DIR is not set"),
        ({"DB_ENGINE": ""}, "DB_ENGINE is not set"),
    ],
)
def test_bad_settings_are_named(tmp_path, change, words):
    environ = dict(environment(tmp_path, "0"), **change)
    with pytest.raises(ValueError, match=words):
        backup.settings(environ)


# --- A run, with database.sh replaced by a stand-in -----------------------------------------

STAND_IN = """#!/bin/sh
# database.sh's contract: dump FILE writes FILE (through FILE.partial) and FILE.json;
# verify FILE prints the scratch restore's counts (VERIFIED) or fails (VERIFY_EXIT).
if [ "$1" = verify ]; then
  echo "verify $2 into $DB_SCRATCH_NAME" >> "$CALLS"
  if [ "${VERIFY_EXIT:-0}" != 0 ]; then echo "database.sh: the dump does not restore into the scratch database" >&2; exit "$VERIFY_EXIT"; fi
  echo "$VERIFIED"; exit 0
fi
[ "$1" = dump ] || exit 2
printf 'partial' > "$2.partial"
if [ "$EXIT" != 0 ]; then echo "pg_dump: error: connection to server failed: password authentication failed" >&2; exit "$EXIT"; fi
printf 'dump of %s by %s' "$DB_NAME" "$DB_USER" > "$2.partial"
mv "$2.partial" "$2"
printf '%s\\n' "$BACKUP_NOTE" > "$2.json"
"""


def environment(tmp_path, exit_code):
    script = tmp_path / "database.sh"
    script.write_text(STAND_IN)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    release = tmp_path / "releases" / "20261203T100000Z-abc"
    release.mkdir(parents=True, exist_ok=True)
    current = tmp_path / "current"
    if not current.is_symlink():
        current.symlink_to(release)
    return {
        "BACKUP_DIR": str(tmp_path / "backups" / "scheduled"),
        "DATABASE_SH": str(script),
        "KEEP_DAILY": "2",
        "KEEP_WEEKLY": "0",
        "CURRENT": str(current),
        "DB_ENGINE": "postgresql",
        "DB_NAME": "shop",
        "DB_USER": "shop",
        "DB_PASSWORD": "secret",
        "EXIT": exit_code,
        "CALLS": str(tmp_path / "calls"),
        "PATH": os.environ["PATH"],
    }


def test_a_run_dumps_notes_prunes_and_records(tmp_path):
    environ = environment(tmp_path, "0")
    directory = Path(environ["BACKUP_DIR"])
    directory.mkdir(parents=True)
    for old in ("20261101T031500Z.dump", "20261102T031500Z.dump"):
        (directory / old).write_text("old")
        (directory / (old + ".json")).write_text("{}")
    now = datetime.datetime(2026, 12, 3, 3, 15, tzinfo=UTC)
    result = backup.run(environ, now=now)
    assert result["error"] == ""
    assert result["verified"] is True and result["verified_by"] == "read back"
    assert result["file"] == str(directory / "20261203T031500Z.dump")
    assert result["bytes"] == len("dump of shop by shop")
    assert result["removed"] == ["20261101T031500Z.dump"]
    assert sorted(os.listdir(directory)) == [
        "20261102T031500Z.dump", "20261102T031500Z.dump.json", "20261203T031500Z.dump", "20261203T031500Z.dump.json"
    ]
    note = json.loads((directory / "20261203T031500Z.dump.json").read_text())
    assert note == {"scheduled": True, "time": "20261203T031500Z", "release": "20261203T100000Z-abc"}


def test_a_failed_run_leaves_no_dump_and_says_why(tmp_path):
    environ = environment(tmp_path, "1")
    result = backup.run(environ, now=datetime.datetime(2026, 12, 3, 3, 15, tzinfo=UTC))
    assert result["verified"] is False
    assert result["file"] == ""
    assert "password authentication failed" in result["error"]
    assert os.listdir(environ["BACKUP_DIR"]) == []


def test_main_records_the_result_and_fails_the_unit_on_failure(tmp_path, capsys):
    environ = environment(tmp_path, "0")
    assert backup.main(environ) == 0
    environ["EXIT"] = "1"
    assert backup.main(environ) == 1
    directory = Path(environ["BACKUP_DIR"])
    last = json.loads((directory / "last.json").read_text())
    history = [json.loads(line) for line in (directory / "history.jsonl").read_text().splitlines()]
    assert "password authentication failed" in last["error"]
    assert [entry["verified"] for entry in history] == [True, False]
    assert history[-1] == last
    assert oct((directory / "last.json").stat().st_mode & 0o777) == "0o600"
    assert "the scheduled backup failed" in capsys.readouterr().err
    # The password is never part of what it records or prints.
    assert "secret" not in (directory / "history.jsonl").read_text()


def test_it_runs_as_a_script_with_its_settings_from_the_environment(tmp_path):
    environ = environment(tmp_path, "0")
    script = Path(backup.__file__)
    done = subprocess.run([sys.executable, str(script)], env=environ, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verified"] is True


# --- Copies to other hosts, with sftp replaced by a stand-in ---------------------------------

SFTP_STAND_IN = """#!/bin/sh
# Records its arguments and the batch it was given; fails for a host named "down".
printf '%s\\n' "$*" >> "$SFTP_LOG"
cat >> "$SFTP_LOG"
case "$*" in *down*) echo "ssh: connect to host down port 22: Connection refused" >&2; exit 255;; esac
"""


def with_sftp(tmp_path, environ, targets):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    sftp = bin_dir / "sftp"
    sftp.write_text(SFTP_STAND_IN)
    sftp.chmod(sftp.stat().st_mode | stat.S_IXUSR)
    return dict(environ, PATH=f"{bin_dir}:{environ['PATH']}", SFTP_LOG=str(tmp_path / "sftp.log"),
                COPY_TO=targets, COPY_KEY="/srv/shop/shared/backup-copy-key",
                COPY_KNOWN_HOSTS="/srv/shop/shared/backup-copy-known-hosts")


def test_the_batch_puts_under_a_partial_name_then_renames_and_applies_the_retention():
    batch = backup.copy_batch("/b/20261203T031500Z.dump", ["20261101T031500Z.dump"]).splitlines()
    assert batch[:3] == [
        'put "/b/20261203T031500Z.dump" "20261203T031500Z.dump.partial"',
        '-rm "20261203T031500Z.dump"',
        'rename "20261203T031500Z.dump.partial" "20261203T031500Z.dump"',
    ]
    assert batch[3] == 'put "/b/20261203T031500Z.dump.json" "20261203T031500Z.dump.json.partial"'
    assert batch[-2:] == ['-rm "20261101T031500Z.dump"', '-rm "20261101T031500Z.dump.json"']


def test_each_verified_dump_goes_to_every_copy_host_with_the_backup_s_key(tmp_path):
    environ = with_sftp(tmp_path, environment(tmp_path, "0"), "shop-backup@10.0.0.9 shop-backup@10.0.0.10")
    result = backup.run(environ, now=datetime.datetime(2026, 12, 3, 3, 15, tzinfo=UTC))
    assert result["error"] == ""
    assert result["copies"] == [
        {"to": "shop-backup@10.0.0.9", "ok": True, "error": ""},
        {"to": "shop-backup@10.0.0.10", "ok": True, "error": ""},
    ]
    log = (tmp_path / "sftp.log").read_text()
    assert "-i /srv/shop/shared/backup-copy-key" in log
    assert "StrictHostKeyChecking=yes" in log and "UserKnownHostsFile=/srv/shop/shared/backup-copy-known-hosts" in log
    assert log.count('rename "20261203T031500Z.dump.partial" "20261203T031500Z.dump"') == 2


def test_a_failed_copy_fails_the_run_naming_the_host_and_the_dump_stays_here(tmp_path):
    environ = with_sftp(tmp_path, environment(tmp_path, "0"), "shop-backup@down")
    result = backup.run(environ, now=datetime.datetime(2026, 12, 3, 3, 15, tzinfo=UTC))
    assert result["verified"] is True and os.path.exists(result["file"])
    assert result["copies"][0]["ok"] is False
    assert result["error"] == (
        "the verified dump could not be copied to shop-backup@down: "
        "ssh: connect to host down port 22: Connection refused"
    )


def test_no_copy_hosts_no_sftp(tmp_path):
    result = backup.run(environment(tmp_path, "0"), now=datetime.datetime(2026, 12, 3, 3, 15, tzinfo=UTC))
    assert result["copies"] == [] and result["error"] == ""


# --- Verified by a restore into a scratch database -------------------------------------------


def scratch_run(tmp_path, **change):
    environ = dict(environment(tmp_path, "0"), DB_SCRATCH_NAME="shop_scratch", **change)
    environ = with_sftp(tmp_path, environ, "shop-backup@10.0.0.9")
    directory = Path(environ["BACKUP_DIR"])
    directory.mkdir(parents=True)
    for old in ("20261101T031500Z.dump", "20261102T031500Z.dump"):
        (directory / old).write_text("old")
    return backup.run(environ, now=datetime.datetime(2026, 12, 3, 3, 15, tzinfo=UTC)), directory


def test_a_dump_that_restores_whole_is_verified_by_the_restore(tmp_path):
    result, directory = scratch_run(tmp_path, VERIFIED='{"tables": 14, "dump_tables": 14, "migrations": 31}')
    assert result["error"] == ""
    assert (result["verified"], result["verified_by"], result["tables"], result["migrations"]) == (True, "restore", 14, 31)
    calls = (tmp_path / "calls").read_text()
    assert calls == f"verify {directory}/20261203T031500Z.dump into shop_scratch\n"
    # Then it goes on as any verified dump: retention and copies.
    assert result["removed"] == ["20261101T031500Z.dump"]
    assert result["copies"][0]["ok"] is True


@pytest.mark.parametrize(
    "change, words",
    [
        ({"VERIFIED": '{"tables": 12, "dump_tables": 14, "migrations": 31}'},
         "the dump restored into the scratch database shop_scratch with 12 tables, but it holds 14"),
        ({"VERIFIED": '{"tables": 0, "dump_tables": 0, "migrations": 0}'},
         "the dump restored into the scratch database shop_scratch with 0 tables, but it holds 0"),
        ({"VERIFY_EXIT": "1"},
         "the dump does not restore into the scratch database shop_scratch: "
         "database.sh: the dump does not restore into the scratch database"),
        ({"VERIFIED": "not json"}, "the dump does not restore into the scratch database shop_scratch"),
    ],
)
def test_a_dump_that_does_not_restore_whole_is_set_aside_uncopied_and_fails_the_run(tmp_path, change, words):
    result, directory = scratch_run(tmp_path, **change)
    assert result["error"].startswith(words)
    assert result["verified"] is False and result["verified_by"] == "restore"
    assert result["file"] == f"{directory}/20261203T031500Z.dump.unverified"
    # Set aside where the retention does not count it; nothing older removed, nothing copied.
    assert sorted(os.listdir(directory)) == [
        "20261101T031500Z.dump", "20261102T031500Z.dump", "20261203T031500Z.dump.json",
        "20261203T031500Z.dump.unverified",
    ]
    assert "copies" not in result and not (tmp_path / "sftp.log").exists()
