#!/usr/bin/env python3
"""`--check --diff` on a fresh host: it must pass, report changes and change nothing.

Usage:
    fresh_check.py --container NAME [--container NAME ...] [--expect LABEL=REGEX ...]
                   [--ignore REGEX ...] [--json FILE] [--output FILE] -- ansible-playbook -i INVENTORY site.yml [ARGS ...]

Each host is a Docker container (NAME; one --container per host of the inventory that
must stay untouched). Before and after the run, one `docker exec` per host records its
state:

- packages: dpkg's list (name, version, status);
- files: every path under /etc /srv /opt /var/www /var/lib /usr/local /home
  /var/backups, with its type and mode, owner, group, size, mtime and link target;
- users and groups: /etc/passwd and /etc/group, line by line;
- units: the unit files' enablement (`systemctl list-unit-files`) and the running
  units (`systemctl list-units --state=running`).

The command gets `--check` and `--diff` added when it lacks them, and then must:
exit 0; show changed > 0 for some host in the recap; show every expected task (by
default: packages, a database and migrations that a run would create; each LABEL names
a REGEX searched in the output); and leave the host's state as it was. Differences are
printed one per line (section, key, before, after). Paths matching an --ignore REGEX are
left out (none by default: be strict, and name each one that a scenario must ignore).

Exit 0 when everything holds, 1 otherwise (every failure is printed), 2 on bad usage.
"""

import argparse
import json
import re
import shlex
import subprocess
import sys

DIRECTORIES = ["/etc", "/srv", "/opt", "/var/www", "/var/lib", "/usr/local", "/home", "/var/backups"]

# What a fresh-host check must say a run would create. The roles' check-mode reports
# (see roles/*/tasks: "a run would install", "would create ... databases", "migrations").
# The callback folds long messages over lines, so words are apart by any white space.
EXPECTED = {
    "packages": r"a\s+run\s+would\s+install\s+[a-z0-9]",
    "database": r"would\s+[\s\S]{0,80}?create\s+the\s+databases\s+\w",
    # Not a task's name: the headers of skipped tasks are printed too.
    "migrations": r"apply\s+the\s+release'+s\s+pending\s+migrations",
}

# One shell script, one `docker exec`: each section starts with a marker line.
SNAPSHOT_SCRIPT = r"""
echo '@@packages'
dpkg-query --show --showformat='${Package}\t${Version}\t${db:Status-Abbrev}\n' 2>/dev/null | sort
echo '@@files'
for d in %(dirs)s; do
  [ -e "$d" ] && find "$d" -printf '%%p\t%%y %%m\t%%u\t%%g\t%%s\t%%T@\t%%l\n' 2>/dev/null
done | sort
echo '@@users'
sort /etc/passwd
echo '@@groups'
sort /etc/group
echo '@@unit-files'
systemctl list-unit-files --no-legend --no-pager 2>/dev/null | awk '{print $1 "\t" $2}' | sort
echo '@@running'
systemctl list-units --state=running --no-legend --no-pager --plain 2>/dev/null | awk '{print $1}' | sort
"""


def snapshot_script(directories=DIRECTORIES):
    return SNAPSHOT_SCRIPT % {"dirs": " ".join(shlex.quote(d) for d in directories)}


def parse_snapshot(text):
    """{section: {key: value}} from the snapshot script's output.

    The key is a line's first tab-separated field (package, path, user, group, unit);
    the value is the rest of the line. Lines outside a section are ignored.
    """
    state = {}
    section = None
    for line in text.splitlines():
        if line.startswith("@@"):
            section = line[2:].strip()
            state[section] = {}
            continue
        if section is None or not line.strip():
            continue
        if section in ("users", "groups"):
            key, _sep, rest = line.partition(":")
        else:
            key, _sep, rest = line.partition("\t")
        state[section][key] = rest
    return state


def compare(before, after, ignore=()):
    """The differences between two parsed snapshots, as (section, key, before, after).

    A key only on one side has None on the other. Keys matching one of the `ignore`
    regular expressions are left out (in every section). Sorted by section and key.
    """
    patterns = [re.compile(p) for p in ignore]
    differences = []
    for section in sorted(set(before) | set(after)):
        old = before.get(section, {})
        new = after.get(section, {})
        for key in sorted(set(old) | set(new)):
            if any(p.search(key) for p in patterns):
                continue
            if old.get(key) != new.get(key):
                differences.append((section, key, old.get(key), new.get(key)))
    return differences


def format_differences(differences):
    lines = []
    for section, key, old, new in differences:
        if old is None:
            lines.append(f"{section}: added {key} ({new})")
        elif new is None:
            lines.append(f"{section}: removed {key} ({old})")
        else:
            lines.append(f"{section}: changed {key}: {old} -> {new}")
    return lines


RECAP = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", re.M)


def parse_recap(output):
    """{host: {ok: n, changed: n, ...}} from the PLAY RECAP of ansible-playbook's output."""
    recap_at = output.rfind("PLAY RECAP")
    if recap_at < 0:
        return {}
    hosts = {}
    for match in RECAP.finditer(output[recap_at:]):
        counts = dict(item.split("=") for item in match.group(2).split())
        hosts[match.group(1)] = {name: int(value) for name, value in counts.items()}
    return hosts


def missing_expectations(output, expected):
    """The labels of `expected` ({label: regex}) whose regex the output does not match."""
    return [label for label, pattern in expected.items() if not re.search(pattern, output, re.I)]


def check_command(command):
    """The ansible-playbook command with --check and --diff, added when missing."""
    command = list(command)
    for flag, short in (("--check", "-C"), ("--diff", "-D")):
        if flag not in command and short not in command:
            command.append(flag)
    return command


def verdict(returncode, output, differences, expected):
    """Every failure of the run, worded; empty when the fresh-host check passes."""
    failures = []
    if returncode != 0:
        failures.append(f"ansible-playbook exited {returncode}")
    recap = parse_recap(output)
    if not recap:
        failures.append("no PLAY RECAP in the output")
    elif not any(counts.get("changed", 0) > 0 for counts in recap.values()):
        failures.append("the recap shows changed=0 on every host: a fresh host must show what a run would change")
    for label in missing_expectations(output, expected):
        failures.append(f"the output never says that a run would create {label} (/{expected[label]}/)")
    if differences:
        failures.append(f"the host changed: {len(differences)} difference(s)")
    return failures


def take_snapshot(container):
    done = subprocess.run(
        ["docker", "exec", container, "sh", "-c", snapshot_script()],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"docker exec {container} failed ({done.returncode}): {done.stderr.strip()}")
    return parse_snapshot(done.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--container", action="append", required=True,
                        help="a Docker container of the run's hosts (repeat for each host)")
    parser.add_argument("--expect", action="append", default=[], metavar="LABEL=REGEX",
                        help="a task the output must show (replaces the defaults when given)")
    parser.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                        help="leave out of the comparison the paths (or other keys) that match")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE")
    parser.add_argument("--output", metavar="FILE",
                        help="write the run's whole output to FILE (it is printed only on failure)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- ansible-playbook ...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the ansible-playbook command after --")
    expected = dict(item.split("=", 1) for item in args.expect) if args.expect else EXPECTED

    before = {name: take_snapshot(name) for name in args.container}
    command = check_command(command)
    print("fresh_check: running", shlex.join(command), flush=True)
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    output = run.stdout + run.stderr
    after = {name: take_snapshot(name) for name in args.container}
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(output)

    differences = [(f"{name} {section}", key, old, new) for name in args.container
                   for section, key, old, new in compare(before[name], after[name], args.ignore)]
    failures = verdict(run.returncode, output, differences, expected)
    recap = parse_recap(output)
    if failures:
        print(output)
    print("fresh_check: recap", json.dumps(recap, sort_keys=True))
    for line in format_differences(differences):
        print("fresh_check: difference:", line)
    sizes = {name: {section: len(keys) for section, keys in sorted(state.items())}
             for name, state in before.items()}
    print("fresh_check: compared", json.dumps(sizes, sort_keys=True))
    for failure in failures:
        print("fresh_check: FAILED:", failure)
    if not failures:
        print("fresh_check: passed (exit 0, changes reported, expected tasks shown, host unchanged)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"returncode": run.returncode, "recap": recap, "failures": failures,
                       "differences": format_differences(differences), "compared": sizes}, handle, indent=2)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
