"""The common role's input rules, which meta/argument_specs.yml cannot express, and
the name of a CA file on the host.

tasks/validate.yml passes the role's variables in and fails with the messages this
returns. (The common role does not depend on the stack role, whose filter plugin holds
the other roles' rules, so its rules live here.)
"""

import re

UTF8_LOCALE = r"^[A-Za-z]{2,3}(_[A-Z]{2})?\.(UTF-8|utf8)$"


def common_input_errors(settings, os_family):
    """The broken rules in settings (the role's variables by name), as messages."""
    errors = []
    if os_family != "Debian":
        errors.append("this role supports Debian-family hosts (found %s)" % os_family)
    locale = settings["common_locale"]
    if not isinstance(locale, str) or not re.search(UTF8_LOCALE, locale):
        errors.append("common_locale must be a UTF-8 locale like en_US.UTF-8 (got '%s')" % locale)
    valid_time = settings["common_apt_cache_valid_time"]
    try:
        seconds = int(valid_time)
    except (TypeError, ValueError):
        seconds = -1
    if seconds < 0:
        errors.append("common_apt_cache_valid_time must be a number of seconds, not negative (got %s)" % valid_time)
    return errors


def common_ca_name(source):
    """The name a CA file gets on the host: its file name without .pem or .crt.

    The role copies it as <name>.crt (update-ca-certificates reads only *.crt), and
    update-ca-certificates links it as /etc/ssl/certs/<name>.pem once it trusts it.
    """
    return re.sub(r"\.(pem|crt)$", "", str(source).replace("\\", "/").rsplit("/", 1)[-1])


class FilterModule:
    def filters(self):
        return {"common_input_errors": common_input_errors, "common_ca_name": common_ca_name}
