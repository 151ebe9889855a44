"""What `make demo` prints about the logins (scripts/demo_logins.py)."""

import importlib.util
import pathlib

_ROOT = pathlib.Path(__file__).parents[3]
_SPEC = importlib.util.spec_from_file_location("demo_logins", _ROOT / "scripts/demo_logins.py")
demo_logins = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(demo_logins)

DEFAULTS = demo_logins.role_defaults(str(_ROOT))
BASE = "http://127.0.0.1:8080"
CREDS = "inventory/local/.credentials"


def test_postgresql_names_every_login_and_password_file():
    text = "\n".join(demo_logins.logins(
        {"stack_db_engine": "postgresql", "django_superuser_username": "admin"}, DEFAULTS, BASE, CREDS))
    assert "http://127.0.0.1:8080/admin/  user admin, password in inventory/local/.credentials/django_superuser_password" in text
    assert "http://127.0.0.1:8080/pgadmin4/  e-mail admin@example.com, password in inventory/local/.credentials/pgadmin_admin_password" in text
    assert "'django-stack (localhost)': connects without asking for a password" in text
    assert "phpMyAdmin" not in text
    assert "Database:      django, user django, password in inventory/local/.credentials/db_password" in text


def test_mysql_names_the_application_user():
    text = "\n".join(demo_logins.logins({"stack_db_engine": "mysql"}, DEFAULTS, BASE, CREDS))
    assert "phpMyAdmin:    http://127.0.0.1:8080/phpmyadmin/  user django, password in inventory/local/.credentials/db_password" in text
    assert "pgAdmin" not in text
    assert "no superuser: set django_superuser_username" in text


def test_inventory_values_win_and_set_passwords_are_not_files():
    hostvars = {"stack_db_engine": "postgresql", "pgadmin_admin_email": "dba@example.org",
                "pgadmin_admin_password": "from-vault", "stack_db_user": "shop",
                "pgadmin_servers": [{"name": "other", "username": "ro"}]}
    text = "\n".join(demo_logins.logins(hostvars, DEFAULTS, BASE, CREDS))
    assert "e-mail dba@example.org, password in the inventory's pgadmin_admin_password" in text
    assert "from-vault" not in text
    assert "'other': asks for ro's password on first connection" in text
    assert "user shop" in text


def test_extra_vars_as_ansible_playbook_takes_them():
    args = ["--check", "-e", "stack_db_engine=mysql x=1", "--extra-vars", '{"stack_db_user": "shop"}',
            "-e", "@vault.yml", "-v"]
    assert demo_logins.extra_vars(args) == {"stack_db_engine": "mysql", "x": "1", "stack_db_user": "shop"}
