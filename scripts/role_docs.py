#!/usr/bin/env python3
"""Keep each role's inputs documented in one place and agreeing everywhere.

meta/argument_specs.yml is the source: for every role under roles/ this script writes
the table of its variables (every entry point) into roles/<role>/README.md, between
the two marker comments below, and checks that the spec and defaults/main.yml agree:

- every variable in defaults/main.yml is an option of one of the role's entry points;
- an option whose default is a plain value has that value as its spec `default`, of
  the spec's type and among its choices;
- an option whose default is derived with Jinja in defaults/main.yml has no spec
  `default`: Ansible never applies a spec default (role defaults do), so a literal
  there could only disagree with the real value (as django_db_host's once did). The
  table shows the expression instead, marked "derived";
- an option with no value in defaults/main.yml is required (the caller must name it).

    scripts/role_docs.py           rewrite the READMEs' tables, report disagreements
    scripts/role_docs.py --check   change nothing; fail naming each stale README and
                                   each disagreement (make test runs this)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

BEGIN = "<!-- BEGIN GENERATED VARIABLES: scripts/role_docs.py writes this part from meta/argument_specs.yml -->"
END = "<!-- END GENERATED VARIABLES -->"

# Values a role computes for other roles to read, not inputs. They stay out of the
# argument spec because Ansible templates every spec option when the role starts, and
# these read other hosts' published addresses, which exist only after the stack role's
# own checks ran. The check still fails if one of them disappears from defaults or
# turns up in the spec, so this list cannot go stale unnoticed.
DERIVED_OUTPUTS = {
    "stack": ("stack_db_host", "stack_app_addresses", "stack_site_app_hosts", "stack_lb_backends"),
}

# Longer derived expressions are pointed at rather than squeezed into a table cell.
MAX_EXPRESSION = 90

TYPE_CHECKS = {
    "str": lambda v: isinstance(v, str),
    "path": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
}


def load_yaml(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def is_derived(value) -> bool:
    """True when the value holds Jinja anywhere (Ansible computes it at run time)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, list):
        return any(is_derived(item) for item in value)
    if isinstance(value, dict):
        return any(is_derived(item) for item in value.values())
    return False


def format_value(value) -> str:
    """A value as it reads in YAML, compactly; strings bare unless that would mislead."""
    if isinstance(value, str) and value:
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            return value
    return json.dumps(value)


def cell(text: str) -> str:
    """Text fit for one Markdown table cell (Jinja's filters use the pipe)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text: str) -> str:
    return "`" + cell(text) + "`"


def describe_type(option: dict) -> str:
    kind = option.get("type", "str")
    if kind == "list" and "elements" in option:
        return f"list of {option['elements']}"
    return kind


def describe_default(name: str, option: dict, defaults: dict) -> str:
    if name in defaults and is_derived(defaults[name]):
        expression = " ".join(format_value(defaults[name]).split())
        if len(expression) > MAX_EXPRESSION:
            return "derived, see `defaults/main.yml`"
        return "derived: " + code(expression)
    if "default" in option:
        return code(format_value(option["default"]))
    return ""


def description(option: dict) -> str:
    text = option.get("description", "")
    if isinstance(text, list):
        text = " ".join(text)
    if option.get("no_log"):
        text += " (secret: never logged)"
    # Outside a code span, <django_root> would be read as an HTML tag and vanish.
    return cell(text).replace("<", "&lt;").replace(">", "&gt;")


def option_rows(options: dict, defaults: dict, prefix: str = "") -> list[str]:
    rows = []
    for name, option in options.items():
        option = option or {}
        choices = ", ".join(code(format_value(c)) for c in option.get("choices", []))
        shown = prefix + name
        rows.append(
            f"| {code(shown)} | {describe_type(option)} | "
            f"{describe_default(name, option, defaults if not prefix else {})} | "
            f"{'yes' if option.get('required') else ''} | {choices} | {description(option)} |"
        )
        if option.get("options"):
            inner = shown + ("[]." if option.get("type") == "list" else ".")
            rows.extend(option_rows(option["options"], {}, inner))
    return rows


def render_table(specs: dict, defaults: dict, derived_outputs=()) -> str:
    """The generated part of a README: one table per entry point."""
    parts = []
    for entry, spec in specs.items():
        parts.append(f"### Entry point `{entry}`")
        parts.append("")
        if spec.get("short_description"):
            parts.append(cell(spec["short_description"]))
            parts.append("")
        parts.append("| Variable | Type | Default | Required | Choices | Description |")
        parts.append("| --- | --- | --- | --- | --- | --- |")
        parts.extend(option_rows(spec.get("options") or {}, defaults))
        parts.append("")
    if derived_outputs:
        names = ", ".join(code(name) for name in derived_outputs)
        parts.append(
            f"Computed by the role for the others to read, not inputs (see `defaults/main.yml`): {names}."
        )
        parts.append("")
    return "\n".join(parts).rstrip("\n")


def replace_generated(text: str, table: str) -> str:
    """The README text with the part between the markers replaced by table.

    A README without the markers gets them, and the table, at its end."""
    block = f"{BEGIN}\n\n{table}\n\n{END}"
    start = text.find(BEGIN)
    stop = text.find(END)
    if start == -1 or stop == -1 or stop < start:
        return text.rstrip("\n") + "\n\n## Variables\n\n" + block + "\n"
    return text[:start] + block + text[stop + len(END):]


def check_role(role: str, specs: dict, defaults: dict, derived_outputs=()) -> list[str]:
    """Disagreements between a role's argument spec and its defaults, one line each."""
    problems = []
    where = f"roles/{role}"
    in_spec = set()
    for spec in specs.values():
        in_spec.update((spec.get("options") or {}).keys())

    for name in derived_outputs:
        if name not in defaults:
            problems.append(f"{where}: derived value {name} is not in defaults/main.yml any more")
        if name in in_spec:
            problems.append(f"{where}: derived value {name} is an argument spec option: it is not an input")

    for name in defaults:
        if name.startswith("__") or name in derived_outputs or name in in_spec:
            continue
        problems.append(f"{where}: {name} is in defaults/main.yml but in no entry point of meta/argument_specs.yml")

    for entry, spec in specs.items():
        for name, option in (spec.get("options") or {}).items():
            option = option or {}
            label = f"{where}: {name} (entry point {entry})"
            if name not in defaults:
                if "default" in option:
                    problems.append(
                        f"{label}: the spec's default {format_value(option['default'])} is not in defaults/main.yml, "
                        "where Ansible would take it from"
                    )
                elif not option.get("required"):
                    problems.append(f"{label}: neither required nor given a value in defaults/main.yml")
                continue
            value = defaults[name]
            if is_derived(value):
                if "default" in option:
                    problems.append(
                        f"{label}: the spec's default {format_value(option['default'])} is not the real one, "
                        f"which defaults/main.yml derives: {' '.join(format_value(value).split())}"
                    )
                continue
            if "default" not in option:
                problems.append(f"{label}: the spec gives no default; defaults/main.yml has {format_value(value)}")
            elif option["default"] != value:
                problems.append(
                    f"{label}: the spec's default {format_value(option['default'])} "
                    f"differs from defaults/main.yml's {format_value(value)}"
                )
            kind = option.get("type", "str")
            if value is not None and kind in TYPE_CHECKS and not TYPE_CHECKS[kind](value):
                problems.append(f"{label}: defaults/main.yml's {format_value(value)} is not of type {kind}")
            # A list's choices are its elements' (as validate_argument_spec reads them).
            values = value if kind == "list" and isinstance(value, list) else [value]
            if "choices" in option and any(v not in option["choices"] for v in values):
                problems.append(f"{label}: defaults/main.yml's {format_value(value)} is not one of {option['choices']}")
    return problems


def roles_in(roles_dir: Path) -> list[Path]:
    return sorted(p.parent.parent for p in roles_dir.glob("*/meta/argument_specs.yml"))


def process(roles_dir: Path, check: bool) -> list[str]:
    """Refresh (or, with check, only compare) every README; return what is wrong."""
    problems = []
    for role_dir in roles_in(roles_dir):
        role = role_dir.name
        specs = (load_yaml(role_dir / "meta" / "argument_specs.yml") or {}).get("argument_specs") or {}
        defaults_file = role_dir / "defaults" / "main.yml"
        defaults = (load_yaml(defaults_file) if defaults_file.exists() else None) or {}
        derived = DERIVED_OUTPUTS.get(role, ())
        problems.extend(check_role(role, specs, defaults, derived))

        readme = role_dir / "README.md"
        current = readme.read_text(encoding="utf-8") if readme.exists() else f"# {role}\n"
        wanted = replace_generated(current, render_table(specs, defaults, derived))
        if wanted == current:
            continue
        if check:
            problems.append(f"roles/{role}/README.md is out of date: run scripts/role_docs.py (make docs)")
        else:
            readme.write_text(wanted, encoding="utf-8")
            print(f"wrote roles/{role}/README.md")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail when a README is out of date")
    parser.add_argument("--roles-dir", type=Path, default=Path(__file__).resolve().parent.parent / "roles")
    args = parser.parse_args(argv)
    problems = process(args.roles_dir, args.check)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
