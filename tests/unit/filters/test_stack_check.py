"""roles/stack/filter_plugins/stack_check.py: the package lists of check mode on a host
without python3-apt."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("stack_check", ROOT / "roles/stack/filter_plugins/stack_check.py")
check = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(check)


def test_every_filter_is_registered():
    assert set(check.FilterModule().filters()) == {"stack_installed_packages", "stack_packages_to_install"}


def test_installed_packages_only_current_state_installed():
    lines = ["ii  bash", "hi  sudo", "rc  apache2", "un  python3-apt", "iU  half", "", "garbage"]
    assert check.stack_installed_packages(lines) == ["bash", "sudo"]


def test_packages_to_install_keeps_order_and_spelling():
    installed = ["bash", "python3", "locales"]
    wanted = ["locales", "postgresql", "python3:amd64", "apache2=2.4.62-1", "libpq-dev>=15", "postgresql"]
    assert check.stack_packages_to_install(wanted, installed) == ["postgresql", "apache2=2.4.62-1", "libpq-dev>=15"]


def test_nothing_to_install():
    assert check.stack_packages_to_install([], ["bash"]) == []
    assert check.stack_packages_to_install(["bash"], ["bash"]) == []
