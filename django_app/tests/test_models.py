import pytest

from books.models import Author, Book


def test_author_str_is_full_name():
    assert str(Author(first_name="Ada", last_name="Lovelace")) == "Ada Lovelace"


def test_book_str_is_title():
    assert (
        str(Book(title="Notes on the Analytical Engine"))
        == "Notes on the Analytical Engine"
    )


@pytest.mark.django_db
def test_many_to_many_links_work_both_ways(books_with_authors):
    c_book, unix_book = books_with_authors
    kernighan = Author.objects.get(last_name="Kernighan")

    assert [str(a) for a in c_book.authors.all()] == [
        "Brian Kernighan",
        "Dennis Ritchie",
    ]
    # related_name="books" gives the reverse accessor, ordered by title.
    assert list(kernighan.books.all()) == [c_book, unix_book]
    assert list(Author.objects.get(last_name="Pike").books.all()) == [unix_book]


@pytest.mark.django_db
def test_deleting_a_book_keeps_its_authors(books_with_authors):
    c_book, _ = books_with_authors
    c_book.delete()

    assert Author.objects.count() == 3
    assert not Author.objects.get(last_name="Ritchie").books.exists()
