"""The webserver role's input rules, as a filter: tasks/validate.yml passes the role's
variables in by name and the stack role's tasks/validate_role.yml reports the messages.
Each message names the variable, what it holds and what is expected."""

import os.path
import re

# Apache's ServerName: a host name or an address (no scheme, no path).
SERVER_NAME = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9.]+|\[[0-9A-Fa-f:.]+\]"
MODULE = r"[a-z0-9_]+"


def _port(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def webserver_input_errors(settings):
    """Apache's server name, ports, modules, snippet directory and certificate files."""
    errors = []
    name = settings["webserver_server_name"]
    if not (isinstance(name, str) and re.fullmatch(SERVER_NAME, name)):
        errors.append("webserver_server_name must be a host name or an address, like www.example.com (got '%s')" % name)
    for key in ("webserver_http_port", "webserver_https_port"):
        if not _port(settings[key]):
            errors.append("%s must be a port from 1 to 65535 (got %s)" % (key, settings[key]))
    if settings["webserver_https"] and settings["webserver_http_port"] == settings["webserver_https_port"]:
        errors.append(
            "webserver_http_port and webserver_https_port must differ when webserver_https is on (both are %s)"
            % settings["webserver_http_port"]
        )
    bad = [module for module in settings["webserver_modules"] if not re.fullmatch(MODULE, str(module))]
    if bad:
        errors.append(
            "webserver_modules must list Apache module names like proxy_http; these are not: %s"
            % ", ".join("'%s'" % module for module in bad)
        )
    if not os.path.isabs(settings["webserver_snippet_dir"]):
        errors.append("webserver_snippet_dir must be an absolute path (got '%s')" % settings["webserver_snippet_dir"])
    certificate, key = settings["webserver_tls_certificate"], settings["webserver_tls_certificate_key"]
    if bool(certificate) != bool(key):
        errors.append(
            "give both webserver_tls_certificate and webserver_tls_certificate_key, or neither (for a self-signed "
            "certificate); only %s is set" % ("webserver_tls_certificate" if certificate else "webserver_tls_certificate_key")
        )
    return errors


class FilterModule:
    def filters(self):
        return {"webserver_input_errors": webserver_input_errors}
