"""The benchmark's arithmetic (scripts/benchmark.py): which tasks ran a module on the
host, and the medians and ratios of a series of runs."""

import importlib.util
import pathlib

_ROOT = pathlib.Path(__file__).parents[3]
_SPEC = importlib.util.spec_from_file_location("benchmark", _ROOT / "scripts/benchmark.py")
benchmark = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(benchmark)


def task(action, duration, status="ok"):
    return {"action": action, "duration": duration, "status": status, "role": "r", "task": action}


def test_tasks_that_ran_a_module_are_told_from_control_node_ones():
    assert benchmark.runs_a_module(task("ansible.builtin.apt", 0.5))
    assert benchmark.runs_a_module(task("stack_files", 0.3, "changed"))
    assert benchmark.runs_a_module(task("community.postgresql.postgresql_user", 0.4))
    assert not benchmark.runs_a_module(task("ansible.builtin.set_fact", 0.02))
    assert not benchmark.runs_a_module(task("validate_argument_spec", 0.04))
    assert not benchmark.runs_a_module(task("ansible.builtin.include_tasks", 0.01))
    # A skipped task starts nothing, whatever its module.
    assert not benchmark.runs_a_module(task("ansible.builtin.apt", 0.03, "skipped"))


def test_a_run_is_split_into_module_runs_and_control_node_tasks():
    tasks = [
        task("ansible.builtin.apt", 0.5),
        task("stack_service", 0.25),
        task("ansible.builtin.command", 0.3, "skipped"),
        task("ansible.builtin.assert", 0.02),
    ]
    assert benchmark.split_by_place(tasks) == {
        "module_tasks": 2,
        "module_seconds": 0.75,
        "control_node_tasks": 2,
        "control_node_seconds": 0.32,
    }


def run(seconds, module_seconds, modules=49, control=257):
    return {
        "seconds": seconds,
        "changed": 0,
        "module_tasks": modules,
        "module_seconds": module_seconds,
        "control_node_tasks": control,
        "control_node_seconds": seconds - module_seconds,
    }


def test_a_series_gives_the_module_runs_median_and_its_ratio_to_the_floor():
    summary = benchmark.series([run(27.0, 18.0), run(26.0, 17.5), run(29.0, 18.3)], 1.5, 8.0)
    assert summary["median_seconds"] == 27.0
    assert summary["ratio_to_floor"] == 18.0
    assert summary["within_target"] is False
    assert summary["module_median_seconds"] == 18.0
    assert summary["module_ratio_to_floor"] == 12.0
    assert summary["module_tasks"] == [49, 49, 49]
    assert summary["control_node_median_seconds"] == 9.0


def test_the_table_cells_name_time_ratio_and_task_counts():
    summary = benchmark.series([run(27.0, 18.0), run(26.0, 17.5, modules=48)], 1.5, 8.0)
    assert benchmark.module_cell(summary) == "17.8 s  11.8x  48 or 49 tasks"
    assert benchmark.control_node_cell(summary) == "8.8 s  257 tasks"


def test_a_floor_series_has_no_split_when_its_runs_have_none():
    summary = benchmark.series([{"seconds": 1.5, "changed": 0}, {"seconds": 1.6, "changed": 0}])
    assert summary["median_seconds"] == 1.55
    assert "module_median_seconds" not in summary
