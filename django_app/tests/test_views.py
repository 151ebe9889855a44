import pytest
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

from books.models import Author, Book

pytestmark = pytest.mark.django_db


def test_home_lists_books_with_authors_and_counts(client, books_with_authors):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert "<title>Books</title>" in response.text
    assert "The C Programming Language" in response.text
    assert "Brian Kernighan, Dennis Ritchie" in response.text
    assert "2 books by 3 authors." in response.text


def test_home_with_no_books_points_to_the_admin(client):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert "0 books by 0 authors." in response.text
    assert f'href="{reverse("admin:index")}"' in response.text


def test_home_shows_only_the_first_50_books(client):
    author = Author.objects.create(first_name="Prolific", last_name="Writer")
    books = Book.objects.bulk_create(Book(title=f"Volume {n:03}") for n in range(60))
    for book in books:
        book.authors.add(author)

    response = client.get(reverse("home"))

    assert len(response.context["books"]) == 50
    assert "Volume 049" in response.text
    assert "Volume 050" not in response.text
    assert "60 books by 1 author." in response.text
    assert "Showing the first 50." in response.text


def test_health_ok_when_database_is_migrated(client):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "pending_migrations": [],
    }


def test_health_is_never_cached(client):
    response = client.get(reverse("health"))

    assert "no-store" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_health_answers_head_but_not_post(client):
    assert client.head(reverse("health")).status_code == 200
    assert client.post(reverse("health")).status_code == 405


def test_health_503_when_a_migration_is_pending(client):
    # Forget that the books migration ran: the executor now plans to apply it.
    MigrationRecorder(connection).record_unapplied("books", "0001_initial")

    response = client.get(reverse("health"))

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "pending_migrations": ["books.0001_initial"],
    }


def test_health_503_when_database_is_unreachable(client, monkeypatch):
    def refuse_connection():
        raise OperationalError("connection to server failed: Connection refused")

    # Every query goes through ensure_connection(), even on an open connection.
    monkeypatch.setattr(connection, "ensure_connection", refuse_connection)

    response = client.get(reverse("health"))

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "connection to server failed: Connection refused",
        "pending_migrations": [],
    }
