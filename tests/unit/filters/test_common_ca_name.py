"""The common role's name for an extra CA file on the host (filter_plugins/common_rules.py)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("common_rules", ROOT / "roles/common/filter_plugins/common_rules.py")
common = importlib.util.module_from_spec(spec)
spec.loader.exec_module(common)


@pytest.mark.parametrize("source,name", [
    ("files/proxy-ca.pem", "proxy-ca"),
    ("/abs/path/corp.crt", "corp"),
    ("plain", "plain"),
    ("ca.pem.crt", "ca.pem"),
    ("windows\\dir\\corp.pem", "corp"),
])
def test_common_ca_name(source, name):
    assert common.common_ca_name(source) == name


def test_common_ca_name_is_registered():
    assert common.FilterModule().filters()["common_ca_name"] is common.common_ca_name
