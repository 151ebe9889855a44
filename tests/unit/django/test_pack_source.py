"""roles/django/files/pack_source.py: a local source's release id and archive, as the
django role's source.yml runs it on the control node."""

import base64
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "django" / "files" / "pack_source.py"


def pack(source, cache, *options):
    done = subprocess.run([sys.executable, str(SCRIPT), str(source), str(cache), *options], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    (root / "shop" / "__pycache__").mkdir(parents=True)
    (root / "manage.py").write_text("print('manage')\n")
    (root / "manage.py").chmod(0o755)
    (root / "shop" / "settings.py").write_text("DEBUG = False\n")
    (root / "shop" / "__pycache__" / "settings.cpython-311.pyc").write_bytes(b"\0compiled")
    (root / "requirements.txt").write_text("Django==5.2\n")
    return root


def test_the_same_code_gives_the_same_id_and_one_archive(project, tmp_path):
    first = pack(project, tmp_path / "cache", "--exclude=__pycache__")
    again = pack(project, tmp_path / "cache", "--exclude=__pycache__")
    assert first == again
    assert len(first["id"]) == 12
    assert first["files"] == 3
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [first["id"] + ".tar.gz"]


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "shop" / "settings.py").write_text("DEBUG = True\n"),
        lambda root: (root / "shop" / "settings.py").chmod(0o755),
        lambda root: (root / "shop" / "urls.py").write_text(""),
        lambda root: (root / "shop" / "settings.py").rename(root / "shop" / "base.py"),
    ],
    ids=["content", "mode", "new file", "renamed"],
)
def test_any_change_gives_a_new_id(project, tmp_path, change):
    before = pack(project, tmp_path / "cache", "--exclude=__pycache__")["id"]
    change(project)
    assert pack(project, tmp_path / "cache", "--exclude=__pycache__")["id"] != before


def test_excluded_files_are_neither_shipped_nor_counted(project, tmp_path):
    before = pack(project, tmp_path / "cache", "--exclude=__pycache__", "--exclude=*.log")["id"]
    (project / "debug.log").write_text("noise")
    (project / "shop" / "__pycache__" / "urls.cpython-311.pyc").write_bytes(b"\0")
    result = pack(project, tmp_path / "cache", "--exclude=__pycache__", "--exclude=*.log")
    assert result["id"] == before
    with tarfile.open(result["archive"]) as tar:
        names = sorted(tar.getnames())
    assert names == ["manage.py", "requirements.txt", "shop/settings.py"]


def test_the_archive_is_root_s_and_not_writable_by_the_application(project, tmp_path):
    result = pack(project, tmp_path / "cache", "--exclude=__pycache__")
    with tarfile.open(result["archive"]) as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members.values()} == {(0, 0, "root", "root")}
    assert members["manage.py"].mode == 0o755
    assert members["shop/settings.py"].mode == 0o644


def test_the_requirements_are_read_and_a_file_not_shipped_is_missing(project, tmp_path):
    import hashlib

    (project / "requirements.txt").write_text("-r base.txt\nDjango==5.2\n")
    (project / "base.txt").write_text("psycopg==3.2\n")
    result = pack(project, tmp_path / "cache", "--exclude=base.txt", "--requirement=requirements.txt",
                  "--requirement=./missing.txt")
    requirements = result["requirements"]
    assert requirements["entries"] == ["requirements.txt", "./missing.txt"]
    assert requirements["files"] == [["requirements.txt", hashlib.sha256(b"-r base.txt\nDjango==5.2\n").hexdigest()]]
    assert sorted(requirements["missing"]) == ["base.txt", "missing.txt"]
    assert [item["name"] for item in requirements["requirements"]] == ["psycopg", "django"]


def test_a_small_archive_is_also_written_in_base64(project, tmp_path):
    small = pack(project, tmp_path / "cache", "--inline-max=100000")
    assert small["inline"] == small["archive"] + ".b64"
    assert base64.b64decode(Path(small["inline"]).read_bytes()) == Path(small["archive"]).read_bytes()
    assert pack(project, tmp_path / "cache2", "--inline-max=10")["inline"] is None


def test_a_directory_without_manage_py_is_refused(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), str(tmp_path / "cache")], capture_output=True, text=True)
    assert done.returncode != 0
    assert "holds no manage.py" in done.stderr
