"""library/stack_files.py, run through its main() against tmp_path as the current user."""

import grp
import importlib.util
import json
import os
import pwd
import stat
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("stack_files", ROOT / "library" / "stack_files.py")
stack_files = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(stack_files)

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run(items, capsys, check_mode=False, diff=False):
    """The module's result for these items: main() prints it and exits."""
    args = {"items": items, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        stack_files.main()
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    result["rc"] = exited.value.code
    return result


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def site(tmp_path):
    """A directory, a file in it and a link to the file."""
    return [
        {"path": str(tmp_path / "etc"), "state": "directory", "owner": USER, "group": GROUP, "mode": "0750"},
        {"path": str(tmp_path / "etc" / "app.conf"), "content": "a = 1\n", "owner": USER, "group": GROUP, "mode": "0640"},
        {"path": str(tmp_path / "etc" / "current.conf"), "state": "link", "src": "app.conf"},
    ]


def test_first_run_creates_everything_and_the_second_changes_nothing(tmp_path, capsys):
    first = run(site(tmp_path), capsys)
    assert first["rc"] == 0 and first["changed"] is True
    assert first["changed_paths"] == [item["path"] for item in site(tmp_path)]
    assert (tmp_path / "etc" / "app.conf").read_text() == "a = 1\n"
    assert mode(tmp_path / "etc") == 0o750
    assert mode(tmp_path / "etc" / "app.conf") == 0o640
    assert os.readlink(tmp_path / "etc" / "current.conf") == "app.conf"
    # No temporary file is left next to the written one.
    assert sorted(os.listdir(tmp_path / "etc")) == ["app.conf", "current.conf"]

    second = run(site(tmp_path), capsys)
    assert second["changed"] is False and second["changed_paths"] == []


def test_check_mode_writes_nothing_and_reports_a_diff(tmp_path, capsys):
    result = run(site(tmp_path), capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert not (tmp_path / "etc").exists()
    file_diff = result["diff"][1]
    assert file_diff["before"] == "" and file_diff["after"] == "a = 1\n"

    run(site(tmp_path), capsys)
    changed = site(tmp_path)
    changed[1]["content"] = "a = 2\n"
    result = run(changed, capsys, check_mode=True, diff=True)
    assert result["changed_paths"] == [changed[1]["path"]]
    assert result["diff"][0]["before"] == "a = 1\n" and result["diff"][0]["after"] == "a = 2\n"
    assert (tmp_path / "etc" / "app.conf").read_text() == "a = 1\n"


def test_a_changed_mode_is_set_without_rewriting_the_content(tmp_path, capsys):
    run(site(tmp_path), capsys)
    changed = site(tmp_path)
    changed[1]["mode"] = "0600"
    checked = run(changed, capsys, check_mode=True)
    assert checked["changed_paths"] == [changed[1]["path"]]
    assert mode(tmp_path / "etc" / "app.conf") == 0o640

    result = run(changed, capsys)
    assert result["changed_paths"] == [changed[1]["path"]]
    assert mode(tmp_path / "etc" / "app.conf") == 0o600
    assert (tmp_path / "etc" / "app.conf").read_text() == "a = 1\n"


def test_an_unknown_owner_fails(tmp_path, capsys):
    items = site(tmp_path)[:2]
    items[1]["owner"] = "no-such-user-here"
    result = run(items, capsys)
    assert result["rc"] == 1 and result["failed"] is True
    assert "no-such-user-here" in result["msg"]


def test_a_link_pointing_elsewhere_is_replaced(tmp_path, capsys):
    run(site(tmp_path), capsys)
    moved = site(tmp_path)
    moved[2]["src"] = "other.conf"
    result = run(moved, capsys)
    assert result["changed_paths"] == [moved[2]["path"]]
    assert os.readlink(tmp_path / "etc" / "current.conf") == "other.conf"


def test_a_file_behind_a_link_is_written_through_the_link(tmp_path, capsys):
    target = tmp_path / "locale.conf"
    target.write_text("old\n")
    (tmp_path / "locale").symlink_to(target)
    result = run([{"path": str(tmp_path / "locale"), "content": "new\n"}], capsys)
    assert result["changed"] is True
    assert os.path.islink(tmp_path / "locale")
    assert target.read_text() == "new\n"


def test_absent_removes_a_file_and_refuses_a_directory(tmp_path, capsys):
    (tmp_path / "old.conf").write_text("x")
    result = run([{"path": str(tmp_path / "old.conf"), "state": "absent"}], capsys)
    assert result["changed"] is True and not (tmp_path / "old.conf").exists()
    assert run([{"path": str(tmp_path / "old.conf"), "state": "absent"}], capsys)["changed"] is False

    (tmp_path / "dir").mkdir()
    result = run([{"path": str(tmp_path / "dir"), "state": "absent"}], capsys)
    assert result["rc"] == 1 and "is a directory" in result["msg"]
    assert (tmp_path / "dir").is_dir()


def test_a_missing_parent_directory_fails_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "missing" / "app.conf"
    result = run([{"path": str(path), "content": "x"}], capsys)
    assert result["rc"] == 1 and result["failed"] is True
    assert "directory of %s does not exist" % path in result["msg"]
    assert not (tmp_path / "missing").exists()


def test_a_directory_creates_its_missing_parents_with_the_items_mode(tmp_path, capsys):
    deep = tmp_path / "a" / "b"
    result = run([{"path": str(deep), "state": "directory", "mode": "0700"}], capsys)
    assert result["changed"] is True
    assert mode(tmp_path / "a") == 0o700 and mode(deep) == 0o700


def test_a_relative_path_fails(tmp_path, capsys):
    result = run([{"path": "relative.conf", "content": "x"}], capsys)
    assert result["rc"] == 1 and "not absolute" in result["msg"]


def test_a_file_without_content_and_a_link_without_src_fail(tmp_path, capsys):
    assert "needs content" in run([{"path": str(tmp_path / "f")}], capsys)["msg"]
    assert "needs src" in run([{"path": str(tmp_path / "l"), "state": "link"}], capsys)["msg"]


def test_an_unknown_option_key_fails(tmp_path, capsys):
    # A typo such as `mod:` for `mode:` must not be dropped silently.
    result = run([{"path": str(tmp_path / "f"), "content": "x", "mod": "0600"}], capsys)
    assert result["rc"] == 1 and result["failed"] is True
    assert "mod" in result["msg"]
    assert not (tmp_path / "f").exists()


def test_an_unknown_state_fails(tmp_path, capsys):
    result = run([{"path": str(tmp_path / "f"), "state": "hardlink"}], capsys)
    assert result["rc"] == 1 and "hardlink" in result["msg"]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another group needs root")
def test_a_changed_group_is_reported_in_check_mode_and_then_set(tmp_path, capsys):
    run(site(tmp_path), capsys)
    other = grp.getgrgid(65534).gr_name  # nogroup
    changed = site(tmp_path)
    changed[1]["group"] = other
    path = tmp_path / "etc" / "app.conf"
    checked = run(changed, capsys, check_mode=True, diff=True)
    assert checked["changed_paths"] == [str(path)]
    assert checked["diff"][0]["after"]["group"] == 65534
    assert os.stat(path).st_gid == os.getgid()

    assert run(changed, capsys)["changed_paths"] == [str(path)]
    assert os.stat(path).st_gid == 65534
    assert run(changed, capsys)["changed"] is False
