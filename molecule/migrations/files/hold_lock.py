"""Hold a lock on books_author from another session, as a long transaction of the
application would: an open transaction that read the table (PostgreSQL: ACCESS SHARE;
MySQL/MariaDB: a shared metadata lock, both kept until the transaction ends).

Run on a host with `bin/manage shell -c`, as the application's user. Environment:
HOLD_READY_FILE (created once the lock is held), HOLD_STOP_FILE (the lock is released
when it exists) and HOLD_MAX_SECONDS (released after that long in any case). Prints one
JSON line: the seconds it held the lock.
"""

import json
import os
import time

from django.db import connection, transaction

stop_file, ready_file = os.environ["HOLD_STOP_FILE"], os.environ["HOLD_READY_FILE"]
max_seconds = float(os.environ.get("HOLD_MAX_SECONDS") or 300)
with transaction.atomic():
    with connection.cursor() as cursor:
        # The comment marks the query that the deploy's message must name.
        cursor.execute("SELECT count(*) FROM books_author /* django-stack lock test */")
        cursor.fetchone()
    with open(ready_file, "w"):
        pass
    start = time.monotonic()
    while not os.path.exists(stop_file) and time.monotonic() - start < max_seconds:
        time.sleep(0.2)
    held = time.monotonic() - start
print(json.dumps({"held_seconds": round(held, 1)}))
