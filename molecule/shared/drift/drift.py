#!/usr/bin/env python3
"""Put a host out of step with what its roles manage, then check that a run repaired it.

Usage (as root on the host): drift.py break|check < manifest.json

The manifest is this host's part of what the stack_manifest callback recorded from a
run of site.yml: files, directories and links, packages, services and users, each
with the role that manages it. Nothing here is picked by hand.

`break` changes, for every role:
  - every file: one byte of content more (an empty line at the end), another mode, and
    another owner (nobody) where the role sets them;
  - every directory: another mode; every link: another target; every path that must
    be absent: an empty file there;
  - one package per role that apt can remove alone (nothing else depends on it;
    never the ones Ansible itself needs on the host): removed;
  - every user with a shell or home: another shell and home;
  - every service: disabled at boot when it was enabled, and either stopped or (every
    other one) running older settings than its files (the first config file touched).
`check` reports every managed thing that is not as the manifest says. Both print one
JSON object; `check` exits 1 when anything differs.
"""

import datetime
import glob
import grp
import json
import os
import pwd
import stat
import subprocess
import sys
import time

# What Ansible's own connection, become and apt module need on the host: removing them
# tests Ansible, not the roles.
PROTECTED_PREFIXES = ("python3", "apt", "sudo", "acl", "systemd", "libc", "dpkg", "openssh")
DRIFT_LINK = "/nonexistent-drift-target"
RECORD_DIR = "/var/lib/django-stack/applied"


def run(*argv):
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    return done.returncode, done.stdout


def all_paths(manifest):
    """Every managed path with its wanted state, files from stack_files and from file/copy/template."""
    return [dict(item, state=item.get("state") or "file") for item in manifest.get("files", []) + manifest.get("paths", [])]


def other_mode(mode):
    return "0600" if mode != "0600" else "0644"


def other_dir_mode(mode):
    return "0700" if mode != "0700" else "0755"


def break_path(item):
    path, state = item["path"], item["state"]
    done = []
    if state == "absent":
        # Empty, as a package's leftover may be: a file there that the owning role's
        # service cannot even read would fail a run before that role removes it.
        if os.path.isdir(os.path.dirname(path)) and not os.path.lexists(path):
            open(path, "w", encoding="utf-8").close()
            done.append(f"{path}: created (must be absent)")
        return done
    if state == "link":
        if os.path.islink(path):
            os.unlink(path)
            os.symlink(DRIFT_LINK, path)
            done.append(f"{path}: points to {DRIFT_LINK}")
        return done
    if not os.path.exists(path):
        return done
    if state == "file" and os.path.isfile(path):
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("\n")
        done.append(f"{path}: content changed")
    if item.get("mode"):
        new = other_dir_mode(item["mode"]) if state == "directory" else other_mode(item["mode"])
        os.chmod(path, int(new, 8))
        done.append(f"{path}: mode {new}")
    if item.get("owner") and state == "file":
        os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
        done.append(f"{path}: owner nobody")
    return done


def removable_alone(name):
    """Whether apt would remove this package and nothing else."""
    if name.startswith(PROTECTED_PREFIXES):
        return False
    rc, out = run("dpkg-query", "-W", "-f", "${db:Status-Abbrev}", name)
    if rc != 0 or not out.startswith("ii"):
        return False
    rc, out = run("apt-get", "-s", "remove", name)
    removed = [line.split()[1] for line in out.splitlines() if line.startswith("Remv ")]
    return rc == 0 and removed == [name]


def break_packages(packages):
    done, roles_done = [], set()
    for item in packages:
        if item["role"] in roles_done or not removable_alone(item["name"]):
            continue
        rc, out = run("apt-get", "remove", "-y", item["name"])
        if rc == 0:
            roles_done.add(item["role"])
            done.append(f"package {item['name']} ({item['role']}): removed")
    return done


def break_user(item):
    done = []
    if item.get("shell"):
        new = "/bin/sh" if item["shell"] != "/bin/sh" else "/bin/bash"
        run("usermod", "-s", new, item["name"])
        done.append(f"user {item['name']}: shell {new}")
    if item.get("home"):
        run("usermod", "-d", "/nonexistent-drift-home", item["name"])
        done.append(f"user {item['name']}: home /nonexistent-drift-home")
    return done


def config_paths(item):
    paths = []
    for pattern in item.get("config") or []:
        paths.extend(sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern])
    return [path for path in paths if os.path.lexists(path)]


def break_service(item, index):
    name, done = item["name"], []
    rc, out = run("systemctl", "is-enabled", name)
    if item.get("enabled") and out.strip() == "enabled":
        run("systemctl", "disable", name)
        done.append(f"service {name}: disabled")
    paths = config_paths(item)
    if index % 2 == 1 and paths:
        time.sleep(0.01)
        os.utime(paths[0], follow_symlinks=False)
        done.append(f"service {name}: runs older settings than {paths[0]}")
    else:
        run("systemctl", "stop", name)
        done.append(f"service {name}: stopped")
    return done


def drift(manifest):
    done = []
    for item in all_paths(manifest):
        done += break_path(item)
    done += break_packages(manifest.get("packages", []))
    for item in manifest.get("users", []):
        done += break_user(item)
    for index, item in enumerate(manifest.get("services", [])):
        done += break_service(item, index)
    return done


def path_differences(item):
    path, state = item["path"], item["state"]
    if state == "absent":
        return [f"{path}: present"] if os.path.lexists(path) else []
    if not os.path.lexists(path):
        return [f"{path}: missing"]
    if state == "link":
        if not os.path.islink(path):
            return [f"{path}: not a link"]
        return [] if not item.get("src") or os.readlink(path) == item["src"] else [f"{path}: points to {os.readlink(path)}"]
    found = []
    st = os.stat(path)
    if state == "directory" and not stat.S_ISDIR(st.st_mode):
        found.append(f"{path}: not a directory")
    if state == "file" and item.get("content") is not None:
        with open(path, encoding="utf-8") as handle:
            if handle.read() != item["content"]:
                found.append(f"{path}: content differs")
    if item.get("mode") and "%04o" % stat.S_IMODE(st.st_mode) != item["mode"]:
        found.append(f"{path}: mode {stat.S_IMODE(st.st_mode):04o}, not {item['mode']}")
    if item.get("owner") and pwd.getpwuid(st.st_uid).pw_name != item["owner"]:
        found.append(f"{path}: owner {pwd.getpwuid(st.st_uid).pw_name}, not {item['owner']}")
    if item.get("group") and grp.getgrgid(st.st_gid).gr_name != item["group"]:
        found.append(f"{path}: group {grp.getgrgid(st.st_gid).gr_name}, not {item['group']}")
    return found


def timestamp(stamp):
    try:
        when = datetime.datetime.strptime(stamp.split(" ", 1)[1], "%Y-%m-%d %H:%M:%S.%f UTC")
    except (IndexError, ValueError):
        return None
    return when.replace(tzinfo=datetime.timezone.utc).timestamp()


def service_differences(item):
    name = item["name"]
    _rc, out = run("systemctl", "show", "--timestamp=us+utc", "-p",
                   "ActiveState,UnitFileState,ActiveEnterTimestamp", "--", name)
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    found = []
    if props.get("ActiveState") != "active":
        found.append(f"service {name}: {props.get('ActiveState')}")
    if item.get("enabled") and props.get("UnitFileState") == "disabled":
        found.append(f"service {name}: disabled")
    applied = [timestamp(props.get("ActiveEnterTimestamp", ""))]
    record = os.path.join(RECORD_DIR, name.replace("/", "_"))
    if os.path.exists(record):
        applied.append(os.stat(record).st_mtime_ns / 1e9)
    applied = max([t for t in applied if t is not None], default=None)
    for path in config_paths(item):
        changed = max(os.lstat(path).st_mtime_ns, os.stat(path).st_mtime_ns if os.path.exists(path) else 0) / 1e9
        if applied is None or changed > applied:
            found.append(f"service {name}: runs older settings than {path}")
    return found


def user_differences(item):
    try:
        entry = pwd.getpwnam(item["name"])
    except KeyError:
        return [f"user {item['name']}: missing"]
    found = []
    if item.get("shell") and entry.pw_shell != item["shell"]:
        found.append(f"user {item['name']}: shell {entry.pw_shell}, not {item['shell']}")
    if item.get("home") and entry.pw_dir != item["home"]:
        found.append(f"user {item['name']}: home {entry.pw_dir}, not {item['home']}")
    return found


def package_differences(packages):
    _rc, out = run("dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}|${Provides}\n")
    installed = set()
    for line in out.splitlines():
        head, _, provides = line.partition("|")
        if head.split()[1:2] == ["ii"]:
            installed.add(head.split()[0].split(":")[0])
            installed.update(part.split()[0] for part in provides.split(",") if part.strip())
    return [f"package {item['name']}: not installed" for item in packages if item["name"] not in installed]


def differences(manifest):
    found = []
    for item in all_paths(manifest):
        found += path_differences(item)
    found += package_differences(manifest.get("packages", []))
    for item in manifest.get("users", []):
        found += user_differences(item)
    for item in manifest.get("services", []):
        found += service_differences(item)
    return found


def main(argv):
    manifest = json.load(sys.stdin)
    counts = {kind: len(manifest.get(kind, [])) for kind in ("files", "paths", "packages", "services", "users")}
    if argv[1:] == ["break"]:
        print(json.dumps({"managed": counts, "hidden": manifest.get("hidden", 0), "broken": drift(manifest)}))
        return 0
    if argv[1:] == ["check"]:
        found = differences(manifest)
        print(json.dumps({"managed": counts, "differences": found}))
        return 1 if found else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
