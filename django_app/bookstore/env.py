"""Helpers that turn environment variables into Django settings.

Every helper takes the environment as a mapping (``os.environ`` in
settings.py, a plain dict in tests) and raises ``EnvironmentConfigError``,
a subclass of Django's ``ImproperlyConfigured``, naming the offending variable.
An empty variable is treated exactly like an unset one, so a deployment
template may render ``NAME=`` to mean "use the default".
"""

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_VALUES = frozenset({"true", "1", "yes", "on"})
FALSE_VALUES = frozenset({"false", "0", "no", "off"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

DB_ENGINES = {
    "postgresql": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
    "sqlite": "django.db.backends.sqlite3",
}
# DATABASE_URL schemes accepted here; dj-database-url knows many more, but
# only these backends are deployed and tested by this project.
DB_URL_SCHEMES = ("postgres", "postgresql", "mysql", "sqlite")
DB_VARIABLES = (
    "DJANGO_DB_ENGINE",
    "DJANGO_DB_NAME",
    "DJANGO_DB_USER",
    "DJANGO_DB_PASSWORD",
    "DJANGO_DB_HOST",
    "DJANGO_DB_PORT",
)
DEFAULT_SQLITE_NAME = "db.sqlite3"
# utf8mb4 stores any Unicode character (MySQL's "utf8" stops at 3 bytes), and
# strict mode makes MySQL reject truncated data instead of silently storing it
# (this also silences Django's mysql.W002 check).
MYSQL_OPTIONS = {
    "charset": "utf8mb4",
    "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
}


class EnvironmentConfigError(ImproperlyConfigured):
    """An environment variable has a missing or invalid value."""


def get_str(environ: Mapping[str, str], name: str, default=None):
    """Return the variable's value, or ``default`` when unset or empty."""
    return environ.get(name) or default


def get_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """Parse true/false, 1/0, yes/no or on/off, case-insensitively."""
    value = get_str(environ, name)
    if value is None:
        return default
    normalized = value.strip().lower()
    if normalized in TRUE_VALUES:
        return True
    if normalized in FALSE_VALUES:
        return False
    raise EnvironmentConfigError(
        f"{name} must be a boolean (true/false, 1/0, yes/no, on/off), got {value!r}."
    )


def get_int(
    environ: Mapping[str, str], name: str, default: int, minimum: int = 0
) -> int:
    """Parse an integer that is at least ``minimum``."""
    value = get_str(environ, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvironmentConfigError(
            f"{name} must be an integer, got {value!r}."
        ) from None
    if number < minimum:
        raise EnvironmentConfigError(f"{name} must be >= {minimum}, got {number}.")
    return number


def get_list(environ: Mapping[str, str], name: str) -> list[str]:
    """Split a comma-separated value, dropping blanks around and between items."""
    value = get_str(environ, name, "")
    return [item.strip() for item in value.split(",") if item.strip()]


def get_origins(environ: Mapping[str, str], name: str) -> list[str]:
    """Parse a list of origins such as ``https://example.com``."""
    origins = get_list(environ, name)
    for origin in origins:
        if not origin.startswith(("http://", "https://")):
            raise EnvironmentConfigError(
                f"{name} entries must start with http:// or https://, got {origin!r}."
            )
    return origins


def get_log_level(environ: Mapping[str, str], name: str, default: str) -> str:
    """Parse a standard logging level name, case-insensitively."""
    level = get_str(environ, name, default).strip().upper()
    if level not in LOG_LEVELS:
        raise EnvironmentConfigError(
            f"{name} must be one of {', '.join(LOG_LEVELS)}, got {level!r}."
        )
    return level


def get_database(environ: Mapping[str, str], base_dir: Path) -> dict:
    """Build ``DATABASES["default"]``.

    Sources, exclusive of each other: DATABASE_URL, the DJANGO_DB_* variables,
    or neither (SQLite file in ``base_dir``). A relative SQLite path is taken
    relative to ``base_dir`` so it does not depend on the working directory.
    """
    url = get_str(environ, "DATABASE_URL")
    discrete = [name for name in DB_VARIABLES if get_str(environ, name)]
    if url and discrete:
        raise EnvironmentConfigError(
            "Set either DATABASE_URL or the DJANGO_DB_* variables, not both "
            f"(found DATABASE_URL and {', '.join(discrete)})."
        )
    if url:
        config = _parse_database_url(url)
    elif discrete:
        config = _discrete_database(environ)
    else:
        config = {"ENGINE": DB_ENGINES["sqlite"], "NAME": DEFAULT_SQLITE_NAME}

    if config["ENGINE"] == DB_ENGINES["sqlite"] and config["NAME"] != ":memory:":
        config["NAME"] = str(base_dir / config["NAME"])
    if config["ENGINE"] == DB_ENGINES["mysql"]:
        # Options given in the URL query string win over the defaults.
        config["OPTIONS"] = {**MYSQL_OPTIONS, **config.get("OPTIONS", {})}
    config["CONN_MAX_AGE"] = get_int(environ, "DJANGO_DB_CONN_MAX_AGE", 60)
    # With persistent connections, check a reused connection before each
    # request so a database restart costs one failed check, not a 500 error.
    config["CONN_HEALTH_CHECKS"] = True
    return config


def _parse_database_url(url: str) -> dict:
    # Error messages never include the URL: it usually contains a password.
    scheme = urlsplit(url).scheme
    if scheme not in DB_URL_SCHEMES:
        raise EnvironmentConfigError(
            f"DATABASE_URL scheme must be one of {', '.join(DB_URL_SCHEMES)}, "
            f"got {scheme!r}."
        )
    try:
        return dict(dj_database_url.parse(url))
    except ValueError:
        raise EnvironmentConfigError(
            "DATABASE_URL is not a valid database URL (special characters in "
            "the user name or password must be percent-encoded)."
        ) from None


def _discrete_database(environ: Mapping[str, str]) -> dict:
    engine = get_str(environ, "DJANGO_DB_ENGINE")
    if engine is None:
        raise EnvironmentConfigError(
            "DJANGO_DB_ENGINE is required when other DJANGO_DB_* variables are set."
        )
    if engine.lower() not in DB_ENGINES:
        raise EnvironmentConfigError(
            f"DJANGO_DB_ENGINE must be one of {', '.join(DB_ENGINES)}, got {engine!r}."
        )
    engine = engine.lower()
    name = get_str(environ, "DJANGO_DB_NAME")
    if engine == "sqlite":
        return {"ENGINE": DB_ENGINES[engine], "NAME": name or DEFAULT_SQLITE_NAME}
    if name is None:
        raise EnvironmentConfigError(
            f"DJANGO_DB_NAME is required when DJANGO_DB_ENGINE is {engine}."
        )
    return {
        "ENGINE": DB_ENGINES[engine],
        "NAME": name,
        "USER": get_str(environ, "DJANGO_DB_USER", ""),
        "PASSWORD": get_str(environ, "DJANGO_DB_PASSWORD", ""),
        # An empty host means the server's local Unix socket.
        "HOST": get_str(environ, "DJANGO_DB_HOST", ""),
        "PORT": get_str(environ, "DJANGO_DB_PORT", ""),
    }
