"""Create the test data through the ORM, once: 500 authors, 1000 books, 1-3 authors each.

Run on a host with `bin/manage shell -c` (release v1's models: only v1's fields are set).
Prints one JSON line: {"created": bool, "authors": n, "books": n, "links": n,
"min_authors_per_book": n, "max_authors_per_book": n}.
"""

import json
import random

from django.db import transaction
from django.db.models import Count, Max, Min

from books.models import Author, Book

AUTHORS = 500
BOOKS = 1000
# Non-ASCII names: a dump or restore that mangles the character set changes the checksum.
FIRST_NAMES = [
    "Zoë",
    "José",
    "Łukasz",
    "Chloé",
    "Ana",
    "Björn",
    "Søren",
    "Mary",
    "Dmitri",
    "Aoife",
]

created = False
if not Author.objects.exists() and not Book.objects.exists():
    rng = random.Random(6)
    with transaction.atomic():
        Author.objects.bulk_create(
            Author(
                first_name=f"{rng.choice(FIRST_NAMES)} {i:03d}",
                last_name=f"Nørgaard-{rng.randrange(10000):04d}",
            )
            for i in range(AUTHORS)
        )
        Book.objects.bulk_create(
            Book(title=f"Book {i:04d}: «{rng.choice(FIRST_NAMES)}’s notes»")
            for i in range(BOOKS)
        )
        # MySQL's bulk_create does not return primary keys: read them back.
        author_ids = list(Author.objects.order_by("pk").values_list("pk", flat=True))
        Link = Book.authors.through
        Link.objects.bulk_create(
            Link(book_id=book_id, author_id=author_id)
            for book_id in Book.objects.order_by("pk").values_list("pk", flat=True)
            for author_id in rng.sample(author_ids, rng.randint(1, 3))
        )
    created = True

per_book = Book.objects.annotate(n=Count("authors")).aggregate(
    low=Min("n"), high=Max("n")
)
print(
    json.dumps(
        {
            "created": created,
            "min_authors_per_book": per_book["low"],
            "max_authors_per_book": per_book["high"],
            "authors": Author.objects.count(),
            "books": Book.objects.count(),
            "links": Book.authors.through.objects.count(),
        }
    )
)
