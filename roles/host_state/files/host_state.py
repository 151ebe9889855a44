"""Say in one call where a host differs from what a role would leave it as.

Reads a JSON description of the wanted state on stdin and prints one JSON object,
{"stale": [...], "parts": [...], "missing": [...], "links": {...}, "resolved": {...},
"probes": {...}}: every difference as "what: why", the parts the differences are in,
the wanted paths that do not exist, where the wanted links that do exist point, the one
match of each glob pattern, and what the role's own probes (below) said. It only reads:
the role's own tasks make the changes, and they run only when this list is not empty.

Wanted state (every key optional):
  files:     [{path, type: file|directory|link|absent, sha1, mode, owner, group, target, part,
              glob}]; with glob: true the path is a pattern that must match exactly one
             path, which then stands for it ("resolved" in the output says which)
  packages:  [names that must be installed]
  services:  [{name, active: bool, enabled: bool, not_older_than: [paths], part}]
  locales:   [names as `locale -a` lists them, e.g. en_US.utf8]
  globs:     [patterns of which at least one path must exist, e.g. a versioned file]
  probes:    [{name, argv, user, stdin}]: read-only commands of the role's own (say, a
             comparison inside a database server) run in the same call, as `user` when
             given (runuser, so the check must run as root), with `stdin` as their input;
             their {rc, stdout, stderr} come back under "probes", by name. They do not
             add to "stale": the role judges their output itself.

`part` names a share of the state that the role can bring in line on its own (the
django role redeploys only the release when nothing else differs); packages, locales,
globs and items without a part are in the part "main".
"""
import glob
import grp
import hashlib
import json
import os
import pwd
import stat
import subprocess
import sys

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


def service_differences(want):
    name = want["name"]
    props = dict(
        line.split("=", 1)
        for line in run(
            ["systemctl", "show", "--timestamp=unix", "-p", "ActiveState,UnitFileState,ActiveEnterTimestamp", name]
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
        started = props.get("ActiveEnterTimestamp", "").lstrip("@")
        mtimes = [os.lstat(path).st_mtime for path in newer if os.path.lexists(path)]
        if not started.isdigit() or (mtimes and max(mtimes) >= int(started)):
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


def main():
    wanted = json.load(sys.stdin)
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
    print(json.dumps({"stale": stale, "parts": sorted(parts), **seen, "probes": probes}))


main()
