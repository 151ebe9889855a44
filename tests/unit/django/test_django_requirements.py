"""A release's requirements: how roles/django/files/django_stack_requirements.py reads
them (as on the host and, through pack_source.py, on the control node), and what
roles/django/filter_plugins/django_requirements.py makes of them (the database driver
the role adds or refuses, and the one requirements file pip installs from)."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROLE = Path(__file__).resolve().parents[3] / "roles" / "django"
sys.path.insert(0, str(ROLE / "files"))
sys.path.insert(0, str(ROLE / "filter_plugins"))

from django_requirements import FilterModule, django_requirements_file, django_requirements_plan  # noqa: E402
from django_stack_requirements import logical_lines, requirement_name, scan  # noqa: E402

from django_deploy import django_venv_name  # noqa: E402

SCRIPT = ROLE / "files" / "django_stack_requirements.py"


def write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def names(result):
    return [(item["file"], item["line"], item["name"]) for item in result["requirements"]]


# --- Reading requirements files ---


@pytest.mark.parametrize(
    "line, name",
    [
        ("Django==5.2.19", "django"),
        ("psycopg[binary,pool]>=3.1,<4", "psycopg"),
        ("psycopg2_Binary ~= 2.9", "psycopg2-binary"),
        ('mysqlclient>=2.2; sys_platform == "linux"', "mysqlclient"),
        ("PyMySQL", "pymysql"),
        ("psycopg @ https://example.org/psycopg-3.2.tar.gz", "psycopg"),
        ("psycopg==3.2 --hash=sha256:abcd", "psycopg"),
        ("-e git+https://example.org/psycopg2.git#egg=psycopg2", None),
        ("--editable ./vendor/psycopg2", None),
        ("https://example.org/psycopg2-2.9.whl", None),
        ("git+https://user@example.org/mysqlclient.git", None),
        ("./wheels/mysqlclient-2.2.whl", None),
        ("/srv/wheels/psycopg.whl", None),
        ("--index-url https://pypi.example.org/simple", None),
    ],
)
def test_the_name_a_line_installs(line, name):
    assert requirement_name(line) == name


def test_comments_and_continued_lines_are_read_as_pip_reads_them():
    text = "# a comment\nDjango==5.2  # pinned\n\npsycopg\\\n[binary]>=3.1 \\\n  ; python_version >= '3.11'\nurl#frag\n"
    assert list(logical_lines(text)) == [
        (2, "Django==5.2"),
        (4, "psycopg[binary]>=3.1   ; python_version >= '3.11'"),
        (7, "url#frag"),
    ]


def test_includes_are_followed_relative_to_the_including_file(tmp_path):
    write(tmp_path, {
        "requirements/production.txt": "-r base.txt\n--requirement=../extra/more.txt\ngunicorn\n",
        "requirements/base.txt": "Django==5.2\n-c constraints.txt\n-rdeep/db.txt\n",
        "requirements/constraints.txt": "psycopg2<3\n",
        "requirements/deep/db.txt": "psycopg2-binary==2.9.9\n",
        "extra/more.txt": "whitenoise\n",
    })
    result = scan(str(tmp_path), ["requirements/production.txt"])
    assert result["missing"] == [] and result["errors"] == []
    assert [path for path, _ in result["files"]] == [
        "requirements/production.txt", "requirements/base.txt", "requirements/constraints.txt",
        "requirements/deep/db.txt", "extra/more.txt",
    ]
    # A constraints file limits versions but installs nothing.
    assert names(result) == [
        ("requirements/base.txt", 1, "django"),
        ("requirements/deep/db.txt", 1, "psycopg2-binary"),
        ("extra/more.txt", 1, "whitenoise"),
        ("requirements/production.txt", 3, "gunicorn"),
    ]


def test_the_entries_checksums_come_first_so_existing_virtualenvs_keep_their_names(tmp_path):
    write(tmp_path, {"a.txt": "-r c.txt\n", "b.txt": "Django\n", "c.txt": "whitenoise\n"})
    result = scan(str(tmp_path), ["a.txt", "./b.txt"])
    digest = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in ("a.txt", "b.txt", "c.txt")}
    assert result["files"] == [["a.txt", digest["a.txt"]], ["b.txt", digest["b.txt"]], ["c.txt", digest["c.txt"]]]
    assert result["entries"] == ["a.txt", "./b.txt"]


def test_a_change_in_an_included_file_renames_the_virtualenv(tmp_path):
    write(tmp_path, {"requirements.txt": "-r base.txt\n", "base.txt": "Django==5.2.18\n"})
    before = django_requirements_plan(scan(str(tmp_path), ["requirements.txt"]), "postgresql", [], "psycopg")
    (tmp_path / "base.txt").write_text("Django==5.2.19\n")
    after = django_requirements_plan(scan(str(tmp_path), ["requirements.txt"]), "postgresql", [], "psycopg")
    assert django_venv_name(before["checksums"], before["packages"]) != django_venv_name(after["checksums"], after["packages"])


def test_an_include_cycle_is_an_error_not_a_hang(tmp_path):
    write(tmp_path, {"a.txt": "Django\n-r b.txt\n", "b.txt": "# loops\n-r a.txt\nwhitenoise\n"})
    result = scan(str(tmp_path), ["a.txt"])
    assert result["errors"] == [
        "b.txt line 2 includes a.txt, which includes b.txt again:"
        " pip cannot install requirements files that include each other in a cycle."
    ]
    assert [name for _, _, name in names(result)] == ["django", "whitenoise"]


def test_a_file_included_twice_is_read_once(tmp_path):
    write(tmp_path, {"a.txt": "-r common.txt\n-r b.txt\n", "b.txt": "-r common.txt\n", "common.txt": "Django\n"})
    result = scan(str(tmp_path), ["a.txt"])
    assert result["errors"] == []
    assert names(result) == [("common.txt", 1, "django")]


def test_missing_files_and_includes_are_named(tmp_path):
    write(tmp_path, {"requirements.txt": "-r nowhere/base.txt\n-r https://example.org/remote.txt\n"})
    result = scan(str(tmp_path), ["requirements.txt", "other.txt"])
    assert result["missing"] == ["other.txt", "nowhere/base.txt"]


# --- pyproject.toml ---

PYPROJECT = """\
[project]
name = "shop"
version = "1"
dependencies = [
    "Django>=5.2,<6",
    'psycopg[binary]>=3.1; python_version >= "3.11"',
    "whitenoise",
]

[tool.ruff]
line-length = 88
"""


def test_pyproject_dependencies_are_the_requirements(tmp_path):
    write(tmp_path, {"pyproject.toml": PYPROJECT})
    result = scan(str(tmp_path), ["pyproject.toml"])
    assert result["errors"] == []
    assert result["pyproject"] == {
        "pyproject.toml": ["Django>=5.2,<6", 'psycopg[binary]>=3.1; python_version >= "3.11"', "whitenoise"],
    }
    assert names(result) == [("pyproject.toml", 5, "django"), ("pyproject.toml", 6, "psycopg"), ("pyproject.toml", 7, "whitenoise")]
    assert result["files"] == [["pyproject.toml", hashlib.sha256(PYPROJECT.encode()).hexdigest()]]


def test_a_pyproject_in_a_subdirectory_with_a_requirements_file(tmp_path):
    write(tmp_path, {"app/pyproject.toml": PYPROJECT, "requirements/prod.txt": "gunicorn\n"})
    result = scan(str(tmp_path), ["requirements/prod.txt", "app/pyproject.toml"])
    assert list(result["pyproject"]) == ["app/pyproject.toml"]
    assert [name for _, _, name in names(result)] == ["gunicorn", "django", "psycopg", "whitenoise"]


@pytest.mark.parametrize(
    "text, why",
    [
        ("[tool.ruff]\nline-length = 88\n", "has no [project] dependencies list (PEP 621)"),
        ('[project]\nname = "shop"\ndynamic = ["dependencies"]\n', "declares them dynamic"),
        ('[tool.poetry.dependencies]\ndjango = "^5.2"\n', "has no [project] dependencies list (PEP 621)"),
    ],
)
def test_a_pyproject_without_dependencies_says_how_to_export_them(tmp_path, text, why):
    write(tmp_path, {"pyproject.toml": text})
    [error] = scan(str(tmp_path), ["pyproject.toml"])["errors"]
    assert error.startswith(f"pyproject.toml {why}, so the role cannot tell what to install.")
    assert "poetry export" in error and "django_requirements_files" in error


def test_an_empty_dependency_list_is_fine(tmp_path):
    write(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = []\n'})
    result = scan(str(tmp_path), ["pyproject.toml"])
    assert result["errors"] == [] and result["pyproject"] == {"pyproject.toml": []}


def test_invalid_toml_is_an_error(tmp_path):
    write(tmp_path, {"pyproject.toml": "[project\n"})
    [error] = scan(str(tmp_path), ["pyproject.toml"])["errors"]
    assert error.startswith("pyproject.toml is not valid TOML:")


def test_the_script_prints_the_same_document_when_fed_on_standard_input(tmp_path):
    write(tmp_path, {"requirements.txt": "-r base.txt\n", "base.txt": "Django\n"})
    done = subprocess.run(
        [sys.executable, "-", str(tmp_path), "requirements.txt"],
        input=SCRIPT.read_text(), capture_output=True, text=True, check=True,
    )
    assert json.loads(done.stdout) == scan(str(tmp_path), ["requirements.txt"])


# --- The driver ---


def plan(tmp_path, files, entries, engine, extra=("gunicorn>=22,<28",), driver="DRIVER"):
    write(tmp_path, files)
    return django_requirements_plan(scan(str(tmp_path), entries), engine, list(extra), driver)


@pytest.mark.parametrize(
    "engine, line",
    [
        ("postgresql", "psycopg>=3.1,<4"),
        ("postgresql", "psycopg[binary,pool]==3.2.1"),
        ("postgresql", "psycopg-binary"),
        ("postgresql", "psycopg2==2.9.9"),
        ("postgresql", "Psycopg2_Binary>=2.9 ; sys_platform == 'linux'"),
        ("mysql", "mysqlclient>=2.2"),
        ("mysql", "MySQLClient==2.2.4  # compiled"),
    ],
)
def test_a_project_that_lists_its_driver_gets_no_second_one(tmp_path, engine, line):
    result = plan(tmp_path, {"requirements.txt": f"Django\n{line}\n"}, ["requirements.txt"], engine)
    assert result["error"] == ""
    assert result["packages"] == ["gunicorn>=22,<28"]
    assert (result["driver"]["file"], result["driver"]["line"]) == ("requirements.txt", 2)


def test_a_driver_in_an_included_file_or_a_pyproject_counts(tmp_path):
    included = plan(tmp_path, {"r/prod.txt": "-r base.txt\n", "r/base.txt": "mysqlclient\n"}, ["r/prod.txt"], "mysql")
    assert included["driver"]["file"] == "r/base.txt" and included["packages"] == ["gunicorn>=22,<28"]
    pyproject = plan(tmp_path, {"pyproject.toml": PYPROJECT}, ["pyproject.toml"], "postgresql")
    assert pyproject["driver"]["line"] == 6 and pyproject["packages"] == ["gunicorn>=22,<28"]


@pytest.mark.parametrize(
    "line",
    [
        "-e git+https://example.org/psycopg2.git#egg=psycopg2",
        "https://example.org/psycopg2-2.9.whl",
        "# psycopg2-binary",
        "-c constraints.txt",
    ],
)
def test_a_project_without_a_named_driver_gets_the_engines(tmp_path, line):
    files = {"requirements.txt": f"Django\n{line}\n", "constraints.txt": "psycopg2<3\n"}
    result = plan(tmp_path, files, ["requirements.txt"], "postgresql")
    assert result == {"checksums": result["checksums"], "packages": ["gunicorn>=22,<28", "DRIVER"], "driver": None, "error": ""}


def test_pymysql_is_not_taken_for_mysqls_driver(tmp_path):
    # Django's MySQL backend takes PyMySQL only through a shim the role cannot see.
    result = plan(tmp_path, {"requirements.txt": "PyMySQL\n"}, ["requirements.txt"], "mysql")
    assert result["packages"] == ["gunicorn>=22,<28", "DRIVER"] and result["error"] == ""


def test_a_driver_in_the_extra_packages_counts_as_listed(tmp_path):
    result = plan(tmp_path, {"requirements.txt": "Django\n"}, ["requirements.txt"], "postgresql",
                  extra=["gunicorn", "psycopg2-binary==2.9.9"])
    assert result["packages"] == ["gunicorn", "psycopg2-binary==2.9.9"]
    assert result["driver"]["file"] == "django_pip_extra_packages" and result["error"] == ""


def test_an_empty_driver_package_adds_none(tmp_path):
    result = plan(tmp_path, {"requirements.txt": "Django\n"}, ["requirements.txt"], "postgresql", driver="")
    assert result["packages"] == ["gunicorn>=22,<28"]


def test_the_other_engines_driver_only_stops_the_deploy(tmp_path):
    files = {"requirements.txt": "-r base.txt\n", "base.txt": "Django\npsycopg2-binary>=2.9  # for postgres\n"}
    result = plan(tmp_path, files, ["requirements.txt"], "mysql", driver="mysqlclient>=2.2,<3")
    assert result["error"] == (
        "django: base.txt line 2 (psycopg2-binary>=2.9) installs psycopg2-binary, a database driver for postgresql,"
        " but stack_db_engine is mysql, whose driver is mysqlclient: Django could not connect with it."
        " Replace that line with mysql's driver (or drop it and the role adds mysqlclient>=2.2,<3),"
        " name this engine's requirements file in django_requirements_files, or set stack_db_engine: postgresql."
    )


def test_the_other_engines_driver_in_a_pyproject_or_the_extra_packages(tmp_path):
    in_pyproject = plan(tmp_path, {"pyproject.toml": PYPROJECT}, ["pyproject.toml"], "mysql")
    assert in_pyproject["error"].startswith(
        "django: pyproject.toml line 6 (psycopg[binary]>=3.1; python_version >= \"3.11\") installs psycopg,"
        " a database driver for postgresql, but stack_db_engine is mysql"
    )
    in_extra = plan(tmp_path, {"requirements.txt": "Django\n"}, ["requirements.txt"], "postgresql", extra=["gunicorn", "mysqlclient"])
    assert in_extra["error"].startswith("django: django_pip_extra_packages line 2 (mysqlclient) installs mysqlclient")


def test_both_engines_drivers_listed_is_not_an_error(tmp_path):
    result = plan(tmp_path, {"requirements.txt": "mysqlclient\npsycopg\n"}, ["requirements.txt"], "postgresql")
    assert result["error"] == "" and result["driver"]["name"] == "psycopg"


def test_nothing_read_yet_gives_todays_packages():
    # Check mode before a git source is fetched: the role cannot read the release.
    assert django_requirements_plan({}, "mysql", ["gunicorn"], "mysqlclient") == {
        "checksums": [], "packages": ["gunicorn", "mysqlclient"], "driver": None, "error": ""}


def test_the_default_packages_keep_todays_virtualenv_names():
    # Before the driver moved to django_pip_driver_package, the extra packages held it.
    checksums = ["abc"]
    today = django_venv_name(checksums, ["gunicorn>=22,<28", "psycopg>=3.1,<4"])
    result = django_requirements_plan({"files": [["requirements.txt", "abc"]]}, "postgresql", ["gunicorn>=22,<28"], "psycopg>=3.1,<4")
    assert django_venv_name(result["checksums"], result["packages"]) == today


# --- The requirements file pip installs from ---


def test_the_virtualenvs_requirements_file(tmp_path):
    write(tmp_path, {"requirements/prod.txt": "-r base.txt\n", "requirements/base.txt": "Django\n", "pyproject.toml": PYPROJECT})
    result = scan(str(tmp_path), ["./requirements/prod.txt", "pyproject.toml"])
    assert django_requirements_file(result, "/srv/shop/releases/abc", ["gunicorn", "mysqlclient"]) == (
        "--requirement=/srv/shop/releases/abc/requirements/prod.txt\n"
        "# pyproject.toml: [project] dependencies\n"
        "Django>=5.2,<6\n"
        'psycopg[binary]>=3.1; python_version >= "3.11"\n'
        "whitenoise\n"
        "# Added by the django role\n"
        "gunicorn\n"
        "mysqlclient\n"
    )


def test_pip_reads_the_file_and_its_includes_relative_to_each(tmp_path):
    """pip itself, offline: a wrong path would fail with "Could not open requirements file"."""
    write(tmp_path, {"project/requirements/prod.txt": "-r base.txt\n", "project/requirements/base.txt": "# nothing\n",
                     "project/pyproject.toml": '[project]\nname = "x"\ndependencies = []\n'})
    result = scan(str(tmp_path / "project"), ["requirements/prod.txt", "pyproject.toml"])
    requirements = tmp_path / "venv" / "requirements.txt"
    requirements.parent.mkdir()
    requirements.write_text(django_requirements_file(result, str(tmp_path / "project"), []))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--disable-pip-version-check", "-r", str(requirements)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {"django_requirements_plan", "django_requirements_file"}


def test_a_python_without_tomllib_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tomllib", None)  # Python 3.10: Ubuntu 22.04's
    write(tmp_path, {"pyproject.toml": PYPROJECT})
    [error] = scan(str(tmp_path), ["pyproject.toml"])["errors"]
    assert error.startswith("pyproject.toml: reading a pyproject.toml needs Python 3.11 or later (tomllib)")
