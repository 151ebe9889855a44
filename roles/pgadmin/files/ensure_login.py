"""Keep a pgAdmin 4 internal login and its registered servers as Ansible describes them.

Installed by the django-stack `pgadmin` role. Run it with pgAdmin's own Python from
pgAdmin's package directory (where config.py is), as the user pgAdmin runs as:

    PGADMIN_LOGIN_EMAIL=... python3 ensure_login.py SERVERS.json --password-stdin [--check] < PASSWORD

- The login (an Administrator) is created when missing; when its password differs from
  the given one it is set to it. The password is the first line of standard input
  (--password-stdin), or PGADMIN_LOGIN_PASSWORD for use by hand: never an argument,
  which the process list shows. (The role uses standard input: Ansible writes a task's
  environment into the command it runs, which `-vvv` prints and `ps` shows.)
- Every server of SERVERS.json (pgAdmin's load-servers format) whose Name the login
  does not have yet is registered for it; existing ones are left as the user edited them.
- A missing configuration database is created first, with the login in it, the way
  `setup.py setup-db` creates it: one pgAdmin start-up instead of two on a first run.
- With --check nothing is written: the report says what would change.

The last line of output is a JSON report:
{"changed": bool, "database": ..., "login": ..., "servers_added": [...]}.
"""

import json
import os
import sys


def main(argv):
    flags = {"--check", "--password-stdin"}
    check = "--check" in argv[1:]
    args = [a for a in argv[1:] if a not in flags]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    servers_file = args[0]
    email = os.environ.get("PGADMIN_LOGIN_EMAIL", "")
    if "--password-stdin" in argv[1:]:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = os.environ.get("PGADMIN_LOGIN_PASSWORD", "")
    if not email or len(password) < 6:
        print("PGADMIN_LOGIN_EMAIL and a password of 6+ characters (standard input with"
              " --password-stdin, or PGADMIN_LOGIN_PASSWORD) are required", file=sys.stderr)
        return 2

    # The same start-up as pgAdmin's setup.py: its directory first on sys.path, and
    # SERVER_MODE left to config.py and config_local.py.
    sys.path.insert(0, os.getcwd())
    import builtins
    builtins.SERVER_MODE = None

    import config

    with open(servers_file, encoding="utf-8") as handle:
        wanted = json.load(handle)["Servers"]

    report = {"changed": False, "database": "unchanged", "login": "unchanged", "servers_added": []}
    # The role points pgAdmin at an SQLite file (config_local.py).
    if not os.path.exists(config.SQLITE_PATH):
        report.update(changed=True, database="created", login="created",
                      servers_added=[server["Name"] for server in wanted.values()])
        if check:
            report["check_mode"] = True
            print(json.dumps(report))
            return 0

    from flask_security.utils import verify_password
    from pgadmin import create_app
    from pgadmin.model import Role, Server, User
    from pgadmin.tools.user_management import create_user, normalise_password, update_user
    from pgadmin.utils import load_database_servers
    from pgadmin.utils.constants import INTERNAL

    if report["database"] == "created":
        # Outside the CLI mode, create_app creates the database (pgAdmin's migrations,
        # run with a umask that keeps the file private) and, in server mode, its first
        # login from these two variables; setup-db does the same.
        os.environ["PGADMIN_SETUP_EMAIL"] = email
        os.environ["PGADMIN_SETUP_PASSWORD"] = password
        app = create_app(config.APP_NAME)
    else:
        app = create_app(config.APP_NAME + "-cli")
    with app.test_request_context():
        user = User.query.filter_by(username=email, auth_source=INTERNAL).first()
        if user is None:
            report["login"] = "created"
            if not check:
                admin = Role.query.filter_by(name="Administrator").first()
                ok, msg = create_user({
                    "email": email,
                    "role": admin.id,
                    "active": True,
                    "newPassword": password,
                    "confirmPassword": password,
                    "auth_source": INTERNAL,
                })
                if not ok:
                    raise SystemExit("cannot create the login %s: %s" % (email, msg))
                user = User.query.filter_by(username=email, auth_source=INTERNAL).first()
        elif not verify_password(normalise_password(password), user.password):
            report["login"] = "password updated"
            if not check:
                ok, msg = update_user(user.id, {"newPassword": password,
                                                "confirmPassword": password})
                if not ok:
                    raise SystemExit("cannot set the password of %s: %s" % (email, msg))

        have = set()
        if user is not None:
            have = {s.name for s in Server.query.filter_by(user_id=user.id)}
        missing = [key for key, server in wanted.items() if server["Name"] not in have]
        report["servers_added"] = [wanted[key]["Name"] for key in missing]
        if missing and not check:
            result = load_database_servers(servers_file, missing, email, True, INTERNAL)
            if isinstance(result, tuple) and result[0] is False:
                raise SystemExit("cannot register the servers: %s" % (result[1],))
            added = {s.name for s in Server.query.filter_by(user_id=user.id)}
            if not set(report["servers_added"]) <= added:
                raise SystemExit("servers still missing after loading: %s"
                                 % sorted(set(report["servers_added"]) - added))

    report["changed"] = (report["database"] != "unchanged" or report["login"] != "unchanged"
                         or bool(report["servers_added"]))
    if check:
        report["check_mode"] = True
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
