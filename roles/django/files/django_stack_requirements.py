#!/usr/bin/env python3
"""A Django project's requirements, read the way pip will read them.

    django_stack_requirements.py ROOT ENTRY...

ENTRY is a path inside ROOT (the project, manage.py's directory): a requirements file,
or a pyproject.toml whose [project] dependencies (PEP 621) are the requirements (the
project itself is not installed: a Django project's flat layout is rarely a package).
Prints JSON:

    {"entries": [ENTRY...],
     "files": [[PATH, SHA256], ...]     every file read: the entries in order, then the
                                        files they include (-r, -c), first seen first,
     "missing": [PATH...],
     "errors": [MESSAGE...],            an include cycle, a pyproject without dependencies
     "requirements": [{"file", "line", "name", "text"}...]   every named requirement,
     "pyproject": {ENTRY: [DEPENDENCY...]}}

The django role runs it on the host for a git source (fed on standard input to
/usr/bin/python3) and imports it on the control node, where pack_source.py packs a
local source. Standard library only; tomllib needs Python 3.11.
"""

import hashlib
import json
import os
import re
import sys

# How pip reads a requirements file: a comment starts at a `#` at the start of a line
# or after white space; a line ending in a backslash goes on on the next one.
COMMENT = re.compile(r"(^|\s+)#.*$")
INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?<=^-[rc]))(\S+)")
# A PEP 508 name at the start of a line; a path or a URL (./x, /x, git+https://...) is
# not one, and says nothing about which packages it brings.
NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?=$|[\[<>=!~;@ (])")


def normalize(name):
    """PEP 503: Psycopg2_Binary and psycopg2-binary are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(text):
    """The normalized package name a requirement line installs, or None for options
    (-e, --hash, -i...), paths and URLs."""
    text = text.strip()
    if not text or text.startswith("-") or "://" in text.split("@", 1)[0]:
        return None
    found = NAME.match(text)
    return normalize(found.group(1)) if found else None


def logical_lines(text):
    """(first line number, line) for each line pip sees, comments stripped."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        line = COMMENT.sub("", raw)
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line, pending = (pending + line).strip(), ""
        if line:
            yield start, line
    if pending.strip():
        yield start, pending.strip()


class Scan:
    def __init__(self, root, entries):
        self.root = root
        self.result = {"entries": list(entries), "files": [], "missing": [], "errors": [],
                       "requirements": [], "pyproject": {}}
        self.read = {}
        self.parsed = set()

    def _content(self, path):
        """The file's text (None when it is missing), hashed once."""
        if path not in self.read:
            try:
                with open(os.path.join(self.root, path), "rb") as handle:
                    data = handle.read()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                self.read[path] = None
                self.result["missing"].append(path)
            else:
                self.read[path] = data.decode("utf-8", errors="replace")
                self.result["files"].append([path, hashlib.sha256(data).hexdigest()])
        return self.read[path]

    def requirements_file(self, path, chain=(), constraints=False):
        # A file included twice (not in a cycle) lists its requirements once.
        if (path, constraints) in self.parsed:
            return
        self.parsed.add((path, constraints))
        text = self._content(path)
        if text is None:
            return
        for number, line in logical_lines(text):
            include = INCLUDE.match(line)
            if include:
                target = include.group(2)
                if "://" in target:
                    continue
                # pip reads an included file relative to the file that includes it.
                target = os.path.normpath(os.path.join(os.path.dirname(path), target))
                if target in chain + (path,):
                    self.result["errors"].append(
                        f"{path} line {number} includes {target}, which includes {path} again:"
                        " pip cannot install requirements files that include each other in a cycle."
                    )
                    continue
                # A constraints file only limits versions: hashed, but lists nothing.
                self.requirements_file(target, chain + (path,), constraints or include.group(1) in ("-c", "--constraint"))
                continue
            name = requirement_name(line)
            if name and not constraints:
                self.result["requirements"].append({"file": path, "line": number, "name": name, "text": line})

    def pyproject(self, path):
        text = self._content(path)
        if text is None:
            return
        try:
            import tomllib
        except ImportError:
            # Python 3.10 (Ubuntu 22.04) has no TOML reader in its standard library.
            self.result["errors"].append(
                f"{path}: reading a pyproject.toml needs Python 3.11 or later (tomllib), and {sys.executable}"
                f" is {sys.version.split()[0]}. Export the dependencies to a requirements file (uv export"
                " --no-hashes, poetry export --without-hashes, pip-compile) and name that in django_requirements_files."
            )
            return
        try:
            project = tomllib.loads(text).get("project")
        except tomllib.TOMLDecodeError as error:
            self.result["errors"].append(f"{path} is not valid TOML: {error}.")
            return
        dependencies = project.get("dependencies") if isinstance(project, dict) else None
        if not isinstance(dependencies, list):
            dynamic = isinstance(project, dict) and "dependencies" in project.get("dynamic", [])
            why = "declares them dynamic" if dynamic else "has no [project] dependencies list (PEP 621)"
            self.result["errors"].append(
                f"{path} {why}, so the role cannot tell what to install. List the dependencies in"
                " [project] dependencies, or export them to a requirements file (uv export --no-hashes,"
                " poetry export --without-hashes, pip-compile) and name that in django_requirements_files."
            )
            return
        lines = text.splitlines()
        self.result["pyproject"][path] = [str(item) for item in dependencies]
        for item in self.result["pyproject"][path]:
            # TOML keeps no line numbers: the first line that quotes the dependency.
            number = next((n for n, line in enumerate(lines, 1) if f'"{item}"' in line or f"'{item}'" in line), 0)
            name = requirement_name(item)
            if name:
                self.result["requirements"].append({"file": path, "line": number, "name": name, "text": item})

    def run(self):
        entries = [os.path.normpath(entry) for entry in self.result["entries"]]
        # The entries' own checksums come first, in their order, as they named the
        # virtualenv before includes were followed.
        for entry in entries:
            self._content(entry)
        for entry in entries:
            if os.path.basename(entry) == "pyproject.toml":
                self.pyproject(entry)
            else:
                self.requirements_file(entry)
        return self.result


def scan(root, entries):
    return Scan(root, entries).run()


def main(argv):
    if len(argv) < 2:
        sys.exit("usage: django_stack_requirements.py ROOT ENTRY...")
    print(json.dumps(scan(argv[0], argv[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
