import pytest
from django.urls import reverse

from books.models import Author, Book

pytestmark = pytest.mark.django_db


def test_superuser_logs_in_with_password(client, superuser):
    assert client.login(username="admin", password="correct horse battery")
    assert client.get(reverse("admin:index")).status_code == 200


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("admin:books_book_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_book_changelist_lists_books_with_authors(
    client, superuser, books_with_authors
):
    client.force_login(superuser)
    response = client.get(reverse("admin:books_book_changelist"))

    assert response.status_code == 200
    assert "The C Programming Language" in response.text
    assert "Brian Kernighan, Dennis Ritchie" in response.text


def test_book_changelist_search_by_author(client, superuser, books_with_authors):
    client.force_login(superuser)
    response = client.get(reverse("admin:books_book_changelist"), {"q": "Pike"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [books_with_authors[1]]


def test_author_changelist_shows_book_counts(client, superuser, books_with_authors):
    client.force_login(superuser)
    response = client.get(reverse("admin:books_author_changelist"))

    assert response.status_code == 200
    counts = {str(a): a.book_count for a in response.context["cl"].result_list}
    assert counts == {"Brian Kernighan": 2, "Rob Pike": 1, "Dennis Ritchie": 1}


def test_book_add_page_renders(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:books_book_add"))

    assert response.status_code == 200
    assert 'name="title"' in response.text
    assert 'name="authors"' in response.text


def test_book_can_be_added_through_the_admin(client, superuser):
    author = Author.objects.create(first_name="Ada", last_name="Lovelace")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:books_book_add"),
        {"title": "Sketch of the Analytical Engine", "authors": [author.pk]},
    )

    assert response.status_code == 302
    book = Book.objects.get(title="Sketch of the Analytical Engine")
    assert list(book.authors.all()) == [author]
