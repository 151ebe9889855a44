"""What the postgresql role manages inside the server, for files/accounts_state.py."""


def postgresql_accounts_users(users, generated_passwords):
    """The login roles with their passwords: the given one, else the one generated on
    the control node (generated_passwords maps a name to it)."""
    return [
        {"name": user["name"], "password": user["password"] if "password" in user else generated_passwords[user["name"]]}
        for user in users
    ]


def postgresql_accounts_databases(databases, locale):
    """The databases with their owner and locale (the cluster's unless given)."""
    return [
        {
            "name": database["name"],
            "owner": database["owner"],
            "lc_collate": database.get("lc_collate", locale),
            "lc_ctype": database.get("lc_ctype", locale),
        }
        for database in databases
    ]


class FilterModule:
    def filters(self):
        return {
            "postgresql_accounts_users": postgresql_accounts_users,
            "postgresql_accounts_databases": postgresql_accounts_databases,
        }
