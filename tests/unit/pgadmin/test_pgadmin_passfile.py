"""The pgadmin role's pass-file filters."""

import importlib.util
import pathlib

import pytest

_PATH = pathlib.Path(__file__).parents[3] / "roles/pgadmin/filter_plugins/pgadmin_passfile.py"
_SPEC = importlib.util.spec_from_file_location("pgadmin_passfile", _PATH)
passfile = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(passfile)


@pytest.mark.parametrize(
    "email, expected",
    [
        ("dba@example.com", "dba_example.com"),
        ("admin@example.com", "admin_example.com"),
        ("1st@example.com", "pga_user_1st_example.com"),
        ("a/b@example.com", "aslashb_example.com"),
    ],
)
def test_storage_name_follows_pgadmin(email, expected):
    assert passfile.pgadmin_storage_name(email) == expected


def test_pgpass_one_line_per_server_with_a_password():
    servers = [
        {"name": "app", "host": "127.0.0.1", "port": 5432, "username": "django", "password": "s3cret"},
        {"name": "other", "host": "db.example.com", "username": "ro"},
        {"name": "empty", "host": "db2", "username": "x", "password": ""},
    ]
    assert passfile.pgadmin_pgpass(servers) == "127.0.0.1:5432:*:django:s3cret\n"


def test_pgpass_default_port_and_escapes():
    servers = [{"host": "::1", "username": "u", "password": "a:b\\c"}]
    assert passfile.pgadmin_pgpass(servers) == "\\:\\:1:5432:*:u:a\\:b\\\\c\n"


def test_pgpass_empty_without_passwords():
    assert passfile.pgadmin_pgpass([{"host": "h", "username": "u"}]) == ""


def test_filters_are_registered():
    names = passfile.FilterModule().filters()
    assert names["pgadmin_pgpass"] is passfile.pgadmin_pgpass
    assert names["pgadmin_storage_name"] is passfile.pgadmin_storage_name
