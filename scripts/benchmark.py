#!/usr/bin/env python3
"""Benchmark the whole stack's runs against Ansible's own floor.

For each database engine, on a fresh local container (the demo's systemd settings,
no published ports), this runs site.yml as a user would and times every run:

  1. a fresh converge, split into package installation (tasks whose action is apt,
     pip or package) and everything else;
  2. RUNS floor runs (scripts/benchmark/floor.yml: gather facts and ping), each one
     right before one of RUNS no-op re-runs of site.yml;
  3. RUNS deploys through playbooks/deploy.yml (the day-to-day deploy) that each bring
     exactly one new migration (a nullable field on books.Author and its migration, in
     a copy of django_app/ deployed with django_source: local), checked afterwards with
     `bin/manage showmigrations`.

It prints a table of medians and of their ratios to the floor, beside the targets
(no-op at most 8x the floor, deploy at most 10x, everything but package installation
at most 30% of a fresh converge), with the no-op's and the deploy's time split into
the tasks that ran a module on the host and those that stayed on the control node (a
target below the module runs' own ratio cannot be met by trimming the others), then
the slowest tasks of the median no-op run. The
same data, with every run's time and changed count, goes to a JSON file. The targets
are reported, never asserted: the exit status is non-zero only when a run fails
(a failed task, a deploy whose migration is not applied) or the set-up does.

Run it with the control node's virtualenv after `make demo`'s set-up (or use
`make benchmark ARGS="..."`, which does that set-up first):

  .venv/bin/python scripts/benchmark.py [--engines postgresql,mysql] [--runs 3]
                                        [--debian 12|13] [--keep] [--output FILE]

  --engines  database engines to benchmark, comma- or space-separated
             (default: postgresql mysql)
  --runs     floor runs, no-op re-runs and one-migration deploys per engine (default 3)
  --debian   Debian release of the containers, 12 or 13 (default 12); the image
             django-stack/debian:RELEASE must exist (scripts/build-test-images.sh)
  --keep     keep the containers, their networks and the temporary inventory and
             project copy at the end (default: remove them)
  --output   JSON file to write (default:
             benchmark-results/benchmark-<UTC timestamp>.json in the repository);
             each run's Ansible output and per-task timings go beside it, in a
             directory named like the file with "-logs" instead of ".json"

Containers and networks are named django-stack-bench-<engine>; a stale one of that
name is removed first. Generated secrets land in the temporary inventory's
.credentials/ and vanish with it.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HELPERS = REPO / "scripts" / "benchmark"
VENV_BIN = REPO / ".venv" / "bin"
SITE_PLAYBOOK = REPO / "site.yml"
DEPLOY_PLAYBOOK = REPO / "playbooks" / "deploy.yml"
FLOOR_PLAYBOOK = HELPERS / "floor.yml"
CALLBACK_DIR = HELPERS / "callback_plugins"
CALLBACK_NAME = "bench_tasks"
LOCAL_GROUP_VARS = REPO / "inventory" / "local" / "group_vars" / "all" / "main.yml"

ENGINES = ("postgresql", "mysql")
DEBIAN_RELEASES = ("12", "13")
NAME_PREFIX = "django-stack-bench-"
IMAGE = "django-stack/debian"

# The targets of the issue, as multiples of the floor and as a share of a converge.
TARGET_NOOP_RATIO = 8.0
TARGET_DEPLOY_RATIO = 10.0
TARGET_OTHER_SHARE = 30.0

# Task actions that count as package installation (short names; FQCNs end in them).
PACKAGE_ACTIONS = ("apt", "pip", "package")

# Task actions that never start a module on the host (short names): they run on the
# control node alone, as does every skipped task. Every other task that ran did start
# one, so the split shows how much of a run the module runs alone cost.
CONTROL_NODE_ACTIONS = (
    "add_host", "assert", "debug", "fail", "group_by", "import_role", "import_tasks",
    "include_role", "include_tasks", "include_vars", "meta", "set_fact", "set_stats",
    "validate_argument_spec",
)

# The django role's defaults (django_app_name: bookstore), which the benchmark keeps.
APP_ROOT = "/srv/bookstore"
APP_USER = "bookstore"

# Variables the benchmark's inventory sets itself; the demo inventory's own values for
# them are left out.
BENCH_VARS = ("stack_db_engine", "django_source", "django_source_dir")

# The systemd settings of scripts/demo.sh (and the Molecule platforms), without ports.
# fmt: off
SYSTEMD_RUN_FLAGS = [
    "--cap-add", "SYS_ADMIN",
    "--security-opt", "seccomp=unconfined",
    "--security-opt", "apparmor=unconfined",
    "--cgroupns", "host",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
]
# fmt: on

SLOWEST_SHOWN = 10

RECAP_LINE = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+"
    r"rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)"
)

MIGRATION_TEMPLATE = """\
# Generated by scripts/benchmark.py on {date}, in the form makemigrations writes

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('books', '{previous}'),
    ]

    operations = [
        migrations.AddField(
            model_name='author',
            name='{field}',
            field=models.IntegerField(blank=True, null=True),
        ),
    ]
"""


class BenchError(Exception):
    """A set-up step or a run failed; the message says which and where to look."""


def say(message):
    """Print a progress line at once."""
    print(message, flush=True)


# --- Options -------------------------------------------------------------------------


def parse_args(argv):
    """Read and check the command line; exits with a clear message when it is wrong."""
    parser = argparse.ArgumentParser(
        prog="scripts/benchmark.py",
        description="Benchmark site.yml (fresh converge, no-op re-runs, one-migration deploys) "
        "against Ansible's floor (gather facts and ping), per database engine.",
    )
    parser.add_argument(
        "--engines",
        nargs="+",
        default=list(ENGINES),
        metavar="ENGINE",
        help="database engines, comma- or space-separated: postgresql, mysql (default: both)",
    )
    parser.add_argument(
        "--runs",
        default="3",
        metavar="N",
        help="floor runs, no-op re-runs and one-migration deploys per engine (default 3)",
    )
    parser.add_argument(
        "--debian",
        default="12",
        metavar="RELEASE",
        help="Debian release of the containers: 12 or 13 (default 12)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the containers, networks and temporary files at the end",
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="JSON file to write (default: benchmark-results/benchmark-<UTC timestamp>.json)",
    )
    args = parser.parse_args(argv)

    engines = []
    for value in args.engines:
        for engine in value.split(","):
            engine = engine.strip()
            if not engine:
                continue
            if engine not in ENGINES:
                parser.error(f"unknown engine '{engine}' (expected {' or '.join(ENGINES)})")
            if engine not in engines:
                engines.append(engine)
    if not engines:
        parser.error("--engines needs at least one engine")
    args.engines = engines

    if not re.fullmatch(r"[0-9]+", args.runs) or int(args.runs) < 1:
        parser.error(f"--runs must be a whole number of at least 1 (got '{args.runs}')")
    args.runs = int(args.runs)

    if args.debian not in DEBIAN_RELEASES:
        parser.error(f"--debian must be {' or '.join(DEBIAN_RELEASES)} (got '{args.debian}')")

    if args.output:
        args.output = Path(args.output).resolve()
        if args.output.is_dir():
            parser.error(f"--output '{args.output}' is a directory; give a file name")
    return args


# --- Commands and the environment ------------------------------------------------------


def run(argv, check=True):
    """Run a command, capturing its output; raise BenchError when check and it fails."""
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise BenchError(
            f"command failed ({result.returncode}): {' '.join(argv)}\n"
            f"{(result.stderr or result.stdout).strip()}"
        )
    return result


def ansible_playbook_path():
    """The virtualenv's ansible-playbook (or the one on PATH)."""
    candidate = VENV_BIN / "ansible-playbook"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ansible-playbook")
    if found:
        return found
    raise BenchError(
        "ansible-playbook not found: run scripts/setup-control-node.sh (or make setup) first"
    )


def check_prerequisites(debian):
    """Stop early, with what to run, when Docker, the image or Ansible is missing."""
    ansible_playbook_path()
    if shutil.which("docker") is None:
        raise BenchError("docker not found: run scripts/docker-engine.sh ensure first")
    if run(["docker", "info"], check=False).returncode != 0:
        raise BenchError("no Docker engine answers: run scripts/docker-engine.sh ensure first")
    image = f"{IMAGE}:{debian}"
    if run(["docker", "image", "inspect", image], check=False).returncode != 0:
        raise BenchError(
            f"the image {image} is missing: run scripts/build-test-images.sh {debian} first"
        )


def ansible_environment(task_log):
    """The environment of the benchmark's Ansible runs: the repository's ansible.cfg, no
    colours, and the per-task callback writing to task_log."""
    env = dict(os.environ)
    env.pop("ANSIBLE_FORCE_COLOR", None)
    env.update(
        {
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "NO_COLOR": "1",
            "PY_COLORS": "0",
            "ANSIBLE_NOCOLOR": "1",
            "BENCH_TASK_LOG": str(task_log),
        }
    )
    plugin_dirs = [str(CALLBACK_DIR)] + [
        d for d in env.get("ANSIBLE_CALLBACK_PLUGINS", "").split(os.pathsep) if d
    ]
    env["ANSIBLE_CALLBACK_PLUGINS"] = os.pathsep.join(plugin_dirs)
    enabled = [CALLBACK_NAME] + [
        c for c in env.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if c.strip()
    ]
    env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join(enabled)
    if VENV_BIN.is_dir():
        env["PATH"] = str(VENV_BIN) + os.pathsep + env.get("PATH", "")
        env["VIRTUAL_ENV"] = str(VENV_BIN.parent)
    return env


def ansible_version():
    """The first line of `ansible-playbook --version`."""
    result = run([ansible_playbook_path(), "--version"], check=False)
    return result.stdout.splitlines()[0] if result.stdout else "unknown"


def git_state():
    """The repository's commit and whether tracked files differ from it."""
    commit = run(["git", "-C", str(REPO), "rev-parse", "HEAD"], check=False).stdout.strip()
    status = run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"], check=False
    )
    return {"commit": commit or "unknown", "tracked_changes": bool(status.stdout.strip())}


def machine_state():
    """CPU count and load average of this machine, now."""
    return {
        "nproc": (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ),
        "loadavg": [round(value, 2) for value in os.getloadavg()],
    }


# --- The container ---------------------------------------------------------------------


def docker_exists(kind, name):
    """Whether a Docker container or network of that name exists."""
    return run(["docker", kind, "inspect", name], check=False).returncode == 0


def remove_host(name):
    """Remove the benchmark's container and network of that name, if they exist."""
    if docker_exists("container", name):
        run(["docker", "rm", "-f", name])
    if docker_exists("network", name):
        run(["docker", "network", "rm", name])


def wait_for_systemd(name, timeout=90):
    """Wait until systemd in the container has finished starting up."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        result = run(["docker", "exec", name, "systemctl", "is-system-running"], check=False)
        state = result.stdout.strip()
        if state in ("running", "degraded"):
            return state
        time.sleep(1)
    raise BenchError(
        f"systemd in {name} did not finish starting within {timeout} s (state: '{state}')"
    )


def create_host(name, debian):
    """A fresh systemd container on its own network, as scripts/demo.sh makes (no ports)."""
    remove_host(name)
    run(["docker", "network", "create", name])
    run(
        ["docker", "run", "-d", "--name", name, "--hostname", name, "--network", name]
        + SYSTEMD_RUN_FLAGS
        + [f"{IMAGE}:{debian}"]
    )
    return wait_for_systemd(name)


# --- The inventory and the project copy ------------------------------------------------


def copy_project(workdir):
    """An unchanged copy of django_app/ to deploy with django_source: local."""
    target = workdir / "django_app"
    shutil.copytree(
        REPO / "django_app",
        target,
        ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", ".pytest_cache", ".venv", "db.sqlite3"
        ),
    )
    return target


def local_group_vars():
    """The settings of the demo inventory's group_vars/all/main.yml, without the
    variables the benchmark sets itself, its comments and its document start."""
    lines = []
    for line in LOCAL_GROUP_VARS.read_text(encoding="utf-8").splitlines():
        if line.strip() in ("---", "") or line.lstrip().startswith("#"):
            continue
        if any(line.startswith(f"{name}:") for name in BENCH_VARS):
            continue
        lines.append(line)
    return "\n".join(lines).strip("\n")


def write_inventory(workdir, host, engine, project_dir):
    """The temporary inventory: the container in every group, like inventory/local."""
    inventory = workdir / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    hosts = "\n".join(
        [
            "---",
            "# Written by scripts/benchmark.py: the benchmark's container, like inventory/local.",
            "all:",
            "  children:",
        ]
        + [
            f"    {group}:\n      hosts:\n        {host}:"
            for group in ("dbservers", "webservers", "appservers")
        ]
        + [
            "  vars:",
            "    ansible_connection: community.docker.docker",
            "    ansible_python_interpreter: /usr/bin/python3",
        ]
    )
    (inventory / "hosts.yml").write_text(hosts + "\n", encoding="utf-8")
    group_vars = "\n".join(
        [
            "---",
            "# Written by scripts/benchmark.py: the settings of inventory/local/group_vars/all,",
            "# then the benchmark's own.",
            local_group_vars(),
            f"stack_db_engine: {engine}",
            "django_source: local",
            f"django_source_dir: {json.dumps(str(project_dir))}",
            # The copy has the bundled project's health URL; a local source has none by default.
            "django_health_path: /health/",
        ]
    )
    (inventory / "group_vars" / "all" / "main.yml").write_text(group_vars + "\n", encoding="utf-8")
    return inventory / "hosts.yml"


# --- One new migration -----------------------------------------------------------------


def latest_migration(migrations_dir):
    """The name of the newest migration of the books app (a linear history is assumed)."""
    numbered = sorted(
        (int(path.name[:4]), path.stem) for path in migrations_dir.glob("[0-9][0-9][0-9][0-9]_*.py")
    )
    if not numbered:
        raise BenchError(f"no migration found in {migrations_dir}")
    newest_number = numbered[-1][0]
    newest = [stem for number, stem in numbered if number == newest_number]
    if len(newest) > 1:
        raise BenchError(f"two newest migrations in {migrations_dir}: {', '.join(newest)}")
    return newest_number, newest[0]


def add_migration(project_dir, k):
    """Add the nullable field bench_<k> to books.Author and its migration; return the
    migration's name (e.g. 0002_bench_1)."""
    field = f"bench_{k}"
    models_path = project_dir / "books" / "models.py"
    migrations_dir = project_dir / "books" / "migrations"

    text = models_path.read_text(encoding="utf-8")
    fields = re.search(
        r"^class Author\(models\.Model\):\n(?:    \w+ = models\.[^\n]*\n)+", text, re.MULTILINE
    )
    if fields is None:
        raise BenchError(f"cannot find the fields of class Author in {models_path}")
    field_line = f"    {field} = models.IntegerField(null=True, blank=True)\n"
    models_path.write_text(
        text[: fields.end()] + field_line + text[fields.end() :], encoding="utf-8"
    )

    number, previous = latest_migration(migrations_dir)
    name = f"{number + 1:04d}_{field}"
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    (migrations_dir / f"{name}.py").write_text(
        MIGRATION_TEMPLATE.format(date=date, previous=previous, field=field), encoding="utf-8"
    )
    return name


def migration_applied(container, name):
    """Whether showmigrations on the host lists the migration as applied and nothing as
    pending; returns (applied, output)."""
    result = run(
        [
            "docker",
            "exec",
            container,
            "sudo",
            "-u",
            APP_USER,
            f"{APP_ROOT}/bin/manage",
            "showmigrations",
            "books",
        ],
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    marks = dict(
        (match.group(2), match.group(1))
        for match in re.finditer(r"^\s*\[(X| )\]\s+(\S+)", result.stdout, re.MULTILINE)
    )
    applied = result.returncode == 0 and marks.get(name) == "X" and " " not in marks.values()
    return applied, output


# --- Runs ------------------------------------------------------------------------------


def parse_recap(output):
    """The PLAY RECAP numbers, summed over hosts; None when there is no recap."""
    if "PLAY RECAP" not in output:
        return None
    totals = None
    for line in output.split("PLAY RECAP", 1)[1].splitlines():
        match = RECAP_LINE.match(line.strip())
        if match:
            numbers = {key: int(value) for key, value in match.groupdict().items() if key != "host"}
            if totals is None:
                totals = numbers
            else:
                totals = {key: totals[key] + numbers[key] for key in totals}
    return totals


def read_tasks(task_log):
    """The callback's task lines of one run."""
    if not task_log.exists():
        return []
    tasks = []
    for line in task_log.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("event") == "task":
            tasks.append(record)
    return tasks


def tail(path, lines=25):
    """The last lines of a log file, indented."""
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join("    " + line for line in text[-lines:])


def run_playbook(playbook, inventory, log_dir, label):
    """Run one playbook, timed wall-clock; return the run's record (time, recap, tasks).
    Raises BenchError when it fails."""
    log = log_dir / f"{label}.log"
    task_log = log_dir / f"{label}.tasks.jsonl"
    task_log.unlink(missing_ok=True)
    argv = [ansible_playbook_path(), "-i", str(inventory), str(playbook)]
    with open(log, "w", encoding="utf-8") as output:
        started = time.monotonic()
        result = subprocess.run(
            argv,
            cwd=REPO,
            env=ansible_environment(task_log),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        seconds = time.monotonic() - started
    recap = parse_recap(log.read_text(encoding="utf-8", errors="replace"))
    tasks = read_tasks(task_log)
    record = {
        "label": label,
        "seconds": round(seconds, 2),
        "returncode": result.returncode,
        "changed": recap["changed"] if recap else None,
        "recap": recap,
        "task_seconds": round(sum(task["duration"] for task in tasks), 2),
        **split_by_place(tasks),
        "slowest_tasks": slowest(tasks, SLOWEST_SHOWN),
        "log": str(log),
        "task_log": str(task_log),
    }
    failed = result.returncode != 0 or recap is None or recap["failed"] or recap["unreachable"]
    if failed:
        raise BenchError(
            f"{label} failed (exit status {result.returncode}); log: {log}\n{tail(log)}"
        )
    if not tasks:
        raise BenchError(
            f"{label}: the {CALLBACK_NAME} callback wrote no task timings to {task_log}"
        )
    return record, tasks


def slowest(tasks, count):
    """The slowest task results, slowest first, as short records."""
    ordered = sorted(tasks, key=lambda task: task["duration"], reverse=True)[:count]
    return [
        {
            "seconds": task["duration"],
            "role": task["role"],
            "task": task["task"],
            "action": task["action"],
            "status": task["status"],
        }
        for task in ordered
    ]


def is_package_task(task):
    """Whether a task installs packages: action apt, pip or package (FQCN or short)."""
    return task["action"].rsplit(".", 1)[-1] in PACKAGE_ACTIONS


def runs_a_module(task):
    """Whether a task started a module on the host: it ran, and its action is not one of
    those that stay on the control node."""
    return task["status"] != "skipped" and task["action"].rsplit(".", 1)[-1] not in CONTROL_NODE_ACTIONS


def split_by_place(tasks):
    """A run's task time split into the tasks that ran a module on the host and those
    that stayed on the control node: counts and seconds."""
    modules = [task for task in tasks if runs_a_module(task)]
    control = [task for task in tasks if not runs_a_module(task)]
    return {
        "module_tasks": len(modules),
        "module_seconds": round(sum(task["duration"] for task in modules), 2),
        "control_node_tasks": len(control),
        "control_node_seconds": round(sum(task["duration"] for task in control), 2),
    }


def split_converge(record, tasks):
    """Split a fresh converge into package installation and everything else."""
    wall = record["seconds"]
    task_total = sum(task["duration"] for task in tasks)
    package_tasks = [task for task in tasks if is_package_task(task)]
    package = sum(task["duration"] for task in package_tasks)
    other = wall - package
    return {
        "seconds": wall,
        "task_seconds": round(task_total, 2),
        "package_seconds": round(package, 2),
        "other_seconds": round(other, 2),
        "other_task_seconds": round(task_total - package, 2),
        "outside_tasks_seconds": round(wall - task_total, 2),
        "package_percent_of_wall": percent(package, wall),
        "other_percent_of_wall": percent(other, wall),
        "package_percent_of_task_time": percent(package, task_total),
        "other_percent_of_task_time": percent(task_total - package, task_total),
        "target_other_percent": TARGET_OTHER_SHARE,
        "within_target": percent(other, wall) <= TARGET_OTHER_SHARE,
        "package_tasks": slowest(package_tasks, len(package_tasks)),
        "slowest_other_tasks": slowest([task for task in tasks if not is_package_task(task)], 5),
    }


def percent(part, whole):
    """part as a percentage of whole, rounded to one decimal."""
    return round(100.0 * part / whole, 1) if whole else 0.0


def median_run(runs):
    """The run whose time is the median (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda run_record: run_record["seconds"])
    return ordered[(len(ordered) - 1) // 2]


def series(runs, floor_median=None, target=None):
    """Medians and the ratio to the floor of a series of runs."""
    median = round(statistics.median(run_record["seconds"] for run_record in runs), 2)
    summary = {
        "runs": runs,
        "seconds": [run_record["seconds"] for run_record in runs],
        "changed": [run_record["changed"] for run_record in runs],
        "median_seconds": median,
    }
    if floor_median:
        ratio = round(median / floor_median, 2)
        summary.update(
            {"ratio_to_floor": ratio, "target_ratio": target, "within_target": ratio <= target}
        )
    if runs and all("module_seconds" in run_record for run_record in runs):
        # The module runs alone, before any task that stays on the control node: a
        # target below their ratio cannot be met by trimming the other tasks.
        modules = round(statistics.median(run_record["module_seconds"] for run_record in runs), 2)
        summary.update(
            {
                "module_tasks": [run_record["module_tasks"] for run_record in runs],
                "module_median_seconds": modules,
                "control_node_tasks": [run_record["control_node_tasks"] for run_record in runs],
                "control_node_median_seconds": round(
                    statistics.median(run_record["control_node_seconds"] for run_record in runs), 2
                ),
            }
        )
        if floor_median:
            summary["module_ratio_to_floor"] = round(modules / floor_median, 2)
    return summary


# --- One engine ------------------------------------------------------------------------


def bench_engine(engine, args, log_root):
    """Every measurement for one engine; returns its results (with "error" on failure)."""
    name = f"{NAME_PREFIX}{engine}"
    log_dir = log_root / engine
    log_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    results = {"container": name, "image": f"{IMAGE}:{args.debian}", "workdir": str(workdir)}
    started = time.monotonic()
    floors, noops, deploys = [], [], []
    try:
        project = copy_project(workdir)
        inventory = write_inventory(workdir, name, engine, project)
        say(f"{engine}: creating the container {name} (Debian {args.debian})")
        results["systemd_state"] = create_host(name, args.debian)

        say(f"{engine}: fresh converge of site.yml ...")
        converge, converge_tasks = run_playbook(SITE_PLAYBOOK, inventory, log_dir, "converge")
        results["converge"] = {**split_converge(converge, converge_tasks), "run": converge}
        say(f"{engine}: fresh converge {converge['seconds']:.1f} s, changed={converge['changed']}")

        for i in range(1, args.runs + 1):
            floor, _ = run_playbook(FLOOR_PLAYBOOK, inventory, log_dir, f"floor-{i}")
            floors.append(floor)
            say(f"{engine}: floor {i}/{args.runs} {floor['seconds']:.1f} s")
            noop, _ = run_playbook(SITE_PLAYBOOK, inventory, log_dir, f"noop-{i}")
            noops.append(noop)
            say(
                f"{engine}: no-op re-run {i}/{args.runs} {noop['seconds']:.1f} s, changed={noop['changed']}"
            )

        for k in range(1, args.runs + 1):
            migration = add_migration(project, k)
            deploy, _ = run_playbook(DEPLOY_PLAYBOOK, inventory, log_dir, f"deploy-{k}")
            applied, output = migration_applied(name, migration)
            deploy.update({"migration": f"books.{migration}", "migration_applied": applied})
            deploys.append(deploy)
            say(
                f"{engine}: deploy {k}/{args.runs} ({migration}) {deploy['seconds']:.1f} s, "
                f"changed={deploy['changed']}, applied={'yes' if applied else 'NO'}"
            )
            if not applied:
                raise BenchError(
                    f"deploy-{k}: books.{migration} is not applied (or another is pending) after the run; "
                    f"showmigrations books says:\n{output}"
                )
    except BenchError as error:
        results["error"] = str(error)
        say(f"{engine}: FAILED: {error}")
    finally:
        if floors:
            results["floor"] = series(floors)
            floor_median = results["floor"]["median_seconds"]
            if noops:
                results["noop"] = series(noops, floor_median, TARGET_NOOP_RATIO)
                results["noop"]["median_run_slowest_tasks"] = median_run(noops)["slowest_tasks"]
                results["noop"]["median_run"] = median_run(noops)["label"]
            if deploys:
                results["deploy"] = series(deploys, floor_median, TARGET_DEPLOY_RATIO)
        results["seconds"] = round(time.monotonic() - started, 1)
        if args.keep:
            say(
                f"{engine}: kept the container and network {name} and {workdir} "
                f"(remove: docker rm -f {name}; docker network rm {name}; rm -rf {workdir})"
            )
        else:
            try:
                remove_host(name)
            except BenchError as error:
                say(f"{engine}: could not remove {name}: {error}")
            shutil.rmtree(workdir, ignore_errors=True)
    return results


# --- The report ------------------------------------------------------------------------


def seconds_text(value):
    """Seconds, one decimal."""
    return f"{value:.1f} s"


def target_mark(within):
    """ok or MISSED, for a target."""
    return "ok" if within else "MISSED"


def floor_cell(results):
    """The floor's median."""
    return seconds_text(results["floor"]["median_seconds"])


def ratio_cell(summary):
    """A series' median, its ratio to the floor and whether it meets its target."""
    ratio = f"{summary['ratio_to_floor']:.1f}x"
    return f"{seconds_text(summary['median_seconds'])}  {ratio}  {target_mark(summary['within_target'])}"


def tasks_text(counts):
    """The task counts of a series' runs, each different one once: "49 tasks"."""
    return " or ".join(str(count) for count in sorted(set(counts))) + " tasks"


def module_cell(summary):
    """The module runs' median time, its ratio to the floor and the tasks that ran one."""
    ratio = f"{summary['module_ratio_to_floor']:.1f}x"
    return f"{seconds_text(summary['module_median_seconds'])}  {ratio}  {tasks_text(summary['module_tasks'])}"


def control_node_cell(summary):
    """The control-node tasks' median time and their count."""
    return f"{seconds_text(summary['control_node_median_seconds'])}  {tasks_text(summary['control_node_tasks'])}"


def changed_cell(summary):
    """The changed counts of a series, in run order."""
    return " ".join(str(changed) for changed in summary["changed"])


def converge_cell(results):
    """The fresh converge's wall time."""
    return seconds_text(results["converge"]["seconds"])


def package_cell(results):
    """The converge's package installation time and share of the wall time."""
    converge = results["converge"]
    return (
        f"{seconds_text(converge['package_seconds'])}  {converge['package_percent_of_wall']:.0f}%"
    )


def other_cell(results):
    """The converge's other time, its share of the wall time and the target."""
    converge = results["converge"]
    share = f"{converge['other_percent_of_wall']:.0f}%"
    return f"{seconds_text(converge['other_seconds'])}  {share}  {target_mark(converge['within_target'])}"


def table_rows(report):
    """The table's rows: a label, one cell per engine, the target."""

    def row(label, cell, target=""):
        cells = []
        for results in report["engines"].values():
            try:
                cells.append(cell(results))
            except KeyError:
                cells.append("failed" if "error" in results else "-")
        return [label, *cells, target]

    return [
        row("floor: facts + ping (median)", floor_cell),
        row(
            "no-op re-run (median)",
            lambda r: ratio_cell(r["noop"]),
            f"<= {TARGET_NOOP_RATIO:g}x floor",
        ),
        row("  changed, per run", lambda r: changed_cell(r["noop"]), "0"),
        row("  of which module runs", lambda r: module_cell(r["noop"])),
        row("  and control-node tasks", lambda r: control_node_cell(r["noop"])),
        row(
            "one-migration deploy (median)",
            lambda r: ratio_cell(r["deploy"]),
            f"<= {TARGET_DEPLOY_RATIO:g}x floor",
        ),
        row("  changed, per run", lambda r: changed_cell(r["deploy"])),
        row("  of which module runs", lambda r: module_cell(r["deploy"])),
        row("  and control-node tasks", lambda r: control_node_cell(r["deploy"])),
        row("fresh converge (wall)", converge_cell),
        row("  package installation", package_cell),
        row("  everything else", other_cell, f"<= {TARGET_OTHER_SHARE:g}% of the converge"),
    ]


def format_table(header, rows):
    """Rows as left-aligned columns."""
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    lines = []
    for row in [header] + rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return "\n".join(lines)


def task_lines(tasks):
    """Task records as aligned lines: seconds, role, task name, action."""
    lines = []
    for task in tasks:
        role = task["role"] or "-"
        lines.append(f"  {task['seconds']:7.2f} s  {role:<11} {task['task']}  [{task['action']}]")
    return lines


def print_report(report):
    """Print the table and the per-task profiles."""
    options = report["options"]
    machine = report["machine"]
    git = report["git"]
    changes = " (with uncommitted changes)" if git["tracked_changes"] else ""
    load_start = " ".join(str(value) for value in machine["loadavg_start"])
    load_end = " ".join(str(value) for value in machine["loadavg_end"])
    say("")
    say(
        "Benchmark of the whole stack against Ansible's floor: "
        f"Debian {options['debian']}, {options['runs']} run(s) of each"
    )
    say(
        f"commit {git['commit'][:12]}{changes}, {report['started']}, {machine['nproc']} CPUs, "
        f"load {load_start} at start, {load_end} at the end"
    )
    say("")
    say(format_table(["", *report["engines"].keys(), "target"], table_rows(report)))
    say("")
    say("Everything else = the converge's wall time minus its apt/pip/package tasks.")
    say("Module runs = the time of the tasks that started a module on the host; the others")
    say("(skipped ones, set_fact, assert, includes, argument checks) stay on the control node.")
    for engine, results in report["engines"].items():
        if "noop" in results:
            noop = results["noop"]
            chosen = next(r for r in noop["runs"] if r["label"] == noop["median_run"])
            say("")
            say(
                f"{engine}: {SLOWEST_SHOWN} slowest tasks of the median no-op run ({chosen['label']}: "
                f"{seconds_text(chosen['seconds'])}, task time {seconds_text(chosen['task_seconds'])})"
            )
            for line in task_lines(noop["median_run_slowest_tasks"]):
                say(line)
        if "converge" in results:
            say("")
            say(f"{engine}: slowest tasks of the fresh converge outside package installation")
            for line in task_lines(results["converge"]["slowest_other_tasks"]):
                say(line)
        if "error" in results:
            say("")
            say(f"{engine}: FAILED: {results['error'].splitlines()[0]}")


def default_output():
    """benchmark-results/benchmark-<UTC timestamp>.json in the repository."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return REPO / "benchmark-results" / f"benchmark-{stamp}.json"


def main(argv=None):
    """Run the benchmark; return the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    output = args.output or default_output()
    log_root = output.with_name(output.stem + "-logs")
    try:
        check_prerequisites(args.debian)
    except BenchError as error:
        print(f"benchmark: {error}", file=sys.stderr)
        return 2
    output.parent.mkdir(parents=True, exist_ok=True)
    log_root.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    report = {
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "options": {
            "engines": args.engines,
            "runs": args.runs,
            "debian": args.debian,
            "keep": args.keep,
        },
        "targets": {
            "noop_ratio_to_floor": TARGET_NOOP_RATIO,
            "deploy_ratio_to_floor": TARGET_DEPLOY_RATIO,
            "converge_other_percent": TARGET_OTHER_SHARE,
        },
        "package_actions": list(PACKAGE_ACTIONS),
        "git": git_state(),
        "ansible": ansible_version(),
        "machine": {"nproc": machine_state()["nproc"], "loadavg_start": machine_state()["loadavg"]},
        "logs": str(log_root),
        "engines": {},
    }
    say(
        f"benchmark: engines {', '.join(args.engines)}, {args.runs} run(s) each, Debian {args.debian}; "
        f"logs in {log_root}"
    )
    for engine in args.engines:
        report["engines"][engine] = bench_engine(engine, args, log_root)

    report["machine"]["loadavg_end"] = machine_state()["loadavg"]
    report["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )
    report["seconds"] = round(time.monotonic() - started, 1)
    failed = [engine for engine, results in report["engines"].items() if "error" in results]
    report["failed_engines"] = failed
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print_report(report)
    say("")
    say(f"JSON: {output}")
    say(f"Ansible logs and per-task timings: {log_root}")
    say(f"The benchmark took {report['seconds'] / 60:.1f} minutes.")
    if failed:
        say(f"benchmark: runs failed for {', '.join(failed)} (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
