"""The django role's input rules, as a filter: tasks/validate.yml passes the role's
variables in by name and the stack role's tasks/validate_role.yml reports the messages.
Each message names the variable, what it holds (never a secret) and what is expected;
only the rules that fail give one."""

import re

APP_NAME = r"[a-z][a-z0-9_-]{0,31}"
DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
# gunicorn's forms: module:callable, the module dotted, or the module alone (its
# `application`).
WSGI = r"%s(:[A-Za-z_][A-Za-z0-9_]*)?" % DOTTED
# A Host header: a name or address, with a port perhaps, or an IPv6 address in brackets.
HOST_HEADER = r"([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?"
# An entry of Django's ALLOWED_HOSTS: '*', a host name or address, a leading dot for
# every subdomain, or an IPv6 address in brackets.
ALLOWED_HOST = r"\*|\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\]"
ORIGIN = r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?"
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
# Written into a unit file: one line, none of the characters quoting needs.
CALENDAR = r"[0-9A-Za-z*:,./~ +-]+"
# Django's deployment check (security.W009) refuses a key shorter than 50 characters,
# with fewer than 5 distinct ones, or with the prefix startproject writes.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE = 5
SECRET_KEY_INSECURE_PREFIX = "django-insecure-"


def _number(value):
    return not isinstance(value, bool) and isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def _port(value):
    return _number(value) and 1 <= int(value) <= 65535


def _full(pattern, value):
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def django_secret_key_errors(key):
    """Why Django's `check --deploy` would refuse this secret key (empty: generated)."""
    if key == "":
        return []
    reasons = []
    if len(key) < SECRET_KEY_MIN_LENGTH:
        reasons.append("it has %d characters, Django wants at least %d" % (len(key), SECRET_KEY_MIN_LENGTH))
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE:
        reasons.append("it has %d distinct characters, Django wants at least %d" % (len(set(key)), SECRET_KEY_MIN_UNIQUE))
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        reasons.append("it starts with '%s', the prefix of a development key" % SECRET_KEY_INSECURE_PREFIX)
    if not reasons:
        return []
    return [
        "django_secret_key would fail Django's deployment check: %s (the key is not shown; leave it empty to "
        "have one generated)" % "; ".join(reasons)
    ]


def django_input_errors(settings, found):
    """The django role's names, hosts, source, retention, schedule, secret key and
    environment. `found` holds what the tasks looked up: local_source_dir (the project's
    directory on the control node, the bundled one's for django_source 'bundled'),
    has_manage_py (whether it holds one), env_unsafe_names (django_env_unsafe's answer)
    and calendar_error (what `systemd-analyze calendar` said of the schedule, if it failed)."""
    errors = []
    local_source_dir = found["local_source_dir"]
    value = settings["django_app_name"]
    if not _full(APP_NAME, value):
        errors.append(
            "django_app_name must be a short lower-case name (a letter, then letters, digits, _ or -, at most "
            "32 characters) (got '%s')" % value
        )
    hosts = settings["django_allowed_hosts"]
    if not hosts:
        errors.append("django_allowed_hosts must list the host names the site answers to (got an empty list)")
    bad = [host for host in hosts if not _full(ALLOWED_HOST, host)]
    if bad:
        errors.append(
            "django_allowed_hosts entries must be host names, addresses, '.example.com' or '*'; these are not: %s"
            % ", ".join("'%s'" % host for host in bad)
        )
    bad = [origin for origin in settings["django_csrf_trusted_origins"] if not _full(ORIGIN, origin)]
    if bad:
        errors.append(
            "django_csrf_trusted_origins entries must be origins like https://www.example.com; these are not: %s"
            % ", ".join("'%s'" % origin for origin in bad)
        )
    value = settings["django_settings_module"]
    if not _full(DOTTED, value):
        errors.append("django_settings_module must be a dotted module path like mysite.settings (got '%s')" % value)
    value = settings["django_wsgi_module"]
    if not _full(WSGI, value):
        errors.append(
            "django_wsgi_module must look like package.module or package.module:callable, e.g. mysite.wsgi or "
            "mysite.wsgi:application (got '%s')"
            % value
        )
    source = settings["django_source"]
    if source == "local" and not settings["django_source_dir"]:
        errors.append("django_source_dir must name the project's directory when django_source is 'local'")
    elif source != "git" and not found["has_manage_py"]:
        errors.append(
            "django_source_dir '%s' does not exist or has no manage.py (django_source is '%s')"
            % (local_source_dir, source)
        )
    if source == "git":
        for name in ("django_source_git_repo", "django_source_git_version"):
            if not settings[name]:
                errors.append("%s must not be empty when django_source is 'git'" % name)
    for name, lowest in (
        ("django_releases_keep", 1),
        ("django_backups_keep", 1),
        ("django_backup_keep_daily", 1),
        ("django_backup_keep_weekly", 0),
    ):
        if settings[name] < lowest:
            errors.append("%s must be at least %d (got %s)" % (name, lowest, settings[name]))
    value = settings["django_backup_schedule"]
    if not _full(CALENDAR, value):
        errors.append(
            "django_backup_schedule must be a systemd calendar expression such as '*-*-* 03:30:00' (got '%s')" % value
        )
    elif found.get("calendar_error"):
        errors.append(
            "django_backup_schedule '%s' is not a calendar expression systemd reads: %s" % (value, found["calendar_error"])
        )
    for name in ("django_root", "django_backup_copy_dir"):
        if not (isinstance(settings[name], str) and settings[name].startswith("/") and "'" not in settings[name]):
            errors.append("%s must be an absolute path without quotes (got '%s')" % (name, settings[name]))
    value = settings["django_health_path"]
    if value and not _full(r"/[A-Za-z0-9._~/?=&%-]*", value):
        errors.append("django_health_path must be a URL path starting with / like /health/, or empty (got '%s')" % value)
    value = settings["django_health_host"]
    if value and not _full(HOST_HEADER, value):
        errors.append("django_health_host must be a host name or address, a port perhaps, or empty (got '%s')" % value)
    for name in ("django_gunicorn_port", "django_db_port"):
        if not _port(settings[name]):
            errors.append("%s must be a port from 1 to 65535 (got %s)" % (name, settings[name]))
    for name, lowest in (("django_gunicorn_workers", 0), ("django_rolling_batch", 1), ("django_health_retries", 1),
                         ("django_migrate_lock_timeout", 1),
                         ("django_migrate_lock_retries", 0), ("django_migrate_lock_retry_delay", 0),
                         ("django_source_inline_max_kb", 0)):
        if not _number(settings[name]) or int(settings[name]) < lowest:
            errors.append("%s must be a whole number of at least %d (got %s)" % (name, lowest, settings[name]))
    value = settings["django_superuser_email"]
    if value and not _full(EMAIL, value):
        errors.append("django_superuser_email must be an email address (got '%s')" % value)
    errors += django_secret_key_errors(settings["django_secret_key"])
    env_unsafe_names = found["env_unsafe_names"]
    if env_unsafe_names:
        errors.append(
            "the application's environment (django_extra_env, the database settings and the secret key) may not "
            "hold a single quote or a line break in a value, and names must be shell variable names; offending "
            "names: %s" % ", ".join(env_unsafe_names)
        )
    return errors


class FilterModule:
    def filters(self):
        return {
            "django_input_errors": django_input_errors,
            "django_secret_key_errors": django_secret_key_errors,
        }
