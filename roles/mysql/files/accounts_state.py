"""Say in one call whether the server's accounts, databases and privileges are already
as the mysql role wants them.

Run as root (the mysql client logs in through the socket as the system's root, with
/root/.my.cnf when root has a password). Reads a JSON object on stdin:
  {"socket": "/run/mysqld/mysqld.sock",
   "users": [{"name", "password", "hosts": [...], "priv": "db.*:ALL" or null}],
   "databases": [{"name", "encoding", "collation"}]}
and prints {"stale": ["what: why", ...]}; an empty list means that the role's
community.mysql tasks (secure.yml, databases.yml, users.yml) would change nothing, so
they are skipped. It only reads.

Passwords are compared the way MariaDB stores mysql_native_password hashes,
'*' + SHA1(SHA1(password)) in hex. Anything this check cannot judge (another
authentication plugin, such as MySQL's caching_sha2_password, or a privilege spec
other than db.*:ALL) counts as stale, and the modules decide.
"""
import hashlib
import json
import re
import subprocess
import sys

ALL_ON_DB = re.compile(r"^`?([A-Za-z0-9_]+)`?\.\*:ALL( PRIVILEGES)?$", re.IGNORECASE)


def sql(socket, statement):
    """The rows (lists of columns) a statement returns."""
    out = subprocess.run(
        ["mysql", "--protocol=socket", "-S", socket, "-u", "root", "-N", "-B", "-e", statement],
        capture_output=True, text=True, check=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines()]


def native_hash(password):
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()


def quote(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stale_accounts(wanted, run):
    """What differs between the wanted accounts and databases and what the server
    holds, as "what: why" lines; run(statement) returns a statement's rows."""
    stale = []
    accounts = {(user, host): (plugin, auth) for user, host, plugin, auth in
                run("SELECT User, Host, plugin, authentication_string FROM mysql.user")}
    if any(user == "" for user, _ in accounts):
        stale.append("anonymous users: present")
    if any(user == "root" and host != "localhost" for user, host in accounts):
        stale.append("root: can log in from other hosts")
    schemata = {name: (charset, collation) for name, charset, collation in run(
        "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA")}
    if "test" in schemata:
        stale.append("database test: present")
    if run(r"SELECT 1 FROM mysql.db WHERE Db IN ('test', 'test\\_%') LIMIT 1"):
        stale.append("grants on test databases: present")
    for want in wanted["databases"]:
        if want["name"] not in schemata:
            stale.append(f"database {want['name']}: missing")
        elif schemata[want["name"]] != (want["encoding"], want["collation"]):
            stale.append(f"database {want['name']}: defaults are {schemata[want['name']]}")
    for user in wanted["users"]:
        expected = None
        if user.get("priv") is not None:
            match = ALL_ON_DB.match(user["priv"])
            if not match:
                stale.append(f"user {user['name']}: privileges {user['priv']!r} not judged here")
                continue
            expected = match.group(1)
        for host in user["hosts"]:
            account = accounts.get((user["name"], host))
            if account is None:
                stale.append(f"user {user['name']}@{host}: missing")
                continue
            plugin, auth = account
            if plugin not in ("mysql_native_password", "") or auth != native_hash(user["password"]):
                stale.append(f"user {user['name']}@{host}: password differs or is stored otherwise")
            if expected is None:
                continue
            grants = [row[0] for row in run(f"SHOW GRANTS FOR {quote(user['name'])}@{quote(host)}")]
            others = [grant for grant in grants if not grant.startswith("GRANT USAGE ON *.* TO ")]
            if others != [f"GRANT ALL PRIVILEGES ON `{expected}`.* TO `{user['name']}`@`{host}`"]:
                stale.append(f"user {user['name']}@{host}: privileges differ")
    return stale


def main():
    wanted = json.load(sys.stdin)
    socket = wanted["socket"]
    print(json.dumps({"stale": stale_accounts(wanted, lambda statement: sql(socket, statement))}))


# The role runs it with `python3 -c`, which names it __main__ too; the tests import it.
if __name__ == "__main__":
    main()
