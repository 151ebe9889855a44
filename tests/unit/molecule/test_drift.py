"""The drift test's parts: what the manifest callback records, and how drift.py breaks and checks paths."""

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


manifest = load("stack_manifest", "molecule/shared/drift/callback_plugins/stack_manifest.py")
drift = load("drift", "molecule/shared/drift/drift.py")


def test_kinds_by_short_or_qualified_module_name():
    assert manifest.kind_of("ansible.builtin.apt") == "packages"
    assert manifest.kind_of("stack_files") == "files"
    assert manifest.kind_of("ansible.builtin.command") is None


def test_entries_from_module_arguments():
    files = manifest.entries("files", {"items": [{"path": "/etc/a", "content": "x", "mode": "0644"}]}, "common")
    assert files == [{"path": "/etc/a", "content": "x", "mode": "0644", "role": "common"}]
    assert manifest.entries("packages", {"name": ["apache2", "libapache2-mod-wsgi-py3"], "state": "present"}, "web") == [
        {"name": "apache2", "role": "web"}, {"name": "libapache2-mod-wsgi-py3", "role": "web"}]
    # Removing a package, stopping a service or deleting a user is not "managed state".
    assert manifest.entries("packages", {"name": "x", "state": "absent"}, "r") == []
    assert manifest.entries("services", {"name": "apache2", "state": "reloaded"}, "r") == []
    service = manifest.entries("services", {"name": "apache2", "enabled": True, "config": ["/etc/a"]}, "web")[0]
    assert service["config"] == ["/etc/a"] and service["apply"] == "restart"
    assert manifest.entries("users", {"name": "pgadmin", "shell": "/usr/sbin/nologin", "home": "/var/lib/pgadmin"}, "p") == [
        {"name": "pgadmin", "shell": "/usr/sbin/nologin", "home": "/var/lib/pgadmin", "role": "p"}]
    assert manifest.entries("paths", {"path": "/srv/x", "state": "directory", "mode": "0755"}, "d")[0]["state"] == "directory"
    assert manifest.entries("paths", {"path": "/srv/x", "state": "absent"}, "d") == []


def test_a_broken_file_is_seen_and_a_rewritten_one_passes(tmp_path):
    path = tmp_path / "site.conf"
    path.write_text("wanted\n")
    os.chmod(path, 0o644)
    item = {"path": str(path), "state": "file", "content": "wanted\n", "mode": "0644"}
    assert drift.path_differences(item) == []
    done = drift.break_path(dict(item))
    assert f"{path}: content changed" in done and f"{path}: mode 0600" in done
    found = drift.path_differences(item)
    assert f"{path}: content differs" in found and f"{path}: mode 0600, not 0644" in found


def test_links_and_absent_paths(tmp_path):
    link = tmp_path / "current"
    link.symlink_to("releases/1")
    item = {"path": str(link), "state": "link", "src": "releases/1"}
    assert drift.path_differences(item) == []
    drift.break_path(item)
    assert drift.path_differences(item) == [f"{link}: points to {drift.DRIFT_LINK}"]
    absent = {"path": str(tmp_path / "000-default.conf"), "state": "absent"}
    assert drift.path_differences(absent) == []
    drift.break_path(absent)
    assert drift.path_differences(absent) == [f"{absent['path']}: present"]


def test_ansibles_own_needs_are_never_removed():
    assert not drift.removable_alone("python3-apt")
    assert not drift.removable_alone("sudo")
