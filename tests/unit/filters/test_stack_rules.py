"""roles/stack/filter_plugins/stack_rules.py: the address filters and the input rules of
the stack, postgresql, mysql, pgadmin and phpmyadmin roles."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("stack_rules", ROOT / "roles/stack/filter_plugins/stack_rules.py")
rules = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(rules)

SECRET = "s3cret-Value-never-shown"


def test_every_filter_is_registered():
    assert set(rules.FilterModule().filters()) == {
        "stack_not_addresses", "stack_not_networks", "stack_network_prefix", "stack_input_errors",
        "postgresql_input_errors", "mysql_input_errors", "pgadmin_input_errors", "phpmyadmin_input_errors",
        "stack_spec_errors", "stack_host_roles", "stack_site_errors", "stack_preflight_report",
    }


def test_addresses_and_networks():
    values = ["192.0.2.7", "2001:db8::1", "192.0.2.0/24", "10", 10, "host.example", "", None]
    assert rules.stack_not_addresses(values) == ["192.0.2.0/24", "10", 10, "host.example", "", None]
    assert rules.stack_not_networks(values) == ["10", 10, "host.example", "", None]
    assert rules.stack_not_networks(["192.0.2.7/24"]) == []


def test_network_prefix():
    assert rules.stack_network_prefix("192.0.2.7") == "192.0.2.7/32"
    assert rules.stack_network_prefix("192.0.2.7/24") == "192.0.2.0/24"
    assert rules.stack_network_prefix("2001:db8::1") == "2001:db8::1/128"


# --- stack ---------------------------------------------------------------------------

STACK = {"stack_db_name": "django", "stack_db_user": "django", "stack_db_password": SECRET}


def test_stack_defaults_pass():
    assert rules.stack_input_errors(STACK) == []
    assert rules.stack_input_errors(dict(STACK, stack_db_scratch_name="django_scratch")) == []


@pytest.mark.parametrize("key,value,expected", [
    ("stack_db_name", "1db", "stack_db_name must be an identifier"),
    ("stack_db_name", "d" * 64, "stack_db_name must be an identifier"),
    ("stack_db_user", "u" * 33, "stack_db_user must be an identifier"),
    ("stack_db_scratch_name", "django-scratch", "stack_db_scratch_name must be empty or an identifier"),
    ("stack_db_scratch_name", "django", "stack_db_scratch_name must not be stack_db_name ('django')"),
    ("stack_db_user", "my-user", "(got 'my-user')"),
    ("stack_db_password", "", "stack_db_password must not be empty"),
    ("stack_db_password", "short", "stack_db_password must have at least 8 characters (it has 5)"),
    ("stack_db_password", "it's-a-long-one", "except the single quote"),
    ("stack_db_password", "line\nbreak-here", "except the single quote"),
    ("stack_db_password", "caf\u00e9-au-lait", "printable ASCII"),
])
def test_stack_rules(key, value, expected):
    errors = rules.stack_input_errors(dict(STACK, **{key: value}))
    assert len(errors) == 1 and expected in errors[0]
    assert SECRET not in errors[0]


def test_stack_never_shows_the_password():
    errors = rules.stack_input_errors(dict(STACK, stack_db_name="bad name"))
    assert errors and all(SECRET not in error for error in errors)


def test_a_password_with_url_characters_is_carried():
    # The database URL encodes them; the environment files quote with single quotes.
    assert rules.stack_input_errors(dict(STACK, stack_db_password='p@ss:w/rd#?%"$`\\ x')) == []


# --- the whole-site preflight ----------------------------------------------------------

SPEC_RESULT = {
    "argument_spec_data": {
        "stack_db_engine": {"type": "str", "choices": ["postgresql", "mysql"]},
        "stack_db_password": {"type": "str", "no_log": True},
    },
    "argument_errors": [
        "value of stack_db_engine must be one of: postgresql, mysql, got: oracle",
        "argument 'stack_db_password' is of type int and we were unable to convert to str: %s" % SECRET,
    ],
}


def test_spec_errors_name_the_variable_and_never_show_a_secret():
    errors = rules.stack_spec_errors(SPEC_RESULT)
    assert errors[0] == "value of stack_db_engine must be one of: postgresql, mysql, got: oracle"
    assert errors[1].startswith("stack_db_password has the wrong type or value")
    assert all(SECRET not in error for error in errors)


def test_spec_errors_of_a_skipped_or_passed_check_are_none():
    assert rules.stack_spec_errors({"skipped": True}) == []
    assert rules.stack_spec_errors({"argument_errors": [], "argument_spec_data": {}}) == []
    assert rules.stack_spec_errors({}) == []


@pytest.mark.parametrize("groups,engine,expected", [
    (["dbservers", "webservers", "appservers"], "postgresql", ["common", "webserver", "postgresql", "pgadmin", "django"]),
    (["dbservers", "webservers", "appservers"], "mysql", ["common", "webserver", "mysql", "phpmyadmin", "django"]),
    (["appservers"], "mysql", ["common", "webserver", "django"]),
    (["loadbalancers"], "postgresql", ["common", "loadbalancer"]),
    (["backupservers"], "postgresql", ["common"]),
])
def test_host_roles_follow_the_groups(groups, engine, expected):
    assert rules.stack_host_roles(groups, engine, "dbservers", "appservers", "webservers", "loadbalancers") == expected


SITE = {
    "group_names": ["appservers"], "engine": "postgresql", "db_group": "dbservers", "app_group": "appservers",
    "lb_group": "loadbalancers", "db_hosts": ["db1"], "app_hosts": ["app1"], "db_host": "db1",
    "db_host_engine": "postgresql", "host_address": "10.0.0.5", "multi_host": True,
}


def test_a_right_site_passes():
    assert rules.stack_site_errors(SITE) == []
    assert rules.stack_site_errors(dict(SITE, host_address="app1.example.com")) == []


@pytest.mark.parametrize("change,expected", [
    ({"db_hosts": []}, "the inventory group dbservers (stack_db_group) is empty"),
    ({"db_host_engine": "mysql"}, "stack_db_engine is 'postgresql' here but 'mysql' on the database host db1"),
    ({"group_names": ["loadbalancers"], "app_hosts": []}, "the inventory group appservers (stack_app_group) is empty"),
    ({"host_address": ""}, "stack_host_address is empty and the host has no default route"),
    ({"host_address": "not an address!"}, "stack_host_address must be an IP address or a host name (got 'not an address!')"),
])
def test_site_rules(change, expected):
    errors = rules.stack_site_errors(dict(SITE, **change))
    assert len(errors) == 1 and expected in errors[0]


def test_preflight_report_one_line_each():
    report = rules.stack_preflight_report(["stack: a", "django: b"])
    assert report.splitlines() == ["2 wrong input(s), nothing was changed on any host:", "stack: a", "django: b"]
    assert "another host's are not" in rules.stack_preflight_report([])


# --- postgresql ----------------------------------------------------------------------

PG = {
    "postgresql_locale": "en_US.UTF-8",
    "postgresql_users": [{"name": "django", "password": SECRET}, {"name": "report"}],
    "postgresql_databases": [{"name": "django", "owner": "django"}],
    "postgresql_listen_addresses": ["localhost"],
    "postgresql_hba_app_hosts": [],
}


def pg(**changes):
    return rules.postgresql_input_errors(dict(PG, **changes))


def test_postgresql_valid_input_passes():
    assert pg() == []
    assert pg(postgresql_locale="de_DE.utf8", postgresql_listen_addresses=["*", "10.0.0.5", "::1"],
              postgresql_hba_app_hosts=["10.0.1.0/24", "192.0.2.7"]) == []


@pytest.mark.parametrize("changes,expected", [
    ({"postgresql_locale": "en_US.ISO-8859-1"}, "postgresql_locale must be a UTF-8 locale like en_US.UTF-8 (got 'en_US.ISO-8859-1')"),
    ({"postgresql_users": [], "postgresql_databases": []}, "postgresql_users needs at least one entry"),
    ({"postgresql_users": [{"name": "django"}, {"name": "bad-name"}]}, "postgresql_users: every name must be an identifier"),
    ({"postgresql_users": [{"name": "django"}, {"name": "django"}]}, "these appear more often: 'django'"),
    ({"postgresql_users": [{"name": "django", "password": ""}]}, "entries with an empty password: 'django'"),
    ({"postgresql_databases": [{"name": "9db", "owner": "django"}]}, "postgresql_databases: every name must be an identifier"),
    ({"postgresql_databases": [{"name": "a", "owner": "django"}, {"name": "a", "owner": "django"}]},
     "postgresql_databases: every name must appear once"),
    ({"postgresql_databases": [{"name": "a", "owner": "nobody"}]}, "unknown owners: 'nobody'"),
    ({"postgresql_listen_addresses": []}, "postgresql_listen_addresses must list 'localhost', '*' or IP addresses"),
    ({"postgresql_listen_addresses": ["10.0.0.0/8"]}, "got these wrong: '10.0.0.0/8'"),
    ({"postgresql_hba_app_hosts": ["app1.example"]}, "postgresql_hba_app_hosts must list IP addresses or CIDR networks, got these wrong: 'app1.example'"),
])
def test_postgresql_rules(changes, expected):
    errors = pg(**changes)
    assert len(errors) == 1, errors
    assert expected in errors[0]


def test_postgresql_reports_every_broken_rule_and_no_password():
    errors = pg(postgresql_locale="C", postgresql_users=[{"name": "x y", "password": SECRET}],
                postgresql_hba_app_hosts=["10"])
    assert len(errors) == 4  # locale, name, unknown owner django, app host
    assert all(SECRET not in error for error in errors)


# --- mysql ---------------------------------------------------------------------------

MY = {
    "mysql_flavor": "auto",
    "mysql_collation": "utf8mb4_unicode_ci",
    "mysql_databases": [{"name": "django"}],
    "mysql_users": [{"name": "django", "password": SECRET, "priv": "django.*:ALL"}, {"name": "report"}],
    "mysql_root_password": "",
    "mysql_app_hosts": [],
    "mysql_bind_address": "127.0.0.1",
}


def my(os_family="Debian", **changes):
    return rules.mysql_input_errors(dict(MY, **changes), os_family)


def test_mysql_valid_input_passes():
    assert my() == []
    assert my(mysql_app_hosts=["10.0.1.%", "app1.example"], mysql_bind_address="127.0.0.1, 10.0.0.5",
              mysql_root_password=SECRET) == []
    assert my(mysql_bind_address="*", mysql_root_password=SECRET) == []


@pytest.mark.parametrize("changes,expected", [
    ({"os_family": "RedHat"}, "this role supports Debian-family hosts (found RedHat)"),
    ({"mysql_flavor": "percona"}, "mysql_flavor must be auto, mariadb or mysql (got 'percona')"),
    ({"mysql_collation": "latin1_swedish_ci", "mysql_databases": [{"name": "db", "collation": "utf8mb4_bin"}]}, "mysql_collation must be a utf8mb4 collation"),
    ({"mysql_databases": [{"name": "test"}]}, "Got name='test'"),
    ({"mysql_databases": [{"name": "1db"}]}, "Got name='1db'"),
    ({"mysql_databases": [{"name": "db", "encoding": "latin1"}]}, "encoding='latin1'"),
    ({"mysql_databases": [{"name": "db", "collation": "utf8_bin"}]}, "collation='utf8_bin'"),
    ({"mysql_users": [{"name": "u" * 33}]}, "wrong names: '%s'" % ("u" * 33)),
    ({"mysql_users": [{"name": "django", "priv": "ALL"}]}, "wrong privs: 'ALL'"),
    ({"mysql_users": [{"name": "django", "password": ""}]}, "Users with a wrong password: 'django'"),
    ({"mysql_users": [{"name": "django", "password": 123}]}, "Users with a wrong password: 'django'"),
    ({"mysql_root_password": None}, "mysql_root_password must be a string"),
    ({"mysql_app_hosts": ["localhost"]}, "got 'localhost'"),
    ({"mysql_app_hosts": ["bad host"]}, "got 'bad host'"),
    ({"mysql_bind_address": "10"}, "mysql_bind_address must be IP addresses separated by commas, or * (got '10')"),
    ({"mysql_bind_address": "10.0.0.5", "mysql_root_password": SECRET}, "must include 127.0.0.1 or a wildcard"),
])
def test_mysql_rules(changes, expected):
    errors = my(**changes)
    assert len(errors) == 1, errors
    assert expected in errors[0]
    assert SECRET not in errors[0]


def test_mysql_database_defaults_to_the_roles_collation():
    assert my(mysql_collation="utf8mb4_bin", mysql_databases=[{"name": "db"}]) == []
    errors = my(mysql_collation="latin1_bin", mysql_databases=[{"name": "db"}])
    assert "collation='latin1_bin'" in errors[-1]


# --- pgadmin -------------------------------------------------------------------------

PGADMIN = {
    "pgadmin_admin_email": "admin@example.com",
    "pgadmin_admin_password": SECRET,
    "pgadmin_allowed_networks": ["127.0.0.1", "10.0.0.0/8"],
    "pgadmin_install_dir": "/opt/pgadmin",
    "pgadmin_data_dir": "/var/lib/pgadmin",
    "pgadmin_log_dir": "/var/log/pgadmin",
    "pgadmin_port": 5050,
    "pgadmin_url_path": "/pgadmin4",
    "pgadmin_servers": [{"name": "local"}, {"name": "other", "port": 5433}],
}


def pga(**changes):
    return rules.pgadmin_input_errors(dict(PGADMIN, **changes))


def test_pgadmin_valid_input_passes():
    assert pga() == []


@pytest.mark.parametrize("changes,expected", [
    ({"pgadmin_admin_email": "admin"}, "pgadmin_admin_email must be an email address pgAdmin accepts"),
    ({"pgadmin_admin_email": "admin@example.test"}, "got 'admin@example.test'"),
    ({"pgadmin_admin_email": "admin@host.LOCAL"}, "not ending in arpa, invalid, local, localhost, onion, test"),
    ({"pgadmin_admin_password": "12345"}, "pgadmin_admin_password must have at least 6 characters"),
    ({"pgadmin_allowed_networks": ["everyone"]}, "these are not: 'everyone'"),
    ({"pgadmin_data_dir": "var/lib"}, "pgadmin_data_dir must be an absolute path"),
    ({"pgadmin_port": 80}, "pgadmin_port must be a port from 1024 to 65535 (got 80)"),
    ({"pgadmin_port": "5050"}, "pgadmin_port must be a port"),
    ({"pgadmin_port": 70000}, "pgadmin_port must be a port"),
    ({"pgadmin_url_path": "/pgadmin4/"}, "pgadmin_url_path must be a path like /pgadmin4"),
    ({"pgadmin_servers": [{"name": " "}]}, "every entry of pgadmin_servers needs a non-empty name used once"),
    ({"pgadmin_servers": [{"name": "a"}, {"name": "a"}]}, "Names: 'a', 'a'"),
    ({"pgadmin_servers": [{"name": "a", "port": 0}]}, "ports: 0"),
])
def test_pgadmin_rules(changes, expected):
    errors = pga(**changes)
    assert len(errors) == 1, errors
    assert expected in errors[0]
    assert SECRET not in errors[0]


def test_pgadmin_never_shows_a_short_password():
    errors = pga(pgadmin_admin_password="abc")
    assert errors and all("abc" not in error for error in errors)


# --- phpmyadmin ----------------------------------------------------------------------

BLOWFISH = "0123456789abcdefghijklmnopqrstuv"
PMA = {
    "phpmyadmin_url_path": "/phpmyadmin",
    "phpmyadmin_db_host": "localhost",
    "phpmyadmin_allowed_networks": ["127.0.0.1", "2001:db8::/32"],
    "phpmyadmin_blowfish_secret": BLOWFISH,
}


def pma(os_family="Debian", **changes):
    return rules.phpmyadmin_input_errors(dict(PMA, **changes), os_family)


def test_phpmyadmin_valid_input_passes():
    assert pma() == []


@pytest.mark.parametrize("changes,expected", [
    ({"os_family": "Suse"}, "found Suse"),
    ({"phpmyadmin_url_path": "phpmyadmin"}, "phpmyadmin_url_path must be a path like /phpmyadmin"),
    ({"phpmyadmin_db_host": "db host"}, "phpmyadmin_db_host must be a host name or an address (got 'db host')"),
    ({"phpmyadmin_allowed_networks": ["10"]}, "these are not: '10'"),
])
def test_phpmyadmin_rules(changes, expected):
    errors = pma(**changes)
    assert len(errors) == 1, errors
    assert expected in errors[0]


@pytest.mark.parametrize("secret", [BLOWFISH[:31], BLOWFISH + "w", BLOWFISH[:31] + "'", BLOWFISH[:31] + "\\",
                                    BLOWFISH[:31] + "\n", BLOWFISH[:31] + "é"])
def test_phpmyadmin_blowfish_secret_rules_without_showing_it(secret):
    errors = pma(phpmyadmin_blowfish_secret=secret)
    assert len(errors) == 1 and "exactly 32 printable ASCII characters" in errors[0]
    assert BLOWFISH[:20] not in errors[0]
