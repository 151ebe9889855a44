"""scripts/role_docs.py: the generated tables, the markers, --check and the agreement
between a role's argument spec and its defaults."""

import importlib.util
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "role_docs.py"
spec = importlib.util.spec_from_file_location("role_docs", SCRIPT)
role_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(role_docs)

SPECS = {
    "main": {
        "short_description": "A demo role.",
        "options": {
            "demo_port": {"type": "int", "default": 80, "description": "The port."},
            "demo_mode": {"type": "str", "choices": ["a", "b"], "default": "a", "description": "A | B."},
            "demo_root": {"type": "path", "description": "Under <demo_root>."},
            "demo_token": {"type": "str", "required": True, "no_log": True, "description": "A token."},
            "demo_items": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "description": "Items.",
                "options": {"name": {"type": "str", "required": True, "description": "Its name."}},
            },
        },
    }
}
DEFAULTS = {"demo_port": 80, "demo_mode": "a", "demo_root": "/srv/{{ demo_name }}", "demo_items": []}


def rows(table):
    """Table rows by variable name, as lists of cells."""
    found = {}
    for line in table.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            found[cells[0].strip("`")] = cells
    return found


def test_table_renders_type_default_required_choices_and_description():
    table = role_docs.render_table(SPECS, DEFAULTS)
    by_name = rows(table)
    assert "### Entry point `main`" in table
    assert by_name["demo_port"] == ["`demo_port`", "int", "`80`", "", "", "The port."]
    # The pipe inside a cell is escaped, or it would split the cell.
    assert by_name["demo_mode"][4] == "`a`, `b`"
    assert by_name["demo_mode"][5] == "A \\| B."
    assert by_name["demo_token"][3] == "yes"
    assert "(secret: never logged)" in by_name["demo_token"][5]
    assert by_name["demo_items"][1] == "list of dict"
    assert by_name["demo_items[].name"][3] == "yes"


def test_a_derived_default_is_shown_as_the_expression_and_angle_brackets_survive():
    by_name = rows(role_docs.render_table(SPECS, DEFAULTS))
    assert by_name["demo_root"][2] == "derived: `/srv/{{ demo_name }}`"
    assert by_name["demo_root"][5] == "Under &lt;demo_root&gt;."
    long_value = {"demo_root": "{{ " + " + ".join(["x"] * 60) + " }}"}
    assert rows(role_docs.render_table(SPECS, long_value))["demo_root"][2] == "derived, see `defaults/main.yml`"


def test_derived_outputs_are_named_after_the_tables():
    table = role_docs.render_table(SPECS, DEFAULTS, ("demo_host",))
    assert table.endswith("not inputs (see `defaults/main.yml`): `demo_host`.")


def test_only_the_part_between_the_markers_is_replaced():
    text = f"# demo\n\nintro\n\n{role_docs.BEGIN}\n\nold table\n\n{role_docs.END}\n\nafter\n"
    new = role_docs.replace_generated(text, "NEW")
    assert new == f"# demo\n\nintro\n\n{role_docs.BEGIN}\n\nNEW\n\n{role_docs.END}\n\nafter\n"
    assert role_docs.replace_generated(new, "NEW") == new


def test_a_readme_without_markers_gets_them_at_the_end():
    new = role_docs.replace_generated("# demo\n\nintro\n", "NEW")
    assert new.startswith("# demo\n\nintro\n\n## Variables\n\n" + role_docs.BEGIN)
    assert new.endswith("NEW\n\n" + role_docs.END + "\n")


def test_agreeing_spec_and_defaults_have_no_problems():
    assert role_docs.check_role("demo", SPECS, DEFAULTS) == []


@pytest.mark.parametrize(
    ("defaults", "expected"),
    [
        ({**DEFAULTS, "demo_port": 8080}, "demo_port (entry point main): the spec's default 80 differs from defaults/main.yml's 8080"),
        ({**DEFAULTS, "demo_extra": 1}, "demo_extra is in defaults/main.yml but in no entry point"),
        ({**DEFAULTS, "demo_port": "{{ 80 }}"}, "demo_port (entry point main): the spec's default 80 is not the real one"),
        ({k: v for k, v in DEFAULTS.items() if k != "demo_port"}, "demo_port (entry point main): the spec's default 80 is not in defaults/main.yml"),
        ({**DEFAULTS, "demo_mode": "c"}, "demo_mode (entry point main): the spec's default a differs"),
    ],
)
def test_disagreements_are_reported_naming_the_variable(defaults, expected):
    problems = role_docs.check_role("demo", SPECS, defaults)
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith("roles/demo: ") for problem in problems)


def test_type_choice_and_missing_value_problems():
    specs = {
        "main": {
            "options": {
                "demo_flag": {"type": "bool", "default": "yes"},
                "demo_mode": {"type": "str", "choices": ["a"], "default": "c"},
                "demo_name": {"type": "str"},
            }
        }
    }
    problems = role_docs.check_role("demo", specs, {"demo_flag": "yes", "demo_mode": "c"})
    assert "roles/demo: demo_flag (entry point main): defaults/main.yml's \"yes\" is not of type bool" in problems
    assert "roles/demo: demo_mode (entry point main): defaults/main.yml's c is not one of ['a']" in problems
    assert "roles/demo: demo_name (entry point main): neither required nor given a value in defaults/main.yml" in problems


def test_every_entry_point_is_checked_against_the_same_defaults():
    specs = {**SPECS, "drain": {"options": {"demo_port": {"type": "int", "default": 81}}}}
    problems = role_docs.check_role("demo", specs, DEFAULTS)
    assert problems == ["roles/demo: demo_port (entry point drain): the spec's default 81 differs from defaults/main.yml's 80"]


def test_derived_outputs_must_stay_out_of_the_spec_and_in_the_defaults():
    problems = role_docs.check_role("demo", SPECS, DEFAULTS, ("demo_port", "demo_gone"))
    assert "roles/demo: derived value demo_port is an argument spec option: it is not an input" in problems
    assert "roles/demo: derived value demo_gone is not in defaults/main.yml any more" in problems


@pytest.fixture
def roles_dir(tmp_path):
    role = tmp_path / "roles" / "demo"
    (role / "meta").mkdir(parents=True)
    (role / "defaults").mkdir()
    (role / "meta" / "argument_specs.yml").write_text(
        textwrap.dedent(
            """\
            ---
            argument_specs:
              main:
                options:
                  demo_port:
                    type: int
                    default: 80
                    description: The port.
            """
        )
    )
    (role / "defaults" / "main.yml").write_text("---\n# The port.\ndemo_port: 80\n")
    (role / "README.md").write_text(f"# demo\n\nText.\n\n{role_docs.BEGIN}\n{role_docs.END}\n")
    return tmp_path / "roles"


def test_check_fails_on_a_stale_readme_and_the_write_mode_fixes_it(roles_dir, capsys):
    readme = roles_dir / "demo" / "README.md"
    before = readme.read_text()
    assert role_docs.main(["--check", "--roles-dir", str(roles_dir)]) == 1
    assert "roles/demo/README.md is out of date" in capsys.readouterr().err
    assert readme.read_text() == before  # --check writes nothing

    assert role_docs.main(["--roles-dir", str(roles_dir)]) == 0
    assert "| `demo_port` | int | `80` |" in readme.read_text()
    assert readme.read_text().startswith("# demo\n\nText.\n\n")
    assert role_docs.main(["--check", "--roles-dir", str(roles_dir)]) == 0

    # A hand edit inside the table is stale again.
    readme.write_text(readme.read_text().replace("The port.", "Some port."))
    assert role_docs.main(["--check", "--roles-dir", str(roles_dir)]) == 1


def test_check_fails_on_a_mismatch_even_with_a_fresh_readme(roles_dir, capsys):
    assert role_docs.main(["--roles-dir", str(roles_dir)]) == 0
    (roles_dir / "demo" / "defaults" / "main.yml").write_text("---\ndemo_port: 8080\n")
    assert role_docs.main(["--check", "--roles-dir", str(roles_dir)]) == 1
    assert "demo_port (entry point main): the spec's default 80 differs from defaults/main.yml's 8080" in capsys.readouterr().err


def test_the_project_roles_are_documented_and_agree():
    assert role_docs.main(["--check"]) == 0
