import pytest

from books.models import Author, Book


@pytest.fixture
def books_with_authors(db):
    """Two books, one of them written by two authors."""
    kernighan = Author.objects.create(first_name="Brian", last_name="Kernighan")
    ritchie = Author.objects.create(first_name="Dennis", last_name="Ritchie")
    pike = Author.objects.create(first_name="Rob", last_name="Pike")
    c_book = Book.objects.create(title="The C Programming Language")
    c_book.authors.set([kernighan, ritchie])
    unix_book = Book.objects.create(title="The Unix Programming Environment")
    unix_book.authors.set([kernighan, pike])
    return c_book, unix_book


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(
        username="admin", email="admin@example.com", password="correct horse battery"
    )
