"""Input rules of the stack role and of the roles that depend on it, as filters.

Each role's tasks/validate.yml (the stack role's tasks/checks.yml) passes the role's
variables in, by name, and fails with the messages the role's *_input_errors filter
returns. A message names the variable, what it holds and what is expected; it never
holds a password or a secret. The roles share this one file because they share rules
(identifiers, addresses) and a filter plugin cannot import another one; every role here
depends on the stack role, which makes these filters available to it.

Address checks use Python's ipaddress module. ansible.utils.ipaddr gives the same
answers but imports netaddr in every task that uses it, which cost 0.4 to 0.6 s per
check on each run. A bare number is never an address here ('10' is not 0.0.0.10): an
entry must be a string written with dots or colons.
"""

import ipaddress
import os.path
import re

# The PostgreSQL identifiers the roles accept unquoted, and MySQL's user names.
PG_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
PG_IDENTIFIER_TEXT = "an identifier (letters, digits and underscores, not starting with a digit, at most 63 characters)"
MYSQL_USER = r"^[A-Za-z_][A-Za-z0-9_]{0,31}$"
MYSQL_DATABASE = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
UTF8_LOCALE = r"^[A-Za-z]{2,3}(_[A-Z]{2})?\.(UTF-8|utf8)$"
UTF8MB4_COLLATION = r"^utf8mb4_[a-z0-9_]+$"
# pgAdmin's email check: the characters RFC 5322 allows unquoted in the local part,
# dot-separated labels in the domain, and none of the domains its validator refuses
# (special-use names, RFC 6761 and friends).
PGADMIN_EMAIL = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
PGADMIN_REFUSED_TLDS = ("arpa", "invalid", "local", "localhost", "onion", "test")
# Setting MySQL's root password checks it over TCP on 127.0.0.1 (the socket would let the
# system's root in without it), so loopback must be among the bind addresses.
MYSQL_LOOPBACK_BINDS = ("127.0.0.1", "0.0.0.0", "*", "::")


def _parses(parse, value):
    if not isinstance(value, str) or not any(sep in value for sep in ".:"):
        return False
    try:
        parse(value)
    except ValueError:
        return False
    return True


def stack_not_addresses(values):
    """The entries that are not single IP addresses (v4 or v6, no prefix)."""
    return [value for value in values if not _parses(ipaddress.ip_address, value)]


def stack_not_networks(values):
    """The entries that are neither an IP address nor a CIDR network."""
    return [value for value in values if not _parses(lambda v: ipaddress.ip_network(v, strict=False), value)]


def stack_network_prefix(value):
    """An address or network as network/prefix: 192.0.2.7 -> 192.0.2.7/32,
    192.0.2.7/24 -> 192.0.2.0/24."""
    return str(ipaddress.ip_network(value, strict=False))


def _matches(pattern, value):
    # Like Ansible's regex test, which searches the value's text; \Z-anchored patterns
    # below refuse the trailing newline that $ lets through.
    return isinstance(value, str) and re.search(pattern, value) is not None


def _quoted(values):
    return ", ".join("'%s'" % value for value in values)


def _duplicates(values):
    seen, twice = set(), []
    for value in values:
        if value in seen and value not in twice:
            twice.append(value)
        seen.add(value)
    return twice


def _is_port(value, lowest=1):
    return isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= 65535


def stack_spec_errors(result):
    """The messages of a validate_argument_spec result (registered, not failed), with
    any message that names a secret option (no_log in the spec) reworded so that it
    cannot show the value: Ansible's own messages quote what they got."""
    if not result or result.get("skipped"):
        return []
    secrets = {name for name, option in (result.get("argument_spec_data") or {}).items() if option.get("no_log")}
    errors = []
    for message in result.get("argument_errors") or []:
        named = [name for name in secrets if re.search(r"\b%s\b" % re.escape(name), message)]
        if named:
            message = "%s has the wrong type or value (a secret: its value is not shown)" % named[0]
        errors.append(message)
    return errors


def stack_host_roles(group_names, engine, db_group, app_group, web_group, lb_group):
    """The roles site.yml runs on a host of these groups, in site.yml's order: what the
    whole-site preflight checks for it."""
    groups = set(group_names)
    roles = ["common"]
    # Before the roles that depend on it: its messages come first and once.
    if groups & {db_group, app_group, web_group}:
        roles.append("webserver")
    if db_group in groups:
        roles += ["postgresql", "pgadmin"] if engine == "postgresql" else ["mysql", "phpmyadmin"]
    if lb_group in groups:
        roles.append("loadbalancer")
    if app_group in groups:
        roles.append("django")
    return roles


def stack_preflight_report(errors):
    """The preflight's message for one host: its wrong inputs, one per line, or why a
    host whose inputs are right stops too."""
    if not errors:
        return "this host's inputs are right, but another host's are not (see its message): no host goes on"
    return "\n".join(["%d wrong input(s), nothing was changed on any host:" % len(errors)] + list(errors))


HOST_NAME = r"^(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z"


def stack_site_errors(site):
    """What one host needs from the site's other hosts, from the inventory's groups:
    a database host for an application host, one engine between them, application
    hosts behind a load balancer, and an address the others can reach."""
    errors = []
    groups = set(site["group_names"])
    if site["app_group"] in groups and not site["db_hosts"]:
        errors.append(
            "the inventory group %s (stack_db_group) is empty: application hosts need a database host"
            % site["db_group"]
        )
    db_engine = site.get("db_host_engine")
    if site["app_group"] in groups and site["db_hosts"] and db_engine != site["engine"]:
        errors.append(
            "stack_db_engine is '%s' here but '%s' on the database host %s: set it once, in group_vars/all"
            % (site["engine"], db_engine, site["db_host"])
        )
    if site["lb_group"] in groups and not site["app_hosts"]:
        errors.append(
            "the inventory group %s (stack_app_group) is empty: a load balancer needs application hosts"
            % site["app_group"]
        )
    address = site["host_address"]
    if site["multi_host"] and not address:
        errors.append(
            "stack_host_address is empty and the host has no default route, so the site's other hosts cannot "
            "reach it; set stack_host_address for it in the inventory"
        )
    elif address and not (stack_not_addresses([address]) == [] or _matches(HOST_NAME, address)):
        errors.append("stack_host_address must be an IP address or a host name (got '%s')" % address)
    return errors


# Where the database password goes: the application's and the backup's environment
# files, single-quoted for systemd and the shell alike (a quote or a line break would end
# the value), and the database URL (encoded there).
def _password_errors(name, password):
    if not isinstance(password, str) or not password:
        return ["%s must not be empty" % name]
    errors = []
    if len(password) < 8:
        errors.append("%s must have at least 8 characters (it has %d)" % (name, len(password)))
    if not re.fullmatch(r"[ -~]+", password) or "'" in password:
        errors.append(
            "%s may hold printable ASCII characters except the single quote (the environment files quote "
            "it with single quotes); it holds another character" % name
        )
    return errors


def stack_input_errors(settings):
    """The stack role's database names and password (the password is never shown)."""
    errors = []
    if not _matches(PG_IDENTIFIER, settings["stack_db_name"]):
        errors.append("stack_db_name must be %s (got '%s')" % (PG_IDENTIFIER_TEXT, settings["stack_db_name"]))
    scratch = settings.get("stack_db_scratch_name", "")
    if scratch and not _matches(PG_IDENTIFIER, scratch):
        errors.append(
            "stack_db_scratch_name must be empty or %s (got '%s')" % (PG_IDENTIFIER_TEXT, scratch)
        )
    elif scratch and scratch == settings["stack_db_name"]:
        errors.append(
            "stack_db_scratch_name must not be stack_db_name ('%s'): each verification empties the scratch "
            "database" % scratch
        )
    if not _matches(MYSQL_USER, settings["stack_db_user"]):
        errors.append(
            "stack_db_user must be an identifier (letters, digits and underscores, not starting with a digit, "
            "at most 32 characters) (got '%s')" % settings["stack_db_user"]
        )
    errors += _password_errors("stack_db_password", settings["stack_db_password"])
    return errors


def postgresql_input_errors(settings):
    """The postgresql role's locale, login roles, databases and addresses."""
    errors = []
    if not _matches(UTF8_LOCALE, settings["postgresql_locale"]):
        errors.append(
            "postgresql_locale must be a UTF-8 locale like en_US.UTF-8 (got '%s')" % settings["postgresql_locale"]
        )

    users = settings["postgresql_users"]
    user_names = [user.get("name") for user in users]
    if not users:
        errors.append("postgresql_users needs at least one entry")
    bad = [name for name in user_names if not _matches(PG_IDENTIFIER, name)]
    if bad:
        errors.append("postgresql_users: every name must be %s; these are not: %s" % (PG_IDENTIFIER_TEXT, _quoted(bad)))
    twice = _duplicates(user_names)
    if twice:
        errors.append("postgresql_users: every name must appear once; these appear more often: %s" % _quoted(twice))
    empty = [user.get("name") for user in users if "password" in user and user["password"] == ""]
    if empty:
        errors.append(
            "postgresql_users: a password, when given, must not be empty; entries with an empty password: %s"
            % _quoted(empty)
        )

    databases = settings["postgresql_databases"]
    database_names = [database.get("name") for database in databases]
    bad = [name for name in database_names if not _matches(PG_IDENTIFIER, name)]
    if bad:
        errors.append(
            "postgresql_databases: every name must be %s; these are not: %s" % (PG_IDENTIFIER_TEXT, _quoted(bad))
        )
    twice = _duplicates(database_names)
    if twice:
        errors.append("postgresql_databases: every name must appear once; these appear more often: %s" % _quoted(twice))
    unknown = sorted({database.get("owner") for database in databases} - set(user_names), key=str)
    if unknown:
        errors.append(
            "postgresql_databases: every owner must be one of postgresql_users; unknown owners: %s" % _quoted(unknown)
        )

    listen = settings["postgresql_listen_addresses"]
    bad = stack_not_addresses([value for value in listen if value not in ("localhost", "*")])
    if not listen or bad:
        errors.append(
            "postgresql_listen_addresses must list 'localhost', '*' or IP addresses (not networks), "
            "got these wrong: %s" % (_quoted(bad) if listen else "none given")
        )
    bad = stack_not_networks(settings["postgresql_hba_app_hosts"])
    if bad:
        errors.append(
            "postgresql_hba_app_hosts must list IP addresses or CIDR networks, got these wrong: %s" % _quoted(bad)
        )
    return errors


def mysql_input_errors(settings, os_family):
    """The mysql role's platform, flavour, databases, users, hosts and bind address.

    Passwords are checked but never shown: a message names the users whose password is
    wrong, not the password.
    """
    errors = []
    if os_family != "Debian":
        errors.append("this role supports Debian-family hosts (found %s)" % os_family)
    if settings["mysql_flavor"] not in ("auto", "mariadb", "mysql"):
        errors.append("mysql_flavor must be auto, mariadb or mysql (got '%s')" % settings["mysql_flavor"])
    collation = settings["mysql_collation"]
    if not _matches(UTF8MB4_COLLATION, collation):
        errors.append("mysql_collation must be a utf8mb4 collation such as utf8mb4_unicode_ci (got '%s')" % collation)

    for database in settings["mysql_databases"]:
        name = database.get("name")
        encoding = database.get("encoding", "utf8mb4")
        db_collation = database.get("collation", collation)
        # secure.yml drops a database named test and the grants on it, as
        # mysql_secure_installation does: the application's data must not live there.
        if not _matches(MYSQL_DATABASE, name) or name == "test" or encoding != "utf8mb4" or not _matches(
            UTF8MB4_COLLATION, db_collation
        ):
            errors.append(
                "every entry of mysql_databases needs a name made of letters, digits and underscores (not starting "
                "with a digit, at most 64 characters) other than test (which the role removes), encoding utf8mb4 "
                "and a utf8mb4_* collation. Got name='%s', encoding='%s', collation='%s'" % (name, encoding, db_collation)
            )

    users = settings["mysql_users"]
    bad = [user.get("name") for user in users if not _matches(MYSQL_USER, user.get("name"))]
    if bad:
        errors.append(
            "every entry of mysql_users needs a name made of letters, digits and underscores (not starting with "
            "a digit, at most 32 characters); wrong names: %s" % _quoted(bad)
        )
    bad = [user["priv"] for user in users if "priv" in user and not _matches(r"^\S+:\S+\Z", user["priv"])]
    if bad:
        errors.append("a priv in mysql_users must look like 'db.*:ALL'; wrong privs: %s" % _quoted(bad))
    bad = [
        user.get("name")
        for user in users
        if "password" in user and (not isinstance(user["password"], str) or user["password"] == "")
    ]
    if bad:
        errors.append(
            "a password in mysql_users must be a non-empty string; leave `password` out to have one generated. "
            "Users with a wrong password: %s" % _quoted(bad)
        )
    if not isinstance(settings["mysql_root_password"], str):
        errors.append("mysql_root_password must be a string (empty means unix-socket login only)")

    for host in settings["mysql_app_hosts"]:
        if not _matches(r"^[A-Za-z0-9%_.:/-]+\Z", host) or host == "localhost":
            errors.append(
                "mysql_app_hosts entries are host names, addresses or MySQL host patterns such as 10.0.1.%% "
                "(localhost is always included); got '%s'" % host
            )

    bind = settings["mysql_bind_address"]
    binds = [part.strip() for part in str(bind).split(",")]
    if stack_not_addresses([part for part in binds if part != "*"]):
        errors.append("mysql_bind_address must be IP addresses separated by commas, or * (got '%s')" % bind)
    root_password = settings["mysql_root_password"]
    if root_password and not set(binds) & set(MYSQL_LOOPBACK_BINDS):
        errors.append(
            "with mysql_root_password set, mysql_bind_address must include 127.0.0.1 or a wildcard address "
            "(got '%s')" % bind
        )
    return errors


def pgadmin_input_errors(settings):
    """The pgadmin role's login, allow-list, paths, port and servers (the password is never shown)."""
    errors = []
    email = settings["pgadmin_admin_email"]
    if not _matches(PGADMIN_EMAIL, email) or email.split(".")[-1].lower() in PGADMIN_REFUSED_TLDS:
        errors.append(
            "pgadmin_admin_email must be an email address pgAdmin accepts (a domain with a dot, not ending in "
            "%s; got '%s')" % (", ".join(PGADMIN_REFUSED_TLDS), email)
        )
    if len(settings["pgadmin_admin_password"] or "") < 6:
        errors.append("pgadmin_admin_password must have at least 6 characters (pgAdmin's minimum)")
    bad = stack_not_networks(settings["pgadmin_allowed_networks"])
    if bad:
        errors.append("pgadmin_allowed_networks must list IP addresses or CIDR networks; these are not: %s" % _quoted(bad))
    for name in ("pgadmin_install_dir", "pgadmin_data_dir", "pgadmin_log_dir"):
        if not isinstance(settings[name], str) or not os.path.isabs(settings[name]):
            errors.append("%s must be an absolute path (got '%s')" % (name, settings[name]))
    # gunicorn runs unprivileged, so it cannot bind a port below 1024.
    if not _is_port(settings["pgadmin_port"], lowest=1024):
        errors.append("pgadmin_port must be a port from 1024 to 65535 (got %s)" % settings["pgadmin_port"])
    if not _matches(r"^(/[A-Za-z0-9._~-]+)+\Z", settings["pgadmin_url_path"]):
        errors.append(
            "pgadmin_url_path must be a path like /pgadmin4 without a trailing slash (got '%s')"
            % settings["pgadmin_url_path"]
        )

    servers = settings["pgadmin_servers"]
    names = [server.get("name") for server in servers]
    blank = not all(isinstance(name, str) and name.strip() for name in names)
    ports_ok = all(_is_port(server.get("port", 5432)) for server in servers)
    if blank or _duplicates(names) or not ports_ok:
        errors.append(
            "every entry of pgadmin_servers needs a non-empty name used once and a port from 1 to 65535. "
            "Names: %s; ports: %s" % (_quoted(names), ", ".join(str(server.get("port", 5432)) for server in servers))
        )
    return errors


def phpmyadmin_input_errors(settings, os_family):
    """The phpmyadmin role's platform, paths, allow-list and secret (the secret is never shown)."""
    errors = []
    if os_family != "Debian":
        errors.append("this role supports Debian-family hosts (found %s)" % os_family)
    if not _matches(r"^(/[A-Za-z0-9._-]+)+\Z", settings["phpmyadmin_url_path"]):
        errors.append(
            "phpmyadmin_url_path must be a path like /phpmyadmin without a trailing slash (got '%s')"
            % settings["phpmyadmin_url_path"]
        )
    if not _matches(r"^[A-Za-z0-9.:-]+\Z", settings["phpmyadmin_db_host"]):
        errors.append(
            "phpmyadmin_db_host must be a host name or an address (got '%s')" % settings["phpmyadmin_db_host"]
        )
    # Apache's `Require ip` takes addresses and networks.
    bad = stack_not_networks(settings["phpmyadmin_allowed_networks"])
    if bad:
        errors.append(
            "every entry of phpmyadmin_allowed_networks must be an IP network or address such as 192.0.2.0/24 "
            "or 2001:db8::/32; these are not: %s" % _quoted(bad)
        )
    secret = settings["phpmyadmin_blowfish_secret"]
    # Exactly 32 printable ASCII characters (phpMyAdmin 5.2 wants 32 bytes), and neither
    # quote nor backslash, so that it fits a PHP single-quoted string as it is.
    if not _matches(r"^[ -~]{32}\Z", secret) or "'" in secret or "\\" in secret:
        errors.append(
            "phpmyadmin_blowfish_secret must be exactly 32 printable ASCII characters "
            "(phpMyAdmin 5.2 wants 32 bytes) without quotes or backslashes"
        )
    return errors


class FilterModule:
    def filters(self):
        return {
            "stack_not_addresses": stack_not_addresses,
            "stack_not_networks": stack_not_networks,
            "stack_network_prefix": stack_network_prefix,
            "stack_input_errors": stack_input_errors,
            "stack_spec_errors": stack_spec_errors,
            "stack_host_roles": stack_host_roles,
            "stack_site_errors": stack_site_errors,
            "stack_preflight_report": stack_preflight_report,
            "postgresql_input_errors": postgresql_input_errors,
            "mysql_input_errors": mysql_input_errors,
            "pgadmin_input_errors": pgadmin_input_errors,
            "phpmyadmin_input_errors": phpmyadmin_input_errors,
        }
