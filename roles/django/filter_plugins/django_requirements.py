"""The django role's rules for a release's requirements: which packages the role adds
to the project's own (the database driver only when nobody lists one), and the one
requirements file pip installs the virtualenv from. The project's requirements are
read by files/django_stack_requirements.py; virtualenv.yml wires this;
tests/unit/django/test_django_requirements.py tests it.
"""

import posixpath
import re

# The distributions that give Django its backend for each engine (PEP 503 names).
# PyMySQL is not among them: Django's MySQL backend takes it only through a shim
# (pymysql.install_as_MySQLdb()) in the project's code, which the role cannot see, so
# a project listing it still gets mysqlclient.
DRIVERS = {
    "postgresql": ("psycopg", "psycopg-binary", "psycopg2", "psycopg2-binary"),
    "mysql": ("mysqlclient",),
}


def django_requirements_plan(scan, engine, extra_packages, driver_package):
    """What goes into the virtualenv besides the project's requirements.

    scan: django_stack_requirements.py's document for the release ({} when the release
    is not readable: check mode before a git source is fetched); extra_packages:
    django_pip_extra_packages; driver_package: django_pip_driver_package.
    Returns {"checksums": of every file read, in order (they name the virtualenv);
    "packages": the extra packages, plus driver_package when neither the
    project nor extra_packages lists a driver for `engine`; "driver": the requirement
    that lists one ({file, line, name, text}, or None); "error": "" or why the deploy
    must stop (the project lists only the other engine's driver)}.
    """
    scan = scan or {}
    checksums = [checksum for _, checksum in scan.get("files", [])]
    listed = list(scan.get("requirements", [])) + [
        {"file": "django_pip_extra_packages", "line": number, "name": _name(text), "text": text}
        for number, text in enumerate(extra_packages or [], 1)
    ]
    ours = [item for item in listed if item["name"] in DRIVERS.get(engine, ())]
    others = [
        (other, item) for other, names in DRIVERS.items() if other != engine
        for item in listed if item["name"] in names
    ]
    packages = list(extra_packages or [])
    if ours:
        return {"checksums": checksums, "packages": packages, "driver": ours[0], "error": ""}
    if others:
        other, item = others[0]
        where = f"{item['file']} line {item['line']}" if item["line"] else item["file"]
        return {"checksums": checksums, "packages": packages, "driver": None, "error": (
            f"django: {where} ({item['text']}) installs {item['name']}, a database driver for {other},"
            f" but stack_db_engine is {engine}, whose driver is {' or '.join(DRIVERS[engine])}:"
            f" Django could not connect with it. Replace that line with {engine}'s driver (or drop it and"
            f" the role adds {driver_package or 'none: django_pip_driver_package is empty'}), name this"
            f" engine's requirements file in django_requirements_files, or set stack_db_engine: {other}."
        )}
    if driver_package:
        packages.append(driver_package)
    return {"checksums": checksums, "packages": packages, "driver": None, "error": ""}


# As files/django_stack_requirements.py reads a name (a filter plugin cannot import the
# role's files): a PEP 508 name at the start, PEP 503-normalized.
NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?=$|[\[<>=!~;@ (])")


def _name(text):
    found = NAME.match(str(text))
    return re.sub(r"[-_.]+", "-", found.group(1)).lower() if found else None


def django_requirements_file(scan, release_dir, packages):
    """The text of the one requirements file pip installs the virtualenv from: each
    entry of django_requirements_files as `-r` its absolute path in the release (pip
    reads the files it includes relative to it), a pyproject.toml's dependencies as
    they are, then the packages the role adds."""
    lines = []
    pyproject = (scan or {}).get("pyproject", {})
    for entry in (scan or {}).get("entries", []):
        normalized = posixpath.normpath(entry)
        if normalized in pyproject:
            lines.append(f"# {entry}: [project] dependencies")
            lines.extend(pyproject[normalized])
        else:
            lines.append(f"--requirement={release_dir}/{normalized}")
    if packages:
        lines.append("# Added by the django role")
        lines.extend(packages)
    return "".join(line + "\n" for line in lines)


class FilterModule:
    def filters(self):
        return {
            "django_requirements_plan": django_requirements_plan,
            "django_requirements_file": django_requirements_file,
        }
