"""What the mysql role manages inside the server, for files/accounts_state.py and users.yml."""


def mysql_accounts_users(users, app_hosts, generated_passwords):
    """One entry per user: its hosts (localhost and each application host), its priv
    (None when not given) and its password: the given one, else the one generated on
    the control node (generated_passwords maps a name to it)."""
    return [
        {
            "name": user["name"],
            "hosts": ["localhost"] + list(app_hosts),
            "priv": user.get("priv"),
            "password": user["password"] if "password" in user else generated_passwords[user["name"]],
        }
        for user in users
    ]


def mysql_accounts_databases(databases, collation):
    """The databases with their encoding (utf8mb4) and collation (the role's unless given)."""
    return [
        {
            "name": database["name"],
            "encoding": database.get("encoding", "utf8mb4"),
            "collation": database.get("collation", collation),
        }
        for database in databases
    ]


class FilterModule:
    def filters(self):
        return {
            "mysql_accounts_users": mysql_accounts_users,
            "mysql_accounts_databases": mysql_accounts_databases,
        }
