"""The settings layer: the project's own settings, then what a server deployment decides.

The django role writes this module to <django_root>/lib and points DJANGO_SETTINGS_MODULE
at it (django_settings_layer). Imported by Django, it imports the project's settings
module (DJANGO_STACK_PROJECT_SETTINGS), takes every upper-case name from it, and then
sets, over the project's values, the overrides named in DJANGO_STACK_OVERRIDES:

  database              DATABASES['default']: the stack's database (DJANGO_STACK_DB_*)
  secret_key            SECRET_KEY (DJANGO_SECRET_KEY)
  allowed_hosts         ALLOWED_HOSTS (DJANGO_ALLOWED_HOSTS)
  csrf_trusted_origins  CSRF_TRUSTED_ORIGINS (DJANGO_CSRF_TRUSTED_ORIGINS)
  static                STATIC_ROOT (DJANGO_STATIC_ROOT, the release's own) and STATIC_URL
  media                 MEDIA_ROOT (DJANGO_MEDIA_ROOT) and MEDIA_URL
  debug                 DEBUG (DJANGO_DEBUG)
  https                 the proxy header, the redirect, secure cookies and HSTS
                        (DJANGO_HTTPS), all off when the site is plain HTTP
  logging               LOGGING: everything to standard error, which the journal keeps

Every value comes from the environment the role writes (<django_root>/shared/env), so
this file holds no secret and is the same on every host. The rules are functions
(tests/unit/django/test_django_stack_settings.py); only the last lines do work, and
only when DJANGO_STACK_PROJECT_SETTINGS is set.
"""

import importlib
import os

OVERRIDES = (
    "database", "secret_key", "allowed_hosts", "csrf_trusted_origins",
    "static", "media", "debug", "https", "logging",
)
ENGINES = {
    "postgresql": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
}
# As the bundled project: 4-byte UTF-8 and strict mode, unless the project says otherwise.
MYSQL_OPTIONS = {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
HSTS_SECONDS = 31536000


def split_list(value):
    """A comma-separated variable as a list, without empty entries."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def is_true(value):
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def overrides_on(environ):
    """The overrides to apply: DJANGO_STACK_OVERRIDES, or all of them when it is unset.
    An unknown name is an error, not silently nothing (the role's argument specs list
    the same names)."""
    if "DJANGO_STACK_OVERRIDES" not in environ:
        return set(OVERRIDES)
    names = set(split_list(environ["DJANGO_STACK_OVERRIDES"]))
    unknown = sorted(names - set(OVERRIDES))
    if unknown:
        raise ValueError("DJANGO_STACK_OVERRIDES names unknown overrides: %s" % ", ".join(unknown))
    return names


def database(environ, project_default):
    """DATABASES['default'] for the stack's database. The project's own entry keeps its
    other keys (OPTIONS, CONN_MAX_AGE, TEST...) only when it is for the same engine:
    a development SQLite entry's options mean nothing to PostgreSQL."""
    engine = ENGINES[environ["DJANGO_STACK_DB_ENGINE"]]
    config = dict(project_default) if project_default.get("ENGINE") == engine else {}
    config.update(
        ENGINE=engine,
        NAME=environ["DJANGO_STACK_DB_NAME"],
        USER=environ["DJANGO_STACK_DB_USER"],
        PASSWORD=environ["DJANGO_STACK_DB_PASSWORD"],
        HOST=environ["DJANGO_STACK_DB_HOST"],
        PORT=environ["DJANGO_STACK_DB_PORT"],
    )
    if engine == ENGINES["mysql"]:
        config["OPTIONS"] = {**MYSQL_OPTIONS, **config.get("OPTIONS", {})}
    return config


def https_settings(environ, on):
    """Behind Apache, which ends TLS and sets X-Forwarded-Proto. With HTTPS on: the
    redirect (the health path exempt, since the role checks it over plain HTTP on the
    loopback), secure cookies and HSTS; with it off, none of them, whatever the project
    says: a redirect to an HTTPS the site does not have would lock everyone out."""
    if not on:
        return {
            "SECURE_PROXY_SSL_HEADER": None,
            "SECURE_SSL_REDIRECT": False,
            "SESSION_COOKIE_SECURE": False,
            "CSRF_COOKIE_SECURE": False,
            "SECURE_HSTS_SECONDS": 0,
        }
    exempt = []
    health = environ.get("DJANGO_STACK_HEALTH_PATH", "").lstrip("/")
    if health:
        exempt.append("^%s$" % health.replace(".", r"\."))
    return {
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": exempt,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": HSTS_SECONDS,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        # Only allows submitting the domain to the browsers' preload list; without it
        # `check --deploy` warns (W021).
        "SECURE_HSTS_PRELOAD": True,
    }


def logging_settings(level):
    """Everything to standard error: gunicorn's and manage.py's both end up in the
    journal (journalctl -u <service>). Django's own default sends errors by mail only."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {"django": {"handlers": ["stderr"], "level": level, "propagate": False}},
    }


def overrides(environ, project):
    """The settings the deployment sets over the project's ({name: value})."""
    on = overrides_on(environ)
    values = {}
    if "database" in on:
        databases = dict(project.get("DATABASES") or {})
        databases["default"] = database(environ, databases.get("default") or {})
        values["DATABASES"] = databases
    if "secret_key" in on:
        values["SECRET_KEY"] = environ["DJANGO_SECRET_KEY"]
    if "allowed_hosts" in on:
        values["ALLOWED_HOSTS"] = split_list(environ.get("DJANGO_ALLOWED_HOSTS"))
    if "csrf_trusted_origins" in on:
        values["CSRF_TRUSTED_ORIGINS"] = split_list(environ.get("DJANGO_CSRF_TRUSTED_ORIGINS"))
    if "static" in on:
        values["STATIC_ROOT"] = environ["DJANGO_STATIC_ROOT"]
        # Apache serves STATIC_ROOT at /static/ (and media at /media/).
        values["STATIC_URL"] = "/static/"
    if "media" in on:
        values["MEDIA_ROOT"] = environ["DJANGO_MEDIA_ROOT"]
        values["MEDIA_URL"] = "/media/"
    if "debug" in on:
        values["DEBUG"] = is_true(environ.get("DJANGO_DEBUG"))
    if "https" in on:
        values.update(https_settings(environ, is_true(environ.get("DJANGO_HTTPS"))))
    if "logging" in on:
        values["LOGGING"] = logging_settings(environ.get("DJANGO_LOG_LEVEL") or "INFO")
    return values


def settings(environ):
    """Every setting: the project's upper-case names, then the overrides."""
    project = importlib.import_module(environ["DJANGO_STACK_PROJECT_SETTINGS"])
    values = {name: value for name, value in vars(project).items() if name.isupper()}
    values.update(overrides(environ, values))
    return values


if os.environ.get("DJANGO_STACK_PROJECT_SETTINGS"):
    globals().update(settings(os.environ))
