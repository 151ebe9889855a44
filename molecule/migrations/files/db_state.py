"""The database's state as one JSON line, for comparing it before and after a deploy.

Run on a host with `bin/manage shell -c` (the current release's code). Reads only the
fields and tables of release v1 through the ORM, and the schema through
information_schema, so the same function serves every release:
  authors, books, links   row counts (links: the book-author table)
  checksum                sha256 over the author rows, the book rows and the links,
                          each in primary-key order
  columns                 "table.column" of books_author and books_book
  migrations              django_migrations rows ("app.name"), in the order applied
"""

import hashlib
import json

from django.db import connection

from books.models import Author, Book

Link = Book.authors.through
digest = hashlib.sha256()
for rows in (
    Author.objects.order_by("pk").values_list("pk", "first_name", "last_name"),
    Book.objects.order_by("pk").values_list("pk", "title"),
    Link.objects.order_by("book_id", "author_id").values_list("book_id", "author_id"),
):
    for row in rows.iterator():
        digest.update(json.dumps(list(row), ensure_ascii=False).encode())
    digest.update(b"\n")

schema = "current_schema()" if connection.vendor == "postgresql" else "DATABASE()"
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        f" WHERE table_schema = {schema} AND table_name IN ('books_author', 'books_book')"
    )
    columns = sorted(f"{table}.{column}" for table, column in cursor.fetchall())
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]

print(
    json.dumps(
        {
            "authors": Author.objects.count(),
            "books": Book.objects.count(),
            "links": Link.objects.count(),
            "checksum": digest.hexdigest(),
            "columns": columns,
            "migrations": migrations,
        }
    )
)
