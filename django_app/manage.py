#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookstore.settings")
    from django.core.management import execute_from_command_line

    from bookstore.env import EnvironmentConfigError

    try:
        execute_from_command_line(sys.argv)
    except EnvironmentConfigError as exc:
        # A bad environment variable is an operator mistake, not a bug: print
        # one line naming the variable instead of a traceback.
        sys.exit(f"ImproperlyConfigured: {exc}")


if __name__ == "__main__":
    main()
