"""The deploy lock on the control node (tasks/lock.yml): who this run is, and whether
it takes the lock, keeps it, breaks it or is refused, with the message a user reads.
tests/unit/django/test_django_lock.py tests it.

  {{ ansible_play_name | django_lock_run }}       -> this run's lock record
  {{ seen | django_lock_verdict(me, break_run) }} -> {action, message}

`seen` is what bin/django_stack_lock.py `show` printed on the lock's host; `me` this
run's record; `break_run` django_deploy_lock_break.
"""

import datetime
import getpass
import multiprocessing
import os
import socket

BREAK_VAR = "django_deploy_lock_break"


def _holder(record):
    return (
        f"run {record.get('run', '?')} ({record.get('user', '?')}@{record.get('control_host', '?')}, "
        f"play '{record.get('play', '?')}') since {record.get('started', '?')}"
    )


def _work(busy):
    return (
        f"its {busy.get('what', 'work')} (pid {busy.get('pid', '?')}, run {busy.get('run', '?')}) "
        f"has been running on the host since {busy.get('since', '?')}"
    )


def _applied(work, run):
    if not work or work.get("run") != run:
        return "no migration was applied on the host"
    done = work.get("applied", []) + [f"{name} (unapplied)" for name in work.get("unapplied", [])]
    if not done:
        return f"its {work.get('what', 'work')} applied nothing"
    return f"its {work.get('what', 'work')} applied " + ", ".join(done)


def process_start(pid):
    """The process's start time (clock ticks after boot) from /proc, or '' when it is gone."""
    try:
        with open(f"/proc/{int(pid)}/stat") as handle:
            stat = handle.read()
    except (OSError, TypeError, ValueError):
        return ""
    # The command's name (field 2) is in parentheses and may hold spaces: split after it.
    return stat.rsplit(")", 1)[1].split()[19]


def _boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def lock_run(play):
    """This run's record. Every task of a run gets the same run: Ansible forks its
    workers from the ansible-playbook process, so a worker's parent is that process; the
    pid's start time tells it from a later process that reuses the pid."""
    parent = multiprocessing.parent_process()
    pid = parent.pid if parent is not None else os.getpid()
    host = socket.gethostname()
    start = process_start(pid)
    return {
        "run": f"{host}:{pid}:{start}",
        "user": getpass.getuser(),
        "control_host": host,
        "boot_id": _boot_id(),
        "pid": pid,
        "pid_start": start,
        "play": play,
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def process_alive(record, me):
    """Whether the record's ansible-playbook still runs: True or False on the control node
    it ran on, None elsewhere or after a reboot (cannot be told)."""
    if record.get("control_host") != me.get("control_host") or record.get("boot_id") != me.get("boot_id"):
        return None
    start = record.get("pid_start")
    return bool(start) and process_start(record.get("pid")) == start


def lock_verdict(seen, me, break_run="", alive=process_alive):
    """{'action': 'take' | 'keep' | 'replace' | 'refuse', 'message': str}.

    alive(record, me) -> True (its run goes on), False (its run is gone) or None (cannot
    be told from here).
    """
    record = seen.get("record")
    busy = seen.get("busy")
    if record and record.get("run") == me["run"]:
        return {"action": "keep", "message": "this run holds the deploy lock"}
    if busy:
        holder = _holder(record) if record else f"run {busy.get('run', '?')}, whose lock was broken,"
        return {
            "action": "refuse",
            "message": (
                f"the site is locked by {holder}: {_work(busy)}. Nothing breaks the lock while that "
                "works; wait for it to end (playbooks/status.yml shows it), then run again."
            ),
        }
    if not record:
        return {"action": "take", "message": "the deploy lock is free"}
    state = alive(record, me)
    if state:
        return {
            "action": "refuse",
            "message": f"the site is locked by {_holder(record)}, which is still running. Run again when it has ended.",
        }
    if break_run and break_run == record.get("run"):
        return {
            "action": "replace",
            "message": f"breaking the deploy lock of {_holder(record)}, as {BREAK_VAR} asks",
        }
    if state is False:
        return {
            "action": "refuse",
            "message": (
                f"the deploy lock is stale: {_holder(record)} never finished (its ansible-playbook is gone); "
                f"{_applied(seen.get('work'), record.get('run'))}. Check the site (playbooks/status.yml), "
                f"then break the lock with -e {BREAK_VAR}={record.get('run')}; the deploy log then records "
                "that run as interrupted."
            ),
        }
    return {
        "action": "refuse",
        "message": (
            f"the site is locked by {_holder(record)}, from another control node (or before a reboot): "
            f"whether it still runs cannot be told from here; {_applied(seen.get('work'), record.get('run'))}. "
            f"When you know it has ended, break the lock with -e {BREAK_VAR}={record.get('run')}."
        ),
    }


class FilterModule:
    def filters(self):
        return {"django_lock_run": lock_run, "django_lock_verdict": lock_verdict}
