"""Say in one query whether the server's login roles, databases and database
privileges are already as the postgresql role wants them.

Run as the postgres system user. Reads a JSON object on stdin:
  {"socket_dir": "/var/run/postgresql",
   "users": [{"name", "password"}],
   "databases": [{"name", "owner", "lc_collate", "lc_ctype"}]}
and prints {"stale": ["what: why", ...]}; an empty list means that the role's
community.postgresql tasks would change nothing, so they are skipped. It only reads.

A password is compared with the role's stored SCRAM-SHA-256 verifier the way the server
checks a login: PBKDF2 over the password with the verifier's salt and iteration count.
A password this check cannot judge (not ASCII, which SCRAM would first normalise, or a
verifier in another format) counts as stale, and the module decides.
"""
import base64
import hashlib
import hmac
import json
import subprocess
import sys

QUERY = """
SELECT json_build_object(
  'roles', (SELECT coalesce(json_object_agg(rolname, coalesce(rolpassword, '')), '{}') FROM pg_authid),
  'databases', (SELECT coalesce(json_object_agg(d.datname, json_build_object(
      'owner', pg_get_userbyid(d.datdba),
      'encoding', pg_encoding_to_char(d.encoding),
      'lc_collate', d.datcollate,
      'lc_ctype', d.datctype,
      -- GRANT ALL written out in the ACL, as community.postgresql.postgresql_privs
      -- leaves it (a superuser's GRANT is recorded as the owner's).
      'owner_has_all', coalesce((SELECT bool_and(aclcontains(d.datacl, makeaclitem(d.datdba, d.datdba, p, false)))
                                 FROM unnest(ARRAY['CREATE', 'CONNECT', 'TEMPORARY']) AS p), false))), '{}')
    FROM pg_database d))
"""


def scram_matches(verifier, password):
    try:
        method, rest = verifier.split("$", 1)
        iterations_salt, keys = rest.split("$", 1)
        iterations, salt = iterations_salt.split(":", 1)
        stored_key, server_key = keys.split(":", 1)
        if method != "SCRAM-SHA-256" or not password.isascii():
            return False
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), base64.b64decode(stored_key)) and hmac.compare_digest(
        hmac.new(salted, b"Server Key", hashlib.sha256).digest(), base64.b64decode(server_key)
    )


def stale_accounts(wanted, found):
    """What differs between the wanted users and databases and what the server holds
    (found: the QUERY's answer), as "what: why" lines."""
    stale = []
    for user in wanted["users"]:
        if user["name"] not in found["roles"]:
            stale.append(f"role {user['name']}: missing")
        elif not scram_matches(found["roles"][user["name"]], user["password"]):
            stale.append(f"role {user['name']}: password differs")
    for want in wanted["databases"]:
        have = found["databases"].get(want["name"])
        if have is None:
            stale.append(f"database {want['name']}: missing")
            continue
        for key, value in [("owner", want["owner"]), ("encoding", "UTF8"),
                           ("lc_collate", want["lc_collate"]), ("lc_ctype", want["lc_ctype"])]:
            if have[key] != value:
                stale.append(f"database {want['name']}: {key} is {have[key]}, not {value}")
        if not have["owner_has_all"]:
            stale.append(f"database {want['name']}: {want['owner']} lacks ALL in the ACL")
    return stale


def main():
    wanted = json.load(sys.stdin)
    found = json.loads(
        subprocess.run(
            ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-h", wanted["socket_dir"], "-d", "postgres", "-c", QUERY],
            capture_output=True, text=True, check=True,
        ).stdout
    )
    print(json.dumps({"stale": stale_accounts(wanted, found)}))


# The role runs it with `python3 -c`, which names it __main__ too; the tests import it.
if __name__ == "__main__":
    main()
