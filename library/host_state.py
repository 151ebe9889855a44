#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Say in one module run where a host differs from what a role would leave it as."""

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
short_description: Compare a host with what a role would leave behind, in one module run
description:
  - A re-run with nothing new is mostly roles asking "is this file, package, service
    already as I want it?". Each django-stack role describes everything it manages and
    asks this module once; it runs its own tasks only when O(ansible_facts.host_state_stale)
    is not empty. Those tasks still decide, report and diff each change themselves, so
    check mode and C(--diff) work as before.
  - Read-only; runs in check mode too. It never fails for what it finds. A check that
    cannot run reports itself as the one difference, so the role's tasks run as usual.
  - The facts it sets belong to the role that asked last; read them before the next
    role asks.
options:
  wanted_json:
    description:
      - What the role manages, as JSON (the P(ansible.builtin.to_json#filter) filter),
        every key optional.
      - V(files), paths with V(type) (V(file), V(directory), V(link), V(absent)) and
        optionally V(sha1), V(mode), V(owner), V(group), V(target), V(part); with
        V(glob) true the path is a pattern that must match exactly one path. A file may
        be a link to one (as M(stack_files) writes through links); its target is compared.
      - V(packages), names that must be installed (or provided by an installed package).
      - V(services), units with V(active) and V(enabled) flags, V(not_older_than) (paths
        whose change needs a restart) and optionally V(part).
      - V(locales), names that must be generated, as C(locale -a) lists them (en_US.utf8).
      - V(globs), patterns of which at least one path must exist.
      - V(probes), the role's own read-only commands, run in the same call, each with
        V(name), V(argv) (a list), and optionally V(user) (run as, through runuser) and
        V(stdin). They do not add to the differences; the role reads their output.
      - V(part) names a share of the state that the role can bring in line on its own
        (the django role redeploys only the release when nothing else differs);
        packages, locales, globs and items without a part are in the part V(main).
      - One string, kept out of the log (it holds checksums of files with secrets in
        them, and the input of probes that compare passwords).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Compare the host with what this role leaves behind, in one call
  host_state:
    wanted_json: "{{ {'packages': ['apache2'], 'services': [{'name': 'apache2', 'active': true}]} | to_json }}"

- name: Bring the host in line
  ansible.builtin.include_tasks: apply.yml
  when: host_state_stale | length > 0
"""

RETURN = r"""
ansible_facts:
  description: The answer, as facts of the host.
  returned: always
  type: dict
  contains:
    host_state_stale:
      description: Every difference as "what, why"; empty when the host already matches.
      type: list
      elements: str
    host_state_stale_parts:
      description: The parts (see files and services) the differences are in; V(main) for all the rest.
      type: list
      elements: str
    host_state_missing:
      description: The wanted paths that do not exist; null when the check could not run.
      type: list
      elements: str
    host_state_links:
      description: Where each wanted path that is a link points; null when the check could not run.
      type: dict
    host_state_resolved:
      description: The one match of each glob pattern in files; null when the check could not run.
      type: dict
    host_state_probes:
      description: Each probe's C(rc), C(stdout) and C(stderr), by name; empty when the check could not run.
      type: dict
"""

import datetime
import glob
import grp
import hashlib
import json
import os
import pwd
import stat
import subprocess

from ansible.module_utils.basic import AnsibleModule

TYPES = {"file": stat.S_ISREG, "directory": stat.S_ISDIR, "link": stat.S_ISLNK}


def run(argv):
    """Output of a read-only command, or '' when it cannot run."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


def name_of(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def file_differences(want, seen):
    if want.get("glob"):
        matches = sorted(glob.glob(want["path"]))
        if len(matches) != 1:
            return [f"{want['path']}: {len(matches)} matches, not one"]
        seen["resolved"][want["path"]] = matches[0]
        want = dict(want, path=matches[0], glob=False)
    path, kind = want["path"], want.get("type", "file")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        seen["missing"].append(path)
        return [] if kind == "absent" else [f"{path}: missing"]
    if stat.S_ISLNK(st.st_mode):
        seen["links"][path] = os.readlink(path)
    if kind == "absent":
        return [f"{path}: present"]
    if kind == "file" and stat.S_ISLNK(st.st_mode):
        # stack_files writes a file through a link (Debian 13's /etc/default/locale
        # points to /etc/locale.conf), so the link's target is what is compared.
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return [f"{path}: links to nothing"]
    if not TYPES[kind](st.st_mode):
        return [f"{path}: not a {kind}"]
    found = []
    if kind == "link":
        if want.get("target") and os.readlink(path) != want["target"]:
            found.append(f"{path}: points elsewhere")
        return found
    if "mode" in want and "%04o" % stat.S_IMODE(st.st_mode) != want["mode"]:
        found.append(f"{path}: mode {stat.S_IMODE(st.st_mode):04o}, not {want['mode']}")
    if "owner" in want and name_of(pwd.getpwuid, st.st_uid) != want["owner"]:
        found.append(f"{path}: owner is not {want['owner']}")
    if "group" in want and name_of(grp.getgrgid, st.st_gid) != want["group"]:
        found.append(f"{path}: group is not {want['group']}")
    if "sha1" in want:
        with open(path, "rb") as handle:
            if hashlib.sha1(handle.read()).hexdigest() != want["sha1"]:
                found.append(f"{path}: content differs")
    return found


def package_differences(names):
    """Names neither installed nor provided by an installed package (a virtual one,
    like postgresql-contrib on Debian 13, which apt takes as installed)."""
    if not names:
        return []
    out = run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}|${Provides}\n"])
    available = set()
    for line in out.splitlines():
        head, _, provides = line.partition("|")
        if head.split()[1:2] != ["ii"]:
            continue
        available.add(head.split()[0].split(":")[0])
        available.update(item.split()[0] for item in provides.split(",") if item.strip())
    return [f"package {name}: not installed" for name in names if name not in available]


def start_time(stamp):
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


def service_differences(want):
    name = want["name"]
    props = dict(
        line.split("=", 1)
        for line in run(
            ["systemctl", "show", "--timestamp=us+utc", "-p", "ActiveState,UnitFileState,ActiveEnterTimestamp", name]
        ).splitlines()
        if "=" in line
    )
    found = []
    if want.get("active") and props.get("ActiveState") != "active":
        found.append(f"service {name}: not running")
    if want.get("enabled") and props.get("UnitFileState") != "enabled":
        found.append(f"service {name}: not enabled at boot")
    newer = want.get("not_older_than") or []
    if newer and not found:
        # A service started before its settings changed still runs the old ones.
        started = start_time(props.get("ActiveEnterTimestamp", ""))
        mtimes = [os.lstat(path).st_mtime for path in newer if os.path.lexists(path)]
        if started is None or (mtimes and max(mtimes) >= started):
            found.append(f"service {name}: started before its settings or code changed")
    return found


def locale_differences(names):
    available = set(run(["locale", "-a"]).split())
    return [f"locale {name}: not generated" for name in names if name not in available]


def probe(item):
    """Run one of the role's own read-only commands; its rc, stdout and stderr."""
    argv = item["argv"]
    if item.get("user"):
        argv = ["runuser", "-u", item["user"], "--"] + argv
    try:
        # From /, which any user may enter (not root's home).
        done = subprocess.run(
            argv, input=item.get("stdin", ""), capture_output=True, text=True, check=False, cwd="/"
        )
    except OSError as error:
        return {"rc": 127, "stdout": "", "stderr": str(error)}
    return {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def compare(wanted):
    stale, parts = [], set()
    seen = {"missing": [], "links": {}, "resolved": {}}

    def note(found, part="main"):
        stale.extend(found)
        if found:
            parts.add(part or "main")

    for item in wanted.get("files", []):
        note(file_differences(item, seen), item.get("part"))
    note(package_differences(wanted.get("packages", [])))
    for item in wanted.get("services", []):
        note(service_differences(item), item.get("part"))
    note(locale_differences(wanted.get("locales", [])))
    note([f"{pattern}: nothing matches" for pattern in wanted.get("globs", []) if not glob.glob(pattern)])
    probes = {item["name"]: probe(item) for item in wanted.get("probes", [])}
    return {
        "host_state_stale": stale,
        "host_state_stale_parts": sorted(parts),
        "host_state_missing": seen["missing"],
        "host_state_links": seen["links"],
        "host_state_resolved": seen["resolved"],
        "host_state_probes": probes,
    }


def main():
    module = AnsibleModule(
        argument_spec={"wanted_json": {"type": "str", "required": True, "no_log": True}},
        supports_check_mode=True,
    )
    try:
        facts = compare(json.loads(module.params["wanted_json"]))
    except Exception as error:  # pylint: disable=broad-exception-caught
        # Whatever went wrong, the role's own tasks then run as if everything differed.
        facts = {
            "host_state_stale": [f"the state check failed: {type(error).__name__}: {error}"],
            "host_state_stale_parts": ["main"],
            "host_state_missing": None,
            "host_state_links": None,
            "host_state_resolved": None,
            "host_state_probes": {},
        }
    module.exit_json(changed=False, ansible_facts=facts)


if __name__ == "__main__":
    main()
