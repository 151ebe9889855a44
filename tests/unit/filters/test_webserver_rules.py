"""roles/webserver/filter_plugins/webserver_rules.py: the webserver role's input rules."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("webserver_rules", ROOT / "roles/webserver/filter_plugins/webserver_rules.py")
rules = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(rules)

SETTINGS = {
    "webserver_server_name": "www.example.com",
    "webserver_http_port": 80,
    "webserver_https_port": 443,
    "webserver_https": True,
    "webserver_modules": ["headers", "proxy_http"],
    "webserver_snippet_dir": "/etc/apache2/django-stack.d",
    "webserver_tls_certificate": "",
    "webserver_tls_certificate_key": "",
}


def test_the_defaults_pass():
    assert rules.webserver_input_errors(SETTINGS) == []
    assert rules.webserver_input_errors(dict(SETTINGS, webserver_server_name="192.0.2.7")) == []


@pytest.mark.parametrize("change,expected", [
    ({"webserver_server_name": "https://www.example.com/"}, "webserver_server_name must be a host name or an address"),
    ({"webserver_http_port": 0}, "webserver_http_port must be a port from 1 to 65535 (got 0)"),
    ({"webserver_https_port": 70000}, "webserver_https_port must be a port from 1 to 65535 (got 70000)"),
    ({"webserver_https_port": 80}, "must differ when webserver_https is on (both are 80)"),
    ({"webserver_modules": ["proxy http"]}, "these are not: 'proxy http'"),
    ({"webserver_snippet_dir": "conf.d"}, "webserver_snippet_dir must be an absolute path (got 'conf.d')"),
    ({"webserver_tls_certificate": "files/site.crt"}, "only webserver_tls_certificate is set"),
])
def test_each_rule_names_its_variable(change, expected):
    errors = rules.webserver_input_errors(dict(SETTINGS, **change))
    assert len(errors) == 1 and expected in errors[0], errors
