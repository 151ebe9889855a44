"""The common and loadbalancer roles' input rules (filter_plugins in each role)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def load(relative):
    spec = importlib.util.spec_from_file_location(Path(relative).stem, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


common = load("roles/common/filter_plugins/common_rules.py")
loadbalancer = load("roles/loadbalancer/filter_plugins/loadbalancer_rules.py")
NAME_REGEX = "^[A-Za-z0-9_.:-]+$"  # the loadbalancer role's __loadbalancer_name_regex


# --- common --------------------------------------------------------------------------

def test_common_rules():
    good = {"common_locale": "en_US.UTF-8", "common_apt_cache_valid_time": 86400}
    assert common.common_input_errors(good, "Debian") == []
    assert common.common_input_errors(dict(good, common_apt_cache_valid_time=0), "Debian") == []
    assert common.common_input_errors(good, "RedHat") == ["this role supports Debian-family hosts (found RedHat)"]
    assert common.common_input_errors(dict(good, common_locale="C"), "Debian") == [
        "common_locale must be a UTF-8 locale like en_US.UTF-8 (got 'C')"
    ]
    errors = common.common_input_errors(dict(good, common_apt_cache_valid_time=-1), "Debian")
    assert len(errors) == 1 and "common_apt_cache_valid_time must be" in errors[0] and "not negative" in errors[0]


# --- loadbalancer --------------------------------------------------------------------

LB = {
    "loadbalancer_backends": [{"name": "app1", "address": "10.0.0.1"}, {"name": "app2", "address": "10.0.0.2", "port": 8000}],
    "loadbalancer_http_port": 80,
    "loadbalancer_backend_name": "django",
    "loadbalancer_health_path": "/health/",
    "loadbalancer_health_host": "localhost",
    "loadbalancer_check_interval": "2s",
    "loadbalancer_timeout_check": "2s",
    "loadbalancer_timeout_connect": 5000,
    "loadbalancer_timeout_client": "1m",
    "loadbalancer_timeout_server": "30s",
    "loadbalancer_check_rise": 2,
    "loadbalancer_check_fall": 3,
    "loadbalancer_retries": 0,
    "loadbalancer_retry_on": ["conn-failure", "503"],
    "loadbalancer_stats_socket": "/run/haproxy/admin.sock",
}


def lb(os_family="Debian", **changes):
    return loadbalancer.loadbalancer_input_errors(dict(LB, **changes), os_family, NAME_REGEX)


def test_loadbalancer_valid_input_passes():
    assert lb() == []


@pytest.mark.parametrize("changes,expected", [
    ({"os_family": "Alpine"}, "this role supports Debian-family hosts (found Alpine)"),
    ({"loadbalancer_backends": []}, "loadbalancer_backends must list at least one application host"),
    ({"loadbalancer_backends": [{"name": "a", "address": "x"}, {"name": "a", "address": "y"}]},
     "loadbalancer_backends: names must be unique (found a, a)"),
    ({"loadbalancer_backends": [{"name": "app 1", "address": "x"}]}, 'names may hold only letters, digits and - _ . : (found "app 1")'),
    ({"loadbalancer_backends": [{"name": "a", "address": "10.0.0 .1"}]}, "every host needs an address without spaces"),
    ({"loadbalancer_backends": [{"name": "a"}]}, 'every host needs an address without spaces (found "")'),
    ({"loadbalancer_backends": [{"name": "a", "address": "x", "port": 0}]}, "ports must be between 1 and 65535 (found 0)"),
    ({"loadbalancer_backends": [{"name": "a", "address": "x", "port": 65536}]}, "(found 65536)"),
    ({"loadbalancer_http_port": 0}, "loadbalancer_http_port must be between 1 and 65535 (got 0)"),
    ({"loadbalancer_backend_name": "my backend"}, 'loadbalancer_backend_name may hold only letters, digits and - _ . : (got "my backend")'),
    ({"loadbalancer_health_path": "health"}, "loadbalancer_health_path must start with / and hold no spaces"),
    ({"loadbalancer_health_host": "a host"}, "loadbalancer_health_host must be a host name without spaces"),
    ({"loadbalancer_timeout_server": "30 seconds"}, "loadbalancer_timeout_server must be an HAProxy time like 2s or 500ms"),
    ({"loadbalancer_check_interval": "2x"}, "loadbalancer_check_interval must be an HAProxy time"),
    ({"loadbalancer_check_rise": 0}, "loadbalancer_check_rise and loadbalancer_check_fall must be at least 1 (got 0, 3)"),
    ({"loadbalancer_check_fall": 0}, "(got 2, 0)"),
    ({"loadbalancer_retries": -1}, "loadbalancer_retries must not be negative (got -1)"),
    ({"loadbalancer_retry_on": ["conn-failure", "teapot"]}, "loadbalancer_retry_on: unknown keywords teapot (HAProxy knows none, "),
    ({"loadbalancer_retry_on": []}, "loadbalancer_retry_on must list at least one keyword"),
    ({"loadbalancer_stats_socket": "admin.sock"}, "loadbalancer_stats_socket must be an absolute path"),
])
def test_loadbalancer_rules(changes, expected):
    errors = lb(**changes)
    assert len(errors) == 1, errors
    assert expected in errors[0]


def test_loadbalancer_numbers_given_as_text_count():
    assert lb(loadbalancer_http_port="8080", loadbalancer_retries="3", loadbalancer_retry_on=[503]) == []
    assert lb(loadbalancer_http_port="eighty") == ["loadbalancer_http_port must be between 1 and 65535 (got eighty)"]


@pytest.mark.parametrize("module,name", [
    (common, "common_input_errors"), (loadbalancer, "loadbalancer_input_errors"),
])
def test_filters_are_registered(module, name):
    assert module.FilterModule().filters()[name] is getattr(module, name)
