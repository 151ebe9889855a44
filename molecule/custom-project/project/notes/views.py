from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from notes.models import Note


def home(request):
    context = {
        "greeting": settings.NOTES_GREETING,
        "note_count": Note.objects.count(),
        "notes": Note.objects.all()[:20],
    }
    return render(request, "notes/home.html", context)


@never_cache
@require_safe
def health(request):
    """200 only when the database answers and no migration is pending."""
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
    pending = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    if pending:
        return JsonResponse({"status": "error", "pending": pending}, status=503)
    return JsonResponse({"status": "ok"})
