"""Django settings for the bookstore project, read from environment variables.

An empty variable counts as unset. Booleans accept true/false, 1/0, yes/no
and on/off in any case; an invalid value stops Django with
ImproperlyConfigured naming the variable.

===========================  ===============================================
Variable                     Meaning (default)
===========================  ===============================================
DJANGO_SECRET_KEY            Secret key. Required when DEBUG is false.
DJANGO_DEBUG                 Debug mode (false). If neither DJANGO_DEBUG nor
                             DJANGO_SECRET_KEY is set, debug is on and an
                             insecure development key is used, so
                             ``manage.py runserver`` works with no setup.
DJANGO_ALLOWED_HOSTS         Comma-separated host names served (none; with
                             DEBUG on Django then allows localhost).
DJANGO_CSRF_TRUSTED_ORIGINS  Comma-separated origins, each starting with
                             http:// or https:// (none).
DJANGO_STATIC_ROOT           Absolute directory ``collectstatic`` fills,
                             served at /static/ (unset: collectstatic
                             refuses to run).
DJANGO_MEDIA_ROOT            Absolute directory for uploads, served at
                             /media/ (unset).
DJANGO_HTTPS                 Site served over HTTPS by a reverse proxy that
                             sets ``X-Forwarded-Proto: https`` (false). Turns
                             on the HTTPS redirect, secure cookies and HSTS
                             with includeSubDomains and preload.
DJANGO_HSTS_SECONDS          HSTS max-age when DJANGO_HTTPS is on (31536000).
DATABASE_URL                 Database as a URL: postgres://, postgresql://,
                             mysql:// or sqlite:/// (unset). Cannot be
                             combined with the DJANGO_DB_* variables below.
DJANGO_DB_ENGINE             postgresql, mysql or sqlite (unset: SQLite file
                             db.sqlite3 next to manage.py).
DJANGO_DB_NAME               Database name, or SQLite file path relative to
                             the project directory. Required for postgresql
                             and mysql.
DJANGO_DB_USER               Database user (empty).
DJANGO_DB_PASSWORD           Database password (empty).
DJANGO_DB_HOST               Database host (empty: local Unix socket).
DJANGO_DB_PORT               Database port (empty: the engine's default).
DJANGO_DB_CONN_MAX_AGE       Seconds a connection is reused, 0 to close it
                             after each request (60).
DJANGO_LOG_LEVEL             DEBUG, INFO, WARNING, ERROR or CRITICAL for
                             the console (stderr) log (INFO).
===========================  ===============================================
"""

import os
from pathlib import Path

from bookstore.env import (
    EnvironmentConfigError,
    get_bool,
    get_database,
    get_int,
    get_list,
    get_log_level,
    get_origins,
    get_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

_secret_key = get_str(os.environ, "DJANGO_SECRET_KEY")
# A server always sets DJANGO_SECRET_KEY, which makes debug default to off.
DEBUG = get_bool(os.environ, "DJANGO_DEBUG", default=_secret_key is None)
if _secret_key:
    SECRET_KEY = _secret_key
elif DEBUG:
    # The "django-insecure-" prefix makes `check --deploy` flag this key.
    SECRET_KEY = "django-insecure-local-development-only-never-use-in-production"
else:
    raise EnvironmentConfigError(
        "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is false."
    )

ALLOWED_HOSTS = get_list(os.environ, "DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = get_origins(os.environ, "DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "books",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bookstore.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "bookstore.wsgi.application"

DATABASES = {"default": get_database(os.environ, BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = get_str(os.environ, "DJANGO_STATIC_ROOT")
MEDIA_URL = "/media/"
MEDIA_ROOT = get_str(os.environ, "DJANGO_MEDIA_ROOT", "")

# Security headers. These equal Django's defaults and are spelled out so a
# reader of this file sees the complete policy.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if get_bool(os.environ, "DJANGO_HTTPS", default=False):
    # TLS ends at the reverse proxy (Apache), which must set this header on
    # every request and overwrite any value sent by the client.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Local probes (monitoring, deployment checks) call the app over plain
    # HTTP; a redirect would hide the health status from them.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = get_int(os.environ, "DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Only allows submitting the domain to the browsers' preload list; nothing
    # is submitted automatically. Without it `check --deploy` warns (W021).
    SECURE_HSTS_PRELOAD = True

# Everything goes to stderr, where gunicorn and systemd-journald collect it.
_log_level = get_log_level(os.environ, "DJANGO_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": _log_level},
    "loggers": {
        # Replaces Django's default "django" logger, which only prints to the
        # console when DEBUG is on and would otherwise print twice.
        "django": {"handlers": ["console"], "level": _log_level, "propagate": False},
    },
}
