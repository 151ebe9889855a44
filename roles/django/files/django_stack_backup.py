#!/usr/bin/python3
"""The scheduled backup of the application's database (the django role's backup timer).

systemd runs it as root from <app>-backup.service, with the settings of
<django_root>/shared/backup.env in its environment:

  BACKUP_DIR     where the scheduled dumps go (<django_root>/backups/scheduled)
  DATABASE_SH    bin/database.sh, which dumps with the same method as the backup taken
                 before migrating, and checks that the dump reads back completely
  KEEP_DAILY     how many days keep their newest dump (1 or more)
  KEEP_WEEKLY    how many ISO weeks keep their newest dump (0 or more)
  CURRENT        the `current` release link, named in the dump's note
  COPY_TO        user@host of each host that keeps a copy ('' for none), reached with
  COPY_KEY       the backup's own SSH key and
  COPY_KNOWN_HOSTS  the only host keys it trusts
  DB_ENGINE, DB_NAME, DB_USER, DB_PASSWORD, DB_HOST, DB_PORT   for database.sh
  DB_SCRATCH_NAME  a database of the same user to restore each dump into, as a
                 verification stronger than reading it back ('' for none)

Each run writes <UTC time>.dump (PostgreSQL) or .sql (MySQL/MariaDB) with a note beside
it (FILE.json), removes the dumps the retention no longer keeps, and records its result
in last.json and, one line per run, history.jsonl: time, file, bytes, seconds,
verified, verified_by ("read back", or "restore" with a scratch database: then also
tables and migrations, what the restored copy held), error, and the copies (to, ok,
error). A dump that does not restore into the scratch database is kept as
FILE.unverified, outside the retention, and is neither counted nor copied. A copy host gets the dump and its note
with sftp (written as NAME.partial, then renamed), and loses the dumps the retention
removed here. A failed run exits 1, so its unit fails where `systemctl --failed`,
the journal and playbooks/status.yml show it. Importing this module does nothing.
"""

import datetime
import json
import os
import re
import subprocess
import sys
import time

NAME = re.compile(r"^(\d{8}T\d{6}Z)\.(dump|sql)$")
STAMP = "%Y%m%dT%H%M%SZ"


def dumps(names):
    """[(time, name)] of the scheduled dumps among the directory's names, newest first."""
    found = []
    for name in names:
        match = NAME.match(name)
        if match:
            when = datetime.datetime.strptime(match[1], STAMP).replace(tzinfo=datetime.timezone.utc)
            found.append((when, name))
    return sorted(found, reverse=True)


def to_remove(names, keep_daily, keep_weekly, now=None):
    """The dumps that the retention no longer keeps. A dump stays when it is the newest of
    its day and that day is one of the keep_daily newest days with a dump, or the newest
    of its ISO week and that week one of the keep_weekly newest weeks with a dump (one dump
    may be both). Every dump younger than a day stays too (with now given): a backup taken
    by hand after something went wrong must not remove that night's dump from before."""
    days, weeks, keep = [], [], set()
    for when, name in dumps(names):
        if now is not None and now - when < datetime.timedelta(days=1):
            keep.add(name)
        day, week = when.date(), when.isocalendar()[:2]
        if day not in days:
            days.append(day)
            if len(days) <= keep_daily:
                keep.add(name)
        if week not in weeks:
            weeks.append(week)
            if len(weeks) <= keep_weekly:
                keep.add(name)
    return [name for _, name in dumps(names) if name not in keep]


def settings(environ):
    """The run's settings from the environment, or a ValueError naming the bad one."""
    try:
        keep_daily, keep_weekly = int(environ.get("KEEP_DAILY", "")), int(environ.get("KEEP_WEEKLY", ""))
    except ValueError:
        raise ValueError("KEEP_DAILY and KEEP_WEEKLY must be whole numbers") from None
    if keep_daily < 1 or keep_weekly < 0:
        raise ValueError(f"KEEP_DAILY must be 1 or more and KEEP_WEEKLY 0 or more, not {keep_daily} and {keep_weekly}")
    for name in ("BACKUP_DIR", "DATABASE_SH", "DB_ENGINE"):
        if not environ.get(name):
            raise ValueError(f"{name} is not set")
    return {
        "dir": environ["BACKUP_DIR"],
        "database_sh": environ["DATABASE_SH"],
        "suffix": "dump" if environ["DB_ENGINE"] == "postgresql" else "sql",
        "keep_daily": keep_daily,
        "keep_weekly": keep_weekly,
        "current": environ.get("CURRENT", ""),
        "copy_to": environ.get("COPY_TO", "").split(),
        "copy_key": environ.get("COPY_KEY", ""),
        "copy_known_hosts": environ.get("COPY_KNOWN_HOSTS", ""),
        "scratch": environ.get("DB_SCRATCH_NAME", ""),
    }


def copy_batch(path, removed):
    """The sftp batch that puts the dump and its note into the remote home (each under a
    .partial name first) and removes the dumps that the retention removed here ("-": a
    file already gone is not an error)."""
    lines = []
    for local in (path, path + ".json"):
        name = os.path.basename(local)
        lines += [f'put "{local}" "{name}.partial"', f'-rm "{name}"', f'rename "{name}.partial" "{name}"']
    for name in removed:
        lines += [f'-rm "{name}"', f'-rm "{name}.json"']
    return "".join(line + "\n" for line in lines)


def copy(config, path, removed, environ, runner=subprocess.run):
    """Send the dump to each copy host; [{"to", "ok", "error"}]."""
    copies = []
    for target in config["copy_to"]:
        done = runner(
            ["sftp", "-b", "-", "-i", config["copy_key"], "-o", "BatchMode=yes", "-o", "ConnectTimeout=30",
             "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={config['copy_known_hosts']}", target],
            input=copy_batch(path, removed),
            env=environ,
            capture_output=True,
            text=True,
        )
        lines = (done.stderr or "").strip().splitlines() or [f"sftp exited with {done.returncode}"]
        copies.append({"to": target, "ok": done.returncode == 0, "error": "" if done.returncode == 0 else " ".join(lines[-2:])})
    return copies


def restore_verdict(done, scratch):
    """What `database.sh verify` answered: {"verified_by", "tables", "migrations",
    "error"}. The restore counts when it succeeded and the scratch database then held
    every table the dump has, and at least one."""
    verdict = {"verified_by": "restore", "tables": 0, "migrations": 0, "error": ""}
    lines = (done.stdout or "").strip().splitlines()
    try:
        counts = json.loads(lines[-1]) if done.returncode == 0 and lines else None
    except ValueError:
        counts = None
    if counts is None:
        reason = " ".join((done.stderr or "").strip().splitlines()[-3:]) or f"database.sh exited with {done.returncode}"
        verdict["error"] = f"the dump does not restore into the scratch database {scratch}: {reason}"
        return verdict
    verdict.update(tables=counts["tables"], migrations=counts["migrations"])
    if counts["tables"] == 0 or counts["tables"] != counts["dump_tables"]:
        verdict["error"] = (
            f"the dump restored into the scratch database {scratch} with {counts['tables']} tables, "
            f"but it holds {counts['dump_tables']}"
        )
    return verdict


def restore_check(config, path, environ, runner=subprocess.run):
    """Restore the dump into the scratch database and judge it (restore_verdict)."""
    done = runner(
        [config["database_sh"], "verify", path],
        env=environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    return restore_verdict(done, config["scratch"])


def release(current):
    """The release the `current` link points at, or '' without one."""
    try:
        return os.path.basename(os.readlink(current)) if current else ""
    except OSError:
        return ""


def run(environ, now=None, runner=subprocess.run, clock=time.monotonic):
    """One scheduled backup; returns the result recorded in last.json."""
    started = clock()
    now = now or datetime.datetime.now(datetime.timezone.utc)
    result = {"time": now.strftime(STAMP), "file": "", "bytes": 0, "seconds": 0.0, "verified": False, "error": ""}
    try:
        config = settings(environ)
    except ValueError as error:
        result["error"] = str(error)
        return result
    directory = config["dir"]
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, f"{result['time']}.{config['suffix']}")
    note = {"scheduled": True, "time": result["time"], "release": release(config["current"])}
    done = runner(
        [config["database_sh"], "dump", path],
        env=dict(environ, BACKUP_NOTE=json.dumps(note)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    result["seconds"] = round(clock() - started, 1)
    if done.returncode != 0:
        for leftover in (path + ".partial", path):
            if os.path.exists(leftover):
                os.remove(leftover)
        lines = (done.stderr or "").strip().splitlines() or [f"database.sh exited with {done.returncode}"]
        result["error"] = " ".join(lines[-3:])
        return result
    # database.sh renames the dump into place only once it reads back completely.
    result.update(file=path, bytes=os.path.getsize(path), verified=True, verified_by="read back")
    if config["scratch"]:
        restored = restore_check(config, path, environ, runner)
        result.update(restored, seconds=round(clock() - started, 1))
        if restored["error"]:
            os.replace(path, path + ".unverified")
            result.update(file=path + ".unverified", verified=False)
            return result
    removed = []
    for name in to_remove(os.listdir(directory), config["keep_daily"], config["keep_weekly"], now):
        for doomed in (os.path.join(directory, name), os.path.join(directory, name + ".json")):
            if os.path.exists(doomed):
                os.remove(doomed)
        removed.append(name)
    result["removed"] = removed
    result["copies"] = copy(config, path, removed, environ, runner)
    failed = [c for c in result["copies"] if not c["ok"]]
    if failed:
        result["error"] = "; ".join(f"the verified dump could not be copied to {c['to']}: {c['error']}" for c in failed)
    return result


def record(directory, result):
    """last.json (replaced whole) and one line of history.jsonl."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    partial = os.path.join(directory, "last.json.partial")
    with open(partial, "w") as handle:
        json.dump(result, handle, sort_keys=True)
        handle.write("\n")
    os.replace(partial, os.path.join(directory, "last.json"))
    with open(os.path.join(directory, "history.jsonl"), "a") as handle:
        handle.write(json.dumps(result, sort_keys=True) + "\n")


def main(environ=None):
    environ = dict(os.environ if environ is None else environ)
    os.umask(0o077)
    result = run(environ)
    if environ.get("BACKUP_DIR"):
        record(environ["BACKUP_DIR"], result)
    print(json.dumps(result, sort_keys=True))
    if result["error"]:
        print(f"django_stack_backup: the scheduled backup failed: {result['error']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
