import logging

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from books.models import Author, Book

logger = logging.getLogger(__name__)

HOME_PAGE_BOOKS = 50


def home(request):
    context = {
        "books": Book.objects.prefetch_related("authors")[:HOME_PAGE_BOOKS],
        "book_count": Book.objects.count(),
        "author_count": Author.objects.count(),
    }
    return render(request, "books/home.html", context)


@never_cache
@require_safe
def health(request):
    """Report 200 when the database answers and every migration is applied.

    Loading the migration graph reads the django_migrations table, which
    doubles as the connectivity check.
    """
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        logger.error("Health check: database unavailable: %s", exc)
        return JsonResponse(
            {"status": "error", "database": str(exc), "pending_migrations": []},
            status=503,
        )
    pending = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    return JsonResponse(
        {
            "status": "error" if pending else "ok",
            "database": "ok",
            "pending_migrations": pending,
        },
        status=503 if pending else 200,
    )
