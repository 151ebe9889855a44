"""The deploy lock: the host's files (roles/django/files/django_stack_lock.py) and the
control node's decision (roles/django/filter_plugins/django_lock.py)."""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROLE = Path(__file__).resolve().parents[3] / "roles" / "django"
sys.path.insert(0, str(ROLE / "files"))
sys.path.insert(0, str(ROLE / "filter_plugins"))

import django_stack_lock as lock  # noqa: E402
from django_lock import FilterModule, lock_run, lock_verdict, process_alive  # noqa: E402

SCRIPT = str(ROLE / "files" / "django_stack_lock.py")


def record(run="ctl:42:7", **more):
    return dict(
        {"run": run, "user": "ann", "control_host": "ctl", "boot_id": "b", "pid": 42, "pid_start": "7",
         "play": "Put the new release on every application host", "started": "2026-12-03T10:00:00Z"},
        **more,
    )


ME = record("ctl:50:9", pid=50, pid_start="9")


# The host's files ------------------------------------------------------------------

def test_take_give_and_a_second_run_refused(tmp_path):
    root = str(tmp_path)
    assert lock.show(root) == {"record": None, "busy": None, "work": None}
    assert lock.take(root, record()) == {"taken": True, "changed": True, "holder": None}
    assert lock.take(root, record())["changed"] is False  # the same run keeps it
    second = lock.take(root, ME)
    assert second["taken"] is False and second["holder"]["run"] == "ctl:42:7"
    assert lock.give(root, ME["run"]) == {"given": False}  # not its lock: left alone
    assert lock.show(root)["record"]["user"] == "ann"
    assert lock.give(root, "ctl:42:7") == {"given": True}
    assert lock.show(root)["record"] is None


def test_breaking_a_lock_records_the_interrupted_run_and_what_it_applied(tmp_path):
    root = str(tmp_path)
    lock.take(root, record())
    os.makedirs(tmp_path / "locks", exist_ok=True)
    (tmp_path / "locks" / "work.json").write_text(json.dumps(
        {"run": "ctl:42:7", "what": "migrate", "pid": 5, "since": "t1", "ended": "t2", "rc": 0,
         "applied": ["books.0002_x"], "unapplied": []}))
    assert lock.take(root, ME, replace="another:run")["taken"] is False  # must name the holder
    assert lock.take(root, ME, replace="ctl:42:7")["taken"] is True
    assert lock.show(root)["record"]["run"] == ME["run"]
    entry = json.loads((tmp_path / "deploy.log").read_text().splitlines()[-1])
    assert entry["outcome"] == "interrupted" and entry["run"] == "ctl:42:7" and entry["by"] == "ann"
    assert entry["migrations_applied"] == ["books.0002_x"]
    assert entry["work"]["rc"] == 0


def test_hold_passes_the_output_through_and_records_the_migrations(tmp_path):
    root = str(tmp_path)
    os.makedirs(tmp_path / "locks")
    out = io.StringIO()
    command = [sys.executable, "-c",
               "print('Operations to perform:'); print('  Applying books.0002_x... OK');"
               "print('  Unapplying books.0003_y... OK'); print('{\"findings\": []}'); raise SystemExit(3)"]
    assert lock.hold(root, "ctl:42:7", "migrate", command, out=out) == 3
    assert out.getvalue().splitlines()[-1] == '{"findings": []}'
    work = json.loads((tmp_path / "locks" / "work.json").read_text())
    assert work["applied"] == ["books.0002_x"] and work["unapplied"] == ["books.0003_y"]
    assert work["rc"] == 3 and work["what"] == "migrate" and work["run"] == "ctl:42:7"
    assert lock.show(root)["busy"] is None


def test_the_work_holds_the_lock_until_it_ends_even_when_broken(tmp_path):
    root = str(tmp_path)
    lock.take(root, record())
    worker = subprocess.Popen([sys.executable, SCRIPT, "hold", root, "ctl:42:7", "migrate", "--",
                               sys.executable, "-c", "import time; time.sleep(3)"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if lock.show(root)["busy"]:
                break
            time.sleep(0.1)
        seen = lock.show(root)
        assert seen["busy"]["what"] == "migrate" and seen["busy"]["pid"] == worker.pid
        # Nothing breaks it meanwhile, not even the variable naming the run.
        assert lock.take(root, ME, replace="ctl:42:7")["taken"] is False
        # A second command of a run cannot start either.
        second = subprocess.run([sys.executable, SCRIPT, "hold", root, "ctl:50:9", "migrate", "--", "true"],
                                capture_output=True, text=True)
        assert second.returncode == lock.BUSY_EXIT and "is still working on this host" in second.stderr
    finally:
        worker.wait()
    assert lock.show(root)["busy"] is None
    assert lock.take(root, ME, replace="ctl:42:7")["taken"] is True


def test_the_command_line(tmp_path):
    root = str(tmp_path)
    taken = subprocess.run([sys.executable, SCRIPT, "take", root], input=json.dumps(record()),
                           capture_output=True, text=True, check=True)
    assert json.loads(taken.stdout)["taken"] is True
    shown = subprocess.run([sys.executable, SCRIPT, "show", root], capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout)["record"]["run"] == "ctl:42:7"
    given = subprocess.run([sys.executable, SCRIPT, "give", root, "ctl:42:7"], capture_output=True, text=True, check=True)
    assert json.loads(given.stdout) == {"given": True}
    assert subprocess.run([sys.executable, SCRIPT, "nonsense"], capture_output=True).returncode == 2


# The control node's decision --------------------------------------------------------

def alive(state):
    return lambda held, me: state


def test_a_free_lock_is_taken_and_one_s_own_kept():
    assert lock_verdict({"record": None, "busy": None}, ME)["action"] == "take"
    assert lock_verdict({"record": ME}, ME)["action"] == "keep"


def test_a_running_deploy_refuses_the_second_naming_who_and_since_when():
    verdict = lock_verdict({"record": record()}, ME, alive=alive(True))
    assert verdict["action"] == "refuse"
    assert "run ctl:42:7 (ann@ctl, play 'Put the new release on every application host')" in verdict["message"]
    assert "since 2026-12-03T10:00:00Z" in verdict["message"]
    # The break variable does not break the lock of a run that is still going.
    assert lock_verdict({"record": record()}, ME, "ctl:42:7", alive=alive(True))["action"] == "refuse"


def test_work_on_the_host_refuses_whatever_the_variable_says():
    busy = {"run": "ctl:42:7", "what": "migrate", "pid": 99, "since": "2026-12-03T10:02:00Z"}
    verdict = lock_verdict({"record": record(), "busy": busy}, ME, "ctl:42:7", alive=alive(False))
    assert verdict["action"] == "refuse"
    assert "its migrate (pid 99, run ctl:42:7) has been running on the host since 2026-12-03T10:02:00Z" in verdict["message"]
    # ...also when the lock itself was broken meanwhile.
    assert lock_verdict({"record": None, "busy": busy}, ME)["action"] == "refuse"


def test_a_stale_lock_is_reported_with_the_variable_that_breaks_it_and_what_it_applied():
    work = {"run": "ctl:42:7", "what": "migrate", "applied": ["books.0002_x"], "unapplied": []}
    verdict = lock_verdict({"record": record(), "work": work}, ME, alive=alive(False))
    assert verdict["action"] == "refuse"
    assert "stale" in verdict["message"] and "never finished" in verdict["message"]
    assert "its migrate applied books.0002_x" in verdict["message"]
    assert "-e django_deploy_lock_break=ctl:42:7" in verdict["message"]
    # Only the variable naming that run breaks it.
    assert lock_verdict({"record": record()}, ME, "ctl:1:1", alive=alive(False))["action"] == "refuse"
    assert lock_verdict({"record": record()}, ME, "ctl:42:7", alive=alive(False))["action"] == "replace"


def test_a_lock_from_another_control_node_cannot_be_judged_from_here():
    verdict = lock_verdict({"record": record(control_host="laptop")}, ME, alive=alive(None))
    assert verdict["action"] == "refuse"
    assert "another control node" in verdict["message"] and "django_deploy_lock_break=ctl:42:7" in verdict["message"]


def test_process_alive_reads_this_control_node_s_processes():
    me = lock_run("a play")
    assert me["run"] == f"{me['control_host']}:{me['pid']}:{me['pid_start']}" and me["play"] == "a play"
    assert process_alive(me, me) is True
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert process_alive(dict(me, pid=gone.pid, pid_start="1"), me) is False
    assert process_alive(dict(me, control_host="elsewhere"), me) is None
    assert process_alive(dict(me, boot_id="before-a-reboot"), me) is None
    assert FilterModule().filters()["django_lock_verdict"] is lock_verdict


@pytest.mark.parametrize("argv", [["take"], ["give", "/x"], ["hold", "/x", "r", "w", "cmd"]])
def test_wrong_arguments_print_the_usage(argv, capsys):
    assert lock.main(argv) == 2
    assert "django_stack_lock.py show ROOT" in capsys.readouterr().err
