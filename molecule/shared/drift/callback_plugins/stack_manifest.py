# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record what a run of site.yml manages, host by host, for the drift test.

The drift test is generated from the roles' own tasks, not from a list written for it:
this callback reads the arguments of every module run that puts something in place
(stack_files, apt, stack_service, user, file, copy, template) from its result and
writes them, with the role that ran them, as JSON to the file named by STACK_MANIFEST.
Tasks with no_log hide their arguments; they are counted, not recorded.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: stack_manifest
type: aggregate
short_description: Write what each host's run managed to the file named by STACK_MANIFEST
description:
  - For the drift test of the django-stack Molecule scenarios.
requirements:
  - enable in configuration
"""

# Module names as results report them, short or fully qualified.
KINDS = {
    "stack_files": "files",
    "apt": "packages",
    "stack_service": "services",
    "user": "users",
    "file": "paths",
    "copy": "paths",
    "template": "paths",
}


def kind_of(action):
    return KINDS.get(action.rsplit(".", 1)[-1])


def entries(kind, args, role):
    """What one module run manages, as manifest entries; [] for what it does not put in place."""
    if kind == "files":
        return [dict(item, role=role) for item in args.get("items") or [] if item.get("path")]
    if kind == "packages":
        if args.get("state") not in (None, "present", "latest") or not args.get("name"):
            return []
        names = args["name"] if isinstance(args["name"], list) else [args["name"]]
        return [{"name": name, "role": role} for name in names if not name.endswith(".deb")]
    if kind == "services":
        if args.get("state", "started") != "started":
            return []
        return [{"name": args["name"], "enabled": args.get("enabled"), "config": args.get("config") or [],
                 "apply": args.get("apply", "restart"), "role": role}]
    if kind == "users":
        if args.get("state", "present") != "present":
            return []
        return [{key: args.get(key) for key in ("name", "shell", "home")} | {"role": role}]
    path = args.get("dest") or args.get("path")
    if not path or args.get("state") in ("absent", "touch"):
        return []
    entry = {key: args.get(key) for key in ("mode", "owner", "group", "src")}
    return [dict(entry, path=path, state=args.get("state") or "file", role=role)]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "stack_manifest"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.hosts = {}

    def _host(self, name):
        return self.hosts.setdefault(name, {kind: [] for kind in set(KINDS.values())} | {"hidden": 0})

    def _record(self, result):
        kind = kind_of(result._task.action)
        if kind is None or result._task.check_mode is True:
            return
        host = self._host(result._host.get_name())
        role = result._task._role.get_name() if result._task._role else ""
        outcomes = result._result.get("results") or [result._result]
        for outcome in outcomes:
            if outcome.get("skipped"):
                continue
            args = (outcome.get("invocation") or {}).get("module_args")
            if args is None:
                host["hidden"] += 1
                continue
            for entry in entries(kind, args, role):
                if entry not in host[kind]:
                    host[kind].append(entry)

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("STACK_MANIFEST")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.hosts, handle, indent=1, sort_keys=True)
