#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep a systemd service running with the configuration that is on disk."""

from __future__ import annotations

DOCUMENTATION = r"""
module: stack_service
short_description: Keep a systemd service running, enabled, and running the configuration on disk
description:
  - One task per service, in the role that owns the service. Besides starting and
    enabling it (as M(ansible.builtin.systemd_service) does), it compares the service
    with its configuration on every run, so a reload or restart that an interrupted
    run never got to (a handler lost with the run) is redone by the next run.
  - The service last applied its configuration when it last entered the active state
    (systemd's C(ActiveEnterTimestamp)) or when this module last reloaded or restarted
    it, whichever is later; the module records its own reloads and restarts as files in
    C(/var/lib/django-stack/applied/). Any O(config) path changed after that moment
    (modification times in microseconds; for a link, the later of the link's own and its
    target's) makes it apply the configuration the way O(apply) says.
  - Runs C(systemctl daemon-reload) first when systemd says a unit file changed on disk.
  - Check mode changes nothing and reports what a run would do; a unit that does not
    exist yet (its package is still to be installed) is reported as to be started.
options:
  name:
    description: The systemd unit, such as C(apache2) or C(postgresql@15-main).
    type: str
    required: true
  state:
    description:
      - V(started) starts the service when it is not running, and applies newer
        configuration to a running one.
      - V(reloaded) and V(restarted) always reload or restart (for handlers), and
        record it; V(stopped) stops it.
    type: str
    choices: [started, reloaded, restarted, stopped]
    default: started
  enabled:
    description: Whether the service starts at boot; left as it is when not given.
    type: bool
  config:
    description:
      - Paths or glob patterns of the files and directories whose change the running
        service must have applied (its settings, its unit file, a link to its code).
        A directory's own time changes when a file in it is added or removed. Paths
        that do not exist are ignored.
    type: list
    elements: str
    default: []
  apply:
    description: How a running service applies newer configuration.
    type: str
    choices: [reload, restart]
    default: restart
author: django-stack
"""

EXAMPLES = r"""
- name: Run Apache now and at boot, with the configuration on disk
  stack_service:
    name: apache2
    enabled: true
    config:
      - /etc/apache2/ports.conf
      - /etc/apache2/sites-enabled/django-stack.conf
      - /etc/apache2/django-stack.d
      - /etc/apache2/django-stack.d/*.conf
    apply: reload

# A handler for another role's snippet: always reload, and record it.
- name: Reload Apache
  stack_service:
    name: apache2
    state: reloaded
"""

RETURN = r"""
actions:
  description: What the module did (or, in check mode, would do) and why, in order.
  returned: always
  type: list
  elements: str
  sample: ["reloaded: /etc/apache2/ports.conf changed after the service last applied its configuration"]
"""

import datetime
import glob
import os
import subprocess

from ansible.module_utils.basic import AnsibleModule

RECORD_DIR = "/var/lib/django-stack/applied"
PROPERTIES = "LoadState,ActiveState,UnitFileState,ActiveEnterTimestamp,NeedDaemonReload"


def systemctl(*args):
    """systemctl's (rc, stdout, stderr)."""
    done = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def properties(name, run=systemctl):
    _rc, out, _err = run("show", "--timestamp=us+utc", "-p", PROPERTIES, "--", name)
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def timestamp(stamp):
    """Seconds since the epoch of systemd's "Thu 2026-12-03 06:46:24.216568 UTC", or None.

    Microseconds matter: in whole seconds a file written in the second the service
    started would look newer than the start, and every run would restart it.
    """
    try:
        # The weekday's name may follow the locale; the rest is fixed.
        when = datetime.datetime.strptime(stamp.split(" ", 1)[1], "%Y-%m-%d %H:%M:%S.%f UTC")
    except (IndexError, ValueError):
        return None
    return when.replace(tzinfo=datetime.timezone.utc).timestamp()


def record_path(name):
    return os.path.join(RECORD_DIR, name.replace("/", "_"))


def last_applied(props, name):
    """When the running service last read its configuration; None when unknown."""
    times = [timestamp(props.get("ActiveEnterTimestamp", ""))]
    try:
        times.append(os.stat(record_path(name)).st_mtime_ns / 1e9)
    except OSError:
        pass
    times = [t for t in times if t is not None]
    return max(times) if times else None


def changed_time(path):
    """The later of a path's own change and, for a link, its target's; None if absent."""
    times = []
    for stat in (os.lstat, os.stat):
        try:
            times.append(stat(path).st_mtime_ns / 1e9)
        except OSError:
            pass
    return max(times) if times else None


def newer_config(patterns, since):
    """The first configured path changed after `since` (every path when since is None)."""
    for pattern in patterns:
        paths = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        for path in paths:
            when = changed_time(path)
            if when is not None and (since is None or when > since):
                return path
    return None


def plan(params, props, applied):
    """The systemctl verbs to run, each with why; pure, for the unit tests."""
    name, state, enabled = params["name"], params["state"], params["enabled"]
    steps = []
    missing = props.get("LoadState") == "not-found"
    if props.get("NeedDaemonReload") == "yes" or missing:
        steps.append(("daemon-reload", "the unit file changed on disk" if not missing else "the unit is not loaded yet"))
    unit_state = props.get("UnitFileState", "")
    if enabled is True and (missing or unit_state == "disabled"):
        steps.append(("enable", "not enabled at boot"))
    elif enabled is False and unit_state == "enabled":
        steps.append(("disable", "enabled at boot"))
    active = props.get("ActiveState") == "active"
    if state == "stopped":
        if active:
            steps.append(("stop", "running"))
    elif state in ("reloaded", "restarted"):
        verb = "reload" if state == "reloaded" else "restart"
        steps.append((verb if active else "start", "asked for" if active else "not running"))
    elif not active:
        steps.append(("start", "not running"))
    else:
        path = newer_config(params["config"], applied)
        if path is not None:
            steps.append((params["apply"], f"{path} changed after the service last applied its configuration"))
    return steps


PAST = {"daemon-reload": "reloaded systemd", "enable": "enabled", "disable": "disabled", "start": "started",
        "stop": "stopped", "reload": "reloaded", "restart": "restarted"}


def record(name):
    os.makedirs(RECORD_DIR, mode=0o755, exist_ok=True)
    with open(record_path(name), "w", encoding="utf-8") as handle:
        handle.write(datetime.datetime.now(datetime.timezone.utc).isoformat() + "\n")


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "default": "started", "choices": ["started", "reloaded", "restarted", "stopped"]},
            "enabled": {"type": "bool"},
            "config": {"type": "list", "elements": "str", "default": []},
            "apply": {"type": "str", "default": "restart", "choices": ["reload", "restart"]},
        },
        supports_check_mode=True,
    )
    name = module.params["name"]
    props = properties(name)
    steps = plan(module.params, props, last_applied(props, name))
    actions = [f"{PAST[verb]}: {why}" for verb, why in steps]
    if module.check_mode or not steps:
        module.exit_json(changed=bool(steps), actions=actions)
    for verb, _why in steps:
        args = [verb] if verb == "daemon-reload" else [verb, "--", name]
        rc, out, err = systemctl(*args)
        if rc != 0:
            module.fail_json(msg=f"systemctl {' '.join(args)} failed: {(err or out).strip()}", actions=actions)
        if verb in ("start", "reload", "restart"):
            record(name)
    module.exit_json(changed=True, actions=actions)


if __name__ == "__main__":
    main()
