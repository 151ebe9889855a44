"""The loadbalancer role's input rules, which meta/argument_specs.yml cannot express.

tasks/validate.yml passes the role's variables in and fails with the messages this
returns; each message names the variable, what it holds and what is expected.
"""

import json
import re

# The time format HAProxy reads: a number and an optional unit (milliseconds without one).
TIME_REGEX = r"^[0-9]+(us|ms|s|m|h|d)?$"
TIME_VARIABLES = (
    "loadbalancer_check_interval",
    "loadbalancer_timeout_check",
    "loadbalancer_timeout_connect",
    "loadbalancer_timeout_client",
    "loadbalancer_timeout_server",
)
# What HAProxy's retry-on takes.
RETRY_KEYWORDS = (
    "none", "conn-failure", "empty-response", "junk-response", "response-timeout", "0rtt-rejected",
    "all-retryable-errors", "401", "403", "404", "408", "425", "500", "501", "502", "503", "504",
)


def to_int(value):
    """A number as Jinja's int filter reads it (0 when it is none)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _matches(pattern, value):
    # Ansible's regex test searches the value's text.
    return re.search(pattern, str(value)) is not None


def _port_ok(value):
    return 1 <= to_int(value) <= 65535


def loadbalancer_input_errors(settings, os_family, name_regex):
    """The broken rules in settings (the role's variables by name), as messages."""
    errors = []
    if os_family != "Debian":
        errors.append("this role supports Debian-family hosts (found %s)" % os_family)

    backends = settings["loadbalancer_backends"]
    names = [str(backend.get("name", "")) for backend in backends]
    addresses = [str(backend.get("address", "")) for backend in backends]
    ports = [to_int(backend.get("port", 80)) for backend in backends]
    if not backends:
        errors.append("loadbalancer_backends must list at least one application host")
    if len(set(names)) != len(names):
        errors.append("loadbalancer_backends: names must be unique (found %s)" % ", ".join(names))
    bad_names = [name for name in names if not _matches(name_regex, name)]
    if bad_names:
        errors.append(
            "loadbalancer_backends: names may hold only letters, digits and - _ . : (found %s)"
            % ", ".join(json.dumps(name) for name in bad_names)
        )
    if any(not _matches(r"^\S+$", address) for address in addresses):
        errors.append(
            "loadbalancer_backends: every host needs an address without spaces (found %s)"
            % ", ".join(json.dumps(address) for address in addresses)
        )
    if not all(_port_ok(port) for port in ports):
        errors.append(
            "loadbalancer_backends: ports must be between 1 and 65535 (found %s)" % ", ".join(map(str, ports))
        )

    http_port = settings["loadbalancer_http_port"]
    if not _port_ok(http_port):
        errors.append("loadbalancer_http_port must be between 1 and 65535 (got %s)" % http_port)
    backend_name = settings["loadbalancer_backend_name"]
    if not _matches(name_regex, backend_name):
        errors.append(
            "loadbalancer_backend_name may hold only letters, digits and - _ . : (got %s)" % json.dumps(backend_name)
        )
    health_path = settings["loadbalancer_health_path"]
    if not _matches(r"^/\S*$", health_path):
        errors.append(
            "loadbalancer_health_path must start with / and hold no spaces (got %s)" % json.dumps(health_path)
        )
    health_host = settings["loadbalancer_health_host"]
    if not _matches(r"^[A-Za-z0-9_.:-]+$", health_host):
        errors.append(
            "loadbalancer_health_host must be a host name without spaces (got %s)" % json.dumps(health_host)
        )
    for name in TIME_VARIABLES:
        if not _matches(TIME_REGEX, settings[name]):
            errors.append("%s must be an HAProxy time like 2s or 500ms (got %s)" % (name, json.dumps(str(settings[name]))))

    rise, fall = settings["loadbalancer_check_rise"], settings["loadbalancer_check_fall"]
    if to_int(rise) < 1 or to_int(fall) < 1:
        errors.append("loadbalancer_check_rise and loadbalancer_check_fall must be at least 1 (got %s, %s)" % (rise, fall))
    retries = settings["loadbalancer_retries"]
    if to_int(retries) < 0:
        errors.append("loadbalancer_retries must not be negative (got %s)" % retries)
    retry_on = [str(keyword) for keyword in settings["loadbalancer_retry_on"]]
    unknown = [keyword for keyword in retry_on if keyword not in RETRY_KEYWORDS]
    if not retry_on:
        errors.append("loadbalancer_retry_on must list at least one keyword (HAProxy knows %s)" % ", ".join(RETRY_KEYWORDS))
    if unknown:
        errors.append(
            "loadbalancer_retry_on: unknown keywords %s (HAProxy knows %s)" % (", ".join(unknown), ", ".join(RETRY_KEYWORDS))
        )
    stats_socket = settings["loadbalancer_stats_socket"]
    if not _matches(r"^/\S+$", stats_socket):
        errors.append("loadbalancer_stats_socket must be an absolute path (got %s)" % json.dumps(stats_socket))
    return errors


class FilterModule:
    def filters(self):
        return {"loadbalancer_input_errors": loadbalancer_input_errors}
