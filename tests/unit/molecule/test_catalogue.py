"""molecule/preflight/catalogue.py: how a bad-input case is judged (no containers)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("catalogue", ROOT / "molecule/preflight/catalogue.py")
catalogue = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(catalogue)

REFUSED = """fatal: [a]: FAILED! =>
    msg: |-
        1 wrong input(s), nothing was changed on any host:
        pgadmin: pgadmin_port must be a port from 1024 to 65535 (got 80)

PLAY RECAP *********************************************************************
a                          : ok=30   changed=0    unreachable=0    failed=1
"""


def test_a_refusal_naming_the_variable_passes():
    assert catalogue.check_output(2, REFUSED, ["pgadmin: pgadmin_port must be a port from 1024"], {"pgadmin_port": 80}) == []


def test_each_way_a_case_can_fail_is_seen():
    assert "the run succeeded" in catalogue.check_output(0, REFUSED, [], {})
    assert catalogue.check_output(2, REFUSED, ["django: django_allowed_hosts"], {}) == [
        "the output does not say: django: django_allowed_hosts"]
    changed = REFUSED.replace("changed=0", "changed=13")
    assert catalogue.check_output(2, changed, [], {}) == ["the recap is not changed=0 everywhere: ['13']"]
    assert "no preflight report in the output" in catalogue.check_output(2, "PLAY RECAP\na : changed=0", [], {})
    leaked = REFUSED + "stack_db_password: it's-long-enough\n"
    assert catalogue.check_output(2, leaked, [], {"stack_db_password": "it's-long-enough"}) == [
        "a secret value of the case is in the output"]


def test_only_secret_values_are_searched():
    assert catalogue.secrets_of({"stack_db_password": "pw12345", "django_secret_key": "abcdefghij",
                                 "django_app_name": "Book Store", "phpmyadmin_blowfish_secret": "tooshort"}) == [
        "pw12345", "abcdefghij", "tooshort"]


def test_state_differences_are_summed_up():
    before = {"packages": "a 1\nb 1", "accounts": "root:0", "new files": ""}
    after = {"packages": "a 1\nb 1\nc 2", "accounts": "root:0", "new files": "/etc/x"}
    assert catalogue.diff_state(before, after) == "packages: +1 ['c 2'] -0 []; new files: +1 ['/etc/x'] -0 []"
    assert catalogue.diff_state(before, dict(before)) == ""


def test_the_catalogue_is_large_and_every_case_names_a_variable():
    cases = catalogue.CASES + catalogue.SITE_CASES
    assert len(cases) >= 25
    assert all(any(": " in text for text in case[-1]) for case in cases)
    assert len({case[0] for case in cases}) == len(cases)
