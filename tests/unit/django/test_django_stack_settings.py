"""The settings layer (roles/django/files/django_stack_settings.py): a project's own
settings, then what the deployment decides; and the variables the role writes for it
(django_settings_layer_env in filter_plugins/django_deploy.py)."""

import sys
import types
from pathlib import Path

import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "django"
sys.path.insert(0, str(ROLE / "files"))
sys.path.insert(0, str(ROLE / "filter_plugins"))

import django_stack_settings as layer  # noqa: E402
from django_deploy import django_settings_layer_env  # noqa: E402

DB = {"engine": "postgresql", "name": "shop", "user": "shop_owner", "password": "s3cret/pw", "host": "127.0.0.1",
      "port": 5432}


def environ(**extra):
    env = django_settings_layer_env("shopsite.settings", [], DB, "/srv/shop/lib", "")
    env.update({
        "DJANGO_SECRET_KEY": "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "shop.example.com,localhost",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "",
        "DJANGO_STATIC_ROOT": "/srv/shop/current/.static",
        "DJANGO_MEDIA_ROOT": "/srv/shop/shared/media",
        "DJANGO_DEBUG": "false",
        "DJANGO_HTTPS": "false",
    })
    env.update(extra)
    return env


# A settings file as real projects have them: everything hard-coded for development.
PROJECT = {
    "DEBUG": True,
    "SECRET_KEY": "django-insecure-abc",
    "ALLOWED_HOSTS": ["shop.example.com"],
    "STATIC_ROOT": "/home/dev/shop/staticfiles",
    "STATIC_URL": "static/",
    "DATABASES": {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/home/dev/shop/db.sqlite3",
                    "OPTIONS": {"timeout": 20}},
        "legacy": {"ENGINE": "django.db.backends.sqlite3", "NAME": "legacy.sqlite3"},
    },
    "SECURE_SSL_REDIRECT": True,
    "INSTALLED_APPS": ["django.contrib.admin", "shop"],
}


def test_every_override_replaces_the_projects_value():
    values = layer.overrides(environ(), PROJECT)
    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == "k" * 50
    assert values["ALLOWED_HOSTS"] == ["shop.example.com", "localhost"]
    assert values["CSRF_TRUSTED_ORIGINS"] == []
    assert values["STATIC_ROOT"] == "/srv/shop/current/.static"
    assert values["STATIC_URL"] == "/static/"
    assert values["MEDIA_ROOT"] == "/srv/shop/shared/media"
    assert values["LOGGING"]["root"]["handlers"] == ["stderr"]
    # Plain HTTP: the project's HTTPS redirect would lock everyone out.
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert "INSTALLED_APPS" not in values


def test_the_database_is_the_stacks_and_other_aliases_stay():
    databases = layer.overrides(environ(), PROJECT)["DATABASES"]
    assert databases["default"] == {
        "ENGINE": "django.db.backends.postgresql", "NAME": "shop", "USER": "shop_owner",
        "PASSWORD": "s3cret/pw", "HOST": "127.0.0.1", "PORT": "5432",
    }
    # SQLite's options mean nothing to PostgreSQL; another alias is the project's business.
    assert databases["legacy"] == PROJECT["DATABASES"]["legacy"]
    assert PROJECT["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"


def test_a_projects_options_for_the_same_engine_stay():
    project = {"DATABASES": {"default": {"ENGINE": "django.db.backends.mysql", "NAME": "dev",
                                         "CONN_MAX_AGE": 60, "OPTIONS": {"charset": "utf8mb4", "connect_timeout": 5}}}}
    db = dict(DB, engine="mysql", port=3306)
    env = environ(**django_settings_layer_env("s", [], db, "/l", ""))
    default = layer.overrides(env, project)["DATABASES"]["default"]
    assert default["CONN_MAX_AGE"] == 60
    assert default["NAME"] == "shop"
    assert default["OPTIONS"] == {"charset": "utf8mb4", "connect_timeout": 5,
                                  "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}


def test_mysql_gets_four_byte_utf8_by_default():
    env = environ(**django_settings_layer_env("s", [], dict(DB, engine="mysql"), "/l", ""))
    options = layer.overrides(env, PROJECT)["DATABASES"]["default"]["OPTIONS"]
    assert options["charset"] == "utf8mb4"


def test_https_on_sets_the_redirect_cookies_and_hsts_and_exempts_the_health_path():
    env = environ(DJANGO_HTTPS="true", DJANGO_STACK_HEALTH_PATH="/health/")
    values = layer.overrides(env, PROJECT)
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_REDIRECT_EXEMPT"] == ["^health/$"]
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert layer.overrides(environ(DJANGO_HTTPS="true"), PROJECT)["SECURE_REDIRECT_EXEMPT"] == []


def test_kept_overrides_leave_the_projects_values():
    keep = ["debug", "allowed_hosts", "database", "logging"]
    assert "DJANGO_STACK_DB_PASSWORD" not in django_settings_layer_env("shopsite.settings", keep, DB, "/l", "")
    env = environ(**django_settings_layer_env("shopsite.settings", keep, DB, "/l", ""))
    values = layer.overrides(env, PROJECT)
    for name in ("DEBUG", "ALLOWED_HOSTS", "DATABASES", "LOGGING"):
        assert name not in values
    assert values["SECRET_KEY"] == "k" * 50


def test_an_unknown_override_is_an_error():
    with pytest.raises(ValueError, match="unknown overrides: statics"):
        layer.overrides_on({"DJANGO_STACK_OVERRIDES": "static,statics"})


def test_settings_takes_the_projects_upper_case_names(monkeypatch):
    module = types.ModuleType("fixture_settings")
    module.DEBUG = True
    module.INSTALLED_APPS = ["app"]
    module.helper = "not a setting"
    monkeypatch.setitem(sys.modules, "fixture_settings", module)
    values = layer.settings(environ(DJANGO_STACK_PROJECT_SETTINGS="fixture_settings"))
    assert values["INSTALLED_APPS"] == ["app"]
    assert values["DEBUG"] is False
    assert "helper" not in values


def test_the_role_points_django_at_the_layer():
    env = django_settings_layer_env("shopsite.settings", [], DB, "/srv/shop/lib", "/health/")
    assert env["DJANGO_SETTINGS_MODULE"] == "django_stack_settings"
    assert env["DJANGO_STACK_PROJECT_SETTINGS"] == "shopsite.settings"
    assert env["PYTHONPATH"] == "/srv/shop/lib"
    assert env["DJANGO_STACK_OVERRIDES"].split(",") == list(layer.OVERRIDES)


def test_the_argument_specs_offer_exactly_the_layers_overrides():
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert options["django_settings_keep"]["choices"] == list(layer.OVERRIDES)
