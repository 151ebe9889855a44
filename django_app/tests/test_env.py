"""Unit tests of the environment parsing helpers in bookstore/env.py."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from bookstore import env

BASE_DIR = Path("/srv/bookstore")


@pytest.mark.parametrize(
    "value", ["true", "TRUE", "True", "1", "yes", "YES", "on", "On", " true "]
)
def test_get_bool_true_values(value):
    assert env.get_bool({"FLAG": value}, "FLAG", default=False) is True


@pytest.mark.parametrize("value", ["false", "FALSE", "0", "no", "No", "off", "OFF"])
def test_get_bool_false_values(value):
    assert env.get_bool({"FLAG": value}, "FLAG", default=True) is False


@pytest.mark.parametrize("environ", [{}, {"FLAG": ""}])
def test_get_bool_unset_or_empty_gives_default(environ):
    assert env.get_bool(environ, "FLAG", default=True) is True
    assert env.get_bool(environ, "FLAG", default=False) is False


@pytest.mark.parametrize("value", ["maybe", "2", "y", "enabled"])
def test_get_bool_rejects_other_values_naming_variable_and_value(value):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env.get_bool({"DJANGO_DEBUG": value}, "DJANGO_DEBUG", default=False)

    assert "DJANGO_DEBUG" in str(excinfo.value)
    assert repr(value) in str(excinfo.value)


def test_get_int():
    assert env.get_int({"N": "42"}, "N", default=7) == 42
    assert env.get_int({}, "N", default=7) == 7
    assert env.get_int({"N": ""}, "N", default=7) == 7


@pytest.mark.parametrize("value", ["sixty", "1.5", "-1"])
def test_get_int_rejects_non_integers_and_negatives_naming_variable(value):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DB_CONN_MAX_AGE"):
        env.get_int({"DJANGO_DB_CONN_MAX_AGE": value}, "DJANGO_DB_CONN_MAX_AGE", 60)


def test_get_list_splits_on_commas_and_drops_blanks():
    environ = {"HOSTS": " example.com, www.example.com ,,localhost, "}

    assert env.get_list(environ, "HOSTS") == [
        "example.com",
        "www.example.com",
        "localhost",
    ]
    assert env.get_list({}, "HOSTS") == []


def test_get_origins_accepts_http_and_https():
    environ = {"ORIGINS": "https://example.com,http://localhost:8000"}

    assert env.get_origins(environ, "ORIGINS") == [
        "https://example.com",
        "http://localhost:8000",
    ]


@pytest.mark.parametrize("origin", ["example.com", "ftp://example.com", "//x.org"])
def test_get_origins_rejects_missing_scheme_naming_variable(origin):
    environ = {"DJANGO_CSRF_TRUSTED_ORIGINS": f"https://ok.example,{origin}"}

    with pytest.raises(ImproperlyConfigured) as excinfo:
        env.get_origins(environ, "DJANGO_CSRF_TRUSTED_ORIGINS")

    assert "DJANGO_CSRF_TRUSTED_ORIGINS" in str(excinfo.value)
    assert origin in str(excinfo.value)


def test_get_log_level():
    assert env.get_log_level({}, "LEVEL", "INFO") == "INFO"
    assert env.get_log_level({"LEVEL": "warning"}, "LEVEL", "INFO") == "WARNING"
    with pytest.raises(ImproperlyConfigured, match="LEVEL"):
        env.get_log_level({"LEVEL": "verbose"}, "LEVEL", "INFO")


# Database


def test_database_defaults_to_sqlite_next_to_manage_py():
    config = env.get_database({}, BASE_DIR)

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/bookstore/db.sqlite3"
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_database_url_postgresql(scheme):
    url = f"{scheme}://books:s%40cret@db.example.com:5433/bookstore?sslmode=require"

    config = env.get_database({"DATABASE_URL": url}, BASE_DIR)

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "bookstore"
    assert config["USER"] == "books"
    assert config["PASSWORD"] == "s@cret"
    assert config["HOST"] == "db.example.com"
    assert config["PORT"] == 5433
    assert config["OPTIONS"] == {"sslmode": "require"}
    assert config["CONN_MAX_AGE"] == 60


def test_database_url_mysql_gets_utf8mb4_and_strict_mode():
    url = "mysql://books:pw@localhost/bookstore"

    config = env.get_database({"DATABASE_URL": url}, BASE_DIR)

    assert config["ENGINE"] == "django.db.backends.mysql"
    assert config["NAME"] == "bookstore"
    assert config["HOST"] == "localhost"
    assert config["OPTIONS"] == {
        "charset": "utf8mb4",
        "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
    }


def test_database_url_mysql_query_options_override_defaults():
    url = "mysql://books:pw@localhost/bookstore?charset=utf8"

    config = env.get_database({"DATABASE_URL": url}, BASE_DIR)

    assert config["OPTIONS"]["charset"] == "utf8"
    assert "STRICT_TRANS_TABLES" in config["OPTIONS"]["init_command"]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("sqlite:///data/books.sqlite3", "/srv/bookstore/data/books.sqlite3"),
        ("sqlite:////var/lib/bookstore/db.sqlite3", "/var/lib/bookstore/db.sqlite3"),
        ("sqlite://", ":memory:"),
    ],
)
def test_database_url_sqlite(url, name):
    config = env.get_database({"DATABASE_URL": url}, BASE_DIR)

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == name


@pytest.mark.parametrize(
    "url", ["oracle://u:p@h/db", "redis://localhost", "db.sqlite3"]
)
def test_database_url_unknown_scheme_names_variable(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.get_database({"DATABASE_URL": url}, BASE_DIR)


def test_database_url_parse_error_does_not_leak_password():
    url = "postgres://books:topsecret@db.example.com:notaport/bookstore"

    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL") as excinfo:
        env.get_database({"DATABASE_URL": url}, BASE_DIR)

    assert "topsecret" not in str(excinfo.value)


def test_discrete_postgresql_variables():
    environ = {
        "DJANGO_DB_ENGINE": "postgresql",
        "DJANGO_DB_NAME": "bookstore",
        "DJANGO_DB_USER": "books",
        "DJANGO_DB_PASSWORD": " pass word ",
        "DJANGO_DB_HOST": "10.0.0.5",
        "DJANGO_DB_PORT": "5432",
        "DJANGO_DB_CONN_MAX_AGE": "0",
    }

    config = env.get_database(environ, BASE_DIR)

    assert config == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "bookstore",
        "USER": "books",
        # Passwords are used verbatim, surrounding blanks included.
        "PASSWORD": " pass word ",
        "HOST": "10.0.0.5",
        "PORT": "5432",
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
    }


def test_discrete_postgresql_defaults_to_local_socket():
    environ = {"DJANGO_DB_ENGINE": "postgresql", "DJANGO_DB_NAME": "bookstore"}

    config = env.get_database(environ, BASE_DIR)

    assert config["HOST"] == config["PORT"] == config["USER"] == ""


def test_discrete_mysql_variables_get_mysql_options():
    environ = {"DJANGO_DB_ENGINE": "MySQL", "DJANGO_DB_NAME": "bookstore"}

    config = env.get_database(environ, BASE_DIR)

    assert config["ENGINE"] == "django.db.backends.mysql"
    assert config["OPTIONS"]["charset"] == "utf8mb4"
    assert config["OPTIONS"]["init_command"] == "SET sql_mode='STRICT_TRANS_TABLES'"


def test_discrete_sqlite_variables():
    environ = {"DJANGO_DB_ENGINE": "sqlite", "DJANGO_DB_NAME": "var/books.db"}

    config = env.get_database(environ, BASE_DIR)

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/bookstore/var/books.db"


def test_database_url_and_discrete_variables_together_is_an_error():
    environ = {
        "DATABASE_URL": "postgres://u:p@h/db",
        "DJANGO_DB_ENGINE": "postgresql",
        "DJANGO_DB_HOST": "h",
    }

    with pytest.raises(ImproperlyConfigured) as excinfo:
        env.get_database(environ, BASE_DIR)

    message = str(excinfo.value)
    assert "DATABASE_URL" in message
    assert "DJANGO_DB_ENGINE" in message
    assert "DJANGO_DB_HOST" in message


@pytest.mark.parametrize("engine", ["oracle", "postgres", "sqlite3"])
def test_unknown_engine_names_django_db_engine(engine):
    environ = {"DJANGO_DB_ENGINE": engine, "DJANGO_DB_NAME": "bookstore"}

    with pytest.raises(ImproperlyConfigured) as excinfo:
        env.get_database(environ, BASE_DIR)

    assert "DJANGO_DB_ENGINE" in str(excinfo.value)
    assert repr(engine) in str(excinfo.value)


def test_discrete_variables_without_engine_is_an_error():
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DB_ENGINE is required"):
        env.get_database({"DJANGO_DB_NAME": "bookstore"}, BASE_DIR)


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_server_engines_require_a_database_name(engine):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DB_NAME"):
        env.get_database({"DJANGO_DB_ENGINE": engine}, BASE_DIR)


def test_bad_conn_max_age_names_variable():
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DB_CONN_MAX_AGE"):
        env.get_database({"DJANGO_DB_CONN_MAX_AGE": "forever"}, BASE_DIR)
