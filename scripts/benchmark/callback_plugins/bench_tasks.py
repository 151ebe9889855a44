"""Ansible callback for scripts/benchmark.py: one JSON line per task result.

Enabled only for the benchmark's own runs (ANSIBLE_CALLBACK_PLUGINS pointing at this
directory, `bench_tasks` in ANSIBLE_CALLBACKS_ENABLED). It writes to the file named by
the environment variable BENCH_TASK_LOG and does nothing when that is unset.

Each line is one of:
  {"event": "task", "host", "task", "role", "action", "path", "handler", "status",
   "start", "duration"}   for every task result (status ok, changed, failed, skipped,
                          unreachable); duration is seconds from the host starting the
                          task to its result
  {"event": "stats", "host", "ok", "changed", "failures", "unreachable", "skipped",
   "rescued", "ignored"}  once per host at the end (the PLAY RECAP numbers)
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: bench_tasks
    type: aggregate
    short_description: one JSON line per task result, for scripts/benchmark.py
    description:
      - Writes the task name, role, action and duration of every task result to the
        file named by BENCH_TASK_LOG.
    requirements:
      - enabled in ANSIBLE_CALLBACKS_ENABLED
"""


class CallbackModule(CallbackBase):
    """Write one JSON line per task result and the recap per host."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._log_path = os.environ.get("BENCH_TASK_LOG", "")
        self._task_started = {}
        self._host_started = {}
        self._handler_uuids = set()

    def _write(self, record):
        """Append one JSON line to the log file."""
        if not self._log_path:
            return
        with open(self._log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record, sort_keys=True) + "\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        """Note when a task starts (fallback when no host start is seen)."""
        self._task_started[task._uuid] = time.time()

    def v2_playbook_on_handler_task_start(self, task):
        """Note when a handler starts."""
        self._task_started[task._uuid] = time.time()
        self._handler_uuids.add(task._uuid)

    def v2_runner_on_start(self, host, task):
        """Note when a host starts a task."""
        self._host_started[(host.get_name(), task._uuid)] = time.time()

    def _record(self, result, status):
        """Write the line for one task result."""
        task = getattr(result, "task", None) or result._task
        host = getattr(result, "host", None) or result._host
        now = time.time()
        start = self._host_started.pop(
            (host.get_name(), task._uuid), self._task_started.get(task._uuid, now)
        )
        role = task._role.get_name(include_role_fqcn=False) if task._role else ""
        self._write(
            {
                "event": "task",
                "host": host.get_name(),
                "task": task.name or task.action,
                "role": role,
                "action": task.action,
                "path": task.get_path(),
                "handler": task._uuid in self._handler_uuids,
                "status": status,
                "start": round(start, 3),
                "duration": round(now - start, 3),
            }
        )

    def v2_runner_on_ok(self, result):
        """A task ran: ok or changed."""
        self._record(result, "changed" if result.is_changed() else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        """A task failed."""
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        """A task was skipped."""
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        """A host could not be reached."""
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        """The PLAY RECAP numbers, one line per host."""
        for host in sorted(stats.processed.keys()):
            summary = stats.summarize(host)
            self._write({"event": "stats", "host": host, **summary})
