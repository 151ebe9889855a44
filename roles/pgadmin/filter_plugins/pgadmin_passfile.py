# -*- coding: utf-8 -*-
"""Filters for the pass file through which pgAdmin logs into its registered servers.

pgAdmin (server mode) resolves a server's `passfile` connection parameter inside the
login's own storage directory; libpq then reads the file as a standard pgpass file.
"""

from __future__ import annotations


def pgadmin_storage_name(email):
    """The name of a login's storage directory under STORAGE_DIR, as pgAdmin 9 makes it.

    The same rules as pgAdmin's own preprocess_username (pgadmin/utils/paths.py): a
    name that is empty or starts with a digit gets a prefix, '@' becomes '_' and
    slashes become the word 'slash'.
    """
    name = str(email)
    if not name or name[0].isdigit():
        name = "pga_user_" + name
    return name.replace("@", "_").replace("/", "slash").replace("\\", "slash")


def _pgpass_field(value):
    # libpq's pgpass format: ':' separates fields, so ':' and '\' are escaped.
    return str(value).replace("\\", "\\\\").replace(":", "\\:")


def pgadmin_pgpass(servers):
    """The pgpass file for the servers that have a password, one line each, or ''.

    Each line matches any database of that host, port and user name; a server without
    a password is left out (pgAdmin then asks for it when connecting).
    """
    lines = []
    for server in servers:
        if server.get("password") in (None, ""):
            continue
        fields = [server["host"], server.get("port", 5432), "*", server["username"], server["password"]]
        lines.append(":".join(_pgpass_field(field) if field != "*" else "*" for field in fields))
    return "".join(line + "\n" for line in lines)


class FilterModule:
    def filters(self):
        return {
            "pgadmin_storage_name": pgadmin_storage_name,
            "pgadmin_pgpass": pgadmin_pgpass,
        }
