#!/usr/bin/python3
"""The site's deploy lock, on the site's first application host.

A deploy, a rollback or a restore takes the lock before it changes anything and gives
it back at its end (or when it fails); a second run started meanwhile is refused. The
control node decides (filter_plugins/django_lock.py); this script only reads and writes
the lock's files, in <django_root>/locks:

  deploy.json  the run holding the lock: {run, user, control_host, pid, play, started}
  work.lock    flock(2)-ed by `hold` while a command of a run works on the host (migrate)
  work.json    that command: {run, what, pid, since}, then {ended, rc, applied, unapplied}

The flock is what makes the lock "held by the work on the host": when the control node
is killed during `migrate`, migrate runs on to its end, and until then the lock is busy
whatever the control node does. A run that never finished is recorded in deploy.log
when its lock is broken (django_deploy_lock_break), with what its work applied.

  django_stack_lock.py show ROOT                  -> {"record": ..., "busy": ..., "work": ...}
  django_stack_lock.py take ROOT [--replace RUN]  (stdin: the record) -> {"taken": ..., ...}
  django_stack_lock.py give ROOT RUN              -> {"given": true|false}
  django_stack_lock.py hold ROOT RUN WHAT -- COMMAND...   (exit status: COMMAND's)

Importing it does nothing.
"""

import datetime
import fcntl
import json
import os
import re
import signal
import subprocess
import sys

APPLIED = re.compile(r"^\s*Applying (\S+?)\.\.\.")
UNAPPLIED = re.compile(r"^\s*Unapplying (\S+?)\.\.\.")
BUSY_EXIT = 75  # EX_TEMPFAIL: another command of a run is working on the host


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def paths(root):
    locks = os.path.join(root, "locks")
    return {
        "record": os.path.join(locks, "deploy.json"),
        "work_lock": os.path.join(locks, "work.lock"),
        "work": os.path.join(locks, "work.json"),
        "log": os.path.join(root, "deploy.log"),
    }


def read_json(path):
    """The file's JSON object, or None when it is missing or unreadable."""
    try:
        with open(path) as handle:
            value = json.load(handle)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def work_busy(work_lock_path):
    """Whether a `hold` holds the work lock now (a command of some run is working)."""
    try:
        handle = open(work_lock_path)
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def show(root):
    p = paths(root)
    work = read_json(p["work"])
    return {
        "record": read_json(p["record"]),
        "busy": work if work_busy(p["work_lock"]) else None,
        "work": work,
    }


def interrupted_entry(record, work, time):
    """The deploy log's line for a run whose lock is broken: it started and never finished."""
    entry = {
        "time": time,
        "outcome": "interrupted",
        "run": record.get("run", ""),
        "by": record.get("user", ""),
        "control_host": record.get("control_host", ""),
        "play": record.get("play", ""),
        "started": record.get("started", ""),
        "migrations_applied": [],
        "migrations_unapplied": [],
    }
    if work and work.get("run") == record.get("run"):
        entry["migrations_applied"] = work.get("applied", [])
        entry["migrations_unapplied"] = work.get("unapplied", [])
        entry["work"] = {key: work.get(key) for key in ("what", "since", "ended", "rc")}
    return entry


def append_log(path, entry):
    with open(path, "a") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def take(root, record, replace=""):
    """Create the lock for record['run']; break the lock of run `replace` first if asked.

    Returns {"taken": bool, "changed": bool, "holder": the record found or None}. A busy
    work lock refuses even a replacement: nothing breaks a lock whose work still runs.
    """
    p = paths(root)
    os.makedirs(os.path.dirname(p["record"]), exist_ok=True)
    found = read_json(p["record"])
    if found and found.get("run") == record["run"]:
        return {"taken": True, "changed": False, "holder": found}
    if work_busy(p["work_lock"]):
        return {"taken": False, "changed": False, "holder": found, "busy": read_json(p["work"])}
    if found and replace and found.get("run") == replace:
        append_log(p["log"], interrupted_entry(found, read_json(p["work"]), now()))
        os.unlink(p["record"])
        found = None
    if found:
        return {"taken": False, "changed": False, "holder": found}
    try:
        descriptor = os.open(p["record"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # another run took it between the read and here
        return {"taken": False, "changed": False, "holder": read_json(p["record"])}
    with os.fdopen(descriptor, "w") as handle:
        json.dump(record, handle, sort_keys=True)
        handle.write("\n")
    return {"taken": True, "changed": True, "holder": None}


def give(root, run):
    """Remove the lock when `run` holds it; another run's lock is left alone."""
    p = paths(root)
    found = read_json(p["record"])
    if not found or found.get("run") != run:
        return {"given": False}
    os.unlink(p["record"])
    return {"given": True}


def write_json(path, value):
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(value, handle, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, path)


def hold(root, run, what, command, out=sys.stdout):
    """Run command while holding the work lock; its output passes through unchanged.

    The control node may go away meanwhile (killed, connection lost): hangups and a
    closed output are ignored, so the command runs on to its end, and work.json then
    says what it applied.
    """
    p = paths(root)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    handle = open(p["work_lock"], "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        busy = read_json(p["work"]) or {}
        print(
            f"django_stack_lock: {busy.get('what', 'a command')} of run {busy.get('run', '?')} "
            f"(pid {busy.get('pid', '?')}, since {busy.get('since', '?')}) is still working on this host",
            file=sys.stderr,
        )
        return BUSY_EXIT
    with handle:
        work = {"run": run, "what": what, "pid": os.getpid(), "since": now()}
        write_json(p["work"], work)
        applied, unapplied = [], []
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        writable = True
        for line in child.stdout:
            for pattern, found in ((APPLIED, applied), (UNAPPLIED, unapplied)):
                match = pattern.match(line)
                if match:
                    found.append(match.group(1))
            if writable:
                try:
                    out.write(line)
                    out.flush()
                except OSError:
                    writable = False
        rc = child.wait()
        write_json(p["work"], dict(work, ended=now(), rc=rc, applied=applied, unapplied=unapplied))
    return rc


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) >= 2 and argv[0] == "show":
        result = show(argv[1])
    elif len(argv) in (2, 4) and argv[0] == "take":
        replace = argv[3] if len(argv) == 4 and argv[2] == "--replace" else ""
        result = take(argv[1], json.loads(sys.stdin.read()), replace)
    elif len(argv) == 3 and argv[0] == "give":
        result = give(argv[1], argv[2])
    elif len(argv) >= 6 and argv[0] == "hold" and argv[4] == "--":
        return hold(argv[1], argv[2], argv[3], argv[5:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
