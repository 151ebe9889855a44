"""The postgresql and mysql roles' accounts_state.py: what they call stale, given what the
server answered (faked here: no server runs)."""

import base64
import hashlib
import hmac
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def load(relative, name):
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # must not run main(): it would read stdin
    return module


pg = load("roles/postgresql/files/accounts_state.py", "pg_accounts_state")
my = load("roles/mysql/files/accounts_state.py", "my_accounts_state")


def scram_verifier(password, salt=b"0123456789abcdef", iterations=4096):
    """A verifier in the format PostgreSQL stores (SCRAM-SHA-256$iter:salt$StoredKey:ServerKey)."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored)}:{b64(server)}"


# --- postgresql ----------------------------------------------------------------------

def test_scram_matches_the_right_password_only():
    verifier = scram_verifier("correct horse")
    assert pg.scram_matches(verifier, "correct horse") is True
    assert pg.scram_matches(verifier, "correct horsE") is False


@pytest.mark.parametrize("verifier,password", [
    ("md5" + "0" * 32, "x"),                   # another format
    ("SCRAM-SHA-256$garbage", "x"),            # malformed
    ("", "x"),                                 # a role without a password
    (scram_verifier("pässword"), "pässword"),  # not ASCII: SASLprep would apply first
])
def test_scram_cannot_judge_counts_as_different(verifier, password):
    assert pg.scram_matches(verifier, password) is False


WANTED_PG = {
    "socket_dir": "/run/postgresql",
    "users": [{"name": "django", "password": "pw"}],
    "databases": [{"name": "django", "owner": "django", "lc_collate": "en_US.UTF-8", "lc_ctype": "en_US.UTF-8"}],
}


def found_pg(**database):
    have = {"owner": "django", "encoding": "UTF8", "lc_collate": "en_US.UTF-8", "lc_ctype": "en_US.UTF-8",
            "owner_has_all": True}
    have.update(database)
    return {"roles": {"postgres": "", "django": scram_verifier("pw")}, "databases": {"django": have}}


def test_postgresql_nothing_stale_when_the_server_matches():
    assert pg.stale_accounts(WANTED_PG, found_pg()) == []


def test_postgresql_stale_lines():
    assert pg.stale_accounts(WANTED_PG, {"roles": {}, "databases": {}}) == [
        "role django: missing", "database django: missing",
    ]
    found = found_pg(owner="postgres", lc_ctype="C", owner_has_all=False)
    found["roles"]["django"] = scram_verifier("old")
    assert pg.stale_accounts(WANTED_PG, found) == [
        "role django: password differs",
        "database django: owner is postgres, not django",
        "database django: lc_ctype is C, not en_US.UTF-8",
        "database django: django lacks ALL in the ACL",
    ]
    assert pg.stale_accounts(WANTED_PG, found_pg(encoding="SQL_ASCII")) == [
        "database django: encoding is SQL_ASCII, not UTF8"
    ]


# --- mysql ---------------------------------------------------------------------------

WANTED_MY = {
    "socket": "/run/mysqld/mysqld.sock",
    "users": [{"name": "django", "password": "pw", "hosts": ["localhost", "10.0.1.%"], "priv": "django.*:ALL"}],
    "databases": [{"name": "django", "encoding": "utf8mb4", "collation": "utf8mb4_unicode_ci"}],
}


class FakeServer:
    """Answers the script's statements from tables; records what was asked."""

    def __init__(self, users=None, schemata=None, test_grants=False, grants=None):
        native = my.native_hash("pw")
        self.users = users if users is not None else [
            ["root", "localhost", "unix_socket", ""],
            ["django", "localhost", "mysql_native_password", native],
            ["django", "10.0.1.%", "mysql_native_password", native],
        ]
        self.schemata = schemata if schemata is not None else [["django", "utf8mb4", "utf8mb4_unicode_ci"]]
        self.test_grants = test_grants
        self.grants = grants or {}
        self.asked = []

    def __call__(self, statement):
        self.asked.append(statement)
        if "FROM mysql.user" in statement:
            return self.users
        if "information_schema.SCHEMATA" in statement:
            return self.schemata
        if "FROM mysql.db" in statement:
            return [["1"]] if self.test_grants else []
        if statement.startswith("SHOW GRANTS FOR 'django'@"):
            host = statement.split("@")[1].strip("'")
            default = [f"GRANT USAGE ON *.* TO `django`@`{host}`",
                       f"GRANT ALL PRIVILEGES ON `django`.* TO `django`@`{host}`"]
            return [[grant] for grant in self.grants.get(host, default)]
        raise AssertionError("unexpected statement: " + statement)


def test_native_hash_is_mariadbs_password_function():
    # SELECT PASSWORD('pw') on MariaDB: '*' + upper-case hex of SHA1(SHA1('pw')).
    assert my.native_hash("pw") == "*" + hashlib.sha1(hashlib.sha1(b"pw").digest()).hexdigest().upper()
    assert my.native_hash("pw").startswith("*") and len(my.native_hash("pw")) == 41


def test_quote_escapes_quotes_and_backslashes():
    assert my.quote("it's\\") == "'it\\'s\\\\'"


def test_mysql_nothing_stale_when_the_server_matches():
    server = FakeServer()
    assert my.stale_accounts(WANTED_MY, server) == []
    assert sum(statement.startswith("SHOW GRANTS") for statement in server.asked) == 2


def test_mysql_what_secure_yml_removes_counts_as_stale():
    users = FakeServer().users + [["", "localhost", "", ""], ["root", "%", "mysql_native_password", ""]]
    server = FakeServer(users=users, schemata=FakeServer().schemata + [["test", "latin1", "latin1_swedish_ci"]],
                        test_grants=True)
    assert my.stale_accounts(WANTED_MY, server) == [
        "anonymous users: present",
        "root: can log in from other hosts",
        "database test: present",
        "grants on test databases: present",
    ]


def test_mysql_stale_databases_users_and_grants():
    server = FakeServer(
        users=[["django", "localhost", "mysql_native_password", my.native_hash("old")]],
        schemata=[["django", "latin1", "latin1_swedish_ci"]],
        grants={"localhost": ["GRANT USAGE ON *.* TO `django`@`localhost`"]},
    )
    assert my.stale_accounts(WANTED_MY, server) == [
        "database django: defaults are ('latin1', 'latin1_swedish_ci')",
        "user django@localhost: password differs or is stored otherwise",
        "user django@localhost: privileges differ",
        "user django@10.0.1.%: missing",
    ]


def test_mysql_another_plugin_or_privilege_is_not_judged_here():
    users = [["django", host, "caching_sha2_password", "x"] for host in ("localhost", "10.0.1.%")]
    assert my.stale_accounts(WANTED_MY, FakeServer(users=users)) == [
        "user django@localhost: password differs or is stored otherwise",
        "user django@10.0.1.%: password differs or is stored otherwise",
    ]
    wanted = dict(WANTED_MY, users=[dict(WANTED_MY["users"][0], priv="django.*:SELECT")])
    assert my.stale_accounts(wanted, FakeServer()) == ["user django: privileges 'django.*:SELECT' not judged here"]


def test_mysql_a_user_without_priv_has_its_grants_not_read():
    wanted = dict(WANTED_MY, users=[dict(WANTED_MY["users"][0], priv=None)])
    server = FakeServer()
    assert my.stale_accounts(wanted, server) == []
    assert not any(statement.startswith("SHOW GRANTS") for statement in server.asked)
